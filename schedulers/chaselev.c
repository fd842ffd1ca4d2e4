/* SPDX-License-Identifier: MIT */
/*
 * schedulers/chaselev.c: `chaselev`, a growable Chase-Lev deque per worker
 * plus a global injection queue: the Cilk/TBB design.
 *
 * The deque (Chase and Lev, SPAA 2005; C11 orders after Lê, Pop, Cohen and
 * Zappa Nardelli, PPoPP 2013). `bottom` is written by the owner only, `top`
 * advances by CAS. The owner pushes and takes at the bottom (LIFO, so it
 * works depth-first on what it just spawned); thieves take one task at the
 * top (FIFO, the oldest, which in divide-and-conquer code is the biggest
 * piece of work). Only the owner and thieves racing for the last element
 * need the CAS; an owner push or take of any other element is plain stores.
 *
 * Memory orders. Lê et al. write take() and steal() with a seq_cst fence
 * between the store of bottom and the load of top (and between the loads of
 * top and bottom in steal): the classic StoreLoad race over the last
 * element. Stand-alone fences are invisible to ThreadSanitizer, so by default
 * this file puts seq_cst on the operations themselves (the seq_cst
 * translation the paper measures against); building with
 * -DVOLT_CHASELEV_FENCES uses the paper's relaxed operations and fences
 * (for the memory-order ablation experiment, not under TSan). Push publishes
 * the slot with a release store of bottom instead of the paper's release
 * fence, which is the same on x86 and visible to TSan.
 *
 * Growth. When full, the owner copies the live range into an array twice as
 * large and publishes it with a release store; a thief that loaded the old
 * array still reads valid slots from it (the paper's errata: push must reload
 * the array after a resize, done here by using the new one directly). Old
 * arrays cannot be freed while a thief may hold them; they are kept on a list
 * and freed with the deque. Sizes double, so the retired arrays together are
 * smaller than the live one: reclamation is deferred, memory stays bounded by
 * twice the peak.
 *
 * Around the deque: outside spawns and yields go to a global FIFO (a yielded
 * task pushed to the bottom would be taken straight back), checked first
 * every global_interval ticks (core sets global_first) and whenever the
 * deque is empty. A thief steals one task from
 * a random victim, trying each worker once.
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

#define CL_INITIAL 64

/* The orders that differ between the two variants (see above). */
#ifdef VOLT_CHASELEV_FENCES
#define CL_TAKE_BOTTOM RELAXED
#define CL_TAKE_TOP RELAXED
#define CL_STEAL_TOP ACQUIRE
#define CL_STEAL_BOTTOM ACQUIRE
#define CL_FENCE() atomic_thread_fence(SEQ_CST)
#else
#define CL_TAKE_BOTTOM SEQ_CST
#define CL_TAKE_TOP SEQ_CST
#define CL_STEAL_TOP SEQ_CST
#define CL_STEAL_BOTTOM SEQ_CST
#define CL_FENCE() ((void)0)
#endif

struct cl_array {
	int64_t size; /* a power of two */
	struct cl_array *retired_next;
	_Atomic(struct volt__task *) buf[];
};

struct cl_deque {
	VOLT__ALIGNED_LINE _Atomic int64_t top;
	VOLT__ALIGNED_LINE _Atomic int64_t bottom;
	_Atomic(struct cl_array *) array;
	/* owner-only */
	VOLT__ALIGNED_LINE struct cl_array *retired;
	uint64_t rng;
};

struct chaselev {
	struct cl_deque *d;
	unsigned n;
	struct volt__metrics *metrics;
	struct volt__injector global;
};

/* ---- the deque ---- */

static struct cl_array *cl_array_new(int64_t size)
{
	struct cl_array *a = malloc(sizeof(*a) + (size_t)size * sizeof(a->buf[0]));

	if (a) {
		a->size = size;
		a->retired_next = NULL;
	}
	return a;
}

