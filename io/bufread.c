/* SPDX-License-Identifier: MIT */
/*
 * io/bufread.c: the buffered reader (volt/bufio.h).
 *
 * The buffer holds the bytes read but not yet handed out, buf[pos, end).
 * It is refilled only when it is empty (read, read_exact, fill_buf) or when
 * read_until has scanned all of it without finding its delimiter; a refill
 * first moves the unread bytes to the front if the tail is full. Nothing
 * is consumed before it is delivered, so an error, or a drop of the op
 * while a refill is in flight, leaves every byte the reader holds in it.
 *
 * Copies: a read or read_exact that wants at least a whole buffer while the
 * buffer is empty goes straight from the stream into the caller's memory;
 * read_until copies each byte once, from the buffer to dst (the scan does
 * not copy), and fill_buf/consume copy nothing at all.
 *
 * One op runs every kind; `kind` picks the branch, and the coroutine keeps
 * its place across the refill awaits (io/README.md).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "volt/coro.h"
#include "io/rw_internal.h"
#include "net/op.h"

enum {
	BR_READ,
	BR_EXACT,
	BR_UNTIL,
	BR_LINE,
	BR_FILL,
};

int volt_bufreader_init(struct volt_bufreader *r, struct volt_rw rw, void *buf, size_t cap)
{
	uint8_t owned;
	int ret;

	if (!r)
		return -EINVAL;
	*r = (struct volt_bufreader){ 0 };
	ret = volt__iobuf_get(rw, &buf, cap, &owned);
	if (!ret)
		*r = (struct volt_bufreader){ .rw = rw, .buf = buf, .cap = cap, .owned = owned };
	return ret;
}

void volt_bufreader_free(struct volt_bufreader *r)
{
	if (r && r->owned)
		free(r->buf);
	if (r)
		*r = (struct volt_bufreader){ 0 };
}

void volt_bufreader_consume(struct volt_bufreader *r, size_t n)
{
	size_t have = volt_bufreader_buffered(r);

	r->pos += n < have ? n : have;
	if (r->pos == r->end)
		r->pos = r->end = 0;
}

/* Room at the tail for a refill: the unread bytes move to the front if the tail is full. */
static void make_room(struct volt_bufreader *r)
{
	if (r->pos == r->end) {
		r->pos = r->end = 0;
	} else if (r->end == r->cap && r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
}

/* The refill future: one read of the stream into the buffer's tail. */
static struct volt_future *refill(struct volt_bufread_op *op)
{
	struct volt_bufreader *r = op->r;

	make_room(r);
	return volt_rw_read(&op->io, r->rw, r->buf + r->end, r->cap - r->end);
}

/* After a refill: the bytes join the buffer; returns the read's result. */
static ssize_t refilled(struct volt_bufread_op *op)
{
	if (op->io.result > 0)
		op->r->end += (size_t)op->io.result;
	return op->io.result;
}

/* Copies n buffered bytes to dst + done and consumes them. */
static void deliver(struct volt_bufread_op *op, size_t n)
{
	memcpy(op->dst + op->done, volt_bufreader_data(op->r), n);
	volt_bufreader_consume(op->r, n);
	op->done += n;
}

/*
 * An owned buffer too small for a line of up to max bytes grows (doubling,
 * at most to max): 0, -ENOMEM; a caller-supplied one cannot: -ENOBUFS.
 */
static int grow(struct volt_bufreader *r, size_t max)
{
	if (!r->owned)
		return -ENOBUFS;
	size_t cap = r->cap <= max / 2 ? r->cap * 2 : max;
	unsigned char *buf;

	make_room(r);
	buf = realloc(r->buf, cap);
	if (!buf)
		return -ENOMEM;
	r->buf = buf;
	r->cap = cap;
	return 0;
}

/*
 * read_until's scan of the buffer, from op->done (bytes already scanned):
 * the count to deliver (delimiter included) once found, 0 if more bytes
 * are needed, or -EMSGSIZE / -ENOBUFS / -ENOMEM.
 */
static ssize_t scan_until(struct volt_bufread_op *op)
{
	struct volt_bufreader *r = op->r;
	size_t avail = volt_bufreader_buffered(r);
	size_t limit = avail < op->len ? avail : op->len;
	const unsigned char *p = volt_bufreader_data(r);
	const unsigned char *hit = memchr(p + op->done, op->delim, limit - op->done);

	if (hit) {
		op->delimited = 1;
		return hit - p + 1;
	}
	op->done = limit;
	if (avail >= op->len)
		return -EMSGSIZE;
	if (avail == r->cap)
		return grow(r, op->len);
	return 0;
}

static enum volt_poll bufread_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_bufread_op *op = (struct volt_bufread_op *)f;
	struct volt_bufreader *r = op->r;
	ssize_t n;

	VOLT_BEGIN(f);
	if (op->kind == BR_FILL) {
		if (!volt_bufreader_buffered(r)) {
			VOLT_AWAIT(f, cx, refill(op));
			if (refilled(op) <= 0) {
				op->result = op->io.result;
				goto out;
			}
		}
		op->result = (ssize_t)volt_bufreader_buffered(r);
	} else if (op->kind == BR_READ) {
		if (!volt_bufreader_buffered(r) && op->len) {
			if (op->len >= r->cap) {
				r->direct_reads++;
				VOLT_AWAIT(f, cx, volt_rw_read(&op->io, r->rw, op->dst, op->len));
				op->result = op->io.result;
				op->done = op->io.done;
				goto out;
			}
			VOLT_AWAIT(f, cx, refill(op));
			if (refilled(op) <= 0) {
				op->result = op->io.result;
				goto out;
			}
		}
		n = (ssize_t)volt_bufreader_buffered(r);
		if ((size_t)n > op->len)
			n = (ssize_t)op->len;
		deliver(op, (size_t)n);
		op->result = n;
	} else if (op->kind == BR_EXACT) {
		while (op->done < op->len) {
			if (volt_bufreader_buffered(r)) {
				n = (ssize_t)volt_bufreader_buffered(r);
				if ((size_t)n > op->len - op->done)
					n = (ssize_t)(op->len - op->done);
				deliver(op, (size_t)n);
				continue;
			}
			if (op->len - op->done >= r->cap) {
				r->direct_reads++;
				VOLT_AWAIT(f, cx, volt_rw_read_exact(&op->io, r->rw,
								     op->dst + op->done,
								     op->len - op->done));
				op->done += op->io.done;
				if (op->io.result < 0) {
					op->result = op->io.result;
					goto out;
				}
				break;
			}
			VOLT_AWAIT(f, cx, refill(op));
			if (refilled(op) <= 0) {
				op->result = op->io.result ? op->io.result : -EPIPE;
				goto out;
			}
		}
		op->result = (ssize_t)op->len;
	} else { /* BR_UNTIL, BR_LINE: op->done counts the bytes scanned until delivery */
		for (;;) {
			n = scan_until(op);
			if (n)
				break;
			VOLT_AWAIT(f, cx, refill(op));
			if (refilled(op) < 0) {
				op->result = op->io.result;
				op->done = 0;
				goto out;
			}
			if (op->io.result == 0) { /* end of stream: the partial line, then 0 */
				n = (ssize_t)volt_bufreader_buffered(r); /* < len: scanned */
				break;
			}
		}
		op->done = 0;
		if (n < 0) {
			op->result = n;
			goto out;
		}
		deliver(op, (size_t)n);
		if (op->kind == BR_LINE)
			op->dst[n] = '\0'; /* n <= len = max - 1 */
		op->result = n;
	}
out:;
	VOLT_END(f);
}

