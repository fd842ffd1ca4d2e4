/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config.c: defaults, the environment, and the rule that a bad
 * configuration returns -EINVAL and allocates nothing.
 *
 * These are plain tests: each starts by clearing every VOLT_* variable, so
 * the runner's own VOLT_SCHED does not leak in.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "helpers.h"

static const char *const env_vars[] = {
	"VOLT_SCHED", "VOLT_WORKERS", "VOLT_SEED", "VOLT_BUDGET",
	"VOLT_MAX_BLOCKING", "VOLT_BLOCKING_KEEPALIVE_MS", "VOLT_SEARCH_ROUNDS",
	"VOLT_LIFO", "VOLT_LIFO_MAX", "VOLT_GLOBAL_INTERVAL", "VOLT_EVENT_INTERVAL",
	"VOLT_MAX_SEARCHING", "VOLT_IDLE", "VOLT_STEAL_BATCH", "VOLT_PARK_SPIN_NS", "VOLT_PIN",
	"VOLT_TOPOLOGY", "VOLT_TRACE", "VOLT_TRACE_EVENTS",
};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		CHECK_OK(unsetenv(env_vars[i]));
}

static bool known_policy(const char *name)
{
	for (unsigned i = 0; volt_sched_name(i); i++)
		if (strcmp(volt_sched_name(i), name) == 0)
			return true;
	return false;
}

static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

VOLT_TEST(config_defaults)
{
	struct volt_config cfg;
	unsigned n = 0;

	clear_env();
	memset(&cfg, 0xa5, sizeof cfg);
	CHECK_OK(volt_config_init(&cfg));
	CHECK_EQ(cfg.budget, 128);
	CHECK_EQ(cfg.max_blocking_threads, 512);
	CHECK_UEQ(cfg.blocking_keep_alive_ns, 10ull * 1000 * 1000 * 1000);
	CHECK_EQ(cfg.search_rounds, 4);
	CHECK(cfg.lifo);
	CHECK_EQ(cfg.lifo_max_polls, 3);
	CHECK_EQ(cfg.global_interval, 61);
	CHECK_EQ(cfg.event_interval, 61);
	CHECK_EQ(cfg.max_searching, 0);
	CHECK_EQ(cfg.idle, VOLT_IDLE_PARK);
	CHECK_EQ(cfg.steal_batch, 0);
	CHECK_UEQ(cfg.park_spin_ns, 20000);
	CHECK_EQ(cfg.pin, VOLT_PIN_NONE);
	CHECK(cfg.topology == NULL);
	CHECK(cfg.trace == NULL);
	CHECK_EQ(cfg.trace_events, 65536);
	CHECK_STR_EQ(volt_sched_default(), "ring");
	CHECK_LE(cfg.workers, VOLT_MAX_WORKERS);
	if (cfg.scheduler)
		CHECK(known_policy(cfg.scheduler));
	CHECK_OK(volt_config_check(&cfg));

	CHECK(volt_sched_default() != NULL);
	CHECK(known_policy(volt_sched_default()));
	for (n = 0; volt_sched_name(n); n++)
		for (unsigned k = 0; k < n; k++)
			CHECK(strcmp(volt_sched_name(k), volt_sched_name(n)) != 0);
	CHECK_GE(n, 2);
	CHECK(known_policy("global"));
	CHECK(known_policy("sim"));
	CHECK(volt_sched_name(n + 1000) == NULL);
}

/* ---- invalid field values */

static bool main_ran;

