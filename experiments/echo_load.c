/* SPDX-License-Identifier: MIT */
/*
 * experiments/echo_load.c: the E11 load client for TCP echo servers (Volt-C's
 * example, experiments/peers/tokio/src/bin/echo_server.rs,
 * experiments/peers/libuv/echo_server.c). Standalone: plain epoll and
 * nonblocking sockets, no Volt-C.
 *
 *     echo_load [--addr HOST:PORT] [--conns N] [--size BYTES] [--secs S]
 *               [--warmup S] [--threads T] [--reps N] [--result | --json]
 *               [--idle [--heartbeat S]] [--server-pid PID [--rss-at S]
 *               [--sample-every S] [--rss-bound-pct P] [--rss-bound-kib K]
 *               [--max-cpu P]] [--heavy-every K --heavy-us U]
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
 *
 * E9 (tail latency under mixed I/O and CPU, experiments/rpc_server.c) adds
 * `--heavy-every K --heavy-us U`: every message starts with rpc_server's
 * 8-byte header (the CPU to burn in us, the message's length; both 32-bit
 * little-endian, written over the pattern, so the echo is still checked
 * whole; --size must be >= 8); one message in K of every connection (those
 * whose number plus the connection's is a multiple of K, so the heavy ones
 * are spread over time) asks for U us of CPU, the others for none. Only the
 * cheap messages' round trips go into the percentiles and msgs_per_sec; per
 * repetition the lines are msgs_per_sec, p50_us, p99_us, p999_us,
 * heavy_msgs_per_sec (the heavy messages per second) and errors.
 *
 * Soak and idle runs (experiments/soak.sh) add:
 * - `--idle`: the connections stay quiet; each sends one heartbeat message
 *   (BYTES bytes of the same checked pattern) every `--heartbeat` seconds
 *   (10), the connections' phases spread evenly over the period, and waits
 *   for its echo. A heartbeat still unanswered when the next is due is an
 *   error; so is one unanswered 2 s after the hold (`--secs`, one
 *   repetition, no warm-up) ended. Latencies are heartbeat round trips.
 *   The hold starts once the server has taken the connections in (with
 *   --server-pid: once it holds --conns descriptors, at most 10 s) plus 1 s.
 * - `--server-pid PID`: the server's VmRSS, CPU time (utime + stime) and
 *   open descriptors are read from /proc/PID at the start of the timed run,
 *   every `--sample-every` seconds (60), at `--rss-at` seconds (60; the
 *   "minute 1" figure; clipped to a tenth of the run if the run is shorter)
 *   and at the end. The run fails (status 1) if RSS grew from the --rss-at
 *   sample to the end by more than `--rss-bound-pct` percent (5) of the
 *   former or `--rss-bound-kib` KiB (4096), whichever is larger, or if
 *   `--max-cpu` is given and the server used more CPU than that percentage
 *   of one core over the run.
 * - `--json`: one JSON object on stdout for the whole run (all repetitions
 *   together) instead of the per-repetition lines: connections, seconds,
 *   messages and bytes checked (every byte of every echo is compared),
 *   errors, connections alive at the end, latency percentiles, the server
 *   samples and figures above, and "pass".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
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
#define MAX_SAMPLES 4096      /* server samples kept (--server-pid) */
#define DRAIN_NS 2000000000ull /* --idle: how long the last heartbeats may take */

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
	bool busy;           /* --idle: a heartbeat is out, its echo not all back */
	bool heavy;          /* --heavy-every: the current message asks for --heavy-us of CPU */
	uint64_t phase;      /* --idle: offset of its heartbeats in the period, ns */
	size_t sent, recvd;  /* of the current message */
	uint64_t seq;        /* the current message's number */
	uint64_t t0;         /* when its first byte was written */
	unsigned char *out;  /* the message (size bytes) */
	unsigned char *in;   /* its echo so far (size bytes) */
};

struct rep_stats {
	uint64_t msgs, errors;
	uint64_t heavy_msgs; /* --heavy-every: the heavy messages (not in msgs, hist) */
	uint64_t max_ns; /* the longest round trip */
	uint64_t *hist;  /* BUCKETS counters */
};

struct worker {
	pthread_t thread;
	int epfd;
	struct conn *conns;
	size_t nconns;
	struct rep_stats *reps; /* [0] = the warm-up, [1..reps] */
	unsigned reported;
	int fail;               /* an epoll error: errno */
	uint64_t bytes_checked; /* echoed bytes compared with what was sent */
	size_t hb_next;         /* --idle: the next connection due, in phase order */
	uint64_t hb_round;      /* --idle: its period number */
};

