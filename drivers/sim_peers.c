/* SPDX-License-Identifier: MIT */
/*
 * drivers/sim_peers.c: scripted clients inside the simulated world
 * (VOLT_SIM_PEERS), so that an unchanged server program has someone to
 * serve and every byte it sends back is checked.
 *
 * A peer is a state machine that runs inside the world, on its events (a
 * timer, or a change on its socket), with the world's own calls: it is a
 * remote host, not a task of the runtime, so the program's scheduling and
 * shutdown never touch it. Its script comes from a stream of its own,
 * derived from the seed and its index, so faults and scheduling change when
 * things happen, never what it sends.
 *
 * The peers start when the program first accepts on its first listener
 * (then its set-up on the main thread is over, and the run from there on
 * is the one worker's). Each waits a seeded 0..50 ms, connects to that
 * listener's address, and runs its script:
 *
 *	echo	sends 1..MAX seeded bytes (default MAX 16 KiB) in seeded chunks
 *		of 1..2 KiB at seeded times, checks that every byte comes back
 *		in order, half-closes once all is sent, and finishes at the end
 *		of stream with every byte back (examples/echo_server.c).
 *	chat	sends 1..MAX seeded lines (default 16) "p<i> n<k> <text>", in
 *		chunks that cut across lines, and checks what the room sends
 *		(examples/chat_server.c): first "*** connected as <its
 *		address>"; then lines "<address>: <line>" where the address is
 *		another peer's and the line is that peer's next-or-later line,
 *		word for word (or, if that peer's connection was reset, a
 *		prefix of it: the room delivers the unterminated rest), or the
 *		room's "*** N messages dropped". When every peer has sent
 *		everything and nothing has arrived for `quiet` (100 ms plus
 *		four times the longest delay), it checks completeness: every
 *		line another peer finished writing after this peer read its
 *		greeting must have come, except at most as many as the room
 *		said it dropped (its count also covers messages that were not
 *		for us, so it can only excuse too much, never too little).
 *
 * Faults. A peer whose connection never reached the program (refused,
 * aborted at accept, reset in the backlog) tries again after a seeded
 * 1..10 ms, from the start of its script, up to 64 times: the program
 * never saw that connection, so it still expects one. A reset of an
 * accepted connection is a planned fault: the peer stops there, without an
 * error. Anything else is an error: a wrong or missing byte, an early end,
 * -EPIPE, and 30 s of virtual time without progress (a stall: the peer
 * closes, so the program's connection ends and the run can finish).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "drivers/sim.h"

#define ECHO_BYTES_DEFAULT 16384
#define ECHO_CHUNK_MAX 2048
#define CHAT_LINES_DEFAULT 16
#define CHAT_PEERS_MAX 256
#define CHAT_TEXT_MAX 100
#define LINE_BUF 4096
#define START_SPREAD_NS 50000000ull
#define PAUSE_MAX_NS 2000000ull
#define RETRY_MIN_NS 1000000ull
#define RETRY_SPREAD_NS 9000000ull
#define MAX_ATTEMPTS 64
#define STALL_NS 30000000000ull
#define QUIET_MIN_NS 100000000ull

enum { ECHO = 1, CHAT };
enum { P_WAIT, P_CONNECTING, P_OPEN, P_DONE };

/* Trace codes of the peers (the world's are below 100). */
enum { TR_PEER_DONE = 100, TR_PEER_RETRY };

