/* SPDX-License-Identifier: MIT */
/*
 * process/signal.c: signal subscriptions (volt/signal.h).
 *
 * One signalfd per runtime, made on the first subscription, holds the
 * union of the signals subscribed on that runtime (replaced by a new one
 * when the union changes: see state_set_mask). It is an ordinary
 * stream source (drivers/source.h), so a dispatcher task reads it with
 * VOLT__OP_READ through whatever driver runs: read(2) after readiness on
 * epoll, IORING_OP_READ on io_uring. Each signalfd_siginfo record is fanned
 * out to every subscription whose set holds the signal.
 *
 * Subscription state. Per signal a count of deliveries not yet taken, and
 * a ring of the signals whose count went from 0 to 1, in arrival order: a
 * recv takes the ring's head and its whole count (coalescing, as the
 * kernel does while a signal is pending). The ring holds each signal at
 * most once, so it never overflows.
 *
 * Lifetimes. One process-wide lock (signals are rare) guards the list of
 * runtimes' states, each state and each subscription. A state is
 * referenced by its dispatcher and by every open subscription; a
 * subscription by its owner and by every recv future made on it, so a
 * recv never outlives what it points at. The dispatcher ends when its
 * read fails (the runtime closed the signalfd at shutdown) or when it is
 * dropped (shutdown cancels it): the state is then dead, leaves the list,
 * and its subscriptions answer -ESHUTDOWN; a later subscribe on a runtime
 * at the same address makes a fresh state. The runtime's own threads are
 * started with the set volt_signal_blockable() fills blocked
 * (core/runtime.c, core/blocking.c), so a process-directed signal is never
 * taken by one of them the ordinary way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/rt.h"
#include "core/waitlist.h"
#include "drivers/source.h"
#include "net/op.h"

#define SIG_LAST 64 /* the highest signal number Linux has (SIGRTMAX) */

struct sig_state {
	struct sig_state *next;   /* the list of live states */
	struct volt_rt *rt;
	struct volt_handle h;     /* the signalfd now, a stream source */
	unsigned refs;            /* the dispatcher (until dropped) + open subscriptions */
	bool dead;
	sigset_t mask;            /* the union the signalfd holds */
	unsigned nsubs[SIG_LAST + 1];
	struct volt_signal *subs;
};

struct volt_signal {
	struct volt_signal *prev, *next; /* in state->subs while open */
	struct sig_state *state;         /* NULL once closed */
	sigset_t set;
	int error;                       /* 0 open, -ECANCELED closed, -ESHUTDOWN dead */
	unsigned refs;                   /* the owner + recv futures */
	bool freed;                      /* the owner let go */
	uint32_t count[SIG_LAST + 1];    /* deliveries not yet taken */
	uint8_t ring[SIG_LAST + 1];      /* signals with a count, oldest first */
	unsigned head, len;
	struct volt_waitlist waiters;
};

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sig_state *states;

/* ------------------------------------------------------------ validity */

static bool never_blocked(int signo)
{
	switch (signo) {
	case SIGKILL: case SIGSTOP: /* cannot be caught */
	case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: /* go to the faulting thread */
	case SIGTRAP: case SIGSYS: case SIGABRT:
	case SIGPROF: /* profilers sample the running thread */
		return true;
	default:
		return false;
	}
}

bool volt_signal_valid(int signo)
{
	if (signo < 1 || signo > SIGRTMAX || signo > SIG_LAST)
		return false;
	if (signo >= 32 && signo < SIGRTMIN)
		return false; /* the C library's own (thread cancellation, setxid) */
	return !never_blocked(signo);
}

void volt_signal_blockable(sigset_t *set)
{
	sigemptyset(set);
	for (int signo = 1; signo <= SIG_LAST; signo++)
		if (volt_signal_valid(signo))
			sigaddset(set, signo);
}

/* ---------------------------------------------------------- references */

/* Under sig_lock. */
static void state_put(struct sig_state *st)
{
	if (--st->refs == 0)
		free(st);
}

/* Under sig_lock. */
static void sub_put(struct volt_signal *s)
{
	if (--s->refs == 0)
		free(s);
}

