/* SPDX-License-Identifier: MIT */
/*
 * tests/model/models.c: small models of the work-stealing queues, run on
 * the real library code (built with -DVOLT_CHAOS) under the deterministic
 * scheduler.
 *
 * Every model is the same experiment at a different layer: an owner pushes
 * fake tasks (zeroed headers, known by their index) and pops, one or two
 * thieves steal, and each task must come out exactly once: a task seen twice
 * fails the run on the spot, a task never seen fails it at the end, after
 * the main thread has drained every queue. Sizes (how many tasks, thieves,
 * push kinds) are drawn from the run's seed, so they are part of the replay.
 *
 * - ringq, ringq_full: the bare ring (ringq.c). ringq_full starts the ring
 *   nearly full, so pushes wrap onto slots a thief may still be copying and
 *   overflow to the global queue both ways (half the ring, or one task while
 *   a thief is at work).
 * - ring_slot, runnext_slot: a worker's slot + ring through the `ring` and
 *   `runnext` policy ops (wsring.c), pushes as SPAWN or WAKE (the slot),
 *   thieves on their last pass (so runnext's slot is stealable).
 * - ring_overflow: the same with more pushes than the ring holds, so half
 *   the ring moves to the global queue and thieves contend for its lock.
 * - chaselev_last, chaselev_grow: the Chase-Lev deque through the `chaselev`
 *   ops: owner takes racing a thief over the last elements, and steals
 *   racing a push that grows the array past its 64 first slots.
 *
 * ringq_full and ring_overflow go through the global queue's lock; the
 * scheduler knows about it (sched.c), so a waiter never sleeps on it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/task.h"
#include "core/topology.h"
#include "schedulers/injector.h"
#include "schedulers/ringq.h"
#include "schedulers/sched.h"
#include "tests/model/models.h"

/* ---- exact-once accounting ---- */

struct tally {
	struct volt__task *tasks;
	unsigned *seen;
	unsigned n;
};

static void *zalloc(size_t size)
{
	size = (size + 63) & ~(size_t)63;

	void *p = aligned_alloc(64, size ? size : 64);

	if (!p) {
		perror("volt-model: aligned_alloc");
		exit(2);
	}
	memset(p, 0, size);
	return p;
}

static void tally_init(struct tally *T, unsigned n)
{
	T->n = n;
	T->tasks = zalloc(n * sizeof(*T->tasks));
	T->seen = zalloc(n * sizeof(*T->seen));
}

static void tally_fini(struct tally *T)
{
	free(T->tasks);
	free(T->seen);
}

/* Counts t (NULL: nothing) as taken by thread `who`; fails on a task seen
 * twice or a pointer that is no task. */
static void take(struct tally *T, struct volt__task *t, int who, const char *how)
{
	if (!t)
		return;

	uintptr_t off = (uintptr_t)t - (uintptr_t)T->tasks;
	unsigned i = (unsigned)(off / sizeof(*t));

	if ((uintptr_t)t < (uintptr_t)T->tasks || off % sizeof(*t) || i >= T->n)
		vm_fail("%s by %s%d returned %p, which is no task", how, who < 0 ? "main" : "T",
			who < 0 ? 0 : who, (void *)t);
	vm_log("%s -> task %u", how, i);
	if (T->seen[i]++)
		vm_fail("task %u taken twice (the second time by %s in %s)", i,
			who < 0 ? "main" : "a model thread", how);
}

/* Main, after the run: every task exactly once. */
static int tally_check(struct tally *T)
{
	for (unsigned i = 0; i < T->n; i++)
		if (T->seen[i] != 1) {
			vm_fail("task %u taken %u times (lost)", i, T->seen[i]);
			return -1;
		}
	return 0;
}

/* ---- ringq: owner push/pop vs steal-half ---- */

struct rq_model {
	struct tally T;
	struct volt__ringq *q[3]; /* q[0] the victim's, q[1..] the thieves' own */
	struct volt__injector overflow;
	struct volt__metrics *m;
	unsigned thieves, prefill, pushes, tries;
};

static void rq_body(unsigned id, void *arg)
{
	struct rq_model *M = arg;

	if (id == 0) {
		struct volt__task *t;

		for (unsigned i = 0; i < M->pushes; i++) {
			vm_log("push task %u", M->prefill + i);
			volt__ringq_push(M->q[0], &M->T.tasks[M->prefill + i], &M->overflow, M->m);
			if (vm_rand() % 3 == 0)
				take(&M->T, volt__ringq_pop(M->q[0]), 0, "pop");
		}
		while ((t = volt__ringq_pop(M->q[0])))
			take(&M->T, t, 0, "pop");
		return;
	}
	for (unsigned k = 0; k < M->tries; k++) {
		uint32_t n;

		if (volt__ringq_used(M->q[id]) > VOLT__RINGQ_CAP / 2)
			break; /* the contract: room for half a ring */
		take(&M->T, volt__ringq_steal(M->q[0], M->q[id], 0, &n), (int)id, "steal");
		if (vm_rand() % 2)
			take(&M->T, volt__ringq_pop(M->q[id]), (int)id, "pop own");
	}
}

