/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sim_net.c: the `sim` driver's simulated network
 * (drivers/sim*.c, docs/simulation.md) through the public net API, with
 * client and server as tasks of the same runtime (or a plain thread's
 * blocking calls). The VOLT_RT_TEST cases run under every policy: on the
 * real clock and real threads too, which checks the driver's locking and
 * waking; the cases that need the run to be a function of the seed build a
 * `sim` runtime themselves (plain tests).
 *
 *  sim_net_echo           8 clients (a writer task and a reader each)
 *                         through delays, short transfers and small pipes:
 *                         every byte comes back in order, then the end
 *  sim_net_reset          a planned reset: both ends get -ECONNRESET, and
 *                         again on every later read and write (sticky)
 *  sim_net_eof            shutdown(SHUT_WR) and close arrive after the
 *                         bytes sent before them; read_exact past the end is
 *                         -EPIPE; writing after shutdown is -EPIPE
 *  sim_net_close_pending  a read waiting on a stream that is closed ends
 *                         with -ECANCELED
 *  sim_net_backpressure   a pipe of 16..64 bytes: a try_write is partial,
 *                         then -EAGAIN; write_all of 64 KiB completes once
 *                         the reader drains, every byte checked
 *  sim_net_refused        no listener, refuse=1 (-ECONNREFUSED); drop=1
 *                         (accept -ECONNABORTED, the client reset); from a
 *                         plain thread's blocking calls
 *  sim_net_addresses      ephemeral ports, -EADDRINUSE, IPv6 and Unix
 *                         addresses, local and peer addresses agree, no
 *                         kernel socket is ever made, UDP is -EOPNOTSUPP
 *  sim_net_peers          the world's scripted echo peers against a server
 *                         task: no error, every peer finishes
 *  sim_net_virtual_time   (sim) delays and timeouts on the virtual clock
 *  sim_net_replay         (sim) a run with faults, twice per seed: the same
 *                         trace hash and statistics; another seed: another
 *                         hash. Both with tasks as clients and with peers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/sim.h"
#include "net_helpers.h"

/* ------------------------------------------------------------ plumbing */

/*
 * A runtime on the sim driver with the fault plan `faults` and scripted
 * peers `peers` (NULL: none); policy NULL: the sim policy, seeded `seed`.
 */
static struct volt_rt *sim_rt(const char *policy, const char *faults, const char *peers,
			      uint64_t seed)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;

	if (faults)
		CHECK_OK(setenv("VOLT_SIM_FAULTS", faults, 1));
	else
		CHECK_OK(unsetenv("VOLT_SIM_FAULTS"));
	if (peers)
		CHECK_OK(setenv("VOLT_SIM_PEERS", peers, 1));
	else
		CHECK_OK(unsetenv("VOLT_SIM_PEERS"));
	vt_cfg(&cfg, policy, 2);
	cfg.driver = "sim";
	if (!policy)
		cfg.scheduler = "sim";
	if (seed)
		cfg.seed = seed;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_STR_EQ(volt_rt_driver(rt), "sim");
	snprintf(vt_fail_note, sizeof(vt_fail_note),
		 "sim driver, VOLT_SIM_FAULTS=\"%s\", replay: VOLT_SEED=%" PRIu64,
		 faults ? faults : "", volt_rt_seed(rt));
	return rt;
}

static struct volt__sim_stats stats_of(struct volt_rt *rt)
{
	struct volt__sim_stats st;

	CHECK_OK(volt__sim_stats(rt, &st));
	return st;
}

/* Sockets (kernel ones) this process has open. */
static int count_kernel_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		char path[300], link[64];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0 && !strncmp(link, "socket:", 7 < len ? 7 : (size_t)len))
			n++;
	}
	closedir(d);
	return n;
}

/* Listens on 127.0.0.1:0 into *l and writes its address as text into addr. */
static void listen_any(struct volt_rt *rt, struct volt_listener *l, char addr[VOLT_ADDR_STRLEN])
{
	struct volt_addr a;

	CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", l));
	CHECK_OK(volt_local_addr(l->h, &a));
	CHECK_GT(volt_addr_format(&a, addr, VOLT_ADDR_STRLEN), 0);
}

/*
 * Runs the two ends of one connection, tasks made of the futures srv and
 * cli (`size` bytes each, already initialised with their ops): listens on
 * 127.0.0.1:0 into *l (srv's listener), gives its address to cli (*addr),
 * spawns both, waits for the client then the server, closes the listener.
 */
static void run_ends(struct volt_rt *rt, struct volt_future *srv, struct volt_listener *l,
		     struct volt_future *cli, struct volt_addr *addr, size_t size)
{
	struct volt_join *js, *jc;

	CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", l));
	CHECK_OK(volt_local_addr(l->h, addr));
	js = vt_spawn(rt, srv, size, false);
	jc = vt_spawn(rt, cli, size, false);
	vt_join(jc);
	vt_join(js);
	CHECK_OK(volt_listener_close(*l));
}

/* ------------------------------------------ a client: writer + reader */

/* Writes len bytes of the pattern (seed), then shuts the stream down for writing. */
struct writer {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	size_t len, off, n;
	uint32_t seed;
	unsigned char buf[1024];
};

static enum volt_poll writer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct writer *w = (struct writer *)f;

	VOLT_BEGIN(f);
	for (w->off = 0; w->off < w->len; w->off += w->n) {
		w->n = w->len - w->off < sizeof(w->buf) ? w->len - w->off : sizeof(w->buf);
		vt_pattern(w->buf, w->n, w->seed, w->off);
		VOLT_AWAIT(f, cx, volt_stream_write_all(&w->op, w->s, w->buf, w->n));
		if (w->op.result < 0) /* a planned reset: the reader reports it */
			VOLT_RETURN(f, cx, w->op.result);
		CHECK_EQ(w->op.result, w->n);
	}
	CHECK_OK(volt_stream_shutdown(w->s, SHUT_WR));
	VOLT_END(f);
}

static const struct volt_future_ops writer_ops = { writer_poll, NULL };

/*
 * Connects to addr, spawns a writer of len bytes and reads everything
 * back, checking each byte; at the end of stream it must have all of them.
 * A reset ends it early if resets_ok (counted in *resets).
 */
struct client {
	struct volt_future base;
	struct volt_addr addr;
	size_t len;
	uint32_t seed;
	bool resets_ok;
	atomic_int *resets;
	struct volt_stream s;
	struct volt_io_op op;
	struct volt_join *wj;
	struct volt_join_future jf;
	size_t got;
	unsigned char buf[1500], want[1500];
};

static enum volt_poll client_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct client *c = (struct client *)f;
	struct writer w = { .len = c->len, .seed = c->seed };

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_tcp_connect(&c->op, cx->rt, &c->addr, &c->s));
	CHECK_EQ(c->op.result, 0);
	volt_future_init(&w.base, &writer_ops);
	w.s = c->s;
	CHECK_OK(volt_spawn(cx->rt, &w.base, sizeof(w), &c->wj));
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof(c->buf)));
		if (c->op.result <= 0)
			break;
		vt_pattern(c->want, (size_t)c->op.result, c->seed, c->got);
		CHECK_MSG(!memcmp(c->buf, c->want, (size_t)c->op.result),
			  "client %u: bytes %zu..%zd differ", c->seed, c->got,
			  (ssize_t)c->got + c->op.result);
		c->got += (size_t)c->op.result;
		CHECK_LE(c->got, c->len);
	}
	if (c->op.result < 0) {
		CHECK_MSG(c->resets_ok && c->op.result == -ECONNRESET, "client %u: read: %zd",
			  c->seed, c->op.result);
		if (c->resets)
			atomic_fetch_add(c->resets, 1);
	} else {
		CHECK_EQ(c->got, c->len);
	}
	VOLT_AWAIT(f, cx, volt_join_await(&c->jf, c->wj));
	CHECK_EQ(c->jf.result, 0);
	(void)volt_stream_close(c->s);
	VOLT_END(f);
}

static const struct volt_future_ops client_ops = { client_poll, NULL };

static struct client client_for(const struct volt_addr *a, size_t len, uint32_t seed,
				bool resets_ok, atomic_int *resets)
{
	struct client c = { .addr = *a, .len = len, .seed = seed, .resets_ok = resets_ok,
			    .resets = resets };

	volt_future_init(&c.base, &client_ops);
	return c;
}

/* ------------------------------------------------------------------ echo */

#define ECHO_CLIENTS 8

VOLT_RT_TEST(sim_net_echo)
{
	struct volt_rt *rt = sim_rt(policy, "delay=0.3,delay_us=1000,short=0.5,cap=2048", NULL,
				    0);
	struct volt_listener l;
	struct volt_addr a;
	atomic_int accepted = 0;
	struct volt_join *server, *j[ECHO_CLIENTS];

	vt_echo_start(rt, &l, &a, &accepted, &server);
	for (unsigned i = 0; i < ECHO_CLIENTS; i++) {
		struct client c = client_for(&a, 1 + i * 2311, i + 1, false, NULL);

		j[i] = vt_spawn(rt, &c, sizeof(c), false);
	}
	for (unsigned i = 0; i < ECHO_CLIENTS; i++)
		vt_join(j[i]);
	CHECK_OK(volt_listener_close(l));
	vt_join(server);
	CHECK_EQ(atomic_load(&accepted), ECHO_CLIENTS);

	struct volt__sim_stats st = stats_of(rt);

	CHECK_UEQ(st.connections, ECHO_CLIENTS);
	CHECK_UEQ(st.resets, 0);
	CHECK_GT(st.faults, 0); /* delays and short transfers happened */
	CHECK_UEQ(st.errors, 0);
	volt_rt_free(rt);
}

