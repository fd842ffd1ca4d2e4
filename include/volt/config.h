/* SPDX-License-Identifier: MIT */
/*
 * volt/config.h: runtime configuration.
 *
 * volt_config_init() fills the defaults, then applies the environment, so
 * any program can be swept across policies without rebuilding; fields the
 * program sets afterwards win over both.
 *
 *	VOLT_SCHED=<name>   scheduler policy (volt_sched_name(i) lists them)
 *	VOLT_WORKERS=<n>    worker threads, 1..VOLT_MAX_WORKERS (0 = CPUs)
 *	VOLT_SEED=<n>       seed of every random choice (0 = from the clock)
 *	VOLT_BUDGET=<n>     cooperative budget per task poll, 1..65535
 *	VOLT_SEARCH_ROUNDS=<n> steal passes before a worker parks, 1..64
 *	VOLT_MAX_BLOCKING=<n>, VOLT_BLOCKING_KEEPALIVE_MS=<n>
 */
#ifndef VOLT_CONFIG_H
#define VOLT_CONFIG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_config {
	unsigned workers;                /* 0 = one per CPU (at most VOLT_MAX_WORKERS) */
	const char *scheduler;           /* policy name; NULL = the default policy */
	uint64_t seed;                   /* 0 = chosen from the clock (volt_rt_seed tells) */
	unsigned budget;                 /* default 128 */
	unsigned max_blocking_threads;   /* default 512 */
	uint64_t blocking_keep_alive_ns; /* default 10 s */
	unsigned search_rounds;          /* steal passes before parking, default 4 */
};

/*
 * Defaults, then the environment. Returns 0, or -EINVAL if a VOLT_*
 * variable holds a malformed or out-of-range value or names no policy
 * (that field keeps its default; the others are still applied).
 */
VOLT_API int volt_config_init(struct volt_config *cfg);

/* 0 if the runtime would accept cfg, else -EINVAL. Allocates nothing. */
VOLT_API int volt_config_check(const struct volt_config *cfg);

/* The policy used when cfg.scheduler is NULL. */
VOLT_API const char *volt_sched_default(void);

/* Policies built in, by index: NULL past the last one. */
VOLT_API const char *volt_sched_name(unsigned i);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_CONFIG_H */
