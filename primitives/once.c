/* SPDX-License-Identifier: MIT */
/*
 * primitives/once.c: volt_once, a cell set once.
 *
 * The state word goes EMPTY -> INITIALISING (one CAS: the caller that wins
 * it runs init or stores the value) -> SET (a release store, after the
 * value). get is one acquire load. Callers that find INITIALISING queue
 * under the lock, after checking the state again there; the initialiser
 * takes the lock after its store, so a waiter either sees the new state or
 * is in line when the initialiser wakes the line. If init fails the state
 * goes back to EMPTY and only the first waiter is woken, to run its own
 * init (the rest wait for its outcome); a waiter woken for that turn and
 * dropped before using it passes the turn on.
 */
#include <errno.h>

#include "core/atomic.h"
#include "core/waitlist.h"
#include "primitives/sync_internal.h"

enum { EMPTY = 0, INITIALISING, SET = VOLT__ONCE_SET };
enum { IDLE = 0, QUEUED, WOKEN };

static inline _Atomic uint32_t *word(struct volt_once *c)
{
	return (_Atomic uint32_t *)&c->state;
}

int volt_once_init(struct volt_once *c)
{
	atomic_init(word(c), EMPTY);
	c->value = NULL;
	c->waiters.head = c->waiters.tail = NULL;
	return -pthread_mutex_init(&c->lock, NULL);
}

int volt_once_init_with(struct volt_once *c, void *value)
{
	int ret = volt_once_init(c);

	if (!ret) {
		c->value = value;
		atomic_init(word(c), SET);
	}
	return ret;
}

void volt_once_destroy(struct volt_once *c)
{
	pthread_mutex_destroy(&c->lock);
}

/* The winner of EMPTY -> INITIALISING publishes v and wakes the line. */
static void publish(struct volt_once *c, void *v)
{
	c->value = v;
	volt__store(word(c), SET, RELEASE); /* release: get's acquire sees the value */
	pthread_mutex_lock(&c->lock);
	volt__waitlist_wake_all(&c->waiters, &c->lock, WOKEN);
	pthread_mutex_unlock(&c->lock);
}

/* The winner's init failed: back to EMPTY; the first waiter gets the next turn. */
static void give_up(struct volt_once *c)
{
	struct volt_waker next;

	volt__store(word(c), EMPTY, RELEASE);
	pthread_mutex_lock(&c->lock);
	unsigned n = volt__waitlist_take(&c->waiters, WOKEN, &next, 1);

	pthread_mutex_unlock(&c->lock);
	if (n)
		volt_waker_wake(&next);
}

int volt_once_set(struct volt_once *c, void *value)
{
	uint32_t empty = EMPTY;

	/* acq_rel: orders against another initialiser's publish */
	if (!volt__cas(word(c), &empty, INITIALISING, ACQ_REL, ACQUIRE))
		return -EALREADY;
	publish(c, value);
	return 0;
}

/* Under no lock: leaves the line if w is in it (a turn it was woken for is passed on). */
static void leave(struct volt_once *c, struct volt_waiter *w, bool pass_turn)
{
	struct volt_waker mine, next = { NULL, NULL };

	if (volt__wstate(w) == IDLE)
		return;
	pthread_mutex_lock(&c->lock);
	if (volt__wstate(w) == QUEUED)
		volt__waitlist_remove(&c->waiters, w);
#ifdef VOLT_MUTANT_ONCE_CANCEL_DROPS_TURN
	/* planted bug (tests/model): a turn it was woken for is dropped, not passed on */
	(void)pass_turn;
#else
	else if (pass_turn && volt__load(word(c), ACQUIRE) == EMPTY)
		volt__waitlist_take(&c->waiters, WOKEN, &next, 1);
#endif
	volt__wstate_set(w, IDLE);
	mine = w->waker;
	w->waker.ops = NULL;
	pthread_mutex_unlock(&c->lock);
	volt_waker_drop(&mine);
	if (next.ops)
		volt_waker_wake(&next);
}

int volt_once_get_or_init_with(struct volt_once *c, struct volt_waiter *w, volt_once_init_fn init,
			       void *arg, const struct volt_waker *waker, void **out)
{
	for (;;) {
		uint32_t s = volt__load(word(c), ACQUIRE); /* acquire: see volt_once_get */

		if (s == SET) {
			leave(c, w, false);
			*out = c->value;
			return 0;
		}
		if (s == EMPTY) {
			if (!volt__cas(word(c), &s, INITIALISING, ACQ_REL, ACQUIRE))
				continue;
			leave(c, w, false);

			void *v = NULL;
			int ret = init(arg, &v);

			if (ret < 0) {
				give_up(c);
				return ret;
			}
			publish(c, v);
			*out = v;
			return 0;
		}
		/* INITIALISING: wait in line, checking the state again under the lock */
		pthread_mutex_lock(&c->lock);
#ifndef VOLT_MUTANT_ONCE_QUEUE_NO_RECHECK /* planted bug (tests/model): a publish in between missed */
		if (volt__load(word(c), ACQUIRE) != INITIALISING) {
			pthread_mutex_unlock(&c->lock);
			continue;
		}
#endif
		if (volt__wstate(w) == QUEUED) {
			volt__waiter_set_waker(w, waker);
		} else {
			volt_waker_drop(&w->waker);
			w->waker = volt_waker_clone(waker);
			volt__waitlist_push(&c->waiters, w);
			volt__wstate_set(w, QUEUED);
		}
		pthread_mutex_unlock(&c->lock);
		return 1;
	}
}

void volt_once_wait_cancel(struct volt_once *c, struct volt_waiter *w)
{
	leave(c, w, true);
}

static enum volt_poll once_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_once_get_or_init *g = (struct volt_once_get_or_init *)f;
	int ret = volt_once_get_or_init_with(g->cell, &g->waiter, g->init, g->arg, &cx->waker,
					     &g->value);

	if (ret == 1)
		return VOLT_PENDING;
	g->result = ret;
	return VOLT_READY;
}

static void once_drop(struct volt_future *f)
{
	struct volt_once_get_or_init *g = (struct volt_once_get_or_init *)f;

	volt_once_wait_cancel(g->cell, &g->waiter);
}

static const struct volt_future_ops once_ops = { .poll = once_poll, .drop = once_drop };

struct volt_future *volt_once_get_or_init(struct volt_once_get_or_init *f, struct volt_once *c,
					  volt_once_init_fn init, void *arg)
{
	volt_future_init(&f->base, &once_ops);
	f->cell = c;
	f->init = init;
	f->arg = arg;
	f->waiter = (struct volt_waiter){ .state = IDLE };
	f->value = NULL;
	f->result = -EINPROGRESS;
	return &f->base;
}

int volt_once_get_or_init_blocking(struct volt_once *c, volt_once_init_fn init, void *arg,
				   void **out)
{
	struct volt_once_get_or_init f;
	int ret = volt__sync_block(volt_once_get_or_init(&f, c, init, arg), &f.result);

	if (!ret)
		*out = f.value;
	return ret;
}
