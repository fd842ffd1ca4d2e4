/* SPDX-License-Identifier: MIT */
/* core/config.c: defaults, environment overrides and validation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rt.h"

#define BUDGET_MAX 65535u
#define SEARCH_ROUNDS_MAX 64u
#define BLOCKING_MAX 65536u
#define LIFO_MAX 255u
#define INTERVAL_MAX 255u
#define EVENT_MAX 65535u
#define STEAL_BATCH_MAX 128u /* half a ring */
#define PARK_SPIN_MAX 1000000u /* 1 ms */
#define TRACE_MIN 16u
#define TRACE_MAX (1u << 24)

/* Strict decimal: digits only, no sign, no spaces, no overflow past max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');

		if (d > max || v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Applies VOLT_<name> to *field if set; -EINVAL leaves *field as it was. */
static int env_u64(const char *name, uint64_t min, uint64_t max, uint64_t *field)
{
	const char *s = getenv(name);
	uint64_t v;

	if (!s)
		return 0;
	if (parse_u64(s, max, &v) || v < min)
		return -EINVAL;
	*field = v;
	return 0;
}

static int env_unsigned(const char *name, unsigned min, unsigned max, unsigned *field)
{
	uint64_t v = *field;
	int ret = env_u64(name, min, max, &v);

	*field = (unsigned)v;
	return ret;
}

static const char *const idle_names[] = { "park", "spin", "yield", NULL };
static const char *const clock_names[] = { "auto", "real", "virtual", NULL };
static const char *const pin_names[] = { "none", "compact", "scatter", "numa", NULL };

/* Applies VOLT_<name> naming one of names[] (its index) to *field. */
static int env_enum(const char *name, const char *const *names, unsigned *field)
{
	const char *s = getenv(name);

	if (!s)
		return 0;
	for (unsigned i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0) {
			*field = i;
			return 0;
		}
	return -EINVAL;
}

int volt_config_init(struct volt_config *cfg)
{
	int ret = 0;
	uint64_t keep_ms = 10000;

	if (!cfg)
		return -EINVAL;
	cfg->workers = 0;
	cfg->scheduler = NULL;
	cfg->driver = NULL;
	cfg->seed = 0;
	cfg->budget = 128;
	cfg->max_blocking_threads = 512;
	cfg->blocking_keep_alive_ns = 10ull * 1000 * 1000 * 1000;
	cfg->search_rounds = 4;
	cfg->lifo = true;
	cfg->lifo_max_polls = 3;
	cfg->global_interval = 61;
	cfg->event_interval = 61;
	cfg->max_searching = 0;
	cfg->idle = VOLT_IDLE_PARK;
	cfg->steal_batch = 0;
	cfg->park_spin_ns = 20000;
	cfg->clock = VOLT_CLOCK_AUTO;
	cfg->pin = VOLT_PIN_NONE;
	cfg->topology = NULL;
	cfg->trace = NULL;
	cfg->trace_events = 65536;

	const char *sched = getenv("VOLT_SCHED");

	if (sched) {
		if (volt__sched_find(sched))
			cfg->scheduler = volt__sched_find(sched)->name;
		else
			ret = -EINVAL;
	}
	const char *driver = getenv("VOLT_DRIVER");

	if (driver) {
		if (volt__driver_known(driver))
			cfg->driver = volt__driver_known(driver);
		else
			ret = -EINVAL;
	}
	ret |= env_unsigned("VOLT_WORKERS", 0, VOLT_MAX_WORKERS, &cfg->workers);
	ret |= env_u64("VOLT_SEED", 0, UINT64_MAX, &cfg->seed);
	ret |= env_unsigned("VOLT_BUDGET", 1, BUDGET_MAX, &cfg->budget);
	ret |= env_unsigned("VOLT_MAX_BLOCKING", 1, BLOCKING_MAX, &cfg->max_blocking_threads);
	ret |= env_unsigned("VOLT_SEARCH_ROUNDS", 1, SEARCH_ROUNDS_MAX, &cfg->search_rounds);
	if (env_u64("VOLT_BLOCKING_KEEPALIVE_MS", 1, UINT64_MAX / 1000000, &keep_ms))
		ret = -EINVAL;
	else
		cfg->blocking_keep_alive_ns = keep_ms * 1000000;

	unsigned lifo = cfg->lifo;

	ret |= env_unsigned("VOLT_LIFO", 0, 1, &lifo);
	cfg->lifo = lifo;
	ret |= env_unsigned("VOLT_LIFO_MAX", 1, LIFO_MAX, &cfg->lifo_max_polls);
	ret |= env_unsigned("VOLT_GLOBAL_INTERVAL", 0, INTERVAL_MAX, &cfg->global_interval);
	ret |= env_unsigned("VOLT_EVENT_INTERVAL", 1, EVENT_MAX, &cfg->event_interval);
	ret |= env_unsigned("VOLT_MAX_SEARCHING", 0, VOLT_MAX_WORKERS, &cfg->max_searching);
	ret |= env_unsigned("VOLT_STEAL_BATCH", 0, STEAL_BATCH_MAX, &cfg->steal_batch);
	ret |= env_u64("VOLT_PARK_SPIN_NS", 0, PARK_SPIN_MAX, &cfg->park_spin_ns);
	ret |= env_unsigned("VOLT_TRACE_EVENTS", TRACE_MIN, TRACE_MAX, &cfg->trace_events);
	ret |= env_enum("VOLT_IDLE", idle_names, (unsigned *)&cfg->idle);
	ret |= env_enum("VOLT_PIN", pin_names, (unsigned *)&cfg->pin);
	ret |= env_enum("VOLT_CLOCK", clock_names, (unsigned *)&cfg->clock);
	if (getenv("VOLT_TOPOLOGY"))
		cfg->topology = getenv("VOLT_TOPOLOGY");
	if (getenv("VOLT_TRACE"))
		cfg->trace = *getenv("VOLT_TRACE") ? getenv("VOLT_TRACE") : NULL;
	return ret ? -EINVAL : 0;
}