/* ----------------------------------------------------------------- reset */

struct reset_end {
	struct volt_future base;
	struct volt_listener l; /* server: accepts from it */
	struct volt_addr addr;  /* client: connects to it */
	bool server;
	struct vt_gate *accepted; /* opened by the server: the client may write */
	struct vt_gate_wait gw;
	struct volt_accept acc;
	struct volt_stream s;
	struct volt_io_op op;
	int writes;
	char buf[16];
};

static enum volt_poll reset_end_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct reset_end *e = (struct reset_end *)f;

	VOLT_BEGIN(f);
	if (e->server) {
		VOLT_AWAIT(f, cx, volt_accept(&e->acc, e->l, &e->s, NULL));
		CHECK_EQ(e->acc.op.result, 0);
		vt_gate_open(e->accepted); /* (a reset in the backlog would abort the accept) */
		do /* the client's bytes, until the reset */
			VOLT_AWAIT(f, cx, volt_stream_read(&e->op, e->s, e->buf, sizeof(e->buf)));
		while (e->op.result > 0);
	} else {
		VOLT_AWAIT(f, cx, volt_tcp_connect(&e->op, cx->rt, &e->addr, &e->s));
		CHECK_EQ(e->op.result, 0);
		VOLT_AWAIT(f, cx, vt_gate_wait(&e->gw, e->accepted, NULL));
		do { /* one byte at a time: the 4th transfer on the connection resets it */
			CHECK_LE(++e->writes, 4);
			VOLT_AWAIT(f, cx, volt_stream_write(&e->op, e->s, "x", 1));
		} while (e->op.result > 0);
	}
	CHECK_EQ(e->op.result, -ECONNRESET);
	/* sticky: every later transfer, future or try form, says so too */
	VOLT_AWAIT(f, cx, volt_stream_read(&e->op, e->s, e->buf, sizeof(e->buf)));
	CHECK_EQ(e->op.result, -ECONNRESET);
	VOLT_AWAIT(f, cx, volt_stream_write(&e->op, e->s, "y", 1));
	CHECK_EQ(e->op.result, -ECONNRESET);
	CHECK_EQ(volt_stream_try_read(e->s, e->buf, sizeof(e->buf)), -ECONNRESET);
	CHECK_EQ(volt_stream_try_write(e->s, "z", 1), -ECONNRESET);
	CHECK_OK(volt_stream_close(e->s));
	VOLT_END(f);
}

static const struct volt_future_ops reset_end_ops = { reset_end_poll, NULL };

VOLT_RT_TEST(sim_net_reset)
{
	struct volt_rt *rt = sim_rt(policy, "reset=1,reset_ops=4", NULL, 0);
	struct vt_gate gate;
	struct reset_end srv = { .base = VOLT_FUTURE_INIT(&reset_end_ops), .server = true,
				 .accepted = &gate };
	struct reset_end cli = { .base = VOLT_FUTURE_INIT(&reset_end_ops), .server = false,
				 .accepted = &gate };

	vt_gate_init(&gate);
	run_ends(rt, &srv.base, &srv.l, &cli.base, &cli.addr, sizeof(srv));

	struct volt__sim_stats st = stats_of(rt);

	CHECK_UEQ(st.connections, 1);
	CHECK_UEQ(st.resets, 1);
	volt_rt_free(rt);
	vt_gate_destroy(&gate);
}

/* ------------------------------------------------------------------- eof */

struct eof_end {
	struct volt_future base;
	struct volt_listener l;
	struct volt_addr addr;
	bool server;
	struct volt_accept acc;
	struct volt_stream s;
	struct volt_io_op op;
	char buf[16];
};

