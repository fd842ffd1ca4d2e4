/* SPDX-License-Identifier: MIT */
/*
 * tests/test_bad_input.c: the bad-input table of issue 10
 * (../shared/reference/reliability.md, section 5), one test (or a small
 * group) per row, named after the row. This file is the table's index:
 * each test checks exactly the row's contract (return codes, and that
 * nothing is lost: a refused value stays with the caller, a refused create
 * leaves no heap block, descriptor or thread behind) and names the tests
 * that go deeper. LSan (make test-asan) checks the leaks too.
 *
 * Where our API deliberately differs from the table's wording:
 * - workers = 0 means "one per CPU" and global_interval = 0 "self-tuned"
 *   (volt/config.h); every other zero count or interval is -EINVAL.
 * - Channel outcomes are small status values (volt/common.h: "try-operations
 *   return small result enums"): VOLT_CHAN_CLOSED stands for the table's
 *   -EPIPE/RT_CLOSED and VOLT_CHAN_FULL for -EAGAIN, distinct from each
 *   other and from every negative errno. The semaphore uses -EAGAIN/-EPIPE.
 * - volt_rt_free with sockets still open closes them (Tokio's model: a
 *   runtime shutdown closes everything) instead of refusing with -EBUSY;
 *   every later call on one of its handles returns -ESHUTDOWN.
 *
 * The rows, in table order:
 *	0 workers, 0 max-blocking, 0 intervals	bad_input_zero_workers
 *	huge capacities				bad_input_huge_capacity
 *	send after close			bad_input_send_after_close
 *	try_send when full			bad_input_try_send_full
 *	recv on a closed channel		bad_input_recv_closed_drains
 *	broadcast lag				bad_input_broadcast_lag
 *	cancel after completion, or twice	bad_input_cancel_after_completion
 *	semaphore over max, closed		bad_input_semaphore_over_max
 *	double close, use after close		bad_input_double_close_and_stale
 *	use after deinit			bad_input_after_deinit
 *	address strings				bad_input_addr_strings, bad_input_addr_port_zero
 *	name resolution failure			bad_input_resolve_failure, bad_input_resolve_on_pool
 *	timer beyond the wheel, past deadline	bad_input_timer_far_and_past, bad_input_timer_wheel_edges
 *	oversized read/write buffers		bad_input_oversized_buffers
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc_fault.h"
#include "core/timer_wheel.h"
#include "drivers/sys.h"
#include "net_helpers.h"

int volt__eai_error(int eai, int e);     /* net/resolve.c */
extern _Atomic long volt__resolve_jobs;  /* net/resolve.c */

/* ------------------------------------------------------------ tools */

/* Heap blocks, mappings and threads made so far (tests/alloc_fault.h); zeros without it. */
struct footprint {
	int64_t live, maps;
	uint64_t threads;
	int fds;
};

static void footprint(struct footprint *f)
{
	struct vt_alloc_stats s = { 0 };

	if (vt_alloc_available())
		vt_alloc_stats(&s);
	f->live = s.live;
	f->maps = s.maps;
	f->threads = s.threads;
	f->fds = vt_fd_count(NULL);
}

/* Nothing was allocated, mapped, started or opened since *before. */
#define CHECK_NOTHING_LEFT(before)                               \
	do {                                                     \
		struct footprint vt_now_;                        \
		footprint(&vt_now_);                             \
		CHECK_EQ(vt_now_.live, (before)->live);          \
		CHECK_EQ(vt_now_.maps, (before)->maps);          \
		CHECK_UEQ(vt_now_.threads, (before)->threads);   \
		CHECK_EQ(vt_now_.fds, (before)->fds);            \
	} while (0)

/* What a receiver saw, per receive: the outcome, the value, messages missed (broadcast). */
struct received {
	int results[8];
	uint64_t values[8];
	uint64_t missed[8];
};

/*
 * Awaits `n` receives on a channel, an mpsc or a broadcast receiver
 * (whichever is set) and records each outcome in *out.
 */
struct receiver {
	struct volt_future base;
	struct volt_chan *ch;
	struct volt_mpsc *m;
	struct volt_broadcast_rx *rx;
	struct received *out;
	struct volt_chan_recv cr;
	struct volt_mpsc_recv mr;
	struct volt_broadcast_recv br;
	int n, i;
};

static enum volt_poll receiver_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct receiver *r = (struct receiver *)f;
	struct received *out = r->out;

	VOLT_BEGIN(f);
	for (r->i = 0; r->i < r->n; r->i++) {
		if (r->ch) {
			VOLT_AWAIT(f, cx, volt_chan_recv(&r->cr, r->ch, &out->values[r->i]));
			out->results[r->i] = r->cr.result;
		} else if (r->m) {
			VOLT_AWAIT(f, cx, volt_mpsc_recv(&r->mr, r->m, &out->values[r->i]));
			out->results[r->i] = r->mr.result;
		} else {
			VOLT_AWAIT(f, cx, volt_broadcast_recv(&r->br, r->rx));
			out->results[r->i] = r->br.result;
			out->values[r->i] = (uintptr_t)r->br.value;
			out->missed[r->i] = r->br.missed;
		}
	}
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

static const struct volt_future_ops receiver_ops = { .poll = receiver_poll };

/*
 * SQLite's OOM loop over one create call: fail its n-th allocation, for
 * n = 1, 2, ... until it succeeds without meeting the failure. Each failed
 * attempt must return -ENOMEM and leave nothing allocated; `made` frees
 * what the final, successful call created. Returns the attempts that failed.
 */
static int oom_loop(int (*create)(void *arg), void (*made)(void *arg), void *arg)
{
	int failed = 0;

	if (!vt_alloc_available())
		return 0;
	for (uint64_t n = 1;; n++) {
		struct footprint before;
		int ret;

		footprint(&before);
		vt_alloc_fail_after(n, VT_ALLOC_TRANSIENT);
		ret = create(arg);
		if (vt_alloc_disarm() == 0) {
			CHECK_OK(ret);
			made(arg);
			return failed;
		}
		CHECK_EQ(ret, -ENOMEM);
		CHECK_NOTHING_LEFT(&before);
		failed++;
		CHECK_LT(n, 1000);
	}
}

/* Runs a future that completes without waiting, on this thread. */
static void run_here(struct volt_future *f)
{
	CHECK_OK(volt_block_on(NULL, f, NULL));
}

/* ------------------------------------------------- row: zero counts */

/*
 * 0 workers, 0 max-blocking, 0 intervals: -EINVAL, nothing allocated
 * (no heap block, no thread, no descriptor), *out untouched. Ours differs
 * on purpose where zero has a meaning: workers = 0 is one per CPU,
 * global_interval = 0 is self-tuned (volt/config.h).
 * Deeper: test_config.c config_invalid_values (every field, every bound),
 * config_env_malformed, config_valid_edges; tests/fuzz/fuzz_config.c.
 */
