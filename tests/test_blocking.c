/* SPDX-License-Identifier: MIT */
/*
 * tests/test_blocking.c: the blocking pool under every policy: waiting from
 * a plain thread, a fiber and a stackless task; the thread cap under a storm
 * of jobs; idle threads reclaimed; shutdown with queued jobs (each one ran
 * or reports -ECANCELED); bad input.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/rt.h"
#include "helpers.h"

static void *triple(void *arg)
{
	return (void *)((intptr_t)arg * 3);
}

/* ---- the three ways to wait */

static void *fiber_waits(struct volt_rt *rt, void *arg)
{
	struct volt_blocking *h;
	void *out = NULL;

	CHECK_OK(volt_concurrent(rt, triple, arg, &h));
	CHECK_OK(volt_blocking_wait(h, &out)); /* parks the fiber */
	return out;
}

struct awaits_job {
	struct volt_future base;
	struct volt_blocking *h;
	struct volt_blocking_future bf;
};

static enum volt_poll awaits_job_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct awaits_job *a = (struct awaits_job *)f;

	VOLT_BEGIN(f);
	CHECK_OK(volt_concurrent(cx->rt, triple, (void *)(intptr_t)5, &a->h));
	CHECK_EQ(volt_blocking_wait(a->h, NULL), -EDEADLK); /* a stackless task must await */
	VOLT_AWAIT(f, cx, volt_blocking_await(&a->bf, a->h));
	CHECK_OK(a->bf.result);
	VOLT_RETURN(f, cx, a->bf.output);
	VOLT_END(f);
}

static const struct volt_future_ops awaits_job_ops = { .poll = awaits_job_poll };

VOLT_RT_TEST(blocking_wait_thread_fiber_task)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_blocking *h;
	struct volt_join *j;
	struct awaits_job a = { .base = VOLT_FUTURE_INIT(&awaits_job_ops) };
	void *out = NULL;

	CHECK_OK(volt_concurrent(rt, triple, (void *)(intptr_t)7, &h));
	CHECK_OK(volt_blocking_wait(h, &out));
	CHECK_PTR_EQ(out, (void *)(intptr_t)21);
	CHECK_OK(volt_spawn_fiber(rt, fiber_waits, (void *)(intptr_t)11, 0, &j));
	CHECK_PTR_EQ(vt_join(j), (void *)(intptr_t)33);
	j = vt_spawn(rt, &a, sizeof a, false);
	CHECK_PTR_EQ(vt_join(j), (void *)(intptr_t)15);
	CHECK_OK(volt_concurrent(rt, triple, NULL, NULL)); /* nobody waits */
	volt_rt_free(rt);
}

/* ---- the cap holds under a storm */

#define STORM VT_SCALE(2000)
#define CAP 8

static atomic_int running, most, ran;

static void *busy_job(void *arg)
{
	int now = atomic_fetch_add(&running, 1) + 1;

	for (int seen = atomic_load(&most); now > seen;)
		if (atomic_compare_exchange_weak(&most, &seen, now))
			break;
	vt_sleep_us(100);
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&ran, 1);
	return arg;
}

VOLT_RT_TEST(blocking_cap_holds_under_a_storm)
{
	struct volt_config cfg;
	struct volt_rt *rt;
	struct volt_blocking **h = calloc(STORM, sizeof(*h));

	CHECK(h != NULL);
	vt_cfg(&cfg, policy, 2);
	cfg.max_blocking_threads = CAP;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	for (intptr_t i = 0; i < STORM; i++)
		CHECK_OK(volt_concurrent(rt, busy_job, (void *)i, &h[i]));
	CHECK_LE(volt_blocking_threads(rt), CAP);
	for (intptr_t i = 0; i < STORM; i++) {
		void *out;

		CHECK_OK(volt_blocking_wait(h[i], &out));
		CHECK_PTR_EQ(out, (void *)i);
	}
	CHECK_EQ(atomic_load(&ran), STORM);
	CHECK_LE(atomic_load(&most), CAP);
	CHECK_GE(atomic_load(&most), 2); /* the pool did run jobs side by side */
	CHECK_LE(rt->blocking.peak, CAP);
	free(h);
	volt_rt_free(rt);
}

