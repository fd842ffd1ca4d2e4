/* SPDX-License-Identifier: MIT */
/*
 * core/timers.h: the runtime's clock and timer wheels (core/timers.c): one
 * wheel per worker and one for threads outside the runtime, each under its
 * own lock; any worker fires any wheel's due timers.
 */
#ifndef VOLT_CORE_TIMERS_H
#define VOLT_CORE_TIMERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/atomic.h"
#include "core/timer_wheel.h"

struct volt_rt;
struct volt_cx;
struct volt__worker;

struct volt__timer_shard {
	VOLT__ALIGNED_LINE pthread_mutex_t lock;
	_Atomic uint64_t next; /* <= the wheel's next event tick; UINT64_MAX if empty */
	struct volt__wheel wheel;
};

struct volt__timers {
	struct volt__timer_shard *shards; /* nworkers + 1; the last is for other threads */
	unsigned nshards;
	bool virtual_clock;
	VOLT__ALIGNED_LINE _Atomic uint64_t virtual_ns;
	/* the timekeeper: the one parked worker that sleeps until the next deadline */
	VOLT__ALIGNED_LINE _Atomic int keeper;  /* its index, or -1 */
	_Atomic uint64_t keeper_tick;           /* the tick it sleeps until, UINT64_MAX none */
};

/* Park plans from volt__timers_park_begin (else: a CLOCK_MONOTONIC deadline in ns). */
#define VOLT__PARK_FOREVER UINT64_MAX
#define VOLT__PARK_NOT 0

int volt__timers_init(struct volt_rt *rt);
void volt__timers_fini(struct volt__timers *tm);

/* rt's clock in ns (virtual or CLOCK_MONOTONIC). */
uint64_t volt__clock_ns(const struct volt_rt *rt);

/*
 * Arms t for t->deadline on cx->rt's wheels with cx->waker (or keeps it
 * armed, updating the waker). False, with t disarmed, if the deadline has
 * come by `now` (rt's clock, read by the caller): the caller is ready.
 */
bool volt__timer_arm(struct volt_cx *cx, struct volt_timer *t, uint64_t now);

/* Takes t out of its wheel if it is there; afterwards no wheel refers to t. */
void volt__timer_disarm(struct volt_timer *t);

/* Fires every due timer of every wheel; returns how many fired. */
size_t volt__timers_fire(struct volt_rt *rt, struct volt__worker *w);

/*
 * Called by worker w after announcing its sleep (`last`: every other worker
 * sleeps too) and finding no work. Returns VOLT__PARK_NOT (timers are due,
 * or the virtual clock moved: do not sleep), VOLT__PARK_FOREVER, or the
 * deadline to sleep until as the timekeeper.
 */
uint64_t volt__timers_park_begin(struct volt_rt *rt, struct volt__worker *w, bool last);

/* After the park: gives up the timekeeper role if w held it. */
void volt__timers_park_end(struct volt_rt *rt, struct volt__worker *w);

#endif /* VOLT_CORE_TIMERS_H */
