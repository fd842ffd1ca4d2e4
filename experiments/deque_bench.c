/* SPDX-License-Identifier: MIT */
/*
 * experiments/deque_bench.c: E15, the deque micro-benchmark and the
 * memory-order ablation (experiments/README.md).
 *
 * No runtime: the program drives one policy's queues directly through its
 * struct volt__sched_ops (as tests/test_sched_queue.c does), with bare task
 * headers, so only the queue operations are measured. It links the static
 * library, whose hidden volt__ symbols a static link can see.
 *
 * The owner (the main thread, worker 0) works like a divide-and-conquer
 * worker on a binary tree of TREE_DEPTH levels: it pops a node; an inner node
 * pushes its two children (push 2, pop 1), a leaf just finishes; when its
 * queue runs dry it starts a new tree. --thieves T threads (workers 1..T)
 * steal continuously: each steal attempt is one call of the policy's
 * steal() (one pass over the victims, then the global queue), or of pop()
 * for a policy without steal() (`global`: every thief pops the one locked
 * queue). A thief gives what it took back at once (the ring policies move
 * half the victim's ring into the thief's own, which the thief then pops
 * empty). Finished nodes go back to the owner through a lock-free stack.
 * The owner and the thieves are pinned round-robin over the CPUs the
 * process may use, the owner on the first (the header line lists them).
 *
 *	deque_bench [--reps N] [--warmup N] [--thieves T] [--ops N]
 *	VOLT_SCHED=chaselev build/experiments/deque_bench --thieves 1
 *	VOLT_SCHED=chaselev build/experiments/deque_bench_fences --thieves 1
 *
 * build/experiments/deque_bench_fences is this program linked against a
 * library built with -DVOLT_CHASELEV_FENCES (the paper's relaxed operations
 * and seq_cst fences in the Chase-Lev deque instead of seq_cst operations;
 * see schedulers/chaselev.c). Only `chaselev` differs between the two.
 *
 * Per timed repetition (--ops owner operations):
 *	ns_per_op        ns     wall time / owner operations (pushes + pops)
 *	steals_per_s     count  steal attempts by all thieves per second
 *	steals_won_per_s count  attempts that returned a task, per second
 *	steal_success    ratio  won / attempted
 *	tasks_stolen_per_s count tasks moved by those steals, per second
 * (the steal metrics only with --thieves > 0)
 */
#define _GNU_SOURCE

#include <sched.h>

#include "core/task.h"
#include "core/topology.h"
#include "schedulers/sched.h"

#include "proto.h"

#ifdef VOLT_CHASELEV_FENCES
#define VARIANT "fences" /* the library's chaselev.c: relaxed ops + seq_cst fences */
#else
#define VARIANT "seq_cst" /* the library's chaselev.c: seq_cst ops (the default) */
#endif

#define TREE_DEPTH 10          /* 2047 nodes a tree */
#define POOL_TASKS (1u << 16)  /* task headers; a `global` tree holds up to 2^10 */
#define GLOBAL_EVERY 61        /* the owner looks at the global queue first every N pops */
#define MAX_THIEVES 3
#define DEFAULT_OPS 4000000
#define DEFAULT_REPS 10
#define DEFAULT_WARMUP 2

struct opts {
	unsigned long reps, warmup, thieves, ops;
};

struct bench {
	const struct volt__sched_ops *ops;
	void *state;
	struct volt__task *pool;
	uint8_t *depth;          /* per task: its depth in the tree (owner-written) */
	struct volt__task *free; /* the owner's free list, linked through next */
	_Atomic(struct volt__task *) returned; /* a stack the thieves push finished tasks on */
	atomic_bool active, quit;
	uint64_t owner_tick;
};

struct thief {
	struct bench *b;
	unsigned w;
	pthread_t thread;
	/* written by this thief only; read by the owner between repetitions */
	_Alignas(64) _Atomic uint64_t tried, won, taken;
};

/* ------------------------------------------------------------- pinning */

/*
 * Thread i (0 = the owner, 1.. the thieves) is pinned to the (i mod n)-th
 * CPU of the process's affinity mask: the owner and the first thief on
 * different cores. Returns the CPU, or -1 if it could not pin.
 */
static int pin_thread(pthread_t thread, unsigned i)
{
	static cpu_set_t allowed; /* read once, before the owner pins itself */
	static bool have_allowed;
	cpu_set_t one;
	int n = 0, cpu = -1;

	if (!have_allowed && sched_getaffinity(0, sizeof allowed, &allowed))
		return -1;
	have_allowed = true;
	for (int c = 0; c < CPU_SETSIZE; c++)
		n += CPU_ISSET(c, &allowed) != 0;
	if (!n)
		return -1;
	for (int c = 0, k = 0; c < CPU_SETSIZE && cpu < 0; c++)
		if (CPU_ISSET(c, &allowed) && (unsigned)k++ == i % (unsigned)n)
			cpu = c;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return pthread_setaffinity_np(thread, sizeof one, &one) ? -1 : cpu;
}

