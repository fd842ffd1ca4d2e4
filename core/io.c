/* SPDX-License-Identifier: MIT */
/*
 * core/io.c: the I/O driver's place in the runtime.
 *
 * One driver per runtime, chosen by name (cfg.driver, VOLT_DRIVER): `auto`
 * tries io_uring and falls back to epoll when the kernel refuses it
 * (io_uring_disabled, ENOSYS, EPERM...); volt_rt_driver() says which runs.
 *
 * Who polls. One thread at a time holds the poll role (`poller`):
 * - a worker about to park takes it if it is free and parks *inside* the
 *   driver (epoll_wait / io_uring_enter) with the timer deadline the
 *   timekeeper protocol gave it (core/timers.c); other parkers sleep on
 *   their futex. Events wake their tasks straight onto this worker's queue.
 * - a busy worker polls without waiting every cfg.event_interval tasks and
 *   once before it parks (VOLT__IO_MAINT), so events are not starved while
 *   every worker is busy (Tokio's maintenance tick does the same).
 * This is Tokio's design (the driver behind a try-lock, parked in by one
 * worker); per-worker rings and a dedicated I/O thread are the other two
 * choices, discussed in docs/networking.md.
 *
 * Waking the worker in the driver. A notifier deposits the worker's futex
 * token as always (core/futex.h), then, if that worker holds the poll role,
 * interrupts the driver (an eventfd write). Store-buffering again: the
 * poller stores `poller` then exchanges its token word; the notifier
 * exchanges the token word then loads `poller`; both sequentially
 * consistent, so at least one sees the other and no wake-up is lost.
 *
 * The virtual clock (VOLT_CLOCK=virtual) jumps to the next deadline when
 * every worker is idle; with operations pending on real sockets it first
 * waits until 1 ms of real time passes with no event, so a timeout on a
 * loopback read does not fire before the bytes that are on their way. A
 * driver with next_event (sim) has no bytes on their way outside the
 * process: the clock never waits for it, and jumps no further than its
 * next event.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/futex.h"
#include "core/io.h"
#include "core/rt.h"

static bool refused(int err)
{
	return err == -ENOSYS || err == -EPERM || err == -EACCES || err == -EOPNOTSUPP ||
	       err == -EINVAL || err == -ENOMEM;
}

/* The table of system calls is set first: a driver's init may use it. */
static int driver_init(struct volt_rt *rt, const struct volt__driver_ops *ops)
{
	rt->io.ops = ops;
	rt->io.sys = ops->sys ? ops->sys : volt__sys_process();
	return ops->init(rt, &rt->io.drv);
}

int volt__io_init(struct volt_rt *rt)
{
	struct volt__io *io = &rt->io;
	const char *name = rt->cfg.driver ? rt->cfg.driver : "auto";
	bool fallback = strcmp(name, "auto") == 0;
	int ret;

	atomic_init(&io->poller, VOLT__IO_NOBODY);
	atomic_init(&io->events, 0);
	atomic_init(&io->pending, 0);
	atomic_init(&io->events_seen, UINT64_MAX);
	ret = volt__sources_init(&io->sources);
	if (ret)
		return ret;
	io->ops = volt__driver_find(fallback ? "uring" : name);
	if (!io->ops) {
		volt__sources_fini(&io->sources);
		return -EINVAL;
	}
	ret = driver_init(rt, io->ops);
	if (ret && fallback && refused(ret))
		ret = driver_init(rt, &volt__driver_epoll);
	if (ret) {
		io->ops = NULL;
		volt__sources_fini(&io->sources);
		return ret;
	}
	rt->cfg.driver = io->ops->name;
	return 0;
}

void volt__io_fini(struct volt_rt *rt)
{
	struct volt__io *io = &rt->io;

	if (!io->ops)
		return;
	volt__sources_close_all(rt, &io->sources);
	io->ops->fini(io->drv); /* lets go of the sources its operations held */
	io->ops = NULL;
	volt__sources_fini(&io->sources);
}

static void count_events(struct volt__io *io, int n)
{
	/* relaxed: a statistic the virtual clock samples; no data hangs off it */
	if (n > 0)
		volt__fetch_add(&io->events, (uint64_t)n, RELAXED);
}

bool volt__io_park(struct volt_rt *rt, struct volt__worker *w, uint64_t until)
{
	struct volt__io *io = &rt->io;
	int nobody = VOLT__IO_NOBODY;
	bool token = false;

	if (!volt__cas_strong(&io->poller, &nobody, (int)w->idx, SEQ_CST, RELAXED))
		return volt__park_until(&w->park, until);
	for (;;) {
		/* seq_cst: the store-buffering argument above */
		if (volt__xchg(&w->park, 0, SEQ_CST)) {
			token = true;
			break;
		}
		uint64_t now = 0;

		if (until != UINT64_MAX) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			if (now >= until)
				break;
		}
		int n = io->ops->poll(io->drv, until);

		count_events(io, n);
		if (n > 0)
			break;
	}
	volt__store(&io->poller, VOLT__IO_NOBODY, SEQ_CST);
	return token;
}

bool volt__io_poll_now(struct volt_rt *rt)
{
	struct volt__io *io = &rt->io;
	int nobody = VOLT__IO_NOBODY;

	/* relaxed: a failed peek only skips this pass; the CAS decides */
	if (volt__load(&io->poller, RELAXED) != VOLT__IO_NOBODY ||
	    !volt__cas_strong(&io->poller, &nobody, VOLT__IO_MAINT, ACQUIRE, RELAXED)) {
		if (io->ops->flush)
			io->ops->flush(io->drv);
		return false;
	}
	int n = io->ops->poll(io->drv, 0);

	count_events(io, n);
	/* release: the next poller sees the driver state this pass left */
	volt__store(&io->poller, VOLT__IO_NOBODY, RELEASE);
	return n > 0;
}

void volt__worker_unpark(struct volt_rt *rt, unsigned k)
{
	struct volt__io *io = &rt->io;

	volt__unpark(&rt->workers[k].park);
	if (!io->ops)
		return;
	volt__fence_sc(); /* the store-buffering argument above */
	/* relaxed: ordered by the fence */
	if (volt__load(&io->poller, RELAXED) == (int)k)
		io->ops->unpark(io->drv);
}

bool volt__io_hold_clock(struct volt_rt *rt)
{
	struct volt__io *io = &rt->io;

	/* relaxed: both are samples; a stale one delays the clock by 1 ms at most.
	 * A driver that knows its next event (sim) has nothing in flight outside. */
	if (!io->ops || io->ops->next_event || volt__load(&io->pending, RELAXED) <= 0)
		return false;
	uint64_t seen = volt__load(&io->events, RELAXED);

	return volt__xchg(&io->events_seen, seen, RELAXED) != seen;
}

void volt__io_pending(struct volt_rt *rt, int delta)
{
	/* relaxed: a count the virtual clock samples */
	volt__fetch_add(&rt->io.pending, delta, RELAXED);
}

uint64_t volt__io_next_event(struct volt_rt *rt)
{
	struct volt__io *io = &rt->io;

	return io->ops && io->ops->next_event ? io->ops->next_event(io->drv) : UINT64_MAX;
}

bool volt__io_has_events(struct volt_rt *rt)
{
	return rt->io.ops && rt->io.ops->has_events && rt->io.ops->has_events(rt->io.drv);
}

void volt__io_flush(struct volt_rt *rt)
{
	if (rt->io.ops && rt->io.ops->flush)
		rt->io.ops->flush(rt->io.drv);
}
