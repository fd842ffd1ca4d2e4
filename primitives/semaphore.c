/* SPDX-License-Identifier: MIT */
/*
 * primitives/semaphore.c: the batch semaphore under volt_semaphore,
 * volt_mutex and volt_rwlock (after Tokio's sync/batch_semaphore.rs).
 *
 * State. One atomic word: the free permits shifted left by two, WAITERS
 * (the line of waiters is not empty) and CLOSED. The line itself is a FIFO
 * of intrusive waiters under a pthread mutex.
 *
 * The invariant that makes it fair: while anyone waits, the word holds no
 * free permits. A release with WAITERS set takes the lock and hands its
 * permits to the waiters in line, head first, a waiter's request filled in
 * part if need be; only what is left once the line is empty goes back to
 * the word, and WAITERS is cleared in the same CAS. An acquirer that cannot
 * be served takes what is free (only if nobody is in line ahead of it) and
 * sets WAITERS in the same CAS that takes them, under the lock. So a
 * try_acquire, which looks only at the word, never barges past a waiter,
 * and a writer waiting for all the permits of an rwlock is not overtaken by
 * readers arriving after it.
 *
 * Fast paths: try_acquire is one CAS; release without waiters is one CAS
 * (WAITERS clear). The two race only through the word: an acquirer's CAS
 * that sets WAITERS and a release's CAS that adds permits cannot both
 * succeed from the same value, so either the release lands first (and the
 * acquirer, retrying under the lock, sees the permits) or the release sees
 * WAITERS and takes the lock.
 *
 * A waiter's state (QUEUED, GRANTED, CLOSED, back to IDLE when its owner
 * sees the outcome) changes under the lock only, and its owner reads it
 * under the lock; wakers are moved out under the lock and woken after it.
 * Cancelling a queued waiter gives back the permits it was handed; a
 * waiter granted all its permits but dropped before it noticed gives back
 * all of them.
 */
#include <errno.h>

#include "core/atomic.h"
#include "core/waitlist.h"
#include "primitives/sync_internal.h"

#define CLOSED 1ull
#define WAITERS 2ull
#define SHIFT 2

enum { IDLE = 0, QUEUED, GRANTED, CLOSED_W };

#define WAKE_BATCH 32

static inline _Atomic uint64_t *word(struct volt_semaphore *s)
{
	return (_Atomic uint64_t *)&s->permits;
}

int volt_semaphore_init(struct volt_semaphore *s, uint32_t permits)
{
	if (!s || permits > VOLT_SEMAPHORE_MAX)
		return -EINVAL;
	atomic_init(word(s), (uint64_t)permits << SHIFT);
	s->waiters.head = s->waiters.tail = NULL;
	return -pthread_mutex_init(&s->lock, NULL);
}

void volt_semaphore_destroy(struct volt_semaphore *s)
{
	if (s)
		pthread_mutex_destroy(&s->lock);
}

int volt_semaphore_try_acquire(struct volt_semaphore *s, uint32_t n)
{
	if (!n || n > VOLT_SEMAPHORE_MAX)
		return -EINVAL;

	/* relaxed: the CAS below orders what matters */
	uint64_t cur = volt__load(word(s), RELAXED);

	for (;;) {
		if (cur & CLOSED)
			return -EPIPE;
		if ((cur >> SHIFT) < n)
			return -EAGAIN;
		/* acquire: pairs with the release that freed these permits */
		if (volt__cas(word(s), &cur, cur - ((uint64_t)n << SHIFT), ACQUIRE, RELAXED))
			return 0;
	}
}

uint32_t volt_semaphore_available(struct volt_semaphore *s)
{
	return (uint32_t)(volt__load(word(s), RELAXED) >> SHIFT); /* relaxed: a snapshot */
}

/*
 * Under the lock: hands up to *n permits to the waiters in line, moving
 * the wakers of those it fills into out[] (at most WAKE_BATCH); returns
 * with *n what is left. If the line empties, the rest goes back to the word
 * and WAITERS is cleared.
 */
