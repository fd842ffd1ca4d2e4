/* SPDX-License-Identifier: MIT */
/*
 * net/stream.c: connected byte streams (TCP and Unix): read, write, the
 * looping forms, shutdown, close; and what every handle shares (its
 * descriptor, local and peer address).
 */
#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "core/rt.h"
#include "drivers/source.h"
#include "net/op.h"

int volt_stream_close(struct volt_stream s)
{
	return volt__source_close(s.h);
}

int volt_listener_close(struct volt_listener l)
{
	return volt__source_close(l.h);
}

int volt_udp_close(struct volt_udp u)
{
	return volt__source_close(u.h);
}

static int fd_of(struct volt__source *s, void *arg)
{
	(void)arg;
	return s->fd;
}

int volt_handle_fd(struct volt_handle h)
{
	return volt__with_source(h, fd_of, NULL);
}

static int local_of(struct volt__source *s, void *arg)
{
	struct volt_addr *a = arg;

	a->len = sizeof(a->u);
	return VOLT__SYS(s->rt, getsockname, s->fd, &a->u.sa, &a->len);
}

static int peer_of(struct volt__source *s, void *arg)
{
	struct volt_addr *a = arg;

	a->len = sizeof(a->u);
	return VOLT__SYS(s->rt, getpeername, s->fd, &a->u.sa, &a->len);
}

int volt_local_addr(struct volt_handle h, struct volt_addr *out)
{
	return out ? volt__with_source(h, local_of, out) : -EINVAL;
}

int volt_peer_addr(struct volt_handle h, struct volt_addr *out)
{
	return out ? volt__with_source(h, peer_of, out) : -EINVAL;
}

static int shutdown_of(struct volt__source *s, void *arg)
{
	return VOLT__SYS(s->rt, shutdown, s->fd, *(int *)arg);
}

int volt_stream_shutdown(struct volt_stream s, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	return volt__with_source(s.h, shutdown_of, &how);
}

static int nodelay_of(struct volt__source *s, void *arg)
{
	int on = *(bool *)arg;

	return VOLT__SYS(s->rt, setsockopt, s->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

int volt_tcp_nodelay(struct volt_stream s, bool on)
{
	return volt__with_source(s.h, nodelay_of, &on);
}

/* ------------------------------------------------------- read and write */

ssize_t volt_stream_try_read(struct volt_stream s, void *buf, size_t len)
{
	if ((!buf && len) || len > SSIZE_MAX)
		return -EINVAL;
	return volt__op_try(s.h, VOLT__OP_READ, buf, len, NULL);
}

ssize_t volt_stream_try_write(struct volt_stream s, const void *buf, size_t len)
{
	if ((!buf && len) || len > SSIZE_MAX)
		return -EINVAL;
	return volt__op_try(s.h, VOLT__OP_WRITE, (void *)buf, len, NULL);
}

/*
 * The future forms. Bad arguments make a future that completes at once
 * with -EINVAL (a stale handle: -EBADF at its first poll).
 */
static struct volt_future *transfer(struct volt_io_op *f, struct volt_stream s, int opcode,
				    const void *buf, size_t len, bool loop)
{
	struct volt_future *fut = volt__op_init(f, s.h, opcode, (void *)buf, len, NULL);

	f->loop = loop;
	if ((!buf && len) || len > SSIZE_MAX) {
		f->result = -EINVAL;
		f->flags = VOLT__OPF_STARTED | VOLT__OPF_DONE;
	}
	return fut;
}

struct volt_future *volt_stream_read(struct volt_io_op *f, struct volt_stream s, void *buf,
				     size_t len)
{
	return transfer(f, s, VOLT__OP_READ, buf, len, false);
}

struct volt_future *volt_stream_write(struct volt_io_op *f, struct volt_stream s,
				      const void *buf, size_t len)
{
	return transfer(f, s, VOLT__OP_WRITE, buf, len, false);
}

struct volt_future *volt_stream_read_exact(struct volt_io_op *f, struct volt_stream s,
					   void *buf, size_t len)
{
	return transfer(f, s, VOLT__OP_READ, buf, len, true);
}

struct volt_future *volt_stream_write_all(struct volt_io_op *f, struct volt_stream s,
					  const void *buf, size_t len)
{
	return transfer(f, s, VOLT__OP_WRITE, buf, len, true);
}

static ssize_t transfer_blocking(struct volt_stream s, int opcode, const void *buf,
				 size_t len, bool loop, volt_duration timeout)
{
	struct volt_io_op f;

	return volt__op_block(s.h.rt, transfer(&f, s, opcode, buf, len, loop), timeout,
			      &f.result);
}

ssize_t volt_stream_read_blocking(struct volt_stream s, void *buf, size_t len,
				  volt_duration timeout)
{
	return transfer_blocking(s, VOLT__OP_READ, buf, len, false, timeout);
}

ssize_t volt_stream_write_blocking(struct volt_stream s, const void *buf, size_t len,
				   volt_duration timeout)
{
	return transfer_blocking(s, VOLT__OP_WRITE, buf, len, false, timeout);
}

ssize_t volt_stream_read_exact_blocking(struct volt_stream s, void *buf, size_t len,
					volt_duration timeout)
{
	return transfer_blocking(s, VOLT__OP_READ, buf, len, true, timeout);
}

ssize_t volt_stream_write_all_blocking(struct volt_stream s, const void *buf, size_t len,
				       volt_duration timeout)
{
	return transfer_blocking(s, VOLT__OP_WRITE, buf, len, true, timeout);
}
