/* SPDX-License-Identifier: MIT */
/*
 * tests/test_alloc_fail.c: allocation failure at every point of every API
 * that allocates (issue 10; SQLite's OOM method, tests/alloc_fault.h).
 *
 * oom_loop() runs one case for n = 1, 2, ..., in two modes: the n-th
 * allocation point from the start of the operation fails (transient), or it
 * and every later one fail (persistent). Each round:
 *  - setup (disarmed): what the operation needs, often a fresh runtime;
 *  - run (armed): the operation; it returns 0 or a negative errno, which
 *    must be -ENOMEM or one the case allows (-EAGAIN for a thread);
 *  - after (disarmed): with 0 the object must be whole and work; with an
 *    error nothing may be half-built (what was accepted runs, what was
 *    refused left no trace); then everything is torn down, the runtime
 *    after it was checked to still run a task;
 *  - the live heap blocks, mappings and descriptors must be back where
 *    they were (LeakSanitizer checks the same at exit in build/asan/).
 * A round in which no failure was injected must succeed; it ends the mode.
 * The number of points is that round's n - 1. One line per case goes to
 * stdout, "alloc-fail: <case>: N points ...", for the reliability figures.
 * What allocates nothing by design (timers, whose links live in the
 * caller's futures; the sync primitives, oneshot and watch, in caller-owned
 * memory; select; addresses) is run the same way and must meet no point.
 *
 * Cases: volt_rt_new (plain; with trace, synthetic topology and pinning),
 * spawn (outside and on a worker, past one slab chunk), fiber spawn (from
 * a thread and from a fiber), groups, the blocking pool, the first blocking
 * wait of a thread, name resolution, TCP and UDP on each driver, the
 * channels (each buffer), mpsc, broadcast. VOLT_RELIABILITY=1 spawns and
 * sends four times as much.
 *
 * Worker threads allocate too, and count in the same sequence: in a
 * runtime with several workers which point is the n-th varies a little
 * from run to run; that only moves a failure to another point, which must
 * be survived as well.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_fault.h"
#include "core/rt.h"
#include "helpers.h"
#include "net_helpers.h"

/* Rounds per mode before a case is declared endless. */
#define OOM_MAX_POINTS 2000

struct oom_case {
	const char *name;
	void (*setup)(void *ctx);        /* disarmed, before each round; may be NULL */
	int (*run)(void *ctx);           /* armed: the operation */
	void (*after)(void *ctx, int r); /* disarmed: check r, use, tear down */
	void *ctx;
	int also;                        /* an error allowed besides -ENOMEM (0: none) */
};

struct oom_figures {
	unsigned points[2]; /* allocation points met, per mode */
	uint64_t injected;  /* failures injected, both modes */
	unsigned refused;   /* rounds the operation returned an error */
};

/* VOLT_RELIABILITY=1 (make test-reliability) widens the operations. */
static unsigned wide(unsigned n)
{
	const char *e = getenv("VOLT_RELIABILITY");

	return e && *e && strcmp(e, "0") != 0 ? 4 * n : n;
}

/*
 * Skips without the wrappers. Then makes this thread's parker (core/block_on.c
 * keeps one per thread, for the thread's life), so the first blocking wait
 * of a round is not counted as a leak.
 */
static void oom_begin(void)
{
	struct volt_yield y;

	if (!vt_alloc_available())
		VT_SKIP("the runner was linked without the allocator wrappers (ALLOC_WRAP)");
	CHECK_OK(volt_block_on(NULL, volt_yield_now(&y), NULL));
}

static const char *mode_name(int mode)
{
	return mode == VT_ALLOC_PERSISTENT ? "persistent" : "transient";
}

/* Runs c over every failure point in both modes; fills *fig. */
static void oom_loop(const struct oom_case *c, struct oom_figures *fig)
{
	memset(fig, 0, sizeof(*fig));
	for (int mode = VT_ALLOC_TRANSIENT; mode <= VT_ALLOC_PERSISTENT; mode++) {
		for (unsigned n = 1;; n++) {
			struct vt_alloc_stats s0, s1;
			uint64_t injected;
			int fds = vt_fd_count(NULL), r;

			CHECK_MSG(n <= OOM_MAX_POINTS, "%s: no end after %u rounds", c->name, n);
			vt_alloc_stats(&s0);
			if (c->setup)
				c->setup(c->ctx);
			vt_alloc_fail_after(n, (enum vt_alloc_mode)mode);
			r = c->run(c->ctx);
			injected = vt_alloc_disarm();
			CHECK_MSG(r == 0 || r == -ENOMEM || (c->also && r == c->also),
				  "%s: n=%u %s: returned %d (%s)", c->name, n, mode_name(mode), r,
				  strerror(r < 0 ? -r : 0));
			if (!injected)
				CHECK_MSG(r == 0, "%s: failed with no failure injected: %d", c->name, r);
			c->after(c->ctx, r);
			vt_alloc_stats(&s1);
			CHECK_MSG(s1.live == s0.live && s1.maps == s0.maps,
				  "%s: n=%u %s: %" PRId64 " heap blocks, %" PRId64
				  " mappings left behind (r=%d)", c->name, n, mode_name(mode),
				  s1.live - s0.live, s1.maps - s0.maps, r);
			CHECK_MSG(vt_fd_count(NULL) == fds,
				  "%s: n=%u %s: %d descriptors left behind (r=%d)", c->name, n,
				  mode_name(mode), vt_fd_count(NULL) - fds, r);
			fig->injected += injected;
			fig->refused += r != 0;
			if (!injected) {
				fig->points[mode] = n - 1;
				break;
			}
		}
	}
}

