/* SPDX-License-Identifier: MIT */
/*
 * core/timer_wheel.c: the hierarchical timer wheel (after Varghese and Lauck,
 * "Hashed and hierarchical timing wheels", SOSP'87, and Tokio's
 * runtime/time/wheel).
 *
 * Level L >= 1 has 64 slots of 64^L ticks each; together they cover one
 * block of 64^(L+1) ticks. A timer goes to the level of the highest 6-bit
 * group in which its deadline differs from `now`, in the slot its deadline
 * has at that level: so at its level it is always in a slot after now's,
 * and every slot of a level starts later than now. A deadline beyond the top
 * level's current block (64^7 ticks) waits on the `far` list until time
 * reaches the next top block, then is placed again (it cascades; nothing
 * indexes past the wheel). A deadline that has already passed goes on the
 * `due` list.
 *
 * Level 0 holds single ticks for two blocks of 64: now's block and the next
 * one, in two arrays chosen by the block's parity, so when time crosses into
 * the next block its array simply becomes the current one (no timer is
 * touched), and the old array, empty by then, becomes the next.
 *
 * Advancing: the next event is the earliest start of an occupied slot over
 * all levels (a count-trailing-zeros per level). Time jumps there; the slot's
 * timers either fire (their deadline has come) or are placed again relative
 * to the new now, which puts them on a lower level. Because time only ever
 * jumps to the earliest occupied slot start, no slot is skipped, and timers
 * fire in deadline order and never early.
 *
 * Cascading in advance. A cascade touches every timer of the slot, and the
 * timers live in their tasks, scattered over memory: a cache and TLB miss
 * each, ~150 ns here. A million sleepers over one second put ~16,000 timers
 * in each level-1 slot per wheel, and moving them all at the slot's start
 * stalled the firing for 10 ms every 64 ms (the p99 lateness of
 * experiments/timer_bench --bench sleepers was 15 ms). So each advance also
 * moves up to DRAIN_BATCH timers of the next block's level-1 slot, if it
 * holds more than DRAIN_MIN, into level 0's next-block array ahead of time;
 * under load the wheel is advanced about once a tick, which spreads the
 * cascade over the 64 ticks before it is due. Whatever is left still
 * cascades at the slot's start, as before.
 */
#include <string.h>

#include "core/timer_wheel.h"

#define BITS 6
#define MASK (VOLT__WHEEL_SLOTS - 1)
#define DUE VOLT__WHEEL_LEVELS
#define FAR (VOLT__WHEEL_LEVELS + 1)
#define TOP_BLOCK (1ull << (BITS * VOLT__WHEEL_LEVELS)) /* ticks the whole wheel spans */
#define DRAIN_MIN 256    /* a level-1 slot smaller than this cascades at once (<~40 us) */
#define DRAIN_BATCH 2048 /* timers moved ahead per advance (<~300 us) */

/* Ticks one slot of `level` spans: 64^level. */
static uint64_t slot_ticks(unsigned level)
{
	return 1ull << (BITS * level);
}

void volt__wheel_init(struct volt__wheel *w, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->now = now;
}

static void list_push(struct volt__timer **head, struct volt__timer *t)
{
	t->prev = NULL;
	t->next = *head;
	if (*head)
		(*head)->prev = t;
	*head = t;
}

