/* SPDX-License-Identifier: MIT */
/*
 * core/slab.c: per-worker task caches over shared 64 KiB chunks (see
 * core/slab.h for the design).
 *
 * Ownership: a worker's cache is touched only by that worker; the depot,
 * the chunk list and the large list only under s->lock. A chunk's `used`
 * count grows only in the cache that carves it and is read by the shutdown
 * scan after every worker has been joined. A free slot has state 0, so the
 * scan can tell live tasks from free ones.
 */
#include <stdlib.h>
#include <string.h>

#include "core/slab.h"
#include "core/task.h"

#define SLAB_BATCH 64           /* slots moved between a cache and the depot */
#define SLAB_CACHE_MAX (4 * SLAB_BATCH)

struct volt__chunk {
	VOLT__ALIGNED_LINE struct volt__chunk *next;
	uint32_t cls;
	uint32_t used; /* slots carved so far */
	uint32_t nslots;
};

_Static_assert(sizeof(struct volt__chunk) == VOLT__CACHELINE, "chunk header is one line");

struct volt__large {
	VOLT__ALIGNED_LINE struct volt__large *prev;
	struct volt__large *next;
};

_Static_assert(sizeof(struct volt__large) == VOLT__CACHELINE, "large prefix is one line");

static const size_t class_size[VOLT__SLAB_CLASSES] = { 128, 256, 512, 1024, 2048, 4096 };

unsigned volt__slab_class(size_t bytes)
{
	for (unsigned c = 0; c < VOLT__SLAB_CLASSES; c++)
		if (bytes <= class_size[c])
			return c;
	return VOLT__SLAB_LARGE;
}

size_t volt__slab_class_size(unsigned cls)
{
	return class_size[cls];
}

int volt__slab_init(struct volt__slab *s)
{
	memset(s, 0, sizeof(*s));
	return -pthread_mutex_init(&s->lock, NULL);
}

void volt__slab_fini(struct volt__slab *s)
{
	struct volt__chunk *c = s->chunks;

	while (c) {
		struct volt__chunk *next = c->next;

		free(c);
		c = next;
	}
	struct volt__large *l = s->large;

	while (l) {
		struct volt__large *next = l->next;

		free(l);
		l = next;
	}
	pthread_mutex_destroy(&s->lock);
	memset(s, 0, sizeof(*s));
}

static struct volt__task *chunk_slot(struct volt__chunk *c, uint32_t i)
{
	return (struct volt__task *)((char *)(c + 1) + (size_t)i * class_size[c->cls]);
}

/* Moves up to n slots of class cls from list *from to list *to. */
static void move_batch(struct volt__slab_cache *from, struct volt__slab_cache *to,
		       unsigned cls, uint32_t n)
{
	while (n-- && from->free[cls]) {
		struct volt__task *t = from->free[cls];

		from->free[cls] = t->next;
		from->nfree[cls]--;
		t->next = to->free[cls];
		to->free[cls] = t;
		to->nfree[cls]++;
	}
}

/*
 * Carves one slot from cache's chunk of class cls, adding a chunk if needed.
 * `locked`: the caller holds s->lock (the depot's carving).
 */
static struct volt__task *carve(struct volt__slab *s, struct volt__slab_cache *cache,
				unsigned cls, bool locked)
{
	struct volt__chunk *c = cache->bump[cls];

	if (!c || c->used == c->nslots) {
		c = aligned_alloc(VOLT__CACHELINE, VOLT__SLAB_CHUNK);
		if (!c)
			return NULL;
		c->cls = cls;
		c->used = 0;
		c->nslots = (uint32_t)((VOLT__SLAB_CHUNK - sizeof(*c)) / class_size[cls]);
		if (!locked)
			pthread_mutex_lock(&s->lock);
		c->next = s->chunks;
		s->chunks = c;
		if (!locked)
			pthread_mutex_unlock(&s->lock);
		cache->bump[cls] = c;
	}
	return chunk_slot(c, c->used++);
}

/* Depot counts change under the lock; this hint lets caches skip the lock. */
static void depot_publish(struct volt__slab *s, unsigned cls)
{
	/* relaxed: a hint only; the list itself is read under the lock */
	atomic_store_explicit(&s->depot_avail[cls], s->depot.nfree[cls], RELAXED);
}

