/* SPDX-License-Identifier: MIT */
/*
 * 02_threads_after.c: threads become tasks. volt_spawn_fn runs a plain
 * function once as a task (a stackless task: it must run to its end
 * without blocking); volt_join_wait is pthread_join. The function keeps
 * pthread's signature, void *(*)(void *). docs/MIGRATION.md, step 2.
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

static int app(struct volt_rt *rt, void *arg)
{
	struct volt_join *t[N];
	long *sum = arg;

	for (intptr_t i = 0; i < N; i++)
		if (volt_spawn_fn(rt, square, (void *)i, &t[i]) != 0)
			return 1;
	for (int i = 0; i < N; i++) {
		void *out;

		if (volt_join_wait(t[i], &out) != 0)
			return 1;
		*sum += (long)(intptr_t)out;
	}
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