static unsigned hand_out(struct volt_semaphore *s, uint64_t *n, struct volt_waker *out)
{
	unsigned woken = 0;

	while (*n && s->waiters.head && woken < WAKE_BATCH) {
		struct volt_sem_waiter *w = (struct volt_sem_waiter *)s->waiters.head;
		uint32_t give = *n < w->missing ? (uint32_t)*n : w->missing;

		w->missing -= give;
		*n -= give;
		if (w->missing)
			break;
		volt__waitlist_remove(&s->waiters, &w->w);
		volt__wstate_set(&w->w, GRANTED);
		out[woken++] = w->w.waker;
		w->w.waker.ops = NULL;
	}
	if (!s->waiters.head) {
		/* relaxed: under the lock; the CAS publishes */
		uint64_t cur = volt__load(word(s), RELAXED);

		/* release: pairs with the acquire of whoever takes these permits */
		while (!volt__cas(word(s), &cur, (cur + (*n << SHIFT)) & ~WAITERS, RELEASE, RELAXED))
			;
		*n = 0;
	}
	return woken;
}

static void wake_all(struct volt_waker *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		volt_waker_wake(&w[i]);
}

/* Gives n permits back through the line; called and returns without the lock. */
static void release_slow(struct volt_semaphore *s, uint64_t n)
{
	struct volt_waker batch[WAKE_BATCH];

	while (n) {
		pthread_mutex_lock(&s->lock);
		unsigned woken = hand_out(s, &n, batch);

		pthread_mutex_unlock(&s->lock);
		wake_all(batch, woken);
	}
}

void volt_semaphore_release(struct volt_semaphore *s, uint32_t n)
{
	if (!n)
		return;

	uint64_t cur = volt__load(word(s), RELAXED); /* relaxed: the CAS orders */

#ifdef VOLT_MUTANT_SEM_RELEASE_IGNORES_WAITERS
	/* planted bug (tests/model): the fast path adds the permits to the word
	 * even with WAITERS set, so the waiters in line are never handed them */
	while (!volt__cas(word(s), &cur, cur + ((uint64_t)n << SHIFT), RELEASE, RELAXED))
		;
	return;
#endif
	while (!(cur & WAITERS)) {
		/* release: pairs with the acquire of whoever takes these permits */
		if (volt__cas(word(s), &cur, cur + ((uint64_t)n << SHIFT), RELEASE, RELAXED))
			return;
	}
	release_slow(s, n);
}

void volt_semaphore_close(struct volt_semaphore *s)
{
	struct volt_waker batch[WAKE_BATCH];
	uint64_t back = 0;

	pthread_mutex_lock(&s->lock);
	volt__fetch_or(word(s), CLOSED, ACQ_REL); /* no waiter queues after this */
	while (s->waiters.head) {
		unsigned n = 0;

		while (s->waiters.head && n < WAKE_BATCH) {
			struct volt_sem_waiter *w = (struct volt_sem_waiter *)s->waiters.head;

			back += w->requested - w->missing; /* what it had been handed */
			volt__waitlist_remove(&s->waiters, &w->w);
			volt__wstate_set(&w->w, CLOSED_W);
			batch[n++] = w->w.waker;
			w->w.waker.ops = NULL;
		}
		pthread_mutex_unlock(&s->lock);
		wake_all(batch, n);
		pthread_mutex_lock(&s->lock);
	}

	uint64_t cur = volt__load(word(s), RELAXED); /* relaxed: under the lock */

	while (!volt__cas(word(s), &cur, (cur + (back << SHIFT)) & ~WAITERS, RELEASE, RELAXED))
		;
	pthread_mutex_unlock(&s->lock);
}

/* Under the lock, a new request: 0 (granted), 1 (queued), -EPIPE. */
static int enqueue_or_take(struct volt_semaphore *s, struct volt_sem_waiter *w,
			   const struct volt_waker *waker)
{
	uint64_t cur = volt__load(word(s), RELAXED); /* relaxed: the CAS orders */

	for (;;) {
		if (cur & CLOSED)
			return -EPIPE;

		uint64_t free_permits = cur >> SHIFT;

		if (!s->waiters.head && free_permits >= w->missing) {
			/* acquire: pairs with the release that freed them */
			if (volt__cas(word(s), &cur, cur - ((uint64_t)w->missing << SHIFT), ACQUIRE,
				      RELAXED)) {
				w->missing = 0;
				return 0;
			}
			continue;
		}
		/* take what is free if nobody is ahead, and raise WAITERS, in one CAS */
		uint64_t take = s->waiters.head ? 0 : free_permits;

		if (volt__cas(word(s), &cur, (cur - (take << SHIFT)) | WAITERS, ACQ_REL, RELAXED)) {
			w->missing -= (uint32_t)take;
			break;
		}
	}
	w->w.waker = volt_waker_clone(waker);
	volt__waitlist_push(&s->waiters, &w->w);
	volt__wstate_set(&w->w, QUEUED);
	return 1;
}

