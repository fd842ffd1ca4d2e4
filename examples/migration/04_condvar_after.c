/* SPDX-License-Identifier: MIT */
/*
 * 04_condvar_after.c: the consumer of 04_condvar_fiber.c as a stackless
 * task: it awaits volt_notify_wait, a future with its waiter embedded in
 * the task, until the flag is set. The producer is a plain function task.
 * docs/MIGRATION.md, step 4.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <volt.h>

static struct volt_notify notify;
static atomic_bool ready;
static long value;

static void *producer(void *arg)
{
	(void)arg;
	value = 42;
	atomic_store_explicit(&ready, true, memory_order_release);
	volt_notify_one(&notify);
	return NULL;
}

struct consumer {
	struct volt_future base;
	struct volt_notified nf;
};

static enum volt_poll consumer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct consumer *c = (struct consumer *)f;

	VOLT_BEGIN(f);
	while (!atomic_load_explicit(&ready, memory_order_acquire))
		VOLT_AWAIT(f, cx, volt_notify_wait(&c->nf, &notify));
	VOLT_RETURN(f, cx, value);
	VOLT_END(f);
}

static const struct volt_future_ops consumer_ops = { .poll = consumer_poll };

static int app(struct volt_rt *rt, void *arg)
{
	struct consumer c = { .base = VOLT_FUTURE_INIT(&consumer_ops) };
	struct volt_join *cj, *pj;
	void *out;

	if (volt_spawn(rt, &c.base, sizeof c, &cj) != 0)
		return 1;
	if (volt_spawn_fn(rt, producer, NULL, &pj) != 0) {
		volt_join_cancel(cj);
		volt_join_wait(cj, NULL);
		return 1;
	}
	if (volt_join_wait(pj, NULL) != 0 || volt_join_wait(cj, &out) != 0)
		return 1;
	*(long *)arg = (long)(intptr_t)out;
	return 0;
}

int main(void)
{
	long got = 0;
	int err;

	if (volt_notify_init(&notify) != 0)
		return 1;
	err = volt_run(app, &got);
	volt_notify_destroy(&notify);
	printf("result: consumer got %ld\n", got);
	return err == 0 && got == 42 ? 0 : 1;
}
