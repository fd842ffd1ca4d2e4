/* SPDX-License-Identifier: MIT */
/*
 * experiments/skew.c: E8, skewed load imbalance (experiments/README.md).
 *
 * A burst of BURST_TASKS tasks arrives on one worker, as a batch of ready
 * I/O would: the main thread spawns one root task, which spawns the whole
 * burst from its worker, so every task starts in that worker's queue. Each
 * task busy-waits on the clock for a Pareto-distributed time (shape
 * PARETO_SHAPE, mean MEAN_COST_NS, cut at MAX_COST_NS; the costs are drawn
 * once from --seed, the same for every repetition and cell). The other
 * workers must find the work by stealing. One iteration runs --bursts bursts
 * one after the other (each waits for the previous to finish, so the
 * workers go idle and must ramp up again every time).
 *
 *	skew [--reps N] [--warmup N] [--tasks B] [--bursts K] [--seed S]
 *	VOLT_SCHED=ring VOLT_MAX_SEARCHING=1 build/experiments/skew
 *
 * Per timed iteration (harness protocol):
 *	time_per_iter        us   from the first root spawn until the last task of
 *	                          the last burst finished (the makespan)
 *	time_to_all_busy     us   mean over the bursts of: from the moment the root
 *	                          task starts spawning until the last worker to do so
 *	                          polls its first task of the burst (a burst in which
 *	                          some worker never ran a task counts its whole
 *	                          makespan, see bursts_not_all_busy)
 *	bursts_not_all_busy  count
 *	steals_won, tasks_stolen, parks, unparks   count, whole iteration
 *	noop_wakes_per_task  ratio  noop wakes / tasks of the iteration
 */
#define _GNU_SOURCE

#include <volt.h>

#include "proto.h"

#define BURST_TASKS 10000    /* tasks per burst (--tasks) */
#define BURSTS 4             /* bursts per iteration (--bursts) */
#define MEAN_COST_NS 2000.0  /* mean task cost before the cut */
#define PARETO_SHAPE_X2 3    /* twice alpha = 1.5: finite mean, infinite variance */
#define PARETO_SHAPE (PARETO_SHAPE_X2 / 2.0)
#define MAX_COST_NS 1000000u /* cut of the tail: 1 ms */
#define DEFAULT_SEED 1
#define DEFAULT_REPS 10
#define DEFAULT_WARMUP 2

struct opts {
	unsigned long reps, warmup, tasks, bursts, seed;
};

static struct proto_latch latch = PROTO_LATCH_INIT;
static atomic_int task_err;

/* Per burst, written by the root (start) and each worker (its own first poll). */
static uint32_t *costs;          /* tasks * bursts costs, in ns */
static _Atomic uint64_t burst_start_ns;
static _Atomic uint64_t first_poll_ns[VOLT_MAX_WORKERS];

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The cube root of v > 0 by Newton's method (no libm needed). */
static double cube_root(double v)
{
	double y = v > 1 ? v : 1;

	for (int i = 0; i < 200; i++) {
		double next = y - (y * y * y - v) / (3 * y * y);

		if (next >= y)
			break;
		y = next;
	}
	return y;
}

/*
 * Pareto(xm, alpha) by inversion: xm / U^(1/alpha), U uniform in (0, 1];
 * with alpha = 1.5, U^(1/alpha) is the cube root of U^2.
 */
_Static_assert(PARETO_SHAPE_X2 == 3, "draw_costs computes U^(1/alpha) for alpha = 1.5");

static void draw_costs(uint32_t *out, size_t n, uint64_t seed)
{
	double xm = MEAN_COST_NS * (PARETO_SHAPE - 1) / PARETO_SHAPE;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull | 1;

	for (size_t i = 0; i < n; i++) {
		double u = (double)((xorshift(&x) >> 11) + 1) / 9007199254740992.0;
		double c = xm / cube_root(u * u);

		out[i] = c > MAX_COST_NS ? MAX_COST_NS : (uint32_t)c;
	}
}

struct job {
	struct volt_future base;
	uint32_t cost_ns;
};

static enum volt_poll job_poll(struct volt_future *f, struct volt_cx *cx)
{
	int w = volt_worker_index();

	(void)cx;
	/* relaxed: only worker w writes its slot; the main thread reads it
	 * after the latch (a mutex) has ordered everything */
	if (w >= 0 && !atomic_load_explicit(&first_poll_ns[w], memory_order_relaxed))
		atomic_store_explicit(&first_poll_ns[w], proto_now_ns(), memory_order_relaxed);
	proto_spin_ns(((struct job *)f)->cost_ns);
	proto_latch_count_down(&latch, 1);
	return VOLT_READY;
}

static const struct volt_future_ops job_ops = { .poll = job_poll };

struct root {
	struct volt_future base;
	const uint32_t *costs;
	unsigned long n;
};

static enum volt_poll root_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct root *r = (struct root *)f;
	struct job j = { .base = VOLT_FUTURE_INIT(&job_ops) };

	atomic_store_explicit(&burst_start_ns, proto_now_ns(), memory_order_relaxed);
	for (unsigned long i = 0; i < r->n; i++) {
		int err;

		j.cost_ns = r->costs[i];
		err = volt_spawn(cx->rt, &j.base, sizeof j, NULL);
		if (err) {
			proto_note_err(&task_err, err);
			proto_latch_count_down(&latch, r->n - i);
			break;
		}
	}
	return VOLT_READY;
}

