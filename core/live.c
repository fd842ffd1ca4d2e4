/* SPDX-License-Identifier: MIT */
/*
 * core/live.c: the registry of live runtimes and the generation floor
 * (the contract is in core/live.h).
 *
 * The registry is a chain of blocks of 64 slots, each slot holding the
 * address of one live runtime or NULL. The first block is static, so a
 * process with at most 64 runtimes alive at once never allocates here;
 * further blocks are linked with a CAS and never freed (a slot emptied by
 * a removal is reused by a later add). Each block keeps a high-water mark
 * of the slots ever used, so a lookup reads one mark and a few slots:
 * with one runtime alive, two loads. Adds and removals happen at runtime
 * creation and destruction only, so the cache lines stay shared and read.
 *
 * Ordering: volt_rt_new adds its runtime with release stores before it
 * returns it, so any thread that got the runtime (and so a handle) through
 * a happens-before edge finds it; volt_rt_free removes it only after every
 * source is closed, so an operation that saw it live while the runtime
 * still runs is an ordinary operation, and one that starts after the free
 * returned sees it gone.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/atomic.h"
#include "core/live.h"

#define LIVE_SLOTS 64

struct live_block {
	_Atomic(const struct volt_rt *) rt[LIVE_SLOTS];
	_Atomic uint32_t used; /* slots [0, used) have been taken at least once */
	_Atomic(struct live_block *) next;
};

static struct live_block first;
static _Atomic uint32_t gen_floor = 1;

/* Raises *word to at least v. */
static void raise_to(_Atomic uint32_t *word, uint32_t v)
{
	/* relaxed: the CAS below decides */
	uint32_t cur = volt__load(word, RELAXED);

	while (cur < v && !volt__cas(word, &cur, v, RELEASE, RELAXED))
		;
}

int volt__live_add(const struct volt_rt *rt)
{
	struct live_block *b = &first;

	for (;;) {
		for (uint32_t i = 0; i < LIVE_SLOTS; i++) {
			const struct volt_rt *none = NULL;

			/* release: rt is fully built before a lookup can find it */
			if (volt__cas_strong(&b->rt[i], &none, rt, RELEASE, RELAXED)) {
				raise_to(&b->used, i + 1);
				return 0;
			}
		}
		/* acquire: pairs with the release that linked the block */
		struct live_block *next = volt__load(&b->next, ACQUIRE);

		if (!next) {
			struct live_block *fresh = calloc(1, sizeof(*fresh));

			if (!fresh)
				return -ENOMEM;
			/* acq_rel: publish ours, or see the block that won */
			if (volt__cas_strong(&b->next, &next, fresh, ACQ_REL, ACQUIRE))
				next = fresh;
			else
				free(fresh);
		}
		b = next;
	}
}

void volt__live_remove(const struct volt_rt *rt)
{
	for (struct live_block *b = &first; b; b = volt__load(&b->next, ACQUIRE)) {
		uint32_t n = volt__load(&b->used, ACQUIRE);

		for (uint32_t i = 0; i < n; i++) {
			const struct volt_rt *cur = rt;

			/* release: everything the runtime did before it is gone */
			if (volt__cas_strong(&b->rt[i], &cur, NULL, RELEASE, RELAXED))
				return;
		}
	}
}

bool volt__live(const struct volt_rt *rt)
{
	if (!rt)
		return false;
	for (struct live_block *b = &first; b; b = volt__load(&b->next, ACQUIRE)) {
		/* acquire: pairs with the add's release of the mark and the slot */
		uint32_t n = volt__load(&b->used, ACQUIRE);

		for (uint32_t i = 0; i < n; i++)
			if (volt__load(&b->rt[i], ACQUIRE) == rt)
				return true;
	}
	return false;
}

uint32_t volt__live_gen_floor(void)
{
	/* acquire: pairs with the retire of the runtime that lived here before */
	return volt__load(&gen_floor, ACQUIRE);
}

void volt__live_gen_retire(uint32_t max_gen)
{
	/* at the top of the range the 32-bit generations wrap (see live.h) */
	raise_to(&gen_floor, max_gen + 1 ? max_gen + 1 : 1);
}
