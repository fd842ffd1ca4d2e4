/* SPDX-License-Identifier: MIT */
/*
 * primitives/chan.c: the bounded MPMC channel: waiting, waking and closing,
 * over any buffer (primitives/chan_buffer.h).
 *
 * Two lines of waiters under one mutex: receivers waiting for an element,
 * senders waiting for room. Each line has an atomic count of its waiters,
 * so the common case, nobody waiting, costs a fence and a load after the
 * buffer operation, and no lock.
 *
 * The lost-wakeup argument is the store-buffering pattern of core/idle.c. A
 * receiver that found the buffer empty takes the lock, raises the count of
 * waiting receivers (an RMW), fences, and tries the buffer again before it
 * queues; a sender pushes, fences, and reads that count. With a seq_cst
 * fence on both sides one of them sees the other: the receiver finds the
 * element, or the sender sees a waiter and wakes the first in line. The
 * same holds with the roles swapped for a sender waiting for room, and for
 * close (the buffer's close is the store, then the wake of both lines).
 *
 * A woken waiter is out of the line; on its next poll it tries the buffer
 * again and queues again if another thread got there first: the element
 * went to someone, nothing is stranded. A woken waiter dropped before its
 * poll passes the wake on to the next in its line, so a wake is never
 * spent on a waiter that is gone.
 *
 * Close wakes the waiters in line when it starts (no more: a woken
 * receiver that finds a push claimed but not yet published queues again,
 * and a close that chased it could spin as long as the pusher is stalled).
 * That pusher, finding the buffer closed when it publishes, wakes every
 * waiting receiver, not one: one takes the element, the rest see closed.
 * (The model checker found both halves: tests/model, model chan_close.)
 *
 * A send future holds a pointer to the caller's value and copies it in only
 * when the push succeeds: a send cancelled or refused leaves the value
 * where it was. A receive copies out only on success.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/waitlist.h"
#include "primitives/chan_buffer.h"
#include "primitives/sync_internal.h"

enum { IDLE = 0, QUEUED, WOKEN };
enum { RECV = 0, SEND = 1 };

struct volt_chan {
	const struct volt__chan_ops *ops;
	void *buf;
	size_t elem, cap;
	VOLT__ALIGNED_LINE _Atomic uint32_t waiting[2]; /* waiters in each line */
	VOLT__ALIGNED_LINE _Atomic uint32_t senders, receivers;
	pthread_mutex_t lock;
	struct volt_waitlist line[2];
};

static const struct volt__chan_ops *const buffers[] = {
	&volt__chan_vyukov,
	&volt__chan_locked,
};

const char *volt_chan_buffer_name(unsigned i)
{
	return i < sizeof(buffers) / sizeof(buffers[0]) ? buffers[i]->name : NULL;
}

int volt_chan_new(size_t elem_size, size_t capacity, const char *buffer, struct volt_chan **out)
{
	const struct volt__chan_ops *ops = NULL;
	struct volt_chan *ch;

	if (!out || !elem_size || !capacity || elem_size > VOLT_CHAN_ELEM_MAX ||
	    capacity > VOLT_CHAN_CAPACITY_MAX)
		return -EINVAL;
	if (!buffer && getenv("VOLT_CHAN_BUFFER") && *getenv("VOLT_CHAN_BUFFER"))
		buffer = getenv("VOLT_CHAN_BUFFER"); /* sweep a program without rebuilding */
	for (unsigned i = 0; volt_chan_buffer_name(i); i++)
		if (!buffer || !strcmp(buffer, buffers[i]->name)) {
			ops = buffers[i];
			break;
		}
	if (!ops)
		return -EINVAL;
	if (capacity > SIZE_MAX / elem_size)
		return -EOVERFLOW;
	ch = aligned_alloc(VOLT__CACHELINE, (sizeof(*ch) + VOLT__CACHELINE - 1) &
						    ~(size_t)(VOLT__CACHELINE - 1));
	if (!ch)
		return -ENOMEM;
	memset(ch, 0, sizeof(*ch));
	if (pthread_mutex_init(&ch->lock, NULL)) {
		free(ch);
		return -ENOMEM;
	}
	int ret = ops->init(&ch->buf, elem_size, capacity);

	if (ret) {
		pthread_mutex_destroy(&ch->lock);
		free(ch);
		return ret;
	}
	ch->ops = ops;
	ch->elem = elem_size;
	ch->cap = capacity;
	atomic_init(&ch->waiting[RECV], 0);
	atomic_init(&ch->waiting[SEND], 0);
	atomic_init(&ch->senders, 1);
	atomic_init(&ch->receivers, 1);
	*out = ch;
	return 0;
}

void volt_chan_free(struct volt_chan *ch)
{
	if (!ch)
		return;
	ch->ops->fini(ch->buf);
	pthread_mutex_destroy(&ch->lock);
	free(ch);
}

size_t volt_chan_len(struct volt_chan *ch)
{
	return ch->ops->len(ch->buf);
}

size_t volt_chan_capacity(const struct volt_chan *ch)
{
	return ch->cap;
}

const char *volt_chan_buffer(const struct volt_chan *ch)
{
	return ch->ops->name;
}

