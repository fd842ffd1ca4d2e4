/*
 * spawn_many.c: how long does it take to spawn and finish a small task?
 *
 * A root task (a stackless coroutine) spawns N detached children, each a
 * 32-byte future that counts down a shared counter and finishes. The child
 * that brings the counter to zero wakes the root, which is awaiting a
 * small "all done" future. The main thread only spawns the root and waits
 * for it, timing the whole round with CLOCK_MONOTONIC.
 *
 * With --remote the children are spawned from the main thread instead (the
 * injection path a non-worker thread takes); the root then only waits.
 *
 *	spawn_many [--tasks N] [--reps R] [--remote]
 *	VOLT_SCHED=global VOLT_WORKERS=2 build/examples/spawn_many
 *
 * The last line is one machine-readable record, the median over the reps.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <volt.h>

struct bench {
	unsigned long tasks;
	bool remote;
	atomic_ulong remaining;  /* children not yet finished */
	pthread_mutex_t lock;    /* guards waker and the zero check */
	struct volt_waker waker; /* the waiting root, empty if none */
	int err;                 /* first spawn error, 0 if none */
};

/* Takes n off the counter; whoever reaches zero wakes the waiter. */
static void count_down(struct bench *b, unsigned long n)
{
	struct volt_waker w;

	if (atomic_fetch_sub(&b->remaining, n) != n)
		return;
	pthread_mutex_lock(&b->lock);
	w = b->waker;
	b->waker.ops = NULL;
	pthread_mutex_unlock(&b->lock);
	if (w.ops)
		volt_waker_wake(&w);
}

/* ---- a child: one countdown step, then done */

struct child {
	struct volt_future base;
	struct bench *b;
};

static enum volt_poll child_poll(struct volt_future *f, struct volt_cx *cx)
{
	(void)cx;
	count_down(((struct child *)f)->b, 1);
	return VOLT_READY;
}

static const struct volt_future_ops child_ops = { .poll = child_poll };

static int spawn_children(struct bench *b, struct volt_rt *rt)
{
	struct child c = { .base = VOLT_FUTURE_INIT(&child_ops), .b = b };

	for (unsigned long i = 0; i < b->tasks; i++) {
		int err = volt_spawn(rt, &c.base, sizeof c, NULL);

		if (err) {
			b->err = err;
			count_down(b, b->tasks - i); /* the ones never spawned */
			return err;
		}
	}
	return 0;
}

/* ---- "all done": ready once the counter is zero */

struct all_done {
	struct volt_future base;
	struct bench *b;
};

static enum volt_poll all_done_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct bench *b = ((struct all_done *)f)->b;
	bool done;

	/* Checked under the lock count_down takes: no wakeup is lost. */
	pthread_mutex_lock(&b->lock);
	done = atomic_load(&b->remaining) == 0;
	if (!done && !(b->waker.ops && volt_waker_will_wake(&b->waker, &cx->waker))) {
		volt_waker_drop(&b->waker);
		b->waker = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&b->lock);
	return done ? VOLT_READY : VOLT_PENDING;
}

static void all_done_drop(struct volt_future *f)
{
	struct bench *b = ((struct all_done *)f)->b;

	pthread_mutex_lock(&b->lock);
	volt_waker_drop(&b->waker);
	pthread_mutex_unlock(&b->lock);
}

static const struct volt_future_ops all_done_ops = {
	.poll = all_done_poll,
	.drop = all_done_drop,
};

static struct volt_future *all_done(struct all_done *d, struct bench *b)
{
	volt_future_init(&d->base, &all_done_ops);
	d->b = b;
	return &d->base;
}

/* ---- the root task */

struct root {
	struct volt_future base;
	struct bench *b;
	struct all_done done;
};

static enum volt_poll root_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct root *r = (struct root *)f;

	VOLT_BEGIN(f);
	if (!r->b->remote)
		spawn_children(r->b, cx->rt);
	VOLT_AWAIT(f, cx, all_done(&r->done, r->b));
	VOLT_END(f);
}

