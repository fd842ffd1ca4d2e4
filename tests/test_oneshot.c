/* SPDX-License-Identifier: MIT */
/*
 * tests/test_oneshot.c: the oneshot channel: send once, drop, close; the
 * close/send/receive race of tokio #4225 (a value is delivered once or
 * returned to the sender once, never both, never lost); the future and
 * blocking forms under every policy.
 */
#include <errno.h>

#include "helpers.h"

VOLT_TEST(oneshot_send_drop_close)
{
	struct volt_oneshot o;
	void *v = NULL;

	CHECK_OK(volt_oneshot_init(&o));
	CHECK_EQ(volt_oneshot_try_recv(&o, &v), VOLT_CHAN_EMPTY);
	CHECK_EQ(volt_oneshot_try_recv(&o, NULL), -EINVAL);
	CHECK_EQ(volt_oneshot_send(&o, (void *)7), VOLT_CHAN_OK);
	CHECK_EQ(volt_oneshot_send(&o, (void *)8), -EALREADY);
	CHECK_EQ(volt_oneshot_try_recv(&o, &v), VOLT_CHAN_OK);
	CHECK_PTR_EQ(v, (void *)7);
	CHECK_EQ(volt_oneshot_try_recv(&o, &v), VOLT_CHAN_CLOSED); /* taken */
	volt_oneshot_destroy(&o);

	CHECK_OK(volt_oneshot_init(&o));
	volt_oneshot_sender_drop(&o);
	CHECK_EQ(volt_oneshot_try_recv(&o, &v), VOLT_CHAN_CLOSED);
	CHECK_EQ(volt_oneshot_recv_blocking(&o, &v), VOLT_CHAN_CLOSED);
	volt_oneshot_destroy(&o);

	CHECK_OK(volt_oneshot_init(&o));
	volt_oneshot_close(&o);
	CHECK_EQ(volt_oneshot_send(&o, (void *)9), VOLT_CHAN_CLOSED); /* stays with the sender */
	CHECK_EQ(volt_oneshot_try_recv(&o, &v), VOLT_CHAN_CLOSED);
	volt_oneshot_destroy(&o);

	/* sent, then closed: the value is still there to take, once */
	CHECK_OK(volt_oneshot_init(&o));
	CHECK_EQ(volt_oneshot_send(&o, (void *)10), VOLT_CHAN_OK);
	volt_oneshot_close(&o);
	CHECK_EQ(volt_oneshot_try_recv(&o, &v), VOLT_CHAN_OK);
	CHECK_PTR_EQ(v, (void *)10);
	volt_oneshot_destroy(&o);
}

/* ---- the three-way race: close, send and receive at once */

struct race {
	struct volt_oneshot o;
	atomic_int go;
	int send_result;
};

static void *race_sender(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->go))
		;
	r->send_result = volt_oneshot_send(&r->o, (void *)1);
	return NULL;
}

#define RACES VT_SCALE(20000)

VOLT_TEST(oneshot_close_send_race_once)
{
	for (int i = 0; i < RACES; i++) {
		struct race r = { .send_result = -1 };
		pthread_t th;
		void *v = NULL;
		int got;

		atomic_init(&r.go, 0);
		CHECK_OK(volt_oneshot_init(&r.o));
		CHECK_OK(pthread_create(&th, NULL, race_sender, &r));
		atomic_store(&r.go, 1);
		if (i % 2)
			volt_oneshot_close(&r.o);
		got = volt_oneshot_try_recv(&r.o, &v);
		if (i % 2 == 0)
			volt_oneshot_close(&r.o);
		pthread_join(th, NULL);
		if (got != VOLT_CHAN_OK)
			got = volt_oneshot_try_recv(&r.o, &v); /* a value sent before the close */
		/* delivered once, or returned to the sender once */
		CHECK_MSG((r.send_result == VOLT_CHAN_OK) == (got == VOLT_CHAN_OK),
			  "round %d: send %d, receive %d", i, r.send_result, got);
		CHECK(r.send_result == VOLT_CHAN_OK || r.send_result == VOLT_CHAN_CLOSED);
		volt_oneshot_destroy(&r.o);
	}
}

/* ---- the future form under every policy */

struct awaiter {
	struct volt_future base;
	struct volt_oneshot *o;
	struct volt_oneshot_recv r;
};

static enum volt_poll awaiter_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct awaiter *a = (struct awaiter *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_oneshot_recv(&a->r, a->o));
	CHECK_EQ(a->r.result, VOLT_CHAN_OK);
	VOLT_RETURN(f, cx, a->r.value);
	VOLT_END(f);
}

static const struct volt_future_ops awaiter_ops = { .poll = awaiter_poll };

#define MANY 200

VOLT_RT_TEST(oneshot_many_futures)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_oneshot o[MANY];
	struct volt_join *j[MANY];

	for (intptr_t i = 0; i < MANY; i++) {
		struct awaiter a = { .base = VOLT_FUTURE_INIT(&awaiter_ops), .o = &o[i] };

		CHECK_OK(volt_oneshot_init(&o[i]));
		j[i] = vt_spawn(rt, &a, sizeof a, false);
	}
	for (intptr_t i = 0; i < MANY; i++)
		CHECK_EQ(volt_oneshot_send(&o[i], (void *)(i + 1)), VOLT_CHAN_OK);
	for (intptr_t i = 0; i < MANY; i++) {
		CHECK_PTR_EQ(vt_join(j[i]), (void *)(i + 1));
		volt_oneshot_destroy(&o[i]);
	}
	/* a pending receive, cancelled: nothing left behind */
	struct awaiter a = { .base = VOLT_FUTURE_INIT(&awaiter_ops), .o = &o[0] };

	CHECK_OK(volt_oneshot_init(&o[0]));
	j[0] = vt_spawn(rt, &a, sizeof a, false);
	vt_sleep_us(2000);
	volt_join_cancel(j[0]);
	CHECK_EQ(volt_join_wait(j[0], NULL), -ECANCELED);
	CHECK_EQ(volt_oneshot_send(&o[0], (void *)5), VOLT_CHAN_OK);
	volt_oneshot_destroy(&o[0]);
	volt_rt_free(rt);
}
