/* SPDX-License-Identifier: MIT */
/*
 * schedulers/global.c: `global`, one shared FIFO queue behind a mutex that
 * every worker pops. The naive baseline the other policies are measured
 * against: no locality, one lock contended by every spawn, wake and pop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/task.h"
#include "schedulers/sched.h"

struct global {
	VOLT__ALIGNED_LINE pthread_mutex_t lock;
	struct volt__task *head, *tail;
	VOLT__ALIGNED_LINE _Atomic size_t len; /* a hint for lock-free emptiness checks */
	struct volt__metrics *metrics;
};

static int global_init(void **state, const struct volt__sched_env *env)
{
	struct global *q = aligned_alloc(VOLT__CACHELINE, sizeof(*q));

	if (!q)
		return -ENOMEM;
	if (pthread_mutex_init(&q->lock, NULL)) {
		free(q);
		return -ENOMEM;
	}
	q->head = q->tail = NULL;
	atomic_init(&q->len, 0);
	q->metrics = env->metrics;
	*state = q;
	return 0;
}

static void global_fini(void *state)
{
	struct global *q = state;

	pthread_mutex_destroy(&q->lock);
	free(q);
}

static bool global_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	struct global *q = state;

	(void)w;
	(void)how;
	t->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = t;
	else
		q->head = t;
	q->tail = t;
	/* relaxed: the lock orders the list; len is a hint (see sched.h on has_work) */
	volt__store(&q->len, atomic_load_explicit(&q->len, RELAXED) + 1, RELAXED);
	pthread_mutex_unlock(&q->lock);
	return true;
}

static struct volt__task *global_pop(void *state, unsigned w, uint64_t tick, bool *lifo)
{
	struct global *q = state;
	struct volt__task *t;

	(void)tick;
	*lifo = false;
	if (!volt__load(&q->len, RELAXED)) /* relaxed: a miss is caught by the idle protocol */
		return NULL;
	pthread_mutex_lock(&q->lock);
	t = q->head;
	if (t) {
		q->head = t->next;
		if (!q->head)
			q->tail = NULL;
		volt__store(&q->len, atomic_load_explicit(&q->len, RELAXED) - 1, RELAXED);
	}
	pthread_mutex_unlock(&q->lock);
	if (t)
		volt__count(&q->metrics[w].global_pops);
	return t;
}

static bool global_has_work(void *state)
{
	struct global *q = state;

	return volt__load(&q->len, RELAXED) != 0; /* relaxed: see sched.h */
}

const struct volt__sched_ops volt__sched_global = {
	.name = "global",
	.workers = NULL,
	.init = global_init,
	.fini = global_fini,
	.push = global_push,
	.pop = global_pop,
	.steal = NULL,
	.has_work = global_has_work,
};
