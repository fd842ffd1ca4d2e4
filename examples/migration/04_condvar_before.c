/* SPDX-License-Identifier: MIT */
/*
 * 04_condvar_before.c: a consumer waits on a condition variable until a
 * producer has set a flag. docs/MIGRATION.md, step 4.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool ready;
static long value;

static void *producer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	value = 42;
	ready = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *consumer(void *arg)
{
	long *got = arg;

	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&cond, &lock);
	*got = value;
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(void)
{
	pthread_t c, p;
	long got = 0;

	if (pthread_create(&c, NULL, consumer, &got) != 0 ||
	    pthread_create(&p, NULL, producer, NULL) != 0)
		return 1;
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	printf("result: consumer got %ld\n", got);
	return got == 42 ? 0 : 1;
}
