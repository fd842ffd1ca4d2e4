/* SPDX-License-Identifier: MIT */
/*
 * primitives/sync_internal.h: what the synchronisation primitives share.
 *
 * A waiter's `state` is written under its primitive's lock, and read there
 * too, except for one look by its owner without the lock ("have I ever
 * queued?"): so it is read and written with relaxed atomics.
 */
#ifndef VOLT_PRIMITIVES_SYNC_INTERNAL_H
#define VOLT_PRIMITIVES_SYNC_INTERNAL_H

#include <volt.h>

static inline uint32_t volt__wstate(const struct volt_waiter *w)
{
	return __atomic_load_n(&w->state, __ATOMIC_RELAXED);
}

static inline void volt__wstate_set(struct volt_waiter *w, uint32_t state)
{
	__atomic_store_n(&w->state, state, __ATOMIC_RELAXED);
}

/* volt_block_on(NULL, f): block_on's error, else the future's *result. */
int volt__sync_block(struct volt_future *f, const int *result);

#endif /* VOLT_PRIMITIVES_SYNC_INTERNAL_H */
