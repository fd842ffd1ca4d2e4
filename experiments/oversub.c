/* SPDX-License-Identifier: MIT */
/*
 * experiments/oversub.c: E14, oversubscription and the idle policy
 * (experiments/README.md).
 *
 * A fixed amount of fine-grained work, run in waves with idle gaps between
 * them so the workers fall idle over and over: one iteration is --waves
 * waves; in each, the main thread spawns a root task that spawns --tasks
 * tasks from its worker (a fan-out), each doing --task-us microseconds of
 * CPU work; the main thread waits for the wave, then sleeps --gap-us before
 * the next. The work is a calibrated loop, not a wait on the clock, so a
 * task preempted by the kernel still owes its whole work (on the clock it
 * would finish "for free" while descheduled).
 *
 * --hog starts a plain pthread (not a worker) pinned to CPU 0 that spins for
 * the whole run, competing for a core: the processors the kernel grants the
 * workers (P_A in Arora, Blumofe and Plaxton) drop from 2 to about 1.5.
 *
 *	oversub [--reps N] [--warmup N] [--hog] [--waves W] [--tasks N]
 *	        [--task-us U] [--gap-us G]
 *	VOLT_IDLE=yield VOLT_WORKERS=4 build/experiments/oversub --hog
 *
 * Per timed iteration (harness protocol):
 *	time_per_iter      us     wall time of the W waves, gaps included
 *	cpu_time_per_iter  us     user+sys CPU of the process (getrusage) over the
 *	                          iteration, minus the hog thread's own CPU time
 *	cpu_per_wall       ratio  cpu_time_per_iter / time_per_iter (2 = both cores)
 *	hog_cpu_per_wall   ratio  the hog's CPU time / wall time (only with --hog)
 *	parks, unparks, noop_wakes   count, whole iteration
 */
#define _GNU_SOURCE

#include <sched.h>
#include <sys/resource.h>

#include <volt.h>

#include "proto.h"

#define WAVES 20          /* waves per iteration (--waves) */
#define WAVE_TASKS 200    /* tasks per wave (--tasks) */
#define TASK_US 5         /* CPU work per task (--task-us) */
#define GAP_US 200        /* idle gap after each wave (--gap-us) */
#define HOG_CPU 0         /* the CPU the hog is pinned to */
#define DEFAULT_REPS 10
#define DEFAULT_WARMUP 2

struct opts {
	unsigned long reps, warmup, waves, tasks, task_us, gap_us;
	bool hog;
};

static struct proto_latch latch = PROTO_LATCH_INIT;
static atomic_int task_err;
static uint64_t loops_per_task; /* calibrated: work_loop(loops_per_task) ~ task_us */
static _Atomic uint64_t sink;  /* keeps the work loop from being optimised away */

/* CPU work: a chain of dependent multiply-adds (an LCG), n steps. */
static void work_loop(uint64_t n)
{
	uint64_t x = n;

	for (uint64_t i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	atomic_fetch_add_explicit(&sink, x, memory_order_relaxed);
}

/* Loop steps per nanosecond: the fastest of several timed runs. */
static double calibrate(void)
{
	const uint64_t n = 2000000;
	double best = 0;

	for (int i = 0; i < 7; i++) {
		uint64_t t0 = proto_now_ns();

		work_loop(n);
		double rate = (double)n / (double)(proto_now_ns() - t0 + 1);

		best = rate > best ? rate : best;
	}
	return best;
}

/* ------------------------------------------------------------ the hog */

static atomic_bool hog_stop;

static void *hog_main(void *arg)
{
	cpu_set_t set;

	(void)arg;
	CPU_ZERO(&set);
	CPU_SET(HOG_CPU, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort */
	while (!atomic_load_explicit(&hog_stop, memory_order_relaxed))
		work_loop(1000);
	return NULL;
}

/* ---------------------------------------------------------- the tasks */

static enum volt_poll job_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	work_loop(loops_per_task);
	proto_latch_count_down(&latch, 1);
	return VOLT_READY;
}

static const struct volt_future_ops job_ops = { .poll = job_poll };

struct root {
	struct volt_future base;
	unsigned long n;
};

static enum volt_poll root_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_future j = VOLT_FUTURE_INIT(&job_ops);

	proto_spawn_copies(cx->rt, &j, sizeof j, ((struct root *)f)->n, &latch, &task_err);
	return VOLT_READY;
}

static const struct volt_future_ops root_ops = { .poll = root_poll };

/* ------------------------------------------------------------ the driver */

static double process_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double clock_us(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts))
		return 0;
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int one_iteration(struct volt_rt *rt, const struct opts *o)
{
	struct root r = { .base = VOLT_FUTURE_INIT(&root_ops), .n = o->tasks };
	struct timespec gap = {
		.tv_sec = (time_t)(o->gap_us / 1000000),
		.tv_nsec = (long)(o->gap_us % 1000000) * 1000,
	};

	for (unsigned long w = 0; w < o->waves; w++) {
		int err;

		err = proto_latch_round(rt, &latch, o->tasks, &r.base, sizeof r, &task_err);
		if (err)
			return err;
		if (o->gap_us)
			nanosleep(&gap, NULL);
	}
	return 0;
}