struct peer {
	unsigned idx;
	uint8_t state;
	bool poked;         /* a step at `now` is queued */
	bool shut;          /* sent everything and half-closed (echo) */
	bool sent_all;      /* wrote its last byte (chat) */
	bool counted;       /* out of the room's count of senders */
	bool reset_seen;    /* its accepted connection was reset */
	bool failed;
	bool greeted;
	int fd;
	unsigned attempts;
	uint64_t rng;       /* the script's stream */
	uint64_t content;   /* echo: the seed of its bytes */
	uint64_t start_at, next_send_at, last_progress, last_rx, watch_at;
	size_t total, sent, recvd, chunk_left;
	/* chat */
	char *out;           /* every line, one after the other */
	size_t *line_end;    /* where line i ends in out (after its '\n') */
	uint64_t *line_tick; /* world tick when line i was all written; UINT64_MAX: not yet */
	unsigned nlines, lines_done;
	uint64_t greet_tick;
	uint64_t dropped;    /* what the room said it dropped */
	int *last_seen;      /* per sender, 1 + the last line index seen (0: none) */
	uint8_t *got;        /* got[sender * max_lines + line] */
	size_t in_len;
	char addr[VOLT_ADDR_STRLEN];
	char in[LINE_BUF];
};

struct volt__sim_peers {
	uint8_t kind;
	bool started;
	unsigned n, max_lines;
	size_t max_bytes;
	unsigned sending;    /* chat: peers still sending */
	uint64_t all_sent_at;
	uint64_t quiet_ns;
	struct volt_addr target;
	struct peer p[];
};

static const char *kind_name(const struct volt__sim_peers *P)
{
	return P->kind == ECHO ? "echo" : "chat";
}

/* --------------------------------------------------------------- set-up */

static int parse_count(const char *s, unsigned long max, unsigned long *out, const char **end)
{
	char *e;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &e, 10);
	if (errno || *out < 1 || *out > max)
		return -EINVAL;
	*end = e;
	return 0;
}

/* Line i of a chat peer's script, into buf: its length with the '\n'. */
static size_t chat_line(struct peer *p, unsigned i, char *buf)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 ";
	int n = snprintf(buf, 32, "p%u n%u ", p->idx, i);
	size_t len = (size_t)volt__sim_rand(&p->rng) % (CHAT_TEXT_MAX + 1);

	for (size_t k = 0; k < len; k++)
		buf[n + k] = alphabet[volt__sim_rand(&p->rng) % (sizeof(alphabet) - 1)];
	buf[n + len] = '\n';
	return (size_t)n + len + 1;
}

static int chat_script(struct volt__sim_peers *P, struct peer *p)
{
	char line[32 + CHAT_TEXT_MAX + 1];

	p->nlines = 1 + (unsigned)(volt__sim_rand(&p->rng) % P->max_lines);
	p->out = malloc((size_t)p->nlines * sizeof(line));
	p->line_end = calloc(p->nlines, sizeof(*p->line_end));
	p->line_tick = calloc(p->nlines, sizeof(*p->line_tick));
	p->last_seen = calloc(P->n, sizeof(*p->last_seen));
	p->got = calloc((size_t)P->n * P->max_lines, 1);
	if (!p->out || !p->line_end || !p->line_tick || !p->last_seen || !p->got)
		return -ENOMEM;
	for (unsigned i = 0; i < p->nlines; i++) {
		size_t len = chat_line(p, i, line);

		memcpy(p->out + p->total, line, len);
		p->total += len;
		p->line_end[i] = p->total;
		p->line_tick[i] = UINT64_MAX;
	}
	return 0;
}

static void peers_free(struct volt__sim_peers *P)
{
	for (unsigned i = 0; i < P->n; i++) {
		free(P->p[i].out);
		free(P->p[i].line_end);
		free(P->p[i].line_tick);
		free(P->p[i].last_seen);
		free(P->p[i].got);
	}
	free(P);
}

