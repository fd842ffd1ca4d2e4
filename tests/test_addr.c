/* SPDX-License-Identifier: MIT */
/*
 * tests/test_addr.c: addresses and name resolution: the strict parser
 * against a table of bad strings (each -EINVAL, the output untouched);
 * parse/format round trips; scopes by name and index; -ENOSPC from the
 * formatter; Unix addresses; volt_strerror; volt_resolve_first on
 * "localhost" and on a name that cannot exist; the volt_resolve future
 * under every policy: awaited in a task, blocked on from a plain thread,
 * dropped while its lookup is queued (by a zero timeout, by cancelling the
 * task, by shutting the runtime down) with its job freed afterwards.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <stddef.h>

#include "helpers.h"

/* Live resolve jobs (net/resolve.c, internal). */
extern _Atomic long volt__resolve_jobs;

/* ---- the parser */

static const char *const bad_addrs[] = {
	"",
	"abc",
	"localhost:80",
	"1.2.3.4",          /* no port */
	"1.2.3.4:",         /* empty port */
	"0.0.0.0:99999",
	"1.2.3.4:65536",
	"256.1.1.1:80",
	" 1.2.3.4:80",
	"1.2.3.4:80 ",
	"\t1.2.3.4:80",
	"1.2.3.4:80\n",
	"1.2.3.4: 80",
	"1.2.3.4 :80",
	"1.2.3.4:+80",
	"1.2.3.4:-1",
	"1.2.3.4:0080x",
	"1.2.3.4:0x50",
	"1.2.3.4:000080",   /* six port digits */
	"1.2.3.4:80:80",
	"1.2.3:80",         /* inet_aton's short form */
	"1.2.3.4.5:80",
	"1..3.4:80",
	"0x1.2.3.4:80",
	"01.2.3.4:80",      /* leading zero: octal to inet_aton */
	"1.2.3.04:80",
	"1.2.3.4%lo:80",
	":80",
	"[::1]",            /* no port */
	"[::1]:",
	"[::1]80",
	"[::1]:65536",
	"[::1]:+1",
	"::1:80",           /* IPv6 without brackets */
	"[::1:80",
	"[::1%lo:x]:80",    /* the kernel reads "lo:x" as an alias of lo */
	"[::1%lo: ]:80",
	"::1]:80",
	"[[::1]]:80",
	"[]:80",
	"[ ::1]:80",
	"[1.2.3.4]:80",
	"[::g]:80",
	"[1:2:3:4:5:6:7:8:9]:80",
	"[fe80::1%]:80",               /* empty scope */
	"[fe80::1%no-such-if0]:80",    /* unknown scope name */
	"[fe80::1%4294967296]:80",     /* scope index above 32 bits */
	"[fe80::1%1%1]:80",
	"[fe80::1%averyveryverylongname]:80",
};

VOLT_TEST(addr_parse_rejects_table)
{
	struct volt_addr a, before;

	for (size_t i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		memset(&a, 0xa5, sizeof(a));
		before = a;
		CHECK_MSG(volt_addr_parse(bad_addrs[i], &a) == -EINVAL, "accepted \"%s\"",
			  bad_addrs[i]);
		CHECK_MSG(memcmp(&a, &before, sizeof(a)) == 0, "\"%s\" wrote *out", bad_addrs[i]);
	}
	memset(&a, 0xa5, sizeof(a));
	before = a;
	CHECK_EQ(volt_addr_parse(NULL, &a), -EINVAL);
	CHECK(memcmp(&a, &before, sizeof(a)) == 0);
	CHECK_EQ(volt_addr_parse("1.2.3.4:80", NULL), -EINVAL);
}

struct good {
	const char *in;
	const char *text; /* what volt_addr_format gives */
	int family;
	uint16_t port;
};