static const struct volt_future_ops root_ops = { .poll = root_poll };

/* ---- main */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One round: returns nanoseconds per task, or a negative errno. */
static double one_round(struct volt_rt *rt, struct bench *b)
{
	struct root r = { .base = VOLT_FUTURE_INIT(&root_ops), .b = b };
	struct volt_join *join;
	double t0 = now_ns();
	int err;

	atomic_store(&b->remaining, b->tasks);
	b->err = 0;
	err = volt_spawn(rt, &r.base, sizeof r, &join);
	if (err)
		return err;
	if (b->remote)
		spawn_children(b, rt);
	err = volt_join_wait(join, NULL);
	if (err)
		return err;
	if (b->err)
		return b->err;
	return (now_ns() - t0) / (double)b->tasks;
}

struct opts {
	unsigned long tasks, reps;
	bool remote;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int app(struct volt_rt *rt, void *arg)
{
	const struct opts *o = arg;
	struct bench b = { .tasks = o->tasks, .remote = o->remote };
	double *ns = calloc(o->reps, sizeof *ns);
	size_t child_bytes = volt_task_size(sizeof(struct child));

	if (!ns)
		return -ENOMEM;
	pthread_mutex_init(&b.lock, NULL);
	printf("policy %s, %u workers, %lu tasks spawned from %s\n", volt_rt_scheduler(rt),
	       volt_rt_workers(rt), b.tasks, b.remote ? "the main thread" : "a task");
	printf("task: %zu-byte future + %d-byte header -> %zu bytes allocated\n",
	       sizeof(struct child), VOLT_TASK_HEADER_SIZE, child_bytes);

	for (unsigned long i = 0; i < o->reps; i++) {
		ns[i] = one_round(rt, &b);
		if (ns[i] < 0) {
			fprintf(stderr, "spawn_many: %s\n", strerror((int)-ns[i]));
			free(ns);
			pthread_mutex_destroy(&b.lock);
			return 1;
		}
		printf("rep %lu: %.1f ns per spawn+complete\n", i + 1, ns[i]);
	}
	qsort(ns, o->reps, sizeof *ns, cmp_double);
	printf("spawn_many policy=%s workers=%u mode=%s tasks=%lu reps=%lu task_bytes=%zu "
	       "ns_per_task=%.1f min_ns_per_task=%.1f\n",
	       volt_rt_scheduler(rt), volt_rt_workers(rt), b.remote ? "remote" : "local",
	       b.tasks, o->reps, child_bytes, ns[o->reps / 2], ns[0]);
	free(ns);
	pthread_mutex_destroy(&b.lock);
	return 0;
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s ? s : "", &end, 10);
	return s && *s && !*end && !errno && *out > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .tasks = 1000000, .reps = 1 };
	struct volt_config cfg;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--remote")) {
			o.remote = true;
		} else if (!strcmp(argv[i], "--tasks") && i + 1 < argc) {
			if (parse_count(argv[++i], &o.tasks))
				goto usage;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			if (parse_count(argv[++i], &o.reps))
				goto usage;
		} else {
			goto usage;
		}
	}

	err = volt_config_init(&cfg); /* VOLT_SCHED, VOLT_WORKERS, ... */
	if (err) {
		fprintf(stderr, "spawn_many: bad VOLT_* environment variable\n");
		return 2;
	}
	err = volt_run_with(&cfg, app, &o);
	if (err < 0)
		fprintf(stderr, "spawn_many: runtime: %s\n", strerror(-err));
	return err == 0 ? 0 : 1;

usage:
	fprintf(stderr, "usage: %s [--tasks N] [--reps R] [--remote]\n"
			"  VOLT_SCHED=<policy> VOLT_WORKERS=<n> choose the runtime\n", argv[0]);
	return 2;
}
