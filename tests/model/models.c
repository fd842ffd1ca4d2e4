/* SPDX-License-Identifier: MIT */
/*
 * tests/model/models.c: small models of the work-stealing queues and the
 * sync primitives, run on the real library code (built with -DVOLT_CHAOS)
 * under the deterministic scheduler.
 *
 * Every model is the same experiment at a different layer: an owner pushes
 * fake tasks (zeroed headers, known by their index) and pops, one or two
 * thieves steal, and each task must come out exactly once: a task seen twice
 * fails the run on the spot, a task never seen fails it at the end, after
 * the main thread has drained every queue. Sizes (how many tasks, thieves,
 * push kinds) are drawn from the run's seed, so they are part of the replay.
 *
 * - ringq, ringq_full: the bare ring (ringq.c). ringq_full starts the ring
 *   nearly full, so pushes wrap onto slots a thief may still be copying and
 *   overflow to the global queue both ways (half the ring, or one task while
 *   a thief is at work).
 * - ring_slot, runnext_slot: a worker's slot + ring through the `ring` and
 *   `runnext` policy ops (wsring.c), pushes as SPAWN or WAKE (the slot),
 *   thieves on their last pass (so runnext's slot is stealable).
 * - ring_overflow: the same with more pushes than the ring holds, so half
 *   the ring moves to the global queue and thieves contend for its lock.
 * - chaselev_last, chaselev_grow: the Chase-Lev deque through the `chaselev`
 *   ops: owner takes racing a thief over the last elements, and steals
 *   racing a push that grows the array past its 64 first slots.
 *
 * ringq_full and ring_overflow go through the global queue's lock; the
 * scheduler knows about it (sched.c), so a waiter never sleeps on it.
 *
 * The sync models (sem_handoff, mutex_count, rwlock_rw, notify_permit,
 * barrier_round, once_init) drive the waiter forms of primitives/ with a
 * waker that sets a flag the waiting thread parks on (vm_park): a lost
 * wakeup leaves a thread parked for ever, which fails the run as a
 * deadlock. Each checks its primitive's accounting during and after the
 * run (permits, mutual exclusion, notifications, rounds and leaders, one
 * init), and that no waker reference is left.
 *
 * The channel (primitives/chan*.c): vyukov_ring drives the `vyukov`
 * buffer's ops directly (values exactly once, per-pusher order, capacity,
 * close); chan_waiters, chan_close and chan_locked poll the channel's send
 * and receive futures by hand with the same model waker, over the `vyukov`
 * and `locked` buffers (messages exactly once, cancels, close, no wakeup
 * lost).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <volt.h>

#include "core/atomic.h"
#include "core/task.h"
#include "core/topology.h"
#include "primitives/chan_buffer.h"
#include "schedulers/injector.h"
#include "schedulers/ringq.h"
#include "schedulers/sched.h"
#include "tests/model/models.h"

/* ---- exact-once accounting ---- */

struct tally {
	struct volt__task *tasks;
	unsigned *seen;
	unsigned n;
};

static void *zalloc(size_t size)
{
	size = (size + 63) & ~(size_t)63;

	void *p = aligned_alloc(64, size ? size : 64);

	if (!p) {
		perror("volt-model: aligned_alloc");
		exit(2);
	}
	memset(p, 0, size);
	return p;
}

static void tally_init(struct tally *T, unsigned n)
{
	T->n = n;
	T->tasks = zalloc(n * sizeof(*T->tasks));
	T->seen = zalloc(n * sizeof(*T->seen));
}

static void tally_fini(struct tally *T)
{
	free(T->tasks);
	free(T->seen);
}

/* Counts t (NULL: nothing) as taken by thread `who`; fails on a task seen
 * twice or a pointer that is no task. */
static void take(struct tally *T, struct volt__task *t, int who, const char *how)
{
	if (!t)
		return;

	uintptr_t off = (uintptr_t)t - (uintptr_t)T->tasks;
	unsigned i = (unsigned)(off / sizeof(*t));

	if ((uintptr_t)t < (uintptr_t)T->tasks || off % sizeof(*t) || i >= T->n)
		vm_fail("%s by %s%d returned %p, which is no task", how, who < 0 ? "main" : "T",
			who < 0 ? 0 : who, (void *)t);
	vm_log("%s -> task %u", how, i);
	if (T->seen[i]++)
		vm_fail("task %u taken twice (the second time by %s in %s)", i,
			who < 0 ? "main" : "a model thread", how);
}

/* Main, after the run: every task exactly once. */
static int tally_check(struct tally *T)
{
	for (unsigned i = 0; i < T->n; i++)
		if (T->seen[i] != 1) {
			vm_fail("task %u taken %u times (lost)", i, T->seen[i]);
			return -1;
		}
	return 0;
}

/* ---- ringq: owner push/pop vs steal-half ---- */

struct rq_model {
	struct tally T;
	struct volt__ringq *q[3]; /* q[0] the victim's, q[1..] the thieves' own */
	struct volt__injector overflow;
	struct volt__metrics *m;
	unsigned thieves, prefill, pushes, tries;
};

static void rq_body(unsigned id, void *arg)
{
	struct rq_model *M = arg;

	if (id == 0) {
		struct volt__task *t;

		for (unsigned i = 0; i < M->pushes; i++) {
			vm_log("push task %u", M->prefill + i);
			volt__ringq_push(M->q[0], &M->T.tasks[M->prefill + i], &M->overflow, M->m);
			if (vm_rand() % 3 == 0)
				take(&M->T, volt__ringq_pop(M->q[0]), 0, "pop");
		}
		while ((t = volt__ringq_pop(M->q[0])))
			take(&M->T, t, 0, "pop");
		return;
	}
	for (unsigned k = 0; k < M->tries; k++) {
		uint32_t n;

		if (volt__ringq_used(M->q[id]) > VOLT__RINGQ_CAP / 2)
			break; /* the contract: room for half a ring */
		take(&M->T, volt__ringq_steal(M->q[0], M->q[id], 0, &n), (int)id, "steal");
		if (vm_rand() % 2)
			take(&M->T, volt__ringq_pop(M->q[id]), (int)id, "pop own");
	}
}

static int rq_run(const struct vm_opts *o, bool full)
{
	struct rq_model M = { 0 };
	int ret;

	M.thieves = full ? 2 : 1 + (unsigned)(vm_rand() % 2);
	M.prefill = full ? 252 + (unsigned)(vm_rand() % 4) : 0;
	M.pushes = full ? 16 + (unsigned)(vm_rand() % 24) : 3 + (unsigned)(vm_rand() % 8);
	M.tries = 1 + (unsigned)(vm_rand() % 2);
	tally_init(&M.T, M.prefill + M.pushes);
	M.m = zalloc(sizeof(*M.m));
	for (unsigned i = 0; i <= M.thieves; i++) {
		M.q[i] = zalloc(sizeof(*M.q[i]));
		volt__ringq_init(M.q[i]);
	}
	if (volt__injector_init(&M.overflow))
		abort();
	for (unsigned i = 0; i < M.prefill; i++) /* main: no scheduling points */
		volt__ringq_push(M.q[0], &M.T.tasks[i], &M.overflow, M.m);

	ret = vm_run(o, 1 + M.thieves, rq_body, &M);
	if (!ret) {
		struct volt__task *t;
		size_t taken;

		for (unsigned i = 0; i <= M.thieves; i++)
			while ((t = volt__ringq_pop(M.q[i])))
				take(&M.T, t, -1, "drain");
		t = volt__injector_pop(&M.overflow, SIZE_MAX, &taken);
		for (struct volt__task *next; t; t = next) {
			next = t->next;
			take(&M.T, t, -1, "drain overflow");
		}
		for (unsigned i = 0; i <= M.thieves && !vm_failed(); i++)
			if (volt__ringq_len(M.q[i]) || volt__ringq_used(M.q[i]))
				vm_fail("ring %u not empty after draining", i);
		if (!vm_failed())
			tally_check(&M.T);
		ret = vm_failed() ? -1 : 0;
	}
	/* a failed run abandons its threads mid-operation: leak, don't tear down */
	if (!ret) {
		volt__injector_fini(&M.overflow);
		for (unsigned i = 0; i <= M.thieves; i++)
			free(M.q[i]);
		free(M.m);
		tally_fini(&M.T);
	}
	return ret;
}

