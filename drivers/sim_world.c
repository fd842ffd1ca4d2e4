/* SPDX-License-Identifier: MIT */
/*
 * drivers/sim_world.c: the simulated network of the `sim` driver.
 *
 * Sockets are numbers (VOLT__SIM_FD_BASE + index) in a table that never
 * reuses an index, so a descriptor used after its close is -EBADF, never
 * someone else's socket. A socket is new, a listener, connecting, a stream
 * end, or a connect that failed.
 *
 * A connection is two pipes, one per direction, each a FIFO of chunks (one
 * per write). A chunk carries the time it arrives: now plus a seeded delay,
 * never before the chunk ahead of it, so bytes arrive in order, and a
 * reader sees only chunks whose time has come. A pipe holds at most `cap`
 * bytes in flight and unread together (seeded per pipe in [cap/4, cap]): a
 * writer that finds it full gets -EAGAIN and is woken when the reader
 * frees space, so backpressure and partial writes happen as on a kernel.
 * The end of a stream (shutdown or close) is a mark after the last chunk
 * that travels the same way.
 *
 * Connecting: connect() picks a local address (the destination's IP, an
 * ephemeral port from 40000 counting up) and sends the request on its way,
 * with a seeded delay; when it arrives, the listener bound to that address
 * (a wildcard address matches any IP of its port) puts the connection in
 * its backlog, or the connect fails with ECONNREFUSED (no listener, a full
 * backlog, or the plan says so). With no delay the outcome may come at
 * once (0 or -ECONNREFUSED) or after -EINPROGRESS, as the seed picks: a
 * kernel does both. accept() takes the head of the backlog; the plan may
 * abort it there (-ECONNABORTED to accept, a reset to the client).
 *
 * Ends and errors, as on Linux where it matters to callers: a read after
 * the peer's end mark is 0; a write to a peer that closed is -EPIPE; a
 * reset (planned at the connection's k-th transfer, or a backlog dropped
 * by its listener's close) makes every read and write of both ends
 * -ECONNRESET from then on and discards what was in flight. Closing an end
 * sends its end mark and discards what it had not read.
 *
 * Time is the runtime's clock (virtual under the sim policy). Whatever
 * happens later than now is an event in a min-heap ordered by (time,
 * sequence): a chunk or end mark arriving, a connect arriving, a peer's
 * timer. volt__sim_run_due runs what is due; the driver tells the virtual
 * clock the time of the first event, so the clock jumps to it when nothing
 * else can run.
 *
 * Waking. A program's operation that found nothing to do waits on its
 * socket (two wait lists, read and write); whatever may let it progress
 * bumps the socket's change count and moves the wakers into w->wakes for
 * the driver to wake after unlocking. A peer's socket steps its peer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "core/rng.h"
#include "core/timers.h"
#include "core/waitlist.h"
#include "drivers/sim.h"

#define PORT_FIRST 40000u
#define PORT_LAST 60999u
#define BACKLOG_MAX 4096
#define ERRORS_PRINTED 10
#define DEFAULT_CAP 65536
#define DEFAULT_DELAY_MAX_NS 5000000ull
#define DEFAULT_RESET_OPS 64
#define DRAIN_MAX 10000000u

enum { SK_NEW, SK_LISTEN, SK_CONNECTING, SK_STREAM, SK_FAILED };

enum { EV_DELIVER = 1, EV_CONNECT, EV_PEER };

/* What the trace hash folds in (see volt__sim_trace). */
enum {
	TR_SOCKET = 1, TR_BIND, TR_LISTEN, TR_CONNECT, TR_CONNECTED, TR_REFUSED, TR_ACCEPT,
	TR_ABORTED, TR_SEND, TR_RECV, TR_EOF, TR_SHUTDOWN, TR_CLOSE, TR_RESET, TR_ARRIVE,
	TR_DELAY, TR_SHORT,
};

struct chunk {
	struct chunk *next;
	uint64_t at;     /* arrives then */
	size_t len, off; /* off: bytes already read */
	unsigned char data[];
};

struct pipe {
	struct chunk *head, *tail;
	size_t queued;   /* bytes in flight and unread */
	size_t cap;
	uint64_t last_at; /* arrival of the last chunk or mark sent */
	bool fin;
	uint64_t fin_at;
};

struct volt__sim_conn {
	uint32_t id;
	int fd[2];              /* [0] the connecting end, [1] the accepted end (-1: none yet) */
	bool closed[2];
	struct pipe pipe[2];    /* pipe[s]: from end s to end 1 - s */
	bool reset, accepted, in_backlog;
	uint32_t reset_in;      /* transfers until the planned reset; 0: none planned */
	uint32_t bl_next;       /* the next in its listener's backlog (id + 1; 0 none) */
	struct volt_addr dialed; /* the address the client connected to */
};

