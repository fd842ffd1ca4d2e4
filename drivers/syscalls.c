/* SPDX-License-Identifier: MIT */
/*
 * drivers/syscalls.c: the non-blocking system call behind each operation,
 * shared by the epoll driver and every try form. Errors come back as
 * -errno, read before anything else can touch errno; EINTR is retried.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/driver.h"

static ssize_t do_connect(struct volt__source *s, struct volt_io_op *op)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (!(op->flags & VOLT__OPF_CONNECTING)) {
		if (connect(s->fd, &op->addr->u.sa, op->addr->len) == 0)
			return 0;
		if (errno != EINPROGRESS)
			return -errno;
		op->flags |= VOLT__OPF_CONNECTING;
		return -EAGAIN;
	}
	/* writable after EINPROGRESS: the outcome is in SO_ERROR */
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	if (err == EINPROGRESS || err == EALREADY)
		return -EAGAIN;
	return -err;
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
		n = accept4(s->fd, op->addr ? &op->addr->u.sa : NULL, op->addr ? &alen : NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (n >= 0 && op->addr)
			op->addr->len = alen;
		return n < 0 ? -errno : n;
	case VOLT__OP_CONNECT:
		return do_connect(s, op);
	case VOLT__OP_READ:
		n = s->socket ? recv(s->fd, buf, len, op->msg_flags) : read(s->fd, buf, len);
		break;
	case VOLT__OP_WRITE:
		n = s->socket ? send(s->fd, buf, len, op->msg_flags | MSG_NOSIGNAL)
			      : write(s->fd, buf, len);
		break;
	case VOLT__OP_RECVFROM:
		alen = sizeof(op->addr->u);
		n = recvfrom(s->fd, buf, len, op->msg_flags, op->addr ? &op->addr->u.sa : NULL,
			     op->addr ? &alen : NULL);
		if (n >= 0 && op->addr)
			op->addr->len = alen;
		break;
	case VOLT__OP_SENDTO:
		n = sendto(s->fd, buf, len, op->msg_flags | MSG_NOSIGNAL,
			   op->addr ? &op->addr->u.sa : NULL, op->addr ? op->addr->len : 0);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 ? -errno : n;
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
