/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sync.c: semaphore, mutex, rwlock, notify, barrier, once cell.
 *
 * Without a runtime, through the waiter form and a counting waker (exact
 * steps): the try forms and bad input; FIFO hand-off and no barging; a
 * large request served in its turn; cancellation in every waiter state
 * (queued with a partial grant, granted but unseen, already seen); close;
 * the historical bugs as regressions (a lost notify_one permit, notify_all
 * waking later waiters, a lock handed to a cancelled waiter). Under every
 * policy: contention stress with exact accounting (a counter under the
 * mutex ends exact, semaphore holders never exceed its permits, no reader
 * beside a writer), barrier rounds with one leader each, once-cell init run
 * once, and the blocking forms from fibers and threads.
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

/* ---- a waker that counts its wakes (no runtime) */

static void cw_wake_by_ref(void *data)
{
	atomic_fetch_add((atomic_int *)data, 1);
}

static void cw_wake(void *data)
{
	cw_wake_by_ref(data);
}

static void *cw_clone(void *data)
{
	return data;
}

static void cw_drop(void *data)
{
	(void)data;
}

static const struct volt_waker_ops cw_ops = { cw_wake, cw_wake_by_ref, cw_clone, cw_drop };

static struct volt_waker counting(atomic_int *n)
{
	return (struct volt_waker){ &cw_ops, n };
}

/* ---- semaphore: try forms, bad input, close */

VOLT_TEST(sync_semaphore_try_and_bad_input)
{
	struct volt_semaphore s;

	CHECK_EQ(volt_semaphore_init(&s, VOLT_SEMAPHORE_MAX + 1), -EINVAL);
	CHECK_OK(volt_semaphore_init(&s, 3));
	CHECK_EQ(volt_semaphore_try_acquire(&s, 0), -EINVAL);
	CHECK_EQ(volt_semaphore_try_acquire(&s, VOLT_SEMAPHORE_MAX + 1), -EINVAL);
	CHECK_EQ(volt_semaphore_try_acquire(&s, 4), -EAGAIN);
	CHECK_OK(volt_semaphore_try_acquire(&s, 2));
	CHECK_EQ(volt_semaphore_available(&s), 1);
	CHECK_EQ(volt_semaphore_try_acquire(&s, 2), -EAGAIN);
	volt_semaphore_release(&s, 2);
	CHECK_EQ(volt_semaphore_available(&s), 3);
	volt_semaphore_release(&s, 0);
	CHECK_EQ(volt_semaphore_available(&s), 3);
	volt_semaphore_close(&s);
	CHECK_EQ(volt_semaphore_try_acquire(&s, 1), -EPIPE);
	CHECK_EQ(volt_semaphore_acquire_blocking(&s, 1), -EPIPE);
	volt_semaphore_destroy(&s);
}

/* ---- FIFO, partial grants, no barging */

VOLT_TEST(sync_semaphore_fifo_no_barging)
{
	struct volt_semaphore s;
	struct volt_sem_waiter a = { .requested = 0 }, b = { .requested = 0 };
	atomic_int wa = 0, wb = 0;
	struct volt_waker ka = counting(&wa), kb = counting(&wb);

	CHECK_OK(volt_semaphore_init(&s, 0));
	CHECK_EQ(volt_semaphore_acquire_with(&s, &a, 3, &ka), 1);
	CHECK_EQ(volt_semaphore_acquire_with(&s, &b, 1, &kb), 1);
	volt_semaphore_release(&s, 2); /* a gets 2 of its 3; b, behind it, nothing */
	CHECK_EQ(atomic_load(&wa), 0);
	CHECK_EQ(a.missing, 1);
	CHECK_EQ(volt_semaphore_available(&s), 0);
	CHECK_EQ(volt_semaphore_try_acquire(&s, 1), -EAGAIN); /* no barging past a */
	CHECK_EQ(volt_semaphore_acquire_with(&s, &a, 3, &ka), 1);
	volt_semaphore_release(&s, 2); /* a completes, b gets the other */
	CHECK_EQ(atomic_load(&wa), 1);
	CHECK_EQ(atomic_load(&wb), 1);
	CHECK_OK(volt_semaphore_acquire_with(&s, &a, 3, &ka));
	CHECK_OK(volt_semaphore_acquire_with(&s, &b, 1, &kb));
	CHECK_EQ(volt_semaphore_available(&s), 0);
	volt_semaphore_release(&s, 4);
	CHECK_EQ(volt_semaphore_available(&s), 4);
	volt_semaphore_destroy(&s);
}

