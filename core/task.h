/* SPDX-License-Identifier: MIT */
/*
 * core/task.h: the task header and its state word.
 *
 * A task is one allocation: this 64-byte header, then the future inline.
 *
 * The state word (one atomic u64) is the whole protocol:
 *
 *   bit  0 RUNNING        a worker is inside poll() (or dropping the future)
 *   bit  1 NOTIFIED       the task is runnable: queued, or will be re-queued
 *                         when the current poll ends
 *   bit  2 COMPLETE       the future is dropped and the result is written
 *   bit  3 CANCELLED      cancellation was requested
 *   bit  4 JOIN_INTEREST  a join handle exists
 *   bit  5 JOIN_WAKER     join_waker is set; while the task is not COMPLETE
 *                         the join side owns the field, after it the task side
 *   bit  6 RESULT_CANCELLED  the task completed by cancellation
 *   bit  7 GROUPED        (fixed at spawn) the task belongs to a group
 *   bits 8-11 CLASS       (fixed at spawn) slab size class, 15 = large
 *   bits 16-63            reference count
 *
 * Invariants. A wake sets NOTIFIED; only the wake that sets it (on a task that
 * is neither RUNNING nor COMPLETE) pushes the task, so a task is in at most one
 * queue, once. A wake that lands while RUNNING only sets NOTIFIED; the worker
 * sees it when the poll ends and re-queues the task, so no wake is lost. Only a
 * worker that moved the task to RUNNING may drop the future, and it sets
 * COMPLETE in the same step that clears RUNNING, so the future is dropped once.
 *
 * References: one "lifecycle" reference from spawn until completion (so a
 * queued task is always alive and queues hold no references), one for the join
 * handle, one per waker clone. The memory returns to the slab at zero.
 *
 * The join-waker hand-off follows Tokio's harness (task/state.rs): the side that
 * clears JOIN_WAKER owns the waker stored in join_waker.
 */
#ifndef VOLT_CORE_TASK_H
#define VOLT_CORE_TASK_H

#include <volt.h>

#include "core/atomic.h"

#define VOLT__T_RUNNING (1ull << 0)
#define VOLT__T_NOTIFIED (1ull << 1)
#define VOLT__T_COMPLETE (1ull << 2)
#define VOLT__T_CANCELLED (1ull << 3)
#define VOLT__T_JOIN_INTEREST (1ull << 4)
#define VOLT__T_JOIN_WAKER (1ull << 5)
#define VOLT__T_RESULT_CANCELLED (1ull << 6)
#define VOLT__T_GROUPED (1ull << 7)
#define VOLT__T_CLASS_SHIFT 8
#define VOLT__T_CLASS_MASK (0xfull << VOLT__T_CLASS_SHIFT)
#define VOLT__T_REF_SHIFT 16
#define VOLT__T_REF_ONE (1ull << VOLT__T_REF_SHIFT)

struct volt__task {
	_Atomic uint64_t state;
	struct volt__task *next; /* run-queue or free-list link */
	struct volt_rt *rt;
	struct volt_waker join_waker;
	union {
		void *output; /* valid once COMPLETE, for a task with a join handle */
		struct {      /* while a grouped task is live */
			struct volt_group *group;
			struct volt__task *prev, *next;
		} g;
	} u;
};

_Static_assert(sizeof(struct volt__task) == VOLT_TASK_HEADER_SIZE,
	       "the task header is one cache line");

static inline struct volt_future *volt__task_future(struct volt__task *t)
{
	return (struct volt_future *)(t + 1);
}

static inline unsigned volt__task_class(uint64_t state)
{
	return (unsigned)((state & VOLT__T_CLASS_MASK) >> VOLT__T_CLASS_SHIFT);
}

struct volt__worker;

/* Spawn into rt (and into group g when not NULL). See volt_spawn. */
int volt__spawn(struct volt_rt *rt, struct volt_group *g, const struct volt_future *f,
		size_t size, struct volt_join **join);

/* The same; placed(copy) runs on the task's copy of the future before it is queued. */
int volt__spawn_with(struct volt_rt *rt, struct volt_group *g, const struct volt_future *f,
		     size_t size, struct volt_join **join, void (*placed)(struct volt_future *));

int volt__spawn_fn(struct volt_rt *rt, struct volt_group *g, void *(*fn)(void *arg), void *arg,
		   struct volt_join **join);

/*
 * Moves a popped task to RUNNING, polls it (or drops it if cancelled). The
 * budget is refilled unless keep_budget (a task from a LIFO slot).
 */
void volt__task_run(struct volt__worker *w, struct volt__task *t, bool keep_budget);

/* Requests cancellation; schedules an idle task so a worker drops it. */
void volt__task_cancel(struct volt__task *t);

/* At shutdown, with no worker running: drops a live task's future once. */
void volt__task_shutdown(struct volt__task *t);

void volt__task_ref_dec(struct volt__task *t);

/* Group hooks (core/group.c). */
int volt__group_attach(struct volt_group *g, struct volt__task *t);
void volt__group_detach(struct volt__task *t);

#endif /* VOLT_CORE_TASK_H */
