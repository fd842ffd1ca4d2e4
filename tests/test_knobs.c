/* SPDX-License-Identifier: MIT */
/*
 * tests/test_knobs.c: the scheduling knobs change what the runtime does,
 * under every policy: the LIFO slot (hits when on, none when off), idle
 * policies that never park, a self-tuned global interval, a searching cap
 * of one, a steal batch of one. Each run must also complete every task.
 */
#include <stdlib.h>

#include "helpers.h"

#define ROUNDS VT_SCALE(20000)

/* A one-value mailbox: send stores and wakes; recv waits for a value. */
struct mailbox {
	pthread_mutex_t lock;
	bool full;
	struct volt_waker waker;
};

static void mailbox_send(struct mailbox *m)
{
	struct volt_waker w = { NULL, NULL };

	pthread_mutex_lock(&m->lock);
	m->full = true;
	w = m->waker;
	m->waker.ops = NULL;
	pthread_mutex_unlock(&m->lock);
	if (w.ops)
		volt_waker_wake(&w);
}

struct recv_future {
	struct volt_future base;
	struct mailbox *m;
};

static enum volt_poll recv_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct mailbox *m = ((struct recv_future *)f)->m;
	enum volt_poll r = VOLT_PENDING;

	pthread_mutex_lock(&m->lock);
	if (m->full) {
		m->full = false;
		r = VOLT_READY;
	} else if (!m->waker.ops) {
		m->waker = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

static const struct volt_future_ops recv_ops = { .poll = recv_poll };

/* One side of a ping-pong pair: (send to peer, receive from own box) x ROUNDS. */
struct player {
	struct volt_future base;
	struct mailbox *mine, *peer;
	int i;
	bool serve; /* sends first */
	struct recv_future rf;
};

static enum volt_poll player_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct player *p = (struct player *)f;

	VOLT_BEGIN(f);
	for (p->i = 0; p->i < ROUNDS; p->i++) {
		if (p->serve)
			mailbox_send(p->peer);
		volt_future_init(&p->rf.base, &recv_ops);
		p->rf.m = p->mine;
		VOLT_AWAIT(f, cx, &p->rf.base);
		if (!p->serve)
			mailbox_send(p->peer);
	}
	VOLT_RETURN(f, cx, p->i);
	VOLT_END(f);
}

static const struct volt_future_ops player_ops = { .poll = player_poll };

/* Runs one ping-pong pair on a runtime made from cfg; returns the summed metrics. */
static struct volt_worker_metrics ping_pong(struct volt_config *cfg)
{
	struct mailbox a = { PTHREAD_MUTEX_INITIALIZER, false, { NULL, NULL } };
	struct mailbox b = { PTHREAD_MUTEX_INITIALIZER, false, { NULL, NULL } };
	struct player pa = { .base = VOLT_FUTURE_INIT(&player_ops), .mine = &a, .peer = &b,
			     .serve = true };
	struct player pb = { .base = VOLT_FUTURE_INIT(&player_ops), .mine = &b, .peer = &a,
			     .serve = false };
	struct volt_rt *rt;
	struct volt_join *ja, *jb;
	struct volt_worker_metrics m;

	CHECK_OK(volt_rt_new(cfg, &rt));
	CHECK_OK(volt_spawn(rt, &pa.base, sizeof pa, &ja));
	CHECK_OK(volt_spawn(rt, &pb.base, sizeof pb, &jb));
	CHECK_PTR_EQ(vt_join(ja), (void *)(intptr_t)ROUNDS);
	CHECK_PTR_EQ(vt_join(jb), (void *)(intptr_t)ROUNDS);
	volt_metrics_total(rt, &m);
	volt_rt_free(rt);
	return m;
}

static bool has_lifo_slot(const char *policy)
{
	return !strcmp(policy, "ring") || !strcmp(policy, "runnext") || !strcmp(policy, "numa");
}

VOLT_RT_TEST(knob_lifo_on_off)
{
	struct volt_config cfg;
	struct volt_worker_metrics m;

	vt_cfg(&cfg, policy, 2);
	cfg.lifo = false;
	cfg.park_spin_ns = 0; /* and idle workers sleep at once */
	m = ping_pong(&cfg);
	CHECK_UEQ(m.lifo_hits, 0);

	vt_cfg(&cfg, policy, 2);
	cfg.lifo = true;
	m = ping_pong(&cfg);
	if (has_lifo_slot(policy))
		CHECK_GT(m.lifo_hits, 0);
	else if (strcmp(policy, "lab") != 0) /* a student's (docs/teaching/): either */
		CHECK_UEQ(m.lifo_hits, 0);
	printf("  %s: %llu of %llu polls from the LIFO slot\n", policy,
	       (unsigned long long)m.lifo_hits, (unsigned long long)m.polls);
}

VOLT_RT_TEST(knob_idle_never_parks)
{
	static const enum volt_idle modes[] = { VOLT_IDLE_SPIN, VOLT_IDLE_YIELD };

	for (int i = 0; i < 2; i++) {
		struct volt_config cfg;

		vt_cfg(&cfg, policy, 2);
		cfg.idle = modes[i];
		struct volt_worker_metrics m = ping_pong(&cfg);

		CHECK_UEQ(m.parks, 0);
	}
}

VOLT_RT_TEST(knob_self_tuned_interval_and_caps)
{
	struct volt_config cfg;
	struct volt_worker_metrics m;

	vt_cfg(&cfg, policy, 4);
	cfg.global_interval = 0; /* self-tuned */
	cfg.event_interval = 7;
	cfg.max_searching = 1;
	cfg.steal_batch = 1;
	m = ping_pong(&cfg);
	CHECK_LE(m.tasks_stolen, m.steals_won); /* a batch of one: one task per steal */
}
