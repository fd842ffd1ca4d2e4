/* SPDX-License-Identifier: MIT */
/*
 * experiments/fanout.c: E7, fan-out / fan-in.
 *
 *	skynet  a 10-ary tree of tasks over SKYNET_LEAVES leaves: a node spawns
 *	        its 10 children, awaits them and returns the sum of their
 *	        results; leaf i returns i. The root's result must be
 *	        SKYNET_SUM (= 499999500000). 1,111,111 tasks per iteration.
 *	fib     fib(N) with a task per call above the serial cutoff: a call
 *	        with n > cutoff spawns fib(n-1) and fib(n-2) as tasks and sums
 *	        them; n <= cutoff is computed by plain recursion. The result is
 *	        checked. Each repetition also times the plain recursion of
 *	        fib(N) on the main thread (serial_time), for T1/Ts and speed-up.
 *
 * Nodes are stackless futures written with the coroutine macros; a node
 * keeps its children's join handles and one join future, and awaits the
 * children one after the other with volt_join_await (they run meanwhile).
 * Keeping ten join futures instead would put a node in the 1024 B slab
 * class; this way it fits 256 B (printed on the '#' line). Leaves are a
 * smaller future (the 128 B class).
 *
 * One iteration: the main thread spawns the root and blocks on its join
 * handle (volt_join_wait); timed from before the spawn to the join.
 *
 *	fanout [--bench skynet|fib] [--n N] [--cutoff N] [--reps N] [--warmup N]
 *	       [--workers N]
 *
 * Prints the harness protocol (experiments/README.md): per timed repetition
 * time_per_iter (us); skynet: time_per_leaf (ns, the time over the
 * 1,000,000 leaves, as the Boost.Fiber table reports it), tasks_per_sec;
 * fib: tasks (spawned per iteration), serial_time (us), speedup
 * (serial_time / time_per_iter); then the deltas of the runtime counters.
 * A wrong result exits 1. --workers, else VOLT_WORKERS, else 2.
 * The Tokio and Go peers (peers/tokio/src/bin/fanout.rs, peers/go/fanout/)
 * use the same constants and print the same lines minus the counters.
 */
#define _GNU_SOURCE

#include <volt.h>

#include "proto.h"

#define SKYNET_LEAVES 1000000ull
#define SKYNET_FANOUT 10
#define SKYNET_TASKS 1111111ull   /* 1 + 10 + ... + 10^6 */
#define SKYNET_SUM 499999500000ull /* 0 + 1 + ... + 999999 */
#define FIB_N 30
#define FIB_CUTOFF 20
#define DEFAULT_REPS 5
#define DEFAULT_WARMUP 2
#define DEFAULT_WORKERS 2

static struct {
	const char *bench;
	unsigned long n, cutoff, reps, warmup, workers;
} o = { "skynet", FIB_N, FIB_CUTOFF, DEFAULT_REPS, DEFAULT_WARMUP, 0 };

static atomic_int spawn_err;       /* first failed spawn, 0 if none */
static atomic_ulong tasks_spawned; /* fib: tasks per iteration */

/* -------------------------------------------------------------- skynet */

struct sky_leaf {
	struct volt_future base;
	uint64_t num;
};

static enum volt_poll sky_leaf_poll(struct volt_future *f, struct volt_cx *cx)
{
	VOLT_RETURN(f, cx, ((struct sky_leaf *)f)->num);
}

static const struct volt_future_ops sky_leaf_ops = { .poll = sky_leaf_poll };

struct sky {
	struct volt_future base;
	uint64_t num, size, sum;
	unsigned i;
	struct volt_join *kids[SKYNET_FANOUT]; /* not yet awaited */
	struct volt_join_future jf;
};

static enum volt_poll sky_poll(struct volt_future *f, struct volt_cx *cx);
static void sky_drop(struct volt_future *f);
static const struct volt_future_ops sky_ops = { .poll = sky_poll, .drop = sky_drop };

static enum volt_poll sky_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct sky *s = (struct sky *)f;

	VOLT_BEGIN(f);
	{
		uint64_t step = s->size / SKYNET_FANOUT;

		for (unsigned i = 0; i < SKYNET_FANOUT; i++) {
			int err;

			if (step == 1) {
				struct sky_leaf l = { VOLT_FUTURE_INIT(&sky_leaf_ops), s->num + i };

				err = volt_spawn(cx->rt, &l.base, sizeof l, &s->kids[i]);
			} else {
				struct sky c = { .base = VOLT_FUTURE_INIT(&sky_ops),
						 .num = s->num + i * step, .size = step };

				err = volt_spawn(cx->rt, &c.base, sizeof c, &s->kids[i]);
			}
			if (err) {
				proto_note_err(&spawn_err, err);
				s->kids[i] = NULL;
			}
		}
	}
	for (s->i = 0; s->i < SKYNET_FANOUT; s->i++) {
		struct volt_join *j = s->kids[s->i];

		if (!j)
			continue;
		s->kids[s->i] = NULL; /* the join future owns it now */
		VOLT_AWAIT(f, cx, volt_join_await(&s->jf, j));
		s->sum += (uint64_t)(uintptr_t)s->jf.output;
	}
	VOLT_RETURN(f, cx, s->sum);
	VOLT_END(f);
}

