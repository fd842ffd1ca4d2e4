/* SPDX-License-Identifier: MIT */
/*
 * tests/test_time.c: durations and instants; sleep, interval and timeout
 * under every policy. On the virtual clock (exact): sleepers wake exactly at
 * their deadline, in deadline order, half of them cancelled; deadlines at
 * every wheel-level boundary and beyond the wheel's range; the three
 * missed-tick modes; a timeout firing and not firing, its inner future
 * dropped once; the clock holding while a blocking job runs. On the real
 * clock (loose: never earlier than asked, no upper bounds but the runner's
 * timeout): a 50 ms sleep from a task, a fiber and a plain thread; a sleep
 * armed while the timekeeper sleeps on a later deadline.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/rt.h"
#include "helpers.h"

#define MS ((uint64_t)1000000)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct volt_rt *rt_with_clock(const char *policy, unsigned workers, enum volt_clock clock)
{
	struct volt_config cfg;
	struct volt_rt *rt;

	vt_cfg(&cfg, policy, workers);
	cfg.clock = clock;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	return rt;
}

/* Timers still linked in any wheel of rt (read after the workers are quiet). */
static size_t timers_linked(struct volt_rt *rt)
{
	size_t n = 0;

	for (unsigned i = 0; i < rt->timers.nshards; i++) {
		pthread_mutex_lock(&rt->timers.shards[i].lock);
		n += rt->timers.shards[i].wheel.count;
		pthread_mutex_unlock(&rt->timers.shards[i].lock);
	}
	return n;
}

/*
 * Holding the virtual clock still while the test sets up: it does not move
 * while a blocking job runs, and threads outside the runtime (this one) do
 * not count as busy. Without the hold, the clock could jump to the first
 * sleeper's deadline before the next sleeper is spawned.
 */
struct clock_hold {
	atomic_bool release;
	struct volt_blocking *job;
};

static void *wait_release(void *arg)
{
	struct clock_hold *h = arg;

	while (!atomic_load(&h->release))
		vt_sleep_us(100);
	return NULL;
}

static void clock_hold(struct volt_rt *rt, struct clock_hold *h)
{
	atomic_init(&h->release, false);
	CHECK_OK(volt_concurrent(rt, wait_release, h, &h->job));
}

static void clock_release(struct clock_hold *h)
{
	atomic_store(&h->release, true);
	CHECK_OK(volt_blocking_wait(h->job, NULL));
}

/* ---- durations and instants */

VOLT_TEST(time_duration_arithmetic_saturates)
{
	CHECK_UEQ(volt_ms(3).ns, 3000000);
	CHECK_UEQ(volt_secs(2).ns, 2000000000);
	CHECK_UEQ(volt_mins(1).ns, volt_secs(60).ns);
	CHECK_UEQ(volt_hours(1).ns, volt_mins(60).ns);
	CHECK_UEQ(volt_days(1).ns, volt_hours(24).ns);
	CHECK_UEQ(volt_us(7).ns, 7000);
	CHECK_UEQ(volt_duration_as_ms(volt_us(2500)), 2);
	CHECK_UEQ(volt_duration_as_secs(volt_ms(1999)), 1);
	CHECK_UEQ(volt_duration_as_us(volt_ns(1999)), 1);
	/* saturation at both ends */
	CHECK_UEQ(volt_days(UINT64_MAX / 1000).ns, UINT64_MAX);
	CHECK_UEQ(volt_duration_add(VOLT_DURATION_MAX, volt_ns(1)).ns, UINT64_MAX);
	CHECK_UEQ(volt_duration_sub(volt_ns(1), volt_ns(2)).ns, 0);
	CHECK_UEQ(volt_duration_mul(volt_secs(1), UINT64_MAX).ns, UINT64_MAX);
	CHECK_UEQ(volt_duration_mul(volt_secs(1), 3).ns, 3000000000ull);
	CHECK_UEQ(volt_duration_div(volt_secs(1), 4).ns, 250000000ull);
	CHECK_UEQ(volt_duration_div(volt_secs(1), 0).ns, UINT64_MAX);
	CHECK_EQ(volt_duration_cmp(volt_ms(1), volt_us(1000)), 0);
	CHECK_EQ(volt_duration_cmp(volt_ms(1), volt_us(999)), 1);
	CHECK_EQ(volt_duration_cmp(volt_ms(1), volt_us(1001)), -1);

	volt_instant a = { 1000 }, b = volt_instant_add(a, volt_ns(500));

	CHECK_UEQ(b.ns, 1500);
	CHECK(volt_instant_is_before(a, b) && volt_instant_is_after(b, a));
	CHECK_UEQ(volt_instant_since(b, a).ns, 500);
	CHECK_UEQ(volt_instant_since(a, b).ns, 0);
	CHECK_UEQ(volt_instant_sub(a, volt_secs(1)).ns, 0);
	CHECK_UEQ(volt_instant_add(b, VOLT_DURATION_MAX).ns, UINT64_MAX);
	CHECK_EQ(volt_instant_cmp(a, b), -1);

	/* outside any runtime the clock is CLOCK_MONOTONIC, and it moves forward */
	uint64_t before = mono_ns();
	volt_instant now = volt_instant_now(NULL);

	CHECK_GE(now.ns, before);
	CHECK_LE(now.ns, mono_ns());
}

