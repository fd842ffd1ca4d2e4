/* SPDX-License-Identifier: MIT */
/*
 * core/time.c: reading the clock, and the futures that wait on it: sleep,
 * interval, timeout. Each embeds a struct volt_timer and arms it through
 * core/timers.c when it has to wait; its drop disarms it.
 *
 * A relative wait (delay) turns into an absolute deadline at its first poll,
 * on the clock of the runtime polling it. A future polled by volt_block_on
 * with no runtime (cx->rt NULL) on a plain thread has no wheel to use: it
 * asks volt_block_on to park the thread until its deadline (cx->wake_at).
 */
#include <errno.h>
#include <time.h>

#include "core/rt.h"
#include "core/timers.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const struct volt_rt *clock_owner(const struct volt_rt *rt)
{
	if (rt)
		return rt;
	struct volt__worker *w = volt__worker_self();

	return w ? w->rt : NULL;
}

volt_instant volt_instant_now(const struct volt_rt *rt)
{
	rt = clock_owner(rt);
	return (volt_instant){ rt ? volt__clock_ns(rt) : monotonic_ns() };
}

volt_duration volt_instant_elapsed(const struct volt_rt *rt, volt_instant i)
{
	return volt_instant_since(volt_instant_now(rt), i);
}

static uint64_t cx_now(const struct volt_cx *cx)
{
	return cx->rt ? volt__clock_ns(cx->rt) : monotonic_ns();
}