/* ---- cancellation in every state: nothing lost, nothing counted twice */

VOLT_TEST(sync_semaphore_cancel_every_state)
{
	struct volt_semaphore s;
	struct volt_sem_waiter a = { .requested = 0 }, b = { .requested = 0 };
	atomic_int wa = 0, wb = 0;
	struct volt_waker ka = counting(&wa), kb = counting(&wb);

	CHECK_OK(volt_semaphore_init(&s, 1));
	/* queued with a partial grant: cancel passes it on to b */
	CHECK_EQ(volt_semaphore_acquire_with(&s, &a, 2, &ka), 1); /* takes the 1 free */
	CHECK_EQ(a.missing, 1);
	CHECK_EQ(volt_semaphore_acquire_with(&s, &b, 1, &kb), 1);
	volt_semaphore_acquire_cancel(&s, &a);
	CHECK_EQ(atomic_load(&wb), 1);
	CHECK_OK(volt_semaphore_acquire_with(&s, &b, 1, &kb));
	CHECK_EQ(volt_semaphore_available(&s), 0);
	/* granted but never seen: cancel gives all of it back */
	CHECK_EQ(volt_semaphore_acquire_with(&s, &a, 1, &ka), 1);
	volt_semaphore_release(&s, 1); /* b's: handed to a */
	CHECK_EQ(atomic_load(&wa), 1);
	volt_semaphore_acquire_cancel(&s, &a);
	CHECK_EQ(volt_semaphore_available(&s), 1);
	/* seen (idle again): cancel is a no-op, the caller holds the permit */
	CHECK_OK(volt_semaphore_acquire_with(&s, &a, 1, &ka));
	volt_semaphore_acquire_cancel(&s, &a);
	CHECK_EQ(volt_semaphore_available(&s), 0);
	volt_semaphore_release(&s, 1);
	/* close wakes a waiter with -EPIPE and keeps what it had been handed */
	CHECK_EQ(volt_semaphore_acquire_with(&s, &a, 3, &ka), 1);
	volt_semaphore_close(&s);
	CHECK_EQ(atomic_load(&wa), 2);
	CHECK_EQ(volt_semaphore_acquire_with(&s, &a, 3, &ka), -EPIPE);
	CHECK_EQ(volt_semaphore_available(&s), 1);
	volt_semaphore_destroy(&s);
}

/* ---- regression: a lock handed to a cancelled waiter reaches the next one */

VOLT_TEST(sync_mutex_handoff_to_cancelled_waiter)
{
	struct volt_mutex m;
	struct volt_sem_waiter b = { .requested = 0 }, c = { .requested = 0 };
	atomic_int wb = 0, wc = 0;
	struct volt_waker kb = counting(&wb), kc = counting(&wc);

	CHECK_OK(volt_mutex_init(&m));
	CHECK(volt_mutex_try_lock(&m));
	CHECK(!volt_mutex_try_lock(&m));
	CHECK_EQ(volt_mutex_lock_with(&m, &b, &kb), 1);
	CHECK_EQ(volt_mutex_lock_with(&m, &c, &kc), 1);
	volt_mutex_unlock(&m); /* handed to b */
	CHECK_EQ(atomic_load(&wb), 1);
	CHECK(!volt_mutex_try_lock(&m)); /* nobody barges in after a hand-off */
	volt_mutex_lock_cancel(&m, &b);  /* b goes away without having seen it */
	CHECK_EQ(atomic_load(&wc), 1);
	CHECK_OK(volt_mutex_lock_with(&m, &c, &kc));
	volt_mutex_unlock(&m);
	CHECK(volt_mutex_try_lock(&m));
	volt_mutex_unlock(&m);
	volt_mutex_destroy(&m);
}

/* ---- rwlock: a waiting writer holds back later readers */