struct volt__sim_sock {
	int fd;
	uint8_t state;
	uint8_t side;           /* stream: its end of the connection */
	bool bound, rd_shut, wr_shut;
	int family;
	int so_error;           /* connect: EINPROGRESS, then its outcome (positive) */
	unsigned peer;          /* 1 + the peer that owns it; 0: the program */
	uint32_t conn;          /* stream: the connection's id */
	struct volt_addr local, remote;
	int backlog_max;        /* listener */
	unsigned nbacklog;
	uint32_t bl_head, bl_tail; /* conn id + 1; 0 none */
	struct volt_waitlist waiters[2]; /* [0] readers, [1] writers */
	uint64_t changes;
};

/* ------------------------------------------------------------- plumbing */

uint64_t volt__sim_rand(uint64_t *stream)
{
	return volt__splitmix64(stream);
}

/* True with probability p (from the fault stream); counts the fault. */
static bool chance(struct volt__sim_world *w, double p)
{
	if (p <= 0)
		return false;
	double u = (double)(volt__splitmix64(&w->rng) >> 11) * 0x1.0p-53;

	if (u >= p)
		return false;
	w->st.faults++;
	return true;
}

static uint64_t below(struct volt__sim_world *w, uint64_t n)
{
	return n ? volt__splitmix64(&w->rng) % n : 0;
}

void volt__sim_clock(struct volt__sim_world *w)
{
	uint64_t now = volt__clock_ns(w->rt);

	if (now > w->now) /* never backwards, even across threads' reads */
		w->now = now;
}

void volt__sim_trace(struct volt__sim_world *w, uint32_t what, uint64_t a, uint64_t b)
{
	const uint64_t v[4] = { w->now, what, a, b };
	uint64_t h = w->st.hash;

	for (int i = 0; i < 4; i++) {
		h = (h ^ v[i]) * 0x100000001b3ull; /* FNV-1a over words, then a shift */
		h ^= h >> 29;
	}
	w->st.hash = h;
	w->st.steps++;
	w->tick++;
}

