/* SPDX-License-Identifier: MIT */
/*
 * volt/bufio.h: a buffered reader, a buffered writer, copy and
 * copy_bidirectional over any volt_rw (volt/rw.h).
 *
 * Nothing is copied twice that need not be:
 * - a read at least as large as the reader's buffer, with the buffer
 *   empty, goes straight from the stream into the caller's memory;
 * - fill_buf/consume let a parser look at the reader's buffer in place;
 * - a write at least as large as the writer's buffer, with the buffer
 *   empty (or once it is flushed), goes straight to the stream;
 * - copy reads into one buffer and writes from it (with a bufreader given,
 *   from the reader's own buffer).
 *
 * Structures are caller-owned; one operation at a time on a reader or a
 * writer (they are not locked). Every operation has a future form (the
 * caller-owned op struct; the result in op->result) and a blocking form
 * (volt_block_on: a fiber or a plain thread; -EDEADLK in a stackless task;
 * a timeout, VOLT_DURATION_MAX for none, gives -ETIMEDOUT). Dropping an
 * operation in flight leaves the reader or writer consistent: bytes it had
 * already taken into its buffer stay there; bytes already delivered to the
 * caller's memory were consumed (op->done says how many); op->result is
 * -ECANCELED. As for any stream read (volt/net.h), on io_uring a dropped
 * refill the kernel had already completed loses those bytes.
 *
 * Errors are negative errno values; -EINVAL for a NULL buffer with a
 * length, a zero capacity, or an uninitialised structure.
 */
#ifndef VOLT_BUFIO_H
#define VOLT_BUFIO_H

#include <stdint.h>

#include "rw.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------ buffered reader */

struct volt_bufreader {
	struct volt_rw rw;
	unsigned char *buf;      /* buffered bytes are buf[pos, end) */
	size_t cap, pos, end;
	uint8_t owned;           /* internal: buf was malloc'ed by init */
	uint64_t direct_reads;   /* reads that bypassed the buffer (a statistic) */
};

/*
 * Over rw with buf[cap] (buf NULL: malloc'ed, freed by volt_bufreader_free).
 * 0, -EINVAL (cap 0, no ops), -ENOMEM. The stream is not owned: free does
 * not close it.
 */
VOLT_API int volt_bufreader_init(struct volt_bufreader *r, struct volt_rw rw, void *buf,
				 size_t cap);
VOLT_API void volt_bufreader_free(struct volt_bufreader *r);

/* The bytes buffered now, and where they are (valid until the next operation). */
static inline size_t volt_bufreader_buffered(const struct volt_bufreader *r)
{
	return r->end - r->pos;
}

static inline const void *volt_bufreader_data(const struct volt_bufreader *r)
{
	return r->buf + r->pos;
}

/* Marks n buffered bytes read (n above the buffered count is clamped). */
VOLT_API void volt_bufreader_consume(struct volt_bufreader *r, size_t n);

struct volt_bufread_op {
	struct volt_future base;
	struct volt_bufreader *r;  /* internal */
	struct volt_rw_op io;      /* internal */
	unsigned char *dst;        /* internal */
	size_t len;                /* internal: len or max */
	size_t done;               /* bytes delivered into dst so far */
	int delim;                 /* internal */
	uint8_t kind;              /* internal */
	uint8_t delimited;         /* read_until / read_line: ended with the delimiter */
	ssize_t result;
};

/*
 * Up to len bytes: served from the buffer if it holds any, else one read of
 * the stream (into dst directly when len >= the buffer's capacity). The
 * count, 0 at end of stream, or -errno.
 */
VOLT_API struct volt_future *volt_bufreader_read(struct volt_bufread_op *op,
						 struct volt_bufreader *r, void *dst, size_t len);

/* Exactly len bytes: len, or -EPIPE (the stream ended first) / -errno with op->done moved. */
VOLT_API struct volt_future *volt_bufreader_read_exact(struct volt_bufread_op *op,
						       struct volt_bufreader *r, void *dst,
						       size_t len);

/*
 * Bytes up to and including the first `byte`, at most max of them, into
 * dst[max]. The result is the count (the delimiter included, op->delimited
 * set); at end of stream the bytes before it without a delimiter (a partial
 * last line, op->delimited 0), then 0. Errors lose no bytes: they stay in
 * the reader for the next call:
 *   -EMSGSIZE  no `byte` within the first max bytes;
 *   -ENOBUFS   the line does not fit in a caller-supplied reader buffer
 *              (smaller than max); an owned buffer grows up to max instead.
 */
VOLT_API struct volt_future *volt_bufreader_read_until(struct volt_bufread_op *op,
						       struct volt_bufreader *r, int byte,
						       void *dst, size_t max);

/*
 * One line into dst[max] as a C string that KEEPS its '\n' (and a "\r\n"
 * as it came), like Tokio's read_line: the result is the byte count, the
 * '\n' included, so it is 0 only at end of stream (an empty line is 1), and
 * dst[result] is '\0'. The line with its '\n' must leave room for the NUL:
 * at most max - 1 bytes, else -EMSGSIZE (nothing lost, as read_until). A
 * last line with no '\n' at end of stream comes back as is (op->delimited
 * 0); then 0.
 */
VOLT_API struct volt_future *volt_bufreader_read_line(struct volt_bufread_op *op,
						      struct volt_bufreader *r, char *dst,
						      size_t max);

/*
 * Makes bytes available in the buffer without copying them out: the result
 * is volt_bufreader_buffered(r) (reads the stream only if that was 0), 0 at
 * end of stream, or -errno. Then volt_bufreader_data / volt_bufreader_consume.
 */
