/* SPDX-License-Identifier: MIT */
/*
 * primitives/broadcast.c: volt_broadcast. A ring of the last `capacity`
 * messages with their sequence numbers, one cursor per receiver, and the
 * line of waiting receivers, all under one mutex. A send writes the next
 * slot and wakes the whole line under the lock (the lost wakeup of tokio
 * #2123 was a wake outside it). Sequence numbers are 64-bit and never wrap
 * in practice; a lag is the distance from the receiver's cursor to the
 * oldest message retained.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/waitlist.h"
#include "primitives/sync_internal.h"

enum { IDLE = 0, QUEUED, WOKEN };

struct volt_broadcast {
	pthread_mutex_t lock;
	uint64_t tail;      /* sequence number of the next message */
	size_t cap;
	unsigned receivers;
	bool closed;
	struct volt_waitlist waiters;
	void **ring;        /* message seq is at ring[seq % cap] while seq >= tail - cap */
};

int volt_broadcast_new(size_t capacity, struct volt_broadcast **out)
{
	struct volt_broadcast *b;

	/* the max keeps capacity x sizeof(void *) inside size_t */
	if (!out || !capacity || capacity > VOLT_BROADCAST_CAPACITY_MAX)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ring = calloc(capacity, sizeof(void *));
	if (!b->ring || pthread_mutex_init(&b->lock, NULL)) {
		free(b->ring);
		free(b);
		return -ENOMEM;
	}
	b->cap = capacity;
	*out = b;
	return 0;
}

void volt_broadcast_free(struct volt_broadcast *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->ring);
	free(b);
}

int volt_broadcast_send(struct volt_broadcast *b, void *value)
{
	int ret = VOLT_CHAN_OK;

	pthread_mutex_lock(&b->lock);
	if (b->closed || !b->receivers) {
		ret = VOLT_CHAN_CLOSED;
	} else {
		b->ring[b->tail % b->cap] = value;
		b->tail++;
		volt__waitlist_wake_all_locked(&b->waiters, WOKEN);
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void volt_broadcast_close(struct volt_broadcast *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = true;
	volt__waitlist_wake_all_locked(&b->waiters, WOKEN);
	pthread_mutex_unlock(&b->lock);
}

void volt_broadcast_subscribe(struct volt_broadcast *b, struct volt_broadcast_rx *rx)
{
	pthread_mutex_lock(&b->lock);
	rx->b = b;
	rx->next = b->tail;
	b->receivers++;
	pthread_mutex_unlock(&b->lock);
}

void volt_broadcast_unsubscribe(struct volt_broadcast_rx *rx)
{
	pthread_mutex_lock(&rx->b->lock);
	rx->b->receivers--;
	pthread_mutex_unlock(&rx->b->lock);
}

/* Under the lock. */
static int take(struct volt_broadcast_rx *rx, void **out, uint64_t *missed)
{
	struct volt_broadcast *b = rx->b;
	uint64_t oldest = b->tail > b->cap ? b->tail - b->cap : 0;

	if (rx->next < oldest) {
		*missed = oldest - rx->next;
		rx->next = oldest;
		return VOLT_CHAN_LAGGED;
	}
	if (rx->next < b->tail) {
		*out = b->ring[rx->next % b->cap];
		rx->next++;
		return VOLT_CHAN_OK;
	}
	return b->closed ? VOLT_CHAN_CLOSED : VOLT_CHAN_EMPTY;
}

int volt_broadcast_try_recv(struct volt_broadcast_rx *rx, void **out, uint64_t *missed)
{
	int ret;

	if (!rx || !out || !missed)
		return -EINVAL;
	pthread_mutex_lock(&rx->b->lock);
	ret = take(rx, out, missed);
	pthread_mutex_unlock(&rx->b->lock);
	return ret;
}

static enum volt_poll recv_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_broadcast_recv *r = (struct volt_broadcast_recv *)f;
	struct volt_broadcast *b = r->rx->b;
	int ret;

	pthread_mutex_lock(&b->lock);
	ret = take(r->rx, &r->value, &r->missed);
	if (ret == VOLT_CHAN_EMPTY) {
		if (volt__wstate(&r->waiter) == QUEUED) {
			volt__waiter_set_waker(&r->waiter, &cx->waker);
		} else {
			volt_waker_drop(&r->waiter.waker);
			r->waiter.waker = volt_waker_clone(&cx->waker);
			volt__waitlist_push(&b->waiters, &r->waiter);
			volt__wstate_set(&r->waiter, QUEUED);
		}
	} else {
		if (volt__wstate(&r->waiter) == QUEUED)
			volt__waitlist_remove(&b->waiters, &r->waiter);
		volt__wstate_set(&r->waiter, IDLE);
	}
	pthread_mutex_unlock(&b->lock);
	if (ret == VOLT_CHAN_EMPTY)
		return VOLT_PENDING;
	r->result = ret;
	return VOLT_READY;
}

static void recv_drop(struct volt_future *f)
{
	struct volt_broadcast_recv *r = (struct volt_broadcast_recv *)f;
	struct volt_broadcast *b = r->rx->b;
	struct volt_waker mine;

	pthread_mutex_lock(&b->lock);
	if (volt__wstate(&r->waiter) == QUEUED)
		volt__waitlist_remove(&b->waiters, &r->waiter);
	volt__wstate_set(&r->waiter, IDLE);
	mine = r->waiter.waker;
	r->waiter.waker.ops = NULL;
	pthread_mutex_unlock(&b->lock);
	volt_waker_drop(&mine);
}

static const struct volt_future_ops recv_ops = { .poll = recv_poll, .drop = recv_drop };

struct volt_future *volt_broadcast_recv(struct volt_broadcast_recv *f, struct volt_broadcast_rx *rx)
{
	volt_future_init(&f->base, &recv_ops);
	f->rx = rx;
	f->waiter = (struct volt_waiter){ .state = IDLE };
	f->value = NULL;
	f->missed = 0;
	f->result = -EINPROGRESS;
	return &f->base;
}

int volt_broadcast_recv_blocking(struct volt_broadcast_rx *rx, void **out, uint64_t *missed)
{
	struct volt_broadcast_recv f;
	int ret;

	if (!rx || !out || !missed)
		return -EINVAL;
	ret = volt__sync_block(volt_broadcast_recv(&f, rx), &f.result);
	*out = f.value;
	*missed = f.missed;
	return ret;
}
