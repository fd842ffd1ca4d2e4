/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sim.c: the `sim` policy as a model checker.
 *
 * - Replay: a program whose tasks log (task, step) in poll order produces
 *   the same log for the same seed and different logs across seeds.
 * - A planted bug: tasks doing `tmp = shared; yield; shared = tmp + 1` lose
 *   updates under some interleavings. Looping over seeds finds one (the
 *   seed is printed), replaying that seed shows the same lost update, and
 *   the correct version (no await between read and write) never loses one.
 *
 * These set cfg.scheduler = "sim" and cfg.seed themselves, so they are plain
 * tests, run once. Everything after the root spawn happens on the single
 * sim worker, so the interleaving depends on the seed alone.
 */
#include <stdlib.h>

#include "helpers.h"

static void require_sim(void)
{
	for (unsigned i = 0; volt_sched_name(i); i++)
		if (strcmp(volt_sched_name(i), "sim") == 0)
			return;
	VT_SKIP("no sim policy in this build");
}

static struct volt_rt *sim_rt(uint64_t seed)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;

	CHECK_OK(volt_config_init(&cfg));
	cfg.scheduler = "sim";
	cfg.workers = 1;
	cfg.seed = seed;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_STR_EQ(volt_rt_scheduler(rt), "sim");
	CHECK_UEQ(volt_rt_seed(rt), seed);
	return rt;
}

/*
 * A root task spawns `n` copies of a child (from the worker, so the spawn
 * order is part of the deterministic run) and awaits them all.
 */
#define MAX_KIDS 16

struct root {
	struct volt_future base;
	const void *child;
	size_t child_size;
	int n, i;
	struct volt_join *j[MAX_KIDS];
	struct volt_join_future jf;
};

static enum volt_poll root_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct root *r = (struct root *)f;

	VOLT_BEGIN(f);
	for (int k = 0; k < r->n; k++) {
		/* each child gets its index in its first field after the base */
		_Alignas(max_align_t) unsigned char buf[256];

		CHECK_LE(r->child_size, sizeof buf);
		memcpy(buf, r->child, r->child_size);
		memcpy(buf + sizeof(struct volt_future), &k, sizeof k);
		CHECK_OK(volt_spawn(cx->rt, (struct volt_future *)buf, r->child_size, &r->j[k]));
	}
	for (r->i = 0; r->i < r->n; r->i++) {
		VOLT_AWAIT(f, cx, volt_join_await(&r->jf, r->j[r->i]));
		CHECK_EQ(r->jf.result, 0);
	}
	VOLT_END(f);
}

static const struct volt_future_ops root_ops = { root_poll, NULL };

static void run_root(uint64_t seed, const void *child, size_t size, int n)
{
	struct volt_rt *rt = sim_rt(seed);
	struct root r;

	CHECK_LE(n, MAX_KIDS);
	memset(&r, 0, sizeof r);
	volt_future_init(&r.base, &root_ops);
	r.child = child;
	r.child_size = size;
	r.n = n;
	vt_join(vt_spawn(rt, &r, sizeof r, false));
	volt_rt_free(rt);
}

/* ---- replay */

#define T_KIDS 6
#define T_STEPS 20
#define T_LEN (T_KIDS * T_STEPS)

static int trace[T_LEN];
static atomic_int trace_len;

struct stepper {
	struct volt_future base;
	int id; /* set by the root */
	int i;
};

static enum volt_poll stepper_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct stepper *s = (struct stepper *)f;

	VOLT_BEGIN(f);
	for (s->i = 0; s->i < T_STEPS; s->i++) {
		int at = atomic_fetch_add(&trace_len, 1);

		CHECK_LT(at, T_LEN);
		trace[at] = s->id * 1000 + s->i;
		VOLT_YIELD(f, cx);
	}
	VOLT_END(f);
}

static const struct volt_future_ops stepper_ops = { stepper_poll, NULL };

static void run_trace(uint64_t seed, int *out)
{
	struct stepper s = { VOLT_FUTURE_INIT(&stepper_ops), 0, 0 };
	int next[T_KIDS] = { 0 };

	atomic_store(&trace_len, 0);
	run_root(seed, &s, sizeof s, T_KIDS);
	CHECK_EQ(atomic_load(&trace_len), T_LEN);
	memcpy(out, trace, sizeof trace);
	/* sanity: every (task, step) once, each task's steps in order */
	for (int k = 0; k < T_LEN; k++) {
		int id = out[k] / 1000, step = out[k] % 1000;

		CHECK(id >= 0 && id < T_KIDS);
		CHECK_EQ(step, next[id]);
		next[id]++;
	}
}

VOLT_TEST(sim_replay_same_seed)
{
	static int a[T_LEN], b[T_LEN], c[T_LEN];
	int differing = 0;

	require_sim();
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run_trace(seed, a);
		run_trace(seed, b);
		CHECK_MSG(memcmp(a, b, sizeof a) == 0, "seed %" PRIu64 " did not replay", seed);
	}
	run_trace(1, a);
	for (uint64_t seed = 2; seed <= 9; seed++) {
		run_trace(seed, c);
		if (memcmp(a, c, sizeof a) != 0)
			differing++;
	}
	printf("  %d of 8 other seeds give a different trace from seed 1\n", differing);
	CHECK_GE(differing, 1);
}

/* ---- a planted lost update */

#define R_KIDS 2
#define R_ITERS 3
#define R_SEEDS 100

static int shared_counter; /* only the single sim worker touches it */

struct racer {
	struct volt_future base;
	int id; /* set by the root */
	int i, tmp;
	bool racy;
};

static enum volt_poll racer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct racer *r = (struct racer *)f;

	VOLT_BEGIN(f);
	for (r->i = 0; r->i < R_ITERS; r->i++) {
		if (r->racy) {
			r->tmp = shared_counter;
			VOLT_YIELD(f, cx); /* the bug: an await between read and write */
			shared_counter = r->tmp + 1;
		} else {
			shared_counter = shared_counter + 1;
			VOLT_YIELD(f, cx);
		}
	}
	VOLT_END(f);
}

static const struct volt_future_ops racer_ops = { racer_poll, NULL };

static int run_race(uint64_t seed, bool racy)
{
	struct racer r = { VOLT_FUTURE_INIT(&racer_ops), 0, 0, 0, racy };

	shared_counter = 0;
	run_root(seed, &r, sizeof r, R_KIDS);
	return shared_counter;
}

VOLT_TEST(sim_finds_lost_update)
{
	const int want = R_KIDS * R_ITERS;
	uint64_t found = 0;
	int got = want;

	require_sim();
	for (uint64_t seed = 1; seed <= R_SEEDS && !found; seed++) {
		got = run_race(seed, true);
		CHECK_LE(got, want);
		if (got != want)
			found = seed;
	}
	CHECK_MSG(found != 0, "no lost update within %d seeds", R_SEEDS);
	printf("  lost update at seed %" PRIu64 ": counter %d, expected %d\n", found, got, want);
	/* replaying the seed replays the bug */
	for (int k = 0; k < 3; k++)
		CHECK_EQ(run_race(found, true), got);
}

VOLT_TEST(sim_correct_version_never_loses)
{
	const int want = R_KIDS * R_ITERS;

	require_sim();
	for (uint64_t seed = 1; seed <= R_SEEDS; seed++) {
		int got = run_race(seed, false);

		CHECK_MSG(got == want, "seed %" PRIu64 ": counter %d", seed, got);
	}
}