bool volt_chan_is_closed(struct volt_chan *ch)
{
	return ch->ops->is_closed(ch->buf);
}

/* Under the lock: takes the first waiter of `side` out of its line, its waker to *out. */
static bool take_first(struct volt_chan *ch, int side, struct volt_waker *out)
{
	struct volt_waiter *w = ch->line[side].head;

	if (!w)
		return false;
	volt__waitlist_remove(&ch->line[side], w);
	volt__fetch_sub(&ch->waiting[side], 1, RELAXED); /* relaxed: under the lock */
	volt__wstate_set(w, WOKEN);
	*out = w->waker;
	w->waker.ops = NULL;
	return true;
}

/* Wakes the waiters in line on `side` now (not those that queue meanwhile). */
static void wake_line(struct volt_chan *ch, int side)
{
	struct volt_waker waker;

	pthread_mutex_lock(&ch->lock);
	for (uint32_t n = volt__load(&ch->waiting[side], RELAXED); n && take_first(ch, side, &waker);
	     n--) {
		pthread_mutex_unlock(&ch->lock);
		volt_waker_wake(&waker);
		pthread_mutex_lock(&ch->lock);
	}
	pthread_mutex_unlock(&ch->lock);
}

/* After a push (side RECV) or a pop (side SEND): wake the first waiter of that side. */
static void wake_one(struct volt_chan *ch, int side)
{
	struct volt_waker waker;

	volt__fence_sc(); /* the lost-wakeup argument above */
	/* relaxed: ordered by the fence */
	if (!volt__load(&ch->waiting[side], RELAXED))
		return;
	if (side == RECV && ch->ops->is_closed(ch->buf)) {
		wake_line(ch, RECV); /* closed: all of them, to see CLOSED after this element */
		return;
	}
	pthread_mutex_lock(&ch->lock);
	bool got = take_first(ch, side, &waker);

	pthread_mutex_unlock(&ch->lock);
	if (got)
		volt_waker_wake(&waker);
}

static void wake_all(struct volt_chan *ch)
{
	volt__fence_sc(); /* as in wake_one: after the buffer's close */
	for (int side = 0; side < 2; side++) {
#ifdef VOLT_MUTANT_CHAN_CLOSE_WAKES_RECEIVERS_ONLY
		if (side == SEND)
			break; /* the bug: senders waiting for room are left waiting */
#endif
		wake_line(ch, side);
	}
}

void volt_chan_close(struct volt_chan *ch)
{
	ch->ops->close(ch->buf);
	wake_all(ch);
}

/* The buffer operations alone, without waking anyone. */
static int raw_send(struct volt_chan *ch, void *elem)
{
	if (!volt__load(&ch->receivers, ACQUIRE)) /* acquire: see receiver_drop */
		return VOLT_CHAN_CLOSED;
	return ch->ops->try_push(ch->buf, elem);
}

static int raw_recv(struct volt_chan *ch, void *out)
{
	return ch->ops->try_pop(ch->buf, out);
}

int volt_chan_try_send(struct volt_chan *ch, const void *elem)
{
	int ret;

	if (!ch || !elem)
		return -EINVAL;
	ret = raw_send(ch, (void *)elem);
	if (ret == VOLT_CHAN_OK)
		wake_one(ch, RECV);
	return ret;
}

int volt_chan_try_recv(struct volt_chan *ch, void *out)
{
	int ret;

	if (!ch || !out)
		return -EINVAL;
	ret = raw_recv(ch, out);
	if (ret == VOLT_CHAN_OK)
		wake_one(ch, SEND);
	return ret;
}

/*
 * Takes w out of its line if it is queued, and clears its state. With
 * pass_on, a wake it was handed but never used goes to the next waiter (a
 * cancelled waiter); without, the caller used it.
 */
static void leave(struct volt_chan *ch, int side, struct volt_waiter *w, bool pass_on)
{
	struct volt_waker mine, next = { NULL, NULL };

	if (volt__wstate(w) == IDLE)
		return;
	pthread_mutex_lock(&ch->lock);
	if (volt__wstate(w) == QUEUED) {
		volt__waitlist_remove(&ch->line[side], w);
		volt__fetch_sub(&ch->waiting[side], 1, RELAXED); /* relaxed: under the lock */
	} else if (pass_on) {
#ifndef VOLT_MUTANT_CHAN_CANCEL_DROPS_WAKE /* the bug: the unused wake goes with it */
		take_first(ch, side, &next); /* WOKEN, never polled: pass the wake on */
#endif
	}
	volt__wstate_set(w, IDLE);
	mine = w->waker;
	w->waker.ops = NULL;
	pthread_mutex_unlock(&ch->lock);
	volt_waker_drop(&mine);
	if (next.ops)
		volt_waker_wake(&next);
}

/*
 * The wait of either direction: tries the buffer; if it would have to wait
 * (`again`), queues w on `side` and tries once more under the lock, after
 * the fence of the lost-wakeup argument. Returns the buffer's answer (and
 * wakes the other side on success), or 1 when w waits in line.
 */
