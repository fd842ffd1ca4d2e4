/* SPDX-License-Identifier: MIT */
/*
 * 05_blocking_before.c: a thread runs a blocking call, getaddrinfo, and
 * is joined for the address. docs/MIGRATION.md, step 5.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The IPv4 address of host (network order), or 0. Blocks. */
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

int main(void)
{
	char text[INET_ADDRSTRLEN];
	struct in_addr in;
	pthread_t t;
	void *out;

	if (pthread_create(&t, NULL, resolve, "localhost") != 0 || pthread_join(t, &out) != 0)
		return 1;
	in.s_addr = (uint32_t)(uintptr_t)out;
	inet_ntop(AF_INET, &in, text, sizeof text);
	printf("result: localhost is %s\n", text);
	return out ? 0 : 1;
}
