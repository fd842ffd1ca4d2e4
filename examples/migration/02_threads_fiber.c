/* SPDX-License-Identifier: MIT */
/*
 * 02_threads_fiber.c: threads whose bodies block become fibers. A fiber
 * runs a plain function on its own small stack, so blocking-style calls
 * (here volt_join_wait on a helper task, and volt_yield for sched_yield)
 * park the fiber and free its worker. The parent is itself a fiber that
 * spawns and joins, as a thread would. docs/MIGRATION.md, step 2.
 */
#include <stdint.h>
#include <stdio.h>
#include <volt.h>

#define N 8

static void *square(void *arg)
{
	intptr_t x = (intptr_t)arg;

	return (void *)(x * x);
}

/* A thread body, unchanged in shape: spawn a helper, wait, yield, return. */
static void *worker(struct volt_rt *rt, void *arg)
{
	struct volt_join *helper;
	void *out = NULL;

	if (volt_spawn_fn(rt, square, arg, &helper) != 0)
		return (void *)(intptr_t)-1;
	if (volt_join_wait(helper, &out) != 0) /* parks this fiber only */
		return (void *)(intptr_t)-1;
	volt_yield(rt);                        /* was sched_yield() */
	return out;
}

static void *parent(struct volt_rt *rt, void *arg)
{
	struct volt_join *t[N];
	long sum = 0;

	(void)arg;
	for (intptr_t i = 0; i < N; i++)
		if (volt_spawn_fiber(rt, worker, (void *)i, 0, &t[i]) != 0)
			return (void *)(intptr_t)-1;
	for (int i = 0; i < N; i++) {
		void *out;

		if (volt_join_wait(t[i], &out) != 0)
			return (void *)(intptr_t)-1;
		sum += (long)(intptr_t)out;
	}
	return (void *)(intptr_t)sum;
}

static int app(struct volt_rt *rt, void *arg)
{
	struct volt_join *p;
	void *out;

	if (volt_spawn_fiber(rt, parent, NULL, 0, &p) != 0 || volt_join_wait(p, &out) != 0)
		return 1;
	*(long *)arg = (long)(intptr_t)out;
	return 0;
}

int main(void)
{
	long sum = 0;

	if (volt_run(app, &sum) != 0)
		return 1;
	printf("result: sum of squares 0..%d = %ld\n", N - 1, sum);
	return sum == 140 ? 0 : 1;
}
