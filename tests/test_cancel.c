/* SPDX-License-Identifier: MIT */
/*
 * tests/test_cancel.c: every cancellation case of volt/task.h, each with
 * drop counters that prove the future is dropped exactly once, plus
 * cancellation of composed futures (a parent awaiting a child).
 *
 * The "before first poll" case is made deterministic with one worker held
 * by a blocker task that spins until the main thread has cancelled; the
 * "while running" cases rendezvous with the poll through atomics.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "helpers.h"

/* Shared probe state; every test runs in its own process. */
static atomic_int polls, drops;
static atomic_bool started, release;
static _Atomic(struct volt_join *) self_join;

static void count_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&drops, 1);
}

/* Counts its polls and is ready at once with output 5. */
static enum volt_poll ready_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	atomic_fetch_add(&polls, 1);
	cx->output = (void *)(intptr_t)5;
	return VOLT_READY;
}

static const struct volt_future_ops ready_ops = { ready_poll, count_drop };

static void check_cancelled(struct volt_join *j)
{
	void *out = (void *)(intptr_t)-7;

	CHECK_EQ(volt_join_wait(j, &out), -ECANCELED);
}

VOLT_RT_TEST(cancel_before_first_poll)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_future target = VOLT_FUTURE_INIT(&ready_ops);
	struct vt_blocker blocker;
	struct volt_join *jb, *jt;

	vt_blocker_init(&blocker, &started, &release);
	jb = vt_spawn(rt, &blocker, sizeof blocker, false);
	VT_WAIT_FOR(atomic_load(&started)); /* the only worker is now busy */
	jt = vt_spawn(rt, &target, sizeof target, false);
	CHECK(!volt_join_is_done(jt));
	volt_join_cancel(jt);
	atomic_store(&release, true);
	VT_WAIT_FOR(volt_join_is_done(jt));
	CHECK_EQ(atomic_load(&drops), 1); /* is_done: cancelled and dropped */
	check_cancelled(jt);
	vt_join(jb);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&polls), 0);
	CHECK_EQ(atomic_load(&drops), 1);
}

VOLT_RT_TEST(cancel_before_first_poll_twice)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_future target = VOLT_FUTURE_INIT(&ready_ops);
	struct vt_blocker blocker;
	struct volt_join *jb, *jt;

	vt_blocker_init(&blocker, &started, &release);
	jb = vt_spawn(rt, &blocker, sizeof blocker, false);
	VT_WAIT_FOR(atomic_load(&started));
	jt = vt_spawn(rt, &target, sizeof target, false);
	volt_join_cancel(jt);
	volt_join_cancel(jt);
	atomic_store(&release, true);
	volt_join_cancel(jt);
	check_cancelled(jt);
	vt_join(jb);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&polls), 0);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* ---- while pending */

static void cancel_pending_case(const char *policy, bool keep_waker, int cancels)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct vt_forever f;
	struct volt_join *j;

	vt_forever_init(&f, keep_waker, &polls, &drops, NULL);
	j = vt_spawn(rt, &f, sizeof f, false);
	VT_WAIT_FOR(atomic_load(&polls) >= 1);
	CHECK(!volt_join_is_done(j));
	for (int i = 0; i < cancels; i++)
		volt_join_cancel(j);
	check_cancelled(j);
	CHECK_EQ(atomic_load(&drops), 1);
	CHECK_EQ(atomic_load(&polls), 1); /* dropped instead of being polled again */
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1);
}

VOLT_RT_TEST(cancel_while_pending_holding_waker)
{
	cancel_pending_case(policy, true, 1);
}

VOLT_RT_TEST(cancel_while_pending_no_waker)
{
	/* nobody holds a waker: cancel alone must get the future dropped */
	cancel_pending_case(policy, false, 1);
}

VOLT_RT_TEST(cancel_while_pending_twice)
{
	cancel_pending_case(policy, true, 2);
}

/* ---- while running: from inside the poll, through its own handle */

struct flag_fut {
	struct volt_future base;
	bool ready; /* finish with READY (else PENDING) */
};

/*
 * The end of a "while running" case, once the cancel is in: a poll that
 * finished with READY keeps its output `want`, a PENDING one is cancelled;
 * either way one poll and one drop. Frees rt.
 */
