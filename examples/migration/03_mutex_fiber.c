/* SPDX-License-Identifier: MIT */
/*
 * 03_mutex_fiber.c: the threads become fibers and the pthread mutex a
 * volt_mutex. volt_mutex_lock_blocking parks the fiber while another task
 * holds the lock, so its worker runs other tasks meanwhile; the lock is
 * FIFO and may be unlocked from any thread. docs/MIGRATION.md, step 3.
 */
#include <stdio.h>
#include <volt.h>

#define THREADS 4
#define ROUNDS 10000

static struct volt_mutex lock;
static long counter;

static void *bump(struct volt_rt *rt, void *arg)
{
	(void)rt;
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		if (volt_mutex_lock_blocking(&lock) != 0) /* parks the fiber */
			return (void *)1;
		counter++;
		volt_mutex_unlock(&lock);
	}
	return NULL;
}

static int app(struct volt_rt *rt, void *arg)
{
	struct volt_join *t[THREADS];
	int bad = 0;

	(void)arg;
	for (int i = 0; i < THREADS; i++)
		if (volt_spawn_fiber(rt, bump, NULL, 0, &t[i]) != 0)
			return 1;
	for (int i = 0; i < THREADS; i++) {
		void *out;

		if (volt_join_wait(t[i], &out) != 0 || out != NULL)
			bad = 1;
	}
	return bad;
}

int main(void)
{
	int err;

	if (volt_mutex_init(&lock) != 0)
		return 1;
	err = volt_run(app, NULL);
	volt_mutex_destroy(&lock);
	printf("result: counter = %ld\n", counter);
	return err == 0 && counter == (long)THREADS * ROUNDS ? 0 : 1;
}
