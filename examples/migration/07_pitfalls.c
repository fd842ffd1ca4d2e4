/* SPDX-License-Identifier: MIT */
/*
 * 07_pitfalls.c: the pitfalls of docs/MIGRATION.md, the right way, and
 * with --bad the wrong way for the first two (it exits 0 either way: the
 * wrong way is slow or undefined, not detectably failing every run).
 *
 * 1. Blocking calls on workers: a task that calls nanosleep (or any
 *    blocking system call) holds its worker, and every task queued behind
 *    it waits. Sleep with volt_blocking_sleep in a fiber or the volt_sleep
 *    future in a stackless task; run the blocking call itself on the
 *    blocking pool.
 * 2. Locks held across yield points: a fiber may resume on another worker
 *    after any parking call, so a pthread mutex locked before it would be
 *    unlocked by a thread that does not own it (undefined; an error-checking
 *    mutex reports EPERM), and a second task locking it on the same worker
 *    blocks that worker. A volt_mutex may be held across a yield and
 *    unlocked from any thread.
 * 3. Forgetting to free channels: volt_chan_new and volt_broadcast_new
 *    allocate; free each once nothing uses it (valgrind and LSan catch it).
 * 4. Too many workers: keep the default (one per CPU); VOLT_WORKERS
 *    changes it without a rebuild, for measuring.
 *
 *	build/examples/migration/07_pitfalls [--bad]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <volt.h>

/* ---- 1. blocking calls on workers */

/* BAD on a worker (the thread sleeps, its queue waits); fine on the pool. */
static void *nap(void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	(void)arg;
	nanosleep(&ts, NULL);
	return NULL;
}

/* GOOD in a fiber: the fiber parks, its worker runs other tasks. */
static void *fiber_nap(struct volt_rt *rt, void *arg)
{
	(void)rt;
	(void)arg;
	return (void *)(intptr_t)volt_blocking_sleep(volt_ms(10));
}

/* GOOD in a stackless task: await a sleep future. */
struct task_nap {
	struct volt_future base;
	struct volt_sleep sleep;
};

static enum volt_poll task_nap_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct task_nap *n = (struct task_nap *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_sleep(&n->sleep, volt_ms(10)));
	VOLT_END(f);
}

static const struct volt_future_ops task_nap_ops = { .poll = task_nap_poll };

static int pitfall_blocking(struct volt_rt *rt, bool bad)
{
	struct task_nap tn = { .base = VOLT_FUTURE_INIT(&task_nap_ops) };
	struct volt_join *a, *b;
	struct volt_blocking *h;
	void *out;

	if (bad) /* nap() on a worker: works, and stalls that worker for 10 ms */
		return volt_spawn_fn(rt, nap, NULL, &a) || volt_join_wait(a, NULL);

	if (volt_spawn_fiber(rt, fiber_nap, NULL, 0, &a) != 0)
		return 1;
	if (volt_spawn(rt, &tn.base, sizeof tn, &b) != 0) {
		volt_join_wait(a, NULL);
		return 1;
	}
	if (volt_join_wait(a, &out) != 0 || out != NULL || volt_join_wait(b, NULL) != 0)
		return 1;
	/* GOOD: the blocking call itself goes to the blocking pool. */
	if (volt_concurrent(rt, nap, NULL, &h) != 0 || volt_blocking_wait(h, NULL) != 0)
		return 1;
	return 0;
}

/* ---- 2. locks held across yield points */

static pthread_mutex_t plock;    /* error-checking, for the BAD form */
static struct volt_mutex vlock;

static void *bad_locker(struct volt_rt *rt, void *arg)
{
	int before = volt_worker_index(), err;

	(void)arg;
	pthread_mutex_lock(&plock);
	for (int i = 0; i < 100; i++)
		volt_yield(rt);          /* may resume on another worker */
	err = pthread_mutex_unlock(&plock);
	printf("bad: locked on worker %d, unlocked on worker %d: %s\n", before,
	       volt_worker_index(), err ? strerror(err) : "ok this time");
	return NULL; /* after EPERM plock stays locked by the other worker's thread */
}

static void *good_locker(struct volt_rt *rt, void *arg)
{
	long *counter = arg;

	if (volt_mutex_lock_blocking(&vlock) != 0)
		return (void *)1;
	for (int i = 0; i < 100; i++)
		volt_yield(rt);          /* fine: the lock is not tied to a thread */
	++*counter;
	volt_mutex_unlock(&vlock);
	return NULL;
}

static int pitfall_locks(struct volt_rt *rt, bool bad)
{
	struct volt_join *j[2];
	long counter = 0;
	void *out;
	int ret = 0;

	if (bad)
		return volt_spawn_fiber(rt, bad_locker, NULL, 0, &j[0]) || volt_join_wait(j[0], NULL);
	for (int i = 0; i < 2; i++)
		if (volt_spawn_fiber(rt, good_locker, &counter, 0, &j[i]) != 0)
			return 1; /* a fiber already spawned is cancelled at shutdown */
	for (int i = 0; i < 2; i++)
		if (volt_join_wait(j[i], &out) != 0 || out != NULL)
			ret = 1;
	return ret || counter != 2;
}

/* ---- 3. freeing channels */

static int pitfall_channels(void)
{
	struct volt_chan *ch;
	int v = 7, got = 0;

	if (volt_chan_new(sizeof v, 4, NULL, &ch) != 0)
		return 1;
	volt_chan_try_send(ch, &v);
	volt_chan_try_recv(ch, &got);
	volt_chan_free(ch);              /* GOOD: every volt_chan_new has its free */
	return got != 7;
}

/* ---- 4. worker count: the default */

static int app(struct volt_rt *rt, void *arg)
{
	bool bad = *(bool *)arg;

	if (pitfall_blocking(rt, bad) || pitfall_locks(rt, bad) || pitfall_channels())
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	bool bad = argc > 1 && strcmp(argv[1], "--bad") == 0;
	pthread_mutexattr_t attr;
	struct volt_config cfg;
	int err;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&plock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (volt_mutex_init(&vlock) != 0)
		return 1;

	/* GOOD: cfg.workers stays 0 (one per CPU) unless VOLT_WORKERS says otherwise. */
	if (volt_config_init(&cfg) != 0)
		return 1;
	err = volt_run_with(&cfg, app, &bad);

	volt_mutex_destroy(&vlock);
	pthread_mutex_destroy(&plock);
	if (err)
		return 1;
	printf("result: pitfalls avoided\n");
	return 0;
}