static int model_ringq(const struct vm_opts *o)
{
	return rq_run(o, false);
}

static int model_ringq_full(const struct vm_opts *o)
{
	return rq_run(o, true);
}

/* ---- a policy through its ops (wsring flavours, chaselev) ---- */

struct ops_model {
	struct tally T;
	const struct volt__sched_ops *ops;
	void *state;
	struct volt_config cfg;
	struct volt__metrics *m;
	struct volt__topo *topo;
	unsigned workers, prefill, pushes, tries; /* main pushes tasks [0, prefill) first */
	bool wake;  /* pushes may be VOLT__PUSH_WAKE (into the slot) */
	bool bulk;  /* the owner pushes everything before it pops */
};

static void ops_body(unsigned id, void *arg)
{
	struct ops_model *M = arg;
	struct volt__task *t;
	bool lifo;

	if (id == 0) {
		for (unsigned i = M->prefill; i < M->pushes; i++) {
			enum volt__push how = M->wake && vm_rand() % 2 ? VOLT__PUSH_WAKE
								  : VOLT__PUSH_SPAWN;

			vm_log("push task %u (%s)", i, how == VOLT__PUSH_WAKE ? "wake" : "spawn");
			M->ops->push(M->state, 0, &M->T.tasks[i], how);
			if (!M->bulk && vm_rand() % 3 == 0)
				take(&M->T, M->ops->pop(M->state, 0, false, &lifo), 0, "pop");
		}
		while ((t = M->ops->pop(M->state, 0, false, &lifo)))
			take(&M->T, t, 0, "pop");
		return;
	}
	unsigned passes = M->cfg.search_rounds;

	for (unsigned k = 0; k < M->tries; k++) {
		/* the last pass: a stealable slot may be taken */
		take(&M->T, M->ops->steal(M->state, id, passes - 1, passes), (int)id, "steal");
		if (vm_rand() % 2)
			take(&M->T, M->ops->pop(M->state, id, false, &lifo), (int)id, "pop own");
	}
}

static int ops_run(const struct vm_opts *o, struct ops_model *M, const struct volt__sched_ops *ops)
{
	int ret;

	M->ops = ops;
	if (volt_config_init(&M->cfg))
		abort();
	/* the knobs the queues read, whatever the environment says */
	M->cfg.lifo = true;
	M->cfg.lifo_max_polls = 3;
	M->cfg.steal_batch = 0;
	M->cfg.search_rounds = 4;
	M->m = zalloc(M->workers * sizeof(*M->m));
	M->topo = zalloc(sizeof(*M->topo)); /* no flavour here reads distances */
	tally_init(&M->T, M->pushes);

	struct volt__sched_env env = { M->workers, o->seed, &M->cfg, M->m, M->topo };

	if (ops->init(&M->state, &env))
		abort();
	for (unsigned i = 0; i < M->prefill; i++) /* main: no scheduling points */
		ops->push(M->state, 0, &M->T.tasks[i], VOLT__PUSH_SPAWN);
	ret = vm_run(o, M->workers, ops_body, M);
	if (!ret) {
		struct volt__task *t;
		bool lifo;

		for (unsigned w = 0; w < M->workers; w++)
			while ((t = ops->pop(M->state, w, false, &lifo)))
				take(&M->T, t, -1, "drain");
		if (!vm_failed() && ops->has_work(M->state))
			vm_fail("has_work() after every queue was drained");
		if (!vm_failed())
			tally_check(&M->T);
		ret = vm_failed() ? -1 : 0;
	}
	if (!ret) {
		ops->fini(M->state);
		free(M->m);
		free(M->topo);
		tally_fini(&M->T);
	}
	return ret;
}

static int model_ring_slot(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .wake = true };

	M.pushes = 2 + (unsigned)(vm_rand() % 7);
	M.tries = 2;
	return ops_run(o, &M, &volt__sched_ring);
}

static int model_runnext_slot(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .wake = true };

	M.pushes = 2 + (unsigned)(vm_rand() % 7);
	M.tries = 2;
	return ops_run(o, &M, &volt__sched_runnext);
}

static int model_ring_overflow(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .wake = true };

	M.prefill = VOLT__RINGQ_CAP - 8;
	M.pushes = VOLT__RINGQ_CAP + 4 + (unsigned)(vm_rand() % 16);
	M.tries = 3;
	return ops_run(o, &M, &volt__sched_ring);
}

static int model_chaselev_last(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 2 };

	M.pushes = 1 + (unsigned)(vm_rand() % 4);
	M.tries = 3;
	return ops_run(o, &M, &volt__sched_chaselev);
}

static int model_chaselev_grow(const struct vm_opts *o)
{
	struct ops_model M = { .workers = 3, .bulk = true };

	M.pushes = 64 + 1 + (unsigned)(vm_rand() % 8); /* the array starts at 64 slots */
	M.tries = 3;
	return ops_run(o, &M, &volt__sched_chaselev);
}

/* ==== the sync primitives: wait, wake, cancel (primitives/) ==== */

/*
 * A model's waker. A wake sets a flag (a volt__ store, so at a point) that
 * the waiting thread parks on (vm_park); clone and drop count references
 * with volt__ atomics, as a task's waker does, so they are points too, some
 * of them under a primitive's lock. A waiter that nobody wakes stays parked,
 * and the run fails as a deadlock: a lost wakeup. After a run every waker
 * must be back to no references (none leaked, none dropped twice).
 */
struct mwaker {
	_Atomic uint32_t flag; /* set by a wake: poll again */
	_Atomic int refs;      /* clones not yet dropped or consumed by a wake */
};

static void *mw_clone(void *d)
{
	struct mwaker *w = d;

	volt__fetch_add(&w->refs, 1, RELAXED); /* relaxed: a count, checked after the run */
	return d;
}

static void mw_drop(void *d)
{
	struct mwaker *w = d;

	if (volt__fetch_sub(&w->refs, 1, RELAXED) <= 0) /* relaxed: as clone */
		vm_fail("a waker dropped or woken more often than it was cloned");
}

static void mw_wake_by_ref(void *d)
{
	struct mwaker *w = d;

	volt__store(&w->flag, 1, RELEASE); /* release: what the waker did before, to the waiter */
}

static void mw_wake(void *d)
{
	mw_wake_by_ref(d);
	mw_drop(d);
}

static const struct volt_waker_ops mw_ops = { mw_wake, mw_wake_by_ref, mw_clone, mw_drop };

static struct volt_waker mw_waker(struct mwaker *w)
{
	return (struct volt_waker){ &mw_ops, w };
}

/* Between two polls of a pending wait: parks until woken, then clears the
 * flag; one time in four polls again at once instead (a spurious poll). */
static void mw_wait(struct mwaker *w)
{
	if (vm_rand() % 4 == 0)
		return;
	vm_park(&w->flag);
	atomic_store(&w->flag, 0);
}

/* Up to max - 1 scheduling points of the model's own: a thread busy a moment. */
static void mw_dawdle(unsigned max)
{
	for (unsigned k = (unsigned)(vm_rand() % max); k; k--)
		volt__chaos_point();
}

/* Main, after a run: no waker reference left. */
static void mw_check(struct mwaker *mw, unsigned n)
{
	for (unsigned i = 0; i < n && !vm_failed(); i++)
		if (atomic_load(&mw[i].refs))
			vm_fail("T%u's waker holds %d references after the run (a waker leaked)", i,
				atomic_load(&mw[i].refs));
}

/* ---- semaphore, mutex, rwlock: one batch semaphore (semaphore.c) ---- */

/* Main, after a run: every permit back in the word, nobody in line. */
static void sem_check_idle(struct volt_semaphore *s, uint32_t permits)
{
	uint64_t word = atomic_load((_Atomic uint64_t *)&s->permits);

	if (vm_failed())
		return;
	if (volt_semaphore_available(s) != permits)
		vm_fail("%u permits available after the run, of %u", volt_semaphore_available(s),
			permits);
	else if (s->waiters.head || (word & 2))
		vm_fail("waiters left after the run (line %s, WAITERS %s)",
			s->waiters.head ? "not empty" : "empty", word & 2 ? "set" : "clear");
}

