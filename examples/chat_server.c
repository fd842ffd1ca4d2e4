/* SPDX-License-Identifier: MIT */
/*
 * chat_server.c: a line-based chat room. Every line a client sends goes to
 * every other client, prefixed with the sender's address.
 *
 *	chat_server [--addr HOST:PORT | --port P] [--driver auto|uring|epoll]
 *	            [--sched POLICY] [--workers N] [--max-conns N]
 *	build/examples/chat_server &
 *	nc 127.0.0.1 7001       (in two or more terminals, then type)
 *
 * A client first gets "*** connected as <its address>", then, for each line
 * another client sends, "<address>: <line>". A line is at most 1 KiB
 * (LINE_MAX_LEN): a longer one is cut into 1 KiB pieces, each delivered as
 * a line of its own. A "\r" before the "\n" is dropped; an unterminated last
 * line is delivered when its client hangs up.
 *
 * Each connection has two stackless tasks sharing its stream handle (a
 * handle is a value; closing it twice is harmless: -EBADF):
 * - the reader reads into its line buffer and publishes each line;
 * - the writer waits on its volt_broadcast receiver and writes each message
 *   published by another connection; the messages already waiting when it
 *   wakes (up to 16 KiB of them) go out in the same write.
 *
 * Slow clients. volt_broadcast retains the last HISTORY messages and never
 * waits: a writer that falls further behind (its client reads slowly, so its
 * writes wait) gets VOLT_CHAN_LAGGED with the number it missed, writes
 * "*** N messages dropped" in their place and goes on from the oldest one
 * retained. N counts every message it missed, including its own client's
 * and the empty ones below. A slow client costs nobody else anything.
 *
 * Who frees a message? The broadcast carries pointers and overwrites the
 * oldest without telling anyone, and a lagging receiver never sees what it
 * skipped, so a reference count per message would have nobody to drop the
 * references of the skipped copies. Here no message is allocated at all: the
 * room owns a ring of SLOTS fixed-size slots (twice the broadcast's history)
 * and the broadcast carries the message's sequence number. Publishing fills
 * slot seq % SLOTS and sends seq, both under the room's mutex; a writer
 * copies the text out of the slot under the same mutex, after checking that
 * the slot still holds seq (if it was refilled meanwhile, that message counts
 * as dropped). Nothing is freed per message; the ring goes with the room.
 *
 * Hanging up. The reader stops at end of stream or on an error, the writer
 * when a write fails; either closes the stream, which cancels the other's
 * read or write. But a writer waiting on the broadcast is not reached by a
 * close, so the reader, once it has closed the stream, publishes an empty
 * message: every writer receives it (or a lag in its place), shows nothing,
 * and checks whether its own stream is still open (volt_handle_fd).
 *
 * The accept loop and the options are examples/server.h's; the default
 * address is 127.0.0.1:7001.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <volt.h>

#include "server.h"

#define NAME "chat_server"
#define DEFAULT_ADDR "127.0.0.1:7001"
#define LINE_MAX_LEN 1024            /* longer lines are cut */
#define HISTORY 128                  /* messages the broadcast retains */
#define SLOTS (2 * HISTORY)          /* message slots of the room */
#define PREFIX_MAX (VOLT_ADDR_STRLEN + 2) /* "<address>: " */
#define NOTICE_MAX 48                /* "*** N messages dropped\n" */
#define OUT_SIZE (16 * 1024)         /* a writer's buffer: messages waiting go out together */

/* ---- the room: message slots and the broadcast that announces them */

struct slot {
	uintptr_t seq; /* the message held here (a uintptr_t: the broadcast carries it) */
	uint64_t from; /* the connection that published it */
	size_t len;    /* bytes of text; 0: an empty message, shown to nobody */
	char text[PREFIX_MAX + LINE_MAX_LEN + 1]; /* "<address>: <line>\n" */
};

struct room {
	pthread_mutex_t lock; /* over next_seq, slots, and the order of sends */
	struct volt_broadcast *b;
	uintptr_t next_seq;
	struct slot slots[SLOTS];
};

