/* SPDX-License-Identifier: MIT */
/*
 * schedulers/injector.h: a FIFO of tasks behind a mutex, linked through the
 * tasks' `next` fields: the `global` policy's only queue, and the injection
 * queue of the work-stealing policies (outside spawns, overflow, yields).
 * Batches go in and out under one lock acquisition. `len` is written under
 * the lock and read without it as a hint (see sched.h on has_work).
 */
#ifndef VOLT_SCHED_INJECTOR_H
#define VOLT_SCHED_INJECTOR_H

#include <pthread.h>
#include <stddef.h>

#include "core/atomic.h"

struct volt__task;

struct volt__injector {
	VOLT__ALIGNED_LINE pthread_mutex_t lock;
	struct volt__task *head, *tail;
	VOLT__ALIGNED_LINE _Atomic size_t len;
};

int volt__injector_init(struct volt__injector *q);
void volt__injector_fini(struct volt__injector *q);

/* Appends the n tasks first..last, already linked through next. */
void volt__injector_push(struct volt__injector *q, struct volt__task *first,
			 struct volt__task *last, size_t n);

/* Takes up to max tasks (max >= 1): the first is returned, the rest follow
 * through next, NULL-terminated; *taken says how many. NULL if empty. */
struct volt__task *volt__injector_pop(struct volt__injector *q, size_t max, size_t *taken);

static inline size_t volt__injector_len(struct volt__injector *q)
{
	return volt__load(&q->len, RELAXED); /* relaxed: a hint; see above */
}

#endif /* VOLT_SCHED_INJECTOR_H */
