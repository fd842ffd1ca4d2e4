/* SPDX-License-Identifier: MIT */
/*
 * tests/test_topology.c: the hwloc topology, the pinning policies, the
 * mapping of synthetic PUs onto real CPUs, and steal distances.
 *
 * The layout tests call volt__topo_init directly (no threads), so a layout
 * of any size can be checked exactly. The runtime tests check what a program
 * sees: the CPU each worker reports, volt_rt_topology, the environment and
 * the metrics JSON. Every expected real CPU is computed from this thread's
 * affinity, so the tests hold on any machine and under taskset.
 *
 * A pinned worker is checked by running tasks until every worker has run
 * one: each task notes sched_getcpu() for volt_worker_index(), then lingers
 * (yielding the CPU) while some worker has not reported, so that the others
 * get work. No timing is asserted; the runner's timeout is the deadline.
 *
 * volt_rt_worker_cpu also reports a failed pinning, which the worker thread
 * records when it starts, without synchronisation. So the runtime tests read
 * it only once every worker has reported through probe_workers (an atomic
 * counter), which orders each worker's record before the read.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "core/rt.h"
#include "helpers.h"

/* "pack:2 numa:2 core:2 pu:1": 2 packages x 2 NUMA nodes x 2 cores, 8 PUs, no caches. */
#define TREE_8 "pack:2 numa:2 core:2 pu:1"

/* ---- this thread's CPUs, as the runtime sees them */

struct cpus {
	int cpu[1024];
	unsigned n;
};

static void allowed(struct cpus *c)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CHECK_OK(sched_getaffinity(0, sizeof set, &set));
	c->n = 0;
	for (int i = 0; i < CPU_SETSIZE && c->n < 1024; i++)
		if (CPU_ISSET(i, &set))
			c->cpu[c->n++] = i;
	CHECK_GT(c->n, 0);
}

static bool is_allowed(const struct cpus *c, int cpu)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->cpu[i] == cpu)
			return true;
	return false;
}

/* Real tests must not pick up a synthetic or imported topology from hwloc's own variables. */
static void clear_hwloc_env(void)
{
	CHECK_OK(unsetenv("HWLOC_SYNTHETIC"));
	CHECK_OK(unsetenv("HWLOC_XMLFILE"));
	CHECK_OK(unsetenv("HWLOC_FSROOT"));
}

static struct volt_config plain_cfg(const char *topology, enum volt_pin pin)
{
	struct volt_config cfg;

	CHECK_OK(volt_config_init(&cfg));
	cfg.topology = topology;
	cfg.pin = pin;
	return cfg;
}

/* The distance matrix is symmetric, SELF exactly on the diagonal. */
static void check_dist_shape(const struct volt__topo *t)
{
	for (unsigned i = 0; i < t->nworkers; i++)
		for (unsigned j = 0; j < t->nworkers; j++) {
			CHECK_EQ(t->dist[i][j], t->dist[j][i]);
			CHECK_EQ(t->dist[i][j] == VOLT__DIST_SELF, i == j);
			CHECK_LE(t->dist[i][j], VOLT__DIST_REMOTE);
		}
}

/* ---- layouts, checked exactly on synthetic trees */

