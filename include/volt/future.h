/* SPDX-License-Identifier: MIT */
/*
 * volt/future.h: futures, wakers and the poll context.
 *
 * A future is a struct whose first member is `struct volt_future`. Its ops
 * table has `poll`, which returns VOLT_READY when the work is done or
 * VOLT_PENDING after arranging for cx->waker to be woken, and `drop`, which
 * releases what the future holds. The runtime calls `drop` exactly once per
 * future: right after the poll that returned VOLT_READY, or when the future
 * is cancelled or the runtime shuts down. A future is never polled again
 * after it returned VOLT_READY.
 *
 * Composition: a future awaiting a child records it in `awaiting`;
 * volt_future_drop() drops that child first, so dropping a parent releases
 * the whole chain once. The coroutine macros in volt/coro.h keep `awaiting`
 * and `resume` for you.
 */
#ifndef VOLT_FUTURE_H
#define VOLT_FUTURE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum volt_poll {
	VOLT_PENDING = 0,
	VOLT_READY = 1,
};

struct volt_future;
struct volt_cx;

struct volt_future_ops {
	enum volt_poll (*poll)(struct volt_future *f, struct volt_cx *cx);
	void (*drop)(struct volt_future *f); /* may be NULL */
};

struct volt_future {
	const struct volt_future_ops *ops;
	struct volt_future *awaiting; /* child being awaited, dropped with us */
	uint32_t resume;              /* coroutine resume point, 0 = start */
	uint32_t reserved;
};

#define VOLT_FUTURE_INIT(ops_) { .ops = (ops_), .awaiting = NULL, .resume = 0, .reserved = 0 }

static inline void volt_future_init(struct volt_future *f,
				    const struct volt_future_ops *ops)
{
	f->ops = ops;
	f->awaiting = NULL;
	f->resume = 0;
	f->reserved = 0;
}

/*
 * Wakers. A waker names something to reschedule (a task, a parked thread).
 * wake consumes the waker; wake_by_ref does not; clone returns a new
 * reference that must be dropped or consumed by wake.
 */
struct volt_waker_ops {
	void (*wake)(void *data);
	void (*wake_by_ref)(void *data);
	void *(*clone)(void *data);
	void (*drop)(void *data);
};

struct volt_waker {
	const struct volt_waker_ops *ops;
	void *data;
};

static inline void volt_waker_wake(struct volt_waker *w)
{
	const struct volt_waker_ops *ops = w->ops;

	w->ops = NULL;
	ops->wake(w->data);
}

static inline void volt_waker_wake_by_ref(const struct volt_waker *w)
{
	w->ops->wake_by_ref(w->data);
}

static inline struct volt_waker volt_waker_clone(const struct volt_waker *w)
{
	struct volt_waker c = { w->ops, w->ops->clone(w->data) };
	return c;
}

/* Drops the reference; a waker whose ops is NULL is empty and ignored. */
static inline void volt_waker_drop(struct volt_waker *w)
{
	if (w->ops) {
		w->ops->drop(w->data);
		w->ops = NULL;
	}
}

static inline bool volt_waker_will_wake(const struct volt_waker *a,
					const struct volt_waker *b)
{
	return a->ops == b->ops && a->data == b->data;
}

/*
 * The poll context. `waker` wakes the task being polled (borrowed: clone it
 * to keep it past the poll). `rt` is the runtime doing the polling. A root
 * future publishes its result through `output` (VOLT_RETURN does this).
 */
struct volt_cx {
	struct volt_waker waker;
	struct volt_rt *rt;
	void *output;
	void *worker; /* internal: the polling worker, NULL on a plain thread */
	uint64_t wake_at; /* internal: with no runtime (rt NULL), the time a timer
			   * future asks volt_block_on to poll again (volt/time.h) */
};

/* Polls f once. Never call it again after it returned VOLT_READY. */
static inline enum volt_poll volt_future_poll(struct volt_future *f, struct volt_cx *cx)
{
	return f->ops->poll(f, cx);
}

/* Drops the awaited child chain, then f itself. Idempotent per future. */
VOLT_API void volt_future_drop(struct volt_future *f);

/*
 * Cooperative budget. Every operation that could keep a task busy forever
 * (a channel that is always ready, a lock that is always free) takes one unit
 * per call; when this returns false the operation must wake cx->waker by
 * reference and return VOLT_PENDING, so the task yields. The budget is
 * refilled (config.budget, default 128) when the worker picks a new task.
 * Returns true always on a plain thread.
 */
VOLT_API bool volt_budget_take(struct volt_cx *cx);

/* A future that returns VOLT_PENDING once (rescheduling itself), then READY. */
struct volt_yield {
	struct volt_future base;
	bool yielded;
};

VOLT_API struct volt_future *volt_yield_now(struct volt_yield *y);

/*
 * Intrusive waiter: a node that a waiting future embeds and links into a
 * primitive's wait list, so a wait allocates nothing. Owned by the
 * primitive's lock while linked.
 */
struct volt_waiter {
	struct volt_waiter *prev, *next;
	struct volt_waker waker;
	uint32_t state; /* primitive-defined; 0 = idle */
	uint32_t linked;
};

/* A primitive's FIFO line of waiters (internal: core/waitlist.h). */
struct volt_waitlist {
	struct volt_waiter *head, *tail;
};

#ifdef __cplusplus
}
#endif

#endif /* VOLT_FUTURE_H */
