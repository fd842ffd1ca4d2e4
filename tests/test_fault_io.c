/* SPDX-License-Identifier: MIT */
/*
 * tests/test_fault_io.c: fault injection on the real kernel, through the
 * shim of tests/fault_sys.c, each scenario on both drivers
 * (VT_FOR_EACH_DRIVER) under every policy (VOLT_RT_TEST).
 *
 * The workload is an echo: an accept loop in the runtime spawns an echo
 * task per connection; client tasks in the same runtime connect and send
 * a byte stream of their own (vt_pattern of the client's number and the
 * offset, so every byte says where it belongs) in chunks of random size,
 * read each chunk back and compare it: every byte is checked, in order.
 * Client and server both go through the shim. Scenarios:
 *
 *  eagain_storm  EAGAIN at p = 0.3 on accept, receive and send (epoll:
 *                the system calls, with the readiness owed; io_uring: the
 *                operations' CQEs): nothing lost, nothing surfaces
 *  short_io      transfers cut short (n -> 1..n) at p = 0.3
 *  eintr         EINTR at p = 0.3 on accept, receive and send
 *  reset         one server connection reset after some bytes, another
 *                broken (EPIPE) on a send: each is reported once where it
 *                happened, the reset is sticky (the next read and write
 *                say ECONNRESET again), every other connection is whole
 *  emfile        EMFILE on every accept of a listener: connections made
 *                meanwhile are shed (closed promptly), the established
 *                ones go on echoing, the loop backs off (its attempts are
 *                bounded by its backoff, and on a real clock the process
 *                uses < 50% of a CPU over the window), and once the limit
 *                lifts a new connection is accepted and echoed
 *  setup         socket(2) EMFILE/ENFILE, epoll_ctl ENOMEM/ENOSPC at
 *                attach, accept ENOBUFS/ENOMEM, with each client sending
 *                its stream over 16 connections: each fault comes back as exactly
 *                one clean error from the operation that made the socket
 *                (counted on both sides), clients retry, all bytes
 *                arrive, and no descriptor is left behind
 *  waits         epoll_wait EINTR; io_uring_submit and the wait refusing
 *                with EAGAIN, EBUSY and EINTR
 *  cqe_rewrite   io_uring CQEs rewritten to -EAGAIN, -EINTR, an unasked
 *                -ECANCELED, and short transfers (the driver resubmits;
 *                epoll gets the same plan less ECANCELED)
 *  retry_bound   (io_uring) a read whose every CQE says -EINTR ends with
 *                that error after the driver's bounded retries, not a
 *                livelock, and the bytes it never took are still there
 *  retry_cancel  (io_uring) a read waiting behind its retry's linked poll
 *                is cancelled by a timeout and by a close, cleanly
 *  uring_refused io_uring set-up refused (EPERM, ENOSYS): `uring` fails
 *                cleanly, `auto` runs epoll and echoes
 *
 * Every run checks the descriptors of the process before and after (the
 * ASan tree checks memory), and prints one line, e.g.
 *	fault: eagain_storm uring: 4123 faults injected, 262144 bytes verified
 * A failure prints the seed; VOLT_FAULT_SEED=<seed> replays its plan (the
 * interleaving of threads is the kernel's). VOLT_RELIABILITY=1 (the
 * reliability suite) runs more connections, more bytes and more seeds.
 *
 * The only timing-flavoured assertion is the CPU bound of `emfile`, the
 * same as tests/test_net_sock.c's, and as generous; deadlines elsewhere
 * are the runner's per-case timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fault_sys.h"
#include "net_helpers.h"

#define CHUNK_MAX 8192
#define ATTEMPTS_MAX 1000
#define RETRY_MAX 64 /* drivers/uring.c */

/* Scenario flags. */
#define FIO_REDO 0x1  /* a connection the server dropped as it accepted it is made again */
#define FIO_CHURN 0x2 /* a client sends its stream over SEGMENTS connections */

#define SEGMENTS 16

/* ------------------------------------------------------------ sizes */

static bool reliability(void)
{
	const char *s = getenv("VOLT_RELIABILITY");

	return s && *s && strcmp(s, "0") != 0;
}

static unsigned n_conns(void)
{
	return reliability() ? 16 : 4;
}

static size_t n_bytes(void)
{
	return reliability() ? VT_SCALE(1u << 20) : VT_SCALE(256u << 10);
}

static unsigned n_seeds(void)
{
	return reliability() ? 3 : 1;
}

/* The first seed: VOLT_FAULT_SEED, else a new one for each case (printed). */
static uint64_t base_seed(void)
{
	static uint64_t seed;
	static bool have;
	const char *s = getenv("VOLT_FAULT_SEED");
	struct timespec ts;

	if (!have) {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = s && *s ? strtoull(s, NULL, 0)
			       : ((uint64_t)ts.tv_nsec * 2654435761u) ^ (uint64_t)ts.tv_sec ^
					 (uint64_t)getpid() << 32;
		have = true;
	}
	return seed;
}

static void note_seed(const char *scenario, const char *driver, uint64_t seed)
{
	snprintf(vt_fail_note, sizeof(vt_fail_note),
		 "fault scenario %s on %s, seed %#llx: replay with VOLT_FAULT_SEED=%#llx", scenario,
		 driver, (unsigned long long)seed, (unsigned long long)seed);
}

static bool virtual_clock(const char *policy)
{
	const char *clock = getenv("VOLT_CLOCK");

	return clock && *clock ? strcmp(clock, "virtual") == 0 : vt_is_sim(policy);
}

/* ------------------------------------------------------------ the echo */

