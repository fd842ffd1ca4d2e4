/* SPDX-License-Identifier: MIT */
/*
 * schedulers/ring.c: `ring`, the Tokio multi-thread design.
 *
 * Each worker owns a fixed ring of 256 task slots plus a LIFO slot; one
 * global injection queue (a mutex and a list) takes tasks from outside the
 * runtime and the overflow of full rings. After Tokio's
 * runtime/scheduler/multi_thread/queue.rs and worker.rs (Lerche, "Making the
 * Tokio scheduler 10x faster", 2019), which took the ring from Go.
 *
 * The ring. `tail` is written only by the owner. `head` packs two 32-bit
 * indices: `real`, the next slot to take, and `steal`, the first slot a thief
 * may still be copying. Outside a steal they are equal. Indices run freely and
 * wrap at 2^32; a slot is index & MASK.
 *
 * - The owner pushes at tail if tail - steal < CAP (a slot a thief is still
 *   copying is never overwritten), publishing the slot with a release store
 *   of tail. When the ring is full and no thief is active, it moves half the
 *   ring (one CAS on head claims 128 slots) plus the new task to the global
 *   queue in one locked batch; if a thief is active, the new task alone goes
 *   to the global queue.
 * - The owner pops at real with a CAS on head (thieves race for the same
 *   slots), advancing steal too when no steal is in progress.
 * - A thief claims half of what the victim has: one CAS moves real forward by
 *   n while steal stays, which fences off the slots it copies; it copies them
 *   into its own ring, then a second CAS sets steal = real to release them.
 *   Only one thief per victim at a time (a thief that sees steal != real
 *   gives up on that victim). A thief whose own ring is more than half full
 *   does not steal.
 *
 * The LIFO slot holds the task most recently woken or spawned by the running
 * task (a message's receiver), so it runs next, hot in cache; the task it
 * displaces goes to the ring. Filling an empty slot wakes no other worker. It is not stealable, and
 * at most lifo_max_polls (3) tasks in a row may run from it: after that the slot's
 * task goes to the back of the ring, so a pair of tasks waking each other
 * cannot starve the rest. Tasks from the LIFO slot keep the budget of the task
 * that woke them (core does not refill it), following Tokio #5686.
 *
 * Fairness: every `global_interval` ticks (61, Go's and Tokio's number, or
 * self-tuned; core decides and sets global_first) the worker looks at the
 * global queue first, so injected tasks are not starved by tasks that keep
 * respawning each other locally.
 *
 * Knobs (struct volt_config): lifo, lifo_max_polls, steal_batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/task.h"
#include "schedulers/injector.h"
#include "schedulers/sched.h"
#include "schedulers/steal.h"

#define RING_CAP 256u
#define RING_MASK (RING_CAP - 1)
#define GLOBAL_BATCH_MAX 64u

struct ring_worker {
	VOLT__ALIGNED_LINE _Atomic uint64_t head; /* steal << 32 | real */
	VOLT__ALIGNED_LINE _Atomic uint32_t tail;
	/* owner-only from here */
	VOLT__ALIGNED_LINE struct volt__task *lifo;
	unsigned lifo_polls;
	uint64_t rng;
	struct volt__task *buf[RING_CAP];
};

struct ring {
	struct ring_worker *w;
	unsigned n;
	bool lifo;            /* cfg.lifo */
	unsigned lifo_max;    /* cfg.lifo_max_polls */
	uint32_t steal_batch; /* cfg.steal_batch, 0 = half */
	struct volt__metrics *metrics;
	struct volt__injector global;
};

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

/* Owner: moves half the full ring plus t to the global queue. False if a thief interfered. */
static bool push_overflow(struct ring *r, struct ring_worker *q, unsigned w,
			  struct volt__task *t, uint32_t real, uint32_t tail)
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
	volt__injector_push(&r->global, q->buf[real & RING_MASK], t, half + 1);
	volt__count_n(&r->metrics[w].overflow_moves, half + 1);
	return true;
}

/* Owner: appends t to its ring, overflowing to the global queue. */
static void push_back(struct ring *r, unsigned w, struct volt__task *t)
{
	struct ring_worker *q = &r->w[w];

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
			volt__injector_push(&r->global, t, t, 1);
			volt__count(&r->metrics[w].overflow_moves);
			return;
		}
		if (push_overflow(r, q, w, t, head_real(h), tail))
			return;
	}
}

/* Owner: takes the task at real. */
static struct volt__task *pop_local(struct ring_worker *q)
{
	uint64_t h = volt__load(&q->head, ACQUIRE);

	for (;;) {
		uint32_t real = head_real(h), steal = head_steal(h);

		if (real == atomic_load_explicit(&q->tail, RELAXED)) /* relaxed: ours */
			return NULL;
		uint32_t next_steal = steal == real ? real + 1 : steal;

		if (volt__cas(&q->head, &h, head_pack(next_steal, real + 1), ACQ_REL, ACQUIRE))
			return q->buf[real & RING_MASK];
	}
}

/* Owner: slots in use, counting those a thief is still copying. */
static uint32_t ring_used(struct ring_worker *q)
{
	/* acquire: a thief's release of head frees the slots it copied */
	uint64_t h = volt__load(&q->head, ACQUIRE);

	return atomic_load_explicit(&q->tail, RELAXED) - head_steal(h); /* relaxed: ours */
}