/* Publishes prefix + line + "\n" from connection `from`; prefix NULL: an empty message. */
static void publish(struct room *r, uint64_t from, const char *prefix, size_t plen,
		    const char *line, size_t len)
{
	struct slot *s;

	pthread_mutex_lock(&r->lock);
	s = &r->slots[r->next_seq % SLOTS];
	s->seq = r->next_seq++;
	s->from = from;
	s->len = 0;
	if (prefix) {
		memcpy(s->text, prefix, plen);
		memcpy(s->text + plen, line, len);
		s->text[plen + len] = '\n';
		s->len = plen + len + 1;
	}
	/* VOLT_CHAN_CLOSED when no writer listens: then nobody missed it. */
	(void)volt_broadcast_send(r->b, (void *)s->seq);
	pthread_mutex_unlock(&r->lock);
}

/* Closes the stream, then wakes every writer, so that its own writer sees the close. */
static void hang_up(struct room *r, uint64_t id, struct volt_stream s)
{
	(void)volt_stream_close(s);
	publish(r, id, NULL, 0, NULL, 0);
}

/* ---- the writer: broadcast -> client */

#define MSG_MAX (NOTICE_MAX + sizeof(((struct slot *)0)->text)) /* a notice and a message */

struct writer {
	struct volt_future base;
	struct room *room;
	struct volt_stream s;
	uint64_t id;                     /* this connection's, to skip its own lines */
	struct volt_broadcast_rx rx;     /* subscribed by the accept loop */
	struct volt_broadcast_recv recv;
	struct volt_io_op op;
	uint64_t dropped;                /* messages missed, not reported yet */
	size_t len;                      /* bytes of out to write */
	char out[OUT_SIZE];
};

/* Appends "*** N messages dropped" to out. */
static void notice(struct writer *w)
{
	w->len += (size_t)snprintf(w->out + w->len, NOTICE_MAX, "*** %llu messages dropped\n",
				   (unsigned long long)w->dropped);
	w->dropped = 0;
}

/* Appends what one receive brought (a message, unless ours or empty; a lag) to out. */
static void add(struct writer *w, int result, void *value, uint64_t missed)
{
	struct room *r = w->room;
	uintptr_t seq = (uintptr_t)value;
	struct slot *s = &r->slots[seq % SLOTS];

	if (result == VOLT_CHAN_LAGGED) {
		w->dropped += missed;
		return;
	}
	pthread_mutex_lock(&r->lock);
	if (s->seq != seq) { /* refilled since it was sent */
		w->dropped++;
	} else if (s->from != w->id && s->len) {
		if (w->dropped)
			notice(w);
		memcpy(w->out + w->len, s->text, s->len);
		w->len += s->len;
	}
	pthread_mutex_unlock(&r->lock);
}

static enum volt_poll writer_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct writer *w = (struct writer *)f;
	uint64_t missed;
	void *value;
	int result;

	VOLT_BEGIN(f);
	/* The greeting, already in out: once the client has it, it is subscribed. */
	VOLT_AWAIT(f, cx, volt_stream_write_all(&w->op, w->s, w->out, w->len));
	while (w->op.result >= 0) {
		VOLT_AWAIT(f, cx, volt_broadcast_recv(&w->recv, &w->rx));
		if (w->recv.result == VOLT_CHAN_CLOSED)
			break;
		w->len = 0;
		add(w, w->recv.result, w->recv.value, w->recv.missed);
		/* Whatever else is there already goes into the same write (at most HISTORY). */
		for (int i = 0; i < HISTORY && w->len + MSG_MAX <= sizeof w->out; i++) {
			result = volt_broadcast_try_recv(&w->rx, &value, &missed);
			if (result != VOLT_CHAN_OK && result != VOLT_CHAN_LAGGED)
				break;
			add(w, result, value, missed);
		}
		if (w->dropped) /* fits: the last add appended nothing, with MSG_MAX free before */
			notice(w);
		if (volt_handle_fd(w->s.h) < 0) /* the reader hung up */
			break;
		if (w->len)
			VOLT_AWAIT(f, cx, volt_stream_write_all(&w->op, w->s, w->out, w->len));
	}
	VOLT_END(f); /* writer_drop closes the stream, which ends the reader */
}

/* Runs once, when the task finishes or is cancelled. */
static void writer_drop(struct volt_future *f)
{
	struct writer *w = (struct writer *)f;

	volt_broadcast_unsubscribe(&w->rx);
	(void)volt_stream_close(w->s); /* -EBADF if the reader closed it first */
}

static const struct volt_future_ops writer_ops = { .poll = writer_poll, .drop = writer_drop };

/* ---- the reader: client -> broadcast */

