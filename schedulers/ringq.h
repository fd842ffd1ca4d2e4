/* SPDX-License-Identifier: MIT */
/*
 * schedulers/ringq.h: a fixed 256-slot ring of tasks: one owner pushes and
 * pops, any number of thieves steal half. The lock-free queue under the
 * ring, runnext and numa policies (the algorithm is described in ringq.c).
 */
#ifndef VOLT_SCHED_RINGQ_H
#define VOLT_SCHED_RINGQ_H

#include <stdint.h>

#include "core/atomic.h"
#include "core/metrics.h"

#define VOLT__RINGQ_CAP 256u

struct volt__task;
struct volt__injector;

struct volt__ringq {
	VOLT__ALIGNED_LINE _Atomic uint64_t head; /* steal << 32 | real */
	VOLT__ALIGNED_LINE _Atomic uint32_t tail;
	VOLT__ALIGNED_LINE struct volt__task *buf[VOLT__RINGQ_CAP];
};

void volt__ringq_init(struct volt__ringq *q);

/*
 * Owner: appends t. A full ring moves half its tasks and t to `overflow`
 * (counted in m->overflow_moves) in one locked batch.
 */
void volt__ringq_push(struct volt__ringq *q, struct volt__task *t,
		      struct volt__injector *overflow, struct volt__metrics *m);

/* Owner: takes the oldest task, or NULL. */
struct volt__task *volt__ringq_pop(struct volt__ringq *q);

/* Owner: slots in use, counting those a thief is still copying. */
uint32_t volt__ringq_used(struct volt__ringq *q);

/* Anyone: tasks waiting (a snapshot). */
uint32_t volt__ringq_len(struct volt__ringq *q);

/*
 * Thief (the owner of dst): moves half of src's tasks (at most batch if
 * batch > 0) into dst and returns one of them to run; *stolen = how many
 * were taken. NULL if src was empty or another thief was at work on it.
 * dst must have room for half a ring (volt__ringq_used(dst) <= CAP / 2).
 */
struct volt__task *volt__ringq_steal(struct volt__ringq *src, struct volt__ringq *dst,
				     uint32_t batch, uint32_t *stolen);

#endif /* VOLT_SCHED_RINGQ_H */
