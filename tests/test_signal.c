/* SPDX-License-Identifier: MIT */
/*
 * tests/test_signal.c: signal subscriptions (volt/signal.h), each case on
 * every driver (VT_FOR_EACH_DRIVER) under every policy (VOLT_RT_TEST). The
 * runner forks a child per case, so the signals sent and the masks set
 * here end with the case.
 *
 *  two_subscribers    a SIGUSR1 sent to the process reaches both
 *                     subscriptions: one awaited in a task, one blocking
 *  runtime_threads    workers and blocking-pool threads start with the
 *                     subscribable signals blocked (SIGSEGV and SIGPROF
 *                     not); a SIGUSR1 sent to a worker thread with
 *                     pthread_kill does not take the default action, and
 *                     with one worker (the thread reading the signalfd) it
 *                     reaches the subscriber
 *  coalesced          queued real-time deliveries are counted exactly in
 *                     one recv (count 3); standard ones at least once
 *  close              closing one subscription ends its pending recv with
 *                     -ECANCELED and leaves the other one receiving
 *  timeout            the blocking form times out (-ETIMEDOUT), the
 *                     future under volt_timeout too; -EDEADLK in a task
 *  bad_input          -EINVAL for 0, 65, SIGKILL, SIGSTOP, SIGSEGV, an
 *                     empty set; -EOPNOTSUPP on the sim driver
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_helpers.h"

/* A blocking recv that must finish; it would only fail by hanging. */
#define DEADLINE volt_secs(20)

static struct volt_rt *sig_rt(const char *policy, unsigned workers, const char *driver)
{
	snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s", driver);
	return vt_net_rt(policy, workers, driver);
}

static struct volt_signal *sub1(struct volt_rt *rt, int signo)
{
	struct volt_signal *s = NULL;

	CHECK_OK(volt_signal_subscribe_list(rt, &signo, 1, &s));
	CHECK(s != NULL);
	return s;
}

/* ----------------------------------------------------- two subscribers */

VOLT_RT_TEST(signal_two_subscribers)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = sig_rt(policy, 2, d);

		if (!rt)
			continue;
		struct volt_signal *a = sub1(rt, SIGUSR1), *b = sub1(rt, SIGUSR1);
		struct volt_signal_recv r;
		atomic_int pending = 0;
		struct volt_join *j = vt_spawn_in_task(rt, volt_signal_recv(&r, a), &pending);
		uint32_t count = 0;

		VT_WAIT_FOR(atomic_load(&pending)); /* a's recv waits in its task */
		CHECK_OK(kill(getpid(), SIGUSR1));
		vt_join(j);
		CHECK_EQ(r.result, SIGUSR1);
		CHECK_GE(r.count, 1);
		CHECK_EQ(volt_signal_recv_blocking(b, DEADLINE, &count), SIGUSR1);
		CHECK_GE(count, 1);
		volt_signal_free(a);
		volt_signal_free(b);
		volt_rt_free(rt);
	}
}

/* ----------------------------------------------------- runtime threads */

struct thread_mask {
	pthread_t self;
	sigset_t mask;
};

static void *record_mask(void *arg)
{
	struct thread_mask *m = arg;

	m->self = pthread_self();
	CHECK_OK(pthread_sigmask(SIG_BLOCK, NULL, &m->mask));
	return NULL;
}

static void check_runtime_mask(const sigset_t *mask)
{
	static const int blocked[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD,
				       SIGPIPE, SIGWINCH };
	static const int open[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGPROF };

	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
		CHECK_MSG(sigismember(mask, blocked[i]) == 1, "signal %d", blocked[i]);
	CHECK_EQ(sigismember(mask, SIGRTMIN), 1);
	for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++)
		CHECK_MSG(sigismember(mask, open[i]) == 0, "signal %d", open[i]);
}