static uint32_t ring_len(struct ring_worker *q)
{
	/* acquire on both: a snapshot used for has_work and the steal cap */
	uint64_t h = volt__load(&q->head, ACQUIRE);

	return volt__load(&q->tail, ACQUIRE) - head_real(h);
}

/*
 * Thief dst steals half of src's ring into its own, returning one task to
 * run (the rest are in dst's ring). NULL if there was nothing or another
 * thief was at work.
 */
static struct volt__task *steal_half(struct ring_worker *src, struct ring_worker *dst,
				     uint32_t batch, uint32_t *stolen)
{
	uint32_t dst_tail = atomic_load_explicit(&dst->tail, RELAXED); /* relaxed: ours */
	uint64_t h = volt__load(&src->head, ACQUIRE);
	uint32_t real, n;

	*stolen = 0;
	for (;;) {
		uint32_t steal = head_steal(h);

		real = head_real(h);
		if (steal != real)
			return NULL;
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
	for (uint32_t i = 0; i < n; i++)
		dst->buf[(dst_tail + i) & RING_MASK] = src->buf[(real + i) & RING_MASK];
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

/* ---- the policy ---- */

static int ring_init(void **state, const struct volt__sched_env *env)
{
	struct ring *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->n = env->nworkers;
	r->metrics = env->metrics;
	r->lifo = env->cfg->lifo;
	r->lifo_max = env->cfg->lifo_max_polls;
	r->steal_batch = env->cfg->steal_batch;
	r->w = aligned_alloc(VOLT__CACHELINE, r->n * sizeof(*r->w));
	if (!r->w || volt__injector_init(&r->global)) {
		free(r->w);
		free(r);
		return -ENOMEM;
	}
	memset(r->w, 0, r->n * sizeof(*r->w));
	for (unsigned i = 0; i < r->n; i++) {
		atomic_init(&r->w[i].head, 0);
		atomic_init(&r->w[i].tail, 0);
		r->w[i].rng = volt__rng_stream(env->seed, i);
	}
	*state = r;
	return 0;
}

static void ring_fini(void *state)
{
	struct ring *r = state;

	volt__injector_fini(&r->global);
	free(r->w);
	free(r);
}

static bool ring_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	struct ring *r = state;

	if (w < 0 || how == VOLT__PUSH_REMOTE) {
		volt__injector_push(&r->global, t, t, 1);
		return true;
	}
	struct ring_worker *q = &r->w[w];

	if (r->lifo && (how == VOLT__PUSH_WAKE || how == VOLT__PUSH_SPAWN)) {
		struct volt__task *prev = q->lifo;

		q->lifo = t;
		if (!prev)
			return false; /* this worker runs it next */
		t = prev;
	}
	push_back(r, (unsigned)w, t);
	return true;
}

/* Moves a batch from the global queue into the ring; returns one task to run. */
static struct volt__task *pop_global(struct ring *r, unsigned w)
{
	struct ring_worker *q = &r->w[w];
	size_t room = RING_CAP - ring_used(q);
	size_t max = volt__injector_len(&r->global) / r->n + 1;
	size_t taken;

	if (max > GLOBAL_BATCH_MAX)
		max = GLOBAL_BATCH_MAX;
	if (max > room)
		max = room ? room : 1;
	struct volt__task *t = volt__injector_pop(&r->global, max, &taken);

	if (!t)
		return NULL;
	volt__count_n(&r->metrics[w].global_pops, taken);
	for (struct volt__task *rest = t->next, *next; rest; rest = next) {
		next = rest->next;
		push_back(r, w, rest);
	}
	return t;
}

static struct volt__task *ring_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	struct ring *r = state;
	struct ring_worker *q = &r->w[w];
	struct volt__task *t;

	*lifo = false;
	if (global_first) {
		t = pop_global(r, w);
		if (t)
			return t;
	}
	if (q->lifo) {
		t = q->lifo;
		q->lifo = NULL;
		if (q->lifo_polls < r->lifo_max) {
			q->lifo_polls++;
			*lifo = true;
			volt__count(&r->metrics[w].lifo_hits);
			return t;
		}
		push_back(r, w, t); /* too many in a row: behind the others */
	}
	q->lifo_polls = 0;
	t = pop_local(q);
	if (t)
		return t;
	return pop_global(r, w);
}

static struct volt__task *steal_one(void *state, unsigned victim, unsigned thief,
				    uint32_t *stolen)
{
	struct ring *r = state;

	return steal_half(&r->w[victim], &r->w[thief], r->steal_batch, stolen);
}

static struct volt__task *ring_steal(void *state, unsigned w)
{
	struct ring *r = state;

	if (ring_used(&r->w[w]) > RING_CAP / 2)
		return NULL; /* plenty to do; and room for half a victim's ring is guaranteed */
	struct volt__task *t = volt__steal_pass(r, r->n, w, &r->w[w].rng, &r->metrics[w], steal_one);

	return t ? t : pop_global(r, w);
}

static bool ring_has_work(void *state)
{
	struct ring *r = state;

	if (volt__injector_len(&r->global))
		return true;
	for (unsigned i = 0; i < r->n; i++)
		if (ring_len(&r->w[i]))
			return true;
	return false;
}

const struct volt__sched_ops volt__sched_ring = {
	.name = "ring",
	.workers = NULL,
	.init = ring_init,
	.fini = ring_fini,
	.push = ring_push,
	.pop = ring_pop,
	.steal = ring_steal,
	.has_work = ring_has_work,
};
