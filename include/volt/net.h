/* SPDX-License-Identifier: MIT */
/*
 * volt/net.h: addresses, name resolution, TCP, UDP and Unix sockets.
 *
 * Written once on the I/O driver interface (drivers/driver.h), so every
 * operation runs the same on `epoll` and `uring` (volt/io.h picks one).
 *
 * Handles. A socket is a small value, `struct volt_handle`: the runtime, a
 * slot index and the slot's generation. Copies are fine. Closing bumps the
 * generation, so closing twice, or using any copy after close, returns
 * -EBADF and never reaches a descriptor the kernel has since given to
 * someone else. An operation in flight keeps the slot (not the caller's
 * copy) alive; close cancels it (it completes with -ECANCELED) and the
 * descriptor is closed when the last operation has let go. volt_rt_free
 * closes the handles still open; every call on one of them after it
 * returns is -ESHUTDOWN (volt/runtime.h).
 *
 * Three forms of every operation:
 * - try:      returns at once; -EAGAIN when it would wait.
 * - future:   `volt_xxx(&f, ...)` fills a caller-owned future; await it in a
 *             task (VOLT_AWAIT) and read f.result. Dropping it cancels the
 *             operation; on io_uring the kernel never writes into the
 *             caller's buffer after the drop (reads land in a buffer the
 *             driver owns and are copied out on completion). On io_uring a
 *             read the kernel had already completed when it was dropped
 *             loses those bytes (epoll never does): time out a whole
 *             exchange, not a single read, on a stream you keep using.
 * - blocking: `volt_xxx_blocking(..., timeout)` parks a fiber or a plain
 *             thread (volt_block_on); -EDEADLK in a stackless task; the
 *             timeout (VOLT_DURATION_MAX for none) gives -ETIMEDOUT.
 * Any future also takes a deadline through volt_timeout() (volt/time.h).
 *
 * Errors are negative errno values; name resolution has its own range
 * (VOLT_EAI_*), and volt_strerror() names either.
 */
#ifndef VOLT_NET_H
#define VOLT_NET_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "future.h"
#include "time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ addresses */

/* An IPv4, IPv6 or Unix-domain socket address and its length. */
struct volt_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
		struct sockaddr_storage storage;
	} u;
	socklen_t len;
};

/* Longest text volt_addr_format writes, with its NUL ("[v6%scope]:65535"). */
#define VOLT_ADDR_STRLEN 112

/*
 * Parses "a.b.c.d:port" or "[v6]:port" (an IPv6 scope "%name" or "%index"
 * allowed inside the brackets) strictly: no spaces, no host names, no
 * missing or empty port, no port above 65535, no leading '+' or '-', at most
 * five port digits. Port 0 parses (listen on any port; connect refuses it).
 * Returns 0 or -EINVAL; *out is untouched on error.
 */
VOLT_API int volt_addr_parse(const char *s, struct volt_addr *out);

/* A Unix-domain address; -ENAMETOOLONG if path does not fit, -EINVAL if empty. */
VOLT_API int volt_addr_unix(const char *path, struct volt_addr *out);

/*
 * Writes "a.b.c.d:port", "[v6]:port" or the Unix path into buf. Returns the
 * length written (without the NUL), -ENOSPC if buf is too small (buf then
 * holds ""), -EAFNOSUPPORT for an unknown family, -EINVAL for NULLs.
 */
VOLT_API int volt_addr_format(const struct volt_addr *a, char *buf, size_t len);

/* The port of an IP address (host order); 0 for a Unix address. */
VOLT_API uint16_t volt_addr_port(const struct volt_addr *a);

/*
 * Name resolution errors: getaddrinfo's EAI_x is returned as VOLT_EAI(x),
 * below -3000, apart from every errno. EAI_SYSTEM returns the -errno behind
 * it instead.
 */
#define VOLT_EAI_BASE 3000
#define VOLT_EAI(eai) (-VOLT_EAI_BASE + (eai))
#define VOLT_IS_EAI(err) ((err) <= -VOLT_EAI_BASE && (err) > -VOLT_EAI_BASE - 100)

/* A message for a negative errno or a VOLT_EAI code. */
VOLT_API const char *volt_strerror(int err);

/*
 * Resolves host (a name or a numeric address) and port to its first
 * address, preferring the order getaddrinfo gives. Blocks the calling
 * thread: run it on the blocking pool, or use the future below.
 * Returns 0, -EINVAL, or a VOLT_EAI code.
 */
VOLT_API int volt_resolve_first(const char *host, uint16_t port, struct volt_addr *out);

/*
 * The same as a future, run on rt's blocking pool (rt NULL: the current
 * runtime). Dropping it before it completes lets the lookup finish on the
 * pool and discards the answer. `host` is copied.
 */
struct volt_resolve {
	struct volt_future base;
	struct volt_rt *rt;
	void *job;           /* internal */
	struct volt_addr *out;
	int result;          /* 0, -ECANCELED, -ENOMEM, -EAGAIN (no pool thread could
			      * be started) or a VOLT_EAI code */
	int state;           /* internal */
};

