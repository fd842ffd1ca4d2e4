/* SPDX-License-Identifier: MIT */
/*
 * primitives/watch.c: volt_watch. Value, version and the line of waiting
 * receivers under one mutex; a send bumps the version and wakes the whole
 * line (under the lock, so a receiver arriving meanwhile compares against
 * the new version instead of waiting for a wake it would not get).
 */
#include <errno.h>

#include "core/waitlist.h"
#include "primitives/sync_internal.h"

enum { IDLE = 0, QUEUED, WOKEN };

int volt_watch_init(struct volt_watch *w, void *initial)
{
	w->version = 0;
	w->value = initial;
	w->closed = false;
	w->waiters.head = w->waiters.tail = NULL;
	return -pthread_mutex_init(&w->lock, NULL);
}

void volt_watch_destroy(struct volt_watch *w)
{
	pthread_mutex_destroy(&w->lock);
}

int volt_watch_send(struct volt_watch *w, void *value)
{
	int ret = VOLT_CHAN_OK;

	pthread_mutex_lock(&w->lock);
	if (w->closed) {
		ret = VOLT_CHAN_CLOSED;
	} else {
		w->value = value;
		w->version++;
		volt__waitlist_wake_all_locked(&w->waiters, WOKEN);
	}
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void volt_watch_close(struct volt_watch *w)
{
	pthread_mutex_lock(&w->lock);
	w->closed = true;
	volt__waitlist_wake_all_locked(&w->waiters, WOKEN);
	pthread_mutex_unlock(&w->lock);
}

void volt_watch_subscribe(struct volt_watch *w, struct volt_watch_rx *rx)
{
	rx->watch = w;
	pthread_mutex_lock(&w->lock);
	rx->seen = w->version;
	pthread_mutex_unlock(&w->lock);
}

void *volt_watch_borrow(struct volt_watch_rx *rx)
{
	void *v;

	pthread_mutex_lock(&rx->watch->lock);
	v = rx->watch->value;
	rx->seen = rx->watch->version;
	pthread_mutex_unlock(&rx->watch->lock);
	return v;
}

bool volt_watch_has_changed(struct volt_watch_rx *rx)
{
	bool changed;

	pthread_mutex_lock(&rx->watch->lock);
	changed = rx->seen != rx->watch->version;
	pthread_mutex_unlock(&rx->watch->lock);
	return changed;
}

static enum volt_poll changed_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_watch_changed *c = (struct volt_watch_changed *)f;
	struct volt_watch *w = c->rx->watch;
	int ret = 1;

	pthread_mutex_lock(&w->lock);
	if (c->rx->seen != w->version) {
		ret = VOLT_CHAN_OK;
	} else if (w->closed) {
		ret = VOLT_CHAN_CLOSED;
	} else if (volt__wstate(&c->waiter) == QUEUED) {
		volt__waiter_set_waker(&c->waiter, &cx->waker);
	} else {
		volt_waker_drop(&c->waiter.waker);
		c->waiter.waker = volt_waker_clone(&cx->waker);
		volt__waitlist_push(&w->waiters, &c->waiter);
		volt__wstate_set(&c->waiter, QUEUED);
	}
	if (ret != 1 && volt__wstate(&c->waiter) == QUEUED)
		volt__waitlist_remove(&w->waiters, &c->waiter);
	if (ret != 1)
		volt__wstate_set(&c->waiter, IDLE);
	pthread_mutex_unlock(&w->lock);
	if (ret == 1)
		return VOLT_PENDING;
	c->result = ret;
	return VOLT_READY;
}

static void changed_drop(struct volt_future *f)
{
	struct volt_watch_changed *c = (struct volt_watch_changed *)f;
	struct volt_watch *w = c->rx->watch;
	struct volt_waker mine;

	pthread_mutex_lock(&w->lock);
	if (volt__wstate(&c->waiter) == QUEUED)
		volt__waitlist_remove(&w->waiters, &c->waiter);
	volt__wstate_set(&c->waiter, IDLE);
	mine = c->waiter.waker;
	c->waiter.waker.ops = NULL;
	pthread_mutex_unlock(&w->lock);
	volt_waker_drop(&mine);
}

static const struct volt_future_ops changed_ops = { .poll = changed_poll, .drop = changed_drop };

struct volt_future *volt_watch_changed(struct volt_watch_changed *f, struct volt_watch_rx *rx)
{
	volt_future_init(&f->base, &changed_ops);
	f->rx = rx;
	f->waiter = (struct volt_waiter){ .state = IDLE };
	f->result = -EINPROGRESS;
	return &f->base;
}

int volt_watch_changed_blocking(struct volt_watch_rx *rx)
{
	struct volt_watch_changed f;

	return volt__sync_block(volt_watch_changed(&f, rx), &f.result);
}
