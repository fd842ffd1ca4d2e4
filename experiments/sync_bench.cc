// SPDX-License-Identifier: MIT
/*
 * experiments/sync_bench.cc: what the synchronisation primitives
 * (include/volt/sync.h) cost, uncontended and contended. The only C++ in
 * the project: Google Benchmark drives it (`make bench-micro`); the Tokio
 * peer is experiments/peers/tokio/src/bin/sync_bench.rs (E19).
 *
 *	sync_bench [--benchmark_* ...] [--workers N]
 *	sync_bench --result [--tier 1|3|all] [--reps N] [--warmup N]
 *	           [--rounds N] [--workers N]
 *
 * The shapes are Volt's published sync benchmarks.
 *
 * Tier 2 (Google Benchmark mode only; the harness's channel figures come
 * from experiments/chan_bench.c, E20): TIER2_OPS = 100,000 operations of
 * a bounded channel round trip (capacity 1) on each buffer, a oneshot
 * made, sent and received, a broadcast send read by 4 receivers, a watch
 * send and borrow.
 *
 * Tier 1: one thread, no runtime involved, TIER1_OPS = 1,000,000
 * operations per case; ns per operation:
 * - tier1/mutex (mutex_ns): volt_mutex_try_lock + volt_mutex_unlock on one
 *   mutex;
 * - tier1/rwlock_read (rwlock_read_ns): volt_rwlock_try_read +
 *   volt_rwlock_read_unlock;
 * - tier1/rwlock_write (rwlock_write_ns): volt_rwlock_try_write +
 *   volt_rwlock_write_unlock;
 * - tier1/semaphore (semaphore_ns): a semaphore of 10 permits,
 *   volt_semaphore_try_acquire(1) + volt_semaphore_release(1);
 * - tier1/once_get (once_get_ns): volt_once_get on a cell made with
 *   volt_once_init_with(42), the value checked;
 * - tier1/once_set (once_set_ns): per operation a new cell: volt_once_init,
 *   volt_once_set(i), volt_once_destroy;
 * - tier1/notify (notify_ns): per operation a new notify: volt_notify_init,
 *   volt_notify_one (nobody waits: it stores the permit), then
 *   volt_notify_wait_with on a zeroed waiter, which consumes the permit and
 *   returns 0 at once (a no-op waker, never woken), volt_notify_destroy;
 * - tier1/barrier (barrier_ns): per operation volt_barrier_init(1),
 *   volt_barrier_wait_with (0 at once, the caller the leader),
 *   volt_barrier_destroy.
 * Every operation's result is checked (a try that fails, a wait that is
 * pending, a wrong value: the case fails).
 *
 * Tier 3: contended, inside the runtime (--workers, else VOLT_WORKERS,
 * else 2 workers; VOLT_SCHED picks the policy). One round spawns the tasks
 * from the main thread (which is no worker), each with a join handle, and
 * waits for each with volt_join_wait; it is timed from just before the
 * first spawn to the return of the last join. Metric: that time over the
 * operations of all the tasks, in ns per operation. Each round starts from
 * a fresh primitive:
 * - tier3/mutex_4tasks (mutex_contended_ns): 4 tasks x 2,500 times: await
 *   the volt_mutex_lock future, increment a shared counter (a plain
 *   uint64_t the mutex guards), volt_mutex_unlock. Check: counter = 10,000;
 * - tier3/rwlock_4r2w (rwlock_contended_ns): 4 readers and 2 writers
 *   (spawned R R W R R W) x 1,666 times each: a reader awaits
 *   volt_rwlock_read, reads the value, volt_rwlock_read_unlock; a writer
 *   awaits volt_rwlock_write, increments it, volt_rwlock_write_unlock.
 *   9,996 operations. Check: value = 3,332 and every task did its 1,666;
 * - tier3/semaphore_8t_2p (semaphore_contended_ns): a semaphore of 2
 *   permits, 8 tasks x 1,250 times: volt_semaphore_try_acquire(1) (the
 *   fast path), else await the volt_semaphore_acquire future; hold nothing;
 *   volt_semaphore_release(1). Check: 10,000 acquisitions and the 2 permits
 *   free at the end. With 2 workers at most 2 tasks run at once, so the try
 *   almost never fails: this measures two threads bouncing the permit word.
 * A failed check prints what differed and exits 1.
 *
 * Google Benchmark mode (without --result): one benchmark per case, named
 * as above; the usual --benchmark_* flags work (filter, format, out,
 * repetitions...). Tier 1 runs exactly TIER1_OPS iterations (one operation
 * each), so its time per iteration is ns per operation; a tier-3 iteration
 * is one round (UseRealTime: the main thread mostly waits), and its
 * ns_per_op counter is the round's time over its operations. Every case
 * also reports ns_per_op (its own clock, around the whole loop) and
 * items_per_second.
 *
 * --result mode: the harness protocol (experiments/README.md): --warmup
 * untimed repetitions (default 1), then for each of --reps (default 5) one
 * line per case, result,<rep>,<metric>,<ns per op>,ns, tier 1 first, in the
 * order above; --tier 1 or 3 runs one tier only (the suite's two E19 ids).
 * A tier-3 case runs --rounds rounds per repetition (default 1) and reports
 * their total time over their total operations. After the last repetition
 * (both modes), '#' lines tell per tier-3 case how often its tasks
 * suspended (polls beyond each task's first: waits and budget yields), in
 * how many rounds more than one worker ran its tasks (a round run by one
 * worker alone is not contended across threads), and how often the
 * semaphore's try failed.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <volt.h>

namespace {

constexpr uint64_t TIER1_OPS = 1000000;
constexpr uint64_t TIER2_OPS = 100000; /* Volt's channel tier: CHANNEL_OPS */
constexpr uint32_t SEM_T1_PERMITS = 10;
constexpr uint64_t ONCE_VALUE = 42;

