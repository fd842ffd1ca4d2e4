/* SPDX-License-Identifier: MIT */
/*
 * core/worker.c: the worker loop.
 *
 *	loop until shutdown:
 *		every global_interval ticks, ask the policy for shared work first
 *		pop from the policy (its own queue, LIFO slot, global queue...)
 *		else, if allowed to search (max_searching, default half the
 *		     workers), steal for up to `search_rounds` passes
 *		else idle: fire due timers, poll the I/O driver without
 *		     waiting; or park (core/idle.c decides who wakes whom;
 *		     core/timers.c who sleeps until the next deadline; core/io.c
 *		     who parks inside the I/O driver), spin or yield
 *		run the task: poll it once (core/task.c)
 *		every event_interval ticks: maintenance, fire due timers, poll
 *		     the I/O driver without waiting
 *
 * Maintenance re-tunes the global-queue interval when it is self-tuned
 * (cfg.global_interval = 0), after Tokio's stats.rs: the mean poll time of
 * the last batch feeds an EWMA (alpha 0.1), and the interval is the number
 * of polls that fit in 200 us, clamped to 2..127. Time spent parked is not
 * part of a batch.
 *
 * A worker never blocks inside a poll on purpose: every blocking-style call
 * refuses with -EDEADLK on a worker thread.
 */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "core/futex.h"
#include "core/rt.h"
#include "core/task.h"

#define TUNE_TARGET_NS 200000.0
#define TUNE_ALPHA 0.1
#define TUNE_MIN 2
#define TUNE_MAX 127
#define TUNE_SEED_INTERVAL 61
#define SPIN_RELAXES 64
#define SIGNAL_STACK (64 * 1024)

static _Thread_local struct volt__worker *tl_worker;

struct volt__worker *volt__worker_self(void)
{
	return tl_worker;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool self_tuned(const struct volt__worker *w)
{
	return w->rt->cfg.global_interval == 0;
}

static void batch_begin(struct volt__worker *w)
{
	w->polls_in_batch = 0;
	if (self_tuned(w))
		w->batch_start_ns = now_ns();
}

static void batch_end(struct volt__worker *w)
{
	if (!self_tuned(w) || !w->polls_in_batch)
		return;
	double mean = (double)(now_ns() - w->batch_start_ns) / w->polls_in_batch;

	w->poll_ns_ewma = TUNE_ALPHA * mean + (1 - TUNE_ALPHA) * w->poll_ns_ewma;
	double n = TUNE_TARGET_NS / (w->poll_ns_ewma > 1 ? w->poll_ns_ewma : 1);

	w->global_interval = n < TUNE_MIN ? TUNE_MIN : n > TUNE_MAX ? TUNE_MAX : (uint32_t)n;
}

static struct volt__task *find_task(struct volt__worker *w, bool *lifo)
{
	struct volt_rt *rt = w->rt;
	const struct volt__sched_ops *ops = rt->sched_ops;
	bool global_first = w->tick % w->global_interval == 0;
	struct volt__task *t = ops->pop(rt->sched, w->idx, global_first, lifo);

