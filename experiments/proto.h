/* SPDX-License-Identifier: MIT */
/*
 * experiments/proto.h: small helpers shared by the experiment programs that
 * follow the harness protocol (experiments/README.md, "The harness
 * protocol"): the result line, --reps/--warmup parsing, a clock, a latch
 * that a task opens for the main thread, and the allocator settings that
 * keep freed memory mapped (page faults are expensive on the development
 * machine). Header-only; every function is static.
 */
#ifndef VOLT_EXPERIMENTS_PROTO_H
#define VOLT_EXPERIMENTS_PROTO_H

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Parses a decimal count >= min into *out; 0, or -1 if malformed. */
static inline int proto_count(const char *s, unsigned long *out, unsigned long min)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out >= min ? 0 : -1;
}

/*
 * Handles `--reps N` and `--warmup N` at argv[*i]; true if it consumed the
 * option (advancing *i past its value). *bad is set on a malformed value.
 */
static inline bool proto_common_opt(int argc, char **argv, int *i, unsigned long *reps,
				    unsigned long *warmup, bool *bad)
{
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;

	if (!strcmp(argv[*i], "--reps"))
		*bad |= proto_count(v, reps, 1) != 0;
	else if (!strcmp(argv[*i], "--warmup"))
		*bad |= proto_count(v, warmup, 0) != 0;
	else
		return false;
	(*i)++;
	return true;
}

/* Keep freed memory in the process, so the timed runs take no page faults. */
static inline void proto_malloc_setup(void)
{
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
}

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

static inline void proto_latch_arm(struct proto_latch *l, unsigned long n)
{
	atomic_store(&l->left, n);
	l->open = false;
}

static inline void proto_latch_count_down(struct proto_latch *l, unsigned long n)
{
	if (atomic_fetch_sub(&l->left, n) != n)
		return;
	pthread_mutex_lock(&l->lock);
	l->open = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

static inline void proto_latch_wait(struct proto_latch *l)
{
	pthread_mutex_lock(&l->lock);
	while (!l->open)
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

#endif /* VOLT_EXPERIMENTS_PROTO_H */