void volt__sim_error(struct volt__sim_world *w, const char *fmt, ...)
{
	va_list ap;

	w->st.errors++;
	if (w->reported++ >= ERRORS_PRINTED)
		return;
	fprintf(stderr, "sim: seed %llu: error: ", (unsigned long long)w->seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A delay for something sent now: 0, or 1..delay_max ns as the plan says. */
static uint64_t delay(struct volt__sim_world *w)
{
	if (!chance(w, w->f.delay))
		return 0;
	return 1 + below(w, w->f.delay_max_ns);
}

/* ---------------------------------------------------------------- events */

static bool ev_before(const struct volt__sim_event *a, const struct volt__sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static int ev_push(struct volt__sim_world *w, uint64_t at, uint32_t kind, uint32_t a,
		   uint32_t b)
{
	if (w->nev == w->capev) {
		size_t cap = w->capev ? 2 * w->capev : 256;
		struct volt__sim_event *h = realloc(w->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		w->heap = h;
		w->capev = cap;
	}
	struct volt__sim_event e = { at, w->evseq++, kind, a, b };
	size_t i = w->nev++;

	while (i && ev_before(&e, &w->heap[(i - 1) / 2])) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = e;
	if (i == 0)
		w->earlier = true;
	return 0;
}

static struct volt__sim_event ev_pop(struct volt__sim_world *w)
{
	struct volt__sim_event top = w->heap[0], last = w->heap[--w->nev];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= w->nev)
			break;
		if (c + 1 < w->nev && ev_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!ev_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (w->nev)
		w->heap[i] = last;
	return top;
}

uint64_t volt__sim_next_event(const struct volt__sim_world *w)
{
	return w->nev ? w->heap[0].at : UINT64_MAX;
}

int volt__sim_peer_at(struct volt__sim_world *w, unsigned idx, uint64_t at, bool poke)
{
	return ev_push(w, at, EV_PEER, idx, poke);
}

/* Schedules something that cannot be lost: on failure the run is broken. */
static void must_push(struct volt__sim_world *w, uint64_t at, uint32_t kind, uint32_t a,
		      uint32_t b)
{
	if (ev_push(w, at, kind, a, b))
		volt__sim_error(w, "out of memory for the event queue: the run is not valid");
}

/* ------------------------------------------------------------- sockets */

struct volt__sim_sock *volt__sim_sock(struct volt__sim_world *w, int fd)
{
	if (fd < VOLT__SIM_FD_BASE || (size_t)(fd - VOLT__SIM_FD_BASE) >= w->nsocks)
		return NULL;
	return w->socks[fd - VOLT__SIM_FD_BASE];
}

static struct volt__sim_conn *conn_of(struct volt__sim_world *w, uint32_t id)
{
	return id < w->nconns ? w->conns[id] : NULL;
}

uint64_t volt__sim_changes(struct volt__sim_sock *s)
{
	return s->changes;
}

/* Moves a waker into w->wakes (or, out of memory, wakes it here). */
static void queue_wake(struct volt__sim_world *w, struct volt_waker k)
{
	if (!k.ops)
		return;
	if (w->nwakes == w->capwakes) {
		size_t cap = w->capwakes ? 2 * w->capwakes : 16;
		struct volt_waker *v = realloc(w->wakes, cap * sizeof(*v));

		if (!v) {
			volt_waker_wake(&k); /* under the lock: only when memory ran out */
			return;
		}
		w->wakes = v;
		w->capwakes = cap;
	}
	w->wakes[w->nwakes++] = k;
}

#define DIR_READ 1u
#define DIR_WRITE 2u

/* Something about s changed that may let waiters in `dirs` progress. */
static void sock_wake(struct volt__sim_world *w, struct volt__sim_sock *s, unsigned dirs)
{
	s->changes++;
	for (unsigned d = 0; d < 2; d++) {
		if (!(dirs & (1u << d)))
			continue;
		while (s->waiters[d].head) {
			struct volt_waiter *wt = s->waiters[d].head;
			struct volt_waker k = wt->waker;

			volt__waitlist_remove(&s->waiters[d], wt);
			wt->waker.ops = NULL;
			queue_wake(w, k);
		}
	}
	if (s->peer)
		volt__sim_peer_poke(w, s->peer - 1);
}

static void fd_wake(struct volt__sim_world *w, int fd, unsigned dirs)
{
	struct volt__sim_sock *s = fd >= 0 ? volt__sim_sock(w, fd) : NULL;

	if (s)
		sock_wake(w, s, dirs);
}

void volt__sim_wait(struct volt__sim_world *w, struct volt__sim_sock *s, unsigned dir,
		    struct volt_waiter *waiter, const struct volt_waker *waker)
{
	(void)w;
	volt__waiter_set_waker(waiter, waker);
	if (!waiter->linked)
		volt__waitlist_push(&s->waiters[dir - 1], waiter);
}

void volt__sim_unwait(struct volt__sim_sock *s, unsigned dir, struct volt_waiter *waiter,
		      struct volt_waker *stale)
{
	if (waiter->linked)
		volt__waitlist_remove(&s->waiters[dir - 1], waiter);
	*stale = waiter->waker;
	waiter->waker.ops = NULL;
}

void volt__sim_wake_all(struct volt__sim_world *w, struct volt__sim_sock *s)
{
	sock_wake(w, s, DIR_READ | DIR_WRITE);
}

int volt__sim_socket(struct volt__sim_world *w, int domain, int type, unsigned peer)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX)
		return -EAFNOSUPPORT;
	if (base != SOCK_STREAM)
		return -EOPNOTSUPP; /* UDP is not simulated (docs/simulation.md) */
	if (w->nsocks >= (size_t)(INT32_MAX - VOLT__SIM_FD_BASE))
		return -EMFILE;
	if (w->nsocks == w->capsocks) {
		size_t cap = w->capsocks ? 2 * w->capsocks : 64;
		struct volt__sim_sock **v = realloc(w->socks, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->socks = v;
		w->capsocks = cap;
	}
	struct volt__sim_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->fd = VOLT__SIM_FD_BASE + (int)w->nsocks;
	s->state = SK_NEW;
	s->family = domain;
	s->peer = peer;
	s->local.u.sa.sa_family = (sa_family_t)domain;
	s->local.len = domain == AF_INET ? sizeof(struct sockaddr_in)
		     : domain == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(sa_family_t);
	w->socks[w->nsocks++] = s;
	volt__sim_trace(w, TR_SOCKET, (uint64_t)s->fd, (uint64_t)domain);
	return s->fd;
}

/* ------------------------------------------------------------ addresses */

static void set_port(struct volt_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in.sin_port = htons(port);
	else if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
}

static bool any_ip(const struct volt_addr *a)
{
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	return a->u.sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
}

static bool same_ip(const struct volt_addr *a, const struct volt_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, sizeof(struct in6_addr));
}

/* Replaces a wildcard IP by the loopback address (what a connect to it reaches). */
static void loopback_if_any(struct volt_addr *a)
{
	if (!any_ip(a))
		return;
	if (a->u.sa.sa_family == AF_INET)
		a->u.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		a->u.in6.sin6_addr = in6addr_loopback;
}

/* Copies a caller's address of the socket's family: 0 or -EINVAL/-EAFNOSUPPORT. */
static int take_addr(const struct volt__sim_sock *s, const struct sockaddr *a, socklen_t len,
		     struct volt_addr *out)
{
	if (!a || len < sizeof(sa_family_t) || len > sizeof(out->u))
		return -EINVAL;
	if (a->sa_family != s->family)
		return -EAFNOSUPPORT;
	if ((s->family == AF_INET && len < sizeof(struct sockaddr_in)) ||
	    (s->family == AF_INET6 && len < sizeof(struct sockaddr_in6)) ||
	    (s->family == AF_UNIX && len <= offsetof(struct sockaddr_un, sun_path)))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(&out->u, a, len);
	out->len = s->family == AF_INET ? sizeof(struct sockaddr_in)
		 : s->family == AF_INET6 ? sizeof(struct sockaddr_in6) : len;
	return 0;
}

/* Whether a bound socket holds address a (same port; IPs overlap; or same path). */
static bool holds(const struct volt__sim_sock *s, const struct volt_addr *a)
{
	if (!s->bound || s->family != a->u.sa.sa_family)
		return false;
	if (s->family == AF_UNIX)
		return !strncmp(s->local.u.un.sun_path, a->u.un.sun_path,
				sizeof(a->u.un.sun_path));
	return volt_addr_port(&s->local) == volt_addr_port(a) &&
	       (any_ip(&s->local) || any_ip(a) || same_ip(&s->local, a));
}

static bool in_use(struct volt__sim_world *w, const struct volt_addr *a)
{
	for (size_t i = 0; i < w->nsocks; i++)
		if (w->socks[i] && holds(w->socks[i], a))
			return true;
	return false;
}

/* Gives a port-0 IP address a free ephemeral port: 0 or -EADDRNOTAVAIL. */
static int ephemeral(struct volt__sim_world *w, struct volt_addr *a)
{
	for (uint32_t tries = 0; tries <= PORT_LAST - PORT_FIRST; tries++) {
		uint32_t port = w->next_port++;

		if (w->next_port > PORT_LAST)
			w->next_port = PORT_FIRST;
		set_port(a, (uint16_t)port);
		if (!in_use(w, a))
			return 0;
	}
	return -EADDRNOTAVAIL;
}

int volt__sim_bind(struct volt__sim_world *w, int fd, const struct sockaddr *a, socklen_t len)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);
	struct volt_addr addr;
	int ret;

	if (!s)
		return -EBADF;
	if (s->bound || s->state != SK_NEW)
		return -EINVAL;
	ret = take_addr(s, a, len, &addr);
	if (ret)
		return ret;
	if (s->family != AF_UNIX && volt_addr_port(&addr) == 0)
		ret = ephemeral(w, &addr);
	else if (in_use(w, &addr))
		ret = -EADDRINUSE;
	if (ret)
		return ret;
	s->local = addr;
	s->bound = true;
	volt__sim_trace(w, TR_BIND, (uint64_t)fd, volt_addr_port(&addr));
	return 0;
}

