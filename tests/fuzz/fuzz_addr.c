/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_addr.c: the address parser and formatter (net/addr.c).
 *
 * The first input byte picks a mode; the rest is its material.
 *
 * - Parse (most modes): the rest, up to its first NUL, is a string for
 *   volt_addr_parse. A second parser written here from the contract in
 *   volt/net.h alone (dotted quads digit by digit, the port digit by digit,
 *   the scope; inet_pton only for the IPv6 text itself) must agree with it:
 *   same verdict, and on acceptance the same family, address, port, scope
 *   and length. An accepted string has no byte outside printable ASCII, and
 *   a rejected one leaves *out untouched. Then the round trip: the
 *   address formats, its text parses back to the same address, and
 *   formatting that gives the same text again (a fixed point); a buffer one
 *   byte short gets -ENOSPC and "".
 * - Format: the rest fills a struct volt_addr byte for byte (the family
 *   forced to one of IPv4, IPv6, Unix or an unknown one): the formatter
 *   never writes past its buffer, returns the text's length or an error,
 *   and an IP address it formats parses back to the same address.
 * - Unix: the rest is a path for volt_addr_unix: -EINVAL when empty,
 *   -ENAMETOOLONG when it does not fit sun_path, else it formats back to
 *   the path.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <volt.h>

#include "tests/fuzz/fuzz.h"

#define MAX_TEXT 256

/* The reference parser's answer. */
enum verdict { REJECT, ACCEPT, EITHER };

struct expect {
	int family;
	uint8_t addr[16];
	uint16_t port;
	uint32_t scope;
};

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The port: one to five decimal digits, the whole of s, at most 65535. */
static bool ref_port(const char *s, uint16_t *port)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n < 1 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!digit(s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* Four decimal octets 0..255 split by '.', none with a leading zero. */
static bool ref_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			start = ++i;
		}
		while (i < n && digit(s[i]) && i - start < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || i - start > 3 || v > 255)
			return false;
		if (i - start > 1 && s[start] == '0')
			return false;
		out[part] = (uint8_t)v;
	}
	return i == n;
}

/* "[v6]:port" or "[v6%scope]:port"; s starts at the '['. */
static enum verdict ref_v6(const char *s, struct expect *e)
{
	char host[MAX_TEXT];
	const char *close = strchr(s, ']');
	char *pct;
	size_t n;

	if (!close || close[1] != ':' || !ref_port(close + 2, &e->port))
		return REJECT;
	n = (size_t)(close - s - 1);
	memcpy(host, s + 1, n);
	host[n] = '\0';
	e->scope = 0;
	pct = strchr(host, '%');
	if (pct) {
		const char *sc = pct + 1;
		size_t len = strlen(sc), nd = 0;

		*pct = '\0';
		while (digit(sc[nd]))
			nd++;
		if (len == 0)
			return REJECT;
		if (nd == len && len > 11)
			return EITHER; /* an index past 11 digits: the contract says nothing */
		if (nd == len) {
			unsigned long long v = strtoull(sc, NULL, 10);

			if (v > UINT32_MAX)
				return REJECT;
			e->scope = (uint32_t)v;
		} else {
			if (len >= IF_NAMESIZE)
				return REJECT;
			/* no interface name holds ':', '/' or a space (Linux's dev_valid_name) */
			for (size_t j = 0; j < len; j++)
				if (sc[j] == ':' || sc[j] == '/' || isspace((unsigned char)sc[j]))
					return REJECT;
			e->scope = if_nametoindex(sc);
			if (!e->scope)
				return REJECT;
		}
	}
	if (inet_pton(AF_INET6, host, e->addr) != 1)
		return REJECT;
	e->family = AF_INET6;
	return ACCEPT;
}

static enum verdict ref_parse(const char *s, struct expect *e)
{
	const char *colon;

	memset(e, 0, sizeof(*e));
	if (s[0] == '[')
		return ref_v6(s, e);
	colon = strchr(s, ':');
	if (!colon || !ref_port(colon + 1, &e->port) || !ref_v4(s, (size_t)(colon - s), e->addr))
		return REJECT;
	e->family = AF_INET;
	return ACCEPT;
}

/* Does a say what e expects? */
static bool matches(const struct volt_addr *a, const struct expect *e)
{
	if (a->u.sa.sa_family != e->family || volt_addr_port(a) != e->port)
		return false;
	if (e->family == AF_INET)
		return a->len == sizeof(a->u.in) && memcmp(&a->u.in.sin_addr, e->addr, 4) == 0;
	return a->len == sizeof(a->u.in6) && memcmp(&a->u.in6.sin6_addr, e->addr, 16) == 0 &&
	       a->u.in6.sin6_scope_id == e->scope && a->u.in6.sin6_flowinfo == 0;
}

/* The same IP address: family, length, address, port and scope. */
static bool same_ip(const struct volt_addr *a, const struct volt_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family || a->len != b->len)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_port == b->u.in.sin_port &&
		       a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	return a->u.in6.sin6_port == b->u.in6.sin6_port &&
	       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0 &&
	       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id;
}