/* ------------------------------------------------------------ task pool */

/* Thief side: give a finished task back to the owner (Treiber push). */
static void give_back(struct bench *b, struct volt__task *t)
{
	struct volt__task *head = atomic_load_explicit(&b->returned, memory_order_relaxed);

	do
		t->next = head;
	while (!atomic_compare_exchange_weak_explicit(&b->returned, &head, t, memory_order_release,
						      memory_order_relaxed));
}

/* Owner side: a free task, or NULL if all are out (then the thieves hold them). */
static struct volt__task *take_free(struct bench *b)
{
	struct volt__task *t = b->free;

	if (!t) /* acquire: the thieves' last writes to the tasks happened before */
		t = atomic_exchange_explicit(&b->returned, NULL, memory_order_acquire);
	if (t)
		b->free = t->next;
	return t;
}

static void put_free(struct bench *b, struct volt__task *t)
{
	t->next = b->free;
	b->free = t;
}

/* ---------------------------------------------------------------- thief */

/* A thief's own queue, emptied back into the pool; tasks it held. */
static uint64_t drain(struct bench *b, unsigned w)
{
	uint64_t n = 0;
	bool lifo;

	for (struct volt__task *t; (t = b->ops->pop(b->state, w, false, &lifo)); n++)
		give_back(b, t);
	return n;
}

