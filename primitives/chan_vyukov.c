/* SPDX-License-Identifier: MIT */
/*
 * primitives/chan_vyukov.c: the `vyukov` channel buffer, Dmitry Vyukov's
 * bounded MPMC queue (1024cores.net, "Bounded MPMC queue").
 *
 * Each slot carries a sequence number. Positions count up forever (64 bits);
 * position p uses slot p mod capacity. A slot is free for the pusher at
 * position p when its sequence equals p, and full for the popper at p when
 * it equals p + 1. A pusher claims p by a CAS on `tail`, copies the element,
 * then publishes it with a release store of p + 1; a popper claims p by a
 * CAS on `head`, copies out, then frees the slot for the pusher a lap later
 * with a release store of p + capacity. A sequence below the expected one
 * means the queue is full (push) or empty (pop); above it, another thread
 * claimed the position first: reload and retry. No thread waits for
 * another except through these CASes, and the element copy is done by the
 * claimant alone.
 *
 * Closing (after crossbeam's array channel): a CLOSED bit in `tail`, set by
 * one fetch_or. A push claims its position by a CAS on `tail`, which fails
 * once the bit is set, so no push succeeds after the close; a pop that
 * finds its slot empty reports closed only if the bit is set and `head` has
 * reached the last claimed position (every claimed push was popped: one
 * claimed but not yet written reads as empty, and its pusher wakes the
 * receivers when it is done).
 *
 * Layout: head and tail on their own cache lines; slots are the sequence
 * word then the element, 8-byte aligned. Capacity need not be a power of
 * two (a division per operation then, instead of a mask). The algorithm
 * needs two slots at least (with one, "full at p - 1" and "free at p" are
 * the same sequence number): a channel of capacity 1 gets a ring of two and
 * a push that also checks the one element is not there yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "primitives/chan_buffer.h"

#define CLOSED_BIT (1ull << 63)

struct vyukov {
	VOLT__ALIGNED_LINE _Atomic uint64_t tail; /* next push position, | CLOSED_BIT */
	VOLT__ALIGNED_LINE _Atomic uint64_t head; /* next pop position */
	VOLT__ALIGNED_LINE size_t cap, ring, elem, stride; /* ring: slots, max(cap, 2) */
	uint64_t mask; /* ring - 1 when ring is a power of two, else 0 */
	unsigned char *slots;
};

static inline _Atomic uint64_t *seq_of(unsigned char *slot)
{
	return (_Atomic uint64_t *)(void *)slot;
}

static inline unsigned char *slot_at(struct vyukov *q, uint64_t pos)
{
	size_t i = q->mask ? (size_t)(pos & q->mask) : (size_t)(pos % q->ring);

	return q->slots + i * q->stride;
}