static enum volt_poll eof_end_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct eof_end *e = (struct eof_end *)f;

	VOLT_BEGIN(f);
	if (e->server) {
		VOLT_AWAIT(f, cx, volt_accept(&e->acc, e->l, &e->s, NULL));
		CHECK_EQ(e->acc.op.result, 0);
		VOLT_AWAIT(f, cx, volt_stream_read_exact(&e->op, e->s, e->buf, 5));
		CHECK_EQ(e->op.result, 5);
		CHECK(!memcmp(e->buf, "hello", 5));
		VOLT_AWAIT(f, cx, volt_stream_read(&e->op, e->s, e->buf, sizeof(e->buf)));
		CHECK_EQ(e->op.result, 0); /* the shutdown, after the bytes */
		VOLT_AWAIT(f, cx, volt_stream_read_exact(&e->op, e->s, e->buf, 1));
		CHECK_EQ(e->op.result, -EPIPE);
		CHECK_EQ(e->op.done, 0);
		VOLT_AWAIT(f, cx, volt_stream_write_all(&e->op, e->s, "bye", 3));
		CHECK_EQ(e->op.result, 3);
		CHECK_OK(volt_stream_close(e->s));
	} else {
		VOLT_AWAIT(f, cx, volt_tcp_connect(&e->op, cx->rt, &e->addr, &e->s));
		CHECK_EQ(e->op.result, 0);
		VOLT_AWAIT(f, cx, volt_stream_write_all(&e->op, e->s, "hello", 5));
		CHECK_EQ(e->op.result, 5);
		CHECK_OK(volt_stream_shutdown(e->s, SHUT_WR));
		VOLT_AWAIT(f, cx, volt_stream_write(&e->op, e->s, "!", 1));
		CHECK_EQ(e->op.result, -EPIPE);
		VOLT_AWAIT(f, cx, volt_stream_read_exact(&e->op, e->s, e->buf, 3));
		CHECK_EQ(e->op.result, 3);
		CHECK(!memcmp(e->buf, "bye", 3));
		VOLT_AWAIT(f, cx, volt_stream_read(&e->op, e->s, e->buf, sizeof(e->buf)));
		CHECK_EQ(e->op.result, 0); /* the server's close, after its bytes */
		VOLT_AWAIT(f, cx, volt_stream_read(&e->op, e->s, e->buf, sizeof(e->buf)));
		CHECK_EQ(e->op.result, 0); /* and again */
		CHECK_OK(volt_stream_close(e->s));
		CHECK_EQ(volt_stream_close(e->s), -EBADF);
	}
	VOLT_END(f);
}

static const struct volt_future_ops eof_end_ops = { eof_end_poll, NULL };

VOLT_RT_TEST(sim_net_eof)
{
	/* every chunk and end mark delayed: the end must still come last */
	struct volt_rt *rt = sim_rt(policy, "delay=1,delay_us=2000", NULL, 0);
	struct eof_end srv = { .base = VOLT_FUTURE_INIT(&eof_end_ops), .server = true };
	struct eof_end cli = { .base = VOLT_FUTURE_INIT(&eof_end_ops), .server = false };

	run_ends(rt, &srv.base, &srv.l, &cli.base, &cli.addr, sizeof(srv));
	volt_rt_free(rt);
}

/* -------------------------------------------------------- close pending */

VOLT_RT_TEST(sim_net_close_pending)
{
	struct volt_rt *rt = sim_rt(policy, NULL, NULL, 0);
	struct volt_listener l;
	struct volt_stream c, s;
	struct volt_io_op op;
	struct volt_join *j;
	atomic_int pending = 0;
	char addr[VOLT_ADDR_STRLEN], buf[8];

	listen_any(rt, &l, addr);
	CHECK_OK(volt_tcp_connect_blocking(rt, addr, &c, VOLT_DURATION_MAX));
	CHECK_OK(volt_accept_blocking(l, &s, NULL, VOLT_DURATION_MAX));
	j = vt_spawn_in_task(rt, volt_stream_read(&op, c, buf, sizeof(buf)), &pending);
	VT_WAIT_FOR(atomic_load(&pending));
	CHECK_OK(volt_stream_close(c));
	vt_join(j);
	CHECK_EQ(op.result, -ECANCELED);
	CHECK_OK(volt_stream_close(s));
	CHECK_OK(volt_listener_close(l));
	volt_rt_free(rt);
}

/* ---------------------------------------------------------- backpressure */

#define BP_TOTAL (64 * 1024)

struct bp_end {
	struct volt_future base;
	struct volt_listener l;
	struct volt_addr addr;
	bool server;
	struct vt_gate *gate;
	struct vt_gate_wait gw;
	struct volt_accept acc;
	struct volt_stream s;
	struct volt_io_op op;
	ssize_t first;
	unsigned char *buf, *want;
};