static void bufread_drop(struct volt_future *f)
{
	struct volt_bufread_op *op = (struct volt_bufread_op *)f;

	if (f->resume != VOLT__DONE && f->resume != 0) {
		op->result = -ECANCELED;
		if (op->kind == BR_UNTIL || op->kind == BR_LINE)
			op->done = 0; /* it counted bytes scanned, none delivered */
	}
}

static const struct volt_future_ops bufread_ops = { bufread_poll, bufread_drop };

static struct volt_future *bufread_init(struct volt_bufread_op *op, struct volt_bufreader *r,
					int kind, void *dst, size_t len, int delim)
{
	volt_future_init(&op->base, &bufread_ops);
	op->r = r;
	op->dst = dst;
	op->len = len;
	op->done = 0;
	op->delim = delim;
	op->kind = (uint8_t)kind;
	op->delimited = 0;
	op->result = 0;
	bool bad = !r || !r->buf || !r->cap || len > SSIZE_MAX;

	if (kind == BR_LINE) {
		bad = bad || len < 2; /* a byte and the NUL */
		op->len = len - 1;    /* the line with its '\n', the NUL after it */
	}
	if (kind == BR_UNTIL || kind == BR_LINE)
		bad = bad || !dst || !len || delim < 0 || delim > UCHAR_MAX;
	else if (kind != BR_FILL)
		bad = bad || (!dst && len);
	if (bad) {
		op->result = -EINVAL;
		op->base.resume = VOLT__DONE;
	}
	return &op->base;
}

