/* SPDX-License-Identifier: MIT */
/*
 * tests/test_budget.c: the cooperative budget. In a task, volt_budget_take
 * grants exactly cfg.budget units per scheduling, then false (and the
 * budget_exhausted counter rises); the task yields and gets a full budget
 * again. On a plain thread it always grants.
 */
#include <stdlib.h>

#include "helpers.h"

#define ROUNDS 3
#define TAKE_CAP 100000

static int granted[ROUNDS];

struct taker {
	struct volt_future base;
	int round;
};

static enum volt_poll taker_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct taker *t = (struct taker *)f;
	int n = 0;

	while (n < TAKE_CAP && volt_budget_take(cx))
		n++;
	granted[t->round++] = n;
	if (t->round == ROUNDS)
		return VOLT_READY;
	volt_waker_wake_by_ref(&cx->waker); /* what an operation out of budget does */
	return VOLT_PENDING;
}

static const struct volt_future_ops taker_ops = { taker_poll, NULL };

static void budget_case(const char *policy, unsigned budget)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;
	struct volt_worker_metrics m;
	struct taker t = { VOLT_FUTURE_INIT(&taker_ops), 0 };

	if (!budget)
		CHECK_OK(unsetenv("VOLT_BUDGET")); /* the default, not the caller's */
	vt_cfg(&cfg, policy, 2);
	if (budget)
		cfg.budget = budget;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	volt_metrics_total(rt, &m);
	CHECK_UEQ(m.budget_exhausted, 0);
	vt_join(vt_spawn(rt, &t, sizeof t, false));
	for (int r = 0; r < ROUNDS; r++)
		CHECK_EQ(granted[r], budget ? budget : 128);
	volt_metrics_total(rt, &m);
	CHECK_GE(m.budget_exhausted, 1);
	volt_rt_free(rt);
}

VOLT_RT_TEST(budget_exact_16)
{
	budget_case(policy, 16);
}

VOLT_RT_TEST(budget_exact_1)
{
	budget_case(policy, 1);
}

VOLT_RT_TEST(budget_default_128)
{
	budget_case(policy, 0);
}

/* On a plain thread (volt_block_on) the budget never runs out. */
static enum volt_poll plain_taker_poll(struct volt_future *f, struct volt_cx *cx)
{
	int n = 0;

	(void)f;
	for (int i = 0; i < 1000; i++)
		n += volt_budget_take(cx);
	cx->output = (void *)(intptr_t)n;
	return VOLT_READY;
}

static const struct volt_future_ops plain_taker_ops = { plain_taker_poll, NULL };

VOLT_RT_TEST(budget_unlimited_on_plain_thread)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_future f = VOLT_FUTURE_INIT(&plain_taker_ops);
	void *out = NULL;

	CHECK_OK(volt_block_on(rt, &f, &out));
	CHECK_EQ((intptr_t)out, 1000);
	volt_rt_free(rt);
}
