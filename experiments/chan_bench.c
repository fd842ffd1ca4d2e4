/* SPDX-License-Identifier: MIT */
/*
 * experiments/chan_bench.c: what the bounded MPMC channel (volt/chan.h)
 * costs (E20), and the crossbeam-style shapes over it (E10). The peers are
 * experiments/peers/tokio/src/bin/chan_bench.rs and
 * experiments/peers/go/chan_bench/, with the same cases and metrics.
 *
 *	chan_bench --bench tier2|mpmc|crossbeam [--buffer vyukov|locked]
 *	           [--shape seq|spsc|mpsc|mpmc|select] [--cap N|unbounded]
 *	           [--reps N] [--warmup N] [--workers N] [--ops N]
 *	           [--messages N] [--result]
 *
 * The shapes are Volt's published channel benchmarks (its Tier 2 and its
 * MPMC case). Every channel carries uint64_t elements. The buffer is
 * --buffer, else VOLT_CHAN_BUFFER (the harness sets it from the suite's
 * `buffer` parameter), else the default (vyukov).
 *
 * tier2: the main thread, no runtime, the try forms, --ops (100,000)
 * operations per case, a fresh channel per case and repetition (made, and
 * afterwards drained and freed, outside the timed loop):
 * - send_ns: volt_chan_try_send of 0, 1, ... into a channel of capacity
 *   --ops (it never fills); drained untimed, in order;
 * - recv_ns: volt_chan_try_recv from a channel of capacity --ops filled
 *   untimed, each value checked (in order);
 * - roundtrip_ns: on a channel of capacity 1, try_send then try_recv, the
 *   value checked;
 * - oneshot_ns: a oneshot initialised, sent, received and destroyed;
 * - broadcast_ns: one sender, 4 subscribed receivers, capacity 16: a send
 *   and the 4 receives, per message;
 * - watch_ns: a watch send and a borrow of the new value;
 * - allocs_per_op: allocation requests per operation, summed over the six
 *   cases (0 under a sanitizer, where they are not counted);
 * - send_bytes_per_op, recv_bytes_per_op, roundtrip_bytes_per_op (and the
 *   same for oneshot, broadcast and watch): bytes
 *   requested from the allocator during that case's timed loop, over its
 *   operations (the steady state: the channel's own allocation is made
 *   before the loop); bytes_per_op: their sum, "in total across the
 *   benchmarks" as Volt states its 48 B/op. Counted by wrappers of malloc,
 *   calloc, realloc, aligned_alloc, posix_memalign and memalign defined
 *   below, which forward to glibc's allocator and add the bytes requested
 *   (allocations freed again inside the loop count too, as Rust's counting
 *   global allocator in the peer counts them). A '#' line also gives the
 *   growth of mallinfo2()'s in-use bytes over each case's loop (what stays
 *   allocated). Under a sanitizer (which owns malloc) the wrappers are
 *   left out and bytes_per_op is that mallinfo2 growth instead.
 *
 * mpmc: on the runtime (--workers, else VOLT_WORKERS, else 2; VOLT_SCHED
 * picks the policy): a channel of capacity 1,024, 4 producer tasks and 4
 * consumer tasks, --messages (100,000) messages in all (producer p sends
 * p * M/4 + 0 .. M/4 - 1 through the volt_chan_send future), consumers
 * await volt_chan_recv until the channel reports VOLT_CHAN_CLOSED, which
 * it does once every producer dropped its sender handle (each producer
 * holds one, taken with volt_chan_sender_add before it is spawned; the main
 * thread drops the channel's first one once all are spawned). The main
 * thread spawns the 8 tasks (injected: it is no worker) and waits on a
 * latch the last of them opens; mpmc_ns is the time from just before the
 * first spawn until the latch opened, over the messages. Each consumer
 * records the values it got (a store into an array of its own); after the
 * round, untimed: every message received exactly once, and each
 * producer's values in increasing order within each consumer (FIFO). A
 * '#' line tells how often the tasks suspended per message.
 *
 * crossbeam (E10): the shapes of crossbeam-channel's benchmark suite, on
 * the runtime as mpmc above (the same round, check and timing; mpmc is
 * this bench's shape mpmc at capacity 1,024), --messages (100,000) in all,
 * msg_ns the time per message:
 * - seq: one task sends --cap messages (or what is left) and then receives
 *   them, until all are through (nothing ever waits);
 * - spsc: 1 producer, 1 consumer; mpsc: 4 producers, 1 consumer; mpmc: 4
 *   producers, 4 consumers;
 * - select: 2 producers, each on a channel of its own, and one consumer
 *   awaiting volt_select_wait (volt/select.h) over both receives (once one
 *   channel is closed and drained, over the other alone).
 * --cap is the bounded channel's capacity (default 1,024); 0 (crossbeam's
 * rendezvous channel) is refused, as volt_chan_new refuses it; "unbounded"
 * is volt/mpsc.h's unbounded channel, which has one consumer: mpsc only
 * (and --buffer does not apply to it).
 *
 * Volt's MPMC case sends 10,000 messages with 4 workers, and its Tokio
 * figure is for the async_channel crate; see the peers' header comments.
 *
 * Without --result a line per repetition is printed instead of the
 * protocol lines. A failed check prints what differed and exits 1.
 */
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <volt.h>
#include <volt/mpsc.h>
#include <volt/select.h>