static struct {
	size_t size;
	unsigned long conns, threads, reps;
	double secs, warmup;
	bool result;
	const char *addr;
	bool idle, json;
	double heartbeat;          /* --idle: seconds between a connection's heartbeats */
	long server_pid;           /* 0: no server sampling */
	double rss_at, sample_every;
	double rss_bound_pct, rss_bound_kib;
	double max_cpu;            /* < 0: not checked */
	unsigned long heavy_every; /* 0: plain echo, no header */
	unsigned long heavy_us;
} opt = { 128, 50, 1, 1, 3.0, 0.5, false, "127.0.0.1:7000",
	  false, false, 10.0, 0, 60.0, 60.0, 5.0, 4096.0, -1.0, 0, 0 };

static uint64_t hb_start; /* --idle: when period 0 began (set before the workers start) */

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

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Starts the connection's next message (--idle: its next heartbeat). */
static bool conn_start(struct worker *w, struct conn *c)
{
	if (c->busy) { /* --idle: the last heartbeat is still unanswered */
		conn_error(w, c, "heartbeat unanswered for a whole period", SIZE_MAX);
		return false;
	}
	c->busy = opt.idle;
	c->seq++;
	fill_pattern(c->out, opt.size, c->id, c->seq);
	if (opt.heavy_every) { /* rpc_server's header: burn, length */
		c->heavy = (c->seq + c->id) % opt.heavy_every == 0;
		put_le32(c->out, c->heavy ? (uint32_t)opt.heavy_us : 0);
		put_le32(c->out + 4, (uint32_t)opt.size);
	}
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
	w->bytes_checked += opt.size;
	if (rep) {
		struct rep_stats *rs = &w->reps[rep];

		if (c->heavy) {
			rs->heavy_msgs++;
			return conn_start(w, c);
		}
		rs->msgs++;
		rs->hist[bucket_of(t1 - c->t0)]++;
		if (t1 - c->t0 > rs->max_ns)
			rs->max_ns = t1 - c->t0;
	}
	if (opt.idle) {
		c->busy = false;
		return true;
	}
	return conn_start(w, c);
}

/* --idle, no heartbeat out: the server must stay silent and keep the connection. */
static bool conn_read_quiet(struct worker *w, struct conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, 0);

	if (n > 0)
		conn_error(w, c, "bytes while no heartbeat was out", SIZE_MAX);
	else if (n == 0)
		conn_error(w, c, "EOF between heartbeats", SIZE_MAX);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		conn_error(w, c, strerror(errno), SIZE_MAX);
	else
		return true;
	return false;
}

/* Reads what the socket holds of the current echo (never past the message). */
static bool conn_read(struct worker *w, struct conn *c)
{
	if (opt.idle && !c->busy)
		return conn_read_quiet(w, c);
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

/* When the heartbeat of round `round` of connection c is due (--idle). */
static uint64_t hb_due(const struct conn *c, uint64_t round)
{
	return hb_start + c->phase + round * (uint64_t)(opt.heartbeat * 1e9);
}

/*
 * --idle: sends the heartbeats now due (the connections are in phase
 * order, so a cursor walks them period after period) and returns the epoll
 * timeout until the next one, in ms (at most 50).
 */
static int heartbeat_due(struct worker *w)
{
	uint64_t now = now_ns();

	for (;;) {
		struct conn *c = &w->conns[w->hb_next];
		uint64_t due = hb_due(c, w->hb_round);

		if (due > now) {
			uint64_t ms = (due - now + 999999) / 1000000;

			return ms < 50 ? (int)ms : 50;
		}
		if (!c->dead)
			conn_start(w, c);
		if (++w->hb_next == w->nconns) {
			w->hb_next = 0;
			w->hb_round++;
		}
	}
}

/* Heartbeats still out on this worker's connections (--idle). */
static size_t busy_conns(const struct worker *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->nconns; i++)
		n += !w->conns[i].dead && w->conns[i].busy;
	return n;
}