VOLT_TEST(bad_input_zero_workers)
{
	static const char *const vars[] = { "VOLT_WORKERS", "VOLT_MAX_BLOCKING",
					    "VOLT_EVENT_INTERVAL", "VOLT_GLOBAL_INTERVAL",
					    "VOLT_BUDGET", "VOLT_SEARCH_ROUNDS", "VOLT_SCHED",
					    "VOLT_IDLE", "VOLT_CLOCK" };
	struct volt_config cfg;
	struct volt_interval iv;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		CHECK_OK(unsetenv(vars[i]));

	for (int c = 0; c < 5; c++) {
		struct volt_rt *sentinel = (struct volt_rt *)&cfg, *rt = sentinel;
		struct footprint before;

		CHECK_OK(volt_config_init(&cfg));
		switch (c) {
		case 0: cfg.max_blocking_threads = 0; break;
		case 1: cfg.event_interval = 0; break;
		case 2: cfg.budget = 0; break;
		case 3: cfg.search_rounds = 0; break;
		case 4: cfg.workers = VOLT_MAX_WORKERS + 1; break;
		}
		footprint(&before);
		CHECK_EQ(volt_config_check(&cfg), -EINVAL);
		CHECK_EQ(volt_rt_new(&cfg, &rt), -EINVAL);
		CHECK_PTR_EQ(rt, sentinel);
		CHECK_NOTHING_LEFT(&before);
	}

	/* the same through the environment: -EINVAL, the field keeps its default */
	CHECK_OK(setenv("VOLT_MAX_BLOCKING", "0", 1));
	CHECK_EQ(volt_config_init(&cfg), -EINVAL);
	CHECK_EQ(cfg.max_blocking_threads, 512);
	CHECK_OK(unsetenv("VOLT_MAX_BLOCKING"));
	CHECK_OK(setenv("VOLT_EVENT_INTERVAL", "0", 1));
	CHECK_EQ(volt_config_init(&cfg), -EINVAL);
	CHECK_EQ(cfg.event_interval, 61);
	CHECK_OK(unsetenv("VOLT_EVENT_INTERVAL"));

	/* zero with a meaning: accepted */
	CHECK_OK(setenv("VOLT_WORKERS", "0", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK_OK(unsetenv("VOLT_WORKERS"));
	cfg.workers = 0;
	cfg.global_interval = 0;
	CHECK_OK(volt_config_check(&cfg));
	{
		struct volt_rt *rt;

		CHECK_OK(volt_rt_new(&cfg, &rt));
		CHECK_GE(volt_rt_workers(rt), 1); /* one per CPU (a policy may fix its own) */
		CHECK_LE(volt_rt_workers(rt), VOLT_MAX_WORKERS);
		volt_rt_free(rt);
	}

	/* a zero timer interval */
	CHECK_EQ(volt_interval_init(&iv, volt_ns(0), false, VOLT_MISSED_DELAY), -EINVAL);
	CHECK_EQ(volt_interval_init_at(&iv, (volt_instant){ 0 }, volt_ns(0), VOLT_MISSED_SKIP),
		 -EINVAL);
}

/* ---------------------------------------------- row: huge capacities */

struct chan_args {
	size_t elem, cap;
	const char *buffer;
	struct volt_chan *ch;
};

static int chan_create(void *arg)
{
	struct chan_args *a = arg;

	return volt_chan_new(a->elem, a->cap, a->buffer, &a->ch);
}

static void chan_made(void *arg)
{
	volt_chan_free(((struct chan_args *)arg)->ch);
}

static int bcast_create(void *arg)
{
	return volt_broadcast_new(100, (struct volt_broadcast **)arg);
}

static void bcast_made(void *arg)
{
	volt_broadcast_free(*(struct volt_broadcast **)arg);
}

static int mpsc_create(void *arg)
{
	return volt_mpsc_new(24, (struct volt_mpsc **)arg);
}

static void mpsc_made(void *arg)
{
	volt_mpsc_free(*(struct volt_mpsc **)arg);
}

/* volt_chan_new must refuse (elem, cap) with `want`, leaving nothing behind. */
static void chan_refused(size_t elem, size_t cap, const char *buffer, int want)
{
	struct volt_chan *sentinel = (struct volt_chan *)&elem, *ch = sentinel;
	struct footprint before;

	footprint(&before);
	CHECK_MSG(volt_chan_new(elem, cap, buffer, &ch) == want, "%s: elem %zu cap %zu",
		  buffer, elem, cap);
	CHECK_PTR_EQ(ch, sentinel);
	CHECK_NOTHING_LEFT(&before);
}

/*
 * Huge capacities: 0 or above the documented max is -EINVAL; capacity x
 * element size (or the buffer's slots with their headers) past size_t is
 * -EOVERFLOW; a failed allocation is -ENOMEM with nothing left allocated;
 * the capacity is exact (no rounding: the headers say so).
 * Deeper: test_chan.c chan_bad_input, chan_try_forms_and_wrap_around
 * (capacities that are not powers of two); test_broadcast.c;
 * test_alloc_fail.c (allocation failure through every API).
 */
VOLT_TEST(bad_input_huge_capacity)
{
	const char *buf;
	uint64_t v = 7;

	for (unsigned i = 0; (buf = volt_chan_buffer_name(i)) != NULL; i++) {
		struct chan_args a = { .elem = 8, .cap = 100, .buffer = buf };
		struct volt_chan *ch;

		chan_refused(8, 0, buf, -EINVAL);
		chan_refused(0, 4, buf, -EINVAL);
		chan_refused(8, VOLT_CHAN_CAPACITY_MAX + 1, buf, -EINVAL);
		chan_refused(8, SIZE_MAX, buf, -EINVAL);
		chan_refused(VOLT_CHAN_ELEM_MAX + 1, 1, buf, -EINVAL);
		chan_refused(SIZE_MAX, 1, buf, -EINVAL);
		/* both within their max, the product past size_t */
		chan_refused(16, VOLT_CHAN_CAPACITY_MAX, buf, -EOVERFLOW);
		chan_refused(VOLT_CHAN_ELEM_MAX, VOLT_CHAN_CAPACITY_MAX, buf, -EOVERFLOW);
		chan_refused(VOLT_CHAN_ELEM_MAX, SIZE_MAX / VOLT_CHAN_ELEM_MAX + 1, buf,
			     -EOVERFLOW);
		if (strcmp(buf, "vyukov") == 0) /* 8 x cap fits, its 16-byte slots do not */
			chan_refused(8, VOLT_CHAN_CAPACITY_MAX, buf, -EOVERFLOW);
		fprintf(stderr, "  %s: %d allocation failures refused cleanly\n", buf,
			oom_loop(chan_create, chan_made, &a));

		/* exact capacity: 3 and 1 are not rounded up */
		for (size_t cap = 1; cap <= 3; cap += 2) {
			CHECK_OK(volt_chan_new(sizeof(v), cap, buf, &ch));
			CHECK_EQ(volt_chan_capacity(ch), cap);
			for (size_t k = 0; k < cap; k++)
				CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_OK);
			CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_FULL);
			CHECK_EQ(volt_chan_len(ch), cap);
			volt_chan_free(ch);
		}
	}

	/* broadcast: 0 and above the max; exact capacity (3 retained, not 4) */
	{
		struct volt_broadcast *sentinel = (struct volt_broadcast *)&v, *b = sentinel;
		struct volt_broadcast_rx rx;
		struct footprint before;
		uint64_t missed = 0;
		void *p;

		footprint(&before);
		CHECK_EQ(volt_broadcast_new(0, &b), -EINVAL);
		CHECK_EQ(volt_broadcast_new(VOLT_BROADCAST_CAPACITY_MAX + 1, &b), -EINVAL);
		CHECK_EQ(volt_broadcast_new(SIZE_MAX, &b), -EINVAL);
		CHECK_EQ(volt_broadcast_new(4, NULL), -EINVAL);
		CHECK_PTR_EQ(b, sentinel);
		CHECK_NOTHING_LEFT(&before);
		fprintf(stderr, "  broadcast: %d allocation failures refused cleanly\n",
			oom_loop(bcast_create, bcast_made, &b));
		CHECK_OK(volt_broadcast_new(3, &b));
		volt_broadcast_subscribe(b, &rx);
		for (uintptr_t i = 1; i <= 5; i++)
			CHECK_EQ(volt_broadcast_send(b, (void *)i), VOLT_CHAN_OK);
		CHECK_EQ(volt_broadcast_try_recv(&rx, &p, &missed), VOLT_CHAN_LAGGED);
		CHECK_UEQ(missed, 2);
		volt_broadcast_unsubscribe(&rx);
		volt_broadcast_free(b);
	}

	/* mpsc (unbounded): the element size is the only bound */
	{
		struct volt_mpsc *sentinel = (struct volt_mpsc *)&v, *m = sentinel;
		struct footprint before;

		footprint(&before);
		CHECK_EQ(volt_mpsc_new(0, &m), -EINVAL);
		CHECK_EQ(volt_mpsc_new(VOLT_MPSC_ELEM_MAX + 1, &m), -EINVAL);
		CHECK_EQ(volt_mpsc_new(SIZE_MAX, &m), -EINVAL);
		CHECK_PTR_EQ(m, sentinel);
		CHECK_NOTHING_LEFT(&before);
		fprintf(stderr, "  mpsc: %d allocation failures refused cleanly\n",
			oom_loop(mpsc_create, mpsc_made, &m));
	}

	/* permits and parties */
	{
		struct volt_semaphore s;
		struct volt_barrier bar;

		CHECK_EQ(volt_semaphore_init(&s, VOLT_SEMAPHORE_MAX + 1), -EINVAL);
		CHECK_EQ(volt_semaphore_init(&s, UINT32_MAX), -EINVAL);
		CHECK_EQ(volt_barrier_init(&bar, 0), -EINVAL);
		CHECK_OK(volt_semaphore_init(&s, VOLT_SEMAPHORE_MAX));
		CHECK_EQ(volt_semaphore_available(&s), VOLT_SEMAPHORE_MAX);
		volt_semaphore_destroy(&s);
	}
}

