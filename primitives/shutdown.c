/* SPDX-License-Identifier: MIT */
/*
 * primitives/shutdown.c: the shutdown token and graceful drain
 * (volt/shutdown.h).
 *
 * The token is a flag and a wait list under one lock, plus a group for
 * the tracked tasks. Each tracked task runs a wrapper future: a header
 * (struct tracked) followed by the caller's future copied at an aligned
 * offset. The wrapper polls the inner future; when it is ready the wrapper
 * drops it and counts "finished", and a wrapper dropped before that drops
 * the inner future and counts "cancelled" (after the trigger only: the
 * report is about the work in flight at the trigger). Spawns are refused
 * after the trigger, under the same lock that snapshots `live` into
 * `in_flight`, so each task alive at the trigger is counted exactly once,
 * as one or the other.
 *
 * The token is referenced by its owner and by a signal watcher (if any):
 * volt_shutdown_free lets the owner's reference go (refusing while tracked
 * tasks live) and wakes the watcher, which ends and drops its reference;
 * the last one frees the group and the token.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "core/waitlist.h"
#include "net/op.h"

struct volt_shutdown {
	pthread_mutex_t lock;
	struct volt_rt *rt;
	struct volt_group *group;
	struct volt_waitlist waiters;
	unsigned refs;    /* the owner + a signal watcher */
	bool triggered;
	bool closing;     /* the owner freed it: the watcher ends */
	int signo;
	size_t live;      /* tracked tasks alive */
	size_t in_flight; /* live at the trigger */
	size_t finished, cancelled;
};

