/* SPDX-License-Identifier: MIT */
/*
 * drivers/driver.h: the I/O driver interface, and the I/O source (the slot
 * behind a socket handle) that every driver works on.
 *
 * A driver is operation-level, so a readiness backend and a completion
 * backend fit the same table:
 *
 *	op_poll		start or continue one operation (struct volt_io_op)
 *			for a task: VOLT_READY with op->result, or VOLT_PENDING
 *			with cx->waker stored to be woken when it may progress
 *	op_drop		forget an operation that is still pending (cancel)
 *	cancel		close is coming: finish every operation on a source
 *	poll		wait until deadline for events and wake their tasks
 *	unpark		make a concurrent poll return now
 *
 * `epoll` tries the system call first and waits for edge-triggered
 * readiness on EAGAIN; `uring` submits SQEs and completes from CQEs.
 * core/io.c decides who calls poll (one worker at a time: the one that
 * parks holding the poll role, or a busy worker's maintenance pass).
 * Networking (net/) is written once, on this table.
 *
 * Adding a driver: write drivers/<name>.c defining
 * `const struct volt__driver_ops volt__driver_<name>`, declare it below and
 * list it in drivers/registry.c; the tests and the harness iterate that
 * table by name.
 */
#ifndef VOLT_DRIVERS_DRIVER_H
#define VOLT_DRIVERS_DRIVER_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <volt.h>

#include "core/atomic.h"
#include "drivers/sys.h"

struct volt__driver;

enum volt__opcode {
	VOLT__OP_ACCEPT = 1,
	VOLT__OP_CONNECT,
	VOLT__OP_READ,    /* recv(2) on a socket, read(2) otherwise */
	VOLT__OP_WRITE,   /* send(2, MSG_NOSIGNAL) on a socket, write(2) otherwise */
	VOLT__OP_RECVFROM,
	VOLT__OP_SENDTO,
	/*
	 * Waits until the descriptor is ready for op->msg_flags (POLLIN or
	 * POLLOUT): result 0, or -errno. For descriptors that only signal
	 * readiness (a pidfd becomes readable when its child exits). The sim
	 * driver answers -EOPNOTSUPP.
	 */
	VOLT__OP_POLL,
	/*
	 * Files (fs/). read(2)/write(2) at op->offset (pread/pwrite), or at
	 * the file position when op->offset is -1; the looping form advances
	 * the offset by op->done. fsync(2), or fdatasync(2) when op->msg_flags
	 * holds VOLT__FSYNC_DATA. Native on uring; fs/ runs them on the blocking
	 * pool under the other drivers (a regular file is always "ready").
	 */
	VOLT__OP_PREAD,
	VOLT__OP_PWRITE,
	VOLT__OP_FSYNC,
	/*
	 * Path operations (fs/, uring only: volt__uring_path_ops). No source:
	 * op->source is NULL and op->buf points at a struct volt__path_args,
	 * whose paths the driver copies into its record before it submits.
	 * The result: a new descriptor (openat), or 0, or -errno.
	 */
	VOLT__OP_OPENAT,
	VOLT__OP_STATX,
	VOLT__OP_RENAMEAT,
	VOLT__OP_UNLINKAT,
	VOLT__OP_MKDIRAT,
};

/* The arguments of a path opcode, at op->buf. */
struct volt__path_args {
	const char *path;
	const char *path2;   /* renameat's new name */
	int flags;           /* openat's flags (O_CLOEXEC is added), unlinkat's AT_REMOVEDIR */
	unsigned mode;       /* openat, mkdirat */
	void *statx_out;     /* statx: a struct statx, filled when the task polls the completion */
};

/* The most path bytes (both paths with their NULs) a path opcode takes. */
#define VOLT__PATH_ARGS_MAX 8192

#define VOLT__FSYNC_DATA 0x1 /* VOLT__OP_FSYNC: fdatasync */

/* op->flags bits (internal to drivers/ and net/). */
#define VOLT__OPF_STARTED 0x1   /* first poll done (source referenced) */
#define VOLT__OPF_CONNECTING 0x2 /* epoll: connect returned EINPROGRESS */
#define VOLT__OPF_COUNTED 0x4   /* counted in io->pending */
#define VOLT__OPF_DONE 0x8      /* result final */

/* Readiness directions (epoll, sim). */
#define VOLT__READABLE 0x1u
#define VOLT__WRITABLE 0x2u

/*
 * The direction whose readiness op waits for: READABLE (accept, read,
 * recvfrom, pread, poll for POLLIN) or WRITABLE.
 */
