/* SPDX-License-Identifier: MIT */
/*
 * experiments/spawn_cancel.c: spawn many tasks, cancel half of them at
 * random points, and show that nothing is left behind (issue 10, load and
 * soak; experiments/soak.sh runs it).
 *
 *	spawn_cancel [--tasks N] [--batch B] [--seed S] [--workers W] [--json]
 *	VOLT_SCHED=chaselev build/experiments/spawn_cancel --tasks 1000000
 *
 * The tasks go out in batches of B (10,000). Every task gets a plan drawn
 * from a seeded generator (--seed, default 1):
 *
 *	cancelled (half)                      not cancelled (half)
 *	  before its first poll   (12.5%)       ready at the first poll (20%)
 *	  pending on a timer      (12.5%)       a 1-3 ms sleep          (10%)
 *	  pending on a channel    (12.5%)       a message on a channel  (10%)
 *	  after it completed      (12.5%)       1-8 yields              (10%)
 *
 * A task owns a malloc'd payload (16-255 bytes) that its drop frees. Odd
 * batches are spawned from the main thread (the injection path); even ones
 * by a batch task on a worker (the local queues; stealing spreads them).
 * Either way a batch is: spawn every task with a join handle, cancelling
 * the "before first poll" ones at once; send one message per channel task
 * that is to complete; wait until every "pending" task has been polled and
 * cancel it; wait until every "after completion" task is done and cancel
 * it; join all. The checks, per task: the drop ran exactly once; a join
 * returned 0 with the task's output or -ECANCELED as its plan allows (a
 * "before first poll" task a worker reached first completes: counted as
 * raced; one that joins -ECANCELED must never have been polled); each
 * message sent was received exactly once.
 *
 * Then, against figures taken before the runtime was made (after a
 * warm-up runtime that ran one batch of each kind, so that one-time
 * allocations (the C library's, hwloc's, the main thread's parker for
 * volt_join_wait) are in the baseline):
 * - live tasks: volt_metrics_live_tasks() back to 0 before shutdown;
 * - memory: payloads outstanding 0, and mallinfo2's bytes in use (uordblks
 *   + hblkhd) after volt_rt_free equal to the baseline, to the byte (the
 *   task slab keeps its chunks until the runtime is freed, so the
 *   in-runtime figure is reported, not checked). The program runs with
 *   glibc's thread caches off, so that figure is exact (leakcheck.h);
 * - descriptors: /proc/self/fd the same in the runtime at the end as after
 *   its start, and the same after volt_rt_free as before volt_rt_new;
 * - threads: /proc/self/task the same after volt_rt_free as before.
 * Prints a summary line (or, with --json, one JSON object); exit status 0
 * when every check holds, 1 otherwise, 2 for bad options or no runtime.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <volt.h>

#include "leakcheck.h"
#include "proto.h"

#define NAME "spawn_cancel"
#define MAX_TASKS 1000000000ul
#define MAX_BATCH 1000000ul
#define MAX_REPORTED 10 /* failed checks described on stderr */

enum plan {
	P_CANCEL_BEFORE_POLL, /* cancelled right after spawn */
	P_CANCEL_TIMER,       /* cancelled pending on a 10 s sleep */
	P_CANCEL_CHAN,        /* cancelled pending on a channel nobody sends to */
	P_CANCEL_DONE,        /* cancelled after it completed: no effect */
	P_READY,              /* completes at its first poll */
	P_TIMER,              /* completes after a 1-3 ms sleep */
	P_CHAN,               /* completes once its message arrived */
	P_YIELD,              /* completes after 1-8 yields */
	P_COUNT
};

static const char *const plan_names[P_COUNT] = {
	"cancel_before_poll", "cancel_pending_timer", "cancel_pending_chan", "cancel_after_done",
	"ready", "timer", "chan", "yield",
};

/* Per task of the current batch: what happened to it. */
struct rec {
	atomic_uint polls;
	atomic_uint drops;
	atomic_uint done; /* its coroutine reached the end */
};

