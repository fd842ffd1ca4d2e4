/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_chan.c: the channels (primitives/chan*.c, oneshot.c,
 * broadcast.c), one thread, against reference models.
 *
 * The first input byte picks what is fuzzed; the rest is a program of at
 * most 256 operations.
 *
 * - The bounded MPMC channel, on each buffer volt_chan_buffer_name lists,
 *   with an element size of 1..40 bytes and a capacity of 1..70 the input
 *   chooses. Operations: try_send, try_recv, close, sender add and drop
 *   (the last one closes), receiver add and drop (likewise), and up to four
 *   send and four receive futures polled by hand with a waker that counts.
 *   The model is a FIFO with a capacity, a closed flag and the two handle
 *   counts: every result is the model's (FULL when full, CLOSED after a
 *   close or with no receiver, drain first and then CLOSED), every element
 *   comes out with its bytes in the order it went in, and len and
 *   is_closed agree. Wake-ups are checked as promises of progress: after
 *   each step, if an element is buffered while a receive future waits,
 *   some receive future has been woken since its last poll (the same for
 *   room and send futures), and once closed every waiting future has been
 *   woken. A future dropped holds no waker clone any more.
 * - The oneshot: send (twice is -EALREADY), sender drop, close, try_recv and
 *   a receive future, against a model of the four state bits: a value is
 *   delivered once or refused; a waiting receiver is woken by the send or
 *   the sender's drop.
 * - Broadcast: up to four receivers subscribing and unsubscribing, sends,
 *   close, try_recv and receive futures against a model of the retained
 *   window: each receiver sees every message sent while it was subscribed,
 *   in order, or LAGGED with the exact number overwritten, then resumes at
 *   the oldest retained; waiting futures are woken by a send or the close.
 * - Creation parameters: volt_chan_new and volt_broadcast_new with any
 *   sizes give the documented error (-EINVAL, -EOVERFLOW, -ENOMEM) or a
 *   channel that holds exactly `capacity` elements (see fuzz_params).
 */
#include <errno.h>
#include <string.h>

#include <volt.h>

#include "tests/fuzz/fuzz.h"

#define MAX_STEPS 256
#define MAX_ELEM 40
#define MAX_CAP 70
#define NFUT 4

/* ------------------------------------------------------------ the waker */

/* What one future's waker has seen: clones held by the primitive, wakes. */
struct wk {
	int refs;
	bool woken; /* since the last poll */
};

static void wk_wake(void *d)
{
	struct wk *k = d;

	FUZZ_CHECK(k->refs > 0, "a waker woken (consumed) with no clone held");
	k->refs--;
	k->woken = true;
}

static void wk_wake_by_ref(void *d)
{
	((struct wk *)d)->woken = true;
}

static void *wk_clone(void *d)
{
	((struct wk *)d)->refs++;
	return d;
}

static void wk_drop(void *d)
{
	struct wk *k = d;

	FUZZ_CHECK(k->refs > 0, "a waker dropped with no clone held");
	k->refs--;
}

static const struct volt_waker_ops wk_ops = {
	.wake = wk_wake, .wake_by_ref = wk_wake_by_ref, .clone = wk_clone, .drop = wk_drop,
};

/* Polls f as a task would, with k's waker; no runtime, so no budget. */
static enum volt_poll poll_with(struct volt_future *f, struct wk *k)
{
	struct volt_cx cx = { .waker = { &wk_ops, k } };

	k->woken = false;
	return volt_future_poll(f, &cx);
}

/* Drops f as the runtime does once it is done with it: nothing may keep its waker. */
static void drop_future(struct volt_future *f, struct wk *k, const char *what)
{
	volt_future_drop(f);
	FUZZ_CHECK(k->refs == 0, "a dropped %s future leaves %d waker clones behind", what, k->refs);
}

/* ------------------------------------------------------------ the MPMC channel */

struct send_fut {
	struct volt_chan_send f;
	struct wk k;
	bool pending;
	uint64_t id;
	uint8_t elem[MAX_ELEM];
};

struct recv_fut {
	struct volt_chan_recv f;
	struct wk k;
	bool pending;
	uint8_t out[MAX_ELEM];
};

static struct {
	uint64_t q[MAX_CAP];
	size_t head, len, cap, esz;
	bool closed;
	unsigned senders, receivers;
	uint64_t next_id;
	struct send_fut sf[NFUT];
	struct recv_fut rf[NFUT];
} cm;