static void oom_report(const char *name, const char *policy, const struct oom_figures *f)
{
	printf("alloc-fail: %s%s%s%s: %u points (transient %u, persistent %u), %" PRIu64
	       " failures injected, %u refused, all clean\n", name, policy ? " [" : "",
	       policy ? policy : "", policy ? "]" : "",
	       f->points[0] > f->points[1] ? f->points[0] : f->points[1], f->points[0],
	       f->points[1], f->injected, f->refused);
	fflush(stdout);
}

/* Runs and reports c. */
static void oom_case_run(const struct oom_case *c, const char *policy)
{
	struct oom_figures fig;

	oom_loop(c, &fig);
	oom_report(c->name, policy, &fig);
}

/* Runs and reports c, an operation that allocates nothing by design: no point may be met. */
static void oom_case_none(const struct oom_case *c, const char *policy)
{
	struct oom_figures fig;

	oom_loop(c, &fig);
	CHECK_MSG(fig.points[0] == 0 && fig.points[1] == 0,
		  "%s allocated (%u points) though it should not", c->name, fig.points[0]);
	oom_report(c->name, policy, &fig);
}

/* ---- a runtime that works: a task runs and is joined */

static void *answer(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)42;
}

static void check_rt_works(struct volt_rt *rt)
{
	struct volt_join *j = NULL;

	CHECK_OK(volt_spawn_fn(rt, answer, NULL, &j));
	CHECK(vt_join(j) == (void *)(intptr_t)42);
}

/* ---- volt_rt_new, each policy, plain and with every option that allocates */

struct rt_new_ctx {
	struct volt_config cfg;
	struct volt_rt *rt;
};

static int rt_new_run(void *arg)
{
	struct rt_new_ctx *c = arg;

	c->rt = NULL;
	return volt_rt_new(&c->cfg, &c->rt);
}

static void rt_new_after(void *arg, int r)
{
	struct rt_new_ctx *c = arg;

	if (r) {
		CHECK(c->rt == NULL);
		return;
	}
	CHECK(c->rt != NULL);
	check_rt_works(c->rt);
	volt_rt_free(c->rt);
	c->rt = NULL;
}

VOLT_RT_TEST(alloc_fail_rt_new)
{
	struct rt_new_ctx c;
	struct oom_case oc = { "volt_rt_new", NULL, rt_new_run, rt_new_after, &c, -EAGAIN };
	char trace[64];

	oom_begin();
	vt_cfg(&c.cfg, policy, 2);
	oom_case_run(&oc, policy);

	/* a trace (a copied path, rings per worker) on a synthetic topology, pinned */
	snprintf(trace, sizeof(trace), "/tmp/volt-alloc-fail-%d.json", (int)getpid());
	c.cfg.trace = trace;
	c.cfg.trace_events = 64;
	c.cfg.topology = "pack:1 core:2 pu:1";
	c.cfg.pin = VOLT_PIN_COMPACT;
	oc.name = "volt_rt_new(trace, topology, pin)";
	oom_case_run(&oc, policy);
	unlink(trace);
}

/* ---- the runtime of a round: made before arming, freed in `after` */

struct rt_round {
	const char *policy;
	const char *driver; /* NULL: the default */
	struct volt_rt *rt;
};

static void round_rt_new(struct rt_round *rr)
{
	struct volt_config cfg;

	vt_cfg(&cfg, rr->policy, 2);
	cfg.driver = rr->driver;
	CHECK_OK(volt_rt_new(&cfg, &rr->rt));
}

static void round_rt_free(struct rt_round *rr)
{
	check_rt_works(rr->rt);
	volt_rt_free(rr->rt);
	rr->rt = NULL;
}

static void *count_fn(void *arg)
{
	atomic_fetch_add((atomic_uint *)arg, 1);
	return (void *)(intptr_t)42;
}

/* ---- volt_spawn: from outside (the depot) and from a worker (its cache, its deque) */

struct spawn_ctx {
	struct rt_round rr;
	unsigned n;               /* tasks each side spawns: more than one slab chunk holds */
	struct volt_join **joins; /* the outside side's */
	unsigned spawned;         /* by the outside side */
	unsigned child_spawned;   /* by the worker side */
	int child_err;
	atomic_uint ran;
};

static void *spawner_fn(void *arg)
{
	struct spawn_ctx *c = arg;
	struct volt_rt *rt = volt_rt_current();

	for (unsigned i = 0; i < c->n; i++) {
		int r = volt_spawn_fn(rt, count_fn, &c->ran, NULL);

		if (r) {
			c->child_err = r;
			break;
		}
		c->child_spawned++;
	}
	return NULL;
}

