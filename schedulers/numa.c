/* SPDX-License-Identifier: MIT */
/*
 * schedulers/numa.c: `numa`, ring-based work stealing that steals nearby
 * first.
 *
 * As `ring`, but a thief tries its victims by topology distance (core/
 * topology.h, from hwloc or a synthetic topology): workers sharing a cache
 * with it first, then its NUMA node, then its package, then remote ones,
 * from a random start within each class. A remote steal moves tasks (and
 * later the data they touch) across the interconnect, which the NUMA
 * work-stealing literature (Olivier et al. ROSS'11; Deters et al. IISWC'18)
 * finds costs far more than a local one; trying local victims first keeps
 * steals local when there is local work. On a single-node machine every
 * victim is in one class and this is `ring`.
 */
#include "schedulers/wsring.h"

static const struct volt__wsring_flavor numa_flavor = {
	.slot_stealable = false,
	.by_distance = true,
};

static int numa_init(void **state, const struct volt__sched_env *env)
{
	return volt__wsring_init(state, env, &numa_flavor);
}

const struct volt__sched_ops volt__sched_numa = VOLT__WSRING_OPS("numa", numa_init, false);