/* Element `id`'s bytes: all of them depend on it. */
static void fill(uint8_t *e, uint64_t id)
{
	uint64_t x = (id + 1) * 0x9e3779b97f4a7c15ull;

	for (size_t j = 0; j < cm.esz; j++)
		e[j] = (uint8_t)((x >> (8 * (j % 8))) + j);
}

static int model_send(uint64_t id)
{
	if (cm.closed || !cm.receivers)
		return VOLT_CHAN_CLOSED;
	if (cm.len == cm.cap)
		return VOLT_CHAN_FULL;
	cm.q[(cm.head + cm.len++) % cm.cap] = id;
	return VOLT_CHAN_OK;
}

/* The model's answer to a receive; *id is the element's when OK. */
static int model_recv(uint64_t *id)
{
	if (cm.len) {
		*id = cm.q[cm.head];
		cm.head = (cm.head + 1) % cm.cap;
		cm.len--;
		return VOLT_CHAN_OK;
	}
	return cm.closed ? VOLT_CHAN_CLOSED : VOLT_CHAN_EMPTY;
}

static void check_elem(const uint8_t *got, uint64_t id)
{
	uint8_t want[MAX_ELEM];

	fill(want, id);
	FUZZ_CHECK(memcmp(got, want, cm.esz) == 0, "element %ju came out altered or out of order",
		   (uintmax_t)id);
}

static void chan_try_send(struct volt_chan *ch)
{
	uint8_t e[MAX_ELEM];
	uint64_t id = cm.next_id++;
	int ret, want;

	fill(e, id);
	ret = volt_chan_try_send(ch, e);
	want = model_send(id);
	FUZZ_CHECK(ret == want, "try_send: %d, the model says %d (len %zu/%zu, closed %d)", ret,
		   want, cm.len, cm.cap, cm.closed);
}

static void chan_try_recv(struct volt_chan *ch)
{
	uint8_t out[MAX_ELEM];
	uint64_t id = 0;
	int ret = volt_chan_try_recv(ch, out), want = model_recv(&id);

	FUZZ_CHECK(ret == want, "try_recv: %d, the model says %d (len %zu, closed %d)", ret, want,
		   cm.len, cm.closed);
	if (ret == VOLT_CHAN_OK)
		check_elem(out, id);
}

static void chan_close(void)
{
	cm.closed = true;
}

static void poll_send(struct volt_chan *ch, struct send_fut *s)
{
	enum volt_poll r;
	int want;

	if (!s->pending) {
		s->id = cm.next_id++;
		fill(s->elem, s->id);
		volt_chan_send(&s->f, ch, s->elem);
		s->k = (struct wk){ 0, false };
	}
	r = poll_with(&s->f.base, &s->k);
	want = model_send(s->id);
	if (want == VOLT_CHAN_FULL) {
		FUZZ_CHECK(r == VOLT_PENDING, "send future ready (%d) on a full channel", s->f.result);
		s->pending = true;
		return;
	}
	FUZZ_CHECK(r == VOLT_READY && s->f.result == want, "send future: %s %d, the model says %d",
		   r == VOLT_READY ? "ready" : "pending", s->f.result, want);
	s->pending = false;
	drop_future(&s->f.base, &s->k, "send");
}

static void poll_recv(struct volt_chan *ch, struct recv_fut *rv)
{
	enum volt_poll r;
	uint64_t id = 0;
	int want;

	if (!rv->pending) {
		volt_chan_recv(&rv->f, ch, rv->out);
		rv->k = (struct wk){ 0, false };
	}
	r = poll_with(&rv->f.base, &rv->k);
	want = model_recv(&id);
	if (want == VOLT_CHAN_EMPTY) {
		FUZZ_CHECK(r == VOLT_PENDING, "recv future ready (%d) on an empty channel",
			   rv->f.result);
		rv->pending = true;
		return;
	}
	FUZZ_CHECK(r == VOLT_READY && rv->f.result == want, "recv future: %s %d, the model says %d",
		   r == VOLT_READY ? "ready" : "pending", rv->f.result, want);
	if (want == VOLT_CHAN_OK)
		check_elem(rv->out, id);
	rv->pending = false;
	drop_future(&rv->f.base, &rv->k, "recv");
}