/* ---- a task that sleeps and records when it woke */

static atomic_ulong wake_seq;

struct sleeper {
	struct volt_future base;
	uint64_t deadline;        /* absolute, on the runtime's clock */
	uint64_t woke;            /* the clock when the sleep completed */
	uint64_t seq;             /* order of completion among all sleepers */
	struct volt_sleep s;
	uint64_t *woke_out, *seq_out;
};

static enum volt_poll sleeper_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct sleeper *s = (struct sleeper *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_sleep_until(&s->s, (volt_instant){ s->deadline }));
	*s->woke_out = volt_instant_now(cx->rt).ns;
	*s->seq_out = atomic_fetch_add(&wake_seq, 1);
	VOLT_END(f);
}

static const struct volt_future_ops sleeper_ops = { .poll = sleeper_poll };

static struct volt_join *spawn_sleeper(struct volt_rt *rt, uint64_t deadline, uint64_t *woke,
				       uint64_t *seq)
{
	struct sleeper s = { .base = VOLT_FUTURE_INIT(&sleeper_ops), .deadline = deadline,
			     .woke_out = woke, .seq_out = seq };

	return vt_spawn(rt, &s, sizeof s, false);
}

#define SLEEPERS VT_SCALE(20000)

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The tick a deadline fires at on the virtual clock: rounded up to the ms. */
static uint64_t tick_ns(uint64_t deadline)
{
	return (deadline + MS - 1) / MS * MS;
}

