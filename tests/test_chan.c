/* SPDX-License-Identifier: MIT */
/*
 * tests/test_chan.c: the bounded MPMC channel, on every buffer (`vyukov`,
 * `locked`): bad input; try forms, length and capacity, wrap-around at
 * capacities that are not powers of two; close (drain, then closed) and
 * the sender/receiver counts; cancellation of pending sends (the value
 * stays with the sender) and receives (a wake passes on); under every
 * policy, 4 producers x 4 consumers with every message received exactly
 * once and each producer's messages in order; blocking forms from threads.
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

#define EACH_BUFFER(name) \
	for (unsigned i__ = 0; (name = volt_chan_buffer_name(i__)) != NULL; i__++)

VOLT_TEST(chan_bad_input)
{
	struct volt_chan *ch;
	uint64_t v = 0;

	CHECK_EQ(volt_chan_new(8, 0, NULL, &ch), -EINVAL);
	CHECK_EQ(volt_chan_new(0, 4, NULL, &ch), -EINVAL);
	CHECK_EQ(volt_chan_new(SIZE_MAX / 2, 4, NULL, &ch), -EINVAL);
	CHECK_EQ(volt_chan_new(8, 4, "no-such-buffer", &ch), -EINVAL);
	CHECK_EQ(volt_chan_new(8, 4, NULL, NULL), -EINVAL);
	CHECK_OK(volt_chan_new(8, 4, NULL, &ch));
	CHECK(strcmp(volt_chan_buffer(ch), "vyukov") == 0); /* the default */
	CHECK_EQ(volt_chan_try_send(NULL, &v), -EINVAL);
	CHECK_EQ(volt_chan_try_send(ch, NULL), -EINVAL);
	CHECK_EQ(volt_chan_try_recv(ch, NULL), -EINVAL);
	CHECK_EQ(volt_chan_send_blocking(ch, NULL), -EINVAL);
	volt_chan_free(ch);
	volt_chan_free(NULL);
}

VOLT_TEST(chan_try_forms_and_wrap_around)
{
	const char *buf;

	EACH_BUFFER(buf) {
		static const size_t caps[] = { 1, 3, 4, 5, 64 };

		for (unsigned c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
			struct volt_chan *ch;
			uint64_t next_in = 0, next_out = 0, v;

			CHECK_OK(volt_chan_new(sizeof(uint64_t), caps[c], buf, &ch));
			CHECK_EQ(volt_chan_capacity(ch), caps[c]);
			CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_EMPTY);
			/* many laps, with the fill level wandering between empty and full */
			for (unsigned step = 0; step < 2000; step++) {
				if ((step * 7919) % 3) {
					int r = volt_chan_try_send(ch, &next_in);

					if (volt_chan_len(ch) == caps[c] && r == VOLT_CHAN_FULL)
						continue;
					CHECK_EQ(r, VOLT_CHAN_OK);
					next_in++;
				} else if (next_out < next_in) {
					CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_OK);
					CHECK_UEQ(v, next_out);
					next_out++;
				}
				CHECK_EQ(volt_chan_len(ch), next_in - next_out);
			}
			while (volt_chan_try_send(ch, &next_in) == VOLT_CHAN_OK)
				next_in++;
			CHECK_EQ(next_in - next_out, caps[c]); /* exactly the capacity, no more */
			CHECK_EQ(volt_chan_len(ch), caps[c]);
			CHECK_EQ(volt_chan_try_send(ch, &next_in), VOLT_CHAN_FULL);
			/* close: no more sends; receivers drain, then see closed */
			volt_chan_close(ch);
			CHECK(volt_chan_is_closed(ch));
			CHECK_EQ(volt_chan_try_send(ch, &next_in), VOLT_CHAN_CLOSED);
			while (next_out < next_in) {
				CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_OK);
				CHECK_UEQ(v, next_out);
				next_out++;
			}
			CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_CLOSED);
			CHECK_EQ(volt_chan_recv_blocking(ch, &v), VOLT_CHAN_CLOSED);
			volt_chan_free(ch);
		}
	}
}