#include "proto.h"

#define DEFAULT_OPS 100000
#define DEFAULT_MESSAGES 100000
#define MPMC_CAPACITY 1024
#define MPMC_PRODUCERS 4
#define MPMC_CONSUMERS 4
#define MPMC_TIMEOUT_S 20

static bool result_mode;

/* ------------------------------------------------- counting the allocations */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif

#if defined(__GLIBC__) && !defined(SANITIZED)
#define COUNT_ALLOC 1
/*
 * glibc's own allocator, under the names it exports for exactly this use
 * (a program that replaces malloc and forwards to it). Defining malloc,
 * free, calloc and realloc in the program replaces them for the whole
 * process, libvolt and libc included; the aligned forms are replaced too so
 * that they are counted.
 */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

static atomic_ullong alloc_bytes; /* bytes requested since the process started */
static atomic_ullong alloc_calls; /* and how many requests */

static inline void count_alloc(size_t n)
{
	atomic_fetch_add_explicit(&alloc_bytes, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
	count_alloc(size);
	return __libc_malloc(size);
}

void free(void *p)
{
	__libc_free(p);
}

void *calloc(size_t n, size_t size)
{
	count_alloc(n * size);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	count_alloc(size);
	return __libc_realloc(p, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	count_alloc(size);
	return __libc_memalign(align, size);
}

void *memalign(size_t align, size_t size)
{
	count_alloc(size);
	return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	count_alloc(size);
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

static uint64_t allocated(void)
{
	return atomic_load_explicit(&alloc_bytes, memory_order_relaxed);
}

static uint64_t allocations(void)
{
	return atomic_load_explicit(&alloc_calls, memory_order_relaxed);
}
#else
#define COUNT_ALLOC 0
static uint64_t allocated(void)
{
	return 0;
}

static uint64_t allocations(void)
{
	return 0;
}
#endif

/* Bytes in use by malloc (mallinfo2), for the net growth over a loop. */
static uint64_t in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

/* ------------------------------------------------------------------ tier 2 */

struct case_result {
	double ns;           /* per operation */
	double bytes;        /* allocated per operation (gross; net under a sanitizer) */
	double net_bytes;    /* mallinfo2 growth per operation */
	double allocs;       /* allocation requests per operation (0 under a sanitizer) */
};

/* Before and after a timed loop: the clock and both allocation counts. */
struct probe {
	uint64_t t, gross, net, calls;
};

static struct probe probe_now(void)
{
	struct probe p;

	p.gross = allocated();
	p.calls = allocations();
	p.net = in_use();
	p.t = proto_now_ns(); /* last: the probes' own cost stays out of the time */
	return p;
}

static struct probe probe_end(void)
{
	struct probe p;

	p.t = proto_now_ns(); /* first */
	p.gross = allocated();
	p.calls = allocations();
	p.net = in_use();
	return p;
}

static struct case_result case_of(struct probe a, struct probe b, unsigned long ops)
{
	struct case_result r;
	double net = (double)(int64_t)(b.net - a.net);

	r.ns = (double)(b.t - a.t) / (double)ops;
	r.net_bytes = net / (double)ops;
	r.bytes = COUNT_ALLOC ? (double)(b.gross - a.gross) / (double)ops : r.net_bytes;
	r.allocs = (double)(b.calls - a.calls) / (double)ops;
	return r;
}

static int fail(const char *what, unsigned long i, uint64_t got, int status)
{
	fprintf(stderr, "chan_bench: %s: operation %lu: value %llu, status %d\n", what, i,
		(unsigned long long)got, status);
	return -1;
}

static int new_chan(const char *buffer, size_t cap, struct volt_chan **ch)
{
	int err = volt_chan_new(sizeof(uint64_t), cap, buffer, ch);

	if (err)
		fprintf(stderr, "chan_bench: volt_chan_new(capacity %zu, buffer %s): %s\n", cap,
			buffer ? buffer : "(default)", strerror(-err));
	return err;
}

static int t2_send(const char *buffer, unsigned long ops, struct case_result *out)
{
	struct volt_chan *ch;
	uint64_t v;
	int st;

	if (new_chan(buffer, ops, &ch))
		return -1;

	struct probe a = probe_now();

	for (unsigned long i = 0; i < ops; i++) {
		v = i;
		st = volt_chan_try_send(ch, &v);
		if (st != VOLT_CHAN_OK)
			return fail("send", i, v, st);
	}

	struct probe b = probe_end();

	*out = case_of(a, b, ops);
	for (unsigned long i = 0; i < ops; i++) { /* drain, untimed */
		st = volt_chan_try_recv(ch, &v);
		if (st != VOLT_CHAN_OK || v != i)
			return fail("send (drain)", i, v, st);
	}
	volt_chan_free(ch);
	return 0;
}

static int t2_recv(const char *buffer, unsigned long ops, struct case_result *out)
{
	struct volt_chan *ch;
	uint64_t v;
	int st;

	if (new_chan(buffer, ops, &ch))
		return -1;
	for (unsigned long i = 0; i < ops; i++) { /* fill, untimed */
		v = i;
		st = volt_chan_try_send(ch, &v);
		if (st != VOLT_CHAN_OK)
			return fail("recv (fill)", i, v, st);
	}

	struct probe a = probe_now();

	for (unsigned long i = 0; i < ops; i++) {
		st = volt_chan_try_recv(ch, &v);
		if (st != VOLT_CHAN_OK || v != i)
			return fail("recv", i, v, st);
	}

	struct probe b = probe_end();

	*out = case_of(a, b, ops);
	volt_chan_free(ch);
	return 0;
}

static int t2_roundtrip(const char *buffer, unsigned long ops, struct case_result *out)
{
	struct volt_chan *ch;
	uint64_t v;
	int st;

	if (new_chan(buffer, 1, &ch))
		return -1;

	struct probe a = probe_now();

	for (unsigned long i = 0; i < ops; i++) {
		v = i;
		st = volt_chan_try_send(ch, &v);
		if (st != VOLT_CHAN_OK)
			return fail("roundtrip (send)", i, v, st);
		st = volt_chan_try_recv(ch, &v);
		if (st != VOLT_CHAN_OK || v != i)
			return fail("roundtrip (recv)", i, v, st);
	}

	struct probe b = probe_end();

	*out = case_of(a, b, ops);
	volt_chan_free(ch);
	return 0;
}

/* A oneshot per operation: init, send, receive, destroy (no allocation). */
static int t2_oneshot(const char *buffer, unsigned long ops, struct case_result *out)
{
	(void)buffer;

	struct probe a = probe_now();

	for (unsigned long i = 0; i < ops; i++) {
		struct volt_oneshot o;
		void *v = NULL;
		int st;

		if (volt_oneshot_init(&o))
			return fail("oneshot (init)", i, 0, -1);
		st = volt_oneshot_send(&o, (void *)(uintptr_t)(i + 1));
		if (st == VOLT_CHAN_OK)
			st = volt_oneshot_try_recv(&o, &v);
		volt_oneshot_destroy(&o);
		if (st != VOLT_CHAN_OK || v != (void *)(uintptr_t)(i + 1))
			return fail("oneshot", i, (uint64_t)(uintptr_t)v, st);
	}

	struct probe b = probe_end();

	*out = case_of(a, b, ops);
	return 0;
}

/* One sender, 4 receivers, capacity 16: per message, a send and 4 receives. */
static int t2_broadcast(const char *buffer, unsigned long ops, struct case_result *out)
{
	struct volt_broadcast *bc;
	struct volt_broadcast_rx rx[4];
	uint64_t missed;
	void *v;
	int st;

	(void)buffer;
	if (volt_broadcast_new(16, &bc))
		return fail("broadcast (new)", 0, 0, -1);
	for (int k = 0; k < 4; k++)
		volt_broadcast_subscribe(bc, &rx[k]);

	struct probe a = probe_now();

	for (unsigned long i = 0; i < ops; i++) {
		st = volt_broadcast_send(bc, (void *)(uintptr_t)(i + 1));
		if (st != VOLT_CHAN_OK)
			return fail("broadcast (send)", i, 0, st);
		for (int k = 0; k < 4; k++) {
			st = volt_broadcast_try_recv(&rx[k], &v, &missed);
			if (st != VOLT_CHAN_OK || v != (void *)(uintptr_t)(i + 1))
				return fail("broadcast (recv)", i, (uint64_t)(uintptr_t)v, st);
		}
	}

	struct probe b = probe_end();

	*out = case_of(a, b, ops);
	for (int k = 0; k < 4; k++)
		volt_broadcast_unsubscribe(&rx[k]);
	volt_broadcast_free(bc);
	return 0;
}

/* Per operation a send and a borrow of the new value. */
static int t2_watch(const char *buffer, unsigned long ops, struct case_result *out)
{
	struct volt_watch w;
	struct volt_watch_rx rx;

	(void)buffer;
	if (volt_watch_init(&w, NULL))
		return fail("watch (init)", 0, 0, -1);
	volt_watch_subscribe(&w, &rx);

	struct probe a = probe_now();

	for (unsigned long i = 0; i < ops; i++) {
		int st = volt_watch_send(&w, (void *)(uintptr_t)(i + 1));
		void *v = volt_watch_borrow(&rx);

		if (st != VOLT_CHAN_OK || v != (void *)(uintptr_t)(i + 1))
			return fail("watch", i, (uint64_t)(uintptr_t)v, st);
	}

	struct probe b = probe_end();

	*out = case_of(a, b, ops);
	volt_watch_destroy(&w);
	return 0;
}

#define T2_CASES 6

static int tier2(const char *buffer, unsigned long ops, unsigned long reps, unsigned long warmup)
{
	static const char *const names[T2_CASES] = { "send", "recv", "roundtrip",
						     "oneshot", "broadcast", "watch" };
	int (*const cases[T2_CASES])(const char *, unsigned long, struct case_result *) = {
		t2_send, t2_recv, t2_roundtrip, t2_oneshot, t2_broadcast, t2_watch,
	};
	double net_max[T2_CASES] = { 0 };

	for (unsigned long rep = 0; rep < warmup + reps; rep++) {
		struct case_result r[T2_CASES];
		double total = 0, allocs = 0;

		for (int k = 0; k < T2_CASES; k++)
			if (cases[k](buffer, ops, &r[k]))
				return 1;
		if (rep < warmup)
			continue;

		unsigned long n = rep - warmup + 1; /* the protocol counts from 1 */

		for (int k = 0; k < T2_CASES; k++) {
			total += r[k].bytes;
			allocs += r[k].allocs;
			if (r[k].net_bytes > net_max[k])
				net_max[k] = r[k].net_bytes;
		}
		if (result_mode) {
			char metric[32];

			for (int k = 0; k < T2_CASES; k++) {
				snprintf(metric, sizeof metric, "%s_ns", names[k]);
				proto_result(n, metric, r[k].ns, "ns");
			}
			proto_result(n, "bytes_per_op", total, "bytes");
			proto_result(n, "allocs_per_op", allocs, "count");
			for (int k = 0; k < T2_CASES; k++) {
				snprintf(metric, sizeof metric, "%s_bytes_per_op", names[k]);
				proto_result(n, metric, r[k].bytes, "bytes");
			}
		} else {
			printf("rep %lu: send %.2f ns, recv %.2f ns, roundtrip %.2f ns, oneshot %.2f ns, "
			       "broadcast 1x4 %.2f ns, watch %.2f ns; allocated %.3f bytes/op in all\n",
			       n, r[0].ns, r[1].ns, r[2].ns, r[3].ns, r[4].ns, r[5].ns, total);
		}
		fflush(stdout);
	}
	printf("# tier2: buffer %s, %lu ops per case; bytes_per_op counted %s (%llu bytes "
	       "requested since the start, setup included); mallinfo2 in-use growth over the "
	       "timed loops, largest per op: send %.3f, recv %.3f, roundtrip %.3f\n",
	       buffer ? buffer : "vyukov (default)", ops,
	       COUNT_ALLOC ? "by the malloc wrappers (gross)" : "as mallinfo2 growth (net)",
	       (unsigned long long)allocated(), net_max[0], net_max[1], net_max[2]);
	return 0;
}

/* ------------------------------------------------- mpmc and the crossbeam shapes */

/*
 * One round of a shape: producers send their share of the messages,
 * consumers receive until their channel (or, for select, both) is closed.
 * The producers' channel is ch (select: producer p sends into ch or ch2 by
 * p % 2), or q when the capacity is unbounded (volt/mpsc.h, one consumer).
 */
enum shape { SHAPE_SEQ, SHAPE_SPSC, SHAPE_MPSC, SHAPE_MPMC, SHAPE_SELECT };

static const char *const shape_names[] = { "seq", "spsc", "mpsc", "mpmc", "select" };
static const unsigned shape_prod[] = { 1, 1, MPMC_PRODUCERS, MPMC_PRODUCERS, 2 };
static const unsigned shape_cons[] = { 1, 1, 1, MPMC_CONSUMERS, 1 };

struct mpmc_round {
	enum shape shape;
	size_t cap;                     /* 0: unbounded (q) */
	unsigned nprod, ncons;
	uint64_t messages;
	struct volt_chan *ch, *ch2;     /* ch2: select's second channel */
	struct volt_mpsc *q;
	struct proto_latch done;
	atomic_int err;
	uint64_t *got[MPMC_CONSUMERS]; /* each consumer's values, in the order received */
	uint64_t got_n[MPMC_CONSUMERS];
	uint64_t got_cap;               /* capacity of each got[] */
	atomic_ullong polls;            /* polls of all the tasks */
};

struct producer {
	struct volt_future base;
	struct mpmc_round *m;
	struct volt_chan *ch;           /* NULL: m->q */
	uint64_t next, end;
	uint64_t value;
	struct volt_chan_send send;
};

static enum volt_poll producer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct producer *p = (struct producer *)f;

	atomic_fetch_add_explicit(&p->m->polls, 1, memory_order_relaxed);
	VOLT_BEGIN(f);
	for (; p->next < p->end; p->next++) {
		p->value = p->next;
		if (!p->ch) { /* unbounded: never waits */
			if (volt_mpsc_send(p->m->q, &p->value) != VOLT_CHAN_OK) {
				proto_note_err(&p->m->err, -EPIPE);
				break;
			}
			continue;
		}
		VOLT_AWAIT(f, cx, volt_chan_send(&p->send, p->ch, &p->value));
		if (p->send.result != VOLT_CHAN_OK) {
			proto_note_err(&p->m->err, -EPIPE);
			break;
		}
	}
	if (p->ch)
		volt_chan_sender_drop(p->ch); /* the last one closes the channel */
	else
		volt_mpsc_sender_drop(p->m->q);
	proto_latch_count_down(&p->m->done, 1);
	VOLT_END(f);
}

static const struct volt_future_ops producer_ops = { .poll = producer_poll };

struct consumer {
	struct volt_future base;
	struct mpmc_round *m;
	unsigned idx;
	unsigned open;                  /* select: channels not yet closed */
	int closed_branch;              /* select: the branch that closed first, or -1 */
	uint64_t n;
	uint64_t value;
	struct volt_chan_recv recv;
	struct volt_mpsc_recv qrecv;
	struct volt_select sel;
};

/* select: (re)arms the branches over the channels still open. */
static void consumer_arm_select(struct consumer *c)
{
	volt_select_init(&c->sel, 1 + c->idx);
	if (c->closed_branch != 0)
		volt_select_add_recv(&c->sel, c->m->ch, &c->value);
	if (c->closed_branch != 1)
		volt_select_add_recv(&c->sel, c->m->ch2, &c->value);
}

static enum volt_poll consumer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct consumer *c = (struct consumer *)f;
	int st;

	atomic_fetch_add_explicit(&c->m->polls, 1, memory_order_relaxed);
	VOLT_BEGIN(f);
	c->open = 2;
	c->closed_branch = -1;
	if (c->m->shape == SHAPE_SELECT)
		consumer_arm_select(c);
	for (;;) {
		if (c->m->shape == SHAPE_SELECT) {
			VOLT_AWAIT(f, cx, volt_select_wait(&c->sel));
			st = c->sel.result;
			if (st != VOLT_CHAN_OK) { /* that branch's channel closed and drained */
				if (--c->open == 0)
					break;
				/* the branch index is the channel's while both are armed */
				c->closed_branch = c->sel.ready;
				consumer_arm_select(c);
				continue;
			}
		} else if (!c->m->cap) {
			VOLT_AWAIT(f, cx, volt_mpsc_recv(&c->qrecv, c->m->q, &c->value));
			st = c->qrecv.result;
		} else {
			VOLT_AWAIT(f, cx, volt_chan_recv(&c->recv, c->m->ch, &c->value));
			st = c->recv.result;
		}
		if (st != VOLT_CHAN_OK)
			break; /* closed and drained */
		if (c->n == c->m->got_cap) {
			proto_note_err(&c->m->err, -EOVERFLOW);
			break;
		}
		c->m->got[c->idx][c->n++] = c->value;
	}
	c->m->got_n[c->idx] = c->n;
	if (c->m->cap) {
		volt_chan_receiver_drop(c->m->ch);
		if (c->m->ch2)
			volt_chan_receiver_drop(c->m->ch2);
	}
	proto_latch_count_down(&c->m->done, 1);
	VOLT_END(f);
}

static const struct volt_future_ops consumer_ops = { .poll = consumer_poll };

/*
 * seq: one task sends a channel's capacity of messages (or what is left),
 * then receives them, until all are through; every operation completes
 * without waiting. Its values land in got[0], in order.
 */
struct seq_task {
	struct volt_future base;
	struct mpmc_round *m;
	uint64_t next, chunk, k;
	uint64_t value;
	struct volt_chan_send send;
	struct volt_chan_recv recv;
};

static enum volt_poll seq_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct seq_task *s = (struct seq_task *)f;
	struct mpmc_round *m = s->m;

	atomic_fetch_add_explicit(&m->polls, 1, memory_order_relaxed);
	VOLT_BEGIN(f);
	for (s->next = 0; s->next < m->messages; s->next += s->chunk) {
		s->chunk = m->messages - s->next < m->cap ? m->messages - s->next : m->cap;
		for (s->k = 0; s->k < s->chunk; s->k++) {
			s->value = s->next + s->k;
			VOLT_AWAIT(f, cx, volt_chan_send(&s->send, m->ch, &s->value));
			if (s->send.result != VOLT_CHAN_OK)
				goto broken;
		}
		for (s->k = 0; s->k < s->chunk; s->k++) {
			VOLT_AWAIT(f, cx, volt_chan_recv(&s->recv, m->ch, &s->value));
			if (s->recv.result != VOLT_CHAN_OK)
				goto broken;
			m->got[0][m->got_n[0]++] = s->value;
		}
	}
	goto out;
broken:
	proto_note_err(&m->err, -EPIPE);
out:
	volt_chan_sender_drop(m->ch);
	volt_chan_receiver_drop(m->ch);
	proto_latch_count_down(&m->done, 1);
	VOLT_END(f);
}

