/* SPDX-License-Identifier: MIT */
/*
 * drivers/sim.c: `sim`, the I/O driver of the deterministic simulation
 * (docs/simulation.md). Its sockets live in an in-memory world
 * (drivers/sim_world.c) with seeded delays, short transfers, resets,
 * refusals and aborted accepts (VOLT_SIM_FAULTS), and scripted clients
 * (drivers/sim_peers.c, VOLT_SIM_PEERS); no kernel socket is ever made.
 *
 * Selected by name only (VOLT_DRIVER=sim, cfg.driver = "sim", an example's
 * --driver sim): drivers/registry.c finds it but does not list it, since
 * what iterates the list (the network tests, the harness) needs real
 * sockets. It runs under any policy and either clock; a run is a pure
 * function of VOLT_SEED under the `sim` policy on the virtual clock (the
 * default clock of that policy), which this driver documents rather than
 * enforces: the tests also run it under every other policy, real threads
 * and the real clock, to check that it is a correct driver.
 *
 * The system calls. The driver's `sys` table puts every socket call of
 * net/ and drivers/{syscalls,source}.c on the world: each locks the world,
 * reads the clock, makes the call, unlocks, then wakes what the call made
 * ready (wakers are never run under the world's lock).
 *
 * Operations are readiness-based, as epoll's: op_poll tries the call
 * (drivers/syscalls.c, through the table); on -EAGAIN it registers the
 * waker on the simulated socket, unless the socket changed since the
 * attempt (its change count moved), in which case it tries again: a change
 * between the attempt and the registration is never slept through.
 *
 * Time. Whatever the world does later (a chunk arriving after its delay, a
 * connect arriving, a peer's timer) is an event on the runtime's clock.
 * poll(deadline) runs the events that are due; if none woke anything it
 * waits, on a condition variable, for unpark, the deadline, or (on the
 * real clock) the next event. The virtual clock asks next_event before it
 * jumps (core/timers.c: min(next timer, next event)), and nothing is ever
 * "in flight" outside the process, so volt__io_hold_clock never holds it.
 * An event made by a thread outside the runtime (a plain thread's blocking
 * connect) unparks a worker (volt__idle_notify) so that the clock looks
 * again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rt.h"
#include "drivers/sim.h"

/* The final statistics of the last world freed (volt__sim_last_stats). */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct volt__sim_stats last_stats;
static bool have_last;

struct volt__driver {
	struct volt_rt *rt;
	struct volt__sim_world w;
	bool virtual_clock;
	pthread_mutex_t park_lock; /* the poller's wait */
	pthread_cond_t park_cond;
	bool kicked;               /* unpark was called */
	bool rearm;                /* an earlier event: look at the clock again */
};

/* -------------------------------------------------------- the world's lock */

static struct volt__sim_world *enter(struct volt__driver *d)
{
	pthread_mutex_lock(&d->w.lock);
	volt__sim_clock(&d->w);
	return &d->w;
}

/* Unlocks, then wakes what the calls made ready: returns how many. */
static size_t leave(struct volt__driver *d)
{
	struct volt__sim_world *w = &d->w;
	struct volt_waker *wakes = w->wakes;
	size_t n = w->nwakes;
	bool earlier = w->earlier;

	if (n) {
		w->wakes = NULL;
		w->nwakes = w->capwakes = 0;
	}
	w->earlier = false;
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < n; i++)
		volt_waker_wake(&wakes[i]);
	free(wakes);
	if (earlier) {
		pthread_mutex_lock(&d->park_lock);
		d->rearm = true;
		pthread_cond_signal(&d->park_cond);
		pthread_mutex_unlock(&d->park_lock);
		/* acquire: pairs with the release store in volt_rt_free */
		if (!volt__worker_of(d->rt) && !volt__load(&d->rt->shutdown, ACQUIRE))
			volt__idle_notify(d->rt);
	}
	return n;
}

/* ------------------------------------------------- the system-call table */