/* Progress: someone able to move is woken; after a close, everyone. */
static void chan_check(struct volt_chan *ch)
{
	bool r_wait = false, r_woken = false, s_wait = false, s_woken = false;

	FUZZ_CHECK(volt_chan_len(ch) == cm.len, "len %zu, model %zu", volt_chan_len(ch), cm.len);
	FUZZ_CHECK(volt_chan_is_closed(ch) == cm.closed, "is_closed %d, model %d",
		   volt_chan_is_closed(ch), cm.closed);
	for (int i = 0; i < NFUT; i++) {
		if (cm.rf[i].pending) {
			r_wait |= !cm.rf[i].k.woken;
			r_woken |= cm.rf[i].k.woken;
			FUZZ_CHECK(cm.rf[i].k.refs <= 1, "recv future %d: %d waker clones", i,
				   cm.rf[i].k.refs);
		}
		if (cm.sf[i].pending) {
			s_wait |= !cm.sf[i].k.woken;
			s_woken |= cm.sf[i].k.woken;
			FUZZ_CHECK(cm.sf[i].k.refs <= 1, "send future %d: %d waker clones", i,
				   cm.sf[i].k.refs);
		}
	}
	if (cm.closed) {
		FUZZ_CHECK(!r_wait && !s_wait, "closed, but a %s future waits unwoken",
			   r_wait ? "recv" : "send");
		return;
	}
	FUZZ_CHECK(!(cm.len > 0 && r_wait && !r_woken),
		   "%zu buffered, a recv future waits and none is woken", cm.len);
	FUZZ_CHECK(!(cm.len < cm.cap && s_wait && !s_woken),
		   "room for %zu, a send future waits and none is woken", cm.cap - cm.len);
}

static void fuzz_mpmc(struct fz *in)
{
	const char *buffer = NULL;
	unsigned nbuf = 0;
	struct volt_chan *ch = NULL;
	int ret;

	while (volt_chan_buffer_name(nbuf))
		nbuf++;
	buffer = volt_chan_buffer_name(fz_u8(in) % nbuf);
	memset(&cm, 0, sizeof(cm));
	cm.esz = 1 + fz_u8(in) % MAX_ELEM;
	cm.cap = 1 + fz_u8(in) % MAX_CAP;
	cm.senders = cm.receivers = 1;
	ret = volt_chan_new(cm.esz, cm.cap, buffer, &ch);
	FUZZ_CHECK(ret == 0, "volt_chan_new(%zu, %zu, %s): %d", cm.esz, cm.cap, buffer, ret);
	FUZZ_CHECK(volt_chan_capacity(ch) == cm.cap && strcmp(volt_chan_buffer(ch), buffer) == 0,
		   "capacity %zu, buffer %s", volt_chan_capacity(ch), volt_chan_buffer(ch));
	FUZZ_CHECK(volt_chan_try_send(ch, NULL) == -EINVAL && volt_chan_try_recv(ch, NULL) == -EINVAL,
		   "NULL elements are not -EINVAL");

	for (unsigned steps = 0; fz_more(in) && steps < MAX_STEPS; steps++) {
		uint8_t op = fz_u8(in), arg = fz_u8(in);
		struct send_fut *s = &cm.sf[arg % NFUT];
		struct recv_fut *rv = &cm.rf[arg % NFUT];

		switch (op % 14) {
		case 0:
		case 1:
		case 2:
			chan_try_send(ch);
			break;
		case 3:
		case 4:
			chan_try_recv(ch);
			break;
		case 5:
			volt_chan_close(ch);
			chan_close();
			break;
		case 6:
			if (cm.senders) {
				volt_chan_sender_add(ch);
				cm.senders++;
			}
			break;
		case 7:
			if (cm.senders) {
				volt_chan_sender_drop(ch);
				if (--cm.senders == 0)
					chan_close();
			}
			break;
		case 8:
			if (cm.receivers) {
				volt_chan_receiver_add(ch);
				cm.receivers++;
			}
			break;
		case 9:
			if (cm.receivers) {
				volt_chan_receiver_drop(ch);
				if (--cm.receivers == 0)
					chan_close();
			}
			break;
		case 10:
		case 11:
			if (op & 0x80)
				poll_recv(ch, rv);
			else
				poll_send(ch, s);
			break;
		case 12:
			poll_recv(ch, rv);
			break;
		default:
			if (arg & 0x80 && s->pending) {
				s->pending = false;
				drop_future(&s->f.base, &s->k, "send");
			} else if (!(arg & 0x80) && rv->pending) {
				rv->pending = false;
				drop_future(&rv->f.base, &rv->k, "recv");
			}
			break;
		}
		chan_check(ch);
	}
	/* what is buffered comes out in order, then CLOSED */
	for (int i = 0; i < NFUT; i++) {
		if (cm.sf[i].pending)
			drop_future(&cm.sf[i].f.base, &cm.sf[i].k, "send");
		if (cm.rf[i].pending)
			drop_future(&cm.rf[i].f.base, &cm.rf[i].k, "recv");
	}
	volt_chan_close(ch);
	chan_close();
	while (cm.len)
		chan_try_recv(ch);
	chan_try_recv(ch);
	volt_chan_free(ch);
}