/* What the tasks tell the test (their own fields are theirs to write). */
struct fio_stats {
	unsigned flags;
	atomic_ullong verified;    /* bytes a client read back and found right */
	atomic_int accepted;
	atomic_int accept_errors;  /* accepts that returned an error (clean, expected) */
	atomic_int accept_bad;     /* ... one that should never surface */
	atomic_int last_accept_bad;
	atomic_int setup_errors;   /* client connects that failed cleanly (and were retried) */
	atomic_int redo;           /* clients that started over (FIO_REDO) */
	atomic_int conn_errors;    /* server connections that ended in an error */
	atomic_int conn_bad;       /* ... one no scenario explains */
	atomic_int last_conn_bad;
	atomic_int resets;         /* ... in -ECONNRESET */
	atomic_int resets_sticky;  /* ... whose next read and write said it again */
	atomic_int pipes;          /* ... in -EPIPE */
	atomic_int at_gate;        /* clients waiting at the gate */
	atomic_int mismatch;       /* bytes that came back wrong: never */
};

/* One server connection: echoes until the end of the stream or an error. */
struct fio_conn {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	struct fio_stats *st;
	ssize_t n, err, again_r, again_w;
	char buf[4096];
};

static enum volt_poll fio_conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct fio_conn *c = (struct fio_conn *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof(c->buf)));
		if (c->op.result <= 0) {
			c->err = c->op.result;
			break;
		}
		c->n = c->op.result;
		VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->buf, (size_t)c->n));
		if (c->op.result < 0) {
			c->err = c->op.result;
			break;
		}
	}
	if (c->err < 0)
		atomic_fetch_add(&c->st->conn_errors, 1);
	if (c->err == -ECONNRESET) {
		/* sticky: both directions say it again, without the kernel */
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof(c->buf)));
		c->again_r = c->op.result;
		VOLT_AWAIT(f, cx, volt_stream_write(&c->op, c->s, c->buf, 1));
		c->again_w = c->op.result;
		if (c->again_r == -ECONNRESET && c->again_w == -ECONNRESET)
			atomic_fetch_add(&c->st->resets_sticky, 1);
		atomic_fetch_add(&c->st->resets, 1);
	} else if (c->err == -EPIPE) {
		atomic_fetch_add(&c->st->pipes, 1);
	} else if (c->err < 0) {
		atomic_fetch_add(&c->st->conn_bad, 1);
		atomic_store(&c->st->last_conn_bad, (int)c->err);
	}
	(void)volt_stream_close(c->s);
	VOLT_END(f);
}

static void fio_conn_drop(struct volt_future *f)
{
	(void)volt_stream_close(((struct fio_conn *)f)->s); /* -EBADF if closed: harmless */
}

static const struct volt_future_ops fio_conn_ops = { fio_conn_poll, fio_conn_drop };

/* Errors an accept may return under the plans here (the loop goes on). */
static bool accept_error_ok(ssize_t err)
{
	return err == -ENOMEM || err == -ENOBUFS || err == -ENOSPC || err == -ECONNABORTED;
}

/* Accepts until its listener closes (returns that result). */
struct fio_server {
	struct volt_future base;
	struct volt_listener l;
	struct volt_accept acc;
	struct volt_stream s;
	struct fio_stats *st;
};

static enum volt_poll fio_server_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct fio_server *sv = (struct fio_server *)f;
	struct fio_conn conn;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_accept(&sv->acc, sv->l, &sv->s, NULL));
		if (sv->acc.op.result == -ECANCELED || sv->acc.op.result == -EBADF)
			VOLT_RETURN(f, cx, sv->acc.op.result);
		if (sv->acc.op.result < 0) {
			atomic_fetch_add(&sv->st->accept_errors, 1);
			if (!accept_error_ok(sv->acc.op.result)) {
				atomic_fetch_add(&sv->st->accept_bad, 1);
				atomic_store(&sv->st->last_accept_bad, (int)sv->acc.op.result);
			}
			continue;
		}
		atomic_fetch_add(&sv->st->accepted, 1);
		(void)volt_tcp_nodelay(sv->s, true); /* no Nagle wait on the echo's halves */
		memset(&conn, 0, sizeof(conn));
		volt_future_init(&conn.base, &fio_conn_ops);
		conn.s = sv->s;
		conn.st = sv->st;
		if (volt_spawn(cx->rt, &conn.base, sizeof(conn), NULL))
			(void)volt_stream_close(sv->s);
	}
	VOLT_END(f);
}

static const struct volt_future_ops fio_server_ops = { .poll = fio_server_poll };

static struct volt_join *fio_server_start(struct volt_rt *rt, struct volt_listener *l,
					  struct volt_addr *addr, struct fio_stats *st)
{
	struct fio_server sv;

	CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", l));
	CHECK_OK(volt_local_addr(l->h, addr));
	memset(&sv, 0, sizeof(sv));
	volt_future_init(&sv.base, &fio_server_ops);
	sv.l = *l;
	sv.st = st;
	return vt_spawn(rt, &sv, sizeof(sv), false);
}

/*
 * An accept loop whose listener was closed returns -ECANCELED if its
 * accept had started, -EBADF if the close came first (between accepts).
 */
#define CHECK_CLOSED_LOOP(j)                                                   \
	do {                                                                   \
		intptr_t vt_res_ = (intptr_t)vt_join(j);                       \
		CHECK_MSG(vt_res_ == -ECANCELED || vt_res_ == -EBADF,          \
			  "the accept loop ended with %s", volt_strerror((int)vt_res_)); \
	} while (0)

/* Errors a connect may return under the plans here (the client tries again). */
static bool setup_error(ssize_t err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOMEM || err == -ENOSPC ||
	       err == -ENOBUFS;
}

/*
 * One client: connects (retrying clean set-up errors), then writes its
 * stream in chunks of 1..CHUNK_MAX bytes, reading each back and comparing
 * it; under FIO_CHURN it closes and connects again SEGMENTS - 1 times.
 * With a gate, it waits there once halfway. Returns 0, or the error that
 * ended its stream (-EILSEQ: bytes came back wrong).
 */
