/* SPDX-License-Identifier: MIT */
/*
 * tests/test_metrics.c: per-worker counters and their JSON dump.
 *
 * Counters are relaxed and may lag a join by a moment, but they only grow:
 * a sum read before a total can never exceed it, and vice versa.
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

static atomic_int polls;

static enum volt_poll one_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	atomic_fetch_add(&polls, 1);
	return VOLT_READY;
}

static const struct volt_future_ops one_ops = { one_poll, NULL };

#define M_TASKS 1000

static void run_some(struct volt_rt *rt)
{
	struct volt_join *j[M_TASKS];

	for (int i = 0; i < M_TASKS; i++) {
		struct volt_future f = VOLT_FUTURE_INIT(&one_ops);

		j[i] = vt_spawn(rt, &f, sizeof f, false);
	}
	for (int i = 0; i < M_TASKS; i++)
		vt_join(j[i]);
	CHECK_EQ(atomic_load(&polls), M_TASKS);
}

static uint64_t sum_polls(const struct volt_rt *rt)
{
	uint64_t s = 0;

	for (unsigned w = 0; w < volt_rt_workers(rt); w++) {
		struct volt_worker_metrics m;

		CHECK_OK(volt_metrics_worker(rt, w, &m));
		s += m.polls;
	}
	return s;
}

VOLT_RT_TEST(metrics_counts)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_worker_metrics t, bad;
	uint64_t s1, s2;

	volt_metrics_total(rt, &t);
	CHECK_UEQ(t.polls, 0);
	CHECK_UEQ(t.tasks_done, 0);
	run_some(rt);
	/* the counters may trail the joins by a moment: give them up to 10 s */
	for (int tries = 0; tries < 10000; tries++) {
		volt_metrics_total(rt, &t);
		if (t.polls >= M_TASKS && t.tasks_done >= M_TASKS)
			break;
		vt_sleep_us(1000);
	}
	CHECK_GE(t.polls, M_TASKS);
	CHECK_GE(t.tasks_run, M_TASKS);
	CHECK_GE(t.tasks_done, M_TASKS);
	CHECK_GE(t.remote_spawns, M_TASKS); /* spawned from this (non-worker) thread */
	CHECK_LE(t.steals_won, t.steals_tried);

	/* monotonic counters: per-worker sums and the total bracket each other */
	s1 = sum_polls(rt);
	volt_metrics_total(rt, &t);
	s2 = sum_polls(rt);
	CHECK_LE(s1, t.polls);
	CHECK_LE(t.polls, s2);

	CHECK_EQ(volt_metrics_worker(rt, volt_rt_workers(rt), &bad), -EINVAL);
	CHECK_EQ(volt_metrics_worker(rt, 1000, &bad), -EINVAL);
	volt_rt_free(rt);
}

/* ---- live tasks: spawned on workers and from outside, minus done */

#define LIVE_CHILDREN 100

/* Spawns LIVE_CHILDREN detached one_poll tasks from its worker, then ends. */
static enum volt_poll parent_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	for (int i = 0; i < LIVE_CHILDREN; i++) {
		struct volt_future c = VOLT_FUTURE_INIT(&one_ops);

		CHECK_OK(volt_spawn(cx->rt, &c, sizeof c, NULL));
	}
	return VOLT_READY;
}

static const struct volt_future_ops parent_ops = { parent_poll, NULL };

VOLT_RT_TEST(metrics_live_tasks)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_worker_metrics t;
	struct volt_future p = VOLT_FUTURE_INIT(&parent_ops);
	struct vt_forever fv;
	atomic_int fpolls = 0, fdrops = 0, fslot = 0;
	struct volt_join *pj, *fj;

	volt_metrics_total(rt, &t);
	CHECK_EQ(volt_metrics_live_tasks(&t), 0);
	pj = vt_spawn(rt, &p, sizeof p, false);
	vt_forever_init(&fv, true, &fpolls, &fdrops, &fslot);
	fj = vt_spawn(rt, &fv, sizeof fv, false);
	vt_join(pj);
	VT_WAIT_FOR(atomic_load(&polls) >= LIVE_CHILDREN && atomic_load(&fpolls) >= 1);
	/* every child done, the forever task pending: one live task */
	VT_WAIT_FOR((volt_metrics_total(rt, &t), volt_metrics_live_tasks(&t) == 1));
	CHECK_UEQ(t.tasks_spawned, LIVE_CHILDREN);
	CHECK_UEQ(t.remote_spawns, 2);
	(void)volt_join_cancel(fj);
	CHECK_EQ(volt_join_wait(fj, NULL), -ECANCELED);
	VT_WAIT_FOR((volt_metrics_total(rt, &t), volt_metrics_live_tasks(&t) == 0));
	CHECK_EQ(volt_metrics_live_tasks(&t), 0);
	CHECK_EQ(atomic_load(&fdrops), 1);
	volt_rt_free(rt);
}

/* Brackets balance outside strings: a cheap well-formedness check. */
static bool json_balanced(const char *s)
{
	char stack[64];
	int depth = 0;
	bool in_str = false;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = false;
			continue;
		}
		switch (*s) {
		case '"': in_str = true; break;
		case '{': case '[':
			if (depth == (int)sizeof stack)
				return false;
			stack[depth++] = *s;
			break;
		case '}':
			if (depth == 0 || stack[--depth] != '{')
				return false;
			break;
		case ']':
			if (depth == 0 || stack[--depth] != '[')
				return false;
			break;
		}
	}
	return depth == 0 && !in_str;
}

VOLT_RT_TEST(metrics_json)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	FILE *ro;
	char *text, quoted[64];
	size_t a, b;

	run_some(rt);
	text = vt_metrics_json(rt);

	for (a = 0; text[a] == ' ' || text[a] == '\n' || text[a] == '\t'; a++)
		;
	for (b = strlen(text); b > a && (text[b - 1] == ' ' || text[b - 1] == '\n'); b--)
		;
	CHECK_MSG(text[a] == '{', "starts with '%c'", text[a]);
	CHECK_MSG(b > a && text[b - 1] == '}', "ends with '%c'", b > a ? text[b - 1] : '?');
	CHECK(strstr(text, "\"workers\"") != NULL);
	CHECK(strstr(text, "\"scheduler\"") != NULL);
	CHECK(strstr(text, "\"total\"") != NULL);
	CHECK(strstr(text, "\"polls\"") != NULL);
	snprintf(quoted, sizeof quoted, "\"%s\"", policy);
	CHECK(strstr(text, quoted) != NULL);
	CHECK(json_balanced(text));
	free(text);

	/* a stream that cannot be written reports -EIO */
	ro = fopen("/dev/null", "r");
	CHECK(ro != NULL);
	CHECK_EQ(volt_metrics_write_json(rt, ro), -EIO);
	fclose(ro);
	volt_rt_free(rt);
}