/* A new signalfd for mask, as a stream source of rt: 0 and *h, or -errno. */
static int signalfd_open(struct volt_rt *rt, const sigset_t *mask, struct volt_handle *h)
{
	int fd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	return volt__source_open(rt, fd, VOLT__SRC_STREAM, h); /* closes fd on error */
}

/*
 * The signalfd follows the union of the open subscriptions. A new one
 * replaces the old rather than signalfd(old_fd, mask): a read may be in
 * flight on the old one (on io_uring, in the kernel), and a descriptor
 * changing under a read is a race (ThreadSanitizer says so); the
 * dispatcher's read on the old one ends with -ECANCELED and it moves on to
 * st->h. Pending signals wait in the process, not in the descriptor, so
 * none is lost. 0 or -errno (the old signalfd then stays). Under sig_lock.
 */
static int state_set_mask(struct sig_state *st)
{
	struct volt_handle h;
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	for (int signo = 1; signo <= SIG_LAST; signo++)
		if (st->nsubs[signo])
			sigaddset(&mask, signo);
	ret = signalfd_open(st->rt, &mask, &h);
	if (ret)
		return ret;
	(void)volt__source_close(st->h);
	st->h = h;
	st->mask = mask;
	return 0;
}

/* Ends s with err and wakes its recvs; detaches it from its state. Under sig_lock. */
static void sub_end(struct volt_signal *s, int err, bool update_mask)
{
	struct sig_state *st = s->state;

	if (!s->error)
		s->error = err;
	if (st) {
		if (s->prev)
			s->prev->next = s->next;
		else
			st->subs = s->next;
		if (s->next)
			s->next->prev = s->prev;
		s->prev = s->next = NULL;
		for (int signo = 1; signo <= SIG_LAST; signo++)
			if (sigismember(&s->set, signo))
				st->nsubs[signo]--;
		if (update_mask)
			(void)state_set_mask(st); /* failing, the wider mask stays: harmless */
		s->state = NULL;
		state_put(st);
	}
	volt__waitlist_wake_all_locked(&s->waiters, 1);
}

/* ----------------------------------------------------------- dispatch */

/* One delivery of signo to every subscription of it. Under sig_lock. */
static void deliver(struct sig_state *st, int signo)
{
	if (signo < 1 || signo > SIG_LAST)
		return;
	for (struct volt_signal *s = st->subs; s; s = s->next) {
		if (!sigismember(&s->set, signo))
			continue;
		if (s->count[signo] == 0)
			s->ring[(s->head + s->len++) % (SIG_LAST + 1)] = (uint8_t)signo;
		if (s->count[signo] != UINT32_MAX)
			s->count[signo]++;
		volt__waitlist_wake_all_locked(&s->waiters, 1);
	}
}

#define DISPATCH_BATCH 8

struct dispatcher {
	struct volt_future base;
	struct sig_state *state;
	struct volt_handle h; /* the signalfd being read */
	struct volt_io_op op;
	struct signalfd_siginfo buf[DISPATCH_BATCH];
};

static enum volt_poll dispatcher_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct dispatcher *d = (struct dispatcher *)f;
	ssize_t n;

	VOLT_BEGIN(f);
	for (;;) {
		pthread_mutex_lock(&sig_lock);
		d->h = d->state->h;
		pthread_mutex_unlock(&sig_lock);
		VOLT_AWAIT(f, cx, volt__op_init(&d->op, d->h, VOLT__OP_READ, d->buf,
						sizeof(d->buf), NULL));
		n = d->op.result;
		if (n == -EAGAIN || n == -EINTR)
			continue;
		if (n <= 0) {
			bool replaced;

			pthread_mutex_lock(&sig_lock);
			replaced = d->state->h.index != d->h.index || d->state->h.gen != d->h.gen;
			pthread_mutex_unlock(&sig_lock);
			if (replaced)
				continue; /* a new mask: read the new signalfd */
			break; /* closed (shutdown) or failed: the state dies in the drop */
		}
		pthread_mutex_lock(&sig_lock);
		for (size_t i = 0; i < (size_t)n / sizeof(d->buf[0]); i++)
			deliver(d->state, (int)d->buf[i].ssi_signo);
		pthread_mutex_unlock(&sig_lock);
	}
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