static void token_put(struct volt_shutdown *t)
{
	pthread_mutex_lock(&t->lock);
	unsigned left = --t->refs;

	pthread_mutex_unlock(&t->lock);
	if (left)
		return;
	(void)volt_group_free(t->group);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int volt_shutdown_new(struct volt_rt *rt, struct volt_shutdown **out)
{
	struct volt_shutdown *t;
	int ret;

	rt = volt__rt_or_current(rt);
	if (!rt || !out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	ret = volt_group_new(rt, &t->group);
	if (!ret) {
		ret = -pthread_mutex_init(&t->lock, NULL);
		if (ret)
			(void)volt_group_free(t->group);
	}
	if (ret) {
		free(t);
		return ret;
	}
	t->rt = rt;
	t->refs = 1;
	*out = t;
	return 0;
}

int volt_shutdown_free(struct volt_shutdown *t)
{
	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (t->live || volt_group_count(t->group)) {
		pthread_mutex_unlock(&t->lock);
		return -EBUSY;
	}
	t->closing = true;
	volt__waitlist_wake_all(&t->waiters, &t->lock, 1); /* the watcher's wait */
	pthread_mutex_unlock(&t->lock);
	token_put(t);
	return 0;
}

int volt_shutdown_trigger(struct volt_shutdown *t)
{
	int did = 0;

	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (!t->triggered) {
		t->triggered = true;
		t->in_flight = t->live;
		did = 1;
		volt__waitlist_wake_all(&t->waiters, &t->lock, 1);
	}
	pthread_mutex_unlock(&t->lock);
	return did;
}

bool volt_shutdown_is_triggered(const struct volt_shutdown *t)
{
	struct volt_shutdown *m = (struct volt_shutdown *)t;
	bool on;

	if (!t)
		return false;
	pthread_mutex_lock(&m->lock);
	on = m->triggered;
	pthread_mutex_unlock(&m->lock);
	return on;
}

int volt_shutdown_signal(const struct volt_shutdown *t)
{
	struct volt_shutdown *m = (struct volt_shutdown *)t;
	int signo;

	if (!t)
		return 0;
	pthread_mutex_lock(&m->lock);
	signo = m->signo;
	pthread_mutex_unlock(&m->lock);
	return signo;
}

size_t volt_shutdown_in_flight(const struct volt_shutdown *t)
{
	struct volt_shutdown *m = (struct volt_shutdown *)t;
	size_t n;

	if (!t)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = m->live;
	pthread_mutex_unlock(&m->lock);
	return n;
}

struct volt_group *volt_shutdown_group(struct volt_shutdown *t)
{
	return t ? t->group : NULL;
}

/* ----------------------------------------------------------------- wait */

static enum volt_poll wait_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_shutdown_wait *w = (struct volt_shutdown_wait *)f;
	struct volt_shutdown *t = w->token;
	enum volt_poll r = VOLT_READY;

	if (!t) {
		w->result = -EINVAL;
		return VOLT_READY;
	}
	pthread_mutex_lock(&t->lock);
	if (t->triggered || t->closing) {
		if (w->waiter.linked)
			volt__waitlist_remove(&t->waiters, &w->waiter);
		w->result = 0;
	} else {
		volt__waiter_set_waker(&w->waiter, &cx->waker);
		if (!w->waiter.linked)
			volt__waitlist_push(&t->waiters, &w->waiter);
		r = VOLT_PENDING;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

static void wait_drop(struct volt_future *f)
{
	struct volt_shutdown_wait *w = (struct volt_shutdown_wait *)f;
	struct volt_shutdown *t = w->token;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	if (w->waiter.linked)
		volt__waitlist_remove(&t->waiters, &w->waiter);
	volt_waker_drop(&w->waiter.waker);
	pthread_mutex_unlock(&t->lock);
}

static const struct volt_future_ops wait_ops = { wait_poll, wait_drop };

struct volt_future *volt_shutdown_wait(struct volt_shutdown_wait *w, struct volt_shutdown *t)
{
	volt_future_init(&w->base, &wait_ops);
	w->token = t;
	w->waiter = (struct volt_waiter){ 0 };
	w->result = 0;
	return &w->base;
}

/* volt_block_on of f on rt, under a timeout unless it is VOLT_DURATION_MAX. */
static int block(struct volt_rt *rt, struct volt_future *f, volt_duration timeout)
{
	struct volt_timeout to;
	int ret;

	if (timeout.ns == UINT64_MAX)
		ret = volt_block_on(rt, f, NULL);
	else
		ret = volt_block_on(rt, volt_timeout(&to, f, timeout), NULL);
	if (ret) {
		volt_future_drop(f); /* block_on refused: it never owned it */
		return ret;
	}
	return timeout.ns != UINT64_MAX ? to.result : 0;
}

int volt_shutdown_wait_blocking(struct volt_shutdown *t, volt_duration timeout)
{
	struct volt_shutdown_wait w;

	if (!t)
		return -EINVAL;
	return block(t->rt, volt_shutdown_wait(&w, t), timeout);
}

/* -------------------------------------------------------- tracked tasks */

struct tracked {
	struct volt_future base;
	struct volt_shutdown *token;
	bool done;
};

#define TRACKED_INNER (((sizeof(struct tracked) + alignof(max_align_t) - 1) / \
			alignof(max_align_t)) * alignof(max_align_t))

static struct volt_future *tracked_inner(struct tracked *w)
{
	return (struct volt_future *)((char *)w + TRACKED_INNER);
}

/* One tracked task is over; it counts for the report if it was in flight at the trigger. */
static void tracked_end(struct volt_shutdown *t, bool finished)
{
	pthread_mutex_lock(&t->lock);
	t->live--;
	if (t->triggered) {
		if (finished)
			t->finished++;
		else
			t->cancelled++;
	}
	pthread_mutex_unlock(&t->lock);
}

static enum volt_poll tracked_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct tracked *w = (struct tracked *)f;
	struct volt_future *inner = tracked_inner(w);

	if (volt_future_poll(inner, cx) == VOLT_PENDING)
		return VOLT_PENDING;
	volt_future_drop(inner);
	w->done = true;
	tracked_end(w->token, true);
	return VOLT_READY;
}

static void tracked_drop(struct volt_future *f)
{
	struct tracked *w = (struct tracked *)f;

	if (w->done)
		return;
	w->done = true;
	volt_future_drop(tracked_inner(w));
	tracked_end(w->token, false);
}

static const struct volt_future_ops tracked_ops = { tracked_poll, tracked_drop };

int volt_shutdown_spawn(struct volt_shutdown *t, const struct volt_future *f, size_t size)
{
	struct tracked *w;
	size_t total;
	int ret;

	if (!t || !f || !f->ops || !f->ops->poll || size < sizeof(*f))
		return -EINVAL;
	total = TRACKED_INNER + size;
	w = aligned_alloc(alignof(max_align_t),
			  (total + alignof(max_align_t) - 1) / alignof(max_align_t) *
				  alignof(max_align_t));
	if (!w)
		return -ENOMEM;
	volt_future_init(&w->base, &tracked_ops);
	w->token = t;
	w->done = false;
	memcpy(tracked_inner(w), f, size);
	pthread_mutex_lock(&t->lock);
	if (t->triggered) {
		pthread_mutex_unlock(&t->lock);
		free(w);
		return -ECANCELED;
	}
	t->live++; /* before the spawn: the task may end before it returns */
	pthread_mutex_unlock(&t->lock);
	ret = volt_group_spawn(t->group, &w->base, total);
	free(w); /* the task has its own copy, or nothing was copied */
	if (ret) {
		pthread_mutex_lock(&t->lock);
		t->live--;
		if (t->triggered)
			t->in_flight--; /* counted at a trigger that raced with us */
		pthread_mutex_unlock(&t->lock);
	}
	return ret;
}