constexpr unsigned MUTEX_TASKS = 4, MUTEX_ITERS = 2500;
constexpr unsigned RW_READERS = 4, RW_WRITERS = 2, RW_ITERS = 1666;
constexpr unsigned SEM_TASKS = 8, SEM_ITERS = 1250;
constexpr uint32_t SEM_T3_PERMITS = 2;

constexpr unsigned DEFAULT_WORKERS = 2;

uint64_t now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A waker for the tier-1 waits, which must complete without ever waking it. */
void noop_wake(void *) {}
void *noop_clone(void *data) { return data; }
const struct volt_waker_ops noop_waker_ops = { noop_wake, noop_wake, noop_clone, noop_wake };
const struct volt_waker noop_waker = { &noop_waker_ops, nullptr };

/* ------------------------------------------------------------------ tier 1 */

/*
 * A tier-1 case: setup() (0 or -errno), op(i) (one operation; false if its
 * result was wrong), teardown(). The same op runs in both modes.
 */
struct MutexCase {
	static constexpr const char *metric = "mutex_ns";
	struct volt_mutex m;
	int setup() { return volt_mutex_init(&m); }
	bool op(uint64_t)
	{
		if (!volt_mutex_try_lock(&m))
			return false;
		volt_mutex_unlock(&m);
		return true;
	}
	void teardown() { volt_mutex_destroy(&m); }
};

struct RwReadCase {
	static constexpr const char *metric = "rwlock_read_ns";
	struct volt_rwlock l;
	int setup() { return volt_rwlock_init(&l); }
	bool op(uint64_t)
	{
		if (!volt_rwlock_try_read(&l))
			return false;
		volt_rwlock_read_unlock(&l);
		return true;
	}
	void teardown() { volt_rwlock_destroy(&l); }
};

struct RwWriteCase {
	static constexpr const char *metric = "rwlock_write_ns";
	struct volt_rwlock l;
	int setup() { return volt_rwlock_init(&l); }
	bool op(uint64_t)
	{
		if (!volt_rwlock_try_write(&l))
			return false;
		volt_rwlock_write_unlock(&l);
		return true;
	}
	void teardown() { volt_rwlock_destroy(&l); }
};

struct SemaphoreCase {
	static constexpr const char *metric = "semaphore_ns";
	struct volt_semaphore s;
	int setup() { return volt_semaphore_init(&s, SEM_T1_PERMITS); }
	bool op(uint64_t)
	{
		if (volt_semaphore_try_acquire(&s, 1) != 0)
			return false;
		volt_semaphore_release(&s, 1);
		return true;
	}
	void teardown() { volt_semaphore_destroy(&s); }
};

struct OnceGetCase {
	static constexpr const char *metric = "once_get_ns";
	struct volt_once c;
	int setup() { return volt_once_init_with(&c, (void *)(uintptr_t)ONCE_VALUE); }
	bool op(uint64_t)
	{
		void *v = nullptr;

		return volt_once_get(&c, &v) == 0 && v == (void *)(uintptr_t)ONCE_VALUE;
	}
	void teardown() { volt_once_destroy(&c); }
};

