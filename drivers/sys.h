/* SPDX-License-Identifier: MIT */
/*
 * drivers/sys.h: the system calls behind sockets, as a table.
 *
 * Every socket system call the library makes (net/, drivers/syscalls.c,
 * drivers/source.c, the readiness and completion calls inside the epoll and
 * uring drivers) goes through a `struct volt__sys`, so two things can stand
 * in for the kernel without touching the code above:
 *
 *	volt__sys_posix	the real calls (drivers/sys_posix.c)
 *	a fault shim	wraps another table and makes chosen calls fail or
 *			return short, from a seeded plan (tests/fault/)
 *	the sim driver	an in-memory network (drivers/sim*.c): a socket is a
 *			number in the simulated world, not a kernel descriptor
 *
 * Contract of every entry: the libc call's arguments after `d`, and the
 * libc result with errors as -errno (never -1 and errno). `d` is the driver
 * of the runtime making the call; tables that do not need it ignore it.
 * EINTR is the caller's to retry.
 *
 * Which table a runtime uses: its driver's `sys` when the driver has one
 * (sim), else the process-wide table, volt__sys_posix unless a test
 * installed another with volt__sys_install() before creating the runtime.
 */
#ifndef VOLT_DRIVERS_SYS_H
#define VOLT_DRIVERS_SYS_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct volt__driver;
struct volt_rt;

struct volt__sys {
	const char *name;
	int (*socket)(struct volt__driver *d, int domain, int type, int protocol);
	int (*bind)(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len);
	int (*listen)(struct volt__driver *d, int fd, int backlog);
	int (*accept4)(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len,
		       int flags);
	int (*connect)(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len);
	ssize_t (*recvfrom)(struct volt__driver *d, int fd, void *buf, size_t len, int flags,
			    struct sockaddr *a, socklen_t *alen);
	ssize_t (*sendto)(struct volt__driver *d, int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *a, socklen_t alen);
	ssize_t (*read)(struct volt__driver *d, int fd, void *buf, size_t len);
	ssize_t (*write)(struct volt__driver *d, int fd, const void *buf, size_t len);
	int (*shutdown)(struct volt__driver *d, int fd, int how);
	int (*close)(struct volt__driver *d, int fd);
	int (*getsockname)(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len);
	int (*getpeername)(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len);
	int (*setsockopt)(struct volt__driver *d, int fd, int level, int name, const void *v,
			  socklen_t len);
	int (*getsockopt)(struct volt__driver *d, int fd, int level, int name, void *v,
			  socklen_t *len);
	/* The drivers' own calls (epoll_ctl, epoll_wait, io_uring_enter and the
	 * completion rewrite hook) follow below; the sim driver leaves them NULL. */
};

extern const struct volt__sys volt__sys_posix;

/* The table rt's sockets use (never NULL). */
const struct volt__sys *volt__sys_of(struct volt_rt *rt);

/* The process-wide table (for core/io.c, when a runtime starts). */
const struct volt__sys *volt__sys_process(void);

/* VOLT__SYS(rt, call, args...): rt's table's `call` on rt's driver
 * (needs core/rt.h). */
#define VOLT__SYS(rt, call, ...) ((rt)->io.sys->call((rt)->io.drv, __VA_ARGS__))

/*
 * Installs t (NULL: volt__sys_posix) as the process-wide table for
 * runtimes created from now on; returns the previous one. Tests only.
 */
const struct volt__sys *volt__sys_install(const struct volt__sys *t);

#endif /* VOLT_DRIVERS_SYS_H */
