/* SPDX-License-Identifier: MIT */
/*
 * core/combinators.c: join_all, try_join_all, race and select_any over any
 * futures (volt/combinators.h has the contract).
 *
 * Design: per-child wakers and a ready bitmap (after Tokio's JoinAll on
 * FuturesUnordered). Polling all n children on every wake-up would cost n
 * polls per event, n^2 for n children that complete one by one. Instead the
 * combinator allocates a hub at init:
 *
 *	refs | lock | parent waker | ready[] (atomic bits) | pending[] | timed[] | node[n]
 *
 * Child i is polled with a waker whose data is &node[i]; node[i] points
 * back at the hub, so the waker knows both the hub and i. Waking it sets
 * bit i of `ready` and, only if the bit was clear, wakes the parent task
 * (the waker the combinator was last polled with, kept under a spin lock as
 * Rust's AtomicWaker does). A poll of the combinator first registers its
 * waker, then exchanges each ready word with 0 and polls just the children
 * whose bits it took. A wake-up that lands after the exchange sets its bit
 * again and wakes the parent, so none is lost; one that finds its bit
 * already set knows a wake of the parent is already on its way (the setter
 * of the bit woke it after setting it, and the exchange that will take the
 * bit reads the later value), so it skips the redundant one. A child that
 * yields (wakes itself during its poll) is polled again at the next poll of
 * the combinator, never in a loop within this one.
 *
 * Lifetime: the hub is reference counted, one reference for the combinator
 * and one per cloned child waker, because a waker can outlive the future
 * that stored it (a primitive may wake outside its lock after the waiter
 * left, a timer may fire late). When the combinator completes or is
 * dropped it empties the parent waker and drops its reference: a late wake
 * sets a bit nobody reads and wakes nobody; the last reference frees the
 * hub. `pending` (children not yet dropped) and `timed` belong to whoever
 * polls or drops the combinator, which the runtime never does on two
 * threads at once, so they are plain words.
 *
 * No runtime: volt_block_on on a plain thread with rt NULL has no timer
 * wheel; a timer future asks for its wake-up time through cx->wake_at
 * instead of storing the waker. Such a child is marked in `timed`, polled
 * at every poll of the combinator (early polls are harmless, it re-asks),
 * and the earliest time it asks for is passed up in the combinator's own
 * cx->wake_at.
 *
 * Fairness: race and select_any stop at the first child that completes, so
 * the scan starts at a pseudo-random word and bit on each poll (xorshift,
 * seeded from n: deterministic under the sim policy); no branch that is
 * always ready can starve the others. join_all and try_join_all scan in
 * index order.
 */
#include <errno.h>
#include <stdlib.h>

#include "volt/combinators.h"
#include "volt/task.h"
#include "core/atomic.h"
#include "core/rng.h"

enum comb_kind {
	COMB_JOIN_ALL,
	COMB_TRY_JOIN_ALL,
	COMB_RACE,
	COMB_SELECT_ANY,
};

struct comb_node {
	struct volt__comb_hub *hub;
};

struct volt__comb_hub {
	_Atomic uint32_t refs;
	_Atomic uint32_t lock;   /* guards parent */
	struct volt_waker parent; /* written by the poller under lock; ops NULL once closed */
	size_t words;
	_Atomic uint64_t *ready;  /* set by child wakers, taken by the poller */
	uint64_t *pending;        /* poller's: children not yet dropped */
	uint64_t *timed;          /* poller's: children waiting on cx->wake_at */
	struct comb_node node[];
};

#define WORD_BITS 64u
#define BIT(i) (1ull << ((i) % WORD_BITS))

/* ---- the hub and the child wakers ---- */

static void hub_lock(struct volt__comb_hub *h)
{
	/* acquire: the parent waker written under the lock before its release */
	while (volt__xchg(&h->lock, 1, ACQUIRE))
		volt__cpu_relax();
}

static void hub_unlock(struct volt__comb_hub *h)
{
	volt__store(&h->lock, 0, RELEASE);
}

static void hub_unref(struct volt__comb_hub *h)
{
	/* acq_rel: the last owner sees every other owner's writes before freeing */
	if (volt__fetch_sub(&h->refs, 1, ACQ_REL) == 1)
		free(h);
}

static void hub_wake_parent(struct volt__comb_hub *h)
{
	struct volt_waker w = { NULL, NULL };

	hub_lock(h);
	if (h->parent.ops)
		w = volt_waker_clone(&h->parent);
	hub_unlock(h);
	if (w.ops)
		volt_waker_wake(&w); /* outside the lock: waking may run the scheduler */
}

