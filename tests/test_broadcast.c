/* SPDX-License-Identifier: MIT */
/*
 * tests/test_broadcast.c: the broadcast channel: every receiver sees every
 * message in order; a receiver that falls behind gets lagged(n) with n the
 * messages overwritten, and resumes at the oldest retained; a send with no
 * receiver or after close is refused; 1 sender x 4 receiver tasks under
 * every policy, each receiving all messages in order (the sender waits for
 * the slowest, so nobody lags), and woken every time (tokio #2123).
 */
#include <errno.h>

#include "helpers.h"

VOLT_TEST(broadcast_lag_and_close)
{
	struct volt_broadcast *b;
	struct volt_broadcast_rx fast, slow;
	void *v;
	uint64_t missed = 0;

	CHECK_EQ(volt_broadcast_new(0, &b), -EINVAL);
	CHECK_OK(volt_broadcast_new(4, &b));
	CHECK_EQ(volt_broadcast_send(b, (void *)1), VOLT_CHAN_CLOSED); /* nobody listens */
	volt_broadcast_subscribe(b, &fast);
	volt_broadcast_subscribe(b, &slow);
	for (uintptr_t i = 1; i <= 10; i++) {
		CHECK_EQ(volt_broadcast_send(b, (void *)i), VOLT_CHAN_OK);
		CHECK_EQ(volt_broadcast_try_recv(&fast, &v, &missed), VOLT_CHAN_OK);
		CHECK_PTR_EQ(v, (void *)i);
	}
	CHECK_EQ(volt_broadcast_try_recv(&fast, &v, &missed), VOLT_CHAN_EMPTY);
	/* slow saw nothing of 10 with 4 retained: 6 lost, then 7..10 */
	CHECK_EQ(volt_broadcast_try_recv(&slow, &v, &missed), VOLT_CHAN_LAGGED);
	CHECK_UEQ(missed, 6);
	for (uintptr_t i = 7; i <= 10; i++) {
		CHECK_EQ(volt_broadcast_try_recv(&slow, &v, &missed), VOLT_CHAN_OK);
		CHECK_PTR_EQ(v, (void *)i);
	}
	CHECK_EQ(volt_broadcast_send(b, (void *)11), VOLT_CHAN_OK);
	volt_broadcast_close(b);
	CHECK_EQ(volt_broadcast_send(b, (void *)12), VOLT_CHAN_CLOSED);
	CHECK_EQ(volt_broadcast_try_recv(&slow, &v, &missed), VOLT_CHAN_OK); /* drains first */
	CHECK_PTR_EQ(v, (void *)11);
	CHECK_EQ(volt_broadcast_try_recv(&slow, &v, &missed), VOLT_CHAN_CLOSED);
	CHECK_EQ(volt_broadcast_recv_blocking(&fast, &v, &missed), VOLT_CHAN_OK);
	CHECK_EQ(volt_broadcast_recv_blocking(&fast, &v, &missed), VOLT_CHAN_CLOSED);
	volt_broadcast_unsubscribe(&fast);
	volt_broadcast_unsubscribe(&slow);
	volt_broadcast_free(b);
}

#define RECEIVERS 4
#define MESSAGES VT_SCALE(5000)

struct listener {
	struct volt_future base;
	struct volt_broadcast_rx rx;
	struct volt_semaphore *acks;
	uintptr_t expect;
	struct volt_broadcast_recv r;
};

static enum volt_poll listener_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct listener *l = (struct listener *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_broadcast_recv(&l->r, &l->rx));
		if (l->r.result == VOLT_CHAN_CLOSED)
			break;
		CHECK_EQ(l->r.result, VOLT_CHAN_OK); /* never lagged: the sender waits */
		CHECK_PTR_EQ(l->r.value, (void *)(l->expect + 1));
		l->expect++;
		volt_semaphore_release(l->acks, 1);
	}
	volt_broadcast_unsubscribe(&l->rx);
	VOLT_RETURN(f, cx, l->expect);
	VOLT_END(f);
}

static const struct volt_future_ops listener_ops = { .poll = listener_poll };

VOLT_RT_TEST(broadcast_every_receiver_every_message)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_broadcast *b;
	struct volt_semaphore acks;
	struct volt_join *j[RECEIVERS];

	CHECK_OK(volt_broadcast_new(8, &b));
	CHECK_OK(volt_semaphore_init(&acks, 0));
	for (int i = 0; i < RECEIVERS; i++) {
		struct listener l = { .base = VOLT_FUTURE_INIT(&listener_ops), .acks = &acks };

		volt_broadcast_subscribe(b, &l.rx);
		j[i] = vt_spawn(rt, &l, sizeof l, false);
	}
	for (uintptr_t m = 1; m <= MESSAGES; m++) {
		CHECK_EQ(volt_broadcast_send(b, (void *)m), VOLT_CHAN_OK);
		/* every receiver acknowledges before the next: a lost wake hangs here */
		CHECK_OK(volt_semaphore_acquire_blocking(&acks, RECEIVERS));
	}
	volt_broadcast_close(b);
	for (int i = 0; i < RECEIVERS; i++)
		CHECK_PTR_EQ(vt_join(j[i]), (void *)(uintptr_t)MESSAGES);
	volt_semaphore_destroy(&acks);
	volt_broadcast_free(b);
	volt_rt_free(rt);
}
