/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sched_queue.c: every scheduler policy's queues, driven directly
 * through struct volt__sched_ops with bare task headers (no runtime), under
 * stress: worker threads push tasks with a random mix of push kinds and pop
 * and steal, one worker (when there are several) only steals, an outside
 * thread injects, and every task pushed must come out exactly once. Rings overflow (thousands of tasks per worker
 * against 256 slots) and thieves race owners.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/task.h"
#include "core/topology.h"
#include "runner.h"
#include "schedulers/sched.h"

#define QWORKERS 3
#define PER_THREAD VT_SCALE(60000)
#define PRODUCERS (QWORKERS + 1) /* the workers and one outside thread */
#define TOTAL (PRODUCERS * PER_THREAD)

struct qtest {
	const struct volt__sched_ops *ops;
	void *state;
	unsigned nworkers;
	struct volt__task *tasks;
	_Atomic uint32_t *seen;
	atomic_ulong consumed;
	size_t expected; /* tasks the threads of this run push */
	atomic_uint started;
	struct volt__metrics *metrics;
	struct volt_config cfg;
	struct volt__topo topo;
};

/* Sets up policy `name` for `want` workers (as the policy adjusts) and ntasks tasks. */
static void qtest_init(struct qtest *q, const char *name, unsigned want, uint64_t seed,
		       size_t ntasks)
{
	q->ops = volt__sched_find(name);
	CHECK(q->ops != NULL);
	CHECK_EQ(volt_config_init(&q->cfg), 0);
	q->nworkers = q->ops->workers ? q->ops->workers(want) : want;
	CHECK_EQ(volt__topo_init(&q->topo, &q->cfg, q->nworkers), 0);
	q->tasks = calloc(ntasks, sizeof(*q->tasks));
	q->seen = calloc(ntasks, sizeof(*q->seen));
	q->metrics = calloc(q->nworkers, sizeof(*q->metrics));
	CHECK(q->tasks && q->seen && q->metrics);

	struct volt__sched_env env = { q->nworkers, seed, &q->cfg, q->metrics, &q->topo };

	CHECK_EQ(q->ops->init(&q->state, &env), 0);
}

static void qtest_fini(struct qtest *q)
{
	CHECK(!q->ops->has_work(q->state));
	q->ops->fini(q->state);
	free(q->tasks);
	free(q->seen);
	free(q->metrics);
}

struct qthread {
	struct qtest *q;
	int w; /* -1: the outside thread */
	uint64_t rng;
	pthread_t thread;
};

static uint64_t qrand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void consume(struct qtest *q, struct volt__task *t)
{
	size_t id = (size_t)(t - q->tasks);

	if (id >= TOTAL)
		VT_FAIL("popped a pointer that is no task: %p", (void *)t);
	if (atomic_fetch_add(&q->seen[id], 1) != 0)
		VT_FAIL("task %zu came out twice", id);
	atomic_fetch_add(&q->consumed, 1);
}

/* Worker w pops, else steals; true if it got a task. */
static bool take_one(struct qtest *q, unsigned w, uint64_t *tick)
{
	bool lifo;
	struct volt__task *t = q->ops->pop(q->state, w, (*tick)++ % 61 == 0, &lifo);

	if (!t && q->ops->steal)
		t = q->ops->steal(q->state, w, 0, 1);
	if (!t)
		return false;
	consume(q, t);
	return true;
}

/* The last of several workers is a pure thief. */
static bool is_thief(const struct qtest *q, int w)
{
	return q->nworkers > 1 && w == (int)q->nworkers - 1;
}

static void *qthread_main(void *arg)
{
	struct qthread *qt = arg;
	struct qtest *q = qt->q;
	size_t base = (size_t)(qt->w + 1) * PER_THREAD;
	size_t count = is_thief(q, qt->w) ? 0 : PER_THREAD;
	uint64_t tick = 0;

	atomic_fetch_add(&q->started, 1);
	while (atomic_load(&q->started) < (unsigned)(q->nworkers + 1))
		;
	for (size_t i = 0; i < count; i++) {
		struct volt__task *t = &q->tasks[base + i];

		if (qt->w < 0) {
			q->ops->push(q->state, -1, t, VOLT__PUSH_REMOTE);
			continue;
		}
		static const enum volt__push kinds[] = { VOLT__PUSH_SPAWN, VOLT__PUSH_WAKE,
							  VOLT__PUSH_YIELD, VOLT__PUSH_SPAWN };

		q->ops->push(q->state, qt->w, t, kinds[qrand(&qt->rng) % 4]);
		/* pop less often than we push, so queues fill and overflow */
		if (qrand(&qt->rng) % 3 == 0)
			take_one(q, (unsigned)qt->w, &tick);
	}
	if (qt->w >= 0)
		while (atomic_load(&q->consumed) < q->expected)
			take_one(q, (unsigned)qt->w, &tick);
	return NULL;
}