static void spawn_setup(void *arg)
{
	struct spawn_ctx *c = arg;

	round_rt_new(&c->rr);
	c->spawned = c->child_spawned = 0;
	c->child_err = 0;
	atomic_store(&c->ran, 0);
}

static int spawn_run(void *arg)
{
	struct spawn_ctx *c = arg;
	struct volt_join *j = NULL;
	int r = 0;

	for (unsigned i = 0; i < c->n; i++) {
		r = volt_spawn_fn(c->rr.rt, count_fn, &c->ran, &c->joins[i]);
		if (r)
			return r;
		c->spawned++;
	}
	r = volt_spawn_fn(c->rr.rt, spawner_fn, c, &j);
	if (r)
		return r;
	r = volt_join_wait(j, NULL);
	return r ? r : c->child_err;
}

static void spawn_after(void *arg, int r)
{
	struct spawn_ctx *c = arg;

	(void)r;
	for (unsigned i = 0; i < c->spawned; i++)
		CHECK(vt_join(c->joins[i]) == (void *)(intptr_t)42);
	/* every task that was spawned ran, once; none that was refused */
	VT_WAIT_FOR(atomic_load(&c->ran) >= c->spawned + c->child_spawned);
	round_rt_free(&c->rr);
	CHECK_EQ(atomic_load(&c->ran), c->spawned + c->child_spawned);
	if (r == 0)
		CHECK_EQ(c->spawned + c->child_spawned, 2 * c->n);
}

VOLT_RT_TEST(alloc_fail_spawn)
{
	struct spawn_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { "volt_spawn", spawn_setup, spawn_run, spawn_after, &c, 0 };

	oom_begin();
	c.n = wide(600);
	c.joins = calloc(c.n, sizeof(*c.joins));
	CHECK(c.joins != NULL);
	oom_case_run(&oc, policy);
	free(c.joins);
}

/* ---- volt_spawn_fiber: from outside (a new mapping each) and from a fiber (the cache) */

#define NFIBERS 8

struct fiber_ctx {
	struct rt_round rr;
	struct volt_join *joins[NFIBERS];
	unsigned spawned, child_spawned;
	int child_err;
	atomic_uint ran;
};

static void *fiber_fn(struct volt_rt *rt, void *arg)
{
	CHECK_OK(volt_yield(rt)); /* parks once: the stack is switched out and back */
	return count_fn(arg);
}

static void *parent_fiber(struct volt_rt *rt, void *arg)
{
	struct fiber_ctx *c = arg;
	struct volt_join *joins[NFIBERS];

	for (unsigned i = 0; i < NFIBERS; i++) {
		int r = volt_spawn_fiber(rt, fiber_fn, &c->ran, 0, &joins[i]);

		if (r) {
			c->child_err = r;
			break;
		}
		c->child_spawned++;
	}
	for (unsigned i = 0; i < c->child_spawned; i++) {
		void *out = NULL;

		CHECK_OK(volt_join_wait(joins[i], &out)); /* parks this fiber */
		CHECK(out == (void *)(intptr_t)42);
	}
	return NULL;
}

static void fiber_setup(void *arg)
{
	struct fiber_ctx *c = arg;

	round_rt_new(&c->rr);
	c->spawned = c->child_spawned = 0;
	c->child_err = 0;
	atomic_store(&c->ran, 0);
}

static int fiber_run(void *arg)
{
	struct fiber_ctx *c = arg;
	struct volt_join *j = NULL;
	int r;

	for (unsigned i = 0; i < NFIBERS; i++) {
		r = volt_spawn_fiber(c->rr.rt, fiber_fn, &c->ran, 0, &c->joins[i]);
		if (r)
			return r;
		c->spawned++;
	}
	r = volt_spawn_fiber(c->rr.rt, parent_fiber, c, 0, &j);
	if (r)
		return r;
	r = volt_join_wait(j, NULL);
	return r ? r : c->child_err;
}

static void fiber_after(void *arg, int r)
{
	struct fiber_ctx *c = arg;

	for (unsigned i = 0; i < c->spawned; i++)
		CHECK(vt_join(c->joins[i]) == (void *)(intptr_t)42);
	round_rt_free(&c->rr);
	CHECK_EQ(atomic_load(&c->ran), c->spawned + c->child_spawned);
	if (r == 0)
		CHECK_EQ(c->spawned + c->child_spawned, 2 * NFIBERS);
}

VOLT_RT_TEST(alloc_fail_fiber_spawn)
{
	struct fiber_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { "volt_spawn_fiber", fiber_setup, fiber_run, fiber_after, &c, 0 };

	oom_begin();
	oom_case_run(&oc, policy);
}

/* ---- groups: new, spawn (tasks and fibers), wait, free */

struct group_ctx {
	struct rt_round rr;
	unsigned n;
	struct volt_group *g;
	unsigned spawned;
	atomic_uint ran;
};

static void *group_fiber_fn(struct volt_rt *rt, void *arg)
{
	(void)rt;
	return count_fn(arg);
}

