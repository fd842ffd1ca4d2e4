/* SPDX-License-Identifier: MIT */
/*
 * tests/test_rw.c: the stream ops table (volt/rw.h) over TCP streams,
 * pipes and Unix socketpairs, each case on every driver
 * (VT_FOR_EACH_DRIVER), for every transport, under every policy
 * (VOLT_RT_TEST):
 *
 *  rw_short_reads_eof    a peer writing in small bursts: read_exact assembles
 *                        them, read returns what is there, 0 at EOF (twice),
 *                        read_exact past the end is -EPIPE with done = 0
 *  rw_read_exact_midway  the stream ends inside a read_exact: -EPIPE, done =
 *                        the bytes that came, and they are the right ones
 *  rw_write_all_slow     write_all of 1 MiB to a peer that reads slowly (short
 *                        writes), then shutdown_write: the peer sees every
 *                        byte, then EOF; a pipe's end is closed by it
 *  rw_cancel_in_flight   a read cancelled (join cancel) while it waits never
 *                        writes into the caller's buffer, and the bytes sent
 *                        after the cancel go to the next read (ASan: nothing
 *                        leaks)
 *  rw_bad_input          -EINVAL for NULL buffers with a length, no ops,
 *                        NULL outputs; -EBADF for a descriptor not open
 *  rw_sim_unsupported    volt_pipe and volt_stream_from_fd refuse the `sim`
 *                        driver (-EOPNOTSUPP) and leave the descriptor alone
 *  rw_own_implementation an in-memory ops table (no runtime): each inner
 *                        future dropped once, read_line's exact boundary,
 *                        write_all and flush over short writes
 *
 * The plumbing (vt_io_*) is shared with tests/test_bufio.c, which declares it.
 * Timing is never asserted: sleeps only make a peer slow.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net_helpers.h"

/* ------------------------------------------------------------ plumbing */

enum { VT_IO_TCP, VT_IO_PIPE, VT_IO_UNIX, VT_IO_KINDS };

static const char *const kind_names[VT_IO_KINDS] = { "tcp", "pipe", "unix" };

const char *vt_io_kind_name(int kind);
struct volt_rt *vt_io_rt(const char *policy, const char *driver, int kind);
struct volt_stream vt_io_open(struct volt_rt *rt, int kind, bool runtime_writes, int *peer);
void vt_io_close(struct volt_stream s);
bool vt_io_is_pattern(const unsigned char *b, size_t len, uint32_t seed, size_t offset);

struct vt_io_peer {
	int fd;
	size_t len;       /* bytes of the pattern to write or to read */
	uint32_t seed;
	size_t burst;     /* write or read at most this much a call */
	int pause_us;     /* after each burst (0: none) */
	bool expect_eof;  /* reader: after len, read must return 0 */
	bool close_after; /* writer: close fd when done (EOF for the runtime) */
	pthread_t thread;
	atomic_bool ok;   /* reader: every byte matched (and EOF seen if asked) */
	size_t got;
};

void vt_io_peer_write(struct vt_io_peer *p);
void vt_io_peer_read(struct vt_io_peer *p);
void vt_io_peer_join(struct vt_io_peer *p);

const char *vt_io_kind_name(int kind)
{
	return kind_names[kind];
}

/* A runtime on driver (NULL if refused), naming the case in a failure's note. */
struct volt_rt *vt_io_rt(const char *policy, const char *driver, int kind)
{
	snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s, %s", driver, kind_names[kind]);
	/* a pipe written to after its reader went must be -EPIPE, not the end of the test */
	signal(SIGPIPE, SIG_IGN);
	return vt_net_rt(policy, 2, driver);
}

/*
 * A stream of rt and the plain descriptor at its other end (blocking, with
 * 20 s deadlines on sockets). TCP: one connected pair, both directions.
 * Pipe: a plain pipe2 whose runtime end is adopted with volt_stream_from_fd
 * (the write end if runtime_writes, else the read end). Unix: a socketpair,
 * one end adopted the same way.
 */
struct volt_stream vt_io_open(struct volt_rt *rt, int kind, bool runtime_writes, int *peer)
{
	struct volt_stream s;