struct fio_client {
	struct volt_future base;
	struct volt_rt *rt;
	struct fio_stats *st;
	struct volt_addr addr;
	struct vt_gate *gate;
	struct vt_gate_wait gw;
	struct volt_io_op op;
	struct volt_stream s;
	bool connected, gated;
	uint32_t id;
	uint64_t rng;
	size_t total, off, chunk, seg_start, seg_end;
	unsigned attempts;
	ssize_t err;
	unsigned char out[CHUNK_MAX], in[CHUNK_MAX];
};

static size_t next_chunk(struct fio_client *c)
{
	size_t left = c->seg_end - c->off, max = left < CHUNK_MAX ? left : CHUNK_MAX;

	c->rng = c->rng * 6364136223846793005ull + 1442695040888963407ull;
	return 1 + (size_t)((c->rng >> 33) % max);
}

static intptr_t client_mismatch(struct fio_client *c)
{
	size_t i = 0;

	while (i < c->chunk && c->in[i] == c->out[i])
		i++;
	fprintf(stderr, "  client %u: byte %zu of the stream came back %#x, sent %#x\n", c->id,
		c->off + i, c->in[i], c->out[i]);
	atomic_fetch_add(&c->st->mismatch, 1);
	return -EILSEQ;
}

static enum volt_poll fio_client_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct fio_client *c = (struct fio_client *)f;

	VOLT_BEGIN(f);
	for (;;) {
		for (;;) {
			VOLT_AWAIT(f, cx, volt_tcp_connect(&c->op, c->rt, &c->addr, &c->s));
			if (c->op.result == 0)
				break;
			if (!setup_error(c->op.result) || ++c->attempts > ATTEMPTS_MAX)
				VOLT_RETURN(f, cx, c->op.result);
			atomic_fetch_add(&c->st->setup_errors, 1);
		}
		c->connected = true;
		c->seg_start = c->off;
		c->seg_end = c->total;
		if ((c->st->flags & FIO_CHURN) && c->total - c->off > c->total / SEGMENTS + 1)
			c->seg_end = c->off + c->total / SEGMENTS + 1;
		for (; c->off < c->seg_end; c->off += c->chunk) {
			if (c->gate && !c->gated && c->off >= c->total / 2) {
				c->gated = true;
				atomic_fetch_add(&c->st->at_gate, 1);
				VOLT_AWAIT(f, cx, vt_gate_wait(&c->gw, c->gate, NULL));
			}
			c->chunk = next_chunk(c);
			vt_pattern(c->out, c->chunk, c->id, c->off);
			VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->out, c->chunk));
			if (c->op.result < 0)
				break;
			VOLT_AWAIT(f, cx, volt_stream_read_exact(&c->op, c->s, c->in, c->chunk));
			if (c->op.result < 0)
				break;
			if (memcmp(c->in, c->out, c->chunk) != 0) {
				c->err = client_mismatch(c);
				(void)volt_stream_close(c->s);
				c->connected = false;
				VOLT_RETURN(f, cx, c->err);
			}
			atomic_fetch_add(&c->st->verified, c->chunk);
		}
		c->err = c->off < c->seg_end ? c->op.result : 0;
		(void)volt_stream_close(c->s);
		c->connected = false;
		if (!c->err && c->off == c->total)
			VOLT_RETURN(f, cx, 0);
		if (!c->err)
			continue; /* FIO_CHURN: the next segment on a new connection */
		/* dropped by the server as it was accepted (FIO_REDO): nothing was echoed yet */
		if (!(c->st->flags & FIO_REDO) || c->off != c->seg_start ||
		    (c->err != -EPIPE && c->err != -ECONNRESET) || ++c->attempts > ATTEMPTS_MAX)
			VOLT_RETURN(f, cx, c->err);
		atomic_fetch_add(&c->st->redo, 1);
	}
	VOLT_END(f);
}

static void fio_client_drop(struct volt_future *f)
{
	struct fio_client *c = (struct fio_client *)f;

	if (c->connected)
		(void)volt_stream_close(c->s);
}

static const struct volt_future_ops fio_client_ops = { fio_client_poll, fio_client_drop };

static struct volt_join *fio_client_start(struct volt_rt *rt, const struct volt_addr *addr,
					 struct fio_stats *st, uint32_t id, uint64_t seed,
					 size_t total, struct vt_gate *gate)
{
	struct fio_client *c = calloc(1, sizeof(*c));
	struct volt_join *j;

	CHECK(c != NULL);
	volt_future_init(&c->base, &fio_client_ops);
	c->rt = rt;
	c->st = st;
	c->addr = *addr;
	c->gate = gate;
	c->id = id;
	c->rng = seed ^ ((uint64_t)id * 0x9e3779b97f4a7c15ull);
	c->total = total;
	j = vt_spawn(rt, c, sizeof(*c), false);
	free(c);
	return j;
}

/* ------------------------------------------------------------- one run */

struct fio_run {
	const char *scenario, *policy, *driver;
	uint64_t seed;
	unsigned conns;
	size_t bytes;
	struct fio_stats st;
	int fds0;
	double cpu0;
	struct volt_rt *rt;
	struct volt_listener l;
	struct volt_addr addr;
	struct volt_join *server;
};

/*
 * Installs the shim (seed; pre, if not NULL, arms it before the runtime
 * exists) and makes a runtime on driver for the run, with the echo server
 * listening; false if the kernel refuses the driver (noted, skipped).
 * want_driver: what volt_rt_driver must say (NULL: driver).
 */