static int vyukov_init(void **state, size_t elem_size, size_t capacity)
{
	size_t stride = (sizeof(uint64_t) + elem_size + 7) & ~(size_t)7;
	size_t ring = capacity < 2 ? 2 : capacity, bytes;

	/* elem_size <= VOLT_CHAN_ELEM_MAX: the stride cannot wrap; the ring can */
	if (__builtin_mul_overflow(ring, stride, &bytes) ||
	    bytes > SIZE_MAX - (VOLT__CACHELINE - 1))
		return -EOVERFLOW;

	struct vyukov *q = aligned_alloc(VOLT__CACHELINE, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->slots = aligned_alloc(VOLT__CACHELINE,
				 (bytes + VOLT__CACHELINE - 1) & ~(size_t)(VOLT__CACHELINE - 1));
	if (!q->slots) {
		free(q);
		return -ENOMEM;
	}
	q->cap = capacity;
	q->ring = ring;
	q->elem = elem_size;
	q->stride = stride;
	q->mask = (ring & (ring - 1)) == 0 ? ring - 1 : 0; /* 0: use % */
	for (size_t i = 0; i < ring; i++)
		atomic_init(seq_of(q->slots + i * stride), i);
	atomic_init(&q->tail, 0);
	atomic_init(&q->head, 0);
	*state = q;
	return 0;
}

static void vyukov_fini(void *state)
{
	struct vyukov *q = state;

	free(q->slots);
	free(q);
}

static int vyukov_try_push(void *state, const void *elem)
{
	struct vyukov *q = state;
	uint64_t pos = volt__load(&q->tail, RELAXED); /* relaxed: the slot's seq orders */

	for (;;) {
#ifdef VOLT_MUTANT_VYUKOV_CLOSE_IGNORED_BY_PUSH
		/* the bug: the push looks past the CLOSED bit and claims with a CAS that keeps it */
		if (pos & CLOSED_BIT) {
			uint64_t p = pos & ~CLOSED_BIT;
			unsigned char *s = slot_at(q, p);

			if (volt__load(seq_of(s), ACQUIRE) != p ||
			    (q->cap == 1 && p != volt__load(&q->head, ACQUIRE)))
				return VOLT_CHAN_FULL;
			if (!volt__cas(&q->tail, &pos, pos + 1, RELAXED, RELAXED))
				continue;
			memcpy(s + sizeof(uint64_t), elem, q->elem);
			volt__store(seq_of(s), p + 1, RELEASE);
			return VOLT_CHAN_OK;
		}
#else
		if (pos & CLOSED_BIT)
			return VOLT_CHAN_CLOSED;
#endif

		unsigned char *slot = slot_at(q, pos);
		/* acquire: pairs with the popper's release that freed the slot */
		uint64_t seq = volt__load(seq_of(slot), ACQUIRE);
		int64_t diff = (int64_t)(seq - pos);

		if (diff == 0) {
			/* capacity 1 on a ring of 2: the one element must have gone */
			if (q->cap == 1 && pos != volt__load(&q->head, ACQUIRE))
				return VOLT_CHAN_FULL;
			/* relaxed: claiming the position; the seq store publishes */
			if (volt__cas(&q->tail, &pos, pos + 1, RELAXED, RELAXED)) {
#ifdef VOLT_MUTANT_VYUKOV_PUSH_PUBLISH_BEFORE_COPY
				/* the bug: published, then copied; the point stands for a
				 * preemption there (the checker has none on a plain copy) */
				volt__store(seq_of(slot), pos + 1, RELEASE);
				VOLT__POINT();
				memcpy(slot + sizeof(uint64_t), elem, q->elem);
				return VOLT_CHAN_OK;
#endif
				memcpy(slot + sizeof(uint64_t), elem, q->elem);
				/* release: the element before the sequence */
				volt__store(seq_of(slot), pos + 1, RELEASE);
				return VOLT_CHAN_OK;
			}
		} else if (diff < 0) {
			return VOLT_CHAN_FULL; /* the slot still holds last lap's element */
		} else {
			pos = volt__load(&q->tail, RELAXED); /* another pusher took pos */
		}
	}
}

static int vyukov_try_pop(void *state, void *out)
{
	struct vyukov *q = state;
	uint64_t pos = volt__load(&q->head, RELAXED); /* relaxed: the slot's seq orders */

	for (;;) {
		unsigned char *slot = slot_at(q, pos);
		/* acquire: pairs with the pusher's release of the element */
		uint64_t seq = volt__load(seq_of(slot), ACQUIRE);
		int64_t diff = (int64_t)(seq - (pos + 1));

#ifdef VOLT_MUTANT_VYUKOV_POP_NO_SEQ_CHECK
		/* the bug: "full" judged by tail, not by the slot's sequence */
		diff = pos < (volt__load(&q->tail, ACQUIRE) & ~CLOSED_BIT) ? 0 : -1;
#endif
		if (diff == 0) {
			if (volt__cas(&q->head, &pos, pos + 1, RELAXED, RELAXED)) {
				memcpy(out, slot + sizeof(uint64_t), q->elem);
				/* release: the copy-out before the slot is reused */
				volt__store(seq_of(slot), pos + q->ring, RELEASE);
				return VOLT_CHAN_OK;
			}
		} else if (diff < 0) {
			/* nothing written here: empty, or closed if nothing more will be */
			uint64_t tail = volt__load(&q->tail, ACQUIRE);

			if ((tail & CLOSED_BIT) && (tail & ~CLOSED_BIT) == pos)
				return VOLT_CHAN_CLOSED;
			return VOLT_CHAN_EMPTY;
		} else {
			pos = volt__load(&q->head, RELAXED); /* another popper took pos */
		}
	}
}

static void vyukov_close(void *state)
{
	struct vyukov *q = state;

	volt__fetch_or(&q->tail, CLOSED_BIT, ACQ_REL);
}

static bool vyukov_is_closed(void *state)
{
	struct vyukov *q = state;

	return volt__load(&q->tail, ACQUIRE) & CLOSED_BIT;
}

static size_t vyukov_len(void *state)
{
	struct vyukov *q = state;
	/* relaxed: a snapshot */
	uint64_t head = volt__load(&q->head, RELAXED);
	uint64_t tail = volt__load(&q->tail, RELAXED) & ~CLOSED_BIT;

	return tail > head ? (size_t)(tail - head) > q->cap ? q->cap : (size_t)(tail - head) : 0;
}

const struct volt__chan_ops volt__chan_vyukov = {
	.name = "vyukov",
	.init = vyukov_init,
	.fini = vyukov_fini,
	.try_push = vyukov_try_push,
	.try_pop = vyukov_try_pop,
	.close = vyukov_close,
	.is_closed = vyukov_is_closed,
	.len = vyukov_len,
};