static const struct volt_future_ops seq_ops = { .poll = seq_poll };

struct mpmc_run {
	const char *buffer;
	const char *metric;             /* mpmc_ns (--bench mpmc) or msg_ns (crossbeam) */
	enum shape shape;
	size_t cap;                     /* 0: unbounded */
	unsigned long messages, reps, warmup;
	uint8_t *seen;
	int ret;
};

/* Checks a round: every message exactly once, each producer's in order per consumer. */
static int mpmc_check(struct mpmc_run *run, struct mpmc_round *m)
{
	uint64_t per = run->messages / m->nprod, total = 0;

	memset(run->seen, 0, run->messages);
	for (unsigned c = 0; c < m->ncons; c++) {
		uint64_t last[MPMC_PRODUCERS];

		memset(last, 0xff, sizeof last); /* none yet */
		for (uint64_t i = 0; i < m->got_n[c]; i++) {
			uint64_t v = m->got[c][i];

			if (v >= run->messages || run->seen[v]) {
				fprintf(stderr, "chan_bench: %s: value %llu received %s\n",
					shape_names[m->shape], (unsigned long long)v,
					v >= run->messages ? "but never sent" : "twice");
				return -1;
			}
			run->seen[v] = 1;

			uint64_t p = v / per;

			if (last[p] != UINT64_MAX && v < last[p]) {
				fprintf(stderr, "chan_bench: %s: consumer %u got %llu after %llu "
					"(producer %llu out of order)\n", shape_names[m->shape], c,
					(unsigned long long)v, (unsigned long long)last[p],
					(unsigned long long)p);
				return -1;
			}
			last[p] = v;
		}
		total += m->got_n[c];
	}
	if (total != run->messages) {
		fprintf(stderr, "chan_bench: %s: %llu messages received, %lu sent\n",
			shape_names[m->shape], (unsigned long long)total, run->messages);
		return -1;
	}
	return 0;
}