VOLT_TEST(topology_layout_compact)
{
	struct volt_config cfg = plain_cfg(TREE_8, VOLT_PIN_COMPACT);
	struct volt__topo t;
	struct cpus c;

	allowed(&c);
	CHECK_OK(volt__topo_init(&t, &cfg, 8));
	CHECK(t.synthetic);
	CHECK_EQ(t.pin, VOLT_PIN_COMPACT);
	CHECK_EQ(t.npus, 8);
	CHECK_EQ(t.nnodes, 4);
	CHECK_EQ(t.npackages, 2);
	CHECK_MSG(strstr(t.desc, "Package:2") != NULL, "desc \"%s\"", t.desc);
	for (unsigned w = 0; w < 8; w++) {
		CHECK_EQ(t.pu[w], w);
		CHECK_EQ(t.node[w], w / 2);
		CHECK_EQ(t.cpu[w], c.cpu[w % c.n]); /* logical PU mod the allowed CPUs */
	}
	check_dist_shape(&t);
	CHECK_EQ(t.dist[0][1], VOLT__DIST_NODE);    /* two cores of node 0, no cache between */
	CHECK_EQ(t.dist[0][2], VOLT__DIST_PACKAGE); /* nodes 0 and 1 of package 0 */
	CHECK_EQ(t.dist[3][1], VOLT__DIST_PACKAGE);
	CHECK_EQ(t.dist[0][4], VOLT__DIST_REMOTE);  /* package 0 vs package 1 */
	CHECK_EQ(t.dist[7][2], VOLT__DIST_REMOTE);
	CHECK_EQ(t.dist[6][7], VOLT__DIST_NODE);

	/* more workers than PUs: wrap around; two workers on one PU share its core */
	CHECK_OK(volt__topo_init(&t, &cfg, 10));
	CHECK_EQ(t.pu[8], 0);
	CHECK_EQ(t.pu[9], 1);
	CHECK_EQ(t.cpu[8], t.cpu[0]);
	CHECK_EQ(t.dist[0][8], VOLT__DIST_CACHE);
	CHECK_EQ(t.dist[1][8], VOLT__DIST_NODE);
	check_dist_shape(&t);
}

VOLT_TEST(topology_layout_caches)
{
	/* 2 packages x 2 L3 x 2 cores x 2 PUs; hwloc puts one NUMA node over both packages */
	struct volt_config cfg = plain_cfg("pack:2 l3:2 core:2 pu:2", VOLT_PIN_COMPACT);
	struct volt__topo t;

	CHECK_OK(volt__topo_init(&t, &cfg, 16));
	CHECK_EQ(t.npus, 16);
	CHECK_EQ(t.npackages, 2);
	CHECK_EQ(t.nnodes, 1);
	check_dist_shape(&t);
	CHECK_EQ(t.dist[0][1], VOLT__DIST_CACHE);  /* SMT siblings: same core */
	CHECK_EQ(t.dist[0][3], VOLT__DIST_CACHE);  /* another core under the same L3 */
	CHECK_EQ(t.dist[0][4], VOLT__DIST_NODE);   /* another L3, same node */
	CHECK_EQ(t.dist[15][8], VOLT__DIST_NODE);
	CHECK_EQ(t.dist[0][8], VOLT__DIST_REMOTE); /* another package, even on the same node */
}

VOLT_TEST(topology_layout_scatter)
{
	struct volt_config cfg = plain_cfg(TREE_8, VOLT_PIN_SCATTER);
	/* packages alternate, then the nodes inside a package, then the cores */
	static const unsigned want8[8] = { 0, 4, 2, 6, 1, 5, 3, 7 };
	static const unsigned want_smt[4] = { 0, 2, 1, 3 };
	struct volt__topo t;
	struct cpus c;

	allowed(&c);
	CHECK_OK(volt__topo_init(&t, &cfg, 8));
	for (unsigned w = 0; w < 8; w++) {
		CHECK_EQ(t.pu[w], want8[w]);
		CHECK_EQ(t.cpu[w], c.cpu[want8[w] % c.n]);
	}
	CHECK_EQ(t.dist[0][1], VOLT__DIST_REMOTE); /* workers 0 and 1 in different packages */
	CHECK_EQ(t.dist[0][2], VOLT__DIST_PACKAGE);
	CHECK_EQ(t.dist[0][4], VOLT__DIST_NODE);
	check_dist_shape(&t);

	/* SMT siblings come after every core has a worker */
	cfg.topology = "core:2 pu:2";
	CHECK_OK(volt__topo_init(&t, &cfg, 4));
	for (unsigned w = 0; w < 4; w++)
		CHECK_EQ(t.pu[w], want_smt[w]);
	CHECK_EQ(t.npackages, 1); /* no package object: the machine counts as one */
	CHECK_EQ(t.dist[0][1], VOLT__DIST_NODE);
	CHECK_EQ(t.dist[0][2], VOLT__DIST_CACHE);
}