	if (kind == VT_IO_TCP) {
		struct volt_listener l;
		struct timeval tv = { 20, 0 };

		*peer = vt_tcp_pair(rt, &l, &s);
		CHECK_OK(volt_listener_close(l));
		CHECK_OK(setsockopt(*peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
		CHECK_OK(setsockopt(*peer, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
		return s;
	}
	int fds[2];

	if (kind == VT_IO_UNIX)
		CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
	else
		CHECK_OK(pipe2(fds, O_CLOEXEC));
	CHECK_OK(volt_stream_from_fd(rt, fds[runtime_writes], &s));
	CHECK(fcntl(fds[runtime_writes], F_GETFL) & O_NONBLOCK);
	*peer = fds[!runtime_writes];
	return s;
}

/* Closes s, which may have been closed already (shutdown_write on a pipe does it). */
void vt_io_close(struct volt_stream s)
{
	int ret = volt_stream_close(s);

	CHECK(ret == 0 || ret == -EBADF);
}

bool vt_io_is_pattern(const unsigned char *b, size_t len, uint32_t seed, size_t offset)
{
	unsigned char want[4096];

	for (size_t off = 0; off < len;) {
		size_t n = len - off < sizeof(want) ? len - off : sizeof(want);

		vt_pattern(want, n, seed, offset + off);
		if (memcmp(b + off, want, n))
			return false;
		off += n;
	}
	return true;
}

static void *peer_writer(void *arg)
{
	struct vt_io_peer *p = arg;
	unsigned char *b = malloc(p->burst);

	CHECK(b != NULL);
	for (size_t off = 0; off < p->len;) {
		size_t n = p->len - off < p->burst ? p->len - off : p->burst;

		vt_pattern(b, n, p->seed, off);
		for (size_t w = 0; w < n;) {
			ssize_t k = write(p->fd, b + w, n - w);

			CHECK_MSG(k > 0, "peer write: %zd (%s)", k, strerror(errno));
			w += (size_t)k;
		}
		off += n;
		if (p->pause_us)
			vt_sleep_us(p->pause_us);
	}
	free(b);
	if (p->close_after) {
		close(p->fd);
		p->fd = -1;
	}
	return NULL;
}

static void *peer_reader(void *arg)
{
	struct vt_io_peer *p = arg;
	unsigned char *b = malloc(p->burst);
	bool ok = true;

	CHECK(b != NULL);
	while (p->got < p->len) {
		size_t want = p->len - p->got < p->burst ? p->len - p->got : p->burst;
		ssize_t k = read(p->fd, b, want);

		CHECK_MSG(k > 0, "peer read at %zu: %zd (%s)", p->got, k, strerror(errno));
		ok = ok && vt_io_is_pattern(b, (size_t)k, p->seed, p->got);
		p->got += (size_t)k;
		if (p->pause_us)
			vt_sleep_us(p->pause_us);
	}
	if (p->expect_eof)
		ok = ok && read(p->fd, b, 1) == 0;
	free(b);
	atomic_store(&p->ok, ok);
	return NULL;
}

void vt_io_peer_write(struct vt_io_peer *p)
{
	CHECK_OK(pthread_create(&p->thread, NULL, peer_writer, p));
}

void vt_io_peer_read(struct vt_io_peer *p)
{
	atomic_init(&p->ok, false);
	p->got = 0;
	CHECK_OK(pthread_create(&p->thread, NULL, peer_reader, p));
}

void vt_io_peer_join(struct vt_io_peer *p)
{
	CHECK_OK(pthread_join(p->thread, NULL));
}

/* Runs f to completion on this (plain) thread. */
static void run(struct volt_rt *rt, struct volt_future *f)
{
	CHECK_OK(volt_block_on(rt, f, NULL));
}

#define FOR_EACH_CASE(rt, d, kind)                                                  \
	VT_FOR_EACH_DRIVER(d)                                                       \
	for (int kind = 0; kind < VT_IO_KINDS; kind++)                              \
		for (struct volt_rt *rt = vt_io_rt(policy, d, kind); rt;                 \
		     volt_rt_free(rt), rt = NULL)

/* ------------------------------------------------------------- reading */

VOLT_RT_TEST(rw_short_reads_eof)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		struct vt_io_peer p = { .len = 20000, .seed = 7, .burst = 333, .pause_us = 100,
					.close_after = true };
		struct volt_stream s = vt_io_open(rt, kind, false, &p.fd);
		struct volt_rw rw = volt_rw_stream(s);
		unsigned char *in = calloc(1, p.len);
		struct volt_rw_op op;
		size_t got = 12000;

		CHECK(in != NULL);
		vt_io_peer_write(&p);
		run(rt, volt_rw_read_exact(&op, rw, in, got));
		CHECK_EQ(op.result, (ssize_t)got);
		CHECK_EQ(op.done, got);
		while (got < p.len) {
			ssize_t n = volt_rw_read_blocking(rw, in + got, 4096, VOLT_DURATION_MAX);

			CHECK_GT(n, 0);
			CHECK_LE(n, 4096);
			got += (size_t)n;
		}
		CHECK(vt_io_is_pattern(in, p.len, p.seed, 0));
		vt_io_peer_join(&p);
		/* the end of the stream, as often as asked */
		CHECK_EQ(volt_rw_read_blocking(rw, in, 16, VOLT_DURATION_MAX), 0);
		run(rt, volt_rw_read(&op, rw, in, 16));
		CHECK_EQ(op.result, 0);
		run(rt, volt_rw_read_exact(&op, rw, in, 10));
		CHECK_EQ(op.result, -EPIPE);
		CHECK_EQ(op.done, 0);
		vt_io_close(s);
		free(in);
	}
}

VOLT_RT_TEST(rw_read_exact_midway)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		struct vt_io_peer p = { .len = 50, .seed = 9, .burst = 7, .pause_us = 200,
					.close_after = true };
		struct volt_stream s = vt_io_open(rt, kind, false, &p.fd);
		unsigned char in[100];
		struct volt_rw_op op;

		memset(in, 0, sizeof(in));
		vt_io_peer_write(&p);
		run(rt, volt_rw_read_exact(&op, volt_rw_stream(s), in, sizeof(in)));
		vt_io_peer_join(&p);
		CHECK_EQ(op.result, -EPIPE);
		CHECK_EQ(op.done, 50);
		CHECK(vt_io_is_pattern(in, 50, p.seed, 0));
		vt_io_close(s);
	}
}