/* ---------------------------------------------- row: send after close */

/*
 * Send after close: VOLT_CHAN_CLOSED (our RT_CLOSED), and the value stays
 * with the caller: nothing enters the channel, a oneshot's pointer is not
 * kept (the caller frees it; ASan would flag a double free or a leak).
 * Deeper: test_chan.c chan_cancel_and_close_with_waiters (a waiting sender
 * closed on), chan_receiver_gone_with_messages_in_flight; test_oneshot.c
 * oneshot_close_send_race_once (delivered once or returned once).
 */
VOLT_TEST(bad_input_send_after_close)
{
	const char *buf;
	uint64_t v = 42, got = 0;

	for (unsigned i = 0; (buf = volt_chan_buffer_name(i)) != NULL; i++) {
		struct volt_chan *ch;
		struct volt_chan_send sf;

		for (int how = 0; how < 3; how++) {
			CHECK_OK(volt_chan_new(sizeof(v), 4, buf, &ch));
			if (how == 0)
				volt_chan_close(ch);
			else if (how == 1)
				volt_chan_sender_drop(ch); /* the last sender */
			else
				volt_chan_receiver_drop(ch); /* the last receiver */
			CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_CLOSED);
			run_here(volt_chan_send(&sf, ch, &v));
			CHECK_EQ(sf.result, VOLT_CHAN_CLOSED);
			CHECK_EQ(volt_chan_send_blocking(ch, &v), VOLT_CHAN_CLOSED);
			CHECK_EQ(volt_chan_len(ch), 0); /* nothing went in */
			CHECK_UEQ(v, 42);
			if (how < 2)
				CHECK_EQ(volt_chan_try_recv(ch, &got), VOLT_CHAN_CLOSED);
			volt_chan_free(ch);
		}
	}

	/* oneshot: the receiver closed; the heap value comes back to us */
	{
		struct volt_oneshot o;
		char *value = strdup("mine");
		void *out = NULL;

		CHECK(value != NULL);
		CHECK_OK(volt_oneshot_init(&o));
		volt_oneshot_close(&o);
		CHECK_EQ(volt_oneshot_send(&o, value), VOLT_CHAN_CLOSED);
		CHECK_EQ(volt_oneshot_try_recv(&o, &out), VOLT_CHAN_CLOSED);
		CHECK(out == NULL);
		volt_oneshot_destroy(&o);
		CHECK_STR_EQ(value, "mine");
		free(value); /* still ours: freed once, here */
	}

	/* mpsc and broadcast */
	{
		struct volt_mpsc *m;
		struct volt_broadcast *b;
		struct volt_broadcast_rx rx;

		CHECK_OK(volt_mpsc_new(sizeof(v), &m));
		volt_mpsc_close(m);
		CHECK_EQ(volt_mpsc_send(m, &v), VOLT_CHAN_CLOSED);
		CHECK_EQ(volt_mpsc_len(m), 0);
		CHECK_EQ(volt_mpsc_try_recv(m, &got), VOLT_CHAN_CLOSED);
		volt_mpsc_free(m);

		CHECK_OK(volt_broadcast_new(2, &b));
		volt_broadcast_subscribe(b, &rx);
		volt_broadcast_close(b);
		CHECK_EQ(volt_broadcast_send(b, &v), VOLT_CHAN_CLOSED);
		volt_broadcast_unsubscribe(&rx);
		volt_broadcast_free(b);
	}
}

/* ------------------------------------------------ row: try_send full */

/*
 * try_send when full: VOLT_CHAN_FULL (our -EAGAIN), distinct from
 * VOLT_CHAN_CLOSED; the refused value does not enter. Once closed, a full
 * channel says CLOSED, and still drains what it holds.
 * Deeper: test_chan.c chan_try_forms_and_wrap_around.
 */
VOLT_TEST(bad_input_try_send_full)
{
	const char *buf;

	CHECK(VOLT_CHAN_FULL != VOLT_CHAN_CLOSED && VOLT_CHAN_FULL > 0 && VOLT_CHAN_CLOSED > 0);
	for (unsigned i = 0; (buf = volt_chan_buffer_name(i)) != NULL; i++) {
		struct volt_chan *ch;
		uint64_t v, got;

		CHECK_OK(volt_chan_new(sizeof(v), 2, buf, &ch));
		for (v = 1; v <= 2; v++)
			CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_OK);
		v = 99;
		CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_FULL);
		CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_FULL);
		CHECK_EQ(volt_chan_len(ch), 2);
		volt_chan_close(ch);
		CHECK_EQ(volt_chan_try_send(ch, &v), VOLT_CHAN_CLOSED);
		for (uint64_t k = 1; k <= 2; k++) {
			CHECK_EQ(volt_chan_try_recv(ch, &got), VOLT_CHAN_OK);
			CHECK_UEQ(got, k); /* 99 never went in */
		}
		CHECK_EQ(volt_chan_try_recv(ch, &got), VOLT_CHAN_CLOSED);
		volt_chan_free(ch);
	}
}

/* --------------------------------------- row: recv on a closed channel */

/*
 * recv on a closed channel: the buffered messages first, in order, then
 * VOLT_CHAN_CLOSED (a status, not an error), every time after. The future
 * form in a task under every policy, then the try form.
 * Deeper: test_chan.c chan_sender_and_receiver_counts; test_mpsc.c
 * mpsc_fifo_blocks_and_close.
 */