struct volt_future *volt_bufreader_read(struct volt_bufread_op *op, struct volt_bufreader *r,
					void *dst, size_t len)
{
	return bufread_init(op, r, BR_READ, dst, len, 0);
}

struct volt_future *volt_bufreader_read_exact(struct volt_bufread_op *op,
					      struct volt_bufreader *r, void *dst, size_t len)
{
	return bufread_init(op, r, BR_EXACT, dst, len, 0);
}

struct volt_future *volt_bufreader_read_until(struct volt_bufread_op *op,
					      struct volt_bufreader *r, int byte, void *dst,
					      size_t max)
{
	return bufread_init(op, r, BR_UNTIL, dst, max, byte);
}

struct volt_future *volt_bufreader_read_line(struct volt_bufread_op *op,
					     struct volt_bufreader *r, char *dst, size_t max)
{
	return bufread_init(op, r, BR_LINE, dst, max, '\n');
}

struct volt_future *volt_bufreader_fill_buf(struct volt_bufread_op *op, struct volt_bufreader *r)
{
	return bufread_init(op, r, BR_FILL, NULL, 0, 0);
}

static ssize_t bufread_block(struct volt_bufreader *r, int kind, void *dst, size_t len,
			     int delim, volt_duration timeout)
{
	struct volt_bufread_op op;
	struct volt_future *f = bufread_init(&op, r, kind, dst, len, delim);

	if (op.base.resume == VOLT__DONE)
		return op.result; /* bad arguments: r may not be followed */
	return volt__op_block(volt__rw_runtime(&r->rw), f, timeout, &op.result);
}

ssize_t volt_bufreader_read_blocking(struct volt_bufreader *r, void *dst, size_t len,
				     volt_duration timeout)
{
	return bufread_block(r, BR_READ, dst, len, 0, timeout);
}

ssize_t volt_bufreader_read_exact_blocking(struct volt_bufreader *r, void *dst, size_t len,
					   volt_duration timeout)
{
	return bufread_block(r, BR_EXACT, dst, len, 0, timeout);
}

ssize_t volt_bufreader_read_until_blocking(struct volt_bufreader *r, int byte, void *dst,
					   size_t max, volt_duration timeout)
{
	return bufread_block(r, BR_UNTIL, dst, max, byte, timeout);
}

ssize_t volt_bufreader_read_line_blocking(struct volt_bufreader *r, char *dst, size_t max,
					  volt_duration timeout)
{
	return bufread_block(r, BR_LINE, dst, max, '\n', timeout);
}

ssize_t volt_bufreader_fill_buf_blocking(struct volt_bufreader *r, volt_duration timeout)
{
	return bufread_block(r, BR_FILL, NULL, 0, 0, timeout);
}