/* ------------------------------------------------------------- writing */

VOLT_RT_TEST(rw_write_all_slow)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		size_t len = VT_SCALE(1u << 20);
		struct vt_io_peer p = { .len = len, .seed = 11, .burst = 1000, .pause_us = 20,
					.expect_eof = true };
		struct volt_stream s = vt_io_open(rt, kind, true, &p.fd);
		struct volt_rw rw = volt_rw_stream(s);
		unsigned char *out = malloc(len);

		CHECK(out != NULL);
		vt_pattern(out, len, p.seed, 0);
		vt_io_peer_read(&p);
		CHECK_EQ(volt_rw_write_all_blocking(rw, out, len, VOLT_DURATION_MAX), (ssize_t)len);
		CHECK_OK(volt_rw_shutdown_write(rw));
		vt_io_peer_join(&p);
		CHECK(atomic_load(&p.ok));
		CHECK_EQ(p.got, len);
		/* a pipe has no half-close: shutdown_write closed the handle */
		CHECK_EQ(volt_stream_close(s), kind == VT_IO_PIPE ? -EBADF : 0);
		close(p.fd);
		free(out);
	}
}

/* -------------------------------------------------------- cancellation */

#define CANCEL_BUF 4096
#define CANCEL_SENT 100

VOLT_RT_TEST(rw_cancel_in_flight)
{
	const char *d;

	FOR_EACH_CASE(rt, d, kind) {
		int peer;
		struct volt_stream s = vt_io_open(rt, kind, false, &peer);
		struct volt_rw rw = volt_rw_stream(s);

		for (uint32_t round = 0; round < 4; round++) {
			unsigned char *aa = malloc(CANCEL_BUF), in[CANCEL_SENT], out[CANCEL_SENT];
			struct volt_rw_op op;
			atomic_int pending = 0;
			struct volt_join *j;

			CHECK(aa != NULL);
			memset(aa, 0xAA, CANCEL_BUF);
			op.result = -12345;
			j = vt_spawn_in_task(rt, volt_rw_read(&op, rw, aa, CANCEL_BUF), &pending);
			VT_WAIT_FOR(atomic_load(&pending));
			if (round & 1)
				vt_sleep_us(2000); /* the read has surely reached the kernel */
			CHECK_OK(volt_join_cancel(j));
			CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
			CHECK_EQ(op.result, -ECANCELED);
			CHECK_PTR_EQ(op.inner, NULL);

			vt_pattern(out, sizeof(out), 30 + round, 0);
			CHECK_EQ(write(peer, out, sizeof(out)), (ssize_t)sizeof(out));
			vt_sleep_us(3000); /* time for a stray write to land, if there were one */
			for (size_t i = 0; i < CANCEL_BUF; i++)
				CHECK_EQ(aa[i], 0xAA);
			free(aa);
			run(rt, volt_rw_read_exact(&op, rw, in, sizeof(in)));
			CHECK_EQ(op.result, (ssize_t)sizeof(in));
			CHECK(!memcmp(in, out, sizeof(in)));
		}
		vt_io_close(s);
		close(peer);
	}
}

/* ------------------------------------------------------------ bad input */

