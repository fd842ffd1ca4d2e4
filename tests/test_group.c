/* SPDX-License-Identifier: MIT */
/*
 * tests/test_group.c: groups: wait for all (blocking and future forms),
 * cancel all (each future dropped once, also before its first poll),
 * -ECANCELED after cancel, -EBUSY from free while tasks live.
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

static atomic_int runs, drops, polls;
static atomic_bool started, release;

/* Ready at once; counts its run in `slot` and in `runs`. */
struct work {
	struct volt_future base;
	atomic_int *slot;
};

static enum volt_poll work_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct work *w = (struct work *)f;

	(void)cx;
	if (w->slot)
		atomic_fetch_add(w->slot, 1);
	atomic_fetch_add(&runs, 1);
	return VOLT_READY;
}

static void work_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&drops, 1);
}

static const struct volt_future_ops work_ops = { work_poll, work_drop };

VOLT_RT_TEST(group_wait_all)
{
	const int n = VT_SCALE(20000);
	struct volt_rt *rt = vt_rt_new(policy, 2);
	atomic_int *slot = calloc((size_t)n, sizeof *slot);
	struct volt_group *g = NULL;

	CHECK(slot != NULL);
	CHECK_OK(volt_group_new(rt, &g));
	CHECK(g != NULL);
	CHECK_EQ(volt_group_count(g), 0);
	for (int i = 0; i < n; i++) {
		struct work w = { VOLT_FUTURE_INIT(&work_ops), &slot[i] };

		CHECK_OK(volt_group_spawn(g, &w.base, sizeof w));
	}
	CHECK_OK(volt_group_wait(g));
	CHECK_EQ(volt_group_count(g), 0);
	CHECK_EQ(atomic_load(&runs), n);
	for (int i = 0; i < n; i++)
		CHECK_EQ(atomic_load(&slot[i]), 1);
	CHECK_OK(volt_group_wait(g)); /* an empty group: at once */
	CHECK_OK(volt_group_free(g));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), n);
	free(slot);
}

/* ---- the future form, awaited by a task and through block_on */

struct hop {
	struct volt_future base;
	int i;
};

static enum volt_poll hop_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct hop *h = (struct hop *)f;

	VOLT_BEGIN(f);
	for (h->i = 0; h->i < 3; h->i++)
		VOLT_YIELD(f, cx);
	atomic_fetch_add(&runs, 1);
	VOLT_END(f);
}

static const struct volt_future_ops hop_ops = { hop_poll, work_drop };

#define JOIN_KIDS 1000

struct joiner {
	struct volt_future base;
	struct volt_group *g;
	struct volt_group_wait w;
	int seen;
};

static enum volt_poll joiner_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct joiner *p = (struct joiner *)f;

	VOLT_BEGIN(f);
	CHECK_OK(volt_group_new(cx->rt, &p->g));
	for (int i = 0; i < JOIN_KIDS; i++) {
		struct hop h = { VOLT_FUTURE_INIT(&hop_ops), 0 };

		CHECK_OK(volt_group_spawn(p->g, &h.base, sizeof h));
	}
	VOLT_AWAIT(f, cx, volt_group_join(&p->w, p->g));
	p->seen = atomic_load(&runs);
	CHECK_EQ(p->seen, JOIN_KIDS); /* every task of the group finished */
	CHECK_EQ(volt_group_count(p->g), 0);
	CHECK_OK(volt_group_free(p->g));
	VOLT_RETURN(f, cx, (intptr_t)p->seen);
	VOLT_END(f);
}

static const struct volt_future_ops joiner_ops = { joiner_poll, NULL };