struct reader {
	struct volt_future base;
	struct room *room;
	struct volt_stream s;
	uint64_t id;
	struct volt_io_op op;
	size_t prefix_len;
	size_t have; /* bytes of buf: the start of a line */
	char prefix[PREFIX_MAX];
	char buf[LINE_MAX_LEN];
};

/* Publishes every complete line of buf (or all of a full buf) and keeps the rest. */
static void publish_lines(struct reader *rd)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(rd->buf + start, '\n', rd->have - start)) != NULL) {
		size_t len = (size_t)(nl - (rd->buf + start));

		if (len && rd->buf[start + len - 1] == '\r')
			len--;
		publish(rd->room, rd->id, rd->prefix, rd->prefix_len, rd->buf + start, len);
		start = (size_t)(nl - rd->buf) + 1;
	}
	if (start == 0 && rd->have == LINE_MAX_LEN) { /* a line too long: cut it here */
		publish(rd->room, rd->id, rd->prefix, rd->prefix_len, rd->buf, rd->have);
		start = rd->have;
	}
	memmove(rd->buf, rd->buf + start, rd->have - start);
	rd->have -= start;
}

static enum volt_poll reader_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct reader *rd = (struct reader *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, volt_stream_read(&rd->op, rd->s, rd->buf + rd->have,
						   LINE_MAX_LEN - rd->have));
		if (rd->op.result <= 0) /* end of stream, an error, or the writer closed it */
			break;
		rd->have += (size_t)rd->op.result;
		publish_lines(rd);
	}
	if (rd->have) /* the last line had no "\n" */
		publish(rd->room, rd->id, rd->prefix, rd->prefix_len, rd->buf, rd->have);
	hang_up(rd->room, rd->id, rd->s);
	VOLT_END(f);
}

/* Closes the stream if the task is cancelled (a second close is harmless). */
static void reader_drop(struct volt_future *f)
{
	(void)volt_stream_close(((struct reader *)f)->s);
}

static const struct volt_future_ops reader_ops = { .poll = reader_poll, .drop = reader_drop };

/* ---- a client's two tasks, started by the accept loop (examples/server.h) */

static uint64_t last_id; /* only the accept loop touches it */

/* Starts the writer and the reader of the connection just accepted. */
static int start_client(struct volt_group *conns, struct volt_stream s,
			const struct volt_addr *peer, void *arg)
{
	struct room *room = arg;
	struct writer w = { .base = VOLT_FUTURE_INIT(&writer_ops) };
	struct reader rd = { .base = VOLT_FUTURE_INIT(&reader_ops) };
	int n = volt_addr_format(peer, rd.prefix, sizeof rd.prefix - 2);
	int err;

	if (n < 0)
		n = snprintf(rd.prefix, sizeof rd.prefix - 2, "?");
	memcpy(rd.prefix + n, ": ", 2);
	rd.prefix_len = (size_t)n + 2;
	w.room = rd.room = room;
	w.s = rd.s = s;
	w.id = rd.id = ++last_id;
	w.len = (size_t)snprintf(w.out, sizeof w.out, "*** connected as %.*s\n", n, rd.prefix);

	/* Subscribed before the reader runs: it sees every line sent from now on. */
	volt_broadcast_subscribe(room->b, &w.rx);
	err = volt_group_spawn(conns, &w.base, sizeof w);
	if (err) {
		volt_broadcast_unsubscribe(&w.rx);
		(void)volt_stream_close(s);
	} else if ((err = volt_group_spawn(conns, &rd.base, sizeof rd)) != 0) {
		hang_up(room, w.id, s); /* the writer ends too */
	}
	return err;
}

/* ---- main: options, the runtime, the room */

static int app(struct volt_rt *rt, void *arg)
{
	struct room *room = calloc(1, sizeof *room); /* about 300 KiB of message slots */
	int status;

	if (!room || pthread_mutex_init(&room->lock, NULL) != 0) {
		free(room);
		return 1;
	}
	if (volt_broadcast_new(HISTORY, &room->b) != 0) {
		pthread_mutex_destroy(&room->lock);
		free(room);
		return 1;
	}
	status = server_serve(rt, arg, start_client, room);
	volt_broadcast_free(room->b); /* no task uses the room any more */
	pthread_mutex_destroy(&room->lock);
	free(room);
	return status;
}

int main(int argc, char **argv)
{
	return server_main(argc, argv, NAME, DEFAULT_ADDR, app);
}
