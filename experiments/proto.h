/* SPDX-License-Identifier: MIT */
/*
 * experiments/proto.h: small helpers shared by the experiment programs that
 * follow the harness protocol (experiments/README.md, "The harness
 * protocol"): the result line, option parsing, a clock, a latch that a task
 * opens for the main thread, the runtime counters reported per iteration,
 * the '#' summary of the iteration times, the runtime's configuration and
 * the allocator settings that keep freed memory mapped (page faults are
 * expensive on the development machine). The leak experiments
 * (spawn_cancel.c, shutdown_inflight.c) take their options, configuration
 * and clock from here too. Header-only; every function is static.
 */
#ifndef VOLT_EXPERIMENTS_PROTO_H
#define VOLT_EXPERIMENTS_PROTO_H

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <volt.h>

#define PROTO_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ the clock */

/* The monotonic clock, in nanoseconds. */
static inline uint64_t proto_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Busy-waits until `ns` nanoseconds of wall time have passed. */
static inline void proto_spin_ns(uint64_t ns)
{
	uint64_t end = proto_now_ns() + ns;

	while (proto_now_ns() < end)
		;
}

/* Sleeps 20 us: the main thread's untimed waits for tasks poll with it. */
static inline void proto_nap(void)
{
	struct timespec ts = { 0, 20000 };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------- the results */

/*
 * One protocol line: result,<rep>,<metric>,<value>,<unit>. The value is
 * printed in plain decimal (never an exponent), trailing zeros removed.
 */
static inline void proto_result(unsigned long rep, const char *metric, double value,
				const char *unit)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%.6f", value);

	if (n > 0 && (size_t)n < sizeof buf && strchr(buf, '.')) {
		while (n > 1 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	printf("result,%lu,%s,%s,%s\n", rep, metric, buf, unit);
}

/* A runtime counter reported per iteration: its metric name and its field. */
struct proto_counter {
	const char *name;
	size_t off; /* in struct volt_worker_metrics */
};

#define PROTO_COUNTER_AS(metric, field) { metric, offsetof(struct volt_worker_metrics, field) }
#define PROTO_COUNTER(field) PROTO_COUNTER_AS(#field, field)

/* How much counter c grew from snapshot m0 to m1 (both from volt_metrics_total). */
static inline uint64_t proto_counter_delta(const struct proto_counter *c,
					   const struct volt_worker_metrics *m0,
					   const struct volt_worker_metrics *m1)
{
	uint64_t v0, v1;

	memcpy(&v0, (const char *)m0 + c->off, sizeof v0);
	memcpy(&v1, (const char *)m1 + c->off, sizeof v1);
	return v1 - v0;
}

/* Prints result,<rep>,<name>,<delta>,count for each of the n counters, in order. */
static inline void proto_counters_print(unsigned long rep, const struct proto_counter *c,
					size_t n, const struct volt_worker_metrics *m0,
					const struct volt_worker_metrics *m1)
{
	for (size_t i = 0; i < n; i++)
		printf("result,%lu,%s,%llu,count\n", rep, c[i].name,
		       (unsigned long long)proto_counter_delta(&c[i], m0, m1));
}

/* qsort's comparison for doubles, ascending. */
static inline int proto_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n sorted values (the mean of the middle two if n is even). */
static inline double proto_median(const double *v, unsigned long n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Sorts the n > 0 iteration times ns[] (nanoseconds) and writes
 * "median_us=M min_us=m max_us=x" (one decimal) into buf, for a '#' line.
 */
static inline void proto_summary(char *buf, size_t size, double *ns, unsigned long n)
{
	qsort(ns, n, sizeof *ns, proto_cmp_double);
	snprintf(buf, size, "median_us=%.1f min_us=%.1f max_us=%.1f", proto_median(ns, n) / 1e3,
		 ns[0] / 1e3, ns[n - 1] / 1e3);
}

/* ------------------------------------------------------------- options */

/* Parses a decimal count in [min, max] (digits only) into *out; 0, or -1. */
static inline int proto_count(const char *s, unsigned long *out, unsigned long min,
			      unsigned long max)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out >= min && *out <= max ? 0 : -1;
}

/* A numeric option: `<name> N` stores N in *dst, if min <= N <= max. */
struct proto_opt {
	const char *name;
	unsigned long *dst;
	unsigned long min, max;
};

/*
 * Handles argv[*i] if it is one of the options in `opts` (a table ended by
 * a NULL name): true, with *i advanced past the value and *bad set if the
 * value is missing, malformed or out of range; false for any other word.
 */
static inline bool proto_opt(int argc, char **argv, int *i, const struct proto_opt *opts,
			     bool *bad)
{
	for (const struct proto_opt *o = opts; o->name; o++) {
		if (strcmp(argv[*i], o->name))
			continue;
		*bad |= proto_count(*i + 1 < argc ? argv[*i + 1] : NULL, o->dst, o->min, o->max) != 0;
		(*i)++;
		return true;
	}
	return false;
}

/* Parses options that are all numeric (`opts`, as for proto_opt); true if all were good. */
static inline bool proto_opts_parse(int argc, char **argv, const struct proto_opt *opts)
{
	bool bad = false;

	for (int i = 1; i < argc && !bad; i++)
		bad |= !proto_opt(argc, argv, &i, opts, &bad);
	return !bad;
}

/*
 * proto_opts_parse, with one option that takes no value besides: `flag`
 * ("--json") sets *flag_set. True if every word was good.
 */
static inline bool proto_opts_parse_flag(int argc, char **argv, const struct proto_opt *opts,
					 const char *flag, bool *flag_set)
{
	bool bad = false;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], flag))
			*flag_set = true;
		else if (!proto_opt(argc, argv, &i, opts, &bad))
			bad = true;
	}
	return !bad;
}