static struct volt_future *never_read(const struct volt_rw *rw, void *space, void *buf,
				      size_t len)
{
	(void)rw, (void)space, (void)buf, (void)len;
	VT_FAIL("an op with bad arguments reached its implementation");
}

static struct volt_future *never_write(const struct volt_rw *rw, void *space, const void *buf,
				       size_t len)
{
	(void)rw, (void)space, (void)buf, (void)len;
	VT_FAIL("an op with bad arguments reached its implementation");
}

static ssize_t never_result(void *space)
{
	(void)space;
	return 0;
}

static const struct volt_rw_ops never_ops = {
	.name = "never",
	.read = never_read,
	.write = never_write,
	.result = never_result,
};

VOLT_RT_TEST(rw_bad_input)
{
	struct volt_rt *rt = vt_rt_new(policy, 1);
	struct volt_rw none = { 0 }, never = { .ops = &never_ops };
	struct volt_stream rd, wr;
	struct volt_rw_op op;
	char buf[4];
	int fds[2];

	run(rt, volt_rw_read(&op, never, NULL, 1));
	CHECK_EQ(op.result, -EINVAL);
	run(rt, volt_rw_write_all(&op, never, NULL, 5));
	CHECK_EQ(op.result, -EINVAL);
	run(rt, volt_rw_read_exact(&op, never, buf, (size_t)SSIZE_MAX + 1));
	CHECK_EQ(op.result, -EINVAL);
	run(rt, volt_rw_read(&op, none, buf, sizeof(buf)));
	CHECK_EQ(op.result, -EINVAL);
	CHECK_EQ(volt_rw_read_blocking(never, NULL, 3, VOLT_DURATION_MAX), -EINVAL);
	CHECK_EQ(volt_rw_write_all_blocking(none, buf, 3, volt_secs(1)), -EINVAL);
	CHECK_EQ(volt_rw_shutdown_write(none), -EINVAL);
	CHECK_OK(volt_rw_shutdown_write(never)); /* nothing to do */
	/* read_exact / write_all of nothing complete at once */
	run(rt, volt_rw_read_exact(&op, never, NULL, 0));
	CHECK_EQ(op.result, 0);

	CHECK_EQ(volt_pipe(rt, NULL, &wr), -EINVAL);
	CHECK_EQ(volt_pipe(rt, &rd, NULL), -EINVAL);
	CHECK_EQ(volt_pipe(NULL, &rd, &wr), -EINVAL); /* not on a runtime thread */
	CHECK_EQ(volt_stream_from_fd(rt, -1, &rd), -EINVAL);
	CHECK_OK(pipe2(fds, O_CLOEXEC));
	CHECK_EQ(volt_stream_from_fd(rt, fds[0], NULL), -EINVAL);
	int file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	CHECK(file >= 0);
	CHECK_EQ(volt_stream_from_fd(rt, file, &rd), -EINVAL); /* a regular file */
	CHECK(fcntl(file, F_GETFD) >= 0);                      /* still ours */
	close(file);
	close(fds[0]);
	close(fds[1]);
	CHECK_EQ(volt_stream_from_fd(rt, fds[0], &rd), -EBADF); /* no longer open */
	volt_rt_free(rt);
}

VOLT_RT_TEST(rw_sim_unsupported)
{
	struct volt_rt *rt = vt_net_rt(policy, 1, "sim");
	struct volt_stream rd = { { NULL, 77, 77 } }, wr = rd;
	int fds[2];

	CHECK(rt != NULL);
	CHECK_EQ(volt_pipe(rt, &rd, &wr), -EOPNOTSUPP);
	CHECK_EQ(rd.h.index, 77);
	CHECK_OK(pipe2(fds, O_CLOEXEC));
	CHECK_EQ(volt_stream_from_fd(rt, fds[0], &rd), -EOPNOTSUPP);
	CHECK(fcntl(fds[0], F_GETFD) >= 0); /* still the caller's */
	close(fds[0]);
	close(fds[1]);
	volt_rt_free(rt);
}

/* -------------------------------------------- an implementation of our own */

/*
 * An in-memory source and sink: reads hand out at most `chunk` bytes of
 * `data` a call, writes take at most `chunk` bytes a call into `sink`; each
 * future is ready on its first poll and counts its drops. It shows what an
 * implementation writes, and gives the reader and writer exact short reads
 * and writes without any driver.
 */
struct mem_stream {
	const unsigned char *data;
	size_t len, pos, chunk;
	unsigned char sink[256];
	size_t sunk;
	int built, dropped;
};

struct mem_op {
	struct volt_future base;
	struct mem_stream *m;
	unsigned char *buf;
	const unsigned char *src;
	size_t len;
	ssize_t result;
};