int volt__sim_listen(struct volt__sim_world *w, int fd, int backlog)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);

	if (!s)
		return -EBADF;
	if (s->state != SK_NEW && s->state != SK_LISTEN)
		return -EINVAL;
	if (!s->bound) {
		if (s->family == AF_UNIX)
			return -EINVAL;
		int ret = ephemeral(w, &s->local);

		if (ret)
			return ret;
		s->bound = true;
	}
	s->state = SK_LISTEN;
	s->backlog_max = backlog < 1 ? 1 : backlog > BACKLOG_MAX ? BACKLOG_MAX : backlog;
	if (w->first_listener < 0)
		w->first_listener = fd;
	volt__sim_trace(w, TR_LISTEN, (uint64_t)fd, (uint64_t)s->backlog_max);
	return 0;
}

/* ---------------------------------------------------------- connections */

static void pipe_clear(struct pipe *p)
{
	while (p->head) {
		struct chunk *c = p->head;

		p->head = c->next;
		free(c);
	}
	p->tail = NULL;
	p->queued = 0;
}

/* Frees c once neither end nor a backlog refers to it. */
static void conn_maybe_free(struct volt__sim_world *w, struct volt__sim_conn *c)
{
	if (!c->closed[0] || (c->accepted && !c->closed[1]) || c->in_backlog)
		return;
	pipe_clear(&c->pipe[0]);
	pipe_clear(&c->pipe[1]);
	w->conns[c->id] = NULL;
	free(c);
}

/* Resets c: both ends see -ECONNRESET from now on; what was in flight is gone. */
static void conn_reset(struct volt__sim_world *w, struct volt__sim_conn *c)
{
	if (c->reset)
		return;
	c->reset = true;
	c->reset_in = 0;
	pipe_clear(&c->pipe[0]);
	pipe_clear(&c->pipe[1]);
	w->st.resets++;
	volt__sim_trace(w, TR_RESET, c->id, 0);
	fd_wake(w, c->fd[0], DIR_READ | DIR_WRITE);
	fd_wake(w, c->fd[1], DIR_READ | DIR_WRITE);
}

/* One more transfer on c: true if the planned reset strikes now. */
static bool reset_strikes(struct volt__sim_world *w, struct volt__sim_conn *c)
{
	if (!c->reset_in || --c->reset_in)
		return false;
	w->st.faults++;
	conn_reset(w, c);
	return true;
}

static struct volt__sim_conn *conn_new(struct volt__sim_world *w)
{
	if (w->nconns == w->capconns) {
		size_t cap = w->capconns ? 2 * w->capconns : 64;
		struct volt__sim_conn **v = realloc(w->conns, cap * sizeof(*v));

		if (!v)
			return NULL;
		w->conns = v;
		w->capconns = cap;
	}
	struct volt__sim_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = (uint32_t)w->nconns;
	c->fd[0] = c->fd[1] = -1;
	for (int i = 0; i < 2; i++) {
		size_t lo = w->f.cap / 4 ? w->f.cap / 4 : 1;

		c->pipe[i].cap = lo + below(w, w->f.cap - lo + 1);
	}
	/* chance() counts the fault when drawn; the reset itself may never come */
	if (w->f.reset > 0 && chance(w, w->f.reset)) {
		w->st.faults--;
		c->reset_in = 1 + (uint32_t)below(w, w->f.reset_ops);
	}
	w->conns[w->nconns++] = c;
	return c;
}

