/* SPDX-License-Identifier: MIT */
/*
 * tests/test_shutdown_token.c: the shutdown token and the graceful drain
 * (volt/shutdown.h), under every policy (VOLT_RT_TEST); the cases with
 * sockets or signals on every driver (VT_FOR_EACH_DRIVER). Runtime shutdown
 * itself is tests/test_shutdown.c's.
 *
 *  waiters          8 tasks wait; one trigger wakes all; a second trigger
 *                   is a no-op; the blocking wait times out before, returns
 *                   at once after
 *  trigger_first    a wait made after the trigger is ready at once
 *  drain_empty      nothing in flight: the drain returns at once (under a
 *                   grace of an hour: waiting would time the case out)
 *  drain_conns      6 connections in flight at the trigger, 3 of whose
 *                   clients close (they finish), 3 stay (cancelled when the
 *                   grace runs out): finished 3 + cancelled 3 == in flight
 *                   6, every task's future dropped exactly once, every
 *                   cancelled client sees its stream closed; spawning after
 *                   the trigger is -ECANCELED and the future stays ours
 *  on_signals       SIGUSR2 to the process triggers the token and is named
 *  bad_input        NULLs, -EBUSY freeing with work in flight
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net_helpers.h"

/* ------------------------------------------------------------- waiters */

VOLT_RT_TEST(shutdown_waiters)
{
	enum { N = 8 };
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_shutdown *tok;
	struct volt_shutdown_wait w[N];
	struct volt_join *j[N];
	atomic_int pending[N];

	CHECK_OK(volt_shutdown_new(rt, &tok));
	CHECK(!volt_shutdown_is_triggered(tok));
	CHECK_EQ(volt_shutdown_wait_blocking(tok, volt_ms(10)), -ETIMEDOUT);
	for (int i = 0; i < N; i++) {
		atomic_init(&pending[i], 0);
		w[i].result = 77;
		j[i] = vt_spawn_in_task(rt, volt_shutdown_wait(&w[i], tok), &pending[i]);
	}
	for (int i = 0; i < N; i++)
		VT_WAIT_FOR(atomic_load(&pending[i])); /* all waiting */
	for (int i = 0; i < N; i++)
		CHECK(!volt_join_is_done(j[i]));
	CHECK_EQ(volt_shutdown_trigger(tok), 1);
	CHECK_EQ(volt_shutdown_trigger(tok), 0);
	CHECK(volt_shutdown_is_triggered(tok));
	for (int i = 0; i < N; i++) {
		vt_join(j[i]);
		CHECK_EQ(w[i].result, 0);
	}
	CHECK_EQ(volt_shutdown_wait_blocking(tok, VOLT_DURATION_MAX), 0);
	CHECK_EQ(volt_shutdown_signal(tok), 0);
	CHECK_OK(volt_shutdown_free(tok));
	volt_rt_free(rt);
}

VOLT_RT_TEST(shutdown_trigger_first)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_shutdown *tok;
	struct volt_shutdown_wait w = { .result = 77 };

	CHECK_OK(volt_shutdown_new(rt, &tok));
	CHECK_EQ(volt_shutdown_trigger(tok), 1);
	vt_run_in_task(rt, volt_shutdown_wait(&w, tok));
	CHECK_EQ(w.result, 0);
	/* and on a plain thread, with no runtime behind the wait */
	w.result = 77;
	CHECK_OK(volt_block_on(NULL, volt_shutdown_wait(&w, tok), NULL));
	CHECK_EQ(w.result, 0);
	CHECK_EQ(volt_shutdown_wait_blocking(tok, volt_ms(1)), 0);
	CHECK_OK(volt_shutdown_free(tok));
	volt_rt_free(rt);
}

/* ---------------------------------------------------------------- drain */

VOLT_RT_TEST(shutdown_drain_empty)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_shutdown *tok;
	struct volt_shutdown_report rep;
	struct volt_shutdown_drain d;

	CHECK_OK(volt_shutdown_new(rt, &tok));
	memset(&rep, 0xa5, sizeof(rep));
	CHECK_OK(volt_shutdown_drain_blocking(tok, volt_hours(1), &rep));
	CHECK(volt_shutdown_is_triggered(tok)); /* the drain triggers it */
	CHECK_EQ(rep.in_flight, 0);
	CHECK_EQ(rep.finished, 0);
	CHECK_EQ(rep.cancelled, 0);
	CHECK(!rep.timed_out);
	/* the future form, in a task, a second time */
	vt_run_in_task(rt, volt_shutdown_drain(&d, tok, volt_hours(1)));
	CHECK_EQ(d.result, 0);
	CHECK_EQ(d.report.in_flight, 0);
	CHECK(!d.report.timed_out);
	CHECK_OK(volt_shutdown_free(tok));
	volt_rt_free(rt);
}

/* One tracked connection: reads until end of stream; its drop closes it. */
struct tconn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	char buf[64];
	atomic_int *drops; /* this connection's slot */
};

static enum volt_poll tconn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct tconn *c = (struct tconn *)f;

	VOLT_BEGIN(f);
	do
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof(c->buf)));
	while (c->op.result > 0);
	VOLT_END(f);
}

static void tconn_drop(struct volt_future *f)
{
	struct tconn *c = (struct tconn *)f;

	(void)volt_stream_close(c->s);
	atomic_fetch_add(c->drops, 1);
}

static const struct volt_future_ops tconn_ops = { tconn_poll, tconn_drop };