static const struct volt_future_ops root_ops = { .poll = root_poll };

struct iter_result {
	double makespan_us, all_busy_us;
	unsigned long not_all_busy;
};

/* One iteration: the bursts, one after the other. 0 or -errno. */
static int one_iteration(struct volt_rt *rt, const struct opts *o, struct iter_result *res)
{
	unsigned nw = volt_rt_workers(rt);
	uint64_t t0 = proto_now_ns();
	double busy_sum = 0;

	res->not_all_busy = 0;
	for (unsigned long b = 0; b < o->bursts; b++) {
		struct root r = {
			.base = VOLT_FUTURE_INIT(&root_ops),
			.costs = costs + b * o->tasks,
			.n = o->tasks,
		};
		uint64_t last = 0;
		bool all = true;
		int err;

		for (unsigned w = 0; w < nw; w++)
			atomic_store(&first_poll_ns[w], 0);
		err = proto_latch_round(rt, &latch, o->tasks, &r.base, sizeof r, &task_err);
		if (err)
			return err;
		uint64_t end = proto_now_ns(), start = atomic_load(&burst_start_ns);

		for (unsigned w = 0; w < nw; w++) {
			uint64_t f = atomic_load(&first_poll_ns[w]);

			all &= f != 0;
			last = f > last ? f : last;
		}
		if (!all) {
			res->not_all_busy++;
			last = end;
		}
		busy_sum += last > start ? (double)(last - start) / 1e3 : 0;
	}
	res->makespan_us = (double)(proto_now_ns() - t0) / 1e3;
	res->all_busy_us = busy_sum / (double)o->bursts;
	return 0;
}

/* The counters reported per iteration, in this order (then noop_wakes_per_task). */
static const struct proto_counter counters[] = {
	PROTO_COUNTER(steals_won), PROTO_COUNTER(tasks_stolen), PROTO_COUNTER(parks),
	PROTO_COUNTER(unparks),
};

static int app(struct volt_rt *rt, void *arg)
{
	const struct opts *o = arg;
	unsigned long ntasks = o->tasks * o->bursts;
	double work_ns = 0;

	for (unsigned long i = 0; i < ntasks; i++)
		work_ns += costs[i];
	printf("# skew: policy=%s workers=%u tasks=%lu bursts=%lu seed=%lu "
	       "work_per_iter_us=%.1f (the sum of the task costs)\n",
	       volt_rt_scheduler(rt), volt_rt_workers(rt), o->tasks, o->bursts, o->seed,
	       work_ns / 1e3);
	for (unsigned long r = 0; r < o->warmup + o->reps; r++) {
		struct volt_worker_metrics m0, m1;
		struct iter_result res;
		int err;

		volt_metrics_total(rt, &m0);
		err = one_iteration(rt, o, &res);
		if (err) {
			fprintf(stderr, "skew: %s\n", strerror(-err));
			return 1;
		}
		volt_metrics_total(rt, &m1);
		if (r < o->warmup)
			continue;

		unsigned long rep = r - o->warmup + 1;

		proto_result(rep, "time_per_iter", res.makespan_us, "us");
		proto_result(rep, "time_to_all_busy", res.all_busy_us, "us");
		proto_result(rep, "bursts_not_all_busy", (double)res.not_all_busy, "count");
		proto_counters_print(rep, counters, PROTO_LEN(counters), &m0, &m1);
		proto_result(rep, "noop_wakes_per_task",
			     (double)(m1.noop_wakes - m0.noop_wakes) / (double)ntasks, "ratio");
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.reps = DEFAULT_REPS, .warmup = DEFAULT_WARMUP, .tasks = BURST_TASKS,
		.bursts = BURSTS, .seed = DEFAULT_SEED,
	};
	const struct proto_opt opts[] = {
		{ "--reps", &o.reps, 1, ULONG_MAX },
		{ "--warmup", &o.warmup, 0, ULONG_MAX },
		{ "--tasks", &o.tasks, 1, 10000000 },
		{ "--bursts", &o.bursts, 1, 1000 },
		{ "--seed", &o.seed, 0, ULONG_MAX },
		{ NULL, NULL, 0, 0 },
	};
	struct volt_config cfg;
	int err;

	if (!proto_opts_parse(argc, argv, opts)) {
		fprintf(stderr,
			"usage: %s [--reps N] [--warmup N] [--tasks B] [--bursts K] [--seed S]\n"
			"  defaults: --reps %d --warmup %d --tasks %d --bursts %d --seed %d\n"
			"  the runtime comes from VOLT_* (VOLT_SCHED, VOLT_WORKERS, "
			"VOLT_MAX_SEARCHING, ...)\n",
			argv[0], DEFAULT_REPS, DEFAULT_WARMUP, BURST_TASKS, BURSTS, DEFAULT_SEED);
		return 2;
	}
	proto_malloc_setup();
	if (proto_config(&cfg, "skew", 0, 0))
		return 2;
	costs = malloc(o.tasks * o.bursts * sizeof *costs);
	if (!costs) {
		fprintf(stderr, "skew: out of memory\n");
		return 1;
	}
	draw_costs(costs, o.tasks * o.bursts, o.seed);
	err = proto_run(&cfg, app, &o, "skew");
	free(costs);
	return err == 0 ? 0 : 1;
}
