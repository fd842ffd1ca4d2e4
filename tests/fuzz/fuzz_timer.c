/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_timer.c: the hierarchical timer wheel (core/timer_wheel.c)
 * against a reference model: an array of deadlines.
 *
 * The input is a program over 64 timers the fuzzer names (plus a pool for
 * bulk inserts), run on a wheel whose start time the first bytes choose:
 *
 *	insert i (a linked timer is cancelled first, as core/timers.c re-arms),
 *	cancel i (also when it is not linked: a no-op),
 *	advance to a time (with no limit, or a limit of 1..4 timers fired),
 *	bulk insert up to 1,020 timers into a few slots (so that a slot is
 *	crowded and drained ahead of its cascade), bulk cancel half of them.
 *
 * Deadlines are chosen near now, at and around every level boundary (64^k
 * ticks ahead, and the starts of the next level-k blocks), in the past, and
 * anywhere in the 64-bit range, far beyond the wheel's 64^7 ticks. Time
 * jumps by small steps, to boundaries, or across the whole range.
 *
 * The oracle, after each step (the wheel's granularity is one tick, the
 * unit of its deadlines, so "late" means any tick late):
 * - a timer fires only while linked in the model, exactly once, unlinked
 *   already, at time max(deadline, time of insert): never early, never late;
 *   time never goes back, so timers fire in the order of their firing
 *   times (those due at the same tick in any order: the ones already due
 *   when inserted wait on a list, not sorted);
 * - an advance fires every timer due by `to` and ends at `to`, unless its
 *   limit stops it: then it fired exactly `limit` timers; the return value
 *   is the number of calls to fire;
 * - a cancelled timer never fires; the wheel's count is the model's;
 * - volt__wheel_next is UINT64_MAX when empty, else between now and the
 *   first firing.
 */
#include <string.h>

#include "core/timer_wheel.h"
#include "tests/fuzz/fuzz.h"

#define NAMED 64
#define POOL (NAMED + 1020)

struct model {
	size_t used; /* timers[0..used) have been inserted in this input */
	bool live[POOL];
	uint64_t deadline[POOL];
	uint64_t fires_at[POOL]; /* max(deadline, now at insert) */
};

static struct volt__wheel wheel;
static struct volt__timer timers[POOL];
static struct model m;

/* The advance in progress, seen by fire(). */
static struct {
	uint64_t last_time; /* the time of the previous firing */
	size_t calls;
} adv;

static size_t live_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < m.used; i++)
		n += m.live[i];
	return n;
}

static void fire(struct volt__timer *t, void *arg)
{
	size_t i = (size_t)(t - timers);
	uint64_t now = wheel.now;

	(void)arg;
	FUZZ_CHECK(i < POOL, "fire() got a timer that is not ours");
	FUZZ_CHECK(m.live[i], "timer %zu fired, but it is not linked (cancelled or fired)", i);
	FUZZ_CHECK(!t->linked, "timer %zu fired while still linked", i);
	FUZZ_CHECK(now >= m.deadline[i], "timer %zu fired early: now %ju, deadline %ju", i,
		   (uintmax_t)now, (uintmax_t)m.deadline[i]);
	FUZZ_CHECK(now == m.fires_at[i], "timer %zu fired late: now %ju, due at %ju", i,
		   (uintmax_t)now, (uintmax_t)m.fires_at[i]);
	FUZZ_CHECK(now >= adv.last_time, "time went back: timer %zu fired at %ju after %ju", i,
		   (uintmax_t)now, (uintmax_t)adv.last_time);
	adv.last_time = now;
	adv.calls++;
	m.live[i] = false;
}

static void insert(size_t i, uint64_t deadline)
{
	if (m.live[i]) {
		volt__wheel_cancel(&wheel, &timers[i]);
		m.live[i] = false;
	}
	if (i >= m.used)
		m.used = i + 1;
	timers[i].deadline = deadline;
	uint64_t look = volt__wheel_insert(&wheel, &timers[i]);

	m.live[i] = true;
	m.deadline[i] = deadline;
	m.fires_at[i] = deadline > wheel.now ? deadline : wheel.now;
	FUZZ_CHECK(timers[i].linked, "timer %zu not linked after insert", i);
	FUZZ_CHECK(look >= wheel.now && look <= m.fires_at[i],
		   "insert of %ju at %ju: look at %ju, not between now and the deadline",
		   (uintmax_t)deadline, (uintmax_t)wheel.now, (uintmax_t)look);
}

static void cancel(size_t i)
{
	volt__wheel_cancel(&wheel, &timers[i]);
	m.live[i] = false;
	FUZZ_CHECK(!timers[i].linked, "timer %zu linked after cancel", i);
}

/* A deadline: near, at a level boundary, past, or anywhere. */
static uint64_t pick_deadline(struct fz *in)
{
	uint64_t now = wheel.now;
	uint8_t kind = fz_u8(in);
	unsigned k = 1 + fz_u8(in) % 7;         /* a level 1..7 */
	int d = (int)(fz_u8(in) % 5) - 2;       /* -2..2 around the boundary */

	switch (kind % 8) {
	case 0:
	case 1:
		return now + fz_u8(in);
	case 2: /* 64^k ticks ahead */
		return now + (1ull << (6 * k)) + (uint64_t)(int64_t)d;
	case 3: { /* the start of the next, second or third level-k block */
		uint64_t block = (now >> (6 * k)) + 1 + fz_u8(in) % 3;

		return (block << (6 * k)) + (uint64_t)(int64_t)d;
	}
	case 4: /* in the past */
		return now - (now < 300 ? now : fz_u8(in));
	case 5:
		return now + fz_u32(in);
	case 6:
		return now + (fz_u64(in) >> (fz_u8(in) % 64));
	default:
		return fz_u64(in); /* anywhere, wrapping included */
	}
}

