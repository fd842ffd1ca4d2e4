/* SPDX-License-Identifier: MIT */
/*
 * core/group.c: structured concurrency. A group links its live tasks
 * through their headers (the union that holds a finished task's output), so
 * membership costs no allocation. Completion unlinks the task before it is
 * marked COMPLETE; when the count reaches zero the waiters are woken.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/fiber.h"
#include "core/rt.h"
#include "core/task.h"
#include "core/waitlist.h"

struct volt_group {
	struct volt_rt *rt;
	pthread_mutex_t lock;
	struct volt__task *head; /* live tasks, under lock */
	_Atomic size_t count;    /* written under lock, read anywhere */
	bool cancelled;
	struct volt_waitlist waiters;
};

int volt_group_new(struct volt_rt *rt, struct volt_group **out)
{
	struct volt_group *g;

	if (!rt || !out)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if (pthread_mutex_init(&g->lock, NULL)) {
		free(g);
		return -ENOMEM;
	}
	g->rt = rt;
	atomic_init(&g->count, 0);
	*out = g;
	return 0;
}

int volt_group_free(struct volt_group *g)
{
	bool busy;

	if (!g)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	/* relaxed: read under the lock that orders every write */
	busy = atomic_load_explicit(&g->count, RELAXED) || g->waiters.head;
	pthread_mutex_unlock(&g->lock);
	if (busy)
		return -EBUSY;
	pthread_mutex_destroy(&g->lock);
	free(g);
	return 0;
}

int volt__group_attach(struct volt_group *g, struct volt__task *t)
{
	pthread_mutex_lock(&g->lock);
	if (g->cancelled) {
		pthread_mutex_unlock(&g->lock);
		return -ECANCELED;
	}
	t->u.g.group = g;
	t->u.g.prev = NULL;
	t->u.g.next = g->head;
	if (g->head)
		g->head->u.g.prev = t;
	g->head = t;
	/* relaxed: ordered by the lock; readers outside it want a snapshot */
	atomic_store_explicit(&g->count, atomic_load_explicit(&g->count, RELAXED) + 1, RELAXED);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

void volt__group_detach(struct volt__task *t)
{
	struct volt_group *g = t->u.g.group;
	size_t left;

	pthread_mutex_lock(&g->lock);
	if (t->u.g.prev)
		t->u.g.prev->u.g.next = t->u.g.next;
	else
		g->head = t->u.g.next;
	if (t->u.g.next)
		t->u.g.next->u.g.prev = t->u.g.prev;
	left = atomic_load_explicit(&g->count, RELAXED) - 1;
	atomic_store_explicit(&g->count, left, RELAXED); /* see attach */
	/* Wake under the lock: the moment it is released a waiter may free g. */
	if (left == 0)
		volt__waitlist_wake_all_locked(&g->waiters, 1);
	pthread_mutex_unlock(&g->lock);
}

int volt_group_spawn(struct volt_group *g, const struct volt_future *f, size_t size)
{
	if (!g)
		return -EINVAL;
	return volt__spawn(g->rt, g, f, size, NULL);
}

int volt_group_spawn_fiber(struct volt_group *g, volt_fiber_fn fn, void *arg, size_t stack_size)
{
	if (!g)
		return -EINVAL;
	return volt__spawn_fiber(g->rt, g, fn, arg, stack_size, NULL);
}

int volt_group_spawn_fn(struct volt_group *g, void *(*fn)(void *), void *arg)
{
	if (!g)
		return -EINVAL;
	return volt__spawn_fn(g->rt, g, fn, arg, NULL);
}

void volt_group_cancel(struct volt_group *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->cancelled = true;
	for (struct volt__task *t = g->head; t; t = t->u.g.next)
		volt__task_cancel(t);
	pthread_mutex_unlock(&g->lock);
}

size_t volt_group_count(const struct volt_group *g)
{
	/* acquire: a caller that sees 0 may free what the tasks used */
	return g ? atomic_load_explicit(&((struct volt_group *)g)->count, ACQUIRE) : 0;
}

static enum volt_poll group_wait_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_group_wait *gw = (struct volt_group_wait *)f;
	struct volt_group *g = gw->group;
	enum volt_poll r = VOLT_PENDING;

	pthread_mutex_lock(&g->lock);
	if (atomic_load_explicit(&g->count, RELAXED) == 0) {
		if (gw->waiter.linked)
			volt__waitlist_remove(&g->waiters, &gw->waiter);
		r = VOLT_READY;
	} else {
		volt__waiter_set_waker(&gw->waiter, &cx->waker);
		if (!gw->waiter.linked)
			volt__waitlist_push(&g->waiters, &gw->waiter);
	}
	pthread_mutex_unlock(&g->lock);
	return r;
}

static void group_wait_drop(struct volt_future *f)
{
	struct volt_group_wait *gw = (struct volt_group_wait *)f;
	struct volt_group *g = gw->group;

	pthread_mutex_lock(&g->lock);
	if (gw->waiter.linked)
		volt__waitlist_remove(&g->waiters, &gw->waiter);
	pthread_mutex_unlock(&g->lock);
	volt_waker_drop(&gw->waiter.waker);
}

static const struct volt_future_ops group_wait_ops = {
	.poll = group_wait_poll,
	.drop = group_wait_drop,
};

struct volt_future *volt_group_join(struct volt_group_wait *gw, struct volt_group *g)
{
	volt_future_init(&gw->base, &group_wait_ops);
	gw->group = g;
	gw->waiter.prev = gw->waiter.next = NULL;
	gw->waiter.waker.ops = NULL;
	gw->waiter.waker.data = NULL;
	gw->waiter.state = 0;
	gw->waiter.linked = 0;
	return &gw->base;
}

int volt_group_wait(struct volt_group *g)
{
	struct volt_group_wait gw;

	if (!g)
		return -EINVAL;
	return volt_block_on(g->rt, volt_group_join(&gw, g), NULL);
}
