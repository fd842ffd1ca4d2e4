/* SPDX-License-Identifier: MIT */
/*
 * core/waitlist.h: a FIFO of intrusive waiters (struct volt_waiter), guarded
 * by the owning primitive's lock. Wakers are moved out of the nodes under
 * the lock and woken after it is released: a node may belong to a future
 * that completes and vanishes the moment it sees the primitive's new state,
 * but the moved-out waker is a reference of our own.
 */
#ifndef VOLT_CORE_WAITLIST_H
#define VOLT_CORE_WAITLIST_H

#include <pthread.h>
#include <volt.h>

static inline void volt__waitlist_push(struct volt_waitlist *l, struct volt_waiter *w)
{
	w->next = NULL;
	w->prev = l->tail;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
	w->linked = 1;
}

static inline void volt__waitlist_remove(struct volt_waitlist *l, struct volt_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		l->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		l->tail = w->prev;
	w->prev = w->next = NULL;
	w->linked = 0;
}

/* Stores (or refreshes) the waker a waiter will be woken with. */
static inline void volt__waiter_set_waker(struct volt_waiter *w, const struct volt_waker *waker)
{
	if (w->waker.ops && volt_waker_will_wake(&w->waker, waker))
		return;
	volt_waker_drop(&w->waker);
	w->waker = volt_waker_clone(waker);
}

/*
 * Unlinks up to max waiters from the front, marks each with `state` and
 * moves its waker into out[]. Returns how many. Under the owner's lock.
 */
unsigned volt__waitlist_take(struct volt_waitlist *l, uint32_t state, struct volt_waker *out,
			     unsigned max);

/*
 * Unlinks every waiter, marks it with `state`, and wakes them all; called
 * with *lock held, returns with it held (it is dropped around each batch of
 * wakes, so the owner must outlive the call: a primitive the caller uses).
 */
void volt__waitlist_wake_all(struct volt_waitlist *l, pthread_mutex_t *lock, uint32_t state);

/*
 * As volt__waitlist_wake_all, but wakes with the lock held: for an owner
 * that a woken waiter may free as soon as the lock is released (a group).
 */
void volt__waitlist_wake_all_locked(struct volt_waitlist *l, uint32_t state);

#endif /* VOLT_CORE_WAITLIST_H */