static inline unsigned volt__op_dir(const struct volt_io_op *op)
{
	switch (op->opcode) {
	case VOLT__OP_POLL:
		return (op->msg_flags & POLLOUT) ? VOLT__WRITABLE : VOLT__READABLE;
	case VOLT__OP_ACCEPT:
	case VOLT__OP_READ:
	case VOLT__OP_RECVFROM:
	case VOLT__OP_PREAD:
		return VOLT__READABLE;
	default:
		return VOLT__WRITABLE;
	}
}

enum volt__source_kind {
	VOLT__SRC_LISTENER = 1,
	VOLT__SRC_STREAM,
	VOLT__SRC_DGRAM,
	VOLT__SRC_FILE, /* fs/: never attached to the driver (epoll refuses regular files) */
};

/*
 * The slot behind a handle. `state` packs the generation (high 32 bits),
 * CLOSING (bit 31) and a reference count (bits 0..30): the open handle holds
 * one reference and every operation in flight one more; the descriptor is
 * closed when the count reaches zero with CLOSING set, and the generation
 * then moves on, so a stale handle never matches again.
 */
struct volt__source {
	VOLT__ALIGNED_LINE _Atomic uint64_t state;
	struct volt_rt *rt;
	int fd;
	uint8_t kind;
	bool socket;
	_Atomic int sticky;     /* -ECONNRESET once a transfer saw it */
	/* epoll: readiness (tick << 8 | READABLE | WRITABLE) and the waiters */
	_Atomic uint32_t ready;
	pthread_mutex_t lock;
	struct volt_waitlist waiters[2]; /* [0] readers, [1] writers */
	/* listeners: a spare descriptor spent to shed a connection under EMFILE */
	int reserve_fd;
	uint32_t index;
};

#define VOLT__SRC_CLOSING (1ull << 31)
#define VOLT__SRC_REFS 0x7fffffffull

static inline uint32_t volt__source_gen(uint64_t state)
{
	return (uint32_t)(state >> 32);
}

static inline bool volt__source_closing(struct volt__source *s)
{
	/* acquire: a closer's wake-up must find CLOSING set */
	return volt__load(&s->state, ACQUIRE) & VOLT__SRC_CLOSING;
}

struct volt__driver_ops {
	const char *name;
	/* 0 and *out, or -errno (-ENOSYS/-EPERM: the kernel refuses this backend). */
	int (*init)(struct volt_rt *rt, struct volt__driver **out);
	void (*fini)(struct volt__driver *d);
	/* A new descriptor joins: 0 or -errno. */
	int (*attach)(struct volt__driver *d, struct volt__source *s);
	/* s is closing: every pending operation on it must complete soon. */
	void (*cancel)(struct volt__driver *d, struct volt__source *s);
	enum volt_poll (*op_poll)(struct volt__driver *d, struct volt_io_op *op,
				  struct volt_cx *cx);
	void (*op_drop)(struct volt__driver *d, struct volt_io_op *op);
	/*
	 * Dispatches ready events, waiting until deadline_ns (CLOCK_MONOTONIC;
	 * 0 = do not wait, UINT64_MAX = no deadline) if there are none.
	 * Returns the number of operations woken. One caller at a time.
	 */
	int (*poll)(struct volt__driver *d, uint64_t deadline_ns);
	void (*unpark)(struct volt__driver *d);
	/* Submits what is batched (uring), from any thread; may be NULL. */
	void (*flush)(struct volt__driver *d);
	/* Completions wait to be reaped, seen without a system call; may be NULL. */
	bool (*has_events)(struct volt__driver *d);
	/* The system calls its sockets use (drivers/sys.h); NULL: the process's. */
	const struct volt__sys *sys;
	/*
	 * The time (rt's clock, ns) of the next event the driver makes happen
	 * by itself, UINT64_MAX for none: the virtual clock jumps no further
	 * (core/timers.c). NULL: events come from the kernel (drivers/sim.c has it).
	 */
	uint64_t (*next_event)(struct volt__driver *d);
};

extern const struct volt__driver_ops volt__driver_epoll;
extern const struct volt__driver_ops volt__driver_uring;

/* The driver named name ("epoll", "uring"), or NULL; "auto" is core/io.c's. */
const struct volt__driver_ops *volt__driver_find(const char *name);

/* The library's own copy of a valid cfg.driver name ("auto" included), or NULL. */
const char *volt__driver_known(const char *name);

/*
 * The non-blocking system call behind op (drivers/syscalls.c): a count, 0,
 * a new descriptor (accept), or -errno, -EAGAIN included. Used by epoll and
 * by every try form.
 */
ssize_t volt__io_syscall(struct volt__source *s, struct volt_io_op *op);

/* True if rt's uring driver can run the path opcodes (the kernel's probe said so). */
bool volt__uring_path_ops(const struct volt__driver *d);

/* Records -ECONNRESET on s (sticky), and returns res. */
ssize_t volt__io_note_result(struct volt__source *s, ssize_t res);

#endif /* VOLT_DRIVERS_DRIVER_H */
