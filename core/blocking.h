/* SPDX-License-Identifier: MIT */
/* core/blocking.h: the blocking pool's state in the runtime (core/blocking.c). */
#ifndef VOLT_CORE_BLOCKING_H
#define VOLT_CORE_BLOCKING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <volt.h>

struct volt__bthread;

struct volt__blocking_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;              /* idle threads wait here (CLOCK_MONOTONIC) */
	struct volt_blocking *head, *tail; /* queued jobs, FIFO */
	struct volt__bthread *records;    /* every thread started and not yet joined */
	unsigned threads, idle, running, peak;
	unsigned wakeups;                 /* idle threads signalled and not yet awake */
	unsigned max;
	uint64_t keep_alive_ns;
	bool shutdown;
};

int volt__blocking_init(struct volt__blocking_pool *p, const struct volt_config *cfg);

/*
 * Refuses new jobs, cancels the queued ones, lets the running ones finish
 * and joins every thread. Idempotent.
 */
void volt__blocking_shutdown(struct volt__blocking_pool *p);

/* True if a job is queued or running (the virtual clock holds meanwhile). */
bool volt__blocking_busy(struct volt__blocking_pool *p);

/*
 * Lets go of bf, an await whose owner was dropped while the job may still
 * run (a future of the library that keeps its job on the heap: net/resolve.c,
 * fs/op.c). Polls bf once more with an "orphan" waker: if the job is done,
 * release(bf) runs at once; otherwise the pool keeps the waker and its wake
 * runs release(bf) when the job ends. bf must not move until then, and
 * release must drop it (volt_future_drop) and free what holds it.
 */
void volt__blocking_orphan(struct volt_blocking_future *bf, struct volt_rt *rt,
			   void (*release)(struct volt_blocking_future *bf));

/* Frees the pool's lock and condition (after shutdown). */
void volt__blocking_fini(struct volt__blocking_pool *p);

#endif /* VOLT_CORE_BLOCKING_H */
