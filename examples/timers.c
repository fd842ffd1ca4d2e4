/*
 * timers.c: a heartbeat on an interval, a slow job raced against a timeout,
 * and a fiber that sleeps like a thread.
 *
 *	timers [--ticks N] [--period-ms N]
 *
 * The heartbeat task ticks N times (default 5) every period (default 20 ms)
 * and prints how late each tick ran. The watchdog task waits for a job of
 * the blocking pool that takes 200 ms, under a 50 ms timeout: the timeout
 * fires first and drops the wait (the job itself runs to its end). The
 * fiber calls volt_blocking_sleep, which parks it, not its worker.
 * (Under VOLT_SCHED=sim the clock is virtual and holds while a blocking job
 * runs, so there the job finishes "in time": docs/time.md.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <volt.h>

static unsigned ticks = 5, period_ms = 20;

/* ---- the heartbeat: a stackless task awaiting an interval */

struct heartbeat {
	struct volt_future base;
	struct volt_interval iv;
	unsigned n;
};

static enum volt_poll heartbeat_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct heartbeat *h = (struct heartbeat *)f;

	VOLT_BEGIN(f);
	for (h->n = 1; h->n <= ticks; h->n++) {
		VOLT_AWAIT(f, cx, volt_interval_tick(&h->iv));
		printf("tick %u, %llu us after its time\n", h->n,
		       (unsigned long long)volt_duration_as_us(
			       volt_instant_elapsed(cx->rt, h->iv.last)));
	}
	VOLT_END(f);
}

static const struct volt_future_ops heartbeat_ops = { .poll = heartbeat_poll };

/* ---- the watchdog: a timeout around the wait for a slow job */

static void *slow_job(void *arg)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	return arg;
}

struct watchdog {
	struct volt_future base;
	struct volt_blocking_future wait;
	struct volt_timeout to;
};

static enum volt_poll watchdog_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct watchdog *w = (struct watchdog *)f;
	struct volt_blocking *job;

	VOLT_BEGIN(f);
	if (volt_concurrent(cx->rt, slow_job, NULL, &job) != 0)
		VOLT_RETURN(f, cx, -1);
	VOLT_AWAIT(f, cx, volt_timeout(&w->to, volt_blocking_await(&w->wait, job), volt_ms(50)));
	printf("watchdog: %s\n", w->to.result == -ETIMEDOUT ? "the job took longer than 50 ms"
							    : "the job finished in time");
	VOLT_END(f);
}

static const struct volt_future_ops watchdog_ops = { .poll = watchdog_poll };

/* ---- a fiber: plain sequential code that sleeps */

static void *napper(struct volt_rt *rt, void *arg)
{
	volt_instant t0 = volt_instant_now(rt);

	(void)arg;
	volt_blocking_sleep(volt_ms(30));
	printf("fiber: slept %llu ms\n",
	       (unsigned long long)volt_duration_as_ms(volt_instant_elapsed(rt, t0)));
	return NULL;
}

static int app(struct volt_rt *rt, void *arg)
{
	struct heartbeat h = { .base = VOLT_FUTURE_INIT(&heartbeat_ops) };
	struct watchdog w = { .base = VOLT_FUTURE_INIT(&watchdog_ops) };
	struct volt_join *jh, *jw, *jf;

	(void)arg;
	if (volt_interval_init(&h.iv, volt_ms(period_ms), false, VOLT_MISSED_DELAY) != 0)
		return 1;
	if (volt_spawn(rt, &h.base, sizeof h, &jh) || volt_spawn(rt, &w.base, sizeof w, &jw) ||
	    volt_spawn_fiber(rt, napper, NULL, 0, &jf))
		return 1;
	return volt_join_wait(jh, NULL) || volt_join_wait(jw, NULL) || volt_join_wait(jf, NULL);
}

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ticks"))
			ticks = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--period-ms"))
			period_ms = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else
			argc = -1;
	}
	if (argc < 0 || period_ms == 0) {
		fprintf(stderr, "usage: timers [--ticks N] [--period-ms N]\n");
		return 2;
	}
	return volt_run(app, NULL) == 0 ? 0 : 1;
}
