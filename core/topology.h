/* SPDX-License-Identifier: MIT */
/*
 * core/topology.h: the machine the workers run on, and where they sit.
 *
 * hwloc describes the machine, or a synthetic machine given as an hwloc
 * synthetic string (cfg.topology, VOLT_TOPOLOGY). Workers are laid on its
 * PUs by the pinning policy (cfg.pin); each worker gets a logical PU of that
 * topology and, when pinned, a real CPU: on a synthetic topology logical PU
 * i maps to real CPU (i mod the CPUs this process may use), so a layout this
 * machine does not have can still be run and studied (the report says the
 * topology was synthetic). Steal distances follow the (possibly synthetic)
 * tree, so a policy sees the layout it is meant to study.
 */
#ifndef VOLT_CORE_TOPOLOGY_H
#define VOLT_CORE_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include <volt.h>

/* Distance classes between two workers, nearest first. */
enum volt__dist {
	VOLT__DIST_SELF = 0,
	VOLT__DIST_CACHE = 1,   /* share a cache below the package (L3 or L2 group) */
	VOLT__DIST_NODE = 2,    /* same NUMA node */
	VOLT__DIST_PACKAGE = 3, /* same package, another NUMA node */
	VOLT__DIST_REMOTE = 4,  /* another package */
};

struct volt__topo {
	unsigned nworkers;
	bool synthetic;           /* the topology came from cfg.topology */
	enum volt_pin pin;
	int cpu[VOLT_MAX_WORKERS];        /* real CPU worker w is pinned to, -1 = not pinned */
	unsigned pu[VOLT_MAX_WORKERS];    /* logical PU (index among the topology's PUs) */
	unsigned node[VOLT_MAX_WORKERS];  /* NUMA node of that PU (0 if none known) */
	uint8_t dist[VOLT_MAX_WORKERS][VOLT_MAX_WORKERS]; /* enum volt__dist */
	char desc[512];           /* hwloc synthetic string of the topology used */
	unsigned npus, nnodes, npackages;
};

/*
 * Discovers (or builds the synthetic) topology and lays nworkers on it.
 * 0, -EINVAL for a topology string hwloc rejects, or -ENOMEM/-EIO.
 */
int volt__topo_init(struct volt__topo *t, const struct volt_config *cfg, unsigned nworkers);

/*
 * Pins the calling thread, worker w, to t->cpu[w] (no-op when not pinned).
 * Returns 0 or -errno; the caller reports failure rather than aborting.
 */
int volt__topo_pin_self(const struct volt__topo *t, unsigned w);

#endif /* VOLT_CORE_TOPOLOGY_H */
