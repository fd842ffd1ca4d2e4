/* SPDX-License-Identifier: MIT */
/*
 * core/live.h: the process-wide registry of live runtimes (core/live.c).
 *
 * A socket handle stores its runtime's address (struct volt_handle). Once
 * that runtime is freed the address is dangling, so before a handle is
 * followed into its runtime, volt__live() asks the registry whether a
 * runtime lives at that address at all; if not, the call answers
 * -ESHUTDOWN without touching the runtime's memory.
 *
 * A later runtime may be given the same address. The generation floor keeps
 * the old handles out of it: every runtime starts its handle generations at
 * the floor, and a runtime that goes raises the floor above every
 * generation it handed out, so no generation of a dead runtime is ever
 * valid in a later one (until 2^32 closes in the life of the process wrap
 * the 32-bit generations).
 */
#ifndef VOLT_CORE_LIVE_H
#define VOLT_CORE_LIVE_H

#include <stdbool.h>
#include <stdint.h>

struct volt_rt;

/* Records rt as live: 0, or -ENOMEM (more than 64 live runtimes and no memory). */
int volt__live_add(const struct volt_rt *rt);

/* Forgets rt (a no-op if it was never added). */
void volt__live_remove(const struct volt_rt *rt);

/*
 * True if a runtime added and not yet removed lives at rt. Lock-free: two
 * acquire loads for the first runtime. A call racing with the removal of
 * the same runtime is the caller's error (volt_rt_free's contract).
 */
bool volt__live(const struct volt_rt *rt);

/* The generation a new runtime's handle slots start at (>= 1). */
uint32_t volt__live_gen_floor(void);

/* A runtime going away handed out generations up to max_gen: raise the floor past it. */
void volt__live_gen_retire(uint32_t max_gen);

#endif /* VOLT_CORE_LIVE_H */