static void child_wake_by_ref(void *data)
{
	struct comb_node *node = data;
	struct volt__comb_hub *h = node->hub;
	size_t i = (size_t)(node - h->node);

	/* acq_rel: pairs with the poller's exchange (module comment) */
	if (volt__fetch_or(&h->ready[i / WORD_BITS], BIT(i), ACQ_REL) & BIT(i))
		return;
	hub_wake_parent(h);
}

static void child_waker_drop(void *data)
{
	hub_unref(((struct comb_node *)data)->hub);
}

static void child_wake(void *data)
{
	child_wake_by_ref(data);
	child_waker_drop(data);
}

static void *child_waker_clone(void *data)
{
	/* relaxed: a new reference is made from an existing one */
	volt__fetch_add(&((struct comb_node *)data)->hub->refs, 1, RELAXED);
	return data;
}

static const struct volt_waker_ops child_waker_ops = {
	.wake = child_wake,
	.wake_by_ref = child_wake_by_ref,
	.clone = child_waker_clone,
	.drop = child_waker_drop,
};

static struct volt__comb_hub *hub_new(size_t n)
{
	size_t words = (n + WORD_BITS - 1) / WORD_BITS;
	size_t bytes = sizeof(struct volt__comb_hub) + n * sizeof(struct comb_node) +
		       3 * words * sizeof(uint64_t);
	struct volt__comb_hub *h = malloc(bytes);

	if (!h)
		return NULL;
	atomic_init(&h->refs, 1);
	atomic_init(&h->lock, 0);
	h->parent = (struct volt_waker){ NULL, NULL };
	h->words = words;
	h->ready = (_Atomic uint64_t *)(void *)&h->node[n];
	h->pending = (uint64_t *)(void *)(h->ready + words);
	h->timed = h->pending + words;
	for (size_t i = 0; i < n; i++)
		h->node[i].hub = h;
	for (size_t w = 0; w < words; w++) {
		atomic_init(&h->ready[w], 0);
		h->pending[w] = 0;
		h->timed[w] = 0;
	}
	return h;
}

/* Keeps the waker the combinator was polled with; registered before any scan. */
static void hub_register(struct volt__comb_hub *h, const struct volt_waker *waker)
{
	struct volt_waker old;

	if (h->parent.ops && volt_waker_will_wake(&h->parent, waker))
		return;
	struct volt_waker fresh = volt_waker_clone(waker);

	hub_lock(h);
	old = h->parent;
	h->parent = fresh;
	hub_unlock(h);
	volt_waker_drop(&old);
}

/* The combinator lets go of the hub: no parent to wake any more; late wakes are ignored. */
static void hub_close(struct volt__comb_hub *h)
{
	struct volt_waker old;

	hub_lock(h);
	old = h->parent;
	h->parent = (struct volt_waker){ NULL, NULL };
	hub_unlock(h);
	volt_waker_drop(&old);
	hub_unref(h);
}

/* ---- the combinator future ---- */

static void comb_finish(struct volt_combinator *c);

static bool child_pending(const struct volt_combinator *c, size_t i)
{
	return c->hub->pending[i / WORD_BITS] & BIT(i);
}

/* Drops child i now (it completed, or lost, or the combinator was cancelled). */
static void child_drop(struct volt_combinator *c, size_t i)
{
	c->hub->pending[i / WORD_BITS] &= ~BIT(i);
	c->hub->timed[i / WORD_BITS] &= ~BIT(i);
	c->remaining--;
	volt_future_drop(c->children[i]);
}

/*
 * Polls child i with its own waker. Returns true when the combinator is
 * decided by this child (try_join_all's first error, race's and
 * select_any's winner).
 */
