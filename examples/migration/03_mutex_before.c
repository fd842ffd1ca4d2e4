/* SPDX-License-Identifier: MIT */
/*
 * 03_mutex_before.c: threads bump a shared counter under a pthread mutex.
 * docs/MIGRATION.md, step 3.
 */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 10000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);   /* blocks the OS thread */
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, bump, NULL) != 0)
			return 1;
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("result: counter = %ld\n", counter);
	return counter == (long)THREADS * ROUNDS ? 0 : 1;
}