VOLT_TEST(topology_layout_numa_and_none)
{
	struct volt_config cfg = plain_cfg(TREE_8, VOLT_PIN_NUMA);
	struct volt__topo t;

	/* node 0's PUs first, then node 1's...: on this tree the logical order */
	CHECK_OK(volt__topo_init(&t, &cfg, 8));
	for (unsigned w = 0; w < 8; w++) {
		CHECK_EQ(t.pu[w], w);
		CHECK_EQ(t.node[w], w / 2);
		CHECK_GE(t.cpu[w], 0);
	}
	/* not pinned: no CPU, but a logical PU as with COMPACT, so distances exist */
	cfg.pin = VOLT_PIN_NONE;
	CHECK_OK(volt__topo_init(&t, &cfg, 8));
	for (unsigned w = 0; w < 8; w++) {
		CHECK_EQ(t.pu[w], w);
		CHECK_EQ(t.cpu[w], -1);
	}
	CHECK_EQ(t.dist[0][4], VOLT__DIST_REMOTE);
	CHECK_OK(volt__topo_pin_self(&t, 0)); /* not pinned: nothing to do */
}

VOLT_TEST(topology_layout_real)
{
	struct volt_config cfg;
	struct volt__topo t;
	struct cpus c;

	clear_hwloc_env();
	allowed(&c);
	cfg = plain_cfg(NULL, VOLT_PIN_COMPACT);
	CHECK_OK(volt__topo_init(&t, &cfg, 2));
	CHECK(!t.synthetic);
	CHECK_GT(strlen(t.desc), 0);
	CHECK_GE(t.npus, 1);
	CHECK_LE(t.npus, c.n); /* cut down to the CPUs this thread may use */
	CHECK_GE(t.nnodes, 1);
	CHECK_GE(t.npackages, 1);
	for (unsigned w = 0; w < 2; w++)
		CHECK_MSG(is_allowed(&c, t.cpu[w]), "worker %u on CPU %d", w, t.cpu[w]);
	check_dist_shape(&t);
	if (t.npus >= 2)
		CHECK_NE(t.cpu[0], t.cpu[1]);
}

/*
 * A rejected string is -EINVAL. That nothing is left allocated is LSan's
 * part (make test-asan): hwloc allocates and frees a lot on the way, and
 * glibc's per-thread cache makes mallinfo2() too noisy to compare.
 */
VOLT_TEST(topology_invalid_string)
{
	static const char *const bad[] = { "pack:0 bogus", "pack:2 core:", "nonsense", "pu:0" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct volt_config cfg = plain_cfg(bad[i], VOLT_PIN_COMPACT);
		struct volt__topo t;

		CHECK_MSG(volt__topo_init(&t, &cfg, 2) == -EINVAL, "topology \"%s\"", bad[i]);
	}
}

/* ---- runtime tests: what a program sees */

struct probe_state {
	unsigned n;
	atomic_int cpu[VOLT_MAX_WORKERS]; /* -2 until worker w has reported */
	atomic_uint reported;
};

struct probe {
	struct volt_future base;
	struct probe_state *st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum volt_poll probe_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct probe_state *st = ((struct probe *)f)->st;
	int w = volt_worker_index(), none = -2;
	uint64_t until = now_ns() + 2000000;

	(void)cx;
	CHECK(w >= 0 && (unsigned)w < st->n);
	if (atomic_compare_exchange_strong(&st->cpu[w], &none, sched_getcpu()))
		atomic_fetch_add(&st->reported, 1);
	/* linger a little, so that tasks queued behind this one go to other workers */
	while (atomic_load(&st->reported) < st->n && now_ns() < until)
		sched_yield();
	return VOLT_READY;
}

static const struct volt_future_ops probe_ops = { probe_poll, NULL };

/* Runs tasks until every worker of rt has run one; st->cpu[w] is what worker w saw. */
static void probe_workers(struct volt_rt *rt, struct probe_state *st)
{
	enum { BATCH = 16 };

	st->n = volt_rt_workers(rt);
	for (unsigned w = 0; w < VOLT_MAX_WORKERS; w++)
		atomic_init(&st->cpu[w], -2);
	atomic_init(&st->reported, 0);
	while (atomic_load(&st->reported) < st->n) {
		struct volt_join *j[BATCH];

		for (int i = 0; i < BATCH; i++) {
			struct probe p = { VOLT_FUTURE_INIT(&probe_ops), st };

			j[i] = vt_spawn(rt, &p, sizeof p, false);
		}
		for (int i = 0; i < BATCH; i++)
			vt_join(j[i]);
	}
}

