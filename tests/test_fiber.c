/* SPDX-License-Identifier: MIT */
/*
 * tests/test_fiber.c: fibers under every policy: many fibers yielding,
 * migration between workers, joins in both directions between fibers and
 * stackless tasks, the blocking forms, cancellation of parked fibers with
 * exactly-once cleanup, shutdown, groups, bad input, running out of
 * mappings, and the stack-overflow report (in a child process).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* ---- many fibers, each yielding */

#define WAVE VT_SCALE(10000)
#define WAVES 10 /* 100,000 fibers in all; see docs/fibers.md on max_map_count */
#define YIELDS 100

static atomic_long yields_done;

static void *yielder(struct volt_rt *rt, void *arg)
{
	for (int i = 0; i < YIELDS; i++) {
		if (volt_yield(rt) != 0)
			return NULL;
		atomic_fetch_add(&yields_done, 1);
	}
	return (void *)((intptr_t)arg + 1);
}

VOLT_RT_TEST(fiber_many_yielding)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join **j = calloc(WAVE, sizeof(*j));

	CHECK(j != NULL);
	for (int wave = 0; wave < WAVES; wave++) {
		for (intptr_t i = 0; i < WAVE; i++)
			CHECK_OK(volt_spawn_fiber(rt, yielder, (void *)i, 0, &j[i]));
		for (intptr_t i = 0; i < WAVE; i++)
			CHECK_PTR_EQ(vt_join(j[i]), (void *)(i + 1));
	}
	CHECK_EQ(atomic_load(&yields_done), (long)WAVES * WAVE * YIELDS);
	free(j);
	volt_rt_free(rt);
}

/* ---- migration: a fiber resumes on another worker */

static atomic_int moves;

static void *wanderer(struct volt_rt *rt, void *arg)
{
	(void)arg;
	int w = volt_worker_index();

	for (int i = 0; i < 2000 && !atomic_load(&moves); i++) {
		CHECK_OK(volt_yield(rt));
		int now = volt_worker_index();

		CHECK_GE(now, 0);
		if (now != w)
			atomic_fetch_add(&moves, 1);
		w = now;
	}
	return NULL;
}

VOLT_RT_TEST(fiber_migrates_between_workers)
{
	if (vt_is_sim(policy))
		VT_SKIP("sim runs one worker");
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join *j[64];

	for (int i = 0; i < 64; i++)
		CHECK_OK(volt_spawn_fiber(rt, wanderer, NULL, 0, &j[i]));
	for (int i = 0; i < 64; i++)
		vt_join(j[i]);
	CHECK_GT(atomic_load(&moves), 0);
	volt_rt_free(rt);
}

/* ---- joins both ways, and the blocking forms in a fiber */

static void *times_three(void *arg)
{
	return (void *)((intptr_t)arg * 3);
}

static void *fiber_joins_stackless(struct volt_rt *rt, void *arg)
{
	struct volt_join *j;
	void *out = NULL;
	struct volt_group *g;

	(void)arg;
	CHECK(volt_in_fiber());
	CHECK_OK(volt_spawn_fn(rt, times_three, (void *)(intptr_t)14, &j));
	CHECK_OK(volt_join_wait(j, &out)); /* parks the fiber, not the worker */
	CHECK_GE(volt_worker_index(), 0);
	CHECK_OK(volt_group_new(rt, &g));
	for (int i = 0; i < 10; i++)
		CHECK_OK(volt_group_spawn_fn(g, times_three, NULL));
	CHECK_OK(volt_group_wait(g));
	CHECK_OK(volt_group_free(g));
	return out;
}

struct awaits_fiber {
	struct volt_future base;
	struct volt_join_future jf;
	struct volt_join *j;
};

static void *fiber_value(struct volt_rt *rt, void *arg)
{
	CHECK_OK(volt_yield(rt));
	return arg;
}

static enum volt_poll awaits_fiber_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct awaits_fiber *a = (struct awaits_fiber *)f;

	VOLT_BEGIN(f);
	CHECK(!volt_in_fiber());
	CHECK_EQ(volt_yield(cx->rt), -EDEADLK); /* a stackless task must not block */
	CHECK_OK(volt_spawn_fiber(cx->rt, fiber_value, (void *)(intptr_t)77, 0, &a->j));
	VOLT_AWAIT(f, cx, volt_join_await(&a->jf, a->j));
	CHECK_OK(a->jf.result);
	VOLT_RETURN(f, cx, a->jf.output);
	VOLT_END(f);
}

