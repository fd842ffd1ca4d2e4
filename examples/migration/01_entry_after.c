/* SPDX-License-Identifier: MIT */
/*
 * 01_entry_after.c: the same program with a Volt-C entry point, in the
 * three forms docs/MIGRATION.md (step 1) shows: volt_run (defaults and the
 * VOLT_* environment), volt_run_with (a config the program adjusts) and the
 * manual volt_rt_new / volt_rt_run / volt_rt_free. Each runs app() as the
 * root function on the calling thread, which is not a worker: it may block
 * on what it spawns. When app returns, the runtime shuts down.
 */
#include <stdio.h>
#include <volt.h>

static long serve(long n)
{
	long sum = 0;

	for (long i = 1; i <= n; i++)
		sum += i;
	return sum;
}

static int app(struct volt_rt *rt, void *arg)
{
	long *sum = arg;

	(void)rt;
	*sum = serve(100);
	return 0;
}

/* The manual form: the runtime outlives one call, so it can serve several. */
static int run_manually(long *sum)
{
	struct volt_rt *rt;
	int err = volt_rt_new(NULL, &rt); /* NULL: volt_config_init() */

	if (err)
		return err;
	err = volt_rt_run(rt, app, sum);
	volt_rt_free(rt);
	return err;
}

int main(void)
{
	struct volt_config cfg;
	long a = 0, b = 0, c = 0;

	if (volt_run(app, &a) != 0)
		return 1;

	if (volt_config_init(&cfg) != 0) /* defaults, then VOLT_* variables */
		return 1;
	cfg.workers = 2;                 /* fields set afterwards win */
	cfg.max_blocking_threads = 16;
	if (volt_run_with(&cfg, app, &b) != 0)
		return 1;

	if (run_manually(&c) != 0)
		return 1;

	if (a != b || b != c)
		return 1;
	printf("result: sum 1..100 = %ld\n", a);
	return a == 5050 ? 0 : 1;
}
