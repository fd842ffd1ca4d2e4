/* SPDX-License-Identifier: MIT */
/* tests/model/models.h: the models the checker runs (models.c). */
#ifndef VOLT_MODEL_MODELS_H
#define VOLT_MODEL_MODELS_H

#include "tests/model/sched.h"

struct vm_model {
	const char *name;
	const char *about;
	unsigned long pct_steps; /* about how many points a run has (PCT's range) */
	/* One run under o (after vm_prepare): 0, or -1 with vm_message() set. */
	int (*run)(const struct vm_opts *o);
	const char *teeth; /* planted bugs it must catch: VOLT_MUTANT_ names, space-separated */
};

extern const struct vm_model vm_models[];
extern const unsigned vm_nmodels;

#endif /* VOLT_MODEL_MODELS_H */