static enum volt_poll bp_end_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct bp_end *e = (struct bp_end *)f;

	VOLT_BEGIN(f);
	if (e->server) {
		VOLT_AWAIT(f, cx, volt_accept(&e->acc, e->l, &e->s, NULL));
		CHECK_EQ(e->acc.op.result, 0);
		VOLT_AWAIT(f, cx, vt_gate_wait(&e->gw, e->gate, NULL)); /* not reading yet */
		VOLT_AWAIT(f, cx, volt_stream_read_exact(&e->op, e->s, e->buf, BP_TOTAL));
		CHECK_EQ(e->op.result, BP_TOTAL);
		vt_pattern(e->want, BP_TOTAL, 7, 0);
		CHECK(!memcmp(e->buf, e->want, BP_TOTAL));
	} else {
		VOLT_AWAIT(f, cx, volt_tcp_connect(&e->op, cx->rt, &e->addr, &e->s));
		CHECK_EQ(e->op.result, 0);
		vt_pattern(e->buf, BP_TOTAL, 7, 0);
		e->first = volt_stream_try_write(e->s, e->buf, 1000);
		CHECK_GE(e->first, 16); /* the pipe holds 16..64 bytes: a partial write */
		CHECK_LE(e->first, 64);
		CHECK_EQ(volt_stream_try_write(e->s, e->buf + e->first, 1000), -EAGAIN);
		vt_gate_open(e->gate);
		VOLT_AWAIT(f, cx, volt_stream_write_all(&e->op, e->s, e->buf + e->first,
							BP_TOTAL - (size_t)e->first));
		CHECK_EQ(e->op.result, BP_TOTAL - e->first);
	}
	CHECK_OK(volt_stream_close(e->s));
	VOLT_END(f);
}

static const struct volt_future_ops bp_end_ops = { bp_end_poll, NULL };

VOLT_RT_TEST(sim_net_backpressure)
{
	struct volt_rt *rt = sim_rt(policy, "cap=64", NULL, 0);
	struct vt_gate gate;
	struct bp_end srv = { .base = VOLT_FUTURE_INIT(&bp_end_ops), .server = true,
			      .gate = &gate };
	struct bp_end cli = { .base = VOLT_FUTURE_INIT(&bp_end_ops), .server = false,
			      .gate = &gate };

	vt_gate_init(&gate);
	srv.buf = malloc(BP_TOTAL);
	srv.want = malloc(BP_TOTAL);
	cli.buf = malloc(BP_TOTAL);
	CHECK(srv.buf && srv.want && cli.buf);
	run_ends(rt, &srv.base, &srv.l, &cli.base, &cli.addr, sizeof(srv));
	volt_rt_free(rt);
	vt_gate_destroy(&gate);
	free(srv.buf);
	free(srv.want);
	free(cli.buf);
}

/* --------------------------------------------------------------- refused */

VOLT_RT_TEST(sim_net_refused)
{
	struct volt_rt *rt = sim_rt(policy, "delay=0.5", NULL, 0);
	struct volt_listener l;
	struct volt_stream s, acc;
	char addr[VOLT_ADDR_STRLEN];

	/* nobody listens there (from a plain thread: the world must wake it) */
	CHECK_EQ(volt_tcp_connect_blocking(rt, "127.0.0.1:9", &s, VOLT_DURATION_MAX),
		 -ECONNREFUSED);
	/* a listener that is gone */
	listen_any(rt, &l, addr);
	CHECK_OK(volt_listener_close(l));
	CHECK_EQ(volt_tcp_connect_blocking(rt, addr, &s, VOLT_DURATION_MAX), -ECONNREFUSED);
	volt_rt_free(rt);

	/* refused although a listener is there */
	rt = sim_rt(policy, "refuse=1", NULL, 0);
	listen_any(rt, &l, addr);
	CHECK_EQ(volt_tcp_connect_blocking(rt, addr, &s, VOLT_DURATION_MAX), -ECONNREFUSED);
	CHECK_EQ(volt_accept_try(l, &acc, NULL), -EAGAIN);
	CHECK_UEQ(stats_of(rt).connections, 0);
	CHECK_OK(volt_listener_close(l));
	volt_rt_free(rt);

	/* connected, then aborted at accept: the client finds its stream reset */
	rt = sim_rt(policy, "drop=1", NULL, 0);
	listen_any(rt, &l, addr);
	CHECK_OK(volt_tcp_connect_blocking(rt, addr, &s, VOLT_DURATION_MAX));
	CHECK_EQ(volt_accept_blocking(l, &acc, NULL, VOLT_DURATION_MAX), -ECONNABORTED);
	char buf[4];

	CHECK_EQ(volt_stream_read_blocking(s, buf, sizeof(buf), VOLT_DURATION_MAX), -ECONNRESET);
	CHECK_UEQ(stats_of(rt).resets, 1);
	CHECK_OK(volt_stream_close(s));
	CHECK_OK(volt_listener_close(l));
	volt_rt_free(rt);
}

/* ------------------------------------------------------------- addresses */

static bool same_addr(const struct volt_addr *a, const struct volt_addr *b)
{
	char x[VOLT_ADDR_STRLEN], y[VOLT_ADDR_STRLEN];

	CHECK_GE(volt_addr_format(a, x, sizeof(x)), 0);
	CHECK_GE(volt_addr_format(b, y, sizeof(y)), 0);
	return !strcmp(x, y);
}