static struct volt__task *slot_get(struct cl_array *a, int64_t i)
{
	/* relaxed: ordered by the loads of top/bottom around it (Lê et al.) */
	return atomic_load_explicit(&a->buf[i & (a->size - 1)], RELAXED);
}

static void slot_put(struct cl_array *a, int64_t i, struct volt__task *t)
{
	/* relaxed: published by the release store of bottom */
	atomic_store_explicit(&a->buf[i & (a->size - 1)], t, RELAXED);
}

/* Owner: a twice-as-large copy of [t, b); NULL if out of memory. */
static struct cl_array *cl_grow(struct cl_deque *d, struct cl_array *a, int64_t t, int64_t b)
{
	struct cl_array *na = cl_array_new(a->size * 2);

	if (!na)
		return NULL;
	for (int64_t i = t; i < b; i++)
		slot_put(na, i, slot_get(a, i));
	/* release: thieves that load the new array see the copied slots */
	volt__store(&d->array, na, RELEASE);
	a->retired_next = d->retired;
	d->retired = a;
	return na;
}

/* Owner push; false only if the deque is full and cannot grow. */
static bool cl_push(struct cl_deque *d, struct volt__task *x)
{
	int64_t b = volt__load(&d->bottom, RELAXED); /* relaxed: ours */
	int64_t t = volt__load(&d->top, ACQUIRE);    /* acquire: slots below top are free */
	struct cl_array *a = volt__load(&d->array, RELAXED); /* relaxed: ours to change */

	if (b - t > a->size - 1) {
#ifdef VOLT_MUTANT_CHASELEV_GROW_OLD_ARRAY
		/* planted bug (tests/model; the paper's errata): after a resize
		 * the push still writes into the old array */
		struct cl_array *old = a;
#endif
		a = cl_grow(d, a, t, b);
		if (!a)
			return false;
#ifdef VOLT_MUTANT_CHASELEV_GROW_OLD_ARRAY
		a = old;
#endif
	}
	slot_put(a, b, x);
	volt__store(&d->bottom, b + 1, RELEASE); /* release: publishes the slot */
	return true;
}

/* Owner take at the bottom. */
static struct volt__task *cl_take(struct cl_deque *d)
{
	int64_t b = volt__load(&d->bottom, RELAXED) - 1; /* relaxed: ours */
	struct cl_array *a = volt__load(&d->array, RELAXED);
	struct volt__task *x = NULL;

	volt__store(&d->bottom, b, CL_TAKE_BOTTOM);
	CL_FENCE();
	int64_t t = volt__load(&d->top, CL_TAKE_TOP);

	if (t <= b) {
		x = slot_get(a, b);
		if (t == b) {
			/* the last element: race the thieves for it */
#ifdef VOLT_MUTANT_CHASELEV_LAST_NO_CAS
			/* planted bug (tests/model): the last element taken with a
			 * plain store of top, so a racing thief gets it too */
			volt__store(&d->top, t + 1, SEQ_CST);
#else
			if (!volt__cas_strong(&d->top, &t, t + 1, SEQ_CST, RELAXED))
				x = NULL;
#endif
			volt__store(&d->bottom, b + 1, RELAXED); /* relaxed: ours */
		}
	} else {
		volt__store(&d->bottom, b + 1, RELAXED); /* empty: restore */
	}
	return x;
}

/* Thief take at the top; NULL if empty or another taker won. */
static struct volt__task *cl_steal(struct cl_deque *d)
{
	int64_t t = volt__load(&d->top, CL_STEAL_TOP);

	CL_FENCE();
	int64_t b = volt__load(&d->bottom, CL_STEAL_BOTTOM);

	if (t >= b)
		return NULL;
	/* acquire (the paper's consume): the array's contents come with it */
	struct cl_array *a = volt__load(&d->array, ACQUIRE);
	struct volt__task *x = slot_get(a, t);

	if (!volt__cas_strong(&d->top, &t, t + 1, SEQ_CST, RELAXED))
		return NULL;
	return x;
}

