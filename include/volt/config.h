/* SPDX-License-Identifier: MIT */
/*
 * volt/config.h: runtime configuration.
 *
 * volt_config_init() fills the defaults, then applies the environment, so
 * any program can be swept across policies without rebuilding; fields the
 * program sets afterwards win over both.
 *
 *	VOLT_SCHED=<name>   scheduler policy (volt_sched_name(i) lists them)
 *	VOLT_DRIVER=auto|uring|epoll|sim  I/O driver (volt_driver_name(i) lists the
 *	                    kernel ones; sim is the simulated network, docs/simulation.md)
 *	VOLT_WORKERS=<n>    worker threads, 1..VOLT_MAX_WORKERS (0 = CPUs)
 *	VOLT_SEED=<n>       seed of every random choice (0 = from the clock)
 *	VOLT_BUDGET=<n>     cooperative budget per task poll, 1..65535
 *	VOLT_SEARCH_ROUNDS=<n> steal passes before a worker parks, 1..64
 *	VOLT_MAX_BLOCKING=<n>, VOLT_BLOCKING_KEEPALIVE_MS=<n>
 *	VOLT_LIFO=0|1, VOLT_LIFO_MAX=<n>, VOLT_GLOBAL_INTERVAL=<n> (0 = self-tuned),
 *	VOLT_EVENT_INTERVAL=<n>, VOLT_MAX_SEARCHING=<n> (0 = half the workers),
 *	VOLT_IDLE=park|spin|yield, VOLT_PARK_SPIN_NS=<n>, VOLT_STEAL_BATCH=<n> (0 = half),
 *	VOLT_PIN=none|compact|scatter|numa, VOLT_TOPOLOGY=<hwloc synthetic>,
 *	VOLT_TRACE=<file>, VOLT_TRACE_EVENTS=<n>, VOLT_CLOCK=auto|real|virtual
 * docs/configuration.md has the table of defaults and ranges.
 */
#ifndef VOLT_CONFIG_H
#define VOLT_CONFIG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What an idle worker does once its search found nothing. */
enum volt_idle {
	VOLT_IDLE_PARK = 0, /* sleep on a futex until woken (default) */
	VOLT_IDLE_SPIN,     /* busy-poll the queues, never sleep */
	VOLT_IDLE_YIELD,    /* sched_yield() between polls of the queues, never sleep */
};

/* The clock timers run on (volt/time.h). */
enum volt_clock {
	VOLT_CLOCK_AUTO = 0, /* virtual under the `sim` policy, real otherwise (default) */
	VOLT_CLOCK_REAL,     /* CLOCK_MONOTONIC */
	VOLT_CLOCK_VIRTUAL,  /* starts at 0; jumps to the next deadline when every worker
			      * is idle and no blocking-pool job is queued or running.
			      * Needs idle = VOLT_IDLE_PARK. */
};

/* Where worker threads are pinned (with hwloc). */
enum volt_pin {
	VOLT_PIN_NONE = 0, /* not pinned (default) */
	VOLT_PIN_COMPACT,  /* worker i on PU i: neighbours share caches */
	VOLT_PIN_SCATTER,  /* spread round-robin over the topology's top level */
	VOLT_PIN_NUMA,     /* fill one NUMA node before the next */
};

struct volt_config {
	unsigned workers;                /* 0 = one per CPU (at most VOLT_MAX_WORKERS) */
	const char *scheduler;           /* policy name; NULL = the default policy */
	const char *driver;              /* I/O driver name; NULL or "auto" = io_uring, else
					  * epoll when the kernel refuses io_uring */
	uint64_t seed;                   /* 0 = chosen from the clock (volt_rt_seed tells) */
	unsigned budget;                 /* default 128 */
	unsigned max_blocking_threads;   /* default 512 */
	uint64_t blocking_keep_alive_ns; /* default 10 s */
	unsigned search_rounds;          /* steal passes before parking, default 4 */

	/* Scheduling knobs; a policy without the mechanism ignores its knob. */
	bool lifo;                 /* LIFO slot enabled (default true) */
	unsigned lifo_max_polls;   /* tasks in a row from the LIFO slot, 1..255, default 3 */
	unsigned global_interval;  /* ticks between global-queue checks, 1..255, default 61;
				    * 0 = self-tuned from the mean poll time (target 200 us, 2..127) */
	unsigned event_interval;   /* ticks between maintenance passes, 1..65535, default 61 */
	unsigned max_searching;    /* workers searching at once; 0 = half the workers (default) */
	enum volt_idle idle;       /* default VOLT_IDLE_PARK */
	unsigned steal_batch;      /* most tasks one steal takes; 0 = half the victim's (default) */
	uint64_t park_spin_ns;     /* with VOLT_IDLE_PARK: watch the queues this long before
				    * sleeping, 0..1 ms; default 20 us (a futex round trip) */
	enum volt_clock clock;     /* default VOLT_CLOCK_AUTO */

	/* Topology, pinning, tracing. */
	enum volt_pin pin;         /* default VOLT_PIN_NONE */
	const char *topology;      /* hwloc synthetic description ("pack:2 core:4 pu:1"),
				    * NULL = the real machine */
	const char *trace;         /* Chrome trace-event JSON written here at shutdown; NULL = off
				    * (volt_rt_new copies both strings; they need not outlive it) */
	unsigned trace_events;     /* events kept per worker, 16..2^24, default 65536 */
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

/* I/O drivers on the kernel, by index ("uring", "epoll"): NULL past the last
 * one. The simulated network, "sim", is chosen by name only. */
VOLT_API const char *volt_driver_name(unsigned i);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_CONFIG_H */