/* Makes the round's channels; the caller's handles are dropped once all are spawned. */
static int round_channels(struct mpmc_run *run, struct mpmc_round *m)
{
	m->ch = m->ch2 = NULL;
	m->q = NULL;
	if (!run->cap) {
		int err = volt_mpsc_new(sizeof(uint64_t), &m->q);

		if (err)
			fprintf(stderr, "chan_bench: volt_mpsc_new: %s\n", strerror(-err));
		return err;
	}
	if (new_chan(run->buffer, run->cap, &m->ch))
		return -1;
	if (run->shape == SHAPE_SELECT && new_chan(run->buffer, run->cap, &m->ch2)) {
		volt_chan_free(m->ch);
		return -1;
	}
	return 0;
}

/* Spawns task k of the round (producers first, then consumers; seq: one task). */
static int round_spawn(struct volt_rt *rt, struct mpmc_round *m, unsigned k)
{
	uint64_t per = m->messages / m->nprod;
	int err;

	if (m->shape == SHAPE_SEQ) {
		struct seq_task s = { .base = VOLT_FUTURE_INIT(&seq_ops), .m = m };

		volt_chan_sender_add(m->ch);
		volt_chan_receiver_add(m->ch);
		err = volt_spawn(rt, &s.base, sizeof s, NULL);
		if (err) {
			volt_chan_sender_drop(m->ch);
			volt_chan_receiver_drop(m->ch);
		}
	} else if (k < m->nprod) {
		struct producer p = { .base = VOLT_FUTURE_INIT(&producer_ops), .m = m,
				      .ch = m->shape == SHAPE_SELECT && k % 2 ? m->ch2 : m->ch,
				      .next = k * per, .end = (k + 1) * per };

		if (p.ch)
			volt_chan_sender_add(p.ch);
		else
			volt_mpsc_sender_add(m->q);
		err = volt_spawn(rt, &p.base, sizeof p, NULL);
		if (err && p.ch)
			volt_chan_sender_drop(p.ch);
		else if (err)
			volt_mpsc_sender_drop(m->q);
	} else {
		struct consumer c = { .base = VOLT_FUTURE_INIT(&consumer_ops), .m = m,
				      .idx = k - m->nprod };

		if (m->ch) {
			volt_chan_receiver_add(m->ch);
			if (m->ch2)
				volt_chan_receiver_add(m->ch2);
		}
		err = volt_spawn(rt, &c.base, sizeof c, NULL);
		if (err && m->ch) {
			volt_chan_receiver_drop(m->ch);
			if (m->ch2)
				volt_chan_receiver_drop(m->ch2);
		}
	}
	return err;
}

