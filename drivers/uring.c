/* SPDX-License-Identifier: MIT */
/*
 * drivers/uring.c: the completion backend, on liburing.
 *
 * One ring per runtime. An operation's first poll takes a *record* (a
 * struct rec, from a free list) that the driver owns from then on, fills an
 * SQE whose user_data is the record, and returns VOLT_PENDING. The SQE is
 * not submitted at once from a worker: submissions are batched until the
 * worker's next maintenance pass (every event_interval tasks), the moment
 * it runs out of tasks, or the poller's wait, whichever is first. Each
 * io_uring_enter costs about 1 us here, so batching is most of what
 * io_uring buys (reference/machine.md: 20x from batch 1 to 32). A plain
 * thread (a blocking-form call) submits at once: nothing else would.
 *
 * Task work. A socket operation that must wait completes through task_work
 * run by the thread that submitted it. By default the kernel interrupts
 * that thread (an IPI, tens of microseconds on this VM) for each one; with
 * IORING_SETUP_COOP_TASKRUN it runs them the next time the thread enters
 * the kernel (every maintenance pass, every park), and a sleeping submitter
 * is still woken. TASKRUN_FLAG marks pending work in the SQ flags, so an
 * idle worker's spin sees it without a system call (has_events). Measured
 * at 256 echo connections: about 1.2x the messages per second of the
 * interrupting default.
 *
 * Buffers. The kernel reads and writes the record's own buffer (16 KiB; a
 * datagram larger than that gets one of its own, up to 64 KiB, never cut),
 * never the caller's: a write copies its bytes in at submission, a read's
 * bytes are copied out when the task polls the completion. So a future
 * dropped while its SQE is in flight (a timeout, a cancelled task) leaves
 * nothing of the caller's for the kernel to touch: the drop marks the
 * record orphaned and submits IORING_OP_ASYNC_CANCEL for it, and the
 * record is recycled when its CQE arrives (an accepted descriptor in an
 * orphan's CQE is closed). The record also holds a reference on the source,
 * so the descriptor outlives every SQE that names it.
 *
 * Files and readiness. VOLT__OP_PREAD/PWRITE (fs/) are IORING_OP_READ/
 * WRITE at an offset (-1: the file position) through the same record and
 * its buffer, so a dropped file read never writes into the caller's memory
 * either (a read the kernel runs on its io-wq thread may not be
 * cancellable: its CQE then finds an orphan, and the bytes go with it);
 * VOLT__OP_FSYNC is IORING_OP_FSYNC. VOLT__OP_POLL is a one-shot POLL_ADD
 * for op->msg_flags, its result 0 once revents says ready.
 *
 * Path operations (openat, statx, renameat, unlinkat, mkdirat: fs/, when
 * the kernel's probe has them all) have no source: their record holds no
 * reference, their paths are copied into its buffer (after room for the
 * statx the kernel fills, copied out on completion like a read's bytes),
 * and an orphaned openat's descriptor is closed like an accept's.
 *
 * Cancelling. The drop's cancel is submitted at once, not batched like the
 * SQEs of new operations: until the kernel has it, the orphan's recv (or
 * accept) is still armed and would take bytes (a connection) that arrive
 * after the drop, and they would go with the record. Once it is submitted,
 * a recv still waiting for data is disarmed in that io_uring_enter, so what
 * arrives later stays in the socket for the next read. What had already
 * arrived is another matter: a recv the kernel completed (or was about to)
 * before the cancel took its bytes into the record, and an orphan's bytes
 * are dropped with it. So a read future dropped in flight may lose data
 * that reached the socket before the drop; epoll never does (its read is
 * the system call made when the task polls).
 *
 * Close. Closing a source submits one ASYNC_CANCEL with CANCEL_FD|ALL for
 * its descriptor. Preparing an operation's SQE checks CLOSING under the
 * same submission lock that the cancel is prepared under, so an SQE is
 * either before the cancel in the ring (and cancelled) or never submitted.
 *
 * Locks. `sq_lock` guards the submission queue (liburing's SQ is single
 * producer) and the free list. The completion queue is read only by the
 * thread holding the runtime's poll role (core/io.c). A record's small
 * spinlock orders the hand-off between its CQE (reaper) and its future
 * (poller of the task): result and waker.
 *
 * The wake-up. An unpark submits a NOP tagged TAG_UNPARK: it completes
 * inline during the submission, so its CQE ends the poller's wait at once.
 * (An eventfd under a multishot poll would complete through task_work run
 * by the thread that armed the poll, waking that thread too; and would need
 * a read to reset.) A reaped wake-up ends the poll call without waiting:
 * its caller looks at its token again.
 *
 * Retries. A CQE of -EAGAIN or -EINTR, or an -ECANCELED nobody asked for
 * (the operation is still wanted and its source is not closing: a kernel
 * cancels the requests of a thread that exits, for one), moved nothing:
 * the kernel gave up before it took bytes or a connection. The task's
 * next poll submits the operation again from the same record; after
 * -EAGAIN behind a POLL_ADD for its direction, linked to it
 * (IOSQE_IO_LINK), so a kernel that keeps saying -EAGAIN is waited on
 * rather than spun on. After RETRY_MAX retries in a row the error is the
 * operation's result. A dropped operation cancels that poll too, and a
 * close's CANCEL_FD takes both.
 *
 * Refused submissions. io_uring_enter may refuse to submit (-EAGAIN: no
 * memory for now; -EBUSY: the CQ overflowed until the poller reaps;
 * -EINTR); the SQEs stay queued. submit_now tries again a few times,
 * yielding; what is still queued then keeps the flush hint set, so the
 * next flush or wait submits it. A submission refused while the poller
 * was already waiting (an unpark's NOP, a plain thread's operation) would
 * wait with it; so the poller never waits longer than WAIT_MAX_NS (1 s:
 * one system call a second when idle), and after a refusal no longer than
 * REFUSED_WAIT_NS.
 *
 * The calls into liburing go through the runtime's system-call table
 * (drivers/sys.h), with its two hooks: uring_sqe, as each operation's SQE
 * is prepared, may shorten a stream transfer or have a NOP stand in for
 * the operation; uring_cqe sees each operation's CQE before it is acted
 * on, and gives a stand-in its result. A fault shim (tests/fault_sys.c)
 * answers through them with the errors above and with short transfers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/rt.h"
#include "drivers/source.h"

#define SQ_ENTRIES 1024
#define CQ_ENTRIES 16384
#define REC_BUF 16384
#define DGRAM_MAX 65536 /* a datagram is never cut below this */
#define FILE_MAX (1u << 20) /* a file transfer's own buffer, at most */
#define FREE_MAX 4096
#define TAG_UNPARK 1ull
#define TAG_CANCEL 2ull
#define TAG_POLL 1ull /* or'ed into a record's address: its retry's POLL_ADD */
#define REAP_BATCH 256
#define RETRY_MAX 64
#define SUBMIT_TRIES 8
#define WAIT_MAX_NS 1000000000ull
#define REFUSED_WAIT_NS 10000000ull

