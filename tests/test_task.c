/* SPDX-License-Identifier: MIT */
/*
 * tests/test_task.c: spawning, joining, outputs, remote spawns, block_on
 * and the -EDEADLK rule for blocking calls made on a worker.
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

/* A future that is ready at its first poll with `value` as the output. */
struct value_fut {
	struct volt_future base;
	intptr_t value;
	atomic_int *polls;
	atomic_int *drops;
	atomic_int *slot; /* per-task run counter, may be NULL */
};

static enum volt_poll value_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct value_fut *v = (struct value_fut *)f;

	if (v->polls)
		atomic_fetch_add(v->polls, 1);
	if (v->slot)
		atomic_fetch_add(v->slot, 1);
	cx->output = (void *)v->value;
	return VOLT_READY;
}

static void value_drop(struct volt_future *f)
{
	struct value_fut *v = (struct value_fut *)f;

	if (v->drops)
		atomic_fetch_add(v->drops, 1);
}

static const struct volt_future_ops value_ops = { value_poll, value_drop };

static struct value_fut value_fut(intptr_t value, atomic_int *polls, atomic_int *drops)
{
	struct value_fut v = { VOLT_FUTURE_INIT(&value_ops), value, polls, drops, NULL };
	return v;
}

/* ------------------------------------------------------------------ */

VOLT_TEST(task_size_budget)
{
	size_t minimal = volt_task_size(sizeof(struct volt_future) + 8);

	printf("  task header %d B, minimal task %zu B\n", VOLT_TASK_HEADER_SIZE, minimal);
	CHECK_EQ(VOLT_TASK_HEADER_SIZE, 64);
	CHECK_LE(minimal, 256);
	CHECK_GE(minimal, VOLT_TASK_HEADER_SIZE + sizeof(struct volt_future) + 8);
	/* the size class grows with the future and always holds it */
	for (size_t sz = sizeof(struct volt_future); sz <= 4096; sz += 40) {
		CHECK_GE(volt_task_size(sz), VOLT_TASK_HEADER_SIZE + sz);
		CHECK_LE(volt_task_size(sz), volt_task_size(sz + 40));
	}
}

VOLT_RT_TEST(spawn_join_many)
{
	/* 1,000,000 tasks (100,000 in sanitizer builds, see VT_SCALE). */
	const size_t n = VT_SCALE(1000000);
	struct volt_join **joins = malloc(n * sizeof *joins);
	atomic_int polls = 0, drops = 0;
	struct volt_rt *rt = vt_rt_new(policy, 2);

	CHECK(joins != NULL);
	for (size_t i = 0; i < n; i++) {
		struct value_fut v = value_fut((intptr_t)(i * 3 + 1), &polls, &drops);

		joins[i] = vt_spawn(rt, &v, sizeof v, false);
	}
	for (size_t i = 0; i < n; i++) {
		void *out = vt_join(joins[i]);

		if ((intptr_t)out != (intptr_t)(i * 3 + 1))
			VT_FAIL("task %zu output %jd, expected %zu", i, (intmax_t)(intptr_t)out,
				i * 3 + 1);
	}
	/* every task completed, so each was polled exactly once */
	CHECK_EQ(atomic_load(&polls), n);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), n);
	free(joins);
}

/* ---- remote spawn from plain threads */

#define REMOTE_THREADS 4

struct remote_arg {
	struct volt_rt *rt;
	unsigned id;
	size_t per_thread;
	atomic_int *slots;
	atomic_int *drops;
	atomic_int *total;
};

static void *remote_main(void *p)
{
	struct remote_arg *a = p;
	struct volt_join **joins = calloc(a->per_thread, sizeof *joins);

	CHECK(joins != NULL);
	CHECK(volt_rt_current() == NULL);
	for (size_t k = 0; k < a->per_thread; k++) {
		size_t id = a->id * a->per_thread + k;
		struct value_fut v = value_fut((intptr_t)id, a->total, a->drops);

		v.slot = &a->slots[id];
		/* even tasks are joined by this thread, odd ones detached */
		joins[k] = vt_spawn(a->rt, &v, sizeof v, k % 2 == 1);
	}
	for (size_t k = 0; k < a->per_thread; k += 2) {
		void *out = vt_join(joins[k]);

		CHECK_EQ((intptr_t)out, (intptr_t)(a->id * a->per_thread + k));
	}
	free(joins);
	return NULL;
}

