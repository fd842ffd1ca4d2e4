/* SPDX-License-Identifier: MIT */
/* core/idle.h: which workers sleep and which search; see core/idle.c. */
#ifndef VOLT_CORE_IDLE_H
#define VOLT_CORE_IDLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/atomic.h"

struct volt_rt;

struct volt__idle {
	/* low 32 bits: workers not asleep; high 32 bits: workers searching */
	VOLT__ALIGNED_LINE _Atomic uint64_t state;
	VOLT__ALIGNED_LINE pthread_mutex_t lock;
	uint64_t sleeping; /* bitmap of sleeping workers, under lock */
	unsigned nworkers;
	unsigned max_searching;
	bool cap_busy; /* cap searchers at half the awake workers (Go) */
};

int volt__idle_init(struct volt__idle *idle, unsigned nworkers, unsigned max_searching,
		    bool cap_busy);
void volt__idle_fini(struct volt__idle *idle);

/* After making work available: wake a sleeper unless someone is searching. */
void volt__idle_notify(struct volt_rt *rt);

/* Enter searching if fewer than max_searching workers search; true if entered. */
bool volt__idle_begin_search(struct volt__idle *idle);
/* Leave searching; true if this was the last searcher. */
bool volt__idle_end_search(struct volt__idle *idle);

/* Announce that worker w is going to sleep; true if every other worker already sleeps. */
bool volt__idle_sleep(struct volt__idle *idle, unsigned w);
/* Take the announcement back; false if a notifier already claimed w. */
bool volt__idle_cancel_sleep(struct volt__idle *idle, unsigned w);

/* Wake every sleeping worker (shutdown). */
void volt__idle_wake_all(struct volt_rt *rt);

#endif /* VOLT_CORE_IDLE_H */