/* The state dies with its dispatcher: out of the list, subscriptions ended. */
static void dispatcher_drop(struct volt_future *f)
{
	struct sig_state *st = ((struct dispatcher *)f)->state;

	pthread_mutex_lock(&sig_lock);
	st->dead = true;
	for (struct sig_state **p = &states; *p; p = &(*p)->next) {
		if (*p == st) {
			*p = st->next;
			break;
		}
	}
	while (st->subs)
		sub_end(st->subs, -ESHUTDOWN, false);
	(void)volt__source_close(st->h); /* closes the signalfd once the read lets go */
	state_put(st);
	pthread_mutex_unlock(&sig_lock);
}

static const struct volt_future_ops dispatcher_ops = { dispatcher_poll, dispatcher_drop };

/* rt's live state, made (with its signalfd and dispatcher) if needed. Under sig_lock. */
static int state_get(struct volt_rt *rt, struct sig_state **out)
{
	struct sig_state *st;
	struct dispatcher d;
	int ret;

	for (st = states; st; st = st->next) {
		if (st->rt == rt && !st->dead) {
			*out = st;
			return 0;
		}
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	sigemptyset(&st->mask);
	ret = signalfd_open(rt, &st->mask, &st->h);
	if (ret) {
		free(st);
		return ret;
	}
	st->rt = rt;
	st->refs = 1; /* the dispatcher's */
	memset(&d, 0, sizeof(d));
	volt_future_init(&d.base, &dispatcher_ops);
	d.state = st;
	ret = volt_spawn(rt, &d.base, sizeof(d), NULL);
	if (ret) {
		(void)volt__source_close(st->h);
		free(st);
		return ret;
	}
	st->next = states;
	states = st;
	*out = st;
	return 0;
}

/* --------------------------------------------------------- subscribing */

int volt_signal_subscribe(struct volt_rt *rt, const sigset_t *set, struct volt_signal **out)
{
	struct volt_signal *s;
	struct sig_state *st;
	bool any = false;
	int ret;

	if (!set || !out)
		return -EINVAL;
	rt = volt__rt_or_current(rt);
	if (!rt)
		return -EINVAL;
	for (int signo = 1; signo < NSIG; signo++) {
		if (sigismember(set, signo) != 1)
			continue;
		if (!volt_signal_valid(signo))
			return -EINVAL;
		any = true;
	}
	if (!any)
		return -EINVAL;
	if (!strcmp(volt_rt_driver(rt), "sim"))
		return -EOPNOTSUPP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->set = *set;
	s->refs = 1;
	/* blocked before the signalfd wants it: never the default action meanwhile */
	ret = -pthread_sigmask(SIG_BLOCK, set, NULL);
	if (ret) {
		free(s);
		return ret;
	}
	pthread_mutex_lock(&sig_lock);
	ret = state_get(rt, &st);
	if (!ret) {
		s->state = st;
		st->refs++;
		s->next = st->subs;
		if (st->subs)
			st->subs->prev = s;
		st->subs = s;
		for (int signo = 1; signo <= SIG_LAST; signo++)
			if (sigismember(set, signo) == 1)
				st->nsubs[signo]++;
		ret = state_set_mask(st);
		if (ret) /* no descriptor for the new mask: undo */
			sub_end(s, ret, false);
	}
	pthread_mutex_unlock(&sig_lock);
	if (ret) {
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int volt_signal_subscribe_list(struct volt_rt *rt, const int *signos, size_t n,
			       struct volt_signal **out)
{
	sigset_t set;

	if (!signos || !n)
		return -EINVAL;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++) {
		if (!volt_signal_valid(signos[i]))
			return -EINVAL;
		sigaddset(&set, signos[i]);
	}
	return volt_signal_subscribe(rt, &set, out);
}

void volt_signal_close(struct volt_signal *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&sig_lock);
	sub_end(s, -ECANCELED, true);
	pthread_mutex_unlock(&sig_lock);
}

void volt_signal_free(struct volt_signal *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&sig_lock);
	sub_end(s, -ECANCELED, true);
	if (!s->freed) {
		s->freed = true;
		sub_put(s);
	}
	pthread_mutex_unlock(&sig_lock);
}

