/* SPDX-License-Identifier: MIT */
/*
 * tests/net_helpers.h: what the networking tests share: a runtime on a
 * chosen driver, an echo server task, and loopback plumbing.
 *
 * VT_FOR_EACH_DRIVER(d) runs its body once per built-in driver (uring,
 * epoll); a driver the kernel refuses is skipped with a note.
 */
#ifndef VOLT_TESTS_NET_HELPERS_H
#define VOLT_TESTS_NET_HELPERS_H

#include "helpers.h"

/* A runtime for `policy` with n workers on `driver`; NULL if the kernel refuses it. */
struct volt_rt *vt_net_rt(const char *policy, unsigned workers, const char *driver);

#define VT_FOR_EACH_DRIVER(d)                                                   \
	for (unsigned vt__di = 0; (d = volt_driver_name(vt__di)) != NULL; vt__di++)

/* One connection: reads and writes back until EOF or an error. */
struct vt_echo_conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	ssize_t n;
	char buf[4096];
};

/* Accepts until the listener is closed, spawning a vt_echo_conn for each. */
struct vt_echo_server {
	struct volt_future base;
	struct volt_listener l;
	struct volt_accept acc;
	struct volt_stream s;
	atomic_int *accepted; /* may be NULL */
	int last_error;       /* the accept result that ended the loop */
};

/* Listens on 127.0.0.1:0, spawns the server and stores the address. */
void vt_echo_start(struct volt_rt *rt, struct volt_listener *l, struct volt_addr *addr,
		   atomic_int *accepted, struct volt_join **server);

/* Fills buf with the bytes of (seed, offset ...) so a reader can check them. */
void vt_pattern(unsigned char *buf, size_t len, uint32_t seed, size_t offset);

/* A plain connected TCP socket to addr (blocking), for a client outside the runtime. */
int vt_plain_connect(const struct volt_addr *addr);

/* Open descriptors of this process (/proc/self/fd); *max_fd (if not NULL): the highest. */
int vt_fd_count(int *max_fd);

/* CPU time of the whole process so far (user + system, every thread), in seconds. */
double vt_cpu_s(void);

#endif /* VOLT_TESTS_NET_HELPERS_H */
