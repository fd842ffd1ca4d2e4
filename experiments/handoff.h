/* SPDX-License-Identifier: MIT */
/*
 * experiments/handoff.h: a minimal one-slot hand-off (a oneshot channel)
 * for the ping_pong benchmark, written against the public API only.
 *
 * Volt-C has no channels yet; this stands in for tokio::sync::oneshot until
 * primitives/ has one, and ping_pong should move to the real channel then.
 * It is deliberately the same shape as Tokio's oneshot: one heap
 * allocation per channel shared by the two ends (a reference count of 2,
 * like Tokio's Arc<Inner>), a state word with two bits, and the receiver's
 * waker stored in the slot. Unlike Tokio's it carries one pointer, has no
 * "sender dropped" notification and takes no cooperative budget.
 *
 *	struct handoff *h = handoff_new();        // refs = 2: one per end
 *	handoff_send(h, value);                   // sender: once, then its ref is gone
 *	VOLT_AWAIT(f, cx, handoff_recv(&r, h));   // receiver: r.value; drop releases its ref
 *
 * Protocol (state bits RX_SET = the slot holds the receiver's waker,
 * SENT = the value is there):
 * - send stores the value, sets SENT with one fetch_or; if RX_SET was set at
 *   that instant, the waker is the sender's to consume (wake, from a copy, so
 *   it only reads the field), else nobody waits yet.
 * - the last end released drops the stored waker only if RX_SET is set and
 *   SENT is not (the receiver left while waiting).
 * - recv returns READY once SENT is seen. Otherwise it publishes a waker:
 *   it may write the waker field only while RX_SET is clear and SENT is
 *   not set, so the two ends never touch the field at the same time.
 */
#ifndef EXPERIMENTS_HANDOFF_H
#define EXPERIMENTS_HANDOFF_H

#include <stdatomic.h>
#include <stdlib.h>

#include <volt.h>

#define HANDOFF_RX_SET 1u
#define HANDOFF_SENT 2u

struct handoff {
	atomic_uint state;
	atomic_uint refs;
	void *value;
	struct volt_waker waker; /* the receiver's, while RX_SET */
};

static inline struct handoff *handoff_new(void)
{
	struct handoff *h = malloc(sizeof *h);

	if (!h)
		return NULL;
	atomic_init(&h->state, 0);
	atomic_init(&h->refs, 2);
	h->value = NULL;
	h->waker.ops = NULL;
	h->waker.data = NULL;
	return h;
}

static inline void handoff_release(struct handoff *h)
{
	unsigned s;

	if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Still owned only if the receiver left while waiting and nothing was sent. */
	s = atomic_load_explicit(&h->state, memory_order_relaxed);
	if ((s & HANDOFF_RX_SET) && !(s & HANDOFF_SENT))
		volt_waker_drop(&h->waker);
	free(h);
}

/* Sends value and releases the sender's end. Call once. */
static inline void handoff_send(struct handoff *h, void *value)
{
	unsigned s;

	h->value = value;
	s = atomic_fetch_or_explicit(&h->state, HANDOFF_SENT, memory_order_acq_rel);
	if (s & HANDOFF_RX_SET) {
		/* A copy: the receiver may still read the field (will_wake). */
		struct volt_waker w = h->waker;

		volt_waker_wake(&w);
	}
	handoff_release(h);
}

/* The receiving end as a future; its drop releases the receiver's end. */
struct handoff_recv {
	struct volt_future base;
	struct handoff *h;
	void *value; /* valid once ready */
};

static inline enum volt_poll handoff_recv_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct handoff_recv *r = (struct handoff_recv *)f;
	struct handoff *h = r->h;
	unsigned s = atomic_load_explicit(&h->state, memory_order_acquire);

	if (s & HANDOFF_SENT)
		goto ready;
	if (s & HANDOFF_RX_SET) {
		if (volt_waker_will_wake(&h->waker, &cx->waker))
			return VOLT_PENDING;
		/* Another waker: take the field back before replacing it. */
		s = atomic_fetch_and_explicit(&h->state, ~HANDOFF_RX_SET, memory_order_acq_rel);
		if (s & HANDOFF_SENT)
			goto ready; /* the sender saw RX_SET: it consumes the old waker */
		volt_waker_drop(&h->waker);
	}
	h->waker = volt_waker_clone(&cx->waker);
	s = atomic_fetch_or_explicit(&h->state, HANDOFF_RX_SET, memory_order_acq_rel);
	if (s & HANDOFF_SENT) {
		/* Sent before we published: the sender did not take the waker. */
		volt_waker_drop(&h->waker);
		goto ready;
	}
	return VOLT_PENDING;
ready:
	r->value = h->value;
	return VOLT_READY;
}

static inline void handoff_recv_drop(struct volt_future *f)
{
	struct handoff_recv *r = (struct handoff_recv *)f;

	if (r->h) {
		handoff_release(r->h);
		r->h = NULL;
	}
}

static const struct volt_future_ops handoff_recv_ops = {
	.poll = handoff_recv_poll,
	.drop = handoff_recv_drop,
};

static inline struct volt_future *handoff_recv(struct handoff_recv *r, struct handoff *h)
{
	volt_future_init(&r->base, &handoff_recv_ops);
	r->h = h;
	r->value = NULL;
	return &r->base;
}

#endif /* EXPERIMENTS_HANDOFF_H */