VOLT_API struct volt_future *volt_bufreader_fill_buf(struct volt_bufread_op *op,
						     struct volt_bufreader *r);

VOLT_API ssize_t volt_bufreader_read_blocking(struct volt_bufreader *r, void *dst, size_t len,
					      volt_duration timeout);
VOLT_API ssize_t volt_bufreader_read_exact_blocking(struct volt_bufreader *r, void *dst,
						    size_t len, volt_duration timeout);
VOLT_API ssize_t volt_bufreader_read_until_blocking(struct volt_bufreader *r, int byte,
						    void *dst, size_t max,
						    volt_duration timeout);
VOLT_API ssize_t volt_bufreader_read_line_blocking(struct volt_bufreader *r, char *dst,
						   size_t max, volt_duration timeout);
VOLT_API ssize_t volt_bufreader_fill_buf_blocking(struct volt_bufreader *r,
						  volt_duration timeout);

/* ------------------------------------------------------ buffered writer */

struct volt_bufwriter {
	struct volt_rw rw;
	unsigned char *buf;      /* bytes not yet written are buf[pos, len) */
	size_t cap, pos, len;
	uint8_t owned;           /* internal */
	uint64_t direct_writes;  /* writes that bypassed the buffer (a statistic) */
};

/* As volt_bufreader_init. free does not flush (flush first) and does not close. */
VOLT_API int volt_bufwriter_init(struct volt_bufwriter *w, struct volt_rw rw, void *buf,
				 size_t cap);
VOLT_API void volt_bufwriter_free(struct volt_bufwriter *w);

static inline size_t volt_bufwriter_buffered(const struct volt_bufwriter *w)
{
	return w->len - w->pos;
}

struct volt_bufwrite_op {
	struct volt_future base;
	struct volt_bufwriter *w;  /* internal */
	struct volt_rw_op io;      /* internal */
	const unsigned char *src;  /* internal */
	size_t len;                /* internal */
	size_t done;               /* bytes of src taken (buffered or written) */
	uint8_t kind;              /* internal */
	ssize_t result;
};

/*
 * Takes all len bytes: copies them into the buffer if they fit; otherwise
 * flushes what is buffered and, if len >= the capacity, writes src straight
 * to the stream (else buffers it). The result is len or -errno (op->done
 * bytes of src were taken; nothing is taken twice on a retry of the rest).
 */
VOLT_API struct volt_future *volt_bufwriter_write(struct volt_bufwrite_op *op,
						  struct volt_bufwriter *w, const void *src,
						  size_t len);

/* Writes everything buffered, looping over short writes: 0 or -errno (the rest stays buffered). */
VOLT_API struct volt_future *volt_bufwriter_flush(struct volt_bufwrite_op *op,
						  struct volt_bufwriter *w);

VOLT_API ssize_t volt_bufwriter_write_blocking(struct volt_bufwriter *w, const void *src,
					       size_t len, volt_duration timeout);
VOLT_API int volt_bufwriter_flush_blocking(struct volt_bufwriter *w, volt_duration timeout);

/* ----------------------------------------------------------------- copy */

/* Buffer capacity copy allocates when given none. */
#define VOLT_COPY_DEFAULT_CAP (64u * 1024u)

struct volt_copy {
	struct volt_future base;
	struct volt_bufreader own;    /* internal: the reader when none was given */
	struct volt_bufreader *r;     /* internal: the reader copied from */
	struct volt_rw to;            /* internal */
	struct volt_bufread_op fill;  /* internal */
	struct volt_rw_op io;         /* internal */
	size_t chunk;                 /* internal */
	int64_t total;                /* bytes written to `to` so far */
	int64_t result;               /* total at end of stream, or -errno */
};

/*
 * Copies from `from` to `to` until end of stream through one buffer, buf[cap]
 * (buf NULL: allocated, cap 0 meaning VOLT_COPY_DEFAULT_CAP; freed when the
 * op completes or is dropped). The result is the byte count, or -errno with
 * op->total bytes written so far. Does not shut `to` down.
 */
VOLT_API struct volt_future *volt_copy(struct volt_copy *op, struct volt_rw from,
				       struct volt_rw to, void *buf, size_t cap);

/* The same from a buffered reader, written straight out of its buffer (buffered bytes first). */
VOLT_API struct volt_future *volt_copy_buffered(struct volt_copy *op, struct volt_bufreader *from,
						struct volt_rw to);

VOLT_API int64_t volt_copy_blocking(struct volt_rw from, struct volt_rw to, void *buf,
				    size_t cap, volt_duration timeout);

/*
 * Both directions at once in one future, each with its own allocated buffer
 * (VOLT_COPY_DEFAULT_CAP): a to b and b to a. When one direction reads end
 * of stream it shuts the other side's write down (volt_rw_shutdown_write),
 * so the peer sees EOF too; the future completes when both have. The result
 * is 0, or the first -errno (from a read, a write or a shutdown), which ends
 * both directions (the other is dropped). a_to_b and b_to_a count the bytes
 * each direction wrote, also on error.
 */
struct volt_copy_bidi {
	struct volt_future base;
	struct volt_copy ab, ba;   /* internal */
	uint8_t live;              /* internal: bit 0 ab running, bit 1 ba running */
	int64_t a_to_b, b_to_a;
	int result;
};

VOLT_API struct volt_future *volt_copy_bidirectional(struct volt_copy_bidi *op, struct volt_rw a,
						     struct volt_rw b);
VOLT_API int volt_copy_bidirectional_blocking(struct volt_rw a, struct volt_rw b,
					      int64_t *a_to_b, int64_t *b_to_a,
					      volt_duration timeout);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_BUFIO_H */
