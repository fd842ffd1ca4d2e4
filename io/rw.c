/* SPDX-License-Identifier: MIT */
/*
 * io/rw.c: the volt_rw_op future over any volt_rw ops table, its blocking
 * forms, and the stream implementation (TCP, Unix, pipes, child stdio).
 *
 * The op asks the implementation for a future built in op->space, polls it,
 * reads its outcome through ops->result and drops it exactly once, right
 * after it completes (or when the op itself is dropped while it waits). The
 * looping forms (read_exact, write_all) then build the next one over the
 * rest of the buffer until len bytes moved; op->done counts them, so a
 * failure part-way reports how far it got. A transfer of 0 bytes before the
 * end is -EPIPE in both directions (read_exact: the stream ended; write_all:
 * the sink took nothing).
 */
#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "io/rw_internal.h"
#include "net/op.h"

_Static_assert(sizeof(struct volt_io_op) <= VOLT_RW_OP_SPACE,
	       "a stream operation must fit in a volt_rw_op");
_Static_assert(alignof(struct volt_io_op) <= alignof(max_align_t),
	       "a stream operation must be aligned by volt_rw_op's space");

/* base.resume once the op has completed (it is never polled again). */
#define RW_OP_DONE 1u

static void rw_op_release(struct volt_rw_op *op)
{
	struct volt_future *inner = op->inner;

	op->inner = NULL;
	if (inner)
		volt_future_drop(inner);
}

static enum volt_poll rw_op_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_rw_op *op = (struct volt_rw_op *)f;

	if (f->resume == RW_OP_DONE)
		return VOLT_READY;
	for (;;) {
		if (!op->inner) {
			if (op->loop && op->done >= op->len) {
				op->result = (ssize_t)op->len;
				break;
			}
			/* a sink that is always ready must not keep the worker */
			if (op->done && !volt_budget_take(cx)) {
				volt_waker_wake_by_ref(&cx->waker);
				return VOLT_PENDING;
			}
			op->inner = op->write
				? op->rw.ops->write(&op->rw, op->space.bytes, op->buf + op->done,
						    op->len - op->done)
				: op->rw.ops->read(&op->rw, op->space.bytes, op->buf + op->done,
						   op->len - op->done);
		}
		if (volt_future_poll(op->inner, cx) == VOLT_PENDING)
			return VOLT_PENDING;
		ssize_t n = op->rw.ops->result(op->space.bytes);

		rw_op_release(op);
		if (n < 0 || !op->loop) {
			op->result = n;
			if (n > 0)
				op->done = (size_t)n;
			break;
		}
		if (n == 0) {
			op->result = -EPIPE;
			break;
		}
		op->done += (size_t)n;
	}
	f->resume = RW_OP_DONE;
	return VOLT_READY;
}

static void rw_op_drop(struct volt_future *f)
{
	struct volt_rw_op *op = (struct volt_rw_op *)f;

	if (op->inner) {
		rw_op_release(op);
		op->result = -ECANCELED;
	}
}

static const struct volt_future_ops rw_op_ops = { rw_op_poll, rw_op_drop };

static struct volt_future *rw_op_init(struct volt_rw_op *op, struct volt_rw rw, const void *buf,
				      size_t len, bool write, bool loop)
{
	volt_future_init(&op->base, &rw_op_ops);
	op->rw = rw;
	op->inner = NULL;
	op->buf = (unsigned char *)buf;
	op->len = len;
	op->done = 0;
	op->result = 0;
	op->write = write;
	op->loop = loop;
	if (!rw.ops || !rw.ops->read || !rw.ops->write || !rw.ops->result ||
	    (!buf && len) || len > SSIZE_MAX) {
		op->result = -EINVAL;
		op->base.resume = RW_OP_DONE;
	}
	return &op->base;
}

struct volt_future *volt_rw_read(struct volt_rw_op *op, struct volt_rw rw, void *buf, size_t len)
{
	return rw_op_init(op, rw, buf, len, false, false);
}

struct volt_future *volt_rw_write(struct volt_rw_op *op, struct volt_rw rw, const void *buf,
				  size_t len)
{
	return rw_op_init(op, rw, buf, len, true, false);
}

struct volt_future *volt_rw_read_exact(struct volt_rw_op *op, struct volt_rw rw, void *buf,
				       size_t len)
{
	return rw_op_init(op, rw, buf, len, false, true);
}

struct volt_future *volt_rw_write_all(struct volt_rw_op *op, struct volt_rw rw, const void *buf,
				      size_t len)
{
	return rw_op_init(op, rw, buf, len, true, true);
}

struct volt_rt *volt__rw_runtime(const struct volt_rw *rw)
{
	return rw->ops && rw->ops->runtime ? rw->ops->runtime(rw) : NULL;
}

ssize_t volt_rw_read_blocking(struct volt_rw rw, void *buf, size_t len, volt_duration timeout)
{
	struct volt_rw_op op;

	return volt__op_block(volt__rw_runtime(&rw), volt_rw_read(&op, rw, buf, len), timeout,
			      &op.result);
}

ssize_t volt_rw_write_all_blocking(struct volt_rw rw, const void *buf, size_t len,
				   volt_duration timeout)
{
	struct volt_rw_op op;

	return volt__op_block(volt__rw_runtime(&rw), volt_rw_write_all(&op, rw, buf, len),
			      timeout, &op.result);
}

int volt_rw_shutdown_write(struct volt_rw rw)
{
	if (!rw.ops)
		return -EINVAL;
	return rw.ops->shutdown_write ? rw.ops->shutdown_write(&rw) : 0;
}

/* ------------------------------------------------------------ streams */

static struct volt_stream stream_of(const struct volt_rw *rw)
{
	return (struct volt_stream){ rw->obj.h };
}

static struct volt_future *stream_read(const struct volt_rw *rw, void *space, void *buf,
				       size_t len)
{
	return volt_stream_read(space, stream_of(rw), buf, len);
}

static struct volt_future *stream_write(const struct volt_rw *rw, void *space, const void *buf,
					size_t len)
{
	return volt_stream_write(space, stream_of(rw), buf, len);
}

static ssize_t stream_result(void *space)
{
	return ((struct volt_io_op *)space)->result;
}

static int stream_shutdown_write(const struct volt_rw *rw)
{
	int ret = volt_stream_shutdown(stream_of(rw), SHUT_WR);

	/* a pipe or a tty has no half-close: closing the write end is the EOF */
	return ret == -ENOTSOCK ? volt_stream_close(stream_of(rw)) : ret;
}

static struct volt_rt *stream_runtime(const struct volt_rw *rw)
{
	return rw->obj.h.rt;
}

static const struct volt_rw_ops stream_ops = {
	.name = "stream",
	.read = stream_read,
	.write = stream_write,
	.result = stream_result,
	.shutdown_write = stream_shutdown_write,
	.runtime = stream_runtime,
};

struct volt_rw volt_rw_stream(struct volt_stream s)
{
	struct volt_rw rw = { .ops = &stream_ops };

	rw.obj.h = s.h;
	return rw;
}

int volt__iobuf_get(struct volt_rw rw, void **buf, size_t cap, uint8_t *owned)
{
	if (!cap || !rw.ops)
		return -EINVAL;
	*owned = !*buf;
	if (!*buf && !(*buf = malloc(cap)))
		return -ENOMEM;
	return 0;
}