/* d's runtime's table's `call` (set before init runs: core/io.c). */
#define SYS(d, call, ...) ((d)->rt->io.sys->call((d), __VA_ARGS__))

enum { REC_IN_FLIGHT = 0, REC_DONE = 1 };

/*
 * The kernel orders an SQE's submission before its CQE, which
 * ThreadSanitizer cannot see: tell it, so the reaper's first touch of a
 * record is known to come after the submitter filled it.
 */
#ifdef VOLT__TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define KERNEL_HANDOFF_SEND(r) __tsan_release(r)
#define KERNEL_HANDOFF_RECV(r) __tsan_acquire(r)
#else
#define KERNEL_HANDOFF_SEND(r) ((void)(r))
#define KERNEL_HANDOFF_RECV(r) ((void)(r))
#endif

struct rec {
	struct rec *next;           /* free list / live list */
	struct rec *prev;
	struct volt__source *src;   /* referenced while in flight */
	struct volt_io_op *op;      /* NULL once orphaned */
	_Atomic uint32_t lock;
	uint32_t state;
	int32_t res;
	uint8_t opcode;
	uint8_t retries;            /* resubmissions in a row (see "Retries") */
	bool stand_in;              /* a NOP stands in for this submission */
	bool polled;                /* a retry's POLL_ADD went before it */
	struct volt_waker waker;
	struct volt_addr addr;
	socklen_t addrlen;
	struct msghdr msg;
	struct iovec iov;
	char *data;                 /* buf, or big */
	char *big;                  /* a datagram larger than buf (malloc'd) */
	_Alignas(max_align_t) char buf[REC_BUF]; /* a path op's statx first, then its paths */
};