VOLT_TEST(sync_rwlock_writer_not_starved)
{
	struct volt_rwlock l;
	struct volt_sem_waiter w = { .requested = 0 }, r = { .requested = 0 };
	atomic_int ww = 0, wr = 0;
	struct volt_waker kw = counting(&ww), kr = counting(&wr);

	CHECK_OK(volt_rwlock_init(&l));
	CHECK(volt_rwlock_try_read(&l));
	CHECK(volt_rwlock_try_read(&l));
	CHECK(!volt_rwlock_try_write(&l));
	CHECK_EQ(volt_rwlock_write_with(&l, &w, &kw), 1);
	CHECK(!volt_rwlock_try_read(&l)); /* behind the writer */
	CHECK_EQ(volt_rwlock_read_with(&l, &r, &kr), 1);
	volt_rwlock_read_unlock(&l);
	CHECK_EQ(atomic_load(&ww), 0);
	volt_rwlock_read_unlock(&l);
	CHECK_EQ(atomic_load(&ww), 1); /* the writer first */
	CHECK_EQ(atomic_load(&wr), 0);
	CHECK_OK(volt_rwlock_write_with(&l, &w, &kw));
	volt_rwlock_write_unlock(&l);
	CHECK_EQ(atomic_load(&wr), 1);
	CHECK_OK(volt_rwlock_read_with(&l, &r, &kr));
	volt_rwlock_read_unlock(&l);
	CHECK(volt_rwlock_try_write(&l));
	volt_rwlock_write_unlock(&l);
	volt_rwlock_destroy(&l);
}

/* ---- notify: the stored permit, notify_all's reach, a permit never lost */

VOLT_TEST(sync_notify_permit_and_notify_all)
{
	struct volt_notify n;
	struct volt_waiter a = { .state = 0 }, b = { .state = 0 }, c = { .state = 0 };
	atomic_int wa = 0, wb = 0, wc = 0;
	struct volt_waker ka = counting(&wa), kb = counting(&wb), kc = counting(&wc);

	CHECK_OK(volt_notify_init(&n));
	volt_notify_one(&n);
	volt_notify_one(&n); /* at most one permit is stored */
	CHECK_OK(volt_notify_wait_with(&n, &a, &ka));
	CHECK_EQ(volt_notify_wait_with(&n, &a, &ka), 1);
	CHECK_EQ(volt_notify_wait_with(&n, &b, &kb), 1);
	volt_notify_all(&n);
	CHECK_EQ(atomic_load(&wa), 1);
	CHECK_EQ(atomic_load(&wb), 1);
	CHECK_EQ(volt_notify_wait_with(&n, &c, &kc), 1); /* arrived after: not woken */
	CHECK_EQ(atomic_load(&wc), 0);
	CHECK_OK(volt_notify_wait_with(&n, &a, &ka));
	CHECK_OK(volt_notify_wait_with(&n, &b, &kb));
	volt_notify_all(&n); /* stores nothing for later */
	CHECK_OK(volt_notify_wait_with(&n, &c, &kc));
	CHECK_EQ(volt_notify_wait_with(&n, &a, &ka), 1);
	volt_notify_wait_cancel(&n, &a);
	volt_notify_destroy(&n);
}

VOLT_TEST(sync_notify_permit_not_lost_on_cancel)
{
	struct volt_notify n;
	struct volt_waiter a = { .state = 0 }, b = { .state = 0 }, c = { .state = 0 };
	atomic_int wa = 0, wb = 0, wc = 0;
	struct volt_waker ka = counting(&wa), kb = counting(&wb), kc = counting(&wc);

	CHECK_OK(volt_notify_init(&n));
	CHECK_EQ(volt_notify_wait_with(&n, &a, &ka), 1);
	CHECK_EQ(volt_notify_wait_with(&n, &b, &kb), 1);
	volt_notify_one(&n); /* chooses a */
	CHECK_EQ(atomic_load(&wa), 1);
	volt_notify_wait_cancel(&n, &a); /* a leaves without seeing it: b gets it */
	CHECK_EQ(atomic_load(&wb), 1);
	volt_notify_wait_cancel(&n, &b); /* b too: with nobody left it is stored */
	CHECK_OK(volt_notify_wait_with(&n, &c, &kc));
	CHECK_EQ(atomic_load(&wc), 0);
	volt_notify_destroy(&n);
}

/* ---- barrier: a leader per round; a cancelled waiter stops counting */

