/* SPDX-License-Identifier: MIT */
/*
 * drivers/sys_posix.c: the system-call table of the real kernel, and the
 * process-wide choice of table (drivers/sys.h).
 *
 * Each entry is the libc call with errno folded into the result: -errno on
 * failure, the call's value otherwise. errno is read at once, before
 * anything else can touch it. The io_uring entries are liburing's, which
 * return -errno already; the kernel has no hooks, so those are NULL.
 */
#include <errno.h>
#include <liburing.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/rt.h"
#include "drivers/sys.h"

/* The call's result, or -errno: called on the result at once. */
static ssize_t ret(ssize_t r)
{
	return r < 0 ? -errno : r;
}

static int p_socket(struct volt__driver *d, int domain, int type, int protocol)
{
	(void)d;
	return (int)ret(socket(domain, type, protocol));
}

static int p_bind(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	(void)d;
	return (int)ret(bind(fd, a, len));
}

static int p_listen(struct volt__driver *d, int fd, int backlog)
{
	(void)d;
	return (int)ret(listen(fd, backlog));
}

static int p_accept4(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len, int flags)
{
	(void)d;
	return (int)ret(accept4(fd, a, len, flags));
}

static int p_connect(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	(void)d;
	return (int)ret(connect(fd, a, len));
}

static ssize_t p_recvfrom(struct volt__driver *d, int fd, void *buf, size_t len, int flags,
			  struct sockaddr *a, socklen_t *alen)
{
	(void)d;
	return ret(recvfrom(fd, buf, len, flags, a, alen));
}

static ssize_t p_sendto(struct volt__driver *d, int fd, const void *buf, size_t len, int flags,
			const struct sockaddr *a, socklen_t alen)
{
	(void)d;
	return ret(sendto(fd, buf, len, flags, a, alen));
}

static ssize_t p_read(struct volt__driver *d, int fd, void *buf, size_t len)
{
	(void)d;
	return ret(read(fd, buf, len));
}

static ssize_t p_write(struct volt__driver *d, int fd, const void *buf, size_t len)
{
	(void)d;
	return ret(write(fd, buf, len));
}

static int p_shutdown(struct volt__driver *d, int fd, int how)
{
	(void)d;
	return (int)ret(shutdown(fd, how));
}

static int p_close(struct volt__driver *d, int fd)
{
	(void)d;
	return (int)ret(close(fd));
}

static int p_getsockname(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	(void)d;
	return (int)ret(getsockname(fd, a, len));
}

static int p_getpeername(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	(void)d;
	return (int)ret(getpeername(fd, a, len));
}

static int p_setsockopt(struct volt__driver *d, int fd, int level, int name, const void *v,
			socklen_t len)
{
	(void)d;
	return (int)ret(setsockopt(fd, level, name, v, len));
}

static int p_getsockopt(struct volt__driver *d, int fd, int level, int name, void *v,
			socklen_t *len)
{
	(void)d;
	return (int)ret(getsockopt(fd, level, name, v, len));
}

static int p_epoll_ctl(struct volt__driver *d, int epfd, int op, int fd, struct epoll_event *ev)
{
	(void)d;
	return (int)ret(epoll_ctl(epfd, op, fd, ev));
}

static int p_epoll_pwait2(struct volt__driver *d, int epfd, struct epoll_event *evs, int max,
			  const struct timespec *timeout)
{
	(void)d;
	return (int)ret(epoll_pwait2(epfd, evs, max, timeout, NULL));
}

static int p_epoll_wait(struct volt__driver *d, int epfd, struct epoll_event *evs, int max,
			int timeout_ms)
{
	(void)d;
	return (int)ret(epoll_wait(epfd, evs, max, timeout_ms));
}

static int p_uring_setup(struct volt__driver *d, unsigned entries, struct io_uring *ring,
			 struct io_uring_params *p)
{
	(void)d;
	return io_uring_queue_init_params(entries, ring, p);
}

static int p_uring_submit(struct volt__driver *d, struct io_uring *ring)
{
	(void)d;
	return io_uring_submit(ring);
}

static int p_uring_enter(struct volt__driver *d, unsigned ring_fd, unsigned to_submit,
			 unsigned min_complete, unsigned flags, void *arg, size_t argsz)
{
	(void)d;
	return io_uring_enter2(ring_fd, to_submit, min_complete, flags, (sigset_t *)arg, argsz);
}

const struct volt__sys volt__sys_posix = {
	.name = "posix",
	.socket = p_socket,
	.bind = p_bind,
	.listen = p_listen,
	.accept4 = p_accept4,
	.connect = p_connect,
	.recvfrom = p_recvfrom,
	.sendto = p_sendto,
	.read = p_read,
	.write = p_write,
	.shutdown = p_shutdown,
	.close = p_close,
	.getsockname = p_getsockname,
	.getpeername = p_getpeername,
	.setsockopt = p_setsockopt,
	.getsockopt = p_getsockopt,
	.epoll_ctl = p_epoll_ctl,
	.epoll_pwait2 = p_epoll_pwait2,
	.epoll_wait = p_epoll_wait,
	.uring_setup = p_uring_setup,
	.uring_submit = p_uring_submit,
	.uring_enter = p_uring_enter,
	.uring_sqe = NULL,
	.uring_cqe = NULL,
};

/* acquire/release: a table installed by a test is complete before use */
static const struct volt__sys *_Atomic process_table = &volt__sys_posix;

const struct volt__sys *volt__sys_install(const struct volt__sys *t)
{
	return volt__xchg(&process_table, t ? t : &volt__sys_posix, ACQ_REL);
}

const struct volt__sys *volt__sys_of(struct volt_rt *rt)
{
	return rt->io.sys;
}

const struct volt__sys *volt__sys_process(void)
{
	return volt__load(&process_table, ACQUIRE);
}
