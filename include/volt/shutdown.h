/* SPDX-License-Identifier: MIT */
/*
 * volt/shutdown.h: a shutdown token, and the in-flight accounting of a
 * graceful shutdown.
 *
 * The token is one-shot: volt_shutdown_trigger() sets it, for good, and
 * wakes every task waiting on it (any number of waiters; a wait that
 * starts after the trigger completes at once). It also tracks work: a
 * server spawns each connection's task with volt_shutdown_spawn(), into a
 * group the token owns (volt/group.h). Then, on the signal:
 *
 *	trigger (or let volt_shutdown_on_signals do it), stop accepting
 *	(close the listener), drain(grace):
 *	    wait until every tracked task has finished, or grace has passed;
 *	    cancel what is left (the group is cancelled: each task's future
 *	    is dropped exactly once, volt/task.h), wait for those drops;
 *	    report { in_flight, finished, cancelled }.
 *
 * Accounting. `in_flight` is the number of tracked tasks alive at the
 * trigger; after the trigger volt_shutdown_spawn refuses new work
 * (-ECANCELED: the caller still owns its future), so every one of them
 * either finishes (its future returned VOLT_READY) or is cancelled (its
 * future was dropped before that), and after a drain
 * finished + cancelled == in_flight exactly.
 *
 * Forms: futures for tasks (volt_shutdown_wait, volt_shutdown_drain), and
 * blocking forms for a fiber or a plain thread (the server's main);
 * -EDEADLK from a stackless task. A drain must not run inside one of the
 * tasks it drains (it would wait for itself).
 */
#ifndef VOLT_SHUTDOWN_H
#define VOLT_SHUTDOWN_H

#include <stddef.h>

#include "future.h"
#include "group.h"
#include "time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A token (opaque). */
struct volt_shutdown;

/* A token for tasks on rt (NULL: the current runtime). 0, -EINVAL or -ENOMEM. */
VOLT_API int volt_shutdown_new(struct volt_rt *rt, struct volt_shutdown **out);

/*
 * Frees the token: -EBUSY (and frees nothing) while tracked tasks are
 * alive. Waits still pending on it must be dropped first. A signal watcher
 * (volt_shutdown_on_signals) is stopped and lets go of the token on its own.
 */
VOLT_API int volt_shutdown_free(struct volt_shutdown *t);

/* Triggers the token: 1 if this call did, 0 if it already was, -EINVAL for NULL. */
VOLT_API int volt_shutdown_trigger(struct volt_shutdown *t);
VOLT_API bool volt_shutdown_is_triggered(const struct volt_shutdown *t);

/* The signal that triggered the token through volt_shutdown_on_signals, or 0. */
VOLT_API int volt_shutdown_signal(const struct volt_shutdown *t);

/* Ready (result 0) once the token is triggered. Dropping it unregisters it. */
struct volt_shutdown_wait {
	struct volt_future base;
	struct volt_shutdown *token;
	struct volt_waiter waiter; /* internal */
	int result;
};

VOLT_API struct volt_future *volt_shutdown_wait(struct volt_shutdown_wait *w,
						struct volt_shutdown *t);

/* Blocks until triggered: 0, -ETIMEDOUT (timeout; VOLT_DURATION_MAX for none), -EDEADLK. */
VOLT_API int volt_shutdown_wait_blocking(struct volt_shutdown *t, volt_duration timeout);

/*
 * Spawns a copy of the future f (size bytes, as volt_spawn) as tracked
 * work. 0, or -ECANCELED once the token was triggered, -EINVAL, -ENOMEM,
 * -ESHUTDOWN; on error the caller still owns f.
 */
VOLT_API int volt_shutdown_spawn(struct volt_shutdown *t, const struct volt_future *f,
				 size_t size);

/* The group tracked tasks run in (for volt_group_* calls; do not free it). */
VOLT_API struct volt_group *volt_shutdown_group(struct volt_shutdown *t);

/* Tracked tasks alive now. */
VOLT_API size_t volt_shutdown_in_flight(const struct volt_shutdown *t);

struct volt_shutdown_report {
	size_t in_flight; /* tracked tasks alive at the trigger */
	size_t finished;  /* of those, finished since */
	size_t cancelled; /* of those, cancelled (dropped unfinished) */
	bool timed_out;   /* the grace period ran out (so the rest was cancelled) */
};

/*
 * Triggers the token if it was not, then drains: waits up to grace for the
 * tracked tasks, cancels the rest and waits for their drops. When ready,
 * `result` is 0 and `report` filled. Dropping the drain before it is ready
 * leaves the tasks as they are (those already cancelled stay cancelled).
 */
struct volt_shutdown_drain {
	struct volt_future base;
	struct volt_shutdown *token;
	volt_duration grace;
	struct volt_timeout timeout;  /* internal */
	struct volt_group_wait join;  /* internal */
	struct volt_shutdown_report report;
	int result;
};

VOLT_API struct volt_future *volt_shutdown_drain(struct volt_shutdown_drain *d,
						 struct volt_shutdown *t, volt_duration grace);

/* The blocking form: 0 and *report (may be NULL), -EDEADLK, -ENOMEM. */
VOLT_API int volt_shutdown_drain_blocking(struct volt_shutdown *t, volt_duration grace,
					  struct volt_shutdown_report *report);

/*
 * Triggers t on the first of the n signals delivered (a volt/signal.h
 * subscription held by a task on t's runtime, which also blocks the
 * signals in the calling thread: call it from main before creating other
 * threads). volt_shutdown_signal then names the signal. 0, or the errors
 * of volt_signal_subscribe_list, or volt_spawn's.
 */
VOLT_API int volt_shutdown_on_signals(struct volt_shutdown *t, const int *signos, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_SHUTDOWN_H */