static void *thief_main(void *arg)
{
	struct thief *th = arg;
	struct bench *b = th->b;
	bool lifo;

	while (!atomic_load_explicit(&b->quit, memory_order_relaxed)) {
		if (!atomic_load_explicit(&b->active, memory_order_relaxed)) {
			sched_yield();
			continue;
		}
		struct volt__task *t = b->ops->steal ? b->ops->steal(b->state, th->w, 0, 1)
						     : b->ops->pop(b->state, th->w, false, &lifo);
		uint64_t taken = 0;

		if (t) {
			give_back(b, t);
			/* without steal() the thief's "own" queue is the shared one */
			taken = 1 + (b->ops->steal ? drain(b, th->w) : 0);
		}
		/* relaxed: counters, read between repetitions */
		atomic_store_explicit(&th->tried, atomic_load_explicit(&th->tried, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		if (t) {
			atomic_store_explicit(&th->won,
					      atomic_load_explicit(&th->won, memory_order_relaxed) + 1,
					      memory_order_relaxed);
			atomic_store_explicit(&th->taken,
					      atomic_load_explicit(&th->taken, memory_order_relaxed) + taken,
					      memory_order_relaxed);
		}
	}
	if (b->ops->steal)
		drain(b, th->w);
	return NULL;
}

/* ---------------------------------------------------------------- owner */

static void owner_push(struct bench *b, struct volt__task *t, uint8_t depth)
{
	b->depth[t - b->pool] = depth;
	b->ops->push(b->state, 0, t, VOLT__PUSH_SPAWN);
}

/* `n` owner operations; returns the operations done (>= n). */
static uint64_t owner_run(struct bench *b, uint64_t n)
{
	uint64_t done = 0;
	bool lifo;

	while (done < n) {
		struct volt__task *t = b->ops->pop(b->state, 0, b->owner_tick++ % GLOBAL_EVERY == 0,
						   &lifo);

		done++;
		if (!t) { /* dry: a new tree */
			t = take_free(b);
			if (t) {
				owner_push(b, t, 0);
				done++;
			}
			continue;
		}
		uint8_t d = b->depth[t - b->pool];

		put_free(b, t);
		if (d >= TREE_DEPTH - 1)
			continue;
		for (int i = 0; i < 2; i++) {
			struct volt__task *c = take_free(b);

			if (!c)
				break;
			owner_push(b, c, (uint8_t)(d + 1));
			done++;
		}
	}
	return done;
}

/* Owner: empties its queue back into the pool. */
static void owner_drain(struct bench *b)
{
	bool lifo;

	for (struct volt__task *t; (t = b->ops->pop(b->state, 0, false, &lifo));)
		put_free(b, t);
}

/* Every task is back in the pool (the thieves have stopped). */
static size_t count_free(struct bench *b)
{
	size_t n = 0;

	while (take_free(b)) {
		n++;
	}
	return n;
}

static int run(const struct opts *o, const char *policy)
{
	struct bench b = { .ops = volt__sched_find(policy) };
	struct thief th[MAX_THIEVES];
	struct volt_config cfg;
	struct volt__topo topo;
	struct volt__metrics *metrics = NULL;
	unsigned nworkers = 1 + (unsigned)o->thieves;
	unsigned started = 0;
	int ret = 1;

	if (proto_config(&cfg, "deque_bench", 0, 0))
		return 2;
	if (!b.ops) {
		fprintf(stderr, "deque_bench: no policy named %s\n", policy);
		return 2;
	}
	if (b.ops->workers && b.ops->workers(nworkers) != nworkers) {
		fprintf(stderr, "deque_bench: policy %s runs %u worker(s), not %u\n", policy,
			b.ops->workers(nworkers), nworkers);
		return 2;
	}
	if (volt__topo_init(&topo, &cfg, nworkers)) {
		fprintf(stderr, "deque_bench: topology\n");
		return 1;
	}
	b.pool = calloc(POOL_TASKS, sizeof *b.pool);
	b.depth = calloc(POOL_TASKS, 1);
	metrics = calloc(nworkers, sizeof *metrics);
	if (!b.pool || !b.depth || !metrics)
		goto out;

	struct volt__sched_env env = { nworkers, cfg.seed ? cfg.seed : 1, &cfg, metrics, &topo };

	if (b.ops->init(&b.state, &env)) {
		b.state = NULL;
		goto out;
	}
	for (size_t i = POOL_TASKS; i-- > 0;)
		put_free(&b, &b.pool[i]);
	printf("# deque_bench: policy=%s variant=%s thieves=%lu ops=%lu tree_depth=%d cpus=%d", policy,
	       VARIANT, o->thieves, o->ops, TREE_DEPTH, pin_thread(pthread_self(), 0));
	for (unsigned i = 0; i < o->thieves; i++) {
		th[i] = (struct thief){ .b = &b, .w = i + 1 };
		if (pthread_create(&th[i].thread, NULL, thief_main, &th[i]))
			goto stop;
		printf(",%d", pin_thread(th[i].thread, i + 1));
		started++;
	}
	printf(" (owner, thieves)\n");
	for (unsigned long r = 0; r < o->warmup + o->reps; r++) {
		uint64_t tried0 = 0, won0 = 0, taken0 = 0, tried1 = 0, won1 = 0, taken1 = 0;

		for (unsigned i = 0; i < started; i++) {
			tried0 += atomic_load(&th[i].tried);
			won0 += atomic_load(&th[i].won);
			taken0 += atomic_load(&th[i].taken);
		}
		atomic_store(&b.active, true);
		uint64_t t0 = proto_now_ns();
		uint64_t done = owner_run(&b, o->ops);
		double ns = (double)(proto_now_ns() - t0);

		atomic_store(&b.active, false);
		for (unsigned i = 0; i < started; i++) {
			tried1 += atomic_load(&th[i].tried);
			won1 += atomic_load(&th[i].won);
			taken1 += atomic_load(&th[i].taken);
		}
		owner_drain(&b);
		if (r < o->warmup)
			continue;

		unsigned long rep = r - o->warmup + 1;
		double s = ns / 1e9;

		proto_result(rep, "ns_per_op", ns / (double)done, "ns");
		if (!o->thieves)
			continue;
		proto_result(rep, "steals_per_s", (double)(tried1 - tried0) / s, "count");
		proto_result(rep, "steals_won_per_s", (double)(won1 - won0) / s, "count");
		proto_result(rep, "steal_success",
			     tried1 > tried0 ? (double)(won1 - won0) / (double)(tried1 - tried0) : 0,
			     "ratio");
		proto_result(rep, "tasks_stolen_per_s", (double)(taken1 - taken0) / s, "count");
		fflush(stdout);
	}
	ret = 0;
stop:
	atomic_store(&b.quit, true);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i].thread, NULL);
	if (ret == 0) {
		owner_drain(&b);
		size_t n = count_free(&b);

		if (n != POOL_TASKS || b.ops->has_work(b.state)) {
			fprintf(stderr, "deque_bench: %zu of %u tasks came back\n", n, POOL_TASKS);
			ret = 1;
		}
	} else {
		fprintf(stderr, "deque_bench: cannot start a thief thread\n");
	}
out:
	if (b.state)
		b.ops->fini(b.state);
	free(metrics);
	free(b.depth);
	free(b.pool);
	if (ret == 1 && !b.pool)
		fprintf(stderr, "deque_bench: out of memory\n");
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { .reps = DEFAULT_REPS, .warmup = DEFAULT_WARMUP, .ops = DEFAULT_OPS };
	const struct proto_opt opts[] = {
		{ "--reps", &o.reps, 1, ULONG_MAX },
		{ "--warmup", &o.warmup, 0, ULONG_MAX },
		{ "--thieves", &o.thieves, 0, MAX_THIEVES },
		{ "--ops", &o.ops, 1, ULONG_MAX },
		{ NULL, NULL, 0, 0 },
	};
	const char *policy = getenv("VOLT_SCHED");

	if (!proto_opts_parse(argc, argv, opts)) {
		fprintf(stderr,
			"usage: %s [--reps N] [--warmup N] [--thieves 0..%d] [--ops N]\n"
			"  defaults: --reps %d --warmup %d --thieves 0 --ops %d\n"
			"  VOLT_SCHED=chaselev|ring|global|... chooses the queues (default %s);\n"
			"  this build's chaselev orders: %s\n",
			argv[0], MAX_THIEVES, DEFAULT_REPS, DEFAULT_WARMUP, DEFAULT_OPS,
			volt_sched_default(), VARIANT);
		return 2;
	}
	proto_malloc_setup();
	return run(&o, policy && *policy ? policy : volt_sched_default());
}
