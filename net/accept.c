/* SPDX-License-Identifier: MIT */
/*
 * net/accept.c: accepting connections, and what a listener does at its
 * descriptor limit.
 *
 * EMFILE and ENFILE are not the connection's fault and do not go away by
 * retrying at once: a loop that retries spins at 100% CPU while the backlog
 * grows (reference/reliability.md, section 3). The accept future instead
 *  1. spends the listener's reserve descriptor (opened with the listener):
 *     closes it, accepts the connection at the head of the backlog, shuts
 *     that down at once and reopens the reserve, so the client sees a
 *     prompt close rather than a hang (libuv's uv__emfile_trick). The shed
 *     socket is closed only once the reserve is back in another slot;
 *     while the process is still at its limit it stays, shut down, as the
 *     reserve. Closing it first would free a slot that any thread's
 *     accept or open could take before the reopen, losing the reserve and
 *     with it all further shedding;
 *  2. sleeps 10 ms, doubling up to 1 s, before trying again (Go's
 *     net/http); the first success resets the wait.
 * A listener closed during the sleep is seen when it ends (at most 1 s):
 * the retry finds the handle stale, and the future completes with
 * -ECANCELED, as it does when the close comes during the accept itself.
 * Other errors (ECONNABORTED...) belong to one connection and are returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/rt.h"
#include "drivers/source.h"
#include "net/op.h"

#define BACKOFF_MIN_NS 10000000ull
#define BACKOFF_MAX_NS 1000000000ull

static bool out_of_descriptors(ssize_t err)
{
	return err == -EMFILE || err == -ENFILE;
}

static int shed_one(struct volt__source *s, void *arg)
{
	int c;

	(void)arg;
	pthread_mutex_lock(&s->lock);
	if (s->reserve_fd >= 0) {
		close(s->reserve_fd);
		s->reserve_fd = -1;
	}
	c = VOLT__SYS(s->rt, accept4, s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (c >= 0)
		(void)VOLT__SYS(s->rt, shutdown, c, SHUT_RDWR); /* the client sees its close now */
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c >= 0 && s->reserve_fd < 0)
		s->reserve_fd = c; /* still at the limit: it keeps the slot */
	else if (c >= 0)
		(void)VOLT__SYS(s->rt, close, c);
	pthread_mutex_unlock(&s->lock);
	return c >= 0;
}

/* Spends the reserve on the head of l's backlog: 1 if one was shed. */
static int shed(struct volt_handle l)
{
	return volt__with_source(l, shed_one, NULL) == 1;
}

int volt_accept_try(struct volt_listener l, struct volt_stream *out, struct volt_addr *peer)
{
	ssize_t fd;

	if (!out)
		return -EINVAL;
	fd = volt__op_try(l.h, VOLT__OP_ACCEPT, NULL, 0, peer);
	if (fd < 0)
		return (int)fd;
	return volt__source_open(l.h.rt, (int)fd, VOLT__SRC_STREAM, &out->h);
}

static void arm_op(struct volt_accept *f)
{
	struct volt_addr *peer = f->op.addr;

	(void)volt__op_init(&f->op, f->op.h, VOLT__OP_ACCEPT, NULL, 0, peer);
	f->op.accepted = &f->out->h;
}

static enum volt_poll accept_poll(struct volt_future *fut, struct volt_cx *cx)
{
	struct volt_accept *f = (struct volt_accept *)fut;

	for (;;) {
		if (f->waiting) {
			if (volt_future_poll(&f->backoff.base, cx) == VOLT_PENDING)
				return VOLT_PENDING;
			volt_future_drop(&f->backoff.base);
			f->waiting = false;
			arm_op(f);
		}
		if (volt_future_poll(&f->op.base, cx) == VOLT_PENDING)
			return VOLT_PENDING;
		if (f->op.result == -EBADF && f->backoff_ns)
			f->op.result = -ECANCELED; /* valid at the last try: closed since */
		if (!out_of_descriptors(f->op.result)) {
			if (f->op.result >= 0)
				f->backoff_ns = 0;
			return VOLT_READY;
		}
		f->shed += (uint32_t)shed(f->op.h);
		f->backoff_ns = f->backoff_ns ? f->backoff_ns * 2 : BACKOFF_MIN_NS;
		if (f->backoff_ns > BACKOFF_MAX_NS)
			f->backoff_ns = BACKOFF_MAX_NS;
		(void)volt_sleep(&f->backoff, volt_ns(f->backoff_ns));
		f->waiting = true;
	}
}

static void accept_drop(struct volt_future *fut)
{
	struct volt_accept *f = (struct volt_accept *)fut;

	if (f->waiting) {
		volt_future_drop(&f->backoff.base);
		f->waiting = false;
	}
	volt_future_drop(&f->op.base);
}

static const struct volt_future_ops accept_ops = { accept_poll, accept_drop };

struct volt_future *volt_accept(struct volt_accept *f, struct volt_listener l,
				struct volt_stream *out, struct volt_addr *peer)
{
	volt_future_init(&f->base, &accept_ops);
	(void)volt__op_init(&f->op, l.h, VOLT__OP_ACCEPT, NULL, 0, peer);
	f->op.accepted = out ? &out->h : NULL;
	if (!out) {
		f->op.result = -EINVAL;
		f->op.flags = VOLT__OPF_STARTED | VOLT__OPF_DONE;
	}
	f->backoff_ns = 0;
	f->waiting = false;
	f->out = out;
	f->shed = 0;
	return &f->base;
}

int volt_accept_blocking(struct volt_listener l, struct volt_stream *out,
			 struct volt_addr *peer, volt_duration timeout)
{
	struct volt_accept f;
	ssize_t ret;

	(void)volt_accept(&f, l, out, peer);
	ret = volt__op_block(l.h.rt, &f.base, timeout, &f.op.result);
	return (int)ret;
}