static void check_running_outcome(struct volt_rt *rt, struct volt_join *j, bool ready,
				  intptr_t want)
{
	void *out = NULL;

	if (ready) {
		CHECK_OK(volt_join_wait(j, &out));
		CHECK_EQ((intptr_t)out, want);
	} else {
		check_cancelled(j);
		CHECK_EQ(atomic_load(&drops), 1);
	}
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&polls), 1);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* Spawns a flag_fut with `ops` on rt; its handle. */
static struct volt_join *spawn_flag(struct volt_rt *rt, const struct volt_future_ops *ops,
				    bool ready)
{
	struct flag_fut f = { VOLT_FUTURE_INIT(ops), ready };

	return vt_spawn(rt, &f, sizeof f, false);
}

/* A flag_fut poll's end: counts the poll; PENDING, or READY with `output`. */
static enum volt_poll flag_finish(struct volt_future *f, struct volt_cx *cx, intptr_t output)
{
	atomic_fetch_add(&polls, 1);
	if (!((struct flag_fut *)f)->ready)
		return VOLT_PENDING; /* no waker kept: only the cancel can end it */
	cx->output = (void *)output;
	return VOLT_READY;
}

static enum volt_poll self_cancel_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_join *j;

	while (!(j = atomic_load(&self_join)))
		sched_yield();
	volt_join_cancel(j);
	volt_join_cancel(j); /* twice, while running */
	return flag_finish(f, cx, 9);
}

static const struct volt_future_ops self_cancel_ops = { self_cancel_poll, count_drop };

static void self_cancel_case(const char *policy, bool ready)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join *j = spawn_flag(rt, &self_cancel_ops, ready);

	atomic_store(&self_join, j);
	check_running_outcome(rt, j, ready, 9);
}

VOLT_RT_TEST(cancel_self_while_running_pending)
{
	self_cancel_case(policy, false);
}

VOLT_RT_TEST(cancel_self_while_running_ready)
{
	self_cancel_case(policy, true);
}

/* ---- while running: from another thread while the poll spins */

static atomic_bool in_poll, cancelled;

static enum volt_poll spin_poll(struct volt_future *f, struct volt_cx *cx)
{
	atomic_store(&in_poll, true);
	while (!atomic_load(&cancelled))
		sched_yield();
	return flag_finish(f, cx, 11);
}

static const struct volt_future_ops spin_ops = { spin_poll, count_drop };

static void other_thread_case(const char *policy, bool ready)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join *j = spawn_flag(rt, &spin_ops, ready);

	VT_WAIT_FOR(atomic_load(&in_poll));
	CHECK(!volt_join_is_done(j)); /* still inside its poll */
	volt_join_cancel(j);
	atomic_store(&cancelled, true);
	check_running_outcome(rt, j, ready, 11);
}

VOLT_RT_TEST(cancel_other_thread_while_running_pending)
{
	other_thread_case(policy, false);
}

VOLT_RT_TEST(cancel_other_thread_while_running_ready)
{
	other_thread_case(policy, true);
}

/* ---- after completion */

VOLT_RT_TEST(cancel_after_completion)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_future f = VOLT_FUTURE_INIT(&ready_ops);
	struct volt_join *j = vt_spawn(rt, &f, sizeof f, false);
	void *out = NULL;

	VT_WAIT_FOR(volt_join_is_done(j));
	volt_join_cancel(j);
	volt_join_cancel(j); /* twice: still no effect */
	CHECK(volt_join_is_done(j));
	CHECK_OK(volt_join_wait(j, &out));
	CHECK_EQ((intptr_t)out, 5);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&polls), 1);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* ---- many tasks, cancelled while they yield, some finishing on their own */

struct hopper {
	struct volt_future base;
	int i, steps, id;
	atomic_int *drop_slot;
};

static enum volt_poll hopper_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct hopper *h = (struct hopper *)f;

	atomic_fetch_add(&polls, 1);
	VOLT_BEGIN(f);
	for (h->i = 0; h->steps < 0 || h->i < h->steps; h->i++)
		VOLT_YIELD(f, cx);
	VOLT_RETURN(f, cx, (intptr_t)h->id);
	VOLT_END(f);
}

static void hopper_drop(struct volt_future *f)
{
	atomic_fetch_add(((struct hopper *)f)->drop_slot, 1);
	atomic_fetch_add(&drops, 1);
}

