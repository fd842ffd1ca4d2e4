/* SPDX-License-Identifier: MIT */
/*
 * tests/test_bufio.c: the buffered reader and writer, copy and
 * copy_bidirectional (volt/bufio.h) over TCP streams, pipes and Unix
 * socketpairs (tests/test_rw.c's transports), each case on every driver and
 * transport, under every policy:
 *
 *  bufio_line_overflow     read_line over the maximum is -EMSGSIZE (owned
 *                          buffer, grown) or read_until -ENOBUFS (caller's
 *                          buffer too small) and the next reads return every
 *                          byte; lines keep "\r\n" or "\n"; an empty line is
 *                          1; a last line without '\n' at EOF, then 0
 *  bufio_until_refills     read_until of records that span many refills of a
 *                          small buffer, from a peer writing 7-byte bursts
 *  bufio_read_bypass       a read of a whole buffer or more with the buffer
 *                          empty goes straight to the caller (the reader's
 *                          buffer stays untouched, direct_reads counts it);
 *                          fill_buf/consume parse in place
 *  bufio_writer_flush      many small writes through a small buffer to a slow
 *                          reader (short writes), flush, every byte in order
 *  bufio_writer_bypass     a small write stays buffered (nothing reaches the
 *                          peer); a large one flushes it, then goes straight
 *                          through (the buffer's tail untouched)
 *  bufio_copy_pipe         4 MiB through two pipes with volt_copy, and with
 *                          volt_copy_buffered after a read from the reader
 *  bufio_copy_bidi_echo    copy_bidirectional between a client and the echo
 *                          server: both directions, shutdown propagation, counts
 *  bufio_cancel_keeps_bytes a read_line cancelled while it waits keeps the
 *                          partial line it had buffered
 *  bufio_copy_cancel_timeout a copy and a copy_bidirectional cancelled in
 *                          flight (-ECANCELED, buffers freed); a timed-out
 *                          read_line loses nothing
 *  bufio_bad_input         -EINVAL for zero capacities, NULL buffers, bad
 *                          delimiters, uninitialised readers and writers
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_helpers.h"

/* The plumbing of tests/test_rw.c. */
enum { VT_IO_TCP, VT_IO_PIPE, VT_IO_UNIX, VT_IO_KINDS };
struct vt_io_peer {
	int fd;
	size_t len;
	uint32_t seed;
	size_t burst;
	int pause_us;
	bool expect_eof;
	bool close_after;
	pthread_t thread;
	atomic_bool ok;
	size_t got;
};
const char *vt_io_kind_name(int kind);
struct volt_rt *vt_io_rt(const char *policy, const char *driver, int kind);
struct volt_stream vt_io_open(struct volt_rt *rt, int kind, bool runtime_writes, int *peer);
void vt_io_close(struct volt_stream s);
bool vt_io_is_pattern(const unsigned char *b, size_t len, uint32_t seed, size_t offset);
void vt_io_peer_write(struct vt_io_peer *p);
void vt_io_peer_read(struct vt_io_peer *p);
void vt_io_peer_join(struct vt_io_peer *p);

#define FOR_EACH_CASE(rt, d, kind)                                                  \
	VT_FOR_EACH_DRIVER(d)                                                       \
	for (int kind = 0; kind < VT_IO_KINDS; kind++)                              \
		for (struct volt_rt *rt = vt_io_rt(policy, d, kind); rt;                 \
		     volt_rt_free(rt), rt = NULL)

#define FOREVER VOLT_DURATION_MAX

/* A plain thread writing text to fd in bursts, then closing it. */
struct text_peer {
	int fd;
	const char *text;
	size_t len, burst;
	int pause_us;
	pthread_t thread;
};

static void *text_writer(void *arg)
{
	struct text_peer *p = arg;

	for (size_t off = 0; off < p->len;) {
		size_t n = p->len - off < p->burst ? p->len - off : p->burst;
		ssize_t k = write(p->fd, p->text + off, n);

		CHECK_MSG(k > 0, "peer write: %zd (%s)", k, strerror(errno));
		off += (size_t)k;
		if (p->pause_us)
			vt_sleep_us(p->pause_us);
	}
	close(p->fd);
	return NULL;
}