static void group_setup(void *arg)
{
	struct group_ctx *c = arg;

	round_rt_new(&c->rr);
	c->g = NULL;
	c->spawned = 0;
	atomic_store(&c->ran, 0);
}

static int group_run(void *arg)
{
	struct group_ctx *c = arg;
	int r = volt_group_new(c->rr.rt, &c->g);

	if (r)
		return r;
	for (unsigned i = 0; i < c->n; i++) {
		r = volt_group_spawn_fn(c->g, count_fn, &c->ran);
		if (r)
			return r;
		c->spawned++;
	}
	for (unsigned i = 0; i < NFIBERS; i++) {
		r = volt_group_spawn_fiber(c->g, group_fiber_fn, &c->ran, 0);
		if (r)
			return r;
		c->spawned++;
	}
	return volt_group_wait(c->g);
}

static void group_after(void *arg, int r)
{
	struct group_ctx *c = arg;

	if (!c->g) {
		CHECK(r != 0);
	} else {
		CHECK_OK(volt_group_wait(c->g));
		CHECK_EQ(volt_group_count(c->g), 0);
		CHECK_EQ(atomic_load(&c->ran), c->spawned);
		CHECK_OK(volt_group_free(c->g));
	}
	if (r == 0)
		CHECK_EQ(c->spawned, c->n + NFIBERS);
	round_rt_free(&c->rr);
}

VOLT_RT_TEST(alloc_fail_group)
{
	struct group_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { "volt_group", group_setup, group_run, group_after, &c, 0 };

	oom_begin();
	c.n = wide(600);
	oom_case_run(&oc, policy);
}

/* ---- the blocking pool: jobs with handles and detached */

#define NJOBS 6

struct blocking_ctx {
	struct rt_round rr;
	struct volt_blocking *h[NJOBS];
	unsigned submitted, detached;
	atomic_uint ran;
};

static void *job_fn(void *arg)
{
	return arg;
}

static void *detached_job_fn(void *arg)
{
	return count_fn(arg);
}

static void blocking_setup(void *arg)
{
	struct blocking_ctx *c = arg;

	round_rt_new(&c->rr);
	c->submitted = c->detached = 0;
	atomic_store(&c->ran, 0);
}

static int blocking_run(void *arg)
{
	struct blocking_ctx *c = arg;
	int r;

	for (unsigned i = 0; i < NJOBS; i++) {
		r = volt_concurrent(c->rr.rt, job_fn, (void *)(intptr_t)(i + 1), &c->h[i]);
		if (r)
			return r;
		c->submitted++;
		r = volt_concurrent(c->rr.rt, detached_job_fn, &c->ran, NULL);
		if (r)
			return r;
		c->detached++;
	}
	return 0;
}

static void blocking_after(void *arg, int r)
{
	struct blocking_ctx *c = arg;

	(void)r;
	/* every accepted job runs and reports; a refused one left nothing queued */
	for (unsigned i = 0; i < c->submitted; i++) {
		void *out = NULL;

		CHECK_OK(volt_blocking_wait(c->h[i], &out));
		CHECK(out == (void *)(intptr_t)(i + 1));
	}
	VT_WAIT_FOR(atomic_load(&c->ran) >= c->detached);
	round_rt_free(&c->rr);
	CHECK_EQ(atomic_load(&c->ran), c->detached);
}

VOLT_RT_TEST(alloc_fail_blocking_pool)
{
	struct blocking_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { "volt_concurrent", blocking_setup, blocking_run, blocking_after,
			       &c, -EAGAIN };

	oom_begin();
	oom_case_run(&oc, policy);
}

/*
 * ---- a blocking wait on a thread that never waited before: its parker is
 * allocated then; refused, the wait leaves the handle or the message where
 * it was
 */

struct waiter_ctx {
	struct rt_round rr;
	bool chan;           /* wait on a channel receive, else on a join */
	struct volt_join *j;
	struct volt_chan *ch;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int step;            /* 0 made, 1 go, 2 done */
	int result;
	uint64_t got;
};