/* ---------------------------------------------------------------- drain */

static enum volt_poll drain_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_shutdown_drain *d = (struct volt_shutdown_drain *)f;
	struct volt_shutdown *t = d->token;

	VOLT_BEGIN(f);
	if (!t) {
		d->result = -EINVAL;
		VOLT_RETURN(f, cx, 0);
	}
	(void)volt_shutdown_trigger(t);
	VOLT_AWAIT(f, cx, volt_timeout(&d->timeout, volt_group_join(&d->join, t->group),
				       d->grace));
	if (d->timeout.result) {
		d->report.timed_out = true;
		volt_group_cancel(t->group); /* each left task's future dropped once */
		VOLT_AWAIT(f, cx, volt_group_join(&d->join, t->group));
	}
	pthread_mutex_lock(&t->lock);
	d->report.in_flight = t->in_flight;
	d->report.finished = t->finished;
	d->report.cancelled = t->cancelled;
	pthread_mutex_unlock(&t->lock);
	d->result = 0;
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

static const struct volt_future_ops drain_ops = { drain_poll, NULL };

struct volt_future *volt_shutdown_drain(struct volt_shutdown_drain *d, struct volt_shutdown *t,
					volt_duration grace)
{
	volt_future_init(&d->base, &drain_ops);
	d->token = t;
	d->grace = grace;
	memset(&d->report, 0, sizeof(d->report));
	d->result = 0;
	return &d->base;
}

int volt_shutdown_drain_blocking(struct volt_shutdown *t, volt_duration grace,
				 struct volt_shutdown_report *report)
{
	struct volt_shutdown_drain d;
	int ret;

	if (!t)
		return -EINVAL;
	ret = block(t->rt, volt_shutdown_drain(&d, t, grace), VOLT_DURATION_MAX);
	if (!ret)
		ret = d.result;
	if (!ret && report)
		*report = d.report;
	return ret;
}

/* ------------------------------------------------------ signal watcher */

/* Waits for the first signal (trigger) or the trigger (or free) itself. */
struct watcher {
	struct volt_future base;
	struct volt_shutdown *token;
	struct volt_signal *sub;
	struct volt_signal_recv recv;
	struct volt_shutdown_wait wait;
	bool recv_live, wait_live;
};

static enum volt_poll watcher_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct watcher *w = (struct watcher *)f;

	if (volt_future_poll(&w->recv.base, cx) == VOLT_READY) {
		w->recv_live = false;
		volt_future_drop(&w->recv.base);
		if (w->recv.result > 0) {
			pthread_mutex_lock(&w->token->lock);
			if (!w->token->triggered)
				w->token->signo = w->recv.result;
			pthread_mutex_unlock(&w->token->lock);
			(void)volt_shutdown_trigger(w->token);
		}
		return VOLT_READY;
	}
	if (volt_future_poll(&w->wait.base, cx) == VOLT_READY) {
		w->wait_live = false;
		volt_future_drop(&w->wait.base);
		return VOLT_READY;
	}
	return VOLT_PENDING;
}

static void watcher_drop(struct volt_future *f)
{
	struct watcher *w = (struct watcher *)f;

	if (w->recv_live)
		volt_future_drop(&w->recv.base);
	if (w->wait_live)
		volt_future_drop(&w->wait.base);
	volt_signal_free(w->sub);
	token_put(w->token);
}

static const struct volt_future_ops watcher_ops = { watcher_poll, watcher_drop };

int volt_shutdown_on_signals(struct volt_shutdown *t, const int *signos, size_t n)
{
	struct watcher w;
	int ret;

	if (!t)
		return -EINVAL;
	memset(&w, 0, sizeof(w));
	ret = volt_signal_subscribe_list(t->rt, signos, n, &w.sub);
	if (ret)
		return ret;
	volt_future_init(&w.base, &watcher_ops);
	w.token = t;
	(void)volt_signal_recv(&w.recv, w.sub);
	(void)volt_shutdown_wait(&w.wait, t);
	w.recv_live = w.wait_live = true;
	pthread_mutex_lock(&t->lock);
	t->refs++;
	pthread_mutex_unlock(&t->lock);
	ret = volt_spawn(t->rt, &w.base, sizeof(w), NULL);
	if (ret)
		watcher_drop(&w.base); /* nothing was copied: ours to undo */
	return ret;
}
