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
 *	ping_pong_hog      on one worker, a pair of tasks makes HOG_ROUNDS round
 *	                   trips while a hog task beside it spins HOG_SLICE_US,
 *	                   yields, and again, until told to stop (E3, Go's
 *	                   BenchmarkPingPongHog); timed inside the pinging task
 *	spawn_many_remote_busy1  the main thread spawns SPAWN_MANY tasks while
 *	                   2 x workers tasks each loop yield + a BUSY_STALL_US stall
 *	spawn_many_remote_busy2  the same while 2 x workers chains each spawn a
 *	                   successor that stalls BUSY_STALL_US (E5, Tokio #5712)
 *
 * One iteration = one whole round of a benchmark, timed on the main thread
 * from before the first spawn until the latch opens. The runtime (and its
 * task memory) is reused by every iteration, and WARMUP untimed
 * iterations precede the timed ones, so page faults are not measured.
 *
 *	rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N]
 *	         [--rounds N] [--result]
 *	rt_bench --list     (the policies built in, one a line)
 *	VOLT_SCHED=ring build/experiments/rt_bench --bench yield_many
 *
 * stdout: a CSV header, one row per timed iteration
 * (impl,bench,policy,workers,rep,ns), then '#' summary lines with the
 * median, min and max per benchmark. With --result (one benchmark only),
 * the harness protocol instead (experiments/README.md): per timed
 * iteration `result,<rep>,time_per_iter,<us>,us`, then the iteration's
 * deltas of the runtime counters. --workers, else VOLT_WORKERS, else 2;
 * ping_pong_hog always runs one worker. Each benchmark gets its own
 * runtime. An iteration that has not finished after ITER_TIMEOUT_S
 * seconds fails the program (exit 3).
 *
 * ping_pong uses experiments/handoff.h, a minimal oneshot, because Volt-C
 * has no channels yet.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stddef.h>
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
#define HOG_ROUNDS 5000       /* round trips per ping_pong_hog iteration (--rounds) */
#define HOG_SLICE_US 50       /* the hog spins this long between yields */
#define BUSY_STALL_US 10      /* the busy tasks' stall (Tokio's stall()) */
#define DEFAULT_REPS 10
#define DEFAULT_WARMUP 3
#define HOG_REPS 5            /* ping_pong_hog's defaults: slow with the slot off */
#define HOG_WARMUP 1
#define DEFAULT_WORKERS 2
#define ITER_TIMEOUT_S 20     /* an iteration taking longer fails the program */

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

/* 0 once the latch opened, -ETIMEDOUT after ITER_TIMEOUT_S seconds. */
static int latch_wait(void)
{
	struct timespec deadline;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ITER_TIMEOUT_S;
	pthread_mutex_lock(&latch.lock);
	while (!latch.open && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&latch.cond, &latch.lock, &deadline);
	err = latch.open ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&latch.lock);
	return err;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Busy-waits `us` microseconds on the calling thread (a long poll). */
static void spin_us(unsigned us)
{
	double end = now_ns() + us * 1e3;

	while (now_ns() < end)
		;
}

/* Sleeps a little; the main thread's untimed waits for tasks poll with it. */
static void nap(void)
{
	struct timespec ts = { 0, 20000 };

	nanosleep(&ts, NULL);
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

/* ---------------------------------------------------------- ping_pong_hog */

/*
 * One worker. A hog task spins HOG_SLICE_US, yields, and again, until
 * hog_stop; beside it a pair makes `rounds` round trips. Each message is a
 * fresh handoff (a oneshot) carrying the handoff for the answer, so a hop
 * is one send and one wake, as with Tokio's oneshot or a Go channel. The
 * pinging task takes the time itself, from its first send to its last
 * answer, so the wait for the injected root to get past the hog is not
 * in it. With the LIFO slot the woken partner runs before the hog (for
 * lifo_max_polls tasks in a row); without it, every hop waits for a slice.
 */
static atomic_bool hog_stop;
static atomic_bool hog_running;
static unsigned long hog_rounds = HOG_ROUNDS;
static struct volt_join *hog_join;
static atomic_ulong hog_slices; /* slices the hog has spun */
static double pair_ns;          /* written by the ping task before it opens the latch */
static unsigned long pair_slices; /* hog slices while the pair ran, likewise */

static struct handoff *handoff_or_die(void)
{
	struct handoff *h = handoff_new();

	if (!h) {
		fprintf(stderr, "rt_bench: out of memory\n");
		abort();
	}
	return h;
}

struct hog {
	struct volt_future base;
	struct volt_yield y;
};

static enum volt_poll hog_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct hog *h = (struct hog *)f;

	VOLT_BEGIN(f);
	atomic_store(&hog_running, true);
	while (!atomic_load_explicit(&hog_stop, memory_order_relaxed)) {
		spin_us(HOG_SLICE_US);
		atomic_fetch_add_explicit(&hog_slices, 1, memory_order_relaxed);
		VOLT_AWAIT(f, cx, volt_yield_now(&h->y));
	}
	VOLT_END(f);
}