static void *waiter_main(void *arg)
{
	struct waiter_ctx *c = arg;
	void *out = NULL;

	pthread_mutex_lock(&c->lock);
	while (c->step != 1)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	if (c->chan) {
		c->result = volt_chan_recv_blocking(c->ch, &c->got);
	} else {
		c->result = volt_join_wait(c->j, &out);
		c->got = (uint64_t)(uintptr_t)out;
	}
	pthread_mutex_lock(&c->lock);
	c->step = 2;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void waiter_setup(void *arg)
{
	struct waiter_ctx *c = arg;
	uint64_t v = 42;

	round_rt_new(&c->rr);
	CHECK_OK(volt_spawn_fn(c->rr.rt, answer, NULL, &c->j));
	CHECK_OK(volt_chan_new(sizeof(v), 1, NULL, &c->ch));
	CHECK_EQ(volt_chan_try_send(c->ch, &v), VOLT_CHAN_OK);
	c->step = 0;
	c->got = 0;
	CHECK_OK(pthread_create(&c->th, NULL, waiter_main, c));
}

static int waiter_run(void *arg)
{
	struct waiter_ctx *c = arg;

	pthread_mutex_lock(&c->lock);
	c->step = 1;
	pthread_cond_broadcast(&c->cond);
	while (c->step != 2)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	return c->result;
}

static void waiter_after(void *arg, int r)
{
	struct waiter_ctx *c = arg;
	uint64_t v = 0;

	CHECK_OK(pthread_join(c->th, NULL)); /* its parker goes with it */
	if (r == 0)
		CHECK_UEQ(c->got, 42);
	/* refused, the wait left the handle with the caller */
	if (c->chan || r)
		CHECK(vt_join(c->j) == (void *)(intptr_t)42);
	if (!c->chan || r) { /* and the message in the channel */
		CHECK_EQ(volt_chan_try_recv(c->ch, &v), VOLT_CHAN_OK);
		CHECK_UEQ(v, 42);
	}
	CHECK_EQ(volt_chan_try_recv(c->ch, &v), VOLT_CHAN_EMPTY);
	volt_chan_free(c->ch);
	round_rt_free(&c->rr);
}

VOLT_RT_TEST(alloc_fail_first_wait_of_a_thread)
{
	struct waiter_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { NULL, waiter_setup, waiter_run, waiter_after, &c, 0 };

	oom_begin();
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	for (int chan = 0; chan < 2; chan++) {
		c.chan = chan;
		oc.name = chan ? "volt_chan_recv_blocking(new thread)" :
				 "volt_join_wait(new thread)";
		oom_case_run(&oc, policy);
	}
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
}

/* ---- timers: sleep, timeout, interval (they allocate nothing) */

struct timer_ctx {
	struct rt_round rr;
};

static void timer_setup(void *arg)
{
	struct timer_ctx *c = arg;

	round_rt_new(&c->rr);
	check_rt_works(c->rr.rt); /* the workers are in their steady state */
}

static int timer_run(void *arg)
{
	struct timer_ctx *c = arg;
	struct volt_rt *rt = c->rr.rt;
	struct volt_sleep sl;
	struct volt_timeout to;
	struct volt_interval iv;
	struct vt_forever fe;
	int r;

	r = volt_block_on(rt, volt_sleep(&sl, volt_ms(1)), NULL);
	if (r)
		return r;
	vt_forever_init(&fe, true, NULL, NULL, NULL);
	r = volt_block_on(rt, volt_timeout(&to, &fe.base, volt_ms(1)), NULL);
	if (r)
		return r;
	CHECK_EQ(to.result, -ETIMEDOUT);
	CHECK_OK(volt_interval_init(&iv, volt_ms(1), true, VOLT_MISSED_DELAY));
	for (int i = 0; i < 3; i++) {
		r = volt_block_on(rt, volt_interval_tick(&iv), NULL);
		if (r)
			return r;
	}
	CHECK_EQ(iv.ticks, 3);
	return 0;
}

static void timer_after(void *arg, int r)
{
	(void)r;
	round_rt_free(&((struct timer_ctx *)arg)->rr);
}

VOLT_RT_TEST(alloc_fail_timers)
{
	struct timer_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { "sleep, timeout, interval", timer_setup, timer_run, timer_after,
			       &c, 0 };

	oom_begin();
	oom_case_none(&oc, policy);
}

/* ---- name resolution on the blocking pool */

struct resolve_ctx {
	struct rt_round rr;
	struct volt_addr addr;
};

static void resolve_setup(void *arg)
{
	round_rt_new(&((struct resolve_ctx *)arg)->rr);
}

static int resolve_run(void *arg)
{
	struct resolve_ctx *c = arg;
	struct volt_resolve f;

	memset(&c->addr, 0, sizeof(c->addr));
	CHECK_OK(volt_block_on(c->rr.rt, volt_resolve(&f, c->rr.rt, "127.0.0.1", 4242, &c->addr),
			       NULL));
	return f.result;
}

static void resolve_after(void *arg, int r)
{
	struct resolve_ctx *c = arg;

	if (r == 0)
		CHECK_EQ(volt_addr_port(&c->addr), 4242);
	else
		CHECK_EQ(c->addr.len, 0); /* nothing half-written */
	round_rt_free(&c->rr);
}

VOLT_RT_TEST(alloc_fail_resolve)
{
	struct resolve_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { "volt_resolve", resolve_setup, resolve_run, resolve_after, &c,
			       -EAGAIN };

	oom_begin();
	oom_case_run(&oc, policy);
}

/* ---- TCP: listen, connect, accept, a round trip; UDP: a datagram above one record */

#define NET_TIMEOUT volt_ms(5000)

struct net_ctx {
	struct rt_round rr;
	bool udp;
};

static void net_setup(void *arg)
{
	round_rt_new(&((struct net_ctx *)arg)->rr);
}

/*
 * NPAIRS connections, each accepted and echoed once; whatever was opened is
 * closed before it returns. 33 pairs and the listener take 67 slots, past
 * the source table's first 64 (its free list grows there).
 */
#define NPAIRS 33

static int tcp_exchange(struct volt_rt *rt)
{
	struct volt_listener l;
	struct volt_stream cs[NPAIRS], ss[NPAIRS];
	struct volt_addr addr;
	char text[VOLT_ADDR_STRLEN], out[64], in[64];
	unsigned nc = 0, ns = 0;
	int r;

	r = volt_tcp_listen(rt, "127.0.0.1:0", &l);
	if (r)
		return r;
	CHECK_OK(volt_local_addr(l.h, &addr));
	CHECK_GT(volt_addr_format(&addr, text, sizeof(text)), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 1);
	while (!r && ns < NPAIRS) {
		r = volt_tcp_connect_blocking(rt, text, &cs[nc], NET_TIMEOUT);
		if (r)
			break;
		nc++;
		r = volt_accept_blocking(l, &ss[ns], NULL, NET_TIMEOUT);
		if (r)
			break;
		ns++;
		ssize_t n = volt_stream_write_all_blocking(cs[nc - 1], out, sizeof(out), NET_TIMEOUT);

		if (n >= 0)
			n = volt_stream_read_exact_blocking(ss[ns - 1], in, sizeof(in), NET_TIMEOUT);
		if (n >= 0) {
			CHECK_EQ(n, sizeof(in));
			CHECK(memcmp(in, out, sizeof(in)) == 0);
		}
		r = n < 0 ? (int)n : 0;
	}
	while (ns)
		CHECK_OK(volt_stream_close(ss[--ns]));
	while (nc)
		CHECK_OK(volt_stream_close(cs[--nc]));
	CHECK_OK(volt_listener_close(l));
	return r;
}

#define DGRAM 20000 /* above the io_uring driver's per-record buffer (16 KiB) */

static int udp_exchange(struct volt_rt *rt)
{
	static unsigned char out[DGRAM], in[DGRAM + 1];
	struct volt_udp a, b;
	struct volt_addr to;
	ssize_t n;
	int r;

	r = volt_udp_bind(rt, "127.0.0.1:0", &a);
	if (r)
		return r;
	r = volt_udp_bind(rt, "127.0.0.1:0", &b);
	if (r)
		goto close_a;
	CHECK_OK(volt_local_addr(b.h, &to));
	vt_pattern(out, sizeof(out), 3, 0);
	n = volt_udp_send_to_blocking(a, out, sizeof(out), &to, NET_TIMEOUT);
	if (n >= 0) {
		CHECK_EQ(n, sizeof(out)); /* a datagram goes whole or not at all */
		n = volt_udp_recv_from_blocking(b, in, sizeof(in), NULL, NET_TIMEOUT);
	}
	if (n >= 0) {
		CHECK_EQ(n, sizeof(out)); /* and arrives whole */
		CHECK(memcmp(in, out, sizeof(out)) == 0);
	}
	r = n < 0 ? (int)n : 0;
	CHECK_OK(volt_udp_close(b));
close_a:
	CHECK_OK(volt_udp_close(a));
	return r;
}

static int net_run(void *arg)
{
	struct net_ctx *c = arg;

	return c->udp ? udp_exchange(c->rr.rt) : tcp_exchange(c->rr.rt);
}

static void net_after(void *arg, int r)
{
	struct net_ctx *c = arg;
	struct volt__sources *t = &c->rr.rt->io.sources;

	(void)r;
	/* every socket closed; every slot back on the free list, none lost */
	VT_WAIT_FOR(atomic_load(&t->open) == 0);
	pthread_mutex_lock(&t->lock);
	uint32_t nfree = t->nfree, used = atomic_load(&t->used);

	pthread_mutex_unlock(&t->lock);
	CHECK_EQ(nfree, used);
	/* the runtime's I/O still works */
	CHECK_OK(c->udp ? udp_exchange(c->rr.rt) : tcp_exchange(c->rr.rt));
	round_rt_free(&c->rr);
}

VOLT_RT_TEST(alloc_fail_net)
{
	struct net_ctx c = { .rr = { policy, NULL, NULL } };
	struct oom_case oc = { NULL, net_setup, net_run, net_after, &c, 0 };
	const char *d;
	char name[64];

	oom_begin();
	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *probe = vt_net_rt(policy, 1, d);

		if (!probe)
			continue;
		volt_rt_free(probe);
		c.rr.driver = d;
		for (int udp = 0; udp < 2; udp++) {
			c.udp = udp;
			snprintf(name, sizeof(name), "%s on %s", udp ? "udp datagram" :
				 "tcp listen/connect/accept/echo", d);
			oc.name = name;
			oom_case_run(&oc, policy);
		}
	}
}

