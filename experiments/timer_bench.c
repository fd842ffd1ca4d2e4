/* SPDX-License-Identifier: MIT */
/*
 * experiments/timer_bench.c: what timers cost.
 *
 *	timer_bench --bench insert_cancel|sleepers [--count N] [--reps N]
 *	            [--warmup N] [--workers N] [--result]
 *
 * insert_cancel: ns per timer inserted and cancelled again, N times each
 * (default 1,000,000), deadlines spread over 10 s:
 * - wheel_ns: the wheel alone (core/timer_wheel.c), one thread;
 * - sharded_ns: the runtime's layout, a wheel and a mutex per thread, two
 *   threads each on its own wheel (per thread's operation);
 * - shared_ns: the alternative, one wheel under one mutex, two threads on
 *   it (the same loop; the design question of core/timers.c);
 * - sleep_ns: the whole path a task takes: a sleep future polled once in a
 *   task (clock read, lock, insert, waker clone) and dropped (lock, cancel,
 *   waker drop).
 * sleepers: N tasks (default 1,000,000) asleep at once on the real clock,
 * each until a seeded uniform deadline in [3 s, 4 s) after the first spawn
 * (so spawning them all, 0.3-0.7 s here, 0.4-3 s for the peers, is over
 * before the first deadline, and the lateness is the timers', not the spawn
 * backlog's; spawn_ms tells whether that held):
 * - bytes_per_task: resident memory growth once all are asleep, over N;
 * - lateness_p50_us, lateness_p99_us, lateness_max_us: how long after its
 *   deadline each task ran again (CLOCK_MONOTONIC);
 * - lateness_p99_steady_us: the p99 without the first 100 ms of the window
 *   (its start-up transient);
 * - spawn_ms: from the first spawn until all are asleep;
 * - total_ms: from the first spawn to the last wake (>= 3,000).
 * Without --result a table is printed.
 */
#define _GNU_SOURCE /* pthread_barrier_t */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <volt.h>

#include "core/atomic.h"
#include "core/timer_wheel.h"
#include "experiments/proto.h"

#define SPREAD_TICKS 10000 /* 10 s of 1 ms ticks */
#define STEADY_US 100000   /* the first 100 ms of the sleepers' window are its transient */

static unsigned long count_opt;
static bool result_mode;

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

/* ---------------------------------------------------------- insert_cancel */

/* A wheel and its lock, laid out as the runtime lays out a shard (one cache line apart). */
struct locked_wheel {
	VOLT__ALIGNED_LINE pthread_mutex_t lock;
	struct volt__wheel wheel;
};

struct wheel_job {
	struct locked_wheel *lw; /* NULL: the bare wheel, no lock */
	struct volt__wheel bare;
	unsigned long n;
	uint64_t seed;
	pthread_barrier_t *start;
	double ns_per_op;
};

/* Inserts and cancels n timers; the deadlines come from a seeded generator. */
static void *wheel_loop(void *arg)
{
	struct wheel_job *j = arg;
	struct volt__timer t = { 0 };
	uint64_t x = j->seed;

	if (!j->lw)
		volt__wheel_init(&j->bare, 1000);
	if (j->start)
		pthread_barrier_wait(j->start);

	uint64_t t0 = proto_now_ns();

	for (unsigned long i = 0; i < j->n; i++) {
		t.deadline = 1001 + xorshift(&x) % SPREAD_TICKS;
		if (j->lw) {
			pthread_mutex_lock(&j->lw->lock);
			volt__wheel_insert(&j->lw->wheel, &t);
			pthread_mutex_unlock(&j->lw->lock);
			pthread_mutex_lock(&j->lw->lock);
			volt__wheel_cancel(&j->lw->wheel, &t);
			pthread_mutex_unlock(&j->lw->lock);
		} else {
			volt__wheel_insert(&j->bare, &t);
			volt__wheel_cancel(&j->bare, &t);
		}
	}
	j->ns_per_op = (double)(proto_now_ns() - t0) / (double)j->n;
	return NULL;
}

/* Two threads, each on its own locked wheel (sharded) or both on one (shared). */
static double two_threads(bool shared)
{
	struct locked_wheel lw[2];
	struct wheel_job job[2];
	pthread_t th[2];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++) {
		pthread_mutex_init(&lw[i].lock, NULL);
		volt__wheel_init(&lw[i].wheel, 1000);
		job[i] = (struct wheel_job){ .lw = &lw[shared ? 0 : i], .n = count_opt,
					     .seed = 77 + (uint64_t)i, .start = &start };
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, wheel_loop, &job[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_mutex_destroy(&lw[i].lock);
	pthread_barrier_destroy(&start);
	return (job[0].ns_per_op + job[1].ns_per_op) / 2;
}

/* A task that arms a one-hour sleep and drops it, n times. */
struct arm_drop {
	struct volt_future base;
	unsigned long n;
	double *ns_per_op;
	struct proto_latch *done;
};

static enum volt_poll arm_drop_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct arm_drop *a = (struct arm_drop *)f;
	struct volt_sleep s;
	uint64_t t0 = proto_now_ns();

	for (unsigned long i = 0; i < a->n; i++) {
		if (volt_future_poll(volt_sleep(&s, volt_secs(3600)), cx) != VOLT_PENDING)
			abort();
		volt_future_drop(&s.base);
	}
	*a->ns_per_op = (double)(proto_now_ns() - t0) / (double)a->n;
	proto_latch_count_down(a->done, 1);
	return VOLT_READY;
}