/*
 * A waiter-form acquire of n permits, through acquire(): 0 once acquired,
 * 1 if it was cancelled instead (cancel: whether it may be; a cancelled
 * wait may have been granted meanwhile, which the cancel gives back).
 */
typedef int (*sem_acquire_fn)(void *prim, struct volt_sem_waiter *w, uint32_t n,
			      const struct volt_waker *waker);
typedef void (*sem_cancel_fn)(void *prim, struct volt_sem_waiter *w);

static int sem_wait_for(void *prim, sem_acquire_fn acquire, sem_cancel_fn cancel_fn, uint32_t n,
			struct mwaker *mw, bool cancel)
{
	struct volt_waker wk = mw_waker(mw);
	struct volt_sem_waiter w = { .requested = 0 };
	int ret = acquire(prim, &w, n, &wk);

	vm_log("acquire %u -> %d%s", n, ret, ret == 1 && cancel ? " (to be cancelled)" : "");
	if (ret == 1 && cancel) {
		mw_dawdle(4);
		if (vm_rand() % 2) /* a last look */
			ret = acquire(prim, &w, n, &wk);
		if (ret == 1) {
			vm_log("cancel");
			cancel_fn(prim, &w);
			return 1;
		}
	}
	while (ret == 1) {
		mw_wait(mw);
		ret = acquire(prim, &w, n, &wk);
	}
	if (ret)
		vm_fail("acquire of %u: %d", n, ret);
	vm_log("acquired %u", n);
	return 0;
}

static int sem_acquire(void *s, struct volt_sem_waiter *w, uint32_t n, const struct volt_waker *wk)
{
	return volt_semaphore_acquire_with(s, w, n, wk);
}

static void sem_cancel(void *s, struct volt_sem_waiter *w)
{
	volt_semaphore_acquire_cancel(s, w);
}

struct sem_model {
	struct volt_semaphore s;
	struct mwaker mw[3];
	unsigned nthreads, rounds;
	uint32_t permits, most; /* initial permits; the largest request */
	uint32_t held;          /* permits held now, by the model's count */
};

static void sem_body(unsigned id, void *arg)
{
	struct sem_model *M = arg;

	for (unsigned r = 0; r < M->rounds; r++) {
		uint32_t n = 1 + (uint32_t)(vm_rand() % M->most);
		unsigned how = (unsigned)(vm_rand() % 8);

		if (how == 0) {
			int ret = volt_semaphore_try_acquire(&M->s, n);

			vm_log("try_acquire %u -> %d", n, ret);
			if (ret == -EAGAIN)
				continue;
			if (ret)
				vm_fail("try_acquire of %u: %d", n, ret);
		} else if (sem_wait_for(&M->s, sem_acquire, sem_cancel, n, &M->mw[id], how <= 2)) {
			continue;
		}
		M->held += n;
		if (M->held > M->permits)
			vm_fail("%u permits held at once, of %u", M->held, M->permits);
		mw_dawdle(3);
		M->held -= n;
		vm_log("release %u%s", n, n > 1 && r % 2 ? " one by one" : "");
		if (n > 1 && r % 2)
			for (uint32_t i = 0; i < n; i++)
				volt_semaphore_release(&M->s, 1);
		else
			volt_semaphore_release(&M->s, n);
	}
}

static int model_sem_handoff(const struct vm_opts *o)
{
	struct sem_model M = { .held = 0 };
	int ret;

	M.nthreads = vm_rand() % 3 ? 3 : 2;
	M.rounds = 2 + (unsigned)(vm_rand() % 2);
	M.permits = 1 + (uint32_t)(vm_rand() % 3);
	M.most = M.permits < 2 ? 1 : 2;
	if (volt_semaphore_init(&M.s, M.permits))
		abort();
	ret = vm_run(o, M.nthreads, sem_body, &M);
	if (!ret) {
		sem_check_idle(&M.s, M.permits);
		mw_check(M.mw, M.nthreads);
		ret = vm_failed() ? -1 : 0;
		volt_semaphore_destroy(&M.s);
	}
	return ret;
}

struct mutex_model {
	struct volt_mutex m;
	struct mwaker mw[3];
	unsigned nthreads, iters;
	unsigned counter, inside;
};

static int mutex_acquire(void *m, struct volt_sem_waiter *w, uint32_t n,
			 const struct volt_waker *wk)
{
	(void)n;
	return volt_mutex_lock_with(m, w, wk);
}

static void mutex_cancel(void *m, struct volt_sem_waiter *w)
{
	volt_mutex_lock_cancel(m, w);
}

static void mutex_body(unsigned id, void *arg)
{
	struct mutex_model *M = arg;

	for (unsigned i = 0; i < M->iters; i++) {
		unsigned how = (unsigned)(vm_rand() % 6);

		if (how == 0 && volt_mutex_try_lock(&M->m)) {
			vm_log("try_lock -> locked");
		} else {
			/* a cancelled wait (maybe granted meanwhile) is followed by a real one */
			if (how == 1 && !sem_wait_for(&M->m, mutex_acquire, mutex_cancel, 1, &M->mw[id],
						      true))
				goto locked;
			sem_wait_for(&M->m, mutex_acquire, mutex_cancel, 1, &M->mw[id], false);
		}
locked:
		if (M->inside++)
			vm_fail("two threads hold the mutex");

		unsigned v = M->counter;

		volt__chaos_point();
		M->counter = v + 1;
		M->inside--;
		vm_log("unlock (counter %u)", M->counter);
		volt_mutex_unlock(&M->m);
	}
}

static int model_mutex_count(const struct vm_opts *o)
{
	struct mutex_model M = { .counter = 0 };
	int ret;

	M.nthreads = 3;
	M.iters = 2 + (unsigned)(vm_rand() % 2);
	if (volt_mutex_init(&M.m))
		abort();
	ret = vm_run(o, M.nthreads, mutex_body, &M);
	if (!ret) {
		if (M.counter != M.nthreads * M.iters)
			vm_fail("counter %u after %u increments under the mutex", M.counter,
				M.nthreads * M.iters);
		sem_check_idle(&M.m.sem, 1);
		mw_check(M.mw, M.nthreads);
		ret = vm_failed() ? -1 : 0;
		volt_mutex_destroy(&M.m);
	}
	return ret;
}

struct rw_model {
	struct volt_rwlock l;
	struct mwaker mw[3];
	unsigned nthreads, rounds;
	unsigned readers, writers; /* inside now */
};

static int rw_acquire(void *l, struct volt_sem_waiter *w, uint32_t n, const struct volt_waker *wk)
{
	return n == 1 ? volt_rwlock_read_with(l, w, wk) : volt_rwlock_write_with(l, w, wk);
}

static void rw_cancel(void *l, struct volt_sem_waiter *w)
{
	volt_rwlock_cancel(l, w);
}

static void rw_body(unsigned id, void *arg)
{
	struct rw_model *M = arg;

	for (unsigned r = 0; r < M->rounds; r++) {
		bool write = vm_rand() % 2;
		unsigned how = (unsigned)(vm_rand() % 6);

		if (how == 0) {
			bool ok = write ? volt_rwlock_try_write(&M->l) : volt_rwlock_try_read(&M->l);

			vm_log("try_%s -> %s", write ? "write" : "read", ok ? "in" : "busy");
			if (!ok)
				continue;
		} else if (sem_wait_for(&M->l, rw_acquire, rw_cancel, write ? VOLT_SEMAPHORE_MAX : 1,
					&M->mw[id], how == 1)) {
			continue;
		}
		if (write ? M->readers || M->writers : M->writers != 0)
			vm_fail("a %s got in beside %u readers and %u writers",
				write ? "writer" : "reader", M->readers, M->writers);
		*(write ? &M->writers : &M->readers) += 1;
		mw_dawdle(3);
		*(write ? &M->writers : &M->readers) -= 1;
		if (write)
			volt_rwlock_write_unlock(&M->l);
		else
			volt_rwlock_read_unlock(&M->l);
	}
}

static int model_rwlock_rw(const struct vm_opts *o)
{
	struct rw_model M = { .readers = 0 };
	int ret;

	M.nthreads = 3;
	M.rounds = 2 + (unsigned)(vm_rand() % 2);
	if (volt_rwlock_init(&M.l))
		abort();
	ret = vm_run(o, M.nthreads, rw_body, &M);
	if (!ret) {
		sem_check_idle(&M.l.sem, VOLT_SEMAPHORE_MAX);
		mw_check(M.mw, M.nthreads);
		ret = vm_failed() ? -1 : 0;
		volt_rwlock_destroy(&M.l);
	}
	return ret;
}

