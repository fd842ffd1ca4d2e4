/* SPDX-License-Identifier: MIT */
/*
 * core/worker.c: the worker loop.
 *
 *	loop until shutdown:
 *		pop from the policy (its own queue, LIFO slot, global queue...)
 *		else, if allowed to search (at most half the workers), steal
 *		     for up to `search_rounds` passes
 *		else park (core/idle.c decides who wakes whom)
 *		run the task: poll it once (core/task.c)
 *
 * A worker never blocks inside a poll on purpose: every blocking-style call
 * refuses with -EDEADLK on a worker thread.
 */
#include "core/futex.h"
#include "core/rt.h"
#include "core/task.h"

static _Thread_local struct volt__worker *tl_worker;

struct volt__worker *volt__worker_self(void)
{
	return tl_worker;
}

static struct volt__task *find_task(struct volt__worker *w, bool *lifo)
{
	struct volt_rt *rt = w->rt;
	const struct volt__sched_ops *ops = rt->sched_ops;
	struct volt__task *t = ops->pop(rt->sched, w->idx, w->tick, lifo);

	if (t || !ops->steal || rt->nworkers == 1)
		return t;
	if (!w->searching)
		w->searching = volt__idle_begin_search(&rt->idle);
	if (!w->searching)
		return NULL;
	for (unsigned r = 0; r < rt->cfg.search_rounds; r++) {
		t = ops->steal(rt->sched, w->idx);
		if (t)
			return t;
	}
	return NULL;
}

/* Stops searching; if this was the last searcher and work is queued, pass the search on. */
static void stop_searching(struct volt__worker *w)
{
	struct volt_rt *rt = w->rt;

	w->searching = false;
	if (volt__idle_end_search(&rt->idle) && rt->sched_ops->has_work(rt->sched))
		volt__idle_notify(rt);
}

static void park(struct volt__worker *w)
{
	struct volt_rt *rt = w->rt;
	struct volt__metrics *m = &rt->metrics[w->idx];

	if (w->searching)
		stop_searching(w);
	if (w->woken) {
		volt__count(&m->noop_wakes);
		w->woken = false;
	}
	volt__idle_sleep(&rt->idle, w->idx);
	/* acquire: pairs with the release store in volt_rt_free */
	if (volt__load(&rt->shutdown, ACQUIRE) || rt->sched_ops->has_work(rt->sched)) {
		if (volt__idle_cancel_sleep(&rt->idle, w->idx)) {
			w->searching = true;
			return;
		}
		/* a notifier claimed us: its token is on the way */
	}
	volt__count(&m->parks);
	volt__park(&w->park);
	volt__count(&m->unparks);
	w->searching = true; /* the notifier counted us as searching */
	w->woken = true;
}

void *volt__worker_main(void *arg)
{
	struct volt__worker *w = arg;
	struct volt_rt *rt = w->rt;

	tl_worker = w;
	/* acquire: pairs with the release store in volt_rt_free */
	while (!volt__load(&rt->shutdown, ACQUIRE)) {
		bool lifo = false;
		struct volt__task *t = find_task(w, &lifo);

		if (!t) {
			park(w);
			continue;
		}
		w->tick++;
		w->woken = false;
		if (w->searching)
			stop_searching(w);
		volt__task_run(w, t, lifo);
	}
	if (w->searching) {
		w->searching = false;
		volt__idle_end_search(&rt->idle);
	}
	volt__slab_cache_flush(&rt->slab, &w->cache);
	tl_worker = NULL;
	return NULL;
}
