/* SPDX-License-Identifier: MIT */
/*
 * core/io.h: the I/O driver's place in the runtime (core/io.c).
 */
#ifndef VOLT_CORE_IO_H
#define VOLT_CORE_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/atomic.h"
#include "drivers/source.h"

struct volt__worker;

#define VOLT__IO_NOBODY (-1)
#define VOLT__IO_MAINT (-2) /* held by a non-waiting poll */

struct volt__io {
	const struct volt__driver_ops *ops;
	struct volt__driver *drv;
	const struct volt__sys *sys;           /* drivers/sys.h: its sockets' calls */
	VOLT__ALIGNED_LINE _Atomic int poller; /* worker waiting in the driver, or above */
	_Atomic uint64_t events;               /* operations woken by polls so far */
	_Atomic int64_t pending;               /* operations waiting on the driver */
	_Atomic uint64_t events_seen;          /* virtual clock: events at its last look */
	struct volt__sources sources;
};

/* Picks rt->cfg.driver ("auto": uring, else epoll when the kernel refuses). */
int volt__io_init(struct volt_rt *rt);
void volt__io_fini(struct volt_rt *rt);

/*
 * Parks worker w until its token arrives or `until` (as volt__park_until):
 * inside the driver if w can take the poll role, else on its futex.
 * True if a token was consumed.
 */
bool volt__io_park(struct volt_rt *rt, struct volt__worker *w, uint64_t until);

/* Polls the driver without waiting, if nobody else is: true if tasks woke. */
bool volt__io_poll_now(struct volt_rt *rt);

/* Unparks worker k, wherever it sleeps (its futex or the driver). */
void volt__worker_unpark(struct volt_rt *rt, unsigned k);

/*
 * Virtual clock: true if operations are pending and events arrived since
 * the last call, so the clock should wait (1 ms of real time) for more.
 */
bool volt__io_hold_clock(struct volt_rt *rt);

/* Counts an operation into or out of io->pending. */
void volt__io_pending(struct volt_rt *rt, int delta);

/*
 * Virtual clock: the time (rt's clock) of the next event the driver will
 * make happen by itself (the sim driver's network), UINT64_MAX if none.
 */
uint64_t volt__io_next_event(struct volt_rt *rt);

/* True if the driver has completions to reap, known without a system call. */
bool volt__io_has_events(struct volt_rt *rt);

/* Submits what the driver batched (uring); a no-op for epoll. */
void volt__io_flush(struct volt_rt *rt);

#endif /* VOLT_CORE_IO_H */
