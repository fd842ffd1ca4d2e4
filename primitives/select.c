/* SPDX-License-Identifier: MIT */
/*
 * primitives/select.c: volt_select, composed from the channel's own receive
 * futures (primitives/chan.c): a poll polls each branch's future in turn
 * from a random start; a pending one stays queued on its channel with this
 * task's waker, so a send to any branch wakes the select. The first branch
 * ready wins; the others are dropped, which takes them out of their lines
 * and passes on any wake they had been handed. A receive future takes a
 * value only when it completes, so a dropped branch never loses one.
 */
#include <errno.h>
#include <time.h>

#include "core/rng.h"
#include "primitives/sync_internal.h"

int volt_select_init(struct volt_select *s, uint64_t seed)
{
	if (!s)
		return -EINVAL;
	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uintptr_t)s;
	}
	s->n = 0;
	s->rng = seed;
	s->ready = -1;
	s->result = -EINPROGRESS;
	volt_future_init(&s->base, NULL);
	return 0;
}

int volt_select_add_recv(struct volt_select *s, struct volt_chan *ch, void *out)
{
	if (!s || !ch || !out)
		return -EINVAL;
	if (s->n == VOLT_SELECT_MAX)
		return -ENOSPC;
	s->ch[s->n] = ch;
	s->out[s->n] = out;
	return (int)s->n++;
}

static void arm(struct volt_select *s)
{
	for (unsigned i = 0; i < s->n; i++)
		volt_chan_recv(&s->branch[i], s->ch[i], s->out[i]);
	s->ready = -1;
	s->result = -EINPROGRESS;
}

/* Drops every branch but `keep` (-1: all). */
static void disarm(struct volt_select *s, int keep)
{
	for (unsigned i = 0; i < s->n; i++)
		if ((int)i != keep)
			volt_future_drop(&s->branch[i].base);
}

int volt_select_try(struct volt_select *s)
{
	unsigned start;

	if (!s || !s->n)
		return -EINVAL;
	start = (unsigned)(volt__splitmix64(&s->rng) % s->n);
	for (unsigned k = 0; k < s->n; k++) {
		unsigned i = (start + k) % s->n;
		int r = volt_chan_try_recv(s->ch[i], s->out[i]);

		if (r == VOLT_CHAN_OK || r == VOLT_CHAN_CLOSED) {
			s->ready = (int)i;
			s->result = r;
			return (int)i;
		}
	}
	return -EAGAIN;
}

static enum volt_poll select_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_select *s = (struct volt_select *)f;

	if (!s->n) {
		s->result = -EINVAL; /* nothing to wait for */
		return VOLT_READY;
	}

	unsigned start = (unsigned)(volt__splitmix64(&s->rng) % s->n);

	for (unsigned k = 0; k < s->n; k++) {
		unsigned i = (start + k) % s->n;

		if (volt_future_poll(&s->branch[i].base, cx) == VOLT_READY) {
			s->ready = (int)i;
			s->result = s->branch[i].result;
			disarm(s, (int)i);
			volt_future_drop(&s->branch[i].base); /* ready: nothing queued */
			return VOLT_READY;
		}
	}
	return VOLT_PENDING;
}

static void select_drop(struct volt_future *f)
{
	struct volt_select *s = (struct volt_select *)f;

	if (s->ready < 0)
		disarm(s, -1);
}

static const struct volt_future_ops select_ops = { .poll = select_poll, .drop = select_drop };

struct volt_future *volt_select_wait(struct volt_select *s)
{
	volt_future_init(&s->base, &select_ops);
	arm(s);
	return &s->base;
}

int volt_select_blocking(struct volt_select *s)
{
	int ret;

	if (!s || !s->n)
		return -EINVAL;
	ret = volt_block_on(NULL, volt_select_wait(s), NULL);
	return ret ? ret : s->ready;
}
