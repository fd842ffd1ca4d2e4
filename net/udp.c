/* SPDX-License-Identifier: MIT */
/*
 * net/udp.c: UDP sockets: bind, connect, send_to, recv_from.
 */
#include <errno.h>
#include <limits.h>

#include "core/rt.h"
#include "drivers/source.h"
#include "net/op.h"

int volt_udp_bind_addr(struct volt_rt *rt, const struct volt_addr *addr, struct volt_udp *out)
{
	struct volt_handle h;
	int ret;

	rt = volt__rt_or_current(rt);
	if (!rt || !addr || !out ||
	    (addr->u.sa.sa_family != AF_INET && addr->u.sa.sa_family != AF_INET6))
		return -EINVAL;
	ret = volt__socket_open(rt, addr->u.sa.sa_family, SOCK_DGRAM, VOLT__SRC_DGRAM, &h);
	if (ret)
		return ret;
	ret = volt__socket_bind(h, addr, 0);
	if (ret) {
		(void)volt__source_close(h);
		return ret;
	}
	out->h = h;
	return 0;
}

int volt_udp_bind(struct volt_rt *rt, const char *addr, struct volt_udp *out)
{
	struct volt_addr a;
	int ret = volt_addr_parse(addr, &a);

	return ret ? ret : volt_udp_bind_addr(rt, &a, out);
}

static int connect_of(struct volt__source *s, void *arg)
{
	const struct volt_addr *peer = arg;

	return VOLT__SYS(s->rt, connect, s->fd, &peer->u.sa, peer->len);
}

int volt_udp_connect(struct volt_udp u, const struct volt_addr *peer)
{
	if (!peer || volt_addr_port(peer) == 0)
		return -EINVAL;
	return volt__with_source(u.h, connect_of, (void *)peer);
}

static bool bad(const void *buf, size_t len)
{
	return (!buf && len) || len > SSIZE_MAX;
}

ssize_t volt_udp_try_send_to(struct volt_udp u, const void *buf, size_t len,
			     const struct volt_addr *to)
{
	return bad(buf, len) ? -EINVAL
			     : volt__op_try(u.h, VOLT__OP_SENDTO, (void *)buf, len,
					    (struct volt_addr *)to);
}

ssize_t volt_udp_try_recv_from(struct volt_udp u, void *buf, size_t len,
			       struct volt_addr *from)
{
	return bad(buf, len) ? -EINVAL : volt__op_try(u.h, VOLT__OP_RECVFROM, buf, len, from);
}

static struct volt_future *datagram(struct volt_io_op *f, struct volt_udp u, int opcode,
				    const void *buf, size_t len, struct volt_addr *addr)
{
	struct volt_future *fut = volt__op_init(f, u.h, opcode, (void *)buf, len, addr);

	if (bad(buf, len)) {
		f->result = -EINVAL;
		f->flags = VOLT__OPF_STARTED | VOLT__OPF_DONE;
	}
	return fut;
}

struct volt_future *volt_udp_send_to(struct volt_io_op *f, struct volt_udp u, const void *buf,
				     size_t len, const struct volt_addr *to)
{
	return datagram(f, u, VOLT__OP_SENDTO, buf, len, (struct volt_addr *)to);
}

struct volt_future *volt_udp_recv_from(struct volt_io_op *f, struct volt_udp u, void *buf,
				       size_t len, struct volt_addr *from)
{
	return datagram(f, u, VOLT__OP_RECVFROM, buf, len, from);
}

ssize_t volt_udp_send_to_blocking(struct volt_udp u, const void *buf, size_t len,
				  const struct volt_addr *to, volt_duration timeout)
{
	struct volt_io_op f;

	return volt__op_block(u.h.rt, volt_udp_send_to(&f, u, buf, len, to), timeout, &f.result);
}

ssize_t volt_udp_recv_from_blocking(struct volt_udp u, void *buf, size_t len,
				    struct volt_addr *from, volt_duration timeout)
{
	struct volt_io_op f;

	return volt__op_block(u.h.rt, volt_udp_recv_from(&f, u, buf, len, from), timeout,
			      &f.result);
}