VOLT_RT_TEST(bad_input_recv_closed_drains)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	const char *buf;

	/* kind: 0 chan closed, 1 chan's last sender dropped, 2 mpsc closed */
	for (int kind = 0; kind < 3; kind++) {
		for (unsigned i = 0; (buf = volt_chan_buffer_name(i)) != NULL; i++) {
			struct received res;
			struct receiver d = { .base = VOLT_FUTURE_INIT(&receiver_ops), .out = &res,
					      .n = 5 };
			uint64_t v;

			if (kind == 2 && i > 0)
				break; /* the mpsc has one buffer */
			memset(&res, 0xa5, sizeof(res));
			if (kind < 2) {
				CHECK_OK(volt_chan_new(sizeof(v), 4, buf, &d.ch));
				for (v = 10; v < 13; v++)
					CHECK_EQ(volt_chan_try_send(d.ch, &v), VOLT_CHAN_OK);
				if (kind == 0)
					volt_chan_close(d.ch);
				else
					volt_chan_sender_drop(d.ch);
			} else {
				CHECK_OK(volt_mpsc_new(sizeof(v), &d.m));
				for (v = 10; v < 13; v++)
					CHECK_EQ(volt_mpsc_send(d.m, &v), VOLT_CHAN_OK);
				volt_mpsc_close(d.m);
			}
			(void)vt_join(vt_spawn(rt, &d, sizeof(d), false));
			for (int k = 0; k < 3; k++) {
				CHECK_EQ(res.results[k], VOLT_CHAN_OK);
				CHECK_UEQ(res.values[k], (uint64_t)k + 10);
			}
			CHECK_EQ(res.results[3], VOLT_CHAN_CLOSED);
			CHECK_EQ(res.results[4], VOLT_CHAN_CLOSED);
			if (kind < 2) {
				CHECK_EQ(volt_chan_try_recv(d.ch, &v), VOLT_CHAN_CLOSED);
				CHECK_EQ(volt_chan_recv_blocking(d.ch, &v), VOLT_CHAN_CLOSED);
				volt_chan_free(d.ch);
			} else {
				CHECK_EQ(volt_mpsc_try_recv(d.m, &v), VOLT_CHAN_CLOSED);
				volt_mpsc_free(d.m);
			}
		}
	}
	volt_rt_free(rt);
}

/* -------------------------------------------------- row: broadcast lag */

/*
 * Broadcast lag: VOLT_CHAN_LAGGED with the number missed, then the oldest
 * message retained, and the receiver stays subscribed (a second lag is
 * counted afresh, then the messages and the close come through). The
 * future form, in a task, under every policy.
 * Deeper: test_broadcast.c broadcast_lag_and_close (try and blocking forms),
 * broadcast_every_receiver_every_message.
 */
VOLT_RT_TEST(bad_input_broadcast_lag)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_broadcast *b;
	struct volt_broadcast_rx rx;

	CHECK_OK(volt_broadcast_new(4, &b));
	volt_broadcast_subscribe(b, &rx);
	for (int round = 0; round < 2; round++) {
		/* round 0: 1..10 sent, 4 kept, 6 missed; round 1: 11..19, 5 missed, then close */
		uintptr_t first = round == 0 ? 1 : 11, last = round == 0 ? 10 : 19;
		uintptr_t oldest = last - 3;
		struct received seen;
		struct receiver r = { .base = VOLT_FUTURE_INIT(&receiver_ops), .rx = &rx,
				      .out = &seen, .n = round == 0 ? 5 : 6 };

		for (uintptr_t i = first; i <= last; i++)
			CHECK_EQ(volt_broadcast_send(b, (void *)i), VOLT_CHAN_OK);
		if (round == 1)
			volt_broadcast_close(b);
		(void)vt_join(vt_spawn(rt, &r, sizeof(r), false));
		CHECK_EQ(seen.results[0], VOLT_CHAN_LAGGED);
		CHECK_UEQ(seen.missed[0], oldest - first);
		for (int k = 1; k <= 4; k++) {
			CHECK_EQ(seen.results[k], VOLT_CHAN_OK);
			CHECK_UEQ(seen.values[k], oldest + (uintptr_t)k - 1);
		}
		if (round == 1)
			CHECK_EQ(seen.results[5], VOLT_CHAN_CLOSED);
	}
	volt_broadcast_unsubscribe(&rx);
	volt_broadcast_free(b);
	volt_rt_free(rt);
}

/* ------------------------------------ row: cancel after completion, twice */

static atomic_int done_drops;

static enum volt_poll done_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	VOLT_RETURN(f, cx, 42);
}

static void done_drop(struct volt_future *f)
{
	(void)f;
	atomic_fetch_add(&done_drops, 1);
}

static const struct volt_future_ops done_ops = { done_poll, done_drop };

/*
 * Cancel after completion, or twice: volt_join_cancel returns 0 and does
 * nothing more; join returns the output if the task completed, else
 * -ECANCELED; the future's drop runs exactly once either way.
 * Deeper: test_cancel.c (every state: before the first poll, pending,
 * while running, racing from many threads).
 */
VOLT_RT_TEST(bad_input_cancel_after_completion)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_future f = VOLT_FUTURE_INIT(&done_ops);
	struct vt_forever forever;
	atomic_int forever_drops = 0;
	struct volt_join *j;
	void *out = NULL;

	/* completed first */
	j = vt_spawn(rt, &f, sizeof(f), false);
	VT_WAIT_FOR(volt_join_is_done(j));
	CHECK_EQ(atomic_load(&done_drops), 1);
	CHECK_OK(volt_join_cancel(j));
	CHECK_OK(volt_join_cancel(j));
	CHECK_OK(volt_join_wait(j, &out));
	CHECK_EQ((intptr_t)out, 42);
	CHECK_EQ(atomic_load(&done_drops), 1);

	/* cancelled while pending, twice: -ECANCELED, one drop */
	vt_forever_init(&forever, true, NULL, &forever_drops, NULL);
	j = vt_spawn(rt, &forever, sizeof(forever), false);
	CHECK_OK(volt_join_cancel(j));
	CHECK_OK(volt_join_cancel(j));
	VT_WAIT_FOR(volt_join_is_done(j));
	CHECK_OK(volt_join_cancel(j)); /* and once more, now that it is done */
	out = (void *)1;
	CHECK_EQ(volt_join_wait(j, &out), -ECANCELED);
	CHECK_EQ(atomic_load(&forever_drops), 1);

	CHECK_EQ(volt_join_cancel(NULL), -EINVAL);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&done_drops), 1);
	CHECK_EQ(atomic_load(&forever_drops), 1);
}

/* ----------------------------------------------- row: semaphore limits */

/*
 * Semaphore: n of 0 or above VOLT_SEMAPHORE_MAX is -EINVAL in every form
 * (try, waiter, future, blocking), before anything is taken or queued;
 * not enough permits is -EAGAIN, a closed semaphore -EPIPE. (Asking for
 * more than the semaphore holds now, within the max, is legal: releases
 * can add permits; the try form says -EAGAIN.)
 * Deeper: test_sync.c sync_semaphore_try_and_bad_input,
 * sync_semaphore_cancel_every_state, sync_blocking_forms_*.
 */