struct batch {
	size_t n;
	uint8_t *plan;                /* [n] */
	struct rec *rec;              /* [n] */
	struct volt_join **join;      /* [n] */
	atomic_uchar *msg_seen;       /* [n]: message i received (times) */
	atomic_size_t pending_polled; /* "cancel while pending" tasks polled so far */
	size_t pending_want;
	size_t msgs_sent;
	uint64_t base_id;             /* id of task 0 */
};

/* Figures for the whole run. */
static struct {
	uint64_t spawned, plans[P_COUNT];
	uint64_t joined_ok, joined_cancelled, raced;
	uint64_t msgs_sent, msgs_received;
	uint64_t failures;
	uint64_t spawned_remote_batches, spawned_local_batches;
} fig;

static atomic_long payloads; /* allocated and not yet freed by a drop */
static atomic_ulong msgs_received, recv_failures;
static struct volt_chan *ch_live, *ch_never;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (fig.failures++ < MAX_REPORTED) {
		va_start(ap, fmt);
		fputs(NAME ": ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static uint64_t rng_state;

/* xorshift64*: the plans and their parameters. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static enum plan draw_plan(void)
{
	unsigned r = (unsigned)(rng() >> 33) % 40; /* in 2.5% steps */

	if (r < 20)
		return (enum plan)(r / 5);         /* the four cancel points, 12.5% each */
	if (r < 28)
		return P_READY;                    /* 20% */
	return (enum plan)(P_TIMER + (r - 28) / 4); /* timer, chan, yield: 10% each */
}

/* ------------------------------------------------------------- a task */

struct job {
	struct volt_future base;
	struct batch *b;
	uint32_t idx;    /* in the batch */
	uint8_t plan;
	uint32_t arg;    /* sleep ms or yields */
	uint32_t i;      /* yields done */
	uint64_t msg;
	void *payload;
	union {
		struct volt_sleep sleep;
		struct volt_chan_recv recv;
	} u;
};

static enum volt_poll job_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct job *j = (struct job *)f;
	struct rec *r = &j->b->rec[j->idx];

	VOLT_BEGIN(f);
	/* release: the batch driver reads the count, then cancels */
	if (atomic_fetch_add_explicit(&r->polls, 1, memory_order_acq_rel) == 0 &&
	    (j->plan == P_CANCEL_TIMER || j->plan == P_CANCEL_CHAN))
		atomic_fetch_add_explicit(&j->b->pending_polled, 1, memory_order_release);
	if (j->plan == P_CANCEL_TIMER || j->plan == P_TIMER) {
		VOLT_AWAIT(f, cx, volt_sleep(&j->u.sleep, volt_ms(j->arg)));
	} else if (j->plan == P_CANCEL_CHAN || j->plan == P_CHAN) {
		VOLT_AWAIT(f, cx, volt_chan_recv(&j->u.recv, j->plan == P_CHAN ? ch_live : ch_never,
						 &j->msg));
		if (j->u.recv.result != VOLT_CHAN_OK || j->msg >= j->b->n) {
			atomic_fetch_add_explicit(&recv_failures, 1, memory_order_relaxed);
		} else {
			atomic_fetch_add_explicit(&j->b->msg_seen[j->msg], 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&msgs_received, 1, memory_order_relaxed);
		}
	} else if (j->plan == P_YIELD) {
		for (j->i = 0; j->i < j->arg; j->i++)
			VOLT_YIELD(f, cx);
	}
	atomic_store_explicit(&r->done, 1, memory_order_release);
	VOLT_RETURN(f, cx, j->b->base_id + j->idx + 1);
	VOLT_END(f);
}

/* Runs exactly once per task: after completion, on cancel, or at shutdown. */
static void job_drop(struct volt_future *f)
{
	struct job *j = (struct job *)f;

	free(j->payload);
	atomic_fetch_sub_explicit(&payloads, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&j->b->rec[j->idx].drops, 1, memory_order_acq_rel);
}

static const struct volt_future_ops job_ops = { .poll = job_poll, .drop = job_drop };

/* ------------------------------------------------------- one batch */

