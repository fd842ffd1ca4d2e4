/* SPDX-License-Identifier: MIT */
/*
 * echo_server.c: a TCP echo server. Every byte a client sends comes back.
 *
 *	echo_server [--addr HOST:PORT | --port P] [--driver auto|uring|epoll]
 *	            [--sched POLICY] [--workers N] [--max-conns N]
 *	build/examples/echo_server --port 7000 --workers 2 &
 *	python3 -c 'import socket; s = socket.create_connection(("127.0.0.1", 7000));
 *	            s.sendall(b"hi"); print(s.recv(2))'
 *
 * Two kinds of stackless task, both written with the coroutine macros:
 * - the accept loop awaits volt_accept, turns TCP_NODELAY on and spawns
 * - one task per connection, which reads up to 4 KiB into the buffer it
 *   carries and writes back exactly what it read with volt_stream_write_all
 *   (the write loops over partial writes), until end of stream or an error,
 *   then closes the stream.
 * The connections live in a volt_group, so that with --max-conns N the
 * program can stop accepting after N connections, wait for those N to
 * finish and exit 0 (for tests and valgrind). Otherwise it runs until it is
 * killed. A connection task is one allocation (its future, buffer
 * included); nothing else is allocated per connection or per read.
 *
 * Options default to the VOLT_* environment (volt_config_init), then to
 * 127.0.0.1:7000 and 2 workers; --port keeps --addr's host. One line goes to
 * stderr when the server listens; bad options exit with status 2.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <volt.h>

#define NAME "echo_server"
#define DEFAULT_ADDR "127.0.0.1:7000"
#define BUF_SIZE 4096 /* the read buffer of one connection (as the E11 peers) */
#define BACKLOG 1024

/* ---- one connection: read, write back, until the end */

struct conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op; /* the read or write in flight */
	size_t n;             /* bytes read, to write back */
	char buf[BUF_SIZE];
};

static enum volt_poll conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct conn *c = (struct conn *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof c->buf));
		if (c->op.result <= 0) /* 0: the client is done; < 0: an error */
			break;
		c->n = (size_t)c->op.result;
		VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->buf, c->n));
		if (c->op.result < 0)
			break;
	}
	VOLT_END(f); /* conn_drop closes the stream */
}

/* Runs once, when the task finishes or is cancelled: closing twice is harmless. */
static void conn_drop(struct volt_future *f)
{
	(void)volt_stream_close(((struct conn *)f)->s);
}

static const struct volt_future_ops conn_ops = { .poll = conn_poll, .drop = conn_drop };

/* ---- the accept loop */

struct server {
	struct volt_future base;
	struct volt_listener l;
	struct volt_group *conns;
	unsigned long max_conns, accepted; /* max_conns 0: no limit */
	struct volt_accept acc;
	struct volt_stream s; /* the connection just accepted */
};

static enum volt_poll server_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct server *sv = (struct server *)f;
	struct conn c;
	int err = 0;

	VOLT_BEGIN(f);
	while (!sv->max_conns || sv->accepted < sv->max_conns) {
		VOLT_AWAIT(f, cx, volt_accept(&sv->acc, sv->l, &sv->s, NULL));
		err = (int)sv->acc.op.result;
		if (err == -EBADF || err == -ECANCELED || err == -EINVAL)
			break; /* the listener is gone */
		if (err < 0) { /* this connection failed (-ECONNABORTED ...): go on */
			err = 0;
			continue;
		}
		sv->accepted++;
		(void)volt_tcp_nodelay(sv->s, true);
		volt_future_init(&c.base, &conn_ops);
		c.s = sv->s;
		if (volt_group_spawn(sv->conns, &c.base, sizeof c) != 0)
			(void)volt_stream_close(sv->s); /* out of memory: drop the client */
	}
	(void)volt_listener_close(sv->l);
	if (err)
		fprintf(stderr, NAME ": accept: %s\n", volt_strerror(err));
	VOLT_RETURN(f, cx, err ? 1 : 0);
	VOLT_END(f);
}

static const struct volt_future_ops server_ops = { .poll = server_poll };

/* ---- main: options, the runtime, the listener */

struct opts {
	struct volt_addr addr;
	unsigned long max_conns;
};

