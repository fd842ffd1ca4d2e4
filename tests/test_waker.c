/* SPDX-License-Identifier: MIT */
/*
 * tests/test_waker.c: wakers. A wake during a poll is not lost; a task woken
 * from many threads at once is never polled by two workers at a time, and
 * the last wake is always followed by a poll; waker references outliving
 * their task (after completion or cancellation) are safe and poll nothing.
 *
 * A lost wake shows up as a hang, which the runner's timeout turns into a
 * failure naming the test and policy.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "helpers.h"

static atomic_int polls, drops;

static void count_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&drops, 1);
}

/* ---- wake by reference from inside the poll */

struct self_waker {
	struct volt_future base;
	int left;
	bool consume; /* wake a clone (consuming it) instead of by reference */
};

static enum volt_poll self_waker_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct self_waker *s = (struct self_waker *)f;

	atomic_fetch_add(&polls, 1);
	if (s->left-- == 0)
		return VOLT_READY;
	if (s->consume) {
		struct volt_waker c = volt_waker_clone(&cx->waker);

		volt_waker_wake(&c);
		CHECK(c.ops == NULL);
	} else {
		volt_waker_wake_by_ref(&cx->waker);
	}
	return VOLT_PENDING;
}

static const struct volt_future_ops self_waker_ops = { self_waker_poll, count_drop };

static void self_wake_case(const char *policy, bool consume)
{
	const int rounds = 1000, tasks = 8;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join *j[8];

	for (int i = 0; i < tasks; i++) {
		struct self_waker s = { VOLT_FUTURE_INIT(&self_waker_ops), rounds, consume };

		j[i] = vt_spawn(rt, &s, sizeof s, false);
	}
	for (int i = 0; i < tasks; i++)
		vt_join(j[i]);
	CHECK_GE(atomic_load(&polls), tasks * (rounds + 1));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), tasks);
}

VOLT_RT_TEST(wake_by_ref_during_poll)
{
	self_wake_case(policy, false);
}

VOLT_RT_TEST(wake_clone_during_poll)
{
	self_wake_case(policy, true);
}

/* ---- woken by another thread while the poll is still running */

static struct volt_waker handoff;
static atomic_int handoff_state; /* 0 idle, 1 waker ready, 2 woken, 3 stop */

static void *handoff_main(void *arg)
{
	(void)arg;
	for (;;) {
		int s;

		while ((s = atomic_load(&handoff_state)) != 1 && s != 3)
			sched_yield();
		if (s == 3)
			return NULL;
		volt_waker_wake(&handoff);
		atomic_store(&handoff_state, 2);
	}
}

struct handoff_fut {
	struct volt_future base;
	int left;
};

static enum volt_poll handoff_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct handoff_fut *h = (struct handoff_fut *)f;

	atomic_fetch_add(&polls, 1);
	if (h->left-- == 0)
		return VOLT_READY;
	handoff = volt_waker_clone(&cx->waker);
	atomic_store(&handoff_state, 1);
	/* the wake lands while this poll is still running */
	while (atomic_load(&handoff_state) != 2)
		sched_yield();
	atomic_store(&handoff_state, 0);
	return VOLT_PENDING;
}

static const struct volt_future_ops handoff_ops = { handoff_poll, count_drop };

