/* SPDX-License-Identifier: MIT */
/*
 * schedulers/sim.c: `sim`, a deterministic scheduler for testing.
 *
 * One worker; the next task is a seeded random pick among all runnable
 * tasks (a uniform random scheduler in the sense of loom/shuttle's random
 * mode). With no outside thread feeding it, a run is a pure function of the
 * seed, so a failing interleaving is replayed by re-running its seed. Random
 * picks reach orders a FIFO never produces, which is what exposes a state
 * that a task wrongly assumes survives an await.
 *
 * The runnable set is an array (swap-remove on pop). If growing it fails,
 * the task goes to an overflow list instead, so push never fails; the
 * overflow is drained in FIFO order once the array is empty.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/rng.h"
#include "core/task.h"
#include "schedulers/sched.h"

struct sim {
	pthread_mutex_t lock;
	struct volt__task **v;
	size_t n, cap;
	struct volt__task *ovf_head, *ovf_tail;
	_Atomic size_t len; /* n + overflow length, a hint for has_work */
	uint64_t rng;
	struct volt__metrics *metrics;
};

static unsigned sim_workers(unsigned n)
{
	(void)n;
	return 1;
}

static int sim_init(void **state, const struct volt__sched_env *env)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return -ENOMEM;
	}
	s->rng = env->seed;
	s->metrics = env->metrics;
	atomic_init(&s->len, 0);
	*state = s;
	return 0;
}

static void sim_fini(void *state)
{
	struct sim *s = state;

	pthread_mutex_destroy(&s->lock);
	free(s->v);
	free(s);
}

static bool sim_grow(struct sim *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64;
	struct volt__task **v = realloc(s->v, cap * sizeof(*v));

	if (!v)
		return false;
	s->v = v;
	s->cap = cap;
	return true;
}

static bool sim_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	struct sim *s = state;

	(void)w;
	(void)how;
	pthread_mutex_lock(&s->lock);
	if (s->n < s->cap || sim_grow(s)) {
		s->v[s->n++] = t;
	} else {
		t->next = NULL;
		if (s->ovf_tail)
			s->ovf_tail->next = t;
		else
			s->ovf_head = t;
		s->ovf_tail = t;
	}
	/* relaxed: the lock orders the set; len is a hint (see sched.h on has_work) */
	volt__store(&s->len, atomic_load_explicit(&s->len, RELAXED) + 1, RELAXED);
	pthread_mutex_unlock(&s->lock);
	return true;
}

static struct volt__task *sim_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	struct sim *s = state;
	struct volt__task *t = NULL;

	(void)global_first;
	*lifo = false;
	pthread_mutex_lock(&s->lock);
	if (s->n) {
		size_t i = (size_t)(volt__splitmix64(&s->rng) % s->n);

		t = s->v[i];
		s->v[i] = s->v[--s->n];
	} else if (s->ovf_head) {
		t = s->ovf_head;
		s->ovf_head = t->next;
		if (!s->ovf_head)
			s->ovf_tail = NULL;
	}
	if (t)
		volt__store(&s->len, atomic_load_explicit(&s->len, RELAXED) - 1, RELAXED);
	pthread_mutex_unlock(&s->lock);
	if (t)
		volt__count(&s->metrics[w].global_pops);
	return t;
}

static bool sim_has_work(void *state)
{
	struct sim *s = state;

	return volt__load(&s->len, RELAXED) != 0; /* relaxed: see sched.h */
}

const struct volt__sched_ops volt__sched_sim = {
	.name = "sim",
	.workers = sim_workers,
	.init = sim_init,
	.fini = sim_fini,
	.push = sim_push,
	.pop = sim_pop,
	.steal = NULL,
	.has_work = sim_has_work,
};