VOLT_API struct volt_future *volt_resolve(struct volt_resolve *f, struct volt_rt *rt,
					  const char *host, uint16_t port,
					  struct volt_addr *out);

/* -------------------------------------------------------------- handles */

/* A socket handle (see above). The zero value is never a valid handle. */
struct volt_handle {
	struct volt_rt *rt;
	uint32_t index;
	uint32_t gen;
};

/* Listening sockets (TCP or Unix) and connected byte streams (TCP or Unix). */
struct volt_listener { struct volt_handle h; };
struct volt_stream { struct volt_handle h; };
struct volt_udp { struct volt_handle h; };

/*
 * Closes a listener, stream or UDP socket: operations in flight on it
 * complete with -ECANCELED. Returns 0, or -EBADF if already closed.
 */
VOLT_API int volt_listener_close(struct volt_listener l);
VOLT_API int volt_stream_close(struct volt_stream s);
VOLT_API int volt_udp_close(struct volt_udp u);

/* The descriptor behind a handle (for setsockopt and the like), or -EBADF. */
VOLT_API int volt_handle_fd(struct volt_handle h);

/* The local and the peer address of a handle. 0 or -errno. */
VOLT_API int volt_local_addr(struct volt_handle h, struct volt_addr *out);
VOLT_API int volt_peer_addr(struct volt_handle h, struct volt_addr *out);

/* ----------------------------------------------- the operation future */

/*
 * One operation in flight: the future every socket operation fills. After
 * it completes, `result` is a byte count, 0, or a negative errno.
 * Embedded members are internal.
 */
struct volt_io_op {
	struct volt_future base;
	struct volt_handle h;
	uint8_t opcode;
	uint8_t loop;            /* read_exact / write_all: loop until len */
	uint16_t flags;          /* internal */
	int msg_flags;           /* send/recv flags */
	void *buf;
	size_t len;
	size_t done;             /* bytes moved so far (the looping forms) */
	struct volt_addr *addr;  /* peer address in or out */
	struct volt_handle *accepted; /* accept: the new stream */
	void *source;            /* internal: the slot, referenced while in flight */
	void *pending;           /* internal: the driver's record while submitted */
	struct volt_waiter waiter; /* internal: readiness wait (epoll) */
	uint32_t tick;           /* internal: readiness tick seen (epoll) */
	int64_t offset;          /* internal: files' pread/pwrite offset, -1 = the position */
	ssize_t result;
};

/* ----------------------------------------------------------------- TCP */

/*
 * Listens on addr ("0.0.0.0:8080", "[::1]:0"), SO_REUSEADDR set, backlog
 * 1024 (clamped by the kernel's somaxconn). rt NULL: the current runtime.
 * Returns 0, -EINVAL (bad address), -EADDRINUSE, -EMFILE, -ENOMEM...
 */
VOLT_API int volt_tcp_listen(struct volt_rt *rt, const char *addr, struct volt_listener *out);
VOLT_API int volt_tcp_listen_addr(struct volt_rt *rt, const struct volt_addr *addr, int backlog,
				  struct volt_listener *out);

/*
 * Accepts one connection (TCP or Unix listener): 0 and *out, or -EAGAIN (try
 * form), -EBADF, -ECANCELED (closed meanwhile), or the per-connection error
 * (-ECONNABORTED...). peer may be NULL. Under EMFILE/ENFILE the future and
 * blocking forms do not spin and do not fail: they spend the listener's
 * reserve descriptor to accept and close the connection at the head of the
 * backlog (its client sees a prompt close, not a hang), then wait 10 ms,
 * doubling to 1 s, before trying again; the try form returns -EMFILE.
 */
struct volt_accept {
	struct volt_future base;
	struct volt_io_op op;     /* result: 0 or -errno */
	struct volt_sleep backoff;
	uint64_t backoff_ns; /* the next wait under EMFILE; 0 = none yet */
	bool waiting;        /* backoff armed */
	struct volt_stream *out;
	uint32_t shed;       /* connections shed under EMFILE so far */
};

VOLT_API int volt_accept_try(struct volt_listener l, struct volt_stream *out,
			     struct volt_addr *peer);
VOLT_API struct volt_future *volt_accept(struct volt_accept *f, struct volt_listener l,
					 struct volt_stream *out, struct volt_addr *peer);
VOLT_API int volt_accept_blocking(struct volt_listener l, struct volt_stream *out,
				  struct volt_addr *peer, volt_duration timeout);

/* The seed's names for the TCP case. */
static inline int volt_tcp_try_accept(struct volt_listener l, struct volt_stream *out,
				      struct volt_addr *peer)
{
	return volt_accept_try(l, out, peer);
}

/*
 * Connects to addr (port 0 is -EINVAL). The future's result is 0 and *out
 * the stream, or -ECONNREFUSED, -ETIMEDOUT... rt NULL: the current runtime.
 */
VOLT_API struct volt_future *volt_tcp_connect(struct volt_io_op *f, struct volt_rt *rt,
					      const struct volt_addr *addr,
					      struct volt_stream *out);
