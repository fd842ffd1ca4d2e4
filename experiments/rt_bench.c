/* SPDX-License-Identifier: MIT */
/*
 * experiments/rt_bench.c: the scheduler micro-benchmarks, in the shapes of
 * Tokio's benches/rt_multi_threaded.rs, using the public API only.
 * peers/tokio/src/main.rs and peers/go/main.go run the same five with the
 * same constants, flags and CSV; experiments/compare.sh runs all three.
 *
 *	spawn_many_local   a task spawns SPAWN_MANY tasks; each counts a latch down
 *	spawn_many_remote  the same, spawned by the main thread (not a worker)
 *	yield_many         YIELD_TASKS tasks, spawned by the main thread, each
 *	                   yields YIELD_COUNT times, then counts the latch down
 *	ping_pong          a task spawns PING_PONG_PAIRS tasks; each makes two
 *	                   one-slot hand-offs, spawns a partner, sends to it on
 *	                   the first and awaits its answer on the second
 *	chained_spawn      a chain of CHAIN_LENGTH tasks, each spawning the next;
 *	                   the last counts the latch down
 *
 * One iteration = one whole round of a benchmark, timed on the main thread
 * from before the first spawn until the latch opens. The runtime (and its
 * task memory) is reused by every iteration, and WARMUP untimed
 * iterations precede the timed ones, so page faults are not measured.
 *
 *	rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N]
 *	rt_bench --list     (the policies built in, one a line)
 *	VOLT_SCHED=ring build/experiments/rt_bench --bench yield_many
 *
 * stdout: a CSV header, one row per timed iteration
 * (impl,bench,policy,workers,rep,ns), then '#' summary lines with the
 * median, min and max per benchmark.
 *
 * ping_pong uses experiments/handoff.h, a minimal oneshot, because Volt-C
 * has no channels yet.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <volt.h>

#include "handoff.h"

/* The constants, the same in all three implementations. */
#define SPAWN_MANY 10000      /* tasks per spawn_many iteration */
#define YIELD_TASKS 200       /* tasks per yield_many iteration */
#define YIELD_COUNT 1000      /* yields per yield_many task */
#define PING_PONG_PAIRS 1000  /* pairs per ping_pong iteration */
#define CHAIN_LENGTH 1000     /* tasks per chained_spawn iteration */
#define DEFAULT_REPS 10
#define DEFAULT_WARMUP 3
#define DEFAULT_WORKERS 2

/* ------------------------------------------------------------ the latch */

/*
 * The completion signal: a count; the task taking it to zero wakes the
 * main thread (Tokio's bench uses a std sync_channel here, Go a channel).
 */
struct latch {
	atomic_ulong left;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
};

static struct latch latch = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* First error a task met (a failed spawn), 0 if none. */
static atomic_int task_err;

static void latch_arm(unsigned long n)
{
	atomic_store(&latch.left, n);
	latch.open = false;
}

static void latch_count_down(unsigned long n)
{
	if (atomic_fetch_sub(&latch.left, n) != n)
		return;
	pthread_mutex_lock(&latch.lock);
	latch.open = true;
	pthread_cond_signal(&latch.cond);
	pthread_mutex_unlock(&latch.lock);
}

static void latch_wait(void)
{
	pthread_mutex_lock(&latch.lock);
	while (!latch.open)
		pthread_cond_wait(&latch.cond, &latch.lock);
	pthread_mutex_unlock(&latch.lock);
}

/* A spawn failed: remember why and count down the tasks that will never run. */
static void spawn_failed(int err, unsigned long never_run)
{
	int zero = 0;

	atomic_compare_exchange_strong(&task_err, &zero, err);
	latch_count_down(never_run);
}

/* ------------------------------------------------- spawn_many_{local,remote} */

struct child {
	struct volt_future base;
};

static enum volt_poll child_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	latch_count_down(1);
	return VOLT_READY;
}

static const struct volt_future_ops child_ops = { .poll = child_poll };

static void spawn_children(struct volt_rt *rt, unsigned long n)
{
	struct child c = { .base = VOLT_FUTURE_INIT(&child_ops) };

	for (unsigned long i = 0; i < n; i++) {
		int err = volt_spawn(rt, &c.base, sizeof c, NULL);

		if (err) {
			spawn_failed(err, n - i);
			return;
		}
	}
}

struct spawner {
	struct volt_future base;
};

static enum volt_poll spawner_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	spawn_children(cx->rt, SPAWN_MANY);
	return VOLT_READY;
}

static const struct volt_future_ops spawner_ops = { .poll = spawner_poll };

/* Spawns one root task from the main thread; 0 or the spawn's error. */
static int spawn_root(struct volt_rt *rt, const struct volt_future *f, size_t size)
{
	return volt_spawn(rt, f, size, NULL);
}

