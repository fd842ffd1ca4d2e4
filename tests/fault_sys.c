/* SPDX-License-Identifier: MIT */
/*
 * tests/fault_sys.c: the fault-injecting system-call table (fault_sys.h).
 *
 * It wraps volt__sys_posix entry by entry. Each faultable call draws once
 * from a counter-based stream (splitmix64 of seed + n): the plan's
 * probabilities for that call decide whether it fails, and how. Runs on
 * several workers interleave their draws as the kernel schedules them, so
 * a seed replays the plan, not the exact interleaving. Counters of what
 * was injected are atomics: workers call in concurrently.
 *
 * A fault must be one a kernel could give, or a test would fail on
 * something that cannot happen (or pass because of it). How each kind is
 * kept honest:
 *
 * - An injected error never performs the call: no bytes are taken from
 *   or given to the socket, no connection leaves the backlog. So a
 *   receive that fails leaves its bytes for the next one, an accept that
 *   fails leaves the connection queued.
 *
 * - EAGAIN under edge-triggered epoll. A real EAGAIN means the socket had
 *   nothing, and the bytes that come later bring a new edge. An injected
 *   one on a socket that *has* bytes would get no edge, and the operation
 *   would wait forever: something a kernel never does. So the shim models
 *   it as what a kernel does do, an early (spurious) readiness whose data
 *   arrives a moment later: the EAGAIN leaves a debt on the descriptor,
 *   and the shim's epoll_wait pays it with a readiness event for that
 *   descriptor (the epoll data is known from its EPOLL_CTL_ADD). A waiter
 *   blocked in epoll_wait is woken for it through an eventfd of the
 *   shim's own, added to every epoll set it sees and filtered out of what
 *   it returns. The event may be spurious (the real call may find nothing
 *   yet), which a driver must accept from a kernel anyway.
 *
 * - Short transfers lower the length passed to the real call (n -> 1..n):
 *   the kernel really moves fewer bytes and the rest stays where it was.
 *   Only stream sockets are cut; a datagram is never.
 *
 * - ECONNRESET and EPIPE are sticky, as a reset is: once one is injected
 *   on a descriptor, later receives read end of stream (Linux returns the
 *   reset once, then 0) and later sends fail with EPIPE. A *doom*
 *   (vt_fault_doom) picks one connection by accept order and fails it
 *   after a number of bytes, so a test knows which one breaks.
 *
 * - EMFILE/ENFILE on accept leave the connection in the backlog. The
 *   accept a listener makes to shed a connection at the limit (net/
 *   accept.c: it frees its reserve descriptor first, then accepts without
 *   SOCK_NONBLOCK) is let through, as the freed descriptor lets it
 *   through on a real kernel.
 *
 * - io_uring. The operations' system calls happen inside the ring, so
 *   the driver's hooks (drivers/sys.h) are used: at the SQE, a short
 *   transfer lowers the length, and an error has a NOP stand in for the
 *   operation; at its CQE the shim writes the error (EAGAIN, EINTR,
 *   ECANCELED, ECONNRESET, EMFILE...) into res. A real CQE is never
 *   rewritten: its bytes or descriptor would be lost, which no kernel
 *   does. EAGAIN needs no debt here: the driver re-arms with a poll.
 *   io_uring_submit and the wait refuse with EAGAIN, EBUSY or EINTR
 *   without entering the kernel, which leaves the SQEs queued as a
 *   refusing kernel would; io_uring setup can be refused (EPERM,
 *   ENOSYS), as under io_uring_disabled or an old kernel.
 *
 * - epoll_ctl ADD of a socket fails with ENOMEM or ENOSPC (the limit of
 *   max_user_watches); epoll_wait with EINTR (a signal); socket() with
 *   EMFILE, ENFILE, ENOBUFS or ENOMEM.
 *
 * Only TCP sockets the shim saw made (socket, listen, accept) are
 * faulted, so the runtime's eventfd, the ring, UDP and Unix sockets pass
 * untouched. Per-descriptor state is kept for descriptors below FD_MAX
 * and reset whenever the table hands a descriptor out or closes it.
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "fault_sys.h"

#define FD_MAX 32768
#define DEBT_MAX (2 * FD_MAX)
#define DOOM_MAX 4
#define WAKE_TAG 0xfa17fa17fa17fa17ull
#define GOLDEN 0x9e3779b97f4a7c15ull

#define BIT(f) (1u << (f))

/* The faults each call can give through a system call... */
static const uint32_t valid_sys[VT_FC_N] = {
	[VT_FC_ACCEPT] = BIT(VT_F_EAGAIN) | BIT(VT_F_EINTR) | BIT(VT_F_EMFILE) | BIT(VT_F_ENFILE) |
			 BIT(VT_F_ENOBUFS) | BIT(VT_F_ENOMEM),
	[VT_FC_RECV] = BIT(VT_F_EAGAIN) | BIT(VT_F_EINTR) | BIT(VT_F_ECONNRESET) |
		       BIT(VT_F_ENOMEM) | BIT(VT_F_SHORT),
	[VT_FC_SEND] = BIT(VT_F_EAGAIN) | BIT(VT_F_EINTR) | BIT(VT_F_ECONNRESET) | BIT(VT_F_EPIPE) |
		       BIT(VT_F_ENOBUFS) | BIT(VT_F_ENOMEM) | BIT(VT_F_SHORT),
	[VT_FC_SOCKET] = BIT(VT_F_EMFILE) | BIT(VT_F_ENFILE) | BIT(VT_F_ENOBUFS) | BIT(VT_F_ENOMEM),
	[VT_FC_EPOLL_CTL] = BIT(VT_F_ENOMEM) | BIT(VT_F_ENOSPC),
	[VT_FC_EPOLL_WAIT] = BIT(VT_F_EINTR),
	[VT_FC_URING_SUBMIT] = BIT(VT_F_EAGAIN) | BIT(VT_F_EBUSY) | BIT(VT_F_EINTR),
	[VT_FC_URING_ENTER] = BIT(VT_F_EAGAIN) | BIT(VT_F_EBUSY) | BIT(VT_F_EINTR),
	[VT_FC_URING_SETUP] = BIT(VT_F_EPERM) | BIT(VT_F_ENOSYS) | BIT(VT_F_ENOMEM),
};

