/* SPDX-License-Identifier: MIT */
/*
 * tests/test_coro.c: the coroutine macros and composed futures: await chains
 * (each child dropped once, when it completes), volt_future_drop order and
 * idempotence, and 200 tasks x 1,000 yields that complete and interleave.
 */
#include <stdlib.h>

#include "helpers.h"

static atomic_int drops_leaf_a, drops_leaf_b, drops_mid, drops_top;

struct leaf {
	struct volt_future base;
	int i, n, result;
	atomic_int *drops;
	struct volt_yield y;
};

static enum volt_poll leaf_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct leaf *l = (struct leaf *)f;

	VOLT_BEGIN(f);
	for (l->i = 0; l->i < l->n; l->i++)
		VOLT_AWAIT(f, cx, volt_yield_now(&l->y));
	l->result = l->n * 100;
	VOLT_END(f);
}

static void leaf_drop(struct volt_future *f)
{
	atomic_fetch_add(((struct leaf *)f)->drops, 1);
}

static const struct volt_future_ops leaf_ops = { leaf_poll, leaf_drop };

static struct volt_future *leaf_init(struct leaf *l, int n, atomic_int *drops)
{
	memset(l, 0, sizeof *l);
	volt_future_init(&l->base, &leaf_ops);
	l->n = n;
	l->drops = drops;
	return &l->base;
}

struct mid {
	struct volt_future base;
	struct leaf a, b;
	int sum;
};

static enum volt_poll mid_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct mid *m = (struct mid *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, leaf_init(&m->a, 2, &drops_leaf_a));
	/* a completed child is dropped at once and forgotten; its fields stay readable */
	CHECK_EQ(atomic_load(&drops_leaf_a), 1);
	CHECK(f->awaiting == NULL);
	m->sum += m->a.result;
	VOLT_AWAIT(f, cx, leaf_init(&m->b, 3, &drops_leaf_b));
	CHECK_EQ(atomic_load(&drops_leaf_b), 1);
	m->sum += m->b.result;
	VOLT_END(f);
}

static void mid_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&drops_mid, 1);
}

static const struct volt_future_ops mid_ops = { mid_poll, mid_drop };

struct top {
	struct volt_future base;
	struct mid m;
};

static enum volt_poll top_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct top *t = (struct top *)f;

	VOLT_BEGIN(f);
	memset(&t->m, 0, sizeof t->m);
	volt_future_init(&t->m.base, &mid_ops);
	VOLT_AWAIT(f, cx, &t->m.base);
	CHECK_EQ(atomic_load(&drops_mid), 1);
	VOLT_RETURN(f, cx, (intptr_t)t->m.sum + 1);
	VOLT_END(f);
}

static void top_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&drops_top, 1);
}

static const struct volt_future_ops top_ops = { top_poll, top_drop };

VOLT_RT_TEST(coro_await_chain)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct top t;

	memset(&t, 0, sizeof t);
	volt_future_init(&t.base, &top_ops);
	CHECK_EQ((intptr_t)vt_join(vt_spawn(rt, &t, sizeof t, false)), 200 + 300 + 1);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops_leaf_a), 1);
	CHECK_EQ(atomic_load(&drops_leaf_b), 1);
	CHECK_EQ(atomic_load(&drops_mid), 1);
	CHECK_EQ(atomic_load(&drops_top), 1);
}

/* VOLT_END without VOLT_RETURN: the output is NULL. */
static enum volt_poll quiet_poll(struct volt_future *f, struct volt_cx *cx)
{
	VOLT_BEGIN(f);
	VOLT_YIELD(f, cx);
	VOLT_END(f);
}

static const struct volt_future_ops quiet_ops = { quiet_poll, NULL };

VOLT_RT_TEST(coro_end_without_return)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_future f = VOLT_FUTURE_INIT(&quiet_ops);

	CHECK(vt_join(vt_spawn(rt, &f, sizeof f, false)) == NULL);
	volt_rt_free(rt);
}

/* ---- volt_future_drop: children first, once each */

static int order[8], norder;

struct rec {
	struct volt_future base;
	int id;
};

static void rec_drop(struct volt_future *f)
{
	CHECK_LT(norder, 8);
	order[norder++] = ((struct rec *)f)->id;
}

static enum volt_poll rec_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	return VOLT_PENDING;
}

static const struct volt_future_ops rec_ops = { rec_poll, rec_drop };
static const struct volt_future_ops nodrop_ops = { rec_poll, NULL };

