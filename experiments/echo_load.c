/* SPDX-License-Identifier: MIT */
/*
 * experiments/echo_load.c: the E11 load client for TCP echo servers (Volt-C's
 * example, experiments/peers/tokio/src/bin/echo_server.rs,
 * experiments/peers/libuv/echo_server.c). Standalone: plain epoll and
 * nonblocking sockets, no Volt-C.
 *
 *     echo_load [--addr HOST:PORT] [--conns N] [--size BYTES] [--secs S]
 *               [--warmup S] [--threads T] [--reps N] [--result]
 *
 * Opens N connections (TCP_NODELAY; connected in batches, each given ~5 s
 * before the program gives up with exit status 2), spreads them over T
 * threads with an epoll loop each, and runs a closed loop on every
 * connection: write one message of BYTES bytes (a pseudo-random pattern
 * that depends on the connection and the message's number), read BYTES
 * bytes back while writing, compare every byte with what was sent, record
 * the round trip (first write to last byte read), send the next message.
 * After `--warmup` untimed seconds come `--reps` back-to-back repetitions of
 * `--secs` seconds; a message belongs to the repetition in which its echo
 * completed. Per repetition it prints (`--result`, the harness protocol)
 *
 *     result,<rep>,msgs_per_sec,<v>,msg/s
 *     result,<rep>,p50_us,<v>,us
 *     result,<rep>,p99_us,<v>,us
 *     result,<rep>,errors,<v>,count
 *
 * or one human line. Latencies go into a log-linear histogram (128 buckets
 * per power of two: a percentile is the middle of its bucket, within 0.4%).
 * An error is a byte that differs, an early EOF or a failed read or write;
 * the connection is closed and not replaced, the first few are described on
 * stderr, those outside any repetition (the warm-up, the wind-down) count in
 * rep 1's `errors`, and any error makes the exit status 1, as does a
 * repetition in which no echo completed. Bad options or no server: 2.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 20000
#define MAX_SIZE (4u << 20)   /* the largest message, bytes */
#define MAX_THREADS 64
#define MAX_REPS 1000
#define CONNECT_BATCH 100     /* connections in flight while connecting */
#define CONNECT_TIMEOUT_NS 5000000000ull
#define MAX_REPORTED 5        /* errors described on stderr, per thread */

/* The latency histogram: values in ns; below 2^SUB_BITS exact, above that
 * 2^SUB_BITS buckets per power of two, up to 2^MAX_EXP ns (~18 min). */
#define SUB_BITS 7
#define SUB (1u << SUB_BITS)
#define MAX_EXP 40
#define BUCKETS (SUB + (MAX_EXP - SUB_BITS) * SUB)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------ histogram */

static unsigned bucket_of(uint64_t v)
{
	if (v < SUB)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v); /* 2^e <= v < 2^(e+1), e >= SUB_BITS */
	if (e >= MAX_EXP)
		return BUCKETS - 1;
	return SUB + (e - SUB_BITS) * SUB + (unsigned)((v >> (e - SUB_BITS)) - SUB);
}

/* The middle of bucket b, in ns. */
static double bucket_mid(unsigned b)
{
	if (b < SUB)
		return b;
	unsigned e = (b - SUB) / SUB + SUB_BITS, sub = (b - SUB) % SUB;
	double width = (double)(1ull << (e - SUB_BITS));

	return (double)(SUB + sub) * width + width / 2;
}

/* The p-quantile (0 < p <= 1) of the n values counted in h, in ns; 0 if n is 0. */
static double percentile(const uint64_t *h, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)(p * (double)n + 0.999999), seen = 0;

	if (!n)
		return 0;
	if (rank < 1)
		rank = 1;
	for (unsigned b = 0; b < BUCKETS; b++) {
		seen += h[b];
		if (seen >= rank)
			return bucket_mid(b);
	}
	return bucket_mid(BUCKETS - 1);
}

/* ------------------------------------------------------- message pattern */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Fills buf with message `seq` of connection `id`: xorshift64* from a seed of both. */
static void fill_pattern(unsigned char *buf, size_t size, uint32_t id, uint64_t seq)
{
	uint64_t s = splitmix64(((uint64_t)id << 40) ^ seq) | 1;

	for (size_t i = 0; i < size; i += 8) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		uint64_t w = s * 0x2545f4914f6cdd1dull;
		size_t k = size - i < 8 ? size - i : 8;

		memcpy(buf + i, &w, k);
	}
}

/* --------------------------------------------------------------- state */

