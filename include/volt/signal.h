/* SPDX-License-Identifier: MIT */
/*
 * volt/signal.h: subscribe to POSIX signals and await their deliveries.
 *
 * A subscription names a set of signals. Every delivery of one of them
 * after volt_signal_subscribe() returned (or still pending in the process
 * then) reaches every subscription of that signal on the runtime: two
 * subscribers of SIGTERM both see it. volt_signal_recv() completes with the
 * next signal number and how many deliveries of it were counted since the
 * last recv took it.
 *
 * Coalescing. POSIX keeps at most one pending instance of a standard signal
 * (real-time ones queue), so two kill()s in a row may arrive as one. A
 * subscription coalesces too, per signal: while nobody takes a signal, its
 * further deliveries only raise its count. The guarantee is "at least one
 * recv per burst": a subscriber never misses that a signal was delivered
 * after it subscribed, but it cannot count how many kill()s were made.
 * Distinct signals are handed out in the order they first arrived.
 *
 * How (process/signal.c): one signalfd per runtime holds the union of the
 * subscribed signals, read through the I/O driver (epoll or io_uring) by a
 * dispatcher task that fans each record out to the subscribers. The `sim`
 * driver has no signals: -EOPNOTSUPP.
 *
 * Masks, which you must get right. A signalfd only sees signals that no
 * thread takes the ordinary way, so a subscribed signal must be blocked in
 * every thread of the process:
 * - the runtime's own threads (workers, blocking pool) start with every
 *   subscribable signal blocked (volt_signal_blockable() below), whether or not
 *   anything is subscribed;
 * - volt_signal_subscribe() blocks the set in the calling thread;
 * - every other thread you create must block it too (create it after
 *   blocking the set, or call pthread_sigmask in it), or the kernel may
 *   hand the signal to that thread: its handler or default action runs
 *   (SIGTERM's terminates the process) and no subscriber sees it.
 * The mask is never restored: when the last subscriber of a signal goes,
 * the signal stays blocked (unblocking it would let a pending instance
 * take its default action at once). Call pthread_sigmask yourself if you
 * want the old behaviour back. The disposition (sigaction) is not touched.
 *
 * A signal sent to one thread (pthread_kill, tgkill) rather than to the
 * process stays pending on that thread: a runtime thread has it blocked,
 * so it neither terminates the process nor runs a handler, and subscribers
 * see it only if that same thread happens to read the signalfd. Send
 * signals to the process (kill(getpid(), ...), kill(1) from a shell).
 *
 * Subscribable: 1 .. SIGRTMAX except SIGKILL and SIGSTOP (the kernel never
 * lets them be caught), the synchronous fault signals SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGTRAP, SIGSYS and SIGABRT (they go to the faulting
 * thread, which must not have them blocked), SIGPROF (profilers sample the
 * thread that is running) and the C library's reserved real-time signals
 * below SIGRTMIN. Anything else is -EINVAL.
 */
#ifndef VOLT_SIGNAL_H
#define VOLT_SIGNAL_H

#include <signal.h>

#include "future.h"
#include "time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A subscription (opaque). */
struct volt_signal;

/* True if signo may be subscribed (see above). */
VOLT_API bool volt_signal_valid(int signo);

/*
 * Subscribes to n signal numbers (duplicates are fine) on rt (NULL: the
 * current runtime) and blocks them in the calling thread. 0 and *out, or
 * -EINVAL (rt NULL with no current runtime, no signal, or a signal that is
 * not subscribable), -EOPNOTSUPP (the sim driver), -ENOMEM, -EMFILE,
 * -ESHUTDOWN.
 */
VOLT_API int volt_signal_subscribe_list(struct volt_rt *rt, const int *signos, size_t n,
					struct volt_signal **out);

/*
 * The sigset_t forms, declared where <signal.h> has sigset_t (POSIX: not
 * under a bare -std=c11; define _POSIX_C_SOURCE or use -std=gnu11).
 */
#if defined(__USE_POSIX) || defined(_POSIX_C_SOURCE) || defined(_POSIX_SOURCE) ||  \
	defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE) || defined(_DEFAULT_SOURCE) || \
	!defined(__STRICT_ANSI__)
/* The same for a set (every member must be subscribable). */
VOLT_API int volt_signal_subscribe(struct volt_rt *rt, const sigset_t *set,
				   struct volt_signal **out);

/*
 * Fills *set with every subscribable signal: the set the runtime's threads
 * start with blocked. For threads of your own: block it before creating them.
 */
VOLT_API void volt_signal_blockable(sigset_t *set);
#endif

/*
 * The next delivery, as a future. When ready, `result` is the signal number
 * (> 0) and `count` how many deliveries of it were coalesced into this one
 * (>= 1); or -ECANCELED (the subscription was closed, now or before),
 * -ESHUTDOWN (its runtime shut down or its signalfd failed). Dropping it
 * takes nothing: a delivery it did not complete with stays for the next
 * recv. Several recvs may wait on one subscription; each delivery
 * completes one of them.
 */
struct volt_signal_recv {
	struct volt_future base;
	struct volt_signal *sub;   /* referenced from init to drop */
	struct volt_waiter waiter; /* internal */
	uint32_t count;
	int result;
};

VOLT_API struct volt_future *volt_signal_recv(struct volt_signal_recv *f, struct volt_signal *s);

/* A delivery taken at once: the signal number, or -EAGAIN, -ECANCELED, -ESHUTDOWN. */
VOLT_API int volt_signal_try_recv(struct volt_signal *s, uint32_t *count);

/*
 * The blocking form (a fiber or a plain thread; -EDEADLK in a stackless
 * task): the signal number, -ETIMEDOUT after timeout (VOLT_DURATION_MAX:
 * none), or the errors above. count may be NULL.
 */
VOLT_API int volt_signal_recv_blocking(struct volt_signal *s, volt_duration timeout,
				       uint32_t *count);

/*
 * Closes the subscription: pending and later recvs complete with
 * -ECANCELED, and the runtime stops reading signals nobody else subscribed.
 * Idempotent. The signals stay blocked (see above).
 */
VOLT_API void volt_signal_close(struct volt_signal *s);

/* Closes s and releases it; recv futures still alive keep it until they are dropped. */
VOLT_API void volt_signal_free(struct volt_signal *s);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_SIGNAL_H */
