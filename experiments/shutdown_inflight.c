/* SPDX-License-Identifier: MIT */
/*
 * experiments/shutdown_inflight.c: shut a runtime down while its tasks are
 * blocked on every kind of thing, and account for every task, message,
 * blocking job, descriptor, thread and byte (issue 10, load and soak;
 * experiments/soak.sh runs it).
 *
 *	shutdown_inflight [--tasks N] [--seed S] [--workers W] [--json]
 *	VOLT_DRIVER=epoll build/experiments/shutdown_inflight --tasks 10000
 *
 * About N tasks (10,000), all detached, spawned from the main thread:
 *
 *	timers     30%  a 60 s sleep; one in ten sleeps 1-5 ms and completes
 *	receivers  20%  receive in a loop, 8 to a channel (capacity 16)
 *	senders    20%  send one message, 8 to a channel (capacity 4) that
 *	                starts full
 *	pumps       1%  each drains one senders' channel (every other one, as
 *	                far as they go), a 1 ms sleep per message
 *	I/O        10%  read in a loop from an accepted loopback TCP stream whose
 *	                peer never writes (at most 1,000 streams), plus one task
 *	                accepting on the listener
 *	blocking   10%  submit a 10-50 ms job to the blocking pool (8 threads
 *	                at most, so most jobs are still queued) and await it; a
 *	                task first polled after the shutdown closed the pool is
 *	                refused (-ESHUTDOWN, counted)
 *	busy        9%  yield forever
 *
 * The main thread waits (up to 5 s) until nine in ten tasks have been
 * polled, sends one message to each receivers' channel, spawns 100 more
 * tasks (timers; most are never polled), and calls volt_rt_free at once.
 * Afterwards it drains every channel with try_recv and checks:
 * - every task's drop ran exactly once; each either completed or was
 *   dropped unfinished (the counts are reported);
 * - every message (pre-filled, held by a sender, sent by main) was received
 *   once, returned to its sender once (a send future dropped before it
 *   completed leaves the value with the sender), or drained from its channel
 *   once, and never two of these;
 * - each blocking job ran at most once; a job whose waiter saw 0 ran, one
 *   that saw -ECANCELED did not; none runs after volt_rt_free returned;
 * - threads, descriptors (after closing the clients) and malloc's bytes in
 *   use are back to the figures before volt_rt_new (leakcheck.h; the
 *   program runs with glibc's thread caches off, so malloc's figure is exact).
 * The scenario runs twice: a small warm-up (N/100 tasks, at least 100, so
 * that one-time allocations land before the baseline), then the real one.
 * The time volt_rt_free took is reported, not checked. One summary line
 * (or, with --json, one JSON object); exit status 0 when every check
 * holds, 1 if one fails, 2 for bad options or no runtime.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <volt.h>

#include "leakcheck.h"
#include "proto.h"

#define NAME "shutdown_inflight"
#define MAX_TASKS 1000000ul
#define MAX_IO 1000          /* loopback streams (two descriptors each) */
#define RX_CAP 16
#define TX_CAP 4
#define PER_CHAN 8           /* receivers or senders per channel */
#define LATE_TASKS 100       /* spawned right before the shutdown */
#define BLOCKING_THREADS 8
#define MAX_REPORTED 10

enum kind { K_TIMER, K_RECV, K_SEND, K_PUMP, K_IO, K_ACCEPT, K_BLOCKING, K_BUSY, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	"timer", "receiver", "sender", "pump", "io", "accept", "blocking", "busy",
};

struct rec {
	atomic_uint drops;
	atomic_uint polled;
	atomic_uint done;
	uint8_t kind;
	int result;          /* blocking: what the await saw */
	uint32_t job;        /* blocking: its job */
	atomic_uint submitted;
};

/* Per message: how it ended. Exactly one of the three, once. */
struct msg {
	atomic_uint received, returned, drained;
};

struct job {
	atomic_uint ran;
};

/* One run of the scenario. */
struct run {
	struct volt_rt *rt;
	size_t ntasks;               /* records in use */
	struct rec *rec;
	size_t nmsgs;                /* made so far (main thread only) */
	size_t msg_cap;              /* room in msg[]; fixed before the runtime starts */
	struct msg *msg;
	size_t njobs;
	struct job *job;
	struct volt_chan **rx, **tx;
	size_t nrx, ntx;
	int *clients;
	size_t nclients;
	atomic_size_t polled;
	uint64_t seed;
	atomic_ulong bytes_read;
};

