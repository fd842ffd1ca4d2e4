/* SPDX-License-Identifier: MIT */
/* core/trace.c: PLACEHOLDER until the trace writer lands (same session). */
#include "core/rt.h"

int volt__trace_init(struct volt_rt *rt)
{
	(void)rt;
	return 0;
}

int volt__trace_finish(struct volt_rt *rt, bool write)
{
	(void)rt;
	(void)write;
	return 0;
}

void volt__trace_record(struct volt__trace_buf *b, enum volt__trace_kind kind, uint64_t arg)
{
	(void)b;
	(void)kind;
	(void)arg;
}
