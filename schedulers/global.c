/* SPDX-License-Identifier: MIT */
/*
 * schedulers/global.c: `global`, one shared FIFO queue behind a mutex that
 * every worker pops. The naive baseline the other policies are measured
 * against: no locality, one lock contended by every spawn, wake and pop.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/task.h"
#include "schedulers/injector.h"
#include "schedulers/sched.h"

struct global {
	struct volt__injector q;
	struct volt__metrics *metrics;
};

static int global_init(void **state, const struct volt__sched_env *env)
{
	struct global *g = aligned_alloc(VOLT__CACHELINE, sizeof(*g));

	if (!g)
		return -ENOMEM;
	if (volt__injector_init(&g->q)) {
		free(g);
		return -ENOMEM;
	}
	g->metrics = env->metrics;
	*state = g;
	return 0;
}

static void global_fini(void *state)
{
	struct global *g = state;

	volt__injector_fini(&g->q);
	free(g);
}

static bool global_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	struct global *g = state;

	(void)w;
	(void)how;
	volt__injector_push(&g->q, t, t, 1);
	return true;
}

static struct volt__task *global_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	struct global *g = state;
	size_t taken;
	struct volt__task *t = volt__injector_pop(&g->q, 1, &taken);

	(void)global_first;
	*lifo = false;
	if (t)
		volt__count(&g->metrics[w].global_pops);
	return t;
}

static bool global_has_work(void *state)
{
	struct global *g = state;

	return volt__injector_len(&g->q) != 0;
}

const struct volt__sched_ops volt__sched_global = {
	.name = "global",
	.workers = NULL,
	.init = global_init,
	.fini = global_fini,
	.push = global_push,
	.pop = global_pop,
	.steal = NULL,
	.has_work = global_has_work,
};
