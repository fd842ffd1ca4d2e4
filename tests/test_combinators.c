/* SPDX-License-Identifier: MIT */
/*
 * tests/test_combinators.c: join_all, try_join_all, race and select_any.
 *
 * The children are counted futures: each counts its polls and drops and
 * fails the test if it is polled after it completed or was dropped, so every
 * case checks exact-once drops. A counted future either forwards to an inner
 * future (a timer, a channel receive, a oneshot, a blocking-pool job) or is
 * manual: pending until another thread fires it with a value.
 *
 * Cases: bad input and n == 0 (plain); under every scheduler policy: join_all
 * with children completing in every order of four (each child polled exactly
 * twice: per-child wakers), children woken from other threads, try_join_all's
 * first error dropping the rest once, race's losers dropped once, select_any's
 * losers reused in later selects, cancelling a task that awaits join_all of
 * 1000 sleeping children, the blocking forms from a fiber, from a plain
 * thread and (refused) from a stackless task, a late wake of a completed
 * child's waker, and seeded stresses of random child mixtures (join_all,
 * try_join_all and race over 10,000 children; select_any repeated until each
 * of 1,000 branches has won once).
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"
#include "core/rng.h"

/* ---- counted futures ---- */

struct counted {
	struct volt_future base;
	struct volt_future *inner; /* forwarded to, or NULL: manual */
	atomic_int polls, drops;
	atomic_bool completed;
	/* manual */
	pthread_mutex_t lock;
	struct volt_waker waker;
	bool fired;
	intptr_t value;
	/* a waker clone kept past the drop (the late-wake case), or NULL */
	struct volt_waker *leak;
};

static enum volt_poll counted_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct counted *c = (struct counted *)f;
	enum volt_poll r;

	CHECK_EQ(atomic_load(&c->drops), 0);
	CHECK(!atomic_load(&c->completed));
	atomic_fetch_add(&c->polls, 1);
	if (c->leak && !c->leak->ops)
		*c->leak = volt_waker_clone(&cx->waker);
	if (c->inner) {
		r = volt_future_poll(c->inner, cx);
	} else {
		pthread_mutex_lock(&c->lock);
		if (c->fired) {
			cx->output = (void *)c->value;
			r = VOLT_READY;
		} else {
			if (!c->waker.ops || !volt_waker_will_wake(&c->waker, &cx->waker)) {
				volt_waker_drop(&c->waker);
				c->waker = volt_waker_clone(&cx->waker);
			}
			r = VOLT_PENDING;
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (r == VOLT_READY)
		atomic_store(&c->completed, true);
	return r;
}

static void counted_drop(struct volt_future *f)
{
	struct counted *c = (struct counted *)f;

	if (c->inner)
		volt_future_drop(c->inner);
	pthread_mutex_lock(&c->lock);
	volt_waker_drop(&c->waker);
	pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(&c->drops, 1);
}

static const struct volt_future_ops counted_ops = { counted_poll, counted_drop };

static void counted_init(struct counted *c, struct volt_future *inner)
{
	memset(c, 0, sizeof *c);
	volt_future_init(&c->base, &counted_ops);
	c->inner = inner;
	pthread_mutex_init(&c->lock, NULL);
}

/* Completes a manual child with value (from any thread). */
static void counted_fire(struct counted *c, intptr_t value)
{
	struct volt_waker w;

	pthread_mutex_lock(&c->lock);
	c->fired = true;
	c->value = value;
	w = c->waker;
	c->waker.ops = NULL;
	pthread_mutex_unlock(&c->lock);
	if (w.ops)
		volt_waker_wake(&w);
}

static void counted_destroy(struct counted *c)
{
	pthread_mutex_destroy(&c->lock);
}

/* n counted children and the array of pointers the combinators take. */
struct kids {
	size_t n;
	struct counted *c;
	struct volt_future **f;
	void **out;
};

static void kids_new(struct kids *k, size_t n)
{
	k->n = n;
	k->c = calloc(n ? n : 1, sizeof *k->c);
	k->f = calloc(n ? n : 1, sizeof *k->f);
	k->out = calloc(n ? n : 1, sizeof *k->out);
	CHECK(k->c && k->f && k->out);
	for (size_t i = 0; i < n; i++) {
		counted_init(&k->c[i], NULL);
		k->f[i] = &k->c[i].base;
	}
}

static void kids_free(struct kids *k)
{
	for (size_t i = 0; i < k->n; i++)
		counted_destroy(&k->c[i]);
	free(k->c);
	free(k->f);
	free(k->out);
}

static void check_dropped_once(const struct kids *k)
{
	for (size_t i = 0; i < k->n; i++)
		CHECK_MSG(atomic_load(&k->c[i].drops) == 1, "child %zu dropped %d times", i,
			  atomic_load(&k->c[i].drops));
}

/* ---- a task that awaits one combinator ---- */

enum kind { JOIN, TRY, RACE, SELECT };

struct outcome {
	atomic_bool done;
	int result;
	ssize_t index;
	void *output;
};

struct awaiter {
	struct volt_future base;
	struct volt_combinator c;
	struct outcome *out;
};

static enum volt_poll awaiter_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct awaiter *a = (struct awaiter *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, &a->c.base);
	a->out->result = a->c.result;
	a->out->index = a->c.index;
	a->out->output = a->c.output;
	atomic_store(&a->out->done, true);
	VOLT_END(f);
}