VOLT_RT_TEST(remote_spawn_threads)
{
	const size_t per = VT_SCALE(50000);
	const size_t n = per * REMOTE_THREADS;
	atomic_int *slots = calloc(n, sizeof *slots);
	atomic_int drops = 0, total = 0;
	struct remote_arg args[REMOTE_THREADS];
	pthread_t th[REMOTE_THREADS];
	struct volt_rt *rt = vt_rt_new(policy, 2);

	CHECK(slots != NULL);
	for (unsigned t = 0; t < REMOTE_THREADS; t++) {
		args[t] = (struct remote_arg){ rt, t, per, slots, &drops, &total };
		CHECK_OK(pthread_create(&th[t], NULL, remote_main, &args[t]));
	}
	for (unsigned t = 0; t < REMOTE_THREADS; t++)
		CHECK_OK(pthread_join(th[t], NULL));
	VT_WAIT_FOR(atomic_load(&total) >= (int)n);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&total), n);
	CHECK_EQ(atomic_load(&drops), n);
	for (size_t i = 0; i < n; i++)
		if (atomic_load(&slots[i]) != 1)
			VT_FAIL("task %zu ran %d times", i, atomic_load(&slots[i]));
	free(slots);
}

/* ---- volt_spawn_fn */

static struct volt_rt *fn_rt;
static atomic_int fn_bad_thread;

static void *double_it(void *arg)
{
	if (volt_rt_current() != fn_rt || volt_worker_index() < 0)
		atomic_fetch_add(&fn_bad_thread, 1);
	return (void *)((intptr_t)arg * 2);
}

VOLT_RT_TEST(spawn_fn_output)
{
	struct volt_join *j[100];

	fn_rt = vt_rt_new(policy, 2);
	for (int i = 0; i < 100; i++)
		CHECK_OK(volt_spawn_fn(fn_rt, double_it, (void *)(intptr_t)i, &j[i]));
	for (int i = 0; i < 100; i++)
		CHECK_EQ((intptr_t)vt_join(j[i]), 2 * i);
	CHECK_EQ(atomic_load(&fn_bad_thread), 0);
	volt_rt_free(fn_rt);
}

/* ---- argument errors */

VOLT_RT_TEST(spawn_invalid_args)
{
	static const struct volt_future_ops no_poll = { NULL, value_drop };
	atomic_int drops = 0;
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct value_fut v = value_fut(5, NULL, &drops);
	struct value_fut bad = value_fut(5, NULL, &drops);
	struct volt_join *j = NULL;

	CHECK_EQ(volt_spawn(rt, NULL, sizeof v, &j), -EINVAL);
	bad.base.ops = &no_poll;
	CHECK_EQ(volt_spawn(rt, &bad.base, sizeof bad, &j), -EINVAL);
	bad.base.ops = NULL;
	CHECK_EQ(volt_spawn(rt, &bad.base, sizeof bad, &j), -EINVAL);
	CHECK_EQ(volt_spawn(rt, &v.base, 0, &j), -EINVAL);
	CHECK_EQ(volt_spawn(rt, &v.base, sizeof(struct volt_future) - 1, &j), -EINVAL);
	CHECK_EQ(volt_spawn(rt, &v.base, sizeof v, NULL), 0); /* detached is fine */
	CHECK_OK(volt_spawn(rt, &v.base, sizeof v, &j));
	CHECK_EQ((intptr_t)vt_join(j), 5);
	volt_rt_free(rt);
	/* the refused spawns took nothing over: only the two accepted copies dropped */
	CHECK_EQ(atomic_load(&drops), 2);
}

VOLT_RT_TEST(rt_introspection)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;

	vt_cfg(&cfg, policy, 2);
	cfg.seed = 4242;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_STR_EQ(volt_rt_scheduler(rt), policy);
	CHECK_EQ(volt_rt_workers(rt), vt_workers(policy, 2));
	CHECK_UEQ(volt_rt_seed(rt), 4242);
	CHECK(volt_rt_current() == NULL);
	CHECK_EQ(volt_worker_index(), -1);
	volt_rt_free(rt);
}

/* ---- volt_join_await from a coroutine parent */

struct jchild {
	struct volt_future base;
	intptr_t v;
	int i;
	struct volt_yield y;
	atomic_int *drops;
};