static int s_socket(struct volt__driver *d, int domain, int type, int protocol)
{
	(void)protocol;
	int r = volt__sim_socket(enter(d), domain, type, 0);

	leave(d);
	return r;
}

static int s_bind(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	int r = volt__sim_bind(enter(d), fd, a, len);

	leave(d);
	return r;
}

static int s_listen(struct volt__driver *d, int fd, int backlog)
{
	int r = volt__sim_listen(enter(d), fd, backlog);

	leave(d);
	return r;
}

static int s_accept4(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len,
		     int flags)
{
	(void)flags;
	int r = volt__sim_accept(enter(d), fd, a, len);

	leave(d);
	return r;
}

static int s_connect(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	int r = volt__sim_connect(enter(d), fd, a, len);

	leave(d);
	return r;
}

/* A stream ignores the address arguments, as TCP does. */
static ssize_t s_recvfrom(struct volt__driver *d, int fd, void *buf, size_t len, int flags,
			  struct sockaddr *a, socklen_t *alen)
{
	(void)a;
	(void)alen;
	ssize_t r = volt__sim_recv(enter(d), fd, buf, len, flags);

	leave(d);
	return r;
}

static ssize_t s_sendto(struct volt__driver *d, int fd, const void *buf, size_t len, int flags,
			const struct sockaddr *a, socklen_t alen)
{
	(void)flags;
	(void)a;
	(void)alen;
	ssize_t r = volt__sim_send(enter(d), fd, buf, len);

	leave(d);
	return r;
}

static ssize_t s_read(struct volt__driver *d, int fd, void *buf, size_t len)
{
	return s_recvfrom(d, fd, buf, len, 0, NULL, NULL);
}

static ssize_t s_write(struct volt__driver *d, int fd, const void *buf, size_t len)
{
	return s_sendto(d, fd, buf, len, 0, NULL, 0);
}

static int s_shutdown(struct volt__driver *d, int fd, int how)
{
	int r = volt__sim_shutdown(enter(d), fd, how);

	leave(d);
	return r;
}

static int s_close(struct volt__driver *d, int fd)
{
	int r = volt__sim_close(enter(d), fd);

	leave(d);
	return r;
}

static int s_getsockname(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	int r = volt__sim_name(enter(d), fd, false, a, len);

	leave(d);
	return r;
}

static int s_getpeername(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	int r = volt__sim_name(enter(d), fd, true, a, len);

	leave(d);
	return r;
}

static int s_setsockopt(struct volt__driver *d, int fd, int level, int name, const void *v,
			socklen_t len)
{
	int r = volt__sim_setsockopt(enter(d), fd, level, name, v, len);

	leave(d);
	return r;
}

static int s_getsockopt(struct volt__driver *d, int fd, int level, int name, void *v,
			socklen_t *len)
{
	int r = volt__sim_getsockopt(enter(d), fd, level, name, v, len);

	leave(d);
	return r;
}

static const struct volt__sys sim_sys = {
	.name = "sim",
	.socket = s_socket,
	.bind = s_bind,
	.listen = s_listen,
	.accept4 = s_accept4,
	.connect = s_connect,
	.recvfrom = s_recvfrom,
	.sendto = s_sendto,
	.read = s_read,
	.write = s_write,
	.shutdown = s_shutdown,
	.close = s_close,
	.getsockname = s_getsockname,
	.getpeername = s_getpeername,
	.setsockopt = s_setsockopt,
	.getsockopt = s_getsockopt,
};

/* ------------------------------------------------------------ the driver */

