/* SPDX-License-Identifier: MIT */
/*
 * schedulers/wsring.c: ring-based work stealing (Tokio's multi-thread
 * scheduler; Go's with runnext; a topology-aware variant).
 *
 * Each worker owns a ringq (256 slots, steal-half; see ringq.c) and one slot
 * for the task to run next; one global injection queue (injector.h) takes
 * tasks from outside the runtime, yields' overflow and the overflow of full
 * rings.
 *
 * The slot holds the task most recently woken or spawned by the running
 * task (a message's receiver), so it runs next, hot in cache; the task it
 * displaces goes to the ring. Filling an empty slot wakes no other worker.
 * At most lifo_max_polls (default 3) tasks in a row run from it: after that
 * the slot's task goes to the back of the ring, so a pair of tasks waking
 * each other cannot starve the rest. Tasks from the slot keep the budget of
 * the task that woke them (core does not refill it; Tokio #5686). With
 * cfg.lifo off, wakes and spawns go straight to the ring.
 *
 * pop order: the global queue first when core says so (every
 * global_interval ticks), then the slot, the ring, and a batch from the
 * global queue (its fair share, len / workers + 1, at most 64, moved into
 * the ring under one lock).
 *
 * steal: a thief whose own ring is more than half full does not steal
 * (there is room for half a victim's ring, and it has work). It tries each
 * victim once per pass (random start, or nearest first for `by_distance`),
 * taking half its ring; on the last pass of a flavour with a stealable slot
 * it may also take a victim's slot; then the global queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/task.h"
#include "schedulers/injector.h"
#include "schedulers/ringq.h"
#include "schedulers/steal.h"
#include "schedulers/wsring.h"

#define GLOBAL_BATCH_MAX 64u
#define SLOT_GRACE_RELAXES 256 /* a few microseconds, in place of Go's usleep(3) */

struct ws_worker {
	struct volt__ringq q;
	/* the run-next slot: the owner's, or shared with thieves when stealable */
	VOLT__ALIGNED_LINE _Atomic(struct volt__task *) slot;
	unsigned slot_polls; /* owner: tasks in a row from the slot */
	uint64_t rng;
	uint8_t order[VOLT_MAX_WORKERS]; /* by_distance: victims, nearest first */
	uint8_t class_end[VOLT__DIST_REMOTE + 2]; /* order[] index where each class ends */
};

struct wsring {
	struct ws_worker *w;
	unsigned n;
	struct volt__wsring_flavor flavor;
	bool lifo;            /* cfg.lifo */
	unsigned lifo_max;    /* cfg.lifo_max_polls */
	uint32_t steal_batch; /* cfg.steal_batch, 0 = half */
	struct volt__metrics *metrics;
	struct volt__injector global;
};

/* by_distance: sort the other workers by distance class, once. */
static void build_order(struct ws_worker *q, unsigned self, const struct volt__topo *topo,
			unsigned n)
{
	unsigned k = 0;

	for (unsigned d = VOLT__DIST_CACHE; d <= VOLT__DIST_REMOTE; d++) {
		for (unsigned v = 0; v < n; v++)
			if (v != self && topo->dist[self][v] == d)
				q->order[k++] = (uint8_t)v;
		q->class_end[d] = (uint8_t)k;
	}
	q->class_end[VOLT__DIST_SELF] = 0;
}

int volt__wsring_init(void **state, const struct volt__sched_env *env,
		      const struct volt__wsring_flavor *flavor)
{
	struct wsring *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->n = env->nworkers;
	r->flavor = *flavor;
	r->metrics = env->metrics;
	r->lifo = env->cfg->lifo;
	r->lifo_max = env->cfg->lifo_max_polls;
	r->steal_batch = env->cfg->steal_batch;
	r->w = aligned_alloc(VOLT__CACHELINE, r->n * sizeof(*r->w));
	if (!r->w || volt__injector_init(&r->global)) {
		free(r->w);
		free(r);
		return -ENOMEM;
	}
	memset(r->w, 0, r->n * sizeof(*r->w));
	for (unsigned i = 0; i < r->n; i++) {
		struct ws_worker *q = &r->w[i];

		volt__ringq_init(&q->q);
		atomic_init(&q->slot, NULL);
		q->rng = volt__rng_stream(env->seed, i);
		if (flavor->by_distance)
			build_order(q, i, env->topo, r->n);
	}
	*state = r;
	return 0;
}

void volt__wsring_fini(void *state)
{
	struct wsring *r = state;

	volt__injector_fini(&r->global);
	free(r->w);
	free(r);
}

/* Owner: replaces the slot's task, returning the previous one. */
static struct volt__task *slot_swap(struct wsring *r, struct ws_worker *q, struct volt__task *t)
{
	if (r->flavor.slot_stealable)
		return volt__xchg(&q->slot, t, ACQ_REL); /* thieves race for it */
	/* relaxed: only the owner touches a private slot */
	struct volt__task *prev = atomic_load_explicit(&q->slot, RELAXED);

	atomic_store_explicit(&q->slot, t, RELAXED);
	return prev;
}

bool volt__wsring_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	struct wsring *r = state;

	if (w < 0 || how == VOLT__PUSH_REMOTE) {
		volt__injector_push(&r->global, t, t, 1);
		return true;
	}
	struct ws_worker *q = &r->w[w];

	if (r->lifo && (how == VOLT__PUSH_WAKE || how == VOLT__PUSH_SPAWN)) {
		struct volt__task *prev = slot_swap(r, q, t);

		if (!prev)
			return r->flavor.slot_stealable; /* ours to run next; a thief may help */
		t = prev;
	}
	volt__ringq_push(&q->q, t, &r->global, &r->metrics[w]);
	return true;
}

