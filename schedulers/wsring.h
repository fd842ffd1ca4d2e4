/* SPDX-License-Identifier: MIT */
/*
 * schedulers/wsring.h: the machinery shared by the ring-based work-stealing
 * policies (`ring`, `runnext`, `numa`): per worker a ringq and one slot for
 * the task to run next, a global injection queue, steal-half. A policy is a
 * flavour of it: whether thieves may take the slot, and in what order
 * victims are tried. wsring.c explains the mechanism.
 */
#ifndef VOLT_SCHED_WSRING_H
#define VOLT_SCHED_WSRING_H

#include <stdbool.h>

#include "schedulers/sched.h"

struct volt__wsring_flavor {
	/* Thieves may take a victim's slot on their last steal pass (Go's runnext);
	 * otherwise the slot is the owner's alone (Tokio's LIFO slot). */
	bool slot_stealable;
	/* Victims are tried nearest first by topology distance, randomly within a
	 * distance class; otherwise all victims from one random start. */
	bool by_distance;
};

int volt__wsring_init(void **state, const struct volt__sched_env *env,
		      const struct volt__wsring_flavor *flavor);
void volt__wsring_fini(void *state);
bool volt__wsring_push(void *state, int w, struct volt__task *t, enum volt__push how);
struct volt__task *volt__wsring_pop(void *state, unsigned w, bool global_first, bool *lifo);
struct volt__task *volt__wsring_steal(void *state, unsigned w, unsigned pass, unsigned passes);
bool volt__wsring_has_work(void *state);

/* The ops table of a flavour: only init differs between the policies. */
#define VOLT__WSRING_OPS(name_, init_, search_cap_busy_) \
	{                                                \
		.name = (name_),                         \
		.workers = NULL,                         \
		.init = (init_),                         \
		.fini = volt__wsring_fini,               \
		.push = volt__wsring_push,               \
		.pop = volt__wsring_pop,                 \
		.steal = volt__wsring_steal,             \
		.has_work = volt__wsring_has_work,       \
		.search_cap_busy = (search_cap_busy_),   \
	}

#endif /* VOLT_SCHED_WSRING_H */