VOLT_RT_TEST(shutdown_drain_conns)
{
	enum { N = 6, FINISH = 3 };
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s", d);
		struct volt_rt *rt = vt_net_rt(policy, 2, d);

		if (!rt)
			continue;
		struct volt_shutdown *tok;
		struct volt_shutdown_drain drain;
		struct tconn c;
		atomic_int drops[N + 1];
		int client[N + 1];

		CHECK_OK(volt_shutdown_new(rt, &tok));
		for (int i = 0; i <= N; i++) {
			struct volt_listener l;
			struct timeval tv = { 20, 0 };

			atomic_init(&drops[i], 0);
			c = (struct tconn){ .base = VOLT_FUTURE_INIT(&tconn_ops), .drops = &drops[i] };
			client[i] = vt_tcp_pair(rt, &l, &c.s);
			CHECK_OK(setsockopt(client[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
			CHECK_OK(volt_listener_close(l));
			if (i < N)
				CHECK_OK(volt_shutdown_spawn(tok, &c.base, sizeof(c)));
		}
		CHECK_EQ(volt_shutdown_in_flight(tok), N);
		CHECK_EQ(volt_shutdown_trigger(tok), 1);

		/* after the trigger: refused, and the future is still ours to drop */
		CHECK_EQ(volt_shutdown_spawn(tok, &c.base, sizeof(c)), -ECANCELED);
		CHECK_EQ(atomic_load(&drops[N]), 0);
		volt_future_drop(&c.base);
		CHECK_EQ(atomic_load(&drops[N]), 1);

		/* FINISH clients close: their connections end by themselves */
		for (int i = 0; i < FINISH; i++)
			CHECK_OK(close(client[i]));
		VT_WAIT_FOR(volt_shutdown_in_flight(tok) == N - FINISH);
		CHECK_EQ(volt_shutdown_free(tok), -EBUSY);

		/* the rest never end: the grace runs out and they are cancelled */
		vt_run_in_task(rt, volt_shutdown_drain(&drain, tok, volt_ms(20)));
		CHECK_EQ(drain.result, 0);
		CHECK_EQ(drain.report.in_flight, N);
		CHECK_EQ(drain.report.finished, FINISH);
		CHECK_EQ(drain.report.cancelled, N - FINISH);
		CHECK(drain.report.timed_out);
		CHECK_EQ(drain.report.finished + drain.report.cancelled, drain.report.in_flight);
		CHECK_EQ(volt_shutdown_in_flight(tok), 0);
		for (int i = 0; i <= N; i++)
			CHECK_MSG(atomic_load(&drops[i]) == 1, "connection %d dropped %d times", i,
				  atomic_load(&drops[i]));
		for (int i = FINISH; i < N; i++) {
			char b;

			CHECK_EQ(read(client[i], &b, 1), 0); /* closed by the cancel */
			CHECK_OK(close(client[i]));
		}
		CHECK_OK(close(client[N]));
		CHECK_OK(volt_shutdown_free(tok));
		volt_rt_free(rt);
	}
}

/* ---------------------------------------------------------- on signals */

VOLT_RT_TEST(shutdown_on_signals)
{
	static const int signals[] = { SIGUSR1, SIGUSR2 };
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s", d);
		struct volt_rt *rt = vt_net_rt(policy, 2, d);

		if (!rt)
			continue;
		struct volt_shutdown *tok, *idle;

		CHECK_OK(volt_shutdown_new(rt, &tok));
		CHECK_OK(volt_shutdown_new(rt, &idle));
		CHECK_OK(volt_shutdown_on_signals(tok, signals, 2));
		CHECK_OK(volt_shutdown_on_signals(idle, &signals[0], 1)); /* SIGUSR1 only */
		CHECK(!volt_shutdown_is_triggered(tok));
		CHECK_OK(kill(getpid(), SIGUSR2));
		CHECK_EQ(volt_shutdown_wait_blocking(tok, volt_secs(20)), 0);
		CHECK_EQ(volt_shutdown_signal(tok), SIGUSR2);
		CHECK(!volt_shutdown_is_triggered(idle));
		CHECK_OK(volt_shutdown_free(tok));
		CHECK_OK(volt_shutdown_free(idle)); /* its watcher ends on its own */
		volt_rt_free(rt);
	}
}

/* ----------------------------------------------------------- bad input */

VOLT_RT_TEST(shutdown_bad_input)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_shutdown *tok = NULL;
	struct vt_forever f;
	atomic_int drops = 0;
	int bad = SIGKILL;

	CHECK_EQ(volt_shutdown_new(NULL, &tok), -EINVAL); /* no current runtime */
	CHECK_EQ(volt_shutdown_new(rt, NULL), -EINVAL);
	CHECK_EQ(volt_shutdown_trigger(NULL), -EINVAL);
	CHECK(!volt_shutdown_is_triggered(NULL));
	CHECK_EQ(volt_shutdown_free(NULL), -EINVAL);
	CHECK_EQ(volt_shutdown_wait_blocking(NULL, volt_ms(1)), -EINVAL);
	CHECK_EQ(volt_shutdown_drain_blocking(NULL, volt_ms(1), NULL), -EINVAL);
	CHECK_OK(volt_shutdown_new(rt, &tok));
	CHECK_EQ(volt_shutdown_spawn(tok, NULL, 0), -EINVAL);
	CHECK_EQ(volt_shutdown_on_signals(tok, &bad, 1), -EINVAL);
	CHECK_EQ(volt_shutdown_on_signals(tok, NULL, 0), -EINVAL);
	vt_forever_init(&f, true, NULL, &drops, NULL);
	CHECK_OK(volt_shutdown_spawn(tok, &f.base, sizeof(f)));
	CHECK_EQ(volt_shutdown_free(tok), -EBUSY);
	CHECK_OK(volt_shutdown_drain_blocking(tok, volt_ms(1), NULL));
	CHECK_EQ(atomic_load(&drops), 1);
	CHECK_OK(volt_shutdown_free(tok));
	volt_rt_free(rt);
}
