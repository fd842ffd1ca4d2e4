/* SPDX-License-Identifier: MIT */
/*
 * volt/combinators.h: waiting on several futures at once: join_all,
 * try_join_all, race, and select over any futures.
 *
 * Every combinator takes an array of `struct volt_future *` that the caller
 * owns (the array and the futures in it are not copied: both must stay put
 * until the combinator is done) and is itself a future in a caller-owned
 * `struct volt_combinator`, set up by one of the *_init calls and awaited as
 * `&c->base`. Children follow the future contract: each one is polled until
 * it returns VOLT_READY and then dropped exactly once, right after that poll.
 *
 *   join_all       ready when every child is; result 0.
 *   try_join_all   ready when every child is, or at the first child that
 *                  completes with an error: result is that error, index that
 *                  child, and every other child still pending is dropped
 *                  (once) at that moment.
 *   race           ready when the first child completes: index names it,
 *                  output is its output; every other child is dropped (once)
 *                  at that moment.
 *   select_any     like race, but the other children are NOT dropped: they
 *                  stay pending and remain the caller's, to be polled again
 *                  (by a later select_any, say: Tokio's select! over &mut
 *                  futures). The winner has completed and was dropped like
 *                  any finished future: set its slot to NULL before the next
 *                  select_any; a NULL slot is a disabled branch.
 *
 * Ownership. After a successful init the combinator owns the children (but
 * select_any only borrows them) until it completes or is dropped; dropping it
 * before then (cancellation: the task awaiting it was cancelled) drops every
 * child that has not been dropped yet, exactly once. select_any never drops a
 * pending child: on cancellation they are all still the caller's.
 *
 * Wake-ups. Each child gets its own waker, so a wake-up polls only the
 * children that were woken, not all n (core/combinators.c tells how). Those
 * wakers stay valid after the combinator is gone: a late wake-up is ignored.
 *
 * Errors (negative errno from the *_init and *_blocking calls): -EINVAL for a
 * NULL combinator, a NULL array with n > 0, n above VOLT_COMBINATOR_MAX, a
 * NULL slot (except in select_any) or a slot without a poll function, race
 * or select_any with n == 0; -ENOMEM. On any init error nothing was polled or
 * dropped: the children are still the caller's.
 */
#ifndef VOLT_COMBINATORS_H
#define VOLT_COMBINATORS_H

#include <sys/types.h>

#include "future.h"
#include "time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most children one combinator takes (its ready bitmap is sized by n). */
#define VOLT_COMBINATOR_MAX ((size_t)1 << 20)

/*
 * try_join_all's test of a completed child, called right after its poll
 * returned VOLT_READY and before it is dropped (its fields are intact);
 * `output` is what it put in cx->output. Returns 0 for success or a
 * negative errno, which becomes the combinator's result. NULL selects
 * volt_try_output_errno.
 */
typedef int (*volt_try_check_fn)(struct volt_future *child, void *output, void *arg);

/* The default check: a child's output read as an intptr_t; negative is its error. */
VOLT_API int volt_try_output_errno(struct volt_future *child, void *output, void *arg);

struct volt__comb_hub; /* internal: the per-child wakers and the ready bitmap */

struct volt_combinator {
	struct volt_future base;
	/* results, valid once ready */
	int result;     /* 0, try_join_all's first error, -ENOENT (select_any, no branch) */
	ssize_t index;  /* race/select_any: the winner; try_join_all: the failed child; else -1 */
	void *output;   /* race/select_any: the winner's output */
	/* internal */
	struct volt_future **children;
	void **outputs;
	size_t n, remaining;
	struct volt__comb_hub *hub;
	volt_try_check_fn check;
	void *check_arg;
	uint64_t rng;
	unsigned kind;
	bool done;
};

/*
 * join_all over children[0..n). outputs (may be NULL) is an array of n
 * slots; outputs[i] receives child i's cx->output when it completes.
 * n == 0 is ready at its first poll. Returns 0, -EINVAL, -ENOMEM.
 */
VOLT_API int volt_join_all_init(struct volt_combinator *c, struct volt_future **children,
				size_t n, void **outputs);

/* try_join_all: as join_all, with check (NULL: volt_try_output_errno) and its arg. */
VOLT_API int volt_try_join_all_init(struct volt_combinator *c, struct volt_future **children,
				    size_t n, void **outputs, volt_try_check_fn check, void *arg);

/* race over n >= 1 children. Returns 0, -EINVAL, -ENOMEM. */
VOLT_API int volt_race_init(struct volt_combinator *c, struct volt_future **children, size_t n);

/*
 * select_any over n >= 1 slots, NULL slots disabled; with every slot NULL it
 * is ready at once with result -ENOENT and index -1. Returns 0, -EINVAL,
 * -ENOMEM.
 */
VOLT_API int volt_select_any_init(struct volt_combinator *c, struct volt_future **children,
				  size_t n);

/*
 * The blocking forms: the combinator run by volt_block_on (a fiber parks, a
 * plain thread sleeps; a stackless task gets -EDEADLK), bounded by timeout
 * (VOLT_DURATION_MAX: none) on the clock of rt (NULL: the caller's runtime
 * in a fiber, CLOCK_MONOTONIC on a plain thread). On -ETIMEDOUT the
 * combinator was dropped: join_all, try_join_all and race dropped the
 * children still pending, select_any left them all with the caller. On
 * -EINVAL, -ENOMEM or -EDEADLK nothing was polled or dropped.
 */
/* 0 when all completed, or -ETIMEDOUT, -EINVAL, -ENOMEM, -EDEADLK. */
VOLT_API int volt_join_all_blocking(struct volt_rt *rt, struct volt_future **children, size_t n,
				    void **outputs, volt_duration timeout);
/* 0, the first error (its child in *failed, may be NULL), or the errors above. */
VOLT_API int volt_try_join_all_blocking(struct volt_rt *rt, struct volt_future **children,
					size_t n, void **outputs, volt_try_check_fn check,
					void *arg, volt_duration timeout, size_t *failed);
/* The winner's index (its output in *output, may be NULL), or the errors above. */
VOLT_API ssize_t volt_race_blocking(struct volt_rt *rt, struct volt_future **children, size_t n,
				    void **output, volt_duration timeout);
/* The winner's index (its output in *output), -ENOENT (every slot NULL), or the errors above. */
VOLT_API ssize_t volt_select_any_blocking(struct volt_rt *rt, struct volt_future **children,
					  size_t n, void **output, volt_duration timeout);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_COMBINATORS_H */
