/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sched_policy.c: what distinguishes the policies, checked on one
 * thread through struct volt__sched_ops, so each outcome is exact: how much
 * a steal takes, who may take a LIFO/runnext slot and on which pass, the
 * LIFO cap, and the victim order of `numa`.
 */
#include <stdlib.h>

#include "core/task.h"
#include "core/topology.h"
#include "runner.h"
#include "schedulers/sched.h"

#define NTASKS 300

struct policy_fixture {
	const struct volt__sched_ops *ops;
	void *state;
	struct volt_config cfg;
	struct volt__topo topo;
	struct volt__metrics metrics[4];
	struct volt__task tasks[NTASKS];
};

static void fixture_init(struct policy_fixture *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->ops = volt__sched_find(name);
	CHECK(f->ops != NULL);
	CHECK_EQ(volt_config_init(&f->cfg), 0);
	f->cfg.seed = 5;
}

static void fixture_start(struct policy_fixture *f, unsigned workers)
{
	CHECK_EQ(volt__topo_init(&f->topo, &f->cfg, workers), 0);

	struct volt__sched_env env = { workers, 5, &f->cfg, f->metrics, &f->topo };

	CHECK_EQ(f->ops->init(&f->state, &env), 0);
}

/*
 * The push that puts a task in the owner's own queue (not a slot, not the
 * global queue): a yield for the ring family, a spawn for chaselev (which
 * sends yields to its global FIFO).
 */
static enum volt__push local_push(const char *policy)
{
	return strcmp(policy, "chaselev") == 0 ? VOLT__PUSH_SPAWN : VOLT__PUSH_YIELD;
}

static unsigned drain(struct policy_fixture *f, unsigned w)
{
	unsigned n = 0;
	bool lifo;

	while (f->ops->pop(f->state, w, false, &lifo))
		n++;
	return n;
}

static void fixture_fini(struct policy_fixture *f, unsigned workers)
{
	for (unsigned w = 0; w < workers; w++)
		drain(f, w);
	CHECK(!f->ops->has_work(f->state));
	f->ops->fini(f->state);
}

/* Steal-half: a victim with 100 queued tasks loses 50; steal_batch caps it. */
static void check_steal_amount(const char *policy, unsigned batch, unsigned expect)
{
	struct policy_fixture f;

	fixture_init(&f, policy);
	f.cfg.steal_batch = batch;
	fixture_start(&f, 2);
	for (int i = 0; i < 100; i++)
		f.ops->push(f.state, 0, &f.tasks[i], local_push(policy));
	CHECK(f.ops->steal(f.state, 1, 0, 4) != NULL);
	/* the thief runs one and queued the rest in its own ring */
	CHECK_EQ(drain(&f, 1) + 1, expect);
	CHECK_EQ(drain(&f, 0), 100 - expect);
	CHECK_UEQ(atomic_load(&f.metrics[1].tasks_stolen), expect);
	fixture_fini(&f, 2);
}

VOLT_TEST(policy_steal_half_and_batch)
{
	static const char *const ring_family[] = { "ring", "runnext", "numa" };

	for (int i = 0; i < 3; i++) {
		check_steal_amount(ring_family[i], 0, 50);
		check_steal_amount(ring_family[i], 8, 8);
		check_steal_amount(ring_family[i], 1, 1);
	}
	check_steal_amount("chaselev", 0, 1); /* Chase-Lev steals one at a time */
}

/* The slot: `ring` never gives it to a thief; `runnext` only on the last pass. */
VOLT_TEST(policy_slot_stealing)
{
	static const struct { const char *policy; bool last_pass_takes; } cases[] = {
		{ "ring", false }, { "numa", false }, { "runnext", true },
	};

	for (int c = 0; c < 3; c++) {
		struct policy_fixture f;
		bool lifo;

		fixture_init(&f, cases[c].policy);
		fixture_start(&f, 2);
		f.ops->push(f.state, 0, &f.tasks[0], VOLT__PUSH_WAKE); /* into the slot */
		for (unsigned pass = 0; pass + 1 < 4; pass++)
			CHECK(f.ops->steal(f.state, 1, pass, 4) == NULL);
		struct volt__task *t = f.ops->steal(f.state, 1, 3, 4);

		if (cases[c].last_pass_takes) {
			CHECK(t == &f.tasks[0]);
			CHECK(f.ops->pop(f.state, 0, false, &lifo) == NULL);
		} else {
			CHECK(t == NULL);
			CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[0]);
			CHECK(lifo);
		}
		fixture_fini(&f, 2);
	}
}

