/* SPDX-License-Identifier: MIT */
/*
 * drivers/epoll.c: the readiness backend.
 *
 * Every descriptor is registered once, edge-triggered, for both directions.
 * An operation tries its system call first; on EAGAIN it clears the
 * direction's readiness bit and waits for the next edge. The bit lives in
 * the source's `ready` word next to a tick that every event advances, and
 * is cleared only by a compare-and-swap against the word read *before* the
 * call: if an event arrived while the call ran, the tick moved, the CAS
 * fails and the operation tries again instead of sleeping through the
 * readiness it just missed (Tokio's ScheduledIo does the same).
 *
 * Waiting operations are intrusive waiters on the source (one list per
 * direction, under the source's lock); an event moves their wakers out and
 * wakes them after the lock is released. Closing a source wakes them all;
 * they find CLOSING set and complete with -ECANCELED.
 *
 * epoll_ctl and the waits go through the runtime's system-call table
 * (drivers/sys.h), so a fault shim can fail them: a failed registration
 * fails the operation that made the descriptor, and a wait that fails
 * (EINTR) dispatches nothing and is simply called again by its poller.
 * The eventfd behind unpark is the driver's own and stays a plain call.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/rt.h"
#include "core/waitlist.h"
#include "drivers/source.h"

#define MAX_EVENTS 256
#define UNPARK_TAG UINT64_MAX
#define TICK_ONE 0x100u

/* d's runtime's table's `call` (set before init runs: core/io.c). */
#define SYS(d, call, ...) ((d)->rt->io.sys->call((d), __VA_ARGS__))

struct volt__driver {
	struct volt_rt *rt;
	int epfd;
	int evfd;
	bool no_pwait2; /* epoll_pwait2 said ENOSYS: epoll_wait from then on */
	struct epoll_event events[MAX_EVENTS]; /* used by the poll-role holder only */
};

static int epoll_init(struct volt_rt *rt, struct volt__driver **out)
{
	struct volt__driver *d = calloc(1, sizeof(*d));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = UNPARK_TAG };
	int ret = 0;

	if (!d)
		return -ENOMEM;
	d->rt = rt;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->evfd = d->epfd < 0 ? -1 : eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->epfd < 0 || d->evfd < 0)
		ret = -errno;
	else
		ret = SYS(d, epoll_ctl, d->epfd, EPOLL_CTL_ADD, d->evfd, &ev);
	if (ret) {
		if (d->evfd >= 0)
			close(d->evfd);
		if (d->epfd >= 0)
			close(d->epfd);
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

static void epoll_fini(struct volt__driver *d)
{
	close(d->evfd);
	close(d->epfd);
	free(d);
}

static int epoll_attach(struct volt__driver *d, struct volt__source *s)
{
	/* relaxed: the slot is not published yet */
	uint64_t gen = volt__source_gen(volt__load(&s->state, RELAXED));
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.u64 = (uint64_t)s->index << 32 | gen,
	};

	return SYS(d, epoll_ctl, d->epfd, EPOLL_CTL_ADD, s->fd, &ev);
}