static const struct volt_future_ops awaits_fiber_ops = { .poll = awaits_fiber_poll };

VOLT_RT_TEST(fiber_and_stackless_join_each_other)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join *j;
	struct awaits_fiber a = { .base = VOLT_FUTURE_INIT(&awaits_fiber_ops) };

	CHECK_OK(volt_spawn_fiber(rt, fiber_joins_stackless, NULL, 0, &j));
	CHECK_PTR_EQ(vt_join(j), (void *)(intptr_t)42);
	j = vt_spawn(rt, &a, sizeof a, false);
	CHECK_PTR_EQ(vt_join(j), (void *)(intptr_t)77);
	CHECK(!volt_in_fiber());
	CHECK_OK(volt_yield(rt)); /* a plain thread just yields the CPU */
	volt_rt_free(rt);
}

/* ---- cancellation of parked fibers: the call returns -ECANCELED, cleanup once */

static struct vt_gate never;
static atomic_int parked, cleaned, cancelled_calls, after_calls;

static void *parks_forever(struct volt_rt *rt, void *arg)
{
	struct vt_gate_wait w;
	int *buf = malloc(64); /* freed by the cleanup below: LSan checks it ran */

	(void)arg;
	atomic_fetch_add(&parked, 1);
	if (volt_block_on(rt, vt_gate_wait(&w, &never, NULL), NULL) == -ECANCELED)
		atomic_fetch_add(&cancelled_calls, 1);
	if (volt_yield(rt) == -ECANCELED) /* every later blocking call refuses too */
		atomic_fetch_add(&after_calls, 1);
	free(buf);
	atomic_fetch_add(&cleaned, 1);
	return NULL;
}

VOLT_RT_TEST(fiber_cancel_parked_cleans_up_once)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join *j[8];
	struct volt_group *g;
	void *out;

	vt_gate_init(&never);
	for (int i = 0; i < 8; i++)
		CHECK_OK(volt_spawn_fiber(rt, parks_forever, NULL, 0, &j[i]));
	CHECK_OK(volt_group_new(rt, &g));
	for (int i = 0; i < 4; i++)
		CHECK_OK(volt_group_spawn_fiber(g, parks_forever, NULL, 0));
	VT_WAIT_FOR(atomic_load(&parked) == 12 && atomic_load(&never.waiting) == 12);
	for (int i = 0; i < 8; i++) {
		volt_join_cancel(j[i]);
		volt_join_cancel(j[i]); /* twice: no effect */
		CHECK_EQ(volt_join_wait(j[i], &out), -ECANCELED);
	}
	volt_group_cancel(g);
	CHECK_OK(volt_group_wait(g));
	CHECK_OK(volt_group_free(g));
	CHECK_EQ(atomic_load(&cleaned), 12);
	CHECK_EQ(atomic_load(&cancelled_calls), 12);
	CHECK_EQ(atomic_load(&after_calls), 12);
	volt_rt_free(rt);
	vt_gate_destroy(&never);
}

/* ---- a fiber cancelled before it ran never runs */

static atomic_int ran;

static void *counts_runs(struct volt_rt *rt, void *arg)
{
	(void)rt;
	(void)arg;
	atomic_fetch_add(&ran, 1);
	return NULL;
}

static atomic_bool hold, holding;

static void *holds_worker(void *arg)
{
	(void)arg;
	atomic_store(&holding, true);
	while (atomic_load(&hold))
		;
	return NULL;
}

VOLT_RT_TEST(fiber_cancel_before_first_run)
{
	struct volt_config cfg;
	struct volt_rt *rt;
	struct volt_join *blocker, *j;

	vt_cfg(&cfg, policy, 1);
	CHECK_OK(volt_rt_new(&cfg, &rt));
	atomic_store(&hold, true);
	CHECK_OK(volt_spawn_fn(rt, holds_worker, NULL, &blocker));
	/* the one worker is held before the fiber is queued: under `sim` (a random
	 * pick among runnable tasks) it could otherwise run the fiber first */
	VT_WAIT_FOR(atomic_load(&holding));
	CHECK_OK(volt_spawn_fiber(rt, counts_runs, NULL, 0, &j));
	volt_join_cancel(j);
	atomic_store(&hold, false);
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	vt_join(blocker);
	CHECK_EQ(atomic_load(&ran), 0);
	volt_rt_free(rt);
}