VOLT_RT_TEST(time_virtual_sleepers_exact_and_in_order)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_VIRTUAL);
	struct volt_join **j = calloc(SLEEPERS, sizeof(*j));
	uint64_t *deadline = calloc(SLEEPERS, sizeof(uint64_t));
	uint64_t *woke = calloc(SLEEPERS, sizeof(uint64_t));
	uint64_t *seq = calloc(SLEEPERS, sizeof(uint64_t));
	uint64_t x = 42;
	struct clock_hold hold;

	CHECK(j && deadline && woke && seq);
	CHECK_UEQ(volt_instant_now(rt).ns, 0); /* the virtual clock starts at 0 */
	clock_hold(rt, &hold);
	for (size_t i = 0; i < SLEEPERS; i++) {
		/* up to 10 s, sub-millisecond parts included, some a day away */
		uint64_t r = xorshift(&x);

		deadline[i] = r % 97 == 0 ? r % (24 * 3600 * 1000000000ull) : r % (10000 * MS);
		woke[i] = seq[i] = UINT64_MAX;
		j[i] = spawn_sleeper(rt, deadline[i], &woke[i], &seq[i]);
	}
	for (size_t i = 0; i < SLEEPERS; i += 2)
		volt_join_cancel(j[i]);
	clock_release(&hold);
	for (size_t i = 0; i < SLEEPERS; i++) {
		int ret = volt_join_wait(j[i], NULL);

		if (i % 2)
			CHECK_OK(ret);
	}
	size_t live = 0;

	for (size_t i = 0; i < SLEEPERS; i++) {
		if (woke[i] == UINT64_MAX) {
			CHECK_MSG(i % 2 == 0, "sleeper %zu never woke", i);
			continue; /* cancelled before it woke */
		}
		live++;
		CHECK_MSG(woke[i] == tick_ns(deadline[i]),
			  "sleeper %zu: deadline %" PRIu64 " woke at %" PRIu64, i, deadline[i],
			  woke[i]);
	}
	CHECK_GE(live, SLEEPERS / 2);
	/* completion order follows the deadline ticks */
	for (size_t a = 1; a < SLEEPERS; a += 2)
		for (size_t b = a + 2; b < SLEEPERS && b < a + 200; b += 2)
			if (tick_ns(deadline[a]) < tick_ns(deadline[b]))
				CHECK_MSG(seq[a] < seq[b], "sleepers %zu and %zu out of order", a, b);
	CHECK_EQ(timers_linked(rt), 0);
	free(j);
	free(deadline);
	free(woke);
	free(seq);
	volt_rt_free(rt);
}

VOLT_RT_TEST(time_virtual_level_boundaries_and_beyond)
{
	/* every level's span, one less and one more, 2^36 ms, and past the wheel */
	static const uint64_t ms[] = {
		1, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 262145,
		16777215, 16777216, 16777217, 1073741823, 1073741824, 1073741825,
		68719476735ull, 68719476736ull, 68719476737ull,
		4398046511103ull, 4398046511104ull, 4398046511105ull, /* 64^7 ms: 139 years */
		5000000000000ull,
	};
	enum { N = sizeof(ms) / sizeof(ms[0]) };
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_VIRTUAL);
	struct volt_join *j[N];
	uint64_t woke[N], seq[N];
	struct clock_hold hold;

	clock_hold(rt, &hold);
	for (int i = 0; i < N; i++)
		j[i] = spawn_sleeper(rt, ms[i] * MS, &woke[i], &seq[i]);
	clock_release(&hold);
	for (int i = 0; i < N; i++)
		CHECK_OK(volt_join_wait(j[i], NULL));
	for (int i = 0; i < N; i++) {
		CHECK_MSG(woke[i] == ms[i] * MS, "%" PRIu64 " ms woke at %" PRIu64 " ns", ms[i],
			  woke[i]);
		if (i)
			CHECK(seq[i] > seq[i - 1]);
	}
	/* a deadline already past is ready at once */
	uint64_t now = volt_instant_now(rt).ns, w2, s2;

	CHECK_OK(volt_join_wait(spawn_sleeper(rt, 5 * MS, &w2, &s2), NULL));
	CHECK_UEQ(w2, now);
	volt_rt_free(rt);
}

/* ---- interval: the three missed-tick modes on the virtual clock */

struct ticker {
	struct volt_future base;
	struct volt_interval iv;
	struct volt_sleep nap;
	int i;
	uint64_t sched[6], at[6]; /* each tick's scheduled time and the clock when taken */
};

static enum volt_poll ticker_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct ticker *t = (struct ticker *)f;

	VOLT_BEGIN(f);
	for (t->i = 0; t->i < 6; t->i++) {
		VOLT_AWAIT(f, cx, volt_interval_tick(&t->iv));
		t->sched[t->i] = t->iv.last.ns;
		t->at[t->i] = volt_instant_now(cx->rt).ns;
		if (t->i == 0) /* late: miss the ticks at 200, 300 and 400 ms */
			VOLT_AWAIT(f, cx, volt_sleep(&t->nap, volt_ms(350)));
	}
	VOLT_RETURN(f, cx, t);
	VOLT_END(f);
}

