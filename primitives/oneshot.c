/* SPDX-License-Identifier: MIT */
/*
 * primitives/oneshot.c: volt_oneshot. One mutex guards the whole state, so
 * the three-way race of the historical bug (tokio #4225: the receiver
 * closing, the sender sending, the receiver trying to receive, all at once)
 * is a sequence here: whichever of close and send takes the lock first
 * decides, and the value cell is touched under the lock only. The
 * receiver's waker is moved out under the lock and woken after it.
 */
#include <errno.h>

#include "primitives/sync_internal.h"

#define SENT 1u          /* value set */
#define TAKEN 2u         /* value received */
#define SENDER_GONE 4u   /* dropped without sending */
#define RX_CLOSED 8u     /* the receiver closed */

int volt_oneshot_init(struct volt_oneshot *o)
{
	o->state = 0;
	o->value = NULL;
	o->waker.ops = NULL;
	return -pthread_mutex_init(&o->lock, NULL);
}

void volt_oneshot_destroy(struct volt_oneshot *o)
{
	volt_waker_drop(&o->waker);
	pthread_mutex_destroy(&o->lock);
}

/* Sets bits and takes the receiver's waker out, under the lock; wakes after. */
static void settle(struct volt_oneshot *o, uint32_t bits, struct volt_waker *out)
{
	o->state |= bits;
	*out = o->waker;
	o->waker.ops = NULL;
}

int volt_oneshot_send(struct volt_oneshot *o, void *value)
{
	struct volt_waker w = { NULL, NULL };
	int ret = VOLT_CHAN_OK;

	pthread_mutex_lock(&o->lock);
	if (o->state & (SENT | SENDER_GONE)) {
		ret = -EALREADY;
	} else if (o->state & RX_CLOSED) {
		ret = VOLT_CHAN_CLOSED; /* the value stays with the sender */
	} else {
		o->value = value;
		settle(o, SENT, &w);
	}
	pthread_mutex_unlock(&o->lock);
	if (w.ops)
		volt_waker_wake(&w);
	return ret;
}

void volt_oneshot_sender_drop(struct volt_oneshot *o)
{
	struct volt_waker w = { NULL, NULL };

	pthread_mutex_lock(&o->lock);
	if (!(o->state & SENT))
		settle(o, SENDER_GONE, &w);
	pthread_mutex_unlock(&o->lock);
	if (w.ops)
		volt_waker_wake(&w);
}

void volt_oneshot_close(struct volt_oneshot *o)
{
	struct volt_waker w = { NULL, NULL };

	pthread_mutex_lock(&o->lock);
	settle(o, RX_CLOSED, &w);
	pthread_mutex_unlock(&o->lock);
	volt_waker_drop(&w);
}

/* Under the lock. */
static int take(struct volt_oneshot *o, void **out)
{
	if ((o->state & (SENT | TAKEN)) == SENT) {
		o->state |= TAKEN;
		*out = o->value;
		return VOLT_CHAN_OK;
	}
	if (o->state & (TAKEN | SENDER_GONE | RX_CLOSED))
		return VOLT_CHAN_CLOSED;
	return VOLT_CHAN_EMPTY;
}

int volt_oneshot_try_recv(struct volt_oneshot *o, void **out)
{
	int ret;

	if (!o || !out)
		return -EINVAL;
	pthread_mutex_lock(&o->lock);
	ret = take(o, out);
	pthread_mutex_unlock(&o->lock);
	return ret;
}

static enum volt_poll oneshot_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_oneshot_recv *r = (struct volt_oneshot_recv *)f;
	struct volt_oneshot *o = r->o;
	struct volt_waker old = { NULL, NULL };
	int ret;

	pthread_mutex_lock(&o->lock);
	ret = take(o, &r->value);
	if (ret == VOLT_CHAN_EMPTY && !(o->waker.ops && volt_waker_will_wake(&o->waker, &cx->waker))) {
		old = o->waker;
		o->waker = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&o->lock);
	volt_waker_drop(&old);
	if (ret == VOLT_CHAN_EMPTY)
		return VOLT_PENDING;
	r->result = ret;
	return VOLT_READY;
}

static void oneshot_drop(struct volt_future *f)
{
	struct volt_oneshot_recv *r = (struct volt_oneshot_recv *)f;
	struct volt_waker w;

	pthread_mutex_lock(&r->o->lock);
	w = r->o->waker;
	r->o->waker.ops = NULL;
	pthread_mutex_unlock(&r->o->lock);
	volt_waker_drop(&w);
}

static const struct volt_future_ops oneshot_ops = { .poll = oneshot_poll, .drop = oneshot_drop };

struct volt_future *volt_oneshot_recv(struct volt_oneshot_recv *f, struct volt_oneshot *o)
{
	volt_future_init(&f->base, &oneshot_ops);
	f->o = o;
	f->value = NULL;
	f->result = -EINPROGRESS;
	return &f->base;
}

int volt_oneshot_recv_blocking(struct volt_oneshot *o, void **out)
{
	struct volt_oneshot_recv f;
	int ret;

	if (!o || !out)
		return -EINVAL;
	ret = volt__sync_block(volt_oneshot_recv(&f, o), &f.result);
	if (ret == VOLT_CHAN_OK)
		*out = f.value;
	return ret;
}