struct OnceSetCase {
	static constexpr const char *metric = "once_set_ns";
	int setup() { return 0; }
	bool op(uint64_t i)
	{
		struct volt_once c;
		bool ok;

		if (volt_once_init(&c) != 0)
			return false;
		ok = volt_once_set(&c, (void *)(uintptr_t)i) == 0;
		volt_once_destroy(&c);
		return ok;
	}
	void teardown() {}
};

struct NotifyCase {
	static constexpr const char *metric = "notify_ns";
	int setup() { return 0; }
	bool op(uint64_t)
	{
		struct volt_notify n;
		struct volt_waiter w;
		bool ok;

		if (volt_notify_init(&n) != 0)
			return false;
		memset(&w, 0, sizeof w);
		volt_notify_one(&n);
		ok = volt_notify_wait_with(&n, &w, &noop_waker) == 0;
		volt_notify_destroy(&n);
		return ok;
	}
	void teardown() {}
};

struct BarrierCase {
	static constexpr const char *metric = "barrier_ns";
	int setup() { return 0; }
	bool op(uint64_t)
	{
		struct volt_barrier b;
		struct volt_barrier_waiter w;
		bool ok;

		if (volt_barrier_init(&b, 1) != 0)
			return false;
		memset(&w, 0, sizeof w);
		ok = volt_barrier_wait_with(&b, &w, &noop_waker) == 0 && w.leader;
		volt_barrier_destroy(&b);
		return ok;
	}
	void teardown() {}
};

/* --result: TIER1_OPS operations of case C; ns per operation, or -1 (after a message). */
template <class C> double tier1_run()
{
	C c;
	int err = c.setup();

	if (err) {
		fprintf(stderr, "sync_bench: %s: setup: %s\n", C::metric, strerror(-err));
		return -1;
	}
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < TIER1_OPS; i++) {
		if (!c.op(i)) {
			fprintf(stderr, "sync_bench: %s: operation %llu gave a wrong result\n",
				C::metric, (unsigned long long)i);
			c.teardown();
			return -1;
		}
	}
	uint64_t t1 = now_ns();
	c.teardown();
	return (double)(t1 - t0) / (double)TIER1_OPS;
}

bool g_failed; /* some case failed its check (Google Benchmark mode) */

/* Google Benchmark: one operation of C per iteration. */
template <class C> void BM_tier1(benchmark::State &st)
{
	C c;
	uint64_t i = 0;
	int err = c.setup();

	if (err) {
		g_failed = true;
		st.SkipWithError("setup failed");
		return;
	}
	uint64_t t0 = now_ns();
	for (auto _ : st) {
		if (!c.op(i++)) {
			g_failed = true;
			st.SkipWithError("an operation gave a wrong result");
			break;
		}
	}
	uint64_t t1 = now_ns();
	c.teardown();
	st.SetItemsProcessed((int64_t)i);
	st.counters["ns_per_op"] = benchmark::Counter(i ? (double)(t1 - t0) / (double)i : 0);
}

/*
 * Tier 2 of the channels, in Google Benchmark form (`make bench-micro`;
 * the harness runs the same shapes through experiments/chan_bench.c, E20).
 */
template <const char *Buffer> struct ChanRoundtripCase {
	static constexpr const char *metric = "chan_roundtrip_ns";
	struct volt_chan *ch = nullptr;
	int setup() { return volt_chan_new(sizeof(uint64_t), 1, Buffer, &ch); }
	bool op(uint64_t i)
	{
		uint64_t v = 0;

		return volt_chan_try_send(ch, &i) == VOLT_CHAN_OK &&
		       volt_chan_try_recv(ch, &v) == VOLT_CHAN_OK && v == i;
	}
	void teardown() { volt_chan_free(ch); }
};

constexpr char VYUKOV[] = "vyukov";
constexpr char LOCKED[] = "locked";

struct OneshotCase {
	static constexpr const char *metric = "oneshot_ns";
	int setup() { return 0; }
	bool op(uint64_t i)
	{
		struct volt_oneshot o;
		void *v = nullptr;
		bool ok;

		if (volt_oneshot_init(&o) != 0)
			return false;
		ok = volt_oneshot_send(&o, (void *)(uintptr_t)(i + 1)) == VOLT_CHAN_OK &&
		     volt_oneshot_try_recv(&o, &v) == VOLT_CHAN_OK && v == (void *)(uintptr_t)(i + 1);
		volt_oneshot_destroy(&o);
		return ok;
	}
	void teardown() {}
};