/*
 * LIFO order and its cap: each wake displaces the slot's task to the ring;
 * at most lifo_max_polls tasks in a row come from the slot, then the ring's
 * oldest runs; with lifo off, wakes are plain FIFO.
 */
VOLT_TEST(policy_lifo_cap_and_off)
{
	struct policy_fixture f;
	bool lifo;

	fixture_init(&f, "ring");
	f.cfg.lifo_max_polls = 2;
	fixture_start(&f, 1);
	for (int i = 0; i < 3; i++)
		f.ops->push(f.state, 0, &f.tasks[i], VOLT__PUSH_YIELD); /* ring: 0 1 2 */
	f.ops->push(f.state, 0, &f.tasks[10], VOLT__PUSH_WAKE);  /* slot: 10 */
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[10] && lifo);
	f.ops->push(f.state, 0, &f.tasks[11], VOLT__PUSH_WAKE);
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[11] && lifo);
	f.ops->push(f.state, 0, &f.tasks[12], VOLT__PUSH_WAKE);
	/* the cap (2) is reached: 12 goes behind 0 1 2 */
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[0] && !lifo);
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[1] && !lifo);
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[2] && !lifo);
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[12] && !lifo);
	fixture_fini(&f, 1);

	fixture_init(&f, "ring");
	f.cfg.lifo = false;
	fixture_start(&f, 1);
	f.ops->push(f.state, 0, &f.tasks[0], VOLT__PUSH_WAKE);
	f.ops->push(f.state, 0, &f.tasks[1], VOLT__PUSH_WAKE);
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[0] && !lifo);
	CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[1] && !lifo);
	fixture_fini(&f, 1);
}

/* global_first: injected tasks are taken before local ones when asked. */
VOLT_TEST(policy_global_first)
{
	static const char *const stealers[] = { "ring", "runnext", "numa", "chaselev" };

	for (int i = 0; i < 4; i++) {
		struct policy_fixture f;
		bool lifo;

		fixture_init(&f, stealers[i]);
		fixture_start(&f, 2);
		f.ops->push(f.state, 0, &f.tasks[0], local_push(stealers[i]));
		f.ops->push(f.state, -1, &f.tasks[1], VOLT__PUSH_REMOTE);
		CHECK(f.ops->pop(f.state, 0, true, &lifo) == &f.tasks[1]);
		CHECK(f.ops->pop(f.state, 0, false, &lifo) == &f.tasks[0]);
		fixture_fini(&f, 2);
	}
}

/* numa with 4 workers on a synthetic two-package machine, laid compact. */
static void numa_start(struct policy_fixture *f, int round)
{
	fixture_init(f, "numa");
	f->cfg.topology = "pack:2 numa:1 core:2 pu:1";
	f->cfg.pin = VOLT_PIN_COMPACT;
	f->cfg.seed = (uint64_t)round + 1;
	fixture_start(f, 4);
}

/*
 * numa: worker 0's thief pass tries its package neighbour before the
 * workers of the other package, whatever the random start; `ring` picks
 * either.
 */
VOLT_TEST(policy_numa_steals_near_first)
{
	for (int round = 0; round < 20; round++) {
		struct policy_fixture f;

		numa_start(&f, round);
		CHECK_LT(f.topo.dist[0][1], f.topo.dist[0][2]);
		for (int i = 0; i < 10; i++) {
			f.ops->push(f.state, 1, &f.tasks[i], VOLT__PUSH_YIELD);       /* near */
			f.ops->push(f.state, 2, &f.tasks[100 + i], VOLT__PUSH_YIELD); /* far */
			f.ops->push(f.state, 3, &f.tasks[200 + i], VOLT__PUSH_YIELD); /* far */
		}
		struct volt__task *t = f.ops->steal(f.state, 0, 0, 4);

		CHECK(t != NULL);
		CHECK_LT(t - f.tasks, 100);
		fixture_fini(&f, 4);
	}
}

/*
 * numa: one pass tries every victim of every class once, so a lone victim
 * with work is always found, whatever the random start (a pass that drew a
 * new random victim at each step could miss it).
 */
VOLT_TEST(policy_numa_pass_finds_a_lone_victim)
{
	for (int round = 0; round < 50; round++) {
		struct policy_fixture f;

		numa_start(&f, round);
		for (int i = 0; i < 4; i++)
			f.ops->push(f.state, 3, &f.tasks[i], VOLT__PUSH_YIELD);
		CHECK(f.ops->steal(f.state, 0, 0, 4) != NULL);
		fixture_fini(&f, 4);
	}
}