int volt_config_check(const struct volt_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	if (cfg->workers > VOLT_MAX_WORKERS)
		return -EINVAL;
	if (cfg->scheduler && !volt__sched_find(cfg->scheduler))
		return -EINVAL;
	if (cfg->driver && !volt__driver_known(cfg->driver))
		return -EINVAL;
	if (cfg->budget < 1 || cfg->budget > BUDGET_MAX)
		return -EINVAL;
	if (cfg->max_blocking_threads < 1 || cfg->max_blocking_threads > BLOCKING_MAX)
		return -EINVAL;
	if (cfg->blocking_keep_alive_ns == 0)
		return -EINVAL;
	if (cfg->search_rounds < 1 || cfg->search_rounds > SEARCH_ROUNDS_MAX)
		return -EINVAL;
	if (cfg->lifo_max_polls < 1 || cfg->lifo_max_polls > LIFO_MAX)
		return -EINVAL;
	if (cfg->global_interval > INTERVAL_MAX)
		return -EINVAL;
	if (cfg->event_interval < 1 || cfg->event_interval > EVENT_MAX)
		return -EINVAL;
	if (cfg->max_searching > VOLT_MAX_WORKERS || cfg->steal_batch > STEAL_BATCH_MAX)
		return -EINVAL;
	if (cfg->park_spin_ns > PARK_SPIN_MAX)
		return -EINVAL;
	if ((unsigned)cfg->idle > VOLT_IDLE_YIELD || (unsigned)cfg->pin > VOLT_PIN_NUMA)
		return -EINVAL;
	if ((unsigned)cfg->clock > VOLT_CLOCK_VIRTUAL)
		return -EINVAL;
	if (cfg->clock == VOLT_CLOCK_VIRTUAL && cfg->idle != VOLT_IDLE_PARK)
		return -EINVAL; /* workers that never sleep never let virtual time move */
	if (cfg->trace_events < TRACE_MIN || cfg->trace_events > TRACE_MAX)
		return -EINVAL;
	if (cfg->topology && !*cfg->topology)
		return -EINVAL;
	return 0;
}
