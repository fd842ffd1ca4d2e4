/* SPDX-License-Identifier: MIT */
/*
 * primitives/barrier.c: volt_barrier. Arrivals are counted under the lock;
 * the arrival that completes the count is the leader: it starts the next
 * round and wakes the round's waiters. A waiter cancelled before its round
 * completes is taken out of the count, so the round waits for a
 * replacement instead of completing one party short.
 */
#include <errno.h>

#include "core/waitlist.h"
#include "primitives/sync_internal.h"

enum { IDLE = 0, QUEUED, DONE };

int volt_barrier_init(struct volt_barrier *b, uint32_t n)
{
	if (!b || !n)
		return -EINVAL;
	b->parties = n;
	b->arrived = 0;
	b->round = 0;
	b->waiters.head = b->waiters.tail = NULL;
	return -pthread_mutex_init(&b->lock, NULL);
}

void volt_barrier_destroy(struct volt_barrier *b)
{
	pthread_mutex_destroy(&b->lock);
}

int volt_barrier_wait_with(struct volt_barrier *b, struct volt_barrier_waiter *w,
			   const struct volt_waker *waker)
{
	int ret = 1;

	pthread_mutex_lock(&b->lock);
	switch (volt__wstate(&w->w)) {
	case IDLE:
		if (++b->arrived == b->parties) {
			b->arrived = 0;
			b->round++;
			w->leader = true;
			/* woken under the lock: a waiter of the next round is not */
			volt__waitlist_wake_all_locked(&b->waiters, DONE);
			ret = 0;
			break;
		}
		w->leader = false;
		w->round = b->round;
		w->w.waker = volt_waker_clone(waker);
		volt__waitlist_push(&b->waiters, &w->w);
		volt__wstate_set(&w->w, QUEUED);
		break;
	case QUEUED:
		volt__waiter_set_waker(&w->w, waker);
		break;
	default: /* DONE */
		volt__wstate_set(&w->w, IDLE);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void volt_barrier_wait_cancel(struct volt_barrier *b, struct volt_barrier_waiter *w)
{
	struct volt_waker mine;

	if (volt__wstate(&w->w) == IDLE)
		return;
	pthread_mutex_lock(&b->lock);
	if (volt__wstate(&w->w) == QUEUED) {
		volt__waitlist_remove(&b->waiters, &w->w);
#ifndef VOLT_MUTANT_BARRIER_CANCEL_KEEPS_COUNT /* planted bug (tests/model): still counted */
		b->arrived--; /* its round has not completed: it no longer counts */
#endif
	}
	volt__wstate_set(&w->w, IDLE);
	mine = w->w.waker;
	w->w.waker.ops = NULL;
	pthread_mutex_unlock(&b->lock);
	volt_waker_drop(&mine);
}

static enum volt_poll barrier_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_barrier_wait *bw = (struct volt_barrier_wait *)f;

	if (volt_barrier_wait_with(bw->barrier, &bw->waiter, &cx->waker))
		return VOLT_PENDING;
	bw->leader = bw->waiter.leader;
	return VOLT_READY;
}

static void barrier_drop(struct volt_future *f)
{
	struct volt_barrier_wait *bw = (struct volt_barrier_wait *)f;

	volt_barrier_wait_cancel(bw->barrier, &bw->waiter);
}

static const struct volt_future_ops barrier_ops = { .poll = barrier_poll, .drop = barrier_drop };

struct volt_future *volt_barrier_wait(struct volt_barrier_wait *f, struct volt_barrier *b)
{
	volt_future_init(&f->base, &barrier_ops);
	f->barrier = b;
	f->waiter = (struct volt_barrier_waiter){ .leader = false };
	f->leader = false;
	return &f->base;
}

int volt_barrier_wait_blocking(struct volt_barrier *b)
{
	struct volt_barrier_wait f;
	int ret = volt_block_on(NULL, volt_barrier_wait(&f, b), NULL);

	return ret ? ret : f.leader;
}