static struct volt__sim_sock *find_listener(struct volt__sim_world *w, const struct volt_addr *a)
{
	for (size_t i = 0; i < w->nsocks; i++) {
		struct volt__sim_sock *s = w->socks[i];

		if (s && s->state == SK_LISTEN && holds(s, a))
			return s;
	}
	return NULL;
}

/* The connect of s arrives at its destination: connected, or refused. */
static void connect_arrives(struct volt__sim_world *w, struct volt__sim_sock *s)
{
	struct volt__sim_sock *l = find_listener(w, &s->remote);
	struct volt__sim_conn *c = NULL;
	int err = 0;

	if (!l || l->nbacklog >= (unsigned)l->backlog_max || chance(w, w->f.refuse))
		err = ECONNREFUSED;
	else if (!(c = conn_new(w)))
		err = ENOMEM;
	if (err) {
		s->state = SK_FAILED;
		s->so_error = err;
		volt__sim_trace(w, TR_REFUSED, (uint64_t)s->fd, (uint64_t)err);
		sock_wake(w, s, DIR_READ | DIR_WRITE);
		return;
	}
	c->fd[0] = s->fd;
	c->in_backlog = true;
	c->dialed = s->remote;
	if (l->bl_tail)
		conn_of(w, l->bl_tail - 1)->bl_next = c->id + 1;
	else
		l->bl_head = c->id + 1;
	l->bl_tail = c->id + 1;
	l->nbacklog++;
	s->state = SK_STREAM;
	s->side = 0;
	s->conn = c->id;
	s->so_error = 0;
	w->st.connections++;
	volt__sim_trace(w, TR_CONNECTED, (uint64_t)s->fd, c->id);
	sock_wake(w, l, DIR_READ);
	sock_wake(w, s, DIR_READ | DIR_WRITE);
}

int volt__sim_connect(struct volt__sim_world *w, int fd, const struct sockaddr *a, socklen_t len)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);
	struct volt_addr to;
	int ret;

	if (!s)
		return -EBADF;
	switch (s->state) {
	case SK_STREAM:
		return -EISCONN;
	case SK_CONNECTING:
		return -EALREADY;
	case SK_LISTEN:
		return -EINVAL;
	case SK_FAILED: /* a failed connect may be tried again */
		s->state = SK_NEW;
		break;
	}
	ret = take_addr(s, a, len, &to);
	if (ret)
		return ret;
	if (s->family != AF_UNIX && volt_addr_port(&to) == 0)
		return -ECONNREFUSED;
	if (!s->bound) {
		if (s->family == AF_UNIX) {
			s->local.len = sizeof(sa_family_t);
		} else {
			s->local = to;
			loopback_if_any(&s->local);
			ret = ephemeral(w, &s->local);
			if (ret)
				return ret;
		}
		s->bound = true;
	}
	s->remote = to;
	uint64_t d = delay(w);

	volt__sim_trace(w, TR_CONNECT, (uint64_t)fd, d);
	if (d == 0 && below(w, 2)) { /* at once, as loopback often does */
		connect_arrives(w, s);
		if (s->state == SK_STREAM)
			return 0;
		ret = -s->so_error;
		s->so_error = 0;
		return ret;
	}
	ret = ev_push(w, w->now + d, EV_CONNECT, (uint32_t)(fd - VOLT__SIM_FD_BASE), 0);
	if (ret)
		return ret;
	s->state = SK_CONNECTING;
	s->so_error = EINPROGRESS;
	return -EINPROGRESS;
}

bool volt__sim_connecting(struct volt__sim_world *w, int fd, int *err)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);

	*err = s ? (s->state == SK_FAILED ? s->so_error : 0) : EBADF;
	return s && s->state == SK_CONNECTING;
}

bool volt__sim_conn_state(struct volt__sim_world *w, int fd, bool *accepted, bool *reset)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);
	struct volt__sim_conn *c = s && s->state == SK_STREAM ? conn_of(w, s->conn) : NULL;

	*accepted = c && c->accepted;
	*reset = c && c->reset;
	return c != NULL;
}