/* Every worker is pinned where volt_rt_worker_cpu says, and runs there. */
static void check_pinned(struct volt_rt *rt, const struct cpus *c)
{
	struct probe_state st;

	probe_workers(rt, &st);
	for (unsigned w = 0; w < st.n; w++) {
		int cpu = volt_rt_worker_cpu(rt, w);

		CHECK_MSG(cpu >= 0, "worker %u: volt_rt_worker_cpu %d", w, cpu);
		CHECK(is_allowed(c, cpu));
		CHECK_MSG(atomic_load(&st.cpu[w]) == cpu, "worker %u pinned to %d ran on %d", w,
			  cpu, atomic_load(&st.cpu[w]));
	}
}

VOLT_RT_TEST(topology_real_unpinned)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;
	struct probe_state st;
	char buf[512], tiny[1];

	clear_hwloc_env();
	vt_cfg(&cfg, policy, 2);
	cfg.topology = NULL;
	cfg.pin = VOLT_PIN_NONE;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	probe_workers(rt, &st);
	CHECK_EQ(volt_rt_topology(rt, buf, sizeof buf), 0); /* 0: this machine */
	CHECK_GT(strlen(buf), 0);
	CHECK_MSG(strstr(buf, "PU") != NULL, "desc \"%s\"", buf);
	CHECK_EQ(volt_rt_topology(rt, tiny, sizeof tiny), -ERANGE);
	CHECK_EQ(volt_rt_topology(rt, NULL, 8), -EINVAL);
	for (unsigned w = 0; w < volt_rt_workers(rt); w++)
		CHECK_EQ(volt_rt_worker_cpu(rt, w), -1);
	CHECK_EQ(volt_rt_worker_cpu(rt, volt_rt_workers(rt)), -EINVAL);
	volt_rt_free(rt);
}

VOLT_RT_TEST(topology_real_compact)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;
	struct cpus c;

	clear_hwloc_env();
	allowed(&c);
	vt_cfg(&cfg, policy, 2);
	cfg.topology = NULL;
	cfg.pin = VOLT_PIN_COMPACT;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	check_pinned(rt, &c);
	if (volt_rt_workers(rt) == 2 && c.n >= 2)
		CHECK_NE(volt_rt_worker_cpu(rt, 0), volt_rt_worker_cpu(rt, 1));
	volt_rt_free(rt);
}

VOLT_RT_TEST(topology_synthetic_runtime)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;
	struct cpus c;
	char buf[512];

	allowed(&c);
	vt_cfg(&cfg, policy, 8);
	cfg.topology = TREE_8;
	cfg.pin = VOLT_PIN_COMPACT;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_EQ(volt_rt_topology(rt, buf, sizeof buf), 1); /* 1: synthetic */
	CHECK_MSG(strstr(buf, "Package:2") != NULL, "desc \"%s\"", buf);
	check_pinned(rt, &c);
	for (unsigned w = 0; w < volt_rt_workers(rt); w++)
		CHECK_EQ(volt_rt_worker_cpu(rt, w), c.cpu[w % c.n]);

	const struct volt__topo *t = &rt->topo;

	check_dist_shape(t);
	if (volt_rt_workers(rt) == 8) {
		CHECK_EQ(t->dist[0][1], VOLT__DIST_NODE);
		CHECK_EQ(t->dist[0][3], VOLT__DIST_PACKAGE);
		CHECK_EQ(t->dist[1][5], VOLT__DIST_REMOTE);
	}
	volt_rt_free(rt);

	/* scatter: workers 0 and 1 in different packages */
	cfg.pin = VOLT_PIN_SCATTER;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	if (volt_rt_workers(rt) >= 2) {
		CHECK_EQ(rt->topo.pu[0] / 4, 0);
		CHECK_EQ(rt->topo.pu[1] / 4, 1);
		CHECK_EQ(rt->topo.dist[0][1], VOLT__DIST_REMOTE);
	}
	check_pinned(rt, &c);
	volt_rt_free(rt);
}