static int never_main(struct volt_rt *rt, void *arg)
{
	(void)rt;
	(void)arg;
	main_ran = true;
	return 0;
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

VOLT_TEST(config_invalid_values)
{
	enum { WORKERS, WORKERS_BIG, SCHED, SCHED_EMPTY, BUDGET, MAX_BLOCKING, KEEPALIVE,
	       SEARCH, LIFO_MAX0, LIFO_MAX_BIG, GLOBAL_BIG, EVENT0, EVENT_BIG, SEARCHING_BIG,
	       IDLE_BAD, STEAL_BIG, PIN_BAD, TOPO_EMPTY, TRACE_SMALL, TRACE_BIG, SPIN_BIG, NCASES };
	static const char *const what[NCASES] = {
		"workers = VOLT_MAX_WORKERS + 1", "workers = 99999", "scheduler = \"nope\"",
		"scheduler = \"\"", "budget = 0", "max_blocking_threads = 0",
		"blocking_keep_alive_ns = 0", "search_rounds = 0", "lifo_max_polls = 0",
		"lifo_max_polls = 256", "global_interval = 256", "event_interval = 0",
		"event_interval = 65536", "max_searching = 65", "idle = 7", "steal_batch = 129",
		"pin = 9", "topology = \"\"", "trace_events = 15", "trace_events = 2^24 + 1",
		"park_spin_ns = 1 ms + 1",
	};

	clear_env();
	for (int c = 0; c < NCASES; c++) {
		struct volt_config cfg;
		struct volt_rt *sentinel = (struct volt_rt *)&cfg, *rt = sentinel;
		size_t before, after;

		CHECK_OK(volt_config_init(&cfg));
		switch (c) {
		case WORKERS: cfg.workers = VOLT_MAX_WORKERS + 1; break;
		case WORKERS_BIG: cfg.workers = 99999; break;
		case SCHED: cfg.scheduler = "nope"; break;
		case SCHED_EMPTY: cfg.scheduler = ""; break;
		case BUDGET: cfg.budget = 0; break;
		case MAX_BLOCKING: cfg.max_blocking_threads = 0; break;
		case KEEPALIVE: cfg.blocking_keep_alive_ns = 0; break;
		case SEARCH: cfg.search_rounds = 0; break;
		case LIFO_MAX0: cfg.lifo_max_polls = 0; break;
		case LIFO_MAX_BIG: cfg.lifo_max_polls = 256; break;
		case GLOBAL_BIG: cfg.global_interval = 256; break;
		case EVENT0: cfg.event_interval = 0; break;
		case EVENT_BIG: cfg.event_interval = 65536; break;
		case SEARCHING_BIG: cfg.max_searching = VOLT_MAX_WORKERS + 1; break;
		case IDLE_BAD: cfg.idle = (enum volt_idle)7; break;
		case STEAL_BIG: cfg.steal_batch = 129; break;
		case PIN_BAD: cfg.pin = (enum volt_pin)9; break;
		case TOPO_EMPTY: cfg.topology = ""; break;
		case TRACE_SMALL: cfg.trace_events = 15; break;
		case TRACE_BIG: cfg.trace_events = (1u << 24) + 1; break;
		case SPIN_BIG: cfg.park_spin_ns = 1000001; break;
		}
		CHECK_MSG(volt_config_check(&cfg) == -EINVAL, "%s", what[c]);
		CHECK_MSG(volt_rt_new(&cfg, &rt) == -EINVAL, "%s", what[c]);
		CHECK_MSG(rt == sentinel, "%s: *out was written", what[c]);
		main_ran = false;
		CHECK_MSG(volt_run_with(&cfg, never_main, NULL) == -EINVAL, "%s", what[c]);
		CHECK_MSG(!main_ran, "%s: main ran", what[c]);

		/* allocates nothing: the heap in use is the same after ten refusals */
		before = heap_in_use();
		for (int k = 0; k < 10; k++) {
			(void)volt_config_check(&cfg);
			(void)volt_rt_new(&cfg, &rt);
			(void)volt_run_with(&cfg, never_main, NULL);
		}
		after = heap_in_use();
#if !(defined(VOLT_SANITIZE) && VOLT_SANITIZE)
		/* (sanitizer allocators do not feed mallinfo2) */
		CHECK_MSG(after == before, "%s: heap in use %zu -> %zu", what[c], before, after);
#else
		(void)before;
		(void)after;
#endif
		CHECK(rt == sentinel);
	}
}

VOLT_TEST(config_valid_edges)
{
	struct volt_config cfg;

	clear_env();
	CHECK_OK(volt_config_init(&cfg));
	cfg.workers = VOLT_MAX_WORKERS;
	CHECK_OK(volt_config_check(&cfg));
	cfg.workers = 0;
	CHECK_OK(volt_config_check(&cfg));
	cfg.workers = 1;
	cfg.budget = 1;
	cfg.max_blocking_threads = 1;
	cfg.blocking_keep_alive_ns = 1;
	cfg.search_rounds = 1;
	CHECK_OK(volt_config_check(&cfg));
	cfg.scheduler = NULL;
	CHECK_OK(volt_config_check(&cfg));
	for (unsigned i = 0; volt_sched_name(i); i++) {
		cfg.scheduler = volt_sched_name(i);
		CHECK_OK(volt_config_check(&cfg));
	}
}

/* ---- the environment */

VOLT_TEST(config_env_malformed)
{
	static const struct { const char *var, *value; } bad[] = {
		{ "VOLT_WORKERS", "abc" },   { "VOLT_WORKERS", "-1" },
		{ "VOLT_WORKERS", "99999" }, { "VOLT_WORKERS", "65" },
		{ "VOLT_WORKERS", "3x" },    { "VOLT_SCHED", "nope" },
		{ "VOLT_SEED", "12x" },      { "VOLT_SEED", "abc" },
		{ "VOLT_BUDGET", "0" },      { "VOLT_BUDGET", "65536" },
		{ "VOLT_BUDGET", "many" },   { "VOLT_MAX_BLOCKING", "abc" },
		{ "VOLT_BLOCKING_KEEPALIVE_MS", "soon" },
		{ "VOLT_LIFO", "2" },        { "VOLT_LIFO", "yes" },
		{ "VOLT_LIFO_MAX", "0" },    { "VOLT_GLOBAL_INTERVAL", "256" },
		{ "VOLT_EVENT_INTERVAL", "0" }, { "VOLT_MAX_SEARCHING", "65" },
		{ "VOLT_IDLE", "sleep" },    { "VOLT_IDLE", "" },
		{ "VOLT_STEAL_BATCH", "129" }, { "VOLT_PIN", "tight" },
		{ "VOLT_TRACE_EVENTS", "8" }, { "VOLT_PARK_SPIN_NS", "2000000" },
		{ "VOLT_PARK_SPIN_NS", "fast" },
	};
	struct volt_config def;

	clear_env();
	CHECK_OK(volt_config_init(&def));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct volt_config cfg;
		bool budget_is_bad = strcmp(bad[i].var, "VOLT_BUDGET") == 0;

		clear_env();
		/* a valid variable next to the bad one is still applied */
		CHECK_OK(setenv(budget_is_bad ? "VOLT_SEED" : "VOLT_BUDGET",
				budget_is_bad ? "777" : "16", 1));
		CHECK_OK(setenv(bad[i].var, bad[i].value, 1));
		CHECK_MSG(volt_config_init(&cfg) == -EINVAL, "%s=%s", bad[i].var, bad[i].value);
		if (budget_is_bad) {
			CHECK_UEQ(cfg.seed, 777);
			CHECK_EQ(cfg.budget, def.budget);
		} else {
			CHECK_EQ(cfg.budget, 16);
		}
		/* the malformed field keeps its default */
		if (strcmp(bad[i].var, "VOLT_WORKERS") == 0)
			CHECK_EQ(cfg.workers, def.workers);
		if (strcmp(bad[i].var, "VOLT_SCHED") == 0)
			CHECK(same_name(cfg.scheduler, def.scheduler));
		if (strcmp(bad[i].var, "VOLT_SEED") == 0)
			CHECK_UEQ(cfg.seed, def.seed);
		if (strcmp(bad[i].var, "VOLT_MAX_BLOCKING") == 0)
			CHECK_EQ(cfg.max_blocking_threads, def.max_blocking_threads);
		if (strcmp(bad[i].var, "VOLT_BLOCKING_KEEPALIVE_MS") == 0)
			CHECK_UEQ(cfg.blocking_keep_alive_ns, def.blocking_keep_alive_ns);
		/* what came back is still a usable configuration */
		CHECK_OK(volt_config_check(&cfg));
	}
	clear_env();
}