static enum volt_poll jchild_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct jchild *c = (struct jchild *)f;

	VOLT_BEGIN(f);
	for (c->i = 0; c->i < 3; c->i++)
		VOLT_AWAIT(f, cx, volt_yield_now(&c->y));
	VOLT_RETURN(f, cx, c->v * 10);
	VOLT_END(f);
}

static void jchild_drop(struct volt_future *f)
{
	atomic_fetch_add(((struct jchild *)f)->drops, 1);
}

static const struct volt_future_ops jchild_ops = { jchild_poll, jchild_drop };

#define JKIDS 8

struct jparent {
	struct volt_future base;
	int i;
	intptr_t sum;
	struct volt_join *j[JKIDS];
	struct volt_join_future jf;
	atomic_int *drops;
};

static enum volt_poll jparent_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct jparent *p = (struct jparent *)f;

	VOLT_BEGIN(f);
	for (int i = 0; i < JKIDS; i++) {
		struct jchild c = { .base = VOLT_FUTURE_INIT(&jchild_ops), .v = i + 1, .drops = p->drops };

		CHECK_OK(volt_spawn(cx->rt, &c.base, sizeof c, &p->j[i]));
	}
	for (p->i = 0; p->i < JKIDS; p->i++) {
		VOLT_AWAIT(f, cx, volt_join_await(&p->jf, p->j[p->i]));
		CHECK_EQ(p->jf.result, 0);
		CHECK_EQ((intptr_t)p->jf.output, (p->i + 1) * 10);
		p->sum += (intptr_t)p->jf.output;
	}
	VOLT_RETURN(f, cx, p->sum + 1);
	VOLT_END(f);
}

static const struct volt_future_ops jparent_ops = { jparent_poll, NULL };

VOLT_RT_TEST(join_await_in_coroutine)
{
	atomic_int drops = 0;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct jparent p;
	struct volt_join *j;

	memset(&p, 0, sizeof p);
	volt_future_init(&p.base, &jparent_ops);
	p.drops = &drops;
	j = vt_spawn(rt, &p, sizeof p, false);
	/* 10 + 20 + ... + 80 = 360 */
	CHECK_EQ((intptr_t)vt_join(j), 361);
	CHECK_EQ(atomic_load(&drops), JKIDS);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), JKIDS);
}

/* ---- volt_block_on from plain threads */

struct yielder {
	struct volt_future base;
	int i, n;
	atomic_int polls;
	atomic_int drops;
};

static enum volt_poll yielder_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct yielder *y = (struct yielder *)f;

	atomic_fetch_add(&y->polls, 1);
	VOLT_BEGIN(f);
	for (y->i = 0; y->i < y->n; y->i++)
		VOLT_YIELD(f, cx);
	VOLT_RETURN(f, cx, 77);
	VOLT_END(f);
}

static void yielder_drop(struct volt_future *f)
{
	atomic_fetch_add(&((struct yielder *)f)->drops, 1);
}

static const struct volt_future_ops yielder_ops = { yielder_poll, yielder_drop };

/* A future woken by another thread a little later. */
struct remote_wake {
	struct volt_future base;
	pthread_t th;
	bool started;
	atomic_bool fired;
	struct volt_waker waker;
};

static void *remote_waker_main(void *p)
{
	struct remote_wake *r = p;

	vt_sleep_us(2000);
	atomic_store(&r->fired, true);
	volt_waker_wake(&r->waker);
	return NULL;
}

static enum volt_poll remote_wake_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct remote_wake *r = (struct remote_wake *)f;

	if (!r->started) {
		r->started = true;
		r->waker = volt_waker_clone(&cx->waker);
		CHECK_OK(pthread_create(&r->th, NULL, remote_waker_main, r));
		return VOLT_PENDING;
	}
	if (!atomic_load(&r->fired))
		return VOLT_PENDING; /* spurious poll: the thread still holds the waker */
	CHECK_OK(pthread_join(r->th, NULL));
	cx->output = (void *)(intptr_t)99;
	return VOLT_READY;
}

static const struct volt_future_ops remote_wake_ops = { remote_wake_poll, NULL };

