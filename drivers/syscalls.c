/* SPDX-License-Identifier: MIT */
/*
 * drivers/syscalls.c: the non-blocking system call behind each operation,
 * shared by the epoll driver and every try form, made through the
 * runtime's table (drivers/sys.h). Errors come back as -errno; EINTR is
 * retried.
 *
 * VOLT__OP_POLL's check is poll(2) with a zero timeout (1: ready, 0:
 * -EAGAIN); the file opcodes are plain calls (fs/ runs them on the
 * blocking pool when the driver is not uring). These are not in the
 * table: no fault shim or simulated world has files or pidfds.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/rt.h"
#include "drivers/driver.h"

static ssize_t do_connect(struct volt__source *s, struct volt_io_op *op)
{
	int err = 0, ret;
	socklen_t len = sizeof(err);

	if (!(op->flags & VOLT__OPF_CONNECTING)) {
		ret = VOLT__SYS(s->rt, connect, s->fd, &op->addr->u.sa, op->addr->len);
		if (ret != -EINPROGRESS)
			return ret;
		op->flags |= VOLT__OPF_CONNECTING;
		return -EAGAIN;
	}
	/* writable after EINPROGRESS: the outcome is in SO_ERROR */
	ret = VOLT__SYS(s->rt, getsockopt, s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (ret)
		return ret;
	if (err == EINPROGRESS || err == EALREADY)
		return -EAGAIN;
	return -err;
}

static ssize_t do_poll(struct volt__source *s, struct volt_io_op *op)
{
	struct pollfd p = { .fd = s->fd, .events = (short)op->msg_flags };
	int n = poll(&p, 1, 0);

	if (n < 0)
		return -errno;
	return n ? 0 : -EAGAIN;
}

static ssize_t do_file(struct volt__source *s, struct volt_io_op *op, char *buf, size_t len)
{
	off_t at = (off_t)(op->offset + (int64_t)op->done);
	ssize_t n;

	switch (op->opcode) {
	case VOLT__OP_PREAD:
		n = op->offset < 0 ? read(s->fd, buf, len) : pread(s->fd, buf, len, at);
		break;
	case VOLT__OP_PWRITE:
		n = op->offset < 0 ? write(s->fd, buf, len) : pwrite(s->fd, buf, len, at);
		break;
	default: /* VOLT__OP_FSYNC */
		n = (op->msg_flags & VOLT__FSYNC_DATA) ? fdatasync(s->fd) : fsync(s->fd);
		break;
	}
	return n < 0 ? -errno : n;
}

static ssize_t once(struct volt__source *s, struct volt_io_op *op)
{
	char *buf = (char *)op->buf + op->done;
	size_t len = op->len - op->done;
	socklen_t alen;
	ssize_t n;

	switch (op->opcode) {
	case VOLT__OP_ACCEPT:
		alen = sizeof(op->addr->u);
		n = VOLT__SYS(s->rt, accept4, s->fd, op->addr ? &op->addr->u.sa : NULL,
			      op->addr ? &alen : NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (n >= 0 && op->addr)
			op->addr->len = alen;
		return n;
	case VOLT__OP_CONNECT:
		return do_connect(s, op);
	case VOLT__OP_READ:
		return s->socket ? VOLT__SYS(s->rt, recvfrom, s->fd, buf, len, op->msg_flags, NULL,
					     NULL)
				 : VOLT__SYS(s->rt, read, s->fd, buf, len);
	case VOLT__OP_WRITE:
		return s->socket ? VOLT__SYS(s->rt, sendto, s->fd, buf, len,
					     op->msg_flags | MSG_NOSIGNAL, NULL, 0)
				 : VOLT__SYS(s->rt, write, s->fd, buf, len);
	case VOLT__OP_RECVFROM:
		alen = sizeof(op->addr->u);
		n = VOLT__SYS(s->rt, recvfrom, s->fd, buf, len, op->msg_flags,
			      op->addr ? &op->addr->u.sa : NULL, op->addr ? &alen : NULL);
		if (n >= 0 && op->addr)
			op->addr->len = alen;
		return n;
	case VOLT__OP_SENDTO:
		return VOLT__SYS(s->rt, sendto, s->fd, buf, len, op->msg_flags | MSG_NOSIGNAL,
				 op->addr ? &op->addr->u.sa : NULL, op->addr ? op->addr->len : 0);
	case VOLT__OP_POLL:
		return do_poll(s, op);
	case VOLT__OP_PREAD:
	case VOLT__OP_PWRITE:
	case VOLT__OP_FSYNC:
		return do_file(s, op, buf, len);
	default:
		return -EINVAL;
	}
}

ssize_t volt__io_syscall(struct volt__source *s, struct volt_io_op *op)
{
	ssize_t n;

	do
		n = once(s, op);
	while (n == -EINTR);
	if (n == -EWOULDBLOCK)
		n = -EAGAIN;
	return volt__io_note_result(s, n);
}

ssize_t volt__io_note_result(struct volt__source *s, ssize_t res)
{
	/* relaxed: the value is the message; no data hangs off it. Only a reset
	 * is sticky: after -EPIPE the peer's last bytes may still be there to read */
	if (res == -ECONNRESET)
		volt__store(&s->sticky, (int)res, RELAXED);
	return res;
}