#define PATHS_AT 512 /* where a path op's paths start in buf: after its struct statx */
_Static_assert(sizeof(struct statx) <= PATHS_AT, "a statx fits before the paths");
_Static_assert(PATHS_AT + VOLT__PATH_ARGS_MAX <= REC_BUF, "a path op's paths fit");

struct volt__driver {
	struct io_uring ring;
	struct volt_rt *rt;
	pthread_mutex_t sq_lock;
	struct rec *free;
	unsigned nfree;
	struct rec *live;   /* records in flight, for fini */
	bool unparked;      /* the last reap saw the wake-up's CQE (poll-role holder only) */
	_Atomic uint32_t queued; /* SQEs prepared since the last submit: a hint for flush */
	_Atomic bool refused;    /* a submission was left queued once: waits are bounded */
	bool path_ops;           /* the kernel has every path opcode (openat ... mkdirat) */
};

static void rec_lock(struct rec *r)
{
	/* acquire: pairs with rec_unlock's release */
	while (volt__xchg(&r->lock, 1, ACQUIRE))
		volt__cpu_relax();
}

static void rec_unlock(struct rec *r)
{
	volt__store(&r->lock, 0, RELEASE);
}

/* ------------------------------------------------------------ records */

static struct rec *rec_new(struct volt__driver *d)
{
	struct rec *r = d->free;

	if (r) {
		d->free = r->next;
		d->nfree--;
	} else if (!(r = malloc(sizeof(*r)))) {
		return NULL;
	}
	atomic_init(&r->lock, 0);
	r->big = NULL;
	r->data = r->buf;
	r->state = REC_IN_FLIGHT;
	r->retries = 0;
	r->stand_in = false;
	r->polled = false;
	r->waker.ops = NULL;
	r->prev = NULL;
	r->next = d->live;
	if (d->live)
		d->live->prev = r;
	d->live = r;
	return r;
}

/* Unlinks r from the live list and recycles it; under sq_lock. */
static void rec_free(struct volt__driver *d, struct rec *r)
{
	free(r->big);
	r->big = NULL;
	if (r->prev)
		r->prev->next = r->next;
	else
		d->live = r->next;
	if (r->next)
		r->next->prev = r->prev;
	if (d->nfree >= FREE_MAX) {
		free(r);
		return;
	}
	r->next = d->free;
	d->free = r;
	d->nfree++;
}

/* An SQE, submitting to make room if the queue is full; under sq_lock. */
static struct io_uring_sqe *sqe_get(struct volt__driver *d)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&d->ring))) {
		int ret = SYS(d, uring_submit, &d->ring);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return NULL;
		if (ret < 0)
			sched_yield();
	}
	volt__store(&d->queued, 1, RELAXED); /* relaxed: see submit_now */
	return sqe;
}

static bool transient(int err)
{
	return err == -EINTR || err == -EAGAIN || err == -EBUSY;
}

/*
 * Submits what is queued; under sq_lock. A transient refusal is tried
 * again SUBMIT_TRIES times, yielding; SQEs still queued after that keep
 * the flush hint set and bound the poller's waits (see "Refused
 * submissions"). Returns the last result.
 */
static int submit_now(struct volt__driver *d)
{
	int ret;

	volt__store(&d->queued, 0, RELAXED); /* relaxed: under sq_lock; a hint outside */
	for (unsigned i = 0;; i++) {
		ret = SYS(d, uring_submit, &d->ring);
		if (ret >= 0 || !transient(ret) || i == SUBMIT_TRIES)
			break;
		if (ret != -EINTR)
			sched_yield();
	}
	if (ret < 0 && io_uring_sq_ready(&d->ring)) {
		/* relaxed: hints; the next flush or wait takes the SQEs under sq_lock */
		volt__store(&d->queued, 1, RELAXED);
		volt__store(&d->refused, true, RELAXED);
	}
	return ret;
}

/* -------------------------------------------------------- the driver */