/* ------------------------------------------------------------ oneshot */

static void fuzz_oneshot(struct fz *in)
{
	struct volt_oneshot o;
	struct volt_oneshot_recv f;
	struct wk k = { 0, false };
	bool pending = false, sent = false, taken = false, gone = false, closed = false;
	uintptr_t value = 0, next = 1;

	FUZZ_CHECK(volt_oneshot_init(&o) == 0, "volt_oneshot_init failed");
	for (unsigned steps = 0; fz_more(in) && steps < MAX_STEPS; steps++) {
		uint8_t op = fz_u8(in);
		void *out = NULL;
		int ret, want;

		switch (op % 6) {
		case 0:
			ret = volt_oneshot_send(&o, (void *)next);
			want = sent || gone ? -EALREADY : closed ? VOLT_CHAN_CLOSED : VOLT_CHAN_OK;
			FUZZ_CHECK(ret == want, "send: %d, the model says %d", ret, want);
			if (ret == VOLT_CHAN_OK) {
				sent = true;
				value = next;
			}
			next++;
			break;
		case 1:
			volt_oneshot_sender_drop(&o);
			gone |= !sent;
			break;
		case 2:
			volt_oneshot_close(&o);
			closed = true;
			break;
		case 3:
			if (pending)
				break; /* one receiver: not both at once */
			ret = volt_oneshot_try_recv(&o, &out);
			want = sent && !taken ? VOLT_CHAN_OK
			       : taken || gone || closed ? VOLT_CHAN_CLOSED : VOLT_CHAN_EMPTY;
			FUZZ_CHECK(ret == want, "try_recv: %d, the model says %d", ret, want);
			if (ret == VOLT_CHAN_OK) {
				FUZZ_CHECK((uintptr_t)out == value, "try_recv: another value");
				taken = true;
			}
			break;
		case 4:
			if (!pending) {
				volt_oneshot_recv(&f, &o);
				k = (struct wk){ 0, false };
			}
			want = sent && !taken ? VOLT_CHAN_OK
			       : taken || gone || closed ? VOLT_CHAN_CLOSED : VOLT_CHAN_EMPTY;
			if (poll_with(&f.base, &k) == VOLT_PENDING) {
				FUZZ_CHECK(want == VOLT_CHAN_EMPTY, "recv future pending, the model says %d",
					   want);
				pending = true;
				break;
			}
			FUZZ_CHECK(f.result == want, "recv future: %d, the model says %d", f.result, want);
			if (want == VOLT_CHAN_OK) {
				FUZZ_CHECK((uintptr_t)f.value == value, "recv future: another value");
				taken = true;
			}
			pending = false;
			drop_future(&f.base, &k, "oneshot recv");
			break;
		default:
			if (pending) {
				pending = false;
				drop_future(&f.base, &k, "oneshot recv");
			}
			break;
		}
		/* (a close is the receiver's own doing: it drops the waker, wakes nobody) */
		if (pending && !closed && ((sent && !taken) || gone))
			FUZZ_CHECK(k.woken, "a value or the sender's drop, and the receiver is not woken");
		FUZZ_CHECK(k.refs <= 1, "%d waker clones", k.refs);
	}
	if (pending)
		drop_future(&f.base, &k, "oneshot recv");
	volt_oneshot_destroy(&o);
	FUZZ_CHECK(k.refs == 0, "destroyed with %d waker clones left", k.refs);
}