VOLT_TEST(bad_input_semaphore_over_max)
{
	const uint32_t bad[] = { 0, VOLT_SEMAPHORE_MAX + 1, UINT32_MAX };
	struct volt_semaphore s;
	struct volt_sem_waiter w;
	struct volt_acquire a;
	struct volt_waker none = { NULL, NULL };

	CHECK_OK(volt_semaphore_init(&s, 3));
	for (int closed = 0; closed < 2; closed++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&w, 0, sizeof(w));
			CHECK_EQ(volt_semaphore_try_acquire(&s, bad[i]), -EINVAL);
			CHECK_EQ(volt_semaphore_acquire_with(&s, &w, bad[i], &none), -EINVAL);
			volt_semaphore_acquire_cancel(&s, &w); /* never queued: a no-op */
			run_here(volt_semaphore_acquire(&a, &s, bad[i]));
			CHECK_EQ(a.result, -EINVAL);
			CHECK_EQ(volt_semaphore_acquire_blocking(&s, bad[i]), -EINVAL);
		}
		if (!closed) {
			CHECK_EQ(volt_semaphore_available(&s), 3); /* nothing taken */
			CHECK_EQ(volt_semaphore_try_acquire(&s, 4), -EAGAIN);
			CHECK_OK(volt_semaphore_try_acquire(&s, 3));
			CHECK_EQ(volt_semaphore_try_acquire(&s, 1), -EAGAIN);
			volt_semaphore_release(&s, 3);
			volt_semaphore_close(&s);
		} else {
			CHECK_EQ(volt_semaphore_try_acquire(&s, 1), -EPIPE);
			CHECK_EQ(volt_semaphore_acquire_blocking(&s, 1), -EPIPE);
			run_here(volt_semaphore_acquire(&a, &s, 1));
			CHECK_EQ(a.result, -EPIPE);
		}
	}
	volt_semaphore_destroy(&s);
}

/* ------------------------------------- a counting system-call table */

/*
 * The process's socket calls, counted per descriptor (drivers/sys.h): a
 * test names one descriptor and learns how many calls reached it, so "never
 * a system call on a reused descriptor" is checked, not inferred.
 */
static const struct volt__sys *real_sys;
static atomic_int watched_fd = -1;
static atomic_int calls_on_watched;

static void counted_call(int fd)
{
	if (fd >= 0 && fd == atomic_load(&watched_fd))
		atomic_fetch_add(&calls_on_watched, 1);
}

static int c_bind(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	counted_call(fd);
	return real_sys->bind(d, fd, a, len);
}

static int c_listen(struct volt__driver *d, int fd, int backlog)
{
	counted_call(fd);
	return real_sys->listen(d, fd, backlog);
}

static int c_accept4(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len,
		     int flags)
{
	counted_call(fd);
	return real_sys->accept4(d, fd, a, len, flags);
}

static int c_connect(struct volt__driver *d, int fd, const struct sockaddr *a, socklen_t len)
{
	counted_call(fd);
	return real_sys->connect(d, fd, a, len);
}

static ssize_t c_recvfrom(struct volt__driver *d, int fd, void *buf, size_t len, int flags,
			  struct sockaddr *a, socklen_t *alen)
{
	counted_call(fd);
	return real_sys->recvfrom(d, fd, buf, len, flags, a, alen);
}

static ssize_t c_sendto(struct volt__driver *d, int fd, const void *buf, size_t len, int flags,
			const struct sockaddr *a, socklen_t alen)
{
	counted_call(fd);
	return real_sys->sendto(d, fd, buf, len, flags, a, alen);
}

static ssize_t c_read(struct volt__driver *d, int fd, void *buf, size_t len)
{
	counted_call(fd);
	return real_sys->read(d, fd, buf, len);
}

static ssize_t c_write(struct volt__driver *d, int fd, const void *buf, size_t len)
{
	counted_call(fd);
	return real_sys->write(d, fd, buf, len);
}

static int c_shutdown(struct volt__driver *d, int fd, int how)
{
	counted_call(fd);
	return real_sys->shutdown(d, fd, how);
}

static int c_close(struct volt__driver *d, int fd)
{
	counted_call(fd);
	return real_sys->close(d, fd);
}

static int c_getsockname(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	counted_call(fd);
	return real_sys->getsockname(d, fd, a, len);
}

static int c_getpeername(struct volt__driver *d, int fd, struct sockaddr *a, socklen_t *len)
{
	counted_call(fd);
	return real_sys->getpeername(d, fd, a, len);
}

static int c_setsockopt(struct volt__driver *d, int fd, int level, int name, const void *v,
			socklen_t len)
{
	counted_call(fd);
	return real_sys->setsockopt(d, fd, level, name, v, len);
}

static int c_getsockopt(struct volt__driver *d, int fd, int level, int name, void *v,
			socklen_t *len)
{
	counted_call(fd);
	return real_sys->getsockopt(d, fd, level, name, v, len);
}

static struct volt__sys counting_sys;

/* Installs the counting table for runtimes made from now on (this child only). */
static void count_syscalls(void)
{
	real_sys = &volt__sys_posix;
	counting_sys = volt__sys_posix; /* entries added later keep the real calls */
	counting_sys.name = "counting";
	counting_sys.bind = c_bind;
	counting_sys.listen = c_listen;
	counting_sys.accept4 = c_accept4;
	counting_sys.connect = c_connect;
	counting_sys.recvfrom = c_recvfrom;
	counting_sys.sendto = c_sendto;
	counting_sys.read = c_read;
	counting_sys.write = c_write;
	counting_sys.shutdown = c_shutdown;
	counting_sys.close = c_close;
	counting_sys.getsockname = c_getsockname;
	counting_sys.getpeername = c_getpeername;
	counting_sys.setsockopt = c_setsockopt;
	counting_sys.getsockopt = c_getsockopt;
	(void)volt__sys_install(&counting_sys);
}

/* Starts counting the calls that reach fd. */
static void watch_fd(int fd)
{
	atomic_store(&calls_on_watched, 0);
	atomic_store(&watched_fd, fd);
}

/* ------------------------------- row: double close, use after close */

/*
 * Double close and use after close: generation-tagged handles; the second
 * close and every use of a closed handle are -EBADF and make no system
 * call, in particular none on the descriptor the kernel has since handed
 * to a new socket, which may sit in the same slot (counted through the
 * system-call table). Both drivers, every policy.
 * Deeper: test_net_sock.c net_sock_bad_handles (zero, forged and
 * past-the-table handles), net_sock_closed_while_waiting; test_net_stream.c
 * (stale handles with operations in flight).
 */
VOLT_RT_TEST(bad_input_double_close_and_stale)
{
	const char *d;

	count_syscalls();
	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = vt_net_rt(policy, 2, d);
		struct volt_listener l;
		struct volt_udp u;
		struct volt_handle stale;
		int old_fd, new_fd;

		if (!rt)
			continue;
		CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", &l));
		stale = l.h;
		old_fd = volt_handle_fd(l.h);
		CHECK_GE(old_fd, 0);
		CHECK_OK(volt_listener_close(l));
		CHECK_EQ(volt_listener_close(l), -EBADF);

		/* the kernel hands out the lowest free number: usually the old one */
		CHECK_OK(volt_udp_bind(rt, "127.0.0.1:0", &u));
		new_fd = volt_handle_fd(u.h);
		CHECK_GE(new_fd, 0);
		fprintf(stderr, "  %s: old fd %d slot %u gen %u, new fd %d slot %u gen %u\n", d,
			old_fd, stale.index, stale.gen, new_fd, u.h.index, u.h.gen);
		if (u.h.index == stale.index)
			CHECK_NE(u.h.gen, stale.gen);

		watch_fd(new_fd);
		vt_check_handle_refused(NULL, stale, -EBADF);
		CHECK_EQ(atomic_load(&calls_on_watched), 0);
		watch_fd(-1);

		/* the new socket is untouched: open, same descriptor, still usable */
		CHECK_GE(fcntl(new_fd, F_GETFD), 0);
		CHECK_EQ(volt_handle_fd(u.h), new_fd);
		{
			struct volt_addr self;
			char b[4];

			CHECK_OK(volt_local_addr(u.h, &self));
			CHECK_EQ(volt_udp_try_send_to(u, "hey", 3, &self), 3);
			/* queued already (loopback): no timeout, which the virtual clock could jump */
			CHECK_EQ(volt_udp_recv_from_blocking(u, b, sizeof(b), NULL, VOLT_DURATION_MAX),
				 3);
		}
		CHECK_OK(volt_udp_close(u));
		CHECK_EQ(volt_udp_close(u), -EBADF);
		volt_rt_free(rt);
	}
}

