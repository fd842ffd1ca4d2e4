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

#include <volt.h>

#include "handoff.h"
#include "proto.h"

/* The constants, the same in all three implementations. */
#define SPAWN_MANY 10000      /* tasks per spawn_many iteration */
#define YIELD_TASKS 200       /* tasks per yield_many iteration */
#define YIELD_COUNT 1000      /* yields per yield_many task */
#define PING_PONG_PAIRS 1000  /* pairs per ping_pong iteration */
#define CHAIN_LENGTH 1000     /* tasks per chained_spawn iteration */
#define BLOCKING_JOBS 1000    /* jobs per spawn_blocking iteration */
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
static struct proto_latch latch = PROTO_LATCH_INIT;

/* First error a task met (a failed spawn), 0 if none. */
static atomic_int task_err;

/* A spawn failed: remember why and count down the tasks that will never run. */
static void spawn_failed(int err, unsigned long never_run)
{
	proto_note_err(&task_err, err);
	proto_latch_count_down(&latch, never_run);
}

/* ------------------------------------------------- spawn_many_{local,remote} */

struct child {
	struct volt_future base;
};

static enum volt_poll child_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	proto_latch_count_down(&latch, 1);
	return VOLT_READY;
}

static const struct volt_future_ops child_ops = { .poll = child_poll };

static void spawn_children(struct volt_rt *rt, unsigned long n)
{
	struct child c = { .base = VOLT_FUTURE_INIT(&child_ops) };

	proto_spawn_copies(rt, &c.base, sizeof c, n, &latch, &task_err);
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

	proto_latch_arm(&latch, SPAWN_MANY);
	return spawn_root(rt, &s.base, sizeof s);
}

static int spawn_many_remote(struct volt_rt *rt)
{
	proto_latch_arm(&latch, SPAWN_MANY);
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
	proto_latch_count_down(&latch, 1);
	VOLT_END(f);
}

static const struct volt_future_ops yielder_ops = { .poll = yielder_poll };

static int yield_many(struct volt_rt *rt)
{
	struct yielder y = { .base = VOLT_FUTURE_INIT(&yielder_ops) };

	proto_latch_arm(&latch, YIELD_TASKS);
	proto_spawn_copies(rt, &y.base, sizeof y, YIELD_TASKS, &latch, &task_err);
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
	proto_latch_count_down(&latch, 1);
	VOLT_END(f);
}

static const struct volt_future_ops ping_ops = { .poll = ping_poll };

/* The root: spawns the pairs. */
static enum volt_poll pairs_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct ping p = { .base = VOLT_FUTURE_INIT(&ping_ops) };

	(void)f;
	proto_spawn_copies(cx->rt, &p.base, sizeof p, PING_PONG_PAIRS, &latch, &task_err);
	return VOLT_READY;
}

static const struct volt_future_ops pairs_ops = { .poll = pairs_poll };

static int ping_pong(struct volt_rt *rt)
{
	struct volt_future root = VOLT_FUTURE_INIT(&pairs_ops);

	proto_latch_arm(&latch, PING_PONG_PAIRS);
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
		proto_latch_count_down(&latch, 1);
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

	proto_latch_arm(&latch, 1);
	return spawn_root(rt, &root.base, sizeof root);
}

/* --------------------------------------------------------- spawn_blocking */

/* A task hands BLOCKING_JOBS no-op jobs to the blocking pool, one after the
 * other, awaiting each (Volt's Tier 4 "blocking spawn + wait", Tokio's
 * spawn_blocking(..).await). */
struct blocker {
	struct volt_future base;
	unsigned i;
	struct volt_blocking *h;
	struct volt_blocking_future bf;
};

static void *noop_job(void *arg)
{
	return arg;
}

static enum volt_poll blocker_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct blocker *b = (struct blocker *)f;
	int err;

	VOLT_BEGIN(f);
	for (b->i = 0; b->i < BLOCKING_JOBS; b->i++) {
		err = volt_concurrent(cx->rt, noop_job, NULL, &b->h);
		if (err) {
			spawn_failed(err, 1);
			VOLT_RETURN(f, cx, NULL);
		}
		VOLT_AWAIT(f, cx, volt_blocking_await(&b->bf, b->h));
	}
	proto_latch_count_down(&latch, 1);
	VOLT_END(f);
}

static const struct volt_future_ops blocker_ops = { .poll = blocker_poll };

static int spawn_blocking(struct volt_rt *rt)
{
	struct blocker root = { .base = VOLT_FUTURE_INIT(&blocker_ops) };

	proto_latch_arm(&latch, 1);
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
static double pair_ns;            /* written by the ping task before it opens the latch */
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
		proto_spin_ns(HOG_SLICE_US * 1000);
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
	uint64_t t0;
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
	p->t0 = proto_now_ns();
	p->slices0 = atomic_load(&hog_slices);
	for (p->i = 0; p->i < hog_rounds; p->i++) {
		p->answer = handoff_or_die();
		handoff_send(p->out, p->answer);
		VOLT_AWAIT(f, cx, handoff_recv(&p->rx, p->answer));
		p->out = p->rx.value;
	}
	pair_ns = (double)(proto_now_ns() - p->t0);
	pair_slices = atomic_load(&hog_slices) - p->slices0;
	handoff_send(p->out, NULL);
	proto_latch_count_down(&latch, 1);
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
		proto_nap();
	return 0;
}