VOLT_TEST(future_drop_chain)
{
	struct rec parent = { VOLT_FUTURE_INIT(&rec_ops), 1 };
	struct rec child = { VOLT_FUTURE_INIT(&rec_ops), 2 };
	struct rec grandchild = { VOLT_FUTURE_INIT(&rec_ops), 3 };
	struct rec lone = { VOLT_FUTURE_INIT(&nodrop_ops), 4 };

	parent.base.awaiting = &child.base;
	child.base.awaiting = &grandchild.base;
	volt_future_drop(&parent.base);
	CHECK_EQ(norder, 3);
	CHECK_EQ(order[0], 3);
	CHECK_EQ(order[1], 2);
	CHECK_EQ(order[2], 1);
	/* idempotent per future */
	volt_future_drop(&parent.base);
	volt_future_drop(&child.base);
	CHECK_EQ(norder, 3);
	volt_future_drop(&lone.base); /* a NULL drop op is allowed */
	CHECK_EQ(norder, 3);
}

/* ---- 200 tasks x 1,000 yields: all complete, and they interleave */

#define Y_TASKS 200
/*
 * Not scaled down under sanitizers: 200,000 yields take well under a second
 * even with TSan, and fewer steps would let a policy's fairness window (the
 * ring policy looks at its injection queue every 61 ticks) span a task's
 * whole run.
 */
#define Y_STEPS 1000

static uint16_t *ylog;
static atomic_int ylen, ystarted;

struct ytask {
	struct volt_future base;
	int id, i;
	struct volt_yield y;
};

static enum volt_poll ytask_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct ytask *t = (struct ytask *)f;

	VOLT_BEGIN(f);
	/* start together: yield until every task has been polled once */
	atomic_fetch_add(&ystarted, 1);
	while (atomic_load(&ystarted) < Y_TASKS)
		VOLT_YIELD(f, cx);
	for (t->i = 0; t->i < Y_STEPS; t->i++) {
		ylog[atomic_fetch_add(&ylen, 1)] = (uint16_t)t->id;
		if (t->id % 2)
			VOLT_YIELD(f, cx);
		else
			VOLT_AWAIT(f, cx, volt_yield_now(&t->y));
	}
	VOLT_RETURN(f, cx, (intptr_t)t->id + 1);
	VOLT_END(f);
}

static const struct volt_future_ops ytask_ops = { ytask_poll, NULL };

/*
 * Runs the program on `workers` workers; returns how many tasks logged all
 * their steps in one unbroken run (no other task polled in between).
 */
static int yield_many(const char *policy, unsigned workers)
{
	const int total = Y_TASKS * Y_STEPS;
	struct volt_rt *rt = vt_rt_new(policy, workers);
	struct volt_join *j[Y_TASKS];
	int count[Y_TASKS] = { 0 }, first[Y_TASKS], last[Y_TASKS];
	int unbroken = 0;

	ylog = calloc((size_t)total, sizeof *ylog);
	CHECK(ylog != NULL);
	for (int i = 0; i < Y_TASKS; i++) {
		struct ytask t;

		memset(&t, 0, sizeof t);
		volt_future_init(&t.base, &ytask_ops);
		t.id = i;
		j[i] = vt_spawn(rt, &t, sizeof t, false);
	}
	for (int i = 0; i < Y_TASKS; i++)
		CHECK_EQ((intptr_t)vt_join(j[i]), i + 1);
	volt_rt_free(rt);

	CHECK_EQ(atomic_load(&ylen), total);
	for (int k = 0; k < total; k++) {
		int id = ylog[k];

		CHECK_LT(id, Y_TASKS);
		if (count[id]++ == 0)
			first[id] = k;
		last[id] = k;
	}
	for (int i = 0; i < Y_TASKS; i++) {
		CHECK_EQ(count[i], Y_STEPS);
		if (last[i] - first[i] + 1 == Y_STEPS)
			unbroken++;
	}
	free(ylog);
	return unbroken;
}

VOLT_RT_TEST(yield_many_complete)
{
	/*
	 * Two workers: everything completes exactly once. No interleaving claim
	 * here: under work stealing a worker holding one yielding task keeps
	 * running it while the other worker serves the rest, which is allowed.
	 */
	printf("  %d of %d tasks ran all their steps unbroken\n", yield_many(policy, 2), Y_TASKS);
}

VOLT_RT_TEST(yield_many_interleave)
{
	/* One worker: the log is the poll order, and a yield goes behind the others. */
	CHECK_EQ(yield_many(policy, 1), 0);
}