static bool run_begin(struct fio_run *r, const char *want_driver, void (*pre)(void))
{
	struct volt_config cfg;
	int ret;

	note_seed(r->scenario, r->driver, r->seed);
	/* first, so that a run the runner has to kill still says how to replay it */
	fprintf(stderr, "note: fault %s on %s [%s]: seed %#llx\n", r->scenario, r->driver,
		r->policy, (unsigned long long)r->seed);
	memset(&r->st, 0, sizeof(r->st));
	r->fds0 = vt_fd_count(NULL);
	r->cpu0 = vt_cpu_s();
	vt_fault_install(r->seed);
	if (pre)
		pre();
	vt_cfg(&cfg, r->policy, 2);
	cfg.driver = r->driver;
	ret = volt_rt_new(&cfg, &r->rt);
	if ((ret == -ENOSYS || ret == -EPERM) && strcmp(r->driver, "uring") == 0) {
		fprintf(stderr, "note: driver %s refused by the kernel (%d); skipped\n", r->driver,
			ret);
		vt_fault_uninstall();
		return false;
	}
	CHECK_OK(ret);
	CHECK_STR_EQ(volt_rt_driver(r->rt), want_driver ? want_driver : r->driver);
	r->server = fio_server_start(r->rt, &r->l, &r->addr, &r->st);
	return true;
}

/* Joins the clients: each must have returned want (0: its whole stream verified). */
static void join_clients(struct volt_join **cl, unsigned n, const intptr_t *want)
{
	for (unsigned i = 0; i < n; i++) {
		intptr_t res = (intptr_t)vt_join(cl[i]);

		CHECK_MSG(res == (want ? want[i] : 0), "client %u ended with %s (%ld)", i,
			  volt_strerror((int)res), (long)res);
	}
}

/* Disarms, closes the listener, frees the runtime, uninstalls; checks descriptors. */
static void run_end(struct fio_run *r)
{
	char what[512];

	vt_fault_clear();
	CHECK_OK(volt_listener_close(r->l));
	CHECK_CLOSED_LOOP(r->server);
	volt_rt_free(r->rt);
	vt_fault_describe(what, sizeof(what));
	vt_fault_uninstall();
	CHECK_EQ(vt_fd_count(NULL), r->fds0);
	printf("fault: %s %s: %llu faults injected, %llu bytes verified\n", r->scenario, r->driver,
	       (unsigned long long)vt_fault_total(),
	       (unsigned long long)atomic_load(&r->st.verified));
	fprintf(stderr,
		"note: [%s] %s; %llu readiness events owed and paid, %llu io_uring stand-ins; "
		"CPU %.2f s\n",
		r->policy, what[0] ? what : "no faults", (unsigned long long)vt_fault_synthetic(),
		(unsigned long long)vt_fault_standins(), vt_cpu_s() - r->cpu0);
	CHECK_EQ(atomic_load(&r->st.mismatch), 0);
	CHECK_MSG(atomic_load(&r->st.accept_bad) == 0, "accept returned %s",
		  volt_strerror(atomic_load(&r->st.last_accept_bad)));
	CHECK_MSG(atomic_load(&r->st.conn_bad) == 0, "a server connection ended with %s",
		  volt_strerror(atomic_load(&r->st.last_conn_bad)));
}

/*
 * The common shape: arm(plan), run r->conns clients of r->bytes each
 * (every one must verify its whole stream), disarm, tear down.
 */
static void echo_run(struct fio_run *r, unsigned flags, void (*arm)(void))
{
	struct volt_join **cl = calloc(r->conns, sizeof(*cl));

	CHECK(cl != NULL);
	r->st.flags = flags;
	arm();
	for (unsigned i = 0; i < r->conns; i++)
		cl[i] = fio_client_start(r->rt, &r->addr, &r->st, i, r->seed, r->bytes, NULL);
	join_clients(cl, r->conns, NULL);
	free(cl);
	CHECK_UEQ(atomic_load(&r->st.verified), (uint64_t)r->conns * r->bytes);
	CHECK_EQ(atomic_load(&r->st.conn_errors), 0);
}

static unsigned n_drivers(void)
{
	unsigned n = 0;

	while (volt_driver_name(n))
		n++;
	return n;
}

/* Run i of a scenario: seed i / drivers on driver i % drivers. */
static void fio_init(struct fio_run *r, const char *scenario, const char *policy, unsigned i)
{
	*r = (struct fio_run){ .scenario = scenario, .policy = policy,
			       .driver = volt_driver_name(i % n_drivers()),
			       .seed = base_seed() + i / n_drivers(), .conns = n_conns(),
			       .bytes = n_bytes() };
}

/* The body once per driver and seed (of `seeds`), with r_ set up for the run (not begun). */
#define FIO_EACH(r_, scenario_, policy_, seeds_)                                         \
	for (unsigned fio_i_ = 0; fio_i_ < (seeds_) * n_drivers(); fio_i_++)             \
		if (fio_init(&(r_), scenario_, policy_, fio_i_), true)

/* -------------------------------------------------------- the scenarios */

static void arm_eagain(void)
{
	vt_fault_set(VT_FC_ACCEPT, VT_F_EAGAIN, 0.3);
	vt_fault_set(VT_FC_RECV, VT_F_EAGAIN, 0.3);
	vt_fault_set(VT_FC_SEND, VT_F_EAGAIN, 0.3);
}

VOLT_RT_TEST(fault_io_eagain_storm)
{
	struct fio_run r;

	FIO_EACH(r, "eagain_storm", policy, n_seeds()) {
		if (!run_begin(&r, NULL, NULL))
			continue;
		echo_run(&r, 0, arm_eagain);
		CHECK_GT(vt_fault_count(VT_FC_RECV, VT_F_EAGAIN), 0);
		CHECK_GT(vt_fault_count(VT_FC_SEND, VT_F_EAGAIN), 0);
		run_end(&r);
	}
}

static void arm_short(void)
{
	vt_fault_set(VT_FC_RECV, VT_F_SHORT, 0.3);
	vt_fault_set(VT_FC_SEND, VT_F_SHORT, 0.3);
}

VOLT_RT_TEST(fault_io_short_io)
{
	struct fio_run r;

	FIO_EACH(r, "short_io", policy, n_seeds()) {
		if (!run_begin(&r, NULL, NULL))
			continue;
		echo_run(&r, 0, arm_short);
		CHECK_GT(vt_fault_count(VT_FC_RECV, VT_F_SHORT), 0);
		CHECK_GT(vt_fault_count(VT_FC_SEND, VT_F_SHORT), 0);
		run_end(&r);
	}
}

