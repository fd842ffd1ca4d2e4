/* SPDX-License-Identifier: MIT */
/*
 * schedulers/registry.c: the policies built into the library, by name.
 * Adding a policy: write schedulers/<name>.c defining
 * `const struct volt__sched_ops volt__sched_<name>`, declare it in
 * schedulers/sched.h and list it here; the test suite and the harness
 * iterate this table, so they pick it up by name.
 *
 * The teaching labs (docs/teaching/) build this file with -DVOLT_LAB_POLICY
 * and link a student's policy file defining `volt__sched_lab`, named "lab",
 * which is then listed last; normal builds do not see it.
 */
#include <string.h>

#include <volt.h>

#include "schedulers/sched.h"

#ifdef VOLT_LAB_POLICY
extern const struct volt__sched_ops volt__sched_lab;
#endif

static const struct volt__sched_ops *const policies[] = {
	&volt__sched_global,
	&volt__sched_sim,
	&volt__sched_chaselev,
	&volt__sched_ring,
	&volt__sched_runnext,
	&volt__sched_numa,
#ifdef VOLT_LAB_POLICY
	&volt__sched_lab,
#endif
};

#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))

const struct volt__sched_ops *volt__sched_find(const char *name)
{
	for (unsigned i = 0; name && i < NPOLICIES; i++)
		if (strcmp(policies[i]->name, name) == 0)
			return policies[i];
	return NULL;
}

const char *volt_sched_name(unsigned i)
{
	return i < NPOLICIES ? policies[i]->name : NULL;
}

const char *volt_sched_default(void)
{
	return "ring";
}