/* Moves a batch from the global queue into w's ring; returns one task to run. */
static struct volt__task *pop_global(struct wsring *r, unsigned w)
{
	struct ws_worker *q = &r->w[w];
	size_t room = VOLT__RINGQ_CAP - volt__ringq_used(&q->q);
	size_t max = volt__injector_len(&r->global) / r->n + 1;
	size_t taken;

	if (max > GLOBAL_BATCH_MAX)
		max = GLOBAL_BATCH_MAX;
	if (max > room)
		max = room ? room : 1;
	struct volt__task *t = volt__injector_pop(&r->global, max, &taken);

	if (!t)
		return NULL;
	volt__count_n(&r->metrics[w].global_pops, taken);
	for (struct volt__task *rest = t->next, *next; rest; rest = next) {
		next = rest->next;
		volt__ringq_push(&q->q, rest, &r->global, &r->metrics[w]);
	}
	return t;
}

struct volt__task *volt__wsring_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	struct wsring *r = state;
	struct ws_worker *q = &r->w[w];
	struct volt__task *t;

	*lifo = false;
	if (global_first) {
		t = pop_global(r, w);
		if (t)
			return t;
	}
	t = slot_swap(r, q, NULL);
	if (t) {
		if (q->slot_polls < r->lifo_max) {
			q->slot_polls++;
			*lifo = true;
			volt__count(&r->metrics[w].lifo_hits);
			return t;
		}
		volt__ringq_push(&q->q, t, &r->global, &r->metrics[w]); /* behind the others */
	}
	q->slot_polls = 0;
	t = volt__ringq_pop(&q->q);
	if (t)
		return t;
	return pop_global(r, w);
}

/* One victim: half its ring; on a last pass that allows it, its slot. */
static struct volt__task *steal_one(struct wsring *r, unsigned victim, unsigned thief,
				    bool take_slot, uint32_t *stolen)
{
	struct ws_worker *v = &r->w[victim];
	struct volt__task *t = volt__ringq_steal(&v->q, &r->w[thief].q, r->steal_batch, stolen);

	if (!t && take_slot && atomic_load_explicit(&v->slot, RELAXED)) {
		/* Go's courtesy (runqgrab): give a running owner a moment to take
		 * its own next task before snatching it */
		for (int i = 0; i < SLOT_GRACE_RELAXES; i++)
			volt__cpu_relax();
#ifdef VOLT_MUTANT_RING_SLOT_STOLEN_TWICE
		/* planted bug (tests/model): a load, then a separate store of NULL,
		 * so the owner can take the same task in between */
		t = volt__load(&v->slot, ACQUIRE);
		volt__store(&v->slot, NULL, RELEASE);
#else
		t = volt__xchg(&v->slot, NULL, ACQ_REL);
#endif
		*stolen = t != NULL;
	}
	return t;
}

static struct volt__task *steal_ring(void *state, unsigned victim, unsigned thief,
				     uint32_t *stolen)
{
	return steal_one(state, victim, thief, false, stolen);
}

static struct volt__task *steal_ring_and_slot(void *state, unsigned victim, unsigned thief,
					      uint32_t *stolen)
{
	return steal_one(state, victim, thief, true, stolen);
}

/* by_distance: each class nearest first, from a random start within the class. */
static struct volt__task *steal_by_distance(struct wsring *r, unsigned w, bool take_slot)
{
	struct ws_worker *q = &r->w[w];
	struct volt__metrics *m = &r->metrics[w];
	unsigned begin = 0;

	for (unsigned d = VOLT__DIST_CACHE; d <= VOLT__DIST_REMOTE; d++) {
		unsigned end = q->class_end[d], size = end - begin;
		/* one random start per class, then every victim of the class once */
		unsigned start = size ? (unsigned)(volt__xorshift64(&q->rng) % size) : 0;

		for (unsigned i = 0; i < size; i++) {
			unsigned v = q->order[begin + (start + i) % size];
			uint32_t stolen = 0;

			volt__count(&m->steals_tried);
			struct volt__task *t = steal_one(r, v, w, take_slot, &stolen);

			if (t) {
				volt__count(&m->steals_won);
				volt__count_n(&m->tasks_stolen, stolen);
				return t;
			}
		}
		begin = end;
	}
	return NULL;
}

struct volt__task *volt__wsring_steal(void *state, unsigned w, unsigned pass, unsigned passes)
{
	struct wsring *r = state;
	struct ws_worker *q = &r->w[w];
	bool take_slot = r->flavor.slot_stealable && pass + 1 == passes;
	struct volt__task *t;

	if (volt__ringq_used(&q->q) > VOLT__RINGQ_CAP / 2)
		return NULL; /* plenty to do; and room for half a victim's ring is guaranteed */
	if (r->flavor.by_distance)
		t = steal_by_distance(r, w, take_slot);
	else
		t = volt__steal_pass(r, r->n, w, &q->rng, &r->metrics[w],
				     take_slot ? steal_ring_and_slot : steal_ring);
	return t ? t : pop_global(r, w);
}

bool volt__wsring_has_work(void *state)
{
	struct wsring *r = state;

	if (volt__injector_len(&r->global))
		return true;
	for (unsigned i = 0; i < r->n; i++) {
		if (volt__ringq_len(&r->w[i].q))
			return true;
		/* relaxed: a hint; a stealable slot is work for others too */
		if (r->flavor.slot_stealable && atomic_load_explicit(&r->w[i].slot, RELAXED))
			return true;
	}
	return false;
}