VOLT_RT_TEST(group_join_future)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct joiner p;
	struct volt_group *g = NULL;
	struct volt_group_wait w;

	memset(&p, 0, sizeof p);
	volt_future_init(&p.base, &joiner_ops);
	CHECK_EQ((intptr_t)vt_join(vt_spawn(rt, &p, sizeof p, false)), JOIN_KIDS);

	/* the same future, polled by a plain thread through volt_block_on */
	CHECK_OK(volt_group_new(rt, &g));
	for (int i = 0; i < JOIN_KIDS; i++) {
		struct hop h = { VOLT_FUTURE_INIT(&hop_ops), 0 };

		CHECK_OK(volt_group_spawn(g, &h.base, sizeof h));
	}
	CHECK_OK(volt_block_on(rt, volt_group_join(&w, g), NULL));
	CHECK_EQ(atomic_load(&runs), 2 * JOIN_KIDS);
	CHECK_EQ(volt_group_count(g), 0);
	CHECK_OK(volt_group_free(g));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 2 * JOIN_KIDS);
}

/* ---- cancel */

VOLT_RT_TEST(group_cancel_pending)
{
	const int n = 1000;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	atomic_int *slot = calloc((size_t)n, sizeof *slot);
	atomic_int fdrops = 0;
	struct volt_group *g = NULL;
	struct work w = { VOLT_FUTURE_INIT(&work_ops), NULL };

	CHECK(slot != NULL);
	CHECK_OK(volt_group_new(rt, &g));
	for (int i = 0; i < n; i++) {
		struct vt_forever f;

		/* half hold their waker, half are reachable by nobody */
		vt_forever_init(&f, i % 2 == 0, &polls, &fdrops, &slot[i]);
		CHECK_OK(volt_group_spawn(g, &f.base, sizeof f));
	}
	VT_WAIT_FOR(atomic_load(&polls) == n);
	CHECK_EQ(volt_group_count(g), n);
	volt_group_cancel(g);
	CHECK_OK(volt_group_wait(g));
	CHECK_EQ(volt_group_count(g), 0);
	CHECK_EQ(atomic_load(&fdrops), n);
	for (int i = 0; i < n; i++)
		CHECK_EQ(atomic_load(&slot[i]), 1);

	/* a cancelled group refuses spawns, and the caller keeps its future */
	CHECK_EQ(volt_group_spawn(g, &w.base, sizeof w), -ECANCELED);
	CHECK_EQ(atomic_load(&drops), 0);
	volt_group_cancel(g); /* again: no effect */
	CHECK_OK(volt_group_wait(g));
	CHECK_OK(volt_group_free(g));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&fdrops), n);
	CHECK_EQ(atomic_load(&polls), n); /* none polled after the cancel */
	CHECK_EQ(atomic_load(&runs), 0);
	free(slot);
}

static void *never_fn(void *arg)
{
	(void)arg;
	atomic_fetch_add(&runs, 1000000);
	return NULL;
}

VOLT_RT_TEST(group_cancel_before_first_poll)
{
	const int n = 500;
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct vt_blocker blocker;
	struct volt_group *g = NULL;
	struct volt_join *jb;

	vt_blocker_init(&blocker, &started, &release);
	CHECK_OK(volt_group_new(rt, &g));
	jb = vt_spawn(rt, &blocker, sizeof blocker, false);
	VT_WAIT_FOR(atomic_load(&started)); /* the only worker is held */
	for (int i = 0; i < n; i++) {
		struct work w = { VOLT_FUTURE_INIT(&work_ops), NULL };

		CHECK_OK(volt_group_spawn(g, &w.base, sizeof w));
	}
	CHECK_EQ(volt_group_spawn_fn(g, never_fn, NULL), 0);
	CHECK_EQ(volt_group_count(g), n + 1);
	volt_group_cancel(g);
	CHECK_EQ(volt_group_spawn_fn(g, never_fn, NULL), -ECANCELED);
	atomic_store(&release, true);
	CHECK_OK(volt_group_wait(g));
	CHECK_EQ(atomic_load(&runs), 0); /* none was ever polled */
	CHECK_EQ(atomic_load(&drops), n);
	CHECK_OK(volt_group_free(g));
	vt_join(jb);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), n);
}

