/* SPDX-License-Identifier: MIT */
/*
 * net/addr.c: socket addresses: the strict text parser, the formatter that
 * round-trips it, the port accessor and Unix-domain addresses.
 *
 * The parser takes numeric addresses only ("a.b.c.d:port", "[v6]:port");
 * names go through volt_resolve. Everything is checked before *out is
 * written, so a rejected string leaves it as it was. Decisions beyond the
 * contract in volt/net.h:
 * - IPv4 is inet_pton's dotted quad (never inet_aton's shortened or octal
 *   forms), and an octet with a leading zero ("01.2.3.4") is rejected here
 *   whatever the C library does, because other parsers read it as octal.
 * - The port is one to five decimal digits, so "00080" is port 80 and
 *   "000080" is rejected.
 * - An IPv6 scope is "%index" (decimal, 32 bits) or "%name" (looked up with
 *   if_nametoindex; an unknown name is rejected, and so is one with a ':',
 *   '/' or a space, which no interface has). All digits means an index.
 * - The formatter prints the scope as "%index": it needs no lookup, cannot
 *   fail, and parses back to the same address.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "volt/net.h"

/* VOLT_ADDR_STRLEN holds "[" v6 "%" 4294967295 "]:65535" and any sun_path. */
_Static_assert(VOLT_ADDR_STRLEN >= sizeof("[%4294967295]:65535") + INET6_ADDRSTRLEN - 1,
	       "VOLT_ADDR_STRLEN too small for IPv6");
_Static_assert(VOLT_ADDR_STRLEN >= sizeof(((struct sockaddr_un *)0)->sun_path) + 1,
	       "VOLT_ADDR_STRLEN too small for a Unix path");

/* Longest text inside the brackets: address, '%', scope name or index. */
#define V6_HOST_MAX (INET6_ADDRSTRLEN + 1 + (IF_NAMESIZE > 11 ? IF_NAMESIZE : 11))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One to five decimal digits, then the end of the string; at most 65535. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; is_digit(s[n]); n++) {
		if (n == 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || s[n] != '\0' || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* A dotted quad with no octet written with a leading zero. */
static int parse_v4(const char *s, size_t n, struct in_addr *a)
{
	char host[INET_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (host[i] == '0' && (i == 0 || host[i - 1] == '.') && is_digit(host[i + 1]))
			return -EINVAL;
	return inet_pton(AF_INET, host, a) == 1 ? 0 : -EINVAL;
}

/* "%index" or "%name" without its '%'. */
static int parse_scope(const char *s, uint32_t *scope)
{
	size_t n = 0;
	unsigned long long v = 0;

	if (*s == '\0')
		return -EINVAL;
	while (is_digit(s[n]) && n < 11)
		v = v * 10 + (unsigned long long)(s[n++] - '0');
	if (s[n] == '\0') {
		if (v > UINT32_MAX)
			return -EINVAL;
		*scope = (uint32_t)v;
		return 0;
	}
	if (strlen(s) >= IF_NAMESIZE)
		return -EINVAL;
	/* what Linux allows in a name (dev_valid_name); the kernel would read
	 * "lo:x" as lo's alias x and return lo's index, spaces included */
	for (n = 0; s[n]; n++)
		if (s[n] == ':' || s[n] == '/' || isspace((unsigned char)s[n]))
			return -EINVAL;
	*scope = if_nametoindex(s);
	return *scope ? 0 : -EINVAL;
}

/* The text between the brackets: "v6" or "v6%scope". */
static int parse_v6(const char *s, size_t n, struct sockaddr_in6 *in6)
{
	char host[V6_HOST_MAX + 1];
	char *pct;

	if (n == 0 || n > V6_HOST_MAX)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	pct = strchr(host, '%');
	if (pct) {
		*pct = '\0';
		if (parse_scope(pct + 1, &in6->sin6_scope_id))
			return -EINVAL;
	}
	return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
}

int volt_addr_parse(const char *s, struct volt_addr *out)
{
	struct volt_addr a;
	const char *colon;
	uint16_t port;

	if (!s || !out)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || parse_port(close + 2, &port) ||
		    parse_v6(s + 1, (size_t)(close - s - 1), &a.u.in6))
			return -EINVAL;
		a.u.in6.sin6_family = AF_INET6;
		a.u.in6.sin6_port = htons(port);
		a.len = sizeof(a.u.in6);
	} else {
		colon = strchr(s, ':');
		if (!colon || parse_port(colon + 1, &port) ||
		    parse_v4(s, (size_t)(colon - s), &a.u.in.sin_addr))
			return -EINVAL;
		a.u.in.sin_family = AF_INET;
		a.u.in.sin_port = htons(port);
		a.len = sizeof(a.u.in);
	}
	*out = a;
	return 0;
}

int volt_addr_unix(const char *path, struct volt_addr *out)
{
	size_t n;

	if (!path || !out || path[0] == '\0')
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(out->u.un.sun_path))
		return -ENAMETOOLONG;
	memset(out, 0, sizeof(*out));
	out->u.un.sun_family = AF_UNIX;
	memcpy(out->u.un.sun_path, path, n + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

/*
 * A Unix address as text: the path; an abstract name (first byte NUL) as
 * '@' and the name, each NUL in it shown as '@' (the way ss(8) does); an
 * unnamed socket as "".
 */
static int format_unix(const struct volt_addr *a, char *text, size_t cap)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n = a->len > off ? (size_t)a->len - off : 0;
	const char *p = a->u.un.sun_path;

	if (n > sizeof(a->u.un.sun_path))
		n = sizeof(a->u.un.sun_path);
	if (n > 0 && p[0] != '\0')
		n = strnlen(p, n); /* a path; an abstract name is all n bytes */
	if (n + 1 > cap)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		text[i] = p[i] ? p[i] : '@';
	text[n] = '\0';
	return (int)n;
}

int volt_addr_format(const struct volt_addr *a, char *buf, size_t len)
{
	char text[VOLT_ADDR_STRLEN];
	char host[INET6_ADDRSTRLEN];
	int n;

	if (!a || !buf)
		return -EINVAL;
	switch (a->u.sa.sa_family) {
	case AF_INET:
		if (!inet_ntop(AF_INET, &a->u.in.sin_addr, host, sizeof(host)))
			return -EINVAL;
		n = snprintf(text, sizeof(text), "%s:%u", host, (unsigned)ntohs(a->u.in.sin_port));
		break;
	case AF_INET6:
		if (!inet_ntop(AF_INET6, &a->u.in6.sin6_addr, host, sizeof(host)))
			return -EINVAL;
		if (a->u.in6.sin6_scope_id)
			n = snprintf(text, sizeof(text), "[%s%%%u]:%u", host,
				     (unsigned)a->u.in6.sin6_scope_id,
				     (unsigned)ntohs(a->u.in6.sin6_port));
		else
			n = snprintf(text, sizeof(text), "[%s]:%u", host,
				     (unsigned)ntohs(a->u.in6.sin6_port));
		break;
	case AF_UNIX:
		n = format_unix(a, text, sizeof(text));
		break;
	default:
		return -EAFNOSUPPORT;
	}
	if (n < 0 || (size_t)n >= sizeof(text) || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, text, (size_t)n + 1);
	return n;
}

uint16_t volt_addr_port(const struct volt_addr *a)
{
	if (!a)
		return 0;
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return ntohs(a->u.in.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	default:
		return 0;
	}
}
