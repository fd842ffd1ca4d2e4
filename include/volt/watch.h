/* SPDX-License-Identifier: MIT */
/*
 * volt/watch.h: a watched value, in caller-owned memory (no allocation).
 * The sender replaces the value (a pointer) and bumps a version; each
 * receiver remembers the version it saw last, and its `changed` future is
 * ready once the version moved on: sends in between coalesce, a receiver
 * sees the latest value only. Closing (the sender going away) makes waiting
 * receivers, and later changed waits, report VOLT_CHAN_CLOSED.
 */
#ifndef VOLT_WATCH_H
#define VOLT_WATCH_H

#include <pthread.h>

#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_watch {
	pthread_mutex_t lock;
	uint64_t version;
	void *value;
	bool closed;
	struct volt_waitlist waiters;
};

/* A receiver: the version it has seen. Start it with volt_watch_subscribe. */
struct volt_watch_rx {
	struct volt_watch *watch;
	uint64_t seen;
};

VOLT_API int volt_watch_init(struct volt_watch *w, void *initial);
VOLT_API void volt_watch_destroy(struct volt_watch *w);
/* Replaces the value and wakes the receivers waiting for a change. VOLT_CHAN_OK or _CLOSED. */
VOLT_API int volt_watch_send(struct volt_watch *w, void *value);
VOLT_API void volt_watch_close(struct volt_watch *w);
/* A receiver that has seen the current value. */
VOLT_API void volt_watch_subscribe(struct volt_watch *w, struct volt_watch_rx *rx);
/* The current value, marked as seen. */
VOLT_API void *volt_watch_borrow(struct volt_watch_rx *rx);
/* true if the value changed since rx last saw it. */
VOLT_API bool volt_watch_has_changed(struct volt_watch_rx *rx);

struct volt_watch_changed {
	struct volt_future base;
	struct volt_watch_rx *rx;
	struct volt_waiter waiter;
	int result; /* VOLT_CHAN_OK (then borrow the value) or VOLT_CHAN_CLOSED */
};

VOLT_API struct volt_future *volt_watch_changed(struct volt_watch_changed *f,
						struct volt_watch_rx *rx);
VOLT_API int volt_watch_changed_blocking(struct volt_watch_rx *rx);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_WATCH_H */
