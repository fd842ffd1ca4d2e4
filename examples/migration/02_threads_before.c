/* SPDX-License-Identifier: MIT */
/*
 * 02_threads_before.c: one OS thread per piece of work, joined for its
 * result. docs/MIGRATION.md, step 2.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define N 8

static void *square(void *arg)
{
	intptr_t x = (intptr_t)arg;

	return (void *)(x * x);
}

int main(void)
{
	pthread_t t[N];
	long sum = 0;

	for (intptr_t i = 0; i < N; i++)
		if (pthread_create(&t[i], NULL, square, (void *)i) != 0)
			return 1;
	for (int i = 0; i < N; i++) {
		void *out;

		if (pthread_join(t[i], &out) != 0)
			return 1;
		sum += (long)(intptr_t)out;
	}
	printf("result: sum of squares 0..%d = %ld\n", N - 1, sum);
	return sum == 140 ? 0 : 1;
}