struct BroadcastCase {
	static constexpr const char *metric = "broadcast_ns";
	struct volt_broadcast *b = nullptr;
	struct volt_broadcast_rx rx[4];
	int setup()
	{
		int ret = volt_broadcast_new(16, &b);

		for (int k = 0; !ret && k < 4; k++)
			volt_broadcast_subscribe(b, &rx[k]);
		return ret;
	}
	bool op(uint64_t i)
	{
		void *v;
		uint64_t missed;

		if (volt_broadcast_send(b, (void *)(uintptr_t)(i + 1)) != VOLT_CHAN_OK)
			return false;
		for (int k = 0; k < 4; k++)
			if (volt_broadcast_try_recv(&rx[k], &v, &missed) != VOLT_CHAN_OK ||
			    v != (void *)(uintptr_t)(i + 1))
				return false;
		return true;
	}
	void teardown()
	{
		for (int k = 0; k < 4; k++)
			volt_broadcast_unsubscribe(&rx[k]);
		volt_broadcast_free(b);
	}
};

struct WatchCase {
	static constexpr const char *metric = "watch_ns";
	struct volt_watch w;
	struct volt_watch_rx rx;
	int setup()
	{
		int ret = volt_watch_init(&w, nullptr);

		if (!ret)
			volt_watch_subscribe(&w, &rx);
		return ret;
	}
	bool op(uint64_t i)
	{
		return volt_watch_send(&w, (void *)(uintptr_t)(i + 1)) == VOLT_CHAN_OK &&
		       volt_watch_borrow(&rx) == (void *)(uintptr_t)(i + 1);
	}
	void teardown() { volt_watch_destroy(&w); }
};

/* ------------------------------------------------------------------ tier 3 */

struct volt_rt *g_rt;

/* What a task reports when it ends (read by the main thread after the join). */
struct TaskOut {
	uint64_t ops;
	uint64_t slow;    /* semaphore: acquisitions that awaited the future */
	uint64_t seen;    /* rwlock readers: the sum of the values read */
	uint64_t polls;   /* times the task was polled (1 = it never suspended) */
	uint64_t workers; /* the workers that polled it, one bit each (index mod 64) */
	int err;
};

/* Called at the top of every poll of a tier-3 task: the diagnostics. */
void note_poll(TaskOut *o)
{
	int w = volt_worker_index();

	o->polls++;
	o->workers |= 1ull << ((unsigned)(w < 0 ? 63 : w) % 64);
}

struct MutexTask {
	struct volt_future base;
	struct volt_mutex *m;
	uint64_t *counter;
	TaskOut *out;
	uint32_t i, n;
	struct volt_acquire acq;
};

enum volt_poll mutex_task_poll(struct volt_future *f, struct volt_cx *cx)
{
	MutexTask *t = reinterpret_cast<MutexTask *>(f);

	note_poll(t->out);
	VOLT_BEGIN(f);
	for (t->i = 0; t->i < t->n; t->i++) {
		VOLT_AWAIT(f, cx, volt_mutex_lock(&t->acq, t->m));
		if (t->acq.result) {
			t->out->err = t->acq.result;
			VOLT_RETURN(f, cx, 0);
		}
		++*t->counter;
		volt_mutex_unlock(t->m);
	}
	t->out->ops = t->n;
	VOLT_END(f);
}

const struct volt_future_ops mutex_task_ops = { mutex_task_poll, nullptr };

struct RwTask {
	struct volt_future base;
	struct volt_rwlock *l;
	uint64_t *value;
	TaskOut *out;
	uint32_t i, n;
	bool writer;
	uint64_t seen;
	struct volt_acquire acq;
};

enum volt_poll rw_task_poll(struct volt_future *f, struct volt_cx *cx)
{
	RwTask *t = reinterpret_cast<RwTask *>(f);

	note_poll(t->out);
	VOLT_BEGIN(f);
	for (t->i = 0; t->i < t->n; t->i++) {
		if (t->writer) {
			VOLT_AWAIT(f, cx, volt_rwlock_write(&t->acq, t->l));
			if (t->acq.result)
				break;
			++*t->value;
			volt_rwlock_write_unlock(t->l);
		} else {
			VOLT_AWAIT(f, cx, volt_rwlock_read(&t->acq, t->l));
			if (t->acq.result)
				break;
			t->seen += *t->value;
			volt_rwlock_read_unlock(t->l);
		}
	}
	t->out->err = t->acq.result;
	t->out->ops = t->i;
	t->out->seen = t->seen;
	VOLT_END(f);
}

