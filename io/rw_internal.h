/* SPDX-License-Identifier: MIT */
/*
 * io/rw_internal.h: what the io/ files share and do not export.
 */
#ifndef VOLT_IO_RW_INTERNAL_H
#define VOLT_IO_RW_INTERNAL_H

#include "volt/bufio.h"
#include "volt/rw.h"

/* The runtime rw's blocking forms run their timeout on (ops->runtime), or NULL. */
struct volt_rt *volt__rw_runtime(const struct volt_rw *rw);

/*
 * A buffered reader's or writer's buffer: *buf as given (*owned = 0), or,
 * *buf NULL, cap bytes malloc'ed (*owned = 1). 0, -EINVAL (cap 0, rw
 * without ops) or -ENOMEM.
 */
int volt__iobuf_get(struct volt_rw rw, void **buf, size_t cap, uint8_t *owned);

/*
 * Once per process, before the first pipe (volt_pipe, an adopted pipe or
 * tty, a child's stdin): SIGPIPE's disposition goes from SIG_DFL to
 * SIG_IGN, as Rust's runtime does, so a write to a pipe whose reader is
 * gone is -EPIPE instead of the end of the process (sockets never raise it:
 * they are written with MSG_NOSIGNAL). A handler or SIG_IGN already set is
 * left alone. Children get the default back (process/child.c).
 */
void volt__sigpipe_ignore_once(void);

#endif /* VOLT_IO_RW_INTERNAL_H */