VOLT_RT_TEST(sim_net_addresses)
{
	int kernel_sockets = count_kernel_sockets();
	struct volt_rt *rt = sim_rt(policy, NULL, NULL, 0);
	struct volt_listener l, l2, l6, lu;
	struct volt_stream c, s, cu, su;
	struct volt_addr a, b, peer, local;
	struct volt_udp u;
	char text[VOLT_ADDR_STRLEN], path[64];

	CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", &l));
	CHECK_OK(volt_local_addr(l.h, &a));
	CHECK_GE(volt_addr_port(&a), 40000); /* the world's ephemeral range */
	CHECK_GE(volt_handle_fd(l.h), VOLT__SIM_FD_BASE);
	CHECK_GT(volt_addr_format(&a, text, sizeof(text)), 0);
	CHECK_EQ(volt_tcp_listen(rt, text, &l2), -EADDRINUSE);
	snprintf(text, sizeof(text), "0.0.0.0:%u", volt_addr_port(&a));
	CHECK_EQ(volt_tcp_listen(rt, text, &l2), -EADDRINUSE);
	CHECK_OK(volt_tcp_listen(rt, "[::1]:0", &l6));
	CHECK_OK(volt_local_addr(l6.h, &b));
	CHECK_EQ(b.u.sa.sa_family, AF_INET6);
	CHECK_NE(volt_addr_port(&b), volt_addr_port(&a));

	/* both ends agree on who is who */
	CHECK_GT(volt_addr_format(&a, text, sizeof(text)), 0);
	CHECK_OK(volt_tcp_connect_blocking(rt, text, &c, VOLT_DURATION_MAX));
	CHECK_OK(volt_accept_blocking(l, &s, &peer, VOLT_DURATION_MAX));
	CHECK_OK(volt_local_addr(c.h, &local));
	CHECK(same_addr(&local, &peer));
	CHECK_OK(volt_peer_addr(s.h, &b));
	CHECK(same_addr(&b, &local));
	CHECK_OK(volt_local_addr(s.h, &b));
	CHECK(same_addr(&b, &a));
	CHECK_OK(volt_peer_addr(c.h, &b));
	CHECK(same_addr(&b, &a));
	CHECK_OK(volt_tcp_nodelay(c, true));
	CHECK_EQ(volt_peer_addr(l.h, &b), -ENOTCONN);
	CHECK_EQ(volt_stream_write_blocking(c, "ab", 2, VOLT_DURATION_MAX), 2);
	CHECK_EQ(volt_stream_read_exact_blocking(s, text, 2, VOLT_DURATION_MAX), 2);

	/* Unix addresses are names in the world: no file appears */
	snprintf(path, sizeof(path), "/tmp/volt-sim-test-%d.sock", (int)getpid());
	CHECK_OK(volt_unix_listen(rt, path, &lu));
	CHECK_NE(access(path, F_OK), 0);
	CHECK_OK(volt_unix_connect_blocking(rt, path, &cu, VOLT_DURATION_MAX));
	CHECK_OK(volt_accept_blocking(lu, &su, NULL, VOLT_DURATION_MAX));
	CHECK_EQ(volt_stream_write_blocking(su, "u", 1, VOLT_DURATION_MAX), 1);
	CHECK_EQ(volt_stream_read_blocking(cu, text, 1, VOLT_DURATION_MAX), 1);
	CHECK_EQ(volt_unix_listen(rt, path, &l2), -EADDRINUSE);

	CHECK_EQ(volt_udp_bind(rt, "127.0.0.1:0", &u), -EOPNOTSUPP);
	CHECK_EQ(count_kernel_sockets(), kernel_sockets);
	CHECK_OK(volt_stream_close(c));
	CHECK_OK(volt_stream_close(s));
	CHECK_OK(volt_stream_close(cu));
	CHECK_OK(volt_stream_close(su));
	CHECK_OK(volt_listener_close(l));
	CHECK_OK(volt_listener_close(l6));
	CHECK_OK(volt_listener_close(lu));
	CHECK_UEQ(stats_of(rt).connections, 2);
	volt_rt_free(rt);
}

/* ----------------------------------------------------------------- peers */

/* One connection of the server: echo until the end, then close. */
struct echo_conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	char buf[2048];
};

static enum volt_poll echo_conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct echo_conn *c = (struct echo_conn *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof(c->buf)));
		if (c->op.result <= 0)
			break;
		VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->buf,
							(size_t)c->op.result));
		if (c->op.result < 0)
			break;
	}
	(void)volt_stream_close(c->s);
	VOLT_END(f);
}

static const struct volt_future_ops echo_conn_ops = { echo_conn_poll, NULL };

