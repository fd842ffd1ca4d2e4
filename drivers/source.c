/* SPDX-License-Identifier: MIT */
/*
 * drivers/source.c: the table of sources behind socket handles.
 *
 * A handle is (runtime, index, generation). Slots live in chunks of 1,024
 * that are never moved or freed before the runtime is, so a lookup needs no
 * lock: load the chunk, then take a reference with a CAS on the slot's
 * state word, which fails if the generation differs or CLOSING is set.
 * Closing sets CLOSING (new lookups fail from then on), asks the driver to
 * finish what is in flight, and drops the handle's reference; whoever drops
 * the last reference closes the descriptor, bumps the generation and puts
 * the slot on the free list. A descriptor number is therefore never used
 * after close(2), and a reused slot never answers to an old handle.
 *
 * Before a lookup follows h.rt it asks the registry of live runtimes
 * (core/live.h) whether a runtime still lives there: a handle that outlived
 * its runtime answers -ESHUTDOWN. Slot generations start at the registry's
 * floor, which each table raises past its own generations when it is
 * freed, so a handle of a dead runtime never matches a slot of a later one
 * made at the same address.
 *
 * Files (fs/) are sources of kind VOLT__SRC_FILE: never attached to the
 * driver (epoll refuses a regular file), and their descriptor is always a
 * real one, closed with close(2) even when the runtime's system-call
 * table is the simulation's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/io.h"
#include "core/live.h"
#include "core/rt.h"
#include "core/waitlist.h"

int volt__sources_init(struct volt__sources *t)
{
	for (unsigned i = 0; i < VOLT__SRC_CHUNKS; i++)
		atomic_init(&t->chunks[i], NULL);
	t->free = NULL;
	t->nfree = t->cap_free = 0;
	atomic_init(&t->used, 0);
	atomic_init(&t->open, 0);
	t->gen_base = volt__live_gen_floor(); /* above every dead runtime's generations */
	return -pthread_mutex_init(&t->lock, NULL);
}

static struct volt__source *slot(struct volt__sources *t, uint32_t index)
{
	/* acquire: pairs with the release that published the chunk */
	struct volt__source *c = volt__load(&t->chunks[index / VOLT__SRC_CHUNK], ACQUIRE);

	return c ? &c[index % VOLT__SRC_CHUNK] : NULL;
}

