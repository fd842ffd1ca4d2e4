/* SPDX-License-Identifier: MIT */
/*
 * 04_condvar_fiber.c: the condition variable becomes a volt_notify, the
 * threads fibers. The flag is an atomic (no mutex is needed around it):
 * notify_one with nobody waiting stores one permit that the next wait
 * consumes at once, so a notify between the consumer's check and its wait
 * is not lost. docs/MIGRATION.md, step 4.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <volt.h>

static struct volt_notify notify;
static atomic_bool ready;
static long value;

static void *producer(struct volt_rt *rt, void *arg)
{
	(void)rt;
	(void)arg;
	value = 42;
	atomic_store_explicit(&ready, true, memory_order_release);
	volt_notify_one(&notify); /* or volt_notify_all: every waiter now in line */
	return NULL;
}

static void *consumer(struct volt_rt *rt, void *arg)
{
	(void)rt;
	(void)arg;
	while (!atomic_load_explicit(&ready, memory_order_acquire))
		if (volt_notify_wait_blocking(&notify) != 0) /* parks the fiber */
			return (void *)(intptr_t)-1;
	return (void *)(intptr_t)value;
}

static int app(struct volt_rt *rt, void *arg)
{
	struct volt_join *c, *p;
	void *out;

	if (volt_spawn_fiber(rt, consumer, NULL, 0, &c) != 0)
		return 1;
	if (volt_spawn_fiber(rt, producer, NULL, 0, &p) != 0) {
		volt_join_cancel(c);
		volt_join_wait(c, NULL);
		return 1;
	}
	if (volt_join_wait(p, NULL) != 0 || volt_join_wait(c, &out) != 0)
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