/* ---- channels (no runtime needed) */

struct chan_ctx {
	const char *buffer;
	struct volt_chan *ch;
};

/* new, then filled: the sends allocate nothing */
static int chan_run(void *arg)
{
	struct chan_ctx *c = arg;
	uint64_t extra = 99;
	int r;

	c->ch = NULL;
	r = volt_chan_new(sizeof(uint64_t), 8, c->buffer, &c->ch);
	if (r)
		return r;
	for (uint64_t i = 0; i < 8; i++)
		CHECK_EQ(volt_chan_try_send(c->ch, &i), VOLT_CHAN_OK);
	CHECK_EQ(volt_chan_try_send(c->ch, &extra), VOLT_CHAN_FULL);
	return 0;
}

static void chan_after(void *arg, int r)
{
	struct chan_ctx *c = arg;
	uint64_t v;

	if (r) {
		CHECK(c->ch == NULL);
		return;
	}
	for (uint64_t i = 0; i < 8; i++) {
		CHECK_EQ(volt_chan_try_recv(c->ch, &v), VOLT_CHAN_OK);
		CHECK_UEQ(v, i);
	}
	CHECK_EQ(volt_chan_try_recv(c->ch, &v), VOLT_CHAN_EMPTY);
	volt_chan_free(c->ch);
}

