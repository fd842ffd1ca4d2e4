/*
 * ping_pong.c: what does one wake-up and hand-off between two tasks cost?
 *
 * N pairs of stackless tasks (written with the coroutine macros) bounce a
 * counter back and forth R times. Each direction of a pair is a one-slot
 * mailbox written here, since channels do not exist yet: a value, a "full"
 * flag and the waker of the one task that reads it, under a mutex. `put`
 * fills the slot and wakes the reader; `take` is a future that is ready
 * when the slot is full and otherwise stores the reader's waker.
 *
 * A round trip is ping -> pong -> ping: two puts, two wakes and two polls.
 * The wake happens on the worker that runs the writer, so with the LIFO slot
 * (the default of the `ring` policy) the woken task usually runs next on
 * that same worker; without it, it waits in the run queue, where an idle
 * worker may steal it. docs/trace.md reads the traces of both.
 *
 *	ping_pong [--pairs N] [--rounds R]
 *	VOLT_SCHED=ring VOLT_WORKERS=2 VOLT_LIFO=0 build/examples/ping_pong
 *	VOLT_TRACE=pp.json VOLT_TRACE_EVENTS=1048576 build/examples/ping_pong --rounds 2000
 *
 * The last line is one machine-readable record.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <volt.h>

/* ---- a one-slot mailbox with one reader */

struct mailbox {
	pthread_mutex_t lock;
	bool full;
	unsigned long value;
	struct volt_waker reader; /* the waiting reader, ops NULL if none */
};

static void mailbox_init(struct mailbox *mb)
{
	pthread_mutex_init(&mb->lock, NULL);
	mb->full = false;
	mb->value = 0;
	mb->reader.ops = NULL;
}

static void mailbox_destroy(struct mailbox *mb)
{
	volt_waker_drop(&mb->reader);
	pthread_mutex_destroy(&mb->lock);
}

/* Fills the slot and wakes the reader. -EAGAIN if the slot is still full. */
static int mailbox_put(struct mailbox *mb, unsigned long v)
{
	struct volt_waker w;

	pthread_mutex_lock(&mb->lock);
	if (mb->full) {
		pthread_mutex_unlock(&mb->lock);
		return -EAGAIN;
	}
	mb->value = v;
	mb->full = true;
	w = mb->reader;
	mb->reader.ops = NULL;
	pthread_mutex_unlock(&mb->lock);
	if (w.ops)
		volt_waker_wake(&w); /* outside the lock: the reader may run at once */
	return 0;
}

struct take {
	struct volt_future base;
	struct mailbox *mb;
	unsigned long value; /* the value taken, once ready */
};

static enum volt_poll take_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct take *t = (struct take *)f;
	struct mailbox *mb = t->mb;

	/* A ready mailbox is an operation that could keep a task busy: budget it. */
	if (!volt_budget_take(cx)) {
		volt_waker_wake_by_ref(&cx->waker);
		return VOLT_PENDING;
	}
	pthread_mutex_lock(&mb->lock);
	if (mb->full) {
		t->value = mb->value;
		mb->full = false;
		pthread_mutex_unlock(&mb->lock);
		return VOLT_READY;
	}
	if (!mb->reader.ops || !volt_waker_will_wake(&mb->reader, &cx->waker)) {
		volt_waker_drop(&mb->reader);
		mb->reader = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&mb->lock);
	return VOLT_PENDING;
}

/* One reader per mailbox: whatever waker is stored is ours to drop. */
static void take_drop(struct volt_future *f)
{
	struct mailbox *mb = ((struct take *)f)->mb;

	pthread_mutex_lock(&mb->lock);
	volt_waker_drop(&mb->reader);
	pthread_mutex_unlock(&mb->lock);
}

static const struct volt_future_ops take_ops = { .poll = take_poll, .drop = take_drop };

static struct volt_future *mailbox_take(struct take *t, struct mailbox *mb)
{
	volt_future_init(&t->base, &take_ops);
	t->mb = mb;
	t->value = 0;
	return &t->base;
}

/* ---- one pair */

struct pair {
	struct mailbox to_pong, to_ping;
	unsigned long rounds;
	unsigned long errors; /* values that came back wrong (written by ping only) */
};

struct player {
	struct volt_future base;
	struct pair *p;
	unsigned long i;
	struct take rx;
};

static enum volt_poll ping_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct player *me = (struct player *)f;
	struct pair *p = me->p;

	VOLT_BEGIN(f);
	for (me->i = 0; me->i < p->rounds; me->i++) {
		if (mailbox_put(&p->to_pong, me->i))
			p->errors++;
		VOLT_AWAIT(f, cx, mailbox_take(&me->rx, &p->to_ping));
		if (me->rx.value != me->i + 1)
			p->errors++;
	}
	VOLT_END(f);
}

static enum volt_poll pong_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct player *me = (struct player *)f;
	struct pair *p = me->p;

	VOLT_BEGIN(f);
	for (me->i = 0; me->i < p->rounds; me->i++) {
		VOLT_AWAIT(f, cx, mailbox_take(&me->rx, &p->to_pong));
		mailbox_put(&p->to_ping, me->rx.value + 1);
	}
	VOLT_END(f);
}