int volt__sim_peers_new(struct volt__sim_world *w, const char *spec)
{
	unsigned long n, max = 0;
	const char *rest;
	uint8_t kind;

	if (!spec || !*spec)
		return 0;
	if (!strncmp(spec, "echo:", 5))
		kind = ECHO;
	else if (!strncmp(spec, "chat:", 5))
		kind = CHAT;
	else
		return -EINVAL;
	if (parse_count(spec + 5, kind == CHAT ? CHAT_PEERS_MAX : 100000, &n, &rest))
		return -EINVAL;
	if (*rest == ':' && parse_count(rest + 1, kind == CHAT ? 1000 : 1ul << 30, &max, &rest))
		return -EINVAL;
	if (*rest)
		return -EINVAL;

	struct volt__sim_peers *P = calloc(1, sizeof(*P) + n * sizeof(struct peer));

	if (!P)
		return -ENOMEM;
	P->kind = kind;
	P->n = (unsigned)n;
	P->max_bytes = kind == ECHO && max ? max : ECHO_BYTES_DEFAULT;
	P->max_lines = kind == CHAT && max ? (unsigned)max : CHAT_LINES_DEFAULT;
	P->sending = P->n;
	P->quiet_ns = QUIET_MIN_NS + 4 * w->f.delay_max_ns;
	uint64_t x = w->seed, base = volt__splitmix64(&x);

	for (unsigned i = 0; i < P->n; i++) {
		struct peer *p = &P->p[i];

		p->idx = i;
		p->fd = -1;
		/* a stream per (seed, peer) that no other seed's peer shares */
		p->rng = base + (i + 1) * 0xd1b54a32d192ed03ull;
		p->content = volt__sim_rand(&p->rng);
		if (kind == ECHO) {
			p->total = 1 + (size_t)(volt__sim_rand(&p->rng) % P->max_bytes);
		} else if (chat_script(P, p)) {
			peers_free(P);
			return -ENOMEM;
		}
	}
	w->peers = P;
	return 0;
}

static void at(struct volt__sim_world *w, struct peer *p, uint64_t when)
{
	if (volt__sim_peer_at(w, p->idx, when, false))
		volt__sim_error(w, "out of memory for peer %u's timer: the run is not valid",
				p->idx);
}

void volt__sim_peers_start(struct volt__sim_world *w, const struct volt_addr *target)
{
	struct volt__sim_peers *P = w->peers;

	if (!P || P->started)
		return;
	P->started = true;
	P->target = *target;
	if (target->u.sa.sa_family == AF_INET &&
	    target->u.in.sin_addr.s_addr == htonl(INADDR_ANY))
		P->target.u.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (target->u.sa.sa_family == AF_INET6 &&
		 IN6_IS_ADDR_UNSPECIFIED(&target->u.in6.sin6_addr))
		P->target.u.in6.sin6_addr = in6addr_loopback;
	for (unsigned i = 0; i < P->n; i++) {
		struct peer *p = &P->p[i];

		p->start_at = w->now + volt__sim_rand(&p->rng) % START_SPREAD_NS;
		p->last_progress = p->start_at;
		p->watch_at = p->start_at + STALL_NS;
		at(w, p, p->start_at);
		at(w, p, p->watch_at);
	}
}

void volt__sim_peer_poke(struct volt__sim_world *w, unsigned idx)
{
	struct volt__sim_peers *P = w->peers;

	if (!P || idx >= P->n || P->p[idx].poked || P->p[idx].state == P_DONE)
		return;
	P->p[idx].poked = true;
	if (volt__sim_peer_at(w, idx, w->now, true))
		volt__sim_error(w, "out of memory for peer %u's wake-up: the run is not valid",
				idx);
}

/* ------------------------------------------------------- common steps */

static void sending_done(struct volt__sim_world *w, struct peer *p)
{
	struct volt__sim_peers *P = w->peers;

	if (P->kind != CHAT || p->counted)
		return;
	p->counted = true;
	if (--P->sending)
		return;
	/* the last one: everybody may start counting the quiet from now */
	P->all_sent_at = w->now;
	for (unsigned i = 0; i < P->n; i++)
		if (P->p[i].state != P_DONE)
			at(w, &P->p[i], w->now + P->quiet_ns);
}

static void finish(struct volt__sim_world *w, struct peer *p, bool ok)
{
	if (p->fd >= 0)
		(void)volt__sim_close(w, p->fd);
	p->fd = -1;
	p->state = P_DONE;
	p->failed = !ok;
	sending_done(w, p);
	volt__sim_trace(w, TR_PEER_DONE, p->idx, ok);
}

