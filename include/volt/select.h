/* SPDX-License-Identifier: MIT */
/*
 * volt/select.h: wait for the first of up to 16 channel receives.
 *
 * A select holds one receive future per branch. Each poll tries the
 * branches from a random start (seeded: fair, and no branch starves), and
 * the first that completes wins: its value is in that branch's `out`, and
 * the other branches' futures are dropped (a wake one of them was handed
 * passes on, so no message is lost or stranded). `ready` names the winner
 * and `result` is its VOLT_CHAN_OK or VOLT_CHAN_CLOSED.
 */
#ifndef VOLT_SELECT_H
#define VOLT_SELECT_H

#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VOLT_SELECT_MAX 16

struct volt_select {
	struct volt_future base;
	unsigned n;
	uint64_t rng;
	struct volt_chan *ch[VOLT_SELECT_MAX];
	void *out[VOLT_SELECT_MAX];
	struct volt_chan_recv branch[VOLT_SELECT_MAX];
	int ready;  /* the branch that completed, or -1 */
	int result; /* its result */
};

/* Starts an empty select; seed 0 picks one from the clock. 0 or -EINVAL. */
VOLT_API int volt_select_init(struct volt_select *s, uint64_t seed);
/* Adds a receive on ch into out: its branch index, or -ENOSPC (16 already), -EINVAL. */
VOLT_API int volt_select_add_recv(struct volt_select *s, struct volt_chan *ch, void *out);
/* Without waiting: the branch that received (or saw closed), or -EAGAIN. */
VOLT_API int volt_select_try(struct volt_select *s);
/* The future; reusable: each call re-arms the branches. */
VOLT_API struct volt_future *volt_select_wait(struct volt_select *s);
/* The branch index, or -EDEADLK / -EINVAL. */
VOLT_API int volt_select_blocking(struct volt_select *s);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_SELECT_H */
