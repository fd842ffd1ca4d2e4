/* SPDX-License-Identifier: MIT */
/*
 * volt/time.h: durations, instants, and the futures that wait for them:
 * sleep, interval, and a timeout that wraps any future.
 *
 * Durations and instants count nanoseconds in a uint64_t and saturate: a sum
 * that would overflow is VOLT_DURATION_MAX (about 584 years, "never"), a
 * difference that would go negative is zero. Instants are read from a
 * runtime's clock: CLOCK_MONOTONIC, or, with cfg.clock = VOLT_CLOCK_VIRTUAL
 * (the default under the `sim` policy), a virtual clock that starts at 0 and
 * moves only when every worker is idle, straight to the next timer deadline.
 * Instants of different clocks do not compare.
 *
 * Timers have a resolution of 1 ms and never fire early: a sleep until t
 * completes at the first poll at which the clock reads >= t (the wheel
 * rounds deadlines up to the next millisecond). Each waiting future embeds
 * its timer, so waiting allocates nothing.
 *
 * A relative wait (volt_sleep, volt_timeout, volt_interval_init) takes its
 * start from the clock of the runtime that first polls it.
 */
#ifndef VOLT_TIME_H
#define VOLT_TIME_H

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct volt_duration {
	uint64_t ns;
} volt_duration;

typedef struct volt_instant {
	uint64_t ns; /* on the clock of the runtime that read it */
} volt_instant;

#define VOLT_DURATION_ZERO ((volt_duration){ 0 })
#define VOLT_DURATION_MAX ((volt_duration){ UINT64_MAX })

static inline uint64_t volt__mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t volt__add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t volt__sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static inline volt_duration volt_ns(uint64_t n) { return (volt_duration){ n }; }
static inline volt_duration volt_us(uint64_t n) { return (volt_duration){ volt__mul_sat(n, 1000ull) }; }
static inline volt_duration volt_ms(uint64_t n) { return (volt_duration){ volt__mul_sat(n, 1000000ull) }; }
static inline volt_duration volt_secs(uint64_t n) { return (volt_duration){ volt__mul_sat(n, 1000000000ull) }; }
static inline volt_duration volt_mins(uint64_t n) { return (volt_duration){ volt__mul_sat(n, 60000000000ull) }; }
static inline volt_duration volt_hours(uint64_t n) { return (volt_duration){ volt__mul_sat(n, 3600000000000ull) }; }
static inline volt_duration volt_days(uint64_t n) { return (volt_duration){ volt__mul_sat(n, 86400000000000ull) }; }

static inline uint64_t volt_duration_as_ns(volt_duration d) { return d.ns; }
static inline uint64_t volt_duration_as_us(volt_duration d) { return d.ns / 1000ull; }
static inline uint64_t volt_duration_as_ms(volt_duration d) { return d.ns / 1000000ull; }
static inline uint64_t volt_duration_as_secs(volt_duration d) { return d.ns / 1000000000ull; }

static inline volt_duration volt_duration_add(volt_duration a, volt_duration b)
{
	return (volt_duration){ volt__add_sat(a.ns, b.ns) };
}

static inline volt_duration volt_duration_sub(volt_duration a, volt_duration b)
{
	return (volt_duration){ volt__sub_sat(a.ns, b.ns) };
}

static inline volt_duration volt_duration_mul(volt_duration a, uint64_t k)
{
	return (volt_duration){ volt__mul_sat(a.ns, k) };
}

/* Division by zero saturates to VOLT_DURATION_MAX. */
static inline volt_duration volt_duration_div(volt_duration a, uint64_t k)
{
	return (volt_duration){ k ? a.ns / k : UINT64_MAX };
}

/* -1, 0 or 1 as a is shorter than, equal to or longer than b. */
static inline int volt_duration_cmp(volt_duration a, volt_duration b)
{
	return (a.ns > b.ns) - (a.ns < b.ns);
}

static inline volt_instant volt_instant_add(volt_instant i, volt_duration d)
{
	return (volt_instant){ volt__add_sat(i.ns, d.ns) };
}

static inline volt_instant volt_instant_sub(volt_instant i, volt_duration d)
{
	return (volt_instant){ volt__sub_sat(i.ns, d.ns) };
}

/* later - earlier, or zero if `later` is not later. */
static inline volt_duration volt_instant_since(volt_instant later, volt_instant earlier)
{
	return (volt_duration){ volt__sub_sat(later.ns, earlier.ns) };
}

static inline int volt_instant_cmp(volt_instant a, volt_instant b)
{
	return (a.ns > b.ns) - (a.ns < b.ns);
}

static inline bool volt_instant_is_before(volt_instant a, volt_instant b) { return a.ns < b.ns; }
static inline bool volt_instant_is_after(volt_instant a, volt_instant b) { return a.ns > b.ns; }