/* Children not yet awaited (only when the runtime shuts down early). */
static void sky_drop(struct volt_future *f)
{
	struct sky *s = (struct sky *)f;

	for (unsigned i = 0; i < SKYNET_FANOUT; i++)
		if (s->kids[i]) {
			volt_join_detach(s->kids[i]);
			s->kids[i] = NULL;
		}
}

static int skynet(struct volt_rt *rt, uint64_t *out)
{
	struct sky root = { .base = VOLT_FUTURE_INIT(&sky_ops), .num = 0, .size = SKYNET_LEAVES };
	struct volt_join *j;
	void *v = NULL;
	int err = volt_spawn(rt, &root.base, sizeof root, &j);

	if (err)
		return err;
	err = volt_join_wait(j, &v);
	*out = (uint64_t)(uintptr_t)v;
	return err;
}

/* ----------------------------------------------------------------- fib */

static uint64_t fib_serial(unsigned long n)
{
	return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static uint64_t fib_expected(unsigned long n)
{
	uint64_t a = 0, b = 1;

	while (n--) {
		uint64_t t = a + b;

		a = b;
		b = t;
	}
	return a;
}

struct fib {
	struct volt_future base;
	unsigned long n;
	uint64_t sum;
	unsigned i;
	struct volt_join *kids[2];
	struct volt_join_future jf;
};

static enum volt_poll fib_poll(struct volt_future *f, struct volt_cx *cx);
static void fib_drop(struct volt_future *f);
static const struct volt_future_ops fib_ops = { .poll = fib_poll, .drop = fib_drop };

static enum volt_poll fib_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct fib *t = (struct fib *)f;

	VOLT_BEGIN(f);
	if (t->n <= o.cutoff)
		VOLT_RETURN(f, cx, fib_serial(t->n));
	for (unsigned i = 0; i < 2; i++) {
		struct fib c = { .base = VOLT_FUTURE_INIT(&fib_ops), .n = t->n - 1 - i };
		int err = volt_spawn(cx->rt, &c.base, sizeof c, &t->kids[i]);

		if (err) {
			proto_note_err(&spawn_err, err);
			t->kids[i] = NULL;
		}
	}
	atomic_fetch_add_explicit(&tasks_spawned, 2, memory_order_relaxed);
	for (t->i = 0; t->i < 2; t->i++) {
		struct volt_join *j = t->kids[t->i];

		if (!j)
			continue;
		t->kids[t->i] = NULL;
		VOLT_AWAIT(f, cx, volt_join_await(&t->jf, j));
		t->sum += (uint64_t)(uintptr_t)t->jf.output;
	}
	VOLT_RETURN(f, cx, t->sum);
	VOLT_END(f);
}

static void fib_drop(struct volt_future *f)
{
	struct fib *t = (struct fib *)f;

	for (unsigned i = 0; i < 2; i++)
		if (t->kids[i]) {
			volt_join_detach(t->kids[i]);
			t->kids[i] = NULL;
		}
}

static int fib(struct volt_rt *rt, uint64_t *out)
{
	struct fib root = { .base = VOLT_FUTURE_INIT(&fib_ops), .n = o.n };
	struct volt_join *j;
	void *v = NULL;
	int err = volt_spawn(rt, &root.base, sizeof root, &j);

	if (err)
		return err;
	atomic_fetch_add_explicit(&tasks_spawned, 1, memory_order_relaxed);
	err = volt_join_wait(j, &v);
	*out = (uint64_t)(uintptr_t)v;
	return err;
}

/* ------------------------------------------------------------ the driver */

static const struct proto_counter counters[] = {
	PROTO_COUNTER(steals_won), PROTO_COUNTER(tasks_stolen), PROTO_COUNTER(parks),
	PROTO_COUNTER(unparks), PROTO_COUNTER(noop_wakes), PROTO_COUNTER(lifo_hits),
	PROTO_COUNTER(global_pops), PROTO_COUNTER(overflow_moves),
};

