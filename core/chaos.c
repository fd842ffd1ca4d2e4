/* SPDX-License-Identifier: MIT */
/*
 * core/chaos.c: the chaos build's scheduling point, for real threads.
 *
 * core/atomic.h puts VOLT__POINT() in front of every atomic operation; with
 * -DVOLT_CHAOS that is a call to volt__chaos_point(). Two programs define
 * it: the model checker (tests/model/sched.c, one thread at a time, a run a
 * pure function of its seed) and this file, which is compiled only with
 * -DVOLT_CHAOS_RANDOM as well (the `chaos` tree, `make test-chaos`). Here
 * the threads keep running in parallel; at each point a thread sometimes
 * gives up its CPU or dawdles for a moment, so that the windows between two
 * atomic operations, which are nanoseconds wide in a normal run, are now and
 * then held open for microseconds while the other threads go on. The stress
 * tests then meet interleavings that a quiet run almost never shows. This is
 * Go's -race scheduler randomisation, and item 1 of the "loom-like
 * exploration" proposal in the reliability notes.
 *
 * At each point, with probability RATE the thread is perturbed:
 *   - with probability SLEEP it nanosleep()s 1..50 us (rare, long: with
 *     the kernel's timer slack the thread is off its CPU 50 us or more);
 *   - otherwise, with probability YIELD, it calls sched_yield();
 *   - otherwise it spins 1..SPIN times on cpu_relax (stays on its CPU).
 * Otherwise the point costs a thread-local xorshift step and a compare.
 *
 * Tuning, read once at start-up from the environment:
 *   VOLT_CHAOS_SEED=<n>    process seed (decimal or 0x hex). Unset: derived
 *                          from the clock and the pid.
 *   VOLT_CHAOS_RATE=<p>    chance a point perturbs, 0..1 (default 0.02; 0
 *                          turns the perturbations off, the calls stay).
 *   VOLT_CHAOS_SLEEP=<p>   chance a perturbation is a sleep (default 0.01).
 *   VOLT_CHAOS_YIELD=<p>   chance a perturbation that is no sleep yields
 *                          rather than spins (default 0.5).
 *   VOLT_CHAOS_SPIN=<n>    longest spin, in cpu_relax (default 256).
 * The settings are printed once per process on stderr, in a form that can be
 * pasted back to replay:
 *	chaos: VOLT_CHAOS_SEED=<n> VOLT_CHAOS_RATE=<p> VOLT_CHAOS_SLEEP=<p> VOLT_CHAOS_SPIN=<n> ...
 *
 * Not every race gets easier. Perturbing widens the window between two
 * atomic operations of one thread, which is what a lost wakeup or a
 * publish-before-write needs; but it slows every thread, so races that need
 * two threads inside the same few instructions at once (two takers of a
 * deque's last element) came up less often than in a plain run at every
 * setting tried (tests/chaos/README.md). The plain stress tests keep those.
 *
 * Streams. Each thread has its own xorshift state: stream i of the seed
 * (volt__rng_stream), where i is the order in which threads reach their
 * first point. A forked child (the test runner forks every case) starts
 * afresh: its forking thread takes stream 0 and the counter restarts at 1,
 * so a case gets the same streams whatever ran before it in the parent.
 *
 * What a seed replays, honestly: with real threads a seed fixes each
 * thread's sequence of decisions (the k-th point of thread i yields or
 * not), not the interleaving. The OS still schedules the threads, the
 * order in which threads reach their first point (so which stream each
 * gets) can differ, and how many points a thread passes depends on what
 * the others did. A replay with the failing seed makes the failure likely,
 * not certain: run it several times. For exact replay there is the model
 * checker (docs/model-checking.md) and the sim policy.
 *
 * Nothing here uses the volt__ atomic macros: that would recurse.
 */
#include "core/atomic.h" /* outside the guard: never an empty translation unit */

#ifdef VOLT_CHAOS_RANDOM

#ifndef VOLT_CHAOS
#error "VOLT_CHAOS_RANDOM needs VOLT_CHAOS (core/atomic.h's scheduling points)"
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/rng.h"

#define CHAOS_DEFAULT_RATE 0.02
#define CHAOS_DEFAULT_SLEEP 0.01
#define CHAOS_DEFAULT_SPIN 256u
#define CHAOS_DEFAULT_YIELD 0.5
#define CHAOS_MAX_SLEEP_NS 50000L

/* Process-wide settings: written once (init), read by every thread after. */
static struct {
	uint64_t seed;
	uint32_t rate;  /* perturb when the low 32 bits of a draw are below */
	uint32_t sleep; /* a perturbation sleeps when its next 32 bits are below */
	uint32_t yield; /* a perturbation that does not sleep yields when below */
	unsigned spin;  /* 1..spin cpu_relax */
	double rate_p, sleep_p, yield_p;
} cfg;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static atomic_uint next_stream; /* the stream of the next thread to need one */

static _Thread_local uint64_t tl_rng; /* 0: this thread has no stream yet */