/* ---- notify: no notify_one lost ---- */

/*
 * T0 calls notify_one k times (storing `sent` before each), with some
 * notify_all calls between. T1 waits again and again (now and then it
 * cancels a wait, perhaps already notified, and waits anew) until a wait
 * ends after T0's last notify_one began. T2 (in 3-thread runs) waits and
 * cancels, perhaps already notified, and gives back with a notify_one of
 * its own any notification it does see. So T1 must end: the last
 * notify_one of the run either wakes T1, or stores the permit, or goes to
 * T2, whose cancel must pass it on (or who gives it back).
 */
struct notify_model {
	struct volt_notify n;
	struct mwaker mw[3];
	unsigned nthreads, k, t2_rounds;
	_Atomic uint32_t sent; /* T0's notify_one calls begun */
	unsigned ones, alls;   /* notify_one and notify_all calls begun */
	unsigned consumed;     /* waits that ended notified */
};

static void notify_consumed(struct notify_model *M)
{
	M->consumed++;
	vm_log("notified (%u so far; %u notify_one, %u notify_all)", M->consumed, M->ones,
	       M->alls);
	if (M->consumed > M->ones + M->alls * (M->nthreads - 1))
		vm_fail("%u waits notified by %u notify_one and %u notify_all calls", M->consumed,
			M->ones, M->alls);
}

static void notify_body(unsigned id, void *arg)
{
	struct notify_model *M = arg;
	struct volt_waker wk = mw_waker(&M->mw[id]);

	if (id == 0) {
		for (uint32_t i = 1; i <= M->k; i++) {
			if (vm_rand() % 3 == 0) {
				vm_log("notify_all");
				M->alls++;
				volt_notify_all(&M->n);
			}
			mw_dawdle(2);
			volt__store(&M->sent, i, RELAXED); /* relaxed: one thread runs at a time */
			vm_log("notify_one %u of %u", i, M->k);
			M->ones++;
			volt_notify_one(&M->n);
		}
		return;
	}
	if (id == 1) {
		unsigned cancels = 0;

		for (;;) {
			struct volt_waiter w = { .state = 0 };
			int ret = volt_notify_wait_with(&M->n, &w, &wk);

			if (ret == 1 && cancels < 2 && vm_rand() % 4 == 0) {
				cancels++;
				mw_dawdle(3);
				vm_log("cancel");
				volt_notify_wait_cancel(&M->n, &w);
				continue;
			}
			while (ret == 1) {
				mw_wait(&M->mw[id]);
				ret = volt_notify_wait_with(&M->n, &w, &wk);
			}
			notify_consumed(M);
			if (volt__load(&M->sent, RELAXED) == M->k) /* relaxed: as the store */
				return;
		}
	}
	for (unsigned r = 0; r < M->t2_rounds; r++) {
		struct volt_waiter w = { .state = 0 };
		int ret = volt_notify_wait_with(&M->n, &w, &wk);

		if (ret == 1) {
			mw_dawdle(4);
			if (vm_rand() % 2) /* a last look */
				ret = volt_notify_wait_with(&M->n, &w, &wk);
			if (ret == 1) {
				vm_log("cancel");
				volt_notify_wait_cancel(&M->n, &w);
				continue;
			}
		}
		notify_consumed(M);
		vm_log("give it back: notify_one");
		M->ones++;
		volt_notify_one(&M->n);
	}
}

static int model_notify_permit(const struct vm_opts *o)
{
	struct notify_model M = { .consumed = 0 };
	int ret;

	M.nthreads = vm_rand() % 4 ? 3 : 2;
	M.k = 1 + (unsigned)(vm_rand() % 4);
	M.t2_rounds = 1 + (unsigned)(vm_rand() % 2);
	if (volt_notify_init(&M.n))
		abort();
	ret = vm_run(o, M.nthreads, notify_body, &M);
	if (!ret) {
		if (M.n.waiters.head || (atomic_load((_Atomic uint32_t *)&M.n.state) & 2))
			vm_fail("waiters left after the run");
		mw_check(M.mw, M.nthreads);
		ret = vm_failed() ? -1 : 0;
		volt_notify_destroy(&M.n);
	}
	return ret;
}

/* ---- barrier: rounds, one leader each ---- */

#define BAR_ROUNDS 2

struct barrier_model {
	struct volt_barrier b;
	struct mwaker mw[3];
	unsigned canceller, cancel_round; /* canceller 3: nobody cancels */
	unsigned present[BAR_ROUNDS];      /* threads arrived in round r, not cancelled */
	unsigned leaders[BAR_ROUNDS];
};

static void barrier_body(unsigned id, void *arg)
{
	struct barrier_model *M = arg;
	struct mwaker *mw = &M->mw[id];
	struct volt_waker wk = mw_waker(mw);

	for (unsigned r = 0; r < BAR_ROUNDS; r++) {
		struct volt_barrier_waiter w = { .leader = false };
		bool cancel = id == M->canceller && r == M->cancel_round;
		int ret;

		for (;;) {
			atomic_store(&mw->flag, 0);
			M->present[r]++;
			ret = volt_barrier_wait_with(&M->b, &w, &wk);
			vm_log("arrive in round %u -> %d%s", r, ret, ret == 0 && w.leader ? " (leader)" : "");
			if (ret != 1 || !cancel)
				break;
			cancel = false;
			mw_dawdle(4);
			volt_barrier_wait_cancel(&M->b, &w);
			if (atomic_load(&mw->flag)) { /* the round completed first: it counted */
				vm_log("cancel too late: round %u done", r);
				ret = 0;
				break;
			}
			M->present[r]--;
			vm_log("cancelled in round %u; arrives again", r);
			mw_dawdle(3);
		}
		while (ret == 1) {
			mw_wait(mw);
			ret = volt_barrier_wait_with(&M->b, &w, &wk);
		}
		if (ret)
			vm_fail("barrier wait: %d", ret);
		if (M->present[r] != 3)
			vm_fail("round %u completed with %u of 3 parties arrived", r, M->present[r]);
		M->leaders[r] += w.leader;
	}
}

static int model_barrier_round(const struct vm_opts *o)
{
	struct barrier_model M = { .canceller = 3 };
	int ret;

	M.canceller = (unsigned)(vm_rand() % 4);
	M.cancel_round = (unsigned)(vm_rand() % BAR_ROUNDS);
	if (volt_barrier_init(&M.b, 3))
		abort();
	ret = vm_run(o, 3, barrier_body, &M);
	if (!ret) {
		for (unsigned r = 0; r < BAR_ROUNDS && !vm_failed(); r++)
			if (M.leaders[r] != 1)
				vm_fail("round %u had %u leaders", r, M.leaders[r]);
		if (!vm_failed() && (M.b.arrived || M.b.round != BAR_ROUNDS || M.b.waiters.head))
			vm_fail("after the run: %u arrived, round %llu, line %s", M.b.arrived,
				(unsigned long long)M.b.round, M.b.waiters.head ? "not empty" : "empty");
		mw_check(M.mw, 3);
		ret = vm_failed() ? -1 : 0;
		volt_barrier_destroy(&M.b);
	}
	return ret;
}

/* ---- once cell: one init ---- */

/*
 * 3 threads get_or_init two cells, one after the other (the second with
 * the threads' arrivals staggered by the first). A cell's first init may
 * fail: its caller gives up with the error or calls again, and the first
 * waiter in line gets the turn. A thread may cancel a wait once per cell,
 * a moment after it began or once woken (before it polled again), and then
 * call again or give up on the cell; a turn it was woken for must pass on
 * to the next in line.
 */
#define ONCE_CELLS 2

struct once_cell {
	struct volt_once c;
	bool fail_first;
	_Atomic unsigned attempts;
	unsigned inits;
	unsigned kind[3]; /* 0 waits; 1 cancels once and calls again; 2 cancels and gives up */
	bool gave_up[3];  /* without the value */
	void *seen[3];
	int value;        /* the successful init's value is its address */
};

