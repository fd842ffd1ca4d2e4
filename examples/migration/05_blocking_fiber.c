/* SPDX-License-Identifier: MIT */
/*
 * 05_blocking_fiber.c: the blocking call moves to the blocking pool
 * (volt_concurrent, the seed's io.concurrent): a fiber queues it and parks
 * in volt_blocking_wait, so no worker thread ever blocks in getaddrinfo.
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

/* A fiber hands the call to the pool and parks until it is done. */
static void *lookup(struct volt_rt *rt, void *host)
{
	struct volt_blocking *h;
	void *out = NULL;

	if (volt_concurrent(rt, resolve, host, &h) != 0)
		return NULL;
	if (volt_blocking_wait(h, &out) != 0)
		return NULL;
	return out;
}

static int app(struct volt_rt *rt, void *arg)
{
	struct volt_join *j;

	if (volt_spawn_fiber(rt, lookup, "localhost", 0, &j) != 0)
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
