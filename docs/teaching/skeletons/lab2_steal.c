/* SPDX-License-Identifier: MIT */
/*
 * docs/teaching/skeletons/lab2_steal.c: lab 2, work stealing.
 *
 * Lab 1's one queue is one lock that every worker fights over. Here each
 * worker gets its own queue: a worker pushes the tasks it spawns or wakes
 * onto its own queue and pops from it, so most operations touch a lock
 * nobody else wants. A worker whose queue is empty steals half of another
 * worker's queue. Tasks from threads outside the runtime (w < 0) go to one
 * global queue, which everyone looks at when their own queue is empty, and
 * first every global_interval ticks (core sets global_first then).
 *
 * The queues are the library's locked FIFO, schedulers/injector.h: the
 * queue you wrote in lab 1, plus batches (volt__injector_pop takes up to
 * `max` tasks under one lock, linked through next). The real policies use
 * lock-free queues instead (schedulers/ringq.c, chaselev.c); the shape of
 * the policy is the same.
 *
 * What to write (docs/teaching/lab2-work-stealing.md): push, pop,
 * steal_one (half of one victim's queue), steal, has_work. init and fini
 * are written. The contract is in schedulers/sched.h.
 * Test it: make lab-quick LAB_SRC=<this file>, then make lab LAB_SRC=...
 * The answer key: schedulers/wsring.c (volt__wsring_push/pop/steal, with
 * the LIFO slot of lab 3 and a lock-free ring in place of the locked
 * queue) and schedulers/steal.h.
 *
 * Every part still to write calls lab_todo(), which names it and aborts, so
 * an unfinished policy fails each test at once instead of hanging it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "core/task.h"
#include "schedulers/injector.h"
#include "schedulers/sched.h"
#include "schedulers/steal.h"

/* A part of the lab still to write: says which, and ends the test (unused
 * once every part is written). */
static _Noreturn __attribute__((unused)) void lab_todo(const char *what)
{
	fprintf(stderr, "lab: %s is not written yet (%s)\n", what, __FILE__);
	abort();
}

struct lab_worker {
	struct volt__injector q; /* this worker's queue */
	uint64_t rng;            /* where this worker's steal passes start */
};

struct lab {
	struct lab_worker *w;   /* w[0..n-1] */
	unsigned n;
	struct volt__injector global; /* pushes from outside the runtime */
	struct volt__metrics *metrics; /* metrics[w]: global_pops; steal.h counts steals */
};

static void lab_fini(void *state)
{
	struct lab *r = state;

	for (unsigned i = 0; i < r->n; i++)
		volt__injector_fini(&r->w[i].q);
	volt__injector_fini(&r->global);
	free(r->w);
	free(r);
}

static int lab_init(void **state, const struct volt__sched_env *env)
{
	struct lab *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->metrics = env->metrics;
	r->w = calloc(env->nworkers, sizeof(*r->w));
	if (!r->w || volt__injector_init(&r->global)) {
		free(r->w);
		free(r);
		return -ENOMEM;
	}
	for (; r->n < env->nworkers; r->n++) {
		if (volt__injector_init(&r->w[r->n].q)) {
			lab_fini(r);
			return -ENOMEM;
		}
		r->w[r->n].rng = volt__rng_stream(env->seed, r->n);
	}
	*state = r;
	return 0;
}

/*
 * Any thread: queues t. From a worker (w >= 0), onto w's own queue; from
 * outside the runtime (w < 0, how == VOLT__PUSH_REMOTE), onto the global
 * queue. True: another worker may have to be woken to help.
 */
static bool lab_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	(void)state;
	(void)w;
	(void)t;
	(void)how;
	lab_todo("push()");
}

/*
 * Worker w: the global queue first if global_first (and if it has a task),
 * then w's own queue, then the global queue. Count tasks taken from the
 * global queue in metrics[w].global_pops. No LIFO slot yet: *lifo = false.
 */
static struct volt__task *lab_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	(void)state;
	(void)w;
	(void)global_first;
	(void)lifo;
	lab_todo("pop()");
}

/*
 * Thief: takes half (rounded up) of victim's queue; returns one of those
 * tasks to run and puts the others on the thief's own queue; *stolen = how
 * many were taken. NULL if the victim had nothing. (volt__injector_pop
 * returns a NULL-terminated list; volt__injector_push wants its last task.)
 */
static struct volt__task *steal_one(void *state, unsigned victim, unsigned thief,
				    uint32_t *stolen)
{
	(void)state;
	(void)victim;
	(void)thief;
	*stolen = 0;
	lab_todo("steal_one()");
}

/*
 * Worker w, whose own queue is empty: one pass over the other workers
 * (volt__steal_pass in schedulers/steal.h does the visiting and counting,
 * calling steal_one), then the global queue. `pass` of `passes` matters
 * only to policies that treat the last pass differently.
 */
static struct volt__task *lab_steal(void *state, unsigned w, unsigned pass, unsigned passes)
{
	(void)state;
	(void)w;
	(void)pass;
	(void)passes;
	(void)steal_one;
	lab_todo("steal()");
}

/* Any worker: is a task waiting in any queue? */
static bool lab_has_work(void *state)
{
	(void)state;
	lab_todo("has_work()");
}

const struct volt__sched_ops volt__sched_lab = {
	.name = "lab",
	.workers = NULL,
	.init = lab_init,
	.fini = lab_fini,
	.push = lab_push,
	.pop = lab_pop,
	.steal = lab_steal,
	.has_work = lab_has_work,
};
