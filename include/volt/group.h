/* SPDX-License-Identifier: MIT */
/*
 * volt/group.h: structured concurrency. A group owns the tasks spawned into
 * it: wait for all of them, or cancel all of them. Tasks in a group are
 * detached (their outputs are discarded); use join handles when you need
 * outputs. A cancelled group refuses further spawns with -ECANCELED.
 */
#ifndef VOLT_GROUP_H
#define VOLT_GROUP_H

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_group;

/* Returns 0, -EINVAL (rt NULL) or -ENOMEM. */
VOLT_API int volt_group_new(struct volt_rt *rt, struct volt_group **out);

/* Frees g. Returns -EBUSY (and frees nothing) while tasks are still live. */
VOLT_API int volt_group_free(struct volt_group *g);

/* As volt_spawn / volt_spawn_fn, into g. -ECANCELED once g was cancelled. */
VOLT_API int volt_group_spawn(struct volt_group *g, const struct volt_future *f, size_t size);
VOLT_API int volt_group_spawn_fn(struct volt_group *g, void *(*fn)(void *arg), void *arg);

/* Cancels every live task of g (see volt/task.h) and closes g to spawns. */
VOLT_API void volt_group_cancel(struct volt_group *g);

/* Tasks of g not yet finished. */
VOLT_API size_t volt_group_count(const struct volt_group *g);

/* Blocks a plain thread until g is empty: 0, -EDEADLK on a worker, -ENOMEM (volt_block_on). */
VOLT_API int volt_group_wait(struct volt_group *g);

/* The same as a future: ready when g is empty. */
struct volt_group_wait {
	struct volt_future base;
	struct volt_group *group;
	struct volt_waiter waiter;
};

VOLT_API struct volt_future *volt_group_join(struct volt_group_wait *w, struct volt_group *g);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_GROUP_H */