static void fail(struct volt__sim_world *w, struct peer *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct volt__sim_world *w, struct peer *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	volt__sim_error(w, "peer %u (%s, %s): %s", p->idx, kind_name(w->peers),
			p->addr[0] ? p->addr : "not connected", msg);
	finish(w, p, false);
}

/* The connection never reached the program: start the script over, later. */
static void retry(struct volt__sim_world *w, struct peer *p, int err)
{
	if (p->fd >= 0)
		(void)volt__sim_close(w, p->fd);
	p->fd = -1;
	if (++p->attempts >= MAX_ATTEMPTS) {
		fail(w, p, "gave up after %u attempts to connect (last: %s)", p->attempts,
		     volt_strerror(err));
		return;
	}
	if (p->counted && w->peers->kind == CHAT) { /* it sends everything again */
		p->counted = false;
		w->peers->sending++;
	}
	p->sent_all = false;
	p->state = P_WAIT;
	p->sent = p->recvd = p->chunk_left = p->in_len = 0;
	p->next_send_at = 0;
	p->shut = p->greeted = false;
	p->lines_done = 0;
	p->addr[0] = '\0';
	for (unsigned i = 0; i < p->nlines; i++)
		p->line_tick[i] = UINT64_MAX;
	p->start_at = w->now + RETRY_MIN_NS + volt__sim_rand(&p->rng) % RETRY_SPREAD_NS;
	p->last_progress = p->start_at;
	at(w, p, p->start_at);
	volt__sim_trace(w, TR_PEER_RETRY, p->idx, (uint64_t)-err);
}

/* A transfer failed with err on an open connection. */
static void broken(struct volt__sim_world *w, struct peer *p, ssize_t err)
{
	bool accepted, reset;

	(void)volt__sim_conn_state(w, p->fd, &accepted, &reset);
	if (!accepted) {
		retry(w, p, (int)err);
	} else if (reset && err == -ECONNRESET) {
		p->reset_seen = true; /* a planned fault: stop here, no error */
		finish(w, p, true);
	} else {
		fail(w, p, "%s on a connection the program accepted",
		     volt_strerror((int)err));
	}
}

/*
 * One receive on p's connection: the byte count, 0 at its end, or -EAGAIN
 * when nothing has come yet. Any other error breaks the connection
 * (broken(): p is retried, finished or failed) and is returned as it is.
 */
static ssize_t peer_recv(struct volt__sim_world *w, struct peer *p, void *buf, size_t len)
{
	ssize_t n = volt__sim_recv(w, p->fd, buf, len, 0);

	if (n < 0 && n != -EAGAIN)
		broken(w, p, n);
	return n;
}

static void progress(struct volt__sim_world *w, struct peer *p)
{
	p->last_progress = w->now;
}

static void opened(struct volt__sim_world *w, struct peer *p)
{
	struct volt_addr a;

	p->state = P_OPEN;
	a.len = sizeof(a.u);
	if (volt__sim_name(w, p->fd, false, &a.u.sa, &a.len) ||
	    volt_addr_format(&a, p->addr, sizeof(p->addr)) < 0)
		strcpy(p->addr, "?");
	progress(w, p);
}

/* WAIT and CONNECTING: true once the connection is open. */
static bool connect_step(struct volt__sim_world *w, struct peer *p)
{
	struct volt__sim_peers *P = w->peers;
	int err;

	if (p->state == P_WAIT) {
		if (w->now < p->start_at)
			return false; /* its timer is set */
		p->fd = volt__sim_socket(w, P->target.u.sa.sa_family, SOCK_STREAM, p->idx + 1);
		if (p->fd < 0) {
			fail(w, p, "socket: %s", volt_strerror(p->fd));
			return false;
		}
		err = volt__sim_connect(w, p->fd, &P->target.u.sa, P->target.len);
		if (err == -EINPROGRESS) {
			p->state = P_CONNECTING;
			return false;
		}
		if (err) {
			retry(w, p, err);
			return false;
		}
		opened(w, p);
		return true;
	}
	if (p->state == P_CONNECTING) {
		if (volt__sim_connecting(w, p->fd, &err))
			return false;
		if (err) {
			retry(w, p, -err);
			return false;
		}
		opened(w, p);
	}
	return p->state == P_OPEN;
}