struct once_model {
	struct once_cell cell[ONCE_CELLS];
	struct mwaker mw[3];
};

static int once_init_fn(void *arg, void **value)
{
	struct once_cell *C = arg;
	unsigned a = volt__fetch_add(&C->attempts, 1, RELAXED) + 1; /* relaxed: a count */

	mw_dawdle(3);
	if (C->fail_first && a == 1) {
		vm_log("init fails");
		return -EIO;
	}
	vm_log("init succeeds");
	C->inits++;
	*value = &C->value;
	return 0;
}

static void once_get(struct once_cell *C, unsigned id, struct mwaker *mw)
{
	struct volt_waker wk = mw_waker(mw);
	struct volt_waiter w = { .state = 0 };
	bool cancelled = false;

	for (;;) {
		void *v = NULL;
		int ret = volt_once_get_or_init_with(&C->c, &w, once_init_fn, C, &wk, &v);

		if (ret == -EIO) {
			if (vm_rand() % 2) {
				vm_log("gives up with the error");
				C->gave_up[id] = true;
				return;
			}
			continue;
		}
		if (ret < 0)
			vm_fail("get_or_init: %d", ret);
		if (ret == 0) {
			vm_log("got the value");
			C->seen[id] = v;
			return;
		}
		if (C->kind[id] && !cancelled) {
			cancelled = true;
			if (vm_rand() % 2) {
				/* dropped after its wake, before it polled: a turn passes on */
				vm_park(&mw->flag);
				atomic_store(&mw->flag, 0);
			} else {
				mw_dawdle(3);
			}
			vm_log("cancel%s", C->kind[id] == 2 ? " and give up" : "");
			volt_once_wait_cancel(&C->c, &w);
			if (C->kind[id] == 2) {
				C->gave_up[id] = true;
				return;
			}
			continue;
		}
		mw_wait(mw);
	}
}

static void once_body(unsigned id, void *arg)
{
	struct once_model *M = arg;

	for (unsigned i = 0; i < ONCE_CELLS; i++) {
		vm_log("cell %u", i);
		once_get(&M->cell[i], id, &M->mw[id]);
	}
}

static int model_once_init(const struct vm_opts *o)
{
	struct once_model M;
	int ret;

	memset(&M, 0, sizeof(M));
	for (unsigned i = 0; i < ONCE_CELLS; i++) {
		struct once_cell *C = &M.cell[i];

		C->fail_first = vm_rand() % 3 != 0;
		for (unsigned t = 0; t < 3; t++)
			C->kind[t] = (unsigned)(vm_rand() % 3);
		if (volt_once_init(&C->c))
			abort();
	}
	ret = vm_run(o, 3, once_body, &M);
	for (unsigned i = 0; i < ONCE_CELLS && !ret && !vm_failed(); i++) {
		struct once_cell *C = &M.cell[i];
		void *v = NULL;
		bool set = volt_once_get(&C->c, &v) == 0;

		if (C->inits > 1)
			vm_fail("cell %u: %u successful inits", i, C->inits);
		else if (set != (C->inits == 1) || (set && v != &C->value))
			vm_fail("cell %u is %s after %u successful inits", i, set ? "set" : "empty",
				C->inits);
		for (unsigned t = 0; t < 3 && !vm_failed(); t++)
			if (!C->gave_up[t] && C->seen[t] != &C->value)
				vm_fail("cell %u: T%u got %p, not the value", i, t, C->seen[t]);
		if (!vm_failed() && C->c.waiters.head)
			vm_fail("cell %u: waiters left after the run", i);
	}
	if (!ret) {
		mw_check(M.mw, 3);
		ret = vm_failed() ? -1 : 0;
		for (unsigned i = 0; i < ONCE_CELLS; i++)
			volt_once_destroy(&M.cell[i].c);
	}
	return ret;
}

/* ==== the channel: its buffer, and its waiters (primitives/chan*.c) ==== */

/*
 * vyukov_ring: 2-3 threads push and pop straight through the `vyukov`
 * buffer's ops (no waiting: a full push or an empty pop tries again later),
 * capacity 1 (a ring of 2 and a head check), 2 or 3 (a division instead of
 * a mask), over several laps; one thread may close. Each value is pushed
 * once by its pusher, in order. Checked as it goes: no value popped twice,
 * each popper sees a pusher's values in order, the buffer never holds more
 * than its capacity, no push succeeds once close has returned, a pop
 * reports CLOSED only with nothing pushed left in the buffer (and never
 * anything else after that). After the run the main thread drains the
 * rest; every value pushed was popped exactly once, none other was; a
 * buffer not closed still takes exactly `capacity` elements.
 */
#define RING_PUSHES 4
#define RING_PUSH 1
#define RING_POP 2

struct ring_elem {
	uint64_t v, check; /* check: ~v, so a torn or stale copy shows */
};

struct ring_model {
	const struct volt__chan_ops *ops;
	void *q;
	size_t cap;
	unsigned nthreads;
	unsigned role[3], npush[3], iters[3];
	int closer;        /* -1: nobody closes */
	unsigned close_at; /* the closer closes before this iteration (iters: after the last) */
	/* one model thread runs at a time: plain counters */
	uint8_t pushed[3][RING_PUSHES], popped[3][RING_PUSHES];
	int last[4][3]; /* per popper (3: main), per pusher: the last index popped */
	unsigned push_ok, pop_ok, pops_in_flight;
	bool close_begun, close_done, saw_closed[4];
	unsigned next[3];
};

/* A popped element: the right shape, from a pusher, once, in order. */
static void ring_popped(struct ring_model *M, unsigned who, const struct ring_elem *e)
{
	unsigned s = (unsigned)(e->v >> 8) - 1, i = (unsigned)(e->v & 0xff);

	if (e->check != ~e->v || s >= M->nthreads || !(M->role[s] & RING_PUSH) ||
	    i >= M->npush[s]) {
		vm_fail("%s%u popped {%#llx, %#llx}, which no pusher pushed", who == 3 ? "main" : "T",
			who == 3 ? 0 : who, (unsigned long long)e->v, (unsigned long long)e->check);
		return; /* main: vm_fail returns */
	}
	vm_log("pop -> T%u's %u", s, i);
	if (M->popped[s][i]++)
		vm_fail("T%u's value %u popped twice", s, i);
	if ((int)i <= M->last[who][s])
		vm_fail("T%u's value %u popped after its value %d by the same popper", s, i,
			M->last[who][s]);
	M->last[who][s] = (int)i;
	M->pop_ok++;
}

static void ring_close(struct ring_model *M)
{
	vm_log("close");
	M->close_begun = true;
	M->ops->close(M->q);
	M->close_done = true;
}

static void ring_body(unsigned id, void *arg)
{
	struct ring_model *M = arg;
	bool refused = false; /* a push of mine saw CLOSED */

	for (unsigned it = 0; it <= M->iters[id]; it++) {
		if ((int)id == M->closer && it == M->close_at)
			ring_close(M);
		if (it == M->iters[id])
			break;

		bool push = (M->role[id] & RING_PUSH) && M->next[id] < M->npush[id];

		if (push && (!(M->role[id] & RING_POP) || vm_rand() % 2)) {
			unsigned i = M->next[id];
			struct ring_elem e = { (uint64_t)(id + 1) << 8 | i, 0 };
			bool after = M->close_done;

			e.check = ~e.v;
			int ret = M->ops->try_push(M->q, &e);

			vm_log("push %u -> %d", i, ret);
			if (ret == VOLT_CHAN_OK) {
				if (after || refused)
					vm_fail("a push succeeded after %s", after ? "close returned"
										   : "one saw CLOSED");
				M->pushed[id][i] = 1;
				M->next[id]++;
				M->push_ok++;
				/* at least this many are in the buffer now */
				long in = (long)M->push_ok - M->pop_ok - M->pops_in_flight;

				if (in > (long)M->cap)
					vm_fail("%ld elements in a buffer of %zu", in, M->cap);
			} else if (ret == VOLT_CHAN_CLOSED) {
				if (!M->close_begun)
					vm_fail("a push saw CLOSED before anyone closed");
				refused = true;
			} else if (ret != VOLT_CHAN_FULL) {
				vm_fail("try_push: %d", ret);
			}
			continue;
		}
		if (!(M->role[id] & RING_POP))
			continue;

		struct ring_elem e = { 0, 0 };

		M->pops_in_flight++;
		int ret = M->ops->try_pop(M->q, &e);

		M->pops_in_flight--;
		if (ret == VOLT_CHAN_OK) {
			if (M->saw_closed[id])
				vm_fail("a pop succeeded after one saw CLOSED");
			ring_popped(M, id, &e);
		} else if (ret == VOLT_CHAN_CLOSED) {
			vm_log("pop -> closed");
			if (!M->close_begun)
				vm_fail("a pop saw CLOSED before anyone closed");
			if (M->push_ok > M->pop_ok + M->pops_in_flight)
				vm_fail("a pop saw CLOSED with %u pushed values still in the buffer",
					M->push_ok - M->pop_ok - M->pops_in_flight);
			M->saw_closed[id] = true;
		} else if (ret == VOLT_CHAN_EMPTY) {
			vm_log("pop -> empty");
			if (M->saw_closed[id])
				vm_fail("a pop saw EMPTY after one saw CLOSED");
		} else {
			vm_fail("try_pop: %d", ret);
		}
	}
}

