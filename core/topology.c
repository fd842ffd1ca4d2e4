/* SPDX-License-Identifier: MIT */
/*
 * core/topology.c: where the workers sit, from an hwloc tree.
 *
 * The tree. Without cfg->topology, hwloc discovers this machine and the
 * tree is then cut down (hwloc_topology_restrict) to the CPUs the creating
 * thread may run on (sched_getaffinity), so `taskset -c 0 prog` lays every
 * worker on CPU 0 instead of escaping the mask. With cfg->topology the tree
 * is the synthetic one hwloc builds from that string; a string hwloc
 * rejects is -EINVAL. A tree hwloc reports as not this system (a synthetic
 * one, or HWLOC_SYNTHETIC/HWLOC_XMLFILE in the environment) is marked
 * synthetic either way. The hwloc handle never outlives volt__topo_init:
 * struct volt__topo keeps plain arrays, so the hot paths read no hwloc.
 *
 * The layout. Each pinning policy is a permutation `order` of the tree's
 * PUs (logical indexes), and worker w gets PU order[w mod npus]:
 *   NONE     the COMPACT order, so steal distances still exist, but no CPU;
 *   COMPACT  hwloc's logical order: worker i on PU i, neighbours share the
 *            deepest caches;
 *   SCATTER  a round-robin over the tree, recursively: an object's PUs are
 *            its children's scatter lists interleaved (the first of child
 *            0, the first of child 1, ..., then the second of each ...).
 *            At the root this alternates packages, inside a package its
 *            NUMA groups or caches, then cores, and SMT siblings come last;
 *   NUMA     NUMA node 0's PUs in logical order, then node 1's, ... (a PU
 *            of several nodes counts in the first). On one node this is
 *            COMPACT; on most multi-node trees too, since hwloc numbers
 *            nodes in tree order. It differs when a node's PUs are not
 *            contiguous in logical order.
 *
 * The real CPU. On this machine a PU's CPU is its OS index. On a synthetic
 * tree the PU indexes mean nothing to the kernel (hwloc's own binding then
 * returns 0 and does nothing), so logical PU i runs on allowed[i mod n],
 * allowed being the n CPUs of the creating thread's affinity, ascending.
 *
 * Distances, for two distinct workers on PUs a and b (a may equal b when
 * workers outnumber PUs): CACHE if a == b, or if both are in the same
 * package (or neither has one) and an object between their deepest common
 * ancestor and that package is a core or a cache; else REMOTE if their
 * packages differ (even when one NUMA node spans both: they share no cache);
 * else NODE if their first NUMA nodes are the same; else PACKAGE. So the
 * classes nest: CACHE inside NODE inside PACKAGE. A worker's distance to
 * itself is SELF.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>

#include "core/topology.h"

/* The CPUs the calling thread may run on, ascending, in a malloc'd array. */
static int allowed_cpus(int **out, unsigned *count)
{
	for (int ncpu = 1024; ncpu <= (1 << 20); ncpu *= 2) {
		cpu_set_t *set = CPU_ALLOC(ncpu);
		size_t size = CPU_ALLOC_SIZE(ncpu);

		if (!set)
			return -ENOMEM;
		CPU_ZERO_S(size, set);
		if (sched_getaffinity(0, size, set) != 0) {
			int err = errno;

			CPU_FREE(set);
			if (err == EINVAL)
				continue; /* the kernel's mask is wider: try a bigger set */
			break;
		}
		unsigned n = (unsigned)CPU_COUNT_S(size, set), k = 0;
		int *cpus = malloc((n ? n : 1) * sizeof(*cpus));

		if (!cpus) {
			CPU_FREE(set);
			return -ENOMEM;
		}
		for (int c = 0; c < ncpu && k < n; c++)
			if (CPU_ISSET_S((size_t)c, size, set))
				cpus[k++] = c;
		CPU_FREE(set);
		if (k) {
			*out = cpus;
			*count = k;
			return 0;
		}
		free(cpus);
		break;
	}
	/* No affinity to read: assume the online CPUs 0..n-1. */
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = online > 0 ? (unsigned)online : 1;
	int *cpus = malloc(n * sizeof(*cpus));

	if (!cpus)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		cpus[i] = (int)i;
	*out = cpus;
	*count = n;
	return 0;
}

