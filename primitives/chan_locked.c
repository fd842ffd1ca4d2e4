/* SPDX-License-Identifier: MIT */
/*
 * primitives/chan_locked.c: the `locked` channel buffer, a ring under a
 * pthread mutex: the baseline the lock-free buffers are measured against.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "primitives/chan_buffer.h"

struct locked {
	pthread_mutex_t lock;
	size_t head, count, cap, elem;
	_Atomic bool closed;
	_Atomic size_t len; /* count, for snapshots without the lock */
	unsigned char *ring;
};

static int locked_init(void **state, size_t elem_size, size_t capacity)
{
	struct locked *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->ring = malloc(capacity * elem_size);
	if (!q->ring || pthread_mutex_init(&q->lock, NULL)) {
		free(q->ring);
		free(q);
		return -ENOMEM;
	}
	q->cap = capacity;
	q->elem = elem_size;
	atomic_init(&q->len, 0);
	atomic_init(&q->closed, false);
	*state = q;
	return 0;
}

static void locked_fini(void *state)
{
	struct locked *q = state;

	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}

static int locked_try_push(void *state, const void *elem)
{
	struct locked *q = state;
	int ret = VOLT_CHAN_OK;

	pthread_mutex_lock(&q->lock);
	if (volt__load(&q->closed, RELAXED)) { /* relaxed: under the lock */
		ret = VOLT_CHAN_CLOSED;
	} else if (q->count == q->cap) {
		ret = VOLT_CHAN_FULL;
	} else {
		memcpy(q->ring + ((q->head + q->count) % q->cap) * q->elem, elem, q->elem);
		q->count++;
		volt__store(&q->len, q->count, RELAXED); /* relaxed: a snapshot; the lock orders */
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int locked_try_pop(void *state, void *out)
{
	struct locked *q = state;
	int ret = VOLT_CHAN_OK;

	pthread_mutex_lock(&q->lock);
	if (q->count) {
		memcpy(out, q->ring + q->head * q->elem, q->elem);
		q->head = (q->head + 1) % q->cap;
		q->count--;
		volt__store(&q->len, q->count, RELAXED); /* relaxed: see push */
	} else {
		ret = volt__load(&q->closed, RELAXED) ? VOLT_CHAN_CLOSED : VOLT_CHAN_EMPTY;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static void locked_close(void *state)
{
	struct locked *q = state;

	pthread_mutex_lock(&q->lock);
	volt__store(&q->closed, true, RELEASE); /* release: is_closed reads it unlocked */
	pthread_mutex_unlock(&q->lock);
}

static bool locked_is_closed(void *state)
{
	struct locked *q = state;

	return volt__load(&q->closed, ACQUIRE);
}

static size_t locked_len(void *state)
{
	struct locked *q = state;

	return volt__load(&q->len, RELAXED); /* relaxed: a snapshot */
}

const struct volt__chan_ops volt__chan_locked = {
	.name = "locked",
	.init = locked_init,
	.fini = locked_fini,
	.try_push = locked_try_push,
	.try_pop = locked_try_pop,
	.close = locked_close,
	.is_closed = locked_is_closed,
	.len = locked_len,
};