static void run_policy(const char *name)
{
	struct qtest q = { 0 };
	struct qthread th[QWORKERS + 1];

	qtest_init(&q, name, QWORKERS, 42, TOTAL);
	/* a one-worker policy gets its worker thread and the outside thread */
	unsigned nthreads = q.nworkers + 1;

	q.expected = (size_t)(nthreads - (q.nworkers > 1)) * PER_THREAD;

	for (unsigned i = 0; i < nthreads; i++) {
		th[i].q = &q;
		th[i].w = (int)i - 1;
		th[i].rng = 0x9e3779b97f4a7c15ull * (i + 7);
		CHECK_EQ(pthread_create(&th[i].thread, NULL, qthread_main, &th[i]), 0);
	}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(th[i].thread, NULL);

	size_t expected = q.expected;

	CHECK_UEQ(atomic_load(&q.consumed), expected);
	for (unsigned t = 0; t < nthreads; t++) {
		size_t count = is_thief(&q, (int)t - 1) ? 0 : PER_THREAD;

		for (size_t i = 0; i < count; i++)
			CHECK_EQ(atomic_load(&q.seen[t * PER_THREAD + i]), 1);
	}
	uint64_t steals = 0;

	for (unsigned i = 0; i < q.nworkers; i++)
		steals += atomic_load(&q.metrics[i].steals_won);
	printf("  %s: %zu tasks exactly once, %llu steals won\n", name, expected,
	       (unsigned long long)steals);
	qtest_fini(&q);
}

/* Rounds: one round catches a planted race in pop most of the time; five, nearly always. */
VOLT_RT_TEST(sched_queue_exactly_once)
{
	for (int round = 0; round < 5; round++)
		run_policy(policy);
}

/*
 * Growth racing steals: worker 0 pushes without popping, so a growable deque
 * resizes again and again (a ring overflows to the global queue), while the
 * other workers steal from it the whole time; then worker 0 drains the rest.
 */
#define GROW_TASKS VT_SCALE(200000)

struct grow_race {
	struct qtest *q;
	unsigned w;
	atomic_bool *pushing;
	pthread_t thread;
};

static void *grow_thread(void *arg)
{
	struct grow_race *g = arg;
	struct qtest *q = g->q;
	uint64_t tick = 1; /* not a multiple of any global interval at first */

	if (g->w == 0) {
		for (size_t i = 0; i < GROW_TASKS; i++)
			q->ops->push(q->state, 0, &q->tasks[i], VOLT__PUSH_SPAWN);
		atomic_store(g->pushing, false);
	} else if (q->ops->steal) {
		while (atomic_load(g->pushing) || atomic_load(&q->consumed) < GROW_TASKS) {
			struct volt__task *t = q->ops->steal(q->state, g->w, 0, 1);

			if (t)
				consume(q, t);
			else if (!atomic_load(g->pushing))
				break;
		}
	}
	if (g->w == 0)
		while (atomic_load(&q->consumed) < GROW_TASKS)
			take_one(q, 0, &tick);
	return NULL;
}

VOLT_RT_TEST(sched_queue_steal_races_growth)
{
	struct qtest q = { 0 };
	atomic_bool pushing = true;
	struct grow_race g[3];

	qtest_init(&q, policy, 3, 7, GROW_TASKS);
	for (unsigned i = 0; i < q.nworkers; i++) {
		g[i] = (struct grow_race){ &q, i, &pushing, 0 };
		CHECK_EQ(pthread_create(&g[i].thread, NULL, grow_thread, &g[i]), 0);
	}
	for (unsigned i = 0; i < q.nworkers; i++)
		pthread_join(g[i].thread, NULL);
	CHECK_UEQ(atomic_load(&q.consumed), GROW_TASKS);
	for (size_t i = 0; i < GROW_TASKS; i++)
		CHECK_EQ(atomic_load(&q.seen[i]), 1);
	qtest_fini(&q);
}