static int rq_run(const struct vm_opts *o, bool full)
{
	struct rq_model M = { 0 };
	int ret;

	M.thieves = full ? 2 : 1 + (unsigned)(vm_rand() % 2);
	M.prefill = full ? 252 + (unsigned)(vm_rand() % 4) : 0;
	M.pushes = full ? 16 + (unsigned)(vm_rand() % 24) : 3 + (unsigned)(vm_rand() % 8);
	M.tries = 1 + (unsigned)(vm_rand() % 2);
	tally_init(&M.T, M.prefill + M.pushes);
	M.m = zalloc(sizeof(*M.m));
	for (unsigned i = 0; i <= M.thieves; i++) {
		M.q[i] = zalloc(sizeof(*M.q[i]));
		volt__ringq_init(M.q[i]);
	}
	if (volt__injector_init(&M.overflow))
		abort();
	for (unsigned i = 0; i < M.prefill; i++) /* main: no scheduling points */
		volt__ringq_push(M.q[0], &M.T.tasks[i], &M.overflow, M.m);

	ret = vm_run(o, 1 + M.thieves, rq_body, &M);
	if (!ret) {
		struct volt__task *t;
		size_t taken;

		for (unsigned i = 0; i <= M.thieves; i++)
			while ((t = volt__ringq_pop(M.q[i])))
				take(&M.T, t, -1, "drain");
		t = volt__injector_pop(&M.overflow, SIZE_MAX, &taken);
		for (struct volt__task *next; t; t = next) {
			next = t->next;
			take(&M.T, t, -1, "drain overflow");
		}
		for (unsigned i = 0; i <= M.thieves && !vm_failed(); i++)
			if (volt__ringq_len(M.q[i]) || volt__ringq_used(M.q[i]))
				vm_fail("ring %u not empty after draining", i);
		if (!vm_failed())
			tally_check(&M.T);
		ret = vm_failed() ? -1 : 0;
	}
	/* a failed run abandons its threads mid-operation: leak, don't tear down */
	if (!ret) {
		volt__injector_fini(&M.overflow);
		for (unsigned i = 0; i <= M.thieves; i++)
			free(M.q[i]);
		free(M.m);
		tally_fini(&M.T);
	}
	return ret;
}

static int model_ringq(const struct vm_opts *o)
{
	return rq_run(o, false);
}

static int model_ringq_full(const struct vm_opts *o)
{
	return rq_run(o, true);
}

/* ---- a policy through its ops (wsring flavours, chaselev) ---- */

struct ops_model {
	struct tally T;
	const struct volt__sched_ops *ops;
	void *state;
	struct volt_config cfg;
	struct volt__metrics *m;
	struct volt__topo *topo;
	unsigned workers, prefill, pushes, tries; /* main pushes tasks [0, prefill) first */
	bool wake;  /* pushes may be VOLT__PUSH_WAKE (into the slot) */
	bool bulk;  /* the owner pushes everything before it pops */
};

static void ops_body(unsigned id, void *arg)
{
	struct ops_model *M = arg;
	struct volt__task *t;
	bool lifo;

	if (id == 0) {
		for (unsigned i = M->prefill; i < M->pushes; i++) {
			enum volt__push how = M->wake && vm_rand() % 2 ? VOLT__PUSH_WAKE
								  : VOLT__PUSH_SPAWN;

			vm_log("push task %u (%s)", i, how == VOLT__PUSH_WAKE ? "wake" : "spawn");
			M->ops->push(M->state, 0, &M->T.tasks[i], how);
			if (!M->bulk && vm_rand() % 3 == 0)
				take(&M->T, M->ops->pop(M->state, 0, false, &lifo), 0, "pop");
		}
		while ((t = M->ops->pop(M->state, 0, false, &lifo)))
			take(&M->T, t, 0, "pop");
		return;
	}
	unsigned passes = M->cfg.search_rounds;

	for (unsigned k = 0; k < M->tries; k++) {
		/* the last pass: a stealable slot may be taken */
		take(&M->T, M->ops->steal(M->state, id, passes - 1, passes), (int)id, "steal");
		if (vm_rand() % 2)
			take(&M->T, M->ops->pop(M->state, id, false, &lifo), (int)id, "pop own");
	}
}

