/* SPDX-License-Identifier: MIT */
/*
 * tests/model/sched.c: the deterministic scheduler (see sched.h).
 *
 * Hand-off. Each model thread has a semaphore and waits on it whenever it is
 * not the one running. At a scheduling point the running thread picks the
 * next one; if that is another thread it posts that thread's semaphore and
 * waits on its own. A finishing thread picks a successor and posts it. So
 * at most one model thread is ever between two points, and which one runs
 * depends only on the picks, which come from the seed: the run is a pure
 * function of the seed (the library code itself must not depend on time or
 * addresses for its decisions, and the queue code does not).
 *
 * Strategies.
 * - VM_RANDOM: at each point a uniformly random unfinished thread continues.
 *   Switches are frequent, which is good at short races.
 * - VM_PCT (Burckhardt et al., ASPLOS 2010): threads get distinct random
 *   priorities and the highest-priority unfinished thread always runs; at
 *   d - 1 random steps the running thread drops below all others. Few
 *   switches, each at a random place: good at a race that needs one thread
 *   stopped in a long window while the others run a lot.
 *
 * Locks. A model thread must never sleep in pthread_mutex_lock() while the
 * holder waits on its semaphore (the injector's lock holds scheduling points
 * inside it). The model binary is linked with --wrap=pthread_mutex_lock and
 * --wrap=pthread_mutex_unlock: a model thread's lock becomes a trylock; while
 * the lock is busy the thread is marked as waiting for it, is not picked, and
 * yields; the holder's unlock makes it runnable again and it retries. (So a
 * high PCT priority cannot starve the holder.) With every unfinished thread
 * waiting, the run fails as a deadlock. Other threads lock normally.
 *
 * Parking. A model of a waiting future (the waiter forms of the sync
 * primitives) parks on a flag that its waker sets (vm_park): like a lock
 * waiter, it is not picked until the flag is set. It could not spin through
 * points instead: under PCT the highest-priority thread always runs, and a
 * spinning one would starve its waker once the change points are spent. A
 * waiter that nobody wakes leaves only parked (or lock-waiting) threads,
 * which fails the run as a deadlock: a lost wakeup.
 *
 * Failure. vm_fail() in a model thread records the message, wakes every
 * other model thread and jumps back to the thread's start (longjmp); woken
 * threads see the abort and jump out too, so the run ends without running
 * any more library code. The state left behind is abandoned (leaked).
 * A run over max_steps points fails the same way: a livelock is reported,
 * never hung on.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "tests/model/sched.h"

struct vm_thread {
	unsigned id;
	bool done;
	pthread_mutex_t *waiting; /* the lock it waits for, or NULL */
	_Atomic uint32_t *parked; /* vm_park: the flag it waits to see set, or NULL */
	unsigned prio; /* PCT: higher runs first */
	uint64_t rng;  /* vm_rand() in this thread */
	sem_t go;      /* posted to let this thread run */
	pthread_t thread;
	jmp_buf abandon; /* back to the start of the thread, on a failed run */
};

static struct {
	struct vm_opts o;
	unsigned n;
	vm_body body;
	void *arg;
	struct vm_thread t[VM_MAX_THREADS];
	uint64_t rng;      /* the schedule */
	uint64_t main_rng; /* vm_rand() outside model threads */
	unsigned long steps;
	unsigned long change[VM_MAX_THREADS]; /* PCT: priority change points */
	unsigned nchange;
	unsigned cur; /* the running model thread */
	uint64_t hash;
	atomic_bool abort;
	bool failed;
	char msg[512];
} S;

static _Thread_local struct vm_thread *self;

void vm_prepare(const struct vm_opts *o)
{
	uint64_t x = o->seed ^ 0x6d6f64656c6d6169ull;

	S.failed = false;
	S.msg[0] = '\0';
	S.steps = 0;
	S.main_rng = volt__splitmix64(&x);
}

bool vm_failed(void)
{
	return S.failed;
}

const char *vm_message(void)
{
	return S.msg;
}

unsigned long vm_steps(void)
{
	return S.steps;
}

uint64_t vm_schedule_hash(void)
{
	return S.hash;
}

uint64_t vm_rand(void)
{
	return volt__splitmix64(self ? &self->rng : &S.main_rng);
}

