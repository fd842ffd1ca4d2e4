/* SPDX-License-Identifier: MIT */
/*
 * tests/test_timer_wheel.c: the hierarchical timer wheel on virtual time:
 * a million timers inserted, half cancelled, the rest fire in deadline
 * order and never early; deadlines at every level boundary and beyond the
 * wheel's range; past deadlines fire at the next advance; advancing in
 * small and large steps agrees; the top of the tick range; far timers
 * placed again at every top block boundary, one advance crossing many.
 */
#include <stdlib.h>

#include "core/timer_wheel.h"
#include "runner.h"

struct fired_log {
	uint64_t last;      /* deadline of the previous timer fired */
	uint64_t now;       /* the time advanced to */
	uint64_t start;     /* deadlines before this were already past at insert:
			     * they fire at the first advance, in any order */
	size_t n;
	bool out_of_order, early;
};

static void record(struct volt__timer *t, void *arg)
{
	struct fired_log *log = arg;

	if (t->deadline >= log->start && t->deadline < log->last)
		log->out_of_order = true;
	if (t->deadline > log->now)
		log->early = true;
	if (t->linked)
		log->early = true; /* must be unlinked before it fires */
	log->last = t->deadline;
	log->n++;
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define MANY VT_SCALE(1000000)

VOLT_TEST(timer_wheel_million_in_order_none_early)
{
	struct volt__wheel w;
	struct volt__timer *t = calloc(MANY, sizeof(*t));
	struct fired_log log = { .start = 1000 };
	uint64_t x = 12345;
	size_t live = 0;

	CHECK(t != NULL);
	volt__wheel_init(&w, 1000);
	for (size_t i = 0; i < MANY; i++) {
		/* deadlines spread over 10 s, some far (a day), some in the past */
		uint64_t r = rng_next(&x);

		t[i].deadline = r % 97 == 0 ? r % 1000 /* already past */
				: 1000 + (r % 10 == 0 ? r % 86400000 : r % 10000);
		volt__wheel_insert(&w, &t[i]);
	}
	CHECK_EQ(w.count, MANY);
	for (size_t i = 0; i < MANY; i += 2)
		volt__wheel_cancel(&w, &t[i]);
	for (size_t i = 1; i < MANY; i += 2)
		live++;
	CHECK_EQ(w.count, live);
	/* advance in uneven steps, each time checking nothing is late either */
	for (uint64_t now = 1000; w.count; now += 1 + rng_next(&x) % 5000) {
		uint64_t next = volt__wheel_next(&w);

		CHECK_GE(next, w.now);
		log.now = now;
		volt__wheel_advance(&w, now, SIZE_MAX, record, &log);
		CHECK(!log.out_of_order);
		CHECK(!log.early);
		for (size_t i = 1; i < MANY && i < 2001; i += 2) /* a sample: none overdue */
			if (t[i].linked)
				CHECK_GT(t[i].deadline, now);
	}
	CHECK_EQ(log.n, live);
	for (size_t i = 0; i < MANY; i++)
		CHECK(!t[i].linked);
	free(t);
}

VOLT_TEST(timer_wheel_level_boundaries_and_beyond)
{
	static const uint64_t offsets[] = {
		0, 1, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 262145,
		(1ull << 24) - 1, 1ull << 24, (1ull << 30) + 7, (1ull << 36) - 1, 1ull << 36,
		(1ull << 42) - 1, 1ull << 42, (1ull << 42) + 5, (1ull << 50) + 3, 1ull << 60,
	};
	enum { N = sizeof offsets / sizeof offsets[0] };

	for (uint64_t start = 0; start < 3; start++) {
		struct volt__wheel w;
		struct volt__timer t[N];
		struct fired_log log = { 0 };
		uint64_t base = start == 0 ? 0 : start == 1 ? 123456789 : (1ull << 42) - 3;

		volt__wheel_init(&w, base);
		for (int i = 0; i < N; i++) {
			t[i] = (struct volt__timer){ .deadline = base + offsets[i] };
			volt__wheel_insert(&w, &t[i]);
		}
		/* each deadline exactly: it fires at it, not a tick before */
		for (int i = 0; i < N; i++) {
			if (offsets[i] > 0) {
				log.now = base + offsets[i] - 1;
				volt__wheel_advance(&w, log.now, SIZE_MAX, record, &log);
				CHECK_MSG(t[i].linked, "offset %llu fired early",
					  (unsigned long long)offsets[i]);
			}
			log.now = base + offsets[i];
			volt__wheel_advance(&w, log.now, SIZE_MAX, record, &log);
			CHECK_MSG(!t[i].linked, "offset %llu did not fire",
				  (unsigned long long)offsets[i]);
			CHECK(!log.early && !log.out_of_order);
		}
		CHECK_EQ(log.n, N);
		CHECK_EQ(w.count, 0);
		CHECK_UEQ(volt__wheel_next(&w), UINT64_MAX);
	}
}

VOLT_TEST(timer_wheel_past_deadline_and_cancel)
{
	struct volt__wheel w;
	struct volt__timer past = { .deadline = 5 }, soon = { .deadline = 150 };
	struct fired_log log = { 0 };

	volt__wheel_init(&w, 100);
	volt__wheel_insert(&w, &past);
	volt__wheel_insert(&w, &soon);
	CHECK_UEQ(volt__wheel_next(&w), 100); /* the past one is due now */
	log.now = 100;
	CHECK_EQ(volt__wheel_advance(&w, 100, SIZE_MAX, record, &log), 1);
	CHECK(!past.linked && soon.linked);
	volt__wheel_cancel(&w, &soon);
	volt__wheel_cancel(&w, &soon); /* twice: no effect */
	log.now = 1000;
	CHECK_EQ(volt__wheel_advance(&w, 1000, SIZE_MAX, record, &log), 0);
	CHECK_EQ(w.count, 0);
	log.now = 999; /* time never runs backwards */
	volt__wheel_advance(&w, 10, SIZE_MAX, record, &log);
	CHECK_UEQ(w.now, 1000);
}

/* Advancing in batches of `max` fires the same timers, in the same order, as one advance. */
VOLT_TEST(timer_wheel_advance_in_batches)
{
	enum { N = 1000, BATCH = 7 };
	struct volt__wheel w;
	struct volt__timer *t = calloc(N, sizeof(*t));
	struct fired_log log = { .start = 0 };
	uint64_t x = 99;
	size_t got, total = 0, calls = 0;

	CHECK(t != NULL);
	volt__wheel_init(&w, 0);
	for (int i = 0; i < N; i++) {
		t[i].deadline = 1 + rng_next(&x) % 5000; /* many share a tick */
		volt__wheel_insert(&w, &t[i]);
	}
	log.now = 3000;
	do {
		got = volt__wheel_advance(&w, 3000, BATCH, record, &log);
		CHECK(got <= BATCH);
		total += got;
		calls++;
	} while (got == BATCH);
	CHECK(!log.early && !log.out_of_order);
	CHECK_UEQ(w.now, 3000);
	for (int i = 0; i < N; i++)
		CHECK_EQ(t[i].linked, t[i].deadline > 3000);
	CHECK_EQ(total, (size_t)N - w.count);
	CHECK(calls >= total / BATCH);
	free(t);
}

/*
 * A crowded level-1 slot is moved down ahead of its block, a batch per
 * advance, and its timers still fire exactly at their deadlines, in order;
 * one inserted into the next block meanwhile goes straight to level 0.
 */
VOLT_TEST(timer_wheel_crowded_slot_drains_ahead)
{
	enum { N = 20000 };
	struct volt__wheel w;
	struct volt__timer *t = calloc(N, sizeof(*t));
	struct volt__timer late = { 0 };
	struct fired_log log = { 0 };
	uint64_t x = 7;

	CHECK(t != NULL);
	volt__wheel_init(&w, 0);
	/* all in level-0 block 3 (ticks 192..255): level 1, slot 3 of level-1 block 0 */
	for (int i = 0; i < N; i++) {
		t[i].deadline = 192 + rng_next(&x) % 64;
		volt__wheel_insert(&w, &t[i]);
		CHECK_EQ(t[i].level, 1);
	}
	CHECK_EQ(w.counts[1][0][3], N);
	/* ticks 1..191: nothing fires; from block 2 on, advances drain slot 3 */
	for (log.now = 1; log.now < 192; log.now++) {
		CHECK_EQ(volt__wheel_advance(&w, log.now, SIZE_MAX, record, &log), 0);
		if (log.now == 129) { /* block 2 has begun: the draining has started */
			CHECK_LT(w.counts[1][0][3], N);
			late.deadline = 200;
			volt__wheel_insert(&w, &late);
			CHECK_EQ(late.level, 0); /* the next block is level 0's */
		}
	}
	CHECK_EQ(w.counts[1][0][3], 0); /* all moved down before the block began */
	for (; log.now < 256; log.now++)
		volt__wheel_advance(&w, log.now, SIZE_MAX, record, &log);
	CHECK(!log.early && !log.out_of_order);
	CHECK_EQ(log.n, N + 1);
	CHECK_EQ(w.count, 0);
	free(t);
}

/*
 * The top of the tick range (found by tests/fuzz/fuzz_timer.c): advancing to
 * UINT64_MAX ends, on an empty wheel too (it used to loop for ever: "no
 * event" and "an event at UINT64_MAX" looked the same), and a timer whose
 * slot starts at UINT64_MAX fires there.
 */
VOLT_TEST(timer_wheel_top_of_range)
{
	struct volt__wheel w;
	struct volt__timer t[2] = { { .deadline = UINT64_MAX }, { .deadline = UINT64_MAX - 1 } };
	struct fired_log log = { .now = UINT64_MAX };

	volt__wheel_init(&w, UINT64_MAX - 100);
	CHECK_EQ(volt__wheel_advance(&w, UINT64_MAX - 50, SIZE_MAX, record, &log), 0);
	volt__wheel_insert(&w, &t[0]);
	volt__wheel_insert(&w, &t[1]);
	CHECK_EQ(volt__wheel_advance(&w, UINT64_MAX, SIZE_MAX, record, &log), 2);
	CHECK(!log.early && !log.out_of_order);
	CHECK_EQ(w.now, UINT64_MAX);
	CHECK_EQ(w.count, 0);
	CHECK_EQ(volt__wheel_advance(&w, UINT64_MAX, SIZE_MAX, record, &log), 0);
	CHECK_EQ(volt__wheel_next(&w), UINT64_MAX);
}

struct at_log {
	const struct volt__wheel *w;
	size_t n;
	bool off_time; /* a timer fired at a tick other than its deadline */
};

static void record_at(struct volt__timer *t, void *arg)
{
	struct at_log *log = arg;

	if (log->w->now != t->deadline)
		log->off_time = true;
	log->n++;
}

/*
 * Far timers are placed again at every top block boundary (64^7 = 2^42
 * ticks), also when a slot starts at the same tick (found by
 * tests/fuzz/fuzz_timer.c, corpus regress-far-tie): that slot used to go
 * first, moving now into the new top block, and the far list then waited
 * for the block after. Here a level-6 slot at 2^42 and a level-0 slot at
 * 2^43 each tie with a boundary, and a timer inserted far at 7, due at
 * 2^43, fired at 3 * 2^42.
 */
VOLT_TEST(timer_wheel_far_list_at_a_tied_boundary)
{
	const uint64_t top = 1ull << 42;
	struct volt__wheel w;
	struct volt__timer far = { .deadline = 2 * top }, tie6 = { .deadline = top + 3 },
			   tie0 = { .deadline = 2 * top };
	struct at_log log = { .w = &w };

	volt__wheel_init(&w, 7);
	CHECK_UEQ(volt__wheel_insert(&w, &far), top); /* far: look at the next top block */
	volt__wheel_insert(&w, &tie6);                /* level 6, its slot starts at 2^42 */
	CHECK_EQ(tie6.level, 6);
	CHECK_EQ(volt__wheel_advance(&w, top, SIZE_MAX, record_at, &log), 0);
	CHECK(w.far == NULL); /* placed again at 2^42, with the slot there */
	CHECK_EQ(volt__wheel_advance(&w, 2 * top - 1, SIZE_MAX, record_at, &log), 1);
	volt__wheel_insert(&w, &tie0); /* level 0, its slot starts at 2^43 */
	CHECK_EQ(tie0.level, 0);
	CHECK_UEQ(volt__wheel_next(&w), 2 * top);
	CHECK_EQ(volt__wheel_advance(&w, 2 * top, SIZE_MAX, record_at, &log), 2);
	CHECK(!far.linked && !tie0.linked);
	CHECK(!log.off_time);
	CHECK_EQ(w.count, 0);
}

/*
 * One advance across many top blocks: the far list is placed again at each
 * boundary, and every timer fires at its deadline, those at a boundary and
 * those with a slot starting at one included.
 */
VOLT_TEST(timer_wheel_one_advance_across_top_blocks)
{
	const uint64_t top = 1ull << 42;
	enum { K = 12 };
	struct volt__wheel w;
	struct volt__timer t[3 * K];
	struct at_log log = { .w = &w };

	volt__wheel_init(&w, 5);
	for (int k = 0; k < K; k++) {
		t[3 * k] = (struct volt__timer){ .deadline = (k + 1) * top };          /* at a boundary */
		t[3 * k + 1] = (struct volt__timer){ .deadline = (k + 1) * top + 3 };  /* a slot at it */
		t[3 * k + 2] = (struct volt__timer){ .deadline = (k + 1) * top + 777777 };
	}
	for (int i = 0; i < 3 * K; i++)
		volt__wheel_insert(&w, &t[i]);
	CHECK_EQ(volt__wheel_advance(&w, (K + 2) * top, SIZE_MAX, record_at, &log), 3 * K);
	CHECK(!log.off_time);
	CHECK_EQ(w.count, 0);
	CHECK_UEQ(w.now, (K + 2) * top);
}
