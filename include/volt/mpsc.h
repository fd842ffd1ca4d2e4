/* SPDX-License-Identifier: MIT */
/*
 * volt/mpsc.h: the unbounded multi-producer, single-consumer channel.
 * Elements of a fixed size are copied into blocks of 32 that are linked as
 * the queue grows and recycled as it drains (up to 4 spare blocks are
 * kept): sends never wait, and in the steady state nothing is allocated.
 * Closing: volt_mpsc_close, or the last sender dropped (senders count from
 * 1); the receiver drains, then sees VOLT_CHAN_CLOSED.
 */
#ifndef VOLT_MPSC_H
#define VOLT_MPSC_H

#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct volt_mpsc;

/* The largest element volt_mpsc_new accepts (a block holds 32). */
#define VOLT_MPSC_ELEM_MAX ((size_t)1 << 24)

/* 0, -EINVAL (elem_size 0 or above VOLT_MPSC_ELEM_MAX, out NULL), -ENOMEM. */
VOLT_API int volt_mpsc_new(size_t elem_size, struct volt_mpsc **out);
VOLT_API void volt_mpsc_free(struct volt_mpsc *m);
/* VOLT_CHAN_OK, VOLT_CHAN_CLOSED, -ENOMEM (a new block could not be had), -EINVAL. */
VOLT_API int volt_mpsc_send(struct volt_mpsc *m, const void *elem);
/* VOLT_CHAN_OK (*out), VOLT_CHAN_EMPTY, VOLT_CHAN_CLOSED, -EINVAL. */
VOLT_API int volt_mpsc_try_recv(struct volt_mpsc *m, void *out);
VOLT_API void volt_mpsc_close(struct volt_mpsc *m);
VOLT_API size_t volt_mpsc_len(struct volt_mpsc *m);
VOLT_API void volt_mpsc_sender_add(struct volt_mpsc *m);
VOLT_API void volt_mpsc_sender_drop(struct volt_mpsc *m);

struct volt_mpsc_recv {
	struct volt_future base;
	struct volt_mpsc *m;
	void *out;
	int result;
};

VOLT_API struct volt_future *volt_mpsc_recv(struct volt_mpsc_recv *f, struct volt_mpsc *m,
					    void *out);
VOLT_API int volt_mpsc_recv_blocking(struct volt_mpsc *m, void *out);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_MPSC_H */
