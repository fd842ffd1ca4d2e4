/* SPDX-License-Identifier: MIT */
/*
 * experiments/lifo_chain.c: E6, LIFO starvation and long polls.
 *
 * CHAINS chains of HOPS tasks each. A token travels down a chain: hop k
 * waits for it, hands it to hop k+1 (a send that wakes hop k+1 from inside
 * hop k's poll, so the woken task lands in this worker's LIFO / run-next
 * slot), then keeps its worker POLL_US microseconds (a long poll). While it
 * spins, the woken hop waits in the slot: only its own worker takes it,
 * unless the policy lets a thief have the slot (`runnext`, on the last
 * steal pass) or the slot is off (VOLT_LIFO=0: the wake goes to the ring,
 * which an idle worker may steal). The last hop of each chain counts a latch
 * down. The suite sweeps VOLT_LIFO 0/1, VOLT_LIFO_MAX 1/3/255 and the
 * policies ring and runnext: Tokio #4941 (the slot is not stealable, an idle
 * worker watches a woken task wait behind a long poll) against #8065 (a
 * stealable slot moves hot tasks across cores and lost throughput).
 *
 * One iteration: spawn every hop (untimed) and wait until each has polled
 * once and waits for its token; then, timed on the main thread, send each
 * chain its token and wait for the last hops.
 *
 *	lifo_chain [--chains N] [--hops N] [--poll-us N] [--reps N] [--warmup N]
 *	           [--workers N]
 *	VOLT_SCHED=ring VOLT_LIFO=0 build/experiments/lifo_chain --poll-us 100
 *
 * Prints the harness protocol (experiments/README.md): per timed
 * repetition time_per_iter (us), hops_per_sec, time_per_hop (us, per chain),
 * utilisation (pct: spin time over workers x elapsed), then the deltas of
 * the runtime counters; then a '#' summary line. --workers, else
 * VOLT_WORKERS, else 2.
 *
 * No Tokio or Go peer: the sweep is over knobs neither exposes. Tokio 1.24
 * (the one Debian ships) can only switch its slot off with tokio_unstable,
 * has no limit to set and never lets a thief take the slot; Go's runnext
 * cannot be switched off or made unstealable.
 */
#define _GNU_SOURCE

#include <volt.h>

#include "handoff.h"
#include "proto.h"

#define DEFAULT_CHAINS 1
#define DEFAULT_HOPS 1000
#define DEFAULT_POLL_US 10
#define DEFAULT_REPS 10
#define DEFAULT_WARMUP 2
#define DEFAULT_WORKERS 2
#define TIMEOUT_S 30 /* a setup or an iteration taking longer fails the program */

struct opts {
	unsigned long chains, hops, poll_us, reps, warmup, workers;
};

static struct opts o = {
	DEFAULT_CHAINS, DEFAULT_HOPS, DEFAULT_POLL_US, DEFAULT_REPS, DEFAULT_WARMUP, 0,
};

/* ------------------------------------------------------------ the latch */

static struct proto_latch latch = PROTO_LATCH_INIT; /* chains still running */
static atomic_ulong registered; /* hops that polled once and wait */

/* ---------------------------------------------------------------- a hop */

struct hop {
	struct volt_future base;
	struct handoff *in;   /* our token arrives here */
	struct handoff *next; /* the next hop's, NULL for the last */
	struct handoff_recv rx;
};

static enum volt_poll hop_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct hop *h = (struct hop *)f;

	VOLT_BEGIN(f);
	atomic_fetch_add_explicit(&registered, 1, memory_order_relaxed);
	VOLT_AWAIT(f, cx, handoff_recv(&h->rx, h->in));
	h->in = NULL;
	if (h->next) {
		handoff_send(h->next, NULL); /* wakes the next hop into our slot */
		h->next = NULL;
		proto_spin_ns(o.poll_us * 1000); /* ... and keeps the worker meanwhile */
	} else {
		proto_spin_ns(o.poll_us * 1000);
		proto_latch_count_down(&latch, 1);
	}
	VOLT_END(f);
}

/* Only at shutdown after a failure: release the ends this hop still holds. */
static void hop_drop(struct volt_future *f)
{
	struct hop *h = (struct hop *)f;

	if (h->in && f->resume == 0)
		handoff_release(h->in); /* never polled: the receiver's end */
	if (h->next)
		handoff_release(h->next); /* the sender's end of the next */
	h->in = h->next = NULL;
}

static const struct volt_future_ops hop_ops = { .poll = hop_poll, .drop = hop_drop };

/* ------------------------------------------------------------ the driver */

static const struct proto_counter counters[] = {
	PROTO_COUNTER(lifo_hits), PROTO_COUNTER(steals_won), PROTO_COUNTER(tasks_stolen),
	PROTO_COUNTER(parks), PROTO_COUNTER(unparks), PROTO_COUNTER(noop_wakes),
	PROTO_COUNTER(global_pops),
};

/* One iteration: its nanoseconds, or a negative errno. */
static double one_iteration(struct volt_rt *rt, struct handoff **first,
			    struct volt_worker_metrics *m0, struct volt_worker_metrics *m1)
{
	unsigned long total = o.chains * o.hops;
	uint64_t deadline = proto_now_ns() + TIMEOUT_S * 1000000000ull, t0;
	int err;

