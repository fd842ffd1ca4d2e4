/* SPDX-License-Identifier: MIT */
/* tests/helpers.c: see helpers.h. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

bool vt_is_sim(const char *policy)
{
	return policy && strcmp(policy, "sim") == 0;
}

unsigned vt_workers(const char *policy, unsigned n)
{
	return vt_is_sim(policy) ? 1 : n;
}

void vt_cfg(struct volt_config *cfg, const char *policy, unsigned workers)
{
	CHECK_OK(volt_config_init(cfg));
	cfg->workers = vt_workers(policy, workers);
}

struct volt_rt *vt_rt_new(const char *policy, unsigned workers)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;

	vt_cfg(&cfg, policy, workers);
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK(rt != NULL);
	if (policy)
		CHECK_STR_EQ(volt_rt_scheduler(rt), policy);
	snprintf(vt_fail_note, sizeof vt_fail_note,
		 "runtime seed %" PRIu64 " (replay: VOLT_SEED=%" PRIu64 ")", volt_rt_seed(rt),
		 volt_rt_seed(rt));
	return rt;
}

void vt_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct volt_join *vt_spawn(struct volt_rt *rt, const void *fut, size_t size, bool detached)
{
	struct volt_join *j = NULL;

	CHECK_OK(volt_spawn(rt, (const struct volt_future *)fut, size, detached ? NULL : &j));
	if (!detached)
		CHECK(j != NULL);
	return j;
}

void *vt_join(struct volt_join *j)
{
	void *out = (void *)(intptr_t)-12345;

	CHECK_OK(volt_join_wait(j, &out));
	return out;
}

/* ---- blocker */

static enum volt_poll blocker_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vt_blocker *b = (struct vt_blocker *)f;

	(void)cx;
	atomic_store(b->started, true);
	while (!atomic_load(b->release))
		sched_yield();
	return VOLT_READY;
}

static const struct volt_future_ops blocker_ops = { blocker_poll, NULL };

void vt_blocker_init(struct vt_blocker *b, atomic_bool *started, atomic_bool *release)
{
	*b = (struct vt_blocker){ VOLT_FUTURE_INIT(&blocker_ops), started, release };
}

/* ---- gate */

static void list_del(struct volt_waiter *w)
{
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->linked = 0;
}

void vt_gate_init(struct vt_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	atomic_init(&g->open, false);
	g->head.prev = g->head.next = &g->head;
	atomic_init(&g->waiting, 0);
}

void vt_gate_open(struct vt_gate *g)
{
	struct volt_waker *wakers = NULL;
	size_t n = 0, cap = 0;

	/*
	 * Move the wakers out under the lock, wake them after it: once a waiter
	 * is unlinked its future may be dropped (and freed) at any moment.
	 */
	pthread_mutex_lock(&g->lock);
	atomic_store(&g->open, true);
	while (g->head.next != &g->head) {
		struct volt_waiter *w = g->head.next;

		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			wakers = realloc(wakers, cap * sizeof *wakers);
			CHECK(wakers != NULL);
		}
		wakers[n++] = w->waker;
		w->waker.ops = NULL;
		list_del(w);
		atomic_fetch_sub(&g->waiting, 1);
	}
	pthread_mutex_unlock(&g->lock);
	for (size_t i = 0; i < n; i++)
		volt_waker_wake(&wakers[i]);
	free(wakers);
}

void vt_gate_destroy(struct vt_gate *g)
{
	CHECK(g->head.next == &g->head);
	pthread_mutex_destroy(&g->lock);
}

static enum volt_poll gate_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vt_gate_wait *w = (struct vt_gate_wait *)f;
	struct vt_gate *g = w->gate;

	pthread_mutex_lock(&g->lock);
	if (atomic_load(&g->open)) {
		/* open() unlinked us if we were linked */
		pthread_mutex_unlock(&g->lock);
		return VOLT_READY;
	}
	if (!w->waiter.linked) {
		w->waiter.waker = volt_waker_clone(&cx->waker);
		w->waiter.prev = g->head.prev;
		w->waiter.next = &g->head;
		g->head.prev->next = &w->waiter;
		g->head.prev = &w->waiter;
		w->waiter.linked = 1;
		atomic_fetch_add(&g->waiting, 1);
	} else if (!volt_waker_will_wake(&w->waiter.waker, &cx->waker)) {
		volt_waker_drop(&w->waiter.waker);
		w->waiter.waker = volt_waker_clone(&cx->waker);
	}
	pthread_mutex_unlock(&g->lock);
	return VOLT_PENDING;
}

static void gate_drop(struct volt_future *f)
{
	struct vt_gate_wait *w = (struct vt_gate_wait *)f;
	struct volt_waker waker = { NULL, NULL };

	pthread_mutex_lock(&w->gate->lock);
	if (w->waiter.linked) {
		waker = w->waiter.waker;
		w->waiter.waker.ops = NULL;
		list_del(&w->waiter);
		atomic_fetch_sub(&w->gate->waiting, 1);
	}
	pthread_mutex_unlock(&w->gate->lock);
	volt_waker_drop(&waker);
	if (w->drops)
		atomic_fetch_add(w->drops, 1);
}

static const struct volt_future_ops gate_ops = { gate_poll, gate_drop };

struct volt_future *vt_gate_wait(struct vt_gate_wait *w, struct vt_gate *g, atomic_int *drops)
{
	memset(w, 0, sizeof *w);
	volt_future_init(&w->base, &gate_ops);
	w->gate = g;
	w->drops = drops;
	return &w->base;
}

/* ---- forever */

static enum volt_poll forever_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct vt_forever *p = (struct vt_forever *)f;

	if (p->keep_waker && !p->waker.ops)
		p->waker = volt_waker_clone(&cx->waker);
	if (p->polls)
		atomic_fetch_add(p->polls, 1);
	return VOLT_PENDING;
}

static void forever_drop(struct volt_future *f)
{
	struct vt_forever *p = (struct vt_forever *)f;

	volt_waker_drop(&p->waker);
	if (p->drops)
		atomic_fetch_add(p->drops, 1);
	if (p->drop_slot)
		atomic_fetch_add(p->drop_slot, 1);
}

static const struct volt_future_ops forever_ops = { forever_poll, forever_drop };

void vt_forever_init(struct vt_forever *f, bool keep_waker, atomic_int *polls,
		     atomic_int *drops, atomic_int *drop_slot)
{
	memset(f, 0, sizeof *f);
	volt_future_init(&f->base, &forever_ops);
	f->keep_waker = keep_waker;
	f->polls = polls;
	f->drops = drops;
	f->drop_slot = drop_slot;
}

/* The JSON text volt_metrics_write_json gives for rt (malloc'd). */
char *vt_metrics_json(struct volt_rt *rt)
{
	FILE *f = tmpfile();
	char *text;
	long len;

	CHECK(f != NULL);
	CHECK_OK(volt_metrics_write_json(rt, f));
	CHECK_OK(fflush(f));
	len = ftell(f);
	CHECK_GT(len, 2);
	rewind(f);
	text = calloc((size_t)len + 1, 1);
	CHECK(text != NULL);
	CHECK_EQ(fread(text, 1, (size_t)len, f), len);
	fclose(f);
	return text;
}