static const struct volt_future_ops hog_ops = { .poll = hog_poll };

/* The partner: answers each message with a fresh handoff for the next one. */
struct hog_pong {
	struct volt_future base;
	struct handoff *in;
	struct handoff_recv rx;
};

static enum volt_poll hog_pong_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct hog_pong *p = (struct hog_pong *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, handoff_recv(&p->rx, p->in));
		if (!p->rx.value)
			break; /* the end */
		p->in = handoff_or_die();
		handoff_send(p->rx.value, p->in);
	}
	VOLT_END(f);
}

static const struct volt_future_ops hog_pong_ops = { .poll = hog_pong_poll };

struct hog_ping {
	struct volt_future base;
	struct handoff *out, *answer;
	struct handoff_recv rx;
	unsigned long i, slices0;
	double t0;
};

static enum volt_poll hog_ping_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct hog_ping *p = (struct hog_ping *)f;

	VOLT_BEGIN(f);
	{
		struct handoff *first = handoff_or_die();
		struct hog_pong partner = { .base = VOLT_FUTURE_INIT(&hog_pong_ops), .in = first };
		int err = volt_spawn(cx->rt, &partner.base, sizeof partner, NULL);

		if (err) {
			handoff_release(first);
			handoff_release(first);
			spawn_failed(err, 1);
			VOLT_RETURN(f, cx, NULL);
		}
		p->out = first;
	}
	p->t0 = now_ns();
	p->slices0 = atomic_load(&hog_slices);
	for (p->i = 0; p->i < hog_rounds; p->i++) {
		p->answer = handoff_or_die();
		handoff_send(p->out, p->answer);
		VOLT_AWAIT(f, cx, handoff_recv(&p->rx, p->answer));
		p->out = p->rx.value;
	}
	pair_ns = now_ns() - p->t0;
	pair_slices = atomic_load(&hog_slices) - p->slices0;
	handoff_send(p->out, NULL);
	latch_count_down(1);
	VOLT_END(f);
}

static const struct volt_future_ops hog_ping_ops = { .poll = hog_ping_poll };

static int hog_setup(struct volt_rt *rt)
{
	struct hog h = { .base = VOLT_FUTURE_INIT(&hog_ops) };
	int err;

	atomic_store(&hog_stop, false);
	atomic_store(&hog_running, false);
	err = volt_spawn(rt, &h.base, sizeof h, &hog_join);
	if (err)
		return err;
	while (!atomic_load(&hog_running))
		nap();
	return 0;
}

static int ping_pong_hog(struct volt_rt *rt)
{
	struct hog_ping p = { .base = VOLT_FUTURE_INIT(&hog_ping_ops) };

	latch_arm(1);
	return spawn_root(rt, &p.base, sizeof p);
}

static void hog_teardown(struct volt_rt *rt)
{
	(void)rt;
	atomic_store(&hog_stop, true);
	if (hog_join)
		volt_join_wait(hog_join, NULL);
	hog_join = NULL;
}

/* ------------------------------------------ spawn_many_remote_busy{1,2} */

/*
 * 2 x workers tasks keep the workers busy: busy1 tasks loop yield + stall,
 * busy2 chains spawn a successor that stalls. Setup starts them and waits
 * until each has run once; the timed part is spawn_many_remote; teardown
 * stops them and waits until they are gone.
 */