/* Wakes every waiter of the directions in `dirs`; 1 if there was one. */
static int wake_waiters(struct volt__source *s, unsigned dirs)
{
	int any = 0;

	pthread_mutex_lock(&s->lock);
	for (unsigned d = 0; d < 2; d++) {
		if ((dirs & (1u << d)) && s->waiters[d].head) {
			any = 1;
			volt__waitlist_wake_all(&s->waiters[d], &s->lock, 1);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return any;
}

static void epoll_cancel(struct volt__driver *d, struct volt__source *s)
{
	(void)d;
	wake_waiters(s, VOLT__READABLE | VOLT__WRITABLE);
}

static void unwait(struct volt__source *s, struct volt_io_op *op)
{
	struct volt_waker stale = { NULL, NULL };

	pthread_mutex_lock(&s->lock);
	if (op->waiter.linked)
		volt__waitlist_remove(&s->waiters[volt__op_dir(op) - 1], &op->waiter);
	stale = op->waiter.waker;
	op->waiter.waker.ops = NULL;
	pthread_mutex_unlock(&s->lock);
	volt_waker_drop(&stale);
}

static enum volt_poll epoll_op_poll(struct volt__driver *d, struct volt_io_op *op,
				    struct volt_cx *cx)
{
	struct volt__source *s = op->source;
	unsigned dir = volt__op_dir(op);

	(void)d;
	for (;;) {
		if (volt__source_closing(s)) {
			op->result = -ECANCELED;
			break;
		}
		/* acquire: pairs with the event's release; the tick is the guard */
		uint32_t r = volt__load(&s->ready, ACQUIRE);

		if (!(r & dir)) {
			pthread_mutex_lock(&s->lock);
			volt__waiter_set_waker(&op->waiter, &cx->waker);
			if (!op->waiter.linked)
				volt__waitlist_push(&s->waiters[dir - 1], &op->waiter);
			pthread_mutex_unlock(&s->lock);
			/* an event between the load and the push would be lost: look again */
			if (!(volt__load(&s->ready, ACQUIRE) & dir) && !volt__source_closing(s))
				return VOLT_PENDING;
			continue;
		}
		ssize_t n = volt__io_syscall(s, op);

		if (n != -EAGAIN) {
			op->result = n;
			break;
		}
		/* clear readiness only if no event came since r was read */
		(void)volt__cas_strong(&s->ready, &r, r & ~dir, ACQ_REL, RELAXED);
	}
	unwait(s, op);
	return VOLT_READY;
}

static void epoll_op_drop(struct volt__driver *d, struct volt_io_op *op)
{
	(void)d;
	unwait(op->source, op);
}

static int dispatch(struct volt__driver *d, const struct epoll_event *ev)
{
	if (ev->data.u64 == UNPARK_TAG) {
		uint64_t v;

		while (read(d->evfd, &v, sizeof(v)) < 0 && errno == EINTR)
			;
		return 0;
	}
	struct volt_handle h = { d->rt, (uint32_t)(ev->data.u64 >> 32), (uint32_t)ev->data.u64 };
	struct volt__source *s = volt__source_get(h); /* NULL: closed since */

	if (!s)
		return 0;
	unsigned dirs = 0;

	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		dirs |= VOLT__READABLE;
	if (ev->events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		dirs |= VOLT__WRITABLE;
	/* relaxed: the RMW below publishes */
	uint32_t r = volt__load(&s->ready, RELAXED);

	while (!volt__cas(&s->ready, &r, (r + TICK_ONE) | dirs, ACQ_REL, RELAXED))
		;
	int n = wake_waiters(s, dirs);

	volt__source_put(s);
	return n;
}

static int epoll_poll(struct volt__driver *d, uint64_t deadline_ns)
{
	struct timespec ts = { 0, 0 }, *tsp = &ts;
	int n, woken = 0;

	if (deadline_ns == UINT64_MAX) {
		tsp = NULL;
	} else if (deadline_ns) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		uint64_t left = deadline_ns > t ? deadline_ns - t : 0;

		ts.tv_sec = (time_t)(left / 1000000000ull);
		ts.tv_nsec = (long)(left % 1000000000ull);
	}
	n = d->no_pwait2 ? -ENOSYS : SYS(d, epoll_pwait2, d->epfd, d->events, MAX_EVENTS, tsp);
	if (n == -ENOSYS) {
		/* before 5.11, or under valgrind 3.19: ms resolution, rounded up */
		d->no_pwait2 = true;
		long long ms = tsp ? (long long)ts.tv_sec * 1000 + (ts.tv_nsec + 999999) / 1000000 : -1;

		n = SYS(d, epoll_wait, d->epfd, d->events, MAX_EVENTS,
			ms > INT_MAX ? INT_MAX : (int)ms);
	}
	/* n < 0 (EINTR): nothing to dispatch; the poller calls again */
	for (int i = 0; i < n; i++)
		woken += dispatch(d, &d->events[i]);
	return woken;
}

static void epoll_unpark(struct volt__driver *d)
{
	uint64_t one = 1;

	while (write(d->evfd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

const struct volt__driver_ops volt__driver_epoll = {
	.name = "epoll",
	.init = epoll_init,
	.fini = epoll_fini,
	.attach = epoll_attach,
	.cancel = epoll_cancel,
	.op_poll = epoll_op_poll,
	.op_drop = epoll_op_drop,
	.poll = epoll_poll,
	.unpark = epoll_unpark,
	.flush = NULL,
	.has_events = NULL, /* only epoll_wait can tell */
};