/*
 * A task cancelled before its first poll never reached the await, so the
 * combinator is not in its `awaiting` chain: drop it here (a no-op once the
 * await dropped it, as volt_future_drop clears ops).
 */
static void awaiter_drop(struct volt_future *f)
{
	volt_future_drop(&((struct awaiter *)f)->c.base);
}

static const struct volt_future_ops awaiter_ops = { .poll = awaiter_poll, .drop = awaiter_drop };

static int comb_init(struct volt_combinator *c, enum kind kind, struct kids *k)
{
	switch (kind) {
	case JOIN:
		return volt_join_all_init(c, k->f, k->n, k->out);
	case TRY:
		return volt_try_join_all_init(c, k->f, k->n, k->out, NULL, NULL);
	case RACE:
		return volt_race_init(c, k->f, k->n);
	default:
		return volt_select_any_init(c, k->f, k->n);
	}
}

/* Spawns a task awaiting the combinator `kind` over k (set up before the spawn: it moves). */
static struct volt_join *spawn_awaiter(struct volt_rt *rt, enum kind kind, struct kids *k,
				       struct outcome *out)
{
	struct awaiter a = { .base = VOLT_FUTURE_INIT(&awaiter_ops), .out = out };

	memset(out, 0, sizeof *out);
	CHECK_OK(comb_init(&a.c, kind, k));
	return vt_spawn(rt, &a, sizeof a, false);
}

static void wait_polled(const struct kids *k, size_t i, int polls)
{
	VT_WAIT_FOR(atomic_load(&k->c[i].polls) >= polls);
}

/* ---- bad input, n == 0 ---- */

VOLT_TEST(comb_bad_input)
{
	struct volt_combinator c;
	struct kids k;
	struct volt_future *bad[2];
	struct volt_future nopoll = VOLT_FUTURE_INIT(NULL);

	kids_new(&k, 2);
	CHECK_EQ(volt_join_all_init(NULL, k.f, 2, NULL), -EINVAL);
	CHECK_EQ(volt_join_all_init(&c, NULL, 2, NULL), -EINVAL);
	CHECK_EQ(volt_try_join_all_init(&c, NULL, 1, NULL, NULL, NULL), -EINVAL);
	CHECK_EQ(volt_race_init(&c, NULL, 3), -EINVAL);
	CHECK_EQ(volt_select_any_init(&c, NULL, 3), -EINVAL);
	CHECK_EQ(volt_join_all_init(&c, k.f, VOLT_COMBINATOR_MAX + 1, NULL), -EINVAL);
	CHECK_EQ(volt_race_init(&c, k.f, SIZE_MAX), -EINVAL);
	CHECK_EQ(volt_race_init(&c, k.f, 0), -EINVAL);
	CHECK_EQ(volt_select_any_init(&c, k.f, 0), -EINVAL);
	bad[0] = k.f[0];
	bad[1] = NULL;
	CHECK_EQ(volt_join_all_init(&c, bad, 2, NULL), -EINVAL);
	CHECK_EQ(volt_race_init(&c, bad, 2), -EINVAL);
	bad[1] = &nopoll;
	CHECK_EQ(volt_join_all_init(&c, bad, 2, NULL), -EINVAL);
	CHECK_EQ(volt_select_any_init(&c, bad, 2), -EINVAL);
	CHECK_EQ(volt_join_all_blocking(NULL, NULL, 1, NULL, VOLT_DURATION_MAX), -EINVAL);
	CHECK_EQ(volt_try_join_all_blocking(NULL, bad, 2, NULL, NULL, NULL, VOLT_DURATION_MAX,
					    NULL),
		 -EINVAL);
	CHECK_EQ(volt_race_blocking(NULL, k.f, 0, NULL, VOLT_DURATION_MAX), -EINVAL);
	CHECK_EQ(volt_select_any_blocking(NULL, NULL, 5, NULL, volt_ms(1)), -EINVAL);
	/* nothing was polled or dropped */
	for (size_t i = 0; i < 2; i++) {
		CHECK_EQ(atomic_load(&k.c[i].polls), 0);
		CHECK_EQ(atomic_load(&k.c[i].drops), 0);
	}
	kids_free(&k);
}