int volt__sim_accept(struct volt__sim_world *w, int fd, struct sockaddr *a, socklen_t *alen)
{
	struct volt__sim_sock *l = volt__sim_sock(w, fd);

	if (!l)
		return -EBADF;
	if (l->state != SK_LISTEN)
		return -EINVAL;
	if (fd == w->first_listener && w->peers)
		volt__sim_peers_start(w, &l->local); /* once: it ignores later calls */
	if (!l->bl_head)
		return -EAGAIN;

	struct volt__sim_conn *c = conn_of(w, l->bl_head - 1);
	bool abort = c->reset || chance(w, w->f.drop);
	int nfd = abort ? -1 : volt__sim_socket(w, l->family, SOCK_STREAM, 0);

	if (!abort && nfd < 0)
		return nfd; /* the connection stays in the backlog */
	l->bl_head = c->bl_next;
	if (!l->bl_head)
		l->bl_tail = 0;
	c->bl_next = 0;
	c->in_backlog = false;
	l->nbacklog--;
	if (abort) {
		conn_reset(w, c);
		volt__sim_trace(w, TR_ABORTED, (uint64_t)fd, c->id);
		conn_maybe_free(w, c);
		return -ECONNABORTED;
	}

	struct volt__sim_sock *s = volt__sim_sock(w, nfd);
	struct volt__sim_sock *client = c->closed[0] ? NULL : volt__sim_sock(w, c->fd[0]);

	s->state = SK_STREAM;
	s->side = 1;
	s->conn = c->id;
	s->bound = true;
	s->local = l->family == AF_UNIX ? l->local : c->dialed;
	loopback_if_any(&s->local);
	if (client) {
		s->remote = client->local;
	} else { /* the client closed while in the backlog: its address is gone too */
		s->remote.u.sa.sa_family = (sa_family_t)l->family;
		s->remote.len = l->family == AF_UNIX ? sizeof(sa_family_t) : s->local.len;
	}
	c->fd[1] = nfd;
	c->accepted = true;
	if (a && alen) {
		socklen_t n = *alen < s->remote.len ? *alen : s->remote.len;

		memcpy(a, &s->remote.u, n);
		*alen = s->remote.len;
	}
	volt__sim_trace(w, TR_ACCEPT, (uint64_t)nfd, c->id);
	return nfd;
}

/* ---------------------------------------------------------- transfers */

/* The stream socket fd's connection and end, or an error for a non-stream. */
static int stream_of(struct volt__sim_world *w, int fd, struct volt__sim_sock **sp,
		     struct volt__sim_conn **cp)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);

	if (!s)
		return -EBADF;
	if (s->state == SK_CONNECTING)
		return -EAGAIN;
	if (s->state != SK_STREAM)
		return -ENOTCONN;
	*sp = s;
	*cp = conn_of(w, s->conn);
	return *cp ? 0 : -ENOTCONN;
}

/* Cuts a transfer of n bytes short as the plan says: 1..n. */
static size_t maybe_short(struct volt__sim_world *w, int fd, size_t n)
{
	if (n < 2 || !chance(w, w->f.shortio))
		return n;
	size_t m = 1 + (size_t)below(w, n - 1);

	volt__sim_trace(w, TR_SHORT, (uint64_t)fd, m);
	return m;
}

/* When something sent on p now arrives: never before what went ahead of it. */
static uint64_t arrival(struct volt__sim_world *w, struct pipe *p, int fd)
{
	uint64_t d = delay(w), at = w->now + d;

	if (d)
		volt__sim_trace(w, TR_DELAY, (uint64_t)fd, d);
	if (at < p->last_at)
		at = p->last_at;
	p->last_at = at;
	return at;
}

/* Tells the reader of pipe `dir` of c that something arrives at `at`. */
static void announce(struct volt__sim_world *w, struct volt__sim_conn *c, unsigned dir,
		     uint64_t at)
{
	if (at <= w->now)
		fd_wake(w, c->closed[1 - dir] ? -1 : c->fd[1 - dir], DIR_READ);
	else
		must_push(w, at, EV_DELIVER, c->id, dir);
}

ssize_t volt__sim_send(struct volt__sim_world *w, int fd, const void *buf, size_t len)
{
	struct volt__sim_sock *s;
	struct volt__sim_conn *c;
	int ret = stream_of(w, fd, &s, &c);

	if (ret)
		return ret;
	struct pipe *p = &c->pipe[s->side];

	if (c->reset)
		return -ECONNRESET;
	if (s->wr_shut || p->fin || c->closed[1 - s->side])
		return -EPIPE;
	if (len == 0)
		return 0;
	if (p->queued >= p->cap)
		return -EAGAIN;
	if (reset_strikes(w, c))
		return -ECONNRESET;

	size_t n = len < p->cap - p->queued ? len : p->cap - p->queued;

	n = maybe_short(w, fd, n);

	struct chunk *k = malloc(sizeof(*k) + n);

	if (!k)
		return -ENOMEM;
	memcpy(k->data, buf, n);
	k->next = NULL;
	k->len = n;
	k->off = 0;
	k->at = arrival(w, p, fd);
	if (p->tail)
		p->tail->next = k;
	else
		p->head = k;
	p->tail = k;
	p->queued += n;
	volt__sim_trace(w, TR_SEND, (uint64_t)fd, n);
	announce(w, c, s->side, k->at);
	return (ssize_t)n;
}