static int ping_pong_hog(struct volt_rt *rt)
{
	struct hog_ping p = { .base = VOLT_FUTURE_INIT(&hog_ping_ops) };

	proto_latch_arm(&latch, 1);
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
		proto_spin_ns(BUSY_STALL_US * 1000);
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
	proto_spin_ns(BUSY_STALL_US * 1000);
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
	uint64_t deadline = proto_now_ns() + ITER_TIMEOUT_S * 1000000000ull;

	while (atomic_load(&busy_started) < n) {
		if (proto_now_ns() > deadline)
			return -ETIMEDOUT; /* the caller stops them */
		proto_nap();
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
		proto_nap();
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
	{ "spawn_blocking", NULL, spawn_blocking, NULL, DEFAULT_REPS, DEFAULT_WARMUP, false },
};

#define NBENCHES (sizeof(benches) / sizeof(benches[0]))

struct opts {
	const char *bench; /* a name or "all" */
	unsigned long reps, warmup, workers; /* 0 = the benchmark's default / VOLT_WORKERS */
	bool result;       /* print the harness protocol instead of the CSV */
	const struct bench *b; /* the one being run */
	char summary[192];
};

/* The counters reported per iteration with --result, in this order. */
static const struct proto_counter counters[] = {
	PROTO_COUNTER(steals_won), PROTO_COUNTER(tasks_stolen), PROTO_COUNTER(parks),
	PROTO_COUNTER(unparks), PROTO_COUNTER(noop_wakes), PROTO_COUNTER(lifo_hits),
	PROTO_COUNTER(global_pops), PROTO_COUNTER(budget_exhausted), PROTO_COUNTER(overflow_moves),
};

/* One iteration: its nanoseconds, or a negative errno; the counters around its timed part. */
static double one_iteration(struct volt_rt *rt, const struct bench *b,
			    struct volt_worker_metrics *m0, struct volt_worker_metrics *m1)
{
	uint64_t t0;
	double t;
	int err = b->setup ? b->setup(rt) : 0;

	if (err) {
		if (b->teardown)
			b->teardown(rt);
		memset(m0, 0, sizeof *m0);
		*m1 = *m0;
		return err;
	}
	volt_metrics_total(rt, m0);
	t0 = proto_now_ns();
	err = b->start(rt);
	if (!err) /* else the root never ran: nothing to wait for */
		err = proto_latch_wait_for(&latch, ITER_TIMEOUT_S);
	t = (double)(proto_now_ns() - t0);
	volt_metrics_total(rt, m1);
	if (b->teardown)
		b->teardown(rt);
	if (!err)
		err = atomic_exchange(&task_err, 0);
	if (err)
		return err;
	return b->start == ping_pong_hog ? pair_ns : t;
}

/* Runs o->b on rt: warm-up, then the timed iterations. */
static int app(struct volt_rt *rt, void *arg)
{
	struct opts *o = arg;
	const struct bench *b = o->b;
	const char *policy = volt_rt_scheduler(rt);
	unsigned workers = volt_rt_workers(rt);
	double *ns = calloc(o->reps, sizeof *ns);
	char stats[96];

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
		proto_counters_print(rep, counters, PROTO_LEN(counters), &m0, &m1);
	}
	fflush(stdout);
	proto_summary(stats, sizeof stats, ns, o->reps);
	snprintf(o->summary, sizeof o->summary, "# volt %-17s policy=%s workers=%u reps=%lu %s",
		 b->name, policy, workers, o->reps, stats);
	free(ns);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .bench = "all" };
	const struct proto_opt opts[] = {
		{ "--reps", &o.reps, 1, ULONG_MAX },
		{ "--warmup", &o.warmup, 0, ULONG_MAX },
		{ "--workers", &o.workers, 1, VOLT_MAX_WORKERS },
		{ "--rounds", &hog_rounds, 1, ULONG_MAX },
		{ NULL, NULL, 0, 0 },
	};
	bool reps_set = false, warmup_set = false, bad = false, known;
	char summary[NBENCHES][192];
	unsigned nsum = 0;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (unsigned i = 0; volt_sched_name(i); i++)
			printf("%s\n", volt_sched_name(i));
		return 0;
	}
	for (int i = 1; i < argc && !bad; i++) {
		const char *arg = argv[i];

		if (proto_opt(argc, argv, &i, opts, &bad)) {
			reps_set |= !strcmp(arg, "--reps");
			warmup_set |= !strcmp(arg, "--warmup");
		} else if (!strcmp(arg, "--result")) {
			o.result = true;
		} else if (!strcmp(arg, "--bench") && i + 1 < argc) {
			o.bench = argv[++i];
		} else {
			bad = true;
		}
	}
	known = !strcmp(o.bench, "all") && !o.result; /* --result: one benchmark */
	for (size_t i = 0; i < NBENCHES; i++)
		known |= !strcmp(o.bench, benches[i].name);
	if (bad || !known)
		goto usage;

	proto_malloc_setup();

	if (!o.result)
		printf("impl,bench,policy,workers,rep,ns\n");
	for (size_t i = 0; i < NBENCHES; i++) {
		const struct bench *b = &benches[i];
		struct volt_config cfg;
		int err;

		if (strcmp(o.bench, "all") && strcmp(o.bench, b->name))
			continue;
		if (proto_config(&cfg, "rt_bench", b->one_worker ? 1 : o.workers, DEFAULT_WORKERS))
			return 2;
		o.b = b;
		if (!reps_set)
			o.reps = b->reps;
		if (!warmup_set)
			o.warmup = b->warmup;
		err = proto_run(&cfg, app, &o, "rt_bench"); /* a fresh runtime per benchmark */
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
		"  NAME: spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn spawn_blocking\n"
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