/* ... and, for ACCEPT, RECV and SEND, through an io_uring CQE (a cancelled request too). */
static uint32_t valid_ring(enum vt_fcall c)
{
	return valid_sys[c] | (c <= VT_FC_SEND ? BIT(VT_F_ECANCELED) : 0);
}

static const int errno_of[VT_F_N] = {
	[VT_F_EAGAIN] = EAGAIN,   [VT_F_EINTR] = EINTR,   [VT_F_ECONNRESET] = ECONNRESET,
	[VT_F_EPIPE] = EPIPE,     [VT_F_EMFILE] = EMFILE, [VT_F_ENFILE] = ENFILE,
	[VT_F_ENOBUFS] = ENOBUFS, [VT_F_ENOMEM] = ENOMEM, [VT_F_ENOSPC] = ENOSPC,
	[VT_F_EBUSY] = EBUSY,     [VT_F_ECANCELED] = ECANCELED, [VT_F_EPERM] = EPERM,
	[VT_F_ENOSYS] = ENOSYS,   [VT_F_SHORT] = 0,
};

static const char *const fault_names[VT_F_N] = {
	"EAGAIN", "EINTR", "ECONNRESET", "EPIPE", "EMFILE", "ENFILE", "ENOBUFS",
	"ENOMEM", "ENOSPC", "EBUSY", "ECANCELED", "EPERM", "ENOSYS", "SHORT",
};

static const char *const call_names[VT_FC_N] = {
	"accept", "recv", "send", "socket", "epoll_ctl", "epoll_wait",
	"uring_submit", "uring_enter", "uring_setup",
};

/* Per-descriptor flags. */
#define FD_STREAM 0x1u   /* a TCP socket the shim saw made: faultable */
#define FD_LISTENER 0x2u
#define FD_RESET 0x4u    /* a reset was injected: receives read 0, sends fail EPIPE */
#define FD_PIPE 0x8u     /* EPIPE was injected: sends fail EPIPE */

#define OWED_IN 0x1u
#define OWED_OUT 0x2u

struct fd_state {
	_Atomic uint32_t flags;
	_Atomic uint32_t owed;   /* readiness owed to epoll (OWED_*), under debt_lock */
	_Atomic int doom;        /* doom index + 1, or 0 */
	_Atomic int epfd;        /* the epoll set it was added to, + 1; 0: none */
	_Atomic uint64_t epdata; /* the data of that registration */
	_Atomic uint64_t moved;  /* bytes moved, both directions */
};

struct doom {
	_Atomic uint64_t target; /* the accept count that picks it (0: unused) */
	_Atomic uint64_t after;
	_Atomic int err;
	_Atomic bool fired;
};

static struct fd_state fds[FD_MAX];

