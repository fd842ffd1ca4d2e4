/* SPDX-License-Identifier: MIT */
/*
 * core/task.c: spawn, the task waker, the poll step, cancellation,
 * completion and join handles. The state word is described in core/task.h.
 *
 * Every RMW on the state word is acq_rel: the word hands the future's memory
 * (and the output) from the thread that last touched it to the next one.
 */
#include <errno.h>
#include <string.h>

#include "core/rt.h"
#include "core/task.h"

/* ---- references ---- */

static void task_free(struct volt__task *t, uint64_t state)
{
	struct volt_rt *rt = t->rt;
	struct volt__worker *w = volt__worker_of(rt);

	volt__slab_free(&rt->slab, w ? &w->cache : NULL, t, volt__task_class(state));
}

static void task_ref_inc(struct volt__task *t)
{
	/* relaxed: a new reference is made from an existing one */
	volt__fetch_add(&t->state, VOLT__T_REF_ONE, RELAXED);
}

void volt__task_ref_dec(struct volt__task *t)
{
	uint64_t prev = volt__fetch_sub(&t->state, VOLT__T_REF_ONE, ACQ_REL);

	if ((prev >> VOLT__T_REF_SHIFT) == 1)
		task_free(t, prev);
}

/* ---- scheduling ---- */

void volt__schedule(struct volt_rt *rt, struct volt__worker *w, struct volt__task *t,
		    enum volt__push how)
{
	if (rt->sched_ops->push(rt->sched, w ? (int)w->idx : -1, t, how))
		volt__idle_notify(rt);
}

static void task_wake_by_ref(void *data)
{
	struct volt__task *t = data;
	uint64_t s = volt__load(&t->state, ACQUIRE);

	for (;;) {
		if (s & (VOLT__T_COMPLETE | VOLT__T_NOTIFIED))
			return;
		if (volt__cas(&t->state, &s, s | VOLT__T_NOTIFIED, ACQ_REL, ACQUIRE))
			break;
	}
	if (s & VOLT__T_RUNNING)
		return; /* the polling worker re-queues it */

	struct volt__worker *w = volt__worker_of(t->rt);

	if (w)
		VOLT__TRACE(&w->trace, VOLT__TR_WAKE, (uintptr_t)t);
	volt__schedule(t->rt, w, t, w ? VOLT__PUSH_WAKE : VOLT__PUSH_REMOTE);
}

static void task_wake(void *data)
{
	task_wake_by_ref(data);
	volt__task_ref_dec(data);
}

static void *task_clone(void *data)
{
	task_ref_inc(data);
	return data;
}

static void task_drop(void *data)
{
	volt__task_ref_dec(data);
}

static const struct volt_waker_ops task_waker_ops = {
	.wake = task_wake,
	.wake_by_ref = task_wake_by_ref,
	.clone = task_clone,
	.drop = task_drop,
};

/* ---- spawn ---- */

int volt__spawn(struct volt_rt *rt, struct volt_group *g, const struct volt_future *f,
		size_t size, struct volt_join **join)
{
	return volt__spawn_with(rt, g, f, size, join, NULL);
}