/* p in [0, 1] as a 32-bit threshold: a uniform u32 below it has chance p. */
static uint32_t threshold(double p)
{
	if (!(p > 0))
		return 0;
	if (p >= 1)
		return UINT32_MAX;
	return (uint32_t)(p * 4294967296.0);
}

/* A probability from the environment, or def if unset; a bad one is reported. */
static double env_prob(const char *name, double def)
{
	const char *s = getenv(name);
	char *end;
	double p;

	if (!s || !*s)
		return def;
	errno = 0;
	p = strtod(s, &end);
	if (errno || *end || !(p >= 0 && p <= 1)) {
		fprintf(stderr, "chaos: ignoring %s=%s (want a number in 0..1)\n", name, s);
		return def;
	}
	return p;
}

static void fork_child(void);

/*
 * Reads the settings, picks the seed, prints the replay line, and arranges
 * for forked children to restart the streams. Runs once per process, from
 * the constructor below or from the first point, whichever comes first.
 */
static void init(void)
{
	const char *s = getenv("VOLT_CHAOS_SEED");
	char *end;
	bool chosen = false;

	if (s && *s) {
		errno = 0;
		cfg.seed = strtoull(s, &end, 0);
		if (errno || *end)
			fprintf(stderr, "chaos: ignoring VOLT_CHAOS_SEED=%s (want an integer)\n", s);
		else
			chosen = true;
	}
	if (!chosen) {
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		x ^= (uint64_t)getpid() << 32;
		/* Short enough to type back: 9 decimal digits at most. */
		cfg.seed = volt__splitmix64(&x) % 1000000000ull;
	}
	cfg.rate_p = env_prob("VOLT_CHAOS_RATE", CHAOS_DEFAULT_RATE);
	cfg.sleep_p = env_prob("VOLT_CHAOS_SLEEP", CHAOS_DEFAULT_SLEEP);
	cfg.rate = threshold(cfg.rate_p);
	cfg.yield_p = env_prob("VOLT_CHAOS_YIELD", CHAOS_DEFAULT_YIELD);
	cfg.yield = threshold(cfg.yield_p);
	cfg.sleep = threshold(cfg.sleep_p);
	cfg.spin = CHAOS_DEFAULT_SPIN;
	s = getenv("VOLT_CHAOS_SPIN");
	if (s && *s) {
		unsigned long n;

		errno = 0;
		n = strtoul(s, &end, 0);
		if (errno || *end || n < 1 || n > 1000000)
			fprintf(stderr, "chaos: ignoring VOLT_CHAOS_SPIN=%s (want 1..1000000)\n", s);
		else
			cfg.spin = (unsigned)n;
	}
	fprintf(stderr, "chaos: VOLT_CHAOS_SEED=%" PRIu64 " VOLT_CHAOS_RATE=%g VOLT_CHAOS_SLEEP=%g "
		"VOLT_CHAOS_SPIN=%u VOLT_CHAOS_YIELD=%g\n", cfg.seed, cfg.rate_p, cfg.sleep_p,
		cfg.spin, cfg.yield_p);
	fflush(stderr);
	atomic_store(&next_stream, 0);
	pthread_atfork(NULL, NULL, fork_child);
}

/* Gives the calling thread its stream (the next index) after init. */
static void take_stream(void)
{
	pthread_once(&init_once, init);
	tl_rng = volt__rng_stream(cfg.seed, atomic_fetch_add(&next_stream, 1));
}

/* In a forked child: the forking thread is stream 0, the next thread 1. */
static void fork_child(void)
{
	atomic_store(&next_stream, 1);
	tl_rng = volt__rng_stream(cfg.seed, 0);
}

/* In the process that loads the chaos library, before main: one replay line. */
__attribute__((constructor)) static void chaos_start(void)
{
	pthread_once(&init_once, init);
}

/*
 * The scheduling point (contract in core/atomic.h): usually nothing; with
 * probability RATE a yield, a short spin or, rarely, a short sleep. Safe on
 * any thread and on a fiber stack; it takes no lock and allocates nothing.
 */
void volt__chaos_point(void)
{
	uint64_t r;

	if (__builtin_expect(tl_rng == 0, 0))
		take_stream();
	r = volt__xorshift64(&tl_rng);
	if (__builtin_expect((uint32_t)r >= cfg.rate, 1))
		return;
	r = volt__xorshift64(&tl_rng);
	if ((uint32_t)r < cfg.sleep) {
		struct timespec ts = { 0, 1000L + (long)((r >> 32) % CHAOS_MAX_SLEEP_NS) };

		nanosleep(&ts, NULL);
	} else if ((uint32_t)volt__xorshift64(&tl_rng) < cfg.yield) {
		sched_yield();
	} else {
		unsigned n = 1 + (unsigned)((r >> 33) % cfg.spin);

		while (n--)
			volt__cpu_relax();
	}
}

#endif /* VOLT_CHAOS_RANDOM */