/*
 * The clock of rt; rt NULL means the calling worker's runtime, or, on a
 * thread outside every runtime, CLOCK_MONOTONIC.
 */
VOLT_API volt_instant volt_instant_now(const struct volt_rt *rt);

/* volt_instant_since(volt_instant_now(rt), i). */
VOLT_API volt_duration volt_instant_elapsed(const struct volt_rt *rt, volt_instant i);

/*
 * A timer: the link a waiting future keeps in the runtime's timer wheel.
 * The fields are internal (libuv style: public so it can be embedded).
 */
struct volt__timer {
	uint64_t deadline; /* wheel tick (ms) */
	struct volt__timer *prev, *next;
	uint8_t level, slot;
	bool linked;
};

struct volt_timer {
	struct volt__timer node;
	struct volt_waker waker; /* taken by the wheel when it fires */
	struct volt_rt *rt;      /* the runtime it is registered with, or NULL */
	uint64_t deadline;       /* ns on rt's clock */
	uint32_t shard;
	uint32_t fired;          /* set (atomically) by the wheel after its last touch */
};

/* ---- sleep ---- */

struct volt_sleep {
	struct volt_future base;
	struct volt_timer timer;
	uint64_t delay;   /* relative form: ns from the first poll */
	bool absolute;    /* timer.deadline is set */
};

/* Completes once d has passed from its first poll. */
VOLT_API struct volt_future *volt_sleep(struct volt_sleep *s, volt_duration d);

/* Completes once the clock reads >= at (at once if it already does). */
VOLT_API struct volt_future *volt_sleep_until(struct volt_sleep *s, volt_instant at);

/*
 * Blocks the caller for d: a fiber parks (its worker runs other tasks), a
 * thread outside the runtime sleeps on CLOCK_MONOTONIC. Returns 0, or
 * -EDEADLK in a stackless task (use volt_sleep there), -ECANCELED if the
 * fiber was cancelled while it slept.
 */
VOLT_API int volt_blocking_sleep(volt_duration d);

/* ---- interval ---- */

/* What an interval does with ticks it missed because its owner was late. */
enum volt_missed_tick {
	VOLT_MISSED_DELAY = 0, /* the next tick is a full period after the late one (default) */
	VOLT_MISSED_BURST,     /* fire the missed ticks at once, then keep the old schedule */
	VOLT_MISSED_SKIP,      /* drop the missed ticks, keep to the old schedule's grid */
};

struct volt_interval {
	struct volt_future base;   /* the tick future, reused for each tick */
	struct volt_timer timer;
	uint64_t period;
	uint64_t next;             /* deadline of the next tick (once started) */
	uint64_t ticks;            /* ticks completed */
	volt_instant last;         /* the scheduled time of the tick just completed */
	enum volt_missed_tick missed;
	bool started;              /* `next` is set */
	bool immediate;            /* the relative form's first tick is at its start */
};

/*
 * A clock that ticks every period. volt_interval_init's first tick comes
 * one period after the first poll of volt_interval_tick (or at once with
 * `immediate`); volt_interval_init_at's first tick is at `start`.
 * Returns 0 or -EINVAL (iv NULL, period zero, mode unknown).
 */
VOLT_API int volt_interval_init(struct volt_interval *iv, volt_duration period, bool immediate,
				enum volt_missed_tick missed);
VOLT_API int volt_interval_init_at(struct volt_interval *iv, volt_instant start,
				   volt_duration period, enum volt_missed_tick missed);

/*
 * The future of the next tick; ready when it is due, with iv->last set to
 * the tick's scheduled time. Await it again for the following tick.
 * Dropping it (cancellation) leaves the schedule as it was.
 */
VOLT_API struct volt_future *volt_interval_tick(struct volt_interval *iv);

/* The tick without waiting: true (iv->last set) if one was due on rt's clock. */
VOLT_API bool volt_interval_try_tick(struct volt_interval *iv, const struct volt_rt *rt);

/* ---- timeout ---- */

struct volt_timeout {
	struct volt_future base;
	struct volt_timer timer;
	struct volt_future *inner;
	uint64_t delay;
	bool absolute;
	int result; /* 0: inner completed; -ETIMEDOUT: the deadline came first */
};

/*
 * Polls inner until it completes or d has passed since the first poll,
 * whichever comes first; on expiry inner is dropped (exactly once) and
 * `result` is -ETIMEDOUT. Inner's output, if any, goes where inner puts it
 * (its own fields, or cx->output). Dropping the timeout drops inner.
 */
VOLT_API struct volt_future *volt_timeout(struct volt_timeout *t, struct volt_future *inner,
					  volt_duration d);
VOLT_API struct volt_future *volt_timeout_at(struct volt_timeout *t, struct volt_future *inner,
					     volt_instant deadline);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_TIME_H */