struct conn {
	int fd;
	uint32_t id;
	bool want_out;       /* EPOLLOUT registered: the message is not all written */
	bool dead;
	size_t sent, recvd;  /* of the current message */
	uint64_t seq;        /* the current message's number */
	uint64_t t0;         /* when its first byte was written */
	unsigned char *out;  /* the message (size bytes) */
	unsigned char *in;   /* its echo so far (size bytes) */
};

struct rep_stats {
	uint64_t msgs, errors;
	uint64_t *hist; /* BUCKETS counters */
};

struct worker {
	pthread_t thread;
	int epfd;
	struct conn *conns;
	size_t nconns;
	struct rep_stats *reps; /* [0] = the warm-up, [1..reps] */
	unsigned reported;
	int fail;               /* an epoll error: errno */
};

static struct {
	size_t size;
	unsigned long conns, threads, reps;
	double secs, warmup;
	bool result;
	const char *addr;
} opt = { 128, 50, 1, 1, 3.0, 0.5, false, "127.0.0.1:7000" };

static atomic_uint cur_rep; /* 0: warm-up (not recorded), else the repetition */
static atomic_bool stopping;

/* ---------------------------------------------------------- connections */

static void conn_error(struct worker *w, struct conn *c, const char *what, size_t at)
{
	unsigned rep = atomic_load_explicit(&cur_rep, memory_order_relaxed);

	w->reps[rep].errors++;
	if (w->reported++ < MAX_REPORTED) {
		if (at != SIZE_MAX)
			fprintf(stderr,
				"echo_load: conn %u msg %llu: byte %zu differs (sent 0x%02x, got 0x%02x)\n",
				c->id, (unsigned long long)c->seq, at, c->out[at], c->in[at]);
		else
			fprintf(stderr, "echo_load: conn %u msg %llu: %s (%zu of %zu bytes back)\n",
				c->id, (unsigned long long)c->seq, what, c->recvd, opt.size);
	}
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
}

static void set_out_interest(struct worker *w, struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = c };

	if (c->want_out != on && epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = on;
}

/* Writes what is left of the current message; false if the connection failed. */
static bool conn_write(struct worker *w, struct conn *c)
{
	while (c->sent < opt.size) {
		ssize_t n = send(c->fd, c->out + c->sent, opt.size - c->sent, MSG_NOSIGNAL);

		if (n > 0) {
			c->sent += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_out_interest(w, c, true);
			return true;
		} else {
			conn_error(w, c, strerror(errno), SIZE_MAX);
			return false;
		}
	}
	set_out_interest(w, c, false);
	return true;
}

/* Starts the connection's next message. */
static bool conn_start(struct worker *w, struct conn *c)
{
	c->seq++;
	fill_pattern(c->out, opt.size, c->id, c->seq);
	c->sent = c->recvd = 0;
	c->t0 = now_ns();
	return conn_write(w, c);
}

/* The echo is complete: check it, count it, start the next message. */
static bool conn_complete(struct worker *w, struct conn *c)
{
	uint64_t t1 = now_ns();
	unsigned rep = atomic_load_explicit(&cur_rep, memory_order_relaxed);

	if (memcmp(c->out, c->in, opt.size)) {
		size_t at = 0;

		while (c->out[at] == c->in[at])
			at++;
		conn_error(w, c, NULL, at);
		return false;
	}
	if (rep) {
		w->reps[rep].msgs++;
		w->reps[rep].hist[bucket_of(t1 - c->t0)]++;
	}
	return conn_start(w, c);
}

/* Reads what the socket holds of the current echo (never past the message). */
static bool conn_read(struct worker *w, struct conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->recvd, opt.size - c->recvd, 0);

		if (n > 0) {
			c->recvd += (size_t)n;
			if (c->recvd == opt.size) {
				if (c->sent < opt.size) {
					conn_error(w, c, "echo longer than what was sent", SIZE_MAX);
					return false;
				}
				return conn_complete(w, c);
			}
		} else if (n == 0) {
			conn_error(w, c, "early EOF", SIZE_MAX);
			return false;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return true;
		} else {
			conn_error(w, c, strerror(errno), SIZE_MAX);
			return false;
		}
	}
}

/* A worker thread: runs its connections' closed loops until `stopping`. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];

	for (size_t i = 0; i < w->nconns; i++)
		if (!w->conns[i].dead)
			conn_start(w, &w->conns[i]);
	while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
		int n = epoll_wait(w->epfd, evs, 256, 50);

		if (n < 0 && errno != EINTR) {
			w->fail = errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->dead)
				continue;
			if ((evs[i].events & EPOLLOUT) && !conn_write(w, c))
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(w, c);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------- connect */