VOLT_RT_TEST(signal_runtime_threads)
{
	const char *d;
	bool first = true; /* later rounds: the subscription left SIGUSR1 blocked here */

	VT_FOR_EACH_DRIVER(d) {
		for (unsigned workers = 1; workers <= 2; workers++) {
			struct volt_rt *rt = sig_rt(policy, workers, d);

			if (!rt)
				continue;
			struct thread_mask wm, bm;
			struct volt_join *j;
			struct volt_blocking *bh;
			uint32_t count = 0;

			sigset_t mine;

			/* nothing blocked here at first: the runtime's threads block on their own */
			CHECK_OK(pthread_sigmask(SIG_BLOCK, NULL, &mine));
			if (first)
				CHECK_EQ(sigismember(&mine, SIGUSR1), 0);
			first = false;
			CHECK_OK(volt_spawn_fn(rt, record_mask, &wm, &j));
			CHECK_OK(volt_join_wait(j, NULL));
			check_runtime_mask(&wm.mask);
			CHECK_OK(volt_concurrent(rt, record_mask, &bm, &bh));
			CHECK_OK(volt_blocking_wait(bh, NULL));
			check_runtime_mask(&bm.mask);

			struct volt_signal *s = sub1(rt, SIGUSR1);

			/* blocked in that worker: pending there, never the default action */
			CHECK_OK(pthread_kill(wm.self, SIGUSR1));
			if (vt_workers(policy, workers) == 1) {
				/* the one worker reads the signalfd: its own pending signal too */
				CHECK_EQ(volt_signal_recv_blocking(s, DEADLINE, &count), SIGUSR1);
				CHECK_EQ(count, 1);
			}
			/* the process is alive, and a process-directed one arrives */
			CHECK_OK(kill(getpid(), SIGUSR1));
			int got = volt_signal_recv_blocking(s, DEADLINE, &count);

			CHECK_EQ(got, SIGUSR1);
			/*
			 * With two workers the first recv may have been the one sent
			 * to the worker: take what is left of the process's, behind a
			 * fence (lower numbers go first), so no SIGUSR1 outlives the round.
			 */
			struct volt_signal *f = sub1(rt, SIGRTMIN);

			CHECK_OK(kill(getpid(), SIGRTMIN));
			CHECK_EQ(volt_signal_recv_blocking(f, DEADLINE, &count), SIGRTMIN);
			while ((got = volt_signal_try_recv(s, &count)) == SIGUSR1)
				;
			CHECK_EQ(got, -EAGAIN);
			volt_signal_free(f);
			volt_signal_free(s);
			volt_rt_free(rt);
		}
	}
}

/* ----------------------------------------------------------- coalesced */

VOLT_RT_TEST(signal_coalesced)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = sig_rt(policy, 2, d);

		if (!rt)
			continue;
		int rt0 = SIGRTMIN, fence = SIGRTMIN + 1;
		struct volt_signal *s = sub1(rt, rt0), *f = sub1(rt, fence);
		struct volt_signal *u = sub1(rt, SIGUSR2);
		union sigval v = { 0 };
		uint32_t count = 0, total = 0;
		int got;

		/*
		 * Real-time signals queue; the kernel hands out the lowest
		 * number first, so once the fence arrived the three SIGRTMIN
		 * were dispatched, and nobody took them: one recv, count 3.
		 */
		for (int i = 0; i < 3; i++)
			CHECK_OK(sigqueue(getpid(), rt0, v));
		CHECK_OK(sigqueue(getpid(), fence, v));
		CHECK_EQ(volt_signal_recv_blocking(f, DEADLINE, &count), fence);
		CHECK_EQ(count, 1);
		CHECK_EQ(volt_signal_try_recv(s, &count), rt0);
		CHECK_EQ(count, 3);
		CHECK_EQ(volt_signal_try_recv(s, &count), -EAGAIN);

		/*
		 * A standard signal: the kernel may merge the three. Behind the
		 * same fence (a lower number goes first) all were dispatched:
		 * at least one, at most three deliveries counted.
		 */
		for (int i = 0; i < 3; i++)
			CHECK_OK(kill(getpid(), SIGUSR2));
		CHECK_OK(sigqueue(getpid(), fence, v));
		CHECK_EQ(volt_signal_recv_blocking(f, DEADLINE, &count), fence);
		while ((got = volt_signal_try_recv(u, &count)) == SIGUSR2) {
			CHECK_GE(count, 1);
			total += count;
		}
		CHECK_EQ(got, -EAGAIN);
		CHECK_GE(total, 1);
		CHECK_LE(total, 3);
		volt_signal_free(s);
		volt_signal_free(f);
		volt_signal_free(u);
		volt_rt_free(rt);
	}
}

/* --------------------------------------------------------------- close */

VOLT_RT_TEST(signal_close)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = sig_rt(policy, 2, d);

		if (!rt)
			continue;
		struct volt_signal *a = sub1(rt, SIGUSR1), *b = sub1(rt, SIGUSR1);
		struct volt_signal_recv r;
		atomic_int pending = 0;
		struct volt_join *j = vt_spawn_in_task(rt, volt_signal_recv(&r, a), &pending);
		uint32_t count = 0;

		VT_WAIT_FOR(atomic_load(&pending));
		volt_signal_close(a);
		vt_join(j);
		CHECK_EQ(r.result, -ECANCELED);
		volt_signal_close(a); /* idempotent */
		CHECK_EQ(volt_signal_try_recv(a, &count), -ECANCELED);
		CHECK_EQ(volt_signal_recv_blocking(a, DEADLINE, &count), -ECANCELED);

		/* b still subscribed: SIGUSR1 stays in the signalfd and reaches it */
		CHECK_OK(kill(getpid(), SIGUSR1));
		CHECK_EQ(volt_signal_recv_blocking(b, DEADLINE, &count), SIGUSR1);
		CHECK_EQ(volt_signal_try_recv(a, &count), -ECANCELED);
		volt_signal_free(a);

		/* a recv future alive past free keeps the subscription (ASan checks) */
		(void)volt_signal_recv(&r, b);
		volt_signal_free(b);
		CHECK_OK(volt_block_on(NULL, &r.base, NULL));
		CHECK_EQ(r.result, -ECANCELED);
		volt_rt_free(rt);
	}
}