VOLT_TEST(chan_sender_and_receiver_counts)
{
	const char *buf;

	EACH_BUFFER(buf) {
		struct volt_chan *ch;
		uint32_t v = 7;

		CHECK_OK(volt_chan_new(sizeof(v), 2, buf, &ch));
		volt_chan_sender_add(ch);
		CHECK_OK(volt_chan_try_send(ch, &v));
		volt_chan_sender_drop(ch);
		CHECK(!volt_chan_is_closed(ch)); /* one sender left */
		volt_chan_sender_drop(ch);
		CHECK(volt_chan_is_closed(ch)); /* the last one closed it */
		CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_OK);
		CHECK_EQ(v, 7);
		CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_CLOSED);
		volt_chan_free(ch);

		CHECK_OK(volt_chan_new(sizeof(v), 2, buf, &ch));
		volt_chan_receiver_drop(ch); /* nobody will ever receive */
		CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_CLOSED);
		volt_chan_free(ch);
	}
}

/* ---- cancellation and close with waiters, through the futures on a runtime */

struct one_op {
	struct volt_future base;
	struct volt_chan *ch;
	bool send;
	uint64_t value;
	int result;
	int *result_out;
	uint64_t *value_out;
	struct volt_chan_send s;
	struct volt_chan_recv r;
};

static enum volt_poll one_op_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct one_op *o = (struct one_op *)f;

	VOLT_BEGIN(f);
	if (o->send) {
		VOLT_AWAIT(f, cx, volt_chan_send(&o->s, o->ch, &o->value));
		*o->result_out = o->s.result;
	} else {
		VOLT_AWAIT(f, cx, volt_chan_recv(&o->r, o->ch, &o->value));
		*o->result_out = o->r.result;
		*o->value_out = o->value;
	}
	VOLT_END(f);
}

static const struct volt_future_ops one_op_ops = { .poll = one_op_poll };

static struct volt_join *spawn_op(struct volt_rt *rt, struct volt_chan *ch, bool send,
				  uint64_t value, int *result, uint64_t *value_out)
{
	struct one_op o = { .base = VOLT_FUTURE_INIT(&one_op_ops), .ch = ch, .send = send,
			    .value = value, .result_out = result, .value_out = value_out };

	return vt_spawn(rt, &o, sizeof o, false);
}

VOLT_RT_TEST(chan_cancel_and_close_with_waiters)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	const char *buf;

	EACH_BUFFER(buf) {
		struct volt_chan *ch;
		int r1 = -1, r2 = -1, r3 = -1;
		uint64_t v, got = 0;
		struct volt_join *j1, *j2, *j3;

		CHECK_OK(volt_chan_new(sizeof(uint64_t), 1, buf, &ch));
		v = 1;
		CHECK_OK(volt_chan_try_send(ch, &v)); /* full */
		/* a pending send, cancelled: its value never enters the channel */
		j1 = spawn_op(rt, ch, true, 99, &r1, NULL);
		vt_sleep_us(2000);
		volt_join_cancel(j1);
		CHECK_EQ(volt_join_wait(j1, NULL), -ECANCELED);
		CHECK_EQ(r1, -1);
		CHECK_OK(volt_chan_try_recv(ch, &v));
		CHECK_UEQ(v, 1);
		CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_EMPTY); /* 99 is not there */
		/* two pending receives; one cancelled; a send reaches the other */
		j1 = spawn_op(rt, ch, false, 0, &r1, &got);
		j2 = spawn_op(rt, ch, false, 0, &r2, &got);
		vt_sleep_us(2000);
		volt_join_cancel(j1);
		(void)volt_join_wait(j1, NULL);
		v = 5;
		CHECK_OK(volt_chan_send_blocking(ch, &v));
		vt_join(j2);
		CHECK_EQ(r2, VOLT_CHAN_OK);
		CHECK_UEQ(got, 5);
		/* close with a receiver waiting: it sees closed */
		j3 = spawn_op(rt, ch, false, 0, &r3, &got);
		vt_sleep_us(2000);
		volt_chan_close(ch);
		vt_join(j3);
		CHECK_EQ(r3, VOLT_CHAN_CLOSED);
		volt_chan_free(ch);

		/* close with a sender waiting: it sees closed, its value stays with it */
		CHECK_OK(volt_chan_new(sizeof(uint64_t), 1, buf, &ch));
		v = 1;
		CHECK_OK(volt_chan_try_send(ch, &v));
		j1 = spawn_op(rt, ch, true, 2, &r1, NULL);
		vt_sleep_us(2000);
		volt_chan_close(ch);
		vt_join(j1);
		CHECK_EQ(r1, VOLT_CHAN_CLOSED);
		CHECK_OK(volt_chan_try_recv(ch, &v));
		CHECK_UEQ(v, 1);
		CHECK_EQ(volt_chan_try_recv(ch, &v), VOLT_CHAN_CLOSED);
		volt_chan_free(ch);
	}
	volt_rt_free(rt);
}

