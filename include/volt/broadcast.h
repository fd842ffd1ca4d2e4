/* SPDX-License-Identifier: MIT */
/*
 * volt/broadcast.h: every receiver sees every message (pointers), in order.
 * The sender never waits: it overwrites the oldest message once `capacity`
 * are retained. A receiver that fell that far behind gets VOLT_CHAN_LAGGED
 * with the number of messages it missed, and resumes at the oldest one
 * still retained. A receiver sees the messages sent after it subscribed.
 */
#ifndef VOLT_BROADCAST_H
#define VOLT_BROADCAST_H

#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_broadcast;

struct volt_broadcast_rx {
	struct volt_broadcast *b;
	uint64_t next; /* the sequence number of the next message to see */
};

/* The largest capacity volt_broadcast_new accepts. */
#define VOLT_BROADCAST_CAPACITY_MAX (SIZE_MAX >> 3)

/*
 * A channel retaining the last `capacity` messages: exactly that many,
 * never rounded. 0, -EINVAL (capacity 0 or above VOLT_BROADCAST_CAPACITY_MAX,
 * out NULL), -ENOMEM; on error nothing is left allocated.
 */
VOLT_API int volt_broadcast_new(size_t capacity, struct volt_broadcast **out);
VOLT_API void volt_broadcast_free(struct volt_broadcast *b);
/* VOLT_CHAN_OK, or VOLT_CHAN_CLOSED (closed, or no receiver subscribed). */
VOLT_API int volt_broadcast_send(struct volt_broadcast *b, void *value);
VOLT_API void volt_broadcast_close(struct volt_broadcast *b);
VOLT_API void volt_broadcast_subscribe(struct volt_broadcast *b, struct volt_broadcast_rx *rx);
VOLT_API void volt_broadcast_unsubscribe(struct volt_broadcast_rx *rx);

/* VOLT_CHAN_OK (*out), VOLT_CHAN_EMPTY, VOLT_CHAN_LAGGED (*missed), VOLT_CHAN_CLOSED. */
VOLT_API int volt_broadcast_try_recv(struct volt_broadcast_rx *rx, void **out, uint64_t *missed);

struct volt_broadcast_recv {
	struct volt_future base;
	struct volt_broadcast_rx *rx;
	struct volt_waiter waiter;
	void *value;     /* when result is VOLT_CHAN_OK */
	uint64_t missed; /* when result is VOLT_CHAN_LAGGED */
	int result;
};

VOLT_API struct volt_future *volt_broadcast_recv(struct volt_broadcast_recv *f,
						 struct volt_broadcast_rx *rx);
VOLT_API int volt_broadcast_recv_blocking(struct volt_broadcast_rx *rx, void **out,
					  uint64_t *missed);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_BROADCAST_H */
