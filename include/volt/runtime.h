/* SPDX-License-Identifier: MIT */
/*
 * volt/runtime.h: the runtime: workers, a scheduler policy, shutdown.
 *
 * The entry point runs `main` on the calling thread, which is not a worker:
 * it spawns tasks and waits for them with the blocking forms
 * (volt_join_wait, volt_group_wait, volt_block_on). When main returns the
 * runtime shuts down: spawns are refused, every task still alive is
 * cancelled and its future dropped exactly once, the workers are joined and
 * all memory is freed.
 */
#ifndef VOLT_RUNTIME_H
#define VOLT_RUNTIME_H

#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int (*volt_main_fn)(struct volt_rt *rt, void *arg);

/*
 * Runs main(rt, arg) on a runtime made from volt_config_init() (or *cfg).
 * Returns what main returned, or a negative errno (-EINVAL, -ENOMEM,
 * -EAGAIN for threads) if the runtime could not start, main then not run.
 * Use the manual form to tell the two apart.
 */
VOLT_API int volt_run(volt_main_fn main, void *arg);
VOLT_API int volt_run_with(const struct volt_config *cfg, volt_main_fn main, void *arg);

/* Starts a runtime. cfg NULL = volt_config_init(). 0 or -errno; on error nothing is left allocated. */
VOLT_API int volt_rt_new(const struct volt_config *cfg, struct volt_rt **out);

/* Calls main(rt, arg) on this thread and returns its result. */
VOLT_API int volt_rt_run(struct volt_rt *rt, volt_main_fn main, void *arg);

/*
 * Shuts down and frees rt. Every join handle, group and waker of rt must be
 * released first, except those owned by futures the shutdown drops.
 * Must not be called from a worker of rt.
 *
 * Sockets still open are closed, not refused (Tokio's model rather than
 * libuv's -EBUSY): operations in flight on them end with -ECANCELED and
 * their tasks are dropped like every other; no descriptor of rt remains
 * when this returns. Afterwards every call on a socket handle of rt
 * returns -ESHUTDOWN without following the freed rt (or -EBADF, if a
 * runtime made since was given the same address: never a descriptor of
 * that runtime). Calls racing with volt_rt_free itself, and calls that pass
 * the freed rt pointer directly, are the caller's error.
 */
VOLT_API void volt_rt_free(struct volt_rt *rt);

VOLT_API unsigned volt_rt_workers(const struct volt_rt *rt);
VOLT_API const char *volt_rt_scheduler(const struct volt_rt *rt);
VOLT_API uint64_t volt_rt_seed(const struct volt_rt *rt);
/* The I/O driver running ("uring" or "epoll"; "auto" resolved). */
VOLT_API const char *volt_rt_driver(const struct volt_rt *rt);

/*
 * The real CPU worker w is pinned to (cfg.pin), -1 if it is not pinned,
 * the -errno of a failed pinning, or -EINVAL if there is no worker w.
 */
VOLT_API int volt_rt_worker_cpu(const struct volt_rt *rt, unsigned w);

/*
 * Copies the hwloc synthetic description of the topology the workers are
 * laid on into buf. Returns 1 if it is a synthetic topology (cfg.topology),
 * 0 if it is this machine's, -ERANGE if buf is too small, -EINVAL.
 */
VOLT_API int volt_rt_topology(const struct volt_rt *rt, char *buf, size_t len);

/* The runtime whose worker is calling, or NULL on any other thread. */
VOLT_API struct volt_rt *volt_rt_current(void);

/* The calling worker's index, or -1 on any other thread. */
VOLT_API int volt_worker_index(void);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_RUNTIME_H */
