/* SPDX-License-Identifier: MIT */
/*
 * net/tcp.c: TCP listeners and connect (streams are net/stream.c's).
 */
#include <errno.h>
#include <netinet/tcp.h>

#include "drivers/source.h"
#include "net/op.h"

#define DEFAULT_BACKLOG 1024

static bool ip_family(const struct volt_addr *a)
{
	return a->u.sa.sa_family == AF_INET || a->u.sa.sa_family == AF_INET6;
}

int volt_tcp_listen_addr(struct volt_rt *rt, const struct volt_addr *addr, int backlog,
			 struct volt_listener *out)
{
	struct volt_handle h;
	int ret;

	rt = volt__rt_or_current(rt);
	if (!rt || !addr || !out || !ip_family(addr) || backlog < 0)
		return -EINVAL;
	ret = volt__socket_open(rt, addr->u.sa.sa_family, SOCK_STREAM, VOLT__SRC_LISTENER, &h);
	if (ret)
		return ret;
	ret = volt__socket_bind(h, addr, backlog ? backlog : DEFAULT_BACKLOG);
	if (ret) {
		(void)volt__source_close(h);
		return ret;
	}
	out->h = h;
	return 0;
}

int volt_tcp_listen(struct volt_rt *rt, const char *addr, struct volt_listener *out)
{
	struct volt_addr a;
	int ret = volt_addr_parse(addr, &a);

	return ret ? ret : volt_tcp_listen_addr(rt, &a, DEFAULT_BACKLOG, out);
}

/*
 * The socket is made here and belongs to the future until it connects:
 * a failed or dropped connect closes it. A bad address or a socket that
 * cannot be made gives a future that completes at once with the error.
 */
static struct volt_future *connect_future(struct volt_io_op *f, struct volt_rt *rt,
					  const struct volt_addr *addr, struct volt_stream *out,
					  bool unix_domain)
{
	struct volt_handle h = { NULL, 0, 0 };
	int ret = -EINVAL;

	rt = volt__rt_or_current(rt);
	if (rt && addr && out &&
	    (unix_domain ? addr->u.sa.sa_family == AF_UNIX
			 : ip_family(addr) && volt_addr_port(addr) != 0))
		ret = volt__socket_open(rt, addr->u.sa.sa_family, SOCK_STREAM, VOLT__SRC_STREAM,
					&h);
	struct volt_future *fut = volt__op_init(f, h, VOLT__OP_CONNECT, NULL, 0,
						(struct volt_addr *)addr);

	f->accepted = out ? &out->h : NULL;
	if (ret) {
		f->result = ret;
		f->flags = VOLT__OPF_STARTED | VOLT__OPF_DONE;
		return fut;
	}
	if (!unix_domain)
		(void)volt_tcp_nodelay((struct volt_stream){ h }, true);
	return fut;
}

struct volt_future *volt_tcp_connect(struct volt_io_op *f, struct volt_rt *rt,
				     const struct volt_addr *addr, struct volt_stream *out)
{
	return connect_future(f, rt, addr, out, false);
}

struct volt_future *volt_unix_connect(struct volt_io_op *f, struct volt_rt *rt,
				      const struct volt_addr *addr, struct volt_stream *out)
{
	return connect_future(f, rt, addr, out, true);
}

int volt_tcp_connect_blocking(struct volt_rt *rt, const char *addr, struct volt_stream *out,
			      volt_duration timeout)
{
	struct volt_addr a;
	struct volt_io_op f;
	int ret = volt_addr_parse(addr, &a);

	if (ret)
		return ret;
	rt = volt__rt_or_current(rt);
	return (int)volt__op_block(rt, volt_tcp_connect(&f, rt, &a, out), timeout, &f.result);
}

int volt_unix_connect_blocking(struct volt_rt *rt, const char *path, struct volt_stream *out,
			       volt_duration timeout)
{
	struct volt_addr a;
	struct volt_io_op f;
	int ret = volt_addr_unix(path, &a);

	if (ret)
		return ret;
	rt = volt__rt_or_current(rt);
	return (int)volt__op_block(rt, volt_unix_connect(&f, rt, &a, out), timeout, &f.result);
}

int volt_unix_listen(struct volt_rt *rt, const char *path, struct volt_listener *out)
{
	struct volt_addr a;
	struct volt_handle h;
	int ret = volt_addr_unix(path, &a);

	rt = volt__rt_or_current(rt);
	if (ret || !rt || !out)
		return ret ? ret : -EINVAL;
	ret = volt__socket_open(rt, AF_UNIX, SOCK_STREAM, VOLT__SRC_LISTENER, &h);
	if (ret)
		return ret;
	ret = volt__socket_bind(h, &a, DEFAULT_BACKLOG);
	if (ret) {
		(void)volt__source_close(h);
		return ret;
	}
	out->h = h;
	return 0;
}