static bool child_poll(struct volt_combinator *c, size_t i, struct volt_cx *cx)
{
	struct volt__comb_hub *h = c->hub;
	struct volt_future *child = c->children[i];
	struct volt_cx ccx = {
		.waker = { &child_waker_ops, &h->node[i] },
		.rt = cx->rt,
		.output = NULL,
		.worker = cx->worker,
		.wake_at = UINT64_MAX,
	};
	int err = 0;

	if (volt_future_poll(child, &ccx) == VOLT_PENDING) {
		if (ccx.wake_at != UINT64_MAX) {
			h->timed[i / WORD_BITS] |= BIT(i);
			if (ccx.wake_at < cx->wake_at)
				cx->wake_at = ccx.wake_at;
		} else {
			h->timed[i / WORD_BITS] &= ~BIT(i);
		}
		return false;
	}
	if (c->outputs)
		c->outputs[i] = ccx.output;
	if (c->kind == COMB_TRY_JOIN_ALL)
		err = c->check(child, ccx.output, c->check_arg);
	child_drop(c, i);
	switch (c->kind) {
	case COMB_TRY_JOIN_ALL:
		if (err >= 0)
			return false;
		c->result = err;
		c->index = (ssize_t)i;
		return true;
	case COMB_RACE:
	case COMB_SELECT_ANY:
		c->index = (ssize_t)i;
		c->output = ccx.output;
		return true;
	default:
		return false;
	}
}

/* Polls the children in `bits` of word w, from bit `from` round to from - 1. */
static bool poll_word(struct volt_combinator *c, size_t w, uint64_t bits, unsigned from,
		      struct volt_cx *cx)
{
	uint64_t high = from ? bits & (~0ull << from) : bits;
	uint64_t part[2] = { high, bits & ~high };

	for (int k = 0; k < 2; k++) {
		while (part[k]) {
			unsigned b = (unsigned)__builtin_ctzll(part[k]);

			part[k] &= part[k] - 1;
			if (child_poll(c, w * WORD_BITS + b, cx))
				return true;
		}
	}
	return false;
}

static enum volt_poll comb_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_combinator *c = (struct volt_combinator *)f;
	struct volt__comb_hub *h = c->hub;
	size_t start = 0;
	unsigned from = 0;
	bool decided = false;

	if (c->remaining == 0)
		goto ready;
	hub_register(h, &cx->waker);
	if (c->kind == COMB_RACE || c->kind == COMB_SELECT_ANY) {
		uint64_t r = volt__xorshift64(&c->rng);

		start = (size_t)(r >> 8) % h->words;
		from = (unsigned)(r & (WORD_BITS - 1));
	}
	for (size_t k = 0; k < h->words && !decided; k++) {
		size_t w = (start + k) % h->words;
		/* acq_rel: see the events of the wakes whose bits we take (module comment) */
		uint64_t bits = volt__xchg(&h->ready[w], 0, ACQ_REL);

		bits = (bits | h->timed[w]) & h->pending[w];
		if (bits)
			decided = poll_word(c, w, bits, from, cx);
	}
	if (!decided && c->remaining > 0)
		return VOLT_PENDING;
ready:
	if (c->kind == COMB_RACE || c->kind == COMB_SELECT_ANY)
		cx->output = c->output;
	comb_finish(c);
	return VOLT_READY;
}

/*
 * Done (or cancelled): drops the children still pending, except select_any's,
 * which are the caller's, and lets go of the hub.
 */
static void comb_finish(struct volt_combinator *c)
{
	struct volt__comb_hub *h = c->hub;

	if (c->done)
		return;
	c->done = true;
	if (!h)
		return;
	if (c->kind != COMB_SELECT_ANY) {
		for (size_t i = 0; i < c->n && c->remaining > 0; i++)
			if (child_pending(c, i))
				child_drop(c, i);
	}
	c->hub = NULL;
	hub_close(h);
}

static void comb_drop(struct volt_future *f)
{
	comb_finish((struct volt_combinator *)f);
}

static const struct volt_future_ops comb_ops = { .poll = comb_poll, .drop = comb_drop };

static bool slot_ok(const struct volt_future *child)
{
	return child && child->ops && child->ops->poll;
}

static int comb_init(struct volt_combinator *c, enum comb_kind kind,
		     struct volt_future **children, size_t n, void **outputs)
{
	size_t live = 0;

	if (!c || (n && !children) || n > VOLT_COMBINATOR_MAX)
		return -EINVAL;
	if (n == 0 && (kind == COMB_RACE || kind == COMB_SELECT_ANY))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (kind == COMB_SELECT_ANY && !children[i])
			continue;
		if (!slot_ok(children[i]))
			return -EINVAL;
		live++;
	}
	volt_future_init(&c->base, &comb_ops);
	c->result = 0;
	c->index = -1;
	c->output = NULL;
	c->children = children;
	c->outputs = outputs;
	c->n = n;
	c->remaining = live;
	c->hub = NULL;
	c->check = volt_try_output_errno;
	c->check_arg = NULL;
	c->rng = volt__rng_stream(0x636f6d62ull, (unsigned)n); /* "comb" */
	c->kind = kind;
	c->done = false;
	if (kind == COMB_SELECT_ANY && live == 0)
		c->result = -ENOENT;
	if (live == 0)
		return 0;
	c->hub = hub_new(n);
	if (!c->hub)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (children[i]) {
			c->hub->pending[i / WORD_BITS] |= BIT(i);
			atomic_init(&c->hub->ready[i / WORD_BITS],
				    c->hub->pending[i / WORD_BITS]); /* first poll: everyone */
		}
	}
	return 0;
}