/* ------------------------------------------------ row: use after deinit */

/* A task that waits to accept on l forever; counts its drop. */
struct acceptor {
	struct volt_future base;
	struct volt_listener l;
	struct volt_accept acc;
	struct volt_stream s;
	atomic_int *polled, *drops;
};

static enum volt_poll acceptor_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct acceptor *a = (struct acceptor *)f;

	VOLT_BEGIN(f);
	atomic_store(a->polled, 1);
	VOLT_AWAIT(f, cx, volt_accept(&a->acc, a->l, &a->s, NULL));
	VOLT_RETURN(f, cx, a->acc.op.result);
	VOLT_END(f);
}

static void acceptor_drop(struct volt_future *f)
{
	atomic_fetch_add(((struct acceptor *)f)->drops, 1);
}

static const struct volt_future_ops acceptor_ops = { acceptor_poll, acceptor_drop };

/*
 * Use after deinit. volt_rt_free with sockets still open closes them (our
 * choice, Tokio's model, documented in volt/runtime.h: not -EBUSY): every
 * descriptor is gone when it returns, and a task waiting on one is dropped
 * once. Afterwards every call on one of its handles is -ESHUTDOWN and
 * follows no freed memory (ASan checks). A runtime made later, perhaps at
 * the same address, never answers to the old handles (-EBADF then) and
 * none of its descriptors is touched.
 * Deeper: test_shutdown.c (tasks and messages at shutdown),
 * test_net_stream.c (close with operations in flight).
 */
VOLT_RT_TEST(bad_input_after_deinit)
{
	const char *d;

	count_syscalls();
	VT_FOR_EACH_DRIVER(d) {
		/* before the runtime: its own descriptors go too */
		int fds0 = vt_fd_count(NULL), client, new_fd;
		uintptr_t old_rt;
		bool same;
		struct volt_rt *rt = vt_net_rt(policy, 2, d), *rt2;
		struct volt_listener l, l2;
		struct volt_stream s;
		struct volt_udp u;
		atomic_int polled = 0, drops = 0;
		struct acceptor a = { .base = VOLT_FUTURE_INIT(&acceptor_ops), .polled = &polled,
				      .drops = &drops };

		if (!rt)
			continue;
		client = vt_tcp_pair(rt, &l, &s);
		CHECK_OK(volt_udp_bind(rt, "127.0.0.1:0", &u));
		a.l = l;
		vt_spawn(rt, &a, sizeof(a), true); /* detached: waits for a second client */
		VT_WAIT_FOR(atomic_load(&polled));

		old_rt = (uintptr_t)rt; /* compared as a number: rt is about to dangle */
		volt_rt_free(rt); /* l, s and u still open */
		CHECK_EQ(atomic_load(&drops), 1);
		close(client);
		CHECK_EQ(vt_fd_count(NULL), fds0);

		vt_check_handle_refused(NULL, l.h, -ESHUTDOWN);
		vt_check_handle_refused(NULL, s.h, -ESHUTDOWN);
		vt_check_handle_refused(NULL, u.h, -ESHUTDOWN);

		/* a new runtime, maybe at the same address, with a socket in slot 0 */
		rt2 = vt_net_rt(policy, 2, d);
		CHECK(rt2 != NULL);
		CHECK_OK(volt_tcp_listen(rt2, "127.0.0.1:0", &l2));
		new_fd = volt_handle_fd(l2.h);
		same = (uintptr_t)rt2 == old_rt;
		fprintf(stderr, "  %s: new runtime %s the old address; slot %u gen %u (old: %u %u)\n",
			d, same ? "at" : "not at", l2.h.index, l2.h.gen, l.h.index, l.h.gen);
		watch_fd(new_fd);
		vt_check_handle_refused(NULL, l.h, same ? -EBADF : -ESHUTDOWN);
		vt_check_handle_refused(NULL, s.h, same ? -EBADF : -ESHUTDOWN);
		CHECK_EQ(atomic_load(&calls_on_watched), 0);
		watch_fd(-1);
		CHECK_EQ(volt_handle_fd(l2.h), new_fd);
		CHECK_OK(volt_listener_close(l2));
		volt_rt_free(rt2);
		CHECK_EQ(vt_fd_count_settled(fds0), fds0);
	}
}

/* ------------------------------------------------- row: address strings */

/*
 * The table's address strings: -EINVAL from the strict parser, *out
 * untouched; "0.0.0.0:0" parses (port 0 is for listening).
 * Deeper: test_addr.c addr_parse_rejects_table (~60 strings),
 * addr_parse_format_round_trip; tests/fuzz/fuzz_addr.c.
 */
VOLT_TEST(bad_input_addr_strings)
{
	static const char *const bad[] = {
		"0.0.0.0:99999", "abc", "256.1.1.1:80", "1.2.3.4", " 1.2.3.4:80", "[::1]",
	};
	struct volt_addr a, before;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0xa5, sizeof(a));
		before = a;
		CHECK_MSG(volt_addr_parse(bad[i], &a) == -EINVAL, "accepted \"%s\"", bad[i]);
		CHECK_MSG(memcmp(&a, &before, sizeof(a)) == 0, "\"%s\" wrote *out", bad[i]);
	}
	CHECK_OK(volt_addr_parse("0.0.0.0:0", &a));
	CHECK_EQ(volt_addr_port(&a), 0);
	CHECK_OK(volt_addr_parse("[::1]:0", &a));
	CHECK_EQ(volt_addr_port(&a), 0);
}

/*
 * Port 0: listening and binding get a port from the kernel; connecting to
 * port 0 is -EINVAL in every form, and no socket is left open by a refusal.
 * A bad string is -EINVAL before any socket is made. Both drivers.
 * Deeper: test_net_sock.c net_sock_tcp_errors, net_sock_udp_basic.
 */