/* Main, after a run: drain, account, and (not closed) exactly cap fit. */
static void ring_after(struct ring_model *M)
{
	struct ring_elem e;
	unsigned drained = 0;
	int ret;

	while (!vm_failed() && (ret = M->ops->try_pop(M->q, &e)) == VOLT_CHAN_OK) {
		ring_popped(M, 3, &e);
		drained++;
	}
	if (vm_failed())
		return;
	if (ret != (M->close_begun ? VOLT_CHAN_CLOSED : VOLT_CHAN_EMPTY)) {
		vm_fail("the drained buffer says %d (closed: %d)", ret, M->close_begun);
		return;
	}
	for (unsigned t = 0; t < 3; t++)
		if (M->saw_closed[t] && drained) {
			vm_fail("%u values left in the buffer after T%u's pop saw CLOSED", drained, t);
			return;
		}
	for (unsigned s = 0; s < M->nthreads; s++)
		for (unsigned i = 0; i < RING_PUSHES; i++)
			if (M->popped[s][i] != M->pushed[s][i]) {
				vm_fail("T%u's value %u: pushed %u times, popped %u times", s, i,
					M->pushed[s][i], M->popped[s][i]);
				return;
			}
	if (M->close_begun) {
		e = (struct ring_elem){ 0, 0 };
		if (M->ops->try_push(M->q, &e) != VOLT_CHAN_CLOSED)
			vm_fail("a push after the close did not see CLOSED");
		return;
	}
	for (unsigned k = 0; k <= M->cap; k++) {
		e = (struct ring_elem){ k, ~(uint64_t)k };
		ret = M->ops->try_push(M->q, &e);
		if (ret != (k < M->cap ? VOLT_CHAN_OK : VOLT_CHAN_FULL)) {
			vm_fail("after the run, push %u of %zu into the empty buffer: %d", k + 1, M->cap,
				ret);
			return;
		}
	}
	for (unsigned k = 0; k < M->cap; k++)
		if (M->ops->try_pop(M->q, &e) != VOLT_CHAN_OK || e.v != k || e.check != ~e.v) {
			vm_fail("after the run, pop %u of %zu: not the value pushed", k + 1, M->cap);
			return;
		}
}

static int model_vyukov_ring(const struct vm_opts *o)
{
	struct ring_model M;
	int ret;

	memset(&M, 0, sizeof(M));
	M.ops = &volt__chan_vyukov;
	M.cap = 1 + (size_t)(vm_rand() % 3);
	M.nthreads = vm_rand() % 3 ? 3 : 2;
	for (unsigned t = 0; t < M.nthreads; t++)
		M.role[t] = 1 + (unsigned)(vm_rand() % 3); /* push, pop, or both */
	M.role[0] |= RING_PUSH;
	M.role[M.nthreads - 1] |= RING_POP;
	for (unsigned t = 0; t < M.nthreads; t++) {
		M.npush[t] = M.role[t] & RING_PUSH ? 2 + (unsigned)(vm_rand() % 3) : 0;
		M.iters[t] = M.npush[t] + 2 + (unsigned)(vm_rand() % 4);
		for (unsigned s = 0; s < 3; s++)
			M.last[t][s] = M.last[3][s] = -1;
	}
	M.closer = vm_rand() % 2 ? (int)(vm_rand() % M.nthreads) : -1;
	if (M.closer >= 0)
		M.close_at = (unsigned)(vm_rand() % (M.iters[M.closer] + 1));
	if (M.ops->init(&M.q, sizeof(struct ring_elem), M.cap))
		abort();
	ret = vm_run(o, M.nthreads, ring_body, &M);
	if (!ret) {
		ring_after(&M);
		ret = vm_failed() ? -1 : 0;
		M.ops->fini(M.q);
	}
	return ret;
}

/*
 * chan_waiters: the channel's futures, polled by hand with a model waker in
 * the poll context (no runtime, no worker: the budget never runs out).
 * 1-2 senders send 1-4 messages each, 1-2 receivers receive (2-3 threads),
 * capacity 1 (mostly) or 2, so sends wait for room and receives for
 * messages. A thread may cancel (drop) a pending future, mostly after it
 * was woken and before it polled (its wake must pass on); a cancelled send
 * gives up its message. The run ends one of four ways, from the seed:
 * - sentinels: each sender sends one END per receiver, each receiver stops
 *   after one END per sender. Nobody closes, so a lost wakeup is never
 *   rescued by a close's wake-all: it shows as a deadlock;
 * - a sender closes, before one of its messages or after the last;
 *   receivers run until CLOSED, later sends are refused;
 * - a receiver closes: once the receivers have 1..all of the messages
 *   (senders cancel nothing here), a receive that would wait closes
 *   instead (perhaps while a push is half done: claimed, not yet
 *   published), then drains until CLOSED, as the other receiver does;
 * - handles dropped: each sender drops its handle when done (the last one
 *   closes); in half of these runs the receivers also leave, after 1-3
 *   messages, and drop theirs (the last one closes too, and senders
 *   waiting for room must see CLOSED).
 * A thread may also give up after a cancel, mostly after one it was woken
 * for: a sender sends no more (when a sender closes, or handles are
 * dropped; a closer closes first), a receiver leaves (any when handles are
 * dropped, one of two with ENDs or a sender closing). The wake it was
 * handed must not leave with it.
 * Checked: a message received came from a send that returned OK, exactly
 * once, in each sender's order; a cancelled or refused send's message never
 * arrives; no send polled after the close returned succeeds; receivers that
 * ran to the end (END or CLOSED) leave nothing in the channel, and the main
 * thread's drain finds every other message sent. Nobody waits for ever, and
 * no waker reference is left.
 */
#define CH_MSGS 4
#define CH_END 0xffu

enum ch_end { CH_SENTINEL, CH_CLOSE, CH_RECV_CLOSE, CH_DROP };
enum { CH_UNSENT = 0, CH_SENT, CH_CANCELLED, CH_REFUSED };

static const char *const ch_end_name[] = { "ENDs", "a sender closes", "a receiver closes",
					   "handles dropped" };

struct chan_model {
	const char *buffer;
	struct volt_chan *ch;
	struct mwaker mw[3];
	unsigned nthreads, senders, receivers; /* T0.. send, then the receivers */
	size_t cap;
	enum ch_end end;
	unsigned msgs[3];
	unsigned closer, close_at; /* CH_CLOSE: sender `closer`, before its message close_at;
				    * CH_RECV_CLOSE: after close_at messages received */
	unsigned leave_after[3];   /* CH_DROP: a receiver leaves after this many (or never) */
	bool left;                 /* a receiver left before the end */
	uint8_t sent[3][CH_MSGS], got[3][CH_MSGS];
	int last[4][3]; /* per receiver (3: main), per sender: the last message received */
	unsigned received; /* messages received by the model's receivers */
	unsigned cancels[3], sdrops, rdrops, sdrops_begun, rdrops_begun, ends;
	bool close_begun, close_done;
	bool close_only; /* chan_close: no cancels */
};

static uint64_t ch_value(unsigned s, unsigned i)
{
	return (uint64_t)(s + 1) << 8 | i;
}

