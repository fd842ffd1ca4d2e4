/* SPDX-License-Identifier: MIT */
/*
 * tests/test_mpsc.c: the unbounded MPSC channel: FIFO across many blocks,
 * close and the sender count (drain, then closed), bad input; under every
 * policy, 4 producers (2 tasks, 2 threads) and one consumer task: every
 * message exactly once, each producer's in order.
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

VOLT_TEST(mpsc_fifo_blocks_and_close)
{
	struct volt_mpsc *m;
	uint64_t v;

	CHECK_EQ(volt_mpsc_new(0, &m), -EINVAL);
	CHECK_OK(volt_mpsc_new(sizeof(uint64_t), &m));
	CHECK_EQ(volt_mpsc_send(m, NULL), -EINVAL);
	CHECK_EQ(volt_mpsc_try_recv(m, &v), VOLT_CHAN_EMPTY);
	for (int round = 0; round < 3; round++) { /* grow past many blocks, drain, again */
		for (uint64_t i = 0; i < 1000; i++)
			CHECK_EQ(volt_mpsc_send(m, &i), VOLT_CHAN_OK);
		CHECK_EQ(volt_mpsc_len(m), 1000);
		for (uint64_t i = 0; i < 1000; i++) {
			CHECK_EQ(volt_mpsc_try_recv(m, &v), VOLT_CHAN_OK);
			CHECK_UEQ(v, i);
		}
		CHECK_EQ(volt_mpsc_try_recv(m, &v), VOLT_CHAN_EMPTY);
	}
	volt_mpsc_sender_add(m);
	v = 5;
	CHECK_EQ(volt_mpsc_send(m, &v), VOLT_CHAN_OK);
	volt_mpsc_sender_drop(m);
	volt_mpsc_sender_drop(m); /* the last: closes */
	CHECK_EQ(volt_mpsc_send(m, &v), VOLT_CHAN_CLOSED);
	CHECK_EQ(volt_mpsc_try_recv(m, &v), VOLT_CHAN_OK);
	CHECK_EQ(volt_mpsc_recv_blocking(m, &v), VOLT_CHAN_CLOSED);
	volt_mpsc_free(m);
}

#define PER VT_SCALE(20000)
#define NPROD 4

struct mpsc_producer {
	struct volt_future base;
	struct volt_mpsc *m;
	uint64_t id, i;
	struct volt_yield y;
};

static enum volt_poll mpsc_producer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct mpsc_producer *p = (struct mpsc_producer *)f;

	VOLT_BEGIN(f);
	for (p->i = 0; p->i < PER; p->i++) {
		uint64_t msg = p->id << 32 | p->i;

		CHECK_EQ(volt_mpsc_send(p->m, &msg), VOLT_CHAN_OK);
		if (p->i % 64 == 0)
			VOLT_AWAIT(f, cx, volt_yield_now(&p->y));
	}
	volt_mpsc_sender_drop(p->m);
	VOLT_END(f);
}

static const struct volt_future_ops mpsc_producer_ops = { .poll = mpsc_producer_poll };

struct thread_arg {
	struct volt_mpsc *m;
	uint64_t id;
};

static void *mpsc_thread(void *arg)
{
	struct thread_arg *t = arg;

	for (uint64_t i = 0; i < PER; i++) {
		uint64_t msg = t->id << 32 | i;

		CHECK_EQ(volt_mpsc_send(t->m, &msg), VOLT_CHAN_OK);
	}
	volt_mpsc_sender_drop(t->m);
	return NULL;
}

struct mpsc_consumer {
	struct volt_future base;
	struct volt_mpsc *m;
	uint64_t msg, next[NPROD], total;
	struct volt_mpsc_recv r;
};

static enum volt_poll mpsc_consumer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct mpsc_consumer *c = (struct mpsc_consumer *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_mpsc_recv(&c->r, c->m, &c->msg));
		if (c->r.result == VOLT_CHAN_CLOSED)
			break;
		CHECK_EQ(c->r.result, VOLT_CHAN_OK);

		uint64_t id = c->msg >> 32;

		CHECK(id < NPROD);
		CHECK_UEQ(c->msg & 0xffffffffu, c->next[id]); /* in order, none missing */
		c->next[id]++;
		c->total++;
	}
	VOLT_RETURN(f, cx, c->total);
	VOLT_END(f);
}

static const struct volt_future_ops mpsc_consumer_ops = { .poll = mpsc_consumer_poll };

VOLT_RT_TEST(mpsc_exactly_once_in_order)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_mpsc *m;
	struct thread_arg ta[2];
	pthread_t th[2];
	struct volt_join *jc, *jp[2];
	struct mpsc_consumer c = { .base = VOLT_FUTURE_INIT(&mpsc_consumer_ops) };

	CHECK_OK(volt_mpsc_new(sizeof(uint64_t), &m));
	for (int i = 1; i < NPROD; i++)
		volt_mpsc_sender_add(m);
	c.m = m;
	jc = vt_spawn(rt, &c, sizeof c, false);
	for (int i = 0; i < 2; i++) {
		struct mpsc_producer p = { .base = VOLT_FUTURE_INIT(&mpsc_producer_ops), .m = m,
					   .id = (uint64_t)i };

		jp[i] = vt_spawn(rt, &p, sizeof p, false);
		ta[i] = (struct thread_arg){ m, (uint64_t)(2 + i) };
		CHECK_OK(pthread_create(&th[i], NULL, mpsc_thread, &ta[i]));
	}
	for (int i = 0; i < 2; i++) {
		vt_join(jp[i]);
		pthread_join(th[i], NULL);
	}
	CHECK_PTR_EQ(vt_join(jc), (void *)(uintptr_t)(NPROD * PER));
	volt_mpsc_free(m);
	volt_rt_free(rt);
}

/* ---- regression (crossbeam RUSTSEC-2025-0024): freed with blocks in flight */

VOLT_TEST(mpsc_free_with_blocks_in_flight)
{
	for (int n = 0; n < 200; n += 37) {
		struct volt_mpsc *m;
		uint64_t v;

		CHECK_OK(volt_mpsc_new(sizeof(uint64_t), &m));
		for (uint64_t i = 0; i < (uint64_t)n * 10; i++)
			CHECK_EQ(volt_mpsc_send(m, &i), VOLT_CHAN_OK);
		for (int i = 0; i < n; i++)
			CHECK_EQ(volt_mpsc_try_recv(m, &v), VOLT_CHAN_OK);
		volt_mpsc_close(m);
		volt_mpsc_free(m); /* every block freed once: ASan and LSan check */
	}
}