VOLT_TEST(sync_barrier_rounds_and_cancel)
{
	struct volt_barrier b;
	struct volt_barrier_waiter x = { .leader = false }, y = { .leader = false },
				   z = { .leader = false };
	atomic_int wx = 0, wy = 0, wz = 0;
	struct volt_waker kx = counting(&wx), ky = counting(&wy), kz = counting(&wz);

	CHECK_EQ(volt_barrier_init(&b, 0), -EINVAL);
	CHECK_OK(volt_barrier_init(&b, 3));
	CHECK_EQ(volt_barrier_wait_with(&b, &x, &kx), 1);
	CHECK_EQ(volt_barrier_wait_with(&b, &y, &ky), 1);
	volt_barrier_wait_cancel(&b, &y); /* now one of three */
	CHECK_EQ(volt_barrier_wait_with(&b, &y, &ky), 1);
	CHECK_OK(volt_barrier_wait_with(&b, &z, &kz)); /* the third: the leader */
	CHECK(z.leader);
	CHECK_EQ(atomic_load(&wx), 1);
	CHECK_EQ(atomic_load(&wy), 1);
	CHECK_OK(volt_barrier_wait_with(&b, &x, &kx));
	CHECK_OK(volt_barrier_wait_with(&b, &y, &ky));
	CHECK(!x.leader && !y.leader);
	/* the next round starts from zero */
	CHECK_EQ(volt_barrier_wait_with(&b, &x, &kx), 1);
	volt_barrier_wait_cancel(&b, &x);
	CHECK_EQ(b.arrived, 0);
	volt_barrier_destroy(&b);
}

/* ---- once cell */

static int init_calls;

static int init_42(void *arg, void **value)
{
	init_calls++;
	*value = arg;
	return 0;
}

static int init_fails(void *arg, void **value)
{
	(void)arg;
	(void)value;
	init_calls++;
	return -EIO;
}

VOLT_TEST(sync_once_set_get_init)
{
	struct volt_once c;
	void *v = NULL;

	CHECK_OK(volt_once_init(&c));
	CHECK_EQ(volt_once_get(&c, &v), -EAGAIN);
	CHECK(!volt_once_is_set(&c));
	CHECK_EQ(volt_once_get_or_init_blocking(&c, init_fails, NULL, &v), -EIO);
	CHECK(!volt_once_is_set(&c)); /* a failed init leaves it empty */
	CHECK_OK(volt_once_get_or_init_blocking(&c, init_42, (void *)42, &v));
	CHECK_PTR_EQ(v, (void *)42);
	CHECK_OK(volt_once_get_or_init_blocking(&c, init_42, (void *)7, &v));
	CHECK_PTR_EQ(v, (void *)42);
	CHECK_EQ(init_calls, 2);
	CHECK_EQ(volt_once_set(&c, (void *)1), -EALREADY);
	CHECK_OK(volt_once_get(&c, &v));
	CHECK_PTR_EQ(v, (void *)42);
	volt_once_destroy(&c);
	CHECK_OK(volt_once_init_with(&c, (void *)5));
	CHECK_OK(volt_once_get(&c, &v));
	CHECK_PTR_EQ(v, (void *)5);
	volt_once_destroy(&c);
	CHECK_OK(volt_once_init(&c));
	CHECK_OK(volt_once_set(&c, (void *)9));
	CHECK_OK(volt_once_get(&c, &v));
	CHECK_PTR_EQ(v, (void *)9);
	volt_once_destroy(&c);
}

/* ---- under every policy: a counter under the mutex ends exact */

#define TASKS 8
#define ROUNDS VT_SCALE(2000)

struct shared {
	struct volt_mutex m;
	struct volt_semaphore sem;
	struct volt_rwlock rw;
	long counter;         /* under m, or under rw's write side */
	atomic_int holders;   /* inside the semaphore */
	atomic_int most;      /* most holders seen at once */
	atomic_int readers, writers;
	atomic_bool overlap;  /* a reader beside a writer, or two writers */
};

static void note_most(atomic_int *most, int now)
{
	for (int seen = atomic_load(most); now > seen;)
		if (atomic_compare_exchange_weak(most, &seen, now))
			break;
}

struct locker {
	struct volt_future base;
	struct shared *sh;
	int i;
	struct volt_acquire acq;
	struct volt_yield y;
};