static enum volt_poll mem_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct mem_op *op = (struct mem_op *)f;
	struct mem_stream *m = op->m;
	size_t n = op->len < m->chunk ? op->len : m->chunk;

	(void)cx;
	if (op->src) {
		if (n > sizeof(m->sink) - m->sunk)
			n = sizeof(m->sink) - m->sunk;
		memcpy(m->sink + m->sunk, op->src, n);
		m->sunk += n;
	} else {
		if (n > m->len - m->pos)
			n = m->len - m->pos;
		memcpy(op->buf, m->data + m->pos, n);
		m->pos += n;
	}
	op->result = (ssize_t)n;
	return VOLT_READY;
}

static void mem_drop(struct volt_future *f)
{
	((struct mem_op *)f)->m->dropped++;
}

static const struct volt_future_ops mem_future_ops = { mem_poll, mem_drop };

static struct volt_future *mem_build(const struct volt_rw *rw, void *space, void *buf,
				     const void *src, size_t len)
{
	struct mem_op *op = space;

	_Static_assert(sizeof(struct mem_op) <= VOLT_RW_OP_SPACE, "fits");
	volt_future_init(&op->base, &mem_future_ops);
	op->m = rw->obj.ptr;
	op->m->built++;
	op->buf = buf;
	op->src = src;
	op->len = len;
	op->result = 0;
	return &op->base;
}

static struct volt_future *mem_read(const struct volt_rw *rw, void *space, void *buf, size_t len)
{
	return mem_build(rw, space, buf, NULL, len);
}

static struct volt_future *mem_write(const struct volt_rw *rw, void *space, const void *buf,
				     size_t len)
{
	return mem_build(rw, space, NULL, buf, len);
}

static ssize_t mem_result(void *space)
{
	return ((struct mem_op *)space)->result;
}

static const struct volt_rw_ops mem_ops = {
	.name = "mem",
	.read = mem_read,
	.write = mem_write,
	.result = mem_result,
};

static struct volt_rw mem_rw(struct mem_stream *m, const char *text, size_t chunk)
{
	struct volt_rw rw = { .ops = &mem_ops };

	*m = (struct mem_stream){ .data = (const unsigned char *)text, .len = strlen(text),
				  .chunk = chunk };
	rw.obj.ptr = m;
	return rw;
}

/*
 * Plain thread, no runtime: every inner future is dropped exactly once; the
 * read_line boundary (a line of max - 1 bytes with its '\n' fits, one more
 * byte is -EMSGSIZE and stays readable); write_all over 3-byte writes.
 */
VOLT_TEST(rw_own_implementation)
{
	struct mem_stream m;
	struct volt_rw rw = mem_rw(&m, "0123456\n01234567\nend", 3);
	struct volt_bufreader r;
	struct volt_bufwriter w;
	struct volt_rw_op op;
	char line[9];

	CHECK_OK(volt_bufreader_init(&r, rw, NULL, 4)); /* grows up to a line's max */
	CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), VOLT_DURATION_MAX), 8);
	CHECK_STR_EQ(line, "0123456\n");
	CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), VOLT_DURATION_MAX),
		 -EMSGSIZE);
	CHECK_EQ(volt_bufreader_read_exact_blocking(&r, line, 9, VOLT_DURATION_MAX), 9);
	CHECK(!memcmp(line, "01234567\n", 9));
	CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), VOLT_DURATION_MAX), 3);
	CHECK_STR_EQ(line, "end");
	CHECK_EQ(volt_bufreader_read_line_blocking(&r, line, sizeof(line), VOLT_DURATION_MAX), 0);
	CHECK_EQ(m.built, m.dropped);
	volt_bufreader_free(&r);

	/* write_all over short writes, and the writer's flush */
	CHECK_EQ(volt_rw_write_all_blocking(rw, "abcdefgh", 8, VOLT_DURATION_MAX), 8);
	CHECK_OK(volt_block_on(NULL, volt_rw_write(&op, rw, "ijkl", 4), NULL));
	CHECK_EQ(op.result, 3); /* one short write */
	CHECK_OK(volt_bufwriter_init(&w, rw, NULL, 16));
	CHECK_EQ(volt_bufwriter_write_blocking(&w, "XYZ", 3, VOLT_DURATION_MAX), 3);
	CHECK_EQ(m.sunk, 11);
	CHECK_OK(volt_bufwriter_flush_blocking(&w, VOLT_DURATION_MAX));
	CHECK_EQ(m.sunk, 14);
	CHECK(!memcmp(m.sink, "abcdefghijkXYZ", 14));
	CHECK_EQ(m.built, m.dropped);
	volt_bufwriter_free(&w);
}