static const struct volt_future_ops hopper_ops = { hopper_poll, hopper_drop };

VOLT_RT_TEST(cancel_many_racing)
{
	const int n = 2000;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join **j = calloc((size_t)n, sizeof *j);
	atomic_int *slot = calloc((size_t)n, sizeof *slot);
	int completed = 0, was_cancelled = 0;

	CHECK(j && slot);
	for (int i = 0; i < n; i++) {
		/* a third yield forever; the rest finish after 0..63 yields */
		struct hopper h = { VOLT_FUTURE_INIT(&hopper_ops), 0,
				    i % 3 == 0 ? -1 : i % 64, i, &slot[i] };

		j[i] = vt_spawn(rt, &h, sizeof h, false);
	}
	VT_WAIT_FOR(atomic_load(&polls) >= 2 * n);
	/* cancel in a scattered order: odd indices first, then even */
	for (int pass = 1; pass >= 0; pass--)
		for (int i = pass; i < n; i += 2)
			volt_join_cancel(j[i]);
	for (int i = 0; i < n; i++) {
		void *out = NULL;
		int r = volt_join_wait(j[i], &out);

		if (r == 0) {
			CHECK_EQ((intptr_t)out, i);
			CHECK_NE(i % 3, 0); /* the endless ones cannot complete */
			completed++;
		} else {
			CHECK_EQ(r, -ECANCELED);
			was_cancelled++;
		}
		CHECK_EQ(atomic_load(&slot[i]), 1);
	}
	printf("  %d completed, %d cancelled\n", completed, was_cancelled);
	CHECK_GE(was_cancelled, (n + 2) / 3);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), n);
	for (int i = 0; i < n; i++)
		CHECK_EQ(atomic_load(&slot[i]), 1);
	free(j);
	free(slot);
}

/* ---- detach */

VOLT_RT_TEST(detach_runs_on)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_future f = VOLT_FUTURE_INIT(&ready_ops);
	struct volt_join *j = vt_spawn(rt, &f, sizeof f, false);

	volt_join_detach(j);
	VT_WAIT_FOR(atomic_load(&polls) == 1);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&polls), 1);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* ---- composed futures: cancelling a parent drops the awaited child once */

static atomic_int child_drops, parent_drops, drop_seq, child_drop_at, parent_drop_at;
static atomic_bool parent_polled;

static void kid_drop(struct volt_future *f)
{
	struct vt_forever *k = (struct vt_forever *)f;

	volt_waker_drop(&k->waker);
	atomic_fetch_add(&child_drops, 1);
	atomic_store(&child_drop_at, atomic_fetch_add(&drop_seq, 1) + 1);
}

static enum volt_poll kid_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vt_forever *k = (struct vt_forever *)f;

	if (!k->waker.ops)
		k->waker = volt_waker_clone(&cx->waker);
	atomic_fetch_add(&polls, 1);
	return VOLT_PENDING;
}

static const struct volt_future_ops kid_ops = { kid_poll, kid_drop };

struct parent {
	struct volt_future base;
	int step;
	struct vt_forever kid; /* inline child */
	struct vt_gate_wait gw;
	struct vt_gate *gate;
	struct volt_join_future jf;
	struct volt_join *j;
	int mode;
};

static enum volt_poll parent_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct parent *p = (struct parent *)f;

	VOLT_BEGIN(f);
	p->step = 1;
	atomic_store(&parent_polled, true);
	if (p->mode == 0) {
		memset(&p->kid, 0, sizeof p->kid);
		volt_future_init(&p->kid.base, &kid_ops);
		VOLT_AWAIT(f, cx, &p->kid.base);
	} else if (p->mode == 1) {
		VOLT_AWAIT(f, cx, vt_gate_wait(&p->gw, p->gate, &child_drops));
	} else {
		VOLT_AWAIT(f, cx, volt_join_await(&p->jf, p->j));
	}
	p->step = 2; /* never reached: the child never completes before the cancel */
	VT_FAIL("parent resumed past an await that cannot complete");
	VOLT_END(f);
}