VOLT_TEST(comb_n_zero_and_disabled_branches)
{
	struct volt_combinator c;
	struct volt_future *none[3] = { NULL, NULL, NULL };
	void *out = NULL;

	CHECK_OK(volt_join_all_blocking(NULL, NULL, 0, NULL, VOLT_DURATION_MAX));
	CHECK_OK(volt_try_join_all_blocking(NULL, NULL, 0, NULL, NULL, NULL, volt_ms(5), NULL));
	CHECK_EQ(volt_select_any_blocking(NULL, none, 3, &out, VOLT_DURATION_MAX), -ENOENT);
	/* n == 0 is ready at its first poll */
	CHECK_OK(volt_join_all_init(&c, NULL, 0, NULL));
	CHECK_OK(volt_block_on(NULL, &c.base, NULL));
	CHECK_EQ(c.result, 0);
	CHECK_EQ(c.index, -1);
	/* dropped without a poll: nothing to drop, no leak */
	CHECK_OK(volt_select_any_init(&c, none, 3));
	volt_future_drop(&c.base);
}

/* Plain thread, no runtime: timers ask for their wake-up through cx->wake_at. */
VOLT_TEST(comb_plain_thread_timers_without_runtime)
{
	struct kids k;
	struct volt_sleep s[3];

	kids_new(&k, 3);
	for (size_t i = 0; i < 3; i++)
		counted_init(&k.c[i], volt_sleep(&s[i], volt_ms(1 + 2 * i)));
	CHECK_OK(volt_join_all_blocking(NULL, k.f, 3, NULL, VOLT_DURATION_MAX));
	check_dropped_once(&k);
	/* a race against a long sleep times out, and drops it */
	counted_init(&k.c[0], volt_sleep(&s[0], volt_secs(3600)));
	CHECK_EQ(volt_race_blocking(NULL, k.f, 1, NULL, volt_ms(3)), -ETIMEDOUT);
	CHECK_EQ(atomic_load(&k.c[0].drops), 1);
	kids_free(&k);
}

/* ---- join_all ---- */

VOLT_RT_TEST(comb_join_all_every_order)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	int perm[4] = { 0, 1, 2, 3 };

	/* the 24 permutations of four, in lexicographic order */
	for (int round = 0; round < 24; round++) {
		struct kids k;
		struct outcome out;
		struct volt_join *j;

		kids_new(&k, 4);
		j = spawn_awaiter(rt, JOIN, &k, &out);
		for (size_t i = 0; i < 4; i++)
			wait_polled(&k, i, 1);
		for (int s = 0; s < 4; s++) {
			int i = perm[s];

			CHECK(!atomic_load(&out.done));
			counted_fire(&k.c[i], 100 + i);
			/* dropped right after it completes, before the others */
			VT_WAIT_FOR(atomic_load(&k.c[i].drops) == 1);
		}
		vt_join(j);
		CHECK(atomic_load(&out.done));
		CHECK_EQ(out.result, 0);
		check_dropped_once(&k);
		for (size_t i = 0; i < 4; i++) {
			/* per-child wakers: polled once at the start, once when fired */
			CHECK_EQ(atomic_load(&k.c[i].polls), 2);
			CHECK_EQ((intptr_t)k.out[i], 100 + (intptr_t)i);
		}
		kids_free(&k);
		/* next permutation */
		int a = 2;

		while (a >= 0 && perm[a] > perm[a + 1])
			a--;
		if (a < 0)
			break;
		int b = 3;

		while (perm[b] < perm[a])
			b--;
		int t = perm[a];

		perm[a] = perm[b];
		perm[b] = t;
		for (int x = a + 1, y = 3; x < y; x++, y--) {
			t = perm[x];
			perm[x] = perm[y];
			perm[y] = t;
		}
	}
	volt_rt_free(rt);
}

