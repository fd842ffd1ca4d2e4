/* SPDX-License-Identifier: MIT */
/*
 * primitives/notify.c: volt_notify.
 *
 * One atomic word holds PERMIT (a notify_one nobody was waiting for) and
 * WAITERS (the line is not empty); the line is a FIFO under a mutex. The
 * word lets the common cases go without the lock: notify_one with nobody
 * waiting sets PERMIT in one CAS, and a wait that finds PERMIT clears it in
 * one CAS. A waiter raises WAITERS in a CAS under the lock, from a value
 * without PERMIT; so a notify_one racing with it either lands its PERMIT
 * first (the waiter's CAS fails, and it takes the permit instead of
 * queueing) or sees WAITERS and takes the lock to wake the first waiter.
 *
 * Lost permits (the historical bug). A waiter that notify_one chose, but
 * that is dropped before it sees the notification, passes it on: to the
 * next waiter, or back into PERMIT. notify_all marks the waiters in line at
 * the call and wakes them under the lock, so a waiter arriving during the
 * call is not woken by it; it stores no permit.
 */
#include "core/atomic.h"
#include "core/waitlist.h"
#include "primitives/sync_internal.h"

#define PERMIT 1u
#define WAITERS 2u

enum { IDLE = 0, QUEUED, NOTIFIED_ONE, NOTIFIED_ALL };

static inline _Atomic uint32_t *word(struct volt_notify *n)
{
	return (_Atomic uint32_t *)&n->state;
}

int volt_notify_init(struct volt_notify *n)
{
	atomic_init(word(n), 0);
	n->waiters.head = n->waiters.tail = NULL;
	return -pthread_mutex_init(&n->lock, NULL);
}

void volt_notify_destroy(struct volt_notify *n)
{
	pthread_mutex_destroy(&n->lock);
}

/* Under the lock: clears WAITERS once the line is empty. */
static void waiters_gone(struct volt_notify *n)
{
	if (!n->waiters.head)
		volt__fetch_and(word(n), ~WAITERS, RELEASE);
}

/* Under the lock: the first waiter gets the notification (its waker to *out), or PERMIT is set. */
static void notify_one_locked(struct volt_notify *n, struct volt_waker *out)
{
	struct volt_waiter *w = n->waiters.head;

	if (!w) {
		volt__fetch_or(word(n), PERMIT, RELEASE);
		return;
	}
	volt__waitlist_remove(&n->waiters, w);
	waiters_gone(n);
	volt__wstate_set(w, NOTIFIED_ONE);
	*out = w->waker;
	w->waker.ops = NULL;
}

void volt_notify_one(struct volt_notify *n)
{
	struct volt_waker wake = { NULL, NULL };
	uint32_t cur = volt__load(word(n), RELAXED); /* relaxed: the CAS orders */

	while (!(cur & WAITERS)) {
		if (cur & PERMIT)
			return; /* one stored permit at most */
		/* release: pairs with the acquire of the wait that takes it */
		if (volt__cas(word(n), &cur, cur | PERMIT, RELEASE, RELAXED))
			return;
	}
	pthread_mutex_lock(&n->lock);
	notify_one_locked(n, &wake);
	pthread_mutex_unlock(&n->lock);
	if (wake.ops)
		volt_waker_wake(&wake);
}

void volt_notify_all(struct volt_notify *n)
{
	/* acquire: a waiter queued before this call is seen (its CAS raised WAITERS) */
	if (!(volt__load(word(n), ACQUIRE) & WAITERS))
		return;
	pthread_mutex_lock(&n->lock);
	/* woken under the lock: a waiter that arrives meanwhile is not in this call */
	volt__waitlist_wake_all_locked(&n->waiters, NOTIFIED_ALL);
	waiters_gone(n);
	pthread_mutex_unlock(&n->lock);
}

/* Takes the stored permit if there is one. */
static bool take_permit(struct volt_notify *n)
{
	uint32_t cur = volt__load(word(n), RELAXED); /* relaxed: the CAS orders */

	while (cur & PERMIT) {
		/* acquire: pairs with the release of the notify that stored it */
		if (volt__cas(word(n), &cur, cur & ~PERMIT, ACQUIRE, RELAXED))
			return true;
	}
	return false;
}

