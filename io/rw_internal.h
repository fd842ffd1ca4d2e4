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

#endif /* VOLT_IO_RW_INTERNAL_H */
