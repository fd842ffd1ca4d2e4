/* SPDX-License-Identifier: MIT */
/*
 * core/blocking.c: the blocking pool.
 *
 * One mutex guards the pool: the FIFO of queued jobs, the thread records and
 * the counts. A submission queues the job, then wakes an idle thread if
 * there is one (`wakeups` counts the wakes owed, so a spurious condition
 * wake-up does not make two threads chase one job), else starts a thread if
 * fewer than max_blocking_threads run, else leaves the job queued: it runs in
 * order when a thread frees up. An idle thread waits on the condition with a
 * deadline of blocking_keep_alive_ns and leaves when it passes with nothing
 * to do.
 *
 * Threads are joinable: one that leaves marks its record; the next
 * submission or the shutdown joins and frees it. Shutdown stops new jobs,
 * cancels the queued ones (their waiters see -ECANCELED), lets the running
 * ones finish and joins every thread.
 *
 * A job is one allocation shared by the pool and the handle (two
 * references); its waiter is woken outside the job's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/blocking.h"
#include "core/rt.h"

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_CANCELLED };

struct volt_blocking {
	struct volt_blocking *next; /* pool FIFO, under the pool lock */
	void *(*fn)(void *);
	void *arg;
	void *output;
	struct volt_rt *rt;
	pthread_mutex_t lock;       /* guards state and waker */
	enum job_state state;
	struct volt_waker waker;
	_Atomic unsigned refs;
};

struct volt__bthread {
	struct volt__bthread *next;
	pthread_t tid;
	bool exited;
	struct volt__blocking_pool *pool;
};

/* ---- jobs ---- */

static void job_unref(struct volt_blocking *j)
{
	if (volt__fetch_sub(&j->refs, 1, ACQ_REL) == 1) {
		volt_waker_drop(&j->waker);
		pthread_mutex_destroy(&j->lock);
		free(j);
	}
}

/* Moves j to DONE or CANCELLED and wakes its waiter. */
static void job_finish(struct volt_blocking *j, enum job_state state)
{
	struct volt_waker w;

	pthread_mutex_lock(&j->lock);
	j->state = state;
	w = j->waker;
	j->waker.ops = NULL;
	pthread_mutex_unlock(&j->lock);
	if (w.ops)
		volt_waker_wake(&w);
	job_unref(j); /* the pool's reference */
}

/* ---- threads ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Waits on the pool's condition until woken or deadline_ns; false on timeout. */
static bool wait_until(struct volt__blocking_pool *p, uint64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000ull),
			       (long)(deadline_ns % 1000000000ull) };

	return pthread_cond_timedwait(&p->cond, &p->lock, &ts) != ETIMEDOUT;
}

static void *bthread_main(void *arg)
{
	struct volt__bthread *self = arg;
	struct volt__blocking_pool *p = self->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (!p->head) {
			if (p->shutdown)
				break;
			uint64_t deadline = now_ns() + p->keep_alive_ns;
			bool woken = true;

			p->idle++;
			while (!p->wakeups && !p->shutdown && woken)
				woken = wait_until(p, deadline);
			p->idle--;
			if (p->wakeups)
				p->wakeups--;
			else if (!woken && !p->head)
				break; /* kept alive long enough with nothing to do */
			continue;
		}
		struct volt_blocking *j = p->head;

		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		p->running++;
		pthread_mutex_unlock(&p->lock);

		pthread_mutex_lock(&j->lock);
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&j->lock);
		j->output = j->fn(j->arg);
		job_finish(j, JOB_DONE);

		pthread_mutex_lock(&p->lock);
		p->running--;
	}
	p->threads--;
	self->exited = true;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Joins and frees the records of threads that left. Called with the lock. */
static void reap(struct volt__blocking_pool *p)
{
	for (struct volt__bthread **link = &p->records; *link;) {
		struct volt__bthread *t = *link;

		if (!t->exited) {
			link = &t->next;
			continue;
		}
		*link = t->next;
		pthread_join(t->tid, NULL); /* it has left the loop: this is brief */
		free(t);
	}
}

/* Starts one thread. Called with the lock; 0 or -errno. */
static int spawn_thread(struct volt__blocking_pool *p)
{
	struct volt__bthread *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->pool = p;
	/* pool threads inherit the subscribable signals blocked (volt/signal.h) */
	sigset_t blocked, old_mask;

	volt_signal_blockable(&blocked);
	pthread_sigmask(SIG_BLOCK, &blocked, &old_mask);
	int err = pthread_create(&t->tid, NULL, bthread_main, t);

	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

	if (err) {
		free(t);
		return -err;
	}
	t->next = p->records;
	p->records = t;
	p->threads++;
	if (p->threads > p->peak)
		p->peak = p->threads;
	return 0;
}

/* ---- the pool ---- */

int volt__blocking_init(struct volt__blocking_pool *p, const struct volt_config *cfg)
{
	pthread_condattr_t attr;

	p->head = p->tail = NULL;
	p->records = NULL;
	p->threads = p->idle = p->running = p->peak = 0;
	p->wakeups = 0;
	p->shutdown = false;
	p->max = cfg->max_blocking_threads;
	p->keep_alive_ns = cfg->blocking_keep_alive_ns;
	if (pthread_mutex_init(&p->lock, NULL))
		return -ENOMEM;
	if (pthread_condattr_init(&attr) || pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&p->cond, &attr)) {
		pthread_mutex_destroy(&p->lock);
		return -ENOMEM;
	}
	pthread_condattr_destroy(&attr);
	return 0;
}

