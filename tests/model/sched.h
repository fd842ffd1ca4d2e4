/* SPDX-License-Identifier: MIT */
/*
 * tests/model/sched.h: a deterministic scheduler for real threads, the core
 * of the queue model checker (build/model/volt-model; docs/model-checking.md).
 *
 * A run starts a few model threads (pthreads). Exactly one of them runs at a
 * time; every atomic operation of the library, built with -DVOLT_CHAOS, first
 * calls volt__chaos_point(), and there the scheduler picks which model thread
 * continues. The pick comes from a PRNG seeded by the run's seed, so a run is
 * a pure function of its seed and a failing one is replayed by its seed.
 * Threads that are not model threads (the harness's main thread) pass
 * through the points untouched.
 */
#ifndef VOLT_MODEL_SCHED_H
#define VOLT_MODEL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define VM_MAX_THREADS 8

enum vm_strategy {
	VM_RANDOM, /* at every point, a uniformly random runnable thread */
	VM_PCT,    /* probabilistic concurrency testing, `depth` priority changes */
};

struct vm_opts {
	uint64_t seed;
	enum vm_strategy strategy;
	unsigned pct_depth;      /* PCT: d; d - 1 priority change points */
	unsigned long pct_steps; /* PCT: change points fall in [1, pct_steps] */
	unsigned long max_steps; /* a run longer than this fails (livelock) */
	bool trace;              /* print every switch and vm_log() line */
};

/*
 * Starts a run: clears the last failure and seeds the main thread's vm_rand()
 * from o->seed, so the set-up a model draws before vm_run is part of the
 * seed's run too.
 */
void vm_prepare(const struct vm_opts *o);

/* One model thread's code; `id` is 0..nthreads-1. */
typedef void (*vm_body)(unsigned id, void *arg);

/*
 * After vm_prepare(o): runs body(0..nthreads-1, arg) on nthreads model threads under the
 * schedule of o->seed, and returns once all have finished or the run
 * failed. Returns 0, or -1 if it failed (vm_message() says why).
 */
int vm_run(const struct vm_opts *o, unsigned nthreads, vm_body body, void *arg);

/*
 * Fails the run with a message. In a model thread the run stops here (every
 * model thread is abandoned where it stands); in the main thread (checks
 * after vm_run) it only records the failure.
 */
void vm_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool vm_failed(void);
const char *vm_message(void);
unsigned long vm_steps(void);       /* scheduling points of the last run */
uint64_t vm_schedule_hash(void);    /* a hash of the last run's picks */

/* The calling model thread's own PRNG (seeded from the run's seed and its
 * id), or the main thread's (seeded from the seed) outside model threads. */
uint64_t vm_rand(void);

/* With trace on, prints a line tagged with the step and the thread. */
void vm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parks the calling model thread until *flag is nonzero (at once if it is):
 * meanwhile the scheduler does not pick it. A model's waker sets the flag
 * (with a volt__ atomic, so at a point). If every unfinished thread is
 * parked or waits for a lock, the run fails as a deadlock: a lost wakeup.
 */
void vm_park(_Atomic uint32_t *flag);

/* The scheduling point the library calls before each atomic op. */
void volt__chaos_point(void);

#endif /* VOLT_MODEL_SCHED_H */
