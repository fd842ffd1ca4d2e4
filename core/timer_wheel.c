/* SPDX-License-Identifier: MIT */
/*
 * core/timer_wheel.c: the hierarchical timer wheel (after Varghese and Lauck,
 * "Hashed and hierarchical timing wheels", SOSP'87, and Tokio's
 * runtime/time/wheel), with every level spanning two blocks so that
 * cascades can be done ahead of time.
 *
 * Levels. A slot of level L spans 64^L ticks; 64 of them make a level-L
 * block of 64^(L+1) ticks. Each level keeps two blocks: now's and the next,
 * in two arrays chosen by the block number's parity. A timer goes to the
 * lowest level whose two blocks contain its deadline, in the slot its
 * deadline has there. So at level L >= 1 a timer is at least two level-(L-1)
 * blocks away (its slot is after now's), and when time crosses into the
 * next block of a level, the next array simply becomes the current one (no
 * timer is touched; the old one is empty by then and becomes the next). A
 * deadline beyond level 6's two blocks (64^7 ticks, about 139 years, at
 * 1 ms) waits on the `far` list until time reaches the next top block, then
 * is placed again; nothing indexes past the wheel. A deadline already passed
 * goes on the `due` list.
 *
 * Advancing: the next event is the earliest start of an occupied slot over
 * all levels (a count-trailing-zeros per array), or the start of the next
 * top block while far timers wait. Time jumps there; the slot's timers
 * either fire (their deadline has come) or are placed again relative to
 * the new now, which puts them on a lower level (a cascade). Time only ever
 * jumps to the earliest event, so no slot is skipped, and timers fire in
 * deadline order, never early and never late, however far one advance
 * goes. The far list, the one thing placed relative to now rather than by
 * its deadline, is placed again at every top block boundary time crosses,
 * before any slot that starts at the same tick; so an advance across k top
 * blocks makes k passes over the far timers (2^22 across the whole 64-bit
 * range): correct at any distance, but the cost of a huge jump grows with
 * it while far timers wait.
 *
 * Cascading ahead of time. A cascade touches every timer of the slot, and
 * the timers live in their tasks, scattered over memory: a cache and TLB
 * miss each, ~150 ns here. A million sleepers over one second put ~16,000
 * timers in each level-1 slot of each wheel, and moving them at the slot's
 * start stalled the firing for 10 ms every 64 ms (p99 lateness 15 ms in
 * experiments/timer_bench --bench sleepers); a level-2 slot holding them all
 * stalled it for 100-250 ms once. With two blocks per level the slot that
 * covers the next block of the level below can be emptied early: each
 * advance moves up to DRAIN_BATCH timers of such slots holding more than
 * DRAIN_MIN one level down, into that level's next-block array, and the
 * wheel asks to be advanced every tick while a crowded slot remains. The
 * cascade is thus spread over the block before it falls due; whatever is
 * left still cascades at the slot's start.
 */
#include <string.h>

#include "core/timer_wheel.h"

#define BITS 6
#define MASK (VOLT__WHEEL_SLOTS - 1)
#define DUE VOLT__WHEEL_LEVELS
#define FAR (VOLT__WHEEL_LEVELS + 1)
#define NONE (VOLT__WHEEL_LEVELS + 2) /* next_event: no event at all */
#define TOP VOLT__WHEEL_LEVELS /* the level above the highest: its blocks are the wheel's */
#define DRAIN_MIN 256    /* a slot this small cascades at once (~40 us) */
#define DRAIN_BATCH 2048 /* timers moved ahead per advance (~300 us) */

/* The number of the level-L slot (L = 0..TOP) that tick t falls in: t / 64^L. */
static uint64_t slot_no(uint64_t t, unsigned level)
{
	return level * BITS >= 64 ? 0 : t >> (BITS * level);
}

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

/* The array (block parity) of level `level` that deadline `when` belongs to. */
static unsigned parity(uint64_t when, unsigned level)
{
	return (unsigned)slot_no(when, level + 1) & 1;
}

uint64_t volt__wheel_insert(struct volt__wheel *w, struct volt__timer *t)
{
	uint64_t when = t->deadline;
	unsigned level;

	w->count++;
	t->linked = true;
	if (when <= w->now) {
		t->level = DUE;
		list_push(&w->due, t);
		return w->now;
	}
	/* the lowest level whose two blocks (now's and the next) hold `when` */
	for (level = 0; level < VOLT__WHEEL_LEVELS; level++)
#ifdef VOLT_MUTANT_WHEEL_LEVEL_BY_DISTANCE /* planted bug (tests/fuzz): a distance is not a block */
		if (when - w->now < 2 * slot_ticks(level + 1))
#else
		if (slot_no(when, level + 1) - slot_no(w->now, level + 1) <= 1)
#endif
			break;
	if (level == VOLT__WHEEL_LEVELS) {
		t->level = FAR;
		list_push(&w->far, t);
		return (slot_no(w->now, TOP) + 1) << (BITS * TOP);
	}

#ifdef VOLT_MUTANT_WHEEL_SLOT_ROUNDED_UP /* planted bug (tests/fuzz): level >= 1 one slot late */
	unsigned p = parity(when, level), slot = (unsigned)((slot_no(when, level) + !!level) & MASK);
#else
	unsigned p = parity(when, level), slot = (unsigned)(slot_no(when, level) & MASK);
#endif

	t->level = (uint8_t)level;
	t->slot = (uint8_t)slot;
	list_push(&w->slots[level][p][slot], t);
	w->occupied[level][p] |= 1ull << slot;
	w->counts[level][p][slot]++;
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
	} else {
		unsigned level = t->level, p = parity(t->deadline, level);

		list_unlink(&w->slots[level][p][t->slot], t);
		if (!w->slots[level][p][t->slot])
			w->occupied[level][p] &= ~(1ull << t->slot);
		w->counts[level][p][t->slot]--;
	}
	t->linked = false;
	w->count--;
}