int volt_semaphore_acquire_with(struct volt_semaphore *s, struct volt_sem_waiter *w, uint32_t n,
				const struct volt_waker *waker)
{
	int ret;

	if (volt__wstate(&w->w) == IDLE) {
		if (!n || n > VOLT_SEMAPHORE_MAX)
			return -EINVAL;
		ret = volt_semaphore_try_acquire(s, n);
		if (ret != -EAGAIN)
			return ret;
		w->requested = w->missing = n;
		pthread_mutex_lock(&s->lock);
		ret = enqueue_or_take(s, w, waker);
		pthread_mutex_unlock(&s->lock);
		return ret;
	}
	pthread_mutex_lock(&s->lock);
	switch (volt__wstate(&w->w)) {
	case GRANTED:
		ret = 0;
		volt__wstate_set(&w->w, IDLE);
		break;
	case CLOSED_W:
		ret = -EPIPE;
		volt__wstate_set(&w->w, IDLE);
		break;
	default: /* QUEUED */
		volt__waiter_set_waker(&w->w, waker);
		ret = 1;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void volt_semaphore_acquire_cancel(struct volt_semaphore *s, struct volt_sem_waiter *w)
{
	struct volt_waker mine = { NULL, NULL };
	uint64_t back = 0;

	if (volt__wstate(&w->w) == IDLE)
		return; /* never queued, or its outcome already seen */
	pthread_mutex_lock(&s->lock);
	if (volt__wstate(&w->w) == QUEUED) {
		volt__waitlist_remove(&s->waiters, &w->w);
#ifndef VOLT_MUTANT_SEM_CANCEL_KEEPS_HANDED /* planted bug (tests/model): a partial grant kept */
		back = w->requested - w->missing;
#endif
		if (!s->waiters.head) {
			uint64_t cur = volt__load(word(s), RELAXED); /* relaxed: under the lock */

			while (!volt__cas(word(s), &cur, cur & ~WAITERS, RELEASE, RELAXED))
				;
		}
	} else if (volt__wstate(&w->w) == GRANTED) {
#ifndef VOLT_MUTANT_SEM_CANCEL_GRANTED_LEAKS /* planted bug (tests/model): a grant never seen is lost */
		back = w->requested; /* handed everything, never seen: give it all back */
#endif
	}
	mine = w->w.waker;
	w->w.waker.ops = NULL;
	volt__wstate_set(&w->w, IDLE);
	pthread_mutex_unlock(&s->lock);
	volt_waker_drop(&mine);
	if (back)
		volt_semaphore_release(s, (uint32_t)back);
}

/* ---- the future and blocking forms, shared with volt_mutex and volt_rwlock */

static enum volt_poll acquire_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_acquire *a = (struct volt_acquire *)f;
	int ret;

	if (!volt_budget_take(cx)) {
		volt_waker_wake_by_ref(&cx->waker);
		return VOLT_PENDING;
	}
	ret = volt_semaphore_acquire_with(a->sem, &a->waiter, a->n, &cx->waker);
	if (ret == 1)
		return VOLT_PENDING;
	a->result = ret;
	return VOLT_READY;
}

static void acquire_drop(struct volt_future *f)
{
	struct volt_acquire *a = (struct volt_acquire *)f;

	volt_semaphore_acquire_cancel(a->sem, &a->waiter);
}

static const struct volt_future_ops acquire_ops = { .poll = acquire_poll, .drop = acquire_drop };

struct volt_future *volt_semaphore_acquire(struct volt_acquire *a, struct volt_semaphore *s,
					   uint32_t n)
{
	volt_future_init(&a->base, &acquire_ops);
	a->sem = s;
	a->waiter = (struct volt_sem_waiter){ .requested = 0 };
	a->n = n;
	a->result = -EINPROGRESS;
	return &a->base;
}

int volt__sync_block(struct volt_future *f, const int *result)
{
	int ret = volt_block_on(NULL, f, NULL);

	return ret ? ret : *result;
}

int volt_semaphore_acquire_blocking(struct volt_semaphore *s, uint32_t n)
{
	struct volt_acquire a;

	return volt__sync_block(volt_semaphore_acquire(&a, s, n), &a.result);
}