VOLT_TEST(config_env_valid)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;

	clear_env();
	CHECK_OK(setenv("VOLT_WORKERS", "3", 1));
	CHECK_OK(setenv("VOLT_SEED", "12345", 1));
	CHECK_OK(setenv("VOLT_BUDGET", "16", 1));
	CHECK_OK(setenv("VOLT_MAX_BLOCKING", "7", 1));
	CHECK_OK(setenv("VOLT_BLOCKING_KEEPALIVE_MS", "250", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK_EQ(cfg.workers, 3);
	CHECK_UEQ(cfg.seed, 12345);
	CHECK_EQ(cfg.budget, 16);
	CHECK_EQ(cfg.max_blocking_threads, 7);
	CHECK_UEQ(cfg.blocking_keep_alive_ns, 250ull * 1000 * 1000);

	CHECK_OK(setenv("VOLT_LIFO", "0", 1));
	CHECK_OK(setenv("VOLT_LIFO_MAX", "5", 1));
	CHECK_OK(setenv("VOLT_GLOBAL_INTERVAL", "0", 1));
	CHECK_OK(setenv("VOLT_EVENT_INTERVAL", "31", 1));
	CHECK_OK(setenv("VOLT_MAX_SEARCHING", "1", 1));
	CHECK_OK(setenv("VOLT_IDLE", "yield", 1));
	CHECK_OK(setenv("VOLT_STEAL_BATCH", "8", 1));
	CHECK_OK(setenv("VOLT_PARK_SPIN_NS", "0", 1));
	CHECK_OK(setenv("VOLT_PIN", "scatter", 1));
	CHECK_OK(setenv("VOLT_TOPOLOGY", "pack:2 core:2 pu:1", 1));
	CHECK_OK(setenv("VOLT_TRACE", "/tmp/volt-trace-unused.json", 1));
	CHECK_OK(setenv("VOLT_TRACE_EVENTS", "1024", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK(!cfg.lifo);
	CHECK_EQ(cfg.lifo_max_polls, 5);
	CHECK_EQ(cfg.global_interval, 0);
	CHECK_EQ(cfg.event_interval, 31);
	CHECK_EQ(cfg.max_searching, 1);
	CHECK_EQ(cfg.idle, VOLT_IDLE_YIELD);
	CHECK_EQ(cfg.steal_batch, 8);
	CHECK_UEQ(cfg.park_spin_ns, 0);
	CHECK_EQ(cfg.pin, VOLT_PIN_SCATTER);
	CHECK_STR_EQ(cfg.topology, "pack:2 core:2 pu:1");
	CHECK_STR_EQ(cfg.trace, "/tmp/volt-trace-unused.json");
	CHECK_EQ(cfg.trace_events, 1024);
	CHECK_OK(setenv("VOLT_TRACE", "", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK(cfg.trace == NULL); /* empty = off */
	for (const char *const *k = (const char *const[]){ "VOLT_LIFO", "VOLT_LIFO_MAX",
			"VOLT_GLOBAL_INTERVAL", "VOLT_EVENT_INTERVAL", "VOLT_MAX_SEARCHING",
			"VOLT_IDLE", "VOLT_STEAL_BATCH", "VOLT_PARK_SPIN_NS", "VOLT_PIN",
			"VOLT_TOPOLOGY", "VOLT_TRACE",
			"VOLT_TRACE_EVENTS", NULL }; *k; k++)
		CHECK_OK(unsetenv(*k));

	for (unsigned i = 0; volt_sched_name(i); i++) {
		CHECK_OK(setenv("VOLT_SCHED", volt_sched_name(i), 1));
		CHECK_OK(volt_config_init(&cfg));
		CHECK_STR_EQ(cfg.scheduler, volt_sched_name(i));
	}
	CHECK_OK(setenv("VOLT_WORKERS", "0", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK_OK(setenv("VOLT_WORKERS", "64", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK_EQ(cfg.workers, 64);

	/* a runtime built from the environment... */
	CHECK_OK(setenv("VOLT_SCHED", "global", 1));
	CHECK_OK(setenv("VOLT_WORKERS", "3", 1));
	CHECK_OK(volt_config_init(&cfg));
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_STR_EQ(volt_rt_scheduler(rt), "global");
	CHECK_EQ(volt_rt_workers(rt), 3);
	CHECK_UEQ(volt_rt_seed(rt), 12345);
	volt_rt_free(rt);

	/* ...where a field the program sets wins over the environment */
	CHECK_OK(volt_config_init(&cfg));
	cfg.workers = 2;
	cfg.seed = 99;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_EQ(volt_rt_workers(rt), 2);
	CHECK_UEQ(volt_rt_seed(rt), 99);
	volt_rt_free(rt);

	/* cfg NULL means volt_config_init() */
	rt = NULL;
	CHECK_OK(volt_rt_new(NULL, &rt));
	CHECK_STR_EQ(volt_rt_scheduler(rt), "global");
	CHECK_EQ(volt_rt_workers(rt), 3);
	volt_rt_free(rt);
	clear_env();
}
