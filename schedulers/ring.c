/* SPDX-License-Identifier: MIT */
/*
 * schedulers/ring.c: `ring`, the Tokio multi-thread scheduler (the default).
 *
 * Per worker: a 256-slot ring and a LIFO slot; one global injection queue
 * (Lerche, "Making the Tokio scheduler 10x faster", 2019; Tokio's
 * runtime/scheduler/multi_thread/{queue,worker,idle}.rs).
 * - The LIFO slot is the owner's alone: a thief never takes it (Tokio's
 *   long-standing choice, #4941), so a task woken into it waits for its
 *   owner even when other workers idle.
 * - A full ring moves half to the global queue; a thief takes half a ring.
 * - At most half the workers search for work at once; the last searcher to
 *   find some wakes another.
 * - Every global_interval ticks (61, or self-tuned to 200 us of polls) the
 *   global queue is looked at first.
 * The mechanism is in wsring.c and ringq.c; this file is the flavour.
 */
#include "schedulers/wsring.h"

static const struct volt__wsring_flavor ring_flavor = {
	.slot_stealable = false,
	.by_distance = false,
};

static int ring_init(void **state, const struct volt__sched_env *env)
{
	return volt__wsring_init(state, env, &ring_flavor);
}

const struct volt__sched_ops volt__sched_ring = VOLT__WSRING_OPS("ring", ring_init, false);
