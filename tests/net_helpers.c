/* SPDX-License-Identifier: MIT */
/* tests/net_helpers.c: see net_helpers.h. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net_helpers.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct volt_rt *vt_net_rt(const char *policy, unsigned workers, const char *driver)
{
	struct volt_config cfg;
	struct volt_rt *rt;
	int ret;

	vt_cfg(&cfg, policy, workers);
	cfg.driver = driver;
	ret = volt_rt_new(&cfg, &rt);
	if (ret == -ENOSYS || ret == -EPERM) {
		fprintf(stderr, "note: driver %s refused by the kernel (%d); skipped\n", driver, ret);
		return NULL;
	}
	CHECK_OK(ret);
	CHECK_STR_EQ(volt_rt_driver(rt), driver);
	return rt;
}

static enum volt_poll conn_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vt_echo_conn *c = (struct vt_echo_conn *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&c->op, c->s, c->buf, sizeof(c->buf)));
		if (c->op.result <= 0)
			break;
		c->n = c->op.result;
		VOLT_AWAIT(f, cx, volt_stream_write_all(&c->op, c->s, c->buf, (size_t)c->n));
		if (c->op.result < 0)
			break;
	}
	(void)volt_stream_close(c->s);
	VOLT_END(f);
}

static void conn_drop(struct volt_future *f)
{
	struct vt_echo_conn *c = (struct vt_echo_conn *)f;

	(void)volt_stream_close(c->s); /* -EBADF if already closed: harmless */
}

static const struct volt_future_ops conn_ops = { conn_poll, conn_drop };

static enum volt_poll server_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vt_echo_server *sv = (struct vt_echo_server *)f;
	struct vt_echo_conn conn;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_accept(&sv->acc, sv->l, &sv->s, NULL));
		if (sv->acc.op.result < 0) {
			sv->last_error = (int)sv->acc.op.result;
			break;
		}
		if (sv->accepted)
			atomic_fetch_add(sv->accepted, 1);
		volt_future_init(&conn.base, &conn_ops);
		conn.s = sv->s;
		if (volt_spawn(cx->rt, &conn.base, sizeof(conn), NULL))
			(void)volt_stream_close(sv->s);
	}
	VOLT_END(f);
}

static const struct volt_future_ops server_ops = { .poll = server_poll };

void vt_echo_start(struct volt_rt *rt, struct volt_listener *l, struct volt_addr *addr,
		   atomic_int *accepted, struct volt_join **server)
{
	struct vt_echo_server sv = { .accepted = accepted };

	CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", l));
	CHECK_OK(volt_local_addr(l->h, addr));
	CHECK(volt_addr_port(addr) != 0);
	volt_future_init(&sv.base, &server_ops);
	sv.l = *l;
	*server = vt_spawn(rt, &sv, sizeof(sv), false);
}

void vt_pattern(unsigned char *buf, size_t len, uint32_t seed, size_t offset)
{
	for (size_t i = 0; i < len; i++) {
		uint32_t x = seed * 2654435761u + (uint32_t)(offset + i) * 40503u;

		buf[i] = (unsigned char)(x >> 13 ^ x);
	}
}

int vt_plain_connect(const struct volt_addr *addr)
{
	int fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	CHECK(fd >= 0);
	CHECK_OK(connect(fd, &addr->u.sa, addr->len));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int vt_tcp_pair(struct volt_rt *rt, struct volt_listener *l, struct volt_stream *s)
{
	struct volt_addr addr;
	int client;

	CHECK_OK(volt_tcp_listen(rt, "127.0.0.1:0", l));
	CHECK_OK(volt_local_addr(l->h, &addr));
	client = vt_plain_connect(&addr);
	CHECK_OK(volt_accept_blocking(*l, s, NULL, VOLT_DURATION_MAX));
	return client;
}

int vt_fd_count(int *max_fd)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0, hi = -1;

	CHECK(dir != NULL);
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);

		if (fd == dirfd(dir))
			continue;
		n++;
		if (fd > hi)
			hi = fd;
	}
	closedir(dir);
	if (max_fd)
		*max_fd = hi;
	return n;
}

int vt_fd_count_settled(int want)
{
	uint64_t until = now_ns() + 2000000000u;
	int n;

	while ((n = vt_fd_count(NULL)) > want && now_ns() < until)
		vt_sleep_us(1000);
	return n;
}

static enum volt_poll probe_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vt_probe *p = (struct vt_probe *)f;
	enum volt_poll r = volt_future_poll(p->inner, cx);

	if (r == VOLT_PENDING && p->pending)
		atomic_store(p->pending, 1);
	return r;
}

static const struct volt_future_ops probe_ops = { probe_poll, NULL };

struct volt_future *vt_probe(struct vt_probe *p, struct volt_future *inner, atomic_int *pending)
{
	volt_future_init(&p->base, &probe_ops);
	p->base.awaiting = inner;
	p->inner = inner;
	p->pending = pending;
	return &p->base;
}