/* The counters reported per iteration, in this order. */
static const struct proto_counter counters[] = {
	PROTO_COUNTER(parks), PROTO_COUNTER(unparks), PROTO_COUNTER(noop_wakes),
};

struct app_arg {
	const struct opts *o;
	clockid_t hog_clock;
};

static int app(struct volt_rt *rt, void *arg)
{
	const struct app_arg *a = arg;
	const struct opts *o = a->o;

	printf("# oversub: policy=%s workers=%u hog=%d waves=%lu tasks=%lu task_us=%lu gap_us=%lu "
	       "work_per_iter_us=%lu\n",
	       volt_rt_scheduler(rt), volt_rt_workers(rt), o->hog, o->waves, o->tasks,
	       o->task_us, o->gap_us, o->waves * o->tasks * o->task_us);
	for (unsigned long r = 0; r < o->warmup + o->reps; r++) {
		struct volt_worker_metrics m0, m1;
		double hog0 = o->hog ? clock_us(a->hog_clock) : 0;
		double cpu0 = process_cpu_us();
		uint64_t t0 = proto_now_ns();

		volt_metrics_total(rt, &m0);
		int err = one_iteration(rt, o);
		double wall = (double)(proto_now_ns() - t0) / 1e3;
		double cpu = process_cpu_us() - cpu0;
		double hog = o->hog ? clock_us(a->hog_clock) - hog0 : 0;

		volt_metrics_total(rt, &m1);
		if (err) {
			fprintf(stderr, "oversub: %s\n", strerror(-err));
			return 1;
		}
		if (r < o->warmup)
			continue;

		unsigned long rep = r - o->warmup + 1;

		cpu -= hog;
		proto_result(rep, "time_per_iter", wall, "us");
		proto_result(rep, "cpu_time_per_iter", cpu, "us");
		proto_result(rep, "cpu_per_wall", cpu / wall, "ratio");
		if (o->hog)
			proto_result(rep, "hog_cpu_per_wall", hog / wall, "ratio");
		proto_counters_print(rep, counters, PROTO_LEN(counters), &m0, &m1);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.reps = DEFAULT_REPS, .warmup = DEFAULT_WARMUP, .waves = WAVES,
		.tasks = WAVE_TASKS, .task_us = TASK_US, .gap_us = GAP_US,
	};
	const struct proto_opt opts[] = {
		{ "--reps", &o.reps, 1, ULONG_MAX },
		{ "--warmup", &o.warmup, 0, ULONG_MAX },
		{ "--waves", &o.waves, 1, 100000 },
		{ "--tasks", &o.tasks, 1, 10000000 },
		{ "--task-us", &o.task_us, 1, 1000000 },
		{ "--gap-us", &o.gap_us, 0, 10000000 },
		{ NULL, NULL, 0, 0 },
	};
	struct app_arg a = { .o = &o };
	struct volt_config cfg;
	pthread_t hog;
	bool bad = false;
	int err;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--hog"))
			o.hog = true;
		else
			bad |= !proto_opt(argc, argv, &i, opts, &bad);
	}
	if (bad) {
		fprintf(stderr,
			"usage: %s [--reps N] [--warmup N] [--hog] [--waves W] [--tasks N]\n"
			"          [--task-us U] [--gap-us G]\n"
			"  defaults: --reps %d --warmup %d --waves %d --tasks %d --task-us %d "
			"--gap-us %d\n"
			"  the runtime comes from VOLT_* (VOLT_IDLE, VOLT_WORKERS, VOLT_SCHED, ...)\n",
			argv[0], DEFAULT_REPS, DEFAULT_WARMUP, WAVES, WAVE_TASKS, TASK_US, GAP_US);
		return 2;
	}
	proto_malloc_setup();
	if (proto_config(&cfg, "oversub", 0, 0))
		return 2;
	/* calibrated before the hog starts, so it measures an uncontended core */
	loops_per_task = (uint64_t)(calibrate() * (double)o.task_us * 1e3);
	if (!loops_per_task)
		loops_per_task = 1;
	if (o.hog) {
		err = pthread_create(&hog, NULL, hog_main, NULL);
		if (!err)
			err = pthread_getcpuclockid(hog, &a.hog_clock);
		if (err) {
			fprintf(stderr, "oversub: hog thread: %s\n", strerror(err));
			return 1;
		}
	}
	err = proto_run(&cfg, app, &a, "oversub");
	if (o.hog) {
		atomic_store(&hog_stop, true);
		pthread_join(hog, NULL);
	}
	return err == 0 ? 0 : 1;
}
