/* SPDX-License-Identifier: MIT */
/*
 * net/op.c: one future for every socket operation, on any driver.
 *
 * First poll: take a reference on the handle's source (a stale handle is
 * -EBADF here, before any system call; one whose runtime was freed,
 * -ESHUTDOWN), refuse a sticky reset. Then the
 * driver's op_poll runs the operation; the looping forms (read_exact,
 * write_all) call it again until `len` bytes moved. On completion: an
 * accepted descriptor becomes a new source, a failed connect closes its
 * socket, and the reference is dropped. Dropping a pending operation asks
 * the driver to forget it (on io_uring: cancel it, the kernel's buffer
 * staying the driver's) and drops the reference the same way.
 */
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/io.h"
#include "core/live.h"
#include "core/rt.h"
#include "drivers/source.h"
#include "net/op.h"

struct volt_rt *volt__rt_or_current(struct volt_rt *rt)
{
	return rt ? rt : volt_rt_current();
}

static bool moves_bytes(int opcode)
{
	return opcode == VOLT__OP_READ || opcode == VOLT__OP_WRITE;
}

/* The source is done with: uncount, release, and the connect's socket if it failed. */
static void op_release(struct volt_io_op *op)
{
	struct volt__source *s = op->source;

	if (op->flags & VOLT__OPF_COUNTED) {
		op->flags &= (uint16_t)~VOLT__OPF_COUNTED;
		volt__io_pending(op->h.rt, -1);
	}
	op->source = NULL;
	op->flags |= VOLT__OPF_DONE;
	if (s)
		volt__source_put(s);
	if (op->opcode == VOLT__OP_CONNECT && op->result != 0)
		(void)volt__source_close(op->h);
}

static void op_complete(struct volt_io_op *op)
{
	if (op->opcode == VOLT__OP_ACCEPT && op->result >= 0) {
		struct volt_handle h;
		int ret = volt__source_open(op->h.rt, (int)op->result, VOLT__SRC_STREAM, &h);

		op->result = ret;
		if (!ret)
			*op->accepted = h;
	} else if (op->opcode == VOLT__OP_CONNECT && op->result == 0) {
		*op->accepted = op->h;
	}
	op_release(op);
}

static enum volt_poll op_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_io_op *op = (struct volt_io_op *)f;
	struct volt_rt *rt = op->h.rt;

	if (op->flags & VOLT__OPF_DONE)
		return VOLT_READY;
	if (!(op->flags & VOLT__OPF_STARTED)) {
		op->flags |= VOLT__OPF_STARTED;
		op->source = volt__source_get(op->h);
		if (!op->source) {
			op->result = op->opcode == VOLT__OP_CONNECT ? -ECANCELED
								 : volt__source_error(op->h);
			op_release(op);
			return VOLT_READY;
		}
		/* relaxed: the sticky error is the whole message */
		int sticky = volt__load(&((struct volt__source *)op->source)->sticky, RELAXED);

		if (sticky && moves_bytes(op->opcode)) {
			op->result = sticky;
			op_release(op);
			return VOLT_READY;
		}
	}
	for (;;) {
		/* one unit per attempt: a peer that is always ready must not starve the worker */
		if (!volt_budget_take(cx)) {
			volt_waker_wake_by_ref(&cx->waker);
			return VOLT_PENDING;
		}
		if (rt->io.ops->op_poll(rt->io.drv, op, cx) == VOLT_PENDING) {
			if (!(op->flags & VOLT__OPF_COUNTED)) {
				op->flags |= VOLT__OPF_COUNTED;
				volt__io_pending(rt, 1);
			}
			return VOLT_PENDING;
		}
		if (!op->loop || op->result < 0)
			break;
		if (op->result == 0 && op->len > op->done) {
			op->result = -EPIPE; /* read_exact: the stream ended first */
			break;
		}
		op->done += (size_t)op->result;
		if (op->done >= op->len) {
			op->result = (ssize_t)op->len;
			break;
		}
	}
	op_complete(op);
	return VOLT_READY;
}

