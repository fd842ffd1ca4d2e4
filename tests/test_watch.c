/* SPDX-License-Identifier: MIT */
/*
 * tests/test_watch.c: the watch channel: changes coalesce (a receiver sees
 * the latest value), changed is ready once per change seen, close; a
 * receiver task following a sender thread under every policy ends on the
 * last value, having seen values only in increasing order.
 */
#include <errno.h>

#include "helpers.h"

VOLT_TEST(watch_coalesces_and_closes)
{
	struct volt_watch w;
	struct volt_watch_rx rx;

	CHECK_OK(volt_watch_init(&w, (void *)1));
	volt_watch_subscribe(&w, &rx);
	CHECK(!volt_watch_has_changed(&rx));
	CHECK_PTR_EQ(volt_watch_borrow(&rx), (void *)1);
	CHECK_EQ(volt_watch_send(&w, (void *)2), VOLT_CHAN_OK);
	CHECK_EQ(volt_watch_send(&w, (void *)3), VOLT_CHAN_OK);
	CHECK(volt_watch_has_changed(&rx));
	CHECK_EQ(volt_watch_changed_blocking(&rx), VOLT_CHAN_OK);
	CHECK_PTR_EQ(volt_watch_borrow(&rx), (void *)3); /* 2 coalesced away */
	CHECK(!volt_watch_has_changed(&rx));
	volt_watch_close(&w);
	CHECK_EQ(volt_watch_send(&w, (void *)4), VOLT_CHAN_CLOSED);
	CHECK_EQ(volt_watch_changed_blocking(&rx), VOLT_CHAN_CLOSED);
	volt_watch_destroy(&w);
}

#define LAST VT_SCALE(20000)

struct follower {
	struct volt_future base;
	struct volt_watch_rx rx;
	uintptr_t last;
	struct volt_watch_changed c;
};

static enum volt_poll follower_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct follower *fo = (struct follower *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_watch_changed(&fo->c, &fo->rx));
		if (fo->c.result == VOLT_CHAN_CLOSED)
			break;
		uintptr_t v = (uintptr_t)volt_watch_borrow(&fo->rx);

		CHECK_GT(v, fo->last); /* only forwards */
		fo->last = v;
	}
	VOLT_RETURN(f, cx, fo->last);
	VOLT_END(f);
}

static const struct volt_future_ops follower_ops = { .poll = follower_poll };

static void *sender_thread(void *arg)
{
	struct volt_watch *w = arg;

	for (uintptr_t v = 1; v <= LAST; v++)
		CHECK_EQ(volt_watch_send(w, (void *)v), VOLT_CHAN_OK);
	volt_watch_close(w);
	return NULL;
}

VOLT_RT_TEST(watch_follower_ends_on_last)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_watch w;
	struct volt_join *j[3];
	pthread_t th;

	CHECK_OK(volt_watch_init(&w, (void *)0));
	for (int i = 0; i < 3; i++) {
		struct follower fo = { .base = VOLT_FUTURE_INIT(&follower_ops), .last = 0 };

		volt_watch_subscribe(&w, &fo.rx);
		j[i] = vt_spawn(rt, &fo, sizeof fo, false);
	}
	CHECK_OK(pthread_create(&th, NULL, sender_thread, &w));
	pthread_join(th, NULL);
	for (int i = 0; i < 3; i++)
		CHECK_PTR_EQ(vt_join(j[i]), (void *)(uintptr_t)LAST);
	volt_watch_destroy(&w);
	volt_rt_free(rt);
}