static const struct good good_addrs[] = {
	{ "0.0.0.0:8080", "0.0.0.0:8080", AF_INET, 8080 },
	{ "127.0.0.1:65535", "127.0.0.1:65535", AF_INET, 65535 },
	{ "0.0.0.0:0", "0.0.0.0:0", AF_INET, 0 },
	{ "255.255.255.255:1", "255.255.255.255:1", AF_INET, 1 },
	{ "10.0.0.1:00080", "10.0.0.1:80", AF_INET, 80 }, /* five digits */
	{ "[::1]:9000", "[::1]:9000", AF_INET6, 9000 },
	{ "[::]:0", "[::]:0", AF_INET6, 0 },
	{ "[FE80::A]:1", "[fe80::a]:1", AF_INET6, 1 },
	{ "[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]:80", AF_INET6, 80 },
	{ "[2001:db8:0:0:0:0:0:1]:443", "[2001:db8::1]:443", AF_INET6, 443 },
	{ "[fe80::1%1]:80", "[fe80::1%1]:80", AF_INET6, 80 },
	{ "[fe80::1%4294967295]:65535", "[fe80::1%4294967295]:65535", AF_INET6, 65535 },
	{ "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535",
	  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535", AF_INET6, 65535 },
};

VOLT_TEST(addr_parse_format_round_trip)
{
	for (size_t i = 0; i < sizeof(good_addrs) / sizeof(good_addrs[0]); i++) {
		const struct good *g = &good_addrs[i];
		struct volt_addr a, b;
		char buf[VOLT_ADDR_STRLEN];
		int n;

		memset(&a, 0xa5, sizeof(a));
		CHECK_MSG(volt_addr_parse(g->in, &a) == 0, "rejected \"%s\"", g->in);
		CHECK_EQ(a.u.sa.sa_family, g->family);
		CHECK_EQ(a.len, g->family == AF_INET ? sizeof(struct sockaddr_in)
						     : sizeof(struct sockaddr_in6));
		CHECK_EQ(volt_addr_port(&a), g->port);
		n = volt_addr_format(&a, buf, sizeof(buf));
		CHECK_EQ(n, strlen(g->text));
		CHECK_STR_EQ(buf, g->text);
		CHECK_OK(volt_addr_parse(buf, &b));
		CHECK_EQ(b.len, a.len);
		CHECK_MSG(memcmp(&a.u, &b.u, a.len) == 0, "\"%s\" does not round-trip", g->in);
	}
}

VOLT_TEST(addr_parse_scope_by_name)
{
	unsigned lo = if_nametoindex("lo");
	struct volt_addr a;
	char buf[VOLT_ADDR_STRLEN], want[64];

	if (!lo)
		VT_SKIP("no interface named lo");
	CHECK_OK(volt_addr_parse("[fe80::1%lo]:80", &a));
	CHECK_EQ(a.u.in6.sin6_scope_id, lo);
	snprintf(want, sizeof(want), "[fe80::1%%%u]:80", lo);
	CHECK_EQ(volt_addr_format(&a, buf, sizeof(buf)), strlen(want));
	CHECK_STR_EQ(buf, want);
}

VOLT_TEST(addr_format_nospc_and_errors)
{
	struct volt_addr a;
	char buf[VOLT_ADDR_STRLEN];
	int n;

	CHECK_OK(volt_addr_parse("[fe80::1%7]:65535", &a));
	n = volt_addr_format(&a, buf, sizeof(buf));
	CHECK_EQ(n, strlen("[fe80::1%7]:65535"));
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(volt_addr_format(&a, buf, (size_t)n + 1), n); /* exactly fits */
	CHECK_STR_EQ(buf, "[fe80::1%7]:65535");
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(volt_addr_format(&a, buf, (size_t)n), -ENOSPC); /* no room for the NUL */
	CHECK_STR_EQ(buf, "");
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(volt_addr_format(&a, buf, 1), -ENOSPC);
	CHECK_STR_EQ(buf, "");
	buf[0] = 'x';
	CHECK_EQ(volt_addr_format(&a, buf, 0), -ENOSPC); /* nothing written */
	CHECK_EQ(buf[0], 'x');
	CHECK_EQ(volt_addr_format(NULL, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(volt_addr_format(&a, NULL, 10), -EINVAL);
	memset(&a, 0, sizeof(a));
	a.u.sa.sa_family = AF_APPLETALK;
	CHECK_EQ(volt_addr_format(&a, buf, sizeof(buf)), -EAFNOSUPPORT);
	CHECK_EQ(volt_addr_port(&a), 0);
	CHECK_EQ(volt_addr_port(NULL), 0);
}

VOLT_TEST(addr_unix)
{
	struct volt_addr a, before;
	char path[sizeof(a.u.un.sun_path) + 1];
	char buf[VOLT_ADDR_STRLEN];

	CHECK_OK(volt_addr_unix("/tmp/volt.sock", &a));
	CHECK_EQ(a.u.sa.sa_family, AF_UNIX);
	CHECK_EQ(a.len, offsetof(struct sockaddr_un, sun_path) + sizeof("/tmp/volt.sock"));
	CHECK_EQ(volt_addr_port(&a), 0);
	CHECK_EQ(volt_addr_format(&a, buf, sizeof(buf)), strlen("/tmp/volt.sock"));
	CHECK_STR_EQ(buf, "/tmp/volt.sock");
	CHECK_EQ(volt_addr_format(&a, buf, 5), -ENOSPC);
	CHECK_STR_EQ(buf, "");

	/* the longest path that fits with its NUL, formatted into VOLT_ADDR_STRLEN */
	memset(path, 'p', sizeof(path));
	path[sizeof(a.u.un.sun_path) - 1] = '\0';
	CHECK_OK(volt_addr_unix(path, &a));
	CHECK_EQ(volt_addr_format(&a, buf, sizeof(buf)), strlen(path));
	CHECK_STR_EQ(buf, path);
	path[sizeof(a.u.un.sun_path) - 1] = 'p';
	path[sizeof(a.u.un.sun_path)] = '\0';
	memset(&a, 0xa5, sizeof(a));
	before = a;
	CHECK_EQ(volt_addr_unix(path, &a), -ENAMETOOLONG);
	CHECK_EQ(volt_addr_unix("", &a), -EINVAL);
	CHECK_EQ(volt_addr_unix(NULL, &a), -EINVAL);
	CHECK(memcmp(&a, &before, sizeof(a)) == 0);
	CHECK_EQ(volt_addr_unix("/x", NULL), -EINVAL);

	/* what getsockname gives: an abstract name and an unnamed socket */
	memset(&a, 0, sizeof(a));
	a.u.un.sun_family = AF_UNIX;
	memcpy(a.u.un.sun_path, "\0volt", 5);
	a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 5);
	CHECK_EQ(volt_addr_format(&a, buf, sizeof(buf)), 5);
	CHECK_STR_EQ(buf, "@volt");
	a.len = (socklen_t)offsetof(struct sockaddr_un, sun_path);
	CHECK_EQ(volt_addr_format(&a, buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "");
}

/* ---- messages */

VOLT_TEST(addr_strerror)
{
	CHECK_STR_EQ(volt_strerror(0), "success");
	CHECK_STR_EQ(volt_strerror(-EINVAL), "Invalid argument");
	CHECK_STR_EQ(volt_strerror(-ECONNREFUSED), "Connection refused");
	CHECK_STR_EQ(volt_strerror(VOLT_EAI(EAI_NONAME)), gai_strerror(EAI_NONAME));
	CHECK_STR_EQ(volt_strerror(VOLT_EAI(EAI_AGAIN)), gai_strerror(EAI_AGAIN));
	CHECK_STR_EQ(volt_strerror(-2999), "unknown error"); /* no such errno */
	CHECK_STR_EQ(volt_strerror(-5000), "unknown error");
	CHECK_STR_EQ(volt_strerror(EINVAL), "unknown error"); /* positive */
	CHECK_STR_EQ(volt_strerror(INT_MIN), "unknown error");
	CHECK_STR_EQ(volt_strerror(INT_MAX), "unknown error");
	/* the EAI range sits apart from every errno */
	CHECK(VOLT_IS_EAI(VOLT_EAI(EAI_NONAME)));
	CHECK(VOLT_IS_EAI(VOLT_EAI(EAI_OVERFLOW)));
	CHECK(!VOLT_IS_EAI(-EINVAL));
	CHECK(!VOLT_IS_EAI(-ECONNREFUSED));
}

/* ---- volt_resolve_first */

static bool is_loopback(const struct volt_addr *a)
{
	if (a->u.sa.sa_family == AF_INET)
		return ntohl(a->u.in.sin_addr.s_addr) >> 24 == 127;
	return a->u.sa.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr);
}

/* The lookup of a name that cannot exist: a VOLT_EAI code, or -errno. */
static void check_failed_lookup(int err, const char *what)
{
	fprintf(stderr, "  %s: no-such-host.invalid -> %d (%s)\n", what, err, volt_strerror(err));
	CHECK(err < 0);
	CHECK(VOLT_IS_EAI(err) || err > -VOLT_EAI_BASE);
}

VOLT_TEST(resolve_first_localhost_and_failure)
{
	struct volt_addr a, before;
	char buf[VOLT_ADDR_STRLEN];

	CHECK_OK(volt_resolve_first("localhost", 8080, &a));
	CHECK(is_loopback(&a));
	CHECK_EQ(volt_addr_port(&a), 8080);
	CHECK_GT(volt_addr_format(&a, buf, sizeof(buf)), 0);
	fprintf(stderr, "  localhost -> %s\n", buf);

	CHECK_OK(volt_resolve_first("127.0.0.1", 0, &a));
	CHECK_EQ(a.u.sa.sa_family, AF_INET);
	CHECK_EQ(a.len, sizeof(struct sockaddr_in));
	CHECK_OK(volt_resolve_first("::1", 65535, &a));
	CHECK_EQ(a.u.sa.sa_family, AF_INET6);
	CHECK_EQ(volt_addr_format(&a, buf, sizeof(buf)), strlen("[::1]:65535"));
	CHECK_STR_EQ(buf, "[::1]:65535");

	memset(&a, 0xa5, sizeof(a));
	before = a;
	CHECK_EQ(volt_resolve_first(NULL, 80, &a), -EINVAL);
	CHECK_EQ(volt_resolve_first("", 80, &a), -EINVAL);
	CHECK_EQ(volt_resolve_first("localhost", 80, NULL), -EINVAL);
	check_failed_lookup(volt_resolve_first("no-such-host.invalid", 80, &a), "resolve_first");
	CHECK(memcmp(&a, &before, sizeof(a)) == 0);
}

/* ---- the future */

/* Awaits three lookups in a task: localhost, a bad name, a NULL host. */
struct lookups {
	struct volt_future base;
	struct volt_rt *rt; /* passed to volt_resolve; NULL: the current runtime */
	struct volt_resolve r;
	struct volt_addr addr;
	int failed;
};

static enum volt_poll lookups_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct lookups *l = (struct lookups *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_resolve(&l->r, l->rt, "localhost", 443, &l->addr));
	CHECK_OK(l->r.result);
	CHECK(is_loopback(&l->addr));
	CHECK_EQ(volt_addr_port(&l->addr), 443);
	VOLT_AWAIT(f, cx, volt_resolve(&l->r, l->rt, "no-such-host.invalid", 443, &l->addr));
	l->failed = l->r.result;
	VOLT_AWAIT(f, cx, volt_resolve(&l->r, l->rt, NULL, 443, &l->addr));
	CHECK_EQ(l->r.result, -EINVAL);
	VOLT_RETURN(f, cx, l->failed);
	VOLT_END(f);
}

static const struct volt_future_ops lookups_ops = { .poll = lookups_poll };

VOLT_RT_TEST(resolve_future_awaited)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct lookups l = { .base = VOLT_FUTURE_INIT(&lookups_ops) };
	struct volt_resolve r;
	struct volt_addr a;

	/* in tasks, with the runtime given and with NULL (the current one) */
	check_failed_lookup((int)(intptr_t)vt_join(vt_spawn(rt, &l, sizeof l, false)), "task");
	l.rt = rt;
	check_failed_lookup((int)(intptr_t)vt_join(vt_spawn(rt, &l, sizeof l, false)), "task, rt");

	/* blocked on from this thread, on rt's pool */
	CHECK_OK(volt_block_on(rt, volt_resolve(&r, rt, "localhost", 7, &a), NULL));
	CHECK_OK(r.result);
	CHECK_EQ(volt_addr_port(&a), 7);
	/* with no runtime at all the lookup runs on the blocking thread itself */
	CHECK_OK(volt_block_on(NULL, volt_resolve(&r, NULL, "127.0.0.1", 8, &a), NULL));
	CHECK_OK(r.result);
	CHECK_EQ(volt_addr_port(&a), 8);
	/* dropped before its first poll: the copy of the host is freed */
	volt_resolve(&r, rt, "localhost", 9, &a);
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 1);
	volt_future_drop(&r.base);
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 0);
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 0);
}