const struct volt_future_ops rw_task_ops = { rw_task_poll, nullptr };

struct SemTask {
	struct volt_future base;
	struct volt_semaphore *s;
	TaskOut *out;
	uint32_t i, n;
	uint64_t slow;
	struct volt_acquire acq;
};

enum volt_poll sem_task_poll(struct volt_future *f, struct volt_cx *cx)
{
	SemTask *t = reinterpret_cast<SemTask *>(f);
	int r;

	note_poll(t->out);
	VOLT_BEGIN(f);
	for (t->i = 0; t->i < t->n; t->i++) {
		r = volt_semaphore_try_acquire(t->s, 1);
		if (r == -EAGAIN) {
			t->slow++;
			VOLT_AWAIT(f, cx, volt_semaphore_acquire(&t->acq, t->s, 1));
			r = t->acq.result;
		}
		if (r) {
			t->out->err = r;
			break;
		}
		/* hold: nothing */
		volt_semaphore_release(t->s, 1);
	}
	t->out->ops = t->i;
	t->out->slow = t->slow;
	VOLT_END(f);
}

const struct volt_future_ops sem_task_ops = { sem_task_poll, nullptr };

/*
 * Spawns every task (a copy of each) with a join handle, then joins them
 * all, in order. Timed from just before the first spawn to the last join:
 * *ns. 0, or the first spawn or join error (the tasks spawned are still
 * joined).
 */
template <class T>
int spawn_join(std::vector<T> &tasks, std::vector<struct volt_join *> &joins, uint64_t *ns)
{
	size_t k = 0;
	int err = 0;
	uint64_t t0 = now_ns();

	for (; k < tasks.size(); k++) {
		err = volt_spawn(g_rt, &tasks[k].base, sizeof(T), &joins[k]);
		if (err)
			break;
	}
	for (size_t j = 0; j < k; j++) {
		int e = volt_join_wait(joins[j], nullptr);

		if (e && !err)
			err = e;
	}
	*ns = now_ns() - t0;
	return err;
}

/* The diagnostics of a tier-3 case over a whole run (warm-up included). */
struct Diag {
	uint64_t rounds, polls, tasks, spread; /* spread: rounds run by 2+ workers */
};
Diag g_diag[3];
uint64_t g_sem_slow, g_sem_ops;

void note_round(Diag *d, const std::vector<TaskOut> &out)
{
	uint64_t mask = 0;

	for (const TaskOut &o : out) {
		d->polls += o.polls;
		mask |= o.workers;
	}
	d->tasks += out.size();
	d->rounds++;
	d->spread += __builtin_popcountll(mask) > 1;
}

/* One round of each tier-3 case: its time in *ns and its operations in *ops; 0 or -1. */
int mutex_round(uint64_t *ns, uint64_t *ops)
{
	struct volt_mutex m;
	uint64_t counter = 0;
	std::vector<TaskOut> out(MUTEX_TASKS, TaskOut{});
	std::vector<MutexTask> tasks(MUTEX_TASKS);
	std::vector<struct volt_join *> joins(MUTEX_TASKS);
	int err = volt_mutex_init(&m);

	if (err) {
		fprintf(stderr, "sync_bench: mutex_contended: init: %s\n", strerror(-err));
		return -1;
	}
	for (unsigned k = 0; k < MUTEX_TASKS; k++) {
		memset(&tasks[k], 0, sizeof tasks[k]);
		volt_future_init(&tasks[k].base, &mutex_task_ops);
		tasks[k].m = &m;
		tasks[k].counter = &counter;
		tasks[k].out = &out[k];
		tasks[k].n = MUTEX_ITERS;
	}
	err = spawn_join(tasks, joins, ns);
	volt_mutex_destroy(&m);
	note_round(&g_diag[0], out);
	*ops = (uint64_t)MUTEX_TASKS * MUTEX_ITERS;
	for (unsigned k = 0; k < MUTEX_TASKS && !err; k++)
		err = out[k].err;
	if (err) {
		fprintf(stderr, "sync_bench: mutex_contended: %s\n", strerror(-err));
		return -1;
	}
	if (counter != *ops) {
		fprintf(stderr, "sync_bench: mutex_contended: counter %llu, expected %llu\n",
			(unsigned long long)counter, (unsigned long long)*ops);
		return -1;
	}
	return 0;
}