/* ------------------------------------------------- the process, the runtime */

/* Keeps freed memory in the process (up to `trim` bytes): no page faults after the warm-up. */
static inline void proto_malloc_setup_trim(int trim)
{
	mallopt(M_TRIM_THRESHOLD, trim);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
}

/* proto_malloc_setup_trim with the usual 512 MiB. */
static inline void proto_malloc_setup(void)
{
	proto_malloc_setup_trim(512 << 20);
}

/*
 * volt_config_init (VOLT_SCHED and the other knobs), then the workers:
 * `workers` if nonzero, else VOLT_WORKERS if set, else `dflt` if nonzero.
 * 0, or 2 (the usage exit status) after printing "<prog>: bad VOLT_* ...".
 */
static inline int proto_config(struct volt_config *cfg, const char *prog, unsigned long workers,
			       unsigned dflt)
{
	if (volt_config_init(cfg)) {
		fprintf(stderr, "%s: bad VOLT_* environment variable\n", prog);
		return 2;
	}
	if (workers)
		cfg->workers = (unsigned)workers;
	else if (dflt && !getenv("VOLT_WORKERS"))
		cfg->workers = dflt;
	return 0;
}

/* volt_run_with(cfg, app, arg); prints "<prog>: runtime: <error>" if it failed. Its result. */
static inline int proto_run(const struct volt_config *cfg, volt_main_fn app, void *arg,
			    const char *prog)
{
	int err = volt_run_with(cfg, app, arg);

	if (err < 0)
		fprintf(stderr, "%s: runtime: %s\n", prog, strerror(-err));
	return err;
}

/* Keeps the first error of the tasks: stores err in *slot unless one is there. */
static inline void proto_note_err(atomic_int *slot, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(slot, &zero, err);
}

/* ------------------------------------------------------------ the latch */

/*
 * The completion latch: an atomic count; the thread taking it to zero wakes
 * the waiter (a mutex and condition variable: the main thread is no worker).
 */
struct proto_latch {
	atomic_ulong left;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
};

#define PROTO_LATCH_INIT \
	{ .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER }

/* Closes the latch until n counts have come down. */
static inline void proto_latch_arm(struct proto_latch *l, unsigned long n)
{
	atomic_store(&l->left, n);
	l->open = false;
}

/* Counts n down; the count that reaches zero opens the latch. */
static inline void proto_latch_count_down(struct proto_latch *l, unsigned long n)
{
	if (atomic_fetch_sub(&l->left, n) != n)
		return;
	pthread_mutex_lock(&l->lock);
	l->open = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

/* Waits until the latch opens. */
static inline void proto_latch_wait(struct proto_latch *l)
{
	pthread_mutex_lock(&l->lock);
	while (!l->open)
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

/* Waits until the latch opens (0) or `seconds` have passed (-ETIMEDOUT). */
static inline int proto_latch_wait_for(struct proto_latch *l, unsigned seconds)
{
	struct timespec deadline;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&l->lock);
	while (!l->open && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&l->cond, &l->lock, &deadline);
	err = l->open ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&l->lock);
	return err;
}

/*
 * One round: arms l for n counts, spawns the root task f (size bytes, which
 * the tasks that count down descend from) and waits for the latch. 0, the
 * root's spawn error, or the first task error, taken from *task_err.
 */
static inline int proto_latch_round(struct volt_rt *rt, struct proto_latch *l, unsigned long n,
				    const struct volt_future *f, size_t size, atomic_int *task_err)
{
	int err;

	proto_latch_arm(l, n);
	err = volt_spawn(rt, f, size, NULL);
	if (err)
		return err;
	proto_latch_wait(l);
	return atomic_exchange(task_err, 0);
}

/*
 * Spawns n copies of f (size bytes), each of which counts l down once; if a
 * spawn fails, notes its error in *task_err and counts down for the copies
 * never spawned.
 */
static inline void proto_spawn_copies(struct volt_rt *rt, const struct volt_future *f, size_t size,
				      unsigned long n, struct proto_latch *l, atomic_int *task_err)
{
	for (unsigned long i = 0; i < n; i++) {
		int err = volt_spawn(rt, f, size, NULL);

		if (err) {
			proto_note_err(task_err, err);
			proto_latch_count_down(l, n - i);
			return;
		}
	}
}

#endif /* VOLT_EXPERIMENTS_PROTO_H */
