/* SPDX-License-Identifier: MIT */
/*
 * experiments/task_cost.c: what one task costs, for the three kinds of task
 * a pthreads programmer can choose between: Volt-C stackless tasks, Volt-C
 * fibers, and OS threads.
 *
 *	task_cost [--kind stackless|fiber|thread|all] [--reps N] [--warmup N]
 *	          [--count N] [--result]
 *
 * Per kind:
 * - bytes_per_task: resident memory growth (RSS, /proc/self/statm) with
 *   --count tasks all suspended at once (waiting on a gate), divided by the
 *   count;
 * - spawn_join_ns: from inside the runtime (a stackless task, a fiber, the
 *   main thread for threads), spawn a task that returns at once and join
 *   it, 20,000 times; per pair (a fiber's stack comes from the cache);
 * - switch_ns: two tasks on one worker (one CPU for threads) hand control to
 *   each other through a one-slot mailbox; per hand-off. For fibers this is
 *   a whole trip through the scheduler (park, poll, switch in); the raw
 *   stack switch alone is reported as raw_switch_ns.
 * Default counts: 100,000 stackless tasks; 20,000 fibers and threads (each
 * fiber stack is two kernel mappings and vm.max_map_count is 65,530; each
 * thread costs ~40 us to create here).
 *
 * The runtime runs one worker (VOLT_WORKERS is ignored) so that RSS and
 * switches are not blurred by stealing. Without --result a table is printed.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <volt.h>

#include "core/context.h"
#include "experiments/proto.h"

#define SWITCHES 200000
#define RAW_SWITCHES 2000000
#define SPAWN_JOINS 20000 /* spawn-then-join pairs per measurement */

enum kind { STACKLESS, FIBER, THREAD, NKINDS };
static const char *const kind_names[NKINDS] = { "stackless", "fiber", "thread" };

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

/* ---- a gate: every waiter parks until it opens (futures, fibers, threads) */

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	size_t waiting;
	struct volt_waker *wakers; /* one slot per waiting task */
	size_t nwakers, cap;
};

static struct gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0,
			    NULL, 0, 0 };

static void gate_reset(size_t cap)
{
	gate.open = false;
	gate.waiting = 0;
	gate.nwakers = 0;
	gate.cap = cap;
	gate.wakers = realloc(gate.wakers, cap * sizeof(*gate.wakers));
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = true;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
	for (size_t i = 0; i < gate.nwakers; i++)
		volt_waker_wake(&gate.wakers[i]);
	gate.nwakers = 0;
}

struct gate_wait {
	struct volt_future base;
	bool counted;
};

static enum volt_poll gate_wait_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct gate_wait *g = (struct gate_wait *)f;
	enum volt_poll r = VOLT_READY;

	pthread_mutex_lock(&gate.lock);
	if (!gate.open) {
		if (!g->counted && gate.nwakers < gate.cap) {
			g->counted = true;
			gate.waiting++;
			gate.wakers[gate.nwakers++] = volt_waker_clone(&cx->waker);
		}
		r = VOLT_PENDING;
	}
	pthread_mutex_unlock(&gate.lock);
	return r;
}

static const struct volt_future_ops gate_wait_ops = { .poll = gate_wait_poll };

static size_t gate_waiting(void)
{
	pthread_mutex_lock(&gate.lock);
	size_t n = gate.waiting;

	pthread_mutex_unlock(&gate.lock);
	return n;
}

static void *fiber_waits(struct volt_rt *rt, void *arg)
{
	struct gate_wait g = { VOLT_FUTURE_INIT(&gate_wait_ops), false };

	(void)arg;
	volt_block_on(rt, &g.base, NULL);
	return NULL;
}

static void *thread_waits(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate.lock);
	gate.waiting++;
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
	return NULL;
}

static void wait_for_waiting(size_t n)
{
	while (gate_waiting() < n)
		sched_yield();
}

/* ---- bytes per suspended task */