static void list_unlink(struct volt__timer **head, struct volt__timer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		*head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

uint64_t volt__wheel_insert(struct volt__wheel *w, struct volt__timer *t)
{
	uint64_t when = t->deadline;

	w->count++;
	t->linked = true;
	if (when <= w->now) {
		t->level = DUE;
		list_push(&w->due, t);
		return w->now;
	}
	if ((when >> BITS) - (w->now >> BITS) <= 1) {
		/* now's block or the next: level 0, the array of its block's parity */
		unsigned p = (unsigned)(when >> BITS) & 1;

		t->level = 0;
		t->slot = (uint8_t)(when & MASK);
		list_push(&w->slots0[p][t->slot], t);
		w->occupied0[p] |= 1ull << t->slot;
		return when;
	}
	if (when > (w->now | (TOP_BLOCK - 1))) {
		t->level = FAR; /* beyond this block of the wheel */
		list_push(&w->far, t);
		return (w->now | (TOP_BLOCK - 1)) + 1;
	}
	/* at least two blocks away: (when ^ now) >= 64, so level >= 1 */
	unsigned level = (unsigned)((63 - __builtin_clzll(when ^ w->now)) / BITS);
	unsigned slot = (unsigned)((when >> (BITS * level)) & MASK);

	t->level = (uint8_t)level;
	t->slot = (uint8_t)slot;
	list_push(&w->slots[level][slot], t);
	w->occupied[level] |= 1ull << slot;
	if (level == 1)
		w->count1[slot]++;
	return when & ~(slot_ticks(level) - 1); /* the start of its slot */
}

void volt__wheel_cancel(struct volt__wheel *w, struct volt__timer *t)
{
	if (!t->linked)
		return;
	if (t->level == DUE) {
		list_unlink(&w->due, t);
	} else if (t->level == FAR) {
		list_unlink(&w->far, t);
	} else if (t->level == 0) {
		unsigned p = (unsigned)(t->deadline >> BITS) & 1;

		list_unlink(&w->slots0[p][t->slot], t);
		if (!w->slots0[p][t->slot])
			w->occupied0[p] &= ~(1ull << t->slot);
	} else {
		list_unlink(&w->slots[t->level][t->slot], t);
		if (!w->slots[t->level][t->slot])
			w->occupied[t->level] &= ~(1ull << t->slot);
		if (t->level == 1)
			w->count1[t->slot]--;
	}
	t->linked = false;
	w->count--;
}

/* Start tick of the earliest occupied slot of `level`, or UINT64_MAX. */
static uint64_t level_next(const struct volt__wheel *w, unsigned level)
{
	if (level == 0) {
		unsigned p = (unsigned)(w->now >> BITS) & 1;
		uint64_t base = w->now & ~(uint64_t)MASK;

		if (w->occupied0[p])
			return base + (uint64_t)__builtin_ctzll(w->occupied0[p]);
		if (w->occupied0[p ^ 1])
			return base + VOLT__WHEEL_SLOTS + (uint64_t)__builtin_ctzll(w->occupied0[p ^ 1]);
		return UINT64_MAX;
	}
	if (!w->occupied[level])
		return UINT64_MAX;
	unsigned slot = (unsigned)__builtin_ctzll(w->occupied[level]);
	uint64_t block = slot_ticks(level) * VOLT__WHEEL_SLOTS;

	return (w->now & ~(block - 1)) + slot * slot_ticks(level);
}

/* The earliest event: a due timer (now), a slot start, or the next top block
 * if far timers wait; its level in *level (FAR for the block, DUE). */
static uint64_t next_event(const struct volt__wheel *w, unsigned *level)
{
	uint64_t next = UINT64_MAX;

	*level = DUE;
	if (w->due)
		return w->now;
	for (unsigned l = 0; l < VOLT__WHEEL_LEVELS; l++) {
		uint64_t t = level_next(w, l);

		if (t < next) {
			next = t;
			*level = l;
		}
	}
	if (w->far) {
		uint64_t block_end = w->now | (TOP_BLOCK - 1);

		if (block_end != UINT64_MAX && block_end + 1 < next) {
			next = block_end + 1;
			*level = FAR;
		}
	}
	return next;
}

uint64_t volt__wheel_next(const struct volt__wheel *w)
{
	unsigned level;

	return next_event(w, &level);
}

/*
 * Takes every timer off the list, firing the due ones (up to max) and
 * placing the rest again: a due one beyond max lands on the due list.
 */
static size_t process(struct volt__wheel *w, struct volt__timer *list, size_t max,
		      void (*fire)(struct volt__timer *, void *), void *arg)
{
	size_t fired = 0;

	while (list) {
		struct volt__timer *t = list;

		list = t->next;
		t->prev = t->next = NULL;
		t->linked = false;
		w->count--;
		if (t->deadline <= w->now && fired < max) {
			fire(t, arg);
			fired++;
		} else {
			volt__wheel_insert(w, t);
		}
	}
	return fired;
}

/* Moves part of the next block's level-1 slot down ahead of its cascade. */
static void drain_next_block(struct volt__wheel *w)
{
	uint64_t next = (w->now >> BITS) + 1;
	unsigned slot = (unsigned)(next & MASK);

	/* slot 0: the next block is in the next level-1 block, not at level 1 */
	if (!slot || w->count1[slot] <= DRAIN_MIN)
		return;
	for (unsigned i = 0; i < DRAIN_BATCH && w->slots[1][slot]; i++) {
		struct volt__timer *t = w->slots[1][slot];

		volt__wheel_cancel(w, t);
		volt__wheel_insert(w, t); /* into level 0's next-block array */
	}
}

size_t volt__wheel_advance(struct volt__wheel *w, uint64_t to, size_t max,
			   void (*fire)(struct volt__timer *t, void *arg), void *arg)
{
	size_t fired = 0;

	if (to < w->now)
		to = w->now;
	for (;;) {
		unsigned level;
		uint64_t next = next_event(w, &level);
		struct volt__timer *list;

		if (next > to)
			break;
		w->now = next;
		if (level == DUE) {
			list = w->due;
			w->due = NULL;
		} else if (level == FAR) {
			list = w->far;
			w->far = NULL;
		} else if (level == 0) {
			unsigned p = (unsigned)(next >> BITS) & 1;
			unsigned slot = (unsigned)(next & MASK);

			list = w->slots0[p][slot];
			w->slots0[p][slot] = NULL;
			w->occupied0[p] &= ~(1ull << slot);
		} else {
			unsigned slot = (unsigned)((next >> (BITS * level)) & MASK);

			list = w->slots[level][slot];
			w->slots[level][slot] = NULL;
			w->occupied[level] &= ~(1ull << slot);
			if (level == 1)
				w->count1[slot] = 0;
		}
		fired += process(w, list, max - fired, fire, arg);
		if (fired == max)
			return fired; /* now stays at `next`: the rest is due on the next call */
	}
	w->now = to;
	drain_next_block(w);
	return fired;
}
