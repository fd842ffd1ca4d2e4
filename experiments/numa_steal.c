/* SPDX-License-Identifier: MIT */
/*
 * experiments/numa_steal.c: E12 (steal cost by topology distance) and E13
 * (a stencil under a flat and a topology-aware policy), on the topology the
 * runtime is laid on: usually a synthetic one (VOLT_TOPOLOGY, e.g.
 * "pack:2 numa:2 core:2 pu:1", with VOLT_PIN=compact). experiments/README.md
 * explains why, on the 2-CPU development machine, no locality effect can
 * show: every result line set includes `synthetic` (1 = the distances are a
 * simulation; logical PUs fold onto the real CPUs).
 *
 * (a) steal cost by distance class (E12). Worker 0 is the victim. For each
 * distance class present, one thief worker at that distance from worker 0
 * is chosen, preferring one whose real CPU differs from worker 0's (so every
 * class is measured across the same two real cores, and the classes can
 * differ only by what the policy does, e.g. the victims a `numa` thief
 * scans first). Two plain threads, pinned where the runtime would pin those
 * workers, drive the policy's queues directly (struct volt__sched_ops, bare
 * task headers, no runtime): per round the victim pushes STEAL_FILL tasks,
 * the thief makes one steal() call (timed), empties what it got, and the
 * victim pops the rest. Then a cache line is bounced between the two threads
 * (ccbench-style, PINGPONG_TRIPS round trips).
 *
 * (b) the stencil (E13): --sweeps sweeps of a 1-D heat update over an array
 * of --chunks chunks of --chunk-size doubles, one task per chunk per sweep,
 * in dataflow order: the task for chunk c in sweep k+1 depends on chunks
 * c-1, c and c+1 of sweep k, and is spawned, from its worker, by the last of
 * those three to finish (usually the same worker that ran chunk c before).
 * Each task notes the worker that spawned it; when it runs on another worker
 * it "moved" (stolen, or through the global queue) across that distance.
 *
 *	numa_steal [--reps N] [--warmup N] [--part all|steal|stencil]
 *	           [--chunks C] [--chunk-size S] [--sweeps I] [--rounds R]
 *	VOLT_TOPOLOGY="pack:2 numa:2 core:2 pu:1" VOLT_PIN=compact VOLT_SCHED=numa \
 *	    build/experiments/numa_steal
 *
 * Per timed repetition (harness protocol):
 *	time_per_iter        us     (b) one whole stencil run (all sweeps)
 *	busy_us              us     (b) the tasks' summed compute time (work inflation
 *	                            = busy_us / the busy_us of a 1-worker run)
 *	steals, tasks_stolen count  (b) the runtime's counters over the run
 *	moves_dist<k>        count  (b) tasks that ran on a worker at distance class k
 *	                            from the one that spawned them (1 cache, 2 node,
 *	                            3 package, 4 remote; docs/topology.md)
 *	steal_ns_dist<k>     ns     (a) mean time of one successful steal() call
 *	pingpong_ns_dist<k>  ns     (a) mean cache-line round trip
 *	synthetic            ratio  1 if the topology is synthetic, else 0
 * (workers default to the topology's PUs when VOLT_WORKERS is not set)
 */
#define _GNU_SOURCE

#include <sched.h>

#include "core/task.h"
#include "core/topology.h"
#include "schedulers/sched.h"

#include "proto.h"

#define CHUNKS 32          /* --chunks */
#define CHUNK_SIZE 8192    /* doubles a chunk (--chunk-size): 64 KiB */
#define SWEEPS 50          /* --sweeps */
#define STEAL_ROUNDS 2000  /* steal rounds per class per repetition (--rounds) */
#define STEAL_FILL 128     /* tasks the victim pushes per round (half a ring) */
#define PINGPONG_TRIPS 5000
#define NCLASSES (VOLT__DIST_REMOTE + 1)
#define DEFAULT_REPS 5
#define DEFAULT_WARMUP 1

struct opts {
	unsigned long reps, warmup, chunks, chunk_size, sweeps, rounds;
	bool steal, stencil;
};

/* ------------------------------------------------------ (a) steal cost */