VOLT_TEST(alloc_fail_chan_new)
{
	struct chan_ctx c;
	struct oom_case oc = { NULL, NULL, chan_run, chan_after, &c, 0 };
	char name[48];

	oom_begin();
	for (unsigned i = 0; (c.buffer = volt_chan_buffer_name(i)); i++) {
		snprintf(name, sizeof(name), "volt_chan new/send (%s)", c.buffer);
		oc.name = name;
		oom_case_run(&oc, NULL);
	}
}

/* mpsc: a new block every 32 elements; a refused send leaves the value with the sender */

struct mpsc_ctx {
	struct volt_mpsc *m;
	unsigned n, sent;
};

static int mpsc_run(void *arg)
{
	struct mpsc_ctx *c = arg;
	int r;

	c->m = NULL;
	c->sent = 0;
	r = volt_mpsc_new(sizeof(uint32_t), &c->m);
	if (r)
		return r;
	for (uint32_t i = 0; i < c->n; i++) {
		r = volt_mpsc_send(c->m, &i);
		if (r)
			return r;
		c->sent++;
	}
	return 0;
}

static void mpsc_after(void *arg, int r)
{
	struct mpsc_ctx *c = arg;
	uint32_t v, more = 12345;

	if (!c->m) {
		CHECK(r != 0);
		return;
	}
	/* what was accepted arrives, in order, and nothing else */
	CHECK_EQ(volt_mpsc_len(c->m), c->sent);
	for (uint32_t i = 0; i < c->sent; i++) {
		CHECK_EQ(volt_mpsc_try_recv(c->m, &v), VOLT_CHAN_OK);
		CHECK_EQ(v, i);
	}
	CHECK_EQ(volt_mpsc_try_recv(c->m, &v), VOLT_CHAN_EMPTY);
	/* and the channel still works */
	CHECK_EQ(volt_mpsc_send(c->m, &more), VOLT_CHAN_OK);
	CHECK_EQ(volt_mpsc_try_recv(c->m, &v), VOLT_CHAN_OK);
	CHECK_EQ(v, more);
	volt_mpsc_free(c->m);
	if (r == 0)
		CHECK_EQ(c->sent, c->n);
}

VOLT_TEST(alloc_fail_mpsc)
{
	struct mpsc_ctx c = { .n = wide(200) };
	struct oom_case oc = { "volt_mpsc new/send", NULL, mpsc_run, mpsc_after, &c, 0 };

	oom_begin();
	oom_case_run(&oc, NULL);
}

/* broadcast: new, subscribe, send past capacity, receive with lag */

struct bcast_ctx {
	struct volt_broadcast *b;
	struct volt_broadcast_rx rx;
};

/* new, subscribe, six sends into four places: only new allocates */
static int bcast_run(void *arg)
{
	struct bcast_ctx *c = arg;
	int r;

	c->b = NULL;
	r = volt_broadcast_new(4, &c->b);
	if (r)
		return r;
	volt_broadcast_subscribe(c->b, &c->rx);
	for (intptr_t i = 1; i <= 6; i++)
		CHECK_EQ(volt_broadcast_send(c->b, (void *)i), VOLT_CHAN_OK);
	return 0;
}

static void bcast_after(void *arg, int r)
{
	struct bcast_ctx *c = arg;
	uint64_t missed = 0;
	void *v;

	if (r) {
		CHECK(c->b == NULL);
		return;
	}
	CHECK_EQ(volt_broadcast_try_recv(&c->rx, &v, &missed), VOLT_CHAN_LAGGED);
	CHECK_EQ(missed, 2);
	for (intptr_t i = 3; i <= 6; i++) {
		CHECK_EQ(volt_broadcast_try_recv(&c->rx, &v, &missed), VOLT_CHAN_OK);
		CHECK(v == (void *)i);
	}
	CHECK_EQ(volt_broadcast_try_recv(&c->rx, &v, &missed), VOLT_CHAN_EMPTY);
	volt_broadcast_unsubscribe(&c->rx);
	volt_broadcast_free(c->b);
}

VOLT_TEST(alloc_fail_broadcast)
{
	struct bcast_ctx c;
	struct oom_case oc = { "volt_broadcast new/subscribe/send", NULL, bcast_run, bcast_after,
			       &c, 0 };

	oom_begin();
	oom_case_run(&oc, NULL);
}

/* ---- what allocates nothing by design: caller-owned primitives */

