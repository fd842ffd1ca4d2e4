/* SPDX-License-Identifier: MIT */
/*
 * experiments/rpc_server.c: the E9 server: an echo server whose requests
 * say how much CPU to burn before the answer (tail latency under mixed I/O
 * and CPU; paper/paper.md, E9).
 *
 *	rpc_server [--addr HOST:PORT | --port P] [--driver auto|uring|epoll]
 *	           [--sched POLICY] [--workers N] [--max-conns N]
 *
 * (examples/server.h's options; the budget and event interval come from
 * VOLT_BUDGET and VOLT_EVENT_INTERVAL, which the harness sets per cell.)
 *
 * The protocol (experiments/echo_load.c --heavy-every writes it): a request
 * is an 8-byte header, the CPU time to burn in microseconds and the whole
 * request's length in bytes (both 32-bit little-endian, length >= 8 and at
 * most RPC_MAX), then length - 8 bytes of payload. The answer is the request
 * itself, byte for byte, written after the burn.
 *
 * The burn is the CPU-heavy handler of the Tokio preemption post, written
 * cooperatively: slices of SLICE_NS of busy work, each taking one unit of
 * the task's budget (volt_budget_take, as every I/O attempt does); when the
 * budget is spent the task yields and the worker runs what else is ready
 * (with the budget at its maximum, 65535, a 1 ms burn never yields: that is
 * E9's "budget off"). So a burn of U us holds its worker for at most
 * budget x SLICE_NS at a time, and the cheap requests queued behind it wait
 * that long instead of the whole burn. One task per connection, one
 * allocation each (the buffer is in the future); nothing per request.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <volt.h>

#include "../examples/server.h"

#define NAME "rpc_server"
#define DEFAULT_ADDR "127.0.0.1:7000"
#define RPC_HDR 8
#define RPC_MAX 65536        /* the longest request, bytes */
#define RPC_MAX_BURN_US 1000000u
#define SLICE_NS 1000u       /* one budget unit of burn: 1 us */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Busy work for ns nanoseconds of wall time (the worker does nothing else meanwhile). */
static void burn(uint64_t ns)
{
	uint64_t end = mono_ns() + ns;
	volatile uint64_t x = 0;

	while (mono_ns() < end)
		for (int i = 0; i < 64; i++)
			x = x * 6364136223846793005ull + 1;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- one connection: header, payload, burn, answer; until the end */

struct conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;  /* the read or write in flight */
	struct volt_yield y;   /* the burn's yield when the budget is spent */
	uint32_t len;          /* this request's length */
	uint64_t left_ns;      /* of its burn */
	unsigned char buf[RPC_MAX];
};

static enum volt_poll conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct conn *c = (struct conn *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read_exact(&c->op, c->s, c->buf, RPC_HDR));
		if (c->op.result < 0) /* the client is done (-EPIPE at a clean end) or failed */
			break;
		c->len = le32(c->buf + 4);
		if (c->len < RPC_HDR || c->len > RPC_MAX || le32(c->buf) > RPC_MAX_BURN_US)
			break; /* not this protocol: drop the client */
		c->left_ns = (uint64_t)le32(c->buf) * 1000u;
		if (c->len > RPC_HDR) {
			VOLT_AWAIT(f, cx, volt_stream_read_exact(&c->op, c->s, c->buf + RPC_HDR,
								 c->len - RPC_HDR));
			if (c->op.result < 0)
				break;
		}
		while (c->left_ns) {
			if (!volt_budget_take(cx)) {
				VOLT_AWAIT(f, cx, volt_yield_now(&c->y));
				continue; /* a new poll: a fresh budget */
			}
			uint64_t ns = c->left_ns < SLICE_NS ? c->left_ns : SLICE_NS;

			burn(ns);
			c->left_ns -= ns;
		}
		VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->buf, c->len));
		if (c->op.result < 0)
			break;
	}
	VOLT_END(f); /* conn_drop closes the stream */
}

/* Runs once, when the task finishes or is cancelled: closing twice is harmless. */
static void conn_drop(struct volt_future *f)
{
	(void)volt_stream_close(((struct conn *)f)->s);
}

static const struct volt_future_ops conn_ops = { .poll = conn_poll, .drop = conn_drop };

/* ---- a connection's task, started by the accept loop (examples/server.h) */

static int spawn_conn(struct volt_group *conns, struct volt_stream s, const struct volt_addr *peer,
		      void *arg)
{
	struct conn *c = arg; /* a template: too big for the stack of a future copied by value */

	(void)peer;
	volt_future_init(&c->base, &conn_ops);
	c->s = s;
	return server_spawn(conns, s, &c->base, sizeof *c);
}

static int app(struct volt_rt *rt, void *arg)
{
	static struct conn tmpl; /* only the accept loop touches it */

	return server_serve(rt, arg, spawn_conn, &tmpl);
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, NAME, DEFAULT_ADDR, app);
}
