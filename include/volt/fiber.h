/* SPDX-License-Identifier: MIT */
/*
 * volt/fiber.h: stackful tasks (fibers) on the same scheduler.
 *
 * A fiber runs a plain C function on its own small stack, so code written
 * for threads (call, block, continue) runs as a task: every blocking-style
 * call of the library (volt_block_on, volt_join_wait, volt_group_wait,
 * volt_yield, and later the lock, channel and socket calls) parks the fiber
 * and frees its worker instead of blocking the thread. A fiber is a task like
 * any other: spawned, stolen by another worker, budgeted, grouped, joined
 * and cancelled the same way.
 *
 * Cancelling a parked fiber (volt_join_cancel, volt_group_cancel, shutdown)
 * makes the blocking call it is parked in return -ECANCELED, and every later
 * one too; the function is expected to return soon. Its stack is freed when
 * it has. A fiber that is cancelled before it first ran never runs.
 *
 * Stacks are mmap'd with a guard page below them and reused from a
 * per-worker cache. Running past the end hits the guard page: the process
 * stops with a message naming the fiber's stack size, never a silent
 * corruption. Each stack is two kernel mappings, so vm.max_map_count
 * (65530 by default) bounds live fibers to about 32,000; past that, spawn
 * returns -ENOMEM.
 */
#ifndef VOLT_FIBER_H
#define VOLT_FIBER_H

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * 32 KiB: room for a call chain that formats a line with printf (glibc's
 * vfprintf alone can take several KiB) and a few frames of user code, while
 * 100,000 parked fibers still touch only a few pages each. docs/fibers.md.
 */
#define VOLT_FIBER_STACK_DEFAULT (32u * 1024)
#define VOLT_FIBER_STACK_MIN (8u * 1024)
#define VOLT_FIBER_STACK_MAX (64u * 1024 * 1024)

struct volt_join;

typedef void *(*volt_fiber_fn)(struct volt_rt *rt, void *arg);

/*
 * Spawns fn(rt, arg) as a fiber with a stack of stack_size bytes (0 = the
 * default; rounded up to whole pages). Its return value is the task's
 * output. join may be NULL (detached). Returns 0, -EINVAL (fn NULL, size out
 * of range), -ENOMEM (no memory or no mapping left), -ESHUTDOWN.
 */
VOLT_API int volt_spawn_fiber(struct volt_rt *rt, volt_fiber_fn fn, void *arg,
			      size_t stack_size, struct volt_join **join);

/* As volt_spawn_fiber, into a group (see volt/group.h). */
struct volt_group;
VOLT_API int volt_group_spawn_fiber(struct volt_group *g, volt_fiber_fn fn, void *arg,
				    size_t stack_size);

/* True when the caller runs in a fiber. */
VOLT_API bool volt_in_fiber(void);

/*
 * The blocking-style yield: in a fiber, reschedules it behind the tasks that
 * are ready (0, or -ECANCELED once cancelled); on a plain thread, yields the
 * CPU (0); in a stackless task, -EDEADLK.
 */
VOLT_API int volt_yield(struct volt_rt *rt);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_FIBER_H */