ssize_t volt__sim_recv(struct volt__sim_world *w, int fd, void *buf, size_t len, int flags)
{
	struct volt__sim_sock *s;
	struct volt__sim_conn *c;
	int ret = stream_of(w, fd, &s, &c);

	if (ret)
		return ret;
	unsigned dir = 1 - s->side;
	struct pipe *p = &c->pipe[dir];

	if (c->reset)
		return -ECONNRESET;
	if (s->rd_shut)
		return 0;

	size_t ready = 0;

	for (struct chunk *k = p->head; k && k->at <= w->now; k = k->next)
		ready += k->len - k->off;
	if (!ready) {
		if (!p->head && p->fin && p->fin_at <= w->now) {
			volt__sim_trace(w, TR_EOF, (uint64_t)fd, 0);
			return 0;
		}
		return -EAGAIN;
	}
	if (len == 0)
		return 0;
	if (reset_strikes(w, c))
		return -ECONNRESET;

	size_t n = maybe_short(w, fd, len < ready ? len : ready), got = 0;
	struct chunk *k = p->head;

	while (got < n) {
		size_t take = k->len - k->off < n - got ? k->len - k->off : n - got;

		memcpy((char *)buf + got, k->data + k->off, take);
		got += take;
		if (flags & MSG_PEEK) {
			k = k->next;
			continue;
		}
		k->off += take;
		if (k->off == k->len) {
			p->head = k->next;
			if (!p->head)
				p->tail = NULL;
			free(k);
			k = p->head;
		}
	}
	if (!(flags & MSG_PEEK)) {
		p->queued -= n;
		fd_wake(w, c->closed[dir] ? -1 : c->fd[dir], DIR_WRITE); /* its writer */
	}
	volt__sim_trace(w, TR_RECV, (uint64_t)fd, n);
	return (ssize_t)n;
}

/* End s's direction of c: the end mark follows the last chunk. */
static void send_fin(struct volt__sim_world *w, struct volt__sim_conn *c, unsigned side)
{
	struct pipe *p = &c->pipe[side];

	if (p->fin || c->reset)
		return;
	p->fin = true;
	p->fin_at = arrival(w, p, c->fd[side]);
	announce(w, c, side, p->fin_at);
}

int volt__sim_shutdown(struct volt__sim_world *w, int fd, int how)
{
	struct volt__sim_sock *s;
	struct volt__sim_conn *c;
	int ret = stream_of(w, fd, &s, &c);

	if (ret)
		return ret == -EAGAIN ? -ENOTCONN : ret;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (how != SHUT_WR && !s->rd_shut) {
		s->rd_shut = true;
		sock_wake(w, s, DIR_READ);
	}
	if (how != SHUT_RD && !s->wr_shut) {
		s->wr_shut = true;
		send_fin(w, c, s->side);
		sock_wake(w, s, DIR_WRITE);
	}
	volt__sim_trace(w, TR_SHUTDOWN, (uint64_t)fd, (uint64_t)how);
	return 0;
}

int volt__sim_close(struct volt__sim_world *w, int fd)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);

	if (!s)
		return -EBADF;
	if (s->state == SK_STREAM) {
		struct volt__sim_conn *c = conn_of(w, s->conn);

		if (c) {
			unsigned side = s->side;

			send_fin(w, c, side);
			pipe_clear(&c->pipe[1 - side]); /* unread: gone with its reader */
			c->closed[side] = true;
			c->fd[side] = -1;
			fd_wake(w, c->fd[1 - side], DIR_WRITE); /* its writes are -EPIPE now */
			conn_maybe_free(w, c);
		}
	} else if (s->state == SK_LISTEN) {
		/* what waited in the backlog is reset (as a kernel does) */
		while (s->bl_head) {
			struct volt__sim_conn *c = conn_of(w, s->bl_head - 1);

			s->bl_head = c->bl_next;
			c->bl_next = 0;
			c->in_backlog = false;
			conn_reset(w, c);
			conn_maybe_free(w, c);
		}
		s->bl_tail = 0;
		s->nbacklog = 0;
		if (w->first_listener == fd)
			w->first_listener = -1;
	}
	/* the driver waits for every operation to let go before it closes */
	sock_wake(w, s, DIR_READ | DIR_WRITE);
	volt__sim_trace(w, TR_CLOSE, (uint64_t)fd, s->state);
	w->socks[fd - VOLT__SIM_FD_BASE] = NULL;
	free(s);
	return 0;
}

int volt__sim_name(struct volt__sim_world *w, int fd, bool peer, struct sockaddr *a,
		   socklen_t *len)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);

	if (!s)
		return -EBADF;
	if (!a || !len)
		return -EFAULT;
	if (peer && s->state != SK_STREAM)
		return -ENOTCONN;

	const struct volt_addr *x = peer ? &s->remote : &s->local;
	socklen_t n = *len < x->len ? *len : x->len;

	memcpy(a, &x->u, n);
	*len = x->len;
	return 0;
}

int volt__sim_getsockopt(struct volt__sim_world *w, int fd, int level, int name, void *v,
			 socklen_t *len)
{
	struct volt__sim_sock *s = volt__sim_sock(w, fd);
	int val;

	if (!s)
		return -EBADF;
	if (!v || !len || *len < sizeof(int))
		return -EINVAL;
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case SO_TYPE:
		val = SOCK_STREAM;
		break;
	case SO_ERROR:
		val = s->so_error;
		if (s->state != SK_CONNECTING)
			s->so_error = 0; /* read once, as the kernel's */
		break;
	case SO_ACCEPTCONN:
		val = s->state == SK_LISTEN;
		break;
	default:
		return -ENOPROTOOPT;
	}
	memcpy(v, &val, sizeof(val));
	*len = sizeof(val);
	return 0;
}

