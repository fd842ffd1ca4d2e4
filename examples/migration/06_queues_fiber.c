/* SPDX-License-Identifier: MIT */
/*
 * 06_queues_fiber.c: the queue becomes a volt_chan (bounded, MPMC,
 * elements copied in and out), the threads fibers. The channel counts its
 * senders: it starts with one (the creator's), each producer adds one and
 * drops it when done, and the last drop closes the channel, so the
 * consumer drains what is buffered and then sees VOLT_CHAN_CLOSED: the
 * producers' countdown of the "before" program is built in. The channel is
 * heap memory: volt_chan_free it. docs/MIGRATION.md, step 6.
 */
#include <stdio.h>
#include <volt.h>

#define PRODUCERS 2
#define ITEMS 1000
#define CAP 64

static void *producer(struct volt_rt *rt, void *arg)
{
	struct volt_chan *ch = arg;

	(void)rt;
	for (int i = 0; i < ITEMS; i++)
		if (volt_chan_send_blocking(ch, &i) != VOLT_CHAN_OK) /* parks when full */
			break;
	volt_chan_sender_drop(ch); /* the last one closes the channel */
	return NULL;
}

struct totals {
	struct volt_chan *ch;
	long n, sum;
};

static void *consumer(struct volt_rt *rt, void *arg)
{
	struct totals *t = arg;
	int v;

	(void)rt;
	while (volt_chan_recv_blocking(t->ch, &v) == VOLT_CHAN_OK) { /* CLOSED ends it */
		t->n++;
		t->sum += v;
	}
	return NULL;
}

static int app(struct volt_rt *rt, void *arg)
{
	struct totals *t = arg;
	struct volt_join *c;
	int err = 0;

	if (volt_spawn_fiber(rt, consumer, t, 0, &c) != 0)
		return 1;
	for (int i = 0; i < PRODUCERS && !err; i++) {
		volt_chan_sender_add(t->ch);
		err = volt_spawn_fiber(rt, producer, t->ch, 0, NULL);
		if (err)
			volt_chan_sender_drop(t->ch);
	}
	volt_chan_sender_drop(t->ch); /* the creator's: now the producers hold the rest */
	return volt_join_wait(c, NULL) == 0 && !err ? 0 : 1;
}

int main(void)
{
	struct totals t = { 0 };
	int err;

	if (volt_chan_new(sizeof(int), CAP, NULL, &t.ch) != 0)
		return 1;
	err = volt_run(app, &t);
	volt_chan_free(t.ch); /* always: the ring is heap memory */
	printf("result: received %ld items, sum %ld\n", t.n, t.sum);
	return err == 0 && t.n == PRODUCERS * ITEMS &&
	       t.sum == PRODUCERS * (ITEMS - 1L) * ITEMS / 2 ? 0 : 1;
}