/* Cuts this machine's tree down to the allowed CPUs (no-op when it already fits). */
static int restrict_to(hwloc_topology_t topo, const int *cpus, unsigned n)
{
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	int ret = 0;

	if (!set)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		hwloc_bitmap_set(set, (unsigned)cpus[i]);
	hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(topo);

	/* An allowed set hwloc does not know at all is left alone: keep the whole tree. */
	if (!hwloc_bitmap_isincluded(all, set) && hwloc_bitmap_intersects(all, set)) {
		if (hwloc_topology_restrict(topo, set, 0) != 0)
			ret = errno == ENOMEM ? -ENOMEM : -EIO;
	}
	hwloc_bitmap_free(set);
	return ret;
}

/*
 * Writes the PUs below o, in scatter order, to out and returns how many, or
 * -ENOMEM. scratch is as large as out; both are used only over the span of
 * PUs below o, so each child recurses into the next disjoint span with the
 * two buffers swapped.
 */
static int scatter_order(hwloc_obj_t o, unsigned *out, unsigned *scratch)
{
	if (o->type == HWLOC_OBJ_PU) {
		out[0] = o->logical_index;
		return 1;
	}
	if (o->arity == 0)
		return 0;
	if (o->arity == 1)
		return scatter_order(o->children[0], out, scratch);

	unsigned *len = malloc(o->arity * sizeof(*len));
	unsigned total = 0, longest = 0;

	if (!len)
		return -ENOMEM;
	for (unsigned c = 0; c < o->arity; c++) {
		int n = scatter_order(o->children[c], scratch + total, out + total);

		if (n < 0) {
			free(len);
			return n;
		}
		len[c] = (unsigned)n;
		total += len[c];
		if (len[c] > longest)
			longest = len[c];
	}
	unsigned k = 0;

	for (unsigned r = 0; r < longest; r++) {
		unsigned off = 0;

		for (unsigned c = 0; c < o->arity; c++) {
			if (r < len[c])
				out[k++] = scratch[off + r];
			off += len[c];
		}
	}
	free(len);
	return (int)total;
}

/* The logical index of the first NUMA node holding PU p, or 0. */
static unsigned pu_node(hwloc_topology_t topo, hwloc_obj_t p)
{
	hwloc_obj_t n = NULL;

	while ((n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, n)))
		if (n->cpuset && hwloc_bitmap_isset(n->cpuset, p->os_index))
			return n->logical_index;
	return 0;
}

/* Fills order[0..npus) for the policy (see the top of the file). */
static int pu_order(hwloc_topology_t topo, enum volt_pin pin, unsigned npus, unsigned *order)
{
	if (pin == VOLT_PIN_SCATTER) {
		unsigned *scratch = malloc(npus * sizeof(*scratch));

		if (!scratch)
			return -ENOMEM;
		int n = scatter_order(hwloc_get_root_obj(topo), order, scratch);

		free(scratch);
		if (n < 0)
			return n;
		return (unsigned)n == npus ? 0 : -EIO;
	}
	if (pin == VOLT_PIN_NUMA) {
		unsigned char *taken = calloc(npus, 1);
		unsigned k = 0;
		hwloc_obj_t n = NULL;

		if (!taken)
			return -ENOMEM;
		while ((n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, n))) {
			for (unsigned i = 0; i < npus && n->cpuset; i++) {
				hwloc_obj_t p = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i);

				if (!taken[i] && hwloc_bitmap_isset(n->cpuset, p->os_index)) {
					taken[i] = 1;
					order[k++] = i;
				}
			}
		}
		for (unsigned i = 0; i < npus; i++) /* PUs of no node, if any, last */
			if (!taken[i])
				order[k++] = i;
		free(taken);
		return 0;
	}
	for (unsigned i = 0; i < npus; i++)
		order[i] = i;
	return 0;
}

/* Distance class between two distinct workers on PUs a and b. */
static uint8_t pu_dist(hwloc_topology_t topo, hwloc_obj_t a, hwloc_obj_t b, unsigned node_a,
		       unsigned node_b)
{
	hwloc_obj_t pa = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, a);
	hwloc_obj_t pb = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, b);

	if (a == b)
		return VOLT__DIST_CACHE;
	if (pa == pb) {
		for (hwloc_obj_t o = hwloc_get_common_ancestor_obj(topo, a, b); o && o != pa;
		     o = o->parent)
			if (o->type == HWLOC_OBJ_CORE || hwloc_obj_type_is_cache(o->type))
				return VOLT__DIST_CACHE;
	}
	if (pa != pb)
		return VOLT__DIST_REMOTE;
	return node_a == node_b ? VOLT__DIST_NODE : VOLT__DIST_PACKAGE;
}