int volt__spawn_with(struct volt_rt *rt, struct volt_group *g, const struct volt_future *f,
		     size_t size, struct volt_join **join, void (*placed)(struct volt_future *))
{
	if (!rt || !f || !f->ops || !f->ops->poll || size < sizeof(*f))
		return -EINVAL;
	if (size > SIZE_MAX - VOLT_TASK_HEADER_SIZE)
		return -EINVAL;
	/* acquire: pairs with the release store in volt_rt_free */
	if (volt__load(&rt->shutdown, ACQUIRE))
		return -ESHUTDOWN;

	struct volt__worker *w = volt__worker_of(rt);
	size_t bytes = VOLT_TASK_HEADER_SIZE + size;
	unsigned cls = volt__slab_class(bytes);
	struct volt__task *t = volt__slab_alloc(&rt->slab, w ? &w->cache : NULL, cls, bytes);

	if (!t)
		return -ENOMEM;

	uint64_t refs = join ? 2 : 1;
	uint64_t state = VOLT__T_NOTIFIED | refs << VOLT__T_REF_SHIFT |
			 (uint64_t)cls << VOLT__T_CLASS_SHIFT;

	if (join)
		state |= VOLT__T_JOIN_INTEREST;
	if (g)
		state |= VOLT__T_GROUPED;
	t->next = NULL;
	t->rt = rt;
	t->join_waker.ops = NULL;
	t->join_waker.data = NULL;
	t->u.output = NULL;
	memcpy(volt__task_future(t), f, size);
	if (placed)
		placed(volt__task_future(t));
	/* relaxed: the task is published by the queue push below */
	atomic_store_explicit(&t->state, state, RELAXED);

	if (g) {
		int ret = volt__group_attach(g, t);

		if (ret) {
			atomic_store_explicit(&t->state, 0, RELAXED);
			volt__slab_free(&rt->slab, w ? &w->cache : NULL, t, cls);
			return ret;
		}
	}
	if (w) {
		VOLT__TRACE(&w->trace, VOLT__TR_SPAWN, (uintptr_t)t);
		volt__count(&rt->metrics[w->idx].tasks_spawned);
	} else {
		volt__fetch_add(&rt->metrics[0].remote_spawns, 1, RELAXED); /* a statistic */
	}
	if (join)
		*join = (struct volt_join *)t;
	volt__schedule(rt, w, t, w ? VOLT__PUSH_SPAWN : VOLT__PUSH_REMOTE);
	return 0;
}

int volt_spawn(struct volt_rt *rt, const struct volt_future *f, size_t size,
	       struct volt_join **join)
{
	return volt__spawn(rt, NULL, f, size, join);
}

size_t volt_task_size(size_t future_size)
{
	size_t bytes = VOLT_TASK_HEADER_SIZE + future_size;
	unsigned cls = volt__slab_class(bytes);

	if (cls == VOLT__SLAB_LARGE)
		return bytes;
	return volt__slab_class_size(cls);
}

/* ---- completion ---- */

static void task_complete(struct volt__task *t, void *output, bool cancelled)
{
	uint64_t s = volt__load(&t->state, ACQUIRE);

	if (s & VOLT__T_GROUPED)
		volt__group_detach(t);
	else
		t->u.output = output;

	uint64_t done = VOLT__T_COMPLETE | (cancelled ? VOLT__T_RESULT_CANCELLED : 0);

	/* COMPLETE and !RUNNING in one step: a concurrent cancel never sees a
	 * task that is neither running nor complete. */
	while (!volt__cas(&t->state, &s, (s & ~VOLT__T_RUNNING) | done, ACQ_REL, ACQUIRE))
		;

	if (s & VOLT__T_JOIN_WAKER) {
		volt_waker_wake_by_ref(&t->join_waker);
		uint64_t after = volt__fetch_and(&t->state, ~VOLT__T_JOIN_WAKER, ACQ_REL);

		if (!(after & VOLT__T_JOIN_INTEREST))
			volt_waker_drop(&t->join_waker);
	}
	volt__task_ref_dec(t); /* the lifecycle reference */
}

static void task_drop_future(struct volt__task *t)
{
	volt_future_drop(volt__task_future(t));
}

static void task_cancel_now(struct volt__worker *w, struct volt__task *t)
{
	task_drop_future(t);
	task_complete(t, NULL, true);
	volt__count(&w->rt->metrics[w->idx].tasks_done);
}