/* Draws the batch's plans and resets its records. */
static void batch_plan(struct batch *b, size_t n, uint64_t base_id)
{
	b->n = n;
	b->base_id = base_id;
	b->pending_want = 0;
	b->msgs_sent = 0;
	atomic_store(&b->pending_polled, 0);
	for (size_t i = 0; i < n; i++) {
		b->plan[i] = (uint8_t)draw_plan();
		atomic_store(&b->rec[i].polls, 0);
		atomic_store(&b->rec[i].drops, 0);
		atomic_store(&b->rec[i].done, 0);
		atomic_store(&b->msg_seen[i], 0);
		b->join[i] = NULL;
		b->pending_want += b->plan[i] == P_CANCEL_TIMER || b->plan[i] == P_CANCEL_CHAN;
		fig.plans[b->plan[i]]++;
	}
}

/*
 * Spawns task i of b on rt (from whichever thread calls), cancelling it at
 * once if that is its plan. 0 or the spawn's -errno.
 */
static int batch_spawn_one(struct volt_rt *rt, struct batch *b, size_t i)
{
	struct job j = { .base = VOLT_FUTURE_INIT(&job_ops), .b = b, .idx = (uint32_t)i,
			 .plan = b->plan[i] };
	uint64_t r = rng();
	int err;

	if (j.plan == P_CANCEL_TIMER)
		j.arg = 10000; /* 10 s: it is cancelled long before */
	else if (j.plan == P_TIMER)
		j.arg = 1 + (uint32_t)(r % 3);
	else if (j.plan == P_YIELD)
		j.arg = 1 + (uint32_t)(r % 8);
	j.payload = malloc(16 + (size_t)((r >> 8) % 240));
	if (!j.payload)
		return -ENOMEM;
	atomic_fetch_add_explicit(&payloads, 1, memory_order_relaxed);
	err = volt_spawn(rt, &j.base, sizeof j, &b->join[i]);
	if (err) {
		free(j.payload);
		atomic_fetch_sub_explicit(&payloads, 1, memory_order_relaxed);
		return err;
	}
	if (j.plan == P_CANCEL_BEFORE_POLL)
		(void)volt_join_cancel(b->join[i]);
	return 0;
}

/* One message per channel task that is to complete; ch_live holds them all. */
static void batch_send(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		uint64_t m = i;

		if (b->plan[i] != P_CHAN)
			continue;
		if (volt_chan_try_send(ch_live, &m) != VOLT_CHAN_OK)
			fail("try_send of message %zu refused", i);
		else
			b->msgs_sent++;
	}
}

/* Cancels the tasks pending on a timer or a channel (all polled by now). */
static void batch_cancel_pending(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->plan[i] == P_CANCEL_TIMER || b->plan[i] == P_CANCEL_CHAN)
			(void)volt_join_cancel(b->join[i]);
}

/*
 * Cancels the "cancel after completion" tasks that are done (again, for
 * those cancelled on an earlier call: a no-op, like the first). True when
 * all of them were done.
 */
static bool batch_cancel_done(struct batch *b)
{
	bool all = true;

	for (size_t i = 0; i < b->n; i++) {
		if (b->plan[i] != P_CANCEL_DONE)
			continue;
		if (volt_join_is_done(b->join[i]))
			(void)volt_join_cancel(b->join[i]);
		else
			all = false;
	}
	return all;
}

/* Checks task i's join result (0 or -errno) and output against its plan. */
static void batch_check_join(struct batch *b, size_t i, int res, void *out)
{
	enum plan p = (enum plan)b->plan[i];
	struct rec *r = &b->rec[i];
	uint64_t want = b->base_id + i + 1;

	if (res == 0) {
		fig.joined_ok++;
		if ((uint64_t)(uintptr_t)out != want)
			fail("task %llu: output %llu", (unsigned long long)want - 1,
			     (unsigned long long)(uintptr_t)out);
		if (!atomic_load(&r->done))
			fail("task %llu: joined 0 but never finished", (unsigned long long)want - 1);
		if (p == P_CANCEL_TIMER || p == P_CANCEL_CHAN)
			fail("task %llu (%s) completed", (unsigned long long)want - 1, plan_names[p]);
		if (p == P_CANCEL_BEFORE_POLL)
			fig.raced++;
	} else if (res == -ECANCELED) {
		fig.joined_cancelled++;
		if (p >= P_CANCEL_DONE)
			fail("task %llu (%s) was cancelled", (unsigned long long)want - 1,
			     plan_names[p]);
		/* such a task completes at its first poll: cancelled means never polled */
		if (p == P_CANCEL_BEFORE_POLL && atomic_load(&r->polls))
			fail("task %llu: cancelled after a poll", (unsigned long long)want - 1);
	} else {
		fail("task %llu: join returned %d", (unsigned long long)want - 1, res);
	}
}