VOLT_RT_TEST(topology_invalid_runtime)
{
	struct volt_config cfg;
	struct volt_rt *sentinel = (struct volt_rt *)&cfg, *rt = sentinel;

	vt_cfg(&cfg, policy, 2);
	cfg.topology = "pack:0 bogus";
	CHECK_EQ(volt_rt_new(&cfg, &rt), -EINVAL);
	CHECK_PTR_EQ(rt, sentinel); /* and LSan sees nothing left (make test-asan) */
}

/* VOLT_TOPOLOGY and VOLT_PIN reach the runtime through volt_config_init. */
VOLT_TEST(topology_environment)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;
	struct cpus c;
	char buf[512];

	allowed(&c);
	CHECK_OK(unsetenv("VOLT_SCHED"));
	CHECK_OK(setenv("VOLT_TOPOLOGY", "pack:2 core:2 pu:1", 1));
	CHECK_OK(setenv("VOLT_PIN", "scatter", 1));
	CHECK_OK(setenv("VOLT_WORKERS", "4", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK_STR_EQ(cfg.topology, "pack:2 core:2 pu:1");
	CHECK_EQ(cfg.pin, VOLT_PIN_SCATTER);
	CHECK_OK(volt_rt_new(NULL, &rt)); /* NULL config: the environment's */
	CHECK_EQ(volt_rt_topology(rt, buf, sizeof buf), 1);
	CHECK_MSG(strstr(buf, "Package:2") != NULL, "desc \"%s\"", buf);
	CHECK_EQ(volt_rt_workers(rt), 4);
	check_pinned(rt, &c);
	/* scatter on 2 packages x 2 cores: PUs 0, 2, 1, 3 */
	CHECK_EQ(volt_rt_worker_cpu(rt, 0), c.cpu[0 % c.n]);
	CHECK_EQ(volt_rt_worker_cpu(rt, 1), c.cpu[2 % c.n]);
	CHECK_EQ(volt_rt_worker_cpu(rt, 2), c.cpu[1 % c.n]);
	CHECK_EQ(volt_rt_worker_cpu(rt, 3), c.cpu[3 % c.n]);
	volt_rt_free(rt);

	CHECK_OK(setenv("VOLT_PIN", "sideways", 1));
	CHECK_EQ(volt_config_init(&cfg), -EINVAL);
	CHECK_OK(setenv("VOLT_PIN", "numa", 1));
	CHECK_OK(setenv("VOLT_TOPOLOGY", "pack:0 bogus", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK_EQ(cfg.pin, VOLT_PIN_NUMA);
	CHECK_EQ(volt_rt_new(NULL, &rt), -EINVAL);
	CHECK_OK(unsetenv("VOLT_TOPOLOGY"));
	CHECK_OK(unsetenv("VOLT_PIN"));
	CHECK_OK(unsetenv("VOLT_WORKERS"));
}

#define CHECK_HAS(text, s) CHECK_MSG(strstr(text, s) != NULL, "no %s in %s", s, text)

VOLT_RT_TEST(topology_metrics_json)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;
	struct probe_state st;
	struct cpus c;
	char *text, want[64];

	allowed(&c);
	vt_cfg(&cfg, policy, 2);
	cfg.topology = TREE_8;
	cfg.pin = VOLT_PIN_COMPACT;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	probe_workers(rt, &st); /* also orders each worker's pinning before the dump */
	text = vt_metrics_json(rt);
	CHECK_HAS(text, "\"synthetic\":true");
	CHECK_HAS(text, "\"topology\":\"Package:2");
	CHECK_HAS(text, "\"pin\":\"compact\"");
	snprintf(want, sizeof want, "\"cpus\":[%d", c.cpu[0]);
	CHECK_HAS(text, want);
	CHECK_HAS(text, "\"workers\":[");
	CHECK_HAS(text, "\"total\":");
	free(text);
	volt_rt_free(rt);

	clear_hwloc_env();
	cfg.topology = NULL;
	cfg.pin = VOLT_PIN_NONE;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	probe_workers(rt, &st);
	text = vt_metrics_json(rt);
	CHECK_HAS(text, "\"synthetic\":false");
	CHECK_HAS(text, "\"pin\":\"none\"");
	CHECK_HAS(text, "\"cpus\":[-1");
	free(text);
	volt_rt_free(rt);
}
