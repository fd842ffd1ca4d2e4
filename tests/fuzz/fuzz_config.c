/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_config.c: the environment behind volt_config_init()
 * (core/config.c) and volt_config_check().
 *
 * The input is text: lines "NAME=VALUE". Each line whose NAME starts with
 * VOLT_ is set in the environment (a later line for the same name wins, as
 * it would in a shell); other lines are skipped. Then volt_config_init()
 * runs and is compared with a reference written from the table of names,
 * ranges and defaults in volt/config.h and docs/configuration.md:
 *
 * - a number is decimal digits only (no sign, space or prefix) within the
 *   variable's range; a name is one of the documented ones, exactly;
 * - init returns -EINVAL exactly when some variable set is malformed or out
 *   of range, and 0 otherwise; every field then holds the value of its
 *   variable if that was valid, else its default (bad ones are skipped,
 *   the rest still apply);
 * - volt_config_check() accepts that configuration exactly when the
 *   reference does (all in range, a topology not empty, a virtual clock
 *   only with parking workers), and answers only 0 or -EINVAL;
 * - VOLT_CHAN_BUFFER: volt_chan_new with no buffer named uses the one the
 *   variable names, fails with -EINVAL for an unknown one, and takes the
 *   default when it is empty.
 *
 * Every variable set is unset again before the next input.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <volt.h>

#include "drivers/driver.h" /* volt__driver_known: the drivers found by name */
#include "tests/fuzz/fuzz.h"

#define MAX_VARS 64
#define MAX_TEXT 4096

enum kind { NUM, BOOL, ENUM, SCHED, DRIVER, TEXT, TRACE };

struct var {
	const char *name;
	enum kind kind;
	uint64_t min, max;         /* NUM */
	const char *const *names;  /* ENUM */
	size_t offset, size;       /* the field in struct volt_config */
	uint64_t def;              /* NUM, BOOL, ENUM: the default */
	uint64_t scale;            /* NUM: field = value * scale (1 if 0) */
};

#define FIELD(f) offsetof(struct volt_config, f), sizeof(((struct volt_config *)0)->f)

static const char *const idle_names[] = { "park", "spin", "yield", NULL };
static const char *const clock_names[] = { "auto", "real", "virtual", NULL };
static const char *const pin_names[] = { "none", "compact", "scatter", "numa", NULL };