static void text_start(struct text_peer *p)
{
	CHECK_OK(pthread_create(&p->thread, NULL, text_writer, p));
}

static void text_join(struct text_peer *p)
{
	CHECK_OK(pthread_join(p->thread, NULL));
}

/* --------------------------------------------------------------- lines */

VOLT_RT_TEST(bufio_line_overflow)
{
	const char *d;
	char text[256];
	size_t len = 0;

	len += (size_t)sprintf(text + len, "short\r\n");
	memset(text + len, 'x', 100);
	len += 100;
	len += (size_t)sprintf(text + len, "\n\ntail");

	FOR_EACH_CASE(rt, d, kind) {
		for (int caller_buf = 0; caller_buf < 2; caller_buf++) {
			struct text_peer p = { .text = text, .len = len, .burst = 5,
					       .pause_us = 50 };
			struct volt_stream s = vt_io_open(rt, kind, false, &p.fd);
			struct volt_bufreader r;
			struct volt_bufread_op op;
			unsigned char small[16];
			char line[128];
			size_t got = 0;
			struct volt_future *f;
			ssize_t n;

			CHECK_OK(volt_bufreader_init(&r, volt_rw_stream(s),
						     caller_buf ? small : NULL,
						     caller_buf ? sizeof(small) : 8));
			text_start(&p);
			CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, 32, FOREVER), 7);
			CHECK_STR_EQ(line, "short\r\n");
			/* 101 bytes with the '\n': over the maximum, or over the caller's buffer */
			if (caller_buf) {
				n = volt_bufreader_read_until_blocking(&r, '\n', line, 64, FOREVER);
				CHECK_EQ(n, -ENOBUFS);
				CHECK_EQ(volt_bufreader_buffered(&r), sizeof(small));
			} else {
				n = volt_bufreader_read_line_blocking(&r, line, 32, FOREVER);
				CHECK_EQ(n, -EMSGSIZE);
				CHECK_GE(volt_bufreader_buffered(&r), 31);
				CHECK_LE(r.cap, 31); /* grown, at most to the maximum */
			}
			/* nothing lost: the whole line comes back, by plain reads */
			while (got < 101) {
				n = volt_bufreader_read_blocking(&r, line + got, 101 - got,
								 FOREVER);
				CHECK_GT(n, 0);
				got += (size_t)n;
			}
			for (size_t i = 0; i < 100; i++)
				CHECK_EQ(line[i], 'x');
			CHECK_EQ(line[100], '\n');
			/* a bare '\n', then a last line without one, then the end */
			f = volt_bufreader_read_line(&op, &r, line, 32);
			CHECK_OK(volt_block_on(rt, f, NULL));
			CHECK_EQ(op.result, 1);
			CHECK_EQ(op.delimited, 1);
			CHECK_STR_EQ(line, "\n");
			f = volt_bufreader_read_line(&op, &r, line, 32);
			CHECK_OK(volt_block_on(rt, f, NULL));
			CHECK_EQ(op.result, 4);
			CHECK_EQ(op.delimited, 0);
			CHECK_STR_EQ(line, "tail");
			n = volt_bufreader_read_line_blocking(&r, line, 32, FOREVER);
			CHECK_EQ(n, 0);
			CHECK_EQ(volt_bufreader_read_until_blocking(&r, ';', line, 32, FOREVER), 0);
			text_join(&p);
			volt_bufreader_free(&r);
			vt_io_close(s);
		}
	}
}

/* Record i: 1 + (i * 7) % 60 letters, then ';'. */
static size_t record(unsigned i, char *out)
{
	size_t n = 1 + (i * 7u) % 60u;

	for (size_t k = 0; k < n; k++)
		out[k] = (char)('a' + (i + k) % 26);
	out[n] = ';';
	return n + 1;
}

#define RECORDS 200