static void arm_eintr(void)
{
	vt_fault_set(VT_FC_ACCEPT, VT_F_EINTR, 0.3);
	vt_fault_set(VT_FC_RECV, VT_F_EINTR, 0.3);
	vt_fault_set(VT_FC_SEND, VT_F_EINTR, 0.3);
}

VOLT_RT_TEST(fault_io_eintr)
{
	struct fio_run r;

	FIO_EACH(r, "eintr", policy, n_seeds()) {
		if (!run_begin(&r, NULL, NULL))
			continue;
		echo_run(&r, 0, arm_eintr);
		CHECK_GT(vt_fault_count(VT_FC_RECV, VT_F_EINTR), 0);
		run_end(&r);
	}
}

/*
 * Two of the server's connections break: the 2nd accepted is reset after
 * a quarter of its stream has moved (bytes both ways), the 3rd gets EPIPE
 * on a send after a third. The others see nothing.
 */
VOLT_RT_TEST(fault_io_reset)
{
	struct fio_run r;

	FIO_EACH(r, "reset", policy, n_seeds()) {
		struct volt_join **cl;
		int reset, pipe;
		unsigned ended = 0;

		if (!run_begin(&r, NULL, NULL))
			continue;
		cl = calloc(r.conns, sizeof(*cl));
		CHECK(cl != NULL);
		reset = vt_fault_doom(2, r.bytes / 4, -ECONNRESET);
		pipe = vt_fault_doom(3, r.bytes / 3, -EPIPE);
		for (unsigned i = 0; i < r.conns; i++)
			cl[i] = fio_client_start(r.rt, &r.addr, &r.st, i, r.seed, r.bytes, NULL);
		for (unsigned i = 0; i < r.conns; i++) {
			intptr_t res = (intptr_t)vt_join(cl[i]);

			/* the two broken ones end early: their server closed (FIN or RST) */
			if (res != 0) {
				CHECK_MSG(res == -EPIPE || res == -ECONNRESET,
					  "client %u ended with %s", i, volt_strerror((int)res));
				ended++;
			}
		}
		free(cl);
		CHECK(vt_fault_doom_fired(reset));
		CHECK(vt_fault_doom_fired(pipe));
		CHECK_EQ(ended, 2);
		CHECK_EQ(atomic_load(&r.st.resets), 1);
		CHECK_EQ(atomic_load(&r.st.resets_sticky), 1);
		CHECK_EQ(atomic_load(&r.st.pipes), 1);
		CHECK_EQ(atomic_load(&r.st.conn_errors), 2);
		/* every byte of the others, and what the broken ones had before */
		CHECK_GE(atomic_load(&r.st.verified), (uint64_t)(r.conns - 2) * r.bytes);
		run_end(&r);
	}
}

/* ------------------------------------------------------------- EMFILE */