static const struct volt_future_ops ticker_ops = { .poll = ticker_poll };

VOLT_RT_TEST(time_interval_missed_tick_modes)
{
	static const struct {
		enum volt_missed_tick mode;
		uint64_t sched[6], at[6];
	} want[] = {
		/* first tick at 100; taken late at 450 */
		{ VOLT_MISSED_BURST, { 100, 200, 300, 400, 500, 600 }, { 100, 450, 450, 450, 500, 600 } },
		{ VOLT_MISSED_DELAY, { 100, 200, 550, 650, 750, 850 }, { 100, 450, 550, 650, 750, 850 } },
		{ VOLT_MISSED_SKIP, { 100, 200, 500, 600, 700, 800 }, { 100, 450, 500, 600, 700, 800 } },
	};

	for (int m = 0; m < 3; m++) {
		struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_VIRTUAL);
		struct ticker t = { .base = VOLT_FUTURE_INIT(&ticker_ops) };
		struct ticker *done;

		CHECK_OK(volt_interval_init_at(&t.iv, (volt_instant){ 100 * MS }, volt_ms(100),
					       want[m].mode));
		done = vt_join(vt_spawn(rt, &t, sizeof t, false));
		for (int i = 0; i < 6; i++) {
			CHECK_MSG(done->sched[i] == want[m].sched[i] * MS &&
					  done->at[i] == want[m].at[i] * MS,
				  "mode %d tick %d: scheduled %" PRIu64 " taken %" PRIu64, m, i,
				  done->sched[i] / MS, done->at[i] / MS);
		}
		CHECK_UEQ(done->iv.ticks, 6);
		volt_rt_free(rt);
	}
}

VOLT_TEST(time_interval_invalid_and_try_tick)
{
	struct volt_interval iv;

	CHECK_EQ(volt_interval_init(NULL, volt_ms(1), false, VOLT_MISSED_DELAY), -EINVAL);
	CHECK_EQ(volt_interval_init(&iv, VOLT_DURATION_ZERO, false, VOLT_MISSED_DELAY), -EINVAL);
	CHECK_EQ(volt_interval_init(&iv, volt_ms(1), false, (enum volt_missed_tick)7), -EINVAL);
	CHECK_EQ(volt_interval_init_at(&iv, (volt_instant){ 0 }, VOLT_DURATION_ZERO,
				       VOLT_MISSED_SKIP), -EINVAL);
	/* immediate: the first tick is due at once, the second a period later */
	CHECK_OK(volt_interval_init(&iv, volt_secs(3600), true, VOLT_MISSED_DELAY));
	CHECK(volt_interval_try_tick(&iv, NULL));
	CHECK(!volt_interval_try_tick(&iv, NULL));
	CHECK_UEQ(iv.ticks, 1);
}

/* ---- timeout */

struct timed {
	struct volt_future base;
	struct volt_timeout to;
	struct vt_forever never;
	struct vt_gate_wait gw;
	struct vt_gate *gate;  /* NULL: the inner future never completes */
	uint64_t after;        /* ms */
	int result;
	uint64_t done_at;
	atomic_int *drops;
};

static enum volt_poll timed_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct timed *t = (struct timed *)f;
	struct volt_future *inner;

	VOLT_BEGIN(f);
	if (t->gate) {
		inner = vt_gate_wait(&t->gw, t->gate, t->drops);
	} else {
		vt_forever_init(&t->never, true, NULL, t->drops, NULL);
		inner = &t->never.base;
	}
	VOLT_AWAIT(f, cx, volt_timeout(&t->to, inner, volt_ms(t->after)));
	t->result = t->to.result;
	t->done_at = volt_instant_now(cx->rt).ns;
	VOLT_RETURN(f, cx, t);
	VOLT_END(f);
}

static const struct volt_future_ops timed_ops = { .poll = timed_poll };

struct opener {
	struct volt_future base;
	struct volt_sleep s;
	struct vt_gate *gate;
};