/* ---- dropped while the lookup waits on the pool */

/* The one pool thread, held until `pool_release`. */
static atomic_bool pool_held, pool_release;

static void *hold_pool(void *arg)
{
	atomic_store(&pool_held, true);
	while (!atomic_load(&pool_release))
		vt_sleep_us(200);
	return arg;
}

static void *release_pool_later(void *arg)
{
	(void)arg;
	vt_sleep_us(20000);
	atomic_store(&pool_release, true);
	return NULL;
}

/* A runtime with one pool thread, busy until pool_release is set. */
static struct volt_rt *rt_with_held_pool(const char *policy)
{
	struct volt_config cfg;
	struct volt_rt *rt;

	vt_cfg(&cfg, policy, 2);
	cfg.max_blocking_threads = 1;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	atomic_store(&pool_held, false);
	atomic_store(&pool_release, false);
	CHECK_OK(volt_concurrent(rt, hold_pool, NULL, NULL));
	VT_WAIT_FOR(atomic_load(&pool_held));
	return rt;
}

/* A lookup under a timeout of `ms`; the task returns the timeout's result. */
struct timed {
	struct volt_future base;
	uint64_t ms;
	struct volt_timeout t;
	struct volt_resolve r;
	struct volt_addr addr;
};

static enum volt_poll timed_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct timed *t = (struct timed *)f;

	VOLT_BEGIN(f);
	memset(&t->addr, 0xa5, sizeof(t->addr));
	VOLT_AWAIT(f, cx, volt_timeout(&t->t, volt_resolve(&t->r, NULL, "localhost", 80, &t->addr),
				       volt_ms(t->ms)));
	if (t->t.result == -ETIMEDOUT) {
		struct volt_addr pattern;

		memset(&pattern, 0xa5, sizeof(pattern));
		CHECK(memcmp(&t->addr, &pattern, sizeof(pattern)) == 0);
	}
	VOLT_RETURN(f, cx, t->t.result);
	VOLT_END(f);
}