static bool closed_by_peer(int fd, double until)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t n;

	for (;;) {
		int ms = (int)((until - vt_mono_s()) * 1000.0), k = poll(&p, 1, ms > 0 ? ms : 0);

		if (k == 1)
			break;
		if (k == 0 || errno != EINTR)
			return false;
	}
	n = read(fd, &c, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

#define EMFILE_SHED 3

/*
 * Phase 1: clients connect to a first listener and stop halfway (gate).
 * That listener closes; EMFILE is armed on every accept; a second
 * listener's loop starts under it (on io_uring an accept armed before the
 * limit came would take a connection, as a real one armed before would
 * not: so the loop starts after). Plain sockets connect to it and must be
 * shed; the gated clients finish meanwhile. Over a quiet window at EMFILE
 * the loop's attempts and the process's CPU are bounded. Then the limit
 * lifts and a new client is accepted and echoed. One seed even in the
 * reliability suite: EMFILE on every accept leaves nothing to draw.
 */
VOLT_RT_TEST(fault_io_emfile)
{
	struct fio_run r;

	FIO_EACH(r, "emfile", policy, 1) {
		struct volt_join **cl, *late, *server2;
		struct volt_listener l2;
		struct volt_addr addr2;
		struct vt_gate gate;
		int plain[EMFILE_SHED];
		double t_conn, w0, w1, cpu0, cpu1, ratio, clock_s, window;
		uint64_t e0, e1;
		volt_instant r0, r1;
		bool virt = virtual_clock(policy);

		if (!run_begin(&r, NULL, NULL))
			continue;
		cl = calloc(r.conns, sizeof(*cl));
		CHECK(cl != NULL);
		vt_gate_init(&gate);
		for (unsigned i = 0; i < r.conns; i++)
			cl[i] = fio_client_start(r.rt, &r.addr, &r.st, i, r.seed, r.bytes, &gate);
		VT_WAIT_FOR(atomic_load(&r.st.at_gate) == (int)r.conns);
		CHECK_EQ(atomic_load(&r.st.accepted), (int)r.conns);

		vt_fault_set(VT_FC_ACCEPT, VT_F_EMFILE, 1.0);
		server2 = fio_server_start(r.rt, &l2, &addr2, &r.st);
		t_conn = vt_mono_s();
		for (int i = 0; i < EMFILE_SHED; i++)
			plain[i] = vt_plain_connect(&addr2);
		/* the established connections go on meanwhile */
		vt_gate_open(&gate);
		join_clients(cl, r.conns, NULL);
		CHECK_UEQ(atomic_load(&r.st.verified), (uint64_t)r.conns * r.bytes);
		for (int i = 0; i < EMFILE_SHED; i++)
			CHECK_MSG(closed_by_peer(plain[i], t_conn + 5.0),
				  "connection %d made at EMFILE was not closed within 5 s", i);
		CHECK_EQ(atomic_load(&r.st.accepted), (int)r.conns);

		/* a quiet window at EMFILE: the loop backs off, it does not spin */
		window = reliability() ? 1.0 : 0.3;
		e0 = vt_fault_count(VT_FC_ACCEPT, VT_F_EMFILE);
		r0 = volt_instant_now(r.rt);
		cpu0 = vt_cpu_s();
		w0 = vt_mono_s();
		vt_sleep_us((long)(window * 1e6));
		cpu1 = vt_cpu_s();
		w1 = vt_mono_s();
		r1 = volt_instant_now(r.rt);
		e1 = vt_fault_count(VT_FC_ACCEPT, VT_F_EMFILE);
		ratio = (cpu1 - cpu0) / (w1 - w0);
		clock_s = (double)(r1.ns - r0.ns) * 1e-9;
		fprintf(stderr,
			"note: [%s/%s] %d connections shed; over %.2f s at EMFILE: %llu accept "
			"attempts in %.2f s of the runtime's (%s) clock, CPU %.1f%% of one CPU\n",
			policy, r.driver, EMFILE_SHED, w1 - w0, (unsigned long long)(e1 - e0),
			clock_s, virt ? "virtual" : "real", ratio * 100.0);
		/* backoff 10 ms doubling to 1 s: ~7 attempts, then 1 a second (test_net_sock.c) */
		CHECK_MSG((double)(e1 - e0) <= 4.0 * (12.0 + clock_s),
			  "%llu accept attempts in %.2f s at EMFILE", (unsigned long long)(e1 - e0),
			  clock_s);
		if (!virt)
			CHECK_MSG(ratio < 0.5, "the process used %.1f%% of a CPU at EMFILE",
				  ratio * 100.0);

		/* the limit lifts: the next connection is accepted (within the backoff, <= 1 s) */
		vt_fault_clear();
		late = fio_client_start(r.rt, &addr2, &r.st, r.conns, r.seed, r.bytes, NULL);
		CHECK_EQ((intptr_t)vt_join(late), 0);
		CHECK_EQ(atomic_load(&r.st.accepted), (int)r.conns + 1);
		CHECK_UEQ(atomic_load(&r.st.verified), (uint64_t)(r.conns + 1) * r.bytes);
		CHECK_GE(vt_fault_count(VT_FC_ACCEPT, VT_F_EMFILE), EMFILE_SHED);
		CHECK_EQ(atomic_load(&r.st.conn_errors), 0);

		for (int i = 0; i < EMFILE_SHED; i++)
			close(plain[i]);
		CHECK_OK(volt_listener_close(l2));
		CHECK_CLOSED_LOOP(server2);
		vt_gate_destroy(&gate);
		free(cl);
		run_end(&r);
	}
}

/* --------------------------------------------------- set-up failures */

static void arm_setup(void)
{
	vt_fault_set(VT_FC_SOCKET, VT_F_EMFILE, 0.15);
	vt_fault_set(VT_FC_SOCKET, VT_F_ENFILE, 0.05);
	vt_fault_set(VT_FC_EPOLL_CTL, VT_F_ENOMEM, 0.15);
	vt_fault_set(VT_FC_EPOLL_CTL, VT_F_ENOSPC, 0.1);
	vt_fault_set(VT_FC_ACCEPT, VT_F_ENOBUFS, 0.1);
	vt_fault_set(VT_FC_ACCEPT, VT_F_ENOMEM, 0.1);
}

static uint64_t setup_faults(void)
{
	return vt_fault_count(VT_FC_SOCKET, VT_F_EMFILE) +
	       vt_fault_count(VT_FC_SOCKET, VT_F_ENFILE) +
	       vt_fault_count(VT_FC_EPOLL_CTL, VT_F_ENOMEM) +
	       vt_fault_count(VT_FC_EPOLL_CTL, VT_F_ENOSPC) +
	       vt_fault_count(VT_FC_ACCEPT, VT_F_ENOBUFS) +
	       vt_fault_count(VT_FC_ACCEPT, VT_F_ENOMEM);
}

/*
 * Each fault comes back once as a clean error from what made the socket:
 * a client's connect (socket, or its registration), or the server's accept
 * (the accept itself, or the accepted socket's registration: that
 * connection is closed, and its client, seeing its stream end before any
 * byte came back, starts over). Nothing leaks (run_end counts descriptors).
 */
VOLT_RT_TEST(fault_io_setup)
{
	struct fio_run r;

	FIO_EACH(r, "setup", policy, n_seeds()) {
		struct volt_listener l;
		uint64_t injected, before;
		int fds;

		if (!run_begin(&r, NULL, NULL))
			continue;
		/* a listener whose socket or registration fails: the error, and nothing left */
		fds = vt_fd_count(NULL);
		vt_fault_set(VT_FC_SOCKET, VT_F_EMFILE, 1.0);
		CHECK_EQ(volt_tcp_listen(r.rt, "127.0.0.1:0", &l), -EMFILE);
		vt_fault_clear();
		vt_fault_set(VT_FC_EPOLL_CTL, VT_F_ENOSPC, 1.0);
		CHECK_EQ(volt_tcp_listen(r.rt, "127.0.0.1:0", &l),
			 strcmp(r.driver, "epoll") == 0 ? -ENOSPC : 0);
		if (strcmp(r.driver, "epoll") != 0) /* io_uring registers nothing */
			CHECK_OK(volt_listener_close(l));
		vt_fault_clear();
		CHECK_EQ(vt_fd_count(NULL), fds);
		before = setup_faults();

		echo_run(&r, FIO_REDO | FIO_CHURN, arm_setup);
		run_end(&r); /* the server has seen every accept's result: the counts are final */
		injected = setup_faults() - before;
		fprintf(stderr,
			"note: [%s/%s] %llu set-up faults: %d connects and %d accepts failed "
			"cleanly, %d clients started over\n",
			policy, r.driver, (unsigned long long)injected,
			atomic_load(&r.st.setup_errors), atomic_load(&r.st.accept_errors),
			atomic_load(&r.st.redo));
		CHECK_GT(injected, 0);
		CHECK_UEQ(injected, (uint64_t)(atomic_load(&r.st.setup_errors) +
					       atomic_load(&r.st.accept_errors)));
		if (strcmp(r.driver, "epoll") == 0)
			CHECK_GT(vt_fault_count(VT_FC_EPOLL_CTL, VT_F_ENOMEM) +
					 vt_fault_count(VT_FC_EPOLL_CTL, VT_F_ENOSPC),
				 0);
	}
}

/* ----------------------------------------------- the drivers' own calls */

static void arm_waits(void)
{
	vt_fault_set(VT_FC_EPOLL_WAIT, VT_F_EINTR, 0.3);
	vt_fault_set(VT_FC_URING_SUBMIT, VT_F_EAGAIN, 0.1);
	vt_fault_set(VT_FC_URING_SUBMIT, VT_F_EBUSY, 0.1);
	vt_fault_set(VT_FC_URING_SUBMIT, VT_F_EINTR, 0.1);
	vt_fault_set(VT_FC_URING_ENTER, VT_F_EAGAIN, 0.1);
	vt_fault_set(VT_FC_URING_ENTER, VT_F_EBUSY, 0.1);
	vt_fault_set(VT_FC_URING_ENTER, VT_F_EINTR, 0.1);
}

VOLT_RT_TEST(fault_io_waits)
{
	struct fio_run r;

	FIO_EACH(r, "waits", policy, n_seeds()) {
		if (!run_begin(&r, NULL, NULL))
			continue;
		echo_run(&r, 0, arm_waits);
		if (strcmp(r.driver, "uring") == 0)
			CHECK_GT(vt_fault_count(VT_FC_URING_SUBMIT, VT_F_EAGAIN) +
					 vt_fault_count(VT_FC_URING_SUBMIT, VT_F_EBUSY) +
					 vt_fault_count(VT_FC_URING_SUBMIT, VT_F_EINTR),
				 0);
		else
			CHECK_GT(vt_fault_count(VT_FC_EPOLL_WAIT, VT_F_EINTR), 0);
		run_end(&r);
	}
}

static void arm_cqe(void)
{
	static const enum vt_fcall calls[] = { VT_FC_ACCEPT, VT_FC_RECV, VT_FC_SEND };

	for (unsigned i = 0; i < 3; i++) {
		vt_fault_set(calls[i], VT_F_EAGAIN, 0.08);
		vt_fault_set(calls[i], VT_F_EINTR, 0.08);
		vt_fault_set(calls[i], VT_F_ECANCELED, 0.08);
		if (calls[i] != VT_FC_ACCEPT)
			vt_fault_set(calls[i], VT_F_SHORT, 0.08);
	}
}

/*
 * io_uring: -EAGAIN, -EINTR and an -ECANCELED nobody asked for moved
 * nothing, so the driver submits the operation again (drivers/uring.c,
 * "Retries"); none of them reaches the tasks. epoll runs the same plan
 * without ECANCELED, which no system call gives.
 */
VOLT_RT_TEST(fault_io_cqe_rewrite)
{
	struct fio_run r;

	FIO_EACH(r, "cqe_rewrite", policy, n_seeds()) {
		if (!run_begin(&r, NULL, NULL))
			continue;
		echo_run(&r, 0, arm_cqe);
		if (strcmp(r.driver, "uring") == 0) {
			CHECK_GT(vt_fault_count(VT_FC_RECV, VT_F_ECANCELED), 0);
			CHECK_GT(vt_fault_standins(), 0);
		}
		run_end(&r);
	}
}

/* A read_exact awaited in a task (under a timeout if ms > 0); its result is the output. */
struct read_task {
	struct volt_future base;
	struct volt_stream s;
	struct volt_io_op op;
	struct volt_timeout to;
	char *buf;
	size_t len;
	uint64_t ms;
};

static enum volt_poll read_task_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct read_task *t = (struct read_task *)f;

	VOLT_BEGIN(f);
	if (!t->ms) {
		VOLT_AWAIT(f, cx, volt_stream_read_exact(&t->op, t->s, t->buf, t->len));
		VOLT_RETURN(f, cx, t->op.result);
	}
	VOLT_AWAIT(f, cx, volt_timeout(&t->to, volt_stream_read_exact(&t->op, t->s, t->buf, t->len),
				       volt_ms(t->ms)));
	VOLT_RETURN(f, cx, t->to.result ? t->to.result : t->op.result);
	VOLT_END(f);
}