static enum volt_poll locker_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct locker *l = (struct locker *)f;

	VOLT_BEGIN(f);
	for (l->i = 0; l->i < ROUNDS; l->i++) {
		VOLT_AWAIT(f, cx, volt_mutex_lock(&l->acq, &l->sh->m));
		CHECK_OK(l->acq.result);
		l->sh->counter++;
		if (l->i % 16 == 0) /* hold it across a yield now and then */
			VOLT_AWAIT(f, cx, volt_yield_now(&l->y));
		volt_mutex_unlock(&l->sh->m);
	}
	VOLT_END(f);
}

static const struct volt_future_ops locker_ops = { .poll = locker_poll };

static void *fiber_locker(struct volt_rt *rt, void *arg)
{
	struct shared *sh = arg;

	(void)rt;
	for (int i = 0; i < ROUNDS; i++) {
		CHECK_OK(volt_mutex_lock_blocking(&sh->m));
		sh->counter++;
		volt_mutex_unlock(&sh->m);
	}
	return NULL;
}

static void *thread_locker(void *arg)
{
	return fiber_locker(NULL, arg);
}

VOLT_RT_TEST(sync_mutex_counter_exact)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct shared sh = { .counter = 0 };
	struct volt_join *j[TASKS + 2];
	pthread_t th;

	CHECK_OK(volt_mutex_init(&sh.m));
	for (int i = 0; i < TASKS; i++) {
		struct locker l = { .base = VOLT_FUTURE_INIT(&locker_ops), .sh = &sh };

		j[i] = vt_spawn(rt, &l, sizeof l, false);
	}
	for (int i = TASKS; i < TASKS + 2; i++)
		CHECK_OK(volt_spawn_fiber(rt, fiber_locker, &sh, 0, &j[i]));
	CHECK_OK(pthread_create(&th, NULL, thread_locker, &sh));
	for (int i = 0; i < TASKS + 2; i++)
		vt_join(j[i]);
	pthread_join(th, NULL);
	CHECK_EQ(sh.counter, (long)(TASKS + 3) * ROUNDS);
	CHECK(volt_mutex_try_lock(&sh.m));
	volt_mutex_unlock(&sh.m);
	volt_mutex_destroy(&sh.m);
	volt_rt_free(rt);
}

/* ---- semaphore holders never exceed the permits; cancelled waits lose nothing */

struct holder {
	struct volt_future base;
	struct shared *sh;
	int i;
	bool holding; /* a permit, across the yield: given back by drop if cancelled there */
	struct volt_acquire acq;
	struct volt_yield y;
};

static enum volt_poll holder_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct holder *h = (struct holder *)f;

	VOLT_BEGIN(f);
	for (h->i = 0; h->i < ROUNDS; h->i++) {
		if (volt_semaphore_try_acquire(&h->sh->sem, 1) != 0) {
			VOLT_AWAIT(f, cx, volt_semaphore_acquire(&h->acq, &h->sh->sem, 1));
			CHECK_OK(h->acq.result);
		}
		note_most(&h->sh->most, atomic_fetch_add(&h->sh->holders, 1) + 1);
		h->holding = true;
		VOLT_AWAIT(f, cx, volt_yield_now(&h->y));
		h->holding = false;
		atomic_fetch_sub(&h->sh->holders, 1);
		volt_semaphore_release(&h->sh->sem, 1);
	}
	VOLT_END(f);
}

/* The guard: a task cancelled while it holds a permit gives it back. */
static void holder_drop(struct volt_future *f)
{
	struct holder *h = (struct holder *)f;

	if (h->holding) {
		atomic_fetch_sub(&h->sh->holders, 1);
		volt_semaphore_release(&h->sh->sem, 1);
	}
}

static const struct volt_future_ops holder_ops = { .poll = holder_poll, .drop = holder_drop };

