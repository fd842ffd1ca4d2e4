/* SPDX-License-Identifier: MIT */
/*
 * primitives/mpsc.c: volt_mpsc, an unbounded queue of fixed-size elements
 * in linked blocks of BLOCK slots, under one mutex (the baseline design: the
 * lock is held for a copy of one element). Drained blocks go to a spare
 * list of up to SPARE, so a queue that stays within its high-water mark
 * allocates nothing. One receiver: its waker is a single slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "primitives/sync_internal.h"

#define BLOCK 32
#define SPARE 4

struct block {
	struct block *next;
	unsigned char data[]; /* BLOCK elements */
};

struct volt_mpsc {
	pthread_mutex_t lock;
	size_t elem;
	struct block *head, *tail;  /* pop from head at head_i, push to tail at tail_i */
	unsigned head_i, tail_i;
	size_t len;
	struct block *spare;
	unsigned nspare;
	bool closed;
	_Atomic uint32_t senders;
	struct volt_waker rx;       /* the receiver's, while it waits */
};

static struct block *block_get(struct volt_mpsc *m)
{
	struct block *b = m->spare;

	if (b) {
		m->spare = b->next;
		m->nspare--;
	} else {
		b = malloc(sizeof(*b) + BLOCK * m->elem);
		if (!b)
			return NULL;
	}
	b->next = NULL;
	return b;
}

static void block_put(struct volt_mpsc *m, struct block *b)
{
	if (m->nspare < SPARE) {
		b->next = m->spare;
		m->spare = b;
		m->nspare++;
	} else {
		free(b);
	}
}

int volt_mpsc_new(size_t elem_size, struct volt_mpsc **out)
{
	struct volt_mpsc *m;

	if (!out || !elem_size || elem_size > VOLT_MPSC_ELEM_MAX)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->elem = elem_size;
	m->head = m->tail = block_get(m);
	if (!m->head || pthread_mutex_init(&m->lock, NULL)) {
		free(m->head);
		free(m);
		return -ENOMEM;
	}
	atomic_init(&m->senders, 1);
	*out = m;
	return 0;
}

void volt_mpsc_free(struct volt_mpsc *m)
{
	if (!m)
		return;
	for (struct block *b = m->head, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	for (struct block *b = m->spare, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	volt_waker_drop(&m->rx);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int volt_mpsc_send(struct volt_mpsc *m, const void *elem)
{
	struct volt_waker w = { NULL, NULL };
	int ret = VOLT_CHAN_OK;

	if (!m || !elem)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (m->closed) {
		ret = VOLT_CHAN_CLOSED;
	} else {
		if (m->tail_i == BLOCK) {
			struct block *b = block_get(m);

			if (!b) {
				pthread_mutex_unlock(&m->lock);
				return -ENOMEM;
			}
			m->tail->next = b;
			m->tail = b;
			m->tail_i = 0;
		}
		memcpy(m->tail->data + m->tail_i++ * m->elem, elem, m->elem);
		m->len++;
		w = m->rx;
		m->rx.ops = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	if (w.ops)
		volt_waker_wake(&w);
	return ret;
}

/* Under the lock. */
static int take(struct volt_mpsc *m, void *out)
{
	if (!m->len)
		return m->closed ? VOLT_CHAN_CLOSED : VOLT_CHAN_EMPTY;
	if (m->head_i == BLOCK) {
		struct block *old = m->head;

		m->head = old->next;
		m->head_i = 0;
		block_put(m, old);
	}
	memcpy(out, m->head->data + m->head_i++ * m->elem, m->elem);
	m->len--;
	if (!m->len && m->head == m->tail) { /* empty: start the block over */
		m->head_i = m->tail_i = 0;
	}
	return VOLT_CHAN_OK;
}

int volt_mpsc_try_recv(struct volt_mpsc *m, void *out)
{
	int ret;

	if (!m || !out)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	ret = take(m, out);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void volt_mpsc_close(struct volt_mpsc *m)
{
	struct volt_waker w;

	pthread_mutex_lock(&m->lock);
	m->closed = true;
	w = m->rx;
	m->rx.ops = NULL;
	pthread_mutex_unlock(&m->lock);
	if (w.ops)
		volt_waker_wake(&w);
}

size_t volt_mpsc_len(struct volt_mpsc *m)
{
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = m->len;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void volt_mpsc_sender_add(struct volt_mpsc *m)
{
	volt__fetch_add(&m->senders, 1, RELAXED); /* relaxed: a new handle from a live one */
}

void volt_mpsc_sender_drop(struct volt_mpsc *m)
{
	/* acq_rel: the last drop sees every send before it */
	if (volt__fetch_sub(&m->senders, 1, ACQ_REL) == 1)
		volt_mpsc_close(m);
}

static enum volt_poll mpsc_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_mpsc_recv *r = (struct volt_mpsc_recv *)f;
	struct volt_mpsc *m = r->m;
	struct volt_waker old = { NULL, NULL };
	int ret;

	if (!volt_budget_take(cx)) {
		volt_waker_wake_by_ref(&cx->waker);
		return VOLT_PENDING;
	}
	pthread_mutex_lock(&m->lock);
	ret = take(m, r->out);
	if (ret == VOLT_CHAN_EMPTY && !(m->rx.ops && volt_waker_will_wake(&m->rx, &cx->waker))) {
		old = m->rx;
		m->rx = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&m->lock);
	volt_waker_drop(&old);
	if (ret == VOLT_CHAN_EMPTY)
		return VOLT_PENDING;
	r->result = ret;
	return VOLT_READY;
}

static void mpsc_drop(struct volt_future *f)
{
	struct volt_mpsc_recv *r = (struct volt_mpsc_recv *)f;
	struct volt_waker w;

	pthread_mutex_lock(&r->m->lock);
	w = r->m->rx;
	r->m->rx.ops = NULL;
	pthread_mutex_unlock(&r->m->lock);
	volt_waker_drop(&w);
}

static const struct volt_future_ops mpsc_ops = { .poll = mpsc_poll, .drop = mpsc_drop };

struct volt_future *volt_mpsc_recv(struct volt_mpsc_recv *f, struct volt_mpsc *m, void *out)
{
	volt_future_init(&f->base, &mpsc_ops);
	f->m = m;
	f->out = out;
	f->result = -EINPROGRESS;
	return &f->base;
}

int volt_mpsc_recv_blocking(struct volt_mpsc *m, void *out)
{
	struct volt_mpsc_recv f;

	if (!m || !out)
		return -EINVAL;
	return volt__sync_block(volt_mpsc_recv(&f, m, out), &f.result);
}