int volt_notify_wait_with(struct volt_notify *n, struct volt_waiter *w,
			  const struct volt_waker *waker)
{
	int ret = 1;

	if (volt__wstate(w) == IDLE) {
		if (take_permit(n))
			return 0;
		pthread_mutex_lock(&n->lock);
		uint32_t cur = volt__load(word(n), RELAXED); /* relaxed: the CAS orders */

		for (;;) {
#ifdef VOLT_MUTANT_NOTIFY_WAIT_NO_CAS
			/* planted bug (tests/model): WAITERS raised with a plain store of
			 * the value read, so a notify_one's PERMIT stored since then is
			 * overwritten and lost (the CAS below then succeeds) */
			if (!(cur & PERMIT)) {
				cur |= WAITERS;
				volt__store(word(n), cur, RELEASE);
			}
#endif
			if (cur & PERMIT) {
				if (volt__cas(word(n), &cur, cur & ~PERMIT, ACQUIRE, RELAXED)) {
					ret = 0;
					break;
				}
			} else if (volt__cas(word(n), &cur, cur | WAITERS, ACQ_REL, RELAXED)) {
				w->waker = volt_waker_clone(waker);
				volt__waitlist_push(&n->waiters, w);
				volt__wstate_set(w, QUEUED);
				break;
			}
		}
		pthread_mutex_unlock(&n->lock);
		return ret;
	}
	pthread_mutex_lock(&n->lock);
	if (volt__wstate(w) == QUEUED) {
		volt__waiter_set_waker(w, waker);
	} else {
		volt__wstate_set(w, IDLE); /* notified, by one or all */
		ret = 0;
	}
	pthread_mutex_unlock(&n->lock);
	return ret;
}

void volt_notify_wait_cancel(struct volt_notify *n, struct volt_waiter *w)
{
	struct volt_waker pass = { NULL, NULL }, mine;

	if (volt__wstate(w) == IDLE)
		return;
	pthread_mutex_lock(&n->lock);
	if (volt__wstate(w) == QUEUED) {
		volt__waitlist_remove(&n->waiters, w);
		waiters_gone(n);
	} else if (volt__wstate(w) == NOTIFIED_ONE) {
#ifndef VOLT_MUTANT_NOTIFY_CANCEL_DROPS_PERMIT /* planted bug (tests/model): not passed on */
		notify_one_locked(n, &pass); /* chosen but never saw it: pass it on */
#endif
	}
	volt__wstate_set(w, IDLE);
	mine = w->waker;
	w->waker.ops = NULL;
	pthread_mutex_unlock(&n->lock);
	volt_waker_drop(&mine);
	if (pass.ops)
		volt_waker_wake(&pass);
}

static enum volt_poll notified_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_notified *nf = (struct volt_notified *)f;

	if (!volt_budget_take(cx)) {
		volt_waker_wake_by_ref(&cx->waker);
		return VOLT_PENDING;
	}
	return volt_notify_wait_with(nf->notify, &nf->waiter, &cx->waker) ? VOLT_PENDING
									   : VOLT_READY;
}

static void notified_drop(struct volt_future *f)
{
	struct volt_notified *nf = (struct volt_notified *)f;

	volt_notify_wait_cancel(nf->notify, &nf->waiter);
}

static const struct volt_future_ops notified_ops = { .poll = notified_poll,
						     .drop = notified_drop };

struct volt_future *volt_notify_wait(struct volt_notified *f, struct volt_notify *n)
{
	volt_future_init(&f->base, &notified_ops);
	f->notify = n;
	f->waiter = (struct volt_waiter){ .state = IDLE };
	return &f->base;
}

int volt_notify_wait_blocking(struct volt_notify *n)
{
	struct volt_notified f;
	static const int ok = 0;

	return volt__sync_block(volt_notify_wait(&f, n), &ok);
}
