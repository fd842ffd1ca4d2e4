/* SPDX-License-Identifier: MIT */
/* tests/net_helpers.c: see net_helpers.h. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_helpers.h"

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

double vt_cpu_s(void)
{
	struct rusage ru;

	CHECK_OK(getrusage(RUSAGE_SELF, &ru));
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}