static int new_socket(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	int one = 1;

	if (fd < 0) {
		perror("echo_load: socket");
		exit(2);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/*
 * Connects fds[0..n) (n <= CONNECT_BATCH), retrying refused connections,
 * until all are up; exits with status 2 if that takes more than ~5 s.
 */
static void connect_batch(const struct addrinfo *ai, int *fds, size_t n)
{
	struct pollfd pfd[CONNECT_BATCH];
	uint64_t deadline = now_ns() + CONNECT_TIMEOUT_NS;
	int last_err = 0;

	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	for (;;) {
		size_t pending = 0;

		for (size_t i = 0; i < n; i++) {
			if (fds[i] < 0 && (fds[i] = new_socket(ai)) < 0)
				last_err = -fds[i];
			if (fds[i] >= 0)
				pfd[pending++] = (struct pollfd){ .fd = fds[i], .events = POLLOUT };
		}
		/* Wait for the connects in flight; a refused one is redone next round. */
		while (pending && now_ns() < deadline) {
			if (poll(pfd, pending, 100) < 0 && errno != EINTR) {
				perror("echo_load: poll");
				exit(2);
			}
			for (size_t j = 0; j < pending;) {
				int err = 0;
				socklen_t len = sizeof err;

				if (!pfd[j].revents) {
					j++;
					continue;
				}
				getsockopt(pfd[j].fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err) {
					last_err = err;
					for (size_t i = 0; i < n; i++)
						if (fds[i] == pfd[j].fd)
							fds[i] = -1;
					close(pfd[j].fd);
				}
				pfd[j] = pfd[--pending];
			}
		}
		size_t up = 0;

		for (size_t i = 0; i < n; i++)
			up += fds[i] >= 0;
		if (up == n && !pending)
			return;
		if (now_ns() >= deadline) {
			fprintf(stderr, "echo_load: cannot connect to %s within 5 s: %s\n", opt.addr,
				last_err ? strerror(last_err) : "timed out");
			exit(2);
		}
		sleep_ns(50000000); /* 50 ms before trying the refused ones again */
	}
}

static struct addrinfo *resolve(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t hl = colon ? (size_t)(colon - addr) : 0;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int err;

	if (!colon || hl >= sizeof host || !colon[1]) {
		fprintf(stderr, "echo_load: --addr wants HOST:PORT, not '%s'\n", addr);
		exit(2);
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') { /* [::1]:7000 */
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		fprintf(stderr, "echo_load: %s: %s\n", addr, gai_strerror(err));
		exit(2);
	}
	return ai;
}

/* --------------------------------------------------------------- options */

static void usage(void)
{
	fprintf(stderr, "usage: echo_load [--addr HOST:PORT] [--conns N] [--size BYTES] "
			"[--secs S] [--warmup S] [--threads T] [--reps N] [--result]\n");
	exit(2);
}

static unsigned long num_arg(const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		usage();
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v < min || v > max)
		usage();
	return v;
}

static double secs_arg(const char *s, double min, double max)
{
	char *end;
	double v;

	if (!s || !*s)
		usage();
	v = strtod(s, &end);
	if (*end || !(v >= min && v <= max))
		usage();
	return v;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--result")) {
			opt.result = true;
			continue;
		}
		if (!strcmp(a, "--addr") && v)
			opt.addr = v;
		else if (!strcmp(a, "--conns"))
			opt.conns = num_arg(v, 1, MAX_CONNS);
		else if (!strcmp(a, "--size"))
			opt.size = num_arg(v, 1, MAX_SIZE);
		else if (!strcmp(a, "--secs"))
			opt.secs = secs_arg(v, 0.001, 86400);
		else if (!strcmp(a, "--warmup"))
			opt.warmup = secs_arg(v, 0, 86400);
		else if (!strcmp(a, "--threads"))
			opt.threads = num_arg(v, 1, MAX_THREADS);
		else if (!strcmp(a, "--reps"))
			opt.reps = num_arg(v, 1, MAX_REPS);
		else
			usage();
		i++;
	}
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
}

