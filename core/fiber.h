/* SPDX-License-Identifier: MIT */
/* core/fiber.h: what the rest of core needs of fibers (core/fiber.c). */
#ifndef VOLT_CORE_FIBER_H
#define VOLT_CORE_FIBER_H

#include <volt.h>

/* Default-size stacks a worker keeps for reuse. */
#define VOLT__STACK_CACHE 64

struct volt__worker;

/* True while the calling code runs on a fiber's stack. */
bool volt__fiber_active(void);

/* volt_block_on inside a fiber: park the fiber until f is ready. */
int volt__fiber_block_on(struct volt_future *f, void **output);

int volt__spawn_fiber(struct volt_rt *rt, struct volt_group *g, volt_fiber_fn fn, void *arg,
		      size_t stack_size, struct volt_join **join);

/* Unmaps the stacks a worker kept (worker exit). */
void volt__fiber_stack_cache_flush(struct volt__worker *w);

#endif /* VOLT_CORE_FIBER_H */