static void nothing_after(void *arg, int r)
{
	(void)arg;
	(void)r;
}

static int sync_run(void *arg)
{
	struct volt_semaphore s;
	struct volt_mutex m;
	struct volt_rwlock l;
	struct volt_notify n;
	struct volt_barrier b;
	struct volt_once o;
	void *v = NULL;

	(void)arg;
	CHECK_OK(volt_semaphore_init(&s, 2));
	CHECK_OK(volt_semaphore_try_acquire(&s, 2));
	volt_semaphore_release(&s, 2);
	CHECK_OK(volt_semaphore_acquire_blocking(&s, 1));
	volt_semaphore_destroy(&s);
	CHECK_OK(volt_mutex_init(&m));
	CHECK_OK(volt_mutex_lock_blocking(&m));
	volt_mutex_unlock(&m);
	volt_mutex_destroy(&m);
	CHECK_OK(volt_rwlock_init(&l));
	CHECK_OK(volt_rwlock_read_blocking(&l));
	volt_rwlock_read_unlock(&l);
	CHECK_OK(volt_rwlock_write_blocking(&l));
	volt_rwlock_write_unlock(&l);
	volt_rwlock_destroy(&l);
	CHECK_OK(volt_notify_init(&n));
	volt_notify_one(&n);
	CHECK_OK(volt_notify_wait_blocking(&n));
	volt_notify_destroy(&n);
	CHECK_OK(volt_barrier_init(&b, 1));
	CHECK_EQ(volt_barrier_wait_blocking(&b), 1);
	volt_barrier_destroy(&b);
	CHECK_OK(volt_once_init(&o));
	CHECK_OK(volt_once_set(&o, (void *)1));
	CHECK_OK(volt_once_get(&o, &v));
	CHECK(v == (void *)1);
	volt_once_destroy(&o);
	return 0;
}

static int oneshot_watch_run(void *arg)
{
	struct volt_oneshot os;
	struct volt_watch w;
	struct volt_watch_rx rx;
	void *v = NULL;

	(void)arg;
	CHECK_OK(volt_oneshot_init(&os));
	CHECK_EQ(volt_oneshot_send(&os, (void *)5), VOLT_CHAN_OK);
	CHECK_EQ(volt_oneshot_recv_blocking(&os, &v), VOLT_CHAN_OK);
	CHECK(v == (void *)5);
	volt_oneshot_destroy(&os);
	CHECK_OK(volt_watch_init(&w, (void *)1));
	volt_watch_subscribe(&w, &rx);
	CHECK_EQ(volt_watch_send(&w, (void *)2), VOLT_CHAN_OK);
	CHECK_EQ(volt_watch_changed_blocking(&rx), VOLT_CHAN_OK);
	CHECK(volt_watch_borrow(&rx) == (void *)2);
	volt_watch_destroy(&w);
	return 0;
}

struct select_ctx {
	struct volt_chan *ch[2];
};

static int select_run(void *arg)
{
	struct select_ctx *c = arg;
	struct volt_select s;
	uint32_t a = 0, b = 0, one = 1;

	CHECK_EQ(volt_chan_try_send(c->ch[1], &one), VOLT_CHAN_OK);
	CHECK_OK(volt_select_init(&s, 7));
	CHECK_EQ(volt_select_add_recv(&s, c->ch[0], &a), 0);
	CHECK_EQ(volt_select_add_recv(&s, c->ch[1], &b), 1);
	CHECK_EQ(volt_select_blocking(&s), 1);
	CHECK_EQ(b, 1);
	return 0;
}

static int addr_run(void *arg)
{
	struct volt_addr a;
	char text[VOLT_ADDR_STRLEN];

	(void)arg;
	CHECK_OK(volt_addr_parse("[::1]:8080", &a));
	CHECK_GT(volt_addr_format(&a, text, sizeof(text)), 0);
	CHECK_STR_EQ(text, "[::1]:8080");
	CHECK_EQ(volt_addr_parse("256.1.1.1:80", &a), -EINVAL);
	CHECK_OK(volt_addr_unix("/tmp/volt.sock", &a));
	return 0;
}

VOLT_TEST(alloc_fail_allocates_nothing)
{
	struct select_ctx sc;
	struct oom_case oc[] = {
		{ "sync primitives", NULL, sync_run, nothing_after, NULL, 0 },
		{ "oneshot, watch", NULL, oneshot_watch_run, nothing_after, NULL, 0 },
		{ "select", NULL, select_run, nothing_after, &sc, 0 },
		{ "volt_addr parse/format", NULL, addr_run, nothing_after, NULL, 0 },
	};

	oom_begin();
	CHECK_OK(volt_chan_new(sizeof(uint32_t), 2, NULL, &sc.ch[0]));
	CHECK_OK(volt_chan_new(sizeof(uint32_t), 2, NULL, &sc.ch[1]));
	for (size_t i = 0; i < sizeof(oc) / sizeof(oc[0]); i++)
		oom_case_none(&oc[i], NULL);
	volt_chan_free(sc.ch[0]);
	volt_chan_free(sc.ch[1]);
}
