/* SPDX-License-Identifier: MIT */
/*
 * core/timers.c: the clock, the timer wheels of a runtime, and who sleeps
 * until the next deadline.
 *
 * Sharded wheels. Each worker has a wheel under its own mutex, and threads
 * outside the runtime share one more. A future that waits registers its
 * timer (embedded in the future) in the wheel of the worker polling it and
 * stays there until it fires or is cancelled, even if its task migrates: so
 * an insert or a cancel takes a lock nobody else wants, except a worker
 * firing that wheel. One wheel under one lock (Volt's design, worker 0
 * driving it) puts every sleep of every worker on one contended line; the
 * cost is measured side by side in experiments/timer_bench.c. Any worker
 * fires any wheel: each keeps `next`, a lower bound of its next event, so
 * "is anything due?" is a load per wheel, done at every maintenance pass
 * (cfg.event_interval polls) and before parking. Firing takes the wheel's
 * lock (a worker that finds it taken leaves the wheel to whoever holds it,
 * rather than sleep on the mutex: a futex wait and wake cost more than the
 * holder needs), moves up to FIRE_BATCH wakers out of their timers, unlocks,
 * then wakes them: a timer is never touched after its lock is dropped, so the
 * future may be dropped at any moment after.
 *
 * `next` is the tick of the wheel's next event: a deadline, or the start of
 * a higher-level slot whose timers must cascade down (the wheel's insert
 * says which). It is lowered by inserts and made exact by firing; a cancel
 * leaves it low. A low `next` only costs a firing pass that finds nothing; a
 * high one would let a timer sleep through its deadline (tokio #6682).
 *
 * The timekeeper. Of the parked workers, one at most sleeps with a timeout:
 * the keeper, which sleeps until the earliest `next` it saw. Everyone else
 * sleeps until woken. The danger is a timer inserted, earlier than the
 * keeper's deadline, by a thread the keeper did not see. Two cases:
 *
 * - The inserter is a worker. It will park itself later, and before it
 *   does it compares its own earliest deadline with `keeper_tick`; if its
 *   own is earlier it unparks the keeper, which looks again.
 * - The inserter is another thread. After inserting it does the same
 *   comparison at once; with no keeper it wakes a sleeping worker
 *   (volt__idle_notify), which becomes one.
 *
 * Both are the store-buffering pattern of core/idle.c: the keeper stores
 * keeper_tick, fences, and reads every `next`; the inserter stores `next`,
 * fences, and reads keeper_tick. One of them sees the other. A stale read
 * errs towards an unneeded unpark, never a missed one.
 *
 * The virtual clock (cfg.clock). Time moves only when the last worker to go
 * to sleep finds every other worker asleep, no work queued, and no job in
 * the blocking pool: it moves the clock to the earliest deadline (read
 * exactly, under the locks), or to the I/O driver's next event if that is
 * earlier (the sim driver's network, volt__io_next_event), and goes back to
 * fire it. So a test of hours of timers runs in microseconds, and under the
 * one-worker `sim` policy the run is a function of the seed. While a blocking job runs the clock holds
 * and the last sleeper looks again every millisecond of real time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/futex.h"
#include "core/rt.h"
#include "core/timers.h"

#define NS_PER_TICK 1000000ull
#define FIRE_BATCH 64
#define BLOCKING_RECHECK_NS NS_PER_TICK

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t volt__clock_ns(const struct volt_rt *rt)
{
	const struct volt__timers *tm = &rt->timers;

	/* acquire: a reader that sees the new time sees what the mover did before */
	return tm->virtual_clock ? volt__load(&tm->virtual_ns, ACQUIRE) : monotonic_ns();
}

/* The tick a deadline in ns fires at: rounded up, so never early. */
static uint64_t deadline_tick(uint64_t ns)
{
	return ns / NS_PER_TICK + (ns % NS_PER_TICK != 0);
}

int volt__timers_init(struct volt_rt *rt)
{
	struct volt__timers *tm = &rt->timers;
	unsigned n = rt->nworkers + 1;

	tm->virtual_clock = rt->cfg.clock == VOLT_CLOCK_VIRTUAL;
	atomic_init(&tm->virtual_ns, 0);
	atomic_init(&tm->keeper, -1);
	atomic_init(&tm->keeper_tick, UINT64_MAX);
	tm->shards = aligned_alloc(VOLT__CACHELINE, n * sizeof(*tm->shards));
	if (!tm->shards)
		return -ENOMEM;
	memset(tm->shards, 0, n * sizeof(*tm->shards));

	uint64_t now = volt__clock_ns(rt) / NS_PER_TICK;

	for (unsigned i = 0; i < n; i++) {
		struct volt__timer_shard *s = &tm->shards[i];

		if (pthread_mutex_init(&s->lock, NULL)) {
			tm->nshards = i;
			volt__timers_fini(tm);
			return -ENOMEM;
		}
		atomic_init(&s->next, UINT64_MAX);
		volt__wheel_init(&s->wheel, now);
	}
	tm->nshards = n;
	return 0;
}