static const struct volt_future_ops ping_ops = { .poll = ping_poll };
static const struct volt_future_ops pong_ops = { .poll = pong_poll };

/* ---- main */

struct opts {
	unsigned long pairs, rounds;
	bool lifo;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int app(struct volt_rt *rt, void *arg)
{
	const struct opts *o = arg;
	struct pair *pairs = calloc(o->pairs, sizeof *pairs);
	struct volt_join **joins = calloc(2 * o->pairs, sizeof *joins);
	struct volt_worker_metrics m;
	unsigned long spawned = 0, errors = 0;
	int err = 0;
	double t0, ns;

	if (!pairs || !joins) {
		free(pairs);
		free(joins);
		return -ENOMEM;
	}
	for (unsigned long i = 0; i < o->pairs; i++) {
		mailbox_init(&pairs[i].to_pong);
		mailbox_init(&pairs[i].to_ping);
		pairs[i].rounds = o->rounds;
	}

	t0 = now_ns();
	for (unsigned long i = 0; i < o->pairs && !err; i++) {
		struct player pong = { .base = VOLT_FUTURE_INIT(&pong_ops), .p = &pairs[i] };
		struct player ping = { .base = VOLT_FUTURE_INIT(&ping_ops), .p = &pairs[i] };

		err = volt_spawn(rt, &pong.base, sizeof pong, &joins[spawned]);
		if (err)
			break;
		spawned++;
		err = volt_spawn(rt, &ping.base, sizeof ping, &joins[spawned]);
		if (!err)
			spawned++;
	}
	if (err) /* the pairs already started cannot finish without their partner */
		for (unsigned long i = 0; i < spawned; i++)
			volt_join_cancel(joins[i]);
	for (unsigned long i = 0; i < spawned; i++)
		volt_join_wait(joins[i], NULL);
	ns = now_ns() - t0;

	for (unsigned long i = 0; i < o->pairs; i++) {
		errors += pairs[i].errors;
		mailbox_destroy(&pairs[i].to_pong);
		mailbox_destroy(&pairs[i].to_ping);
	}
	free(pairs);
	free(joins);
	if (err) {
		fprintf(stderr, "ping_pong: spawn: %s\n", strerror(-err));
		return 1;
	}
	if (errors) {
		fprintf(stderr, "ping_pong: %lu values came back wrong\n", errors);
		return 1;
	}

	volt_metrics_total(rt, &m);
	printf("policy %s, %u workers, LIFO slot %s, %lu pairs x %lu round trips\n",
	       volt_rt_scheduler(rt), volt_rt_workers(rt), o->lifo ? "on" : "off", o->pairs,
	       o->rounds);
	printf("%.1f ns per round trip (all pairs together), %.1f ns per round trip of one pair\n",
	       ns / ((double)o->pairs * o->rounds), ns / o->rounds);
	printf("polls %llu, LIFO hits %llu, steals %llu of %llu tried (%llu tasks), "
	       "parks %llu, unparks %llu\n",
	       (unsigned long long)m.polls, (unsigned long long)m.lifo_hits,
	       (unsigned long long)m.steals_won, (unsigned long long)m.steals_tried,
	       (unsigned long long)m.tasks_stolen, (unsigned long long)m.parks,
	       (unsigned long long)m.unparks);
	printf("polls per worker:");
	for (unsigned w = 0; w < volt_rt_workers(rt); w++) {
		struct volt_worker_metrics one;

		volt_metrics_worker(rt, w, &one);
		printf(" %llu", (unsigned long long)one.polls);
	}
	printf("\n");
	printf("ping_pong policy=%s workers=%u lifo=%d pairs=%lu rounds=%lu "
	       "ns_per_round_trip=%.1f ns_per_round_trip_per_pair=%.1f\n",
	       volt_rt_scheduler(rt), volt_rt_workers(rt), o->lifo, o->pairs, o->rounds,
	       ns / ((double)o->pairs * o->rounds), ns / o->rounds);
	return 0;
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s ? s : "", &end, 10);
	return s && *s && *s != '-' && !*end && !errno && *out > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .pairs = 4, .rounds = 100000 };
	struct volt_config cfg;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pairs") && i + 1 < argc) {
			if (parse_count(argv[++i], &o.pairs))
				goto usage;
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			if (parse_count(argv[++i], &o.rounds))
				goto usage;
		} else {
			goto usage;
		}
	}

	err = volt_config_init(&cfg); /* VOLT_SCHED, VOLT_WORKERS, VOLT_LIFO, VOLT_TRACE ... */
	if (err) {
		fprintf(stderr, "ping_pong: bad VOLT_* environment variable\n");
		return 2;
	}
	o.lifo = cfg.lifo;
	err = volt_run_with(&cfg, app, &o);
	if (err < 0)
		fprintf(stderr, "ping_pong: runtime: %s\n", strerror(-err));
	return err == 0 ? 0 : 1;

usage:
	fprintf(stderr, "usage: %s [--pairs N] [--rounds R]\n"
			"  VOLT_SCHED=<policy> VOLT_WORKERS=<n> VOLT_LIFO=0|1 choose the runtime,\n"
			"  VOLT_TRACE=<file> writes a scheduling trace at exit\n", argv[0]);
	return 2;
}