static int uring_init(struct volt_rt *rt, struct volt__driver **out)
{
	struct volt__driver *d = calloc(1, sizeof(*d));
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN |
						IORING_SETUP_TASKRUN_FLAG,
				     .cq_entries = CQ_ENTRIES };
	int ret;

	if (!d)
		return -ENOMEM;
	d->rt = rt; /* the table's calls need it */
	ret = SYS(d, uring_setup, SQ_ENTRIES, &d->ring, &p);
	if (ret == -EINVAL) { /* before 5.19: no COOP_TASKRUN */
		p = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES };
		ret = SYS(d, uring_setup, SQ_ENTRIES, &d->ring, &p);
	}
	if (ret) {
		free(d);
		return ret;
	}
	if (!(p.features & IORING_FEAT_EXT_ARG)) { /* 5.11+: waits with a timeout */
		io_uring_queue_exit(&d->ring);
		free(d);
		return -ENOSYS;
	}
	pthread_mutex_init(&d->sq_lock, NULL);
	struct io_uring_probe *probe = io_uring_get_probe_ring(&d->ring);

	if (probe) {
		d->path_ops = io_uring_opcode_supported(probe, IORING_OP_OPENAT) &&
			      io_uring_opcode_supported(probe, IORING_OP_STATX) &&
			      io_uring_opcode_supported(probe, IORING_OP_RENAMEAT) &&
			      io_uring_opcode_supported(probe, IORING_OP_UNLINKAT) &&
			      io_uring_opcode_supported(probe, IORING_OP_MKDIRAT);
		io_uring_free_probe(probe);
	}
	*out = d;
	return 0;
}

bool volt__uring_path_ops(const struct volt__driver *d)
{
	return d->path_ops;
}

static int uring_attach(struct volt__driver *d, struct volt__source *s)
{
	(void)d;
	(void)s;
	return 0;
}

