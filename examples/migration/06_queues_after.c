/* SPDX-License-Identifier: MIT */
/*
 * 06_queues_after.c: the producers and the consumer of 06_queues_fiber.c
 * as stackless tasks. Each tries the lock-free path first
 * (volt_chan_try_send / volt_chan_try_recv) and awaits the send or recv
 * future only when the channel is full or empty. A send future copies the
 * value in when it completes, so the value lives in the task's struct.
 * docs/MIGRATION.md, step 6.
 */
#include <stdint.h>
#include <stdio.h>
#include <volt.h>

#define PRODUCERS 2
#define ITEMS 1000
#define CAP 64

struct producer {
	struct volt_future base;
	struct volt_chan *ch;
	struct volt_chan_send send;
	int i;
};

static enum volt_poll producer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct producer *p = (struct producer *)f;

	VOLT_BEGIN(f);
	for (p->i = 0; p->i < ITEMS; p->i++) {
		int r = volt_chan_try_send(p->ch, &p->i);

		if (r == VOLT_CHAN_FULL) {
			VOLT_AWAIT(f, cx, volt_chan_send(&p->send, p->ch, &p->i));
			r = p->send.result;
		}
		if (r != VOLT_CHAN_OK)
			break;
	}
	VOLT_END(f);
}

/* The runtime drops every task once, finished or cancelled: the sender goes then. */
static void producer_drop(struct volt_future *f)
{
	volt_chan_sender_drop(((struct producer *)f)->ch); /* the last one closes it */
}

static const struct volt_future_ops producer_ops = {
	.poll = producer_poll,
	.drop = producer_drop,
};

struct consumer {
	struct volt_future base;
	struct volt_chan *ch;
	struct volt_chan_recv recv;
	int v;
	long n, sum;
};

static enum volt_poll consumer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct consumer *c = (struct consumer *)f;

	VOLT_BEGIN(f);
	for (;;) {
		int r = volt_chan_try_recv(c->ch, &c->v);

		if (r == VOLT_CHAN_EMPTY) {
			VOLT_AWAIT(f, cx, volt_chan_recv(&c->recv, c->ch, &c->v));
			r = c->recv.result;
		}
		if (r != VOLT_CHAN_OK)
			break;             /* closed and drained */
		c->n++;
		c->sum += c->v;
	}
	VOLT_RETURN(f, cx, c->n == PRODUCERS * ITEMS ? c->sum : -1);
	VOLT_END(f);
}

static const struct volt_future_ops consumer_ops = { .poll = consumer_poll };

struct totals {
	struct volt_chan *ch;
	long sum;
};

static int app(struct volt_rt *rt, void *arg)
{
	struct totals *t = arg;
	struct producer p = { .base = VOLT_FUTURE_INIT(&producer_ops), .ch = t->ch };
	struct consumer c = { .base = VOLT_FUTURE_INIT(&consumer_ops), .ch = t->ch };
	struct volt_join *cj;
	void *out;
	int err = 0;

	if (volt_spawn(rt, &c.base, sizeof c, &cj) != 0)
		return 1;
	for (int i = 0; i < PRODUCERS && !err; i++) {
		volt_chan_sender_add(t->ch);
		err = volt_spawn(rt, &p.base, sizeof p, NULL);
		if (err)
			volt_chan_sender_drop(t->ch); /* not spawned: nobody else will */
	}
	volt_chan_sender_drop(t->ch); /* the creator's */
	if (volt_join_wait(cj, &out) != 0 || err)
		return 1;
	t->sum = (long)(intptr_t)out;
	return 0;
}

int main(void)
{
	struct totals t = { 0 };
	int err;

	if (volt_chan_new(sizeof(int), CAP, NULL, &t.ch) != 0)
		return 1;
	err = volt_run(app, &t);
	volt_chan_free(t.ch);
	if (err || t.sum < 0)
		return 1;
	printf("result: received %d items, sum %ld\n", PRODUCERS * ITEMS, t.sum);
	return t.sum == PRODUCERS * (ITEMS - 1L) * ITEMS / 2 ? 0 : 1;
}
