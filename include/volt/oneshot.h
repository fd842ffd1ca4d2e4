/* SPDX-License-Identifier: MIT */
/*
 * volt/oneshot.h: a one-value channel, in caller-owned memory (no
 * allocation). The sender sends one pointer once, or drops; the receiver
 * gets the value, or VOLT_CHAN_CLOSED if the sender dropped without sending
 * or the value was already taken. A receiver that closes first makes the
 * send fail with VOLT_CHAN_CLOSED, and the value stays with the sender: a
 * value is delivered once or returned to the sender once, never both.
 */
#ifndef VOLT_ONESHOT_H
#define VOLT_ONESHOT_H

#include <pthread.h>

#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_oneshot {
	pthread_mutex_t lock;
	uint32_t state;          /* internal */
	void *value;
	struct volt_waker waker; /* the receiver's, while it waits */
};

VOLT_API int volt_oneshot_init(struct volt_oneshot *o);
VOLT_API void volt_oneshot_destroy(struct volt_oneshot *o);

/* VOLT_CHAN_OK, VOLT_CHAN_CLOSED (the receiver closed: the value stays yours), -EALREADY. */
VOLT_API int volt_oneshot_send(struct volt_oneshot *o, void *value);
/* The sender goes away without sending: the receiver sees VOLT_CHAN_CLOSED. */
VOLT_API void volt_oneshot_sender_drop(struct volt_oneshot *o);
/* The receiver will not receive: a later send fails. A value already sent can still be taken. */
VOLT_API void volt_oneshot_close(struct volt_oneshot *o);

/* VOLT_CHAN_OK (*out set), VOLT_CHAN_EMPTY, VOLT_CHAN_CLOSED. */
VOLT_API int volt_oneshot_try_recv(struct volt_oneshot *o, void **out);

struct volt_oneshot_recv {
	struct volt_future base;
	struct volt_oneshot *o;
	void *value;  /* when result is VOLT_CHAN_OK */
	int result;
};

VOLT_API struct volt_future *volt_oneshot_recv(struct volt_oneshot_recv *f, struct volt_oneshot *o);
/* VOLT_CHAN_OK or VOLT_CHAN_CLOSED, or -EDEADLK. */
VOLT_API int volt_oneshot_recv_blocking(struct volt_oneshot *o, void **out);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_ONESHOT_H */
