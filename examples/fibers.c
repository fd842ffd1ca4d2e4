/*
 * fibers.c: thread-style code on fibers. Each fiber is a plain function that
 * spawns a helper task, waits for it and yields, as a thread would call,
 * join and sched_yield; while it waits, its worker runs other fibers.
 *
 *	build/examples/fibers [count]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <volt.h>

static void *square(void *arg)
{
	intptr_t x = (intptr_t)arg;

	return (void *)(x * x);
}

static void *worker(struct volt_rt *rt, void *arg)
{
	struct volt_join *helper;
	void *out = NULL;

	if (volt_spawn_fn(rt, square, arg, &helper) != 0)
		return NULL;
	volt_join_wait(helper, &out); /* parks this fiber, not the worker */
	volt_yield(rt);               /* lets the other fibers run */
	return out;
}

static int app(struct volt_rt *rt, void *arg)
{
	int n = *(int *)arg;
	struct volt_join **j = calloc((size_t)n, sizeof(*j));
	long sum = 0;

	if (!j)
		return 1;
	for (int i = 0; i < n; i++)
		if (volt_spawn_fiber(rt, worker, (void *)(intptr_t)i, 0, &j[i]) != 0)
			return 1;
	for (int i = 0; i < n; i++) {
		void *out;

		if (volt_join_wait(j[i], &out) != 0)
			return 1;
		sum += (long)(intptr_t)out;
	}
	printf("%d fibers, sum of squares %ld (policy %s, %u workers)\n", n, sum,
	       volt_rt_scheduler(rt), volt_rt_workers(rt));
	free(j);
	return sum == (long)(n - 1) * n * (2L * n - 1) / 6 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;

	if (n < 1 || n > 30000) {
		fprintf(stderr, "usage: %s [count 1..30000]\n", argv[0]);
		return 2;
	}
	return volt_run(app, &n) == 0 ? 0 : 1;
}
