/* SPDX-License-Identifier: MIT */
/*
 * schedulers/sched.h: the scheduler-policy interface.
 *
 * A policy is queues only. Core owns the worker loop, the task state word,
 * parking, budget and shutdown; a policy decides where a runnable task waits
 * and which one a worker takes next. Each policy is one file defining one
 * `const struct volt__sched_ops`, listed in schedulers/registry.c; the
 * runtime picks it by name, so one binary runs every policy.
 *
 * Contract, shared by every policy:
 * - push() receives a task exactly once per time it becomes runnable (the
 *   NOTIFIED bit of the task state guarantees no task is pushed twice
 *   before it is popped). It may be called from any thread; `w` is the
 *   calling worker's index or -1 for a thread outside the runtime. It
 *   cannot fail. It returns true if another worker may have to be woken for
 *   the task (false when the calling worker will surely run it itself, as
 *   with a LIFO slot that was empty).
 * - pop() and steal() are called only by worker `w` itself. A task
 *   returned is owned by the caller. pop() sets *lifo when the task came
 *   from a LIFO slot: core then keeps the task's budget running instead of
 *   refilling it, so a ping-pong pair cannot monopolise a worker.
 *   steal() may be NULL. `global_first` asks pop() to look at any shared
 *   queue before the worker's own (core sets it every global_interval
 *   ticks, fixed or self-tuned), so injected tasks are not starved.
 * - has_work() may be called by any worker. It must see every task whose
 *   push happened-before the call: core calls it after an acq_rel RMW on the
 *   idle word that the pushing side also performs after its push (see
 *   core/idle.c), so policies need no stronger ordering than that.
 * - the task's `next` field is the policy's to use while the task is queued.
 * - fini() frees the policy's memory; tasks still queued are not touched
 *   (the runtime reclaims them by scanning its task slabs).
 */
#ifndef VOLT_SCHED_H
#define VOLT_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "core/metrics.h"
#include "core/topology.h"

struct volt__task;
struct volt_config;

enum volt__push {
	VOLT__PUSH_SPAWN,  /* a new task, from a worker */
	VOLT__PUSH_WAKE,   /* woken by the task running on this worker (LIFO candidate) */
	VOLT__PUSH_YIELD,  /* re-queued after its own poll: goes behind the others */
	VOLT__PUSH_REMOTE, /* from a thread outside the runtime */
};

struct volt__sched_env {
	unsigned nworkers;
	uint64_t seed;
	const struct volt_config *cfg;    /* the knobs: lifo, lifo_max_polls, steal_batch... */
	struct volt__metrics *metrics;    /* metrics[w] for worker w */
	const struct volt__topo *topo;    /* steal distances between workers */
};

struct volt__sched_ops {
	const char *name;
	/* Workers this policy runs for a request of n (NULL: n). */
	unsigned (*workers)(unsigned n);
	int (*init)(void **state, const struct volt__sched_env *env); /* 0 or -errno */
	void (*fini)(void *state);
	bool (*push)(void *state, int w, struct volt__task *t, enum volt__push how);
	struct volt__task *(*pop)(void *state, unsigned w, bool global_first, bool *lifo);
	/* Pass `pass` of `passes` (cfg.search_rounds) over the victims. */
	struct volt__task *(*steal)(void *state, unsigned w, unsigned pass, unsigned passes);
	bool (*has_work)(void *state);
	/* Searching workers are capped at half the busy ones (Go's spinning Ms)
	 * rather than half of all workers (Tokio); cfg.max_searching wins. */
	bool search_cap_busy;
};

/* The policy named `name`, or NULL. */
const struct volt__sched_ops *volt__sched_find(const char *name);

extern const struct volt__sched_ops volt__sched_global;
extern const struct volt__sched_ops volt__sched_sim;
extern const struct volt__sched_ops volt__sched_ring;
extern const struct volt__sched_ops volt__sched_chaselev;
extern const struct volt__sched_ops volt__sched_runnext;
extern const struct volt__sched_ops volt__sched_numa;

#endif /* VOLT_SCHED_H */
