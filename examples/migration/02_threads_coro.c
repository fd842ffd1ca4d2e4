/* SPDX-License-Identifier: MIT */
/*
 * 02_threads_coro.c: the parent of 02_threads_fiber.c as a stackless task.
 * A stackless task may not block (volt_join_wait returns -EDEADLK on a
 * worker), so it awaits each join as a future with the coroutine macros
 * (volt/coro.h); everything that must survive an await lives in its
 * struct. docs/MIGRATION.md, step 2.
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

struct parent {
	struct volt_future base;
	struct volt_join *t[N];
	struct volt_join_future jf;
	int i, spawned;
	long sum;
};

static enum volt_poll parent_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct parent *p = (struct parent *)f;

	VOLT_BEGIN(f);
	for (p->spawned = 0; p->spawned < N; p->spawned++)
		if (volt_spawn_fn(cx->rt, square, (void *)(intptr_t)p->spawned,
				  &p->t[p->spawned]) != 0)
			break;
	for (p->i = 0; p->i < p->spawned; p->i++) {
		VOLT_AWAIT(f, cx, volt_join_await(&p->jf, p->t[p->i]));
		if (p->jf.result == 0)
			p->sum += (long)(intptr_t)p->jf.output;
	}
	VOLT_RETURN(f, cx, p->spawned == N ? p->sum : -1);
	VOLT_END(f);
}

static const struct volt_future_ops parent_ops = { .poll = parent_poll };

static int app(struct volt_rt *rt, void *arg)
{
	struct parent p = { .base = VOLT_FUTURE_INIT(&parent_ops) };
	struct volt_join *j;
	void *out;

	if (volt_spawn(rt, &p.base, sizeof p, &j) != 0 || volt_join_wait(j, &out) != 0)
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