/* ---- 4 producers x 4 consumers: exactly once, each producer in order */

#define PRODUCERS 4
#define CONSUMERS 4
#define PER_PRODUCER VT_SCALE(20000)

struct mpmc {
	struct volt_chan *ch;
	atomic_uchar *seen;       /* PRODUCERS x PER_PRODUCER */
	atomic_int twice, disorder;
	atomic_int producers_left;
};

struct producer {
	struct volt_future base;
	struct mpmc *m;
	uint64_t id, i, msg;
	struct volt_chan_send s;
};

static enum volt_poll producer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct producer *p = (struct producer *)f;

	VOLT_BEGIN(f);
	for (p->i = 0; p->i < PER_PRODUCER; p->i++) {
		p->msg = p->id << 32 | p->i;
		VOLT_AWAIT(f, cx, volt_chan_send(&p->s, p->m->ch, &p->msg));
		CHECK_EQ(p->s.result, VOLT_CHAN_OK);
	}
	volt_chan_sender_drop(p->m->ch); /* the last producer closes the channel */
	VOLT_END(f);
}

static const struct volt_future_ops producer_ops = { .poll = producer_poll };

struct consumer {
	struct volt_future base;
	struct mpmc *m;
	uint64_t msg;
	uint64_t last[PRODUCERS];
	struct volt_chan_recv r;
};

static enum volt_poll consumer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct consumer *c = (struct consumer *)f;

	VOLT_BEGIN(f);
	for (int p = 0; p < PRODUCERS; p++)
		c->last[p] = UINT64_MAX;
	for (;;) {
		VOLT_AWAIT(f, cx, volt_chan_recv(&c->r, c->m->ch, &c->msg));
		if (c->r.result == VOLT_CHAN_CLOSED)
			break;
		CHECK_EQ(c->r.result, VOLT_CHAN_OK);

		uint64_t id = c->msg >> 32, i = c->msg & 0xffffffffu;

		CHECK(id < PRODUCERS && i < PER_PRODUCER);
		if (atomic_exchange(&c->m->seen[id * PER_PRODUCER + i], 1))
			atomic_fetch_add(&c->m->twice, 1);
		if (c->last[id] != UINT64_MAX && i <= c->last[id])
			atomic_fetch_add(&c->m->disorder, 1);
		c->last[id] = i;
	}
	VOLT_END(f);
}

static const struct volt_future_ops consumer_ops = { .poll = consumer_poll };

