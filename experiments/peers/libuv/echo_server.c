/* SPDX-License-Identifier: MIT */
/*
 * experiments/peers/libuv/echo_server.c: the E11 TCP echo server on libuv (the
 * peer of experiments/peers/tokio/src/bin/echo_server.rs and of the Volt-C
 * echo example), driven by experiments/echo_load.c through
 * experiments/net_bench.sh.
 *
 *     echo_server [--port P] [--workers N]
 *
 * libuv runs one loop per thread, so N workers are N threads, each with its
 * own uv_loop_t and its own listening socket on 127.0.0.1:P; the N sockets
 * share the port with SO_REUSEPORT (the kernel spreads the connections over
 * them by a hash of the addresses) and are all bound and listening before
 * the first thread starts. A connection (TCP_NODELAY) reads into its own
 * 4096-byte buffer and writes back what it read: uv_try_write first, and
 * what the socket did not take goes out with uv_write from a malloc'd
 * request holding a copy (so the buffer can be reused at once; libuv keeps
 * the writes in order). There is no back-pressure (a client that never reads
 * grows the write queue), as in libuv's own echo examples. Prints nothing on
 * stdout, one "listening on" line on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "server.h"

#define DEFAULT_PORT 7000
#define BUF_SIZE 4096 /* the per-connection read buffer */

struct conn {
	uv_tcp_t tcp; /* first: the handle's address is the connection's */
	char buf[BUF_SIZE];
};

/* A write the socket could not take at once, with its own copy of the bytes. */
struct write_req {
	uv_write_t req;
	char data[];
};

static void on_close(uv_handle_t *h)
{
	free(h); /* the struct conn */
}

static void conn_close(struct conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)h;

	(void)suggested;
	*buf = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_write(uv_write_t *req, int status)
{
	struct conn *c = (struct conn *)req->handle;

	free(req);
	if (status < 0 && status != UV_ECANCELED)
		conn_close(c);
}

/* Sends data[0..len) back: what uv_try_write does not take is copied and queued. */
static void echo(struct conn *c, const char *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);

	if (n == (int)len)
		return;
	if (n < 0 && n != UV_EAGAIN) {
		conn_close(c);
		return;
	}
	if (n < 0)
		n = 0;

	struct write_req *w = malloc(sizeof *w + len - (size_t)n);

	if (!w) {
		conn_close(c);
		return;
	}
	memcpy(w->data, data + n, len - (size_t)n);
	b = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
		free(w);
		conn_close(c);
	}
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)s;

	if (nread < 0) /* UV_EOF or an error */
		conn_close(c);
	else if (nread > 0)
		echo(c, buf->base, (size_t)nread);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct conn *c;

	if (status < 0) {
		fprintf(stderr, "echo_server: accept: %s\n", uv_strerror(status));
		return;
	}
	c = malloc(sizeof *c);
	if (!c || uv_tcp_init(server->loop, &c->tcp)) {
		free(c);
		return;
	}
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
		conn_close(c);
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, "echo_server", DEFAULT_PORT);
}