VOLT_RT_TEST(group_free_busy)
{
	const int n = 10;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	atomic_int gdrops = 0;
	struct volt_group *g = NULL;
	struct vt_gate gate;

	vt_gate_init(&gate);
	CHECK_OK(volt_group_new(rt, &g));
	for (int i = 0; i < n; i++) {
		struct vt_gate_wait gw;

		vt_gate_wait(&gw, &gate, &gdrops);
		CHECK_OK(volt_group_spawn(g, &gw.base, sizeof gw));
	}
	CHECK_EQ(volt_group_free(g), -EBUSY);
	CHECK_EQ(volt_group_count(g), n); /* nothing was freed; still usable */
	VT_WAIT_FOR(atomic_load(&gate.waiting) == n);
	CHECK_EQ(volt_group_free(g), -EBUSY);
	vt_gate_open(&gate);
	CHECK_OK(volt_group_wait(g));
	CHECK_EQ(volt_group_count(g), 0);
	CHECK_OK(volt_group_free(g));
	volt_rt_free(rt);
	vt_gate_destroy(&gate);
	CHECK_EQ(atomic_load(&gdrops), n);
}

/* ---- spawn_fn, and tasks spawning into their own group (a tree) */

static void *count_fn(void *arg)
{
	atomic_fetch_add(&runs, (int)(intptr_t)arg);
	return NULL;
}

VOLT_RT_TEST(group_spawn_fn)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_group *g = NULL;

	CHECK_OK(volt_group_new(rt, &g));
	for (int i = 1; i <= 100; i++)
		CHECK_OK(volt_group_spawn_fn(g, count_fn, (void *)(intptr_t)i));
	CHECK_OK(volt_group_wait(g));
	CHECK_EQ(atomic_load(&runs), 5050);
	CHECK_OK(volt_group_free(g));
	volt_rt_free(rt);
}

struct node {
	struct volt_future base;
	struct volt_group *g;
	int depth;
};

static enum volt_poll node_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct node *n = (struct node *)f;

	(void)cx;
	atomic_fetch_add(&runs, 1);
	if (n->depth > 0) {
		for (int k = 0; k < 2; k++) {
			struct node c = { VOLT_FUTURE_INIT(n->base.ops), n->g, n->depth - 1 };

			CHECK_OK(volt_group_spawn(n->g, &c.base, sizeof c));
		}
	}
	return VOLT_READY;
}

static const struct volt_future_ops node_ops = { node_poll, work_drop };

VOLT_RT_TEST(group_tree_spawned_from_tasks)
{
	const int depth = 10; /* 2^11 - 1 tasks */
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_group *g = NULL;
	struct node root;

	CHECK_OK(volt_group_new(rt, &g));
	root = (struct node){ VOLT_FUTURE_INIT(&node_ops), g, depth };
	CHECK_OK(volt_group_spawn(g, &root.base, sizeof root));
	CHECK_OK(volt_group_wait(g));
	CHECK_EQ(atomic_load(&runs), (1 << (depth + 1)) - 1);
	CHECK_OK(volt_group_free(g));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), (1 << (depth + 1)) - 1);
}

VOLT_RT_TEST(group_invalid_args)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_group *g = (struct volt_group *)&g; /* a sentinel */
	struct work w = { VOLT_FUTURE_INIT(&work_ops), NULL };
	static const struct volt_future_ops no_poll = { NULL, work_drop };
	struct work bad = { VOLT_FUTURE_INIT(&no_poll), NULL };

	CHECK_EQ(volt_group_new(NULL, &g), -EINVAL);
	CHECK_OK(volt_group_new(rt, &g));
	CHECK_EQ(volt_group_spawn(g, NULL, sizeof w), -EINVAL);
	CHECK_EQ(volt_group_spawn(g, &bad.base, sizeof bad), -EINVAL);
	CHECK_EQ(volt_group_spawn(g, &w.base, sizeof(struct volt_future) - 1), -EINVAL);
	CHECK_EQ(volt_group_count(g), 0);
	CHECK_OK(volt_group_wait(g));
	CHECK_OK(volt_group_free(g));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 0);
}