VOLT_RT_TEST(bufio_until_refills)
{
	const char *d;
	char *text = malloc(RECORDS * 62);
	size_t len = 0;

	CHECK(text != NULL);
	for (unsigned i = 0; i < RECORDS; i++)
		len += record(i, text + len);
	FOR_EACH_CASE(rt, d, kind) {
		struct text_peer p = { .text = text, .len = len, .burst = 7, .pause_us = 30 };
		struct volt_stream s = vt_io_open(rt, kind, false, &p.fd);
		struct volt_bufreader r;
		unsigned char buf[64];
		char want[64], got[64];

		CHECK_OK(volt_bufreader_init(&r, volt_rw_stream(s), buf, sizeof(buf)));
		text_start(&p);
		for (unsigned i = 0; i < RECORDS; i++) {
			size_t n = record(i, want);

			ssize_t k = volt_bufreader_read_until_blocking(&r, ';', got, sizeof(got),
								       FOREVER);

			CHECK_EQ(k, (ssize_t)n);
			CHECK(!memcmp(got, want, n));
		}
		CHECK_EQ(volt_bufreader_read_until_blocking(&r, ';', got, sizeof(got), FOREVER), 0);
		CHECK_EQ(r.direct_reads, 0);
		text_join(&p);
		volt_bufreader_free(&r);
		vt_io_close(s);
	}
	free(text);
}

/* -------------------------------------------------------- reader copies */

VOLT_RT_TEST(bufio_read_bypass)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		struct vt_io_peer p = { .len = 8192, .seed = 21, .burst = 8192,
					.close_after = true };
		struct volt_stream s = vt_io_open(rt, kind, false, &p.fd);
		struct volt_bufreader r;
		struct volt_bufread_op op;
		unsigned char buf[64], *in = malloc(p.len);
		size_t got = 0;

		CHECK(in != NULL);
		memset(buf, 0xEE, sizeof(buf));
		CHECK_OK(volt_bufreader_init(&r, volt_rw_stream(s), buf, sizeof(buf)));
		vt_io_peer_write(&p);
		/* the buffer is empty and the read wants more than it holds: straight to `in` */
		ssize_t n = volt_bufreader_read_blocking(&r, in, 4096, FOREVER);

		CHECK_GT(n, 0);
		CHECK_EQ(r.direct_reads, 1);
		CHECK_EQ(volt_bufreader_buffered(&r), 0);
		for (size_t i = 0; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], 0xEE);
		got = (size_t)n;
		/* read_exact of at least a buffer's worth: straight again */
		CHECK_OK(volt_block_on(rt, volt_bufreader_read_exact(&op, &r, in + got, 1000),
				       NULL));
		CHECK_EQ(op.result, 1000);
		CHECK_EQ(op.done, 1000);
		CHECK_EQ(r.direct_reads, 2);
		for (size_t i = 0; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], 0xEE);
		got += 1000;
		/* a small read goes through the buffer */
		n = volt_bufreader_read_blocking(&r, in + got, 10, FOREVER);
		CHECK_GT(n, 0);
		CHECK_EQ(r.direct_reads, 2);
		got += (size_t)n;
		/* the rest in place: fill_buf, look, consume */
		for (;;) {
			n = volt_bufreader_fill_buf_blocking(&r, FOREVER);
			CHECK_GE(n, 0);
			if (!n)
				break;
			CHECK_EQ((size_t)n, volt_bufreader_buffered(&r));
			CHECK(vt_io_is_pattern(volt_bufreader_data(&r), (size_t)n, p.seed, got));
			CHECK((const unsigned char *)volt_bufreader_data(&r) >= buf &&
			      (const unsigned char *)volt_bufreader_data(&r) < buf + sizeof(buf));
			memcpy(in + got, volt_bufreader_data(&r), (size_t)n);
			volt_bufreader_consume(&r, (size_t)n);
			got += (size_t)n;
		}
		CHECK_EQ(got, p.len);
		CHECK(vt_io_is_pattern(in, p.len, p.seed, 0));
		CHECK_EQ(r.direct_reads, 2);
		vt_io_peer_join(&p);
		volt_bufreader_free(&r);
		vt_io_close(s);
		free(in);
	}
}

/* --------------------------------------------------------------- writer */