/* The documented table (docs/configuration.md). */
static const struct var vars[] = {
	{ "VOLT_WORKERS", NUM, 0, VOLT_MAX_WORKERS, NULL, FIELD(workers), 0, 0 },
	{ "VOLT_SEED", NUM, 0, UINT64_MAX, NULL, FIELD(seed), 0, 0 },
	{ "VOLT_BUDGET", NUM, 1, 65535, NULL, FIELD(budget), 128, 0 },
	{ "VOLT_MAX_BLOCKING", NUM, 1, 65536, NULL, FIELD(max_blocking_threads), 512, 0 },
	{ "VOLT_BLOCKING_KEEPALIVE_MS", NUM, 1, UINT64_MAX / 1000000, NULL,
	  FIELD(blocking_keep_alive_ns), 10000000000ull, 1000000 },
	{ "VOLT_SEARCH_ROUNDS", NUM, 1, 64, NULL, FIELD(search_rounds), 4, 0 },
	{ "VOLT_LIFO", BOOL, 0, 1, NULL, FIELD(lifo), 1, 0 },
	{ "VOLT_LIFO_MAX", NUM, 1, 255, NULL, FIELD(lifo_max_polls), 3, 0 },
	{ "VOLT_GLOBAL_INTERVAL", NUM, 0, 255, NULL, FIELD(global_interval), 61, 0 },
	{ "VOLT_EVENT_INTERVAL", NUM, 1, 65535, NULL, FIELD(event_interval), 61, 0 },
	{ "VOLT_MAX_SEARCHING", NUM, 0, VOLT_MAX_WORKERS, NULL, FIELD(max_searching), 0, 0 },
	{ "VOLT_STEAL_BATCH", NUM, 0, 128, NULL, FIELD(steal_batch), 0, 0 },
	{ "VOLT_PARK_SPIN_NS", NUM, 0, 1000000, NULL, FIELD(park_spin_ns), 20000, 0 },
	{ "VOLT_TRACE_EVENTS", NUM, 16, 1u << 24, NULL, FIELD(trace_events), 65536, 0 },
	{ "VOLT_IDLE", ENUM, 0, 0, idle_names, FIELD(idle), VOLT_IDLE_PARK, 0 },
	{ "VOLT_CLOCK", ENUM, 0, 0, clock_names, FIELD(clock), VOLT_CLOCK_AUTO, 0 },
	{ "VOLT_PIN", ENUM, 0, 0, pin_names, FIELD(pin), VOLT_PIN_NONE, 0 },
	{ "VOLT_SCHED", SCHED, 0, 0, NULL, FIELD(scheduler), 0, 0 },
	{ "VOLT_DRIVER", DRIVER, 0, 0, NULL, FIELD(driver), 0, 0 },
	{ "VOLT_TOPOLOGY", TEXT, 0, 0, NULL, FIELD(topology), 0, 0 },
	{ "VOLT_TRACE", TRACE, 0, 0, NULL, FIELD(trace), 0, 0 },
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

/* Strict decimal within [min, max]. */
static bool ref_number(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false; /* past u64: past max too */
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

static const char *ref_sched(const char *s)
{
	for (unsigned i = 0; volt_sched_name(i); i++)
		if (strcmp(s, volt_sched_name(i)) == 0)
			return volt_sched_name(i);
	return NULL;
}

/*
 * docs/configuration.md, VOLT_DRIVER: `auto`, a name volt_driver_name(i)
 * lists, or `sim`; drivers/registry.c also finds drivers that are never
 * listed (`sim`, the simulated network, serves no kernel socket). The set
 * comes from the library's registry (volt__driver_known), so a driver added
 * there is valid here too; the model still asks for the exact name (the
 * registry's copy must spell what was written, so a prefix or case-blind
 * lookup fails), and LLVMFuzzerInitialize checks that every documented
 * name is in the set.
 */
static const char *ref_driver(const char *s)
{
	const char *known = volt__driver_known(s);

	return known && strcmp(known, s) == 0 ? known : NULL;
}

static uint64_t get_field(const struct volt_config *cfg, const struct var *v)
{
	const char *p = (const char *)cfg + v->offset;

	switch (v->size) {
	case 1:
		return *(const uint8_t *)p;
	case 4:
		return *(const uint32_t *)p;
	default:
		return *(const uint64_t *)p;
	}
}

static const char *get_text(const struct volt_config *cfg, const struct var *v)
{
	return *(const char *const *)((const char *)cfg + v->offset);
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Checks one field against its variable (NULL: unset); false if the value was bad. */
static bool check_var(const struct volt_config *cfg, const struct var *v, const char *val)
{
	uint64_t want = v->def, n;
	const char *text = NULL, *got;
	bool ok = true;

	switch (v->kind) {
	case NUM:
	case BOOL:
		if (val && ref_number(val, v->min, v->max, &n))
			want = n * (v->scale ? v->scale : 1);
		else if (val)
			ok = false;
		FUZZ_CHECK(get_field(cfg, v) == want, "%s=\"%s\": field %ju, expected %ju", v->name,
			   val ? val : "(unset)", (uintmax_t)get_field(cfg, v), (uintmax_t)want);
		return ok;
	case ENUM:
		if (val) {
			ok = false;
			for (unsigned i = 0; v->names[i]; i++)
				if (strcmp(val, v->names[i]) == 0) {
					want = i;
					ok = true;
				}
		}
		FUZZ_CHECK(get_field(cfg, v) == want, "%s=\"%s\": field %ju, expected %ju", v->name,
			   val ? val : "(unset)", (uintmax_t)get_field(cfg, v), (uintmax_t)want);
		return ok;
	case SCHED:
	case DRIVER:
		if (val) {
			text = v->kind == SCHED ? ref_sched(val) : ref_driver(val);
			ok = text != NULL;
		}
		break;
	case TEXT:
		text = val;
		break;
	case TRACE:
		text = val && *val ? val : NULL;
		break;
	}
	got = get_text(cfg, v);
	FUZZ_CHECK(same_text(got, text), "%s=\"%s\": field \"%s\", expected \"%s\"", v->name,
		   val ? val : "(unset)", got ? got : "(null)", text ? text : "(null)");
	return ok;
}

/* VOLT_CHAN_BUFFER names the buffer of a channel created without one. */
static void check_chan_buffer(const char *val)
{
	struct volt_chan *ch = NULL;
	const char *want = "vyukov";
	int ret = volt_chan_new(8, 4, NULL, &ch);

	if (val && *val) {
		want = NULL;
		for (unsigned i = 0; volt_chan_buffer_name(i); i++)
			if (strcmp(val, volt_chan_buffer_name(i)) == 0)
				want = volt_chan_buffer_name(i);
	}
	if (!want) {
		FUZZ_CHECK(ret == -EINVAL, "VOLT_CHAN_BUFFER=\"%s\": %d", val, ret);
		return;
	}
	FUZZ_CHECK(ret == 0, "VOLT_CHAN_BUFFER=\"%s\": %d", val ? val : "(unset)", ret);
	FUZZ_CHECK(strcmp(volt_chan_buffer(ch), want) == 0, "VOLT_CHAN_BUFFER=\"%s\": buffer %s",
		   val ? val : "(unset)", volt_chan_buffer(ch));
	volt_chan_free(ch);
}

extern char **environ;

/* The reference assumes no VOLT_ variable but the input's: clear the caller's. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char name[256];

	(void)argc;
	(void)argv;
	FUZZ_CHECK(ref_driver("auto") && ref_driver("sim"), "VOLT_DRIVER: auto or sim unknown");
	for (unsigned i = 0; volt_driver_name(i); i++)
		FUZZ_CHECK(ref_driver(volt_driver_name(i)), "VOLT_DRIVER: %s listed but unknown",
			   volt_driver_name(i));
	for (size_t i = 0; environ[i];) {
		const char *eq = strchr(environ[i], '=');
		size_t n = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		if (strncmp(environ[i], "VOLT_", 5) == 0 && n < sizeof(name)) {
			memcpy(name, environ[i], n);
			name[n] = '\0';
			unsetenv(name); /* environ shifts down: look at i again */
			continue;
		}
		i++;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[MAX_TEXT + 1];
	char *set[MAX_VARS];
	const char *val[NVARS] = { NULL };
	const char *chan_buffer = NULL;
	unsigned nset = 0;
	struct volt_config cfg;
	bool valid = true;
	int ret, check;

	if (size > MAX_TEXT)
		size = MAX_TEXT;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = text, *next; line && nset < MAX_VARS; line = next) {
		char *eq;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (!eq || strncmp(line, "VOLT_", 5) != 0)
			continue;
		*eq = '\0';
		if (setenv(line, eq + 1, 1))
			continue; /* a name setenv refuses */
		set[nset++] = line;
		for (size_t i = 0; i < NVARS; i++)
			if (strcmp(line, vars[i].name) == 0)
				val[i] = eq + 1; /* a later line overrides */
		if (strcmp(line, "VOLT_CHAN_BUFFER") == 0)
			chan_buffer = eq + 1;
	}

	memset(&cfg, 0xa5, sizeof(cfg));
	ret = volt_config_init(&cfg);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "volt_config_init: %d", ret);
	for (size_t i = 0; i < NVARS; i++)
		if (!check_var(&cfg, &vars[i], val[i]))
			valid = false;
	FUZZ_CHECK(ret == (valid ? 0 : -EINVAL), "volt_config_init returned %d, expected %d", ret,
		   valid ? 0 : -EINVAL);

	/* The defaults are in range, and so is anything init accepted. */
	bool ok = !(cfg.topology && !*cfg.topology) &&
		  !(cfg.clock == VOLT_CLOCK_VIRTUAL && cfg.idle != VOLT_IDLE_PARK);

	check = volt_config_check(&cfg);
	FUZZ_CHECK(check == (ok ? 0 : -EINVAL), "volt_config_check returned %d, expected %d", check,
		   ok ? 0 : -EINVAL);
	check_chan_buffer(chan_buffer);

	for (unsigned i = 0; i < nset; i++)
		unsetenv(set[i]);
	return 0;
}
