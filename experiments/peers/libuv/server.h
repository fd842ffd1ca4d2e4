/* SPDX-License-Identifier: MIT */
/*
 * experiments/peers/libuv/server.h: what the two libuv peers share: N
 * threads, each with its own uv loop and its own listening socket on
 * 127.0.0.1:PORT (SO_REUSEPORT: the kernel spreads the connections), the
 * options --port P --workers N, and the "listening on" line.
 * Header-only; the including file defines on_connection.
 */
#ifndef VOLT_PEERS_LIBUV_SERVER_H
#define VOLT_PEERS_LIBUV_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#define DEFAULT_WORKERS 2
#define MAX_WORKERS 1024
#define BACKLOG 1024 /* Tokio's TcpListener::bind uses 1024 too */

struct worker {
	uv_thread_t thread;
	int fd; /* the listening socket */
};

static const char *server_name; /* for messages */

static void on_connection(uv_stream_t *server, int status);

/* One worker: a loop serving the connections of its own listening socket. */
static void worker_main(void *arg)
{
	struct worker *w = arg;
	uv_loop_t loop;
	uv_tcp_t server;
	int err;

	if ((err = uv_loop_init(&loop)) || (err = uv_tcp_init(&loop, &server)) ||
	    (err = uv_tcp_open(&server, w->fd)) ||
	    (err = uv_listen((uv_stream_t *)&server, BACKLOG, on_connection))) {
		fprintf(stderr, "%s: %s\n", server_name, uv_strerror(err));
		exit(1);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
}

/* A socket bound to 127.0.0.1:port with SO_REUSEPORT, listening; exits on failure. */
static int listen_socket(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, BACKLOG)) {
		fprintf(stderr, "%s: listen on 127.0.0.1:%d: %s\n", server_name, port,
			strerror(errno));
		exit(1);
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [--port P] [--workers N]\n", server_name);
	exit(2);
}

static long num_arg(const char *s, long min, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		usage();
	v = strtol(s, &end, 10);
	if (*end || v < min || v > max)
		usage();
	return v;
}

/* The whole of main: options, sockets, threads; returns the exit status. */
static int server_main(int argc, char **argv, const char *name, long port)
{
	long workers = DEFAULT_WORKERS;

	server_name = name;

	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--port"))
			port = num_arg(argv[i + 1], 0, 65535);
		else if (!strcmp(argv[i], "--workers"))
			workers = num_arg(argv[i + 1], 1, MAX_WORKERS);
		else
			usage();
	}

	struct worker *ws = calloc((size_t)workers, sizeof *ws);

	if (!ws)
		return 1;
	/* libuv leaves SIGPIPE alone: a write to a peer that has gone must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	for (long i = 0; i < workers; i++)
		ws[i].fd = listen_socket((int)port);
	fprintf(stderr, "%s: listening on 127.0.0.1:%ld (libuv %s, %ld workers)\n", server_name,
		port, uv_version_string(), workers);
	for (long i = 0; i < workers; i++)
		if (uv_thread_create(&ws[i].thread, worker_main, &ws[i])) {
			fprintf(stderr, "%s: cannot start a thread\n", server_name);
			return 1;
		}
	for (long i = 0; i < workers; i++)
		uv_thread_join(&ws[i].thread);
	return 0;
}

#endif /* VOLT_PEERS_LIBUV_SERVER_H */
