/* SPDX-License-Identifier: MIT */
/* core/metrics.h: a worker's counters, each written by that worker only. */
#ifndef VOLT_CORE_METRICS_H
#define VOLT_CORE_METRICS_H

#include <stdint.h>

#include "core/atomic.h"

struct volt__metrics {
	_Atomic uint64_t polls;
	_Atomic uint64_t tasks_run;
	_Atomic uint64_t tasks_done;
	_Atomic uint64_t steals_tried;
	_Atomic uint64_t steals_won;
	_Atomic uint64_t tasks_stolen;
	_Atomic uint64_t parks;
	_Atomic uint64_t unparks;
	_Atomic uint64_t noop_wakes;
	_Atomic uint64_t global_pops;
	_Atomic uint64_t lifo_hits;
	_Atomic uint64_t budget_exhausted;
	_Atomic uint64_t overflow_moves;
	_Atomic uint64_t remote_spawns; /* the one counter bumped by any thread (RMW) */
	_Atomic uint64_t timers_fired;
	_Atomic uint64_t timer_wakes;
	_Atomic uint64_t tasks_spawned; /* from this worker; spawns from outside are remote_spawns */
};

#endif /* VOLT_CORE_METRICS_H */
