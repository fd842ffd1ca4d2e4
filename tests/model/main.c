/* SPDX-License-Identifier: MIT */
/*
 * tests/model/main.c: volt-model, the queue model checker's command line.
 *
 *   volt-model [--model NAME] [--seeds N] [--first S] [--seed S] [--trace]
 *              [--expect-fail] [--check-determinism] [--max-steps N] [--list]
 *
 * Runs each model (or NAME) over seeds first..first+N-1 and stops at the
 * first failure, printing the seed and the command that replays it. The
 * seed alone fixes a run: the model's sizes, the strategy (even seeds
 * uniform random, odd seeds PCT of depth 2 or 3) and every pick.
 * --expect-fail is for a mutant build: seeds outer, models inner, exit 0 at
 * the first failure (the planted bug was caught), 1 if none fails.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/model/models.h"

#if defined(VOLT_MUTANT_RING_POP_NO_CAS)
#define MUTANT "RING_POP_NO_CAS"
#elif defined(VOLT_MUTANT_RING_SLOT_STOLEN_TWICE)
#define MUTANT "RING_SLOT_STOLEN_TWICE"
#elif defined(VOLT_MUTANT_RING_STEAL_NO_GUARD)
#define MUTANT "RING_STEAL_NO_GUARD"
#elif defined(VOLT_MUTANT_CHASELEV_LAST_NO_CAS)
#define MUTANT "CHASELEV_LAST_NO_CAS"
#elif defined(VOLT_MUTANT_CHASELEV_GROW_OLD_ARRAY)
#define MUTANT "CHASELEV_GROW_OLD_ARRAY"
#elif defined(VOLT_MUTANT_SEM_RELEASE_IGNORES_WAITERS)
#define MUTANT "SEM_RELEASE_IGNORES_WAITERS"
#elif defined(VOLT_MUTANT_SEM_CANCEL_KEEPS_HANDED)
#define MUTANT "SEM_CANCEL_KEEPS_HANDED"
#elif defined(VOLT_MUTANT_SEM_CANCEL_GRANTED_LEAKS)
#define MUTANT "SEM_CANCEL_GRANTED_LEAKS"
#elif defined(VOLT_MUTANT_NOTIFY_WAIT_NO_CAS)
#define MUTANT "NOTIFY_WAIT_NO_CAS"
#elif defined(VOLT_MUTANT_NOTIFY_CANCEL_DROPS_PERMIT)
#define MUTANT "NOTIFY_CANCEL_DROPS_PERMIT"
#elif defined(VOLT_MUTANT_BARRIER_CANCEL_KEEPS_COUNT)
#define MUTANT "BARRIER_CANCEL_KEEPS_COUNT"
#elif defined(VOLT_MUTANT_ONCE_QUEUE_NO_RECHECK)
#define MUTANT "ONCE_QUEUE_NO_RECHECK"
#elif defined(VOLT_MUTANT_ONCE_CANCEL_DROPS_TURN)
#define MUTANT "ONCE_CANCEL_DROPS_TURN"
#elif defined(VOLT_MUTANT_VYUKOV_POP_NO_SEQ_CHECK)
#define MUTANT "VYUKOV_POP_NO_SEQ_CHECK"
#elif defined(VOLT_MUTANT_VYUKOV_PUSH_PUBLISH_BEFORE_COPY)
#define MUTANT "VYUKOV_PUSH_PUBLISH_BEFORE_COPY"
#elif defined(VOLT_MUTANT_VYUKOV_CLOSE_IGNORED_BY_PUSH)
#define MUTANT "VYUKOV_CLOSE_IGNORED_BY_PUSH"
#elif defined(VOLT_MUTANT_CHAN_WAIT_NO_RECHECK)
#define MUTANT "CHAN_WAIT_NO_RECHECK"
#elif defined(VOLT_MUTANT_CHAN_CANCEL_DROPS_WAKE)
#define MUTANT "CHAN_CANCEL_DROPS_WAKE"
#elif defined(VOLT_MUTANT_CHAN_CLOSE_WAKES_RECEIVERS_ONLY)
#define MUTANT "CHAN_CLOSE_WAKES_RECEIVERS_ONLY"
#else
#define MUTANT NULL
#endif

#define DEFAULT_SEEDS 2000
#define RUN_TIMEOUT_S 20

static const char *prog;
static char watchdog_msg[512];

static void on_alarm(int sig)
{
	(void)sig;
	ssize_t r = write(2, watchdog_msg, strlen(watchdog_msg));

	(void)r;
	_exit(3);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void opts_for(struct vm_opts *o, const struct vm_model *m, uint64_t seed,
		     unsigned long max_steps, bool trace)
{
	o->seed = seed;
	o->strategy = seed % 2 ? VM_PCT : VM_RANDOM;
	o->pct_depth = 2 + (unsigned)(seed / 2 % 2);
	o->pct_steps = m->pct_steps;
	o->max_steps = max_steps;
	o->trace = trace;
}

static const char *strategy_name(const struct vm_opts *o)
{
	static char buf[32];

	if (o->strategy == VM_RANDOM)
		return "random";
	snprintf(buf, sizeof(buf), "pct depth %u", o->pct_depth);
	return buf;
}

/* One run; 0 or -1. check: run it twice and compare the schedules. */
static int run_one(const struct vm_model *m, uint64_t seed, unsigned long max_steps, bool trace,
		   bool check)
{
	struct vm_opts o;

	opts_for(&o, m, seed, max_steps, trace);
	snprintf(watchdog_msg, sizeof(watchdog_msg),
		 "FAIL model %s seed %llu: no end after %d s (a hang outside the points)\n"
		 "  replay: %s --model %s --seed %llu --trace\n",
		 m->name, (unsigned long long)seed, RUN_TIMEOUT_S, prog, m->name,
		 (unsigned long long)seed);
	alarm(RUN_TIMEOUT_S);
	if (trace)
		printf("model %s seed %llu (%s):\n", m->name, (unsigned long long)seed,
		       strategy_name(&o));
	vm_prepare(&o);

	int ret = m->run(&o);

	if (!ret && check) {
		uint64_t hash = vm_schedule_hash();
		unsigned long steps = vm_steps();

		vm_prepare(&o);
		ret = m->run(&o);
		if (!ret && (hash != vm_schedule_hash() || steps != vm_steps())) {
			vm_fail("not deterministic: %lu then %lu steps, schedules differ", steps,
				vm_steps());
			ret = -1;
		}
	}
	alarm(0);
	if (ret) {
		printf("FAIL model %s seed %llu (%s, %lu steps): %s\n", m->name,
		       (unsigned long long)seed, strategy_name(&o), vm_steps(), vm_message());
		printf("  replay: %s --model %s --seed %llu --trace\n", prog, m->name,
		       (unsigned long long)seed);
	}
	return ret;
}

