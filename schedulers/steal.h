/* SPDX-License-Identifier: MIT */
/*
 * schedulers/steal.h: one pass over the possible victims, shared by the
 * work-stealing policies: every worker but the thief, once, starting at a
 * random one (so thieves spread out), with the steal counters kept in one
 * place. The policy supplies how to steal from one victim.
 */
#ifndef VOLT_SCHED_STEAL_H
#define VOLT_SCHED_STEAL_H

#include "core/rng.h"
#include "core/metrics.h"

struct volt__task;

/* Steals from `victim` for `thief`: a task to run, *stolen = tasks taken. */
typedef struct volt__task *(*volt__steal_one_fn)(void *state, unsigned victim, unsigned thief,
						uint32_t *stolen);

static inline struct volt__task *volt__steal_pass(void *state, unsigned n, unsigned thief,
						  uint64_t *rng, struct volt__metrics *m,
						  volt__steal_one_fn steal_one)
{
	unsigned start = (unsigned)(volt__xorshift64(rng) % n);

	for (unsigned i = 0; i < n; i++) {
		unsigned v = (start + i) % n;
		uint32_t stolen = 0;

		if (v == thief)
			continue;
		volt__count(&m->steals_tried);
		struct volt__task *t = steal_one(state, v, thief, &stolen);

		if (t) {
			volt__count(&m->steals_won);
			volt__count_n(&m->tasks_stolen, stolen);
			return t;
		}
	}
	return NULL;
}

#endif /* VOLT_SCHED_STEAL_H */