static struct volt__task *alloc_large(struct volt__slab *s, size_t bytes)
{
	struct volt__large *l;

	if (bytes > SIZE_MAX - sizeof(*l))
		return NULL;
	l = aligned_alloc(VOLT__CACHELINE, (sizeof(*l) + bytes + VOLT__CACHELINE - 1) &
					      ~(size_t)(VOLT__CACHELINE - 1));
	if (!l)
		return NULL;
	pthread_mutex_lock(&s->lock);
	l->prev = NULL;
	l->next = s->large;
	if (s->large)
		s->large->prev = l;
	s->large = l;
	s->live_large++;
	pthread_mutex_unlock(&s->lock);
	return (struct volt__task *)(l + 1);
}

static void free_large(struct volt__slab *s, struct volt__task *t)
{
	struct volt__large *l = (struct volt__large *)t - 1;

	pthread_mutex_lock(&s->lock);
	if (l->prev)
		l->prev->next = l->next;
	else
		s->large = l->next;
	if (l->next)
		l->next->prev = l->prev;
	s->live_large--;
	pthread_mutex_unlock(&s->lock);
	free(l);
}

struct volt__task *volt__slab_alloc(struct volt__slab *s, struct volt__slab_cache *cache,
				    unsigned cls, size_t bytes)
{
	struct volt__task *t;

	if (cls == VOLT__SLAB_LARGE)
		return alloc_large(s, bytes);
	if (!cache) {
		/* threads outside the runtime share the depot, under the lock */
		pthread_mutex_lock(&s->lock);
		t = s->depot.free[cls];
		if (t) {
			s->depot.free[cls] = t->next;
			s->depot.nfree[cls]--;
			depot_publish(s, cls);
		} else {
			t = carve(s, &s->depot, cls, true);
		}
		pthread_mutex_unlock(&s->lock);
		return t;
	}
	if (!cache->free[cls] && atomic_load_explicit(&s->depot_avail[cls], RELAXED)) {
		pthread_mutex_lock(&s->lock);
		move_batch(&s->depot, cache, cls, SLAB_BATCH);
		depot_publish(s, cls);
		pthread_mutex_unlock(&s->lock);
	}
	t = cache->free[cls];
	if (t) {
		cache->free[cls] = t->next;
		cache->nfree[cls]--;
		return t;
	}
	return carve(s, cache, cls, false);
}

void volt__slab_free(struct volt__slab *s, struct volt__slab_cache *cache,
		     struct volt__task *t, unsigned cls)
{
	/* relaxed: the slot is ours alone; 0 marks it free for the shutdown scan */
	atomic_store_explicit(&t->state, 0, RELAXED);
	if (cls == VOLT__SLAB_LARGE) {
		free_large(s, t);
		return;
	}
	if (!cache) {
		pthread_mutex_lock(&s->lock);
		t->next = s->depot.free[cls];
		s->depot.free[cls] = t;
		s->depot.nfree[cls]++;
		depot_publish(s, cls);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	t->next = cache->free[cls];
	cache->free[cls] = t;
	if (++cache->nfree[cls] > SLAB_CACHE_MAX) {
		pthread_mutex_lock(&s->lock);
		move_batch(cache, &s->depot, cls, SLAB_BATCH);
		depot_publish(s, cls);
		pthread_mutex_unlock(&s->lock);
	}
}

void volt__slab_cache_flush(struct volt__slab *s, struct volt__slab_cache *cache)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned c = 0; c < VOLT__SLAB_CLASSES; c++) {
		move_batch(cache, &s->depot, c, UINT32_MAX);
		depot_publish(s, c);
	}
	pthread_mutex_unlock(&s->lock);
}

void volt__slab_scan(struct volt__slab *s, void (*fn)(struct volt__task *t))
{
	for (struct volt__chunk *c = s->chunks; c; c = c->next)
		for (uint32_t i = 0; i < c->used; i++) {
			struct volt__task *t = chunk_slot(c, i);

			if (atomic_load_explicit(&t->state, RELAXED))
				fn(t);
		}
	/* fn may free large tasks: take the next link first */
	for (struct volt__large *l = s->large, *next; l; l = next) {
		next = l->next;
		struct volt__task *t = (struct volt__task *)(l + 1);

		if (atomic_load_explicit(&t->state, RELAXED))
			fn(t);
	}
}