void volt__blocking_shutdown(struct volt__blocking_pool *p)
{
	struct volt_blocking *queued;

	pthread_mutex_lock(&p->lock);
	if (p->shutdown && !p->records) {
		pthread_mutex_unlock(&p->lock);
		return; /* done before */
	}
	p->shutdown = true;
	queued = p->head;
	p->head = p->tail = NULL;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	while (queued) {
		struct volt_blocking *next = queued->next;

		job_finish(queued, JOB_CANCELLED);
		queued = next;
	}
	/* the running jobs finish, then their threads leave */
	pthread_mutex_lock(&p->lock);
	while (p->records) {
		struct volt__bthread *t = p->records;

		p->records = t->next;
		pthread_mutex_unlock(&p->lock);
		pthread_join(t->tid, NULL);
		free(t);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

void volt__blocking_fini(struct volt__blocking_pool *p)
{
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

int volt_concurrent(struct volt_rt *rt, void *(*fn)(void *), void *arg,
		    struct volt_blocking **h)
{
	struct volt__blocking_pool *p;
	struct volt_blocking *j;
	int err = 0;

	if (!rt || !fn)
		return -EINVAL;
	p = &rt->blocking;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	if (pthread_mutex_init(&j->lock, NULL)) {
		free(j);
		return -ENOMEM;
	}
	j->next = NULL;
	j->fn = fn;
	j->arg = arg;
	j->output = NULL;
	j->rt = rt;
	j->state = JOB_QUEUED;
	j->waker.ops = NULL;
	j->waker.data = NULL;
	atomic_init(&j->refs, h ? 2 : 1);

	pthread_mutex_lock(&p->lock);
	if (p->shutdown) {
		err = -ESHUTDOWN;
	} else {
		reap(p);
		if (p->idle > p->wakeups) {
			p->wakeups++;
			pthread_cond_signal(&p->cond);
		} else if (p->threads < p->max) {
			err = spawn_thread(p);
			if (err && p->threads > 0)
				err = 0; /* a running thread will get to it */
		}
		if (!err) {
			if (p->tail)
				p->tail->next = j;
			else
				p->head = j;
			p->tail = j;
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (err) {
		pthread_mutex_destroy(&j->lock);
		free(j);
		return err;
	}
	if (h)
		*h = j;
	return 0;
}

unsigned volt_blocking_threads(const struct volt_rt *rt)
{
	struct volt__blocking_pool *p = (struct volt__blocking_pool *)&rt->blocking;
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->threads;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* ---- waiting ---- */

static enum volt_poll bf_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_blocking_future *bf = (struct volt_blocking_future *)f;
	struct volt_blocking *j = bf->h;
	enum volt_poll r = VOLT_PENDING;

	pthread_mutex_lock(&j->lock);
	if (j->state == JOB_DONE || j->state == JOB_CANCELLED) {
		bf->result = j->state == JOB_DONE ? 0 : -ECANCELED;
		bf->output = j->state == JOB_DONE ? j->output : NULL;
		r = VOLT_READY;
	} else if (!j->waker.ops || !volt_waker_will_wake(&j->waker, &cx->waker)) {
		volt_waker_drop(&j->waker);
		j->waker = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&j->lock);
	return r;
}

void volt_blocking_detach(struct volt_blocking *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	volt_waker_drop(&h->waker);
	pthread_mutex_unlock(&h->lock);
	job_unref(h);
}

static void bf_drop(struct volt_future *f)
{
	struct volt_blocking_future *bf = (struct volt_blocking_future *)f;

	volt_blocking_detach(bf->h);
	bf->h = NULL;
}

static const struct volt_future_ops bf_ops = { .poll = bf_poll, .drop = bf_drop };

struct volt_future *volt_blocking_await(struct volt_blocking_future *bf, struct volt_blocking *h)
{
	volt_future_init(&bf->base, &bf_ops);
	bf->h = h;
	bf->output = NULL;
	bf->result = 0;
	bf->orphan_release = NULL;
	return &bf->base;
}

/* ---- orphans: an await whose owner is gone frees itself when the job ends */

static void orphan_wake(void *data)
{
	struct volt_blocking_future *bf = data;

	bf->orphan_release(bf);
}

static void orphan_ignore(void *data)
{
	(void)data;
}

static void *orphan_clone(void *data)
{
	return data;
}

/*
 * The pool takes one clone and consumes it with wake; it never wakes by
 * reference, and drops it only in paths an orphaned job does not reach (a
 * later poll, a detach, the last reference going without a wake).
 */
static const struct volt_waker_ops orphan_ops = {
	.wake = orphan_wake,
	.wake_by_ref = orphan_ignore,
	.clone = orphan_clone,
	.drop = orphan_ignore,
};

void volt__blocking_orphan(struct volt_blocking_future *bf, struct volt_rt *rt,
			   void (*release)(struct volt_blocking_future *bf))
{
	struct volt_cx cx = { .waker = { &orphan_ops, bf }, .rt = rt };

	bf->orphan_release = release;
	if (volt_future_poll(&bf->base, &cx) == VOLT_READY)
		release(bf);
	/* else: the pool holds the orphan waker, whose wake calls release */
}

int volt_blocking_wait(struct volt_blocking *h, void **output)
{
	struct volt_blocking_future bf;
	int ret;

	if (!h)
		return -EINVAL;
	ret = volt_block_on(h->rt, volt_blocking_await(&bf, h), NULL);
	if (ret)
		return ret;
	if (output)
		*output = bf.output;
	return bf.result;
}

bool volt__blocking_busy(struct volt__blocking_pool *p)
{
	bool busy;

	pthread_mutex_lock(&p->lock);
	busy = p->running || p->head;
	pthread_mutex_unlock(&p->lock);
	return busy;
}
