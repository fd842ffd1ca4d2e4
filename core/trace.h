/* SPDX-License-Identifier: MIT */
/*
 * core/trace.h: the scheduling trace.
 *
 * When cfg.trace names a file, each worker records events into its own ring
 * buffer of cfg.trace_events entries (fixed-size records, no locks, no
 * allocation after start-up; when full, the oldest events are overwritten
 * and counted as dropped). At shutdown the runtime merges the buffers into a
 * Chrome trace-event JSON file, which Perfetto and chrome://tracing open:
 * one track per worker, polls as slices, steals, parks and wakes as
 * instants. Disabled, each hook costs one predictable branch.
 */
#ifndef VOLT_CORE_TRACE_H
#define VOLT_CORE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

enum volt__trace_kind {
	VOLT__TR_POLL_BEGIN, /* arg: task address */
	VOLT__TR_POLL_END,   /* arg: 1 if the poll returned ready, else 0 */
	VOLT__TR_STEAL,      /* arg: tasks stolen */
	VOLT__TR_PARK,       /* arg: 0 */
	VOLT__TR_UNPARK,     /* arg: 0 */
	VOLT__TR_WAKE,       /* arg: task address (a wake made by this worker) */
	VOLT__TR_SPAWN,      /* arg: task address */
};

struct volt__trace_rec {
	uint64_t ns;   /* CLOCK_MONOTONIC */
	uint64_t arg;
	uint32_t kind; /* enum volt__trace_kind */
	uint32_t pad;
};

struct volt__trace_buf {
	struct volt__trace_rec *rec; /* NULL: tracing is off */
	uint32_t mask;               /* capacity - 1 (a power of two) */
	uint64_t next;               /* records written so far */
};

struct volt_rt;
struct volt__worker;

/* Allocates every worker's buffer when cfg.trace is set. 0 or -ENOMEM. */
int volt__trace_init(struct volt_rt *rt);

/*
 * Writes the JSON file (if tracing and `write`) and frees the buffers.
 * 0 or -errno (the file could not be written; the buffers are freed anyway).
 */
int volt__trace_finish(struct volt_rt *rt, bool write);

void volt__trace_record(struct volt__trace_buf *b, enum volt__trace_kind kind, uint64_t arg);

/* The hook: one branch when tracing is off. */
#define VOLT__TRACE(buf, kind, arg)                                       \
	do {                                                              \
		if (__builtin_expect((buf)->rec != NULL, 0))              \
			volt__trace_record((buf), (kind), (uint64_t)(arg)); \
	} while (0)

#endif /* VOLT_CORE_TRACE_H */