/* ---- idle threads leave after the keep-alive */

VOLT_RT_TEST(blocking_idle_threads_reclaimed)
{
	struct volt_config cfg;
	struct volt_rt *rt;
	struct volt_blocking *h[4];

	vt_cfg(&cfg, policy, 1);
	cfg.blocking_keep_alive_ns = 20ull * 1000 * 1000; /* 20 ms */
	CHECK_OK(volt_rt_new(&cfg, &rt));
	for (int i = 0; i < 4; i++)
		CHECK_OK(volt_concurrent(rt, busy_job, NULL, &h[i]));
	CHECK_GT(volt_blocking_threads(rt), 0);
	for (int i = 0; i < 4; i++)
		CHECK_OK(volt_blocking_wait(h[i], NULL));
	VT_WAIT_FOR(volt_blocking_threads(rt) == 0); /* the runner's timeout bounds it */
	/* the pool starts threads again on demand */
	CHECK_OK(volt_concurrent(rt, busy_job, NULL, &h[0]));
	CHECK_OK(volt_blocking_wait(h[0], NULL));
	volt_rt_free(rt);
}

/* ---- shutdown: running jobs finish, queued ones are cancelled */

static atomic_bool gate_open;
static atomic_int started;

static void *waits_for_gate(void *arg)
{
	atomic_fetch_add(&started, 1);
	while (!atomic_load(&gate_open))
		vt_sleep_us(200);
	return arg;
}

static void *opens_gate_later(void *arg)
{
	(void)arg;
	vt_sleep_us(20000);
	atomic_store(&gate_open, true);
	return NULL;
}

VOLT_RT_TEST(blocking_shutdown_cancels_queued)
{
	struct volt_config cfg;
	struct volt_rt *rt;
	struct volt_blocking *first, *queued[50];
	pthread_t opener;
	void *out;

	vt_cfg(&cfg, policy, 2);
	cfg.max_blocking_threads = 1;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_OK(volt_concurrent(rt, waits_for_gate, (void *)(intptr_t)99, &first));
	for (int i = 0; i < 50; i++)
		CHECK_OK(volt_concurrent(rt, busy_job, NULL, &queued[i]));
	VT_WAIT_FOR(atomic_load(&started) == 1);
	CHECK_OK(pthread_create(&opener, NULL, opens_gate_later, NULL));
	volt__blocking_shutdown(&rt->blocking); /* what volt_rt_free does first */
	pthread_join(opener, NULL);
	CHECK_EQ(volt_concurrent(rt, busy_job, NULL, NULL), -ESHUTDOWN);
	CHECK_OK(volt_blocking_wait(first, &out)); /* it was running: it finished */
	CHECK_PTR_EQ(out, (void *)(intptr_t)99);
	for (int i = 0; i < 50; i++)
		CHECK_EQ(volt_blocking_wait(queued[i], NULL), -ECANCELED);
	CHECK_EQ(atomic_load(&ran), 0);
	CHECK_EQ(volt_blocking_threads(rt), 0);
	volt_rt_free(rt);
}

VOLT_TEST(blocking_invalid_args)
{
	struct volt_rt *rt = vt_rt_new(NULL, 1);
	struct volt_blocking *h = NULL;

	CHECK_EQ(volt_concurrent(NULL, triple, NULL, &h), -EINVAL);
	CHECK_EQ(volt_concurrent(rt, NULL, NULL, &h), -EINVAL);
	CHECK(h == NULL);
	CHECK_EQ(volt_blocking_wait(NULL, NULL), -EINVAL);
	volt_blocking_detach(NULL);
	volt_rt_free(rt);
}