static const struct volt_future_ops read_task_ops = { .poll = read_task_poll };

static struct volt_join *read_start(struct volt_rt *rt, struct volt_stream s, char *buf,
				    size_t len, uint64_t ms)
{
	struct read_task t = { .s = s, .buf = buf, .len = len, .ms = ms };

	volt_future_init(&t.base, &read_task_ops);
	return vt_spawn(rt, &t, sizeof(t), false);
}

static intptr_t read_in_task(struct volt_rt *rt, struct volt_stream s, char *buf, size_t len)
{
	return (intptr_t)vt_join(read_start(rt, s, buf, len, 0));
}

/* A plain peer and a stream accepted for it, from a listener of its own (closed again). */
static int stream_pair(struct volt_rt *rt, struct volt_stream *s)
{
	struct volt_listener l;
	int peer = vt_tcp_pair(rt, &l, s);

	CHECK_OK(volt_listener_close(l));
	return peer;
}

/*
 * io_uring only: a kernel that said -EINTR for ever would make "retry"
 * a livelock. The driver retries RETRY_MAX times, then the error is the
 * read's. The bytes already in the socket were never taken (stand-ins
 * perform nothing): the next read gets every one. (epoll's system calls
 * are non-blocking, and a kernel gives them no EINTR to repeat.)
 */