/* A time to advance to: near, a level boundary, the next firing, or anywhere. */
static uint64_t pick_any_time(struct fz *in)
{
	uint64_t now = wheel.now;
	uint8_t kind = fz_u8(in);
	unsigned k = 1 + fz_u8(in) % 7;

	switch (kind % 6) {
	case 0:
	case 1:
		return now + fz_u8(in);
	case 2: /* up to a level boundary, or just before or after it */
		return (((now >> (6 * k)) + 1) << (6 * k)) + (uint64_t)(int64_t)((int)(fz_u8(in) % 3) - 1);
	case 3: { /* the next deadline in the model, give or take a tick */
		uint64_t first = UINT64_MAX;

		for (size_t i = 0; i < m.used; i++)
			if (m.live[i] && m.fires_at[i] < first)
				first = m.fires_at[i];
		return first + (uint64_t)(int64_t)((int)(fz_u8(in) % 3) - 1);
	}
	case 4:
		return now + fz_u32(in);
	default:
		return fz_u64(in); /* backwards (a no-op) or anywhere ahead */
	}
}

/*
 * A time to advance to, at most MAX_JUMP ahead. This bounds the fuzzer's
 * time, not what the wheel promises: an advance may jump any distance and
 * fires every timer exactly on time (core/timer_wheel.h), but while far
 * timers wait it stops at every top block boundary (every 64^7 ticks) to
 * place them again, so crossing the whole 64-bit range would take 2^22
 * steps. Four top blocks still cross several boundaries in one advance
 * (regress-far-tie: a far timer skipped two boundaries and fired late).
 */
#define MAX_JUMP (1ull << 44) /* four top blocks */

static uint64_t pick_time(struct fz *in)
{
	uint64_t now = wheel.now, to = pick_any_time(in);

	return to > now && to - now > MAX_JUMP ? now + MAX_JUMP : to;
}

static void advance(uint64_t to, size_t max)
{
	uint64_t before = wheel.now, end = to > before ? to : before;
	size_t due = 0, fired;

	for (size_t i = 0; i < m.used; i++)
		due += m.live[i] && m.fires_at[i] <= end;
	adv.last_time = before;
	adv.calls = 0;
	fired = volt__wheel_advance(&wheel, to, max, fire, NULL);
	FUZZ_CHECK(fired == adv.calls, "advance returned %zu after %zu firings", fired, adv.calls);
	FUZZ_CHECK(wheel.now >= before && wheel.now <= end, "advance to %ju from %ju ended at %ju",
		   (uintmax_t)to, (uintmax_t)before, (uintmax_t)wheel.now);
	if (due < max) { /* (with exactly max due, it stops after the last, as documented) */
		FUZZ_CHECK(fired == due, "advance to %ju fired %zu of the %zu due", (uintmax_t)end,
			   fired, due);
		FUZZ_CHECK(wheel.now == end, "advance to %ju ended at %ju", (uintmax_t)end,
			   (uintmax_t)wheel.now);
	} else {
		FUZZ_CHECK(fired == max, "advance with limit %zu fired %zu (%zu due)", max, fired,
			   due);
	}
}

static void check_next(void)
{
	uint64_t next = volt__wheel_next(&wheel), first = UINT64_MAX;
	size_t live = live_count();

	FUZZ_CHECK(wheel.count == live, "wheel count %zu, model %zu", wheel.count, live);
	for (size_t i = 0; i < m.used; i++)
		if (m.live[i] && m.fires_at[i] < first)
			first = m.fires_at[i];
	if (!live) {
		FUZZ_CHECK(next == UINT64_MAX, "empty wheel: next %ju", (uintmax_t)next);
		return;
	}
	FUZZ_CHECK(next >= wheel.now && next <= first,
		   "next %ju, not between now %ju and the first firing %ju", (uintmax_t)next,
		   (uintmax_t)wheel.now, (uintmax_t)first);
}

/* Up to 1,020 timers of the pool into `slots` consecutive ticks from `base`. */
static void bulk_insert(struct fz *in)
{
	size_t n = 4u * fz_u8(in);
	uint64_t base = pick_deadline(in);
	unsigned spread = 1 + fz_u8(in) % 8;

	for (size_t j = 0; j < n; j++)
		insert(NAMED + j, base + j % spread);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	uint64_t start = fz_u8(&in) & 1 ? fz_u64(&in) : fz_u16(&in);

	volt__wheel_init(&wheel, start);
	memset(&m, 0, sizeof(m));
	memset(timers, 0, sizeof(timers));
	for (unsigned steps = 0; fz_more(&in) && steps < 256; steps++) {
		uint8_t op = fz_u8(&in);
		size_t i = fz_u8(&in) % NAMED;

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
			insert(i, pick_deadline(&in));
			break;
		case 3:
			cancel(i);
			break;
		case 4:
		case 5:
			advance(pick_time(&in), SIZE_MAX);
			break;
		case 6:
			advance(pick_time(&in), 1 + i % 4);
			break;
		default:
			if (i & 1) {
				bulk_insert(&in);
			} else {
				for (size_t j = NAMED + (i & 2 ? 1 : 0); j < m.used; j += 2)
					if (m.live[j])
						cancel(j);
			}
			break;
		}
		check_next();
	}
	/* the end: what is due within MAX_JUMP fires, each at its time; the rest cancels */
	advance(wheel.now + MAX_JUMP < wheel.now ? UINT64_MAX : wheel.now + MAX_JUMP, SIZE_MAX);
	check_next();
	for (size_t j = 0; j < m.used; j++)
		if (m.live[j])
			cancel(j);
	check_next();
	return 0;
}