/* Does the space-separated list `names` hold `name`? */
static bool listed(const char *names, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = names; p && (p = strstr(p, name)); p += len)
		if ((p == names || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

/* The first failing seed of model m from `first` (0 if none), quietly. */
static unsigned long long first_failure(const struct vm_model *m, unsigned long long first,
					unsigned long long seeds, unsigned long max_steps)
{
	for (unsigned long long s = first; s < first + seeds; s++) {
		struct vm_opts o;

		opts_for(&o, m, s, max_steps, false);
		alarm(RUN_TIMEOUT_S);
		vm_prepare(&o);
		if (m->run(&o)) {
			alarm(0);
			return s;
		}
	}
	alarm(0);
	return 0;
}

/*
 * --expect-fail, for a mutant build: first any model, seeds outer and models
 * inner (so the first catch comes early whichever model has it); then every
 * other model whose teeth name this mutant must catch it on its own. Exit 0
 * when all did, 1 when the mutant survived somewhere.
 */
static int expect_caught(const struct vm_model **sel, unsigned nsel, unsigned long long first,
			 unsigned long long seeds, unsigned long max_steps, bool trace)
{
	const char *name = MUTANT ? MUTANT : "(none)";
	double t0 = now();
	unsigned long long runs = 0;

	for (unsigned long long s = first; s < first + seeds; s++)
		for (unsigned m = 0; m < nsel; m++) {
			runs++;
			if (!run_one(sel[m], s, max_steps, trace, false))
				continue;

			char also[512] = "";
			size_t used = 0;
			int survived = 0;

			for (unsigned k = 0; k < nsel; k++) {
				if (k == m || !MUTANT || !listed(sel[k]->teeth, MUTANT))
					continue;

				unsigned long long at = first_failure(sel[k], first, seeds, max_steps);

				if (!at) {
					printf("SURVIVED: mutant %s in model %s, which must catch it "
					       "(%llu seeds)\n", name, sel[k]->name, seeds);
					survived = 1;
				} else if (used < sizeof(also)) {
					used += (size_t)snprintf(also + used, sizeof(also) - used,
								 "%s %s at seed %llu",
								 used ? "," : "; also", sel[k]->name, at);
				}
			}
			printf("caught: mutant %s by model %s at seed %llu (run %llu)%s, %.2f s\n", name,
			       sel[m]->name, s, runs, also, now() - t0);
			return survived;
		}
	printf("SURVIVED: mutant %s passed %llu seeds of %u models\n", name, seeds, nsel);
	return 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [--model NAME] [--seeds N] [--first S] [--seed S] [--trace]\n"
		"          [--expect-fail] [--check-determinism] [--max-steps N] [--list]\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	unsigned long long first = 1, seeds = DEFAULT_SEEDS;
	unsigned long max_steps = 200000;
	bool trace = false, expect_fail = false, check = false;

	prog = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--model") && v)
			only = argv[++i];
		else if (!strcmp(a, "--seeds") && v)
			seeds = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--first") && v)
			first = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--seed") && v) {
			first = strtoull(argv[++i], NULL, 0);
			seeds = 1;
		} else if (!strcmp(a, "--max-steps") && v)
			max_steps = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--trace"))
			trace = true;
		else if (!strcmp(a, "--expect-fail"))
			expect_fail = true;
		else if (!strcmp(a, "--check-determinism"))
			check = true;
		else if (!strcmp(a, "--list")) {
			for (unsigned m = 0; m < vm_nmodels; m++)
				printf("%-14s %s\n", vm_models[m].name, vm_models[m].about);
			return 0;
		} else
			usage();
	}

	const struct vm_model *sel[32];
	unsigned nsel = 0;

	for (unsigned m = 0; m < vm_nmodels; m++)
		if (!only || !strcmp(only, vm_models[m].name))
			sel[nsel++] = &vm_models[m];
	if (!nsel) {
		fprintf(stderr, "%s: no model named %s (--list)\n", prog, only);
		return 2;
	}
	signal(SIGALRM, on_alarm);

	if (expect_fail)
		return expect_caught(sel, nsel, first, seeds, max_steps, trace);

	int failed = 0;

	for (unsigned m = 0; m < nsel; m++) {
		double t0 = now();
		unsigned long most = 0;
		unsigned long long total = 0, runs = 0;
		int ret = 0;

		for (unsigned long long s = first; s < first + seeds && !ret; s++) {
			ret = run_one(sel[m], s, max_steps, trace, check);
			if (vm_steps() > most)
				most = vm_steps();
			total += vm_steps();
			runs++;
		}
		if (ret) {
			failed++;
			continue;
		}
		printf("ok   model %-14s %llu seeds from %llu%s, %llu steps a run (at most %lu), "
		       "%.2f s\n",
		       sel[m]->name, seeds, first, check ? " (each twice, same schedule)" : "",
		       total / runs, most, now() - t0);
	}
	return failed ? 1 : 0;
}
