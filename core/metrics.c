/* SPDX-License-Identifier: MIT */
/* core/metrics.c: snapshots of the per-worker counters, and their JSON form. */
#include <errno.h>
#include <string.h>

#include "core/json.h"
#include "core/rt.h"

/* One table drives the snapshot, the sum and the JSON keys. */
#define VOLT__METRIC_FIELDS(X)                                                     \
	X(polls) X(tasks_run) X(tasks_done) X(steals_tried) X(steals_won)          \
	X(tasks_stolen) X(parks) X(unparks) X(noop_wakes) X(global_pops)           \
	X(lifo_hits) X(budget_exhausted) X(overflow_moves) X(remote_spawns)   \
	X(timers_fired) X(timer_wakes) X(tasks_spawned)

int volt_metrics_worker(const struct volt_rt *rt, unsigned w, struct volt_worker_metrics *out)
{
	if (!rt || !out || w >= rt->nworkers)
		return -EINVAL;
	struct volt__metrics *m = &rt->metrics[w];
	/* relaxed: counters are statistics, not synchronisation */
#define X(f) out->f = atomic_load_explicit(&m->f, RELAXED);
	VOLT__METRIC_FIELDS(X)
#undef X
	return 0;
}

void volt_metrics_total(const struct volt_rt *rt, struct volt_worker_metrics *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < rt->nworkers; w++) {
		struct volt_worker_metrics one;

		volt_metrics_worker(rt, w, &one);
#define X(f) out->f += one.f;
		VOLT__METRIC_FIELDS(X)
#undef X
	}
}

static void write_object(FILE *f, const struct volt_worker_metrics *m)
{
	const char *sep = "";

	fputc('{', f);
#define X(name)                                                                \
	fprintf(f, "%s\"" #name "\":%llu", sep, (unsigned long long)m->name); \
	sep = ",";
	VOLT__METRIC_FIELDS(X)
#undef X
	fputc('}', f);
}

static const char *pin_name(enum volt_pin pin)
{
	static const char *const names[] = { "none", "compact", "scatter", "numa" };

	return (unsigned)pin < sizeof(names) / sizeof(names[0]) ? names[pin] : "unknown";
}

/* "topology" (hwloc synthetic string), "synthetic", "pin", "cpus" (volt_rt_worker_cpu). */
static void write_layout(FILE *f, const struct volt_rt *rt)
{
	fputs("\"topology\":", f);
	volt__json_string(f, rt->topo.desc);
	fprintf(f, ",\"synthetic\":%s,\"pin\":", rt->topo.synthetic ? "true" : "false");
	volt__json_string(f, pin_name(rt->topo.pin));
	fputs(",\"cpus\":[", f);
	for (unsigned w = 0; w < rt->nworkers; w++)
		fprintf(f, "%s%d", w ? "," : "", volt_rt_worker_cpu(rt, w));
	fputs("],", f);
}

int volt_metrics_write_json(const struct volt_rt *rt, FILE *f)
{
	struct volt_worker_metrics m;

	if (!rt || !f)
		return -EINVAL;
	fprintf(f, "{\"scheduler\":\"%s\",\"seed\":%llu,", rt->sched_ops->name,
		(unsigned long long)rt->seed);
	write_layout(f, rt);
	fputs("\"workers\":[", f);
	for (unsigned w = 0; w < rt->nworkers; w++) {
		volt_metrics_worker(rt, w, &m);
		if (w)
			fputc(',', f);
		write_object(f, &m);
	}
	fputs("],\"total\":", f);
	volt_metrics_total(rt, &m);
	write_object(f, &m);
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
