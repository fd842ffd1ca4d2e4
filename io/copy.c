/* SPDX-License-Identifier: MIT */
/*
 * io/copy.c: copy and copy_bidirectional over any volt_rw (volt/bufio.h).
 *
 * copy is a buffered reader's fill_buf/consume loop: fill the reader's
 * buffer with one read, write_all straight out of it, consume what was
 * written. Each byte is copied once, by the kernel, into that buffer (and
 * on io_uring once more into the driver's record, which is the driver's
 * business). Without a reader of the caller's, the op keeps one of its own
 * over the caller's buffer or an allocated one, released when the op
 * completes or is dropped.
 *
 * copy_bidirectional polls both copies from one future with the same
 * waker; a spurious poll of the side that did not wake is harmless. The
 * side that reaches end of stream shuts the other stream's write down;
 * the first error drops the side still running (exactly once: its own
 * `awaiting` chain) and ends the future.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "volt/coro.h"
#include "io/rw_internal.h"
#include "net/op.h"

static void copy_release(struct volt_copy *op)
{
	if (op->r == &op->own)
		volt_bufreader_free(&op->own);
	op->r = NULL;
}

static enum volt_poll copy_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_copy *op = (struct volt_copy *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_bufreader_fill_buf(&op->fill, op->r));
		if (op->fill.result <= 0) {
			op->result = op->fill.result ? op->fill.result : op->total;
			break;
		}
		op->chunk = (size_t)op->fill.result;
		VOLT_AWAIT(f, cx, volt_rw_write_all(&op->io, op->to, volt_bufreader_data(op->r),
						    op->chunk));
		op->total += (int64_t)op->io.done;
		volt_bufreader_consume(op->r, op->io.done);
		if (op->io.result < 0) {
			op->result = op->io.result;
			break;
		}
	}
	copy_release(op);
	VOLT_END(f);
}

static void copy_drop(struct volt_future *f)
{
	struct volt_copy *op = (struct volt_copy *)f;

	if (op->r) {
		op->result = -ECANCELED;
		copy_release(op);
	}
}

static const struct volt_future_ops copy_ops = { copy_poll, copy_drop };

static struct volt_future *copy_init(struct volt_copy *op, struct volt_bufreader *r,
				     struct volt_rw to, int err)
{
	volt_future_init(&op->base, &copy_ops);
	op->r = err ? NULL : r;
	op->to = to;
	op->chunk = 0;
	op->total = 0;
	op->result = err;
	if (!err && !to.ops)
		op->result = -EINVAL;
	if (op->result) {
		copy_release(op);
		op->base.resume = VOLT__DONE;
	}
	return &op->base;
}

struct volt_future *volt_copy(struct volt_copy *op, struct volt_rw from, struct volt_rw to,
			      void *buf, size_t cap)
{
	int err = buf && !cap ? -EINVAL
			      : volt_bufreader_init(&op->own, from, buf,
						    cap ? cap : VOLT_COPY_DEFAULT_CAP);

	return copy_init(op, &op->own, to, err);
}

struct volt_future *volt_copy_buffered(struct volt_copy *op, struct volt_bufreader *from,
				       struct volt_rw to)
{
	op->own = (struct volt_bufreader){ 0 };
	return copy_init(op, from, to, from && from->buf && from->cap ? 0 : -EINVAL);
}

int64_t volt_copy_blocking(struct volt_rw from, struct volt_rw to, void *buf, size_t cap,
			   volt_duration timeout)
{
	struct volt_copy op;
	struct volt_future *f = volt_copy(&op, from, to, buf, cap);

	_Static_assert(sizeof(ssize_t) == sizeof(int64_t), "volt__op_block reads op.result");
	if (op.base.resume == VOLT__DONE)
		return op.result;
	return volt__op_block(volt__rw_runtime(&from), f, timeout, (const ssize_t *)&op.result);
}

/* ------------------------------------------------------- bidirectional */

#define BIDI_AB 1u
#define BIDI_BA 2u

/* Ends the future with err: the directions still running are dropped. */
static void bidi_fail(struct volt_copy_bidi *op, int err)
{
	if (op->live & BIDI_AB)
		volt_future_drop(&op->ab.base);
	if (op->live & BIDI_BA)
		volt_future_drop(&op->ba.base);
	op->live = 0;
	op->result = err;
}

/* Polls one direction: 0 while it runs or once it ended cleanly, else its -errno. */
static int bidi_step(struct volt_copy_bidi *op, struct volt_copy *c, unsigned bit,
		     int64_t *count, struct volt_cx *cx)
{
	enum volt_poll p = volt_future_poll(&c->base, cx);

	*count = c->total;
	if (p == VOLT_PENDING)
		return 0;
	op->live &= (uint8_t)~bit;
	volt_future_drop(&c->base);
	if (c->result < 0)
		return (int)c->result;
	return volt_rw_shutdown_write(c->to); /* the reader side saw end of stream */
}

static enum volt_poll bidi_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_copy_bidi *op = (struct volt_copy_bidi *)f;
	int err = 0;

	if ((op->live & BIDI_AB))
		err = bidi_step(op, &op->ab, BIDI_AB, &op->a_to_b, cx);
	if (!err && (op->live & BIDI_BA))
		err = bidi_step(op, &op->ba, BIDI_BA, &op->b_to_a, cx);
	if (err)
		bidi_fail(op, err);
	return op->live ? VOLT_PENDING : VOLT_READY;
}

static void bidi_drop(struct volt_future *f)
{
	struct volt_copy_bidi *op = (struct volt_copy_bidi *)f;

	if (op->live)
		bidi_fail(op, -ECANCELED);
}

static const struct volt_future_ops bidi_ops = { bidi_poll, bidi_drop };

struct volt_future *volt_copy_bidirectional(struct volt_copy_bidi *op, struct volt_rw a,
					    struct volt_rw b)
{
	volt_future_init(&op->base, &bidi_ops);
	op->a_to_b = op->b_to_a = 0;
	op->result = 0;
	op->live = BIDI_AB | BIDI_BA;
	(void)volt_copy(&op->ab, a, b, NULL, 0);
	(void)volt_copy(&op->ba, b, a, NULL, 0);
	if (op->ab.result < 0 || op->ba.result < 0) {
		int err = op->ab.result < 0 ? (int)op->ab.result : (int)op->ba.result;

		bidi_fail(op, err); /* drops both: each releases what it holds */
	}
	return &op->base;
}

int volt_copy_bidirectional_blocking(struct volt_rw a, struct volt_rw b, int64_t *a_to_b,
				     int64_t *b_to_a, volt_duration timeout)
{
	struct volt_copy_bidi op;
	struct volt_future *f = volt_copy_bidirectional(&op, a, b);
	ssize_t result = 0;
	ssize_t ret;

	if (!op.live) {
		ret = op.result;
	} else {
		ret = volt__op_block(volt__rw_runtime(&a), f, timeout, &result);
		if (!ret)
			ret = op.result;
	}
	if (a_to_b)
		*a_to_b = op.a_to_b;
	if (b_to_a)
		*b_to_a = op.b_to_a;
	return (int)ret;
}