static int ops_run(const struct vm_opts *o, struct ops_model *M, const struct volt__sched_ops *ops)
{
	int ret;

	M->ops = ops;
	if (volt_config_init(&M->cfg))
		abort();
	/* the knobs the queues read, whatever the environment says */
	M->cfg.lifo = true;
	M->cfg.lifo_max_polls = 3;
	M->cfg.steal_batch = 0;
	M->cfg.search_rounds = 4;
	M->m = zalloc(M->workers * sizeof(*M->m));
	M->topo = zalloc(sizeof(*M->topo)); /* no flavour here reads distances */
	tally_init(&M->T, M->pushes);

	struct volt__sched_env env = { M->workers, o->seed, &M->cfg, M->m, M->topo };

	if (ops->init(&M->state, &env))
		abort();
	for (unsigned i = 0; i < M->prefill; i++) /* main: no scheduling points */
		ops->push(M->state, 0, &M->T.tasks[i], VOLT__PUSH_SPAWN);
	ret = vm_run(o, M->workers, ops_body, M);
	if (!ret) {
		struct volt__task *t;
		bool lifo;

		for (unsigned w = 0; w < M->workers; w++)
			while ((t = ops->pop(M->state, w, false, &lifo)))
				take(&M->T, t, -1, "drain");
		if (!vm_failed() && ops->has_work(M->state))
			vm_fail("has_work() after every queue was drained");
		if (!vm_failed())
			tally_check(&M->T);
		ret = vm_failed() ? -1 : 0;
	}
	if (!ret) {
		ops->fini(M->state);
		free(M->m);
		free(M->topo);
		tally_fini(&M->T);
	}
	return ret;
}

static int model_ring_slot(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .wake = true };

	M.pushes = 2 + (unsigned)(vm_rand() % 7);
	M.tries = 2;
	return ops_run(o, &M, &volt__sched_ring);
}

static int model_runnext_slot(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .wake = true };

	M.pushes = 2 + (unsigned)(vm_rand() % 7);
	M.tries = 2;
	return ops_run(o, &M, &volt__sched_runnext);
}

static int model_ring_overflow(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .wake = true };

	M.prefill = VOLT__RINGQ_CAP - 8;
	M.pushes = VOLT__RINGQ_CAP + 4 + (unsigned)(vm_rand() % 16);
	M.tries = 3;
	return ops_run(o, &M, &volt__sched_ring);
}

static int model_chaselev_last(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 2 };

	M.pushes = 1 + (unsigned)(vm_rand() % 4);
	M.tries = 3;
	return ops_run(o, &M, &volt__sched_chaselev);
}

static int model_chaselev_grow(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .bulk = true };

	M.pushes = 64 + 1 + (unsigned)(vm_rand() % 8); /* the array starts at 64 slots */
	M.tries = 3;
	return ops_run(o, &M, &volt__sched_chaselev);
}

/* teeth: the planted bugs (VOLT_MUTANT_*) each model must catch; a mutant
 * build checks them all (main.c, --expect-fail). */
const struct vm_model vm_models[] = {
	{ "ringq", "ring: owner push/pop vs 1-2 thieves stealing half", 35, model_ringq,
	  "RING_POP_NO_CAS" },
	{ "ringq_full", "ring started nearly full: wrap and overflow vs 2 thieves", 430,
	  model_ringq_full, "RING_POP_NO_CAS RING_STEAL_NO_GUARD" },
	{ "ring_slot", "`ring` policy: LIFO slot + ring vs 2 thieves", 66, model_ring_slot,
	  "RING_POP_NO_CAS" },
	{ "ring_overflow", "`ring` policy: the ring overflows to the global queue, thieves take from it",
	  560, model_ring_overflow, "RING_POP_NO_CAS" },
	{ "runnext_slot", "`runnext` policy: stealable slot + ring vs 2 thieves", 77,
	  model_runnext_slot, "RING_SLOT_STOLEN_TWICE RING_POP_NO_CAS" },
	{ "chaselev_last", "`chaselev`: owner take vs a thief over the last elements", 48,
	  model_chaselev_last, "CHASELEV_LAST_NO_CAS" },
	{ "chaselev_grow", "`chaselev`: 2 thieves vs pushes that grow the array", 600,
	  model_chaselev_grow, "CHASELEV_GROW_OLD_ARRAY" },
};

const unsigned vm_nmodels = sizeof(vm_models) / sizeof(vm_models[0]);