/* Sleeps the thread until `deadline` on CLOCK_MONOTONIC. */
static void thread_sleep_until(uint64_t deadline)
{
	struct timespec ts = { (time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * Waits for t->deadline: false (ready) once the clock has reached it, else
 * true, the caller returns VOLT_PENDING, and the task is woken at the
 * deadline: by the runtime's timers, or, polled by volt_block_on with no
 * runtime, by the thread's own parker (cx->wake_at).
 */
static bool wait_deadline(struct volt_cx *cx, struct volt_timer *t, uint64_t now)
{
	if (cx->rt)
		return volt__timer_arm(cx, t, now);
	if (now >= t->deadline)
		return false;
	if (t->deadline < cx->wake_at)
		cx->wake_at = t->deadline;
	return true;
}

static void timer_clear(struct volt_timer *t)
{
	*t = (struct volt_timer){ .shard = 0 };
}

/* ---- sleep ---- */

static enum volt_poll sleep_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_sleep *s = (struct volt_sleep *)f;

	uint64_t now = cx_now(cx);

	if (!s->absolute) {
		s->timer.deadline = volt__add_sat(now, s->delay);
		s->absolute = true;
	}
	return wait_deadline(cx, &s->timer, now) ? VOLT_PENDING : VOLT_READY;
}

static void sleep_drop(struct volt_future *f)
{
	volt__timer_disarm(&((struct volt_sleep *)f)->timer);
}

static const struct volt_future_ops sleep_ops = { .poll = sleep_poll, .drop = sleep_drop };

struct volt_future *volt_sleep(struct volt_sleep *s, volt_duration d)
{
	volt_future_init(&s->base, &sleep_ops);
	timer_clear(&s->timer);
	s->delay = d.ns;
	s->absolute = false;
	return &s->base;
}

struct volt_future *volt_sleep_until(struct volt_sleep *s, volt_instant at)
{
	volt_future_init(&s->base, &sleep_ops);
	timer_clear(&s->timer);
	s->timer.deadline = at.ns;
	s->absolute = true;
	return &s->base;
}

int volt_blocking_sleep(volt_duration d)
{
	struct volt_sleep s;
	struct volt__worker *w = volt__worker_self();

	if (!w) {
		thread_sleep_until(volt__add_sat(monotonic_ns(), d.ns));
		return 0;
	}
	return volt_block_on(w->rt, volt_sleep(&s, d), NULL);
}

/* ---- interval ---- */

static int interval_setup(struct volt_interval *iv, volt_duration period,
			  enum volt_missed_tick missed)
{
	if (!iv || !period.ns || (unsigned)missed > VOLT_MISSED_SKIP)
		return -EINVAL;
	volt_future_init(&iv->base, NULL);
	timer_clear(&iv->timer);
	iv->period = period.ns;
	iv->ticks = 0;
	iv->last = (volt_instant){ 0 };
	iv->missed = missed;
	return 0;
}

int volt_interval_init(struct volt_interval *iv, volt_duration period, bool immediate,
		       enum volt_missed_tick missed)
{
	int ret = interval_setup(iv, period, missed);

	if (!ret) {
		iv->started = false;
		iv->immediate = immediate;
	}
	return ret;
}

int volt_interval_init_at(struct volt_interval *iv, volt_instant start, volt_duration period,
			  enum volt_missed_tick missed)
{
	int ret = interval_setup(iv, period, missed);

	if (!ret) {
		iv->started = true;
		iv->next = start.ns;
	}
	return ret;
}

/* The tick at iv->next is being taken at `now`: schedule the one after. */
static void interval_advance(struct volt_interval *iv, uint64_t now)
{
	uint64_t scheduled = iv->next;

	iv->last = (volt_instant){ scheduled };
	iv->ticks++;
	switch (iv->missed) {
	case VOLT_MISSED_BURST:
		iv->next = volt__add_sat(scheduled, iv->period);
		break;
	case VOLT_MISSED_SKIP:
		/* the first point of the old grid after now */
		iv->next = volt__add_sat(now, iv->period - (now - scheduled) % iv->period);
		break;
	case VOLT_MISSED_DELAY:
	default:
		iv->next = volt__add_sat(now, iv->period);
		break;
	}
}

static void interval_start(struct volt_interval *iv, uint64_t now)
{
	if (!iv->started) {
		iv->next = iv->immediate ? now : volt__add_sat(now, iv->period);
		iv->started = true;
	}
}

bool volt_interval_try_tick(struct volt_interval *iv, const struct volt_rt *rt)
{
	uint64_t now = volt_instant_now(rt).ns;

	interval_start(iv, now);
	if (now < iv->next)
		return false;
	interval_advance(iv, now);
	return true;
}

static enum volt_poll interval_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_interval *iv = (struct volt_interval *)f;
	uint64_t now = cx_now(cx);

	interval_start(iv, now);
	iv->timer.deadline = iv->next;
	if (wait_deadline(cx, &iv->timer, now))
		return VOLT_PENDING;
	interval_advance(iv, now);
	return VOLT_READY;
}

static void interval_drop(struct volt_future *f)
{
	volt__timer_disarm(&((struct volt_interval *)f)->timer);
}

static const struct volt_future_ops interval_ops = { .poll = interval_poll, .drop = interval_drop };

struct volt_future *volt_interval_tick(struct volt_interval *iv)
{
	volt_future_init(&iv->base, &interval_ops);
	return &iv->base;
}

/* ---- timeout ---- */

static enum volt_poll timeout_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_timeout *t = (struct volt_timeout *)f;

	uint64_t now = cx_now(cx);

	if (!t->absolute) {
		t->timer.deadline = volt__add_sat(now, t->delay);
		t->absolute = true;
	}
	if (volt_future_poll(t->inner, cx) == VOLT_READY)
		t->result = 0;
	else if (wait_deadline(cx, &t->timer, cx_now(cx)))
		return VOLT_PENDING;
	else
		t->result = -ETIMEDOUT;
	/* done either way: drop inner now, once (awaiting would drop it again) */
	f->awaiting = NULL;
	volt_future_drop(t->inner);
	volt__timer_disarm(&t->timer);
	return VOLT_READY;
}

static void timeout_drop(struct volt_future *f)
{
	/* inner, if still pending, was dropped first through f->awaiting */
	volt__timer_disarm(&((struct volt_timeout *)f)->timer);
}

static const struct volt_future_ops timeout_ops = { .poll = timeout_poll, .drop = timeout_drop };

static struct volt_future *timeout_setup(struct volt_timeout *t, struct volt_future *inner)
{
	volt_future_init(&t->base, &timeout_ops);
	t->base.awaiting = inner; /* a cancelled timeout drops inner with it */
	timer_clear(&t->timer);
	t->inner = inner;
	t->result = -EINPROGRESS;
	return &t->base;
}

struct volt_future *volt_timeout(struct volt_timeout *t, struct volt_future *inner,
				 volt_duration d)
{
	timeout_setup(t, inner);
	t->delay = d.ns;
	t->absolute = false;
	return &t->base;
}

struct volt_future *volt_timeout_at(struct volt_timeout *t, struct volt_future *inner,
				    volt_instant deadline)
{
	timeout_setup(t, inner);
	t->timer.deadline = deadline.ns;
	t->absolute = true;
	return &t->base;
}