static struct {
	uint64_t seed;
	_Atomic uint64_t draws;
	_Atomic uint64_t thresh[VT_FC_N][VT_F_N]; /* probability * 2^32 */
	_Atomic uint64_t count[VT_FC_N][VT_F_N];
	_Atomic uint64_t synthetic, standins, accepts;
	struct doom dooms[DOOM_MAX];
	_Atomic int ndooms;
	int wake_fd;
	pthread_mutex_t debt_lock;
	int debts[DEBT_MAX];    /* descriptors that may have readiness owed */
	_Atomic int ndebts;
	const struct volt__sys *prev;
} sh = { .debt_lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1 };

static const struct volt__sys *const P = &volt__sys_posix;

/* ------------------------------------------------------------- the plan */

static uint64_t draw(void)
{
	uint64_t z = sh.seed + (atomic_fetch_add_explicit(&sh.draws, 1, memory_order_relaxed) + 1) *
				       GOLDEN;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t thresh(enum vt_fcall c, int f)
{
	return atomic_load_explicit(&sh.thresh[c][f], memory_order_relaxed);
}

/*
 * The fault in mask whose share of call c's thresholds, laid end to end in
 * fault order, holds u; -1 if u is past them all.
 */
static int fault_at(enum vt_fcall c, uint32_t mask, uint64_t u)
{
	uint64_t acc = 0;

	for (int f = 0; f < VT_F_N; f++) {
		if (!(mask & BIT(f)))
			continue;
		acc += thresh(c, f);
		if (u < acc)
			return f;
	}
	return -1;
}

/* One draw for call c among the faults in mask: the fault, or -1 for none. */
static int decide(enum vt_fcall c, uint32_t mask)
{
	return fault_at(c, mask, draw() >> 32);
}

/* One of the faults in mask, weighted by the plan (an error is certain): -1 if none is armed. */
static int pick(enum vt_fcall c, uint32_t mask)
{
	uint64_t sum = 0;

	for (int f = 0; f < VT_F_N; f++)
		sum += (mask & BIT(f)) ? thresh(c, f) : 0;
	if (!sum)
		return -1;
	return fault_at(c, mask, draw() % sum);
}

static void count(enum vt_fcall c, int f)
{
	atomic_fetch_add_explicit(&sh.count[c][f], 1, memory_order_relaxed);
}

static int inject(enum vt_fcall c, int f)
{
	count(c, f);
	return -errno_of[f];
}

/* ----------------------------------------------------- descriptor state */

static struct fd_state *fd_at(int fd)
{
	return fd >= 0 && fd < FD_MAX ? &fds[fd] : NULL;
}

static uint32_t fd_flags(int fd)
{
	struct fd_state *s = fd_at(fd);

	return s ? atomic_load_explicit(&s->flags, memory_order_relaxed) : 0;
}

static bool stream(int fd)
{
	return fd_flags(fd) & FD_STREAM;
}

static void fd_reset(int fd, uint32_t flags)
{
	struct fd_state *s = fd_at(fd);

	if (!s)
		return;
	pthread_mutex_lock(&sh.debt_lock);
	atomic_store_explicit(&s->owed, 0, memory_order_relaxed);
	pthread_mutex_unlock(&sh.debt_lock);
	atomic_store_explicit(&s->doom, 0, memory_order_relaxed);
	atomic_store_explicit(&s->epfd, 0, memory_order_relaxed);
	atomic_store_explicit(&s->moved, 0, memory_order_relaxed);
	atomic_store_explicit(&s->flags, flags, memory_order_relaxed);
}

static void fd_mark(int fd, uint32_t flag)
{
	struct fd_state *s = fd_at(fd);

	if (s)
		atomic_fetch_or_explicit(&s->flags, flag, memory_order_relaxed);
}

/* A connection was accepted (in accept order): is it doomed? */
static void note_accept(int fd)
{
	uint64_t n = atomic_fetch_add_explicit(&sh.accepts, 1, memory_order_relaxed) + 1;
	int nd = atomic_load_explicit(&sh.ndooms, memory_order_acquire);

	fd_reset(fd, FD_STREAM);
	for (int i = 0; i < nd; i++)
		if (atomic_load_explicit(&sh.dooms[i].target, memory_order_relaxed) == n)
			atomic_store_explicit(&fds[fd].doom, i + 1, memory_order_relaxed);
}

/* Doom i of a descriptor (state s) is due for call c, and has not fired. */
static bool doom_ready(struct fd_state *s, int i, enum vt_fcall c)
{
	struct doom *dm = &sh.dooms[i];

	return !atomic_load_explicit(&dm->fired, memory_order_relaxed) &&
	       atomic_load_explicit(&s->moved, memory_order_relaxed) >=
		       atomic_load_explicit(&dm->after, memory_order_relaxed) &&
	       (atomic_load_explicit(&dm->err, memory_order_relaxed) == -ECONNRESET ||
		c == VT_FC_SEND);
}

/*
 * The doom of fd if it is due for call c (ECONNRESET fails either
 * direction, EPIPE a send): fires it and returns its error, else 0.
 */
static int doom_due(int fd, enum vt_fcall c)
{
	struct fd_state *s = fd_at(fd);
	int id = s ? atomic_load_explicit(&s->doom, memory_order_relaxed) : 0, err;

	if (!id || !doom_ready(s, id - 1, c))
		return 0;
	if (atomic_exchange_explicit(&sh.dooms[id - 1].fired, true, memory_order_relaxed))
		return 0;
	err = atomic_load_explicit(&sh.dooms[id - 1].err, memory_order_relaxed);
	fd_mark(fd, err == -ECONNRESET ? FD_RESET : FD_PIPE);
	count(c, err == -ECONNRESET ? VT_F_ECONNRESET : VT_F_EPIPE);
	return err;
}

/* What a reset or broken descriptor answers call c with (1: nothing, make the call). */
static int after_break(int fd, enum vt_fcall c)
{
	uint32_t fl = fd_flags(fd);

	if (c == VT_FC_RECV && (fl & FD_RESET))
		return 0; /* the reset was reported once: end of stream from then on */
	if (c == VT_FC_SEND && (fl & (FD_RESET | FD_PIPE)))
		return -EPIPE;
	return 1;
}

/* ---------------------------------------------------- epoll: owed readiness */

/* Leaves readiness owed on fd (an injected EAGAIN) and wakes a waiting epoll_wait. */
static void owe(int fd, uint32_t dir)
{
	struct fd_state *s = fd_at(fd);
	uint64_t one = 1;

	if (!s || !atomic_load_explicit(&s->epfd, memory_order_relaxed))
		return; /* not in an epoll set (a try form before attach, or io_uring) */
	pthread_mutex_lock(&sh.debt_lock);
	int n = atomic_load_explicit(&sh.ndebts, memory_order_relaxed);

	if (!atomic_fetch_or_explicit(&s->owed, dir, memory_order_relaxed)) {
		if (n == DEBT_MAX) {
			fprintf(stderr, "fault_sys: more than %d owed descriptors\n", DEBT_MAX);
			abort();
		}
		sh.debts[n] = fd;
		atomic_store_explicit(&sh.ndebts, n + 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&sh.debt_lock);
	while (write(sh.wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Removes the shim's own wake-up events from evs[0..n); returns the new n. */
static int drop_wake(struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 != WAKE_TAG)
			continue;
		uint64_t v;

		while (read(sh.wake_fd, &v, sizeof(v)) < 0 && errno == EINTR)
			;
		evs[i--] = evs[--n];
	}
	return n;
}

/* Appends the readiness owed to descriptors of epfd to evs[n..max); returns the new n. */
static int pay_debts(int epfd, struct epoll_event *evs, int n, int max)
{
	int kept = 0;

	/* relaxed: a peek; a debt left now is paid at the next call (the eventfd wakes it) */
	if (!atomic_load_explicit(&sh.ndebts, memory_order_relaxed))
		return n;
	pthread_mutex_lock(&sh.debt_lock);
	int nd = atomic_load_explicit(&sh.ndebts, memory_order_relaxed);

	for (int i = 0; i < nd; i++) {
		int fd = sh.debts[i];
		struct fd_state *s = &fds[fd];
		uint32_t bits = atomic_exchange_explicit(&s->owed, 0, memory_order_relaxed);

		if (!bits || atomic_load_explicit(&s->epfd, memory_order_relaxed) != epfd + 1)
			continue;
		if (n == max) { /* no room: next time */
			atomic_store_explicit(&s->owed, bits, memory_order_relaxed);
			sh.debts[kept++] = fd;
			continue;
		}
		evs[n].events = ((bits & OWED_IN) ? EPOLLIN : 0u) |
				((bits & OWED_OUT) ? EPOLLOUT : 0u);
		evs[n].data.u64 = atomic_load_explicit(&s->epdata, memory_order_relaxed);
		n++;
		atomic_fetch_add_explicit(&sh.synthetic, 1, memory_order_relaxed);
	}
	atomic_store_explicit(&sh.ndebts, kept, memory_order_relaxed);
	pthread_mutex_unlock(&sh.debt_lock);
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Both waits: maybe EINTR; else the real wait, less the shim's wake-ups,
 * plus the readiness owed. A wait woken only by the shim with nothing
 * left to pay (a debt already paid by a maintenance poll) waits on for
 * the rest of its time. until: absolute deadline, 0 for none (do not
 * wait), UINT64_MAX for no deadline.
 */
static int wait_events(struct volt__driver *d, int epfd, struct epoll_event *evs, int max,
		       uint64_t until, bool pwait2)
{
	int f = decide(VT_FC_EPOLL_WAIT, valid_sys[VT_FC_EPOLL_WAIT]);

	if (f >= 0)
		return inject(VT_FC_EPOLL_WAIT, f);
	int n = pay_debts(epfd, evs, 0, max);

	if (n)
		return n;
	for (;;) {
		uint64_t t = until && until != UINT64_MAX ? now_ns() : 0;
		uint64_t left = until == UINT64_MAX ? 0 : until > t ? until - t : 0;
		struct timespec ts = { (time_t)(left / 1000000000ull),
				       (long)(left % 1000000000ull) };
		int real;

		if (pwait2) {
			real = P->epoll_pwait2(d, epfd, evs, max, until == UINT64_MAX ? NULL : &ts);
		} else {
			long long ms = until == UINT64_MAX ? -1
							   : (long long)((left + 999999) / 1000000);

			real = P->epoll_wait(d, epfd, evs, max, ms > 1000000 ? 1000000 : (int)ms);
		}
		if (real < 0)
			return real;
		n = pay_debts(epfd, evs, drop_wake(evs, real), max);
		if (n || real == 0 || !until || (until != UINT64_MAX && now_ns() >= until))
			return n;
	}
}

static uint64_t until_of_ts(const struct timespec *ts)
{
	if (!ts)
		return UINT64_MAX;
	uint64_t left = (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;

	return left ? now_ns() + left : 0;
}

/* ----------------------------------------------------------- the table */

static int f_socket(struct volt__driver *d, int domain, int type, int protocol)
{
	bool tcp = (domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_STREAM;

	if (tcp) {
		int f = decide(VT_FC_SOCKET, valid_sys[VT_FC_SOCKET]);

		if (f >= 0)
			return inject(VT_FC_SOCKET, f);
	}
	int fd = P->socket(d, domain, type, protocol);

	if (fd >= 0)
		fd_reset(fd, tcp ? FD_STREAM : 0);
	return fd;
}

static int f_bind(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	return P->bind(d, fd, a, len);
}

static int f_listen(struct volt__driver *d, int fd, int backlog)
{
	int r = P->listen(d, fd, backlog);

	if (!r && stream(fd))
		fd_mark(fd, FD_LISTENER);
	return r;
}

static int f_accept4(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len,
		     int flags)
{
	/* a shed (no SOCK_NONBLOCK) spent the listener's reserve: let it through */
	bool faultable = (fd_flags(fd) & FD_LISTENER) && (flags & SOCK_NONBLOCK);

	if (faultable) {
		int f = decide(VT_FC_ACCEPT, valid_sys[VT_FC_ACCEPT]);

		if (f == VT_F_EAGAIN)
			owe(fd, OWED_IN);
		if (f >= 0)
			return inject(VT_FC_ACCEPT, f);
	}
	int c = P->accept4(d, fd, a, len, flags);

	if (c >= 0 && faultable)
		note_accept(c);
	else if (c >= 0)
		fd_reset(c, 0);
	return c;
}

static int f_connect(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	return P->connect(d, fd, a, len);
}

/*
 * Before a transfer on fd: true if the call must not be made and *out is
 * its result; else *len may have been lowered (a short transfer).
 */
static bool before_xfer(enum vt_fcall c, int fd, size_t *len, ssize_t *out)
{
	int r, f;

	if (!stream(fd))
		return false;
	if ((r = after_break(fd, c)) != 1) {
		*out = r;
		return true;
	}
	if ((r = doom_due(fd, c))) {
		*out = r;
		return true;
	}
	f = decide(c, valid_sys[c]);
	if (f < 0)
		return false;
	if (f == VT_F_SHORT) {
		if (*len > 1) {
			*len = 1 + (size_t)(draw() % *len);
			count(c, f);
		}
		return false;
	}
	if (f == VT_F_EAGAIN)
		owe(fd, c == VT_FC_RECV ? OWED_IN : OWED_OUT);
	if (f == VT_F_ECONNRESET)
		fd_mark(fd, FD_RESET);
	if (f == VT_F_EPIPE)
		fd_mark(fd, FD_PIPE);
	*out = inject(c, f);
	return true;
}

static ssize_t after_xfer(int fd, ssize_t n)
{
	if (n > 0 && stream(fd))
		atomic_fetch_add_explicit(&fds[fd].moved, (uint64_t)n, memory_order_relaxed);
	return n;
}

static ssize_t f_recvfrom(struct volt__driver *d, int fd, void *buf, size_t len, int flags,
			  struct sockaddr *a, socklen_t *alen)
{
	ssize_t out;

	if (before_xfer(VT_FC_RECV, fd, &len, &out))
		return out;
	return after_xfer(fd, P->recvfrom(d, fd, buf, len, flags, a, alen));
}

static ssize_t f_sendto(struct volt__driver *d, int fd, const void *buf, size_t len, int flags,
			const struct sockaddr *a, socklen_t alen)
{
	ssize_t out;

	if (before_xfer(VT_FC_SEND, fd, &len, &out))
		return out;
	return after_xfer(fd, P->sendto(d, fd, buf, len, flags, a, alen));
}

static ssize_t f_read(struct volt__driver *d, int fd, void *buf, size_t len)
{
	ssize_t out;

	if (before_xfer(VT_FC_RECV, fd, &len, &out))
		return out;
	return after_xfer(fd, P->read(d, fd, buf, len));
}

static ssize_t f_write(struct volt__driver *d, int fd, const void *buf, size_t len)
{
	ssize_t out;

	if (before_xfer(VT_FC_SEND, fd, &len, &out))
		return out;
	return after_xfer(fd, P->write(d, fd, buf, len));
}

static int f_shutdown(struct volt__driver *d, int fd, int how)
{
	return P->shutdown(d, fd, how);
}

static int f_close(struct volt__driver *d, int fd)
{
	fd_reset(fd, 0);
	return P->close(d, fd);
}

static int f_getsockname(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	return P->getsockname(d, fd, a, len);
}

static int f_getpeername(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	return P->getpeername(d, fd, a, len);
}

static int f_setsockopt(struct volt__driver *d, int fd, int level, int name, const void *v,
			socklen_t len)
{
	return P->setsockopt(d, fd, level, name, v, len);
}

static int f_getsockopt(struct volt__driver *d, int fd, int level, int name, void *v,
			socklen_t *len)
{
	return P->getsockopt(d, fd, level, name, v, len);
}

static int f_epoll_ctl(struct volt__driver *d, int epfd, int op, int fd, struct epoll_event *ev)
{
	if (op == EPOLL_CTL_ADD) {
		/* the shim's wake-up joins every set it sees (EEXIST after the first) */
		struct epoll_event wev = { .events = EPOLLIN | EPOLLET, .data.u64 = WAKE_TAG };

		(void)P->epoll_ctl(d, epfd, EPOLL_CTL_ADD, sh.wake_fd, &wev);
		if (stream(fd)) {
			int f = decide(VT_FC_EPOLL_CTL, valid_sys[VT_FC_EPOLL_CTL]);

			if (f >= 0)
				return inject(VT_FC_EPOLL_CTL, f);
		}
	}
	int r = P->epoll_ctl(d, epfd, op, fd, ev);

	if (!r && op == EPOLL_CTL_ADD && fd_at(fd)) {
		atomic_store_explicit(&fds[fd].epdata, ev->data.u64, memory_order_relaxed);
		atomic_store_explicit(&fds[fd].epfd, epfd + 1, memory_order_relaxed);
	}
	return r;
}

static int f_epoll_pwait2(struct volt__driver *d, int epfd, struct epoll_event *evs, int max,
			  const struct timespec *timeout)
{
	return wait_events(d, epfd, evs, max, until_of_ts(timeout), true);
}

static int f_epoll_wait(struct volt__driver *d, int epfd, struct epoll_event *evs, int max,
			int timeout_ms)
{
	uint64_t until = timeout_ms < 0 ? UINT64_MAX
			 : timeout_ms ? now_ns() + (uint64_t)timeout_ms * 1000000ull
				      : 0;

	return wait_events(d, epfd, evs, max, until, false);
}

/* A refusal of call c without entering the kernel, or 1 to make the call. */
static int refusal(enum vt_fcall c)
{
	int f = decide(c, valid_sys[c]);

	return f >= 0 ? inject(c, f) : 1;
}

static int f_uring_setup(struct volt__driver *d, unsigned entries, struct io_uring *ring,
			 struct io_uring_params *p)
{
	int r = refusal(VT_FC_URING_SETUP);

	return r != 1 ? r : P->uring_setup(d, entries, ring, p);
}

static int f_uring_submit(struct volt__driver *d, struct io_uring *ring)
{
	int r = refusal(VT_FC_URING_SUBMIT);

	return r != 1 ? r : P->uring_submit(d, ring);
}

static int f_uring_enter(struct volt__driver *d, unsigned ring_fd, unsigned to_submit,
			 unsigned min_complete, unsigned flags, void *arg, size_t argsz)
{
	int r = refusal(VT_FC_URING_ENTER);

	return r != 1 ? r : P->uring_enter(d, ring_fd, to_submit, min_complete, flags, arg, argsz);
}

static int ring_call(int opcode)
{
	switch (opcode) {
	case VOLT__OP_ACCEPT:
		return VT_FC_ACCEPT;
	case VOLT__OP_READ:
		return VT_FC_RECV;
	case VOLT__OP_WRITE:
		return VT_FC_SEND;
	default:
		return -1;
	}
}

static bool f_uring_sqe(struct volt__driver *d, int opcode, int fd, size_t *len)
{
	int c = ring_call(opcode), f;

	(void)d;
	if (c < 0 || !stream(fd) || (c == VT_FC_ACCEPT && !(fd_flags(fd) & FD_LISTENER)))
		return false;
	if (c != VT_FC_ACCEPT && after_break(fd, (enum vt_fcall)c) != 1)
		goto stand_in; /* the CQE says what a broken descriptor says */
	if (c != VT_FC_ACCEPT) {
		int id = atomic_load_explicit(&fds[fd].doom, memory_order_relaxed);

		if (id && doom_ready(&fds[fd], id - 1, (enum vt_fcall)c))
			goto stand_in; /* the doom fires at the CQE */
	}
	f = decide((enum vt_fcall)c, valid_ring((enum vt_fcall)c));
	if (f < 0)
		return false;
	if (f == VT_F_SHORT) {
		if (*len > 1) {
			*len = 1 + (size_t)(draw() % *len);
			count((enum vt_fcall)c, f);
		}
		return false;
	}
stand_in:
	atomic_fetch_add_explicit(&sh.standins, 1, memory_order_relaxed);
	return true;
}

static void f_uring_cqe(struct volt__driver *d, int opcode, int fd, bool stand_in, int32_t *res,
			uint32_t *flags)
{
	int c = ring_call(opcode), r, f;

	(void)d;
	(void)flags;
	if (c < 0)
		return;
	if (!stand_in) {
		if (c == VT_FC_ACCEPT && *res >= 0 && (fd_flags(fd) & FD_LISTENER))
			note_accept(*res);
		else if (c != VT_FC_ACCEPT)
			(void)after_xfer(fd, *res);
		return;
	}
	if (c != VT_FC_ACCEPT && (r = after_break(fd, (enum vt_fcall)c)) != 1) {
		*res = r;
		return;
	}
	if (c != VT_FC_ACCEPT && (r = doom_due(fd, (enum vt_fcall)c))) {
		*res = r;
		return;
	}
	f = pick((enum vt_fcall)c, valid_ring((enum vt_fcall)c) & ~BIT(VT_F_SHORT));
	if (f < 0)
		f = VT_F_EAGAIN; /* disarmed since the SQE: the mildest answer */
	if (f == VT_F_ECONNRESET)
		fd_mark(fd, FD_RESET);
	if (f == VT_F_EPIPE)
		fd_mark(fd, FD_PIPE);
	*res = inject((enum vt_fcall)c, f);
}

static const struct volt__sys fault_table = {
	.name = "fault",
	.socket = f_socket,
	.bind = f_bind,
	.listen = f_listen,
	.accept4 = f_accept4,
	.connect = f_connect,
	.recvfrom = f_recvfrom,
	.sendto = f_sendto,
	.read = f_read,
	.write = f_write,
	.shutdown = f_shutdown,
	.close = f_close,
	.getsockname = f_getsockname,
	.getpeername = f_getpeername,
	.setsockopt = f_setsockopt,
	.getsockopt = f_getsockopt,
	.epoll_ctl = f_epoll_ctl,
	.epoll_pwait2 = f_epoll_pwait2,
	.epoll_wait = f_epoll_wait,
	.uring_setup = f_uring_setup,
	.uring_submit = f_uring_submit,
	.uring_enter = f_uring_enter,
	.uring_sqe = f_uring_sqe,
	.uring_cqe = f_uring_cqe,
};

/* ------------------------------------------------------------- the API */

void vt_fault_install(uint64_t seed)
{
	memset(fds, 0, sizeof(fds));
	for (int c = 0; c < VT_FC_N; c++)
		for (int f = 0; f < VT_F_N; f++) {
			atomic_store(&sh.thresh[c][f], 0);
			atomic_store(&sh.count[c][f], 0);
		}
	atomic_store(&sh.draws, 0);
	atomic_store(&sh.synthetic, 0);
	atomic_store(&sh.standins, 0);
	atomic_store(&sh.accepts, 0);
	atomic_store(&sh.ndooms, 0);
	atomic_store(&sh.ndebts, 0);
	sh.seed = seed;
	sh.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sh.wake_fd < 0) {
		perror("fault_sys: eventfd");
		abort();
	}
	sh.prev = volt__sys_install(&fault_table);
}

void vt_fault_uninstall(void)
{
	(void)volt__sys_install(sh.prev);
	close(sh.wake_fd);
	sh.wake_fd = -1;
}

void vt_fault_set(enum vt_fcall c, enum vt_fault f, double p)
{
	if (!(valid_ring(c) & BIT(f)) || p < 0 || p > 1) {
		fprintf(stderr, "fault_sys: %s cannot fail with %s (p %g)\n", call_names[c],
			fault_names[f], p);
		abort();
	}
	atomic_store_explicit(&sh.thresh[c][f], (uint64_t)(p * 4294967296.0),
			      memory_order_relaxed);
}

void vt_fault_clear(void)
{
	for (int c = 0; c < VT_FC_N; c++)
		for (int f = 0; f < VT_F_N; f++)
			atomic_store_explicit(&sh.thresh[c][f], 0, memory_order_relaxed);
	for (int i = 0; i < DOOM_MAX; i++)
		atomic_store_explicit(&sh.dooms[i].target, 0, memory_order_relaxed);
}

int vt_fault_doom(unsigned nth, uint64_t after, int err)
{
	int id = atomic_load(&sh.ndooms);

	if (id == DOOM_MAX || nth == 0 || (err != -ECONNRESET && err != -EPIPE)) {
		fprintf(stderr, "fault_sys: bad doom (%u, %d)\n", nth, err);
		abort();
	}
	atomic_store(&sh.dooms[id].after, after);
	atomic_store(&sh.dooms[id].err, err);
	atomic_store(&sh.dooms[id].fired, false);
	atomic_store(&sh.dooms[id].target, atomic_load(&sh.accepts) + nth);
	atomic_store_explicit(&sh.ndooms, id + 1, memory_order_release);
	return id;
}

bool vt_fault_doom_fired(int id)
{
	return id >= 0 && id < DOOM_MAX && atomic_load(&sh.dooms[id].fired);
}

uint64_t vt_fault_count(enum vt_fcall c, enum vt_fault f)
{
	return atomic_load_explicit(&sh.count[c][f], memory_order_relaxed);
}

uint64_t vt_fault_total(void)
{
	uint64_t n = 0;

	for (int c = 0; c < VT_FC_N; c++)
		for (int f = 0; f < VT_F_N; f++)
			n += vt_fault_count((enum vt_fcall)c, (enum vt_fault)f);
	return n;
}

uint64_t vt_fault_synthetic(void)
{
	return atomic_load_explicit(&sh.synthetic, memory_order_relaxed);
}

uint64_t vt_fault_standins(void)
{
	return atomic_load_explicit(&sh.standins, memory_order_relaxed);
}

void vt_fault_describe(char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (int c = 0; c < VT_FC_N; c++)
		for (int f = 0; f < VT_F_N; f++) {
			uint64_t n = vt_fault_count((enum vt_fcall)c, (enum vt_fault)f);
			int w;

			if (!n || off >= len)
				continue;
			w = snprintf(buf + off, len - off, "%s%s:%s=%llu", off ? " " : "",
				     call_names[c], fault_names[f], (unsigned long long)n);
			off += w > 0 ? (size_t)w : 0;
		}
}

const char *vt_fault_name(enum vt_fault f)
{
	return f < VT_F_N ? fault_names[f] : "?";
}

const char *vt_fcall_name(enum vt_fcall c)
{
	return c < VT_FC_N ? call_names[c] : "?";
}