static enum volt_poll opener_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct opener *o = (struct opener *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_sleep(&o->s, volt_ms(10)));
	vt_gate_open(o->gate);
	VOLT_END(f);
}

static const struct volt_future_ops opener_ops = { .poll = opener_poll };

VOLT_RT_TEST(time_timeout_fires_and_drops_inner_once)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_VIRTUAL);
	atomic_int drops = 0;
	struct timed t = { .base = VOLT_FUTURE_INIT(&timed_ops), .after = 50, .drops = &drops };
	struct timed *done = vt_join(vt_spawn(rt, &t, sizeof t, false));

	CHECK_EQ(done->result, -ETIMEDOUT);
	CHECK_UEQ(done->done_at, 50 * MS);
	CHECK_EQ(atomic_load(&drops), 1);
	CHECK_EQ(timers_linked(rt), 0);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1); /* shutdown found nothing left to drop */
}

VOLT_RT_TEST(time_timeout_not_fired_inner_completes)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_VIRTUAL);
	struct vt_gate gate;
	atomic_int drops = 0;
	struct opener o = { .base = VOLT_FUTURE_INIT(&opener_ops), .gate = &gate };
	struct timed t = { .base = VOLT_FUTURE_INIT(&timed_ops), .after = 1000, .drops = &drops,
			   .gate = &gate };
	struct volt_join *jt, *jo;
	struct timed *done;
	struct clock_hold hold;

	vt_gate_init(&gate);
	clock_hold(rt, &hold);
	jt = vt_spawn(rt, &t, sizeof t, false);
	jo = vt_spawn(rt, &o, sizeof o, false);
	clock_release(&hold);
	done = vt_join(jt);
	vt_join(jo);
	CHECK_EQ(done->result, 0);
	CHECK_UEQ(done->done_at, 10 * MS); /* when the gate opened, not the deadline */
	CHECK_EQ(atomic_load(&drops), 1);
	CHECK_EQ(timers_linked(rt), 0);    /* the 1 s timer was taken out */
	volt_rt_free(rt);
	vt_gate_destroy(&gate);
}

VOLT_RT_TEST(time_timeout_cancelled_drops_inner_once)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_REAL);
	atomic_int drops = 0;
	struct timed t = { .base = VOLT_FUTURE_INIT(&timed_ops), .after = 3600000, .drops = &drops };
	struct volt_join *j = vt_spawn(rt, &t, sizeof t, false);

	VT_WAIT_FOR(timers_linked(rt) == 1); /* pending on its timer */
	volt_join_cancel(j);
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	CHECK_EQ(atomic_load(&drops), 1);
	CHECK_EQ(timers_linked(rt), 0);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&drops), 1);
}

/* ---- the virtual clock holds while a blocking job runs */

static atomic_bool slept_a_second;

static void *real_nap(void *arg)
{
	(void)arg;
	vt_sleep_us(30000); /* 30 ms of real time */
	return (void *)(intptr_t)atomic_load(&slept_a_second);
}

struct long_sleeper {
	struct volt_future base;
	struct volt_sleep s;
};

static enum volt_poll long_sleeper_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct long_sleeper *l = (struct long_sleeper *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_sleep(&l->s, volt_secs(1)));
	atomic_store(&slept_a_second, true);
	VOLT_END(f);
}

static const struct volt_future_ops long_sleeper_ops = { .poll = long_sleeper_poll };

VOLT_RT_TEST(time_virtual_clock_holds_during_blocking_job)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_VIRTUAL);
	struct long_sleeper l = { .base = VOLT_FUTURE_INIT(&long_sleeper_ops) };
	struct volt_blocking *h;
	struct volt_join *j;
	void *seen = (void *)1;

	CHECK_OK(volt_concurrent(rt, real_nap, NULL, &h));
	j = vt_spawn(rt, &l, sizeof l, false);
	CHECK_OK(volt_blocking_wait(h, &seen));
	CHECK_PTR_EQ(seen, NULL); /* the second had not passed while the job ran */
	vt_join(j);
	CHECK(atomic_load(&slept_a_second));
	CHECK_UEQ(volt_instant_now(rt).ns, 1000 * MS);
	volt_rt_free(rt);
}