/* Listens, serves `n` connections (errors of one connection do not count), waits for them. */
struct echo_server {
	struct volt_future base;
	unsigned n, accepted;
	struct volt_listener l;
	struct volt_group *conns;
	struct volt_group_wait gw;
	struct volt_accept acc;
	struct volt_stream s;
};

static enum volt_poll echo_server_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct echo_server *sv = (struct echo_server *)f;
	struct echo_conn c;

	VOLT_BEGIN(f);
	CHECK_OK(volt_tcp_listen(cx->rt, "127.0.0.1:7000", &sv->l));
	CHECK_OK(volt_group_new(cx->rt, &sv->conns));
	while (sv->accepted < sv->n) {
		VOLT_AWAIT(f, cx, volt_accept(&sv->acc, sv->l, &sv->s, NULL));
		if (sv->acc.op.result < 0) {
			CHECK_EQ(sv->acc.op.result, -ECONNABORTED); /* the only planned one */
			continue;
		}
		sv->accepted++;
		volt_future_init(&c.base, &echo_conn_ops);
		c.s = sv->s;
		CHECK_OK(volt_group_spawn(sv->conns, &c.base, sizeof(c)));
	}
	CHECK_OK(volt_listener_close(sv->l));
	VOLT_AWAIT(f, cx, volt_group_join(&sv->gw, sv->conns));
	CHECK_OK(volt_group_free(sv->conns));
	VOLT_END(f);
}

static const struct volt_future_ops echo_server_ops = { echo_server_poll, NULL };

#define PEERS 12
#define PEER_FAULTS "delay=0.2,delay_us=1000,short=0.3,reset=0.05,refuse=0.05,drop=0.05,cap=2048"

/* Runs the peers against the server on rt; returns when every peer has finished. */
static void serve_peers(struct volt_rt *rt)
{
	struct echo_server sv = { .n = PEERS };

	volt_future_init(&sv.base, &echo_server_ops);
	vt_join(vt_spawn(rt, &sv, sizeof(sv), false));
}

VOLT_RT_TEST(sim_net_peers)
{
	struct volt_rt *rt = sim_rt(policy, PEER_FAULTS, "echo:12:8192", 0);
	struct volt__sim_stats st;

	serve_peers(rt);
	/* the server is done; the peers finish as its last bytes reach them */
	VT_WAIT_FOR(stats_of(rt).peers_left == 0);
	st = stats_of(rt);
	CHECK_UEQ(st.errors, 0);
	CHECK_GE(st.connections, PEERS);
	CHECK_GT(st.bytes_checked, 0);
	volt_rt_free(rt);
	CHECK_OK(volt__sim_last_stats(&st));
	CHECK_UEQ(st.errors, 0);
}

/* ---------------------------------------------------------- virtual time */

struct vtime {
	struct volt_future base;
	struct volt_rt *rt;
	struct volt_listener l;
	struct volt_addr addr;
	struct volt_accept acc;
	struct volt_stream c, s;
	struct volt_io_op op;
	struct volt_timeout t;
	volt_instant t0;
	char buf[4];
};

static uint64_t since_ns(struct vtime *v)
{
	return volt_instant_elapsed(v->rt, v->t0).ns;
}

static enum volt_poll vtime_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vtime *v = (struct vtime *)f;

	VOLT_BEGIN(f);
	v->rt = cx->rt;
	CHECK_OK(volt_tcp_listen(cx->rt, "127.0.0.1:0", &v->l));
	CHECK_OK(volt_local_addr(v->l.h, &v->addr));
	v->t0 = volt_instant_now(v->rt);
	VOLT_AWAIT(f, cx, volt_tcp_connect(&v->op, cx->rt, &v->addr, &v->c));
	CHECK_EQ(v->op.result, 0);
	CHECK_LE(since_ns(v), 50000000); /* one delay of at most 50 ms */
	VOLT_AWAIT(f, cx, volt_accept(&v->acc, v->l, &v->s, NULL));
	CHECK_EQ(v->acc.op.result, 0);

	/* a byte delayed by 1 ns..50 ms: the clock jumps to its arrival, not further */
	VOLT_AWAIT(f, cx, volt_stream_write(&v->op, v->c, "x", 1));
	CHECK_EQ(v->op.result, 1);
	v->t0 = volt_instant_now(v->rt);
	VOLT_AWAIT(f, cx, volt_stream_read(&v->op, v->s, v->buf, sizeof(v->buf)));
	CHECK_EQ(v->op.result, 1);
	CHECK_GT(since_ns(v), 0);
	CHECK_LE(since_ns(v), 50000000);

	/* nothing comes: a 10 ms timeout fires at 10 ms of virtual time */
	v->t0 = volt_instant_now(v->rt);
	VOLT_AWAIT(f, cx, volt_timeout(&v->t, volt_stream_read(&v->op, v->s, v->buf,
								 sizeof(v->buf)),
				       volt_ms(10)));
	CHECK_EQ(v->t.result, -ETIMEDOUT);
	CHECK_GE(since_ns(v), 10000000);
	CHECK_LT(since_ns(v), 12000000);

	/* the stream still works after the timeout */
	VOLT_AWAIT(f, cx, volt_stream_write(&v->op, v->c, "y", 1));
	VOLT_AWAIT(f, cx, volt_stream_read(&v->op, v->s, v->buf, sizeof(v->buf)));
	CHECK_EQ(v->op.result, 1);
	CHECK_EQ(v->buf[0], 'y');
	CHECK_OK(volt_stream_close(v->c));
	CHECK_OK(volt_stream_close(v->s));
	CHECK_OK(volt_listener_close(v->l));
	VOLT_END(f);
}

