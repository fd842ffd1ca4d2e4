/* SPDX-License-Identifier: MIT */
/* core/future.c: dropping future chains, yield, the cooperative budget. */
#include "core/rt.h"

void volt_future_drop(struct volt_future *f)
{
	struct volt_future *child = f->awaiting;

	f->awaiting = NULL;
	if (child)
		volt_future_drop(child);
	if (f->ops && f->ops->drop)
		f->ops->drop(f);
	f->ops = NULL; /* a second drop is a no-op */
}

bool volt_budget_take(struct volt_cx *cx)
{
	struct volt__worker *w = cx->worker;

	if (!w)
		return true;
	if (w->budget == 0) {
		volt__count(&w->rt->metrics[w->idx].budget_exhausted);
		return false;
	}
	w->budget--;
	return true;
}

static enum volt_poll yield_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_yield *y = (struct volt_yield *)f;

	if (y->yielded)
		return VOLT_READY;
	y->yielded = true;
	volt_waker_wake_by_ref(&cx->waker);
	return VOLT_PENDING;
}

static const struct volt_future_ops yield_ops = { .poll = yield_poll, .drop = NULL };

struct volt_future *volt_yield_now(struct volt_yield *y)
{
	volt_future_init(&y->base, &yield_ops);
	y->yielded = false;
	return &y->base;
}