void vm_log(const char *fmt, ...)
{
	va_list ap;

	if (!S.o.trace)
		return;
	if (self)
		printf("  [%5lu] T%u: ", S.steps, self->id);
	else
		printf("  [%5lu] main: ", S.steps);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Can t run: not waiting for a lock, and not parked on a flag still clear? */
static bool runnable(const struct vm_thread *t)
{
	return !t->done && !t->waiting && !(t->parked && !atomic_load(t->parked));
}

/* The next thread to run, by the strategy: an unfinished one that does
 * not wait for a lock or a wake. -1 when there is none. */
static int pick(void)
{
	unsigned cand[VM_MAX_THREADS], k = 0, c;

	for (unsigned i = 0; i < S.n; i++)
		if (runnable(&S.t[i]))
			cand[k++] = i;
	if (k == 0)
		return -1;
	if (S.o.strategy == VM_PCT) {
		c = cand[0];
		for (unsigned j = 1; j < k; j++)
			if (S.t[cand[j]].prio > S.t[c].prio)
				c = cand[j];
	} else {
		c = cand[volt__splitmix64(&S.rng) % k];
	}
	S.hash = (S.hash ^ (c + 1)) * 0x100000001b3ull;
	return (int)c;
}

static void wait_turn(struct vm_thread *me)
{
	while (sem_wait(&me->go))
		; /* EINTR */
}

static _Noreturn void abandon(struct vm_thread *me)
{
	longjmp(me->abandon, 1);
}

void vm_fail(const char *fmt, ...)
{
	struct vm_thread *me = self;

	if (!S.failed) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(S.msg, sizeof(S.msg), fmt, ap);
		va_end(ap);
		S.failed = true;
	}
	if (!me)
		return;
	atomic_store(&S.abort, true);
	for (unsigned i = 0; i < S.n; i++)
		if (&S.t[i] != me && !S.t[i].done)
			sem_post(&S.t[i].go);
	abandon(me);
}

/* The start of the executable (GNU ld): trace addresses are printed relative
 * to it, which is what addr2line -e wants for a PIE. */
extern const char __executable_start[];

/* A scheduling point in the running model thread; pc: the code that called it. */
static void point(const void *pc)
{
	struct vm_thread *me = self;

	if (!me)
		return; /* not a model thread: pass through */
	S.steps++;
	if (S.steps > S.o.max_steps)
		vm_fail("no end after %lu scheduling points: a livelock (or raise --max-steps)",
			S.o.max_steps);
	for (unsigned k = 0; k < S.nchange; k++)
		if (S.change[k] == S.steps)
			me->prio = k + 1; /* below every initial priority (>= depth) */

	int next = pick();

	if (next < 0)
		vm_fail("deadlock: every unfinished thread waits for a lock or a wake "
			"(a lost wakeup?)");
	if (next == (int)me->id)
		return;
	if (S.o.trace)
		printf("  [%5lu] T%u -> T%d at %#lx%s\n", S.steps, me->id, next,
		       (unsigned long)((uintptr_t)pc - (uintptr_t)__executable_start),
		       me->waiting ? " (lock busy)" : me->parked ? " (parked)" : "");
	S.cur = (unsigned)next;
	sem_post(&S.t[next].go);
	wait_turn(me);
	if (atomic_load(&S.abort))
		abandon(me);
}

void vm_park(_Atomic uint32_t *flag)
{
	struct vm_thread *me = self;

	if (!me) {
		vm_fail("vm_park outside a model thread");
		return;
	}
	while (!atomic_load(flag)) {
		me->parked = flag;
		point(__builtin_return_address(0));
	}
	me->parked = NULL;
}

void volt__chaos_point(void)
{
	point(__builtin_return_address(0));
}

