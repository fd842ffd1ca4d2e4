/* SPDX-License-Identifier: MIT */
/*
 * drivers/source.h: the table of I/O sources behind socket handles
 * (drivers/source.c). One table per runtime.
 */
#ifndef VOLT_DRIVERS_SOURCE_H
#define VOLT_DRIVERS_SOURCE_H

#include "drivers/driver.h"

#define VOLT__SRC_CHUNK 1024u
#define VOLT__SRC_CHUNKS 1024u /* at most 1,048,576 open sources */

struct volt__sources {
	_Atomic(struct volt__source *) chunks[VOLT__SRC_CHUNKS];
	pthread_mutex_t lock;  /* the free list and growth */
	uint32_t *free;        /* indices of closed slots (a stack) */
	uint32_t nfree, cap_free;
	_Atomic uint32_t used; /* slots handed out at least once */
	_Atomic uint32_t open; /* handles open now */
	uint32_t gen_base;     /* every slot's first generation (core/live.h's floor) */
};

int volt__sources_init(struct volt__sources *t);

/* Closes every handle still open (runtime shutdown). */
void volt__sources_close_all(struct volt_rt *rt, struct volt__sources *t);

/*
 * Frees the table, once the driver has let go of every source, and raises
 * the generation floor past every generation it handed out.
 */
void volt__sources_fini(struct volt__sources *t);

/*
 * Takes ownership of fd (non-blocking, close-on-exec), attaches it to rt's
 * driver (not a VOLT__SRC_FILE: fs/ never waits for a file's readiness)
 * and fills *h. On error fd is closed and -errno returned.
 */
int volt__source_open(struct volt_rt *rt, int fd, enum volt__source_kind kind,
		      struct volt_handle *h);

/* The slot at index (NULL past the table): for drivers, which then take a
 * reference with volt__source_get before touching it. */
struct volt__source *volt__source_at(struct volt__sources *t, uint32_t index);

/*
 * A reference to h's source, or NULL if h is stale, closing or bad, or its
 * runtime is gone (checked before h.rt is followed: core/live.h).
 */
struct volt__source *volt__source_get(struct volt_handle h);

/* Why volt__source_get(h) failed: -ESHUTDOWN if h's runtime is gone, else -EBADF. */
int volt__source_error(struct volt_handle h);

/* One more reference to a source the caller already holds one on. */
void volt__source_ref(struct volt__source *s);

/* Drops a reference; the last one of a closing source closes it. */
void volt__source_put(struct volt__source *s);

/* Starts closing h: 0, or -EBADF if h is stale or already closing. */
int volt__source_close(struct volt_handle h);

#endif /* VOLT_DRIVERS_SOURCE_H */