int rwlock_round(uint64_t *ns, uint64_t *ops)
{
	constexpr unsigned n = RW_READERS + RW_WRITERS;
	struct volt_rwlock l;
	uint64_t value = 0;
	std::vector<TaskOut> out(n, TaskOut{});
	std::vector<RwTask> tasks(n);
	std::vector<struct volt_join *> joins(n);
	int err = volt_rwlock_init(&l);

	if (err) {
		fprintf(stderr, "sync_bench: rwlock_contended: init: %s\n", strerror(-err));
		return -1;
	}
	for (unsigned k = 0; k < n; k++) {
		memset(&tasks[k], 0, sizeof tasks[k]);
		volt_future_init(&tasks[k].base, &rw_task_ops);
		tasks[k].l = &l;
		tasks[k].value = &value;
		tasks[k].out = &out[k];
		tasks[k].n = RW_ITERS;
		tasks[k].writer = k % 3 == 2; /* R R W R R W */
	}
	err = spawn_join(tasks, joins, ns);
	volt_rwlock_destroy(&l);
	note_round(&g_diag[1], out);
	*ops = (uint64_t)n * RW_ITERS;
	for (unsigned k = 0; k < n && !err; k++) {
		err = out[k].err;
		if (!err && out[k].ops != RW_ITERS) {
			fprintf(stderr, "sync_bench: rwlock_contended: task %u did %llu of %u\n", k,
				(unsigned long long)out[k].ops, RW_ITERS);
			return -1;
		}
	}
	if (err) {
		fprintf(stderr, "sync_bench: rwlock_contended: %s\n", strerror(-err));
		return -1;
	}
	if (value != (uint64_t)RW_WRITERS * RW_ITERS) {
		fprintf(stderr, "sync_bench: rwlock_contended: value %llu, expected %llu\n",
			(unsigned long long)value, (unsigned long long)RW_WRITERS * RW_ITERS);
		return -1;
	}
	return 0;
}

int semaphore_round(uint64_t *ns, uint64_t *ops)
{
	struct volt_semaphore s;
	std::vector<TaskOut> out(SEM_TASKS, TaskOut{});
	std::vector<SemTask> tasks(SEM_TASKS);
	std::vector<struct volt_join *> joins(SEM_TASKS);
	uint64_t done = 0;
	int err = volt_semaphore_init(&s, SEM_T3_PERMITS);

	if (err) {
		fprintf(stderr, "sync_bench: semaphore_contended: init: %s\n", strerror(-err));
		return -1;
	}
	for (unsigned k = 0; k < SEM_TASKS; k++) {
		memset(&tasks[k], 0, sizeof tasks[k]);
		volt_future_init(&tasks[k].base, &sem_task_ops);
		tasks[k].s = &s;
		tasks[k].out = &out[k];
		tasks[k].n = SEM_ITERS;
	}
	err = spawn_join(tasks, joins, ns);
	uint32_t left = volt_semaphore_available(&s);
	volt_semaphore_destroy(&s);
	note_round(&g_diag[2], out);
	*ops = (uint64_t)SEM_TASKS * SEM_ITERS;
	for (unsigned k = 0; k < SEM_TASKS; k++) {
		if (!err)
			err = out[k].err;
		done += out[k].ops;
		g_sem_slow += out[k].slow;
	}
	g_sem_ops += done;
	if (err) {
		fprintf(stderr, "sync_bench: semaphore_contended: %s\n", strerror(-err));
		return -1;
	}
	if (done != *ops || left != SEM_T3_PERMITS) {
		fprintf(stderr, "sync_bench: semaphore_contended: %llu acquisitions (expected %llu), "
			"%u permits free at the end (expected %u)\n", (unsigned long long)done,
			(unsigned long long)*ops, left, SEM_T3_PERMITS);
		return -1;
	}
	return 0;
}

/* --result: `rounds` rounds; ns per operation over all of them, or -1. */
double tier3_run(int (*round)(uint64_t *, uint64_t *), unsigned long rounds)
{
	uint64_t ns_total = 0, ops_total = 0;

	for (unsigned long r = 0; r < rounds; r++) {
		uint64_t ns, ops;

		if (round(&ns, &ops))
			return -1;
		ns_total += ns;
		ops_total += ops;
	}
	return (double)ns_total / (double)ops_total;
}