/*
 * A worker thread: runs its connections' closed loops (--idle: their
 * heartbeats) until `stopping`; with --idle, then waits up to DRAIN_NS for
 * the heartbeats still out and counts those that never came back.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	uint64_t drain_end = 0;

	if (!opt.idle)
		for (size_t i = 0; i < w->nconns; i++)
			if (!w->conns[i].dead)
				conn_start(w, &w->conns[i]);
	for (;;) {
		int timeout = 50;

		if (atomic_load_explicit(&stopping, memory_order_relaxed)) {
			if (!opt.idle)
				break;
			if (!drain_end)
				drain_end = now_ns() + DRAIN_NS;
			if (!busy_conns(w) || now_ns() >= drain_end)
				break;
		} else if (opt.idle && w->nconns) {
			timeout = heartbeat_due(w);
		}
		int n = epoll_wait(w->epfd, evs, 256, timeout);

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
	for (size_t i = 0; opt.idle && i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if (!c->dead && c->busy)
			conn_error(w, c, "heartbeat unanswered at the end", SIZE_MAX);
	}
	return NULL;
}

/* ------------------------------------------------------ server sampling */

struct sample {
	double at;          /* seconds since the timed run began */
	long rss_kib;       /* VmRSS; -1 if unreadable */
	uint64_t cpu_ticks; /* utime + stime, in clock ticks */
	long fds;           /* entries in /proc/PID/fd; -1 if unreadable */
};

static struct sample samples[MAX_SAMPLES];
static unsigned nsamples;
static struct sample rss_first; /* the --rss-at sample */

static long read_rss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* utime + stime of every thread of pid (fields 14 and 15 of /proc/PID/stat). */
static uint64_t read_cpu_ticks(long pid)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';

	char *p = strrchr(buf, ')'); /* the command name may hold spaces */

	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return ut + st;
}

