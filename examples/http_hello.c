/* SPDX-License-Identifier: MIT */
/*
 * http_hello.c: an HTTP/1.1 keep-alive server that answers every request
 * with "Hello, World!" (the load generator's classic: wrk, ab -k, curl).
 *
 *	http_hello [--addr HOST:PORT | --port P] [--driver auto|uring|epoll]
 *	           [--sched POLICY] [--workers N] [--max-conns N]
 *	build/examples/http_hello --port 8080 &
 *	curl http://127.0.0.1:8080/
 *	wrk -t1 -c50 -d3s http://127.0.0.1:8080/
 *
 * The response is always the same 78 bytes:
 *	HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!
 * so none is ever formatted: a static block holds it RESP_BATCH times over,
 * and answering k requests is one volt_stream_write_all of the first k
 * copies.
 *
 * One stackless task per connection reads into its 4 KiB request buffer. A
 * request is complete when its head ends in "\r\n\r\n": one read may hold
 * several pipelined requests (they are all answered by one write) and a
 * request may arrive over several reads (its start stays in the buffer; the
 * search for "\r\n\r\n" resumes where it stopped). What follows the last
 * complete head moves to the front of the buffer. Then:
 * - a head that fills the whole buffer without ending gets
 *   "431 Request Header Fields Too Large" and the connection is closed (a
 *   client still sending then may see a reset instead of the 431);
 * - "Connection: close" (or HTTP/1.0 without "Connection: keep-alive") is
 *   honoured: that request is answered, what follows it is ignored, and the
 *   connection is closed;
 * - request bodies are not supported (the load is GETs): a body would be
 *   read as the start of the next head;
 * - end of stream or an error closes the connection.
 * The accept loop and the options are examples/server.h's; the default
 * address is 127.0.0.1:8080.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <volt.h>

#include "server.h"

#define NAME "http_hello"
#define DEFAULT_ADDR "127.0.0.1:8080"
#define BUF_SIZE 4096 /* the request buffer of one connection (as the E11 peers) */
#define RESP_BATCH 512      /* responses one write can carry (a minimal GET is 18 bytes) */

static const char RESPONSE[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
#define RESP_LEN (sizeof RESPONSE - 1)

static const char TOO_LARGE[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
				"Content-Length: 0\r\nConnection: close\r\n\r\n";

static char responses[RESP_BATCH * RESP_LEN]; /* RESPONSE, RESP_BATCH times; filled in main */

/* ---- reading requests */

/* Whether the header value v (n bytes) holds `token`, ignoring case. */
static bool has_token(const char *v, size_t n, const char *token)
{
	size_t t = strlen(token);

	for (size_t i = 0; i + t <= n; i++)
		if (!strncasecmp(v + i, token, t))
			return true;
	return false;
}

/* Whether the client asks to close after the request whose head is h (n bytes). */
static bool wants_close(const char *h, size_t n)
{
	const char *line = h, *end = h + n, *eol;
	bool http10 = false, close = false, keep_alive = false;

	for (; line < end && (eol = memchr(line, '\n', (size_t)(end - line))) != NULL;
	     line = eol + 1) {
		size_t len = (size_t)(eol - line);

		if (len && line[len - 1] == '\r')
			len--;
		if (line == h) /* the request line: "GET / HTTP/1.1" */
			http10 = len >= 8 && !memcmp(line + len - 8, "HTTP/1.0", 8);
		else if (len >= 11 && !strncasecmp(line, "Connection:", 11)) {
			close |= has_token(line + 11, len - 11, "close");
			keep_alive |= has_token(line + 11, len - 11, "keep-alive");
		}
	}
	return close || (http10 && !keep_alive);
}

struct conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	size_t have;    /* bytes in buf: the start of a request not complete yet */
	size_t scanned; /* bytes of buf already searched for "\r\n\r\n" */
	size_t owed;    /* requests complete but not answered yet */
	size_t batch;   /* responses in the write in flight */
	bool closing;   /* a request asked to close: answer, then close */
	char buf[BUF_SIZE];
};

/*
 * Counts the complete heads in buf into c->owed (stopping after one that
 * asks to close) and moves the incomplete rest to the front.
 */
static void take_requests(struct conn *c)
{
	size_t start = 0; /* where the current head begins */
	size_t i = c->scanned >= 3 ? c->scanned - 3 : 0; /* "\r\n\r\n" may straddle reads */

	for (; i + 4 <= c->have; i++) {
		if (memcmp(c->buf + i, "\r\n\r\n", 4))
			continue;
		c->owed++;
		if (wants_close(c->buf + start, i + 4 - start)) {
			c->closing = true;
			c->have = c->scanned = 0;
			return;
		}
		start = i + 4;
		i += 3;
	}
	memmove(c->buf, c->buf + start, c->have - start);
	c->have -= start;
	c->scanned = c->have;
}

/* ---- one connection */

static enum volt_poll conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct conn *c = (struct conn *)f;

	VOLT_BEGIN(f);
	while (!c->closing) {
		VOLT_AWAIT(f, cx,
			   volt_stream_read(&c->op, c->s, c->buf + c->have, BUF_SIZE - c->have));
		if (c->op.result <= 0) /* 0: the client is done; < 0: an error */
			break;
		c->have += (size_t)c->op.result;
		take_requests(c);
		while (c->owed) { /* one write, unless more than RESP_BATCH are owed */
			c->batch = c->owed < RESP_BATCH ? c->owed : RESP_BATCH;
			VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, responses,
								c->batch * RESP_LEN));
			if (c->op.result < 0)
				break;
			c->owed -= c->batch;
		}
		if (c->owed) /* the write failed */
			break;
		if (c->have == BUF_SIZE) { /* a head larger than the buffer */
			VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, TOO_LARGE,
								sizeof TOO_LARGE - 1));
			break;
		}
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
	for (size_t i = 0; i < RESP_BATCH; i++)
		memcpy(responses + i * RESP_LEN, RESPONSE, RESP_LEN);
	return server_main(argc, argv, NAME, DEFAULT_ADDR, app);
}
