/* SPDX-License-Identifier: MIT */
/*
 * examples/server.h: what the three network examples (echo_server.c,
 * http_hello.c, chat_server.c) share: their options, the runtime they ask
 * for, and the listening socket with its one-line announcement.
 *
 *	--addr HOST:PORT | --port P   where to listen (--port keeps the host)
 *	--driver auto|uring|epoll|sim I/O driver (default: VOLT_DRIVER, else auto);
 *	                              sim: the simulated network (docs/simulation.md)
 *	--sched POLICY                scheduler policy (default: VOLT_SCHED)
 *	--workers N                   worker threads (default: VOLT_WORKERS, else 2)
 *	--max-conns N                 serve N connections to their end, then exit
 *
 * Header-only (each example is one program); every function is static.
 */
#ifndef VOLT_EXAMPLES_SERVER_H
#define VOLT_EXAMPLES_SERVER_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <volt.h>

#define SERVER_BACKLOG 1024

struct server_opts {
	const char *name;        /* the program, for messages */
	struct volt_addr addr;
	unsigned long max_conns; /* 0 = serve forever */
};

/*
 * Listens on o->addr and prints "NAME: listening on ADDR (driver D,
 * scheduler S, N workers)" to stderr. 0, or 1 after printing why not.
 */
static int server_listen(struct volt_rt *rt, const struct server_opts *o, struct volt_listener *l)
{
	struct volt_addr local;
	char text[VOLT_ADDR_STRLEN];
	unsigned workers = volt_rt_workers(rt);
	int err = volt_tcp_listen_addr(rt, &o->addr, SERVER_BACKLOG, l);

	if (err) {
		volt_addr_format(&o->addr, text, sizeof text);
		fprintf(stderr, "%s: listen on %s: %s\n", o->name, text, volt_strerror(err));
		return 1;
	}
	if (volt_local_addr(l->h, &local) || volt_addr_format(&local, text, sizeof text) < 0)
		strcpy(text, "?");
	fprintf(stderr, "%s: listening on %s (driver %s, scheduler %s, %u worker%s)\n", o->name,
		text, volt_rt_driver(rt), volt_rt_scheduler(rt), workers, workers == 1 ? "" : "s");
	return 0;
}

static void server_usage(FILE *to, const char *name, const char *default_addr)
{
	fprintf(to,
		"usage: %s [--addr HOST:PORT | --port P] [--driver auto|uring|epoll|sim]\n"
		"       [--sched POLICY] [--workers N] [--max-conns N]\n"
		"  --addr HOST:PORT  numeric address to listen on (default %s)\n"
		"  --port P          port to listen on (the host of --addr, 127.0.0.1 by default)\n"
		"  --driver D        I/O driver (default: VOLT_DRIVER, else auto)\n"
		"  --sched POLICY    scheduler policy (default: VOLT_SCHED, else %s), one of\n"
		"                   ",
		name, default_addr, volt_sched_default());
	for (unsigned i = 0; volt_sched_name(i); i++)
		fprintf(to, " %s", volt_sched_name(i));
	fprintf(to, "\n  --workers N       worker threads (default: VOLT_WORKERS, else 2)\n"
		    "  --max-conns N     serve N connections to their end, then exit\n");
}

static bool server_parse_ulong(const char *s, unsigned long min, unsigned long max,
			       unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && !errno && *out >= min && *out <= max;
}

static bool server_is_one_of(const char *(*name)(unsigned), const char *s)
{
	for (unsigned i = 0; name(i); i++)
		if (!strcmp(name(i), s))
			return true;
	return false;
}

static const char *server_option(unsigned i)
{
	static const char *const names[] = { "--addr",	  "--port",	 "--driver",
					     "--sched",	  "--workers", "--max-conns" };

	return i < sizeof names / sizeof names[0] ? names[i] : NULL;
}

/* Prints what is wrong and the usage; the exit status of bad options. */
static int server_bad(const struct server_opts *o, const char *default_addr, const char *what,
		      const char *opt, const char *val)
{
	fprintf(stderr, "%s: %s %s%s%s\n", o->name, what, opt, val ? " " : "", val ? val : "");
	server_usage(stderr, o->name, default_addr);
	return 2;
}

/*
 * The whole of main: parses the options, then runs app(rt, &opts) on a
 * runtime built from them. Returns the exit status: app's result, 1 if the
 * runtime failed, 2 for bad options.
 */
static int server_main(int argc, char **argv, const char *name, const char *default_addr,
		       volt_main_fn app)
{
	struct server_opts o = { .name = name, .max_conns = 0 };
	struct volt_config cfg;
	const char *addr = default_addr;
	unsigned long port = 0, n;
	bool have_port = false;
	int err;

	if (volt_config_init(&cfg) != 0) {
		fprintf(stderr, "%s: bad VOLT_* environment variable\n", name);
		return 2;
	}
	if (!getenv("VOLT_WORKERS"))
		cfg.workers = 2;
	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1]; /* argv[argc] is NULL */

		if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			server_usage(stdout, name, default_addr);
			return 0;
		}
		if (!server_is_one_of(server_option, opt))
			return server_bad(&o, default_addr, "unknown option", opt, NULL);
		if (!val)
			return server_bad(&o, default_addr, "missing value for", opt, NULL);
		if (!strcmp(opt, "--addr"))
			addr = val;
		else if (!strcmp(opt, "--port") && server_parse_ulong(val, 0, 65535, &port))
			have_port = true;
		else if (!strcmp(opt, "--driver") &&
			 (!strcmp(val, "auto") || !strcmp(val, "sim") ||
			  server_is_one_of(volt_driver_name, val)))
			cfg.driver = val;
		else if (!strcmp(opt, "--sched") && server_is_one_of(volt_sched_name, val))
			cfg.scheduler = val;
		else if (!strcmp(opt, "--workers") &&
			 server_parse_ulong(val, 1, VOLT_MAX_WORKERS, &n))
			cfg.workers = (unsigned)n;
		else if (!strcmp(opt, "--max-conns") && server_parse_ulong(val, 1, ULONG_MAX, &n))
			o.max_conns = n;
		else
			return server_bad(&o, default_addr, "bad value for", opt, val);
	}
	if (volt_addr_parse(addr, &o.addr) != 0)
		return server_bad(&o, default_addr, "bad value for", "--addr", addr);
	if (have_port) { /* --port keeps the host of --addr */
		if (o.addr.u.sa.sa_family == AF_INET6)
			o.addr.u.in6.sin6_port = htons((uint16_t)port);
		else
			o.addr.u.in.sin_port = htons((uint16_t)port);
	}
	if (volt_config_check(&cfg) != 0) {
		fprintf(stderr, "%s: the runtime refuses this configuration\n", name);
		return 2;
	}
	err = volt_run_with(&cfg, app, &o);
	if (err < 0)
		fprintf(stderr, "%s: runtime: %s\n", name, volt_strerror(err));
	return err == 0 ? 0 : 1;
}

#endif /* VOLT_EXAMPLES_SERVER_H */