struct volt_join *vt_spawn_in_task(struct volt_rt *rt, struct volt_future *inner,
				   atomic_int *pending)
{
	struct vt_probe p;

	/* the runtime drops the task's future, and with it inner, before the join completes */
	return vt_spawn(rt, vt_probe(&p, inner, pending), sizeof(p), false);
}

void vt_run_in_task(struct volt_rt *rt, struct volt_future *inner)
{
	vt_join(vt_spawn_in_task(rt, inner, NULL));
}

/* Runs f (which must not wait) in a task on rt, or on this thread if rt is NULL. */
static void run_on(struct volt_rt *rt, struct volt_future *f)
{
	if (rt)
		vt_run_in_task(rt, f);
	else
		CHECK_OK(volt_block_on(NULL, f, NULL));
}

void vt_check_handle_refused(struct volt_rt *rt, struct volt_handle h, int want)
{
	struct volt_stream s = { h }, out = { { NULL, 77, 77 } };
	struct volt_listener l = { h };
	struct volt_udp u = { h };
	struct volt_addr a, to;
	struct volt_io_op op;
	struct volt_accept acc;
	char buf[8] = "abcdefg";

	CHECK_OK(volt_addr_parse("127.0.0.1:9", &to));
	memset(&a, 0xa5, sizeof(a));
	CHECK_EQ(volt_handle_fd(h), want);
	CHECK_EQ(volt_local_addr(h, &a), want);
	CHECK_EQ(volt_peer_addr(h, &a), want);
	CHECK_EQ(volt_tcp_nodelay(s, true), want);
	CHECK_EQ(volt_stream_shutdown(s, SHUT_WR), want);
	CHECK_EQ(volt_stream_try_read(s, buf, sizeof(buf)), want);
	CHECK_EQ(volt_stream_try_write(s, buf, sizeof(buf)), want);
	CHECK_EQ(volt_stream_read_blocking(s, buf, sizeof(buf), volt_secs(1)), want);
	CHECK_EQ(volt_stream_write_blocking(s, buf, sizeof(buf), VOLT_DURATION_MAX), want);
	CHECK_EQ(volt_stream_read_exact_blocking(s, buf, sizeof(buf), VOLT_DURATION_MAX), want);
	CHECK_EQ(volt_stream_write_all_blocking(s, buf, sizeof(buf), volt_secs(1)), want);
	run_on(rt, volt_stream_read(&op, s, buf, sizeof(buf)));
	CHECK_EQ(op.result, want);
	run_on(rt, volt_stream_write(&op, s, buf, sizeof(buf)));
	CHECK_EQ(op.result, want);
	run_on(rt, volt_stream_read_exact(&op, s, buf, sizeof(buf)));
	CHECK_EQ(op.result, want);
	run_on(rt, volt_stream_write_all(&op, s, buf, sizeof(buf)));
	CHECK_EQ(op.result, want);
	CHECK_EQ(volt_accept_try(l, &out, &a), want);
	CHECK_EQ(volt_accept_blocking(l, &out, NULL, volt_secs(1)), want);
	run_on(rt, volt_accept(&acc, l, &out, NULL));
	CHECK_EQ(acc.op.result, want);
	CHECK(out.h.rt == NULL && out.h.index == 77 && out.h.gen == 77);
	CHECK_EQ(volt_udp_connect(u, &to), want);
	CHECK_EQ(volt_udp_try_send_to(u, buf, sizeof(buf), &to), want);
	CHECK_EQ(volt_udp_try_recv_from(u, buf, sizeof(buf), &a), want);
	CHECK_EQ(volt_udp_send_to_blocking(u, buf, sizeof(buf), &to, volt_secs(1)), want);
	CHECK_EQ(volt_udp_recv_from_blocking(u, buf, sizeof(buf), NULL, VOLT_DURATION_MAX), want);
	run_on(rt, volt_udp_send_to(&op, u, buf, sizeof(buf), &to));
	CHECK_EQ(op.result, want);
	run_on(rt, volt_udp_recv_from(&op, u, buf, sizeof(buf), &a));
	CHECK_EQ(op.result, want);
	CHECK_EQ(volt_stream_close(s), want);
	CHECK_EQ(volt_listener_close(l), want);
	CHECK_EQ(volt_udp_close(u), want);
	CHECK(memcmp(buf, "abcdefg", 8) == 0); /* nothing was read into it */
	for (size_t i = 0; i < sizeof(a); i++) /* nor any address written */
		CHECK_EQ(((unsigned char *)&a)[i], 0xa5);
}

double vt_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double vt_cpu_s(void)
{
	struct rusage ru;

	CHECK_OK(getrusage(RUSAGE_SELF, &ru));
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}
