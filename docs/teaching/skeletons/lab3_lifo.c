/* SPDX-License-Identifier: MIT */
/*
 * docs/teaching/skeletons/lab3_lifo.c: lab 3, a LIFO slot.
 *
 * Lab 2's policy, written out, plus one slot per worker for "the task to run
 * next". When the running task wakes (or spawns) another one, that task goes
 * into the waking worker's slot instead of the back of its queue, and the
 * worker runs it next, while the message it was woken for is still in cache.
 * A task displaced from the slot goes to the back of the queue. Filling an
 * empty slot wakes no other worker (push returns false): the owner is
 * surely going to run it. Two rules keep the slot fair:
 * - at most cfg.lifo_max_polls tasks in a row come from the slot; after
 *   that its task goes to the back of the queue, so two tasks that wake
 *   each other forever cannot starve the rest of the queue;
 * - pop sets *lifo for a task from the slot, so core lets it keep the
 *   budget of the task that woke it instead of refilling it.
 * cfg.lifo = false (VOLT_LIFO=0) turns the slot off: every wake goes to the
 * queue, as in lab 2. The slot is the owner's alone here (Tokio's choice);
 * Go's runnext lets thieves take it too (an exercise in the lab text).
 *
 * What to write (docs/teaching/lab3-lifo-slot.md): slot_put and slot_take.
 * push and pop already call them. Count each task taken from the slot in
 * metrics[w].lifo_hits: lab 4 reads it.
 * Test it: make lab-quick LAB_SRC=<this file>, then make lab LAB_SRC=...
 * The answer key: slot_swap, volt__wsring_push and volt__wsring_pop in
 * schedulers/wsring.c (the `ring` policy's flavour of it).
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
	struct volt__task *slot; /* the task to run next; the owner's alone */
	unsigned slot_polls;     /* tasks in a row taken from the slot */
};

struct lab {
	struct lab_worker *w;   /* w[0..n-1] */
	unsigned n;
	struct volt__injector global; /* pushes from outside the runtime */
	struct volt__metrics *metrics; /* metrics[w]: global_pops, lifo_hits */
	bool lifo;                     /* cfg.lifo: the slot is on */
	unsigned lifo_max;             /* cfg.lifo_max_polls */
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
	r->lifo = env->cfg->lifo;
	r->lifo_max = env->cfg->lifo_max_polls;
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
 * Owner w: puts t in w's slot and returns the task that was there (NULL if
 * the slot was empty), which the caller then queues. Only worker w ever
 * touches its slot, so no lock or atomic is needed.
 */
static struct volt__task *slot_put(struct lab *r, unsigned w, struct volt__task *t)
{
	(void)r;
	(void)w;
	(void)t;
	lab_todo("slot_put()");
}

/*
 * Owner w: takes the slot's task to run next (setting *lifo and counting
 * metrics[w].lifo_hits) unless lifo_max tasks in a row came from the slot
 * already; then the slot's task goes to the back of w's queue instead, the
 * count starts again, and the result is NULL. NULL too if the slot is empty
 * (the count starts again: the worker is about to run a queued task).
 */
static struct volt__task *slot_take(struct lab *r, unsigned w, bool *lifo)
{
	(void)r;
	(void)w;
	(void)lifo;
	lab_todo("slot_take()");
}

/*
 * Any thread: queues t. From outside the runtime (w < 0), onto the global
 * queue; a wake or spawn by worker w's running task into w's slot when the
 * slot is on; anything else (and what the slot displaced) onto w's queue.
 * True: another worker may have to be woken to help; false when t went into
 * an empty slot, since w itself will run it next.
 */
static bool lab_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	struct lab *r = state;

	if (w < 0) {
		volt__injector_push(&r->global, t, t, 1);
		return true;
	}
	if (r->lifo && (how == VOLT__PUSH_WAKE || how == VOLT__PUSH_SPAWN)) {
		t = slot_put(r, (unsigned)w, t);
		if (!t)
			return false;
	}
	volt__injector_push(&r->w[w].q, t, t, 1);
	return true;
}

/*
 * Worker w: the global queue first if global_first (and if it has a task),
 * then w's slot, then w's own queue, then the global queue.
 */
static struct volt__task *lab_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	struct lab *r = state;
	struct volt__task *t = NULL;
	size_t taken;

	*lifo = false;
	if (global_first)
		t = volt__injector_pop(&r->global, 1, &taken);
	if (!t)
		t = slot_take(r, w, lifo);
	if (!t)
		t = volt__injector_pop(&r->w[w].q, 1, &taken);
	if (!t) {
		t = volt__injector_pop(&r->global, 1, &taken);
		if (t)
			volt__count(&r->metrics[w].global_pops);
	}
	return t;
}

/*
 * Thief: takes half (rounded up) of victim's queue (never its slot); returns
 * one of those tasks to run and puts the others on the thief's own queue;
 * *stolen = how many were taken. NULL if the victim had nothing.
 */
static struct volt__task *steal_one(void *state, unsigned victim, unsigned thief,
				    uint32_t *stolen)
{
	struct lab *r = state;
	size_t n = volt__injector_len(&r->w[victim].q), taken;
	struct volt__task *t, *last;

	*stolen = 0;
	t = volt__injector_pop(&r->w[victim].q, n - n / 2 ? n - n / 2 : 1, &taken);
	if (!t)
		return NULL;
	*stolen = (uint32_t)taken;
	if (t->next) {
		for (last = t->next; last->next; last = last->next)
			;
		volt__injector_push(&r->w[thief].q, t->next, last, taken - 1);
	}
	return t;
}

/*
 * Worker w, whose slot and queue are empty: one pass over the other workers
 * (volt__steal_pass in schedulers/steal.h), then the global queue.
 */
static struct volt__task *lab_steal(void *state, unsigned w, unsigned pass, unsigned passes)
{
	struct lab *r = state;
	struct volt__task *t;
	size_t taken;

	(void)pass;
	(void)passes;
	t = volt__steal_pass(r, r->n, w, &r->w[w].rng, &r->metrics[w], steal_one);
	if (!t) {
		t = volt__injector_pop(&r->global, 1, &taken);
		if (t)
			volt__count(&r->metrics[w].global_pops);
	}
	return t;
}

/* Any worker: is a task waiting in any queue? (A slot is its owner's
 * business: the owner runs it before it looks for work elsewhere.) */
static bool lab_has_work(void *state)
{
	struct lab *r = state;

	if (volt__injector_len(&r->global))
		return true;
	for (unsigned i = 0; i < r->n; i++)
		if (volt__injector_len(&r->w[i].q))
			return true;
	return false;
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