VOLT_RT_TEST(bufio_writer_flush)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		size_t len = VT_SCALE(1u << 20), chunk = 1000;
		struct vt_io_peer p = { .len = len, .seed = 23, .burst = 512, .pause_us = 20,
					.expect_eof = true };
		struct volt_stream s = vt_io_open(rt, kind, true, &p.fd);
		struct volt_bufwriter w;
		unsigned char *out = malloc(len);

		CHECK(out != NULL);
		vt_pattern(out, len, p.seed, 0);
		CHECK_OK(volt_bufwriter_init(&w, volt_rw_stream(s), NULL, 4096));
		vt_io_peer_read(&p);
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;

			CHECK_EQ(volt_bufwriter_write_blocking(&w, out + off, n, FOREVER),
				 (ssize_t)n);
			CHECK_LE(volt_bufwriter_buffered(&w), 4096);
		}
		CHECK_OK(volt_bufwriter_flush_blocking(&w, FOREVER));
		CHECK_EQ(volt_bufwriter_buffered(&w), 0);
		CHECK_EQ(w.direct_writes, 0);
		CHECK_OK(volt_rw_shutdown_write(volt_rw_stream(s)));
		vt_io_peer_join(&p);
		CHECK(atomic_load(&p.ok));
		volt_bufwriter_free(&w);
		vt_io_close(s);
		close(p.fd);
		free(out);
	}
}

VOLT_RT_TEST(bufio_writer_bypass)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		struct vt_io_peer p = { .len = 1010, .seed = 25, .burst = 1010 };
		struct volt_stream s = vt_io_open(rt, kind, true, &p.fd);
		struct volt_bufwriter w;
		struct volt_bufwrite_op op;
		unsigned char buf[64], out[1010];
		struct pollfd pfd = { .fd = p.fd, .events = POLLIN };

		memset(buf, 0xEE, sizeof(buf));
		vt_pattern(out, sizeof(out), p.seed, 0);
		CHECK_OK(volt_bufwriter_init(&w, volt_rw_stream(s), buf, sizeof(buf)));
		CHECK_EQ(volt_bufwriter_write_blocking(&w, out, 10, FOREVER), 10);
		CHECK_EQ(volt_bufwriter_buffered(&w), 10);
		CHECK_EQ(poll(&pfd, 1, 0), 0); /* nothing written yet */
		CHECK_OK(volt_block_on(rt, volt_bufwriter_write(&op, &w, out + 10, 1000), NULL));
		CHECK_EQ(op.result, 1000);
		CHECK_EQ(op.done, 1000);
		CHECK_EQ(w.direct_writes, 1);
		CHECK_EQ(volt_bufwriter_buffered(&w), 0);
		for (size_t i = 10; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], 0xEE); /* the 1000 bytes never passed through it */
		vt_io_peer_read(&p);
		vt_io_peer_join(&p);
		CHECK(atomic_load(&p.ok));
		volt_bufwriter_free(&w);
		vt_io_close(s);
		close(p.fd);
	}
}

/* ----------------------------------------------------------------- copy */

struct pipe_end {
	struct volt_stream s;
	size_t len, offset; /* reader: expects the pattern from offset, len bytes */
	uint32_t seed;
	bool ok;
	pthread_t thread;
};

static void *pipe_feeder(void *arg)
{
	struct pipe_end *e = arg;
	unsigned char *b = malloc(e->len);

	CHECK(b != NULL);
	vt_pattern(b, e->len, e->seed, 0);
	CHECK_EQ(volt_rw_write_all_blocking(volt_rw_stream(e->s), b, e->len, FOREVER),
		 (ssize_t)e->len);
	CHECK_OK(volt_stream_close(e->s));
	free(b);
	return NULL;
}

static void *pipe_drainer(void *arg)
{
	struct pipe_end *e = arg;
	unsigned char *b = malloc(e->len + 1); /* + 1: room to see a byte too many */
	size_t got = 0;
	ssize_t n;

	CHECK(b != NULL);
	while ((n = volt_rw_read_blocking(volt_rw_stream(e->s), b + got, e->len - got + 1,
					  FOREVER)) > 0) {
		got += (size_t)n;
		CHECK_LE(got, e->len);
	}
	CHECK_EQ(n, 0);
	e->ok = got == e->len && vt_io_is_pattern(b, got, e->seed, e->offset);
	free(b);
	return NULL;
}