VOLT_RT_TEST(sync_semaphore_never_exceeds_permits)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct shared sh = { .counter = 0 };
	struct volt_join *j[TASKS], *doomed[TASKS];

	CHECK_OK(volt_semaphore_init(&sh.sem, 2));
	for (int i = 0; i < TASKS; i++) {
		struct holder h = { .base = VOLT_FUTURE_INIT(&holder_ops), .sh = &sh };

		j[i] = vt_spawn(rt, &h, sizeof h, false);
		doomed[i] = vt_spawn(rt, &h, sizeof h, false);
	}
	for (int i = 0; i < TASKS; i++)
		volt_join_cancel(doomed[i]); /* cancelled at any point of their loop */
	for (int i = 0; i < TASKS; i++) {
		vt_join(j[i]);
		(void)volt_join_wait(doomed[i], NULL);
	}
	CHECK_LE(atomic_load(&sh.most), 2);
	CHECK_EQ(atomic_load(&sh.holders), 0);
	CHECK_EQ(volt_semaphore_available(&sh.sem), 2); /* every permit came back */
	volt_semaphore_destroy(&sh.sem);
	volt_rt_free(rt);
}

/* ---- rwlock: never a reader beside a writer */

struct rw_user {
	struct volt_future base;
	struct shared *sh;
	bool writer;
	int i;
	struct volt_acquire acq;
	struct volt_yield y;
};

static enum volt_poll rw_user_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct rw_user *u = (struct rw_user *)f;

	VOLT_BEGIN(f);
	for (u->i = 0; u->i < ROUNDS / 2; u->i++) {
		if (u->writer) {
			VOLT_AWAIT(f, cx, volt_rwlock_write(&u->acq, &u->sh->rw));
			if (atomic_fetch_add(&u->sh->writers, 1) || atomic_load(&u->sh->readers))
				atomic_store(&u->sh->overlap, true);
			u->sh->counter++;
			VOLT_AWAIT(f, cx, volt_yield_now(&u->y));
			atomic_fetch_sub(&u->sh->writers, 1);
			volt_rwlock_write_unlock(&u->sh->rw);
		} else {
			VOLT_AWAIT(f, cx, volt_rwlock_read(&u->acq, &u->sh->rw));
			atomic_fetch_add(&u->sh->readers, 1);
			if (atomic_load(&u->sh->writers))
				atomic_store(&u->sh->overlap, true);
			VOLT_AWAIT(f, cx, volt_yield_now(&u->y));
			atomic_fetch_sub(&u->sh->readers, 1);
			volt_rwlock_read_unlock(&u->sh->rw);
		}
	}
	VOLT_END(f);
}

static const struct volt_future_ops rw_user_ops = { .poll = rw_user_poll };

VOLT_RT_TEST(sync_rwlock_no_reader_beside_writer)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct shared sh = { .counter = 0 };
	struct volt_join *j[6];

	CHECK_OK(volt_rwlock_init(&sh.rw));
	for (int i = 0; i < 6; i++) {
		struct rw_user u = { .base = VOLT_FUTURE_INIT(&rw_user_ops), .sh = &sh,
				     .writer = i < 2 };

		j[i] = vt_spawn(rt, &u, sizeof u, false);
	}
	for (int i = 0; i < 6; i++)
		vt_join(j[i]);
	CHECK(!atomic_load(&sh.overlap));
	CHECK_EQ(sh.counter, 2L * (ROUNDS / 2));
	CHECK(volt_rwlock_try_write(&sh.rw));
	volt_rwlock_write_unlock(&sh.rw);
	volt_rwlock_destroy(&sh.rw);
	volt_rt_free(rt);
}

/* ---- barrier rounds under every policy: one leader per round */

#define PARTIES 4
#define BARRIER_ROUNDS VT_SCALE(300)

struct meeter {
	struct volt_future base;
	struct volt_barrier *b;
	atomic_int *leaders;
	int i;
	struct volt_barrier_wait w;
};

static enum volt_poll meeter_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct meeter *m = (struct meeter *)f;

	VOLT_BEGIN(f);
	for (m->i = 0; m->i < BARRIER_ROUNDS; m->i++) {
		VOLT_AWAIT(f, cx, volt_barrier_wait(&m->w, m->b));
		if (m->w.leader)
			atomic_fetch_add(m->leaders, 1);
	}
	VOLT_END(f);
}

static const struct volt_future_ops meeter_ops = { .poll = meeter_poll };

struct fiber_meet {
	struct volt_barrier *b;
	atomic_int *leaders;
};