void volt__timers_fini(struct volt__timers *tm)
{
	for (unsigned i = 0; i < tm->nshards; i++)
		pthread_mutex_destroy(&tm->shards[i].lock);
	free(tm->shards);
	tm->shards = NULL;
	tm->nshards = 0;
}

/* The least `next` over all wheels: a lower bound of the first deadline. */
static uint64_t next_bound(struct volt__timers *tm)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < tm->nshards; i++) {
		/* relaxed: callers order it with a fence where it matters */
		uint64_t n = volt__load(&tm->shards[i].next, RELAXED);

		if (n < next)
			next = n;
	}
	return next;
}

/* The timekeeper sleeps past `tick`: wake it (or a sleeper) to look again. */
static void wake_timekeeper(struct volt_rt *rt, uint64_t tick)
{
	struct volt__timers *tm = &rt->timers;

	/* relaxed: after the caller's fence (the store-buffering pattern above) */
	if (volt__load(&tm->keeper_tick, RELAXED) <= tick)
		return;
	int k = volt__load(&tm->keeper, RELAXED);

	if (k >= 0)
		volt__worker_unpark(rt, k);
	else
		volt__idle_notify(rt);
}

bool volt__timer_arm(struct volt_cx *cx, struct volt_timer *t, uint64_t now)
{
	struct volt_rt *rt = cx->rt;
	struct volt__worker *w = cx->worker;
	struct volt_waker old = { NULL, NULL };
	uint64_t lowered_to = UINT64_MAX, inserted = UINT64_MAX;

	if (now >= t->deadline) {
		volt__timer_disarm(t);
		return false;
	}
	if (t->rt != rt) {
		volt__timer_disarm(t);
		t->rt = rt;
		t->shard = w ? w->idx : rt->nworkers;
	}

	struct volt__timer_shard *s = &rt->timers.shards[t->shard];
	uint64_t tick = deadline_tick(t->deadline);

	pthread_mutex_lock(&s->lock);
	if (!t->node.linked || t->node.deadline != tick) {
		volt__wheel_cancel(&s->wheel, &t->node);
		__atomic_store_n(&t->fired, 0, __ATOMIC_RELAXED); /* under the lock */
		t->node.deadline = tick;
		uint64_t event = volt__wheel_insert(&s->wheel, &t->node);

		inserted = event;
		/* relaxed: under the lock; the outside inserter fences below */
		if (event < volt__load(&s->next, RELAXED)) {
			volt__store(&s->next, event, RELAXED);
			lowered_to = event;
		}
	}
	if (!t->waker.ops) {
		t->waker = volt_waker_clone(&cx->waker);
	} else if (!volt_waker_will_wake(&t->waker, &cx->waker)) {
		old = t->waker;
		t->waker = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&s->lock);
	volt_waker_drop(&old);
	/*
	 * The virtual clock has no timekeeper to find a stale-low `next` again:
	 * an outside insert always tells a sleeper, which recomputes the exact
	 * next deadline (a cancelled timer leaves `next` low, so not lowering
	 * it proves nothing).
	 */
	if (!w && rt->timers.virtual_clock && inserted != UINT64_MAX && lowered_to == UINT64_MAX)
		lowered_to = inserted;
	if (lowered_to != UINT64_MAX && !w) {
		volt__fence_sc(); /* the timekeeper argument above */
		wake_timekeeper(rt, lowered_to);
	}
	return true;
}

void volt__timer_disarm(struct volt_timer *t)
{
	struct volt_rt *rt = t->rt;
	struct volt_waker waker;

	if (!rt)
		return;
	/*
	 * acquire: pairs with the release in take_waker, the wheel's last touch
	 * of t: it is out of the wheel, its waker taken; no lock needed (the
	 * common case: a sleep dropped after it completed)
	 */
	if (__atomic_load_n(&t->fired, __ATOMIC_ACQUIRE)) {
		t->rt = NULL;
		return;
	}
	struct volt__timer_shard *s = &rt->timers.shards[t->shard];

	pthread_mutex_lock(&s->lock);
	volt__wheel_cancel(&s->wheel, &t->node);
	waker = t->waker;
	t->waker.ops = NULL;
	pthread_mutex_unlock(&s->lock);
	volt_waker_drop(&waker);
	t->rt = NULL;
}

struct fire_batch {
	size_t n;
	struct volt_waker wakers[FIRE_BATCH];
};

/* Under the wheel's lock: the timer is unlinked; take its waker out. */
static void take_waker(struct volt__timer *node, void *arg)
{
	struct fire_batch *b = arg;
	struct volt_timer *t = (struct volt_timer *)((char *)node - offsetof(struct volt_timer, node));

	b->wakers[b->n++] = t->waker;
	t->waker.ops = NULL;
	/* release: the last touch; the owner may free t once it sees this */
	__atomic_store_n(&t->fired, 1, __ATOMIC_RELEASE);
}