static int64_t cl_len(struct cl_deque *d)
{
	/* acquire on both: a snapshot for has_work */
	int64_t b = volt__load(&d->bottom, ACQUIRE);
	int64_t t = volt__load(&d->top, ACQUIRE);

	return b > t ? b - t : 0;
}

/* ---- the global queue ---- */

static struct volt__task *global_pop(struct chaselev *c, unsigned w)
{
	size_t taken;
	struct volt__task *t = volt__injector_pop(&c->global, 1, &taken);

	if (t)
		volt__count(&c->metrics[w].global_pops);
	return t;
}

/* ---- the policy ---- */

static void chaselev_fini(void *state)
{
	struct chaselev *c = state;

	for (unsigned i = 0; i < c->n; i++) {
		struct cl_deque *d = &c->d[i];
		struct cl_array *a = d->retired;

		while (a) {
			struct cl_array *next = a->retired_next;

			free(a);
			a = next;
		}
		free(atomic_load_explicit(&d->array, RELAXED));
	}
	volt__injector_fini(&c->global);
	free(c->d);
	free(c);
}

static int chaselev_init(void **state, const struct volt__sched_env *env)
{
	struct chaselev *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->metrics = env->metrics;
	c->d = aligned_alloc(VOLT__CACHELINE, env->nworkers * sizeof(*c->d));
	if (!c->d || volt__injector_init(&c->global)) {
		free(c->d);
		free(c);
		return -ENOMEM;
	}
	memset(c->d, 0, env->nworkers * sizeof(*c->d));
	for (unsigned i = 0; i < env->nworkers; i++) {
		struct cl_deque *d = &c->d[i];
		struct cl_array *a = cl_array_new(CL_INITIAL);

		atomic_init(&d->top, 0);
		atomic_init(&d->bottom, 0);
		atomic_init(&d->array, a);
		d->rng = volt__rng_stream(env->seed, i);
		c->n = i + 1; /* fini frees the deques made so far */
		if (!a) {
			chaselev_fini(c);
			return -ENOMEM;
		}
	}
	*state = c;
	return 0;
}

static bool chaselev_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	struct chaselev *c = state;

	if (w < 0 || how == VOLT__PUSH_REMOTE || how == VOLT__PUSH_YIELD ||
	    !cl_push(&c->d[w], t)) {
		volt__injector_push(&c->global, t, t, 1);
		if (w >= 0)
			volt__count(&c->metrics[w].overflow_moves);
	}
	return true;
}

static struct volt__task *chaselev_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	struct chaselev *c = state;
	struct volt__task *t;

	*lifo = false;
	if (global_first) {
		t = global_pop(c, w);
		if (t)
			return t;
	}
	t = cl_take(&c->d[w]);
	if (t)
		return t;
	return global_pop(c, w);
}

static struct volt__task *steal_one(void *state, unsigned victim, unsigned thief,
				    uint32_t *stolen)
{
	struct chaselev *c = state;
	struct volt__task *t = cl_steal(&c->d[victim]);

	(void)thief;
	*stolen = t != NULL;
	return t;
}

static struct volt__task *chaselev_steal(void *state, unsigned w, unsigned pass, unsigned passes)
{
	(void)pass;
	(void)passes;
	struct chaselev *c = state;
	struct volt__task *t = volt__steal_pass(c, c->n, w, &c->d[w].rng, &c->metrics[w], steal_one);

	return t ? t : global_pop(c, w);
}

static bool chaselev_has_work(void *state)
{
	struct chaselev *c = state;

	if (volt__injector_len(&c->global))
		return true;
	for (unsigned i = 0; i < c->n; i++)
		if (cl_len(&c->d[i]))
			return true;
	return false;
}

const struct volt__sched_ops volt__sched_chaselev = {
	.name = "chaselev",
	.workers = NULL,
	.init = chaselev_init,
	.fini = chaselev_fini,
	.push = chaselev_push,
	.pop = chaselev_pop,
	.steal = chaselev_steal,
	.has_work = chaselev_has_work,
};