/* Google Benchmark: one round per iteration. */
void BM_tier3(benchmark::State &st, int (*round)(uint64_t *, uint64_t *))
{
	uint64_t ns_total = 0, ops_total = 0;

	for (auto _ : st) {
		uint64_t ns, ops;

		if (round(&ns, &ops)) {
			g_failed = true;
			st.SkipWithError("a round failed its check");
			return;
		}
		ns_total += ns;
		ops_total += ops;
	}
	st.SetItemsProcessed((int64_t)ops_total);
	st.counters["ns_per_op"] =
		benchmark::Counter(ops_total ? (double)ns_total / (double)ops_total : 0);
}

/* ------------------------------------------------------------ the cases */

BENCHMARK_TEMPLATE(BM_tier1, MutexCase)->Name("tier1/mutex")->Iterations(TIER1_OPS);
BENCHMARK_TEMPLATE(BM_tier1, RwReadCase)->Name("tier1/rwlock_read")->Iterations(TIER1_OPS);
BENCHMARK_TEMPLATE(BM_tier1, RwWriteCase)->Name("tier1/rwlock_write")->Iterations(TIER1_OPS);
BENCHMARK_TEMPLATE(BM_tier1, SemaphoreCase)->Name("tier1/semaphore")->Iterations(TIER1_OPS);
BENCHMARK_TEMPLATE(BM_tier1, OnceGetCase)->Name("tier1/once_get")->Iterations(TIER1_OPS);
BENCHMARK_TEMPLATE(BM_tier1, OnceSetCase)->Name("tier1/once_set")->Iterations(TIER1_OPS);
BENCHMARK_TEMPLATE(BM_tier1, ChanRoundtripCase<VYUKOV>)
	->Name("tier2/chan_roundtrip_vyukov")
	->Iterations(TIER2_OPS);
BENCHMARK_TEMPLATE(BM_tier1, ChanRoundtripCase<LOCKED>)
	->Name("tier2/chan_roundtrip_locked")
	->Iterations(TIER2_OPS);
BENCHMARK_TEMPLATE(BM_tier1, OneshotCase)->Name("tier2/oneshot")->Iterations(TIER2_OPS);
BENCHMARK_TEMPLATE(BM_tier1, BroadcastCase)->Name("tier2/broadcast_1x4")->Iterations(TIER2_OPS);
BENCHMARK_TEMPLATE(BM_tier1, WatchCase)->Name("tier2/watch")->Iterations(TIER2_OPS);
BENCHMARK_TEMPLATE(BM_tier1, NotifyCase)->Name("tier1/notify")->Iterations(TIER1_OPS);
BENCHMARK_TEMPLATE(BM_tier1, BarrierCase)->Name("tier1/barrier")->Iterations(TIER1_OPS);
BENCHMARK_CAPTURE(BM_tier3, mutex, mutex_round)->Name("tier3/mutex_4tasks")->UseRealTime();
BENCHMARK_CAPTURE(BM_tier3, rwlock, rwlock_round)->Name("tier3/rwlock_4r2w")->UseRealTime();
BENCHMARK_CAPTURE(BM_tier3, semaphore, semaphore_round)
	->Name("tier3/semaphore_8t_2p")
	->UseRealTime();

/* The --result table, in print order. */
struct ResultCase {
	int tier;
	const char *metric;
	double (*tier1)();
	int (*round)(uint64_t *, uint64_t *);
};

const ResultCase RESULT_CASES[] = {
	{ 1, MutexCase::metric, tier1_run<MutexCase>, nullptr },
	{ 1, RwReadCase::metric, tier1_run<RwReadCase>, nullptr },
	{ 1, RwWriteCase::metric, tier1_run<RwWriteCase>, nullptr },
	{ 1, SemaphoreCase::metric, tier1_run<SemaphoreCase>, nullptr },
	{ 1, OnceGetCase::metric, tier1_run<OnceGetCase>, nullptr },
	{ 1, OnceSetCase::metric, tier1_run<OnceSetCase>, nullptr },
	{ 1, NotifyCase::metric, tier1_run<NotifyCase>, nullptr },
	{ 1, BarrierCase::metric, tier1_run<BarrierCase>, nullptr },
	{ 3, "mutex_contended_ns", nullptr, mutex_round },
	{ 3, "rwlock_contended_ns", nullptr, rwlock_round },
	{ 3, "semaphore_contended_ns", nullptr, semaphore_round },
};

/* ----------------------------------------------------------------- main */

