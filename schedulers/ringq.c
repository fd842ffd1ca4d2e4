/* SPDX-License-Identifier: MIT */
/*
 * schedulers/ringq.c: the work-stealing ring (after Tokio's
 * runtime/scheduler/multi_thread/queue.rs, which took it from Go's runq).
 *
 * `tail` is written only by the owner. `head` packs two 32-bit indices:
 * `real`, the next slot to take, and `steal`, the first slot a thief may
 * still be copying. Outside a steal they are equal. Indices run freely and
 * wrap at 2^32; a slot is index & MASK.
 *
 * - The owner pushes at tail if tail - steal < CAP (a slot a thief is still
 *   copying is never overwritten), publishing the slot with a release store
 *   of tail. When the ring is full and no thief is active, it moves half the
 *   ring (one CAS on head claims 128 slots) plus the new task to the overflow
 *   queue in one locked batch; if a thief is active, the new task alone goes
 *   there.
 * - The owner pops at real with a CAS on head (thieves race for the same
 *   slots), advancing steal too when no steal is in progress.
 * - A thief claims half of what the victim has: one CAS moves real forward by
 *   n while steal stays, which fences off the slots it copies; it copies them
 *   into its own ring, then a second CAS sets steal = real to release them.
 *   Only one thief per victim at a time (a thief that sees steal != real
 *   gives up on that victim).
 *
 * Why no ABA: a slot is reused only after both indices moved past it, and
 * indices are 32-bit counters compared by difference; a thief would have to
 * sleep through 2^32 pushes between its two CASes for a stale head to match.
 */
#include "core/task.h"
#include "schedulers/injector.h"
#include "schedulers/ringq.h"

#define RING_CAP VOLT__RINGQ_CAP
#define RING_MASK (RING_CAP - 1)

void volt__ringq_init(struct volt__ringq *q)
{
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
}

static uint32_t head_real(uint64_t h)
{
	return (uint32_t)h;
}

static uint32_t head_steal(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

static uint64_t head_pack(uint32_t steal, uint32_t real)
{
	return (uint64_t)steal << 32 | real;
}

/* ---- the local ring ---- */

/* Owner: moves half the full ring plus t to overflow. False if a thief interfered. */
static bool push_overflow(struct volt__ringq *q, struct volt__task *t, uint32_t real, uint32_t tail,
			  struct volt__injector *overflow, struct volt__metrics *m)
{
	const uint32_t half = RING_CAP / 2;
	uint64_t expect = head_pack(real, real);

	if (tail - real != RING_CAP)
		return false; /* a thief took some meanwhile: there is room again */
	/* release: the claimed slots stay ours; nobody reads them after this */
	if (!volt__cas_strong(&q->head, &expect, head_pack(real + half, real + half), RELEASE,
			      RELAXED))
		return false;
	for (uint32_t i = 0; i < half - 1; i++)
		q->buf[(real + i) & RING_MASK]->next = q->buf[(real + i + 1) & RING_MASK];
	q->buf[(real + half - 1) & RING_MASK]->next = t;
	volt__injector_push(overflow, q->buf[real & RING_MASK], t, half + 1);
	volt__count_n(&m->overflow_moves, half + 1);
	return true;
}

void volt__ringq_push(struct volt__ringq *q, struct volt__task *t,
		      struct volt__injector *overflow, struct volt__metrics *m)
{
	for (;;) {
		/* acquire: a thief's release of head frees the slots it copied */
		uint64_t h = volt__load(&q->head, ACQUIRE);
		uint32_t tail = atomic_load_explicit(&q->tail, RELAXED); /* relaxed: ours */

		if (tail - head_steal(h) < RING_CAP) {
			q->buf[tail & RING_MASK] = t;
			/* release: publishes the slot to thieves */
			volt__store(&q->tail, tail + 1, RELEASE);
			return;
		}
		if (head_steal(h) != head_real(h)) {
			/* a thief is copying: the ring cannot be halved now */
			volt__injector_push(overflow, t, t, 1);
			volt__count(&m->overflow_moves);
			return;
		}
		if (push_overflow(q, t, head_real(h), tail, overflow, m))
			return;
	}
}

struct volt__task *volt__ringq_pop(struct volt__ringq *q)
{
	uint64_t h = volt__load(&q->head, ACQUIRE);

	for (;;) {
		uint32_t real = head_real(h), steal = head_steal(h);

		if (real == atomic_load_explicit(&q->tail, RELAXED)) /* relaxed: ours */
			return NULL;
		uint32_t next_steal = steal == real ? real + 1 : steal;

#ifdef VOLT_MUTANT_RING_POP_NO_CAS
		/* planted bug (tests/model): a plain store of head, not a CAS, so a
		 * thief's claim in between is overwritten and its slots taken twice */
		volt__store(&q->head, head_pack(next_steal, real + 1), RELEASE);
		return q->buf[real & RING_MASK];
#endif
		if (volt__cas(&q->head, &h, head_pack(next_steal, real + 1), ACQ_REL, ACQUIRE))
			return q->buf[real & RING_MASK];
	}
}

uint32_t volt__ringq_used(struct volt__ringq *q)
{
	/* acquire: a thief's release of head frees the slots it copied */
	uint64_t h = volt__load(&q->head, ACQUIRE);

	return atomic_load_explicit(&q->tail, RELAXED) - head_steal(h); /* relaxed: ours */
}

uint32_t volt__ringq_len(struct volt__ringq *q)
{
	/* acquire on both: a snapshot used for has_work */
	uint64_t h = volt__load(&q->head, ACQUIRE);

	return volt__load(&q->tail, ACQUIRE) - head_real(h);
}

struct volt__task *volt__ringq_steal(struct volt__ringq *src, struct volt__ringq *dst,
				     uint32_t batch, uint32_t *stolen)
{
	uint32_t dst_tail = atomic_load_explicit(&dst->tail, RELAXED); /* relaxed: ours */
	uint64_t h = volt__load(&src->head, ACQUIRE);
	uint32_t real, n;

	*stolen = 0;
	for (;;) {
		uint32_t steal = head_steal(h);

		real = head_real(h);
#ifndef VOLT_MUTANT_RING_STEAL_NO_GUARD /* planted bug (tests/model): no one-thief guard */
		if (steal != real)
			return NULL;
#endif
		/* acquire: the owner's release of tail publishes the slots */
		n = volt__load(&src->tail, ACQUIRE) - real;
		n -= n / 2;
		if (batch && n > batch)
			n = batch;
		if (n == 0)
			return NULL;
		if (volt__cas(&src->head, &h, head_pack(steal, real + n), ACQ_REL, ACQUIRE))
			break;
	}
	for (uint32_t i = 0; i < n; i++) {
		VOLT__POINT(); /* the model checker may stop a thief mid-copy (tests/model) */
		dst->buf[(dst_tail + i) & RING_MASK] = src->buf[(real + i) & RING_MASK];
	}
	/* release the fenced slots: steal = real */
	for (;;) {
		uint64_t nh = head_pack(head_real(h), head_real(h));

		/* release: the owner may now overwrite the slots we read */
		if (volt__cas(&src->head, &h, nh, ACQ_REL, ACQUIRE))
			break;
	}
	*stolen = n;
	n--;
	if (n)
		volt__store(&dst->tail, dst_tail + n, RELEASE); /* release: publishes the slots */
	return dst->buf[(dst_tail + n) & RING_MASK];
}
