/* SPDX-License-Identifier: MIT */
/*
 * net/op.h: the operation future every socket call fills (net/op.c), its
 * try and blocking forms, and the socket constructor.
 */
#ifndef VOLT_NET_OP_H
#define VOLT_NET_OP_H

#include "drivers/driver.h"

/* Fills op for a driver operation on h; returns &op->base. */
struct volt_future *volt__op_init(struct volt_io_op *op, struct volt_handle h, int opcode,
				  void *buf, size_t len, struct volt_addr *addr);

/* The try form: the system call once, on h. */
ssize_t volt__op_try(struct volt_handle h, int opcode, void *buf, size_t len,
		     struct volt_addr *addr);

/*
 * The blocking form of any future f on rt: volt_block_on, under
 * volt_timeout unless timeout is VOLT_DURATION_MAX. Returns block_on's
 * error, -ETIMEDOUT, or *result; -ESHUTDOWN (f dropped, rt not followed)
 * if no runtime lives at rt any more.
 */
ssize_t volt__op_block(struct volt_rt *rt, struct volt_future *f, volt_duration timeout,
		       const ssize_t *result);

/* rt, or the current runtime if rt is NULL (NULL if neither). */
struct volt_rt *volt__rt_or_current(struct volt_rt *rt);

/*
 * A non-blocking socket of `family` and `type` in a new source of `kind`:
 * 0 and *h, or -errno.
 */
int volt__socket_open(struct volt_rt *rt, int family, int type, enum volt__source_kind kind,
		      struct volt_handle *h);

/* Binds (and for listeners, listens) an open socket. 0 or -errno. */
int volt__socket_bind(struct volt_handle h, const struct volt_addr *addr, int backlog);

/*
 * fn(s, arg) on h's source, holding a reference meanwhile; -EBADF if stale,
 * -ESHUTDOWN if h's runtime is gone.
 */
int volt__with_source(struct volt_handle h, int (*fn)(struct volt__source *s, void *arg),
		      void *arg);

#endif /* VOLT_NET_OP_H */