/* ---- the real clock: never early */

static void *fiber_sleeps(struct volt_rt *rt, void *arg)
{
	uint64_t t0 = mono_ns();

	(void)rt;
	(void)arg;
	CHECK_OK(volt_blocking_sleep(volt_ms(50)));
	return (void *)(uintptr_t)(mono_ns() - t0);
}

struct real_sleep {
	struct volt_future base;
	struct volt_sleep s;
	uint64_t t0;
};

static enum volt_poll real_sleep_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct real_sleep *r = (struct real_sleep *)f;

	VOLT_BEGIN(f);
	r->t0 = mono_ns();
	CHECK_EQ(volt_blocking_sleep(volt_ms(1)), -EDEADLK); /* a stackless task must await */
	VOLT_AWAIT(f, cx, volt_sleep(&r->s, volt_ms(50)));
	VOLT_RETURN(f, cx, mono_ns() - r->t0);
	VOLT_END(f);
}

static const struct volt_future_ops real_sleep_ops = { .poll = real_sleep_poll };

VOLT_RT_TEST(time_real_sleep_50ms_never_early)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_REAL);
	struct real_sleep r = { .base = VOLT_FUTURE_INIT(&real_sleep_ops) };
	struct volt_sleep s;
	struct volt_join *j;
	void *out;
	uint64_t t0;

	out = vt_join(vt_spawn(rt, &r, sizeof r, false));
	CHECK_GE((uint64_t)(uintptr_t)out, 50 * MS);
	CHECK_OK(volt_spawn_fiber(rt, fiber_sleeps, NULL, 0, &j));
	out = vt_join(j);
	CHECK_GE((uint64_t)(uintptr_t)out, 50 * MS);
	/* a plain thread: on the runtime's timers, with no runtime, and as a thread sleep */
	t0 = mono_ns();
	CHECK_OK(volt_block_on(rt, volt_sleep(&s, volt_ms(50)), NULL));
	CHECK_GE(mono_ns() - t0, 50 * MS);
	t0 = mono_ns();
	CHECK_OK(volt_block_on(NULL, volt_sleep(&s, volt_ms(50)), NULL));
	CHECK_GE(mono_ns() - t0, 50 * MS);
	t0 = mono_ns();
	CHECK_OK(volt_blocking_sleep(volt_ms(50)));
	CHECK_GE(mono_ns() - t0, 50 * MS);
	CHECK_EQ(timers_linked(rt), 0);
	volt_rt_free(rt);
}

VOLT_TEST(time_timeout_without_runtime)
{
	struct volt_timeout to;
	struct vt_forever never;
	atomic_int drops = 0;
	uint64_t t0 = mono_ns();

	vt_forever_init(&never, true, NULL, &drops, NULL);
	CHECK_OK(volt_block_on(NULL, volt_timeout(&to, &never.base, volt_ms(20)), NULL));
	CHECK_EQ(to.result, -ETIMEDOUT);
	CHECK_GE(mono_ns() - t0, 20 * MS);
	CHECK_EQ(atomic_load(&drops), 1);
}

/*
 * The timekeeper sleeps until a deadline an hour away; a sleep armed after
 * that, from a task (a worker's wheel) and from this thread (the outside
 * wheel), must still fire (tokio #6682).
 */
