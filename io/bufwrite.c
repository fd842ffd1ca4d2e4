/* SPDX-License-Identifier: MIT */
/*
 * io/bufwrite.c: the buffered writer (volt/bufio.h).
 *
 * The buffer holds the bytes taken but not yet written, buf[pos, len).
 * A write that fits is a memcpy. One that does not first flushes the
 * buffer (one stream write at a time, each written byte leaving the buffer
 * as soon as the write returns, so a failure or a drop part-way never
 * writes a byte twice on the next flush), then writes src straight to the
 * stream if it is at least a whole buffer (never copied), else copies it in.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "volt/coro.h"
#include "io/rw_internal.h"
#include "net/op.h"

enum {
	BW_WRITE,
	BW_FLUSH,
	BW_DIRECT, /* a BW_WRITE whose src is going straight to the stream */
};

int volt_bufwriter_init(struct volt_bufwriter *w, struct volt_rw rw, void *buf, size_t cap)
{
	uint8_t owned;
	int ret;

	if (!w)
		return -EINVAL;
	*w = (struct volt_bufwriter){ 0 };
	ret = volt__iobuf_get(rw, &buf, cap, &owned);
	if (!ret)
		*w = (struct volt_bufwriter){ .rw = rw, .buf = buf, .cap = cap, .owned = owned };
	return ret;
}

void volt_bufwriter_free(struct volt_bufwriter *w)
{
	if (w && w->owned)
		free(w->buf);
	if (w)
		*w = (struct volt_bufwriter){ 0 };
}

/* Copies n bytes of src (from op->done) to the tail, the unwritten bytes moved forward. */
static void take(struct volt_bufwrite_op *op, size_t n)
{
	struct volt_bufwriter *w = op->w;

	if (w->pos && w->cap - w->len < n) {
		memmove(w->buf, w->buf + w->pos, w->len - w->pos);
		w->len -= w->pos;
		w->pos = 0;
	}
	memcpy(w->buf + w->len, op->src + op->done, n);
	w->len += n;
	op->done += n;
}

static enum volt_poll bufwrite_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_bufwrite_op *op = (struct volt_bufwrite_op *)f;
	struct volt_bufwriter *w = op->w;

	VOLT_BEGIN(f);
	if (op->kind == BW_WRITE && op->len <= w->cap - volt_bufwriter_buffered(w)) {
		take(op, op->len);
		op->result = (ssize_t)op->len;
		goto out;
	}
	while (volt_bufwriter_buffered(w)) {
		VOLT_AWAIT(f, cx, volt_rw_write(&op->io, w->rw, w->buf + w->pos,
						volt_bufwriter_buffered(w)));
		if (op->io.result <= 0) {
			op->result = op->io.result ? op->io.result : -EPIPE;
			goto out;
		}
		w->pos += (size_t)op->io.result;
		if (w->pos == w->len)
			w->pos = w->len = 0;
	}
	if (op->kind == BW_FLUSH) {
		op->result = 0;
		goto out;
	}
	if (op->len < w->cap) {
		take(op, op->len);
	} else {
		w->direct_writes++;
		op->kind = BW_DIRECT;
		VOLT_AWAIT(f, cx, volt_rw_write_all(&op->io, w->rw, op->src, op->len));
		op->done = op->io.done;
		if (op->io.result < 0) {
			op->result = op->io.result;
			goto out;
		}
	}
	op->result = (ssize_t)op->len;
out:;
	VOLT_END(f);
}

static void bufwrite_drop(struct volt_future *f)
{
	struct volt_bufwrite_op *op = (struct volt_bufwrite_op *)f;

	if (f->resume == VOLT__DONE || f->resume == 0)
		return;
	op->result = -ECANCELED;
	if (op->kind == BW_DIRECT)
		op->done = op->io.done; /* what the dropped write_all had written */
}

static const struct volt_future_ops bufwrite_ops = { bufwrite_poll, bufwrite_drop };

static struct volt_future *bufwrite_init(struct volt_bufwrite_op *op, struct volt_bufwriter *w,
					 int kind, const void *src, size_t len)
{
	volt_future_init(&op->base, &bufwrite_ops);
	op->w = w;
	op->src = src;
	op->len = len;
	op->done = 0;
	op->kind = (uint8_t)kind;
	op->result = 0;
	if (!w || !w->buf || !w->cap || (!src && len) || len > SSIZE_MAX) {
		op->result = -EINVAL;
		op->base.resume = VOLT__DONE;
	}
	return &op->base;
}

struct volt_future *volt_bufwriter_write(struct volt_bufwrite_op *op, struct volt_bufwriter *w,
					 const void *src, size_t len)
{
	return bufwrite_init(op, w, BW_WRITE, src, len);
}

struct volt_future *volt_bufwriter_flush(struct volt_bufwrite_op *op, struct volt_bufwriter *w)
{
	return bufwrite_init(op, w, BW_FLUSH, NULL, 0);
}

static ssize_t bufwrite_block(struct volt_bufwriter *w, int kind, const void *src, size_t len,
			      volt_duration timeout)
{
	struct volt_bufwrite_op op;
	struct volt_future *f = bufwrite_init(&op, w, kind, src, len);

	if (op.base.resume == VOLT__DONE)
		return op.result; /* bad arguments: w may not be followed */
	return volt__op_block(volt__rw_runtime(&w->rw), f, timeout, &op.result);
}

ssize_t volt_bufwriter_write_blocking(struct volt_bufwriter *w, const void *src, size_t len,
				      volt_duration timeout)
{
	return bufwrite_block(w, BW_WRITE, src, len, timeout);
}

int volt_bufwriter_flush_blocking(struct volt_bufwriter *w, volt_duration timeout)
{
	return (int)bufwrite_block(w, BW_FLUSH, NULL, 0, timeout);
}