/*
 * Writes what the script allows now from `data` (total bytes): chunks of
 * 1..ECHO_CHUNK_MAX with seeded pauses between. 0, or the transfer's error.
 */
static ssize_t send_script(struct volt__sim_world *w, struct peer *p, const char *data)
{
	char tmp[ECHO_CHUNK_MAX];

	while (p->sent < p->total) {
		if (w->now < p->next_send_at) {
			at(w, p, p->next_send_at);
			return 0;
		}
		if (!p->chunk_left) {
			size_t left = p->total - p->sent;

			p->chunk_left = 1 + (size_t)(volt__sim_rand(&p->rng) %
						     (left < ECHO_CHUNK_MAX ? left : ECHO_CHUNK_MAX));
		}
		const char *src = data;

		if (!data) { /* echo: the bytes are a function of the offset */
			for (size_t i = 0; i < p->chunk_left; i++) {
				size_t off = p->sent + i;
				uint64_t x = p->content ^ (off / 8);

				tmp[i] = (char)(volt__splitmix64(&x) >> (8 * (off % 8)));
			}
			src = tmp;
		} else {
			src = data + p->sent;
		}
		ssize_t n = volt__sim_send(w, p->fd, src, p->chunk_left);

		if (n == -EAGAIN)
			return 0; /* woken when there is room */
		if (n < 0)
			return n;
		p->sent += (size_t)n;
		p->chunk_left -= (size_t)n;
		progress(w, p);
		while (p->lines_done < p->nlines && p->sent >= p->line_end[p->lines_done])
			p->line_tick[p->lines_done++] = w->tick;
		if (!p->chunk_left) {
			uint64_t r = volt__sim_rand(&p->rng);

			p->next_send_at = w->now + (r & 1 ? 0 : (r >> 1) % PAUSE_MAX_NS);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- echo */

static void echo_step(struct volt__sim_world *w, struct peer *p)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = peer_recv(w, p, buf, sizeof(buf));
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return; /* broken */
		if (n == 0) {
			if (p->recvd == p->total && p->shut) {
				finish(w, p, true);
			} else {
				fail(w, p, "end of stream after %zu of %zu bytes came back", p->recvd,
				     p->total);
			}
			return;
		}
		for (ssize_t i = 0; i < n; i++) {
			size_t off = p->recvd + (size_t)i;
			uint64_t x = p->content ^ (off / 8);
			char want = (char)(volt__splitmix64(&x) >> (8 * (off % 8)));

			if (off >= p->sent || buf[i] != want) {
				fail(w, p, "byte %zu came back as 0x%02x, sent 0x%02x%s", off,
				     (unsigned char)buf[i], (unsigned char)want,
				     off >= p->sent ? " (not sent yet)" : "");
				return;
			}
		}
		p->recvd += (size_t)n;
		w->st.bytes_checked += (uint64_t)n;
		progress(w, p);
	}
	n = send_script(w, p, NULL);
	if (n < 0) {
		broken(w, p, n);
		return;
	}
	if (p->sent == p->total && !p->shut) {
		n = volt__sim_shutdown(w, p->fd, SHUT_WR);
		if (n < 0) {
			broken(w, p, n);
			return;
		}
		p->shut = true;
	}
}

/* ---------------------------------------------------------------- chat */

static struct peer *peer_at_addr(struct volt__sim_peers *P, const char *addr, size_t len)
{
	for (unsigned i = 0; i < P->n; i++)
		if (strlen(P->p[i].addr) == len && !memcmp(P->p[i].addr, addr, len))
			return &P->p[i];
	return NULL;
}

/* Whether q's connection was reset (the room may then show a cut last line). */
static bool was_reset(struct volt__sim_world *w, struct peer *q)
{
	bool accepted, reset;

	return q->reset_seen ||
	       (q->fd >= 0 && volt__sim_conn_state(w, q->fd, &accepted, &reset) && reset);
}

/* Checks one line from the room (without its '\n'): false after a failure. */
static bool chat_line_check(struct volt__sim_world *w, struct peer *p, const char *line,
			    size_t len)
{
	struct volt__sim_peers *P = w->peers;
	char want[sizeof("*** connected as ") + VOLT_ADDR_STRLEN];
	unsigned long long dropped;
	unsigned qi, li;
	int used = 0;

	if (!p->greeted) {
		int n = snprintf(want, sizeof(want), "*** connected as %s", p->addr);

		if ((size_t)n != len || memcmp(line, want, len)) {
			fail(w, p, "first line \"%.*s\", not \"%s\"", (int)len, line, want);
			return false;
		}
		p->greeted = true;
		p->greet_tick = w->tick;
		return true;
	}
	if (len > 4 && !memcmp(line, "*** ", 4)) {
		char tmp[64];

		if (len < sizeof(tmp)) {
			memcpy(tmp, line, len);
			tmp[len] = '\0';
			if (sscanf(tmp, "*** %llu messages dropped%n", &dropped, &used) == 1 &&
			    (size_t)used == len && dropped > 0) {
				p->dropped += dropped;
				return true;
			}
		}
		fail(w, p, "unexpected notice \"%.*s\"", (int)len, line);
		return false;
	}

	/* "<address>: <line>": the first ": " (an address has ':' but no ": ") */
	const char *sep = memmem(line, len, ": ", 2);
	struct peer *q = sep ? peer_at_addr(P, line, (size_t)(sep - line)) : NULL;

	if (!q) {
		fail(w, p, "line from nobody: \"%.*s\"", (int)len, line);
		return false;
	}
	if (q == p) {
		fail(w, p, "its own line came back: \"%.*s\"", (int)len, line);
		return false;
	}

	const char *text = sep + 2;
	size_t tlen = (size_t)(line + len - text);
	char head[32];
	size_t hlen = tlen < sizeof(head) - 1 ? tlen : sizeof(head) - 1;
	int from = p->last_seen[q->idx]; /* the first index it may be */

	memcpy(head, text, hlen);
	head[hlen] = '\0';
	if (sscanf(head, "p%u n%u ", &qi, &li) == 2 && qi == q->idx && li < q->nlines &&
	    (int)li >= from) {
		size_t start = li ? q->line_end[li - 1] : 0, full = q->line_end[li] - 1 - start;

		if (tlen == full && !memcmp(text, q->out + start, full)) {
			p->got[(size_t)q->idx * P->max_lines + li] = 1;
			p->last_seen[q->idx] = (int)li + 1;
			return true;
		}
	}
	/* q's connection was reset: the room delivers the unterminated rest of a line */
	for (unsigned i = (unsigned)from; was_reset(w, q) && i < q->nlines; i++) {
		size_t start = i ? q->line_end[i - 1] : 0, full = q->line_end[i] - 1 - start;

		if (tlen < full && !memcmp(text, q->out + start, tlen)) {
			p->last_seen[q->idx] = (int)i + 1;
			return true;
		}
	}
	fail(w, p, "not the next line of %s%s (after line %d): \"%.*s\"", q->addr,
	     was_reset(w, q) ? ", reset," : "", from - 1, (int)len, line);
	return false;
}

/* Every line another peer wrote after our greeting came, or was reported dropped. */
static void chat_final_check(struct volt__sim_world *w, struct peer *p)
{
	struct volt__sim_peers *P = w->peers;
	uint64_t missing = 0;

	for (unsigned i = 0; i < P->n; i++) {
		struct peer *q = &P->p[i];

		if (q == p || q->reset_seen || q->failed)
			continue;
		for (unsigned k = 0; k < q->nlines; k++)
			if (q->line_tick[k] != UINT64_MAX && q->line_tick[k] > p->greet_tick &&
			    !p->got[(size_t)i * P->max_lines + k])
				missing++;
	}
	if (missing > p->dropped) {
		fail(w, p, "%" PRIu64 " lines of others never came; the room reported %" PRIu64
			   " dropped", missing, p->dropped);
		return;
	}
	finish(w, p, true);
}

static void chat_step(struct volt__sim_world *w, struct peer *p)
{
	struct volt__sim_peers *P = w->peers;
	ssize_t n;

	for (;;) {
		if (p->in_len == sizeof(p->in)) {
			fail(w, p, "a line longer than %zu bytes", sizeof(p->in));
			return;
		}
		n = peer_recv(w, p, p->in + p->in_len, sizeof(p->in) - p->in_len);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return; /* broken */
		if (n == 0) {
			fail(w, p, "the room hung up");
			return;
		}
		p->in_len += (size_t)n;
		p->last_rx = w->now;
		progress(w, p);

		size_t start = 0;
		char *nl;

		while ((nl = memchr(p->in + start, '\n', p->in_len - start)) != NULL) {
			size_t len = (size_t)(nl - (p->in + start));

			if (!chat_line_check(w, p, p->in + start, len))
				return;
			w->st.bytes_checked += len + 1;
			start += len + 1;
		}
		memmove(p->in, p->in + start, p->in_len - start);
		p->in_len -= start;
	}
	n = send_script(w, p, p->out);
	if (n < 0) {
		broken(w, p, n);
		return;
	}
	if (p->sent == p->total && !p->sent_all) {
		p->sent_all = true;
		sending_done(w, p);
	}
	if (!p->greeted || P->sending)
		return;

	uint64_t from = p->last_rx > P->all_sent_at ? p->last_rx : P->all_sent_at;

	if (w->now >= from + P->quiet_ns)
		chat_final_check(w, p);
	else
		at(w, p, from + P->quiet_ns);
}

/* ---------------------------------------------------------------- steps */

void volt__sim_peer_step(struct volt__sim_world *w, unsigned idx, bool poke)
{
	struct volt__sim_peers *P = w->peers;

	if (!P || idx >= P->n)
		return;

	struct peer *p = &P->p[idx];

	if (poke)
		p->poked = false;
	if (p->state == P_DONE || !P->started)
		return;
	if (w->now >= p->watch_at) {
		if (w->now - p->last_progress >= STALL_NS) {
			fail(w, p, "no progress for %llu s (sent %zu, %zu came back)",
			     (unsigned long long)(STALL_NS / 1000000000ull), p->sent, p->recvd);
			return;
		}
		p->watch_at = p->last_progress + STALL_NS;
		at(w, p, p->watch_at);
	}
	if (!connect_step(w, p))
		return;
	if (P->kind == ECHO)
		echo_step(w, p);
	else
		chat_step(w, p);
}

unsigned volt__sim_peers_left(const struct volt__sim_world *w)
{
	const struct volt__sim_peers *P = w->peers;
	unsigned n = 0;

	for (unsigned i = 0; P && i < P->n; i++)
		n += P->p[i].state != P_DONE;
	return n;
}

void volt__sim_peers_fini(struct volt__sim_world *w)
{
	struct volt__sim_peers *P = w->peers;

	if (!P)
		return;
	w->peers = NULL; /* before any close could poke a peer */
	for (unsigned i = 0; i < P->n; i++) {
		struct peer *p = &P->p[i];

		if (p->state != P_DONE)
			volt__sim_error(w, "peer %u (%s) had not finished when the program ended "
					   "(sent %zu of %zu, %zu came back)",
					p->idx, kind_name(P), p->sent, p->total, p->recvd);
		if (p->fd >= 0)
			(void)volt__sim_close(w, p->fd);
	}
	peers_free(P);
}