/* The round's own handles: its senders are the producers' now. */
static void round_drop_own(struct mpmc_round *m)
{
	if (m->q) {
		volt_mpsc_sender_drop(m->q);
		return;
	}
	volt_chan_sender_drop(m->ch);
	volt_chan_receiver_drop(m->ch);
	if (m->ch2) {
		volt_chan_sender_drop(m->ch2);
		volt_chan_receiver_drop(m->ch2);
	}
}

static void round_close(struct mpmc_round *m)
{
	if (m->q)
		volt_mpsc_close(m->q);
	if (m->ch)
		volt_chan_close(m->ch);
	if (m->ch2)
		volt_chan_close(m->ch2);
}

static void round_free(struct mpmc_round *m)
{
	if (m->q)
		volt_mpsc_free(m->q);
	if (m->ch)
		volt_chan_free(m->ch);
	if (m->ch2)
		volt_chan_free(m->ch2);
}

static int mpmc(struct volt_rt *rt, void *arg)
{
	struct mpmc_run *run = arg;
	struct mpmc_round m = { .done = PROTO_LATCH_INIT, .shape = run->shape, .cap = run->cap,
				.messages = run->messages };
	unsigned tasks;
	uint64_t polls = 0;

	m.nprod = shape_prod[run->shape];
	m.ncons = shape_cons[run->shape];
	tasks = run->shape == SHAPE_SEQ ? 1 : m.nprod + m.ncons;
	m.got_cap = run->messages;
	for (unsigned c = 0; c < m.ncons; c++) {
		m.got[c] = malloc(run->messages * sizeof(uint64_t));
		if (!m.got[c])
			return run->ret = -ENOMEM;
		memset(m.got[c], 0, run->messages * sizeof(uint64_t)); /* resident */
	}
	run->seen = calloc(run->messages, 1);
	if (!run->seen)
		return run->ret = -ENOMEM;

	for (unsigned long rep = 0; rep < run->warmup + run->reps; rep++) {
		int err = 0;

		if (round_channels(run, &m))
			return run->ret = -1;
		atomic_store(&m.err, 0);
		atomic_store(&m.polls, 0);
		memset(m.got_n, 0, sizeof m.got_n);
		proto_latch_arm(&m.done, tasks);

		uint64_t t0 = proto_now_ns();

		for (unsigned k = 0; k < tasks; k++) {
			err = round_spawn(rt, &m, k);
			if (err) {
				fprintf(stderr, "chan_bench: %s: spawn: %s\n", shape_names[m.shape],
					strerror(-err));
				round_close(&m);
				proto_latch_count_down(&m.done, tasks - k);
				break;
			}
		}
		round_drop_own(&m);
		if (proto_latch_wait_for(&m.done, MPMC_TIMEOUT_S)) {
			fprintf(stderr, "chan_bench: %s: round unfinished after %d s\n",
				shape_names[m.shape], MPMC_TIMEOUT_S);
			exit(3); /* tasks still use the channel: no clean way out */
		}

		uint64_t t1 = proto_now_ns();

		round_free(&m);
		err = err ? err : atomic_load(&m.err);
		if (err) {
			fprintf(stderr, "chan_bench: %s: %s\n", shape_names[m.shape], strerror(-err));
			return run->ret = -1;
		}
		if (mpmc_check(run, &m))
			return run->ret = -1;
		if (rep < run->warmup)
			continue;
		polls += atomic_load(&m.polls);

		unsigned long n = rep - run->warmup + 1; /* the protocol counts from 1 */
		double ns = (double)(t1 - t0) / (double)run->messages;

		if (result_mode)
			proto_result(n, run->metric, ns, "ns");
		else
			printf("rep %lu: %s %u x %u, capacity %zu%s, %lu messages: %.1f ns/message\n",
			       n, shape_names[m.shape], m.nprod, m.ncons, run->cap,
			       run->cap ? "" : " (unbounded)", run->messages, ns);
		fflush(stdout);
	}
	printf("# %s: %s, capacity %zu%s, %lu messages per round, checked (each once, FIFO per "
	       "producer); %.3f suspensions per message (task polls beyond each task's first)\n",
	       shape_names[m.shape], run->cap ? (run->buffer ? run->buffer : "vyukov (default)") :
	       "volt_mpsc", run->cap, run->cap ? "" : " (unbounded)", run->messages,
	       ((double)polls / (double)run->reps - tasks) / (double)run->messages);
	for (unsigned c = 0; c < m.ncons; c++)
		free(m.got[c]);
	free(run->seen);
	return 0;
}

