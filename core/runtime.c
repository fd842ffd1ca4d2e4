/* SPDX-License-Identifier: MIT */
/*
 * core/runtime.c: creating, running and shutting down a runtime.
 *
 * Shutdown order: the blocking pool first (queued jobs cancelled, running
 * ones finished, its threads joined: a job may still need the workers),
 * then refuse spawns, wake and join every worker (each finishes the poll it
 * is in), then, alone, scan the task slabs and drop the future
 * of every task that has not completed, exactly once, through the same
 * completion path a cancelled task takes (join waiters and groups see it
 * cancelled). Only then are the policy's queues and the memory freed;
 * sockets still open are closed with the I/O driver (core/io.c). Last, the
 * runtime leaves the registry of live runtimes (core/live.h), so a handle
 * used after volt_rt_free answers -ESHUTDOWN instead of following the
 * freed pointer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/futex.h"
#include "core/live.h"
#include "core/rt.h"
#include "core/task.h"

static unsigned cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > VOLT_MAX_WORKERS ? VOLT_MAX_WORKERS : (unsigned)n;
}

static uint64_t clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t seed = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	return seed ? seed : 1;
}

static void *zalloc_lines(size_t bytes)
{
	size_t rounded = (bytes + VOLT__CACHELINE - 1) & ~(size_t)(VOLT__CACHELINE - 1);
	void *p = aligned_alloc(VOLT__CACHELINE, rounded);

	if (p)
		memset(p, 0, rounded);
	return p;
}

static void stop_workers(struct volt_rt *rt, unsigned started)
{
	/* release: a worker or spawner that sees the flag sees everything before it */
	volt__store(&rt->shutdown, 1, RELEASE);
	volt__idle_wake_all(rt);
	for (unsigned i = 0; i < started; i++)
		pthread_join(rt->workers[i].thread, NULL);
}

/* Frees what rt_new built; each part is zeroed or NULL if never built. */
static void rt_destroy(struct volt_rt *rt, bool sched_ready)
{
	if (rt->workers)
		volt__trace_finish(rt, false);
	if (rt->blocking_ready) {
		volt__blocking_shutdown(&rt->blocking);
		volt__blocking_fini(&rt->blocking);
	}
	if (sched_ready)
		rt->sched_ops->fini(rt->sched);
	volt__io_fini(rt);
	volt__timers_fini(&rt->timers);
	volt__slab_fini(&rt->slab);
	volt__idle_fini(&rt->idle);
	free(rt->workers);
	free(rt->metrics);
	free((char *)rt->cfg.trace);
	volt__live_remove(rt); /* its handles answer -ESHUTDOWN from here on */
	free(rt);
}