/* The protocol line, the value as experiments/proto.h prints it (no exponent, no trailing zeros). */
void result(unsigned long rep, const char *metric, double value, const char *unit)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%.6f", value);

	if (n > 0 && (size_t)n < sizeof buf && strchr(buf, '.')) {
		while (n > 1 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	printf("result,%lu,%s,%s,%s\n", rep, metric, buf, unit);
}

int usage()
{
	fprintf(stderr, "usage: sync_bench [--benchmark_* ...] [--workers N]\n"
			"       sync_bench --result [--tier 1|3|all] [--reps N] [--warmup N]\n"
			"                  [--rounds N] [--workers N]\n");
	return 2;
}

/* A decimal count in [min, max], digits only (experiments/proto.h's proto_count). */
bool count_arg(const char *s, unsigned long *out, unsigned long min, unsigned long max)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out >= min && *out <= max;
}

void print_diag()
{
	static const char *const names[] = { "mutex_contended", "rwlock_contended",
					     "semaphore_contended" };

	for (int k = 0; k < 3; k++) {
		const Diag &d = g_diag[k];

		if (d.rounds)
			printf("# %s: %llu rounds (warm-up included), %.1f suspensions per round "
			       "(task polls beyond the first), %llu of them run by 2+ workers\n",
			       names[k], (unsigned long long)d.rounds,
			       (double)(d.polls - d.tasks) / (double)d.rounds,
			       (unsigned long long)d.spread);
	}
	if (g_sem_ops)
		printf("# semaphore_contended: the try failed (the future was awaited) %llu times in "
		       "%llu acquisitions\n",
		       (unsigned long long)g_sem_slow, (unsigned long long)g_sem_ops);
}

int run_results(unsigned long reps, unsigned long warmup, unsigned long rounds, int tier)
{
	for (unsigned long rep = 0; rep < warmup + reps; rep++) {
		for (const ResultCase &c : RESULT_CASES) {
			if (tier && c.tier != tier)
				continue;
			double ns = c.tier1 ? c.tier1() : tier3_run(c.round, rounds);

			if (ns < 0)
				return 1;
			if (rep >= warmup) /* the protocol counts from 1 */
				result(rep - warmup + 1, c.metric, ns, "ns");
		}
		fflush(stdout);
	}
	print_diag();
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	unsigned long reps = 5, warmup = 1, rounds = 1, workers = 0;
	bool result_mode = false, bad = false;
	int tier = 0; /* 0 = both */
	std::vector<char *> rest{ argv[0] };

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--result"))
			result_mode = true;
	if (!result_mode) {
		/* Google Benchmark takes its --benchmark_* flags out of argv. */
		benchmark::Initialize(&argc, argv);
	}
	for (int i = 1; i < argc && !bad; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : nullptr;

		if (!strcmp(a, "--result"))
			continue;
		if (!strcmp(a, "--workers"))
			bad = !count_arg(v, &workers, 1, VOLT_MAX_WORKERS);
		else if (result_mode && !strcmp(a, "--reps"))
			bad = !count_arg(v, &reps, 1, 1000);
		else if (result_mode && !strcmp(a, "--warmup"))
			bad = !count_arg(v, &warmup, 0, 100);
		else if (result_mode && !strcmp(a, "--rounds"))
			bad = !count_arg(v, &rounds, 1, 100000);
		else if (result_mode && !strcmp(a, "--tier") && v) {
			tier = !strcmp(v, "1") ? 1 : !strcmp(v, "3") ? 3 : !strcmp(v, "all") ? 0 : -1;
			bad = tier < 0;
		} else
			bad = true;
		i++;
	}
	if (bad)
		return usage();

	struct volt_config cfg;

	if (volt_config_init(&cfg)) {
		fprintf(stderr, "sync_bench: bad VOLT_* environment variable\n");
		return 2;
	}
	if (workers)
		cfg.workers = (unsigned)workers;
	else if (!getenv("VOLT_WORKERS"))
		cfg.workers = DEFAULT_WORKERS;
	/* freed memory stays mapped (experiments/proto.h's proto_malloc_setup) */
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);

	int err = volt_rt_new(&cfg, &g_rt);

	if (err) {
		fprintf(stderr, "sync_bench: runtime: %s\n", strerror(-err));
		return 1;
	}
	int ret;

	if (result_mode) {
		ret = run_results(reps, warmup, rounds, tier);
	} else {
		benchmark::RunSpecifiedBenchmarks();
		benchmark::Shutdown();
		print_diag();
		ret = g_failed ? 1 : 0;
	}
	volt_rt_free(g_rt);
	return ret;
}
