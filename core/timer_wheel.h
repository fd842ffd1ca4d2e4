/* SPDX-License-Identifier: MIT */
/*
 * core/timer_wheel.h: a hierarchical timer wheel (the data structure only;
 * see core/timer_wheel.c). Time is in ticks of 1 ms. The entries live inside
 * the futures that wait (no allocation per timer); insert and cancel are
 * O(1); advancing jumps straight to the next occupied slot.
 */
#ifndef VOLT_CORE_TIMER_WHEEL_H
#define VOLT_CORE_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <volt/time.h> /* struct volt__timer: embedded in the public struct volt_timer */

#define VOLT__WHEEL_LEVELS 7 /* 64^7 ms: about 139 years */
#define VOLT__WHEEL_SLOTS 64

struct volt__wheel {
	uint64_t now; /* the last tick advanced to */
	/* per level, two blocks (now's and the next) by block parity: see timer_wheel.c */
	uint64_t occupied[VOLT__WHEEL_LEVELS][2];
	struct volt__timer *slots[VOLT__WHEEL_LEVELS][2][VOLT__WHEEL_SLOTS];
	uint32_t counts[VOLT__WHEEL_LEVELS][2][VOLT__WHEEL_SLOTS];
	struct volt__timer *due; /* deadlines already passed at insert */
	struct volt__timer *far; /* deadlines beyond the wheel's two top blocks */
	size_t count;
};

void volt__wheel_init(struct volt__wheel *w, uint64_t now);

/*
 * Links t to fire at t->deadline (a past deadline fires at the next advance).
 * Returns the tick at which advancing first has to look at t: its deadline,
 * or earlier, the start of the slot it cascades from.
 */
uint64_t volt__wheel_insert(struct volt__wheel *w, struct volt__timer *t);

/* Unlinks t if it is linked; a no-op otherwise. */
void volt__wheel_cancel(struct volt__wheel *w, struct volt__timer *t);

/*
 * The earliest tick at which advancing has work: a timer to fire, a slot to
 * cascade, far timers to place again, or (next tick) a crowded slot to move
 * down ahead of its cascade; so never later than the first firing.
 * UINT64_MAX when the wheel is empty. A sleeper parks until then.
 */
uint64_t volt__wheel_next(const struct volt__wheel *w);

/*
 * Moves time towards `to` (never backwards) and calls fire(t, arg) for every
 * timer whose deadline is <= to, in deadline order (timers whose deadline
 * had already come when inserted fire first, in any order), each unlinked first.
 * Stops after `max` timers fired (time then stays at the last deadline
 * fired, so a further call carries on); otherwise time ends at `to`.
 * Returns how many fired. `to` may be any distance ahead: every timer
 * fires at exactly its deadline (or at the first advance, if that had
 * passed when it was inserted), never late, however many top blocks
 * (64^7 ticks) one call crosses; but while timers wait beyond the wheel
 * (the far list) each top block crossed costs a pass over them.
 */
size_t volt__wheel_advance(struct volt__wheel *w, uint64_t to, size_t max,
			   void (*fire)(struct volt__timer *t, void *arg), void *arg);

#endif /* VOLT_CORE_TIMER_WHEEL_H */