	if (t || !ops->steal || rt->nworkers == 1)
		return t;
	if (!w->searching)
		w->searching = volt__idle_begin_search(&rt->idle);
	if (!w->searching)
		return NULL;
	for (unsigned r = 0; r < rt->cfg.search_rounds; r++) {
		t = ops->steal(rt->sched, w->idx, r, rt->cfg.search_rounds);
		if (t) {
			VOLT__TRACE(&w->trace, VOLT__TR_STEAL, 1);
			return t;
		}
	}
	return NULL;
}

/* Stops searching; if this was the last searcher and work is queued, pass the search on. */
static void stop_searching(struct volt__worker *w)
{
	struct volt_rt *rt = w->rt;

	w->searching = false;
	if (volt__idle_end_search(&rt->idle) && rt->sched_ops->has_work(rt->sched))
		volt__idle_notify(rt);
}

/* The idle policies that never sleep: the worker stays counted as awake. */
static void idle_without_parking(struct volt__worker *w)
{
	if (w->searching)
		stop_searching(w);
	if (w->rt->cfg.idle == VOLT_IDLE_SPIN) {
		for (int i = 0; i < SPIN_RELAXES; i++)
			volt__cpu_relax();
	} else {
		sched_yield();
	}
}

/*
 * Before sleeping, watch the queues for up to ns: a futex sleep and wake
 * cost ~20 us here, more than the gap before the next task in a hand-off
 * (a blocking-pool job returning, a message answered). True if work, an
 * io_uring completion (visible without a system call) or shutdown appeared.
 * The worker keeps its searching status meanwhile, so a pusher counts on
 * it instead of waking a sleeper.
 */
static bool spin_for_work(struct volt_rt *rt, uint64_t ns)
{
	uint64_t deadline = now_ns() + ns;

	do {
		for (int i = 0; i < SPIN_RELAXES; i++)
			volt__cpu_relax();
		/* acquire: pairs with the release store in volt_rt_free */
		if (volt__load(&rt->shutdown, ACQUIRE) || rt->sched_ops->has_work(rt->sched) ||
		    volt__io_has_events(rt))
			return true;
	} while (now_ns() < deadline);
	return false;
}

static void park(struct volt__worker *w)
{
	struct volt_rt *rt = w->rt;
	struct volt__metrics *m = &rt->metrics[w->idx];

	if (volt__timers_fire(rt, w) || volt__io_poll_now(rt))
		return;
	if (rt->cfg.idle != VOLT_IDLE_PARK) {
		idle_without_parking(w);
		return;
	}
	/* The spin waits for other threads to hand over work; with one worker on
	 * the virtual clock (a simulation) that is rare, and it burns real time. */
	if (rt->cfg.park_spin_ns && !(rt->nworkers == 1 && rt->timers.virtual_clock) &&
	    spin_for_work(rt, rt->cfg.park_spin_ns))
		return;
	if (w->searching)
		stop_searching(w);
	if (w->woken) {
		volt__count(&m->noop_wakes);
		w->woken = false;
	}
	bool last = volt__idle_sleep(&rt->idle, w->idx);
	uint64_t until = VOLT__PARK_FOREVER;

	/* acquire: pairs with the release store in volt_rt_free */
	if (volt__load(&rt->shutdown, ACQUIRE) || rt->sched_ops->has_work(rt->sched))
		until = VOLT__PARK_NOT;
	else
		until = volt__timers_park_begin(rt, w, last);
	if (until == VOLT__PARK_NOT) {
		if (volt__idle_cancel_sleep(&rt->idle, w->idx)) {
			w->searching = true;
			return;
		}
		until = VOLT__PARK_FOREVER; /* a notifier claimed us: its token is on the way */
	}
	batch_end(w);
	volt__count(&m->parks);
	VOLT__TRACE(&w->trace, VOLT__TR_PARK, 0);
	bool token = volt__io_park(rt, w, until);

	volt__timers_park_end(rt, w);
	VOLT__TRACE(&w->trace, VOLT__TR_UNPARK, 0);
	batch_begin(w);
	/*
	 * Still marked asleep if no notifier claimed us: the deadline passed,
	 * or we were the timekeeper and a new earlier timer woke us directly.
	 */
	if (volt__idle_cancel_sleep(&rt->idle, w->idx)) {
		if (!token)
			volt__count(&m->timer_wakes);
		w->searching = true;
		return;
	}
	if (!token)
		volt__park(&w->park); /* claimed as the deadline passed: take its token */
	volt__count(&m->unparks);
	w->searching = true; /* the notifier counted us as searching */
	w->woken = true;
}

/*
 * An alternate signal stack, so the stack-overflow report of a fiber
 * (core/fiber.c) can run when the fiber's own stack is exhausted.
 */
static void signal_stack_on(struct volt__worker *w)
{
	stack_t ss = { .ss_size = SIGNAL_STACK, .ss_flags = 0 };

	w->sigstack = ss.ss_sp = malloc(SIGNAL_STACK);
	if (ss.ss_sp && sigaltstack(&ss, NULL)) {
		free(w->sigstack);
		w->sigstack = NULL;
	}
}

static void signal_stack_off(struct volt__worker *w)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	if (w->sigstack) {
		sigaltstack(&ss, NULL);
		free(w->sigstack);
		w->sigstack = NULL;
	}
}

void *volt__worker_main(void *arg)
{
	struct volt__worker *w = arg;
	struct volt_rt *rt = w->rt;
	uint32_t event_interval = rt->cfg.event_interval;

	tl_worker = w;
	signal_stack_on(w);
	w->pin_result = volt__topo_pin_self(&rt->topo, w->idx);
	/* release: volt_rt_new returns only after this, so pin_result is final */
	volt__fetch_add(&rt->started, 1, RELEASE);
	volt__futex_wake(&rt->started, 1);
	w->global_interval = self_tuned(w) ? TUNE_SEED_INTERVAL : rt->cfg.global_interval;
	w->poll_ns_ewma = TUNE_TARGET_NS / TUNE_SEED_INTERVAL;
	batch_begin(w);
	/* acquire: pairs with the release store in volt_rt_free */
	while (!volt__load(&rt->shutdown, ACQUIRE)) {
		bool lifo = false;
		struct volt__task *t = find_task(w, &lifo);

		if (!t) {
			park(w);
			continue;
		}
		w->tick++;
		w->woken = false;
		if (w->searching)
			stop_searching(w);
		volt__task_run(w, t, lifo);
		if (++w->polls_in_batch >= event_interval) {
			batch_end(w);
			volt__timers_fire(rt, w);
			(void)volt__io_poll_now(rt);
			batch_begin(w);
		}
	}
	if (w->searching) {
		w->searching = false;
		volt__idle_end_search(&rt->idle);
	}
	volt__slab_cache_flush(&rt->slab, &w->cache);
	volt__fiber_stack_cache_flush(w);
	signal_stack_off(w);
	tl_worker = NULL;
	return NULL;
}
