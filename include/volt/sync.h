/* SPDX-License-Identifier: MIT */
/*
 * volt/sync.h: async synchronisation: semaphore, mutex, rwlock, notify,
 * barrier, once cell.
 *
 * Every wait comes in four forms:
 * - try:     never waits, needs no runtime (one CAS on the fast path);
 * - future:  a future whose waiter is embedded in it (no allocation);
 *            dropping it while pending takes its place in line back, and
 *            gives back whatever it had already been handed;
 * - waiter:  the same steps for a hand-written poll function: a *_wait_with
 *            call registers or re-polls a caller-owned waiter, returning 0
 *            when done, 1 while pending (the waker will be woken), or a
 *            negative errno; *_cancel takes a pending waiter back;
 * - blocking: volt_block_on of the future: parks a fiber or a plain thread,
 *            -EDEADLK in a stackless task.
 * Waiters are served in FIFO order. Each primitive is initialised with its
 * *_init function and released with *_destroy once nothing waits on it.
 *
 * Semaphore, mutex and rwlock share one algorithm (primitives/semaphore.c):
 * a batch semaphore whose release hands permits to the waiters in line
 * first and returns only the surplus to the atomic count, so a try can never
 * barge past a waiter, and a large request is served in its turn.
 */
#ifndef VOLT_SYNC_H
#define VOLT_SYNC_H

#include <errno.h>
#include <pthread.h>

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ semaphore */

#define VOLT_SEMAPHORE_MAX ((uint32_t)(UINT32_MAX >> 3)) /* permits, 536,870,911 */

struct volt_semaphore {
	VOLT__ATOMIC(uint64_t) permits;       /* available << 1 | closed; internal */
	pthread_mutex_t lock;           /* guards the line of waiters */
	struct volt_waitlist waiters;
};

/* A place in a semaphore's line (the waiter form). Zero it before first use. */
struct volt_sem_waiter {
	struct volt_waiter w;   /* w.state: internal */
	uint32_t requested;     /* permits asked for */
	uint32_t missing;       /* of those, not handed over yet */
};

/* 0, or -EINVAL (permits > VOLT_SEMAPHORE_MAX), -ENOMEM. */
VOLT_API int volt_semaphore_init(struct volt_semaphore *s, uint32_t permits);
VOLT_API void volt_semaphore_destroy(struct volt_semaphore *s);

/*
 * Takes n permits now: 0, -EAGAIN (not that many free, or waiters ahead),
 * -EPIPE (closed), -EINVAL (n is 0 or above VOLT_SEMAPHORE_MAX).
 */
VOLT_API int volt_semaphore_try_acquire(struct volt_semaphore *s, uint32_t n);

/* Gives n permits back: to the waiters in line first. */
VOLT_API void volt_semaphore_release(struct volt_semaphore *s, uint32_t n);

/* Permits free right now (a snapshot). */
VOLT_API uint32_t volt_semaphore_available(struct volt_semaphore *s);

/* Closes: every waiter and every later acquire gets -EPIPE; releases still count. */
VOLT_API void volt_semaphore_close(struct volt_semaphore *s);

/* The waiter form: 0 (acquired), 1 (pending), -EPIPE, -EINVAL. */
VOLT_API int volt_semaphore_acquire_with(struct volt_semaphore *s, struct volt_sem_waiter *w,
					 uint32_t n, const struct volt_waker *waker);
/* Takes a pending waiter out of line, giving back what it was handed. */
VOLT_API void volt_semaphore_acquire_cancel(struct volt_semaphore *s, struct volt_sem_waiter *w);

/* The future form, for semaphores, mutexes and rwlocks; `result` 0 or -EPIPE or -EINVAL. */
struct volt_acquire {
	struct volt_future base;
	struct volt_semaphore *sem;
	struct volt_sem_waiter waiter;
	uint32_t n;
	int result;
};

VOLT_API struct volt_future *volt_semaphore_acquire(struct volt_acquire *a,
						    struct volt_semaphore *s, uint32_t n);
VOLT_API int volt_semaphore_acquire_blocking(struct volt_semaphore *s, uint32_t n);

/* ---------------------------------------------------------------- mutex */

