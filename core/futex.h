/* SPDX-License-Identifier: MIT */
/*
 * core/futex.h: a one-word parking spot (futex) and the token protocol on it.
 *
 * A parker's word is 0 (no token) or 1 (token). volt__park() consumes a token,
 * sleeping until one arrives; volt__unpark() deposits one and wakes the
 * sleeper. A token deposited before the park is not lost; spurious futex
 * returns are absorbed by the loop.
 */
#ifndef VOLT_CORE_FUTEX_H
#define VOLT_CORE_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic.h"

static inline void volt__futex_wait(_Atomic uint32_t *word, uint32_t expect)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expect, NULL, NULL, 0);
}

static inline void volt__futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void volt__park(_Atomic uint32_t *word)
{
	/* acquire: pairs with the release in volt__unpark, publishing the waker's writes */
	while (volt__xchg(word, 0, ACQUIRE) == 0)
		volt__futex_wait(word, 0);
}

/*
 * volt__park with a deadline on CLOCK_MONOTONIC (ns; UINT64_MAX = none).
 * True if a token was consumed, false if the deadline passed first.
 */
static inline bool volt__park_until(_Atomic uint32_t *word, uint64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000ull),
			       (long)(deadline_ns % 1000000000ull) };

	if (deadline_ns == UINT64_MAX) {
		volt__park(word);
		return true;
	}
	/* acquire: as in volt__park */
	while (volt__xchg(word, 0, ACQUIRE) == 0) {
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time */
		if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL,
			    FUTEX_BITSET_MATCH_ANY) == -1 && errno == ETIMEDOUT)
			return volt__xchg(word, 0, ACQUIRE) != 0;
	}
	return true;
}

static inline void volt__unpark(_Atomic uint32_t *word)
{
	/* release: see volt__park */
	if (volt__xchg(word, 1, RELEASE) == 0)
		volt__futex_wake(word, 1);
}

#endif /* VOLT_CORE_FUTEX_H */
