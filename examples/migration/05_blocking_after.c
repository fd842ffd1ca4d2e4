/* SPDX-License-Identifier: MIT */
/*
 * 05_blocking_after.c: the same lookup from a stackless task, which
 * awaits the pool job with volt_blocking_await (volt_blocking_wait would
 * return -EDEADLK on a worker).
 * docs/MIGRATION.md, step 5.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <volt.h>

/* The IPv4 address of host (network order), or 0. Blocks: pool only. */
static void *resolve(void *host)
{
	struct addrinfo hints, *res;
	uint32_t addr = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return NULL;
	addr = ((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr.s_addr;
	freeaddrinfo(res);
	return (void *)(uintptr_t)addr;
}

/* A stackless task awaits the pool job as a future instead. */
struct lookup {
	struct volt_future base;
	const char *host;
	struct volt_blocking_future bf;
};

static enum volt_poll lookup_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct lookup *l = (struct lookup *)f;
	struct volt_blocking *h;

	VOLT_BEGIN(f);
	if (volt_concurrent(cx->rt, resolve, (void *)l->host, &h) != 0)
		VOLT_RETURN(f, cx, NULL);
	VOLT_AWAIT(f, cx, volt_blocking_await(&l->bf, h));
	VOLT_RETURN(f, cx, l->bf.result == 0 ? l->bf.output : NULL);
	VOLT_END(f);
}

static const struct volt_future_ops lookup_ops = { .poll = lookup_poll };

static int app(struct volt_rt *rt, void *arg)
{
	struct lookup l = { .base = VOLT_FUTURE_INIT(&lookup_ops), .host = "localhost" };
	struct volt_join *j;

	if (volt_spawn(rt, &l.base, sizeof l, &j) != 0)
		return 1;
	return volt_join_wait(j, arg) == 0 ? 0 : 1;
}

int main(void)
{
	char text[INET_ADDRSTRLEN];
	struct in_addr in;
	void *out = NULL;

	if (volt_run(app, &out) != 0)
		return 1;
	in.s_addr = (uint32_t)(uintptr_t)out;
	inet_ntop(AF_INET, &in, text, sizeof text);
	printf("result: localhost is %s\n", text);
	return out ? 0 : 1;
}