static int sim_init(struct volt_rt *rt, struct volt__driver **out)
{
	const char *faults = getenv("VOLT_SIM_FAULTS"), *peers = getenv("VOLT_SIM_PEERS");
	struct volt__sim_faults f;
	pthread_condattr_t ca;
	int ret;

	if (volt__sim_faults_parse(faults, &f)) {
		fprintf(stderr, "sim: bad VOLT_SIM_FAULTS \"%s\" (see docs/simulation.md)\n",
			faults);
		return -EINVAL;
	}

	struct volt__driver *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->rt = rt;
	d->virtual_clock = rt->cfg.clock == VOLT_CLOCK_VIRTUAL;
	ret = volt__sim_world_init(&d->w, rt, rt->seed, &f);
	if (ret) {
		free(d);
		return ret;
	}
	ret = volt__sim_peers_new(&d->w, peers);
	if (ret) {
		if (ret == -EINVAL)
			fprintf(stderr, "sim: bad VOLT_SIM_PEERS \"%s\" (see docs/simulation.md)\n",
				peers);
		volt__sim_world_fini(&d->w);
		free(d);
		return ret;
	}
	ret = pthread_condattr_init(&ca);
	if (!ret) {
		ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (!ret)
			ret = pthread_cond_init(&d->park_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (!ret && (ret = pthread_mutex_init(&d->park_lock, NULL)) != 0)
		pthread_cond_destroy(&d->park_cond);
	if (ret) {
		volt__sim_world_fini(&d->w);
		free(d);
		return -ret;
	}
	*out = d;
	return 0;
}

static void sim_fini(struct volt__driver *d)
{
	struct volt__sim_world *w = &d->w;
	bool report = w->peers != NULL;

	volt__sim_world_drain(w); /* the bytes in flight reach the peers */
	volt__sim_peers_fini(w);  /* peers that did not finish count as errors */
	pthread_mutex_lock(&last_lock);
	last_stats = w->st;
	have_last = true;
	pthread_mutex_unlock(&last_lock);
	if (report)
		fprintf(stderr,
			"sim: seed %llu: %llu connections, %llu bytes checked, %llu resets, "
			"%llu faults, %llu errors, hash %016llx\n",
			(unsigned long long)w->seed, (unsigned long long)w->st.connections,
			(unsigned long long)w->st.bytes_checked, (unsigned long long)w->st.resets,
			(unsigned long long)w->st.faults, (unsigned long long)w->st.errors,
			(unsigned long long)w->st.hash);
	volt__sim_world_fini(w);
	pthread_cond_destroy(&d->park_cond);
	pthread_mutex_destroy(&d->park_lock);
	free(d);
}

static int sim_attach(struct volt__driver *d, struct volt__source *s)
{
	bool ours = volt__sim_sock(enter(d), s->fd) != NULL;

	leave(d);
	return ours ? 0 : -EBADF;
}

static void sim_cancel(struct volt__driver *d, struct volt__source *s)
{
	struct volt__sim_world *w = enter(d);
	struct volt__sim_sock *sk = volt__sim_sock(w, s->fd);

	if (sk)
		volt__sim_wake_all(w, sk);
	leave(d);
}

/* Takes op's waiter off its socket (if still there) and drops its waker. */
static void unwait(struct volt__driver *d, struct volt_io_op *op)
{
	struct volt__source *s = op->source;
	struct volt_waker stale = { NULL, NULL };
	struct volt__sim_world *w = enter(d);
	struct volt__sim_sock *sk = volt__sim_sock(w, s->fd);

	if (sk) {
		volt__sim_unwait(sk, volt__op_dir(op), &op->waiter, &stale);
	} else {
		stale = op->waiter.waker;
		op->waiter.waker.ops = NULL;
	}
	leave(d);
	volt_waker_drop(&stale);
}

static enum volt_poll sim_op_poll(struct volt__driver *d, struct volt_io_op *op,
				  struct volt_cx *cx)
{
	struct volt__source *s = op->source;

	if (op->opcode >= VOLT__OP_POLL) { /* no pidfds or files in the world */
		op->result = -EOPNOTSUPP;
		return VOLT_READY;
	}
	for (;;) {
		if (volt__source_closing(s)) {
			op->result = -ECANCELED;
			break;
		}
		struct volt__sim_world *w = enter(d);
		struct volt__sim_sock *sk = volt__sim_sock(w, s->fd);
		uint64_t seen = sk ? volt__sim_changes(sk) : 0;

		leave(d);
		if (!sk) {
			op->result = -EBADF;
			break;
		}
		ssize_t n = volt__io_syscall(s, op);

		if (n != -EAGAIN) {
			op->result = n;
			break;
		}
		w = enter(d);
		sk = volt__sim_sock(w, s->fd); /* still there: op holds the source */
		if (sk && volt__sim_changes(sk) == seen && !volt__source_closing(s)) {
			volt__sim_wait(w, sk, volt__op_dir(op), &op->waiter, &cx->waker);
			leave(d);
			return VOLT_PENDING;
		}
		leave(d); /* it changed meanwhile: try again */
	}
	unwait(d, op);
	return VOLT_READY;
}

static void sim_op_drop(struct volt__driver *d, struct volt_io_op *op)
{
	unwait(d, op);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sim_poll(struct volt__driver *d, uint64_t deadline_ns)
{
	size_t woken = 0;

	for (;;) {
		struct volt__sim_world *w = enter(d);

		volt__sim_run_due(w);

		uint64_t next = volt__sim_next_event(w);

		woken += leave(d);
		if (woken || deadline_ns == 0)
			break;

		/* nothing woke: wait for unpark, the deadline, or (real clock) the next event */
		uint64_t until = deadline_ns;
		bool kicked, timed_out = false;

		if (!d->virtual_clock && next < until)
			until = next;
		pthread_mutex_lock(&d->park_lock);
		while (!d->kicked && !d->rearm && !timed_out) {
			if (until == UINT64_MAX) {
				pthread_cond_wait(&d->park_cond, &d->park_lock);
			} else if (monotonic_ns() >= until) {
				timed_out = true;
			} else {
				struct timespec ts = { (time_t)(until / 1000000000ull),
						       (long)(until % 1000000000ull) };

				(void)pthread_cond_timedwait(&d->park_cond, &d->park_lock, &ts);
			}
		}
		kicked = d->kicked;
		d->kicked = d->rearm = false;
		pthread_mutex_unlock(&d->park_lock);
		if (kicked || (deadline_ns != UINT64_MAX && monotonic_ns() >= deadline_ns)) {
			w = enter(d);
			volt__sim_run_due(w);
			woken += leave(d);
			break;
		}
		/* an earlier event, or the next event's time came: look again */
	}
	return woken > INT32_MAX ? INT32_MAX : (int)woken;
}

static void sim_unpark(struct volt__driver *d)
{
	pthread_mutex_lock(&d->park_lock);
	d->kicked = true;
	pthread_cond_signal(&d->park_cond);
	pthread_mutex_unlock(&d->park_lock);
}

static uint64_t sim_next_event(struct volt__driver *d)
{
	uint64_t next = volt__sim_next_event(enter(d));

	leave(d);
	return next;
}

const struct volt__driver_ops volt__driver_sim = {
	.name = "sim",
	.init = sim_init,
	.fini = sim_fini,
	.attach = sim_attach,
	.cancel = sim_cancel,
	.op_poll = sim_op_poll,
	.op_drop = sim_op_drop,
	.poll = sim_poll,
	.unpark = sim_unpark,
	.flush = NULL,
	.has_events = NULL,
	.sys = &sim_sys,
	.next_event = sim_next_event,
};

int volt__sim_stats(struct volt_rt *rt, struct volt__sim_stats *out)
{
	if (!rt || !out || rt->io.ops != &volt__driver_sim)
		return -EINVAL;

	struct volt__driver *d = rt->io.drv;

	pthread_mutex_lock(&d->w.lock);
	*out = d->w.st;
	out->peers_left = volt__sim_peers_left(&d->w);
	pthread_mutex_unlock(&d->w.lock);
	return 0;
}

int volt__sim_last_stats(struct volt__sim_stats *out)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&last_lock);
	if (have_last) {
		*out = last_stats;
		ret = 0;
	}
	pthread_mutex_unlock(&last_lock);
	return ret;
}