static void *job_value(void *arg)
{
	vt_sleep_us(1000);
	return arg;
}

struct child_sources {
	struct volt_sleep sleep;
	struct volt_chan *ch;
	uint64_t chan_out;
	struct volt_chan_recv recv;
	struct volt_oneshot once;
	struct volt_oneshot_recv once_recv;
	struct volt_blocking_future job;
};

/* Five children woken from elsewhere: a timer, a channel, a oneshot, a pool job, a manual one. */
static void sources_setup(struct volt_rt *rt, struct child_sources *s, struct kids *k)
{
	struct volt_blocking *h;

	kids_new(k, 5);
	CHECK_OK(volt_chan_new(sizeof(uint64_t), 1, NULL, &s->ch));
	CHECK_OK(volt_oneshot_init(&s->once));
	CHECK_OK(volt_concurrent(rt, job_value, (void *)(intptr_t)77, &h));
	counted_init(&k->c[0], volt_sleep(&s->sleep, volt_ms(3)));
	counted_init(&k->c[1], volt_chan_recv(&s->recv, s->ch, &s->chan_out));
	counted_init(&k->c[2], volt_oneshot_recv(&s->once_recv, &s->once));
	counted_init(&k->c[3], volt_blocking_await(&s->job, h));
	counted_init(&k->c[4], NULL);
}

static void sources_fire(struct child_sources *s, struct kids *k)
{
	uint64_t v = 5;

	CHECK_EQ(volt_chan_try_send(s->ch, &v), VOLT_CHAN_OK);
	CHECK_EQ(volt_oneshot_send(&s->once, (void *)(intptr_t)9), VOLT_CHAN_OK);
	counted_fire(&k->c[4], 4);
}

static void sources_check_free(struct child_sources *s, struct kids *k)
{
	check_dropped_once(k);
	CHECK_UEQ(s->chan_out, 5);
	CHECK_EQ(s->recv.result, VOLT_CHAN_OK);
	CHECK_EQ(s->once_recv.result, VOLT_CHAN_OK);
	CHECK_PTR_EQ(s->once_recv.value, (void *)(intptr_t)9);
	CHECK_EQ(s->job.result, 0);
	CHECK_PTR_EQ(s->job.output, (void *)(intptr_t)77);
	volt_chan_free(s->ch);
	volt_oneshot_destroy(&s->once);
	kids_free(k);
}

VOLT_RT_TEST(comb_join_all_children_woken_from_other_threads)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct child_sources s;
	struct kids k;
	struct outcome out;
	struct volt_join *j;

	sources_setup(rt, &s, &k);
	j = spawn_awaiter(rt, JOIN, &k, &out);
	wait_polled(&k, 4, 1);
	sources_fire(&s, &k);
	vt_join(j);
	CHECK_EQ(out.result, 0);
	sources_check_free(&s, &k);
	volt_rt_free(rt);
}

/* ---- try_join_all ---- */

struct failing {
	struct volt_future base;
	int result;
};

static enum volt_poll failing_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	(void)cx;
	return VOLT_READY;
}

static const struct volt_future_ops failing_ops = { .poll = failing_poll };

static int check_result_field(struct volt_future *child, void *output, void *arg)
{
	(void)output;
	atomic_fetch_add((atomic_int *)arg, 1);
	return ((struct failing *)child)->result;
}