struct pair {
	const struct volt__sched_ops *ops;
	void *state;
	unsigned thief;      /* the thief's worker index; the victim is 0 */
	int cpu[2];          /* real CPUs of victim and thief, -1 = not pinned */
	unsigned long rounds;
	struct volt__task *tasks;
	_Alignas(64) atomic_ulong phase; /* round r: 2r+1 the thief's turn, 2r+2 back */
	_Alignas(64) atomic_ulong line; /* the ping-pong cache line */
	/* results, written by the thief */
	double steal_ns, pingpong_ns;
	unsigned long failed;
};

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort */
}

/* Spins (then yields, in case both threads share a CPU) until *a == want. */
static void wait_for(atomic_ulong *a, unsigned long want)
{
	for (unsigned i = 0; atomic_load_explicit(a, memory_order_acquire) != want; i++)
		if (i > 100000)
			sched_yield();
}

static void empty_queue(struct pair *p, unsigned w)
{
	bool lifo;

	while (p->ops->pop(p->state, w, false, &lifo))
		;
}

static void *victim_main(void *arg)
{
	struct pair *p = arg;

	pin_self(p->cpu[0]);
	for (unsigned long r = 0; r < p->rounds; r++) {
		for (unsigned i = 0; i < STEAL_FILL; i++)
			p->ops->push(p->state, 0, &p->tasks[i], VOLT__PUSH_SPAWN);
		atomic_store_explicit(&p->phase, 2 * r + 1, memory_order_release);
		wait_for(&p->phase, 2 * r + 2);
		empty_queue(p, 0);
	}
	/* the ping-pong: the victim answers odd values with the next even one */
	for (unsigned long i = 0; i < PINGPONG_TRIPS; i++) {
		wait_for(&p->line, 2 * i + 1);
		atomic_store_explicit(&p->line, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

static void *thief_main(void *arg)
{
	struct pair *p = arg;
	uint64_t total = 0, won = 0;

	pin_self(p->cpu[1]);
	for (unsigned long r = 0; r < p->rounds; r++) {
		wait_for(&p->phase, 2 * r + 1);
		uint64_t t0 = proto_now_ns();
		struct volt__task *t = p->ops->steal(p->state, p->thief, 0, 1);
		uint64_t t1 = proto_now_ns();

		if (t) {
			total += t1 - t0;
			won++;
			empty_queue(p, p->thief);
		} else {
			p->failed++;
		}
		atomic_store_explicit(&p->phase, 2 * r + 2, memory_order_release);
	}
	uint64_t t0 = proto_now_ns();

	for (unsigned long i = 0; i < PINGPONG_TRIPS; i++) {
		atomic_store_explicit(&p->line, 2 * i + 1, memory_order_release);
		wait_for(&p->line, 2 * i + 2);
	}
	p->pingpong_ns = (double)(proto_now_ns() - t0) / PINGPONG_TRIPS;
	p->steal_ns = won ? (double)total / (double)won : 0;
	return NULL;
}

/* The thief chosen for each class (-1 if none), worker 0 being the victim. */
static void choose_thieves(const struct volt__topo *topo, int thief[NCLASSES])
{
	for (unsigned k = 0; k < NCLASSES; k++)
		thief[k] = -1;
	for (unsigned w = 1; w < topo->nworkers; w++) {
		unsigned k = topo->dist[0][w];
		bool other_cpu = topo->cpu[w] != topo->cpu[0];

		if (thief[k] < 0 || (other_cpu && topo->cpu[thief[k]] == topo->cpu[0]))
			thief[k] = (int)w;
	}
}

/*
 * One class: 0, or -1 if it could not run. The victim is a new thread; the
 * calling thread is the thief (its affinity is restored afterwards).
 */
static int measure_class(const struct opts *o, const struct volt__sched_ops *ops,
			 const struct volt_config *cfg, struct volt__topo *topo, unsigned thief,
			 struct pair *p)
{
	struct volt__metrics *metrics = calloc(topo->nworkers, sizeof *metrics);
	struct volt_config qcfg = *cfg;
	cpu_set_t saved;
	pthread_t v;
	int ret = -1;

	qcfg.lifo = false; /* spawns go to the ring itself, all stealable */
	struct volt__sched_env env = { topo->nworkers, 1, &qcfg, metrics, topo };

	*p = (struct pair){
		.ops = ops, .thief = thief, .cpu = { topo->cpu[0], topo->cpu[thief] },
		.rounds = o->rounds, .tasks = calloc(STEAL_FILL, sizeof(struct volt__task)),
	};
	if (!metrics || !p->tasks || ops->init(&p->state, &env)) {
		p->state = NULL;
		fprintf(stderr, "numa_steal: out of memory\n");
		goto out;
	}
	if (pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) ||
	    pthread_create(&v, NULL, victim_main, p)) {
		fprintf(stderr, "numa_steal: cannot start the victim thread\n");
		goto out;
	}
	thief_main(p);
	pthread_join(v, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
	ret = 0;
out:
	if (p->state)
		ops->fini(p->state);
	free(p->tasks);
	free(metrics);
	return ret;
}

/* -------------------------------------------------------- (b) stencil */

struct stencil {
	double *buf[2];
	unsigned long chunks, size, sweeps;
	atomic_uint *deps[2]; /* per sweep parity, per chunk: inputs not yet done */
	const struct volt__topo *topo;
	/* per worker, written by that worker only */
	_Atomic uint64_t busy_ns[VOLT_MAX_WORKERS];
	_Atomic uint64_t moves[VOLT_MAX_WORKERS][NCLASSES];
};

static struct stencil st;
static struct proto_latch latch = PROTO_LATCH_INIT;
static atomic_int task_err;

struct chunk_task {
	struct volt_future base;
	uint32_t c, k; /* chunk, sweep */
	int spawner;   /* worker that spawned it, -1 = outside */
};

static enum volt_poll chunk_poll(struct volt_future *f, struct volt_cx *cx);
static const struct volt_future_ops chunk_ops = { .poll = chunk_poll };

static unsigned inputs(unsigned long c)
{
	return 1 + (c > 0) + (c + 1 < st.chunks);
}

static void add(_Atomic uint64_t *a, uint64_t n)
{
	/* relaxed: one writer (this worker); read after the latch */
	atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static void spawn_chunk(struct volt_rt *rt, uint32_t c, uint32_t k, int spawner)
{
	struct chunk_task t = { .base = VOLT_FUTURE_INIT(&chunk_ops), .c = c, .k = k,
				.spawner = spawner };
	int err = volt_spawn(rt, &t.base, sizeof t, NULL);

	if (err) {
		proto_note_err(&task_err, err);
		/* this chunk's remaining sweeps will never run */
		proto_latch_count_down(&latch, st.sweeps - k);
	}
}

static enum volt_poll chunk_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct chunk_task *t = (struct chunk_task *)f;
	int w = volt_worker_index();
	const double *src = st.buf[t->k % 2];
	double *dst = st.buf[(t->k + 1) % 2];
	size_t n = st.chunks * st.size, lo = t->c * st.size, hi = lo + st.size;
	uint64_t t0 = proto_now_ns();

	if (w >= 0 && t->spawner >= 0 && t->spawner != w)
		add(&st.moves[w][st.topo->dist[t->spawner][w]], 1);
	for (size_t i = lo; i < hi; i++)
		dst[i] = i == 0 || i == n - 1
				 ? src[i]
				 : src[i] + 0.25 * (src[i - 1] - 2 * src[i] + src[i + 1]);
	if (w >= 0)
		add(&st.busy_ns[w], proto_now_ns() - t0);
	if (t->k + 1 < st.sweeps) {
		atomic_uint *deps = st.deps[(t->k + 1) % 2];

		for (long d = -1; d <= 1; d++) {
			long c = (long)t->c + d;

			if (c < 0 || c >= (long)st.chunks)
				continue;
			/* acq_rel: the last input sees the others' writes of dst */
			if (atomic_fetch_sub(&deps[c], 1) == 1) {
				/* reset for sweep k+3 before any of its inputs can run */
				atomic_store_explicit(&deps[c], inputs((unsigned long)c),
						      memory_order_relaxed);
				spawn_chunk(cx->rt, (uint32_t)c, t->k + 1, w);
			}
		}
	}
	proto_latch_count_down(&latch, 1);
	return VOLT_READY;
}

/* The root spawns sweep 0 from its worker, as one burst. */
static enum volt_poll root_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)f;
	for (uint32_t c = 0; c < st.chunks; c++)
		spawn_chunk(cx->rt, c, 0, volt_worker_index());
	return VOLT_READY;
}

static const struct volt_future_ops root_ops = { .poll = root_poll };

static int stencil_run(struct volt_rt *rt)
{
	struct volt_future root = VOLT_FUTURE_INIT(&root_ops);
	size_t n = st.chunks * st.size;

	for (size_t i = 0; i < n; i++)
		st.buf[0][i] = (double)(i % 1024) / 1024;
	for (unsigned p = 0; p < 2; p++)
		for (unsigned long c = 0; c < st.chunks; c++)
			atomic_store(&st.deps[p][c], inputs(c));
	return proto_latch_round(rt, &latch, st.chunks * st.sweeps, &root, sizeof root, &task_err);
}

/* ----------------------------------------------------------- driver */

/* The counters reported per stencil repetition, in this order. */
static const struct proto_counter counters[] = {
	PROTO_COUNTER_AS("steals", steals_won), PROTO_COUNTER(tasks_stolen),
};

static void metric_k(unsigned long rep, const char *prefix, unsigned k, double v, const char *unit)
{
	char name[48];

	snprintf(name, sizeof name, "%s%u", prefix, k);
	proto_result(rep, name, v, unit);
}

static int run(const struct opts *o, struct volt_config *cfg)
{
	struct volt__topo topo;
	struct volt_rt *rt;
	char desc[512];
	int thief[NCLASSES], err, synthetic, ret = 1;

	if (!cfg->workers) { /* one worker per PU of the (synthetic) topology */
		err = volt__topo_init(&topo, cfg, 1);
		if (err)
			goto bad_topo;
		cfg->workers = topo.npus < VOLT_MAX_WORKERS ? topo.npus : VOLT_MAX_WORKERS;
	}
	err = volt_rt_new(cfg, &rt);
	if (err) {
		fprintf(stderr, "numa_steal: runtime: %s\n", strerror(-err));
		return 1;
	}
	/* the same layout as the runtime's: a pure function of the config */
	err = volt__topo_init(&topo, cfg, volt_rt_workers(rt));
	if (err) {
		volt_rt_free(rt);
		goto bad_topo;
	}
	synthetic = volt_rt_topology(rt, desc, sizeof desc);
	const struct volt__sched_ops *ops = volt__sched_find(volt_rt_scheduler(rt));
	bool steal = o->steal && ops->steal && topo.nworkers > 1;

	printf("# numa_steal: policy=%s workers=%u topology=\"%s\" synthetic=%d pin=%d\n",
	       volt_rt_scheduler(rt), volt_rt_workers(rt), desc, synthetic, (int)cfg->pin);
	if (o->steal && !steal)
		printf("# part (a) skipped: policy %s has no steal or one worker\n", ops->name);
	choose_thieves(&topo, thief);
	for (unsigned k = 1; steal && k < NCLASSES; k++)
		if (thief[k] >= 0)
			printf("# class %u: victim worker 0 (pu %u cpu %d), thief worker %d (pu %u cpu %d)\n",
			       k, topo.pu[0], topo.cpu[0], thief[k], topo.pu[thief[k]],
			       topo.cpu[thief[k]]);

	st.chunks = o->chunks;
	st.size = o->chunk_size;
	st.sweeps = o->sweeps;
	st.topo = &topo;
	st.buf[0] = calloc(o->chunks * o->chunk_size, sizeof(double));
	st.buf[1] = calloc(o->chunks * o->chunk_size, sizeof(double));
	st.deps[0] = calloc(o->chunks, sizeof(atomic_uint));
	st.deps[1] = calloc(o->chunks, sizeof(atomic_uint));
	if (!st.buf[0] || !st.buf[1] || !st.deps[0] || !st.deps[1]) {
		fprintf(stderr, "numa_steal: out of memory\n");
		goto out;
	}
	for (unsigned long r = 0; r < o->warmup + o->reps; r++) {
		unsigned long rep = r - o->warmup + 1;
		bool timed = r >= o->warmup;

		if (o->stencil) {
			struct volt_worker_metrics m0, m1;
			uint64_t moves[NCLASSES] = { 0 }, busy = 0;

			memset((void *)st.busy_ns, 0, sizeof st.busy_ns);
			memset((void *)st.moves, 0, sizeof st.moves);
			volt_metrics_total(rt, &m0);
			uint64_t t0 = proto_now_ns();

			err = stencil_run(rt);
			uint64_t t1 = proto_now_ns();

			volt_metrics_total(rt, &m1);
			if (err) {
				fprintf(stderr, "numa_steal: stencil: %s\n", strerror(-err));
				goto out;
			}
			for (unsigned w = 0; w < VOLT_MAX_WORKERS; w++) {
				busy += atomic_load(&st.busy_ns[w]);
				for (unsigned k = 0; k < NCLASSES; k++)
					moves[k] += atomic_load(&st.moves[w][k]);
			}
			if (timed) {
				proto_result(rep, "time_per_iter", (double)(t1 - t0) / 1e3, "us");
				proto_result(rep, "busy_us", (double)busy / 1e3, "us");
				proto_counters_print(rep, counters, PROTO_LEN(counters), &m0, &m1);
				for (unsigned k = 1; k < NCLASSES; k++)
					metric_k(rep, "moves_dist", k, (double)moves[k], "count");
			}
		}
		for (unsigned k = 1; steal && k < NCLASSES; k++) {
			struct pair p;

			if (thief[k] < 0)
				continue;
			if (measure_class(o, ops, cfg, &topo, (unsigned)thief[k], &p))
				goto out;
			if (!timed)
				continue;
			metric_k(rep, "steal_ns_dist", k, p.steal_ns, "ns");
			metric_k(rep, "pingpong_ns_dist", k, p.pingpong_ns, "ns");
			if (p.failed)
				printf("# rep %lu class %u: %lu of %lu steals found nothing\n", rep, k,
				       p.failed, o->rounds);
		}
		if (timed)
			proto_result(rep, "synthetic", synthetic == 1, "ratio");
		fflush(stdout);
	}
	ret = 0;
out:
	volt_rt_free(rt);
	free(st.buf[0]);
	free(st.buf[1]);
	free(st.deps[0]);
	free(st.deps[1]);
	return ret;
bad_topo:
	fprintf(stderr, "numa_steal: topology: %s\n", strerror(-err));
	return 1;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.reps = DEFAULT_REPS, .warmup = DEFAULT_WARMUP, .chunks = CHUNKS,
		.chunk_size = CHUNK_SIZE, .sweeps = SWEEPS, .rounds = STEAL_ROUNDS,
		.steal = true, .stencil = true,
	};
	const struct proto_opt opts[] = {
		{ "--reps", &o.reps, 1, ULONG_MAX },
		{ "--warmup", &o.warmup, 0, ULONG_MAX },
		{ "--chunks", &o.chunks, 1, 65536 },
		{ "--chunk-size", &o.chunk_size, 1, 1ul << 24 },
		{ "--sweeps", &o.sweeps, 1, 1000000 },
		{ "--rounds", &o.rounds, 1, ULONG_MAX },
		{ NULL, NULL, 0, 0 },
	};
	struct volt_config cfg;
	bool bad = false;

	for (int i = 1; i < argc && !bad; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--part") && v) {
			o.steal = !strcmp(v, "all") || !strcmp(v, "steal");
			o.stencil = !strcmp(v, "all") || !strcmp(v, "stencil");
			bad |= !o.steal && !o.stencil;
			i++;
		} else {
			bad |= !proto_opt(argc, argv, &i, opts, &bad);
		}
	}
	if (bad) {
		fprintf(stderr,
			"usage: %s [--reps N] [--warmup N] [--part all|steal|stencil]\n"
			"          [--chunks C] [--chunk-size S] [--sweeps I] [--rounds R]\n"
			"  defaults: --reps %d --warmup %d --part all --chunks %d --chunk-size %d "
			"--sweeps %d --rounds %d\n"
			"  the topology and policy come from VOLT_* (VOLT_TOPOLOGY, VOLT_PIN, "
			"VOLT_SCHED, VOLT_WORKERS)\n",
			argv[0], DEFAULT_REPS, DEFAULT_WARMUP, CHUNKS, CHUNK_SIZE, SWEEPS,
			STEAL_ROUNDS);
		return 2;
	}
	proto_malloc_setup();
	if (proto_config(&cfg, "numa_steal", 0, 0))
		return 2;
	return run(&o, &cfg);
}