static double bytes_per_task(struct volt_rt *rt, enum kind k, size_t n)
{
	struct volt_join **j = calloc(n, sizeof(*j));
	pthread_t *th = calloc(n, sizeof(*th));
	long before;
	double per = -1;

	if (!j || !th)
		goto out;
	gate_reset(n);
	before = rss_bytes();
	for (size_t i = 0; i < n; i++) {
		struct gate_wait g = { VOLT_FUTURE_INIT(&gate_wait_ops), false };
		int err = k == STACKLESS ? volt_spawn(rt, &g.base, sizeof g, &j[i])
			  : k == FIBER	  ? volt_spawn_fiber(rt, fiber_waits, NULL, 0, &j[i])
					  : -pthread_create(&th[i], NULL, thread_waits, NULL);

		if (err) {
			fprintf(stderr, "task_cost: %s %zu: %s\n", kind_names[k], i, strerror(-err));
			n = i;
			break;
		}
	}
	wait_for_waiting(n);
	per = (double)(rss_bytes() - before) / (double)n;
	gate_open();
	for (size_t i = 0; i < n; i++) {
		if (k == THREAD)
			pthread_join(th[i], NULL);
		else
			volt_join_wait(j[i], NULL);
	}
out:
	free(j);
	free(th);
	return per;
}

/* ---- spawn + join, one after the other, from inside the runtime */

static void *returns_at_once(void *arg)
{
	return arg;
}

static void *fiber_returns_at_once(struct volt_rt *rt, void *arg)
{
	(void)rt;
	return arg;
}

/* A stackless task that spawns a task and awaits it, n times. */
struct spawner {
	struct volt_future base;
	size_t n, i;
	struct volt_join *j;
	struct volt_join_future jf;
};

static enum volt_poll spawner_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct spawner *s = (struct spawner *)f;

	VOLT_BEGIN(f);
	for (s->i = 0; s->i < s->n; s->i++) {
		if (volt_spawn_fn(cx->rt, returns_at_once, NULL, &s->j))
			VOLT_RETURN(f, cx, -1);
		VOLT_AWAIT(f, cx, volt_join_await(&s->jf, s->j));
	}
	VOLT_END(f);
}

static const struct volt_future_ops spawner_ops = { .poll = spawner_poll };

/* A fiber that spawns a fiber and joins it, n times (its stack comes from the cache). */
static void *fiber_spawner(struct volt_rt *rt, void *arg)
{
	size_t n = (size_t)(uintptr_t)arg;

	for (size_t i = 0; i < n; i++) {
		struct volt_join *j;

		if (volt_spawn_fiber(rt, fiber_returns_at_once, NULL, 0, &j) ||
		    volt_join_wait(j, NULL))
			return (void *)(intptr_t)-1;
	}
	return NULL;
}

static double spawn_join_ns(struct volt_rt *rt, enum kind k, size_t n)
{
	struct volt_join *j = NULL;
	uint64_t t0 = proto_now_ns();

	if (k == STACKLESS) {
		struct spawner s = { .base = VOLT_FUTURE_INIT(&spawner_ops), .n = n };

		volt_spawn(rt, &s.base, sizeof s, &j);
	} else if (k == FIBER) {
		volt_spawn_fiber(rt, fiber_spawner, (void *)(uintptr_t)n, 0, &j);
	} else {
		for (size_t i = 0; i < n; i++) {
			pthread_t th;

			if (pthread_create(&th, NULL, returns_at_once, NULL))
				return -1;
			pthread_join(th, NULL);
		}
	}
	if (j)
		volt_join_wait(j, NULL);
	return (double)(proto_now_ns() - t0) / (double)n;
}

/* ---- switches: two tasks hand control to each other */

/* A one-slot mailbox for tasks and fibers (a waker) and threads (a condvar). */
struct box {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool full;
	struct volt_waker waker;
};

static struct box boxes[2] = {
	{ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, { NULL, NULL } },
	{ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, { NULL, NULL } },
};