/* ------------------------------------------------------------- timeout */

struct recv_in_task {
	struct volt_future base;
	struct volt_signal *s;
	struct volt_signal_recv r;
	struct volt_timeout t;
	int timeout_result, blocking_result;
};

static enum volt_poll recv_in_task_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct recv_in_task *t = (struct recv_in_task *)f;

	VOLT_BEGIN(f);
	t->blocking_result = volt_signal_recv_blocking(t->s, volt_ms(1), NULL);
	VOLT_AWAIT(f, cx, volt_timeout(&t->t, volt_signal_recv(&t->r, t->s), volt_ms(20)));
	t->timeout_result = t->t.result;
	VOLT_RETURN(f, cx, t);
	VOLT_END(f);
}

static const struct volt_future_ops recv_in_task_ops = { recv_in_task_poll, NULL };

VOLT_RT_TEST(signal_timeout)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = sig_rt(policy, 2, d);

		if (!rt)
			continue;
		struct volt_signal *s = sub1(rt, SIGUSR2);
		struct recv_in_task t = { .base = VOLT_FUTURE_INIT(&recv_in_task_ops), .s = s };
		struct recv_in_task *out;
		uint32_t count = 7;

		CHECK_EQ(volt_signal_recv_blocking(s, volt_ms(20), &count), -ETIMEDOUT);
		CHECK_EQ(count, 7); /* untouched */
		CHECK_EQ(volt_signal_try_recv(s, NULL), -EAGAIN);
		out = vt_join(vt_spawn(rt, &t, sizeof(t), false));
		CHECK_EQ(out->blocking_result, -EDEADLK);
		CHECK_EQ(out->timeout_result, -ETIMEDOUT);
		/* the subscription still works after both */
		CHECK_OK(kill(getpid(), SIGUSR2));
		CHECK_EQ(volt_signal_recv_blocking(s, DEADLINE, NULL), SIGUSR2);
		volt_signal_free(s);
		volt_rt_free(rt);
	}
}

/* ----------------------------------------------------------- bad input */

VOLT_RT_TEST(signal_bad_input)
{
	static const int bad[] = { 0, -1, 65, 1000, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGPROF };
	const char *d;

	CHECK(volt_signal_valid(SIGRTMAX));
	CHECK(volt_signal_valid(SIGINT));
	CHECK(!volt_signal_valid(SIGRTMIN - 1));
	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = sig_rt(policy, 1, d);
		struct volt_signal *s = NULL;
		sigset_t set;

		if (!rt)
			continue;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_MSG(volt_signal_subscribe_list(rt, &bad[i], 1, &s) == -EINVAL,
				  "signal %d", bad[i]);
		sigemptyset(&set);
		CHECK_EQ(volt_signal_subscribe(rt, &set, &s), -EINVAL);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGKILL);
		CHECK_EQ(volt_signal_subscribe(rt, &set, &s), -EINVAL);
		CHECK_EQ(volt_signal_subscribe(rt, NULL, &s), -EINVAL);
		CHECK_EQ(volt_signal_subscribe(NULL, &set, &s), -EINVAL); /* no current runtime */
		CHECK_EQ(volt_signal_subscribe_list(rt, NULL, 1, &s), -EINVAL);
		CHECK(s == NULL);
		CHECK_EQ(volt_signal_try_recv(NULL, NULL), -EINVAL);
		CHECK_EQ(volt_signal_recv_blocking(NULL, DEADLINE, NULL), -EINVAL);
		volt_signal_close(NULL);
		volt_signal_free(NULL);
		volt_rt_free(rt);
	}

	struct volt_config cfg;
	struct volt_rt *rt;
	struct volt_signal *s = NULL;
	int signo = SIGUSR1;

	vt_cfg(&cfg, policy, 1);
	cfg.driver = "sim";
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_EQ(volt_signal_subscribe_list(rt, &signo, 1, &s), -EOPNOTSUPP);
	CHECK(s == NULL);
	volt_rt_free(rt);
}