int volt_rt_new(const struct volt_config *ucfg, struct volt_rt **out)
{
	struct volt_config cfg;
	int ret;

	if (!out)
		return -EINVAL;
	if (ucfg) {
		cfg = *ucfg;
	} else {
		ret = volt_config_init(&cfg);
		if (ret)
			return ret;
	}
	ret = volt_config_check(&cfg);
	if (ret)
		return ret;

	const struct volt__sched_ops *ops =
		volt__sched_find(cfg.scheduler ? cfg.scheduler : volt_sched_default());
	unsigned n = cfg.workers ? cfg.workers : cpu_count();

	if (ops->workers)
		n = ops->workers(n);

	struct volt_rt *rt = zalloc_lines(sizeof(*rt));

	if (!rt)
		return -ENOMEM;
	rt->cfg = cfg;
	rt->cfg.scheduler = ops->name;
	rt->cfg.workers = n;
	rt->sched_ops = ops;
	rt->nworkers = n;
	rt->seed = cfg.seed ? cfg.seed : clock_seed();
	rt->cfg.seed = rt->seed;
	if (cfg.clock == VOLT_CLOCK_AUTO)
		rt->cfg.clock = ops == &volt__sched_sim && cfg.idle == VOLT_IDLE_PARK ?
			VOLT_CLOCK_VIRTUAL : VOLT_CLOCK_REAL;
	/* the caller's strings need not outlive this call: keep our own */
	rt->cfg.topology = NULL; /* read only by volt__topo_init below */
	if (cfg.trace && !(rt->cfg.trace = strdup(cfg.trace))) {
		free(rt);
		return -ENOMEM;
	}
	atomic_init(&rt->shutdown, 0);
	atomic_init(&rt->started, 0);

	ret = volt__topo_init(&rt->topo, &cfg, n);
	if (!ret)
		ret = volt__idle_init(&rt->idle, n, cfg.max_searching, ops->search_cap_busy);
	if (ret) {
		free((char *)rt->cfg.trace);
		free(rt);
		return ret;
	}
	ret = volt__slab_init(&rt->slab);
	if (ret) {
		volt__idle_fini(&rt->idle);
		free((char *)rt->cfg.trace);
		free(rt);
		return ret;
	}
	rt->workers = zalloc_lines(n * sizeof(*rt->workers));
	rt->metrics = zalloc_lines(n * sizeof(*rt->metrics));
	if (!rt->workers || !rt->metrics) {
		rt_destroy(rt, false);
		return -ENOMEM;
	}
	ret = volt__timers_init(rt);
	if (ret) {
		rt_destroy(rt, false);
		return ret;
	}
	ret = volt__io_init(rt);
	if (ret) {
		rt_destroy(rt, false);
		return ret;
	}
	ret = volt__trace_init(rt);
	if (ret) {
		rt_destroy(rt, false);
		return ret;
	}
	ret = volt__blocking_init(&rt->blocking, &rt->cfg);
	if (ret) {
		rt_destroy(rt, false);
		return ret;
	}
	rt->blocking_ready = true;

	struct volt__sched_env env = {
		.nworkers = n,
		.seed = rt->seed,
		.cfg = &rt->cfg,
		.metrics = rt->metrics,
		.topo = &rt->topo,
	};

	ret = ops->init(&rt->sched, &env);
	if (ret) {
		rt_destroy(rt, false);
		return ret;
	}
	/* workers inherit the subscribable signals blocked (volt/signal.h) */
	sigset_t blocked, old_mask;

	volt_signal_blockable(&blocked);
	pthread_sigmask(SIG_BLOCK, &blocked, &old_mask);
	for (unsigned i = 0; i < n; i++) {
		struct volt__worker *w = &rt->workers[i];

		w->rt = rt;
		w->idx = i;
		atomic_init(&w->park, 0);
		ret = -pthread_create(&w->thread, NULL, volt__worker_main, w);
		if (ret) {
			pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
			stop_workers(rt, i);
			rt_destroy(rt, true);
			return ret == -EAGAIN ? -EAGAIN : ret;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	/* acquire: pairs with each worker's release once it is pinned */
	for (uint32_t s; (s = volt__load(&rt->started, ACQUIRE)) < n;)
		volt__futex_wait(&rt->started, s);
	ret = volt__live_add(rt); /* what its handles check before following rt */
	if (ret) {
		stop_workers(rt, n);
		rt_destroy(rt, true);
		return ret;
	}
	*out = rt;
	return 0;
}

int volt_rt_run(struct volt_rt *rt, volt_main_fn main, void *arg)
{
	if (!rt || !main)
		return -EINVAL;
	return main(rt, arg);
}

void volt_rt_free(struct volt_rt *rt)
{
	if (!rt)
		return;
	if (volt__worker_of(rt)) {
		fprintf(stderr, "volt: volt_rt_free called on a worker of the runtime it frees; ignored\n");
		return;
	}
	/* first the pool: its cancelled jobs wake tasks while workers still run */
	volt__blocking_shutdown(&rt->blocking);
	stop_workers(rt, rt->nworkers);
	volt__slab_scan(&rt->slab, volt__task_shutdown);
	if (volt__trace_finish(rt, true))
		fprintf(stderr, "volt: could not write the trace to %s\n", rt->cfg.trace);
	rt_destroy(rt, true);
}

int volt_run_with(const struct volt_config *cfg, volt_main_fn main, void *arg)
{
	struct volt_rt *rt;
	int ret;

	if (!main)
		return -EINVAL;
	ret = volt_rt_new(cfg, &rt);
	if (ret)
		return ret;
	ret = main(rt, arg);
	volt_rt_free(rt);
	return ret;
}

int volt_run(volt_main_fn main, void *arg)
{
	return volt_run_with(NULL, main, arg);
}

unsigned volt_rt_workers(const struct volt_rt *rt)
{
	return rt->nworkers;
}

const char *volt_rt_scheduler(const struct volt_rt *rt)
{
	return rt->sched_ops->name;
}

const char *volt_rt_driver(const struct volt_rt *rt)
{
	return rt->io.ops->name;
}

uint64_t volt_rt_seed(const struct volt_rt *rt)
{
	return rt->seed;
}

struct volt_rt *volt_rt_current(void)
{
	struct volt__worker *w = volt__worker_self();

	return w ? w->rt : NULL;
}

int volt_worker_index(void)
{
	struct volt__worker *w = volt__worker_self();

	return w ? (int)w->idx : -1;
}

int volt_rt_worker_cpu(const struct volt_rt *rt, unsigned w)
{
	if (!rt || w >= rt->nworkers)
		return -EINVAL;
	if (rt->workers[w].pin_result)
		return rt->workers[w].pin_result;
	return rt->topo.cpu[w];
}

int volt_rt_topology(const struct volt_rt *rt, char *buf, size_t len)
{
	if (!rt || !buf)
		return -EINVAL;
	if (strlen(rt->topo.desc) >= len)
		return -ERANGE;
	strcpy(buf, rt->topo.desc);
	return rt->topo.synthetic;
}