static int app(struct volt_rt *rt, void *arg)
{
	const struct opts *o = arg;
	struct server sv = { .base = VOLT_FUTURE_INIT(&server_ops), .max_conns = o->max_conns };
	struct volt_addr local;
	struct volt_join *j;
	char text[VOLT_ADDR_STRLEN];
	unsigned workers = volt_rt_workers(rt);
	void *out = (void *)1;
	int err;

	err = volt_tcp_listen_addr(rt, &o->addr, BACKLOG, &sv.l);
	if (err) {
		volt_addr_format(&o->addr, text, sizeof text);
		fprintf(stderr, NAME ": listen on %s: %s\n", text, volt_strerror(err));
		return 1;
	}
	if (volt_local_addr(sv.l.h, &local) || volt_addr_format(&local, text, sizeof text) < 0)
		strcpy(text, "?");
	fprintf(stderr, NAME ": listening on %s (driver %s, scheduler %s, %u worker%s)\n", text,
		volt_rt_driver(rt), volt_rt_scheduler(rt), workers, workers == 1 ? "" : "s");

	if (volt_group_new(rt, &sv.conns) != 0) {
		(void)volt_listener_close(sv.l);
		return 1;
	}
	if (volt_spawn(rt, &sv.base, sizeof sv, &j) == 0)
		volt_join_wait(j, &out); /* forever, unless --max-conns */
	else
		(void)volt_listener_close(sv.l);
	volt_group_wait(sv.conns); /* the connections still open finish first */
	volt_group_free(sv.conns);
	return (int)(intptr_t)out;
}

static const char *const usage_text =
	"usage: " NAME " [--addr HOST:PORT | --port P] [--driver auto|uring|epoll]\n"
	"       [--sched POLICY] [--workers N] [--max-conns N]\n"
	"  --addr HOST:PORT  numeric address to listen on (default " DEFAULT_ADDR ")\n"
	"  --port P          port to listen on (the host of --addr, 127.0.0.1 by default)\n"
	"  --driver D        I/O driver (default: VOLT_DRIVER, else auto)\n"
	"  --sched POLICY    scheduler policy (default: VOLT_SCHED, else %s), one of\n"
	"                   ";

static void usage(FILE *to)
{
	fprintf(to, usage_text, volt_sched_default());
	for (unsigned i = 0; volt_sched_name(i); i++)
		fprintf(to, " %s", volt_sched_name(i));
	fprintf(to, "\n  --workers N       worker threads (default: VOLT_WORKERS, else 2)\n"
		    "  --max-conns N     serve N connections to their end, then exit\n");
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && !errno && *out >= min && *out <= max;
}

static bool is_one_of(const char *(*name)(unsigned), const char *s)
{
	for (unsigned i = 0; name(i); i++)
		if (!strcmp(name(i), s))
			return true;
	return false;
}

static const char *option_name(unsigned i)
{
	static const char *const names[] = { "--addr",	  "--port",	 "--driver",
					     "--sched",	  "--workers", "--max-conns" };

	return i < sizeof names / sizeof names[0] ? names[i] : NULL;
}

/* Prints what is wrong and the usage; the exit status of bad options. */
static int bad(const char *what, const char *opt, const char *val)
{
	fprintf(stderr, NAME ": %s %s%s%s\n", what, opt, val ? " " : "", val ? val : "");
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct opts o = { .max_conns = 0 };
	struct volt_config cfg;
	const char *addr = DEFAULT_ADDR;
	unsigned long port = 0, n;
	bool have_port = false;
	int err;

	if (volt_config_init(&cfg) != 0) {
		fprintf(stderr, NAME ": bad VOLT_* environment variable\n");
		return 2;
	}
	if (!getenv("VOLT_WORKERS"))
		cfg.workers = 2;
	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1]; /* argv[argc] is NULL */

		if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!is_one_of(option_name, opt))
			return bad("unknown option", opt, NULL);
		if (!val)
			return bad("missing value for", opt, NULL);
		if (!strcmp(opt, "--addr"))
			addr = val;
		else if (!strcmp(opt, "--port") && parse_ulong(val, 0, 65535, &port))
			have_port = true;
		else if (!strcmp(opt, "--driver") &&
			 (!strcmp(val, "auto") || is_one_of(volt_driver_name, val)))
			cfg.driver = val;
		else if (!strcmp(opt, "--sched") && is_one_of(volt_sched_name, val))
			cfg.scheduler = val;
		else if (!strcmp(opt, "--workers") && parse_ulong(val, 1, VOLT_MAX_WORKERS, &n))
			cfg.workers = (unsigned)n;
		else if (!strcmp(opt, "--max-conns") && parse_ulong(val, 1, ULONG_MAX, &n))
			o.max_conns = n;
		else
			return bad("bad value for", opt, val);
	}
	if (volt_addr_parse(addr, &o.addr) != 0)
		return bad("bad value for", "--addr", addr);
	if (have_port) { /* --port keeps the host of --addr */
		if (o.addr.u.sa.sa_family == AF_INET6)
			o.addr.u.in6.sin6_port = htons((uint16_t)port);
		else
			o.addr.u.in.sin_port = htons((uint16_t)port);
	}
	if (volt_config_check(&cfg) != 0) {
		fprintf(stderr, NAME ": the runtime refuses this configuration\n");
		return 2;
	}

	err = volt_run_with(&cfg, app, &o);
	if (err < 0)
		fprintf(stderr, NAME ": runtime: %s\n", volt_strerror(err));
	return err == 0 ? 0 : 1;
}
