/* SPDX-License-Identifier: MIT */
/*
 * process/sigchld.c: the per-runtime SIGCHLD broadcaster (see
 * process/sigchld.h for why it exists).
 *
 * Lifetime. A broadcaster is listed (process-wide list, keyed by runtime)
 * from its creation until its reading task is dropped: at the runtime's
 * shutdown, or when the subscription fails. References: the reading task
 * holds one, every reaper using it one more; the last put frees it. The
 * subscription is made once and freed once, by the reading task's drop,
 * when the workers no longer read the signalfd, so the runtime's signal
 * mask does not change under a running dispatcher.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "core/atomic.h"
#include "core/waitlist.h"
#include "process/sigchld.h"

struct volt__sigchld {
	struct volt__sigchld *next; /* the list of live broadcasters, under list_lock */
	struct volt_rt *rt;
	_Atomic uint32_t refs;
	pthread_mutex_t lock;       /* gen, closed, waiters */
	uint64_t gen;
	bool closed;
	struct volt_waitlist waiters;
	struct volt_signal *sub;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct volt__sigchld *list_head;

/* Under list_lock. */
static void unlist(struct volt__sigchld *b)
{
	for (struct volt__sigchld **p = &list_head; *p; p = &(*p)->next) {
		if (*p == b) {
			*p = b->next;
			break;
		}
	}
	b->next = NULL;
}

void volt__sigchld_put(struct volt__sigchld *b)
{
	/* acq_rel: the last one out sees every other user's writes */
	if (volt__fetch_sub(&b->refs, 1, ACQ_REL) != 1)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b);
}

uint64_t volt__sigchld_gen(struct volt__sigchld *b)
{
	uint64_t gen;

	pthread_mutex_lock(&b->lock);
	gen = b->gen;
	pthread_mutex_unlock(&b->lock);
	return gen;
}

/* ------------------------------------------------------ the reading task */

struct reader {
	struct volt_future base;
	struct volt__sigchld *b;
	struct volt_signal_recv recv;
};

static enum volt_poll reader_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct reader *r = (struct reader *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_signal_recv(&r->recv, r->b->sub));
		if (r->recv.result < 0)
			break; /* closed or shut down: the drop ends the broadcaster */
		pthread_mutex_lock(&r->b->lock);
		r->b->gen++;
		volt__waitlist_wake_all_locked(&r->b->waiters, 1);
		pthread_mutex_unlock(&r->b->lock);
	}
	VOLT_END(f);
}

static void reader_drop(struct volt_future *f)
{
	struct volt__sigchld *b = ((struct reader *)f)->b;

	pthread_mutex_lock(&list_lock);
	unlist(b);
	pthread_mutex_unlock(&list_lock);
	pthread_mutex_lock(&b->lock);
	b->closed = true; /* waiters fall back on their timers */
	volt__waitlist_wake_all_locked(&b->waiters, 1);
	pthread_mutex_unlock(&b->lock);
	volt_signal_free(b->sub);
	b->sub = NULL;
	volt__sigchld_put(b);
}

static const struct volt_future_ops reader_ops = { reader_poll, reader_drop };

struct volt__sigchld *volt__sigchld_get(struct volt_rt *rt)
{
	const int sigchld = SIGCHLD;
	struct volt__sigchld *b;

	pthread_mutex_lock(&list_lock);
	for (b = list_head; b; b = b->next)
		if (b->rt == rt)
			break;
	if (b) {
		volt__fetch_add(&b->refs, 1, RELAXED); /* relaxed: listed means referenced */
		pthread_mutex_unlock(&list_lock);
		return b;
	}
	b = calloc(1, sizeof(*b));
	if (!b || pthread_mutex_init(&b->lock, NULL)) {
		free(b);
		pthread_mutex_unlock(&list_lock);
		return NULL;
	}
	if (volt_signal_subscribe_list(rt, &sigchld, 1, &b->sub)) {
		pthread_mutex_destroy(&b->lock);
		free(b);
		pthread_mutex_unlock(&list_lock);
		return NULL;
	}
	b->rt = rt;
	atomic_init(&b->refs, 2); /* the reading task's and the caller's */
	b->next = list_head;
	list_head = b;

	struct reader r = { .b = b };

	volt_future_init(&r.base, &reader_ops);
	if (volt_spawn(rt, &r.base, sizeof(r), NULL)) {
		unlist(b);
		volt_signal_free(b->sub);
		pthread_mutex_destroy(&b->lock);
		free(b);
		b = NULL;
	}
	pthread_mutex_unlock(&list_lock);
	return b;
}

/* ------------------------------------------------------------ the wait */

static enum volt_poll wait_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt__sigchld_wait *w = (struct volt__sigchld_wait *)f;
	struct volt__sigchld *b = w->b;
	enum volt_poll ready = VOLT_PENDING;

	pthread_mutex_lock(&b->lock);
	if (b->gen != w->seen || b->closed) {
		if (w->waiter.linked)
			volt__waitlist_remove(&b->waiters, &w->waiter);
		ready = VOLT_READY;
	} else {
		volt__waiter_set_waker(&w->waiter, &cx->waker);
		if (!w->waiter.linked)
			volt__waitlist_push(&b->waiters, &w->waiter);
	}
	pthread_mutex_unlock(&b->lock);
	return ready;
}

static void wait_drop(struct volt_future *f)
{
	struct volt__sigchld_wait *w = (struct volt__sigchld_wait *)f;

	pthread_mutex_lock(&w->b->lock);
	if (w->waiter.linked)
		volt__waitlist_remove(&w->b->waiters, &w->waiter);
	pthread_mutex_unlock(&w->b->lock);
	volt_waker_drop(&w->waiter.waker);
}

static const struct volt_future_ops wait_ops = { wait_poll, wait_drop };

struct volt_future *volt__sigchld_wait(struct volt__sigchld_wait *w, struct volt__sigchld *b,
				       uint64_t seen)
{
	volt_future_init(&w->base, &wait_ops);
	w->b = b;
	w->waiter = (struct volt_waiter){ 0 };
	w->seen = seen;
	return &w->base;
}