int volt_try_output_errno(struct volt_future *child, void *output, void *arg)
{
	intptr_t v = (intptr_t)output;

	(void)child;
	(void)arg;
	return v < 0 ? (int)v : 0;
}

int volt_join_all_init(struct volt_combinator *c, struct volt_future **children, size_t n,
		       void **outputs)
{
	return comb_init(c, COMB_JOIN_ALL, children, n, outputs);
}

int volt_try_join_all_init(struct volt_combinator *c, struct volt_future **children, size_t n,
			   void **outputs, volt_try_check_fn check, void *arg)
{
	int ret = comb_init(c, COMB_TRY_JOIN_ALL, children, n, outputs);

	if (ret)
		return ret;
	if (check)
		c->check = check;
	c->check_arg = arg;
	return 0;
}

int volt_race_init(struct volt_combinator *c, struct volt_future **children, size_t n)
{
	return comb_init(c, COMB_RACE, children, n, NULL);
}

int volt_select_any_init(struct volt_combinator *c, struct volt_future **children, size_t n)
{
	return comb_init(c, COMB_SELECT_ANY, children, n, NULL);
}

/* ---- blocking forms ---- */

/*
 * Runs the set-up combinator c to completion with volt_block_on, bounded by
 * timeout. Returns 0 (c's fields hold the outcome), -ETIMEDOUT (c was
 * dropped), or block_on's refusal, in which case c is released without
 * touching a child.
 */
static int comb_block(struct volt_rt *rt, struct volt_combinator *c, volt_duration timeout)
{
	struct volt_timeout t;
	int ret;

	if (timeout.ns == UINT64_MAX)
		ret = volt_block_on(rt, &c->base, NULL);
	else
		ret = volt_block_on(rt, volt_timeout(&t, &c->base, timeout), NULL);
	if (ret) {
		/* block_on refused: nothing was polled; give the hub back, keep the children */
		if (c->hub)
			hub_close(c->hub);
		c->hub = NULL;
		c->done = true;
		return ret;
	}
	if (timeout.ns != UINT64_MAX && t.result)
		return t.result;
	return 0;
}

int volt_join_all_blocking(struct volt_rt *rt, struct volt_future **children, size_t n,
			   void **outputs, volt_duration timeout)
{
	struct volt_combinator c;
	int ret = volt_join_all_init(&c, children, n, outputs);

	return ret ? ret : comb_block(rt, &c, timeout);
}

int volt_try_join_all_blocking(struct volt_rt *rt, struct volt_future **children, size_t n,
			       void **outputs, volt_try_check_fn check, void *arg,
			       volt_duration timeout, size_t *failed)
{
	struct volt_combinator c;
	int ret = volt_try_join_all_init(&c, children, n, outputs, check, arg);

	if (!ret)
		ret = comb_block(rt, &c, timeout);
	if (ret)
		return ret;
	if (c.result && failed)
		*failed = (size_t)c.index;
	return c.result;
}

static ssize_t winner_block(struct volt_rt *rt, struct volt_combinator *c, void **output,
			    volt_duration timeout)
{
	int ret = comb_block(rt, c, timeout);

	if (ret)
		return ret;
	if (c->result)
		return c->result;
	if (output)
		*output = c->output;
	return c->index;
}

ssize_t volt_race_blocking(struct volt_rt *rt, struct volt_future **children, size_t n,
			   void **output, volt_duration timeout)
{
	struct volt_combinator c;
	int ret = volt_race_init(&c, children, n);

	return ret ? ret : winner_block(rt, &c, output, timeout);
}

ssize_t volt_select_any_blocking(struct volt_rt *rt, struct volt_future **children, size_t n,
				 void **output, volt_duration timeout)
{
	struct volt_combinator c;
	int ret = volt_select_any_init(&c, children, n);

	return ret ? ret : winner_block(rt, &c, output, timeout);
}