VOLT_RT_TEST(wake_from_thread_during_poll)
{
	const int rounds = 300;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct handoff_fut h = { VOLT_FUTURE_INIT(&handoff_ops), rounds };
	pthread_t th;

	CHECK_OK(pthread_create(&th, NULL, handoff_main, NULL));
	vt_join(vt_spawn(rt, &h, sizeof h, false));
	atomic_store(&handoff_state, 3);
	CHECK_OK(pthread_join(th, NULL));
	CHECK_GE(atomic_load(&polls), rounds + 1);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* ---- many threads waking one task */

#define WAKERS 4

static struct volt_waker clones[WAKERS];
static atomic_bool clones_ready;
static atomic_int threads_done, overlaps, in_poll;

static void *waker_main(void *arg)
{
	int id = (int)(intptr_t)arg;
	const int n = VT_SCALE(20000);

	while (!atomic_load(&clones_ready))
		sched_yield();
	for (int i = 0; i < n; i++) {
		volt_waker_wake_by_ref(&clones[id]);
		if (i % 64 == 0)
			sched_yield();
	}
	atomic_fetch_add(&threads_done, 1);
	/* the final wake comes after this thread counted itself done */
	volt_waker_wake(&clones[id]);
	return NULL;
}

static enum volt_poll contended_poll(struct volt_future *f, struct volt_cx *cx)
{
	bool finished;

	(void)f;
	if (atomic_exchange(&in_poll, 1) != 0)
		atomic_fetch_add(&overlaps, 1);
	atomic_fetch_add(&polls, 1);
	if (!atomic_load(&clones_ready)) {
		for (int i = 0; i < WAKERS; i++)
			clones[i] = volt_waker_clone(&cx->waker);
		atomic_store(&clones_ready, true);
	}
	/* read before the poll ends: a wake after this point must cause another poll */
	finished = atomic_load(&threads_done) == WAKERS;
	for (int i = 0; i < 200; i++) /* widen the window for a second poller */
		if (atomic_load(&in_poll) != 1)
			atomic_fetch_add(&overlaps, 1); /* someone else cleared it mid-poll */
	atomic_store(&in_poll, 0);
	return finished ? VOLT_READY : VOLT_PENDING;
}

static const struct volt_future_ops contended_ops = { contended_poll, count_drop };

VOLT_RT_TEST(concurrent_wakes_single_poller)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_future f = VOLT_FUTURE_INIT(&contended_ops);
	pthread_t th[WAKERS];
	struct volt_join *j;

	for (int i = 0; i < WAKERS; i++)
		CHECK_OK(pthread_create(&th[i], NULL, waker_main, (void *)(intptr_t)i));
	j = vt_spawn(rt, &f, sizeof f, false);
	/* returns only if a poll began after every thread's last wake */
	vt_join(j);
	for (int i = 0; i < WAKERS; i++)
		CHECK_OK(pthread_join(th[i], NULL));
	printf("  %d polls for %d wakes\n", atomic_load(&polls), WAKERS * (VT_SCALE(20000) + 1));
	CHECK_EQ(atomic_load(&overlaps), 0);
	CHECK_GE(atomic_load(&polls), 2);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* ---- waker references that outlive their task */

static struct volt_waker kept[2];

struct keep_fut {
	struct volt_future base;
	bool stay_pending;
};

static enum volt_poll keep_poll(struct volt_future *f, struct volt_cx *cx)
{
	atomic_fetch_add(&polls, 1);
	if (!kept[0].ops) {
		kept[0] = volt_waker_clone(&cx->waker);
		kept[1] = volt_waker_clone(&kept[0]);
	}
	return ((struct keep_fut *)f)->stay_pending ? VOLT_PENDING : VOLT_READY;
}

static const struct volt_future_ops keep_ops = { keep_poll, count_drop };

VOLT_RT_TEST(waker_outlives_completed_task)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct keep_fut f = { VOLT_FUTURE_INIT(&keep_ops), false };

	vt_join(vt_spawn(rt, &f, sizeof f, false));
	/* the task is complete and its handle gone; these must be harmless */
	volt_waker_wake_by_ref(&kept[0]);
	volt_waker_drop(&kept[0]);
	volt_waker_wake(&kept[1]);
	vt_sleep_us(2000);
	CHECK_EQ(atomic_load(&polls), 1); /* never polled after READY */
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1);
}

VOLT_RT_TEST(waker_outlives_cancelled_task)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct keep_fut f = { VOLT_FUTURE_INIT(&keep_ops), true };
	struct volt_join *j;

	j = vt_spawn(rt, &f, sizeof f, false);
	VT_WAIT_FOR(atomic_load(&polls) == 1);
	volt_join_cancel(j);
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	CHECK_EQ(atomic_load(&drops), 1);
	volt_waker_wake_by_ref(&kept[0]);
	volt_waker_wake(&kept[0]);
	vt_sleep_us(2000);
	CHECK_EQ(atomic_load(&polls), 1); /* a cancelled task is not polled again */
	volt_waker_drop(&kept[1]);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1);
}