static void *fiber_meeter(struct volt_rt *rt, void *arg)
{
	struct fiber_meet *fm = arg;

	(void)rt;
	for (int i = 0; i < BARRIER_ROUNDS; i++) {
		int r = volt_barrier_wait_blocking(fm->b);

		CHECK(r == 0 || r == 1);
		if (r == 1)
			atomic_fetch_add(fm->leaders, 1);
	}
	return NULL;
}

VOLT_RT_TEST(sync_barrier_one_leader_per_round)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_barrier b;
	atomic_int leaders = 0;
	struct fiber_meet fm = { &b, &leaders };
	struct volt_join *j[PARTIES];

	CHECK_OK(volt_barrier_init(&b, PARTIES));
	for (int i = 0; i < PARTIES - 1; i++) {
		struct meeter m = { .base = VOLT_FUTURE_INIT(&meeter_ops), .b = &b,
				    .leaders = &leaders };

		j[i] = vt_spawn(rt, &m, sizeof m, false);
	}
	CHECK_OK(volt_spawn_fiber(rt, fiber_meeter, &fm, 0, &j[PARTIES - 1]));
	for (int i = 0; i < PARTIES; i++)
		vt_join(j[i]);
	CHECK_EQ(atomic_load(&leaders), BARRIER_ROUNDS);
	volt_barrier_destroy(&b);
	volt_rt_free(rt);
}

/* ---- once cell: concurrent initialisers, init runs once */

static atomic_int slow_inits;

static int slow_init(void *arg, void **value)
{
	atomic_fetch_add(&slow_inits, 1);
	vt_sleep_us(2000); /* long enough for the others to queue */
	*value = arg;
	return 0;
}

struct once_user {
	struct volt_future base;
	struct volt_once *c;
	struct volt_once_get_or_init g;
};

static enum volt_poll once_user_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct once_user *u = (struct once_user *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_once_get_or_init(&u->g, u->c, slow_init, (void *)77));
	CHECK_OK(u->g.result);
	VOLT_RETURN(f, cx, u->g.value);
	VOLT_END(f);
}

static const struct volt_future_ops once_user_ops = { .poll = once_user_poll };

static void *thread_once(void *arg)
{
	void *v = NULL;

	CHECK_OK(volt_once_get_or_init_blocking(arg, slow_init, (void *)77, &v));
	return v;
}

VOLT_RT_TEST(sync_once_init_runs_once)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_once c;
	struct volt_join *j[TASKS];
	pthread_t th;
	void *v;

	atomic_store(&slow_inits, 0);
	CHECK_OK(volt_once_init(&c));
	CHECK_OK(pthread_create(&th, NULL, thread_once, &c));
	for (int i = 0; i < TASKS; i++) {
		struct once_user u = { .base = VOLT_FUTURE_INIT(&once_user_ops), .c = &c };

		j[i] = vt_spawn(rt, &u, sizeof u, false);
	}
	for (int i = 0; i < TASKS; i++)
		CHECK_PTR_EQ(vt_join(j[i]), (void *)77);
	pthread_join(th, &v);
	CHECK_PTR_EQ(v, (void *)77);
	CHECK_EQ(atomic_load(&slow_inits), 1);
	volt_once_destroy(&c);
	volt_rt_free(rt);
}

/* ---- blocking forms refuse a stackless task */

struct refuser {
	struct volt_future base;
	struct volt_mutex *m;
};

static enum volt_poll refuser_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct refuser *r = (struct refuser *)f;

	(void)cx;
	struct volt_notify n;

	CHECK_EQ(volt_mutex_lock_blocking(r->m), -EDEADLK);
	CHECK_OK(volt_notify_init(&n));
	CHECK_EQ(volt_notify_wait_blocking(&n), -EDEADLK);
	volt_notify_destroy(&n);
	return VOLT_READY;
}

static const struct volt_future_ops refuser_ops = { .poll = refuser_poll };

VOLT_RT_TEST(sync_blocking_forms_refuse_stackless)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_mutex m;
	struct refuser r = { .base = VOLT_FUTURE_INIT(&refuser_ops), .m = &m };

	CHECK_OK(volt_mutex_init(&m));
	CHECK(volt_mutex_try_lock(&m)); /* held: a blocking lock would have to wait */
	vt_join(vt_spawn(rt, &r, sizeof r, false));
	volt_mutex_unlock(&m);
	volt_mutex_destroy(&m);
	volt_rt_free(rt);
}