/* ---- shutdown unwinds parked fibers */

VOLT_RT_TEST(fiber_shutdown_unwinds_parked)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);

	vt_gate_init(&never);
	for (int i = 0; i < 100; i++)
		CHECK_OK(volt_spawn_fiber(rt, parks_forever, NULL, 0, NULL));
	VT_WAIT_FOR(atomic_load(&never.waiting) == 100);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&cleaned), 100);
	CHECK_EQ(atomic_load(&cancelled_calls), 100);
	vt_gate_destroy(&never);
}

/* ---- bad input and running out of memory */

#if !(defined(VOLT_SANITIZE) && VOLT_SANITIZE)
/* The address space the process uses now (VmSize), in bytes. */
static rlim_t vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kb = 0;

	CHECK(f != NULL);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
			break;
	fclose(f);
	CHECK_GT(kb, 0);
	return (rlim_t)kb * 1024;
}
#endif

VOLT_RT_TEST(fiber_invalid_and_enomem)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_join *j = NULL;

	CHECK_EQ(volt_spawn_fiber(rt, NULL, NULL, 0, &j), -EINVAL);
	CHECK_EQ(volt_spawn_fiber(NULL, counts_runs, NULL, 0, &j), -EINVAL);
	CHECK_EQ(volt_spawn_fiber(rt, counts_runs, NULL, VOLT_FIBER_STACK_MIN - 1, &j), -EINVAL);
	CHECK_EQ(volt_spawn_fiber(rt, counts_runs, NULL, VOLT_FIBER_STACK_MAX + 1, &j), -EINVAL);
	CHECK_EQ(volt_group_spawn_fiber(NULL, counts_runs, NULL, 0), -EINVAL);
	CHECK(j == NULL);
#if !(defined(VOLT_SANITIZE) && VOLT_SANITIZE) /* sanitizers reserve huge mappings */
	struct rlimit old, lim;

	CHECK_OK(getrlimit(RLIMIT_AS, &old));
	lim = old;
	/* room for 16 MiB more: a 64 MiB stack cannot map */
	lim.rlim_cur = vm_size() + (16u << 20);
	CHECK_OK(setrlimit(RLIMIT_AS, &lim));
	CHECK_EQ(volt_spawn_fiber(rt, counts_runs, NULL, VOLT_FIBER_STACK_MAX, &j), -ENOMEM);
	CHECK_OK(setrlimit(RLIMIT_AS, &old));
#endif
	CHECK_OK(volt_spawn_fiber(rt, counts_runs, NULL, VOLT_FIBER_STACK_MIN, &j));
	vt_join(j);
	volt_rt_free(rt);
}

/* ---- stack overflow: a clear message, in a child */

static volatile int depth_limit = 1 << 30; /* volatile: the compiler cannot see the end */

static int recurse(int n)
{
	volatile char frame[512];

	frame[0] = (char)n;
	if (n >= depth_limit)
		return frame[0];
	return recurse(n + 1) + frame[0];
}

static void *overflows(struct volt_rt *rt, void *arg)
{
	(void)rt;
	(void)arg;
	return (void *)(intptr_t)recurse(0);
}

static int overflow_child(struct volt_rt *rt, void *arg)
{
	struct volt_join *j;

	(void)arg;
	if (volt_spawn_fiber(rt, overflows, NULL, 16384, &j))
		return 3;
	volt_join_wait(j, NULL);
	return 4; /* not reached: the overflow ends the process */
}

VOLT_TEST(fiber_stack_overflow_reported)
{
#if defined(VOLT_SANITIZE) && VOLT_SANITIZE
	VT_SKIP("the sanitizers report stack overflows themselves");
#endif
	int fds[2];
	char out[1024] = { 0 };
	int status;

	CHECK_OK(pipe(fds));
	pid_t pid = fork();

	CHECK_GE(pid, 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		_exit(volt_run(overflow_child, NULL));
	}
	close(fds[1]);
	for (size_t got = 0, n; got < sizeof out - 1 &&
	     (n = (size_t)read(fds[0], out + got, sizeof out - 1 - got)) > 0 && n != (size_t)-1;)
		got += n;
	close(fds[0]);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
	CHECK_MSG(strstr(out, "fiber stack overflow") != NULL, "stderr: %s", out);
	CHECK_MSG(strstr(out, "16384-byte stack") != NULL, "stderr: %s", out);
}
