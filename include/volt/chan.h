/* SPDX-License-Identifier: MIT */
/*
 * volt/chan.h: the bounded MPMC channel.
 *
 * Elements have a fixed size given at creation and are copied in and out.
 * The buffer under the channel is a plug-in chosen by name ("vyukov", a
 * lock-free ring with a sequence number per slot, the default; "locked", a
 * ring under a mutex, the baseline; volt_chan_buffer_name lists them); the
 * waiting, waking and closing above it are the same for every buffer.
 *
 * Forms, as for the sync primitives (volt/sync.h): try (never waits, no
 * runtime), future (waiter embedded), blocking (volt_block_on: fibers and
 * threads park, stackless tasks get -EDEADLK). A send future copies the
 * value in only when it completes: a send that is cancelled, or refused
 * because the channel closed, leaves the value with the sender.
 *
 * Closing: volt_chan_close, or the last sender dropped (senders count from
 * 1 at creation; volt_chan_sender_add / _drop). Receivers then drain what
 * is buffered and see VOLT_CHAN_CLOSED. With the last receiver dropped,
 * sends see VOLT_CHAN_CLOSED at once.
 */
#ifndef VOLT_CHAN_H
#define VOLT_CHAN_H

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_chan;

enum volt_chan_status {
	VOLT_CHAN_OK = 0,
	VOLT_CHAN_FULL,   /* try_send: no room */
	VOLT_CHAN_EMPTY,  /* try_recv: nothing buffered */
	VOLT_CHAN_CLOSED, /* closed: nothing will come (recv), nothing is accepted (send) */
	VOLT_CHAN_LAGGED, /* broadcast: messages were overwritten before this receiver saw them */
};

/* The largest capacity and element size volt_chan_new accepts. */
#define VOLT_CHAN_CAPACITY_MAX (SIZE_MAX >> 3)
#define VOLT_CHAN_ELEM_MAX ((size_t)1 << 30)

/*
 * A channel of `capacity` elements of `elem_size` bytes on the buffer named
 * `buffer` (NULL: the one VOLT_CHAN_BUFFER names, else "vyukov"). Returns
 * 0; -EINVAL (out NULL, capacity or elem_size 0 or above its _MAX, an
 * unknown buffer); -EOVERFLOW (capacity x elem_size, or the buffer's slots
 * with their per-slot header, do not fit in size_t); -ENOMEM. On error
 * nothing is left allocated and *out is untouched. The capacity is exact,
 * never rounded: volt_chan_capacity returns it and exactly that many
 * elements fit (a buffer may keep more slots inside: "vyukov" gives
 * capacity 1 a ring of two).
 */
VOLT_API int volt_chan_new(size_t elem_size, size_t capacity, const char *buffer,
			   struct volt_chan **out);

/* Frees it; nothing may use it any more (no pending future, no waiter). */
VOLT_API void volt_chan_free(struct volt_chan *ch);

/* Buffers built in, by index: NULL past the last one. */
VOLT_API const char *volt_chan_buffer_name(unsigned i);

/* VOLT_CHAN_OK, VOLT_CHAN_FULL or VOLT_CHAN_CLOSED; -EINVAL for NULL arguments. */
VOLT_API int volt_chan_try_send(struct volt_chan *ch, const void *elem);
/* VOLT_CHAN_OK (*out filled), VOLT_CHAN_EMPTY or VOLT_CHAN_CLOSED; -EINVAL. */
VOLT_API int volt_chan_try_recv(struct volt_chan *ch, void *out);

VOLT_API void volt_chan_close(struct volt_chan *ch);
VOLT_API bool volt_chan_is_closed(struct volt_chan *ch);
VOLT_API size_t volt_chan_len(struct volt_chan *ch);      /* a snapshot */
VOLT_API size_t volt_chan_capacity(const struct volt_chan *ch);
VOLT_API const char *volt_chan_buffer(const struct volt_chan *ch);

VOLT_API void volt_chan_sender_add(struct volt_chan *ch);
VOLT_API void volt_chan_sender_drop(struct volt_chan *ch);   /* the last one closes */
VOLT_API void volt_chan_receiver_add(struct volt_chan *ch);
VOLT_API void volt_chan_receiver_drop(struct volt_chan *ch);

/* The futures: `result` is VOLT_CHAN_OK or VOLT_CHAN_CLOSED when ready. */
struct volt_chan_send {
	struct volt_future base;
	struct volt_chan *ch;
	const void *elem;         /* copied in when the send completes */
	struct volt_waiter waiter;
	int result;
};

struct volt_chan_recv {
	struct volt_future base;
	struct volt_chan *ch;
	void *out;                /* filled when the result is VOLT_CHAN_OK */
	struct volt_waiter waiter;
	int result;
};

VOLT_API struct volt_future *volt_chan_send(struct volt_chan_send *f, struct volt_chan *ch,
					    const void *elem);
VOLT_API struct volt_future *volt_chan_recv(struct volt_chan_recv *f, struct volt_chan *ch,
					    void *out);

/* VOLT_CHAN_OK, VOLT_CHAN_CLOSED, or -EDEADLK / -EINVAL. */
VOLT_API int volt_chan_send_blocking(struct volt_chan *ch, const void *elem);
VOLT_API int volt_chan_recv_blocking(struct volt_chan *ch, void *out);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_CHAN_H */