static size_t fire_shard(struct volt__timer_shard *s, uint64_t now)
{
	struct fire_batch b;
	size_t total = 0, got = 0;

	do {
		b.n = 0;
		/* busy: another worker fires it, or an insert is about to finish */
		if (pthread_mutex_trylock(&s->lock))
			break;
		got = volt__wheel_advance(&s->wheel, now, FIRE_BATCH, take_waker, &b);
		/* relaxed: under the lock; exact now, until the next insert lowers it */
		volt__store(&s->next, volt__wheel_next(&s->wheel), RELAXED);
		pthread_mutex_unlock(&s->lock);
		for (size_t i = 0; i < b.n; i++)
			if (b.wakers[i].ops)
				volt_waker_wake(&b.wakers[i]);
		total += got;
	} while (got == FIRE_BATCH);
	return total;
}

size_t volt__timers_fire(struct volt_rt *rt, struct volt__worker *w)
{
	struct volt__timers *tm = &rt->timers;
	size_t fired = 0;

	if (next_bound(tm) == UINT64_MAX)
		return 0;

	uint64_t now = volt__clock_ns(rt) / NS_PER_TICK;

	for (unsigned i = 0; i < tm->nshards; i++) {
		struct volt__timer_shard *s = &tm->shards[(w->idx + i) % tm->nshards];

		/* relaxed: a stale value delays this wheel to the next pass, or
		 * costs a pass that finds nothing */
		if (volt__load(&s->next, RELAXED) <= now)
			fired += fire_shard(s, now);
	}
	if (fired)
		volt__count_n(&rt->metrics[w->idx].timers_fired, fired);
	return fired;
}

/* The exact earliest event over all wheels, read under their locks. */
static uint64_t next_exact(struct volt__timers *tm)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < tm->nshards; i++) {
		struct volt__timer_shard *s = &tm->shards[i];

		pthread_mutex_lock(&s->lock);
		uint64_t n = volt__wheel_next(&s->wheel);

		pthread_mutex_unlock(&s->lock);
		if (n < next)
			next = n;
	}
	return next;
}

static uint64_t park_virtual(struct volt_rt *rt, bool last)
{
	struct volt__timers *tm = &rt->timers;

	if (!last)
		return VOLT__PARK_FOREVER;
	uint64_t next = next_exact(tm);
	uint64_t to = next > UINT64_MAX / NS_PER_TICK ? UINT64_MAX : next * NS_PER_TICK;
	/* a driver with events of its own (sim): the earlier of the two */
	uint64_t io_next = volt__io_next_event(rt);

	if (io_next < to)
		to = io_next;
	if (to == UINT64_MAX)
		return VOLT__PARK_FOREVER;
	if (volt__blocking_busy(&rt->blocking) || volt__io_hold_clock(rt))
		return monotonic_ns() + BLOCKING_RECHECK_NS;

	/* release: pairs with the acquire in volt__clock_ns */
	if (to > volt__load(&tm->virtual_ns, RELAXED))
		volt__store(&tm->virtual_ns, to, RELEASE);
	return VOLT__PARK_NOT;
}

uint64_t volt__timers_park_begin(struct volt_rt *rt, struct volt__worker *w, bool last)
{
	struct volt__timers *tm = &rt->timers;

	if (tm->virtual_clock)
		return park_virtual(rt, last);

	/* ordered after our own inserts by the fence in volt__idle_sleep */
	uint64_t next = next_bound(tm);

	if (next == UINT64_MAX)
		return VOLT__PARK_FOREVER;
	if (next <= monotonic_ns() / NS_PER_TICK)
		return VOLT__PARK_NOT;

	int nobody = -1;

	if (volt__cas_strong(&tm->keeper, &nobody, (int)w->idx, SEQ_CST, RELAXED)) {
		volt__store(&tm->keeper_tick, next, SEQ_CST);
		volt__fence_sc(); /* the timekeeper argument above */
		uint64_t again = next_bound(tm);

		if (again < next) {
			next = again;
			volt__store(&tm->keeper_tick, next, SEQ_CST);
		}
		return next > UINT64_MAX / NS_PER_TICK ? VOLT__PARK_FOREVER : next * NS_PER_TICK;
	}
	wake_timekeeper(rt, next);
	return VOLT__PARK_FOREVER;
}

void volt__timers_park_end(struct volt_rt *rt, struct volt__worker *w)
{
	struct volt__timers *tm = &rt->timers;

	/* relaxed: only w itself ever stores its own index here */
	if (volt__load(&tm->keeper, RELAXED) != (int)w->idx)
		return;
	volt__store(&tm->keeper_tick, UINT64_MAX, SEQ_CST);
	volt__store(&tm->keeper, -1, SEQ_CST);
}