VOLT_RT_TEST(comb_try_join_all_first_error_drops_the_rest)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct kids k;
	struct outcome out;
	struct volt_join *j;

	kids_new(&k, 6);
	j = spawn_awaiter(rt, TRY, &k, &out);
	for (size_t i = 0; i < 6; i++)
		wait_polled(&k, i, 1);
	counted_fire(&k.c[4], 0); /* a success first */
	VT_WAIT_FOR(atomic_load(&k.c[4].drops) == 1);
	counted_fire(&k.c[2], -EIO);
	vt_join(j);
	CHECK_EQ(out.result, -EIO);
	CHECK_EQ(out.index, 2);
	check_dropped_once(&k);
	for (size_t i = 0; i < 6; i++)
		CHECK_EQ(atomic_load(&k.c[i].polls), i == 2 || i == 4 ? 2 : 1);
	kids_free(&k);

	/* all succeed: result 0, every output kept */
	kids_new(&k, 3);
	j = spawn_awaiter(rt, TRY, &k, &out);
	for (size_t i = 0; i < 3; i++)
		counted_fire(&k.c[i], (intptr_t)i * 10);
	vt_join(j);
	CHECK_EQ(out.result, 0);
	CHECK_EQ(out.index, -1);
	check_dropped_once(&k);
	CHECK_EQ((intptr_t)k.out[2], 20);
	kids_free(&k);
	volt_rt_free(rt);
}

VOLT_TEST(comb_try_join_all_custom_check)
{
	struct failing f[3];
	struct volt_future *p[3];
	atomic_int checks = 0;
	size_t failed = 99;

	for (int i = 0; i < 3; i++) {
		volt_future_init(&f[i].base, &failing_ops);
		f[i].result = i == 1 ? -ENOSPC : 0;
		p[i] = &f[i].base;
	}
	CHECK_EQ(volt_try_join_all_blocking(NULL, p, 3, NULL, check_result_field, &checks,
					    VOLT_DURATION_MAX, &failed),
		 -ENOSPC);
	CHECK_EQ(failed, 1);
	CHECK_EQ(atomic_load(&checks), 2); /* index order: 0 succeeded, 1 failed, 2 dropped */
	for (int i = 0; i < 3; i++)
		CHECK(f[i].base.ops == NULL); /* dropped (volt_future_drop clears ops) */
}

/* ---- race ---- */

VOLT_RT_TEST(comb_race_losers_dropped_once)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct kids k;
	struct outcome out;
	struct volt_join *j;

	kids_new(&k, 5);
	j = spawn_awaiter(rt, RACE, &k, &out);
	for (size_t i = 0; i < 5; i++)
		wait_polled(&k, i, 1);
	counted_fire(&k.c[3], 33);
	vt_join(j);
	CHECK_EQ(out.index, 3);
	CHECK_EQ((intptr_t)out.output, 33);
	check_dropped_once(&k);
	CHECK_EQ(atomic_load(&k.c[3].polls), 2);
	for (size_t i = 0; i < 5; i++)
		if (i != 3)
			CHECK_EQ(atomic_load(&k.c[i].polls), 1);
	kids_free(&k);

	/* woken from other threads: the pool job (1 ms) or the timer (3 ms) or a fire */
	struct child_sources s;

	sources_setup(rt, &s, &k);
	j = spawn_awaiter(rt, RACE, &k, &out);
	vt_join(j);
	CHECK(out.index == 0 || out.index == 3);
	check_dropped_once(&k);
	volt_chan_free(s.ch);
	volt_oneshot_destroy(&s.once);
	kids_free(&k);
	volt_rt_free(rt);
}

/* ---- select_any ---- */

VOLT_RT_TEST(comb_select_any_losers_reusable)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct kids k;
	struct outcome out;
	struct volt_join *j;

	kids_new(&k, 3);
	j = spawn_awaiter(rt, SELECT, &k, &out);
	for (size_t i = 0; i < 3; i++)
		wait_polled(&k, i, 1);
	counted_fire(&k.c[1], 11);
	vt_join(j);
	CHECK_EQ(out.index, 1);
	CHECK_EQ((intptr_t)out.output, 11);
	CHECK_EQ(atomic_load(&k.c[1].drops), 1); /* the winner completed and was dropped */
	CHECK_EQ(atomic_load(&k.c[0].drops), 0); /* the losers are still the caller's */
	CHECK_EQ(atomic_load(&k.c[2].drops), 0);

	/* a loser fired while no select runs is seen by the next one */
	counted_fire(&k.c[2], 22);
	k.f[1] = NULL; /* the winner's slot is disabled */
	j = spawn_awaiter(rt, SELECT, &k, &out);
	vt_join(j);
	CHECK_EQ(out.index, 2);
	CHECK_EQ((intptr_t)out.output, 22);
	CHECK_EQ(atomic_load(&k.c[2].drops), 1);
	CHECK_EQ(atomic_load(&k.c[0].drops), 0);

	/* a third select, cancelled: the last loser stays pending and the caller's */
	k.f[2] = NULL;
	j = spawn_awaiter(rt, SELECT, &k, &out);
	wait_polled(&k, 0, 3);
	CHECK_OK(volt_join_cancel(j));
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	CHECK_EQ(atomic_load(&k.c[0].drops), 0);
	/* and a blocking select over it from this thread */
	counted_fire(&k.c[0], 5);
	void *o = NULL;

	CHECK_EQ(volt_select_any_blocking(rt, k.f, 3, &o, VOLT_DURATION_MAX), 0);
	CHECK_EQ((intptr_t)o, 5);
	CHECK_EQ(atomic_load(&k.c[0].polls), 4);
	k.f[0] = NULL;
	CHECK_EQ(volt_select_any_blocking(rt, k.f, 3, &o, VOLT_DURATION_MAX), -ENOENT);
	check_dropped_once(&k);
	kids_free(&k);
	volt_rt_free(rt);
}

