/* SPDX-License-Identifier: MIT */
/*
 * tests/test_shutdown.c: the entry points and shutdown. volt_rt_free drops
 * every future still alive exactly once (pending with or without a waker,
 * waiting on a primitive, busy yielding, never polled), refuses spawns while
 * it does so, joins its threads and leaves no leak (LeakSanitizer checks
 * each test process at exit in the asan build).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

static atomic_int polls, drops;

VOLT_RT_TEST(shutdown_drops_pending)
{
	const int n = 10000;
	struct volt_rt *rt = vt_rt_new(policy, 2);
	atomic_int *slot = calloc((size_t)n, sizeof *slot);
	atomic_int gate_drops = 0;
	struct vt_gate gate;
	int gated = 0;

	CHECK(slot != NULL);
	vt_gate_init(&gate);
	for (int i = 0; i < n; i++) {
		if (i % 3 == 2) {
			struct vt_gate_wait gw;

			vt_gate_wait(&gw, &gate, &gate_drops);
			vt_spawn(rt, &gw, sizeof gw, true);
			gated++;
		} else {
			struct vt_forever f;

			vt_forever_init(&f, i % 3 == 0, &polls, &drops, &slot[i]);
			vt_spawn(rt, &f, sizeof f, true);
		}
	}
	/* let some (not necessarily all) be polled before the shutdown */
	VT_WAIT_FOR(atomic_load(&polls) >= 100);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops) + atomic_load(&gate_drops), n);
	CHECK_EQ(atomic_load(&gate_drops), gated);
	for (int i = 0; i < n; i++)
		if (i % 3 != 2)
			CHECK_EQ(atomic_load(&slot[i]), 1);
	CHECK_EQ(atomic_load(&gate.waiting), 0); /* every waiter unlinked by its drop */
	vt_gate_destroy(&gate);
	free(slot);
}

/* ---- tasks busy yielding when the runtime shuts down */

struct spinner {
	struct volt_future base;
};

static enum volt_poll spinner_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	atomic_fetch_add(&polls, 1);
	volt_waker_wake_by_ref(&cx->waker);
	return VOLT_PENDING;
}

static void spinner_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&drops, 1);
}

static const struct volt_future_ops spinner_ops = { spinner_poll, spinner_drop };

VOLT_RT_TEST(shutdown_busy_tasks)
{
	const int n = 200;
	struct volt_rt *rt = vt_rt_new(policy, 2);

	for (int i = 0; i < n; i++) {
		struct spinner s = { VOLT_FUTURE_INIT(&spinner_ops) };
		struct volt_join *j = vt_spawn(rt, &s, sizeof s, false);

		if (i % 2)
			volt_join_detach(j);
		else
			volt_join_cancel(j), volt_join_detach(j); /* cancelled, then let go */
	}
	VT_WAIT_FOR(atomic_load(&polls) >= 4 * n);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), n);
}

/* ---- spawning while the runtime shuts down is refused */

static struct volt_rt *g_rt;
static atomic_int spawn_results[3];
static atomic_int late_drops;

static void late_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&late_drops, 1);
}

static const struct volt_future_ops late_ops = { spinner_poll, late_drop };

static void *late_fn(void *arg)
{
	return arg;
}

static void spawning_drop(struct volt_future *f)
{
	struct spinner late = { VOLT_FUTURE_INIT(&late_ops) };
	int k = atomic_fetch_add(&drops, 1);

	(void)f;
	if (k < 3) {
		struct volt_join *j = NULL;
		int r = k == 2 ? volt_spawn_fn(g_rt, late_fn, NULL, &j)
			       : volt_spawn(g_rt, &late.base, sizeof late, k == 0 ? NULL : &j);

		atomic_store(&spawn_results[k], r);
		if (r == 0 && j)
			volt_join_detach(j);
	}
}

static const struct volt_future_ops spawning_ops = { NULL, spawning_drop };

static enum volt_poll pending_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	atomic_fetch_add(&polls, 1);
	return VOLT_PENDING;
}