VOLT_RT_TEST(fault_io_retry_bound)
{
	const char *d;
	uint64_t seed = base_seed();

	VT_FOR_EACH_DRIVER(d) {
		struct fio_run r = { .scenario = "retry_bound", .policy = policy, .driver = d,
				     .seed = seed };
		struct volt_stream s;
		unsigned char sent[1000], got[1000];
		int peer;
		intptr_t res;

		if (strcmp(d, "uring") != 0 || !run_begin(&r, NULL, NULL))
			continue;
		peer = stream_pair(r.rt, &s);
		vt_pattern(sent, sizeof(sent), 7, 0);
		CHECK_EQ(write(peer, sent, sizeof(sent)), (ssize_t)sizeof(sent));
		vt_fault_set(VT_FC_RECV, VT_F_EINTR, 1.0);
		res = read_in_task(r.rt, s, (char *)got, sizeof(got));
		CHECK_EQ(res, -EINTR);
		CHECK_EQ(vt_fault_count(VT_FC_RECV, VT_F_EINTR), RETRY_MAX + 1);
		vt_fault_clear();
		res = read_in_task(r.rt, s, (char *)got, sizeof(got));
		CHECK_EQ(res, (intptr_t)sizeof(got));
		CHECK(memcmp(got, sent, sizeof(got)) == 0);
		atomic_fetch_add(&r.st.verified, sizeof(got));
		CHECK_OK(volt_stream_close(s));
		close(peer);
		run_end(&r);
	}
}

/*
 * io_uring only: a read the kernel answers -EAGAIN waits behind a linked
 * POLL_ADD for its socket (drivers/uring.c, "Retries"). With every CQE
 * -EAGAIN and no byte coming, it waits there; a timeout that drops it
 * cancels both (the poll, and the read linked behind it), and so does a
 * close (-ECANCELED). Nothing is taken from the socket meanwhile: the
 * bytes sent afterwards all arrive; nothing is left behind (descriptors
 * here, records and memory under ASan).
 */
VOLT_RT_TEST(fault_io_retry_cancel)
{
	const char *d;
	uint64_t seed = base_seed();

	VT_FOR_EACH_DRIVER(d) {
		struct fio_run r = { .scenario = "retry_cancel", .policy = policy, .driver = d,
				     .seed = seed };
		struct volt_stream s;
		struct volt_join *j;
		unsigned char sent[1000], got[1000];
		uint64_t base;
		int peer;

		if (strcmp(d, "uring") != 0 || !run_begin(&r, NULL, NULL))
			continue;
		peer = stream_pair(r.rt, &s);

		/* dropped by a timeout while it waits behind its poll */
		vt_fault_set(VT_FC_RECV, VT_F_EAGAIN, 1.0);
		CHECK_EQ((intptr_t)vt_join(read_start(r.rt, s, (char *)got, sizeof(got), 50)),
			 -ETIMEDOUT);
		CHECK_GE(vt_fault_standins(), 2);
		vt_fault_clear();
		vt_pattern(sent, sizeof(sent), 11, 0);
		CHECK_EQ(write(peer, sent, sizeof(sent)), (ssize_t)sizeof(sent));
		CHECK_EQ(read_in_task(r.rt, s, (char *)got, sizeof(got)), (intptr_t)sizeof(got));
		CHECK(memcmp(got, sent, sizeof(got)) == 0);
		atomic_fetch_add(&r.st.verified, sizeof(got));

		/* closed while it waits behind its poll (the retry's SQE prepared: 2 stand-ins) */
		vt_fault_set(VT_FC_RECV, VT_F_EAGAIN, 1.0);
		base = vt_fault_standins();
		j = read_start(r.rt, s, (char *)got, sizeof(got), 0);
		VT_WAIT_FOR(vt_fault_standins() >= base + 2);
		CHECK_OK(volt_stream_close(s));
		CHECK_EQ((intptr_t)vt_join(j), -ECANCELED);
		close(peer);
		run_end(&r);
	}
}

/* --------------------------------------------------- io_uring refused */

static void arm_nothing(void)
{
}

static void refuse_eperm(void)
{
	vt_fault_set(VT_FC_URING_SETUP, VT_F_EPERM, 1.0);
}

static void refuse_enosys(void)
{
	vt_fault_set(VT_FC_URING_SETUP, VT_F_ENOSYS, 1.0);
}

/*
 * io_uring_setup refused (EPERM: io_uring_disabled or a seccomp filter;
 * ENOSYS: a kernel without it): a runtime asking for `uring` fails with
 * that error and leaves nothing behind; `auto` runs epoll, and echoes.
 */
VOLT_RT_TEST(fault_io_uring_refused)
{
	static const enum vt_fault why[] = { VT_F_EPERM, VT_F_ENOSYS };
	static void (*const refuse[])(void) = { refuse_eperm, refuse_enosys };
	uint64_t seed = base_seed();

	for (unsigned k = 0; k < 2; k++) {
		struct fio_run r = { .scenario = "uring_refused", .policy = policy,
				     .driver = "uring", .seed = seed + k, .conns = 2,
				     .bytes = n_bytes() / 4 };
		struct volt_config cfg;
		struct volt_rt *rt = NULL;
		int fds0 = vt_fd_count(NULL);

		note_seed(r.scenario, r.driver, r.seed);
		vt_fault_install(r.seed);
		vt_fault_set(VT_FC_URING_SETUP, why[k], 1.0);
		vt_cfg(&cfg, policy, 2);
		cfg.driver = "uring";
		CHECK_EQ(volt_rt_new(&cfg, &rt), k ? -ENOSYS : -EPERM);
		vt_fault_uninstall();
		CHECK_EQ(vt_fd_count(NULL), fds0);

		r.driver = "auto";
		if (!run_begin(&r, "epoll", refuse[k]))
			continue;
		echo_run(&r, 0, arm_nothing);
		r.driver = k ? "auto/ENOSYS" : "auto/EPERM";
		run_end(&r);
		CHECK_GE(vt_fault_count(VT_FC_URING_SETUP, why[k]), 1);
	}
}