/* ---- cancellation ---- */

VOLT_RT_TEST(comb_cancel_join_all_of_1000_sleepers)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	enum { N = 1000 };
	struct volt_sleep *s = calloc(N, sizeof *s);
	struct kids k;
	struct outcome out;
	struct volt_join *j;

	CHECK(s != NULL);
	kids_new(&k, N);
	/* sim's virtual clock would jump to the deadlines: manual children there */
	for (size_t i = 0; i < N && !vt_is_sim(policy); i++)
		counted_init(&k.c[i], volt_sleep(&s[i], volt_secs(3600 + i)));
	j = spawn_awaiter(rt, JOIN, &k, &out);
	for (size_t i = 0; i < N; i++)
		wait_polled(&k, i, 1);
	CHECK_OK(volt_join_cancel(j));
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	CHECK(!atomic_load(&out.done));
	check_dropped_once(&k);
	for (size_t i = 0; i < N; i++)
		CHECK_EQ(atomic_load(&k.c[i].polls), 1);
	kids_free(&k);
	free(s);
	volt_rt_free(rt);
}

/* Cancelled before its first poll, and a race dropped mid-way: each child dropped once. */
VOLT_RT_TEST(comb_cancel_before_first_poll)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	atomic_bool started = false, release = false;
	struct vt_blocker b;
	struct kids k;
	struct outcome out;
	struct volt_join *hold, *j;

	vt_blocker_init(&b, &started, &release);
	hold = vt_spawn(rt, &b, sizeof b, false);
	VT_WAIT_FOR(atomic_load(&started));
	kids_new(&k, 4);
	j = spawn_awaiter(rt, RACE, &k, &out);
	CHECK_OK(volt_join_cancel(j));
	atomic_store(&release, true);
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	vt_join(hold);
	check_dropped_once(&k);
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ(atomic_load(&k.c[i].polls), 0);
	kids_free(&k);
	volt_rt_free(rt);
}

/* ---- blocking forms ---- */

struct blocking_case {
	struct kids k;
	struct child_sources s;
};

static void *fire_later(void *arg)
{
	struct blocking_case *bc = arg;

	vt_sleep_us(2000);
	sources_fire(&bc->s, &bc->k);
	return NULL;
}

/* Runs every blocking form on the calling thread or fiber; pool runs the job, rt the clock. */
static void blocking_forms(struct volt_rt *pool, struct volt_rt *rt)
{
	struct blocking_case bc;
	pthread_t th;
	void *o = NULL;
	size_t failed = 99;
	struct kids k;

	/* join_all of children woken from other threads */
	sources_setup(pool, &bc.s, &bc.k);
	CHECK_OK(pthread_create(&th, NULL, fire_later, &bc));
	CHECK_OK(volt_join_all_blocking(rt, bc.k.f, 5, bc.k.out, VOLT_DURATION_MAX));
	pthread_join(th, NULL);
	CHECK_EQ((intptr_t)bc.k.out[4], 4);
	sources_check_free(&bc.s, &bc.k);

	/* try_join_all: the first error */
	kids_new(&k, 3);
	counted_fire(&k.c[1], -EBADF);
	CHECK_EQ(volt_try_join_all_blocking(rt, k.f, 3, NULL, NULL, NULL, volt_secs(60), &failed),
		 -EBADF);
	CHECK_EQ(failed, 1);
	check_dropped_once(&k);
	kids_free(&k);

	/* race and select with a timeout: race drops, select leaves them */
	kids_new(&k, 3);
	CHECK_EQ(volt_race_blocking(rt, k.f, 3, &o, volt_ms(2)), -ETIMEDOUT);
	check_dropped_once(&k);
	kids_free(&k);
	kids_new(&k, 3);
	CHECK_EQ(volt_select_any_blocking(rt, k.f, 3, &o, volt_ms(2)), -ETIMEDOUT);
	for (size_t i = 0; i < 3; i++)
		CHECK_EQ(atomic_load(&k.c[i].drops), 0);
	counted_fire(&k.c[2], 2);
	CHECK_EQ(volt_race_blocking(rt, k.f, 3, &o, VOLT_DURATION_MAX), 2);
	CHECK_EQ((intptr_t)o, 2);
	check_dropped_once(&k);
	kids_free(&k);
}