/* Formats an IP address; checks the short-buffer answer; it parses back. */
static void round_trip(const struct volt_addr *a, const char *what)
{
	char text[VOLT_ADDR_STRLEN], again[VOLT_ADDR_STRLEN], shortbuf[VOLT_ADDR_STRLEN];
	struct volt_addr b;
	int n = volt_addr_format(a, text, sizeof(text));

	FUZZ_CHECK(n > 0 && (size_t)n == strlen(text), "format of %s gave %d", what, n);
	memset(shortbuf, 'x', sizeof(shortbuf));
	FUZZ_CHECK(volt_addr_format(a, shortbuf, (size_t)n) == -ENOSPC && shortbuf[0] == '\0',
		   "a buffer of %d for \"%s\" was not -ENOSPC and \"\"", n, text);
	FUZZ_CHECK(volt_addr_parse(text, &b) == 0, "\"%s\" (from %s) does not parse", text, what);
	FUZZ_CHECK(same_ip(a, &b), "\"%s\" (from %s) parses to another address", text, what);
	FUZZ_CHECK(volt_addr_format(&b, again, sizeof(again)) == n && strcmp(text, again) == 0,
		   "\"%s\" formats again as \"%s\"", text, again);
}

static void fuzz_parse(const char *s)
{
	struct volt_addr a, before;
	struct expect e;
	enum verdict want = ref_parse(s, &e);
	int ret;

	memset(&a, 0xa5, sizeof(a));
	before = a;
	ret = volt_addr_parse(s, &a);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL, "\"%s\": %d", s, ret);
	if (ret) {
		FUZZ_CHECK(want != ACCEPT, "\"%s\" rejected; the reference accepts it", s);
		FUZZ_CHECK(memcmp(&a, &before, sizeof(a)) == 0, "\"%s\": rejected but *out written", s);
		return;
	}
	FUZZ_CHECK(want != REJECT, "\"%s\" accepted; the reference rejects it", s);
	if (want == ACCEPT)
		FUZZ_CHECK(matches(&a, &e), "\"%s\" parsed to another address than the reference's", s);
	for (const char *c = s; *c; c++)
		FUZZ_CHECK(*c > ' ' && *c < 0x7f, "\"%s\" accepted with byte 0x%02x", s,
			   (unsigned)(unsigned char)*c);
	round_trip(&a, s);
}

static void fuzz_format(struct fz *in)
{
	struct volt_addr a;
	char buf[VOLT_ADDR_STRLEN + 8];
	size_t cap = fz_u8(in) % (sizeof(buf) - 8 + 1);
	static const int families[] = { AF_INET, AF_INET6, AF_UNIX, AF_PACKET };
	int family = families[fz_u8(in) % 4];
	int n;

	memset(&a, 0, sizeof(a));
	for (size_t i = 0; i < sizeof(a) && fz_more(in); i++)
		((uint8_t *)&a)[i] = fz_u8(in);
	a.u.sa.sa_family = (sa_family_t)family;
	if (family == AF_INET)
		a.len = sizeof(a.u.in);
	else if (family == AF_INET6)
		a.len = sizeof(a.u.in6);
	memset(buf, 0x5a, sizeof(buf));
	n = volt_addr_format(&a, buf, cap);
	for (size_t i = cap; i < sizeof(buf); i++)
		FUZZ_CHECK((uint8_t)buf[i] == 0x5a, "format wrote byte %zu of a buffer of %zu", i, cap);
	if (family == AF_PACKET) {
		FUZZ_CHECK(n == -EAFNOSUPPORT, "an unknown family gave %d", n);
		return;
	}
	if (n < 0) {
		FUZZ_CHECK(n == -ENOSPC, "format gave %d", n);
		FUZZ_CHECK(cap == 0 || buf[0] == '\0', "-ENOSPC left text in the buffer");
		return;
	}
	FUZZ_CHECK((size_t)n < cap && strlen(buf) == (size_t)n, "format returned %d for \"%s\"", n,
		   buf);
	if (family == AF_UNIX) {
		FUZZ_CHECK((size_t)n <= sizeof(a.u.un.sun_path), "a Unix address of %d bytes", n);
		return;
	}
	round_trip(&a, "bytes");
}

static void fuzz_unix(const char *path)
{
	struct volt_addr a;
	char text[VOLT_ADDR_STRLEN];
	size_t n = strlen(path);
	int ret = volt_addr_unix(path, &a);

	if (n == 0) {
		FUZZ_CHECK(ret == -EINVAL, "empty path: %d", ret);
		return;
	}
	if (n >= sizeof(a.u.un.sun_path)) {
		FUZZ_CHECK(ret == -ENAMETOOLONG, "a path of %zu: %d", n, ret);
		return;
	}
	FUZZ_CHECK(ret == 0, "a path of %zu: %d", n, ret);
	FUZZ_CHECK(volt_addr_port(&a) == 0, "a Unix address with a port");
	FUZZ_CHECK(volt_addr_format(&a, text, sizeof(text)) == (int)n && strcmp(text, path) == 0,
		   "\"%s\" formats as \"%s\"", path, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	char s[MAX_TEXT];
	uint8_t mode = fz_u8(&in);
	size_t n = in.n < sizeof(s) - 1 ? in.n : sizeof(s) - 1;

	if (mode == 'F') {
		fuzz_format(&in);
		return 0;
	}
	memcpy(s, in.p, n);
	s[n] = '\0';
	if (mode == 'U')
		fuzz_unix(s);
	else
		fuzz_parse(s);
	return 0;
}