static void box_put(struct box *b)
{
	struct volt_waker w;

	pthread_mutex_lock(&b->lock);
	b->full = true;
	w = b->waker;
	b->waker.ops = NULL;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (w.ops)
		volt_waker_wake(&w);
}

struct box_take {
	struct volt_future base;
	struct box *b;
};

static enum volt_poll box_take_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct box *b = ((struct box_take *)f)->b;
	enum volt_poll r = VOLT_PENDING;

	pthread_mutex_lock(&b->lock);
	if (b->full) {
		b->full = false;
		r = VOLT_READY;
	} else if (!b->waker.ops) {
		b->waker = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

static const struct volt_future_ops box_take_ops = { .poll = box_take_poll };

/* stackless player: `me` takes from boxes[me] and puts into the other, SWITCHES times */
struct player {
	struct volt_future base;
	int me, i;
	struct box_take take;
};

static enum volt_poll player_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct player *p = (struct player *)f;

	VOLT_BEGIN(f);
	for (p->i = 0; p->i < SWITCHES / 2; p->i++) {
		if (p->me == 0)
			box_put(&boxes[1]);
		p->take = (struct box_take){ VOLT_FUTURE_INIT(&box_take_ops), &boxes[p->me] };
		VOLT_AWAIT(f, cx, &p->take.base);
		if (p->me == 1)
			box_put(&boxes[0]);
	}
	VOLT_END(f);
}

static const struct volt_future_ops player_ops = { .poll = player_poll };

static void *fiber_player(struct volt_rt *rt, void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int i = 0; i < SWITCHES / 2; i++) {
		struct box_take t = { VOLT_FUTURE_INIT(&box_take_ops), &boxes[me] };

		if (me == 0)
			box_put(&boxes[1]);
		volt_block_on(rt, &t.base, NULL);
		if (me == 1)
			box_put(&boxes[0]);
	}
	return NULL;
}

static void *thread_player(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct box *mine = &boxes[me];
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	pthread_setaffinity_np(pthread_self(), sizeof one, &one); /* one CPU, like one worker */
	for (int i = 0; i < SWITCHES / 2; i++) {
		if (me == 0)
			box_put(&boxes[1]);
		pthread_mutex_lock(&mine->lock);
		while (!mine->full)
			pthread_cond_wait(&mine->cond, &mine->lock);
		mine->full = false;
		pthread_mutex_unlock(&mine->lock);
		if (me == 1)
			box_put(&boxes[0]);
	}
	return NULL;
}

static double switch_ns(struct volt_rt *rt, enum kind k)
{
	struct volt_join *j[2];
	pthread_t th[2];
	uint64_t t0 = proto_now_ns();

	for (int me = 0; me < 2; me++) {
		struct player p = { VOLT_FUTURE_INIT(&player_ops), me, 0, { { 0 }, NULL } };

		if (k == STACKLESS)
			volt_spawn(rt, &p.base, sizeof p, &j[me]);
		else if (k == FIBER)
			volt_spawn_fiber(rt, fiber_player, (void *)(intptr_t)me, 0, &j[me]);
		else
			pthread_create(&th[me], NULL, thread_player, (void *)(intptr_t)me);
	}
	for (int me = 0; me < 2; me++) {
		if (k == THREAD)
			pthread_join(th[me], NULL);
		else
			volt_join_wait(j[me], NULL);
	}
	return (double)(proto_now_ns() - t0) / SWITCHES;
}

/* The stack switch alone, between two contexts on this thread. */
static struct volt__ctx raw_main, raw_co;

static void raw_co_main(void *arg)
{
	(void)arg;
	for (;;)
		volt__ctx_switch(&raw_co, &raw_main);
}

static double raw_switch_ns(void)
{
	static char stack[16384] __attribute__((aligned(16)));
	uint64_t t0;

	volt__ctx_init(&raw_co, stack, sizeof stack, raw_co_main, NULL);
	t0 = proto_now_ns();
	for (int i = 0; i < RAW_SWITCHES / 2; i++)
		volt__ctx_switch(&raw_main, &raw_co);
	return (double)(proto_now_ns() - t0) / RAW_SWITCHES;
}

