/* SPDX-License-Identifier: MIT */
/*
 * drivers/registry.c: the I/O drivers built into the library, by name.
 * The tests and the harness iterate volt_driver_name(i), so a driver added
 * to `drivers` is picked up by both. `hidden` drivers are found by name
 * (cfg.driver, VOLT_DRIVER) but never listed: `sim` (drivers/sim.c) serves
 * no kernel socket, and whatever iterates the list needs real ones.
 */
#include <string.h>

#include "drivers/driver.h"
#include "drivers/sim.h"

static const struct volt__driver_ops *const drivers[] = {
	&volt__driver_uring,
	&volt__driver_epoll,
};

static const struct volt__driver_ops *const hidden[] = {
	&volt__driver_sim,
};

#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))
#define NHIDDEN (sizeof(hidden) / sizeof(hidden[0]))

const struct volt__driver_ops *volt__driver_find(const char *name)
{
	for (unsigned i = 0; name && i < NDRIVERS; i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	for (unsigned i = 0; name && i < NHIDDEN; i++)
		if (strcmp(hidden[i]->name, name) == 0)
			return hidden[i];
	return NULL;
}

const char *volt__driver_known(const char *name)
{
	const struct volt__driver_ops *ops = volt__driver_find(name);

	if (name && strcmp(name, "auto") == 0)
		return "auto";
	return ops ? ops->name : NULL;
}

const char *volt_driver_name(unsigned i)
{
	return i < NDRIVERS ? drivers[i]->name : NULL;
}