static void block_on_checks(struct volt_rt *rt)
{
	struct yielder y = { VOLT_FUTURE_INIT(&yielder_ops), 0, 5, 0, 0 };
	struct remote_wake r;
	void *out = NULL;

	CHECK_OK(volt_block_on(rt, &y.base, &out));
	CHECK_EQ((intptr_t)out, 77);
	CHECK_GE(atomic_load(&y.polls), 6);
	CHECK_EQ(atomic_load(&y.drops), 1);

	memset(&r, 0, sizeof r);
	volt_future_init(&r.base, &remote_wake_ops);
	out = NULL;
	CHECK_OK(volt_block_on(rt, &r.base, &out));
	CHECK_EQ((intptr_t)out, 99);
	CHECK(atomic_load(&r.fired));
}

static void *block_on_thread(void *rt)
{
	block_on_checks(rt);
	return NULL;
}

VOLT_RT_TEST(block_on_plain_thread)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join_future jf;
	atomic_int drops = 0;
	struct value_fut v = value_fut(31, NULL, &drops);
	struct volt_join *j = vt_spawn(rt, &v, sizeof v, false);
	void *out = NULL;
	pthread_t th;

	block_on_checks(rt); /* from the main thread */
	CHECK_OK(pthread_create(&th, NULL, block_on_thread, rt));
	CHECK_OK(pthread_join(th, NULL));

	/* a join handle awaited through block_on */
	CHECK_OK(volt_block_on(rt, volt_join_await(&jf, j), &out));
	CHECK_EQ(jf.result, 0);
	CHECK_EQ((intptr_t)jf.output, 31);

	CHECK_EQ(volt_block_on(rt, NULL, NULL), -EINVAL);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* ---- blocking calls on a worker fail with -EDEADLK */

static struct {
	int join_r, block_r, group_r;
	bool current_ok, index_ok;
	atomic_bool done;
} dl;

struct deadlk {
	struct volt_future base;
	struct volt_group *group;
	atomic_int *inner_drops;
	atomic_int *inner_polls;
};

static enum volt_poll deadlk_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct deadlk *d = (struct deadlk *)f;
	struct value_fut child = value_fut(1, d->inner_polls, d->inner_drops);
	struct value_fut blocked = value_fut(2, d->inner_polls, d->inner_drops);
	struct volt_join *j = NULL;
	void *out = (void *)(intptr_t)-1;

	CHECK_OK(volt_spawn(cx->rt, &child.base, sizeof child, &j));
	dl.join_r = volt_join_wait(j, &out);
	volt_join_detach(j); /* with -EDEADLK the handle is still ours */
	dl.block_r = volt_block_on(cx->rt, &blocked.base, NULL);
	dl.group_r = volt_group_wait(d->group);
	dl.current_ok = volt_rt_current() == cx->rt;
	dl.index_ok = volt_worker_index() >= 0 &&
		      (unsigned)volt_worker_index() < volt_rt_workers(cx->rt);
	atomic_store(&dl.done, true);
	return VOLT_READY;
}

static const struct volt_future_ops deadlk_ops = { deadlk_poll, NULL };

VOLT_RT_TEST(blocking_calls_on_worker_edeadlk)
{
	atomic_int inner_drops = 0, inner_polls = 0;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_group *g = NULL;
	struct deadlk d;

	CHECK_OK(volt_group_new(rt, &g));
	memset(&d, 0, sizeof d);
	volt_future_init(&d.base, &deadlk_ops);
	d.group = g;
	d.inner_drops = &inner_drops;
	d.inner_polls = &inner_polls;
	dl.join_r = dl.block_r = dl.group_r = 12345;
	vt_join(vt_spawn(rt, &d, sizeof d, false));
	CHECK(atomic_load(&dl.done));
	CHECK_EQ(dl.join_r, -EDEADLK);
	CHECK_EQ(dl.block_r, -EDEADLK);
	CHECK_EQ(dl.group_r, -EDEADLK);
	CHECK(dl.current_ok);
	CHECK(dl.index_ok);
	CHECK_OK(volt_group_free(g));
	VT_WAIT_FOR(atomic_load(&inner_drops) >= 1); /* the detached child ran */
	volt_rt_free(rt); /* after this every drop has run */
	/* the spawned child ran and was dropped; the refused block_on future was untouched */
	CHECK_EQ(atomic_load(&inner_polls), 1);
	CHECK_EQ(atomic_load(&inner_drops), 1);
}