static const struct volt_future_ops timed_ops = { .poll = timed_poll };

VOLT_RT_TEST(resolve_future_dropped_by_timeout)
{
	struct volt_rt *rt = rt_with_held_pool(policy);
	struct timed t = { .base = VOLT_FUTURE_INIT(&timed_ops), .ms = 0 };

	/* submitted at its first poll, queued behind the held thread, then dropped */
	CHECK_EQ((int)(intptr_t)vt_join(vt_spawn(rt, &t, sizeof t, false)), -ETIMEDOUT);
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 1); /* the orphan, still queued */
	atomic_store(&pool_release, true);
	VT_WAIT_FOR(atomic_load(&volt__resolve_jobs) == 0); /* ran, then freed itself */

	/* the same, but the lookup is still running when the timeout fires */
	t.ms = 0;
	for (int i = 0; i < VT_SCALE(200); i++)
		(void)vt_join(vt_spawn(rt, &t, sizeof t, false));
	VT_WAIT_FOR(atomic_load(&volt__resolve_jobs) == 0);
	/* a timeout that does not fire */
	t.ms = 60000;
	CHECK_OK((int)(intptr_t)vt_join(vt_spawn(rt, &t, sizeof t, false)));
	volt_rt_free(rt);
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 0);
}

VOLT_RT_TEST(resolve_future_cancelled_task)
{
	struct volt_rt *rt = rt_with_held_pool(policy);
	struct timed t = { .base = VOLT_FUTURE_INIT(&timed_ops), .ms = 60000 };
	struct volt_join *j = vt_spawn(rt, &t, sizeof t, false);

	VT_WAIT_FOR(atomic_load(&volt__resolve_jobs) == 1);
	vt_sleep_us(2000); /* let the task reach its first poll and submit */
	volt_join_cancel(j);
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	atomic_store(&pool_release, true);
	VT_WAIT_FOR(atomic_load(&volt__resolve_jobs) == 0);
	volt_rt_free(rt);
}

VOLT_RT_TEST(resolve_future_queued_at_shutdown)
{
	struct volt_rt *rt = rt_with_held_pool(policy);
	struct timed dropped = { .base = VOLT_FUTURE_INIT(&timed_ops), .ms = 0 };
	struct timed waiting = { .base = VOLT_FUTURE_INIT(&timed_ops), .ms = 60000 };
	pthread_t releaser;

	/* one orphaned lookup and one still awaited, both queued */
	CHECK_EQ((int)(intptr_t)vt_join(vt_spawn(rt, &dropped, sizeof dropped, false)),
		 -ETIMEDOUT);
	vt_spawn(rt, &waiting, sizeof waiting, true);
	VT_WAIT_FOR(atomic_load(&volt__resolve_jobs) == 2);
	vt_sleep_us(2000);
	/* shutdown cancels both queued jobs while the held one runs on */
	CHECK_OK(pthread_create(&releaser, NULL, release_pool_later, NULL));
	volt_rt_free(rt);
	pthread_join(releaser, NULL);
	CHECK_EQ(atomic_load(&volt__resolve_jobs), 0);
}
