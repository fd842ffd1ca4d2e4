/* SPDX-License-Identifier: MIT */
/*
 * volt/blocking.h: the blocking pool (the seed's io.concurrent, Tokio's
 * spawn_blocking). Work that blocks (a system call without an async form,
 * getaddrinfo, a long computation) runs on a pool thread, so no worker
 * stalls. Threads start on demand up to cfg.max_blocking_threads (512),
 * leave after cfg.blocking_keep_alive_ns (10 s) idle, and are joined at
 * shutdown. Jobs beyond the cap wait in submission order.
 *
 * At shutdown, jobs already running finish; jobs still queued are not run
 * and report -ECANCELED to whoever waits for them. No accepted job is lost
 * silently.
 */
#ifndef VOLT_BLOCKING_H
#define VOLT_BLOCKING_H

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A handle to one job; released by a wait, an await or a detach. */
struct volt_blocking;

/*
 * Queues fn(arg) on the blocking pool. h may be NULL (nobody waits).
 * Returns 0, -EINVAL (rt or fn NULL), -ENOMEM, -EAGAIN (no thread could be
 * started and none runs), or -ESHUTDOWN.
 */
VOLT_API int volt_concurrent(struct volt_rt *rt, void *(*fn)(void *arg), void *arg,
			     struct volt_blocking **h);

/*
 * Waits for the job (volt_block_on: parks a fiber or a plain thread) and
 * releases h: 0 and fn's return value in *output (may be NULL), -ECANCELED
 * if shutdown cancelled it before it ran, -EDEADLK in a stackless task or
 * -ENOMEM (volt_block_on; h is then still the caller's).
 */
VOLT_API int volt_blocking_wait(struct volt_blocking *h, void **output);

/* The same as a future; takes over h. `result` and `output` as above. */
struct volt_blocking_future {
	struct volt_future base;
	struct volt_blocking *h;
	void *output;
	int result;
	void (*orphan_release)(struct volt_blocking_future *bf); /* internal */
};

VOLT_API struct volt_future *volt_blocking_await(struct volt_blocking_future *bf,
						 struct volt_blocking *h);

/* Releases h without waiting; the job still runs. */
VOLT_API void volt_blocking_detach(struct volt_blocking *h);

/* Pool threads alive now (running a job or idle). */
VOLT_API unsigned volt_blocking_threads(const struct volt_rt *rt);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_BLOCKING_H */