VOLT_RT_TEST(shutdown_refuses_spawns)
{
	static struct volt_future_ops ops;
	struct volt_future f;

	ops = spawning_ops;
	ops.poll = pending_poll;
	volt_future_init(&f, &ops);
	g_rt = vt_rt_new(policy, 2);
	for (int i = 0; i < 3; i++)
		atomic_store(&spawn_results[i], 1);
	for (int i = 0; i < 10; i++)
		vt_spawn(g_rt, &f, sizeof f, true);
	VT_WAIT_FOR(atomic_load(&polls) == 10);
	volt_rt_free(g_rt);
	CHECK_EQ(atomic_load(&drops), 10);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(atomic_load(&spawn_results[i]), -ESHUTDOWN);
	CHECK_EQ(atomic_load(&late_drops), 0); /* refused: nothing was copied */
}

/* ---- entry points */

struct main_arg {
	const char *policy;
	int calls;
};

static int test_main(struct volt_rt *rt, void *p)
{
	struct main_arg *a = p;
	struct spinner s = { VOLT_FUTURE_INIT(&spinner_ops) };
	struct volt_join *j;

	a->calls++;
	CHECK(rt != NULL);
	CHECK_STR_EQ(volt_rt_scheduler(rt), a->policy);
	CHECK(volt_rt_current() == NULL); /* main runs on the calling thread, not a worker */
	CHECK_EQ(volt_worker_index(), -1);
	CHECK_OK(volt_spawn_fn(rt, late_fn, (void *)(intptr_t)41, &j));
	CHECK_EQ((intptr_t)vt_join(j), 41);
	/* left running: the shutdown after main returns drops it */
	vt_spawn(rt, &s, sizeof s, true);
	return 7;
}

VOLT_RT_TEST(run_entry_points)
{
	struct main_arg a = { policy, 0 };
	struct volt_config cfg;
	struct volt_rt *rt = NULL;

	vt_cfg(&cfg, policy, 2);
	CHECK_EQ(volt_run_with(&cfg, test_main, &a), 7);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(atomic_load(&drops), 1);

	/* volt_run: the environment alone picks the policy */
	CHECK_EQ(volt_run(test_main, &a), 7);
	CHECK_EQ(a.calls, 2);
	CHECK_EQ(atomic_load(&drops), 2);

	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_EQ(volt_rt_run(rt, test_main, &a), 7);
	CHECK_EQ(a.calls, 3);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 3);
}

/* ---- repeated start and stop leaves no thread behind */

static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * The thread count, once it is back to `want`: a joined thread can linger in
 * /proc for a moment after pthread_join returns, so allow up to 5 s.
 */
static int settled_thread_count(int want)
{
	int n = thread_count();

	for (int tries = 0; n != want && tries < 5000; tries++) {
		vt_sleep_us(1000);
		n = thread_count();
	}
	return n;
}

static enum volt_poll once_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	atomic_fetch_add(&polls, 1);
	return VOLT_READY;
}

static const struct volt_future_ops once_ops = { once_poll, spinner_drop };

VOLT_RT_TEST(rt_new_free_repeated)
{
	int before;

	/* a first runtime absorbs threads a sanitizer runtime starts lazily */
	volt_rt_free(vt_rt_new(policy, 2));
	before = thread_count();
	if (before < 0)
		VT_SKIP("no /proc/self/task");
	for (int round = 0; round < 20; round++) {
		struct volt_rt *rt = vt_rt_new(policy, 2);
		struct volt_join *j[10];

		for (int i = 0; i < 10; i++) {
			struct volt_future f = VOLT_FUTURE_INIT(&once_ops);

			j[i] = vt_spawn(rt, &f, sizeof f, false);
		}
		for (int i = 0; i < 10; i++)
			vt_join(j[i]);
		volt_rt_free(rt);
		CHECK_EQ(settled_thread_count(before), before); /* workers (and helpers) joined */
	}
	/* and a runtime that never ran a task */
	volt_rt_free(vt_rt_new(policy, 2));
	CHECK_EQ(settled_thread_count(before), before);
	CHECK_EQ(atomic_load(&polls), 200);
	CHECK_EQ(atomic_load(&drops), 200);
}
