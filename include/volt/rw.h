/* SPDX-License-Identifier: MIT */
/*
 * volt/rw.h: one read/write interface over every byte stream.
 *
 * A `struct volt_rw` is a small value: an ops table and the object it
 * works on (a handle, or a pointer for a stream of your own). TCP and Unix
 * streams, pipes and a child's stdio (volt_rw_stream), and files
 * (volt_rw_file, volt/fs.h) implement it; the buffered reader and writer,
 * copy and copy_bidirectional (volt/bufio.h) work on any of them.
 *
 * An operation is a caller-owned `struct volt_rw_op`: the implementation
 * builds its own future inside it, and the op's `base` future runs it,
 * looping for the _exact/_all forms. The result is in op->result: a byte
 * count, 0 at end of stream (reads), or -errno (-ECANCELED once dropped in
 * flight); op->done is the count moved so far when a looping form fails.
 * Dropping the op drops the implementation's future, which cancels the
 * operation the way that implementation documents (a socket read on
 * io_uring: the kernel never writes into the caller's buffer after the
 * drop).
 *
 * Writing your own: fill a `struct volt_rw_ops` whose read and write build
 * a future in `space` (at most VOLT_RW_OP_SPACE bytes, aligned for any
 * type) and return it; `result` reads that future's outcome once it is
 * ready; the op drops it exactly once. Put your object in rw.obj.ptr.
 * docs/streams.md has the whole story; tests/test_rw.c has an example.
 */
#ifndef VOLT_RW_H
#define VOLT_RW_H

#include <stddef.h>
#include <sys/types.h>

#include "future.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes an implementation may use inside a volt_rw_op for its future. */
#define VOLT_RW_OP_SPACE 256

struct volt_rw;

struct volt_rw_ops {
	const char *name; /* "stream", "file", ... */
	/* A future reading up to len bytes into buf, built in space. */
	struct volt_future *(*read)(const struct volt_rw *rw, void *space, void *buf,
				    size_t len);
	/* A future writing up to len bytes of buf, built in space. */
	struct volt_future *(*write)(const struct volt_rw *rw, void *space, const void *buf,
				     size_t len);
	/* The outcome of the ready future in space: a count, 0 (end) or -errno. */
	ssize_t (*result)(void *space);
	/* No more writes (a stream's SHUT_WR): 0 or -errno; NULL: nothing to do. */
	int (*shutdown_write)(const struct volt_rw *rw);
	/*
	 * The runtime whose clock times the blocking forms (volt_block_on's rt);
	 * NULL, or a NULL answer: none (the plain monotonic clock).
	 */
	struct volt_rt *(*runtime)(const struct volt_rw *rw);
};

struct volt_rw {
	const struct volt_rw_ops *ops;
	union {
		struct volt_handle h; /* streams, pipes, files */
		void *ptr;            /* your own */
	} obj;
};

/* One read or write in flight on any volt_rw. */
struct volt_rw_op {
	struct volt_future base;
	struct volt_rw rw;        /* internal: copied from the call */
	struct volt_future *inner;/* internal: the implementation's future */
	unsigned char *buf;       /* internal */
	size_t len;               /* internal */
	size_t done;              /* bytes moved so far */
	ssize_t result;
	uint8_t write;            /* internal */
	uint8_t loop;             /* internal: read_exact / write_all */
	union {
		max_align_t align;
		unsigned char bytes[VOLT_RW_OP_SPACE];
	} space;                  /* internal: the implementation's future */
};

/*
 * A connected stream handle (TCP, Unix, a pipe end, a child's stdio, an
 * adopted descriptor). Reads and writes are volt_stream_read/write, so
 * they run natively on io_uring and by readiness on epoll, and a dropped
 * read never writes into the caller's buffer afterwards.
 */
VOLT_API struct volt_rw volt_rw_stream(struct volt_stream s);

/*
 * A pipe: pipe2(O_NONBLOCK | O_CLOEXEC), both ends as stream handles
 * (*rd reads, *wr writes; close each with volt_stream_close). rt NULL: the
 * current runtime. Returns 0, -EINVAL (no runtime, NULL out), -EOPNOTSUPP
 * on the `sim` driver (no real descriptors there), -EMFILE, -ENOMEM...
 * The first pipe (made here, adopted below, or a child's stdio) sets
 * SIGPIPE to SIG_IGN if it was SIG_DFL: a write whose reader is gone is
 * then -EPIPE, not the end of the process (docs/streams.md).
 */
VOLT_API int volt_pipe(struct volt_rt *rt, struct volt_stream *rd, struct volt_stream *wr);

/*
 * Adopts a descriptor the caller opened (a pipe end, a socket, a tty):
 * sets O_NONBLOCK and FD_CLOEXEC (O_NONBLOCK is on the open file
 * description: a tty or pipe shared with another process sees it too) and
 * makes it a stream handle that owns it from then on (volt_stream_close
 * closes it). Returns 0; -EINVAL (fd < 0, out NULL, no runtime, a regular
 * file or a directory: use volt/fs.h), -EBADF (fd not open) or -EOPNOTSUPP
 * (the `sim` driver), fd still the caller's; or -ENOMEM/-EMFILE... from
 * the handle table or the driver, fd then closed.
 */
VOLT_API int volt_stream_from_fd(struct volt_rt *rt, int fd, struct volt_stream *out);

/*
 * Up to len bytes: the count, 0 at end of stream, or -errno. The future
 * forms fill op; the blocking forms park a fiber or a plain thread
 * (-EDEADLK in a stackless task) with a timeout (-ETIMEDOUT).
 */
VOLT_API struct volt_future *volt_rw_read(struct volt_rw_op *op, struct volt_rw rw,
					  void *buf, size_t len);
VOLT_API struct volt_future *volt_rw_write(struct volt_rw_op *op, struct volt_rw rw,
					   const void *buf, size_t len);
/* Exactly len bytes (read_exact: -EPIPE if the stream ends first), or -errno, op->done moved. */
VOLT_API struct volt_future *volt_rw_read_exact(struct volt_rw_op *op, struct volt_rw rw,
						void *buf, size_t len);
VOLT_API struct volt_future *volt_rw_write_all(struct volt_rw_op *op, struct volt_rw rw,
					       const void *buf, size_t len);

VOLT_API ssize_t volt_rw_read_blocking(struct volt_rw rw, void *buf, size_t len,
				       volt_duration timeout);
VOLT_API ssize_t volt_rw_write_all_blocking(struct volt_rw rw, const void *buf, size_t len,
					    volt_duration timeout);

/*
 * The write side is done: 0 or -errno. On a socket stream, shutdown(SHUT_WR)
 * (the peer reads EOF, reads still work). On a non-socket stream (a pipe's
 * write end, a tty) there is no half-close: the handle is closed (the reader
 * sees EOF once no other copy of the descriptor is open); a later
 * volt_stream_close on it is -EBADF. -EINVAL if rw has no ops.
 */
VOLT_API int volt_rw_shutdown_write(struct volt_rw rw);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_RW_H */