static atomic_bool busy_stop;
static atomic_uint busy_started, busy_live;

struct busy1 {
	struct volt_future base;
	struct volt_yield y;
};

static enum volt_poll busy1_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct busy1 *b = (struct busy1 *)f;

	VOLT_BEGIN(f);
	atomic_fetch_add(&busy_started, 1);
	while (!atomic_load_explicit(&busy_stop, memory_order_relaxed)) {
		VOLT_AWAIT(f, cx, volt_yield_now(&b->y));
		spin_us(BUSY_STALL_US);
	}
	atomic_fetch_sub(&busy_live, 1);
	VOLT_END(f);
}

static const struct volt_future_ops busy1_ops = { .poll = busy1_poll };

struct busy2 {
	struct volt_future base;
	bool first;
};

static enum volt_poll busy2_poll(struct volt_future *f, struct volt_cx *cx);
static const struct volt_future_ops busy2_ops = { .poll = busy2_poll };

static enum volt_poll busy2_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct busy2 next = { .base = VOLT_FUTURE_INIT(&busy2_ops), .first = false };

	if (((struct busy2 *)f)->first)
		atomic_fetch_add(&busy_started, 1);
	if (atomic_load_explicit(&busy_stop, memory_order_relaxed)) {
		atomic_fetch_sub(&busy_live, 1); /* the chain ends */
		return VOLT_READY;
	}
	spin_us(BUSY_STALL_US);
	if (volt_spawn(cx->rt, &next.base, sizeof next, NULL))
		atomic_fetch_sub(&busy_live, 1); /* cannot go on: the chain ends */
	return VOLT_READY;
}

static int busy_setup(struct volt_rt *rt, const struct volt_future *f, size_t size)
{
	unsigned n = 2 * volt_rt_workers(rt);

	atomic_store(&busy_stop, false);
	atomic_store(&busy_started, 0);
	atomic_store(&busy_live, n);
	for (unsigned i = 0; i < n; i++) {
		int err = volt_spawn(rt, f, size, NULL);

		if (err) {
			atomic_fetch_sub(&busy_live, n - i);
			return err;
		}
	}
	double deadline = now_ns() + ITER_TIMEOUT_S * 1e9;

	while (atomic_load(&busy_started) < n) {
		if (now_ns() > deadline)
			return -ETIMEDOUT; /* the caller stops them */
		nap();
	}
	return 0;
}

static int busy1_setup(struct volt_rt *rt)
{
	struct busy1 b = { .base = VOLT_FUTURE_INIT(&busy1_ops) };

	return busy_setup(rt, &b.base, sizeof b);
}

static int busy2_setup(struct volt_rt *rt)
{
	struct busy2 b = { .base = VOLT_FUTURE_INIT(&busy2_ops), .first = true };

	return busy_setup(rt, &b.base, sizeof b);
}

static void busy_teardown(struct volt_rt *rt)
{
	(void)rt;
	atomic_store(&busy_stop, true);
	while (atomic_load(&busy_live))
		nap();
}

/* ------------------------------------------------------------- the driver */

struct bench {
	const char *name;
	int (*setup)(struct volt_rt *rt);    /* untimed, before each iteration; may be NULL */
	int (*start)(struct volt_rt *rt);    /* arms the latch and starts one iteration */
	void (*teardown)(struct volt_rt *rt); /* untimed, after each iteration; may be NULL */
	unsigned long reps, warmup;           /* defaults */
	bool one_worker;                      /* always runs on one worker */
};

static const struct bench benches[] = {
	{ "spawn_many_local", NULL, spawn_many_local, NULL, DEFAULT_REPS, DEFAULT_WARMUP, false },
	{ "spawn_many_remote", NULL, spawn_many_remote, NULL, DEFAULT_REPS, DEFAULT_WARMUP, false },
	{ "yield_many", NULL, yield_many, NULL, DEFAULT_REPS, DEFAULT_WARMUP, false },
	{ "ping_pong", NULL, ping_pong, NULL, DEFAULT_REPS, DEFAULT_WARMUP, false },
	{ "chained_spawn", NULL, chained_spawn, NULL, DEFAULT_REPS, DEFAULT_WARMUP, false },
	{ "ping_pong_hog", hog_setup, ping_pong_hog, hog_teardown, HOG_REPS, HOG_WARMUP, true },
	{ "spawn_many_remote_busy1", busy1_setup, spawn_many_remote, busy_teardown, DEFAULT_REPS,
	  DEFAULT_WARMUP, false },
	{ "spawn_many_remote_busy2", busy2_setup, spawn_many_remote, busy_teardown, DEFAULT_REPS,
	  DEFAULT_WARMUP, false },
};

