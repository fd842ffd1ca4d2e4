/* SPDX-License-Identifier: MIT */
/*
 * 06_queues_before.c: a hand-made bounded queue (a ring under a mutex and
 * two condition variables) between two producer threads and a consumer.
 * Producers finish by counting themselves out. docs/MIGRATION.md, step 6.
 */
#include <pthread.h>
#include <stdio.h>

#define PRODUCERS 2
#define ITEMS 1000
#define CAP 64

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	int ring[CAP];
	unsigned head, len, producers;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
	{ 0 }, 0, 0, PRODUCERS };

static void push(int v)
{
	pthread_mutex_lock(&q.lock);
	while (q.len == CAP)
		pthread_cond_wait(&q.not_full, &q.lock);
	q.ring[(q.head + q.len++) % CAP] = v;
	pthread_cond_signal(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
}

/* 1 and *v, or 0 once every producer is done and the ring is empty. */
static int pop(int *v)
{
	pthread_mutex_lock(&q.lock);
	while (q.len == 0 && q.producers > 0)
		pthread_cond_wait(&q.not_empty, &q.lock);
	if (q.len == 0) {
		pthread_mutex_unlock(&q.lock);
		return 0;
	}
	*v = q.ring[q.head];
	q.head = (q.head + 1) % CAP;
	q.len--;
	pthread_cond_signal(&q.not_full);
	pthread_mutex_unlock(&q.lock);
	return 1;
}

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITEMS; i++)
		push(i);
	pthread_mutex_lock(&q.lock);
	q.producers--;
	pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

int main(void)
{
	pthread_t t[PRODUCERS];
	long n = 0, sum = 0;
	int v;

	for (int i = 0; i < PRODUCERS; i++)
		if (pthread_create(&t[i], NULL, producer, NULL) != 0)
			return 1;
	while (pop(&v)) {
		n++;
		sum += v;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	printf("result: received %ld items, sum %ld\n", n, sum);
	return n == PRODUCERS * ITEMS && sum == PRODUCERS * (ITEMS - 1L) * ITEMS / 2 ? 0 : 1;
}
