/* SPDX-License-Identifier: MIT */
/*
 * core/trace.c: per-worker event rings and the Chrome trace-event writer.
 *
 * Recording. Each worker owns one ring of 2^k fixed-size records, allocated
 * and touched (one write per page) by volt__trace_init, before any worker
 * starts, so the hot path never takes a page fault it could have avoided.
 * Only the owning worker thread writes its ring: a record is a clock read,
 * three stores and an increment of `next`, with no lock and no atomic.
 * `next` counts every record ever written; the slot is next & mask, so a
 * full ring overwrites its oldest record, and next - capacity records were
 * dropped (that difference is the writer's count of them).
 *
 * Writing. volt__trace_finish(rt, true) runs on the thread that frees the
 * runtime after every worker was joined; the join orders each worker's
 * plain stores before this thread's reads, so no synchronisation is needed
 * here either. The surviving records of worker i are
 * rec[(next - n) & mask .. next & mask) with n = min(next, capacity), in
 * time order (one thread, CLOCK_MONOTONIC). Timestamps are written in
 * microseconds with three decimals, relative to the earliest surviving
 * record of any worker.
 *
 * The file is Chrome's trace-event JSON (the "JSON object format"):
 *
 *	{"traceEvents":[...],"displayTimeUnit":"ns","otherData":{...}}
 *
 * pid 1 is the runtime, tid i is worker i (named by thread_name metadata).
 * A POLL_BEGIN and the POLL_END after it become one complete event
 * ("ph":"X", name "poll", ts and dur). A ring that wrapped may start with a
 * POLL_END whose BEGIN was overwritten: it is skipped. A POLL_BEGIN with no
 * END after it (not expected once the workers are joined) is skipped too.
 * Both are counted in otherData.unmatched_poll_records. Steals, parks,
 * unparks, wakes and spawns are thread-scoped instants ("ph":"i","s":"t").
 * One worker's events are written in time order (a poll at its BEGIN, so a
 * wake made inside the poll follows it); the workers follow one another,
 * which the viewers accept (they sort on load).
 *
 * volt__trace_finish frees the rings whatever happens and leaves every
 * worker's `rec` NULL, so a second call (rt_destroy after volt_rt_free) does
 * nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/rt.h"

#define TRACE_PAGE 4096u

static uint32_t round_pow2(uint32_t n)
{
	uint32_t c = 1;

	while (c < n)
		c <<= 1;
	return c;
}

static void free_bufs(struct volt_rt *rt)
{
	for (unsigned i = 0; i < rt->nworkers; i++) {
		struct volt__trace_buf *b = &rt->workers[i].trace;

		free(b->rec);
		b->rec = NULL;
		b->mask = 0;
		b->next = 0;
	}
}

int volt__trace_init(struct volt_rt *rt)
{
	if (!rt->cfg.trace)
		return 0;

	uint32_t cap = round_pow2(rt->cfg.trace_events);
	size_t bytes = (size_t)cap * sizeof(struct volt__trace_rec);

	bytes = (bytes + VOLT__CACHELINE - 1) & ~(size_t)(VOLT__CACHELINE - 1);
	for (unsigned i = 0; i < rt->nworkers; i++) {
		struct volt__trace_buf *b = &rt->workers[i].trace;
		volatile char *p = aligned_alloc(VOLT__CACHELINE, bytes);

		if (!p) {
			free_bufs(rt);
			return -ENOMEM;
		}
		/* Fault every page in now, not during the first polls. */
		for (size_t off = 0; off < bytes; off += TRACE_PAGE)
			p[off] = 0;
		p[bytes - 1] = 0;
		b->rec = (struct volt__trace_rec *)p;
		b->mask = cap - 1;
		b->next = 0;
	}
	return 0;
}

void volt__trace_record(struct volt__trace_buf *b, enum volt__trace_kind kind, uint64_t arg)
{
	struct timespec ts;
	struct volt__trace_rec *r = &b->rec[b->next & b->mask];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	r->ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	r->arg = arg;
	r->kind = (uint32_t)kind;
	r->pad = 0;
	b->next++;
}