static int wait_with(struct volt_chan *ch, int side, struct volt_waiter *w,
		     const struct volt_waker *waker, int (*raw)(struct volt_chan *, void *),
		     void *arg, int again)
{
	int ret = raw(ch, arg);

	if (ret == again) {
		pthread_mutex_lock(&ch->lock);
		if (volt__wstate(w) == QUEUED) {
			volt__waiter_set_waker(w, waker);
			pthread_mutex_unlock(&ch->lock);
			return 1;
		}
		volt__fetch_add(&ch->waiting[side], 1, RELAXED); /* relaxed: the fence orders */
		volt__fence_sc(); /* the lost-wakeup argument above */
#ifdef VOLT_MUTANT_CHAN_WAIT_NO_RECHECK
		ret = again; /* the bug: queues on its first look, without trying again */
#else
		ret = raw(ch, arg);
#endif
		if (ret == again) {
			volt_waker_drop(&w->waker);
			w->waker = volt_waker_clone(waker);
			volt__waitlist_push(&ch->line[side], w);
			volt__wstate_set(w, QUEUED);
			pthread_mutex_unlock(&ch->lock);
			return 1;
		}
		volt__fetch_sub(&ch->waiting[side], 1, RELAXED); /* relaxed: under the lock */
		pthread_mutex_unlock(&ch->lock);
	}
	leave(ch, side, w, false);
	if (ret == VOLT_CHAN_OK)
		wake_one(ch, side == RECV ? SEND : RECV);
	return ret;
}

static enum volt_poll send_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_chan_send *s = (struct volt_chan_send *)f;
	int ret;

	if (!volt_budget_take(cx)) {
		volt_waker_wake_by_ref(&cx->waker);
		return VOLT_PENDING;
	}
	ret = wait_with(s->ch, SEND, &s->waiter, &cx->waker, raw_send, (void *)s->elem,
			VOLT_CHAN_FULL);
	if (ret == 1)
		return VOLT_PENDING;
	s->result = ret;
	return VOLT_READY;
}

static void send_drop(struct volt_future *f)
{
	struct volt_chan_send *s = (struct volt_chan_send *)f;

	leave(s->ch, SEND, &s->waiter, true);
}

static enum volt_poll recv_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_chan_recv *r = (struct volt_chan_recv *)f;
	int ret;

	if (!volt_budget_take(cx)) {
		volt_waker_wake_by_ref(&cx->waker);
		return VOLT_PENDING;
	}
	ret = wait_with(r->ch, RECV, &r->waiter, &cx->waker, raw_recv, r->out,
			VOLT_CHAN_EMPTY);
	if (ret == 1)
		return VOLT_PENDING;
	r->result = ret;
	return VOLT_READY;
}

static void recv_drop(struct volt_future *f)
{
	struct volt_chan_recv *r = (struct volt_chan_recv *)f;

	leave(r->ch, RECV, &r->waiter, true);
}

static const struct volt_future_ops send_ops = { .poll = send_poll, .drop = send_drop };
static const struct volt_future_ops recv_ops = { .poll = recv_poll, .drop = recv_drop };

struct volt_future *volt_chan_send(struct volt_chan_send *f, struct volt_chan *ch,
				   const void *elem)
{
	volt_future_init(&f->base, &send_ops);
	f->ch = ch;
	f->elem = elem;
	f->waiter = (struct volt_waiter){ .state = IDLE };
	f->result = -EINPROGRESS;
	return &f->base;
}

struct volt_future *volt_chan_recv(struct volt_chan_recv *f, struct volt_chan *ch, void *out)
{
	volt_future_init(&f->base, &recv_ops);
	f->ch = ch;
	f->out = out;
	f->waiter = (struct volt_waiter){ .state = IDLE };
	f->result = -EINPROGRESS;
	return &f->base;
}

int volt_chan_send_blocking(struct volt_chan *ch, const void *elem)
{
	struct volt_chan_send f;

	if (!ch || !elem)
		return -EINVAL;
	return volt__sync_block(volt_chan_send(&f, ch, elem), &f.result);
}

int volt_chan_recv_blocking(struct volt_chan *ch, void *out)
{
	struct volt_chan_recv f;

	if (!ch || !out)
		return -EINVAL;
	return volt__sync_block(volt_chan_recv(&f, ch, out), &f.result);
}

void volt_chan_sender_add(struct volt_chan *ch)
{
	volt__fetch_add(&ch->senders, 1, RELAXED); /* relaxed: a new handle from a live one */
}

void volt_chan_sender_drop(struct volt_chan *ch)
{
	/* acq_rel: the last drop sees every send before it */
	if (volt__fetch_sub(&ch->senders, 1, ACQ_REL) == 1)
		volt_chan_close(ch);
}

void volt_chan_receiver_add(struct volt_chan *ch)
{
	volt__fetch_add(&ch->receivers, 1, RELAXED); /* relaxed: as sender_add */
}

void volt_chan_receiver_drop(struct volt_chan *ch)
{
	/* acq_rel: pairs with the acquire in try_send */
	if (volt__fetch_sub(&ch->receivers, 1, ACQ_REL) == 1)
		volt_chan_close(ch); /* senders waiting for room would wait forever */
}
