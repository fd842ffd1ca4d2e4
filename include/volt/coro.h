/* SPDX-License-Identifier: MIT */
/*
 * volt/coro.h: coroutine macros for writing a poll function as sequential
 * code (Duff's device, after Tatham and protothreads).
 *
 *	struct count { struct volt_future base; int i; struct volt_yield y; };
 *
 *	static enum volt_poll count_poll(struct volt_future *f, struct volt_cx *cx)
 *	{
 *		struct count *c = (struct count *)f;
 *
 *		VOLT_BEGIN(f);
 *		for (c->i = 0; c->i < 10; c->i++)
 *			VOLT_AWAIT(f, cx, volt_yield_now(&c->y));
 *		VOLT_RETURN(f, cx, NULL);
 *		VOLT_END(f);
 *	}
 *
 * Rules, all consequences of the function returning at every suspension:
 * - locals do not survive an await: keep live state in the future struct;
 * - at most one VOLT_AWAIT or VOLT_YIELD per source line (__LINE__ names the
 *   resume point);
 * - no `switch` statement of your own may span an await.
 *
 * VOLT_AWAIT polls the child until it is ready, then drops it (its result
 * fields stay readable). While it waits, the child is recorded in
 * f->awaiting, so cancelling the parent drops the child too.
 */
#ifndef VOLT_CORO_H
#define VOLT_CORO_H

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 7 || defined(__clang__)
#define VOLT__FALLTHROUGH __attribute__((fallthrough))
#else
#define VOLT__FALLTHROUGH ((void)0)
#endif

#define VOLT__DONE UINT32_MAX

/* Called by VOLT_AWAIT when the child is ready: forget and drop it. */
static inline void volt__await_finish(struct volt_future *f)
{
	struct volt_future *child = f->awaiting;

	f->awaiting = NULL;
	volt_future_drop(child);
}

#define VOLT_BEGIN(f) switch ((f)->resume) { case 0:

#define VOLT_AWAIT(f, cx, child)                                           \
	do {                                                               \
		(f)->awaiting = (child);                                   \
		(f)->resume = __LINE__;                                    \
		VOLT__FALLTHROUGH;                                         \
	case __LINE__:                                                     \
		if (volt_future_poll((f)->awaiting, (cx)) == VOLT_PENDING) \
			return VOLT_PENDING;                               \
		volt__await_finish(f);                                     \
	} while (0)

/* Reschedules the task behind the others that are ready, once. */
#define VOLT_YIELD(f, cx)                                \
	do {                                             \
		(f)->resume = __LINE__;                  \
		volt_waker_wake_by_ref(&(cx)->waker);    \
		return VOLT_PENDING;                     \
	case __LINE__:;                                  \
	} while (0)

/* Finishes the future with `value` (a pointer or an integer) as the task's output. */
#define VOLT_RETURN(f, cx, value)                  \
	do {                                       \
		(cx)->output = (void *)(intptr_t)(value); \
		(f)->resume = VOLT__DONE;          \
		return VOLT_READY;                 \
	} while (0)

#define VOLT_END(f)                  \
	}                            \
	(f)->resume = VOLT__DONE;    \
	return VOLT_READY

#ifdef __cplusplus
}
#endif

#endif /* VOLT_CORO_H */