static void op_drop(struct volt_future *f)
{
	struct volt_io_op *op = (struct volt_io_op *)f;

	if (!(op->flags & VOLT__OPF_STARTED) || (op->flags & VOLT__OPF_DONE)) {
		if (!(op->flags & VOLT__OPF_STARTED) && op->opcode == VOLT__OP_CONNECT)
			(void)volt__source_close(op->h); /* never polled: the socket is ours */
		return;
	}
	op->h.rt->io.ops->op_drop(op->h.rt->io.drv, op);
	op->result = -ECANCELED;
	op_release(op);
}

static const struct volt_future_ops op_ops = { op_poll, op_drop };

struct volt_future *volt__op_init(struct volt_io_op *op, struct volt_handle h, int opcode,
				  void *buf, size_t len, struct volt_addr *addr)
{
	volt_future_init(&op->base, &op_ops);
	op->h = h;
	op->opcode = (uint8_t)opcode;
	op->loop = 0;
	op->flags = 0;
	op->msg_flags = 0;
	op->buf = buf;
	op->len = len;
	op->done = 0;
	op->addr = addr;
	op->accepted = NULL;
	op->source = NULL;
	op->pending = NULL;
	op->waiter = (struct volt_waiter){ 0 };
	op->tick = 0;
	op->result = 0;
	return &op->base;
}

ssize_t volt__op_try(struct volt_handle h, int opcode, void *buf, size_t len,
		     struct volt_addr *addr)
{
	struct volt_io_op op;
	struct volt__source *s = volt__source_get(h);
	ssize_t n;

	if (!s)
		return volt__source_error(h);
	/* relaxed: the sticky error is the whole message */
	n = moves_bytes(opcode) ? volt__load(&s->sticky, RELAXED) : 0;
	if (!n) {
		(void)volt__op_init(&op, h, opcode, buf, len, addr);
		n = volt__io_syscall(s, &op);
	}
	volt__source_put(s);
	return n;
}

ssize_t volt__op_block(struct volt_rt *rt, struct volt_future *f, volt_duration timeout,
		       const ssize_t *result)
{
	struct volt_timeout t;
	int ret;

	if (rt && !volt__live(rt)) {
		volt_future_drop(f); /* a handle that outlived its runtime: never follow rt */
		return -ESHUTDOWN;
	}
	if (timeout.ns == UINT64_MAX)
		ret = volt_block_on(rt, f, NULL);
	else
		ret = volt_block_on(rt, volt_timeout(&t, f, timeout), NULL);
	if (ret) {
		volt_future_drop(f); /* block_on refused: it never owned the chain */
		return ret;
	}
	return timeout.ns != UINT64_MAX && t.result ? t.result : *result;
}

int volt__socket_open(struct volt_rt *rt, int family, int type, enum volt__source_kind kind,
		      struct volt_handle *h)
{
	if (!rt)
		return -EINVAL;
	int fd = VOLT__SYS(rt, socket, family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fd;
	return volt__source_open(rt, fd, kind, h);
}

int volt__socket_bind(struct volt_handle h, const struct volt_addr *addr, int backlog)
{
	struct volt__source *s = volt__source_get(h);
	int one = 1, ret = 0;

	if (!s)
		return volt__source_error(h);
	if (backlog > 0 && addr->u.sa.sa_family != AF_UNIX)
		(void)VOLT__SYS(s->rt, setsockopt, s->fd, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one));
	ret = VOLT__SYS(s->rt, bind, s->fd, &addr->u.sa, addr->len);
	if (!ret && backlog > 0)
		ret = VOLT__SYS(s->rt, listen, s->fd, backlog);
	volt__source_put(s);
	return ret;
}

int volt__with_source(struct volt_handle h, int (*fn)(struct volt__source *s, void *arg),
		      void *arg)
{
	struct volt__source *s = volt__source_get(h);
	int ret;

	if (!s)
		return volt__source_error(h);
	ret = fn(s, arg);
	volt__source_put(s);
	return ret;
}