/* After every join: each drop ran once, each message was received once. */
static void batch_check_after(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		unsigned d = atomic_load(&b->rec[i].drops);

		if (d != 1)
			fail("task %llu (%s): dropped %u times", (unsigned long long)(b->base_id + i),
			     plan_names[b->plan[i]], d);
		if (b->plan[i] == P_CHAN && atomic_load(&b->msg_seen[i]) != 1)
			fail("message %zu received %u times", i, (unsigned)atomic_load(&b->msg_seen[i]));
	}
	fig.msgs_sent += b->msgs_sent;
	fig.spawned += b->n;
}

/* A spawn failed: the run cannot account for its batch; stop here. */
static void spawn_failed(int err)
{
	fprintf(stderr, NAME ": spawn: %s\n", strerror(-err));
	exit(1);
}

/* The batch from the main thread: blocking waits. */
static void batch_remote(struct volt_rt *rt, struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		int err = batch_spawn_one(rt, b, i);

		if (err)
			spawn_failed(err);
	}
	batch_send(b);
	while (atomic_load_explicit(&b->pending_polled, memory_order_acquire) < b->pending_want)
		lc_sleep_us(100);
	batch_cancel_pending(b);
	while (!batch_cancel_done(b))
		lc_sleep_us(100);
	for (size_t i = 0; i < b->n; i++) {
		void *out = NULL;
		int res = volt_join_wait(b->join[i], &out);

		batch_check_join(b, i, res, out);
	}
	batch_check_after(b);
	fig.spawned_remote_batches++;
}

/* The same batch as a task on a worker: spawns go to the local queue. */
struct batch_task {
	struct volt_future base;
	struct batch *b;
	size_t i;
	struct volt_join_future jf;
};

static enum volt_poll batch_task_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct batch_task *t = (struct batch_task *)f;
	struct batch *b = t->b;

	VOLT_BEGIN(f);
	for (t->i = 0; t->i < b->n; t->i++) {
		int err = batch_spawn_one(cx->rt, b, t->i);

		if (err)
			spawn_failed(err);
	}
	batch_send(b);
	while (atomic_load_explicit(&b->pending_polled, memory_order_acquire) < b->pending_want)
		VOLT_YIELD(f, cx);
	batch_cancel_pending(b);
	while (!batch_cancel_done(b))
		VOLT_YIELD(f, cx);
	for (t->i = 0; t->i < b->n; t->i++) {
		VOLT_AWAIT(f, cx, volt_join_await(&t->jf, b->join[t->i]));
		batch_check_join(b, t->i, t->jf.result, t->jf.output);
	}
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

static const struct volt_future_ops batch_task_ops = { .poll = batch_task_poll };

static void batch_local(struct volt_rt *rt, struct batch *b)
{
	struct batch_task t = { .base = VOLT_FUTURE_INIT(&batch_task_ops), .b = b };
	struct volt_join *j;
	int err = volt_spawn(rt, &t.base, sizeof t, &j);

	if (!err)
		err = volt_join_wait(j, NULL);
	if (err)
		spawn_failed(err);
	batch_check_after(b);
	fig.spawned_local_batches++;
}

/* ---------------------------------------------------------- live tasks */

/* Live tasks by the metrics, given up to 5 s to settle (they may trail a join). */
static int64_t settled_live_tasks(struct volt_rt *rt, struct volt_worker_metrics *m)
{
	int64_t live = 0;

	for (int tries = 0; tries < 5000; tries++) {
		volt_metrics_total(rt, m);
		if ((live = volt_metrics_live_tasks(m)) == 0)
			break;
		lc_sleep_us(1000);
	}
	return live;
}

/* ------------------------------------------------------------ options */