static void *fiber_main(struct volt_rt *rt, void *arg)
{
	(void)arg;
	blocking_forms(rt, rt);
	return (void *)(intptr_t)1;
}

VOLT_RT_TEST(comb_blocking_forms_fiber_and_thread)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_join *j;

	blocking_forms(rt, rt);
	blocking_forms(rt, NULL); /* no runtime clock: the timers use cx->wake_at */
	CHECK_OK(volt_spawn_fiber(rt, fiber_main, NULL, 0, &j));
	CHECK_EQ((intptr_t)vt_join(j), 1);
	volt_rt_free(rt);
}

struct refuser {
	struct volt_future base;
	struct kids *k;
	int *ret; /* four results, outside the task */
};

static enum volt_poll refuser_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct refuser *r = (struct refuser *)f;

	(void)cx;
	r->ret[0] = volt_join_all_blocking(NULL, r->k->f, r->k->n, NULL, VOLT_DURATION_MAX);
	r->ret[1] = volt_try_join_all_blocking(NULL, r->k->f, r->k->n, NULL, NULL, NULL,
					       volt_ms(1), NULL);
	r->ret[2] = (int)volt_race_blocking(NULL, r->k->f, r->k->n, NULL, volt_ms(1));
	r->ret[3] = (int)volt_select_any_blocking(NULL, r->k->f, r->k->n, NULL,
						  VOLT_DURATION_MAX);
	return VOLT_READY;
}

static const struct volt_future_ops refuser_ops = { .poll = refuser_poll };

VOLT_RT_TEST(comb_blocking_refused_in_stackless_task)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct kids k;
	int ret[4] = { 0, 0, 0, 0 };
	struct refuser r = { .base = VOLT_FUTURE_INIT(&refuser_ops), .k = &k, .ret = ret };

	kids_new(&k, 2);
	vt_join(vt_spawn(rt, &r, sizeof r, false));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(ret[i], -EDEADLK);
	/* refused before any poll: the children are untouched */
	for (size_t i = 0; i < 2; i++) {
		CHECK_EQ(atomic_load(&k.c[i].polls), 0);
		CHECK_EQ(atomic_load(&k.c[i].drops), 0);
	}
	kids_free(&k);
	volt_rt_free(rt);
}

/* ---- a late wake ---- */

VOLT_RT_TEST(comb_late_wake_of_completed_child)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_waker leaked = { NULL, NULL };
	struct kids k;
	struct outcome out;
	struct volt_join *j;

	kids_new(&k, 2);
	k.c[0].leak = &leaked; /* keeps a clone of its waker past its drop */
	j = spawn_awaiter(rt, JOIN, &k, &out);
	wait_polled(&k, 1, 1);
	counted_fire(&k.c[0], 0);
	VT_WAIT_FOR(atomic_load(&k.c[0].drops) == 1);
	CHECK(leaked.ops != NULL);
	/* while the combinator lives: at most a spurious poll of it, none of the child */
	volt_waker_wake_by_ref(&leaked);
	vt_sleep_us(1000);
	CHECK_EQ(atomic_load(&k.c[0].polls), 2);
	CHECK_EQ(atomic_load(&k.c[1].polls), 1);
	counted_fire(&k.c[1], 0);
	vt_join(j);
	/* after it is gone (and the task freed): nothing, and the last reference frees the hub */
	volt_waker_wake_by_ref(&leaked);
	volt_waker_wake(&leaked);
	check_dropped_once(&k);
	kids_free(&k);
	volt_rt_free(rt);
}

/* ---- seeded stress ---- */