/* A free slot's index, growing the table if needed; under t->lock. */
static int take_slot(struct volt__sources *t, uint32_t *index)
{
	/* relaxed: `used` only changes under t->lock, which we hold */
	uint32_t used = volt__load(&t->used, RELAXED);

	if (t->nfree) {
		*index = t->free[--t->nfree];
		return 0;
	}
	if (used == VOLT__SRC_CHUNK * VOLT__SRC_CHUNKS)
		return -ENFILE;
	/* room on the free list for every slot handed out: give_back never fails */
	if (t->cap_free <= used) {
		uint32_t cap = t->cap_free ? 2 * t->cap_free : 64;
		uint32_t *f = realloc(t->free, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		t->free = f;
		t->cap_free = cap;
	}
	if (used % VOLT__SRC_CHUNK == 0) {
		struct volt__source *c = calloc(VOLT__SRC_CHUNK, sizeof(*c));

		if (!c)
			return -ENOMEM;
		for (unsigned i = 0; i < VOLT__SRC_CHUNK; i++) {
			atomic_init(&c[i].state, (uint64_t)t->gen_base << 32); /* closed */
			c[i].index = used + i;
		}
		/* release: the initialised slots before the chunk pointer */
		volt__store(&t->chunks[used / VOLT__SRC_CHUNK], c, RELEASE);
	}
	volt__store(&t->used, used + 1, RELAXED); /* relaxed: see above */
	*index = used;
	return 0;
}

/* Under t->lock. Never fails: take_slot made room for every slot in use. */
static void give_back(struct volt__sources *t, uint32_t index)
{
	t->free[t->nfree++] = index;
}

/*
 * Closes s's descriptor: a socket through the runtime's table (the
 * simulation's sockets live there), a file with close(2): it is always a
 * real descriptor, whatever the driver.
 */
static void close_fd(struct volt__source *s)
{
	if (s->kind == VOLT__SRC_FILE)
		(void)close(s->fd);
	else
		(void)VOLT__SYS(s->rt, close, s->fd);
}

int volt__source_open(struct volt_rt *rt, int fd, enum volt__source_kind kind,
		      struct volt_handle *h)
{
	struct volt__sources *t = &rt->io.sources;
	uint32_t index;
	int type = 0, ret;
	socklen_t len = sizeof(type);

	pthread_mutex_lock(&t->lock);
	ret = take_slot(t, &index);
	pthread_mutex_unlock(&t->lock);
	if (ret) {
		if (kind == VOLT__SRC_FILE)
			(void)close(fd);
		else
			(void)VOLT__SYS(rt, close, fd);
		return ret;
	}
	struct volt__source *s = slot(t, index);
	/* relaxed: the slot is ours alone until the handle is returned */
	uint32_t gen = volt__source_gen(volt__load(&s->state, RELAXED));

	s->rt = rt;
	s->fd = fd;
	s->kind = (uint8_t)kind;
	s->socket = kind != VOLT__SRC_FILE &&
		    VOLT__SYS(rt, getsockopt, fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
	atomic_init(&s->sticky, 0);
	atomic_init(&s->ready, VOLT__READABLE | VOLT__WRITABLE); /* try the call first */
	s->waiters[0] = s->waiters[1] = (struct volt_waitlist){ NULL, NULL };
	s->reserve_fd = kind == VOLT__SRC_LISTENER ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret)
		ret = -ret;
	else if (kind != VOLT__SRC_FILE) /* epoll_ctl refuses a regular file: -EPERM */
		ret = rt->io.ops->attach(rt->io.drv, s);
	if (ret) {
		if (s->reserve_fd >= 0)
			close(s->reserve_fd);
		close_fd(s);
		pthread_mutex_lock(&t->lock);
		give_back(t, index);
		pthread_mutex_unlock(&t->lock);
		return ret;
	}
	/* release: the slot's fields before any lookup can take a reference */
	volt__store(&s->state, (uint64_t)gen << 32 | 1, RELEASE);
	volt__fetch_add(&t->open, 1, RELAXED); /* relaxed: a statistic */
	*h = (struct volt_handle){ rt, index, gen };
	return 0;
}

struct volt__source *volt__source_at(struct volt__sources *t, uint32_t index)
{
	/* relaxed: an index below `used` has its chunk published (acquire in slot()) */
	return index < volt__load(&t->used, RELAXED) ? slot(t, index) : NULL;
}

struct volt__source *volt__source_get(struct volt_handle h)
{
	if (!h.rt || !volt__live(h.rt) || !h.rt->io.ops)
		return NULL;
	struct volt__sources *t = &h.rt->io.sources;

	/* relaxed: an index below `used` has its chunk published (acquire in slot()) */
	if (h.index >= volt__load(&t->used, RELAXED))
		return NULL;
	struct volt__source *s = slot(t, h.index);
	/* relaxed: the CAS below decides, with acquire */
	uint64_t st = volt__load(&s->state, RELAXED);

	do {
		if (volt__source_gen(st) != h.gen || (st & VOLT__SRC_CLOSING) ||
		    !(st & VOLT__SRC_REFS))
			return NULL;
	} while (!volt__cas(&s->state, &st, st + 1, ACQUIRE, RELAXED));
	return s;
}

static void finish_close(struct volt__source *s)
{
	struct volt__sources *t = &s->rt->io.sources;
	/* relaxed: we hold the last reference; nobody else reads the slot */
	uint32_t gen = volt__source_gen(volt__load(&s->state, RELAXED));

	close_fd(s);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	s->fd = s->reserve_fd = -1;
	pthread_mutex_destroy(&s->lock);
	gen = gen + 1 ? gen + 1 : 1; /* generation 0 is never valid */
	/* release: the slot is clean before it can be handed out again */
	volt__store(&s->state, (uint64_t)gen << 32, RELEASE);
	volt__fetch_sub(&t->open, 1, RELAXED); /* relaxed: a statistic */
	pthread_mutex_lock(&t->lock);
	give_back(t, s->index);
	pthread_mutex_unlock(&t->lock);
}

void volt__source_ref(struct volt__source *s)
{
	/* relaxed: the caller's own reference keeps the slot alive */
	volt__fetch_add(&s->state, 1, RELAXED);
}

void volt__source_put(struct volt__source *s)
{
	/* acq_rel: the last one out sees every user's work before closing */
	uint64_t prev = volt__fetch_sub(&s->state, 1, ACQ_REL);

	if ((prev & VOLT__SRC_REFS) == 1 && (prev & VOLT__SRC_CLOSING))
		finish_close(s);
}

int volt__source_error(struct volt_handle h)
{
	return h.rt && !volt__live(h.rt) ? -ESHUTDOWN : -EBADF;
}

int volt__source_close(struct volt_handle h)
{
	struct volt__source *s = volt__source_get(h);

	if (!s)
		return volt__source_error(h);
	/* relaxed: the CAS decides */
	uint64_t st = volt__load(&s->state, RELAXED);

	do {
		if (st & VOLT__SRC_CLOSING) { /* another close won meanwhile */
			volt__source_put(s);
			return -EBADF;
		}
	} while (!volt__cas(&s->state, &st, st | VOLT__SRC_CLOSING, ACQ_REL, RELAXED));
	h.rt->io.ops->cancel(h.rt->io.drv, s);
	volt__source_put(s); /* the handle's reference */
	volt__source_put(s); /* ours */
	return 0;
}

void volt__sources_close_all(struct volt_rt *rt, struct volt__sources *t)
{
	/* relaxed: every worker has stopped; this thread is alone */
	uint32_t used = volt__load(&t->used, RELAXED);

	for (uint32_t i = 0; i < used; i++) {
		struct volt__source *s = slot(t, i);
		uint64_t st = volt__load(&s->state, RELAXED);

		if (st & VOLT__SRC_REFS)
			(void)volt__source_close((struct volt_handle){ rt, i, volt__source_gen(st) });
	}
}

void volt__sources_fini(struct volt__sources *t)
{
	/* relaxed: every source is closed and this thread is alone */
	uint32_t used = volt__load(&t->used, RELAXED), max_gen = t->gen_base;

	for (uint32_t i = 0; i < used; i++) {
		uint32_t gen = volt__source_gen(volt__load(&slot(t, i)->state, RELAXED));

		max_gen = gen > max_gen ? gen : max_gen;
	}
	volt__live_gen_retire(max_gen);
	for (unsigned i = 0; i < VOLT__SRC_CHUNKS; i++)
		free(atomic_load_explicit(&t->chunks[i], memory_order_relaxed));
	free(t->free);
	pthread_mutex_destroy(&t->lock);
}