void volt__task_run(struct volt__worker *w, struct volt__task *t, bool keep_budget)
{
	struct volt_rt *rt = w->rt;
	struct volt__metrics *m = &rt->metrics[w->idx];
	uint64_t s = volt__load(&t->state, ACQUIRE);

	for (;;) {
		uint64_t ns = (s & ~VOLT__T_NOTIFIED) | VOLT__T_RUNNING;

		if (volt__cas(&t->state, &s, ns, ACQ_REL, ACQUIRE))
			break;
	}
	volt__count(&m->tasks_run);
	if (s & VOLT__T_CANCELLED) {
		task_cancel_now(w, t);
		return;
	}

	struct volt_cx cx = {
		.waker = { &task_waker_ops, t },
		.rt = rt,
		.output = NULL,
		.worker = w,
		.wake_at = UINT64_MAX,
	};
	struct volt_future *f = volt__task_future(t);

	if (!keep_budget)
		w->budget = rt->cfg.budget;
	volt__count(&m->polls);
	VOLT__TRACE(&w->trace, VOLT__TR_POLL_BEGIN, (uintptr_t)t);
	enum volt_poll r = volt_future_poll(f, &cx);

	VOLT__TRACE(&w->trace, VOLT__TR_POLL_END, r == VOLT_READY);
	if (r == VOLT_READY) {
		task_drop_future(t);
		task_complete(t, cx.output, false);
		volt__count(&m->tasks_done);
		return;
	}

	s = volt__load(&t->state, ACQUIRE);
	for (;;) {
		if (s & VOLT__T_CANCELLED) {
			task_cancel_now(w, t);
			return;
		}
		if (volt__cas(&t->state, &s, s & ~VOLT__T_RUNNING, ACQ_REL, ACQUIRE))
			break;
	}
	if (s & VOLT__T_NOTIFIED)
		volt__schedule(rt, w, t, VOLT__PUSH_YIELD);
}

void volt__task_cancel(struct volt__task *t)
{
	uint64_t s = volt__load(&t->state, ACQUIRE);
	uint64_t ns;

	do {
		if (s & (VOLT__T_COMPLETE | VOLT__T_CANCELLED))
			return;
		ns = s | VOLT__T_CANCELLED;
		if (!(s & (VOLT__T_RUNNING | VOLT__T_NOTIFIED)))
			ns |= VOLT__T_NOTIFIED; /* idle: we must queue it */
	} while (!volt__cas(&t->state, &s, ns, ACQ_REL, ACQUIRE));

	if (!(s & (VOLT__T_RUNNING | VOLT__T_NOTIFIED))) {
		struct volt__worker *w = volt__worker_of(t->rt);

		volt__schedule(t->rt, w, t, w ? VOLT__PUSH_WAKE : VOLT__PUSH_REMOTE);
	}
}

void volt__task_shutdown(struct volt__task *t)
{
	uint64_t s = volt__load(&t->state, ACQUIRE);

	if (s & VOLT__T_COMPLETE)
		return;
	/* No worker runs: mark it running so wakes from the drops below do not queue it. */
	volt__fetch_or(&t->state, VOLT__T_RUNNING, ACQ_REL);
	task_drop_future(t);
	task_complete(t, NULL, true);
}

/* ---- join handles ---- */

static struct volt__task *join_task(const struct volt_join *j)
{
	return (struct volt__task *)j;
}

bool volt_join_is_done(const struct volt_join *j)
{
	return volt__load(&join_task(j)->state, ACQUIRE) & VOLT__T_COMPLETE;
}

int volt_join_cancel(struct volt_join *j)
{
	if (!j)
		return -EINVAL;
	volt__task_cancel(join_task(j));
	return 0;
}

void volt_join_detach(struct volt_join *j)
{
	struct volt__task *t = join_task(j);
	uint64_t s = volt__load(&t->state, ACQUIRE);
	uint64_t ns;

	do {
		ns = s & ~VOLT__T_JOIN_INTEREST;
		if (!(s & VOLT__T_COMPLETE))
			ns &= ~VOLT__T_JOIN_WAKER; /* we take the waker back */
	} while (!volt__cas(&t->state, &s, ns, ACQ_REL, ACQUIRE));

	/* We own the waker unless the task side is still between its wake and
	 * its clear of JOIN_WAKER (then it sees no interest and drops it). */
	if (!(s & VOLT__T_COMPLETE) || !(s & VOLT__T_JOIN_WAKER))
		volt_waker_drop(&t->join_waker);
	volt__task_ref_dec(t);
}