static void uring_cancel(struct volt__driver *d, struct volt__source *s)
{
	pthread_mutex_lock(&d->sq_lock);
	struct io_uring_sqe *sqe = sqe_get(d);

	if (sqe) {
		io_uring_prep_cancel_fd(sqe, s->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	submit_now(d);
	pthread_mutex_unlock(&d->sq_lock);
}

/*
 * The bytes of a datagram op that does not fit a record's buffer (start()
 * allocates them as r->big), or 0: a stream transfer may be short, a
 * datagram must not be cut. A file transfer larger than the record's
 * buffer gets one of its own too (up to FILE_MAX): a disk is best read in
 * large pieces, and it stays the driver's like the record's.
 */
static size_t big_len(const struct volt_io_op *op)
{
	size_t len = op->len - op->done;

	if (len <= REC_BUF)
		return 0;
	if (op->opcode == VOLT__OP_PREAD || op->opcode == VOLT__OP_PWRITE)
		return len > FILE_MAX ? FILE_MAX : len; /* fewer, larger file transfers */
	if (op->opcode != VOLT__OP_RECVFROM && op->opcode != VOLT__OP_SENDTO)
		return 0;
	return len > DGRAM_MAX ? DGRAM_MAX : len;
}

/* A file transfer's offset: the file position (-1), or op's offset past what moved. */
static uint64_t file_offset(const struct volt_io_op *op)
{
	return op->offset < 0 ? (uint64_t)-1 : (uint64_t)(op->offset + (int64_t)op->done);
}

/* A path op: its paths copied into the record (after room for a statx). */
static void prep_path(struct rec *r, struct io_uring_sqe *sqe, const struct volt_io_op *op)
{
	const struct volt__path_args *a = op->buf;
	char *p = r->buf + PATHS_AT, *p2 = p;
	size_t n = strlen(a->path) + 1;

	memcpy(p, a->path, n);
	if (a->path2) {
		p2 = p + n;
		memcpy(p2, a->path2, strlen(a->path2) + 1);
	}
	switch (op->opcode) {
	case VOLT__OP_OPENAT:
		io_uring_prep_openat(sqe, AT_FDCWD, p, a->flags | O_CLOEXEC, a->mode);
		break;
	case VOLT__OP_STATX:
		io_uring_prep_statx(sqe, AT_FDCWD, p, 0, STATX_BASIC_STATS, (struct statx *)r->buf);
		break;
	case VOLT__OP_RENAMEAT:
		io_uring_prep_renameat(sqe, AT_FDCWD, p, AT_FDCWD, p2, 0);
		break;
	case VOLT__OP_UNLINKAT:
		io_uring_prep_unlinkat(sqe, AT_FDCWD, p, a->flags);
		break;
	default: /* VOLT__OP_MKDIRAT */
		io_uring_prep_mkdirat(sqe, AT_FDCWD, p, a->mode);
		break;
	}
}

/*
 * Fills sqe for op, copying what the kernel will read into r; under
 * sq_lock. The table's uring_sqe may shorten a stream transfer, or have a
 * NOP stand in for the operation (its CQE goes to uring_cqe for a result).
 */
static void prep(struct volt__driver *d, struct rec *r, struct io_uring_sqe *sqe,
		 struct volt_io_op *op)
{
	struct volt__source *s = op->source;
	size_t len = op->len - op->done;
	bool (*hook)(struct volt__driver *, int, int, size_t *) = d->rt->io.sys->uring_sqe;

	if (r->big) {
		r->data = r->big;
		len = big_len(op);
	} else if (len > REC_BUF) {
		len = REC_BUF; /* a stream transfer: the rest goes in the next one */
	}
	r->stand_in = false;
	if (hook) {
		size_t want = len;

		r->stand_in = hook(d, op->opcode, s ? s->fd : -1, &want);
		if ((op->opcode == VOLT__OP_READ || op->opcode == VOLT__OP_WRITE) && want >= 1 &&
		    want < len)
			len = want;
	}
	r->opcode = op->opcode;
	switch (op->opcode) {
	case VOLT__OP_ACCEPT:
		r->addrlen = sizeof(r->addr.u);
		io_uring_prep_accept(sqe, s->fd, &r->addr.u.sa, &r->addrlen,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
		break;
	case VOLT__OP_CONNECT:
		r->addr = *op->addr;
		io_uring_prep_connect(sqe, s->fd, &r->addr.u.sa, r->addr.len);
		break;
	case VOLT__OP_READ:
		if (s->socket)
			io_uring_prep_recv(sqe, s->fd, r->data, len, op->msg_flags);
		else
			io_uring_prep_read(sqe, s->fd, r->data, (unsigned)len, (uint64_t)-1);
		break;
	case VOLT__OP_WRITE:
		memcpy(r->data, (char *)op->buf + op->done, len);
		if (s->socket)
			io_uring_prep_send(sqe, s->fd, r->data, len, op->msg_flags | MSG_NOSIGNAL);
		else
			io_uring_prep_write(sqe, s->fd, r->data, (unsigned)len, (uint64_t)-1);
		break;
	case VOLT__OP_POLL:
		io_uring_prep_poll_add(sqe, s->fd, (unsigned)op->msg_flags);
		break;
	case VOLT__OP_PREAD:
		io_uring_prep_read(sqe, s->fd, r->data, (unsigned)len, file_offset(op));
		break;
	case VOLT__OP_PWRITE:
		memcpy(r->data, (char *)op->buf + op->done, len);
		io_uring_prep_write(sqe, s->fd, r->data, (unsigned)len, file_offset(op));
		break;
	case VOLT__OP_FSYNC:
		io_uring_prep_fsync(sqe, s->fd,
				    (op->msg_flags & VOLT__FSYNC_DATA) ? IORING_FSYNC_DATASYNC : 0);
		break;
	case VOLT__OP_OPENAT:
	case VOLT__OP_STATX:
	case VOLT__OP_RENAMEAT:
	case VOLT__OP_UNLINKAT:
	case VOLT__OP_MKDIRAT:
		prep_path(r, sqe, op);
		break;
	case VOLT__OP_RECVFROM:
	case VOLT__OP_SENDTO:
		r->iov = (struct iovec){ r->data, len };
		r->msg = (struct msghdr){ .msg_iov = &r->iov, .msg_iovlen = 1 };
		if (op->opcode == VOLT__OP_SENDTO) {
			memcpy(r->data, (char *)op->buf + op->done, len);
			if (op->addr) {
				r->addr = *op->addr;
				r->msg.msg_name = &r->addr.u;
				r->msg.msg_namelen = r->addr.len;
			}
			io_uring_prep_sendmsg(sqe, s->fd, &r->msg, op->msg_flags | MSG_NOSIGNAL);
		} else {
			r->msg.msg_name = &r->addr.u;
			r->msg.msg_namelen = sizeof(r->addr.u);
			io_uring_prep_recvmsg(sqe, s->fd, &r->msg, op->msg_flags);
		}
		break;
	}
	if (r->stand_in)
		io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, r);
}

/* Starts op: VOLT_PENDING, or VOLT_READY with op->result set. */
static enum volt_poll start(struct volt__driver *d, struct volt_io_op *op, struct volt_cx *cx)
{
	struct io_uring_sqe *sqe;
	struct rec *r;

	pthread_mutex_lock(&d->sq_lock);
	if (op->source && volt__source_closing(op->source)) {
		pthread_mutex_unlock(&d->sq_lock);
		op->result = -ECANCELED;
		return VOLT_READY;
	}
	r = rec_new(d);
	/* a datagram (or file transfer) that needs `big` and cannot have it fails whole */
	if (r && big_len(op) && !(r->big = malloc(big_len(op)))) {
		rec_free(d, r);
		r = NULL;
	}
	sqe = r ? sqe_get(d) : NULL;
	if (!sqe) {
		if (r)
			rec_free(d, r);
		pthread_mutex_unlock(&d->sq_lock);
		op->result = -ENOMEM;
		return VOLT_READY;
	}
	r->op = op;
	r->src = op->source; /* NULL: a path op */
	if (r->src)
		volt__source_ref(r->src);
	r->waker = volt_waker_clone(&cx->waker);
	prep(d, r, sqe, op);
	op->pending = r;
	/* release: the record's fields before its CQE's reaper locks it */
	volt__store(&r->lock, 0, RELEASE);
	KERNEL_HANDOFF_SEND(r);
	if (!volt__worker_self())
		submit_now(d);
	pthread_mutex_unlock(&d->sq_lock);
	return VOLT_PENDING;
}

/* Copies a completed record's result out to its operation. */
static ssize_t finish(struct rec *r, struct volt_io_op *op)
{
	ssize_t res = r->res;

	if (res > 0 && (op->opcode == VOLT__OP_READ || op->opcode == VOLT__OP_RECVFROM ||
			op->opcode == VOLT__OP_PREAD))
		memcpy((char *)op->buf + op->done, r->data, (size_t)res);
	if (res > 0 && op->opcode == VOLT__OP_POLL)
		res = 0; /* revents: ready */
	if (res >= 0 && op->opcode == VOLT__OP_STATX)
		memcpy(((const struct volt__path_args *)op->buf)->statx_out, r->buf,
		       sizeof(struct statx));
	if (res >= 0 && op->addr && op->opcode == VOLT__OP_ACCEPT) {
		op->addr->u = r->addr.u;
		op->addr->len = r->addrlen;
	}
	if (res >= 0 && op->addr && op->opcode == VOLT__OP_RECVFROM) {
		op->addr->u = r->addr.u;
		op->addr->len = r->msg.msg_namelen;
	}
	return res;
}

/*
 * A completed record whose CQE moved nothing and may go better another
 * time (see "Retries"): -EAGAIN, -EINTR, or -ECANCELED while the source is
 * not closing (a live operation's record: nobody here asked).
 */
static bool retryable(struct rec *r)
{
	if (r->retries >= RETRY_MAX)
		return false;
	return r->res == -EAGAIN || r->res == -EINTR ||
	       (r->res == -ECANCELED && !(r->src && volt__source_closing(r->src)));
}

static short poll_mask(const struct volt_io_op *op)
{
	return volt__op_dir(op) == VOLT__READABLE ? POLLIN : POLLOUT;
}

/*
 * Submits r's operation again, after -EAGAIN behind a linked POLL_ADD for
 * its direction. False if the source is closing (r->res is then
 * -ECANCELED) or no SQE can be had (r->res stays the operation's result).
 */
static bool resubmit(struct volt__driver *d, struct rec *r, struct volt_io_op *op,
		     struct volt_cx *cx)
{
	struct io_uring_sqe *poll = NULL, *sqe = NULL;
	bool wait = r->res == -EAGAIN && r->src; /* a path op has no descriptor to poll */

	pthread_mutex_lock(&d->sq_lock);
	if (op->source && volt__source_closing(op->source)) {
		pthread_mutex_unlock(&d->sq_lock);
		r->res = -ECANCELED;
		return false;
	}
	/* the pair in one submission: a link cut at a submission's end is no link */
	if (wait && io_uring_sq_space_left(&d->ring) < 2)
		(void)submit_now(d);
	if (wait)
		poll = sqe_get(d);
	if (!wait || poll)
		sqe = sqe_get(d);
	if (!sqe) {
		if (poll) { /* already in the ring: make it harmless */
			io_uring_prep_nop(poll);
			io_uring_sqe_set_data64(poll, TAG_CANCEL);
		}
		pthread_mutex_unlock(&d->sq_lock);
		return false;
	}
	if (poll) {
		io_uring_prep_poll_add(poll, r->src->fd, (unsigned)poll_mask(op));
		poll->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data64(poll, (uint64_t)(uintptr_t)r | TAG_POLL);
		r->polled = true;
	}
	r->retries++;
	prep(d, r, sqe, op);
	rec_lock(r);
	r->state = REC_IN_FLIGHT;
	r->waker = volt_waker_clone(&cx->waker); /* the reaper took the last one */
	rec_unlock(r);
	KERNEL_HANDOFF_SEND(r);
	if (!volt__worker_self())
		(void)submit_now(d);
	pthread_mutex_unlock(&d->sq_lock);
	return true;
}

static enum volt_poll uring_op_poll(struct volt__driver *d, struct volt_io_op *op,
				    struct volt_cx *cx)
{
	struct rec *r = op->pending;

	if (!r)
		return start(d, op, cx);
	rec_lock(r);
	if (r->state != REC_DONE) {
		if (!r->waker.ops || !volt_waker_will_wake(&r->waker, &cx->waker)) {
			volt_waker_drop(&r->waker);
			r->waker = volt_waker_clone(&cx->waker);
		}
		rec_unlock(r);
		return VOLT_PENDING;
	}
	rec_unlock(r);
	if (retryable(r) && resubmit(d, r, op, cx))
		return VOLT_PENDING;
	op->result = r->src ? volt__io_note_result(r->src, finish(r, op)) : finish(r, op);
	op->pending = NULL;
	if (r->src)
		volt__source_put(r->src);
	pthread_mutex_lock(&d->sq_lock);
	rec_free(d, r);
	pthread_mutex_unlock(&d->sq_lock);
	return VOLT_READY;
}

/* An orphan's CQE (or a completed record nobody will poll): let go of it. */
static void release_orphan(struct volt__driver *d, struct rec *r)
{
	if ((r->opcode == VOLT__OP_ACCEPT || r->opcode == VOLT__OP_OPENAT) && r->res >= 0)
		close(r->res); /* a descriptor made for nobody */
	if (r->src)
		volt__source_put(r->src);
	pthread_mutex_lock(&d->sq_lock);
	rec_free(d, r);
	pthread_mutex_unlock(&d->sq_lock);
}

static void uring_op_drop(struct volt__driver *d, struct volt_io_op *op)
{
	struct rec *r = op->pending;
	struct volt_waker stale;
	bool done;

	if (!r)
		return;
	op->pending = NULL;
	rec_lock(r);
	done = r->state == REC_DONE;
	r->op = NULL;
	stale = r->waker;
	r->waker.ops = NULL;
	rec_unlock(r);
	volt_waker_drop(&stale);
	if (done) {
		release_orphan(d, r);
		return;
	}
	pthread_mutex_lock(&d->sq_lock);
	struct io_uring_sqe *sqe;

	/* a retry's poll first: the operation linked behind it then fails with it */
	if (r->polled && (sqe = sqe_get(d))) {
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)r | TAG_POLL, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	if ((sqe = sqe_get(d))) {
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)r, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	/* at once, even from a worker: see "Cancelling" above */
	submit_now(d);
	pthread_mutex_unlock(&d->sq_lock);
}

static void uring_flush(struct volt__driver *d)
{
	/* relaxed peek: a missed SQE is submitted by the next flush or wait */
	if (!volt__load(&d->queued, RELAXED))
		return;
	pthread_mutex_lock(&d->sq_lock);
	if (io_uring_sq_ready(&d->ring))
		submit_now(d);
	pthread_mutex_unlock(&d->sq_lock);
}

/* One CQE: 1 if it woke a task. */
static int complete(struct volt__driver *d, const struct io_uring_cqe *cqe)
{
	uint64_t tag = io_uring_cqe_get_data64(cqe);

	if (tag == TAG_CANCEL)
		return 0;
	if (tag == TAG_UNPARK) {
		d->unparked = true;
		return 0;
	}
	if (tag & TAG_POLL)
		return 0; /* a retry's poll: the operation linked behind it reports */
	struct rec *r = (struct rec *)(uintptr_t)tag;
	void (*hook)(struct volt__driver *, int, int, bool, int32_t *, uint32_t *) =
		d->rt->io.sys->uring_cqe;
	int32_t res = cqe->res;
	uint32_t flags = cqe->flags;
	struct volt_waker waker;

	KERNEL_HANDOFF_RECV(r);
	if (hook)
		hook(d, r->opcode, r->src ? r->src->fd : -1, r->stand_in, &res, &flags);
	/* a stand-in's result is never a count or a descriptor: at most a read's end */
	if (r->stand_in && res >= 0 && (res > 0 || r->opcode != VOLT__OP_READ))
		res = -EAGAIN;
	rec_lock(r);
	r->res = res;
	r->state = REC_DONE;
	bool orphan = !r->op;

	waker = r->waker;
	r->waker.ops = NULL;
	rec_unlock(r);
	if (orphan) {
		release_orphan(d, r);
		return 0;
	}
	if (waker.ops)
		volt_waker_wake(&waker);
	return 1;
}

static int reap(struct volt__driver *d)
{
	struct io_uring_cqe *cqes[REAP_BATCH];
	int woken = 0;
	unsigned n;

	while ((n = io_uring_peek_batch_cqe(&d->ring, cqes, REAP_BATCH)) > 0) {
		for (unsigned i = 0; i < n; i++)
			woken += complete(d, cqes[i]);
		io_uring_cq_advance(&d->ring, n);
		if (n < REAP_BATCH)
			break;
	}
	return woken;
}

/*
 * Reaps, then waits if nothing was there. A reaped wake-up CQE ends the
 * call without waiting, like any event: the caller looks at its token again
 * (the unpark it stands for may be one whose token came after the caller's
 * last look, its NOP submitted while the caller was already polling).
 */
static int uring_poll(struct volt__driver *d, uint64_t deadline_ns)
{
	int woken;

	d->unparked = false;
	woken = reap(d);
	uring_flush(d);
	if (woken || d->unparked || deadline_ns == 0 || io_uring_cq_ready(&d->ring))
		return woken + reap(d);

	struct __kernel_timespec ts = { 0, 0 };
	struct io_uring_getevents_arg arg = { .sigmask = 0, .sigmask_sz = _NSIG / 8 };
	/* relaxed: a hint; see "Refused submissions" */
	uint64_t most = volt__load(&d->refused, RELAXED) ? REFUSED_WAIT_NS : WAIT_MAX_NS;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	uint64_t left = deadline_ns > t ? deadline_ns - t : 0;

	if (left > most)
		left = most;
	ts.tv_sec = (long long)(left / 1000000000ull);
	ts.tv_nsec = (long long)(left % 1000000000ull);
	arg.ts = (uint64_t)(uintptr_t)&ts;
	/* an error (EINTR, EAGAIN, EBUSY) ends the wait: reap what there is; the caller
	 * polls again */
	(void)SYS(d, uring_enter, (unsigned)d->ring.ring_fd, 0, 1,
		  IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
	return reap(d);
}

static void uring_unpark(struct volt__driver *d)
{
	pthread_mutex_lock(&d->sq_lock);
	struct io_uring_sqe *sqe = sqe_get(d);

	if (sqe) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, TAG_UNPARK);
	}
	submit_now(d);
	pthread_mutex_unlock(&d->sq_lock);
}

static void uring_fini(struct volt__driver *d)
{
	struct timespec start, now;

	/* the closes of the sources submitted cancels: collect what they end */
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (d->live) {
		uint64_t t;

		clock_gettime(CLOCK_MONOTONIC, &now);
		t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		if (now.tv_sec - start.tv_sec >= 2)
			break;
		(void)uring_poll(d, t + 10000000ull);
	}
	io_uring_queue_exit(&d->ring); /* the kernel cancels anything left */
	while (d->live) {
		struct rec *r = d->live;

		volt_waker_drop(&r->waker);
		r->opcode = 0; /* no accepted descriptor to close: its CQE never came */
		release_orphan(d, r);
	}
	while (d->free) {
		struct rec *r = d->free;

		d->free = r->next;
		free(r);
	}
	pthread_mutex_destroy(&d->sq_lock);
	free(d);
}

static bool uring_has_events(struct volt__driver *d)
{
	/* relaxed: a peek; the reap that follows reads the ring properly */
	unsigned head = __atomic_load_n(d->ring.cq.khead, __ATOMIC_RELAXED);

	return __atomic_load_n(d->ring.cq.ktail, __ATOMIC_RELAXED) != head ||
	       (__atomic_load_n(d->ring.sq.kflags, __ATOMIC_RELAXED) & IORING_SQ_TASKRUN);
}

const struct volt__driver_ops volt__driver_uring = {
	.name = "uring",
	.init = uring_init,
	.fini = uring_fini,
	.attach = uring_attach,
	.cancel = uring_cancel,
	.op_poll = uring_op_poll,
	.op_drop = uring_op_drop,
	.poll = uring_poll,
	.unpark = uring_unpark,
	.flush = uring_flush,
	.has_events = uring_has_events,
};