VOLT_RT_TEST(chan_mpmc_exactly_once_in_order)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	const char *buf;

	EACH_BUFFER(buf) {
		struct mpmc m = { .twice = 0 };
		struct volt_join *j[PRODUCERS + CONSUMERS];

		m.seen = calloc((size_t)PRODUCERS * PER_PRODUCER, 1);
		CHECK(m.seen != NULL);
		CHECK_OK(volt_chan_new(sizeof(uint64_t), 64, buf, &m.ch));
		for (int p = 1; p < PRODUCERS; p++)
			volt_chan_sender_add(m.ch); /* one sender handle per producer */
		for (int c = 0; c < CONSUMERS; c++) {
			struct consumer co = { .base = VOLT_FUTURE_INIT(&consumer_ops), .m = &m };

			j[PRODUCERS + c] = vt_spawn(rt, &co, sizeof co, false);
		}
		for (int p = 0; p < PRODUCERS; p++) {
			struct producer pr = { .base = VOLT_FUTURE_INIT(&producer_ops), .m = &m,
					       .id = (uint64_t)p };

			j[p] = vt_spawn(rt, &pr, sizeof pr, false);
		}
		for (int k = 0; k < PRODUCERS + CONSUMERS; k++)
			vt_join(j[k]);
		CHECK_EQ(atomic_load(&m.twice), 0);
		CHECK_EQ(atomic_load(&m.disorder), 0);
		for (size_t k = 0; k < (size_t)PRODUCERS * PER_PRODUCER; k++)
			CHECK_MSG(atomic_load(&m.seen[k]), "%s: message %zu lost", buf, k);
		CHECK_EQ(volt_chan_len(m.ch), 0);
		volt_chan_free(m.ch);
		free(m.seen);
	}
	volt_rt_free(rt);
}

/* ---- blocking forms from plain threads */

static void *thread_producer(void *arg)
{
	struct volt_chan *ch = arg;

	for (uint64_t i = 0; i < VT_SCALE(20000); i++)
		CHECK_EQ(volt_chan_send_blocking(ch, &i), VOLT_CHAN_OK);
	volt_chan_sender_drop(ch);
	return NULL;
}

VOLT_TEST(chan_blocking_threads)
{
	const char *buf;

	EACH_BUFFER(buf) {
		struct volt_chan *ch;
		pthread_t th;
		uint64_t v, expect = 0;
		int r;

		CHECK_OK(volt_chan_new(sizeof(uint64_t), 3, buf, &ch));
		CHECK_OK(pthread_create(&th, NULL, thread_producer, ch));
		while ((r = volt_chan_recv_blocking(ch, &v)) == VOLT_CHAN_OK) {
			CHECK_UEQ(v, expect);
			expect++;
		}
		CHECK_EQ(r, VOLT_CHAN_CLOSED);
		CHECK_UEQ(expect, VT_SCALE(20000));
		pthread_join(th, NULL);
		volt_chan_free(ch);
	}
}

/* ---- regression (crossbeam RUSTSEC-2025-0024): freeing with messages in flight */

static void *spam(void *arg)
{
	struct volt_chan *ch = arg;
	uint64_t v = 0;

	while (volt_chan_try_send(ch, &v) != VOLT_CHAN_CLOSED)
		v++;
	return NULL;
}

VOLT_TEST(chan_receiver_gone_with_messages_in_flight)
{
	const char *buf;

	EACH_BUFFER(buf) {
		for (int round = 0; round < 50; round++) {
			struct volt_chan *ch;
			pthread_t th[2];
			uint64_t v;

			CHECK_OK(volt_chan_new(sizeof(uint64_t), 8, buf, &ch));
			for (int i = 0; i < 2; i++)
				CHECK_OK(pthread_create(&th[i], NULL, spam, ch));
			for (int i = 0; i < 100; i++)
				(void)volt_chan_try_recv(ch, &v);
			volt_chan_receiver_drop(ch); /* the senders see closed and stop */
			for (int i = 0; i < 2; i++)
				pthread_join(th[i], NULL);
			volt_chan_free(ch); /* with messages still buffered: ASan checks */
		}
	}
}

VOLT_TEST(chan_buffer_from_environment)
{
	struct volt_chan *ch;

	setenv("VOLT_CHAN_BUFFER", "locked", 1);
	CHECK_OK(volt_chan_new(8, 4, NULL, &ch));
	CHECK(strcmp(volt_chan_buffer(ch), "locked") == 0);
	volt_chan_free(ch);
	CHECK_OK(volt_chan_new(8, 4, "vyukov", &ch)); /* an explicit name wins */
	CHECK(strcmp(volt_chan_buffer(ch), "vyukov") == 0);
	volt_chan_free(ch);
	setenv("VOLT_CHAN_BUFFER", "bogus", 1);
	CHECK_EQ(volt_chan_new(8, 4, NULL, &ch), -EINVAL);
	unsetenv("VOLT_CHAN_BUFFER");
}