static const struct volt_future_ops arm_drop_ops = { .poll = arm_drop_poll };

struct insert_cancel_run {
	unsigned long reps, warmup;
	int err;
};

static int insert_cancel(struct volt_rt *rt, void *arg)
{
	struct insert_cancel_run *run = arg;
	struct proto_latch done = PROTO_LATCH_INIT;

	for (unsigned long rep = 0; rep < run->warmup + run->reps; rep++) {
		struct wheel_job bare = { .n = count_opt, .seed = 5 };
		double sharded, shared, sleep_ns = 0;

		wheel_loop(&bare);
		sharded = two_threads(false);
		shared = two_threads(true);

		struct arm_drop task = { .base = VOLT_FUTURE_INIT(&arm_drop_ops), .n = count_opt,
					 .ns_per_op = &sleep_ns, .done = &done };

		run->err = proto_latch_round(rt, &done, 1, &task.base, sizeof task, &(atomic_int){ 0 });
		if (run->err)
			return run->err;
		if (rep < run->warmup)
			continue;

		unsigned long r = rep - run->warmup + 1; /* the protocol counts from 1 */

		if (result_mode) {
			proto_result(r, "wheel_ns", bare.ns_per_op, "ns");
			proto_result(r, "sharded_ns", sharded, "ns");
			proto_result(r, "shared_ns", shared, "ns");
			proto_result(r, "sleep_ns", sleep_ns, "ns");
		} else {
			printf("rep %lu: insert+cancel: wheel %.1f ns, sharded (2 threads) %.1f ns, "
			       "shared (2 threads) %.1f ns, sleep future in a task %.1f ns\n",
			       r, bare.ns_per_op, sharded, shared, sleep_ns);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- sleepers */

struct sleepers_state {
	double *lateness_us;         /* one per task */
	double *steady_us;           /* the same, for deadlines >= STEADY_US into the window */
	atomic_ulong nsteady;
	atomic_ulong asleep;         /* tasks that armed their sleep */
	atomic_ulong last_wake_ns;
	uint64_t base_ns;            /* deadlines are base + delay */
	struct proto_latch done;
};

struct sleeper {
	struct volt_future base;
	struct sleepers_state *st;
	uint32_t idx;
	uint32_t delay_us;
	uint64_t deadline;
	struct volt_sleep s;
};

static enum volt_poll sleeper_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct sleeper *s = (struct sleeper *)f;

	VOLT_BEGIN(f);
	s->deadline = s->st->base_ns + (uint64_t)s->delay_us * 1000u;
	atomic_fetch_add_explicit(&s->st->asleep, 1, memory_order_relaxed);
	VOLT_AWAIT(f, cx, volt_sleep_until(&s->s, (volt_instant){ s->deadline }));
	{
		uint64_t now = proto_now_ns();

		s->st->lateness_us[s->idx] = (double)(now - s->deadline) / 1e3;
		if (s->delay_us >= STEADY_US)
			s->st->steady_us[atomic_fetch_add_explicit(&s->st->nsteady, 1,
								   memory_order_relaxed)] =
				s->st->lateness_us[s->idx];
		unsigned long seen = atomic_load_explicit(&s->st->last_wake_ns, memory_order_relaxed);

		while (now > seen && !atomic_compare_exchange_weak(&s->st->last_wake_ns, &seen, now))
			;
	}
	proto_latch_count_down(&s->st->done, 1);
	VOLT_END(f);
}

static const struct volt_future_ops sleeper_ops = { .poll = sleeper_poll };

struct sleepers_run {
	unsigned long reps, warmup;
	int err;
};

static double quantile(const double *sorted, unsigned long n, double q)
{
	unsigned long i = (unsigned long)(q * (double)(n - 1) + 0.5);

	return sorted[i < n ? i : n - 1];
}

static int sleepers(struct volt_rt *rt, void *arg)
{
	struct sleepers_run *run = arg;
	unsigned long n = count_opt;
	struct sleepers_state st = { .done = PROTO_LATCH_INIT };

	st.lateness_us = calloc(n, sizeof(double));
	st.steady_us = calloc(n, sizeof(double));
	if (!st.lateness_us || !st.steady_us) {
		free(st.lateness_us);
		free(st.steady_us);
		return -ENOMEM;
	}
	/* resident before the baseline */
	memset(st.lateness_us, 0, n * sizeof(double));
	memset(st.steady_us, 0, n * sizeof(double));

	/* growth over the process before any sleeper: later rounds reuse the memory */
	long rss0 = rss_bytes();

	for (unsigned long rep = 0; rep < run->warmup + run->reps; rep++) {
		uint64_t x = 0x9e3779b97f4a7c15ull + rep;
		uint64_t t0 = proto_now_ns();

		st.base_ns = t0 + 3000000000u;
		atomic_store(&st.asleep, 0);
		atomic_store(&st.nsteady, 0);
		atomic_store(&st.last_wake_ns, 0);
		proto_latch_arm(&st.done, n);
		for (unsigned long i = 0; i < n; i++) {
			struct sleeper s = { .base = VOLT_FUTURE_INIT(&sleeper_ops), .st = &st,
					     .idx = (uint32_t)i,
					     .delay_us = (uint32_t)(xorshift(&x) % 1000000) };

			run->err = volt_spawn(rt, &s.base, sizeof s, NULL);
			if (run->err) {
				proto_latch_count_down(&st.done, n - i);
				break;
			}
		}
		while (atomic_load(&st.asleep) < n && !run->err)
			proto_nap();

		long rss1 = rss_bytes();
		uint64_t t_asleep = proto_now_ns();

		proto_latch_wait(&st.done);
		if (run->err)
			break;
		if (rep < run->warmup)
			continue;

		double total_ms = (double)(atomic_load(&st.last_wake_ns) - t0) / 1e6;
		double spawn_ms = (double)(t_asleep - t0) / 1e6;
		double per_task = (double)(rss1 - rss0) / (double)n;
		unsigned long r = rep - run->warmup + 1; /* the protocol counts from 1 */

		unsigned long ns = atomic_load(&st.nsteady);

		qsort(st.lateness_us, n, sizeof(double), proto_cmp_double);
		qsort(st.steady_us, ns, sizeof(double), proto_cmp_double);
		if (result_mode) {
			proto_result(r, "bytes_per_task", per_task, "bytes");
			proto_result(r, "lateness_p50_us", quantile(st.lateness_us, n, 0.5), "us");
			proto_result(r, "lateness_p99_us", quantile(st.lateness_us, n, 0.99), "us");
			proto_result(r, "lateness_max_us", st.lateness_us[n - 1], "us");
			if (ns)
				proto_result(r, "lateness_p99_steady_us",
					     quantile(st.steady_us, ns, 0.99), "us");
			proto_result(r, "total_ms", total_ms, "ms");
			proto_result(r, "spawn_ms", spawn_ms, "ms");
		} else {
			printf("rep %lu: %lu sleepers, %.0f bytes/task (RSS), lateness p50 %.0f us "
			       "p99 %.0f us (after the first 100 ms: %.0f us) max %.0f us; all asleep "
			       "after %.0f ms, all done after %.0f ms\n",
			       r, n, per_task, quantile(st.lateness_us, n, 0.5),
			       quantile(st.lateness_us, n, 0.99),
			       ns ? quantile(st.steady_us, ns, 0.99) : 0.0, st.lateness_us[n - 1],
			       spawn_ms, total_ms);
		}
	}
	free(st.lateness_us);
	free(st.steady_us);
	return run->err;
}

/* -------------------------------------------------------------------- main */

static int usage(void)
{
	fprintf(stderr, "usage: timer_bench --bench insert_cancel|sleepers [--count N] [--reps N]\n"
			"                   [--warmup N] [--workers N] [--result]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long reps = 5, warmup = 1, workers = 0, count = 0;
	const char *bench = NULL;
	const struct proto_opt opts[] = {
		{ "--reps", &reps, 1, 1000 },
		{ "--warmup", &warmup, 0, 100 },
		{ "--workers", &workers, 1, VOLT_MAX_WORKERS },
		{ "--count", &count, 1, 10000000 },
		{ NULL, NULL, 0, 0 },
	};
	struct volt_config cfg;
	bool bad = false;
	int ret;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--result"))
			result_mode = true;
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench = argv[++i];
		else if (!proto_opt(argc, argv, &i, opts, &bad))
			bad = true;
	}
	if (bad || !bench)
		return usage();
	ret = proto_config(&cfg, "timer_bench", workers, 2);
	if (ret)
		return ret;
	cfg.clock = VOLT_CLOCK_REAL; /* these are real-time measurements, under every policy */
	proto_malloc_setup();
	if (!strcmp(bench, "insert_cancel")) {
		struct insert_cancel_run run = { .reps = reps, .warmup = warmup };

		count_opt = count ? count : 1000000;
		ret = proto_run(&cfg, insert_cancel, &run, "timer_bench");
	} else if (!strcmp(bench, "sleepers")) {
		struct sleepers_run run = { .reps = reps, .warmup = warmup };

		count_opt = count ? count : 1000000;
		ret = proto_run(&cfg, sleepers, &run, "timer_bench");
	} else {
		return usage();
	}
	return ret ? 1 : 0;
}