static int spawn_many_local(struct volt_rt *rt)
{
	struct spawner s = { .base = VOLT_FUTURE_INIT(&spawner_ops) };

	latch_arm(SPAWN_MANY);
	return spawn_root(rt, &s.base, sizeof s);
}

static int spawn_many_remote(struct volt_rt *rt)
{
	latch_arm(SPAWN_MANY);
	spawn_children(rt, SPAWN_MANY);
	return 0;
}

/* ------------------------------------------------------------- yield_many */

struct yielder {
	struct volt_future base;
	unsigned i;
	struct volt_yield y;
};

static enum volt_poll yielder_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct yielder *y = (struct yielder *)f;

	VOLT_BEGIN(f);
	for (y->i = 0; y->i < YIELD_COUNT; y->i++)
		VOLT_AWAIT(f, cx, volt_yield_now(&y->y));
	latch_count_down(1);
	VOLT_END(f);
}

static const struct volt_future_ops yielder_ops = { .poll = yielder_poll };

static int yield_many(struct volt_rt *rt)
{
	struct yielder y = { .base = VOLT_FUTURE_INIT(&yielder_ops) };

	latch_arm(YIELD_TASKS);
	for (unsigned long i = 0; i < YIELD_TASKS; i++) {
		int err = volt_spawn(rt, &y.base, sizeof y, NULL);

		if (err) {
			spawn_failed(err, YIELD_TASKS - i);
			break;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- ping_pong */

/* The partner: waits for the ping on h1, answers on h2. */
struct pong {
	struct volt_future base;
	struct handoff *h1, *h2;
	struct handoff_recv rx;
};

static enum volt_poll pong_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct pong *p = (struct pong *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, handoff_recv(&p->rx, p->h1));
	handoff_send(p->h2, NULL);
	VOLT_END(f);
}

static const struct volt_future_ops pong_ops = { .poll = pong_poll };

/* One pair: spawns its partner, pings on h1, awaits the pong on h2. */
struct ping {
	struct volt_future base;
	struct handoff *h2;
	struct handoff_recv rx;
};

static enum volt_poll ping_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct ping *p = (struct ping *)f;

	VOLT_BEGIN(f);
	{
		struct handoff *h1 = handoff_new(), *h2 = handoff_new();
		struct pong partner = { .base = VOLT_FUTURE_INIT(&pong_ops), .h1 = h1, .h2 = h2 };
		int err = h1 && h2 ? volt_spawn(cx->rt, &partner.base, sizeof partner, NULL)
				   : -ENOMEM;

		if (err) {
			free(h1);
			free(h2);
			spawn_failed(err, 1);
			VOLT_RETURN(f, cx, NULL);
		}
		handoff_send(h1, NULL);
		p->h2 = h2;
	}
	VOLT_AWAIT(f, cx, handoff_recv(&p->rx, p->h2));
	latch_count_down(1);
	VOLT_END(f);
}

static const struct volt_future_ops ping_ops = { .poll = ping_poll };

/* The root: spawns the pairs. */
static enum volt_poll pairs_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct ping p = { .base = VOLT_FUTURE_INIT(&ping_ops) };

	(void)f;
	for (unsigned long i = 0; i < PING_PONG_PAIRS; i++) {
		int err = volt_spawn(cx->rt, &p.base, sizeof p, NULL);

		if (err) {
			spawn_failed(err, PING_PONG_PAIRS - i);
			break;
		}
	}
	return VOLT_READY;
}

static const struct volt_future_ops pairs_ops = { .poll = pairs_poll };

static int ping_pong(struct volt_rt *rt)
{
	struct volt_future root = VOLT_FUTURE_INIT(&pairs_ops);

	latch_arm(PING_PONG_PAIRS);
	return spawn_root(rt, &root, sizeof root);
}

/* ---------------------------------------------------------- chained_spawn */

struct link {
	struct volt_future base;
	unsigned n;
};

static enum volt_poll link_poll(struct volt_future *f, struct volt_cx *cx);
static const struct volt_future_ops link_ops = { .poll = link_poll };

/* Tokio's iter(): the end of the chain signals, any other link spawns the next. */
static void chain_iter(struct volt_rt *rt, unsigned n)
{
	struct link next = { .base = VOLT_FUTURE_INIT(&link_ops), .n = n - 1 };
	int err;

	if (n == 0) {
		latch_count_down(1);
		return;
	}
	err = volt_spawn(rt, &next.base, sizeof next, NULL);
	if (err)
		spawn_failed(err, 1);
}

static enum volt_poll link_poll(struct volt_future *f, struct volt_cx *cx)
{
	chain_iter(cx->rt, ((struct link *)f)->n);
	return VOLT_READY;
}

static int chained_spawn(struct volt_rt *rt)
{
	struct link root = { .base = VOLT_FUTURE_INIT(&link_ops), .n = CHAIN_LENGTH };

	latch_arm(1);
	return spawn_root(rt, &root.base, sizeof root);
}

/* ------------------------------------------------------------- the driver */

