/* SPDX-License-Identifier: MIT */
/*
 * primitives/chan_buffer.h: the bounded buffer under a channel, a plug-in.
 *
 * A buffer stores up to `capacity` elements of `elem_size` bytes and is
 * safe for any number of concurrent pushers and poppers; it never waits and
 * never allocates after init. The channel (primitives/chan.c) does the
 * waiting, waking and closing, the same for every buffer.
 */
#ifndef VOLT_PRIMITIVES_CHAN_BUFFER_H
#define VOLT_PRIMITIVES_CHAN_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

#include <volt.h>

/*
 * Closing is the buffer's too, so that it is atomic with the pushes: after
 * close returns, no push succeeds, and a pop reports VOLT_CHAN_CLOSED only
 * once every push that did succeed has been popped.
 */
struct volt__chan_ops {
	const char *name;
	/*
	 * 0, -EOVERFLOW (its slots, with whatever it adds per slot, do not fit
	 * in size_t), -ENOMEM; *state is the buffer's. The channel has checked
	 * that capacity x elem_size fits.
	 */
	int (*init)(void **state, size_t elem_size, size_t capacity);
	void (*fini)(void *state);
	int (*try_push)(void *state, const void *elem); /* VOLT_CHAN_OK, _FULL, _CLOSED */
	int (*try_pop)(void *state, void *out);         /* VOLT_CHAN_OK, _EMPTY, _CLOSED */
	void (*close)(void *state);
	bool (*is_closed)(void *state);
	size_t (*len)(void *state);                     /* a snapshot */
};

extern const struct volt__chan_ops volt__chan_vyukov;
extern const struct volt__chan_ops volt__chan_locked;

#endif /* VOLT_PRIMITIVES_CHAN_BUFFER_H */
