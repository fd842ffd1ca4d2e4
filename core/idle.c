/* SPDX-License-Identifier: MIT */
/*
 * core/idle.c: parking and waking workers without losing work.
 *
 * The problem. A worker that finds no work goes to sleep on a futex; a thread
 * that makes work available (spawn, wake) must wake one if nobody else will
 * find the work. Waking on every push would cost a ~20 us futex round trip per
 * task on this machine; never waking would strand work. The design follows
 * Tokio's idle.rs and Go's spinning Ms:
 *
 * - `state` packs two counts: workers not asleep (low half) and workers
 *   searching for work (high half). A pusher that sees a searcher does
 *   nothing: the searcher will find the task. At most half the workers
 *   (cfg.max_searching) may search at once, so a burst of pushes does not
 *   wake everyone. A policy may ask for Go's cap instead: searchers fewer
 *   than half the workers that are awake.
 * - A worker woken by a notifier starts out searching. When a searcher finds
 *   work it stops searching; if it was the last searcher and more work is
 *   queued, it wakes another, so the search passes along a chain instead of
 *   a thundering herd.
 * - Sleepers are a bitmap under a mutex: claiming one is a count-trailing-
 *   zeros, O(1). The mutex is taken only on the paths that are about to make
 *   a futex syscall anyway.
 *
 * The lost-wakeup argument. It is the store-buffering pattern: the pusher
 * does push(task); fence; load(state). The sleeper does RMW(state) [inside
 * volt__idle_sleep]; fence; has_work(). With a seq_cst fence between the
 * store and the load on both sides, the two loads cannot both miss the
 * other side's store: either the pusher sees the sleeper (and, no searcher
 * being present, wakes one), or has_work() sees the task and the sleeper
 * cancels its sleep. A searcher leaving the search runs the sleeper's
 * pattern (RMW, fence, has_work).
 *
 * Why a fence and not an RMW on the pusher's side: every spawn, wake and
 * yield notifies, and an RMW would pull this line into the pusher's cache
 * exclusively each time; with every worker busy, the line would bounce
 * between cores (about 0.5 us a round trip on this machine) on every task
 * switch. A fence costs the same as an uncontended RMW and leaves the line
 * shared; the line is written only when a worker sleeps, wakes or starts or
 * stops searching.
 */
#include <errno.h>

#include "core/futex.h"
#include "core/rt.h"

#ifdef VOLT__TSAN
_Atomic unsigned volt__fence_word;
#endif

#define UNPARKED_ONE 1ull
#define SEARCHING_ONE (1ull << 32)

static unsigned unparked(uint64_t s)
{
	return (uint32_t)s;
}

static unsigned searching(uint64_t s)
{
	return (unsigned)(s >> 32);
}

int volt__idle_init(struct volt__idle *idle, unsigned nworkers, unsigned max_searching,
		    bool cap_busy)
{
	atomic_init(&idle->state, (uint64_t)nworkers);
	idle->sleeping = 0;
	idle->nworkers = nworkers;
	/* default: fewer than half search, as Tokio's 2 * searching < workers */
	idle->max_searching = max_searching ? max_searching : (nworkers + 1) / 2;
	idle->cap_busy = cap_busy && !max_searching;
	return -pthread_mutex_init(&idle->lock, NULL);
}

void volt__idle_fini(struct volt__idle *idle)
{
	pthread_mutex_destroy(&idle->lock);
}

void volt__idle_notify(struct volt_rt *rt)
{
	struct volt__idle *idle = &rt->idle;

	volt__fence_sc(); /* see the lost-wakeup argument above */
	/* relaxed: ordered by the fence; a stale value only costs a lock below */
	uint64_t s = volt__load(&idle->state, RELAXED);

	if (searching(s) || unparked(s) >= idle->nworkers)
		return;

	pthread_mutex_lock(&idle->lock);
	s = volt__load(&idle->state, ACQUIRE);
	if (!idle->sleeping || searching(s)) {
		pthread_mutex_unlock(&idle->lock);
		return;
	}
	unsigned w = (unsigned)__builtin_ctzll(idle->sleeping);

	idle->sleeping &= ~(1ull << w);
	volt__fetch_add(&idle->state, UNPARKED_ONE | SEARCHING_ONE, ACQ_REL);
	pthread_mutex_unlock(&idle->lock);
	volt__worker_unpark(rt, w);
}

bool volt__idle_begin_search(struct volt__idle *idle)
{
	/* relaxed: the cap is deliberately sloppy (Tokio's is too) */
	uint64_t s = volt__load(&idle->state, RELAXED);

	if (idle->cap_busy ? 2 * searching(s) >= unparked(s) : searching(s) >= idle->max_searching)
		return false;
	volt__fetch_add(&idle->state, SEARCHING_ONE, ACQ_REL);
	return true;
}

bool volt__idle_end_search(struct volt__idle *idle)
{
	uint64_t prev = volt__fetch_sub(&idle->state, SEARCHING_ONE, ACQ_REL);

	volt__fence_sc(); /* the caller may check has_work() next: see above */
	return searching(prev) == 1;
}

bool volt__idle_sleep(struct volt__idle *idle, unsigned w)
{
	uint64_t prev;

	pthread_mutex_lock(&idle->lock);
	idle->sleeping |= 1ull << w;
	prev = volt__fetch_sub(&idle->state, UNPARKED_ONE, ACQ_REL);
	pthread_mutex_unlock(&idle->lock);
	volt__fence_sc(); /* the caller's has_work() comes next: see above */
	return unparked(prev) == 1;
}

bool volt__idle_cancel_sleep(struct volt__idle *idle, unsigned w)
{
	bool mine;

	pthread_mutex_lock(&idle->lock);
	mine = idle->sleeping & (1ull << w);
	if (mine) {
		idle->sleeping &= ~(1ull << w);
		volt__fetch_add(&idle->state, UNPARKED_ONE | SEARCHING_ONE, ACQ_REL);
	}
	pthread_mutex_unlock(&idle->lock);
	return mine;
}

void volt__idle_wake_all(struct volt_rt *rt)
{
	struct volt__idle *idle = &rt->idle;

	pthread_mutex_lock(&idle->lock);
	while (idle->sleeping) {
		unsigned w = (unsigned)__builtin_ctzll(idle->sleeping);

		idle->sleeping &= ~(1ull << w);
		volt__fetch_add(&idle->state, UNPARKED_ONE | SEARCHING_ONE, ACQ_REL);
		volt__worker_unpark(rt, w);
	}
	pthread_mutex_unlock(&idle->lock);
}