/* A message received by `who` (3: main); true for an END. */
static bool ch_got(struct chan_model *M, unsigned who, uint64_t v)
{
	unsigned s = (unsigned)(v >> 8) - 1, i = (unsigned)(v & 0xff);

	if (s >= M->senders || (i >= M->msgs[s] && i != CH_END) || (v >> 16)) {
		vm_fail("received %#llx, which nobody sent", (unsigned long long)v);
		return false;
	}
	if ((int)i <= M->last[who][s])
		vm_fail("T%u's message %u received after its message %d by the same receiver", s, i,
			M->last[who][s]);
	M->last[who][s] = (int)i;
	if (i == CH_END) {
		vm_log("received T%u's END", s);
		if (M->end != CH_SENTINEL)
			vm_fail("an END received in a run without them");
		M->ends++;
		return true;
	}
	vm_log("received T%u's message %u", s, i);
	if (M->sent[s][i] == CH_CANCELLED || M->sent[s][i] == CH_REFUSED)
		vm_fail("T%u's message %u received, but its send was %s", s, i,
			M->sent[s][i] == CH_CANCELLED ? "cancelled" : "refused");
	if (M->got[s][i]++)
		vm_fail("T%u's message %u received twice", s, i);
	return false;
}

/*
 * Polls f (a send if `send`) until it is ready; returns 0 then, with the
 * result in *result. With may_cancel, a pending poll may instead be
 * followed by a drop (the future cancelled), mostly once woken and before
 * polling again; returns 1 then, 2 if it was woken. With no_wait, the
 * first pending poll is followed by a drop at once (1).
 */
static int ch_drive(struct chan_model *M, unsigned id, struct volt_future *f, const int *result,
		    bool send, bool may_cancel, bool no_wait)
{
	struct mwaker *mw = &M->mw[id];
	struct volt_cx cx = { .waker = mw_waker(mw) };

	for (;;) {
		bool after = M->close_done;

		if (volt_future_poll(f, &cx) == VOLT_READY) {
			if (send && after && *result == VOLT_CHAN_OK)
				vm_fail("a send polled after the close returned succeeded");
			volt_future_drop(f);
			return 0;
		}
		if (no_wait) {
			vm_log("would wait: cancel");
			volt_future_drop(f);
			return 1;
		}
		if (may_cancel && M->cancels[id] < 2 && vm_rand() % 3 == 0) {
			int woken = vm_rand() % 3 != 0;

			M->cancels[id]++;
			if (woken) {
				vm_park(&mw->flag); /* woken, then dropped unpolled: the wake passes on */
				atomic_store(&mw->flag, 0);
				vm_log("cancel, woken");
			} else {
				mw_dawdle(3);
				vm_log("cancel");
			}
			volt_future_drop(f);
			return 1 + woken;
		}
		mw_wait(mw);
	}
}

/* Gives up after a cancel (c: ch_drive's answer)? Mostly when it was woken. */
static bool ch_give_up(int c)
{
	return vm_rand() % 4 < (c == 2 ? 3u : 1u);
}

static void ch_close(struct chan_model *M)
{
	vm_log("close");
	M->close_begun = true;
	volt_chan_close(M->ch);
	M->close_done = true;
}

/* Drops a sender's or a receiver's handle; the last one of either closes. */
static void ch_drop(struct chan_model *M, bool sender)
{
	unsigned *begun = sender ? &M->sdrops_begun : &M->rdrops_begun;
	unsigned *done = sender ? &M->sdrops : &M->rdrops;
	unsigned n = sender ? M->senders : M->receivers;

	vm_log("drop the %s%s", sender ? "sender" : "receiver", *begun + 1 == n ? " (the last)" : "");
	if (++*begun == n)
		M->close_begun = true;
	if (sender)
		volt_chan_sender_drop(M->ch);
	else
		volt_chan_receiver_drop(M->ch);
	if (++*done == n)
		M->close_done = true;
}

static void chan_send_body(struct chan_model *M, unsigned id)
{
	bool closer = M->end == CH_CLOSE && id == M->closer;

	for (unsigned i = 0; i <= M->msgs[id]; i++) {
		if (closer && i == M->close_at)
			ch_close(M);
		if (i == M->msgs[id])
			break;

		struct volt_chan_send f;
		uint64_t v = ch_value(id, i);

		vm_log("send %u", i);
		volt_chan_send(&f, M->ch, &v);

		int c = ch_drive(M, id, &f.base, &f.result, true, M->end != CH_RECV_CLOSE, false);

		if (c) {
			M->sent[id][i] = CH_CANCELLED;
			if ((M->end == CH_CLOSE || M->end == CH_DROP) && ch_give_up(c)) {
				vm_log("gives up the rest");
				if (closer && !M->close_begun)
					ch_close(M);
				break;
			}
			continue;
		}
		vm_log("send %u -> %d", i, f.result);
		if (f.result == VOLT_CHAN_OK) {
			M->sent[id][i] = CH_SENT;
		} else if (f.result == VOLT_CHAN_CLOSED) {
			M->sent[id][i] = CH_REFUSED;
			if (!M->close_begun)
				vm_fail("a send refused before anyone closed");
			if (M->got[id][i])
				vm_fail("T%u's message %u refused, but received", id, i);
		} else {
			vm_fail("send: %d", f.result);
		}
	}
	if (M->end == CH_SENTINEL) {
		for (unsigned r = 0; r < M->receivers; r++) {
			struct volt_chan_send f;
			uint64_t v = ch_value(id, CH_END);

			vm_log("send END");
			volt_chan_send(&f, M->ch, &v);
			ch_drive(M, id, &f.base, &f.result, true, false, false);
			if (f.result != VOLT_CHAN_OK)
				vm_fail("send of an END: %d", f.result);
		}
	} else if (M->end == CH_DROP) {
		ch_drop(M, true);
	}
}

static void chan_recv_body(struct chan_model *M, unsigned id)
{
	unsigned ends = 0, got = 0;

	for (;;) {
		if (M->end == CH_DROP && got == M->leave_after[id])
			break;

		/* a receiver closes: enough received, and a receive that would wait */
		bool eager = M->end == CH_RECV_CLOSE && !M->close_begun &&
			     M->received >= M->close_at;
		struct volt_chan_recv f;
		uint64_t v = 0;

		volt_chan_recv(&f, M->ch, &v);

		int c = ch_drive(M, id, &f.base, &f.result, false, !eager && !M->close_only, eager);

		if (c) {
			if (eager) {
				ch_close(M);
				continue;
			}
			if ((M->end == CH_DROP ||
			     (M->end != CH_RECV_CLOSE && M->receivers == 2 && !M->left)) &&
			    ch_give_up(c)) {
				vm_log("leaves after the cancel");
				break;
			}
			continue;
		}
		if (f.result == VOLT_CHAN_CLOSED) {
			vm_log("receive -> closed");
			if (!M->close_begun)
				vm_fail("a receive saw CLOSED before anyone closed");
			if (M->end == CH_SENTINEL)
				vm_fail("a receive saw CLOSED in a run that never closes");
			return;
		}
		if (f.result != VOLT_CHAN_OK) {
			vm_fail("receive: %d", f.result);
			return;
		}
		if (ch_got(M, id, v)) {
			if (++ends == M->senders)
				return;
		} else {
			got++;
			M->received++;
		}
	}
	M->left = true; /* it leaves early */
	if (M->end == CH_DROP)
		ch_drop(M, false);
}

static void chan_body(unsigned id, void *arg)
{
	struct chan_model *M = arg;

	if (id == 0)
		vm_log("%u senders (%u, %u messages), %u receivers, capacity %zu; %s%s", M->senders,
		       M->msgs[0], M->msgs[1], M->receivers, M->cap, ch_end_name[M->end],
		       M->leave_after[0] != UINT32_MAX ? ", receivers leave" : "");
	if (id < M->senders)
		chan_send_body(M, id);
	else
		chan_recv_body(M, id);
}

/*
 * One chan_waiters run; with close_only, one chan_close run: 1 sender (2-4
 * messages, no cancels), 2 receivers, and a receiver closes once they have
 * 1-2 messages and a receive would wait. That can be while a push is
 * claimed but not yet published, which the receivers must still get
 * before they see CLOSED, both of them.
 */
