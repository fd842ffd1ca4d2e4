/* SPDX-License-Identifier: MIT */
/*
 * examples/server.h: what the network servers (examples/echo_server.c,
 * http_hello.c, chat_server.c, graceful_shutdown.c, experiments/rpc_server.c)
 * share: their options, the runtime they ask for, the listening socket with
 * its one-line announcement, and the accept loop.
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

/*
 * The accept loop, a task: accepts until the listener is closed (or
 * max_conns connections were accepted), turns TCP_NODELAY on and hands each
 * connection to spawn(conns, stream, peer, arg), which owns the stream from
 * then on (it closes it if it cannot start the connection's tasks). A
 * failed accept of one connection (-ECONNABORTED, -EMFILE...) is skipped;
 * the loop ends when the listener is gone. It closes the listener, and
 * returns 0 (output (void *)0), or 1 after printing an unexpected error.
 */
typedef int (*server_spawn_fn)(struct volt_group *conns, struct volt_stream s,
			       const struct volt_addr *peer, void *arg);

/* Spawns a connection's task (f, size bytes, copied) into conns; closes s if it cannot. */
static inline int server_spawn(struct volt_group *conns, struct volt_stream s,
			       const struct volt_future *f, size_t size)
{
	int err = volt_group_spawn(conns, f, size);

	if (err)
		(void)volt_stream_close(s); /* out of memory: drop the client */
	return err;
}

struct server_acceptor {
	struct volt_future base;
	const char *name;
	struct volt_listener l;
	struct volt_group *conns;
	server_spawn_fn spawn;
	void *arg;
	unsigned long max_conns, accepted; /* max_conns 0: no limit */
	struct volt_accept acc;
	struct volt_stream s;  /* the connection just accepted */
	struct volt_addr peer; /* and its address */
};

static enum volt_poll server_acceptor_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct server_acceptor *sa = (struct server_acceptor *)f;
	int err = 0;

	VOLT_BEGIN(f);
	while (!sa->max_conns || sa->accepted < sa->max_conns) {
		VOLT_AWAIT(f, cx, volt_accept(&sa->acc, sa->l, &sa->s, &sa->peer));
		err = (int)sa->acc.op.result;
		if (err == -EBADF || err == -ECANCELED || err == -EINVAL)
			break; /* the listener is gone */
		if (err < 0) { /* this connection failed (-ECONNABORTED ...): go on */
			err = 0;
			continue;
		}
		sa->accepted++;
		(void)volt_tcp_nodelay(sa->s, true);
		(void)sa->spawn(sa->conns, sa->s, &sa->peer, sa->arg);
	}
	(void)volt_listener_close(sa->l);
	if (err == -EBADF || err == -ECANCELED)
		err = 0; /* closed on purpose (a shutdown) */
	if (err)
		fprintf(stderr, "%s: accept: %s\n", sa->name, volt_strerror(err));
	VOLT_RETURN(f, cx, err ? 1 : 0);
	VOLT_END(f);
}

static const struct volt_future_ops server_acceptor_ops = { .poll = server_acceptor_poll };

/* An acceptor on l for conns, ready to spawn (volt_spawn copies it). */
static inline struct server_acceptor server_acceptor_make(const struct server_opts *o,
							  struct volt_listener l,
							  struct volt_group *conns,
							  server_spawn_fn spawn, void *arg)
{
	struct server_acceptor sa = { .base = VOLT_FUTURE_INIT(&server_acceptor_ops),
				      .name = o->name, .l = l, .conns = conns,
				      .spawn = spawn, .arg = arg, .max_conns = o->max_conns };
	return sa;
}

/*
 * A whole server: listens, accepts (forever, or o->max_conns connections),
 * then waits for the connections still open and returns the exit status
 * (0, or 1 if it could not listen or accept).
 */
static inline int server_serve(struct volt_rt *rt, const struct server_opts *o,
			       server_spawn_fn spawn, void *arg)
{
	struct server_acceptor sa;
	struct volt_listener l;
	struct volt_group *conns;
	struct volt_join *j;
	void *out = (void *)1;

	if (server_listen(rt, o, &l))
		return 1;
	if (volt_group_new(rt, &conns) != 0) {
		(void)volt_listener_close(l);
		return 1;
	}
	sa = server_acceptor_make(o, l, conns, spawn, arg);
	if (volt_spawn(rt, &sa.base, sizeof sa, &j) == 0)
		volt_join_wait(j, &out); /* forever, unless --max-conns */
	else
		(void)volt_listener_close(l);
	volt_group_wait(conns); /* the connections still open finish first */
	volt_group_free(conns);
	return (int)(intptr_t)out;
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