VOLT_RT_TEST(bufio_copy_pipe)
{
	const char *d;
	size_t len = VT_SCALE(4u << 20);

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = vt_io_rt(policy, d, VT_IO_PIPE);

		if (!rt)
			continue;
		for (int buffered = 0; buffered < 2; buffered++) {
			struct volt_stream rd1, wr1, rd2, wr2;
			struct pipe_end feed, drain;
			int64_t copied;

			CHECK_OK(volt_pipe(rt, &rd1, &wr1));
			CHECK_OK(volt_pipe(rt, &rd2, &wr2));
			feed = (struct pipe_end){ .s = wr1, .len = len, .seed = 31 + buffered };
			drain = (struct pipe_end){ .s = rd2, .len = len - 10 * buffered,
						   .offset = 10 * buffered, .seed = 31 + buffered };
			CHECK_OK(pthread_create(&feed.thread, NULL, pipe_feeder, &feed));
			CHECK_OK(pthread_create(&drain.thread, NULL, pipe_drainer, &drain));
			if (!buffered) {
				copied = volt_copy_blocking(volt_rw_stream(rd1),
							    volt_rw_stream(wr2), NULL, 0,
							    FOREVER);
				CHECK_EQ(copied, (int64_t)len);
			} else {
				struct volt_bufreader r;
				struct volt_copy op;
				unsigned char first[10];

				CHECK_OK(volt_bufreader_init(&r, volt_rw_stream(rd1), NULL, 1000));
				CHECK_EQ(volt_bufreader_read_exact_blocking(&r, first, 10, FOREVER),
					 10);
				CHECK(vt_io_is_pattern(first, 10, feed.seed, 0));
				/* copied from there first */
				CHECK_GT(volt_bufreader_buffered(&r), 0);
				CHECK_OK(volt_block_on(rt, volt_copy_buffered(&op, &r,
									      volt_rw_stream(wr2)),
						       NULL));
				CHECK_EQ(op.result, (int64_t)len - 10);
				CHECK_EQ(op.total, op.result);
				volt_bufreader_free(&r);
			}
			CHECK_OK(volt_stream_close(wr2));
			CHECK_OK(pthread_join(feed.thread, NULL));
			CHECK_OK(pthread_join(drain.thread, NULL));
			CHECK(drain.ok);
			CHECK_OK(volt_stream_close(rd1));
			CHECK_OK(volt_stream_close(rd2));
		}
		volt_rt_free(rt);
	}
}

struct bidi_run {
	struct volt_rt *rt;
	struct volt_stream a, b;
	int result;
	int64_t ab, ba;
	pthread_t thread;
};

static void *bidi_thread(void *arg)
{
	struct bidi_run *br = arg;

	br->result = volt_copy_bidirectional_blocking(volt_rw_stream(br->a), volt_rw_stream(br->b),
						      &br->ab, &br->ba, FOREVER);
	return NULL;
}

VOLT_RT_TEST(bufio_copy_bidi_echo)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = vt_io_rt(policy, d, VT_IO_TCP);
		size_t len = VT_SCALE(256u * 1024u);
		struct volt_listener echo;
		struct volt_addr addr;
		struct volt_join *server;
		struct bidi_run br = { .rt = rt };
		struct vt_io_peer out = { .len = len, .seed = 41, .burst = 1500, .pause_us = 0 };
		struct vt_io_peer in = { .len = len, .seed = 41, .burst = 4096,
					 .expect_eof = true };
		int peer;
		char addr_text[VOLT_ADDR_STRLEN];

		if (!rt)
			continue;
		vt_echo_start(rt, &echo, &addr, NULL, &server);
		CHECK_GT(volt_addr_format(&addr, addr_text, sizeof(addr_text)), 0);
		CHECK_OK(volt_tcp_connect_blocking(rt, addr_text, &br.a, FOREVER));
		br.b = vt_io_open(rt, VT_IO_TCP, false, &peer);
		CHECK_OK(pthread_create(&br.thread, NULL, bidi_thread, &br));
		/* the peer writes the pattern and reads it back through the echo */
		out.fd = in.fd = peer;
		vt_io_peer_read(&in);
		vt_io_peer_write(&out);
		vt_io_peer_join(&out);
		CHECK_OK(shutdown(peer, SHUT_WR)); /* b's EOF: shut a's write, the echo ends */
		vt_io_peer_join(&in);             /* every byte, then EOF from a's end */
		CHECK(atomic_load(&in.ok));
		CHECK_OK(pthread_join(br.thread, NULL));
		CHECK_OK(br.result);
		CHECK_EQ(br.ab, (int64_t)len);
		CHECK_EQ(br.ba, (int64_t)len);
		close(peer);
		CHECK_OK(volt_stream_close(br.a));
		CHECK_OK(volt_stream_close(br.b));
		CHECK_OK(volt_listener_close(echo));
		vt_join(server);
		volt_rt_free(rt);
	}
}