/* ---- the writer */

static uint64_t kept(const struct volt__trace_buf *b)
{
	uint64_t cap = (uint64_t)b->mask + 1;

	return b->next < cap ? b->next : cap;
}

static uint64_t dropped(const struct volt__trace_buf *b)
{
	return b->next - kept(b);
}

static const struct volt__trace_rec *rec_at(const struct volt__trace_buf *b, uint64_t k)
{
	return &b->rec[(b->next - kept(b) + k) & b->mask];
}

/* A timestamp or duration in ns, as microseconds with three decimals. */
static void put_us(FILE *f, uint64_t ns)
{
	fprintf(f, "%llu.%03llu", (unsigned long long)(ns / 1000),
		(unsigned long long)(ns % 1000));
}

struct writer {
	FILE *f;
	uint64_t t0;      /* earliest surviving record */
	bool first;       /* no event written yet (comma placement) */
	uint64_t unmatched;
};

static void event_head(struct writer *wr, const char *name, const char *ph, unsigned tid,
		       uint64_t ns)
{
	fprintf(wr->f, "%s\n{\"name\":\"%s\",\"ph\":\"%s\",\"pid\":1,\"tid\":%u,\"ts\":",
		wr->first ? "" : ",", name, ph, tid);
	put_us(wr->f, ns - wr->t0);
	wr->first = false;
}

static void instant(struct writer *wr, const char *name, unsigned tid, uint64_t ns,
		    const char *key, uint64_t arg, bool hex)
{
	event_head(wr, name, "i", tid, ns);
	fputs(",\"s\":\"t\",\"args\":{", wr->f);
	if (key) {
		if (hex)
			fprintf(wr->f, "\"%s\":\"0x%llx\"", key, (unsigned long long)arg);
		else
			fprintf(wr->f, "\"%s\":%llu", key, (unsigned long long)arg);
	}
	fputs("}}", wr->f);
}

/* The index of the POLL_END that closes the BEGIN at k, or n if none does. */
static uint64_t poll_end_of(const struct volt__trace_buf *b, uint64_t k, uint64_t n)
{
	for (uint64_t j = k + 1; j < n; j++) {
		uint32_t kind = rec_at(b, j)->kind;

		if (kind == VOLT__TR_POLL_END)
			return j;
		if (kind == VOLT__TR_POLL_BEGIN)
			return n;
	}
	return n;
}

/* Events in time order: a poll is written at its BEGIN, before the instants inside it. */
static void write_worker(struct writer *wr, const struct volt__trace_buf *b, unsigned tid)
{
	uint64_t n = kept(b), closed = n; /* the END matched to the last BEGIN */

	for (uint64_t k = 0; k < n; k++) {
		const struct volt__trace_rec *r = rec_at(b, k), *e;
		uint64_t j;

		switch ((enum volt__trace_kind)r->kind) {
		case VOLT__TR_POLL_BEGIN:
			j = poll_end_of(b, k, n);
			if (j == n) {
				wr->unmatched++;
				break;
			}
			e = rec_at(b, j);
			event_head(wr, "poll", "X", tid, r->ns);
			fputs(",\"dur\":", wr->f);
			put_us(wr->f, e->ns - r->ns);
			fprintf(wr->f, ",\"args\":{\"task\":\"0x%llx\",\"ready\":%u}}",
				(unsigned long long)r->arg, e->arg ? 1u : 0u);
			closed = j;
			break;
		case VOLT__TR_POLL_END:
			if (k != closed)
				wr->unmatched++; /* its BEGIN was overwritten */
			break;
		case VOLT__TR_STEAL:
			instant(wr, "steal", tid, r->ns, "count", r->arg, false);
			break;
		case VOLT__TR_PARK:
			instant(wr, "park", tid, r->ns, NULL, 0, false);
			break;
		case VOLT__TR_UNPARK:
			instant(wr, "unpark", tid, r->ns, NULL, 0, false);
			break;
		case VOLT__TR_WAKE:
			instant(wr, "wake", tid, r->ns, "task", r->arg, true);
			break;
		case VOLT__TR_SPAWN:
			instant(wr, "spawn", tid, r->ns, "task", r->arg, true);
			break;
		}
	}
}