/*
 * RSS only grows where memory was never touched before, so each measurement
 * of bytes per task runs in a fresh process: this program again, with
 * --bytes-only.
 */
static double bytes_in_fresh_process(enum kind k, size_t n)
{
	char cmd[256];
	double bytes = -1;

	snprintf(cmd, sizeof cmd, "/proc/%d/exe --bytes-only --kind %s --count %zu",
		 (int)getpid(), kind_names[k], n);
	FILE *p = popen(cmd, "r");

	if (!p)
		return -1;
	if (fscanf(p, "%lf", &bytes) != 1)
		bytes = -1;
	pclose(p);
	return bytes;
}

/* ---- main */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--kind stackless|fiber|thread|all] [--reps N] [--warmup N]\n"
		"          [--count N] [--result]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	int first = 0, last = NKINDS - 1;
	unsigned long reps = 3, warmup = 1, count = 0;
	const struct proto_opt opts[] = {
		{ "--reps", &reps, 1, LONG_MAX },
		{ "--warmup", &warmup, 0, LONG_MAX },
		{ "--count", &count, 1, LONG_MAX },
		{ NULL, NULL, 0, 0 },
	};
	bool result = false, bytes_only = false, bad = false;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (proto_opt(argc, argv, &i, opts, &bad)) {
			if (bad)
				usage(argv[0]);
		} else if (!strcmp(argv[i], "--result")) {
			result = true;
		} else if (!strcmp(argv[i], "--bytes-only")) {
			bytes_only = true;
		} else if (!strcmp(argv[i], "--kind") && v) {
			int k = -1;

			for (int n = 0; n < NKINDS; n++)
				if (!strcmp(v, kind_names[n]))
					k = n;
			if (k < 0 && strcmp(v, "all"))
				usage(argv[0]);
			if (k >= 0)
				first = last = k;
			i++;
		} else {
			usage(argv[0]);
		}
	}
	proto_malloc_setup();

	struct volt_config cfg;
	struct volt_rt *rt;

	if (volt_config_init(&cfg) || (cfg.workers = 1, volt_rt_new(&cfg, &rt))) {
		fprintf(stderr, "task_cost: cannot start the runtime (check VOLT_*)\n");
		return 1;
	}
	if (bytes_only) {
		size_t n = count ? (size_t)count : first == STACKLESS ? 100000 : 20000;

		printf("%.1f\n", bytes_per_task(rt, first, n));
		volt_rt_free(rt);
		return 0;
	}
	if (!result)
		printf("%-10s %12s %14s %12s\n", "kind", "bytes/task", "spawn+join ns", "switch ns");
	for (int k = first; k <= last; k++) {
		size_t n = count ? (size_t)count : k == STACKLESS ? 100000 : 20000;

		for (long rep = 1 - (long)warmup; rep <= (long)reps; rep++) {
			double bytes = rep < 1 ? 0 : bytes_in_fresh_process(k, n);
			double spawn = spawn_join_ns(rt, k, SPAWN_JOINS);
			double sw = switch_ns(rt, k);

			if (rep < 1)
				continue;
			if (result) {
				proto_result((unsigned long)rep, "bytes_per_task", bytes, "bytes");
				proto_result((unsigned long)rep, "spawn_join_ns", spawn, "ns");
				proto_result((unsigned long)rep, "switch_ns", sw, "ns");
				if (k == FIBER)
					proto_result((unsigned long)rep, "raw_switch_ns", raw_switch_ns(),
						     "ns");
			} else if (rep == (long)reps) {
				printf("%-10s %12.0f %14.0f %12.1f\n", kind_names[k], bytes, spawn, sw);
			}
		}
	}
	if (!result)
		printf("raw stack switch (volt__ctx_switch alone): %.2f ns\n", raw_switch_ns());
	volt_rt_free(rt);
	free(gate.wakers);
	return 0;
}
