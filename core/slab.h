/* SPDX-License-Identifier: MIT */
/*
 * core/slab.h: task memory.
 *
 * Tasks come in size classes of 128 B to 4 KiB, carved from 64 KiB chunks
 * that live until the runtime is freed (so a slot's memory is always a task
 * header, and shutdown can find every live task by scanning the chunks).
 * Each worker keeps a private free list per class; a task freed on another
 * worker goes to the freeing worker's list, and lists that grow past a
 * threshold hand a batch to a shared depot (a mutex), where allocating
 * workers and threads outside the runtime take batches back. Larger futures
 * are malloc'd and kept on a list for the same shutdown scan.
 */
#ifndef VOLT_CORE_SLAB_H
#define VOLT_CORE_SLAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOLT__SLAB_CLASSES 6
#define VOLT__SLAB_LARGE 15
#define VOLT__SLAB_CHUNK (64 * 1024)

struct volt__task;
struct volt__chunk;
struct volt__large;

struct volt__slab_cache {
	struct volt__task *free[VOLT__SLAB_CLASSES];
	uint32_t nfree[VOLT__SLAB_CLASSES];
	struct volt__chunk *bump[VOLT__SLAB_CLASSES]; /* chunk being carved */
};

struct volt__slab {
	pthread_mutex_t lock;
	struct volt__slab_cache depot; /* shared; also serves threads outside */
	_Atomic uint32_t depot_avail[VOLT__SLAB_CLASSES];
	struct volt__chunk *chunks;
	struct volt__large *large;
	size_t live_large;
};

int volt__slab_init(struct volt__slab *s);
/* Frees every chunk and large task; no task may be used afterwards. */
void volt__slab_fini(struct volt__slab *s);

/* Slab class for a task of `bytes`, or VOLT__SLAB_LARGE. */
unsigned volt__slab_class(size_t bytes);
size_t volt__slab_class_size(unsigned cls);

/* cache is the calling worker's cache, or NULL for any other thread. */
struct volt__task *volt__slab_alloc(struct volt__slab *s, struct volt__slab_cache *cache,
				    unsigned cls, size_t bytes);
void volt__slab_free(struct volt__slab *s, struct volt__slab_cache *cache,
		     struct volt__task *t, unsigned cls);

/* Gives a worker's cached slots back to the depot (worker exit). */
void volt__slab_cache_flush(struct volt__slab *s, struct volt__slab_cache *cache);

/* Calls fn on every task slot whose state is not 0. Single-threaded use only. */
void volt__slab_scan(struct volt__slab *s, void (*fn)(struct volt__task *t));

#endif /* VOLT_CORE_SLAB_H */