static void write_metadata(struct writer *wr, const struct volt_rt *rt)
{
	FILE *f = wr->f;

	fprintf(f, "\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
		   "\"args\":{\"name\":\"volt (%s, %u workers)\"}}",
		rt->sched_ops->name, rt->nworkers);
	for (unsigned i = 0; i < rt->nworkers; i++) {
		fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
			   "\"args\":{\"name\":\"worker %u\"}}", i, i);
		fprintf(f, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,"
			   "\"tid\":%u,\"args\":{\"sort_index\":%u}}", i, i);
	}
	wr->first = false;
}

static void write_other(struct writer *wr, const struct volt_rt *rt)
{
	FILE *f = wr->f;
	const struct volt_config *c = &rt->cfg;
	uint64_t total = 0;

	fputs("\"otherData\":{\"scheduler\":", f);
	volt__json_string(f, rt->sched_ops->name);
	/* the seed as a string: a uint64 does not survive a double */
	fprintf(f, ",\"workers\":%u,\"seed\":\"%llu\",\"lifo\":%s,\"lifo_max_polls\":%u,"
		   "\"global_interval\":%u,\"event_interval\":%u,\"budget\":%u,"
		   "\"trace_events\":%u,\"clock\":\"CLOCK_MONOTONIC\",\"t0_ns\":%llu,"
		   "\"dropped\":[",
		rt->nworkers, (unsigned long long)rt->seed, c->lifo ? "true" : "false",
		c->lifo_max_polls, c->global_interval, c->event_interval, c->budget,
		rt->workers[0].trace.mask + 1, (unsigned long long)wr->t0);
	for (unsigned i = 0; i < rt->nworkers; i++) {
		uint64_t d = dropped(&rt->workers[i].trace);

		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)d);
		total += d;
	}
	fprintf(f, "],\"dropped_total\":%llu,\"unmatched_poll_records\":%llu}",
		(unsigned long long)total, (unsigned long long)wr->unmatched);
}

static int write_file(const struct volt_rt *rt)
{
	struct writer wr = { .first = true };
	bool any = false;
	int err = 0;

	for (unsigned i = 0; i < rt->nworkers; i++) {
		const struct volt__trace_buf *b = &rt->workers[i].trace;

		if (kept(b) && (!any || rec_at(b, 0)->ns < wr.t0)) {
			wr.t0 = rec_at(b, 0)->ns;
			any = true;
		}
	}
	wr.f = fopen(rt->cfg.trace, "w");
	if (!wr.f)
		return errno ? -errno : -EIO;
	errno = 0; /* a successful fopen may leave it set */
	fputs("{\"traceEvents\":[", wr.f);
	write_metadata(&wr, rt);
	for (unsigned i = 0; i < rt->nworkers; i++)
		write_worker(&wr, &rt->workers[i].trace, i);
	fputs("\n],\n\"displayTimeUnit\":\"ns\",\n", wr.f);
	write_other(&wr, rt);
	fputs("}\n", wr.f);
	if (fflush(wr.f) != 0 || ferror(wr.f))
		err = errno ? -errno : -EIO;
	if (fclose(wr.f) != 0 && !err)
		err = errno ? -errno : -EIO;
	return err;
}

int volt__trace_finish(struct volt_rt *rt, bool write)
{
	int err = 0;

	if (!rt->cfg.trace || !rt->workers || !rt->workers[0].trace.rec)
		return 0; /* tracing off, or already finished */
	if (write)
		err = write_file(rt);
	free_bufs(rt);
	return err;
}
