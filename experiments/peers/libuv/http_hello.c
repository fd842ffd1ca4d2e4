/* SPDX-License-Identifier: MIT */
/*
 * experiments/peers/libuv/http_hello.c: the E11 HTTP "hello" server on libuv
 * (the peer of experiments/peers/tokio/src/bin/http_hello.rs and of the
 * Volt-C HTTP example), driven by wrk through experiments/net_bench.sh.
 *
 *     http_hello [--port P] [--workers N]
 *
 * N workers are N threads, each with its own uv_loop_t and its own listening
 * socket on 127.0.0.1:P, sharing the port with SO_REUSEPORT (all bound and
 * listening before the first thread starts), as in echo_server.c. A
 * connection (TCP_NODELAY) serves HTTP/1.1 keep-alive: it reads into its own
 * 4096-byte buffer and, for each complete request there (the head ends with
 * "\r\n\r\n"; several pipelined requests in one read and a request split
 * across reads both work), answers with the fixed response below: one write
 * per read, cut from a static block of RESP_BATCH copies (uv_try_write
 * first; the rest with uv_write, which needs no copy of static bytes).
 * Bodies are not supported (the load is GETs); a head that does not fit in
 * the buffer, EOF or an error closes the connection.
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

#define DEFAULT_PORT 8080
#define BUF_SIZE 4096 /* the per-connection request buffer */
#define RESP_BATCH 64 /* responses in the static block */

static const char RESPONSE[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
#define RESP_LEN (sizeof RESPONSE - 1)

static char responses[RESP_BATCH * RESP_LEN]; /* RESPONSE, RESP_BATCH times */

struct conn {
	uv_tcp_t tcp;  /* first: the handle's address is the connection's */
	size_t filled; /* bytes of buf holding a request not yet complete */
	char buf[BUF_SIZE];
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

/* Reads append to the request so far; a full buffer gives UV_ENOBUFS in on_read. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)h;

	(void)suggested;
	*buf = uv_buf_init(c->buf + c->filled, (unsigned)(sizeof c->buf - c->filled));
}

static void on_write(uv_write_t *req, int status)
{
	struct conn *c = (struct conn *)req->handle;

	free(req);
	if (status < 0 && status != UV_ECANCELED)
		conn_close(c);
}

/* Sends n responses: try the socket first, queue what it did not take. */
static void respond(struct conn *c, size_t n)
{
	while (n) {
		size_t k = n < RESP_BATCH ? n : RESP_BATCH, len = k * RESP_LEN;
		uv_buf_t b = uv_buf_init(responses, (unsigned)len);
		int done = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		uv_write_t *req;

		n -= k;
		if (done == (int)len)
			continue;
		if (done < 0 && done != UV_EAGAIN) {
			conn_close(c);
			return;
		}
		if (done < 0)
			done = 0;
		b = uv_buf_init(responses + done, (unsigned)(len - (size_t)done));
		req = malloc(sizeof *req);
		if (!req || uv_write(req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
			free(req);
			conn_close(c);
			return;
		}
	}
}

/* Where the first "\r\n\r\n" in p[0..len) ends, or 0. */
static size_t head_end(const char *p, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
			return i + 1;
	return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)s;
	size_t scan, done = 0, n = 0, end;

	(void)buf;
	if (nread < 0) { /* UV_EOF, an error, or UV_ENOBUFS: a head too large */
		conn_close(c);
		return;
	}
	/* Only the new bytes and the 3 before them can complete a head. */
	scan = c->filled > 3 ? c->filled - 3 : 0;
	c->filled += (size_t)nread;
	while ((end = head_end(c->buf + scan, c->filled - scan))) {
		done = scan + end;
		scan = done;
		n++;
	}
	memmove(c->buf, c->buf + done, c->filled - done);
	c->filled -= done;
	respond(c, n);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct conn *c;

	if (status < 0) {
		fprintf(stderr, "http_hello: accept: %s\n", uv_strerror(status));
		return;
	}
	c = malloc(sizeof *c);
	if (!c || uv_tcp_init(server->loop, &c->tcp)) {
		free(c);
		return;
	}
	c->filled = 0;
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
	for (size_t i = 0; i < RESP_BATCH; i++)
		memcpy(responses + i * RESP_LEN, RESPONSE, RESP_LEN);
	return server_main(argc, argv, "http_hello", DEFAULT_PORT);
}
