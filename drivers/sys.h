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
 *			return short, from a seeded plan (tests/fault_sys.c)
 *	the sim driver	an in-memory network (drivers/sim*.c): a socket is a
 *			number in the simulated world, not a kernel descriptor
 *
 * Contract of every entry: the libc call's arguments after `d`, and the
 * libc result with errors as -errno (never -1 and errno). `d` is the driver
 * of the runtime making the call; tables that do not need it ignore it.
 * EINTR is the caller's to retry.
 *
 * The drivers' own calls come after the socket calls: epoll_ctl and the
 * epoll_pwait2 / epoll_wait pair (drivers/epoll.c), and for io_uring
 * (drivers/uring.c) the ring's set-up, submission and wait, plus two hooks
 * no system call has, for a shim to reach inside the ring:
 *
 *	uring_sqe	as an operation's SQE is prepared: may shorten a stream
 *			transfer (the kernel then really moves fewer bytes, as
 *			a short transfer does), or ask for a NOP to *stand in*
 *			for the operation, so the kernel performs nothing;
 *	uring_cqe	each operation's CQE (res, flags) before the driver
 *			acts on it; a stand-in's CQE (res 0, from the NOP) must
 *			be rewritten here into what the kernel could have said
 *			without moving anything: an error, or 0 for a read at
 *			its end of stream.
 *
 * Rewriting a real CQE that moved bytes or took a connection would lose
 * them, which no kernel does; stand-ins are how a shim answers with an
 * error, or cancels an operation, without that. io_uring is wrapped at
 * liburing's level (io_uring_submit, io_uring_enter2), not the bare
 * system call: io_uring_submit publishes the SQ tail and enters in one
 * call, and a table that refuses it leaves the SQEs queued, unsubmitted,
 * where the next submission takes them, which is also what a kernel that
 * refuses io_uring_enter (-EAGAIN, -EBUSY, -EINTR) leaves behind.
 * eventfd and the rings' teardown are not in the table: nothing a shim
 * needs happens there.
 *
 * Which table a runtime uses: its driver's `sys` when the driver has one
 * (sim), else the process-wide table, volt__sys_posix unless a test
 * installed another with volt__sys_install() before creating the runtime.
 * A driver with a table of its own only calls the socket entries; the
 * epoll and uring entries are for the two kernel drivers and may be NULL
 * there.
 */
#ifndef VOLT_DRIVERS_SYS_H
#define VOLT_DRIVERS_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

struct epoll_event;
struct io_uring;
struct io_uring_params;
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

	/* epoll (drivers/epoll.c): the libc calls */
	int (*epoll_ctl)(struct volt__driver *d, int epfd, int op, int fd, struct epoll_event *ev);
	int (*epoll_pwait2)(struct volt__driver *d, int epfd, struct epoll_event *evs, int max,
			    const struct timespec *timeout);
	int (*epoll_wait)(struct volt__driver *d, int epfd, struct epoll_event *evs, int max,
			  int timeout_ms);

	/* io_uring (drivers/uring.c): liburing's calls, results as liburing gives them */
	int (*uring_setup)(struct volt__driver *d, unsigned entries, struct io_uring *ring,
			   struct io_uring_params *p);
	int (*uring_submit)(struct volt__driver *d, struct io_uring *ring);
	int (*uring_enter)(struct volt__driver *d, unsigned ring_fd, unsigned to_submit,
			   unsigned min_complete, unsigned flags, void *arg, size_t argsz);
	/*
	 * The hooks (see above); NULL: no rewriting. `opcode` is the operation's
	 * (enum volt__opcode, drivers/driver.h), fd its descriptor. uring_sqe
	 * may lower *len to 1..*len for VOLT__OP_READ and VOLT__OP_WRITE only
	 * (a datagram is never cut); it returns true for a stand-in. uring_cqe
	 * sees every operation's CQE (stand_in: this one is a stand-in's).
	 */
	bool (*uring_sqe)(struct volt__driver *d, int opcode, int fd, size_t *len);
	void (*uring_cqe)(struct volt__driver *d, int opcode, int fd, bool stand_in, int32_t *res,
			  uint32_t *flags);
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