/* ------------------------------------------------------------ receiving */

/* The oldest delivery, or s's error, or -EAGAIN. Under sig_lock. */
static int take(struct volt_signal *s, uint32_t *count)
{
	if (s->len) {
		int signo = s->ring[s->head];

		s->head = (s->head + 1) % (SIG_LAST + 1);
		s->len--;
		*count = s->count[signo];
		s->count[signo] = 0;
		return signo;
	}
	return s->error ? s->error : -EAGAIN;
}

int volt_signal_try_recv(struct volt_signal *s, uint32_t *count)
{
	uint32_t c = 0;
	int ret;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&sig_lock);
	ret = take(s, &c);
	pthread_mutex_unlock(&sig_lock);
	if (count)
		*count = c;
	return ret;
}

static enum volt_poll recv_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_signal_recv *r = (struct volt_signal_recv *)f;
	struct volt_signal *s = r->sub;
	enum volt_poll ready = VOLT_READY;
	int ret;

	if (!s) {
		r->result = -EINVAL;
		return VOLT_READY;
	}
	pthread_mutex_lock(&sig_lock);
	ret = take(s, &r->count);
	if (ret == -EAGAIN) {
		volt__waiter_set_waker(&r->waiter, &cx->waker);
		if (!r->waiter.linked)
			volt__waitlist_push(&s->waiters, &r->waiter);
		ready = VOLT_PENDING;
	} else {
		if (r->waiter.linked)
			volt__waitlist_remove(&s->waiters, &r->waiter);
		r->result = ret;
	}
	pthread_mutex_unlock(&sig_lock);
	return ready;
}

static void recv_drop(struct volt_future *f)
{
	struct volt_signal_recv *r = (struct volt_signal_recv *)f;

	if (!r->sub)
		return;
	pthread_mutex_lock(&sig_lock);
	if (r->waiter.linked)
		volt__waitlist_remove(&r->sub->waiters, &r->waiter);
	volt_waker_drop(&r->waiter.waker);
	sub_put(r->sub);
	r->sub = NULL;
	pthread_mutex_unlock(&sig_lock);
}

static const struct volt_future_ops recv_ops = { recv_poll, recv_drop };

struct volt_future *volt_signal_recv(struct volt_signal_recv *f, struct volt_signal *s)
{
	volt_future_init(&f->base, &recv_ops);
	f->sub = s;
	f->waiter = (struct volt_waiter){ 0 };
	f->count = 0;
	f->result = 0;
	if (s) {
		pthread_mutex_lock(&sig_lock);
		s->refs++;
		pthread_mutex_unlock(&sig_lock);
	}
	return &f->base;
}

int volt_signal_recv_blocking(struct volt_signal *s, volt_duration timeout, uint32_t *count)
{
	struct volt_signal_recv r;
	struct volt_timeout t;
	struct volt_rt *rt = NULL;
	int ret;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&sig_lock);
	if (s->state)
		rt = s->state->rt; /* alive while the state is: it dies before rt does */
	pthread_mutex_unlock(&sig_lock);
	if (!rt) {
		ret = volt_signal_try_recv(s, count); /* a delivery left, or the error */
		return ret == -EAGAIN ? -ECANCELED : ret;
	}
	(void)volt_signal_recv(&r, s);
	if (timeout.ns == UINT64_MAX)
		ret = volt_block_on(rt, &r.base, NULL);
	else
		ret = volt_block_on(rt, volt_timeout(&t, &r.base, timeout), NULL);
	if (ret) {
		volt_future_drop(&r.base); /* block_on refused: never owned it */
		return ret;
	}
	if (timeout.ns != UINT64_MAX && t.result)
		return t.result;
	if (count)
		*count = r.count;
	return r.result;
}
