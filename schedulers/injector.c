/* SPDX-License-Identifier: MIT */
/* schedulers/injector.c: the locked task FIFO (see injector.h). */
#include <errno.h>

#include "core/task.h"
#include "schedulers/injector.h"

int volt__injector_init(struct volt__injector *q)
{
	q->head = q->tail = NULL;
	atomic_init(&q->len, 0);
	return pthread_mutex_init(&q->lock, NULL) ? -ENOMEM : 0;
}

void volt__injector_fini(struct volt__injector *q)
{
	pthread_mutex_destroy(&q->lock);
}

static void len_add(struct volt__injector *q, size_t n, int sign)
{
	size_t len = atomic_load_explicit(&q->len, RELAXED);

	/* relaxed: ordered by the lock for lockers; a hint for everyone else */
	volt__store(&q->len, sign > 0 ? len + n : len - n, RELAXED);
}

void volt__injector_push(struct volt__injector *q, struct volt__task *first,
			 struct volt__task *last, size_t n)
{
	last->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = first;
	else
		q->head = first;
	q->tail = last;
	len_add(q, n, +1);
	pthread_mutex_unlock(&q->lock);
}

struct volt__task *volt__injector_pop(struct volt__injector *q, size_t max, size_t *taken)
{
	struct volt__task *first, *last;
	size_t n = 0;

	*taken = 0;
	if (!volt__injector_len(q)) /* a miss is caught by the idle protocol */
		return NULL;
	pthread_mutex_lock(&q->lock);
	first = last = q->head;
	if (first) {
		for (n = 1; n < max && last->next; n++)
			last = last->next;
		q->head = last->next;
		if (!q->head)
			q->tail = NULL;
		last->next = NULL;
		len_add(q, n, -1);
	}
	pthread_mutex_unlock(&q->lock);
	*taken = n;
	return first;
}