/* Room for the connections: raises the soft RLIMIT_NOFILE to the hard one if needed. */
static void check_fd_limit(void)
{
	struct rlimit rl;
	rlim_t need = opt.conns + opt.threads + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < need && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need) {
		fprintf(stderr, "echo_load: %lu connections need %llu descriptors; "
				"RLIMIT_NOFILE allows %llu\n",
			opt.conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
		exit(2);
	}
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "echo_load: out of memory\n");
		exit(2);
	}
	memset(p, 0, n * size); /* fault the pages in now, not while measuring */
	return p;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	check_fd_limit();

	struct addrinfo *ai = resolve(opt.addr);
	struct worker *ws = xcalloc(opt.threads, sizeof *ws);
	struct conn *conns = xcalloc(opt.conns, sizeof *conns);
	unsigned char *bufs = xcalloc(opt.conns, 2 * opt.size);
	int fds[CONNECT_BATCH];

	/* Connect, in batches; connection i goes to worker i % threads. */
	for (size_t i = 0; i < opt.conns; i += CONNECT_BATCH) {
		size_t n = opt.conns - i < CONNECT_BATCH ? opt.conns - i : CONNECT_BATCH;

		connect_batch(ai, fds, n);
		for (size_t j = 0; j < n; j++) {
			struct conn *c = &conns[i + j];

			c->fd = fds[j];
			c->id = (uint32_t)(i + j);
			c->out = bufs + (i + j) * 2 * opt.size;
			c->in = c->out + opt.size;
		}
	}
	freeaddrinfo(ai);

	/* Each worker: an epoll set, a contiguous run of conns regrouped by i % threads. */
	struct conn *sorted = xcalloc(opt.conns, sizeof *sorted);
	size_t k = 0;

	for (size_t t = 0; t < opt.threads; t++) {
		struct worker *w = &ws[t];

		w->conns = &sorted[k];
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (w->epfd < 0) {
			perror("echo_load: epoll_create1");
			return 2;
		}
		for (size_t i = t; i < opt.conns; i += opt.threads) {
			struct conn *c = &sorted[k++];
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

			*c = conns[i];
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
				perror("echo_load: epoll_ctl");
				return 2;
			}
			w->nconns++;
		}
		w->reps = xcalloc(opt.reps + 1, sizeof *w->reps);
		for (size_t r = 0; r <= opt.reps; r++)
			w->reps[r].hist = xcalloc(BUCKETS, sizeof(uint64_t));
	}
	free(conns);

	/* Run: the warm-up, then the repetitions back to back, timed here. */
	double *span = xcalloc(opt.reps + 1, sizeof *span);

	for (size_t t = 0; t < opt.threads; t++)
		if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t])) {
			fprintf(stderr, "echo_load: cannot start a thread\n");
			return 2;
		}
	sleep_ns((uint64_t)(opt.warmup * 1e9));
	for (unsigned r = 1; r <= opt.reps; r++) {
		uint64_t t0 = now_ns();

		atomic_store(&cur_rep, r);
		sleep_ns((uint64_t)(opt.secs * 1e9));
		span[r] = (double)(now_ns() - t0) / 1e9;
	}
	atomic_store(&cur_rep, 0);
	atomic_store(&stopping, true);

	int status = 0;

	for (size_t t = 0; t < opt.threads; t++) {
		pthread_join(ws[t].thread, NULL);
		if (ws[t].fail) {
			fprintf(stderr, "echo_load: epoll_wait: %s\n", strerror(ws[t].fail));
			status = 2;
		}
	}

	/* Merge the workers' counts per repetition and report. */
	uint64_t *hist = xcalloc(BUCKETS, sizeof *hist);

	for (unsigned r = 1; r <= opt.reps; r++) {
		uint64_t msgs = 0, errors = 0;

		memset(hist, 0, BUCKETS * sizeof *hist);
		for (size_t t = 0; t < opt.threads; t++) {
			msgs += ws[t].reps[r].msgs;
			errors += ws[t].reps[r].errors + (r == 1 ? ws[t].reps[0].errors : 0);
			for (unsigned b = 0; b < BUCKETS; b++)
				hist[b] += ws[t].reps[r].hist[b];
		}
		double rate = (double)msgs / span[r];
		double p50 = percentile(hist, msgs, 0.50) / 1e3, p99 = percentile(hist, msgs, 0.99) / 1e3;

		if (!msgs)
			fprintf(stderr, "echo_load: no echo completed in rep %u\n", r);
		if ((errors || !msgs) && !status)
			status = 1;
		if (opt.result) {
			printf("result,%u,msgs_per_sec,%.1f,msg/s\n", r, rate);
			printf("result,%u,p50_us,%.2f,us\n", r, p50);
			printf("result,%u,p99_us,%.2f,us\n", r, p99);
			printf("result,%u,errors,%llu,count\n", r, (unsigned long long)errors);
		} else {
			printf("rep %u: %lu conns x %zu B: %.0f msg/s, p50 %.1f us, p99 %.1f us, "
			       "%llu errors\n",
			       r, opt.conns, opt.size, rate, p50, p99, (unsigned long long)errors);
		}
	}
	for (size_t i = 0; i < opt.conns; i++)
		if (!sorted[i].dead)
			close(sorted[i].fd);
	return status;
}