static int chan_run(const struct vm_opts *o, const char *buffer, bool close_only)
{
	struct chan_model M;
	int ret;

	memset(&M, 0, sizeof(M));
	M.buffer = buffer;
	M.close_only = close_only;
	M.nthreads = close_only || vm_rand() % 4 ? 3 : 2;
	M.senders = M.nthreads == 3 && !close_only && vm_rand() % 2 ? 2 : 1;
	M.receivers = M.nthreads - M.senders;
	M.cap = vm_rand() % 3 ? 1 : 2; /* 1 mostly: a full channel makes a lost wake show */
	M.end = close_only ? CH_RECV_CLOSE : (enum ch_end)(vm_rand() % 4);

	unsigned all = 0;

	for (unsigned t = 0; t < M.senders; t++)
		all += M.msgs[t] = close_only ? 2 + (unsigned)(vm_rand() % (CH_MSGS - 1))
					      : 1 + (unsigned)(vm_rand() % CH_MSGS);
	M.closer = (unsigned)(vm_rand() % M.senders);
	if (close_only)
		M.close_at = 1 + (unsigned)(vm_rand() % 2);
	else if (M.end == CH_RECV_CLOSE)
		M.close_at = 1 + (unsigned)(vm_rand() % all);
	else
		M.close_at = (unsigned)(vm_rand() % (M.msgs[M.closer] + 1));

	bool leave = M.end == CH_DROP && vm_rand() % 2;

	for (unsigned t = 0; t < 3; t++) {
		M.leave_after[t] = leave ? 1 + (unsigned)(vm_rand() % 3) : UINT32_MAX;
		for (unsigned s = 0; s < 4; s++)
			M.last[s][t] = -1;
	}
	if (volt_chan_new(sizeof(uint64_t), M.cap, buffer, &M.ch))
		abort();
	for (unsigned t = 1; M.end == CH_DROP && t < M.senders; t++)
		volt_chan_sender_add(M.ch);
	for (unsigned t = 1; M.end == CH_DROP && t < M.receivers; t++)
		volt_chan_receiver_add(M.ch);
	ret = vm_run(o, M.nthreads, chan_body, &M);
	if (!ret) {
		uint64_t v;
		unsigned drained = 0;
		int r;

		while (!vm_failed() && (r = volt_chan_try_recv(M.ch, &v)) == VOLT_CHAN_OK) {
			drained++;
			ch_got(&M, 3, v);
		}
		if (!vm_failed() && drained && !M.left)
			vm_fail("%u messages left after the receivers ran to the end", drained);
		if (!vm_failed() && r != (M.end == CH_SENTINEL ? VOLT_CHAN_EMPTY : VOLT_CHAN_CLOSED))
			vm_fail("the drained channel says %d", r);
		if (!vm_failed() && M.end == CH_SENTINEL && M.ends != M.senders * M.receivers)
			vm_fail("%u ENDs received of %u", M.ends, M.senders * M.receivers);
		for (unsigned s = 0; s < M.senders && !vm_failed(); s++)
			for (unsigned i = 0; i < M.msgs[s] && !vm_failed(); i++)
				if (M.got[s][i] != (M.sent[s][i] == CH_SENT))
					vm_fail("T%u's message %u (%s) received %u times", s, i,
						M.sent[s][i] == CH_SENT ? "sent" :
						M.sent[s][i] == CH_CANCELLED ? "cancelled" :
						M.sent[s][i] == CH_REFUSED ? "refused" : "never sent",
						M.got[s][i]);
		mw_check(M.mw, M.nthreads);
		ret = vm_failed() ? -1 : 0;
		volt_chan_free(M.ch);
	}
	return ret;
}

static int model_chan_waiters(const struct vm_opts *o)
{
	return chan_run(o, "vyukov", false);
}

static int model_chan_close(const struct vm_opts *o)
{
	return chan_run(o, "vyukov", true);
}

static int model_chan_locked(const struct vm_opts *o)
{
	return chan_run(o, "locked", false);
}

/* teeth: the planted bugs (VOLT_MUTANT_*) each model must catch; a mutant
 * build checks them all (main.c, --expect-fail). */
const struct vm_model vm_models[] = {
	{ "ringq", "ring: owner push/pop vs 1-2 thieves stealing half", 35, model_ringq,
	  "RING_POP_NO_CAS" },
	{ "ringq_full", "ring started nearly full: wrap and overflow vs 2 thieves", 430,
	  model_ringq_full, "RING_POP_NO_CAS RING_STEAL_NO_GUARD" },
	{ "ring_slot", "`ring` policy: LIFO slot + ring vs 2 thieves", 66, model_ring_slot,
	  "RING_POP_NO_CAS" },
	{ "ring_overflow", "`ring` policy: the ring overflows to the global queue, thieves take from it",
	  560, model_ring_overflow, "RING_POP_NO_CAS" },
	{ "runnext_slot", "`runnext` policy: stealable slot + ring vs 2 thieves", 77,
	  model_runnext_slot, "RING_SLOT_STOLEN_TWICE RING_POP_NO_CAS" },
	{ "chaselev_last", "`chaselev`: owner take vs a thief over the last elements", 48,
	  model_chaselev_last, "CHASELEV_LAST_NO_CAS" },
	{ "chaselev_grow", "`chaselev`: 2 thieves vs pushes that grow the array", 600,
	  model_chaselev_grow, "CHASELEV_GROW_OLD_ARRAY" },
	{ "sem_handoff", "semaphore: 2-3 threads acquire 1-2 of 1-3 permits, try, cancel, release",
	  45, model_sem_handoff,
	  "SEM_RELEASE_IGNORES_WAITERS SEM_CANCEL_KEEPS_HANDED SEM_CANCEL_GRANTED_LEAKS" },
	{ "mutex_count", "mutex: 3 threads increment a counter; lock_with, try_lock, cancel", 60,
	  model_mutex_count, "SEM_RELEASE_IGNORES_WAITERS SEM_CANCEL_GRANTED_LEAKS" },
	{ "rwlock_rw", "rwlock: 3 threads read or write; a writer's partial grant, cancel", 50,
	  model_rwlock_rw,
	  "SEM_RELEASE_IGNORES_WAITERS SEM_CANCEL_KEEPS_HANDED SEM_CANCEL_GRANTED_LEAKS" },
	{ "notify_permit", "notify: notify_one/all vs waits and cancels; no notify_one lost", 32,
	  model_notify_permit, "NOTIFY_WAIT_NO_CAS NOTIFY_CANCEL_DROPS_PERMIT" },
	{ "barrier_round", "barrier of 3: 2 rounds, one cancel and arrival again, one leader each",
	  24, model_barrier_round, "BARRIER_CANCEL_KEEPS_COUNT" },
	{ "once_init", "once cells: 3 callers of 2 cells, an init may fail, waits cancelled", 34,
	  model_once_init, "ONCE_QUEUE_NO_RECHECK ONCE_CANCEL_DROPS_TURN" },
	{ "vyukov_ring", "`vyukov` buffer: 2-3 threads push, pop, close; capacity 1-3, laps", 50,
	  model_vyukov_ring,
	  "VYUKOV_POP_NO_SEQ_CHECK VYUKOV_PUSH_PUBLISH_BEFORE_COPY VYUKOV_CLOSE_IGNORED_BY_PUSH" },
	{ "chan_waiters", "channel futures: 1-2 senders, 1-2 receivers, cancels; ENDs, close, drops",
	  90, model_chan_waiters,
	  "CHAN_WAIT_NO_RECHECK CHAN_CANCEL_DROPS_WAKE CHAN_CLOSE_WAKES_RECEIVERS_ONLY "
	  "VYUKOV_CLOSE_IGNORED_BY_PUSH" },
	{ "chan_close", "channel: a receiver closes while 1 sender sends; 2 receivers drain", 60,
	  model_chan_close, "CHAN_WAIT_NO_RECHECK VYUKOV_CLOSE_IGNORED_BY_PUSH" },
	{ "chan_locked", "chan_waiters over the `locked` buffer", 60, model_chan_locked,
	  "CHAN_WAIT_NO_RECHECK CHAN_CANCEL_DROPS_WAKE CHAN_CLOSE_WAKES_RECEIVERS_ONLY" },
};

const unsigned vm_nmodels = sizeof(vm_models) / sizeof(vm_models[0]);