#define NBENCHES (sizeof(benches) / sizeof(benches[0]))

struct opts {
	const char *bench; /* a name or "all" */
	unsigned long reps, warmup, workers; /* 0 = the benchmark's default / VOLT_WORKERS */
	bool result;       /* print the harness protocol instead of the CSV */
	const struct bench *b; /* the one being run */
	char summary[192];
};

/* The counters reported per iteration with --result, by name. */
#define COUNTER(name) { #name, offsetof(struct volt_worker_metrics, name) }
static const struct {
	const char *name;
	size_t off;
} counters[] = {
	COUNTER(steals_won), COUNTER(tasks_stolen), COUNTER(parks), COUNTER(unparks),
	COUNTER(noop_wakes), COUNTER(lifo_hits), COUNTER(global_pops),
	COUNTER(budget_exhausted), COUNTER(overflow_moves),
};

static uint64_t counter(const struct volt_worker_metrics *m, size_t off)
{
	return *(const uint64_t *)((const char *)m + off);
}

/* One iteration: its nanoseconds, or a negative errno; the counters around its timed part. */
static double one_iteration(struct volt_rt *rt, const struct bench *b,
			    struct volt_worker_metrics *m0, struct volt_worker_metrics *m1)
{
	double t0, t;
	int err = b->setup ? b->setup(rt) : 0;