struct bench {
	const char *name;
	int (*start)(struct volt_rt *rt); /* arms the latch and starts one iteration */
};

static const struct bench benches[] = {
	{ "spawn_many_local", spawn_many_local },
	{ "spawn_many_remote", spawn_many_remote },
	{ "yield_many", yield_many },
	{ "ping_pong", ping_pong },
	{ "chained_spawn", chained_spawn },
};

#define NBENCHES (sizeof(benches) / sizeof(benches[0]))

struct opts {
	const char *bench; /* a name or "all" */
	unsigned long reps, warmup, workers;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One iteration: its nanoseconds, or a negative errno. */
static double one_iteration(struct volt_rt *rt, const struct bench *b)
{
	double t0 = now_ns();
	int err = b->start(rt);

	if (err) /* the root never ran: nothing to wait for */
		return err;
	latch_wait();
	err = atomic_exchange(&task_err, 0);
	return err ? err : now_ns() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n sorted values (the mean of the middle two if n is even). */
static double median(const double *v, unsigned long n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int app(struct volt_rt *rt, void *arg)
{
	const struct opts *o = arg;
	const char *policy = volt_rt_scheduler(rt);
	unsigned workers = volt_rt_workers(rt);
	double *ns = calloc(o->reps, sizeof *ns);
	char summary[NBENCHES][160];
	unsigned nsum = 0;

	if (!ns)
		return -ENOMEM;
	printf("impl,bench,policy,workers,rep,ns\n");
	for (size_t i = 0; i < NBENCHES; i++) {
		const struct bench *b = &benches[i];

		if (strcmp(o->bench, "all") && strcmp(o->bench, b->name))
			continue;
		for (unsigned long r = 0; r < o->warmup + o->reps; r++) {
			double t = one_iteration(rt, b);

			if (t < 0) {
				fprintf(stderr, "rt_bench: %s: %s\n", b->name, strerror((int)-t));
				free(ns);
				return 1;
			}
			if (r < o->warmup)
				continue;
			ns[r - o->warmup] = t;
			printf("volt,%s,%s,%u,%lu,%.0f\n", b->name, policy, workers,
			       r - o->warmup + 1, t);
		}
		fflush(stdout);
		qsort(ns, o->reps, sizeof *ns, cmp_double);
		snprintf(summary[nsum++], sizeof summary[0],
			 "# volt %-17s policy=%s workers=%u reps=%lu median_us=%.1f min_us=%.1f max_us=%.1f",
			 b->name, policy, workers, o->reps, median(ns, o->reps) / 1e3, ns[0] / 1e3,
			 ns[o->reps - 1] / 1e3);
	}
	for (unsigned i = 0; i < nsum; i++)
		printf("%s\n", summary[i]);
	free(ns);
	return 0;
}

static int parse_count(const char *s, unsigned long *out, unsigned long min)
{
	char *end;

	errno = 0;
	*out = strtoul(s ? s : "", &end, 10);
	return s && *s && !*end && !errno && *out >= min ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.bench = "all", .reps = DEFAULT_REPS, .warmup = DEFAULT_WARMUP,
		.workers = DEFAULT_WORKERS,
	};
	struct volt_config cfg;
	bool known;
	int err;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (unsigned i = 0; volt_sched_name(i); i++)
			printf("%s\n", volt_sched_name(i));
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--bench") && v)
			o.bench = v;
		else if (!strcmp(argv[i], "--reps") && !parse_count(v, &o.reps, 1))
			;
		else if (!strcmp(argv[i], "--warmup") && !parse_count(v, &o.warmup, 0))
			;
		else if (!strcmp(argv[i], "--workers") && !parse_count(v, &o.workers, 1))
			;
		else
			goto usage;
		i++;
	}
	known = !strcmp(o.bench, "all");
	for (size_t i = 0; i < NBENCHES; i++)
		known |= !strcmp(o.bench, benches[i].name);
	if (!known)
		goto usage;

	/* Keep freed memory in the process: no page faults after the warm-up. */
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);

	err = volt_config_init(&cfg); /* VOLT_SCHED and the other knobs */
	if (err) {
		fprintf(stderr, "rt_bench: bad VOLT_* environment variable\n");
		return 2;
	}
	cfg.workers = (unsigned)o.workers;
	err = volt_run_with(&cfg, app, &o);
	if (err < 0)
		fprintf(stderr, "rt_bench: runtime: %s\n", strerror(-err));
	return err == 0 ? 0 : 1;

usage:
	fprintf(stderr,
		"usage: %s [--bench NAME|all] [--reps N] [--warmup N] [--workers N] | --list\n"
		"  NAME: spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn\n"
		"  VOLT_SCHED=<policy> chooses the scheduler; policies:",
		argv[0]);
	for (unsigned i = 0; volt_sched_name(i); i++)
		fprintf(stderr, " %s", volt_sched_name(i));
	fprintf(stderr, "\n");
	return 2;
}