/* ------------------------------------------------------------ broadcast */

#define NRX 4

static void fuzz_broadcast(struct fz *in)
{
	struct volt_broadcast *b = NULL;
	size_t cap = 1 + fz_u8(in) % 9;
	uint64_t tail = 0;
	unsigned receivers = 0;
	bool closed = false;
	struct {
		struct volt_broadcast_rx rx;
		struct volt_broadcast_recv f;
		struct wk k;
		bool on, pending;
		uint64_t next;
	} r[NRX];

	memset(r, 0, sizeof(r));
	FUZZ_CHECK(volt_broadcast_new(cap, &b) == 0, "volt_broadcast_new(%zu) failed", cap);
	for (unsigned steps = 0; fz_more(in) && steps < MAX_STEPS; steps++) {
		uint8_t op = fz_u8(in), arg = fz_u8(in);
		unsigned i = arg % NRX;
		uint64_t oldest = tail > cap ? tail - cap : 0, missed = 0;
		void *out = NULL;
		int ret, want;

		switch (op % 8) {
		case 0:
		case 1:
			ret = volt_broadcast_send(b, (void *)(uintptr_t)(tail + 1));
			want = closed || !receivers ? VOLT_CHAN_CLOSED : VOLT_CHAN_OK;
			FUZZ_CHECK(ret == want, "send: %d, the model says %d", ret, want);
			tail += ret == VOLT_CHAN_OK;
			break;
		case 2:
			volt_broadcast_close(b);
			closed = true;
			break;
		case 3:
			if (!r[i].on) {
				volt_broadcast_subscribe(b, &r[i].rx);
				r[i].on = true;
				r[i].next = tail;
				receivers++;
			}
			break;
		case 4:
			if (r[i].on) {
				if (r[i].pending)
					drop_future(&r[i].f.base, &r[i].k, "broadcast recv");
				r[i].pending = false;
				volt_broadcast_unsubscribe(&r[i].rx);
				r[i].on = false;
				receivers--;
			}
			break;
		case 5:
		case 6:
			if (!r[i].on || (r[i].pending && op % 8 == 5))
				break;
			want = r[i].next < oldest ? VOLT_CHAN_LAGGED
			       : r[i].next < tail ? VOLT_CHAN_OK
			       : closed	   ? VOLT_CHAN_CLOSED
					       : VOLT_CHAN_EMPTY;
			if (op % 8 == 5) {
				ret = volt_broadcast_try_recv(&r[i].rx, &out, &missed);
			} else {
				if (!r[i].pending) {
					volt_broadcast_recv(&r[i].f, &r[i].rx);
					r[i].k = (struct wk){ 0, false };
				}
				if (poll_with(&r[i].f.base, &r[i].k) == VOLT_PENDING) {
					FUZZ_CHECK(want == VOLT_CHAN_EMPTY,
						   "recv future pending, the model says %d", want);
					r[i].pending = true;
					break;
				}
				ret = r[i].f.result;
				out = r[i].f.value;
				missed = r[i].f.missed;
				r[i].pending = false;
				drop_future(&r[i].f.base, &r[i].k, "broadcast recv");
			}
			FUZZ_CHECK(ret == want, "receiver %u: %d, the model says %d", i, ret, want);
			if (ret == VOLT_CHAN_LAGGED) {
				FUZZ_CHECK(missed == oldest - r[i].next, "lagged %ju, the model says %ju",
					   (uintmax_t)missed, (uintmax_t)(oldest - r[i].next));
				r[i].next = oldest;
			} else if (ret == VOLT_CHAN_OK) {
				FUZZ_CHECK((uintptr_t)out == r[i].next + 1,
					   "receiver %u: message %ju, expected %ju", i,
					   (uintmax_t)(uintptr_t)out, (uintmax_t)(r[i].next + 1));
				r[i].next++;
			}
			break;
		default:
			if (r[i].pending) {
				r[i].pending = false;
				drop_future(&r[i].f.base, &r[i].k, "broadcast recv");
			}
			break;
		}
		for (unsigned j = 0; j < NRX; j++)
			if (r[j].pending && (r[j].next < tail || closed))
				FUZZ_CHECK(r[j].k.woken, "receiver %u has a message or a close, unwoken", j);
	}
	for (unsigned j = 0; j < NRX; j++)
		if (r[j].pending)
			drop_future(&r[j].f.base, &r[j].k, "broadcast recv");
	volt_broadcast_free(b);
}