/* FIFO, hand-off on unlock (no barging), unlock from any thread. */
struct volt_mutex {
	struct volt_semaphore sem;
};

VOLT_API int volt_mutex_init(struct volt_mutex *m);
VOLT_API void volt_mutex_destroy(struct volt_mutex *m);
VOLT_API bool volt_mutex_try_lock(struct volt_mutex *m);
VOLT_API void volt_mutex_unlock(struct volt_mutex *m);
VOLT_API struct volt_future *volt_mutex_lock(struct volt_acquire *a, struct volt_mutex *m);
VOLT_API int volt_mutex_lock_with(struct volt_mutex *m, struct volt_sem_waiter *w,
				  const struct volt_waker *waker);
VOLT_API void volt_mutex_lock_cancel(struct volt_mutex *m, struct volt_sem_waiter *w);
VOLT_API int volt_mutex_lock_blocking(struct volt_mutex *m);

/* --------------------------------------------------------------- rwlock */

/*
 * Many readers or one writer. A reader takes one permit of
 * VOLT_SEMAPHORE_MAX, a writer all of them, in one FIFO line: a waiting
 * writer holds back the readers that come after it (writers do not starve),
 * and readers queued before it go first.
 */
struct volt_rwlock {
	struct volt_semaphore sem;
};

VOLT_API int volt_rwlock_init(struct volt_rwlock *l);
VOLT_API void volt_rwlock_destroy(struct volt_rwlock *l);
VOLT_API bool volt_rwlock_try_read(struct volt_rwlock *l);
VOLT_API bool volt_rwlock_try_write(struct volt_rwlock *l);
VOLT_API void volt_rwlock_read_unlock(struct volt_rwlock *l);
VOLT_API void volt_rwlock_write_unlock(struct volt_rwlock *l);
VOLT_API struct volt_future *volt_rwlock_read(struct volt_acquire *a, struct volt_rwlock *l);
VOLT_API struct volt_future *volt_rwlock_write(struct volt_acquire *a, struct volt_rwlock *l);
VOLT_API int volt_rwlock_read_with(struct volt_rwlock *l, struct volt_sem_waiter *w,
				   const struct volt_waker *waker);
VOLT_API int volt_rwlock_write_with(struct volt_rwlock *l, struct volt_sem_waiter *w,
				    const struct volt_waker *waker);
VOLT_API void volt_rwlock_cancel(struct volt_rwlock *l, struct volt_sem_waiter *w);
VOLT_API int volt_rwlock_read_blocking(struct volt_rwlock *l);
VOLT_API int volt_rwlock_write_blocking(struct volt_rwlock *l);

/* --------------------------------------------------------------- notify */

/*
 * notify_one wakes the first waiter, or, with nobody waiting, stores one
 * permit (at most one) that the next wait consumes at once. notify_all
 * wakes the waiters in line at the call, none that come later, and stores
 * nothing.
 */
struct volt_notify {
	VOLT__ATOMIC(uint32_t) state; /* a stored notify_one, waiters present; internal */
	pthread_mutex_t lock;
	struct volt_waitlist waiters;
};

VOLT_API int volt_notify_init(struct volt_notify *n);
VOLT_API void volt_notify_destroy(struct volt_notify *n);
VOLT_API void volt_notify_one(struct volt_notify *n);
VOLT_API void volt_notify_all(struct volt_notify *n);
/* Zero w before first use. 0 (notified), 1 (pending). */
VOLT_API int volt_notify_wait_with(struct volt_notify *n, struct volt_waiter *w,
				   const struct volt_waker *waker);
/* Takes a pending waiter back; a notify_one it had been handed goes on to the next. */
VOLT_API void volt_notify_wait_cancel(struct volt_notify *n, struct volt_waiter *w);

struct volt_notified {
	struct volt_future base;
	struct volt_notify *notify;
	struct volt_waiter waiter;
};

VOLT_API struct volt_future *volt_notify_wait(struct volt_notified *f, struct volt_notify *n);
VOLT_API int volt_notify_wait_blocking(struct volt_notify *n);

/* -------------------------------------------------------------- barrier */

