/* SPDX-License-Identifier: MIT */
/*
 * schedulers/runnext.c: `runnext`, the Go runtime's scheduler
 * (src/runtime/proc.go: runqput, runqget, runqgrab, stealWork, wakep).
 *
 * Per P (worker): a 256-slot ring and `runnext`, the goroutine readied by
 * the running one, which runs next and inherits the time slice (here: the
 * budget). The differences from `ring`:
 * - runnext is stealable, but only on the last of the steal passes
 *   (cfg.search_rounds, 4 by default, Go's stealTries), and only after a
 *   short grace period in which its owner may take it first (Go sleeps
 *   3 us there);
 * - spinning (searching) workers are capped at half the workers that are
 *   awake, Go's `2*nmspinning < gomaxprocs - npidle`, not half of all;
 * - a task readied into runnext still wakes an idle worker, as Go's ready()
 *   calls wakep(): someone may steal it if the owner stays busy.
 * Pinned by CL 9289 (runnext cut ping-pong beside a CPU hog from 684 us to
 * 825 ns per op); the mechanism is in wsring.c and ringq.c.
 */
#include "schedulers/wsring.h"

static const struct volt__wsring_flavor runnext_flavor = {
	.slot_stealable = true,
	.by_distance = false,
};

static int runnext_init(void **state, const struct volt__sched_env *env)
{
	return volt__wsring_init(state, env, &runnext_flavor);
}

const struct volt__sched_ops volt__sched_runnext =
	VOLT__WSRING_OPS("runnext", runnext_init, true);