VOLT_API int volt_tcp_connect_blocking(struct volt_rt *rt, const char *addr,
				       struct volt_stream *out, volt_duration timeout);

/* TCP_NODELAY on or off. 0 or -errno. */
VOLT_API int volt_tcp_nodelay(struct volt_stream s, bool on);

/* -------------------------------------------------------------- streams */

/*
 * Reads up to len bytes: the count, 0 at end of stream, or -errno
 * (-ECONNRESET is sticky: every later read and write returns it too).
 * len above SSIZE_MAX is -EINVAL.
 */
VOLT_API ssize_t volt_stream_try_read(struct volt_stream s, void *buf, size_t len);
VOLT_API struct volt_future *volt_stream_read(struct volt_io_op *f, struct volt_stream s,
					      void *buf, size_t len);
VOLT_API ssize_t volt_stream_read_blocking(struct volt_stream s, void *buf, size_t len,
					   volt_duration timeout);

/*
 * Writes up to len bytes (maybe fewer): the count or -errno (-EPIPE...).
 * len above SSIZE_MAX is -EINVAL.
 */
VOLT_API ssize_t volt_stream_try_write(struct volt_stream s, const void *buf, size_t len);
VOLT_API struct volt_future *volt_stream_write(struct volt_io_op *f, struct volt_stream s,
					       const void *buf, size_t len);
VOLT_API ssize_t volt_stream_write_blocking(struct volt_stream s, const void *buf, size_t len,
					    volt_duration timeout);

/*
 * Loop over partial transfers until all len bytes moved: the result is
 * len, or -errno with f->done bytes already moved (read_exact: -EPIPE when
 * the stream ends first). The blocking forms return len or -errno. Any
 * len up to SSIZE_MAX (the kernel moves at most ~2 GiB a call: looped
 * like any partial transfer); above it, -EINVAL with nothing moved.
 */
VOLT_API struct volt_future *volt_stream_read_exact(struct volt_io_op *f, struct volt_stream s,
						    void *buf, size_t len);
VOLT_API struct volt_future *volt_stream_write_all(struct volt_io_op *f, struct volt_stream s,
						   const void *buf, size_t len);
VOLT_API ssize_t volt_stream_read_exact_blocking(struct volt_stream s, void *buf, size_t len,
						 volt_duration timeout);
VOLT_API ssize_t volt_stream_write_all_blocking(struct volt_stream s, const void *buf,
						size_t len, volt_duration timeout);

/* shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR. 0 or -errno. */
VOLT_API int volt_stream_shutdown(struct volt_stream s, int how);

/* ----------------------------------------------------------------- UDP */

/* Binds a UDP socket to addr ("0.0.0.0:0" for any port). 0 or -errno. */
VOLT_API int volt_udp_bind(struct volt_rt *rt, const char *addr, struct volt_udp *out);
VOLT_API int volt_udp_bind_addr(struct volt_rt *rt, const struct volt_addr *addr,
				struct volt_udp *out);

/* Sets the default peer: send/recv without an address then use it. */
VOLT_API int volt_udp_connect(struct volt_udp u, const struct volt_addr *peer);

/*
 * One datagram out (to = NULL: the connected peer) or in (from may be NULL).
 * A datagram longer than len is truncated to len (MSG_TRUNC is not
 * reported). Results are byte counts or -errno.
 */
VOLT_API ssize_t volt_udp_try_send_to(struct volt_udp u, const void *buf, size_t len,
				      const struct volt_addr *to);
VOLT_API ssize_t volt_udp_try_recv_from(struct volt_udp u, void *buf, size_t len,
					struct volt_addr *from);
VOLT_API struct volt_future *volt_udp_send_to(struct volt_io_op *f, struct volt_udp u,
					      const void *buf, size_t len,
					      const struct volt_addr *to);
VOLT_API struct volt_future *volt_udp_recv_from(struct volt_io_op *f, struct volt_udp u,
						void *buf, size_t len, struct volt_addr *from);
VOLT_API ssize_t volt_udp_send_to_blocking(struct volt_udp u, const void *buf, size_t len,
					   const struct volt_addr *to, volt_duration timeout);
VOLT_API ssize_t volt_udp_recv_from_blocking(struct volt_udp u, void *buf, size_t len,
					     struct volt_addr *from, volt_duration timeout);

/* ---------------------------------------------------------------- Unix */

/*
 * A Unix stream listener on path (an existing socket file there is not
 * removed: -EADDRINUSE). Streams it accepts, and volt_unix_connect's, are
 * struct volt_stream like TCP's.
 */
VOLT_API int volt_unix_listen(struct volt_rt *rt, const char *path, struct volt_listener *out);
VOLT_API struct volt_future *volt_unix_connect(struct volt_io_op *f, struct volt_rt *rt,
					       const struct volt_addr *addr,
					       struct volt_stream *out);
VOLT_API int volt_unix_connect_blocking(struct volt_rt *rt, const char *path,
					struct volt_stream *out, volt_duration timeout);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_NET_H */