VOLT_RT_TEST(bad_input_addr_port_zero)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = vt_net_rt(policy, 2, d);
		struct volt_listener l, bad_l;
		struct volt_stream s;
		struct volt_udp u;
		struct volt_addr a, zero;
		struct volt_io_op op;
		int fds;

		if (!rt)
			continue;
		CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", &l));
		CHECK_OK(volt_local_addr(l.h, &a));
		CHECK_NE(volt_addr_port(&a), 0);
		CHECK_OK(volt_udp_bind(rt, "0.0.0.0:0", &u));
		CHECK_OK(volt_local_addr(u.h, &a));
		CHECK_NE(volt_addr_port(&a), 0);
		CHECK_OK(volt_addr_parse("127.0.0.1:0", &zero));

		fds = vt_fd_count(NULL);
		memset(&s, 0, sizeof(s));
		CHECK_EQ(volt_tcp_connect_blocking(rt, "127.0.0.1:0", &s, volt_secs(5)), -EINVAL);
		CHECK_EQ(volt_tcp_connect_blocking(rt, "[::1]:0", &s, volt_secs(5)), -EINVAL);
		CHECK_EQ(volt_tcp_connect_blocking(rt, "256.1.1.1:80", &s, volt_secs(5)), -EINVAL);
		run_here(volt_tcp_connect(&op, rt, &zero, &s));
		CHECK_EQ(op.result, -EINVAL);
		CHECK_EQ(volt_udp_connect(u, &zero), -EINVAL);
		CHECK_EQ(volt_tcp_listen(rt, "0.0.0.0:99999", &bad_l), -EINVAL);
		CHECK_EQ(volt_tcp_listen(rt, "[::1]", &bad_l), -EINVAL);
		CHECK_EQ(volt_udp_bind(rt, "abc", &u), -EINVAL);
		CHECK_EQ(vt_fd_count_settled(fds), fds); /* nothing made, or made and closed */
		CHECK_OK(volt_udp_close(u));
		CHECK_OK(volt_listener_close(l));
		volt_rt_free(rt);
	}
}

/* ------------------------------------------- row: name resolution failure */

/* A name no lookup can succeed on, found out without the network: a 300-byte label. */
static const char *impossible_name(void)
{
	static char name[301];

	memset(name, 'a', 300);
	name[300] = '\0';
	return name;
}

/*
 * Resolution failure: a VOLT_EAI code, apart from every errno (<= -3000),
 * with getaddrinfo's own message; *out untouched. EAI_SYSTEM gives the
 * errno behind it instead (the mapping, checked directly: a real
 * EAI_SYSTEM cannot be had on demand).
 * Deeper: test_addr.c resolve_first_localhost_and_failure, addr_strerror.
 */
VOLT_TEST(bad_input_resolve_failure)
{
	struct volt_addr a, before;
	int err;

	memset(&a, 0xa5, sizeof(a));
	before = a;
	err = volt_resolve_first(impossible_name(), 80, &a);
	fprintf(stderr, "  300-byte name -> %d (%s)\n", err, volt_strerror(err));
	CHECK(VOLT_IS_EAI(err));
	CHECK_LE(err, -VOLT_EAI_BASE);
	CHECK_STR_EQ(volt_strerror(err), gai_strerror(err + VOLT_EAI_BASE));
	CHECK(memcmp(&a, &before, sizeof(a)) == 0);
	CHECK_EQ(volt_resolve_first("", 80, &a), -EINVAL);

	/* the mapping */
	CHECK_EQ(volt__eai_error(EAI_NONAME, 0), VOLT_EAI(EAI_NONAME));
	CHECK_EQ(volt__eai_error(EAI_AGAIN, ENOENT), VOLT_EAI(EAI_AGAIN));
	CHECK_EQ(volt__eai_error(EAI_FAIL, 0), VOLT_EAI(EAI_FAIL));
	CHECK_EQ(volt__eai_error(EAI_SYSTEM, EMFILE), -EMFILE); /* the errno is kept */
	CHECK_EQ(volt__eai_error(EAI_SYSTEM, ECONNREFUSED), -ECONNREFUSED);
	CHECK_EQ(volt__eai_error(EAI_SYSTEM, 0), -EIO);          /* none set: still an error */
	for (int e = EAI_BADFLAGS; e >= EAI_OVERFLOW; e--) {
		if (e == EAI_SYSTEM)
			continue;
		CHECK(VOLT_IS_EAI(volt__eai_error(e, 0)));
		CHECK_GT(volt__eai_error(e, 0), -VOLT_EAI_BASE - 100);
	}
}

/* Awaits one lookup in a task; the result comes back through *result. */
struct lookup {
	struct volt_future base;
	const char *host;
	struct volt_resolve r;
	struct volt_addr *out;
	int *result;
};

static enum volt_poll lookup_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct lookup *l = (struct lookup *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_resolve(&l->r, NULL, l->host, 80, l->out));
	*l->result = l->r.result;
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

static const struct volt_future_ops lookup_ops = { .poll = lookup_poll };

/*
 * The same failure on the blocking pool (the future), and its cancellation:
 * a lookup future dropped before or after it was submitted frees its job.
 * Deeper: test_addr.c resolve_future_dropped_by_timeout,
 * resolve_future_cancelled_task, resolve_future_queued_at_shutdown.
 */
VOLT_RT_TEST(bad_input_resolve_on_pool)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_addr a, before;
	struct volt_resolve r;
	int result = 1;
	struct lookup l = { .base = VOLT_FUTURE_INIT(&lookup_ops), .host = impossible_name(),
			    .out = &a, .result = &result };

	memset(&a, 0xa5, sizeof(a));
	before = a;
	(void)vt_join(vt_spawn(rt, &l, sizeof(l), false));
	CHECK(VOLT_IS_EAI(result));
	CHECK(memcmp(&a, &before, sizeof(a)) == 0);

	/* dropped before its first poll: nothing submitted, nothing left */
	volt_future_drop(volt_resolve(&r, rt, "localhost", 80, &a));
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 0);
	/* cancelled in a task (submitted or not yet): the job is freed when the pool is done */
	{
		struct volt_join *j;

		l.host = "localhost";
		j = vt_spawn(rt, &l, sizeof(l), false);
		CHECK_OK(volt_join_cancel(j));
		(void)volt_join_wait(j, NULL); /* 0 if it finished first, else -ECANCELED */
		VT_WAIT_FOR(atomic_load(&volt__resolve_jobs) == 0);
	}
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 0);
}

/* ------------------------------ row: timers beyond the wheel, in the past */

/* Sleeps until each of at[0..n) in turn and records the clock when it woke. */
struct far_sleeper {
	struct volt_future base;
	const uint64_t *at;
	uint64_t *woke;
	int n, i;
	struct volt_sleep s;
};

static enum volt_poll far_sleeper_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct far_sleeper *fs = (struct far_sleeper *)f;

	VOLT_BEGIN(f);
	for (fs->i = 0; fs->i < fs->n; fs->i++) {
		VOLT_AWAIT(f, cx, volt_sleep_until(&fs->s, (volt_instant){ fs->at[fs->i] }));
		fs->woke[fs->i] = volt_instant_now(cx->rt).ns;
	}
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

static const struct volt_future_ops far_sleeper_ops = { .poll = far_sleeper_poll };

#define MS UINT64_C(1000000)

/*
 * A timer far beyond the wheel, or in the past: on the virtual clock
 * (docs/time.md), one sleeper at a time sleeps until 2^36 ms (the level
 * where tikv #11940 indexed out of range) and around it, 64^7 ms (the
 * wheel's reach) and past it, 2^44 ms (the last whole power of two of
 * milliseconds a 64-bit nanosecond clock holds) and the clock's last
 * millisecond; each fires exactly at its deadline (the clock jumps there).
 * A deadline already past fires at once, the clock unmoved.
 * Deeper: test_time.c time_virtual_level_boundaries_and_beyond (every
 * level); test_timer_wheel.c timer_wheel_level_boundaries_and_beyond,
 * timer_wheel_top_of_range, timer_wheel_past_deadline_and_cancel;
 * tests/fuzz/fuzz_timer.c (operation sequences against a reference model).
 */