VOLT_RT_TEST(time_sleep_armed_while_timekeeper_parks)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_REAL);
	struct volt_join *far;
	uint64_t woke, seq, t0;
	struct volt_sleep s;

	far = spawn_sleeper(rt, volt_instant_now(rt).ns + 3600 * 1000 * MS, &woke, &seq);
	VT_WAIT_FOR(timers_linked(rt) == 1);
	vt_sleep_us(20000); /* let every worker go to sleep, one with the hour as its timeout */
	t0 = volt_instant_now(rt).ns;
	CHECK_OK(volt_join_wait(spawn_sleeper(rt, t0 + 20 * MS, &woke, &seq), NULL));
	CHECK_GE(woke, t0 + 20 * MS);
	vt_sleep_us(20000);
	t0 = mono_ns();
	CHECK_OK(volt_block_on(rt, volt_sleep(&s, volt_ms(20)), NULL));
	CHECK_GE(mono_ns() - t0, 20 * MS);
	volt_join_cancel(far);
	CHECK_EQ(volt_join_wait(far, NULL), -ECANCELED);
	volt_rt_free(rt);
}

/* Shutdown with thousands of sleepers: each sleep dropped once, nothing left linked. */
VOLT_RT_TEST(time_shutdown_with_sleepers)
{
	struct volt_rt *rt = rt_with_clock(policy, 2, VOLT_CLOCK_REAL);
	enum { N = 5000 };
	static uint64_t woke[N], seq[N];
	uint64_t now = volt_instant_now(rt).ns;

	for (int i = 0; i < N; i++) {
		woke[i] = UINT64_MAX;
		struct sleeper s = { .base = VOLT_FUTURE_INIT(&sleeper_ops),
				     .deadline = now + (uint64_t)(i + 1) * 3600 * 1000 * MS,
				     .woke_out = &woke[i], .seq_out = &seq[i] };

		vt_spawn(rt, &s, sizeof s, true);
	}
	VT_WAIT_FOR(timers_linked(rt) == N);
	volt_rt_free(rt); /* ASan and valgrind see any timer left behind */
	for (int i = 0; i < N; i++)
		CHECK(woke[i] == UINT64_MAX);
}

VOLT_TEST(time_config_clock)
{
	struct volt_config cfg;
	struct volt_rt *rt;

	CHECK_OK(volt_config_init(&cfg));
	cfg.clock = (enum volt_clock)9;
	CHECK_EQ(volt_config_check(&cfg), -EINVAL);
	cfg.clock = VOLT_CLOCK_VIRTUAL;
	cfg.idle = VOLT_IDLE_SPIN; /* a spinning worker never lets virtual time move */
	CHECK_EQ(volt_rt_new(&cfg, &rt), -EINVAL);
	/* auto: virtual under sim, real elsewhere */
	CHECK_OK(volt_config_init(&cfg));
	cfg.scheduler = "sim";
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK(rt->timers.virtual_clock);
	volt_rt_free(rt);
	cfg.scheduler = "ring";
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK(!rt->timers.virtual_clock);
	volt_rt_free(rt);
	setenv("VOLT_CLOCK", "sundial", 1);
	CHECK_EQ(volt_config_init(&cfg), -EINVAL);
	setenv("VOLT_CLOCK", "virtual", 1);
	CHECK_OK(volt_config_init(&cfg));
	CHECK_EQ(cfg.clock, VOLT_CLOCK_VIRTUAL);
	unsetenv("VOLT_CLOCK");
}

/*
 * Virtual clock, a plain thread's timer after a cancelled one: the cancel
 * leaves the outside wheel's `next` low, so the second insert lowers
 * nothing; the sleeper must still be told (it hung forever before).
 */
VOLT_RT_TEST(time_virtual_outside_timer_after_cancel)
{
	struct volt_rt *rt;
	struct volt_yield y;
	struct volt_timeout t;
	struct volt_sleep sl;

	if (!vt_is_sim(policy))
		VT_SKIP("the virtual clock runs under sim");
	rt = vt_rt_new(policy, 1);
	CHECK_OK(volt_block_on(rt, volt_timeout(&t, volt_yield_now(&y), volt_secs(5)), NULL));
	CHECK_EQ(t.result, 0);
	vt_sleep_us(10000); /* the worker parks with no timer left */
	CHECK_OK(volt_block_on(rt, volt_sleep(&sl, volt_secs(20)), NULL));
	volt_rt_free(rt);
}