	atomic_store(&registered, 0);
	proto_latch_arm(&latch, o.chains);
	/* Spawn each chain back to front: hop k gets its own handoff and the next one's. */
	for (unsigned long c = 0; c < o.chains; c++) {
		struct handoff *next = NULL;

		for (unsigned long k = o.hops; k-- > 0;) {
			struct hop h = { .base = VOLT_FUTURE_INIT(&hop_ops), .next = next };

			h.in = handoff_new();
			if (!h.in) {
				if (next)
					handoff_release(next);
				return -ENOMEM;
			}
			err = volt_spawn(rt, &h.base, sizeof h, NULL);
			if (err) {
				handoff_release(h.in);
				handoff_release(h.in);
				if (next)
					handoff_release(next);
				return err;
			}
			next = h.in; /* the previous hop sends on it */
		}
		first[c] = next;
	}
	while (atomic_load(&registered) < total) {
		if (proto_now_ns() > deadline)
			return -ETIMEDOUT;
		proto_nap();
	}

	volt_metrics_total(rt, m0);
	t0 = proto_now_ns();
	for (unsigned long c = 0; c < o.chains; c++)
		handoff_send(first[c], NULL);
	err = proto_latch_wait_for(&latch, TIMEOUT_S);
	t0 = proto_now_ns() - t0;
	volt_metrics_total(rt, m1);
	return err ? err : (double)t0;
}

static int app(struct volt_rt *rt, void *arg)
{
	unsigned workers = volt_rt_workers(rt);
	struct handoff **first = calloc(o.chains, sizeof *first);
	double *ns = calloc(o.reps, sizeof *ns);
	char stats[96];

	(void)arg;
	if (!first || !ns) {
		free(first);
		free(ns);
		return 1;
	}
	printf("# lifo_chain policy=%s workers=%u chains=%lu hops=%lu poll_us=%lu hop task %zu B\n",
	       volt_rt_scheduler(rt), workers, o.chains, o.hops, o.poll_us,
	       volt_task_size(sizeof(struct hop)));
	for (unsigned long r = 0; r < o.warmup + o.reps; r++) {
		struct volt_worker_metrics m0, m1;
		double t = one_iteration(rt, first, &m0, &m1);
		unsigned long rep = r + 1 - o.warmup;

		if (t < 0) {
			fprintf(stderr, "lifo_chain: %s\n", t == -ETIMEDOUT
				? "timed out (a chain or the setup took over 30 s)" : strerror((int)-t));
			free(first);
			free(ns);
			return 1;
		}
		if (r < o.warmup)
			continue;
		ns[rep - 1] = t;
		printf("result,%lu,time_per_iter,%.3f,us\n", rep, t / 1e3);
		printf("result,%lu,hops_per_sec,%.0f,count\n", rep, o.chains * o.hops / (t / 1e9));
		printf("result,%lu,time_per_hop,%.3f,us\n", rep, t / 1e3 / o.hops);
		printf("result,%lu,utilisation,%.1f,pct\n", rep,
		       100.0 * o.chains * o.hops * o.poll_us * 1e3 / (t * workers));
		proto_counters_print(rep, counters, PROTO_LEN(counters), &m0, &m1);
		fflush(stdout);
	}
	proto_summary(stats, sizeof stats, ns, o.reps);
	printf("# lifo_chain %s\n", stats);
	free(first);
	free(ns);
	return 0;
}

int main(int argc, char **argv)
{
	const struct proto_opt opts[] = {
		{ "--chains", &o.chains, 1, 100000000 },
		{ "--hops", &o.hops, 1, 100000000 },
		{ "--poll-us", &o.poll_us, 0, 100000000 },
		{ "--reps", &o.reps, 1, 100000000 },
		{ "--warmup", &o.warmup, 0, 100000000 },
		{ "--workers", &o.workers, 1, VOLT_MAX_WORKERS },
		{ NULL, NULL, 0, 0 },
	};
	struct volt_config cfg;
	int err;

	if (!proto_opts_parse(argc, argv, opts) || o.chains * o.hops > 10000000)
		goto usage;

	proto_malloc_setup();
	if (proto_config(&cfg, "lifo_chain", o.workers, DEFAULT_WORKERS))
		return 2;
	err = proto_run(&cfg, app, NULL, "lifo_chain");
	return err ? 1 : 0;

usage:
	fprintf(stderr,
		"usage: %s [--chains N] [--hops N] [--poll-us N] [--reps N] [--warmup N] [--workers N]\n"
		"  defaults: --chains %d --hops %d --poll-us %d --reps %d --warmup %d,\n"
		"  workers from --workers, else VOLT_WORKERS, else %d; chains x hops <= 10^7\n"
		"  VOLT_SCHED, VOLT_LIFO, VOLT_LIFO_MAX ... choose the policy and its knobs\n",
		argv[0], DEFAULT_CHAINS, DEFAULT_HOPS, DEFAULT_POLL_US, DEFAULT_REPS,
		DEFAULT_WARMUP, DEFAULT_WORKERS);
	return 2;
}
