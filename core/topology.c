/* SPDX-License-Identifier: MIT */
/* core/topology.c: PLACEHOLDER until the hwloc implementation lands (same session). */
#include <errno.h>
#include <string.h>

#include "core/topology.h"

int volt__topo_init(struct volt__topo *t, const struct volt_config *cfg, unsigned nworkers)
{
	memset(t, 0, sizeof(*t));
	t->nworkers = nworkers;
	t->pin = cfg->pin;
	for (unsigned i = 0; i < nworkers; i++) {
		t->cpu[i] = -1;
		t->pu[i] = i;
		for (unsigned j = 0; j < nworkers; j++)
			t->dist[i][j] = i == j ? VOLT__DIST_SELF : VOLT__DIST_CACHE;
	}
	strcpy(t->desc, "unknown");
	return 0;
}

int volt__topo_pin_self(const struct volt__topo *t, unsigned w)
{
	(void)t;
	(void)w;
	return 0;
}