/* --------------------------------------------------------- cancellation */

VOLT_RT_TEST(bufio_cancel_keeps_bytes)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		int peer;
		struct volt_stream s = vt_io_open(rt, kind, false, &peer);
		struct volt_bufreader r;
		struct volt_bufread_op op;
		atomic_int pending = 0;
		struct volt_join *j;
		char line[32];

		CHECK_OK(volt_bufreader_init(&r, volt_rw_stream(s), NULL, 16));
		CHECK_EQ(write(peer, "abc", 3), 3);
		/* the partial line is in the reader's buffer before the read_line starts */
		CHECK_EQ(volt_bufreader_fill_buf_blocking(&r, FOREVER), 3);
		op.result = -12345;
		j = vt_spawn_in_task(rt, volt_bufreader_read_line(&op, &r, line, sizeof(line)),
				     &pending);
		VT_WAIT_FOR(atomic_load(&pending));
		CHECK_OK(volt_join_cancel(j));
		CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
		CHECK_EQ(op.result, -ECANCELED);
		CHECK_EQ(op.done, 0);
		CHECK_EQ(volt_bufreader_buffered(&r), 3);
		CHECK_EQ(write(peer, "def\nrest", 8), 8);
		CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), FOREVER), 7);
		CHECK_STR_EQ(line, "abcdef\n");
		close(peer);
		CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), FOREVER), 4);
		CHECK_STR_EQ(line, "rest");
		volt_bufreader_free(&r);
		vt_io_close(s);
	}
}

/*
 * A copy and a copy_bidirectional, each waiting on a read, cancelled with
 * their task: the result is -ECANCELED and the allocated buffers are gone
 * (LSan checks under ASan); then a timed-out blocking read_line (-ETIMEDOUT)
 * loses nothing of what is sent after it.
 */
VOLT_RT_TEST(bufio_copy_cancel_timeout)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		int peer, peer2;
		struct volt_stream s = vt_io_open(rt, kind, false, &peer);
		struct volt_stream s2 = vt_io_open(rt, VT_IO_TCP, false, &peer2);
		struct volt_copy cop;
		struct volt_copy_bidi bop;
		struct volt_bufreader r;
		atomic_int pending = 0;
		struct volt_join *j;
		char line[32];

		/* copy from s (nothing comes) to s2 */
		j = vt_spawn_in_task(rt, volt_copy(&cop, volt_rw_stream(s), volt_rw_stream(s2),
						   NULL, 0), &pending);
		VT_WAIT_FOR(atomic_load(&pending));
		CHECK_OK(volt_join_cancel(j));
		CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
		CHECK_EQ(cop.result, -ECANCELED);
		CHECK_EQ(cop.total, 0);
		CHECK_PTR_EQ(cop.r, NULL);
		CHECK_PTR_EQ(cop.own.buf, NULL);

		/* both directions between s and s2 (sockets: duplex), nothing comes either way */
		if (kind != VT_IO_PIPE) {
			atomic_store(&pending, 0);
			j = vt_spawn_in_task(rt, volt_copy_bidirectional(&bop, volt_rw_stream(s),
									 volt_rw_stream(s2)),
					     &pending);
			VT_WAIT_FOR(atomic_load(&pending));
			CHECK_OK(volt_join_cancel(j));
			CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
			CHECK_EQ(bop.result, -ECANCELED);
			CHECK_EQ(bop.live, 0);
			CHECK_PTR_EQ(bop.ab.own.buf, NULL);
			CHECK_PTR_EQ(bop.ba.own.buf, NULL);
		}

		CHECK_OK(volt_bufreader_init(&r, volt_rw_stream(s), NULL, 8));
		CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), volt_ms(20)),
			 -ETIMEDOUT);
		CHECK_EQ(write(peer, "after\n", 6), 6);
		CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), FOREVER), 6);
		CHECK_STR_EQ(line, "after\n");
		volt_bufreader_free(&r);
		close(peer);
		close(peer2);
		vt_io_close(s);
		vt_io_close(s2);
	}
}

