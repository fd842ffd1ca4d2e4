/* SPDX-License-Identifier: MIT */
/* core/waitlist.c: moving wakers out of a wait list, and waking them outside the lock. */
#include "core/waitlist.h"

#define WAKE_BATCH 32

unsigned volt__waitlist_take(struct volt_waitlist *l, uint32_t state, struct volt_waker *out,
			     unsigned max)
{
	unsigned n = 0;

	while (l->head && n < max) {
		struct volt_waiter *w = l->head;

		volt__waitlist_remove(l, w);
		__atomic_store_n(&w->state, state, __ATOMIC_RELAXED); /* owners may look unlocked */
		out[n++] = w->waker;
		w->waker.ops = NULL;
	}
	return n;
}

static void wake_batch(struct volt_waker *batch, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (batch[i].ops)
			volt_waker_wake(&batch[i]);
}

void volt__waitlist_wake_all(struct volt_waitlist *l, pthread_mutex_t *lock, uint32_t state)
{
	struct volt_waker batch[WAKE_BATCH];

	while (l->head) {
		unsigned n = volt__waitlist_take(l, state, batch, WAKE_BATCH);

		pthread_mutex_unlock(lock);
		wake_batch(batch, n);
		pthread_mutex_lock(lock);
	}
}

void volt__waitlist_wake_all_locked(struct volt_waitlist *l, uint32_t state)
{
	struct volt_waker batch[WAKE_BATCH];

	while (l->head)
		wake_batch(batch, volt__waitlist_take(l, state, batch, WAKE_BATCH));
}