static uint64_t failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (failures++ < MAX_REPORTED) {
		va_start(ap, fmt);
		fputs(NAME ": ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* ------------------------------------------------------------- the task */

struct task {
	struct volt_future base;
	struct run *r;
	uint32_t idx;       /* its record */
	uint8_t kind;
	bool sent;          /* sender: the message is in the channel */
	uint32_t arg;       /* timer: ms; blocking: the job */
	struct volt_chan *ch;
	uint64_t msg;       /* sender: the message it holds; receiver: the last one */
	struct volt_stream s;
	struct volt_listener l;
	struct volt_blocking *h;
	char buf[64];
	union {
		struct volt_sleep sleep;
		struct volt_chan_send send;
		struct volt_chan_recv recv;
		struct volt_io_op op;
		struct volt_accept acc;
		struct volt_blocking_future bf;
		struct volt_yield y;
	} u;
	struct volt_sleep pause; /* pump: between messages */
};

static void *job_fn(void *arg)
{
	struct job *j = arg;
	uint64_t h = splitmix((uintptr_t)arg);

	lc_sleep_us(10000 + (long)(h % 40000));
	atomic_fetch_add_explicit(&j->ran, 1, memory_order_acq_rel);
	return arg;
}

static void msg_received(struct run *r, uint64_t m)
{
	if (m >= r->msg_cap)
		fail("received a message that was never made: %llu", (unsigned long long)m);
	else
		atomic_fetch_add_explicit(&r->msg[m].received, 1, memory_order_relaxed);
}

static enum volt_poll task_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct task *t = (struct task *)f;
	struct rec *rc = &t->r->rec[t->idx];
	int err;

	VOLT_BEGIN(f);
	atomic_store_explicit(&rc->polled, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->r->polled, 1, memory_order_release);
	if (t->kind == K_TIMER) {
		VOLT_AWAIT(f, cx, volt_sleep(&t->u.sleep, volt_ms(t->arg)));
	} else if (t->kind == K_RECV) {
		for (;;) {
			VOLT_AWAIT(f, cx, volt_chan_recv(&t->u.recv, t->ch, &t->msg));
			if (t->u.recv.result != VOLT_CHAN_OK)
				break;
			msg_received(t->r, t->msg);
		}
	} else if (t->kind == K_PUMP) {
		for (;;) {
			VOLT_AWAIT(f, cx, volt_chan_recv(&t->u.recv, t->ch, &t->msg));
			if (t->u.recv.result != VOLT_CHAN_OK)
				break;
			msg_received(t->r, t->msg);
			VOLT_AWAIT(f, cx, volt_sleep(&t->pause, volt_ms(1)));
		}
	} else if (t->kind == K_SEND) {
		VOLT_AWAIT(f, cx, volt_chan_send(&t->u.send, t->ch, &t->msg));
		if (t->u.send.result == VOLT_CHAN_OK)
			t->sent = true;
		/* else: closed, the value is still ours; the drop returns it */
	} else if (t->kind == K_IO) {
		for (;;) {
			VOLT_AWAIT(f, cx, volt_stream_read(&t->u.op, t->s, t->buf, sizeof t->buf));
			if (t->u.op.result <= 0)
				break;
			atomic_fetch_add_explicit(&t->r->bytes_read, (unsigned long)t->u.op.result,
						  memory_order_relaxed);
		}
	} else if (t->kind == K_ACCEPT) {
		for (;;) {
			VOLT_AWAIT(f, cx, volt_accept(&t->u.acc, t->l, &t->s, NULL));
			if (t->u.acc.op.result < 0)
				break;
			(void)volt_stream_close(t->s); /* nobody else connects: not expected */
			fail("an unexpected connection was accepted");
		}
	} else if (t->kind == K_BLOCKING) {
		err = volt_concurrent(cx->rt, job_fn, &t->r->job[t->arg], &t->h);
		if (err) { /* -ESHUTDOWN: first polled after the pool closed */
			rc->result = err;
			if (err != -ESHUTDOWN)
				fail("volt_concurrent: %s", strerror(-err));
		} else {
			atomic_store_explicit(&rc->submitted, 1, memory_order_relaxed);
			VOLT_AWAIT(f, cx, volt_blocking_await(&t->u.bf, t->h));
			rc->result = t->u.bf.result;
		}
	} else if (t->kind == K_BUSY) {
		for (;;)
			VOLT_AWAIT(f, cx, volt_yield_now(&t->u.y));
	}
	atomic_store_explicit(&rc->done, 1, memory_order_release);
	VOLT_END(f);
}

/* Exactly once per task: after it completed, or when the shutdown drops it. */
static void task_drop(struct volt_future *f)
{
	struct task *t = (struct task *)f;
	struct run *r = t->r;

	if (t->kind == K_SEND && !t->sent) /* the value never left the sender */
		atomic_fetch_add_explicit(&r->msg[t->msg].returned, 1, memory_order_relaxed);
	if (t->kind == K_IO)
		(void)volt_stream_close(t->s);
	if (t->kind == K_ACCEPT)
		(void)volt_listener_close(t->l);
	atomic_fetch_add_explicit(&r->rec[t->idx].drops, 1, memory_order_acq_rel);
}

static const struct volt_future_ops task_ops = { .poll = task_poll, .drop = task_drop };

/* Spawns a task of `kind` (fields beyond the kind set by the caller in *t). */
static void spawn(struct run *r, struct task *t, enum kind kind)
{
	int err;

	volt_future_init(&t->base, &task_ops);
	t->r = r;
	t->kind = (uint8_t)kind;
	t->idx = (uint32_t)r->ntasks;
	r->rec[t->idx].kind = (uint8_t)kind;
	r->ntasks++;
	err = volt_spawn(r->rt, &t->base, sizeof *t, NULL);
	if (err) {
		fprintf(stderr, NAME ": spawn: %s\n", strerror(-err));
		exit(1);
	}
}

/* ------------------------------------------------------------ scenario */

struct figures {
	size_t tasks, completed, by_kind[K_COUNT], done_by_kind[K_COUNT];
	size_t msgs, received, returned, drained;
	size_t jobs_submitted, jobs_ran, jobs_refused;
	size_t io_streams;
	int64_t live_at_shutdown;
	double shutdown_ms;
	long fds_before, fds_after, threads_before, threads_after, threads_at_shutdown;
	size_t malloc_before, malloc_after;
};

static size_t new_msg(struct run *r)
{
	if (r->nmsgs == r->msg_cap) {
		fprintf(stderr, NAME ": more messages than planned\n");
		exit(2);
	}
	return r->nmsgs++;
}

/* A plain blocking client socket connected to the listener at addr. */
static int connect_client(const struct volt_addr *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, &addr->u.sa, addr->len)) {
		perror(NAME ": client connect");
		exit(2);
	}
	return fd;
}