/* -------------------------------------------------------------------- main */

static int usage(void)
{
	fprintf(stderr, "usage: chan_bench --bench tier2|mpmc|crossbeam [--buffer vyukov|locked]\n"
			"                  [--shape seq|spsc|mpsc|mpmc|select] [--cap N|unbounded]\n"
			"                  [--reps N] [--warmup N] [--workers N] [--ops N]\n"
			"                  [--messages N] [--result]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long reps = 5, warmup = 1, workers = 0, ops = DEFAULT_OPS,
		      messages = DEFAULT_MESSAGES, cap = MPMC_CAPACITY;
	const char *bench = NULL, *buffer = NULL, *shape = "mpmc", *cap_arg = NULL;
	const struct proto_opt opts[] = {
		{ "--reps", &reps, 1, 1000 },
		{ "--warmup", &warmup, 0, 100 },
		{ "--workers", &workers, 1, VOLT_MAX_WORKERS },
		{ "--ops", &ops, 1, 100000000 },
		{ "--messages", &messages, MPMC_PRODUCERS, 100000000 },
		{ NULL, NULL, 0, 0 },
	};
	struct mpmc_run run = { .metric = "mpmc_ns", .shape = SHAPE_MPMC };
	bool bad = false;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--result"))
			result_mode = true;
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench = argv[++i];
		else if (!strcmp(argv[i], "--buffer") && i + 1 < argc)
			buffer = argv[++i];
		else if (!strcmp(argv[i], "--shape") && i + 1 < argc)
			shape = argv[++i];
		else if (!strcmp(argv[i], "--cap") && i + 1 < argc)
			cap_arg = argv[++i];
		else if (!proto_opt(argc, argv, &i, opts, &bad))
			bad = true;
	}
	if (bad || !bench)
		return usage();
	if (!buffer && getenv("VOLT_CHAN_BUFFER") && *getenv("VOLT_CHAN_BUFFER"))
		buffer = getenv("VOLT_CHAN_BUFFER");
	if (buffer) {
		bool known = false;

		for (unsigned i = 0; volt_chan_buffer_name(i); i++)
			known |= !strcmp(buffer, volt_chan_buffer_name(i));
		if (!known) {
			fprintf(stderr, "chan_bench: unknown buffer '%s'; built in:", buffer);
			for (unsigned i = 0; volt_chan_buffer_name(i); i++)
				fprintf(stderr, " %s", volt_chan_buffer_name(i));
			fprintf(stderr, "\n");
			return 2;
		}
	}
	proto_malloc_setup();
	if (!strcmp(bench, "tier2"))
		return tier2(buffer, ops, reps, warmup);
	if (!strcmp(bench, "crossbeam")) {
		bool found = false;
		char *end;

		for (unsigned k = 0; k < sizeof shape_names / sizeof *shape_names; k++)
			if (!strcmp(shape, shape_names[k])) {
				run.shape = (enum shape)k;
				found = true;
			}
		if (!found)
			return usage();
		run.metric = "msg_ns";
		if (cap_arg && !strcmp(cap_arg, "unbounded")) {
			cap = 0;
		} else if (cap_arg) {
			errno = 0;
			cap = strtoul(cap_arg, &end, 10);
			if (errno || end == cap_arg || *end || *cap_arg < '0' || *cap_arg > '9' ||
			    cap > 100000000)
				return usage();
			if (!cap) {
				fprintf(stderr, "chan_bench: capacity 0 (a rendezvous channel) is not "
						"supported: volt_chan_new rejects it\n");
				return 2;
			}
		}
		if (!cap && run.shape != SHAPE_MPSC) {
			fprintf(stderr, "chan_bench: an unbounded channel (volt/mpsc.h) has one "
					"consumer: --cap unbounded is for --shape mpsc\n");
			return 2;
		}
	} else if (strcmp(bench, "mpmc") || cap_arg || strcmp(shape, "mpmc")) {
		return usage();
	}
	if (messages % MPMC_PRODUCERS)
		return usage();

	struct volt_config cfg;
	int ret = proto_config(&cfg, "chan_bench", workers, 2);

	if (ret)
		return ret;
	run.buffer = buffer;
	run.cap = cap;
	run.messages = messages;
	run.reps = reps;
	run.warmup = warmup;
	ret = proto_run(&cfg, mpmc, &run, "chan_bench");
	return ret || run.ret ? 1 : 0;
}