static long count_fds(long pid)
{
	char path[64];
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%ld/fd", pid);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static struct sample take_sample(double at)
{
	struct sample s = { at, read_rss_kib(opt.server_pid), read_cpu_ticks(opt.server_pid),
			    count_fds(opt.server_pid) };

	if (nsamples < MAX_SAMPLES)
		samples[nsamples++] = s;
	if (!opt.json)
		fprintf(stderr, "echo_load: server at %.1f s: VmRSS %ld KiB, %ld fds\n", at,
			s.rss_kib, s.fds);
	return s;
}

/*
 * Sleeps until `end` (ns), sampling the server (if any) at each multiple of
 * --sample-every and at --rss-at, counted from run_t0.
 */
static void monitor_until(uint64_t run_t0, uint64_t end, double *next_sample, bool *rss_taken)
{
	for (;;) {
		uint64_t now = now_ns(), wake = end;

		if (now >= end)
			return; /* the caller takes the sample at the end */
		if (opt.server_pid) {
			uint64_t ts = run_t0 + (uint64_t)(*next_sample * 1e9);
			uint64_t tr = run_t0 + (uint64_t)(opt.rss_at * 1e9);

			if (!*rss_taken && tr <= now) {
				rss_first = take_sample((double)(now - run_t0) / 1e9);
				*rss_taken = true;
				if (ts <= now) /* it serves as the periodic sample too */
					*next_sample += opt.sample_every;
				continue;
			}
			if (ts <= now) {
				take_sample((double)(now - run_t0) / 1e9);
				*next_sample += opt.sample_every;
				continue;
			}
			if (ts < wake)
				wake = ts;
			if (!*rss_taken && tr < wake)
				wake = tr;
		}
		sleep_ns(wake - now);
	}
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
			"[--secs S] [--warmup S] [--threads T] [--reps N] [--result | --json]\n"
			"                 [--idle [--heartbeat S]] [--server-pid PID [--rss-at S] "
			"[--sample-every S]\n"
			"                 [--rss-bound-pct P] [--rss-bound-kib K] [--max-cpu P]]\n"
			"                 [--heavy-every K --heavy-us U]\n");
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

		if (!strcmp(a, "--result") || !strcmp(a, "--json") || !strcmp(a, "--idle")) {
			if (!strcmp(a, "--result"))
				opt.result = true;
			else if (!strcmp(a, "--json"))
				opt.json = true;
			else
				opt.idle = true;
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
		else if (!strcmp(a, "--heartbeat"))
			opt.heartbeat = secs_arg(v, 0.001, 86400);
		else if (!strcmp(a, "--server-pid"))
			opt.server_pid = (long)num_arg(v, 1, 1ul << 30);
		else if (!strcmp(a, "--rss-at"))
			opt.rss_at = secs_arg(v, 0, 86400);
		else if (!strcmp(a, "--sample-every"))
			opt.sample_every = secs_arg(v, 0.1, 86400);
		else if (!strcmp(a, "--rss-bound-pct"))
			opt.rss_bound_pct = secs_arg(v, 0, 1000);
		else if (!strcmp(a, "--rss-bound-kib"))
			opt.rss_bound_kib = secs_arg(v, 0, 1e9);
		else if (!strcmp(a, "--max-cpu"))
			opt.max_cpu = secs_arg(v, 0, 10000);
		else if (!strcmp(a, "--heavy-every"))
			opt.heavy_every = num_arg(v, 1, MAX_CONNS);
		else if (!strcmp(a, "--heavy-us"))
			opt.heavy_us = num_arg(v, 0, 1000000);
		else
			usage();
		i++;
	}
	if (opt.result && opt.json)
		usage();
	/* the header needs 8 bytes; idle and JSON runs have no cheap/heavy split */
	if (opt.heavy_every && (opt.size < 8 || opt.idle || opt.json))
		usage();
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
	if (opt.idle) { /* one hold, timed from the first heartbeat */
		opt.reps = 1;
		opt.warmup = 0;
	}
	double run = opt.secs * (double)opt.reps;

	if (opt.rss_at >= run)
		opt.rss_at = run / 10;
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

/*
 * --idle: lets the server take in every connection before the hold (its
 * idle figures should not include the accepts): with --server-pid, waits up
 * to 10 s for it to hold at least --conns descriptors; then 1 s more.
 */
static void settle_idle(void)
{
	uint64_t give_up = now_ns() + 10000000000ull;

	while (opt.server_pid && count_fds(opt.server_pid) < (long)opt.conns && now_ns() < give_up)
		sleep_ns(50000000);
	sleep_ns(1000000000);
}

/* ---------------------------------------------------------- JSON report */

/*
 * Prints the whole run as one JSON object, checks the goals (no error,
 * every connection alive, echoes completed; with --server-pid the RSS drift
 * and --max-cpu) and returns the exit status.
 */
static int report_json(struct worker *ws, const double *span, double connect_s, double run_s,
		       const struct sample *first, const struct sample *last, int status,
		       const struct conn *conns)
{
	uint64_t *hist = xcalloc(BUCKETS, sizeof *hist);
	uint64_t msgs = 0, errors = 0, bytes = 0, max_ns = 0;
	size_t alive = 0;
	double secs = 0;
	bool pass = status == 0;

	for (size_t t = 0; t < opt.threads; t++) {
		bytes += ws[t].bytes_checked;
		for (unsigned r = 0; r <= opt.reps; r++) {
			errors += ws[t].reps[r].errors;
			if (!r)
				continue;
			msgs += ws[t].reps[r].msgs;
			if (ws[t].reps[r].max_ns > max_ns)
				max_ns = ws[t].reps[r].max_ns;
			for (unsigned b = 0; b < BUCKETS; b++)
				hist[b] += ws[t].reps[r].hist[b];
		}
	}
	for (unsigned r = 1; r <= opt.reps; r++)
		secs += span[r];
	for (size_t i = 0; i < opt.conns; i++)
		alive += !conns[i].dead;
	pass = pass && !errors && msgs && alive == opt.conns;

	printf("{\"mode\":\"%s\",\"addr\":\"%s\",\"conns\":%lu,\"size\":%zu,"
	       "\"threads\":%lu,\"secs\":%.3f,\"connect_secs\":%.3f,",
	       opt.idle ? "idle" : "echo", opt.addr, opt.conns, opt.size, opt.threads, secs,
	       connect_s);
	if (opt.idle)
		printf("\"heartbeat_secs\":%.3f,\"heartbeats\":%llu,", opt.heartbeat,
		       (unsigned long long)msgs);
	printf("\"msgs\":%llu,\"msgs_per_sec\":%.1f,\"bytes_checked\":%llu,\"errors\":%llu,"
	       "\"conns_alive\":%zu,\"p50_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f",
	       (unsigned long long)msgs, secs > 0 ? (double)msgs / secs : 0.0,
	       (unsigned long long)bytes, (unsigned long long)errors, alive,
	       percentile(hist, msgs, 0.50) / 1e3, percentile(hist, msgs, 0.99) / 1e3,
	       (double)max_ns / 1e3);
	if (opt.server_pid) {
		long hz = sysconf(_SC_CLK_TCK);
		double cpu_s = (double)(last->cpu_ticks - first->cpu_ticks) / (double)(hz > 0 ? hz : 100);
		double cpu_pct = run_s > 0 ? 100.0 * cpu_s / run_s : 0;
		long drift = last->rss_kib - rss_first.rss_kib;
		double drift_pct = rss_first.rss_kib > 0 ? 100.0 * (double)drift / (double)rss_first.rss_kib : 0;
		double bound = opt.rss_bound_pct / 100.0 * (double)rss_first.rss_kib;
		bool rss_ok, cpu_ok;

		if (bound < opt.rss_bound_kib)
			bound = opt.rss_bound_kib;
		rss_ok = rss_first.rss_kib > 0 && last->rss_kib > 0 && (double)drift <= bound;
		cpu_ok = opt.max_cpu < 0 || cpu_pct <= opt.max_cpu;
		pass = pass && rss_ok && cpu_ok;
		printf(",\"server_pid\":%ld,\"rss_start_kib\":%ld,\"rss_first_at_secs\":%.1f,"
		       "\"rss_first_kib\":%ld,\"rss_end_kib\":%ld,\"rss_drift_kib\":%ld,"
		       "\"rss_drift_pct\":%.2f,\"rss_bound_kib\":%.0f,\"rss_ok\":%s,"
		       "\"server_cpu_secs\":%.2f,\"server_cpu_pct\":%.2f,\"max_cpu_pct\":%.1f,"
		       "\"cpu_ok\":%s,\"server_fds_start\":%ld,\"server_fds_end\":%ld,"
		       "\"samples\":[",
		       opt.server_pid, first->rss_kib, rss_first.at, rss_first.rss_kib, last->rss_kib,
		       drift, drift_pct, bound, rss_ok ? "true" : "false", cpu_s, cpu_pct,
		       opt.max_cpu, cpu_ok ? "true" : "false", first->fds, last->fds);
		for (unsigned i = 0; i < nsamples; i++)
			printf("%s[%.1f,%ld,%ld]", i ? "," : "", samples[i].at, samples[i].rss_kib,
			       samples[i].fds);
		printf("]");
	}
	printf(",\"pass\":%s}\n", pass ? "true" : "false");
	free(hist);
	if (!status && !pass)
		status = 1;
	return status;
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
	uint64_t connect_t0 = now_ns();

	/* Connect, in batches; connection i goes to worker i % threads. */
	for (size_t i = 0; i < opt.conns; i += CONNECT_BATCH) {
		size_t n = opt.conns - i < CONNECT_BATCH ? opt.conns - i : CONNECT_BATCH;

		connect_batch(ai, fds, n);
		for (size_t j = 0; j < n; j++) {
			struct conn *c = &conns[i + j];

			c->fd = fds[j];
			c->id = (uint32_t)(i + j);
			c->phase = (uint64_t)((double)(i + j) / (double)opt.conns * opt.heartbeat * 1e9);
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

	double connect_s = (double)(now_ns() - connect_t0) / 1e9;
	uint64_t run_t0 = 0, run_t1;
	double next_sample = 0;
	bool rss_taken = false;
	struct sample first = { 0 }, last = { 0 };

	if (opt.idle) { /* the hold is the one repetition, from the first heartbeat */
		settle_idle();
		atomic_store(&cur_rep, 1);
	}
	hb_start = now_ns();
	for (size_t t = 0; t < opt.threads; t++)
		if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t])) {
			fprintf(stderr, "echo_load: cannot start a thread\n");
			return 2;
		}
	sleep_ns((uint64_t)(opt.warmup * 1e9));
	for (unsigned r = 1; r <= opt.reps; r++) {
		uint64_t t0 = now_ns();

		if (r == 1) {
			run_t0 = t0;
			if (opt.server_pid)
				first = take_sample(0);
			next_sample = opt.sample_every;
		}
		atomic_store(&cur_rep, r);
		monitor_until(run_t0, t0 + (uint64_t)(opt.secs * 1e9), &next_sample, &rss_taken);
		span[r] = (double)(now_ns() - t0) / 1e9;
	}
	run_t1 = now_ns();
	if (opt.server_pid) {
		last = take_sample((double)(run_t1 - run_t0) / 1e9);
		if (!rss_taken)
			rss_first = last;
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

	if (opt.json)
		return report_json(ws, span, connect_s, (double)(run_t1 - run_t0) / 1e9, &first,
				   &last, status, sorted);
	for (unsigned r = 1; r <= opt.reps; r++) {
		uint64_t msgs = 0, errors = 0, heavy = 0;

		memset(hist, 0, BUCKETS * sizeof *hist);
		for (size_t t = 0; t < opt.threads; t++) {
			msgs += ws[t].reps[r].msgs;
			heavy += ws[t].reps[r].heavy_msgs;
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
			if (opt.heavy_every) {
				printf("result,%u,p999_us,%.2f,us\n", r,
				       percentile(hist, msgs, 0.999) / 1e3);
				printf("result,%u,heavy_msgs_per_sec,%.1f,msg/s\n", r,
				       (double)heavy / span[r]);
			}
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