static void *trampoline(void *arg)
{
	struct vm_thread *me = arg;

	self = me;
	wait_turn(me);
	if (!atomic_load(&S.abort)) {
		if (setjmp(me->abandon) == 0)
			S.body(me->id, S.arg);
	}
	me->done = true;
	if (!atomic_load(&S.abort)) {
		int next = pick();

		if (S.o.trace && next >= 0)
			printf("  [%5lu] T%u done -> T%d\n", S.steps, me->id, next);
		else if (S.o.trace)
			printf("  [%5lu] T%u done\n", S.steps, me->id);
		if (next >= 0) {
			S.cur = (unsigned)next;
			sem_post(&S.t[next].go);
		} else {
			for (unsigned i = 0; i < S.n; i++)
				if (!S.t[i].done)
					next = (int)i;
			if (next >= 0) {
				/* only waiters are left (a lock leaked, a wake lost): fail, as vm_fail */
				snprintf(S.msg, sizeof(S.msg),
					 "deadlock: T%u finished and every other thread waits for a lock "
					 "or a wake (a lost wakeup?)",
					 me->id);
				S.failed = true;
				atomic_store(&S.abort, true);
				for (unsigned i = 0; i < S.n; i++)
					if (!S.t[i].done)
						sem_post(&S.t[i].go);
			}
		}
	}
	self = NULL;
	return NULL;
}

int vm_run(const struct vm_opts *o, unsigned nthreads, vm_body body, void *arg)
{
	uint64_t x = o->seed;

	if (nthreads == 0 || nthreads > VM_MAX_THREADS) {
		fprintf(stderr, "vm_run: %u threads (1..%d)\n", nthreads, VM_MAX_THREADS);
		exit(2);
	}
	S.o = *o;
	S.n = nthreads;
	S.body = body;
	S.arg = arg;
	S.steps = 0;
	S.hash = 0xcbf29ce484222325ull;
	S.rng = volt__splitmix64(&x);
	atomic_store(&S.abort, false);
	for (unsigned i = 0; i < nthreads; i++) {
		struct vm_thread *t = &S.t[i];

		t->id = i;
		t->done = false;
		t->waiting = NULL;
		t->parked = NULL;
		t->prio = o->pct_depth + i;
		t->rng = volt__rng_stream(o->seed ^ 0x7468726561647321ull, i);
		sem_init(&t->go, 0, 0);
	}
	S.nchange = 0;
	if (o->strategy == VM_PCT) {
		/* distinct random priorities >= depth; depth - 1 change points */
		for (unsigned i = nthreads - 1; i > 0; i--) {
			unsigned j = (unsigned)(volt__splitmix64(&S.rng) % (i + 1));
			unsigned p = S.t[i].prio;

			S.t[i].prio = S.t[j].prio;
			S.t[j].prio = p;
		}
		for (unsigned k = 0; k + 1 < o->pct_depth && k < VM_MAX_THREADS; k++)
			S.change[S.nchange++] = 1 + volt__splitmix64(&S.rng) % (o->pct_steps ? o->pct_steps : 1);
	}
	for (unsigned i = 0; i < nthreads; i++) {
		int err = pthread_create(&S.t[i].thread, NULL, trampoline, &S.t[i]);

		if (err) {
			fprintf(stderr, "vm_run: pthread_create: %s\n", strerror(err));
			exit(2);
		}
	}
	int first = pick();

	if (o->trace)
		printf("  [%5lu] start -> T%d\n", S.steps, first);
	S.cur = (unsigned)first;
	sem_post(&S.t[first].go);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(S.t[i].thread, NULL);
	for (unsigned i = 0; i < nthreads; i++)
		sem_destroy(&S.t[i].go);
	return S.failed ? -1 : 0;
}

/* ---- locks (linked with -Wl,--wrap=pthread_mutex_lock,--wrap=pthread_mutex_unlock) ---- */

int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __real_pthread_mutex_unlock(pthread_mutex_t *m);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_unlock(pthread_mutex_t *m);

int __wrap_pthread_mutex_lock(pthread_mutex_t *m)
{
	struct vm_thread *me = self;

	if (!me)
		return __real_pthread_mutex_lock(m);
	for (;;) {
		int err = pthread_mutex_trylock(m);

		if (err != EBUSY)
			return err;
		/* the holder is another model thread: not runnable until it unlocks */
		me->waiting = m;
		point(__builtin_return_address(0));
	}
}

int __wrap_pthread_mutex_unlock(pthread_mutex_t *m)
{
	int err = __real_pthread_mutex_unlock(m);

	if (self)
		for (unsigned i = 0; i < S.n; i++)
			if (S.t[i].waiting == m)
				S.t[i].waiting = NULL; /* runnable again: it retries the lock */
	return err;
}