/* ------------------------------------------------------------ parameters */

/* A size from the input: small, a power of two give or take one, or any. */
static uint64_t pick_size(struct fz *in)
{
	uint8_t kind = fz_u8(in);
	unsigned sh = fz_u8(in) % 64;

	switch (kind % 4) {
	case 0:
		return fz_u8(in);
	case 1:
		return (1ull << sh) + (uint64_t)(int64_t)((int)(fz_u8(in) % 3) - 1);
	case 2:
		return UINT64_MAX >> sh;
	default:
		return fz_u64(in);
	}
}

/*
 * The contract of volt_chan_new (volt/chan.h): -EINVAL for a zero or
 * oversized argument, -EOVERFLOW when the bytes the buffer needs do not fit
 * in size_t ("locked": capacity x elem_size; "vyukov": a ring of max(cap, 2)
 * slots of an 8-byte sequence plus the element rounded up to 8, then
 * rounded up to a cache line), else 0 or -ENOMEM. Called only where the
 * answer is certain: errors, small channels (which must work), and
 * requests beyond ASan's largest allocation (1 TiB: malloc returns NULL, so
 * -ENOMEM); a valid size in between would measure the machine.
 */
static void fuzz_params(struct fz *in)
{
	for (unsigned steps = 0; fz_more(in) && steps < 16; steps++) {
		bool vyukov = fz_u8(in) & 1;
		const char *buffer = vyukov ? "vyukov" : "locked";
		size_t esz = (size_t)pick_size(in), cap = (size_t)pick_size(in);
		unsigned __int128 bytes = (unsigned __int128)esz * cap;
		unsigned __int128 most = (unsigned __int128)(cap < 2 ? 2 : cap) *
					 (((unsigned __int128)esz + 15) & ~(unsigned __int128)7);
		struct volt_chan *ch = NULL;
		int ret, want;

		if (!esz || !cap || esz > VOLT_CHAN_ELEM_MAX || cap > VOLT_CHAN_CAPACITY_MAX)
			want = -EINVAL;
		else if (bytes > SIZE_MAX || (vyukov && most > SIZE_MAX - 63))
			want = -EOVERFLOW;
		else if ((vyukov ? most : bytes) <= (1u << 20))
			want = 0;
		else if ((vyukov ? most : bytes) > ((unsigned __int128)1 << 41))
			want = -ENOMEM;
		else
			continue;
		ret = volt_chan_new(esz, cap, buffer, &ch);
		FUZZ_CHECK(ret == want, "volt_chan_new(%zu, %zu, %s): %d, expected %d", esz, cap,
			   buffer, ret, want);
		if (ret)
			continue;
		if (esz <= 64 && cap <= 4096) {
			uint8_t e[64] = { 0 };

			for (size_t j = 0; j < cap; j++)
				FUZZ_CHECK(volt_chan_try_send(ch, e) == VOLT_CHAN_OK,
					   "send %zu of %zu failed", j, cap);
			FUZZ_CHECK(volt_chan_try_send(ch, e) == VOLT_CHAN_FULL, "not full at %zu", cap);
		}
		volt_chan_free(ch);
	}
	for (unsigned steps = 0; fz_more(in) && steps < 4; steps++) {
		size_t cap = (size_t)pick_size(in);
		struct volt_broadcast *b = NULL;
		int ret;

		if (!cap || cap > VOLT_BROADCAST_CAPACITY_MAX) {
			ret = volt_broadcast_new(cap, &b);
			FUZZ_CHECK(ret == -EINVAL, "volt_broadcast_new(%zu): %d", cap, ret);
		} else if (cap <= 4096) {
			ret = volt_broadcast_new(cap, &b);
			FUZZ_CHECK(ret == 0, "volt_broadcast_new(%zu): %d", cap, ret);
			volt_broadcast_free(b);
		}
	}
}

/* An allocation too big for the machine fails with NULL, as malloc does, not a report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };

	switch (fz_u8(&in) % 8) {
	case 5:
		fuzz_oneshot(&in);
		break;
	case 6:
		fuzz_broadcast(&in);
		break;
	case 7:
		fuzz_params(&in);
		break;
	default:
		fuzz_mpmc(&in);
		break;
	}
	return 0;
}