static const struct volt_future_ops vtime_ops = { vtime_poll, NULL };

VOLT_TEST(sim_net_virtual_time)
{
	struct volt_rt *rt = sim_rt(NULL, "delay=1,delay_us=50000", NULL, 1);
	struct vtime v;

	memset(&v, 0, sizeof(v));
	volt_future_init(&v.base, &vtime_ops);
	vt_join(vt_spawn(rt, &v, sizeof(v), false));
	volt_rt_free(rt);
}

/* ---------------------------------------------------------------- replay */

#define REPLAY_CLIENTS 6

/* Everything from one root task, so that the run depends on the seed alone. */
struct replay_root {
	struct volt_future base;
	struct volt_listener l;
	struct volt_addr a;
	struct volt_join *server, *j[REPLAY_CLIENTS];
	struct volt_join_future jf;
	unsigned i;
	atomic_int resets;
};

static enum volt_poll replay_root_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct replay_root *r = (struct replay_root *)f;
	struct client c;

	VOLT_BEGIN(f);
	vt_echo_start(cx->rt, &r->l, &r->a, NULL, &r->server);
	for (r->i = 0; r->i < REPLAY_CLIENTS; r->i++) {
		c = client_for(&r->a, 3000 + r->i * 1777, r->i + 100, true, &r->resets);
		CHECK_OK(volt_spawn(cx->rt, &c.base, sizeof(c), &r->j[r->i]));
	}
	for (r->i = 0; r->i < REPLAY_CLIENTS; r->i++) {
		VOLT_AWAIT(f, cx, volt_join_await(&r->jf, r->j[r->i]));
		CHECK_EQ(r->jf.result, 0);
	}
	CHECK_OK(volt_listener_close(r->l));
	VOLT_AWAIT(f, cx, volt_join_await(&r->jf, r->server));
	CHECK_EQ(r->jf.result, 0);
	VOLT_END(f);
}

static const struct volt_future_ops replay_root_ops = { replay_root_poll, NULL };

#define REPLAY_FAULTS "delay=0.3,delay_us=3000,short=0.4,reset=0.2,reset_ops=40,cap=1024"

/* One whole run on the sim policy; its final statistics. */
static struct volt__sim_stats replay_run(uint64_t seed, bool peers)
{
	struct volt__sim_stats st;
	struct volt_rt *rt = sim_rt(NULL, peers ? PEER_FAULTS : REPLAY_FAULTS,
				    peers ? "echo:12:8192" : NULL, seed);

	if (peers) {
		serve_peers(rt);
	} else {
		struct replay_root r;

		memset(&r, 0, sizeof(r));
		volt_future_init(&r.base, &replay_root_ops);
		vt_join(vt_spawn(rt, &r, sizeof(r), false));
	}
	volt_rt_free(rt);
	CHECK_OK(volt__sim_last_stats(&st));
	CHECK_UEQ(st.errors, 0);
	return st;
}

static void check_replays(bool peers)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct volt__sim_stats a = replay_run(seed, peers), b = replay_run(seed, peers);
		struct volt__sim_stats other = replay_run(seed + 1000, peers);

		CHECK_MSG(a.hash == b.hash, "seed %" PRIu64 ": hash %016" PRIx64 " then %016" PRIx64,
			  seed, a.hash, b.hash);
		CHECK_UEQ(a.steps, b.steps);
		CHECK_UEQ(a.connections, b.connections);
		CHECK_UEQ(a.bytes_checked, b.bytes_checked);
		CHECK_UEQ(a.resets, b.resets);
		CHECK_UEQ(a.faults, b.faults);
		CHECK_GT(a.faults, 0);
		CHECK_MSG(a.hash != other.hash, "seeds %" PRIu64 " and %" PRIu64 ": same hash",
			  seed, seed + 1000);
	}
}

VOLT_TEST(sim_net_replay)
{
	check_replays(false);
}

VOLT_TEST(sim_net_replay_peers)
{
	check_replays(true);
}