/* Ready at once, or after yielding `yields` times. */
struct yielder {
	struct volt_future base;
	int yields;
};

static enum volt_poll yielder_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct yielder *y = (struct yielder *)f;

	if (y->yields-- <= 0)
		return VOLT_READY;
	volt_waker_wake_by_ref(&cx->waker);
	return VOLT_PENDING;
}

static const struct volt_future_ops yielder_ops = { .poll = yielder_poll };

struct stress {
	struct kids k;
	struct yielder *y;
	struct volt_sleep *s;
	size_t *manual; /* indices of manual children, in firing order */
	size_t nmanual;
};

static void *stress_fire(void *arg)
{
	struct stress *st = arg;

	for (size_t m = 0; m < st->nmanual; m++) {
		counted_fire(&st->k.c[st->manual[m]], 0);
		if (m % 64 == 0)
			vt_sleep_us(50);
	}
	return NULL;
}

static void stress_new(struct stress *st, size_t n, uint64_t *rng)
{
	kids_new(&st->k, n);
	st->y = calloc(n, sizeof *st->y);
	st->s = calloc(n, sizeof *st->s);
	st->manual = calloc(n, sizeof *st->manual);
	st->nmanual = 0;
	CHECK(st->y && st->s && st->manual);
	for (size_t i = 0; i < n; i++) {
		switch (volt__xorshift64(rng) % 4) {
		case 0:
			volt_future_init(&st->y[i].base, &yielder_ops);
			st->y[i].yields = (int)(volt__xorshift64(rng) % 3);
			counted_init(&st->k.c[i], &st->y[i].base);
			break;
		case 1:
			counted_init(&st->k.c[i],
				     volt_sleep(&st->s[i], volt_us(volt__xorshift64(rng) % 3000)));
			break;
		default:
			st->manual[st->nmanual++] = i;
			break;
		}
	}
	/* shuffle the firing order */
	for (size_t m = st->nmanual; m > 1; m--) {
		size_t r = volt__xorshift64(rng) % m, t = st->manual[m - 1];

		st->manual[m - 1] = st->manual[r];
		st->manual[r] = t;
	}
}

static void stress_free(struct stress *st)
{
	kids_free(&st->k);
	free(st->y);
	free(st->s);
	free(st->manual);
}

VOLT_RT_TEST(comb_stress_random_mixtures)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	uint64_t seed = volt_rt_seed(rt), rng = volt__rng_stream(seed, 42);
	size_t n = VT_SCALE(10000);

	snprintf(vt_fail_note, sizeof vt_fail_note, "stress seed %" PRIu64, seed);
	for (int kind = JOIN; kind <= RACE; kind++) {
		struct stress st;
		struct outcome out;
		struct volt_join *j;
		pthread_t th;

		stress_new(&st, n, &rng);
		j = spawn_awaiter(rt, (enum kind)kind, &st.k, &out);
		CHECK_OK(pthread_create(&th, NULL, stress_fire, &st));
		vt_join(j);
		pthread_join(th, NULL);
		CHECK_EQ(out.result, 0);
		if (kind == RACE)
			CHECK(out.index >= 0 && (size_t)out.index < n);
		check_dropped_once(&st.k);
		stress_free(&st);
	}
	volt_rt_free(rt);
}

/* select_any again and again over the same random mixture until every branch has won once. */
VOLT_RT_TEST(comb_stress_select_until_all_won)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	uint64_t seed = volt_rt_seed(rt), rng = volt__rng_stream(seed, 7);
	size_t n = VT_SCALE(1000), wins = 0;
	struct stress st;
	pthread_t th;
	ssize_t r;
	void *o;

	snprintf(vt_fail_note, sizeof vt_fail_note, "stress seed %" PRIu64, seed);
	stress_new(&st, n, &rng);
	CHECK_OK(pthread_create(&th, NULL, stress_fire, &st));
	while ((r = volt_select_any_blocking(rt, st.k.f, n, &o, VOLT_DURATION_MAX)) >= 0) {
		CHECK_EQ(atomic_load(&st.k.c[r].drops), 1);
		st.k.f[r] = NULL;
		wins++;
	}
	pthread_join(th, NULL);
	CHECK_EQ(r, -ENOENT);
	CHECK_EQ(wins, n);
	check_dropped_once(&st.k);
	stress_free(&st);
	volt_rt_free(rt);
}