int volt__sim_setsockopt(struct volt__sim_world *w, int fd, int level, int name,
			 const void *v, socklen_t len)
{
	(void)level;
	(void)name;
	if (!volt__sim_sock(w, fd))
		return -EBADF;
	return v || !len ? 0 : -EFAULT; /* every option is accepted and changes nothing */
}

/* ---------------------------------------------------------- the events */

size_t volt__sim_run_due(struct volt__sim_world *w)
{
	size_t before = w->nwakes;

	while (w->nev && w->heap[0].at <= w->now) {
		struct volt__sim_event e = ev_pop(w);
		struct volt__sim_conn *c;
		struct volt__sim_sock *s;

		switch (e.kind) {
		case EV_DELIVER:
			c = conn_of(w, e.a);
			if (c && !c->reset && !c->closed[1 - e.b] && c->fd[1 - e.b] >= 0) {
				volt__sim_trace(w, TR_ARRIVE, c->id, e.b);
				fd_wake(w, c->fd[1 - e.b], DIR_READ);
			}
			break;
		case EV_CONNECT:
			s = e.a < w->nsocks ? w->socks[e.a] : NULL;
			if (s && s->state == SK_CONNECTING)
				connect_arrives(w, s);
			break;
		case EV_PEER:
			volt__sim_peer_step(w, e.a, e.b);
			break;
		}
	}
	return w->nwakes - before;
}

void volt__sim_world_drain(struct volt__sim_world *w)
{
	for (unsigned n = 0; w->nev; n++) {
		if (n == DRAIN_MAX) {
			volt__sim_error(w, "the network did not settle after %u events", n);
			return;
		}
		if (w->heap[0].at > w->now)
			w->now = w->heap[0].at;
		volt__sim_run_due(w);
	}
}

/* ---------------------------------------------------------- set-up */

static int parse_prob(const char *v, double *out)
{
	char *end;
	double p = strtod(v, &end);

	if (end == v || *end || !(p >= 0 && p <= 1))
		return -EINVAL;
	*out = p;
	return 0;
}

static int parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

int volt__sim_faults_parse(const char *spec, struct volt__sim_faults *out)
{
	struct volt__sim_faults f = {
		.delay_max_ns = DEFAULT_DELAY_MAX_NS,
		.reset_ops = DEFAULT_RESET_OPS,
		.cap = DEFAULT_CAP,
	};
	char buf[512], *save = NULL;

	if (spec && strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec ? spec : "");
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		uint64_t n = 0;
		int ret = -EINVAL;

		if (!v)
			return -EINVAL;
		*v++ = '\0';
		if (!strcmp(kv, "delay"))
			ret = parse_prob(v, &f.delay);
		else if (!strcmp(kv, "short"))
			ret = parse_prob(v, &f.shortio);
		else if (!strcmp(kv, "reset"))
			ret = parse_prob(v, &f.reset);
		else if (!strcmp(kv, "refuse"))
			ret = parse_prob(v, &f.refuse);
		else if (!strcmp(kv, "drop"))
			ret = parse_prob(v, &f.drop);
		else if (!strcmp(kv, "delay_us") && !(ret = parse_u64(v, 1, 60000000, &n)))
			f.delay_max_ns = n * 1000;
		else if (!strcmp(kv, "reset_ops") && !(ret = parse_u64(v, 1, 1000000, &n)))
			f.reset_ops = (uint32_t)n;
		else if (!strcmp(kv, "cap") && !(ret = parse_u64(v, 1, 1 << 26, &n)))
			f.cap = (size_t)n;
		if (ret)
			return -EINVAL;
	}
	*out = f;
	return 0;
}

int volt__sim_world_init(struct volt__sim_world *w, struct volt_rt *rt, uint64_t seed,
			 const struct volt__sim_faults *f)
{
	memset(w, 0, sizeof(*w));
	if (pthread_mutex_init(&w->lock, NULL))
		return -ENOMEM;
	w->rt = rt;
	w->seed = seed;
	w->rng = volt__rng_stream(seed, 0x5eed);
	w->f = *f;
	w->st.hash = 0xcbf29ce484222325ull; /* FNV offset basis; the seed is not mixed in */
	w->next_port = PORT_FIRST;
	w->first_listener = -1;
	volt__sim_clock(w);
	return 0;
}

void volt__sim_world_fini(struct volt__sim_world *w)
{
	volt__sim_peers_fini(w);
	for (size_t i = 0; i < w->nsocks; i++)
		if (w->socks[i])
			(void)volt__sim_close(w, VOLT__SIM_FD_BASE + (int)i);
	for (size_t i = 0; i < w->nconns; i++) {
		struct volt__sim_conn *c = w->conns[i];

		if (c) {
			pipe_clear(&c->pipe[0]);
			pipe_clear(&c->pipe[1]);
			free(c);
		}
	}
	/* wakers left behind belong to operations long dropped: let them go */
	for (size_t i = 0; i < w->nwakes; i++)
		volt_waker_drop(&w->wakes[i]);
	free(w->wakes);
	free(w->socks);
	free(w->conns);
	free(w->heap);
	pthread_mutex_destroy(&w->lock);
}