/* Reads the result of a COMPLETE task into jf. */
static enum volt_poll join_ready(struct volt_join_future *jf, uint64_t s)
{
	struct volt__task *t = join_task(jf->join);

	if (s & VOLT__T_RESULT_CANCELLED) {
		jf->result = -ECANCELED;
		jf->output = NULL;
	} else {
		jf->result = 0;
		jf->output = t->u.output;
	}
	return VOLT_READY;
}

/* Stores a clone of waker and sets JOIN_WAKER; READY if the task completed first. */
static bool join_set_waker(struct volt__task *t, const struct volt_waker *waker, uint64_t *sp)
{
	uint64_t s = *sp;

	t->join_waker = volt_waker_clone(waker);
	for (;;) {
		if (s & VOLT__T_COMPLETE) {
			volt_waker_drop(&t->join_waker);
			*sp = s;
			return false;
		}
		if (volt__cas(&t->state, &s, s | VOLT__T_JOIN_WAKER, ACQ_REL, ACQUIRE))
			return true;
	}
}

static enum volt_poll join_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_join_future *jf = (struct volt_join_future *)f;
	struct volt__task *t = join_task(jf->join);
	uint64_t s = volt__load(&t->state, ACQUIRE);

	if (s & VOLT__T_COMPLETE)
		return join_ready(jf, s);
	if (s & VOLT__T_JOIN_WAKER) {
		if (volt_waker_will_wake(&t->join_waker, &cx->waker))
			return VOLT_PENDING;
		/* take the field back to replace the waker */
		do {
			if (s & VOLT__T_COMPLETE)
				return join_ready(jf, s);
		} while (!volt__cas(&t->state, &s, s & ~VOLT__T_JOIN_WAKER, ACQ_REL, ACQUIRE));
		volt_waker_drop(&t->join_waker);
		s &= ~VOLT__T_JOIN_WAKER;
	}
	if (!join_set_waker(t, &cx->waker, &s))
		return join_ready(jf, s);
	return VOLT_PENDING;
}

static void join_drop(struct volt_future *f)
{
	struct volt_join_future *jf = (struct volt_join_future *)f;

	if (jf->join) {
		volt_join_detach(jf->join);
		jf->join = NULL;
	}
}

static const struct volt_future_ops join_ops = {
	.poll = join_poll,
	.drop = join_drop,
};

struct volt_future *volt_join_await(struct volt_join_future *jf, struct volt_join *j)
{
	volt_future_init(&jf->base, &join_ops);
	jf->join = j;
	jf->output = NULL;
	jf->result = 0;
	return &jf->base;
}

int volt_join_wait(struct volt_join *j, void **output)
{
	struct volt_join_future jf;
	int ret;

	if (!j)
		return -EINVAL;
	/* -EDEADLK (a stackless task) leaves the handle with the caller */
	ret = volt_block_on(join_task(j)->rt, volt_join_await(&jf, j), NULL);
	if (ret)
		return ret;
	if (output)
		*output = jf.output;
	return jf.result;
}

/* ---- spawn_fn ---- */

struct fn_future {
	struct volt_future base;
	void *(*fn)(void *arg);
	void *arg;
};

static enum volt_poll fn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct fn_future *ff = (struct fn_future *)f;

	cx->output = ff->fn(ff->arg);
	return VOLT_READY;
}

static const struct volt_future_ops fn_ops = { .poll = fn_poll, .drop = NULL };

int volt__spawn_fn(struct volt_rt *rt, struct volt_group *g, void *(*fn)(void *), void *arg,
		   struct volt_join **join)
{
	struct fn_future ff = { VOLT_FUTURE_INIT(&fn_ops), fn, arg };

	if (!fn)
		return -EINVAL;
	return volt__spawn(rt, g, &ff.base, sizeof(ff), join);
}

int volt_spawn_fn(struct volt_rt *rt, void *(*fn)(void *), void *arg, struct volt_join **join)
{
	return volt__spawn_fn(rt, NULL, fn, arg, join);
}
