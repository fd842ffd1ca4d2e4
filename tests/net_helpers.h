/* SPDX-License-Identifier: MIT */
/*
 * tests/net_helpers.h: what the networking tests share: a runtime on a
 * chosen driver, an echo server task, loopback plumbing, a probe that says
 * when an operation waits, a future run in a task, the check that every
 * call on a dead handle is refused, and the process's descriptor count and
 * CPU time.
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

/*
 * Listens on 127.0.0.1:0 into *l, connects a plain client to it
 * (vt_plain_connect) and accepts its stream into *s (blocking); returns
 * the client's descriptor.
 */
int vt_tcp_pair(struct volt_rt *rt, struct volt_listener *l, struct volt_stream *s);

/* Open descriptors of this process (/proc/self/fd); *max_fd (if not NULL): the highest. */
int vt_fd_count(int *max_fd);

/*
 * The descriptor count once it has come down to `want` (or after 2 s): a
 * closed handle's descriptor goes only when its last operation lets go, and
 * on io_uring a dropped operation lets go when its cancellation completes.
 */
int vt_fd_count_settled(int want);

/*
 * A probe: polls inner and sets *pending (if not NULL) once inner's poll
 * has returned VOLT_PENDING: the operation is then started (on uring: its
 * SQE is queued; on epoll: it waits for readiness), so a close after that
 * is a close "while it waits", not before it started. Dropping the probe
 * drops inner (through `awaiting`).
 */
struct vt_probe {
	struct volt_future base;
	struct volt_future *inner;
	atomic_int *pending;
};

/* Makes *p a probe of inner; &p->base. */
struct volt_future *vt_probe(struct vt_probe *p, struct volt_future *inner, atomic_int *pending);

/* Runs the future *inner in a task on rt, under a probe setting *pending; its join handle. */
struct volt_join *vt_spawn_in_task(struct volt_rt *rt, struct volt_future *inner,
				   atomic_int *pending);

/* vt_spawn_in_task without `pending`, and waits for it. */
void vt_run_in_task(struct volt_rt *rt, struct volt_future *inner);

/*
 * Every call on handle h (stream, listener and UDP; try, blocking and
 * future forms; the closes) returns `want` at once and touches nothing: no
 * byte read into the buffer, no address or accepted handle written. The
 * futures run in a task on rt, or (rt NULL) on this thread: h's runtime
 * may be gone.
 */
void vt_check_handle_refused(struct volt_rt *rt, struct volt_handle h, int want);

/* CPU time of the whole process so far (user + system, every thread), in seconds. */
double vt_cpu_s(void);

/* CLOCK_MONOTONIC in seconds (real time, whatever the runtime's clock). */
double vt_mono_s(void);

#endif /* VOLT_TESTS_NET_HELPERS_H */