static void parent_drop(struct volt_future *f)
{
	struct parent *p = (struct parent *)f;

	if (p->mode == 2 && f->resume == 0)
		volt_join_detach(p->j); /* never polled: the handle was never taken over */
	atomic_fetch_add(&parent_drops, 1);
	atomic_store(&parent_drop_at, atomic_fetch_add(&drop_seq, 1) + 1);
}

static const struct volt_future_ops parent_ops = { parent_poll, parent_drop };

VOLT_RT_TEST(cancel_parent_drops_awaited_child)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct parent p;
	struct volt_join *j;

	memset(&p, 0, sizeof p);
	volt_future_init(&p.base, &parent_ops);
	p.mode = 0;
	j = vt_spawn(rt, &p, sizeof p, false);
	VT_WAIT_FOR(atomic_load(&polls) >= 1); /* the child has been polled */
	volt_join_cancel(j);
	check_cancelled(j);
	CHECK_EQ(atomic_load(&child_drops), 1);
	CHECK_EQ(atomic_load(&parent_drops), 1);
	/* volt_future_drop drops the awaited child first */
	CHECK_LT(atomic_load(&child_drop_at), atomic_load(&parent_drop_at));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&child_drops), 1);
	CHECK_EQ(atomic_load(&parent_drops), 1);
}

VOLT_RT_TEST(cancel_parent_unlinks_waiting_child)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct vt_gate gate;
	struct parent p;
	struct volt_join *j;

	vt_gate_init(&gate);
	memset(&p, 0, sizeof p);
	volt_future_init(&p.base, &parent_ops);
	p.mode = 1;
	p.gate = &gate;
	j = vt_spawn(rt, &p, sizeof p, false);
	VT_WAIT_FOR(atomic_load(&gate.waiting) == 1);
	volt_join_cancel(j);
	check_cancelled(j);
	CHECK_EQ(atomic_load(&gate.waiting), 0); /* the child's drop unlinked its waiter */
	CHECK_EQ(atomic_load(&child_drops), 1);
	CHECK_EQ(atomic_load(&parent_drops), 1);
	vt_gate_open(&gate); /* wakes nobody */
	volt_rt_free(rt);
	vt_gate_destroy(&gate);
	CHECK_EQ(atomic_load(&child_drops), 1);
	CHECK_EQ(atomic_load(&parent_drops), 1);
}

VOLT_RT_TEST(cancel_parent_awaiting_join)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	atomic_int grandchild_drops = 0;
	struct vt_gate gate;
	struct vt_gate_wait gw;
	struct parent p;
	struct volt_join *j;

	vt_gate_init(&gate);
	vt_gate_wait(&gw, &gate, &grandchild_drops);
	memset(&p, 0, sizeof p);
	volt_future_init(&p.base, &parent_ops);
	p.mode = 2;
	p.j = vt_spawn(rt, &gw, sizeof gw, false); /* the parent takes this handle over */
	j = vt_spawn(rt, &p, sizeof p, false);
	VT_WAIT_FOR(atomic_load(&gate.waiting) == 1 && atomic_load(&parent_polled));
	volt_join_cancel(j);
	check_cancelled(j);
	CHECK_EQ(atomic_load(&parent_drops), 1);
	/* dropping the join future released the handle; the task itself runs on */
	CHECK_EQ(atomic_load(&grandchild_drops), 0);
	vt_gate_open(&gate);
	VT_WAIT_FOR(atomic_load(&grandchild_drops) == 1);
	volt_rt_free(rt);
	vt_gate_destroy(&gate);
	CHECK_EQ(atomic_load(&grandchild_drops), 1);
	CHECK_EQ(atomic_load(&parent_drops), 1);
}

VOLT_RT_TEST(join_is_done_tracks_completion)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	atomic_int gdrops = 0;
	struct vt_gate gate;
	struct vt_gate_wait gw;
	struct volt_join *j;

	vt_gate_init(&gate);
	vt_gate_wait(&gw, &gate, &gdrops);
	j = vt_spawn(rt, &gw, sizeof gw, false);
	VT_WAIT_FOR(atomic_load(&gate.waiting) == 1);
	CHECK(!volt_join_is_done(j));
	vt_gate_open(&gate);
	VT_WAIT_FOR(volt_join_is_done(j));
	vt_join(j);
	volt_rt_free(rt);
	vt_gate_destroy(&gate);
	CHECK_EQ(atomic_load(&gdrops), 1);
}