/* Start tick of the earliest occupied slot of `level`, or UINT64_MAX. */
static uint64_t level_next(const struct volt__wheel *w, unsigned level)
{
	uint64_t block = slot_no(w->now, level + 1);
	unsigned p = (unsigned)block & 1;

	for (unsigned i = 0; i < 2; i++, p ^= 1, block++) {
		if (w->occupied[level][p])
			return (block << (BITS * (level + 1))) +
			       (uint64_t)__builtin_ctzll(w->occupied[level][p]) * slot_ticks(level);
	}
	return UINT64_MAX;
}

/* The earliest event: a due timer (now), a slot start, or the next top block
 * if far timers wait; its level in *level (FAR for the block, DUE), or
 * UINT64_MAX and NONE when the wheel is empty (a slot may start at
 * UINT64_MAX too, so the tick alone does not tell). */
static uint64_t next_event(const struct volt__wheel *w, unsigned *level)
{
	uint64_t next = UINT64_MAX;

	*level = NONE;
	if (w->due) {
		*level = DUE;
		return w->now;
	}
	for (unsigned l = 0; l < VOLT__WHEEL_LEVELS; l++) {
		uint64_t t = level_next(w, l);
		bool occupied = w->occupied[l][0] | w->occupied[l][1];

		/* a level-0 slot can start at UINT64_MAX, level_next's "none" */
		if (t < next || (occupied && *level == NONE)) {
			next = t;
			*level = l;
		}
	}
	if (w->far) {
		uint64_t top = (slot_no(w->now, TOP) + 1) << (BITS * TOP);

		/*
		 * At a tie the far list goes first. A slot starting at the same
		 * tick (slot 0 of the next block, of any level) would otherwise
		 * move now into the new top block before the far list is
		 * placed again, and `top` would then name the block after: the
		 * far timers would skip a re-placement, and after two such ties
		 * in a row a timer due in the block just entered fired up to
		 * 64^7 ticks late (found by tests/fuzz/fuzz_timer.c). `top`
		 * does not wrap: in the last top block every deadline is
		 * within the wheel, so the far list is empty there.
		 */
		if (top <= next) {
			next = top;
			*level = FAR;
		}
	}
	return next;
}

/*
 * The slot of level `level` >= 1 that covers the next block of the level
 * below (its parity in *p): the one to empty ahead of time.
 */
static unsigned next_below(const struct volt__wheel *w, unsigned level, unsigned *p)
{
	uint64_t below = slot_no(w->now, level) + 1; /* the next level-(level-1) block */

	*p = (unsigned)(below >> BITS) & 1;
	return (unsigned)(below & MASK);
}

static bool crowded(const struct volt__wheel *w)
{
	for (unsigned l = 1; l < VOLT__WHEEL_LEVELS; l++) {
		unsigned p, slot = next_below(w, l, &p);

		if (w->counts[l][p][slot] > DRAIN_MIN)
			return true;
	}
	return false;
}

uint64_t volt__wheel_next(const struct volt__wheel *w)
{
	unsigned level;
	uint64_t next = next_event(w, &level);

	/* a crowded slot to empty ahead of its cascade: come back next tick */
	if (next > w->now + 1 && crowded(w))
		next = w->now + 1;
	return next;
}

/* Moves timers of crowded slots one level down ahead of their cascade. */
static void drain_ahead(struct volt__wheel *w)
{
	unsigned budget = DRAIN_BATCH;

	for (unsigned l = 1; l < VOLT__WHEEL_LEVELS && budget; l++) {
		unsigned p, slot = next_below(w, l, &p);

		if (w->counts[l][p][slot] <= DRAIN_MIN)
			continue;
		while (budget && w->slots[l][p][slot]) {
			struct volt__timer *t = w->slots[l][p][slot];

			volt__wheel_cancel(w, t);
			volt__wheel_insert(w, t); /* one level down: its block is the next there */
			budget--;
		}
	}
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

		if (next > to || level == NONE)
			break; /* (without NONE, advancing to UINT64_MAX never ended) */
		w->now = next;
		if (level == DUE) {
			list = w->due;
			w->due = NULL;
		} else if (level == FAR) {
			list = w->far;
			w->far = NULL;
		} else {
			unsigned p = parity(next, level);
			unsigned slot = (unsigned)(slot_no(next, level) & MASK);

			list = w->slots[level][p][slot];
			w->slots[level][p][slot] = NULL;
			w->occupied[level][p] &= ~(1ull << slot);
			w->counts[level][p][slot] = 0;
		}
		fired += process(w, list, max - fired, fire, arg);
		if (fired == max)
			return fired; /* now stays at `next`: the rest is due on the next call */
	}
	w->now = to;
	drain_ahead(w);
	return fired;
}
