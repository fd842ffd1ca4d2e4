/* SPDX-License-Identifier: MIT */
/*
 * echo_server.c: a TCP echo server. Every byte a client sends comes back.
 *
 *	echo_server [--addr HOST:PORT | --port P] [--driver auto|uring|epoll]
 *	            [--sched POLICY] [--workers N] [--max-conns N]
 *	build/examples/echo_server --port 7000 --workers 2 &
 *	python3 -c 'import socket; s = socket.create_connection(("127.0.0.1", 7000));
 *	            s.sendall(b"hi"); print(s.recv(2))'
 *
 * Two kinds of stackless task, both written with the coroutine macros:
 * - the accept loop awaits volt_accept, turns TCP_NODELAY on and spawns
 * - one task per connection, which reads up to 4 KiB into the buffer it
 *   carries and writes back exactly what it read with volt_stream_write_all
 *   (the write loops over partial writes), until end of stream or an error,
 *   then closes the stream.
 * The connections live in a volt_group, so that with --max-conns N the
 * program can stop accepting after N connections, wait for those N to
 * finish and exit 0 (for tests and valgrind). Otherwise it runs until it is
 * killed. A connection task is one allocation (its future, buffer
 * included); nothing else is allocated per connection or per read.
 *
 * Options default to the VOLT_* environment (volt_config_init), then to
 * 127.0.0.1:7000 and 2 workers; --port keeps --addr's host. One line goes to
 * stderr when the server listens; bad options exit with status 2.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <volt.h>

#include "server.h"

#define NAME "echo_server"
#define DEFAULT_ADDR "127.0.0.1:7000"
#define BUF_SIZE 4096 /* the read buffer of one connection (as the E11 peers) */

/* ---- one connection: read, write back, until the end */

struct conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op; /* the read or write in flight */
	size_t n;             /* bytes read, to write back */
	char buf[BUF_SIZE];
};

static enum volt_poll conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct conn *c = (struct conn *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof c->buf));
		if (c->op.result <= 0) /* 0: the client is done; < 0: an error */
			break;
		c->n = (size_t)c->op.result;
		VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->buf, c->n));
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
	struct conn c = { .base = VOLT_FUTURE_INIT(&conn_ops), .s = s };

	(void)peer, (void)arg;
	return server_spawn(conns, s, &c.base, sizeof c);
}

static int app(struct volt_rt *rt, void *arg)
{
	return server_serve(rt, arg, spawn_conn, NULL);
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, NAME, DEFAULT_ADDR, app);
}