VOLT_RT_TEST(bad_input_timer_far_and_past)
{
	static const uint64_t at[] = {
		((1ull << 36) - 1) * MS, (1ull << 36) * MS, ((1ull << 36) + 1) * MS,
		(1ull << 42) * MS, ((1ull << 42) + 5) * MS, (1ull << 44) * MS,
		(UINT64_MAX / MS) * MS,
		5 * MS,                         /* the past */
		(UINT64_MAX / MS) * MS,         /* now, exactly */
	};
	enum { N = sizeof(at) / sizeof(at[0]) };
	struct volt_config cfg;
	struct volt_rt *rt;
	uint64_t woke[N];
	struct far_sleeper fs = { .base = VOLT_FUTURE_INIT(&far_sleeper_ops), .at = at,
				  .woke = woke, .n = N };

	vt_cfg(&cfg, policy, 2);
	cfg.clock = VOLT_CLOCK_VIRTUAL;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	(void)vt_join(vt_spawn(rt, &fs, sizeof(fs), false));
	for (int i = 0; i < N - 2; i++)
		CHECK_MSG(woke[i] == at[i], "deadline %" PRIu64 " ms woke at %" PRIu64 " ns",
			  at[i] / MS, woke[i]);
	CHECK_UEQ(woke[N - 2], at[N - 3]); /* the past: at once */
	CHECK_UEQ(woke[N - 1], at[N - 3]);
	volt_rt_free(rt);
}

static void count_fired(struct volt__timer *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
}

/*
 * The wheel itself at its edges: deadlines of UINT64_MAX - 1 and
 * UINT64_MAX ticks are parked (never indexed past the wheel: UBSan and
 * ASan check) and never fire; a past deadline fires at the very next
 * advance, time unmoved.
 */
VOLT_TEST(bad_input_timer_wheel_edges)
{
	struct volt__wheel *w = calloc(1, sizeof(*w));
	struct volt__timer past = { .deadline = 5 }, edge = { .deadline = 1ull << 36 };
	struct volt__timer top = { .deadline = UINT64_MAX - 1 }, end = { .deadline = UINT64_MAX };
	uint64_t now = (1ull << 36) - 3;
	int fired = 0;

	CHECK(w != NULL);
	volt__wheel_init(w, now);
	volt__wheel_insert(w, &top);
	volt__wheel_insert(w, &end);
	volt__wheel_insert(w, &edge);
	volt__wheel_insert(w, &past);
	CHECK_LE(volt__wheel_next(w), now);
	CHECK_EQ(volt__wheel_advance(w, now, SIZE_MAX, count_fired, &fired), 1);
	CHECK(!past.linked);
	CHECK_UEQ(w->now, now);
	CHECK_EQ(volt__wheel_advance(w, 1ull << 36, SIZE_MAX, count_fired, &fired), 1);
	CHECK(!edge.linked);
	CHECK_EQ(volt__wheel_advance(w, 1ull << 50, SIZE_MAX, count_fired, &fired), 0);
	CHECK(top.linked && end.linked);
	CHECK_EQ(fired, 2);
	volt__wheel_cancel(w, &top);
	volt__wheel_cancel(w, &end);
	CHECK_EQ(w->count, 0);
	CHECK_UEQ(volt__wheel_next(w), UINT64_MAX);
	free(w);
}

/* ------------------------------------------- row: oversized buffers */

/* Writes (or reads) len bytes on s with the looping forms; the count comes back in *result. */
struct mover {
	struct volt_future base;
	struct volt_stream s;
	unsigned char *buf;
	size_t len;
	bool write;
	ssize_t *result;
	struct volt_io_op op;
};

static enum volt_poll mover_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct mover *m = (struct mover *)f;

	VOLT_BEGIN(f);
	if (m->write)
		VOLT_AWAIT(f, cx, volt_stream_write_all(&m->op, m->s, m->buf, m->len));
	else
		VOLT_AWAIT(f, cx, volt_stream_read_exact(&m->op, m->s, m->buf, m->len));
	*m->result = m->op.result;
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

static const struct volt_future_ops mover_ops = { .poll = mover_poll };

/*
 * Moves len bytes through s in one call, which loops over the partial
 * transfers: a mover task writes `big` out to the plain socket `client`
 * (out) or reads what this thread writes there into `back` (in), while
 * this thread does the other end; then every byte is compared.
 */
static void move_through(struct volt_rt *rt, struct volt_stream s, int client,
			 unsigned char *big, unsigned char *back, size_t len, bool out)
{
	ssize_t result = 0;
	struct mover m = { .base = VOLT_FUTURE_INIT(&mover_ops), .s = s, .buf = out ? big : back,
			   .len = len, .write = out, .result = &result };
	struct volt_join *j;

	memset(back, 0, len);
	j = vt_spawn(rt, &m, sizeof(m), false);
	for (size_t done = 0; done < len;) {
		ssize_t n = out ? read(client, back + done, len - done)
				: write(client, big + done, len - done);

		CHECK_GT(n, 0);
		done += (size_t)n;
	}
	(void)vt_join(j);
	CHECK_EQ(result, (ssize_t)len);
	CHECK(memcmp(back, big, len) == 0);
}

/*
 * Oversized buffers: a length above SSIZE_MAX is -EINVAL in the try,
 * future and blocking forms, and nothing moves; a transfer larger than the
 * socket's buffers is looped over its partial transfers (write_all and
 * read_exact of 2 MiB through a plain socket, every byte checked). The
 * kernel's own cap (MAX_RW_COUNT, ~2 GiB a call) is the same case at a
 * size this suite does not allocate. Both drivers.
 * Deeper: test_net_sock.c net_sock_huge_lengths (UDP and every form),
 * test_net_stream.c (partial transfers, EOF, resets).
 */
VOLT_RT_TEST(bad_input_oversized_buffers)
{
	const size_t len = 2u << 20;
	unsigned char *big = malloc(len), *back = malloc(len);
	const char *d;

	CHECK(big && back);
	vt_pattern(big, len, 7, 0);
	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = vt_net_rt(policy, 2, d);
		struct volt_listener l;
		struct volt_stream s;
		struct volt_io_op op;
		int client;
		char b[8] = "1234567";

		if (!rt)
			continue;
		client = vt_tcp_pair(rt, &l, &s);

		for (int k = 0; k < 2; k++) {
			size_t huge = k == 0 ? (size_t)SSIZE_MAX + 1 : SIZE_MAX;

			CHECK_EQ(volt_stream_try_read(s, b, huge), -EINVAL);
			CHECK_EQ(volt_stream_try_write(s, b, huge), -EINVAL);
			CHECK_EQ(volt_stream_write_all_blocking(s, b, huge, VOLT_DURATION_MAX),
				 -EINVAL);
			CHECK_EQ(volt_stream_read_exact_blocking(s, b, huge, VOLT_DURATION_MAX),
				 -EINVAL);
			run_here(volt_stream_write(&op, s, b, huge));
			CHECK_EQ(op.result, -EINVAL);
			run_here(volt_stream_read_exact(&op, s, b, huge));
			CHECK_EQ(op.result, -EINVAL);
		}
		CHECK(memcmp(b, "1234567", 8) == 0);
		CHECK_EQ(volt_stream_try_read(s, b, sizeof(b)), -EAGAIN); /* nothing arrived */

		/* 2 MiB out in one call: the task loops over partial writes */
		move_through(rt, s, client, big, back, len, true);
		/* and 2 MiB in: read_exact loops over partial reads */
		move_through(rt, s, client, big, back, len, false);
		close(client);
		CHECK_OK(volt_stream_close(s));
		CHECK_OK(volt_listener_close(l));
		volt_rt_free(rt);
	}
	free(big);
	free(back);
}