static void usage(void)
{
	fprintf(stderr, "usage: " NAME " [--tasks N] [--batch B] [--seed S] [--workers W] [--json]\n"
			"  the policy and driver come from VOLT_SCHED and VOLT_DRIVER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long tasks = 10000000, batch_size = 10000, seed = 1, workers = 0;
	const struct proto_opt opts[] = {
		{ "--tasks", &tasks, 1, MAX_TASKS },
		{ "--batch", &batch_size, 1, MAX_BATCH },
		{ "--seed", &seed, 0, ~0ul },
		{ "--workers", &workers, 1, VOLT_MAX_WORKERS },
		{ NULL, NULL, 0, 0 },
	};
	bool json = false;

	(void)lc_tcache_off(NAME, argv);
	if (!proto_opts_parse_flag(argc, argv, opts, "--json", &json))
		usage();
	rng_state = seed * 0x9e3779b97f4a7c15ull | 1;

	struct volt_config cfg;

	if (proto_config(&cfg, NAME, workers, 2))
		return 2;

	/* Everything the run keeps is allocated before the baseline. */
	struct batch b = { 0 };

	b.plan = calloc(batch_size, sizeof *b.plan);
	b.rec = calloc(batch_size, sizeof *b.rec);
	b.join = calloc(batch_size, sizeof *b.join);
	b.msg_seen = calloc(batch_size, sizeof *b.msg_seen);
	if (!b.plan || !b.rec || !b.join || !b.msg_seen ||
	    volt_chan_new(sizeof(uint64_t), batch_size, NULL, &ch_live) ||
	    volt_chan_new(sizeof(uint64_t), 1, NULL, &ch_never)) {
		fprintf(stderr, NAME ": out of memory\n");
		return 2;
	}

	/* A warm-up runtime and two small batches: the one-time allocations. */
	struct volt_rt *rt;
	int err = volt_rt_new(&cfg, &rt);

	if (err) {
		fprintf(stderr, NAME ": runtime: %s\n", strerror(-err));
		return 2;
	}
	batch_plan(&b, batch_size < 1000 ? batch_size : 1000, 0);
	batch_local(rt, &b);
	batch_plan(&b, batch_size < 1000 ? batch_size : 1000, 0);
	batch_remote(rt, &b);
	(void)settled_live_tasks(rt, &(struct volt_worker_metrics){ 0 });
	volt_rt_free(rt);
	if (fig.failures) {
		fprintf(stderr, NAME ": the warm-up failed\n");
		return 1;
	}
	memset(&fig, 0, sizeof fig);
	atomic_store(&msgs_received, 0);

	long fds0 = lc_fds(), threads0 = lc_threads();
	size_t mem0 = lc_malloc_in_use();
	uint64_t t0 = proto_now_ns();

	if ((err = volt_rt_new(&cfg, &rt)) != 0) {
		fprintf(stderr, NAME ": runtime: %s\n", strerror(-err));
		return 2;
	}
	long fds_rt0 = lc_fds();
	size_t mem_rt1 = 0;
	uint64_t nbatches = (tasks + batch_size - 1) / batch_size;

	for (uint64_t k = 0; k < nbatches; k++) {
		size_t n = (size_t)(tasks - k * batch_size < batch_size ? tasks - k * batch_size
									: batch_size);

		batch_plan(&b, n, k * batch_size);
		if (k % 2)
			batch_remote(rt, &b);
		else
			batch_local(rt, &b);
		if (k == nbatches / 10)
			mem_rt1 = lc_malloc_in_use(); /* after a tenth: the slab has grown */
	}
	uint64_t t1 = proto_now_ns();
	struct volt_worker_metrics m;
	int64_t live = settled_live_tasks(rt, &m);
	long fds_rt1 = lc_fds();
	size_t mem_rt2 = lc_malloc_in_use();
	size_t live_len = volt_chan_len(ch_live), never_len = volt_chan_len(ch_never);

	fig.msgs_received = atomic_load(&msgs_received);
	if (atomic_load(&recv_failures))
		fail("%lu receives failed", atomic_load(&recv_failures));
	volt_rt_free(rt);

	long fds1 = lc_fds(), threads1 = lc_threads();
	size_t mem1 = lc_malloc_in_use();
	long outstanding = atomic_load(&payloads);
	uint64_t cancelled = fig.plans[P_CANCEL_BEFORE_POLL] + fig.plans[P_CANCEL_TIMER] +
			     fig.plans[P_CANCEL_CHAN] + fig.plans[P_CANCEL_DONE];
	bool pass = !fig.failures && fig.spawned == tasks && live == 0 && !outstanding &&
		    mem1 == mem0 && fds1 == fds0 && fds_rt1 == fds_rt0 && threads1 == threads0 &&
		    fig.msgs_received == fig.msgs_sent && !live_len && !never_len &&
		    fig.joined_ok + fig.joined_cancelled == fig.spawned;

	if (json) {
		printf("{\"tasks\":%lu,\"batch\":%lu,\"seed\":%lu,\"workers\":%u,\"scheduler\":\"%s\","
		       "\"secs\":%.3f,\"spawned\":%llu,\"cancel_planned\":%llu,",
		       tasks, batch_size, seed, cfg.workers, cfg.scheduler ? cfg.scheduler
									     : volt_sched_default(),
		       (double)(t1 - t0) / 1e9, (unsigned long long)fig.spawned,
		       (unsigned long long)cancelled);
		for (int p = 0; p < P_COUNT; p++)
			printf("\"plan_%s\":%llu,", plan_names[p], (unsigned long long)fig.plans[p]);
		printf("\"joined_ok\":%llu,\"joined_cancelled\":%llu,\"before_poll_raced\":%llu,"
		       "\"remote_batches\":%llu,\"local_batches\":%llu,"
		       "\"metric_tasks_spawned\":%llu,\"metric_remote_spawns\":%llu,"
		       "\"metric_tasks_done\":%llu,\"live_tasks_end\":%lld,"
		       "\"msgs_sent\":%llu,\"msgs_received\":%llu,\"msgs_left_in_channels\":%zu,"
		       "\"payloads_outstanding\":%ld,\"malloc_baseline_bytes\":%zu,"
		       "\"malloc_in_rt_early_bytes\":%zu,\"malloc_in_rt_end_bytes\":%zu,"
		       "\"malloc_after_bytes\":%zu,\"malloc_leaked_bytes\":%lld,"
		       "\"fds_before\":%ld,\"fds_rt_start\":%ld,\"fds_rt_end\":%ld,\"fds_after\":%ld,"
		       "\"threads_before\":%ld,\"threads_after\":%ld,\"check_failures\":%llu,"
		       "\"pass\":%s}\n",
		       (unsigned long long)fig.joined_ok, (unsigned long long)fig.joined_cancelled,
		       (unsigned long long)fig.raced,
		       (unsigned long long)fig.spawned_remote_batches,
		       (unsigned long long)fig.spawned_local_batches,
		       (unsigned long long)m.tasks_spawned, (unsigned long long)m.remote_spawns,
		       (unsigned long long)m.tasks_done, (long long)live,
		       (unsigned long long)fig.msgs_sent, (unsigned long long)fig.msgs_received,
		       live_len + never_len, outstanding, mem0, mem_rt1, mem_rt2, mem1,
		       (long long)mem1 - (long long)mem0, fds0, fds_rt0, fds_rt1, fds1, threads0,
		       threads1, (unsigned long long)fig.failures, pass ? "true" : "false");
	} else {
		printf("%llu tasks (%llu cancel planned, %llu raced) in %.1f s: %llu joined ok, "
		       "%llu cancelled; live %lld; payloads outstanding %ld; malloc %zu -> %zu "
		       "bytes; fds %ld -> %ld; threads %ld -> %ld; %llu check failures: %s\n",
		       (unsigned long long)fig.spawned, (unsigned long long)cancelled,
		       (unsigned long long)fig.raced, (double)(t1 - t0) / 1e9,
		       (unsigned long long)fig.joined_ok, (unsigned long long)fig.joined_cancelled,
		       (long long)live, outstanding, mem0, mem1, fds0, fds1, threads0, threads1,
		       (unsigned long long)fig.failures, pass ? "pass" : "FAIL");
	}
	volt_chan_free(ch_live);
	volt_chan_free(ch_never);
	free(b.plan);
	free(b.rec);
	free(b.join);
	free(b.msg_seen);
	return pass ? 0 : 1;
}
