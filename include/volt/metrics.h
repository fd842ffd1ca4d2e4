/* SPDX-License-Identifier: MIT */
/*
 * volt/metrics.h: per-worker counters. Each worker writes only its own
 * counters (relaxed atomics); a snapshot is a consistent-enough read for
 * reporting, not a linearisable one.
 */
#ifndef VOLT_METRICS_H
#define VOLT_METRICS_H

#include <stdio.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_worker_metrics {
	uint64_t polls;          /* future polls */
	uint64_t tasks_run;      /* tasks picked from a queue and run */
	uint64_t tasks_done;     /* tasks completed (or cancelled) here */
	uint64_t steals_tried;   /* steal attempts on a victim */
	uint64_t steals_won;     /* attempts that took at least one task */
	uint64_t tasks_stolen;   /* tasks taken by those steals */
	uint64_t parks;          /* times the worker slept */
	uint64_t unparks;        /* times it was woken by another thread */
	uint64_t noop_wakes;     /* wakes after which it found no work */
	uint64_t global_pops;    /* tasks taken from a shared/injection queue */
	uint64_t lifo_hits;      /* tasks run from a LIFO slot */
	uint64_t budget_exhausted; /* polls that ran out of cooperative budget */
	uint64_t overflow_moves; /* tasks moved from a full local queue to the global one */
	uint64_t remote_spawns;  /* tasks pushed from outside any worker (counted on worker 0) */
	uint64_t timers_fired;   /* timers this worker found due and fired */
	uint64_t timer_wakes;    /* parks that ended at a timer deadline (the timekeeper's) */
	uint64_t tasks_spawned;  /* tasks spawned by tasks on this worker (outside: remote_spawns) */
};

/*
 * Tasks alive in the totals t: spawned (on workers and from outside) and
 * not yet completed or cancelled. The counters are relaxed and read one
 * worker after another, so while tasks run the figure is approximate (it
 * may even be negative for a moment); with nothing running it settles to
 * the exact count. Tasks dropped by the shutdown are never counted as done.
 */
static inline int64_t volt_metrics_live_tasks(const struct volt_worker_metrics *t)
{
	return (int64_t)(t->tasks_spawned + t->remote_spawns - t->tasks_done);
}

/* Copies worker w's counters. 0, or -EINVAL if w is out of range. */
VOLT_API int volt_metrics_worker(const struct volt_rt *rt, unsigned w,
				 struct volt_worker_metrics *out);

/* Sums every worker's counters into *out. */
VOLT_API void volt_metrics_total(const struct volt_rt *rt, struct volt_worker_metrics *out);

/* Writes {"scheduler":..,"workers":[{..},..],"total":{..}} to f. 0 or -EIO. */
VOLT_API int volt_metrics_write_json(const struct volt_rt *rt, FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_METRICS_H */
