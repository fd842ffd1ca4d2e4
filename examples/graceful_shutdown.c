/* SPDX-License-Identifier: MIT */
/*
 * graceful_shutdown.c: a slow echo server that stops cleanly on SIGINT or
 * SIGTERM. Each connection answers every message after --work-ms
 * milliseconds (slow work in flight). On the signal the server stops
 * accepting (closes the listener), lets the connections in flight finish
 * for up to --grace-ms, cancels the rest, prints one line to stdout
 *
 *	shutdown: in-flight 12, finished 9, cancelled 3 (grace 500 ms)
 *
 * and exits 0. "Finished" connections ended by themselves (their client
 * closed) within the grace period; "cancelled" ones were dropped (their
 * stream closed) when it ran out.
 *
 *	graceful_shutdown [--grace-ms N] [--work-ms N] [server options]
 *	build/examples/graceful_shutdown --port 7000 --grace-ms 500 &
 *	python3 -c 'import socket; s = socket.create_connection(("127.0.0.1", 7000));
 *	            s.sendall(b"hi"); print(s.recv(2))'
 *	kill -TERM %1
 *
 * The server options (--addr, --port, --driver, --sched, --workers,
 * --max-conns) are examples/server.h's; this file parses its own two and
 * hands the rest over. The pieces: a shutdown token (volt/shutdown.h) that
 * volt_shutdown_on_signals triggers, server.h's accept loop spawning each
 * connection as tracked work (volt_shutdown_spawn), and
 * volt_shutdown_drain_blocking for the grace period and the report.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <volt.h>

#include "server.h"

#define NAME "graceful_shutdown"
#define DEFAULT_ADDR "127.0.0.1:7000"
#define BUF_SIZE 1024

static unsigned long grace_ms = 500, work_ms = 200;

/* ---- one connection: read a message, work, answer; until the client is done */

struct conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	struct volt_sleep work;
	size_t n;
	char buf[BUF_SIZE];
};

static enum volt_poll conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct conn *c = (struct conn *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof c->buf));
		if (c->op.result <= 0)
			break;
		c->n = (size_t)c->op.result;
		VOLT_AWAIT(f, cx, volt_sleep(&c->work, volt_ms(work_ms))); /* the slow work */
		VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->buf, c->n));
		if (c->op.result < 0)
			break;
	}
	VOLT_END(f);
}

/* Finished or cancelled: the stream goes either way. */
static void conn_drop(struct volt_future *f)
{
	(void)volt_stream_close(((struct conn *)f)->s);
}

static const struct volt_future_ops conn_ops = { .poll = conn_poll, .drop = conn_drop };

/* server.h's accept loop calls this; after the trigger the token refuses the work. */
static int spawn_conn(struct volt_group *conns, struct volt_stream s, const struct volt_addr *peer,
		      void *arg)
{
	struct conn c = { .base = VOLT_FUTURE_INIT(&conn_ops), .s = s };
	int err = volt_shutdown_spawn(arg, &c.base, sizeof c);

	(void)conns, (void)peer;
	if (err)
		(void)volt_stream_close(s); /* shutting down (or out of memory): drop the client */
	return err;
}

static int app(struct volt_rt *rt, void *arg)
{
	static const int signals[] = { SIGINT, SIGTERM };
	const struct server_opts *o = arg;
	struct volt_shutdown_report rep;
	struct server_acceptor sa;
	struct volt_shutdown *tok;
	struct volt_listener l;
	struct volt_join *acceptor;
	int err;

	/* first: it blocks SIGINT and SIGTERM in this thread (the runtime's have them) */
	if ((err = volt_shutdown_new(rt, &tok)) != 0 ||
	    (err = volt_shutdown_on_signals(tok, signals, 2)) != 0) {
		fprintf(stderr, "%s: signals: %s\n", NAME, volt_strerror(err));
		return 1;
	}
	if (server_listen(rt, o, &l))
		return 1;
	sa = server_acceptor_make(o, l, volt_shutdown_group(tok), spawn_conn, tok);
	if ((err = volt_spawn(rt, &sa.base, sizeof sa, &acceptor)) != 0) {
		fprintf(stderr, "%s: spawn: %s\n", NAME, volt_strerror(err));
		(void)volt_listener_close(l);
		return 1;
	}
	(void)volt_shutdown_wait_blocking(tok, VOLT_DURATION_MAX);
	fprintf(stderr, "%s: %s: stopping (%zu connections in flight)\n", NAME,
		strsignal(volt_shutdown_signal(tok)), volt_shutdown_in_flight(tok));
	(void)volt_listener_close(l); /* stop accepting: the accept loop ends */
	(void)volt_join_wait(acceptor, NULL);
	err = volt_shutdown_drain_blocking(tok, volt_ms(grace_ms), &rep);
	if (err) {
		fprintf(stderr, "%s: drain: %s\n", NAME, volt_strerror(err));
		return 1;
	}
	printf("shutdown: in-flight %zu, finished %zu, cancelled %zu (grace %lu ms)\n",
	       rep.in_flight, rep.finished, rep.cancelled, grace_ms);
	fflush(stdout);
	return volt_shutdown_free(tok) == 0 ? 0 : 1;
}

/* Takes --grace-ms and --work-ms out of argv; the rest goes to server_main. */
int main(int argc, char **argv)
{
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int n = 0, status;

	if (!rest)
		return 1;
	rest[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		unsigned long *to = !strcmp(argv[i], "--grace-ms") ? &grace_ms
				    : !strcmp(argv[i], "--work-ms") ? &work_ms
								     : NULL;

		if (!to) {
			rest[n++] = argv[i];
			continue;
		}
		if (i + 1 >= argc || !server_parse_ulong(argv[i + 1], 0, 3600000, to)) {
			fprintf(stderr, "%s: %s needs a number of milliseconds (0 to 3600000)\n",
				NAME, argv[i]);
			free(rest);
			return 2;
		}
		i++;
	}
	status = server_main(n, rest, NAME, DEFAULT_ADDR, app);
	for (int i = 1; i < n; i++) {
		if (!strcmp(rest[i], "--help") || !strcmp(rest[i], "-h")) {
			printf("  --grace-ms N      on SIGINT/SIGTERM, let connections finish for N ms "
			       "(default 500)\n"
			       "  --work-ms N       answer each message after N ms (default 200)\n");
			break;
		}
	}
	free(rest);
	return status;
}
