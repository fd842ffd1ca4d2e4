/* SPDX-License-Identifier: MIT */
/*
 * tests/helpers.h: runtime set-up and small futures shared by the tests.
 *
 * - vt_rt_new(): a runtime for the policy under test, built through
 *   volt_config_init() (so VOLT_SCHED set by the runner applies) and checked
 *   to really run that policy. `sim` always gets one worker.
 * - struct vt_gate: a manual-reset event for tasks (an intrusive waiter list
 *   under a mutex); vt_gate_wait() is the future that waits for it. Its
 *   drop unlinks the waiter, so a cancelled waiter leaves nothing behind.
 * - struct vt_forever: a future that is pending forever (optionally holding a
 *   clone of its waker) and counts its polls and drops.
 * - struct vt_blocker: a future that holds its worker (spinning) until told
 *   to let go, to keep a one-worker runtime busy.
 * - VT_WAIT_FOR(cond): sleeps in short naps until cond holds; there is no
 *   deadline of its own, the runner's per-case timeout is the deadline.
 */
#ifndef VOLT_TESTS_HELPERS_H
#define VOLT_TESTS_HELPERS_H

#include <pthread.h>
#include <stdatomic.h>

#include "volt.h"
#include "runner.h"

/* Workers for a test that asks for n: the sim policy runs exactly one. */
unsigned vt_workers(const char *policy, unsigned n);

/* volt_config_init() must succeed; then workers = vt_workers(policy, n). */
void vt_cfg(struct volt_config *cfg, const char *policy, unsigned workers);

/* A runtime for `policy` (from the environment) with vt_workers(policy, n). */
struct volt_rt *vt_rt_new(const char *policy, unsigned workers);

bool vt_is_sim(const char *policy);

void vt_sleep_us(long us);

#define VT_WAIT_FOR(cond)                       \
	do {                                    \
		while (!(cond))                 \
			vt_sleep_us(200);       \
	} while (0)

/* Spawns a copy of *fut, which must succeed; returns the handle (or NULL if detached). */
struct volt_join *vt_spawn(struct volt_rt *rt, const void *fut, size_t size, bool detached);

/* Joins j, which must complete (result 0); returns its output. */
void *vt_join(struct volt_join *j);

/* ---- gate: a manual-reset event */

struct vt_gate {
	pthread_mutex_t lock;
	atomic_bool open;
	struct volt_waiter head; /* circular list of waiting futures */
	atomic_int waiting;      /* waiters linked right now */
};

void vt_gate_init(struct vt_gate *g);
void vt_gate_open(struct vt_gate *g); /* wakes every waiter; later waits are ready at once */
void vt_gate_destroy(struct vt_gate *g);

struct vt_gate_wait {
	struct volt_future base;
	struct vt_gate *gate;
	struct volt_waiter waiter;
	atomic_int *drops; /* incremented by drop, may be NULL */
};

struct volt_future *vt_gate_wait(struct vt_gate_wait *w, struct vt_gate *g, atomic_int *drops);

/* ---- a blocker: holds its worker */

struct vt_blocker {
	struct volt_future base;
	atomic_bool *started; /* set when the poll begins */
	atomic_bool *release; /* the poll yields the CPU until this is set, then is ready */
};

/* A blocker that sets *started, then holds its worker until *release. */
void vt_blocker_init(struct vt_blocker *b, atomic_bool *started, atomic_bool *release);

/* ---- a future that never completes */

struct vt_forever {
	struct volt_future base;
	bool keep_waker;          /* hold a clone of the waker while pending */
	struct volt_waker waker;  /* that clone (ops NULL when none) */
	atomic_int *polls;        /* may be NULL */
	atomic_int *drops;        /* may be NULL */
	atomic_int *drop_slot;    /* per-task counter, may be NULL */
};

void vt_forever_init(struct vt_forever *f, bool keep_waker, atomic_int *polls,
		     atomic_int *drops, atomic_int *drop_slot);

/* The JSON text volt_metrics_write_json gives for rt (malloc'd, for the caller to free). */
char *vt_metrics_json(struct volt_rt *rt);

#endif /* VOLT_TESTS_HELPERS_H */