static int app(struct volt_rt *rt, void *arg)
{
	bool sky = !strcmp(o.bench, "skynet");
	uint64_t want = sky ? SKYNET_SUM : fib_expected(o.n);
	double *ns = calloc(o.reps, sizeof *ns);
	char stats[96];

	(void)arg;
	if (!ns)
		return 1;
	if (sky)
		printf("# fanout skynet policy=%s workers=%u node task %zu B, leaf task %zu B\n",
		       volt_rt_scheduler(rt), volt_rt_workers(rt), volt_task_size(sizeof(struct sky)),
		       volt_task_size(sizeof(struct sky_leaf)));
	else
		printf("# fanout fib policy=%s workers=%u n=%lu cutoff=%lu task %zu B\n",
		       volt_rt_scheduler(rt), volt_rt_workers(rt), o.n, o.cutoff,
		       volt_task_size(sizeof(struct fib)));
	for (unsigned long r = 0; r < o.warmup + o.reps; r++) {
		struct volt_worker_metrics m0, m1;
		unsigned long rep = r + 1 - o.warmup;
		double serial = 0, t;
		uint64_t got = 0, t0;
		int err;

		if (!sky) {
			volatile unsigned long n = o.n; /* not folded at compile time */

			t0 = proto_now_ns();
			got = fib_serial(n);
			serial = (double)(proto_now_ns() - t0);
			if (got != want) {
				fprintf(stderr, "fanout: serial fib(%lu) = %llu\n", o.n,
					(unsigned long long)got);
				free(ns);
				return 1;
			}
		}
		atomic_store(&tasks_spawned, 0);
		volt_metrics_total(rt, &m0);
		t0 = proto_now_ns();
		err = sky ? skynet(rt, &got) : fib(rt, &got);
		t = (double)(proto_now_ns() - t0);
		volt_metrics_total(rt, &m1);
		if (!err)
			err = atomic_exchange(&spawn_err, 0);
		if (err || got != want) {
			if (err)
				fprintf(stderr, "fanout: %s: %s\n", o.bench, strerror(-err));
			else
				fprintf(stderr, "fanout: %s: result %llu, expected %llu\n", o.bench,
					(unsigned long long)got, (unsigned long long)want);
			free(ns);
			return 1;
		}
		if (r < o.warmup)
			continue;
		ns[rep - 1] = t;
		printf("result,%lu,time_per_iter,%.3f,us\n", rep, t / 1e3);
		if (sky) {
			printf("result,%lu,time_per_leaf,%.1f,ns\n", rep, t / SKYNET_LEAVES);
			printf("result,%lu,tasks_per_sec,%.0f,count\n", rep, SKYNET_TASKS / (t / 1e9));
		} else {
			printf("result,%lu,tasks,%lu,count\n", rep, atomic_load(&tasks_spawned));
			printf("result,%lu,serial_time,%.3f,us\n", rep, serial / 1e3);
			printf("result,%lu,speedup,%.3f,ratio\n", rep, serial / t);
		}
		proto_counters_print(rep, counters, PROTO_LEN(counters), &m0, &m1);
		fflush(stdout);
	}
	proto_summary(stats, sizeof stats, ns, o.reps);
	printf("# fanout %s %s\n", o.bench, stats);
	free(ns);
	return 0;
}

int main(int argc, char **argv)
{
	const struct proto_opt opts[] = {
		{ "--n", &o.n, 0, 90 },
		{ "--cutoff", &o.cutoff, 1, 90 },
		{ "--reps", &o.reps, 1, 1000000 },
		{ "--warmup", &o.warmup, 0, 1000000 },
		{ "--workers", &o.workers, 1, VOLT_MAX_WORKERS },
		{ NULL, NULL, 0, 0 },
	};
	struct volt_config cfg;
	bool bad = false;
	int err;

	for (int i = 1; i < argc && !bad; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (proto_opt(argc, argv, &i, opts, &bad))
			continue;
		if (!strcmp(argv[i], "--bench") && v && (!strcmp(v, "skynet") || !strcmp(v, "fib")))
			o.bench = argv[++i];
		else
			bad = true;
	}
	if (bad || o.n > o.cutoff + 25) /* 2^25 tasks at most */
		goto usage;

	proto_malloc_setup_trim(1 << 30);
	if (proto_config(&cfg, "fanout", o.workers, DEFAULT_WORKERS))
		return 2;
	err = proto_run(&cfg, app, NULL, "fanout");
	return err ? 1 : 0;

usage:
	fprintf(stderr,
		"usage: %s [--bench skynet|fib] [--n N] [--cutoff N] [--reps N] [--warmup N]\n"
		"       [--workers N]\n"
		"  defaults: --bench skynet --n %d --cutoff %d --reps %d --warmup %d; n <= 90,\n"
		"  1 <= cutoff, n - cutoff <= 25; workers from --workers, else VOLT_WORKERS, else %d\n",
		argv[0], FIB_N, FIB_CUTOFF, DEFAULT_REPS, DEFAULT_WARMUP, DEFAULT_WORKERS);
	return 2;
}
