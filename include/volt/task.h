/* SPDX-License-Identifier: MIT */
/*
 * volt/task.h: spawning stackless tasks, join handles, blocking on a future.
 *
 * A task is one allocation: a 64-byte header followed by a copy of the
 * future. volt_spawn() copies `size` bytes starting at `f` into the task, so
 * the future must be movable until its first poll (a freshly initialised
 * struct is). The task owns the copy; the caller's struct is untouched.
 *
 * Cancellation (volt_join_cancel) asks the task to stop at its next
 * scheduling point:
 * - before its first poll: it is never polled; its future is dropped;
 * - while pending: it is scheduled, and the worker drops its future instead
 *   of polling it;
 * - while being polled: the poll finishes; if it returned VOLT_PENDING the
 *   future is dropped at once, if VOLT_READY the output stands;
 * - after completion, or a second time: no effect.
 * The future's drop runs exactly once in every case. A join on a cancelled
 * task returns -ECANCELED; on a completed one, 0 and the output.
 */
#ifndef VOLT_TASK_H
#define VOLT_TASK_H

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of the task header that precedes every future. */
#define VOLT_TASK_HEADER_SIZE 64

/* A reference to a spawned task; released by join, await or detach. */
struct volt_join;

/*
 * Spawns a copy of the future f (size bytes) on rt. From a worker the task
 * goes to that worker's queue; from any other thread it is injected.
 * `join` may be NULL for a detached task.
 * Returns 0, -EINVAL (f or its poll is NULL, size < sizeof *f),
 * -ENOMEM, or -ESHUTDOWN when the runtime is shutting down.
 * On error nothing was copied and the caller still owns its future.
 */
VOLT_API int volt_spawn(struct volt_rt *rt, const struct volt_future *f, size_t size,
			struct volt_join **join);

/* Spawns a task that calls fn(arg) once; its return value is the output. */
VOLT_API int volt_spawn_fn(struct volt_rt *rt, void *(*fn)(void *arg), void *arg,
			   struct volt_join **join);

/* Bytes one task occupies for a future of future_size bytes (the slab class). */
VOLT_API size_t volt_task_size(size_t future_size);

/* True once the task completed or was cancelled and dropped. */
VOLT_API bool volt_join_is_done(const struct volt_join *j);

/*
 * Requests cancellation (see above); never blocks. Returns 0, also when
 * the task has already completed or was cancelled before (a no-op then:
 * the output stands and the drop does not run again); -EINVAL for NULL.
 */
VOLT_API int volt_join_cancel(struct volt_join *j);

/* Releases the handle; the task runs on, its output is discarded. */
VOLT_API void volt_join_detach(struct volt_join *j);

/*
 * Blocks the calling thread until the task finishes, stores its output in
 * *output (if output is not NULL) and releases the handle.
 * Returns 0, -ECANCELED if the task was cancelled, -EDEADLK when called
 * on a worker thread (a stackless task must await volt_join_await instead),
 * or -ENOMEM (volt_block_on); with -EDEADLK or -ENOMEM the handle is still
 * the caller's.
 */
VOLT_API int volt_join_wait(struct volt_join *j, void **output);

/*
 * Join as a future: takes over the handle j. When it is ready, `result` is 0
 * or -ECANCELED and `output` the task's output. Dropping it releases j.
 */
struct volt_join_future {
	struct volt_future base;
	struct volt_join *join;
	void *output;
	int result;
};

VOLT_API struct volt_future *volt_join_await(struct volt_join_future *jf, struct volt_join *j);

/*
 * Polls f to completion on the calling thread, parking the thread between
 * polls, then drops it. *output (may be NULL) receives the output.
 * Returns 0, -EINVAL, -EDEADLK when called on a worker thread of any
 * runtime (a worker must never block), or -ENOMEM when the thread's first
 * blocking wait cannot allocate its parker (one small block per thread,
 * kept until the thread exits); with an error f is untouched: never polled,
 * not dropped. Every blocking form in the library passes -ENOMEM on.
 */
VOLT_API int volt_block_on(struct volt_rt *rt, struct volt_future *f, void **output);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_TASK_H */