static void describe(struct volt__topo *t, hwloc_topology_t topo)
{
	int n = hwloc_topology_export_synthetic(topo, t->desc, sizeof(t->desc), 0);

	if (n > 0 && (size_t)n < sizeof(t->desc))
		return;
	/* Not expressible as a synthetic string (asymmetric), or too long. */
	snprintf(t->desc, sizeof(t->desc), "packages:%u numa:%u pus:%u (not symmetric)",
		 t->npackages, t->nnodes, t->npus);
}

/* Lays the workers on a loaded tree; topo stays owned by the caller. */
static int lay_out(struct volt__topo *t, hwloc_topology_t topo, const int *cpus, unsigned ncpus)
{
	int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	int nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
	int packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);

	if (pus < 1)
		return -EIO;
	t->npus = (unsigned)pus;
	t->nnodes = nodes > 0 ? (unsigned)nodes : 1;       /* no node known: one */
	t->npackages = packages > 0 ? (unsigned)packages : 1; /* no package: the machine is one */

	unsigned *order = malloc(t->npus * sizeof(*order));

	if (!order)
		return -ENOMEM;
	int ret = pu_order(topo, t->pin, t->npus, order);

	if (ret) {
		free(order);
		return ret;
	}

	hwloc_obj_t obj[VOLT_MAX_WORKERS];

	for (unsigned w = 0; w < t->nworkers; w++) {
		unsigned pu = order[w % t->npus];

		obj[w] = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, pu);
		t->pu[w] = pu;
		t->node[w] = pu_node(topo, obj[w]);
		if (t->pin == VOLT_PIN_NONE)
			t->cpu[w] = -1;
		else if (t->synthetic)
			t->cpu[w] = cpus[pu % ncpus];
		else
			t->cpu[w] = (int)obj[w]->os_index;
	}
	free(order);
	for (unsigned i = 0; i < t->nworkers; i++)
		for (unsigned j = 0; j < t->nworkers; j++)
			t->dist[i][j] = i == j ? VOLT__DIST_SELF
					       : pu_dist(topo, obj[i], obj[j], t->node[i], t->node[j]);
	describe(t, topo);
	return 0;
}

int volt__topo_init(struct volt__topo *t, const struct volt_config *cfg, unsigned nworkers)
{
	hwloc_topology_t topo;
	int *cpus = NULL;
	unsigned ncpus = 0;
	int ret;

	memset(t, 0, sizeof(*t));
	if (nworkers < 1 || nworkers > VOLT_MAX_WORKERS)
		return -EINVAL;
	t->nworkers = nworkers;
	t->pin = cfg->pin;
	ret = allowed_cpus(&cpus, &ncpus);
	if (ret)
		return ret;
	if (hwloc_topology_init(&topo) != 0) {
		free(cpus);
		return -ENOMEM;
	}
	if (cfg->topology && hwloc_topology_set_synthetic(topo, cfg->topology) != 0) {
		ret = -EINVAL;
		goto out;
	}
	if (hwloc_topology_load(topo) != 0) {
		ret = cfg->topology ? -EINVAL : -EIO;
		goto out;
	}
	t->synthetic = cfg->topology || !hwloc_topology_is_thissystem(topo);
	if (!t->synthetic) {
		ret = restrict_to(topo, cpus, ncpus);
		if (ret)
			goto out;
	}
	ret = lay_out(t, topo, cpus, ncpus);
out:
	hwloc_topology_destroy(topo);
	free(cpus);
	if (ret) {
		memset(t, 0, sizeof(*t));
		return ret;
	}
	return 0;
}

int volt__topo_pin_self(const struct volt__topo *t, unsigned w)
{
	if (w >= t->nworkers)
		return -EINVAL;
	int cpu = t->cpu[w];

	if (cpu < 0)
		return 0;
	cpu_set_t *set = CPU_ALLOC(cpu + 1);
	size_t size = CPU_ALLOC_SIZE(cpu + 1);

	if (!set)
		return -ENOMEM;
	CPU_ZERO_S(size, set);
	CPU_SET_S((size_t)cpu, size, set);
	int err = pthread_setaffinity_np(pthread_self(), size, set);

	CPU_FREE(set);
	return -err;
}