	if (err) {
		if (b->teardown)
			b->teardown(rt);
		memset(m0, 0, sizeof *m0);
		*m1 = *m0;
		return err;
	}
	volt_metrics_total(rt, m0);
	t0 = now_ns();
	err = b->start(rt);
	if (!err) /* else the root never ran: nothing to wait for */
		err = latch_wait();
	t = now_ns() - t0;
	volt_metrics_total(rt, m1);
	if (b->teardown)
		b->teardown(rt);
	if (!err)
		err = atomic_exchange(&task_err, 0);
	if (err)
		return err;
	return b->start == ping_pong_hog ? pair_ns : t;
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

/* Runs o->b on rt: warm-up, then the timed iterations. */
static int app(struct volt_rt *rt, void *arg)
{
	struct opts *o = arg;
	const struct bench *b = o->b;
	const char *policy = volt_rt_scheduler(rt);
	unsigned workers = volt_rt_workers(rt);
	double *ns = calloc(o->reps, sizeof *ns);

	if (!ns)
		return -ENOMEM;
	for (unsigned long r = 0; r < o->warmup + o->reps; r++) {
		struct volt_worker_metrics m0, m1;
		unsigned long rep = r + 1 - o->warmup;
		double t;

		t = one_iteration(rt, b, &m0, &m1);
		if (t < 0) {
			if (t == -ETIMEDOUT)
				fprintf(stderr, "rt_bench: %s: an iteration took over %d s\n",
					b->name, ITER_TIMEOUT_S);
			else
				fprintf(stderr, "rt_bench: %s: %s\n", b->name, strerror((int)-t));
			free(ns);
			return t == -ETIMEDOUT ? 3 : 1;
		}
		if (r < o->warmup)
			continue;
		ns[rep - 1] = t;
		if (!o->result) {
			printf("volt,%s,%s,%u,%lu,%.0f\n", b->name, policy, workers, rep, t);
			continue;
		}
		printf("result,%lu,time_per_iter,%.3f,us\n", rep, t / 1e3);
		if (b->start == ping_pong_hog) {
			printf("result,%lu,time_per_round_trip,%.1f,ns\n", rep, t / hog_rounds);
			printf("result,%lu,hog_slices,%lu,count\n", rep, pair_slices);
		}
		for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++)
			printf("result,%lu,%s,%llu,count\n", rep, counters[c].name,
			       (unsigned long long)(counter(&m1, counters[c].off) -
						    counter(&m0, counters[c].off)));
	}
	fflush(stdout);
	qsort(ns, o->reps, sizeof *ns, cmp_double);
	snprintf(o->summary, sizeof o->summary,
		 "# volt %-17s policy=%s workers=%u reps=%lu median_us=%.1f min_us=%.1f max_us=%.1f",
		 b->name, policy, workers, o->reps, median(ns, o->reps) / 1e3, ns[0] / 1e3,
		 ns[o->reps - 1] / 1e3);
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
	struct opts o = { .bench = "all" };
	bool reps_set = false, warmup_set = false, known;
	char summary[NBENCHES][192];
	unsigned nsum = 0;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (unsigned i = 0; volt_sched_name(i); i++)
			printf("%s\n", volt_sched_name(i));
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--result")) {
			o.result = true;
			continue;
		}
		if (!strcmp(argv[i], "--bench") && v)
			o.bench = v;
		else if (!strcmp(argv[i], "--reps") && !parse_count(v, &o.reps, 1))
			reps_set = true;
		else if (!strcmp(argv[i], "--warmup") && !parse_count(v, &o.warmup, 0))
			warmup_set = true;
		else if (!strcmp(argv[i], "--workers") && !parse_count(v, &o.workers, 1))
			;
		else if (!strcmp(argv[i], "--rounds") && !parse_count(v, &hog_rounds, 1))
			;
		else
			goto usage;
		i++;
	}
	known = !strcmp(o.bench, "all") && !o.result; /* --result: one benchmark */
	for (size_t i = 0; i < NBENCHES; i++)
		known |= !strcmp(o.bench, benches[i].name);
	if (!known || o.workers > VOLT_MAX_WORKERS)
		goto usage;

	/* Keep freed memory in the process: no page faults after the warm-up. */
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);

	if (!o.result)
		printf("impl,bench,policy,workers,rep,ns\n");
	for (size_t i = 0; i < NBENCHES; i++) {
		const struct bench *b = &benches[i];
		struct volt_config cfg;
		int err;

		if (strcmp(o.bench, "all") && strcmp(o.bench, b->name))
			continue;
		if (volt_config_init(&cfg)) { /* VOLT_SCHED and the other knobs */
			fprintf(stderr, "rt_bench: bad VOLT_* environment variable\n");
			return 2;
		}
		if (b->one_worker)
			cfg.workers = 1;
		else if (o.workers)
			cfg.workers = (unsigned)o.workers;
		else if (!getenv("VOLT_WORKERS"))
			cfg.workers = DEFAULT_WORKERS;
		o.b = b;
		if (!reps_set)
			o.reps = b->reps;
		if (!warmup_set)
			o.warmup = b->warmup;
		err = volt_run_with(&cfg, app, &o); /* a fresh runtime per benchmark */
		if (err < 0)
			fprintf(stderr, "rt_bench: runtime: %s\n", strerror(-err));
		if (err)
			return err == 3 ? 3 : 1;
		memcpy(summary[nsum++], o.summary, sizeof o.summary);
	}
	for (unsigned i = 0; i < nsum; i++)
		printf("%s\n", summary[i]);
	return 0;

usage:
	fprintf(stderr,
		"usage: %s [--bench NAME|all] [--reps N] [--warmup N] [--workers N] [--rounds N]\n"
		"          [--result] | --list\n"
		"  NAME: spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn\n"
		"        ping_pong_hog spawn_many_remote_busy1 spawn_many_remote_busy2\n"
		"  --result: the harness protocol (result,<rep>,<metric>,<value>,<unit>), one NAME\n"
		"  --rounds: round trips per ping_pong_hog iteration (default %d)\n"
		"  VOLT_SCHED=<policy> chooses the scheduler; policies:",
		argv[0], HOG_ROUNDS);
	for (unsigned i = 0; volt_sched_name(i); i++)
		fprintf(stderr, " %s", volt_sched_name(i));
	fprintf(stderr, "\n");
	return 2;
}