static void scenario(const struct volt_config *cfg, size_t n, uint64_t seed, struct figures *fg)
{
	struct run r = { .seed = seed };
	size_t ntimer = n * 3 / 10, nrecv = n / 5, nsend = n / 5, npump = n / 100;
	size_t nio = n / 10 < MAX_IO ? n / 10 : MAX_IO, nblock = n / 10;
	size_t nbusy = n - ntimer - nrecv - nsend - npump - nio - nblock;
	size_t cap = n + LATE_TASKS + 16;
	struct volt_listener l;
	struct volt_addr addr;
	int err;

	memset(fg, 0, sizeof *fg);
	r.nrx = nrecv / PER_CHAN + 1;
	r.ntx = nsend / PER_CHAN + 1;
	r.rec = calloc(cap, sizeof *r.rec);
	r.msg_cap = nsend + r.ntx * TX_CAP + r.nrx;
	r.msg = calloc(r.msg_cap, sizeof *r.msg);
	r.job = calloc(nblock + 1, sizeof *r.job);
	r.rx = calloc(r.nrx, sizeof *r.rx);
	r.tx = calloc(r.ntx, sizeof *r.tx);
	r.clients = calloc(nio + 1, sizeof *r.clients);
	if (!r.rec || !r.msg || !r.job || !r.rx || !r.tx || !r.clients) {
		fprintf(stderr, NAME ": out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < r.nrx; i++)
		if (volt_chan_new(sizeof(uint64_t), RX_CAP, NULL, &r.rx[i]))
			exit(2);
	for (size_t i = 0; i < r.ntx; i++)
		if (volt_chan_new(sizeof(uint64_t), TX_CAP, NULL, &r.tx[i]))
			exit(2);

	fg->fds_before = lc_fds();
	fg->threads_before = lc_threads();
	fg->malloc_before = lc_malloc_in_use();

	if ((err = volt_rt_new(cfg, &r.rt)) != 0) {
		fprintf(stderr, NAME ": runtime: %s\n", strerror(-err));
		exit(2);
	}

	/* The senders' channels start full; the pumps drain a few of them. */
	for (size_t i = 0; i < r.ntx; i++)
		for (int k = 0; k < TX_CAP; k++) {
			uint64_t m = new_msg(&r);

			if (volt_chan_try_send(r.tx[i], &m) != VOLT_CHAN_OK)
				fail("pre-filling a channel failed");
		}

	/* Loopback streams whose clients never write, and a pending accept. */
	if ((err = volt_tcp_listen(r.rt, "127.0.0.1:0", &l)) || (err = volt_local_addr(l.h, &addr))) {
		fprintf(stderr, NAME ": listen: %s\n", volt_strerror(err));
		exit(2);
	}
	for (size_t i = 0; i < nio; i++) {
		struct task t = { 0 };

		r.clients[r.nclients++] = connect_client(&addr);
		if ((err = volt_accept_blocking(l, &t.s, NULL, volt_secs(5))) != 0) {
			fprintf(stderr, NAME ": accept: %s\n", volt_strerror(err));
			exit(2);
		}
		spawn(&r, &t, K_IO);
	}
	fg->io_streams = nio;
	{
		struct task t = { .l = l };

		spawn(&r, &t, K_ACCEPT);
	}

	/* The rest, interleaved so that every kind is spread over the queues. */
	size_t left[K_COUNT] = { [K_TIMER] = ntimer, [K_RECV] = nrecv, [K_SEND] = nsend,
				 [K_PUMP] = npump, [K_BLOCKING] = nblock, [K_BUSY] = nbusy };
	size_t made[K_COUNT] = { 0 };
	uint64_t h = seed;

	for (;;) {
		size_t total = 0;

		for (int k = 0; k < K_COUNT; k++)
			total += left[k];
		if (!total)
			break;
		h = splitmix(h);

		size_t pick = (size_t)(h % total);
		int k = 0;

		while (pick >= left[k])
			pick -= left[k++];
		left[k]--;

		struct task t = { 0 };

		if (k == K_TIMER) {
			t.arg = made[k] % 10 == 0 ? 1 + (uint32_t)(h >> 40) % 5 : 60000;
		} else if (k == K_RECV) {
			t.ch = r.rx[made[k] / PER_CHAN];
		} else if (k == K_SEND) {
			t.ch = r.tx[made[k] / PER_CHAN];
			t.msg = new_msg(&r);
		} else if (k == K_PUMP) {
			t.ch = r.tx[(made[k] * 2) % r.ntx]; /* every other channel, at most */
		} else if (k == K_BLOCKING) {
			t.arg = (uint32_t)r.njobs++;
			r.rec[r.ntasks].job = t.arg;
		}
		made[k]++;
		spawn(&r, &t, (enum kind)k);
	}

	/* Most tasks under way, some messages racing the shutdown, some tasks never polled. */
	uint64_t give_up = proto_now_ns() + 5000000000ull;

	while (atomic_load_explicit(&r.polled, memory_order_acquire) < r.ntasks * 9 / 10 &&
	       proto_now_ns() < give_up)
		lc_sleep_us(500);
	for (size_t i = 0; i < r.nrx; i++) {
		uint64_t m = new_msg(&r);

		if (volt_chan_try_send(r.rx[i], &m) != VOLT_CHAN_OK)
			fail("a message to the receivers was refused");
	}
	for (size_t i = 0; i < LATE_TASKS; i++) {
		struct task t = { .arg = 60000 };

		spawn(&r, &t, K_TIMER);
	}

	struct volt_worker_metrics m;

	volt_metrics_total(r.rt, &m);
	fg->live_at_shutdown = volt_metrics_live_tasks(&m);
	fg->threads_at_shutdown = lc_threads();

	uint64_t t0 = proto_now_ns();

	volt_rt_free(r.rt);
	fg->shutdown_ms = (double)(proto_now_ns() - t0) / 1e6;

	/* Nothing may run any more: no job, no drop. */
	size_t ran_at_free = 0, ran_later = 0;

	for (size_t i = 0; i < r.njobs; i++)
		ran_at_free += atomic_load(&r.job[i].ran);
	fg->threads_after = lc_threads();

	/* What the channels still hold goes back to whoever made it. */
	for (size_t i = 0; i < r.nrx + r.ntx; i++) {
		struct volt_chan *ch = i < r.nrx ? r.rx[i] : r.tx[i - r.nrx];
		uint64_t v;

		while (volt_chan_try_recv(ch, &v) == VOLT_CHAN_OK) {
			if (v >= r.nmsgs)
				fail("drained a message that was never made: %llu", (unsigned long long)v);
			else
				atomic_fetch_add(&r.msg[v].drained, 1);
		}
	}
	for (size_t i = 0; i < r.nclients; i++)
		close(r.clients[i]);

	/* The accounting. */
	fg->tasks = r.ntasks;
	for (size_t i = 0; i < r.ntasks; i++) {
		struct rec *rc = &r.rec[i];
		unsigned d = atomic_load(&rc->drops), done = atomic_load(&rc->done);

		fg->by_kind[rc->kind]++;
		if (d != 1)
			fail("task %zu (%s) dropped %u times", i, kind_names[rc->kind], d);
		if (done) {
			fg->completed++;
			fg->done_by_kind[rc->kind]++;
		}
		if (rc->kind == K_BLOCKING && rc->result == -ESHUTDOWN)
			fg->jobs_refused++;
		if (rc->kind != K_BLOCKING || !atomic_load(&rc->submitted))
			continue;
		fg->jobs_submitted++;
		if (done && rc->result == 0 && atomic_load(&r.job[rc->job].ran) != 1)
			fail("job %u: its waiter saw 0 but it ran %u times", rc->job,
			     atomic_load(&r.job[rc->job].ran));
		if (done && rc->result == -ECANCELED && atomic_load(&r.job[rc->job].ran) != 0)
			fail("job %u: its waiter saw -ECANCELED but it ran", rc->job);
	}
	lc_sleep_us(100000); /* a job that ran after the free would show up now */
	for (size_t i = 0; i < r.njobs; i++) {
		unsigned ran = atomic_load(&r.job[i].ran);

		if (ran > 1)
			fail("job %zu ran %u times", i, ran);
		ran_later += ran;
	}
	fg->jobs_ran = ran_later;
	if (ran_later != ran_at_free)
		fail("%zu jobs ran after volt_rt_free returned", ran_later - ran_at_free);
	fg->msgs = r.nmsgs;
	for (size_t i = 0; i < r.nmsgs; i++) {
		unsigned a = atomic_load(&r.msg[i].received), b = atomic_load(&r.msg[i].returned),
			 c = atomic_load(&r.msg[i].drained);

		fg->received += a;
		fg->returned += b;
		fg->drained += c;
		if (a + b + c != 1)
			fail("message %zu: received %u, returned %u, drained %u times", i, a, b, c);
	}

	/* The figures, with what was allocated before the baseline still held. */
	fg->fds_after = lc_fds();
	fg->malloc_after = lc_malloc_in_use();
	for (size_t i = 0; i < r.nrx; i++)
		volt_chan_free(r.rx[i]);
	for (size_t i = 0; i < r.ntx; i++)
		volt_chan_free(r.tx[i]);
	free(r.rec);
	free(r.msg);
	free(r.job);
	free(r.rx);
	free(r.tx);
	free(r.clients);
}

/* ------------------------------------------------------------- options */

static void usage(void)
{
	fprintf(stderr, "usage: " NAME " [--tasks N] [--seed S] [--workers W] [--json]\n"
			"  the policy and driver come from VOLT_SCHED and VOLT_DRIVER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long tasks = 10000, seed = 1, workers = 0;
	const struct proto_opt opts[] = {
		{ "--tasks", &tasks, 100, MAX_TASKS },
		{ "--seed", &seed, 0, ~0ul },
		{ "--workers", &workers, 1, VOLT_MAX_WORKERS },
		{ NULL, NULL, 0, 0 },
	};
	bool json = false;
	struct volt_config cfg;
	struct figures warm, fg;

	(void)lc_tcache_off(NAME, argv);
	if (!proto_opts_parse_flag(argc, argv, opts, "--json", &json))
		usage();
	if (proto_config(&cfg, NAME, workers, 2))
		return 2;
	cfg.max_blocking_threads = BLOCKING_THREADS;

	scenario(&cfg, tasks / 100 < 100 ? 100 : tasks / 100, seed + 1, &warm);
	if (failures) {
		fprintf(stderr, NAME ": the warm-up failed\n");
		return 1;
	}
	scenario(&cfg, tasks, seed, &fg);

	bool pass = !failures && fg.fds_after == fg.fds_before &&
		    fg.threads_after == fg.threads_before && fg.malloc_after == fg.malloc_before &&
		    fg.received + fg.returned + fg.drained == fg.msgs;

	if (json) {
		printf("{\"tasks\":%zu,\"seed\":%lu,\"workers\":%u,\"scheduler\":\"%s\",", fg.tasks,
		       seed, cfg.workers, cfg.scheduler ? cfg.scheduler : volt_sched_default());
		for (int k = 0; k < K_COUNT; k++)
			printf("\"%s\":%zu,\"%s_completed\":%zu,", kind_names[k], fg.by_kind[k],
			       kind_names[k], fg.done_by_kind[k]);
		printf("\"completed\":%zu,\"dropped_unfinished\":%zu,\"live_at_shutdown\":%lld,"
		       "\"shutdown_ms\":%.1f,\"msgs\":%zu,\"msgs_received\":%zu,"
		       "\"msgs_returned_to_sender\":%zu,\"msgs_drained_after\":%zu,"
		       "\"jobs_submitted\":%zu,\"jobs_ran\":%zu,\"jobs_not_run\":%zu,"
		       "\"jobs_refused_at_shutdown\":%zu,"
		       "\"io_streams\":%zu,\"threads_before\":%ld,\"threads_at_shutdown\":%ld,"
		       "\"threads_after\":%ld,\"fds_before\":%ld,\"fds_after\":%ld,"
		       "\"malloc_before_bytes\":%zu,\"malloc_after_bytes\":%zu,"
		       "\"malloc_leaked_bytes\":%lld,\"check_failures\":%llu,\"pass\":%s}\n",
		       fg.completed, fg.tasks - fg.completed, (long long)fg.live_at_shutdown,
		       fg.shutdown_ms, fg.msgs, fg.received, fg.returned, fg.drained,
		       fg.jobs_submitted, fg.jobs_ran, fg.jobs_submitted - fg.jobs_ran,
		       fg.jobs_refused, fg.io_streams,
		       fg.threads_before, fg.threads_at_shutdown, fg.threads_after, fg.fds_before,
		       fg.fds_after, fg.malloc_before, fg.malloc_after,
		       (long long)fg.malloc_after - (long long)fg.malloc_before,
		       (unsigned long long)failures, pass ? "true" : "false");
	} else {
		printf("%zu tasks: %zu completed, %zu dropped unfinished (shutdown took %.1f ms); "
		       "%zu messages: %zu received, %zu returned, %zu drained; %zu jobs, %zu ran; "
		       "threads %ld -> %ld, fds %ld -> %ld, malloc %zu -> %zu bytes; "
		       "%llu check failures: %s\n",
		       fg.tasks, fg.completed, fg.tasks - fg.completed, fg.shutdown_ms, fg.msgs,
		       fg.received, fg.returned, fg.drained, fg.jobs_submitted, fg.jobs_ran,
		       fg.threads_before, fg.threads_after, fg.fds_before, fg.fds_after,
		       fg.malloc_before, fg.malloc_after, (unsigned long long)failures,
		       pass ? "pass" : "FAIL");
	}
	return pass ? 0 : 1;
}
