/* SPDX-License-Identifier: MIT */
/*
 * core/block_on.c: running a future to completion on a plain thread.
 *
 * The thread parks on a futex token between polls; its waker unparks it.
 * The parker is per thread and reference counted: a waker may be woken after
 * the thread moved on (a primitive wakes outside its lock), even after the
 * thread exited, so the parker lives until its last waker is dropped.
 * This is the one blocking mechanism; volt_join_wait and volt_group_wait are
 * volt_block_on of their futures. In a fiber it parks the fiber instead
 * (core/fiber.c). In a stackless task on a worker it refuses with -EDEADLK:
 * a worker that blocks stalls every task queued behind it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/futex.h"
#include "core/fiber.h"
#include "core/rt.h"

struct thread_parker {
	_Atomic uint32_t word;
	_Atomic uint32_t refs;
};

static pthread_key_t parker_key;
static pthread_once_t parker_once = PTHREAD_ONCE_INIT;
static _Thread_local struct thread_parker *tl_parker;

static void parker_unref(void *data)
{
	struct thread_parker *p = data;

	if (volt__fetch_sub(&p->refs, 1, ACQ_REL) == 1)
		free(p);
}

static void parker_key_make(void)
{
	(void)pthread_key_create(&parker_key, parker_unref);
}

static struct thread_parker *parker_self(void)
{
	struct thread_parker *p = tl_parker;

	if (p)
		return p;
	p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	atomic_init(&p->word, 0);
	atomic_init(&p->refs, 1);
	pthread_once(&parker_once, parker_key_make);
	if (pthread_setspecific(parker_key, p)) {
		free(p);
		return NULL;
	}
	tl_parker = p;
	return p;
}

static void parker_wake_by_ref(void *data)
{
	struct thread_parker *p = data;

	volt__unpark(&p->word);
}

static void parker_wake(void *data)
{
	parker_wake_by_ref(data);
	parker_unref(data);
}

static void *parker_clone(void *data)
{
	struct thread_parker *p = data;

	/* relaxed: a new reference is made from an existing one */
	volt__fetch_add(&p->refs, 1, RELAXED);
	return p;
}

static const struct volt_waker_ops parker_waker_ops = {
	.wake = parker_wake,
	.wake_by_ref = parker_wake_by_ref,
	.clone = parker_clone,
	.drop = parker_unref,
};

int volt_block_on(struct volt_rt *rt, struct volt_future *f, void **output)
{
	struct thread_parker *p;

	if (!f || !f->ops || !f->ops->poll)
		return -EINVAL;
	if (volt__fiber_active())
		return volt__fiber_block_on(f, output);
	if (volt__worker_self())
		return -EDEADLK;
	p = parker_self();
	if (!p)
		return -ENOMEM;

	struct volt_cx cx = {
		.waker = { &parker_waker_ops, p },
		.rt = rt,
		.output = NULL,
		.worker = NULL,
		.wake_at = UINT64_MAX,
	};

	/* with no runtime, a timer future asks for its wake-up through wake_at */
	while (volt_future_poll(f, &cx) == VOLT_PENDING) {
		(void)volt__park_until(&p->word, cx.wake_at);
		cx.wake_at = UINT64_MAX;
	}
	volt_future_drop(f);
	if (output)
		*output = cx.output;
	return 0;
}