/* ------------------------------------------------------------ bad input */

VOLT_RT_TEST(bufio_bad_input)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_listener l;
	struct volt_stream s;
	int peer = vt_tcp_pair(rt, &l, &s);
	struct volt_rw rw = volt_rw_stream(s), none = { 0 };
	struct volt_bufreader r, zr = { 0 };
	struct volt_bufwriter w, zw = { 0 };
	struct volt_bufread_op rop;
	struct volt_bufwrite_op wop;
	struct volt_copy cop;
	struct volt_copy_bidi bop;
	char buf[8];

	CHECK_EQ(volt_bufreader_init(&r, rw, NULL, 0), -EINVAL);
	CHECK_EQ(volt_bufreader_init(&r, rw, buf, 0), -EINVAL);
	CHECK_EQ(volt_bufreader_init(&r, none, NULL, 8), -EINVAL);
	CHECK_EQ(volt_bufreader_init(NULL, rw, NULL, 8), -EINVAL);
	CHECK_EQ(volt_bufwriter_init(&w, rw, NULL, 0), -EINVAL);
	CHECK_EQ(volt_bufwriter_init(&w, none, buf, 8), -EINVAL);
	CHECK_OK(volt_bufreader_init(&r, rw, buf, sizeof(buf)));
	CHECK_OK(volt_bufwriter_init(&w, rw, NULL, 8));

	CHECK_EQ(volt_bufreader_read_blocking(&r, NULL, 4, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_read_exact_blocking(&r, NULL, 4, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_read_until_blocking(&r, '\n', buf, 0, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_read_until_blocking(&r, 300, buf, 8, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_read_until_blocking(&r, -1, buf, 8, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_read_line_blocking(&r, NULL, 8, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_read_line_blocking(&r, buf, 1, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_read_blocking(&zr, buf, 4, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufreader_fill_buf_blocking(NULL, FOREVER), -EINVAL);
	CHECK_OK(volt_block_on(rt, volt_bufreader_read(&rop, &zr, buf, 1), NULL));
	CHECK_EQ(rop.result, -EINVAL);

	CHECK_EQ(volt_bufwriter_write_blocking(&w, NULL, 4, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufwriter_write_blocking(&zw, buf, 4, FOREVER), -EINVAL);
	CHECK_EQ(volt_bufwriter_flush_blocking(NULL, FOREVER), -EINVAL);
	CHECK_OK(volt_block_on(rt, volt_bufwriter_flush(&wop, &zw), NULL));
	CHECK_EQ(wop.result, -EINVAL);
	/* nothing was buffered by the refused calls */
	CHECK_EQ(volt_bufwriter_buffered(&w), 0);
	CHECK_EQ(volt_bufreader_buffered(&r), 0);

	CHECK_EQ(volt_copy_blocking(rw, rw, buf, 0, FOREVER), -EINVAL);
	CHECK_EQ(volt_copy_blocking(none, rw, NULL, 0, FOREVER), -EINVAL);
	CHECK_EQ(volt_copy_blocking(rw, none, NULL, 0, FOREVER), -EINVAL);
	CHECK_OK(volt_block_on(rt, volt_copy_buffered(&cop, NULL, rw), NULL));
	CHECK_EQ(cop.result, -EINVAL);
	CHECK_OK(volt_block_on(rt, volt_copy_buffered(&cop, &zr, rw), NULL));
	CHECK_EQ(cop.result, -EINVAL);
	CHECK_OK(volt_block_on(rt, volt_copy_bidirectional(&bop, rw, none), NULL));
	CHECK_EQ(bop.result, -EINVAL);
	CHECK_EQ(volt_copy_bidirectional_blocking(none, rw, NULL, NULL, FOREVER), -EINVAL);

	volt_bufreader_free(&r);
	volt_bufwriter_free(&w);
	close(peer);
	CHECK_OK(volt_stream_close(s));
	CHECK_OK(volt_listener_close(l));
	volt_rt_free(rt);
}
