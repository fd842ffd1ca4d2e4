/* SPDX-License-Identifier: MIT */
/* core/rt.h: the runtime and worker structs, shared by core/ files. */
#ifndef VOLT_CORE_RT_H
#define VOLT_CORE_RT_H

#include <pthread.h>
#include <volt.h>

#include "core/atomic.h"
#include "core/blocking.h"
#include "core/fiber.h"
#include "core/idle.h"
#include "core/io.h"
#include "core/metrics.h"
#include "core/slab.h"
#include "core/timers.h"
#include "core/topology.h"
#include "core/trace.h"
#include "schedulers/sched.h"

struct volt__worker {
	VOLT__ALIGNED_LINE _Atomic uint32_t park; /* futex token word */
	struct volt_rt *rt;
	unsigned idx;
	bool searching;
	bool woken;      /* unparked and has not found work yet */
	uint32_t budget; /* cooperative budget left for the current task */
	uint64_t tick;   /* tasks picked so far */
	uint32_t global_interval; /* ticks between global-queue checks (maybe self-tuned) */
	uint32_t polls_in_batch;  /* polls since the last maintenance pass */
	uint64_t batch_start_ns;
	double poll_ns_ewma;      /* mean poll time, for the self-tuned interval */
	int pin_result;           /* 0, or the -errno of pinning this thread */
	pthread_t thread;
	struct volt__slab_cache cache;
	struct volt__trace_buf trace;
	char *stacks[VOLT__STACK_CACHE]; /* fiber stacks kept for reuse */
	unsigned nstacks;
	void *sigstack;                   /* alternate signal stack (stack overflow reports) */
};

struct volt_rt {
	struct volt_config cfg;
	const struct volt__sched_ops *sched_ops;
	void *sched;
	unsigned nworkers;
	uint64_t seed;
	VOLT__ALIGNED_LINE _Atomic int shutdown;
	_Atomic uint32_t started; /* workers that have pinned themselves and run */
	struct volt__idle idle;
	struct volt__slab slab;
	struct volt__worker *workers;   /* nworkers, cache-line aligned */
	struct volt__metrics *metrics;  /* nworkers, cache-line aligned */
	struct volt__topo topo;
	struct volt__blocking_pool blocking;
	bool blocking_ready;              /* the pool is initialised (volt__blocking_fini due) */
	struct volt__timers timers;       /* shards NULL until initialised */
	struct volt__io io;               /* io.ops NULL until initialised */
};

/* The worker the calling thread is, or NULL. */
struct volt__worker *volt__worker_self(void);

/* The calling thread's worker if it belongs to rt, else NULL. */
static inline struct volt__worker *volt__worker_of(struct volt_rt *rt)
{
	struct volt__worker *w = volt__worker_self();

	return w && w->rt == rt ? w : NULL;
}

void *volt__worker_main(void *arg);

/* Push a runnable task and wake a worker if needed. w = caller's worker or NULL. */
void volt__schedule(struct volt_rt *rt, struct volt__worker *w, struct volt__task *t,
		    enum volt__push how);

#endif /* VOLT_CORE_RT_H */