/*
 * n parties meet; the last to arrive is the leader. Then the barrier is
 * ready for the next round. A waiter cancelled before its round completes
 * is no longer counted in it.
 */
struct volt_barrier {
	pthread_mutex_t lock;
	uint32_t parties, arrived;
	uint64_t round;
	struct volt_waitlist waiters;
};

struct volt_barrier_waiter {
	struct volt_waiter w;
	uint64_t round;  /* the round it arrived in; internal */
	bool leader;     /* set when done */
};

/* 0, or -EINVAL (n is 0), -ENOMEM. */
VOLT_API int volt_barrier_init(struct volt_barrier *b, uint32_t n);
VOLT_API void volt_barrier_destroy(struct volt_barrier *b);
/* Zero w before first use. 0 (the round is complete: w->leader tells), 1 (pending). */
VOLT_API int volt_barrier_wait_with(struct volt_barrier *b, struct volt_barrier_waiter *w,
				    const struct volt_waker *waker);
VOLT_API void volt_barrier_wait_cancel(struct volt_barrier *b, struct volt_barrier_waiter *w);

struct volt_barrier_wait {
	struct volt_future base;
	struct volt_barrier *barrier;
	struct volt_barrier_waiter waiter;
	bool leader; /* set when ready */
};

VOLT_API struct volt_future *volt_barrier_wait(struct volt_barrier_wait *f, struct volt_barrier *b);
/* 1 for the leader, 0 for the others, or -EDEADLK. */
VOLT_API int volt_barrier_wait_blocking(struct volt_barrier *b);

/* ------------------------------------------------------------ once cell */

/*
 * A value set once. get is one acquire load. get_or_init runs `init` in one
 * caller only; concurrent callers wait for it. If init fails (returns a
 * negative errno) the cell stays empty, that caller gets the error, and the
 * next waiter in line runs its own init.
 */
struct volt_once {
	VOLT__ATOMIC(uint32_t) state; /* empty, initialising, set; internal */
	void *value;
	pthread_mutex_t lock;
	struct volt_waitlist waiters;
};

typedef int (*volt_once_init_fn)(void *arg, void **value);

VOLT_API int volt_once_init(struct volt_once *c);
VOLT_API int volt_once_init_with(struct volt_once *c, void *value);
VOLT_API void volt_once_destroy(struct volt_once *c);
#define VOLT__ONCE_SET 2u /* the state once set (primitives/once.c) */

/* 0 and the value in *out, or -EAGAIN (not set yet). One acquire load, inline. */
static inline int volt_once_get(struct volt_once *c, void **out)
{
	/* acquire: pairs with the release store of the state, after the value */
	if (__atomic_load_n((uint32_t *)(void *)&c->state, __ATOMIC_ACQUIRE) != VOLT__ONCE_SET)
		return -EAGAIN;
	*out = c->value;
	return 0;
}
/* 0, or -EALREADY (set, or being initialised). */
VOLT_API int volt_once_set(struct volt_once *c, void *value);
static inline bool volt_once_is_set(struct volt_once *c)
{
	return __atomic_load_n((uint32_t *)(void *)&c->state, __ATOMIC_ACQUIRE) == VOLT__ONCE_SET;
}
/* Zero w before first use. 0 (*out set), 1 (pending: another caller initialises), or init's error. */
VOLT_API int volt_once_get_or_init_with(struct volt_once *c, struct volt_waiter *w,
					volt_once_init_fn init, void *arg,
					const struct volt_waker *waker, void **out);
VOLT_API void volt_once_wait_cancel(struct volt_once *c, struct volt_waiter *w);

struct volt_once_get_or_init {
	struct volt_future base;
	struct volt_once *cell;
	volt_once_init_fn init;
	void *arg;
	struct volt_waiter waiter;
	void *value;  /* set when ready and result is 0 */
	int result;   /* 0 or init's error */
};

VOLT_API struct volt_future *volt_once_get_or_init(struct volt_once_get_or_init *f,
						   struct volt_once *c, volt_once_init_fn init,
						   void *arg);
VOLT_API int volt_once_get_or_init_blocking(struct volt_once *c, volt_once_init_fn init,
					    void *arg, void **out);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_SYNC_H */
