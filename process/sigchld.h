/* SPDX-License-Identifier: MIT */
/*
 * process/sigchld.h: one SIGCHLD subscription per runtime, fanned out to
 * every child reaper that has no pidfd (process/sigchld.c).
 *
 * volt/signal.h hands each delivery to one recv of a subscription, and a
 * subscription per child would change the runtime's signalfd mask with
 * every spawn and exit. So a runtime has one subscription, made the first
 * time a child needs it and kept until the runtime shuts down, read by one
 * task that counts deliveries in `gen` and wakes every waiter. A reaper
 * reads the generation, then tries waitid, then awaits a newer generation:
 * an exit after the read is never missed.
 */
#ifndef VOLT_PROCESS_SIGCHLD_H
#define VOLT_PROCESS_SIGCHLD_H

#include <volt.h>

struct volt__sigchld;

/*
 * rt's broadcaster, made on first use (which blocks SIGCHLD in the calling
 * thread: volt/signal.h), with a reference for the caller; NULL if it
 * cannot be had (no signals on this runtime, -ENOMEM...).
 */
struct volt__sigchld *volt__sigchld_get(struct volt_rt *rt);
void volt__sigchld_put(struct volt__sigchld *b);

/* Deliveries counted so far. */
uint64_t volt__sigchld_gen(struct volt__sigchld *b);

/* Ready once the count has moved past `seen` (or the broadcaster is gone). */
struct volt__sigchld_wait {
	struct volt_future base;
	struct volt__sigchld *b;
	struct volt_waiter waiter;
	uint64_t seen;
};

struct volt_future *volt__sigchld_wait(struct volt__sigchld_wait *w, struct volt__sigchld *b,
				       uint64_t seen);

#endif /* VOLT_PROCESS_SIGCHLD_H */