/* ---- the blocking forms from plain threads: wait, then get woken */

struct blocking_pair {
	struct volt_rwlock rw;
	struct volt_semaphore sem;
	struct volt_notify n;
	atomic_int stage;
};

static void *blocking_side(void *arg)
{
	struct blocking_pair *p = arg;

	CHECK_OK(volt_rwlock_write_blocking(&p->rw)); /* waits for the reader */
	atomic_store(&p->stage, 1);
	volt_rwlock_write_unlock(&p->rw);
	CHECK_OK(volt_semaphore_acquire_blocking(&p->sem, 2)); /* waits for the release */
	atomic_store(&p->stage, 2);
	CHECK_OK(volt_notify_wait_blocking(&p->n)); /* waits for the notify */
	atomic_store(&p->stage, 3);
	return NULL;
}

VOLT_TEST(sync_blocking_forms_wait_and_wake)
{
	struct blocking_pair p;
	pthread_t th;

	atomic_init(&p.stage, 0);
	CHECK_OK(volt_rwlock_init(&p.rw));
	CHECK_OK(volt_semaphore_init(&p.sem, 1));
	CHECK_OK(volt_notify_init(&p.n));
	CHECK_OK(volt_rwlock_read_blocking(&p.rw));
	CHECK_OK(pthread_create(&th, NULL, blocking_side, &p));
	vt_sleep_us(5000);
	CHECK_EQ(atomic_load(&p.stage), 0); /* the writer waits for this reader */
	volt_rwlock_read_unlock(&p.rw);
	VT_WAIT_FOR(atomic_load(&p.stage) == 1 || volt_semaphore_available(&p.sem) == 0);
	vt_sleep_us(5000);
	CHECK_LE(atomic_load(&p.stage), 1); /* one permit of the two it asked for */
	volt_semaphore_release(&p.sem, 1);
	VT_WAIT_FOR(atomic_load(&p.stage) == 2);
	vt_sleep_us(5000);
	CHECK_EQ(atomic_load(&p.stage), 2);
	volt_notify_one(&p.n);
	pthread_join(th, NULL);
	CHECK_EQ(atomic_load(&p.stage), 3);
	volt_notify_destroy(&p.n);
	volt_semaphore_destroy(&p.sem);
	volt_rwlock_destroy(&p.rw);
}

/* ---- notify ping-pong under every policy: no wakeup lost in 2 x ROUNDS hand-offs */

struct pinger {
	struct volt_future base;
	struct volt_notify *mine, *theirs;
	bool serve;         /* the one that notifies first */
	int i;
	long *count;
	struct volt_notified nf;
};

static enum volt_poll pinger_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct pinger *p = (struct pinger *)f;

	VOLT_BEGIN(f);
	for (p->i = 0; p->i < ROUNDS; p->i++) {
		if (p->serve)
			volt_notify_one(p->theirs);
		VOLT_AWAIT(f, cx, volt_notify_wait(&p->nf, p->mine));
		++*p->count;
		if (!p->serve)
			volt_notify_one(p->theirs);
	}
	VOLT_END(f);
}

static const struct volt_future_ops pinger_ops = { .poll = pinger_poll };

VOLT_RT_TEST(sync_notify_ping_pong_exact)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_notify a, b;
	long na = 0, nb = 0;
	struct pinger pa = { .base = VOLT_FUTURE_INIT(&pinger_ops), .mine = &a, .theirs = &b,
			     .serve = true, .count = &na };
	struct pinger pb = { .base = VOLT_FUTURE_INIT(&pinger_ops), .mine = &b, .theirs = &a,
			     .serve = false, .count = &nb };
	struct volt_join *ja, *jb;

	CHECK_OK(volt_notify_init(&a));
	CHECK_OK(volt_notify_init(&b));
	ja = vt_spawn(rt, &pa, sizeof pa, false);
	jb = vt_spawn(rt, &pb, sizeof pb, false);
	vt_join(ja);
	vt_join(jb);
	CHECK_EQ(na, ROUNDS);
	CHECK_EQ(nb, ROUNDS);
	volt_notify_destroy(&a);
	volt_notify_destroy(&b);
	volt_rt_free(rt);
}
