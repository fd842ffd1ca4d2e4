/* SPDX-License-Identifier: MIT */
/*
 * process/child.c: child processes: spawn, reap, await, kill.
 *
 * Who reaps. Every child has one shared record (struct volt__child, counted
 * references: the caller's handle, a reaper task, each wait future) and one
 * reaper: a detached task spawned with the child. waitid on the child is
 * called only under the record's lock (by the reaper, or by try_wait on
 * its way), so:
 * - the status is published once, with `reaped`, and every waiter is woken
 *   from the same place; a wait future only ever reads the record;
 * - a kill takes the same lock and refuses (-ESRCH) once `reaped` is set,
 *   so a signal never reaches a pid the kernel has given to someone else
 *   (the pid stays ours, a zombie at worst, until we reap it);
 * - dropping the handle or the waits changes nothing: the reaper still runs.
 *
 * How it waits. With a pidfd (Linux 5.3+) the reaper awaits readiness on it
 * (VOLT__OP_POLL, POLLIN: the kernel makes a pidfd readable when its
 * process exits) and reaps with waitid(P_PIDFD, WNOHANG). Without one
 * (pidfd_open is ENOSYS, or the test switch VOLT_PROCESS_NO_PIDFD=1) it
 * waits for SIGCHLD: the runtime's one SIGCHLD subscription (volt/signal.h,
 * fanned out by process/sigchld.c) wakes every such reaper, which then
 * tries waitid(P_PID, WNOHANG) on its own child. A timer backs that up
 * (1 ms doubling to 1 s), for a SIGCHLD that some thread of the host with
 * SIGCHLD unblocked took the ordinary way (volt/signal.h: a signalfd sees a
 * signal only if every thread blocks it); with no subscription at all the
 * timer alone polls, doubling to 50 ms. Not a blocking-pool waitid per
 * child: the pool joins its running jobs at volt_rt_free, which a child
 * that never exits would hang. A driver that cannot poll the pidfd also
 * falls back on the timer.
 *
 * Runtime free. The shutdown drops every task, the reapers included; a
 * reaper dropped before its child exited kills it (SIGKILL) and reaps it
 * with a blocking waitid, so no child of a freed runtime is left a zombie
 * or a stray process. The record outlives the runtime while a handle
 * holds it: try_wait then answers with the status.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rt.h"
#include "core/waitlist.h"
#include "drivers/source.h"
#include "io/rw_internal.h"
#include "net/op.h"
#include "process/sigchld.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

extern char **environ;

/*
 * The fallback's timer between waitid polls: from 1 ms, doubling up to
 * 50 ms alone, or up to 1 s behind a SIGCHLD subscription (a safety net
 * for a SIGCHLD some thread took the ordinary way).
 */
#define REAP_POLL_FIRST_NS 1000000ull       /* 1 ms */
#define REAP_POLL_MAX_NS 50000000ull        /* 50 ms */
#define REAP_POLL_MAX_SIGCHLD_NS 1000000000ull /* 1 s */

struct volt__child {
	_Atomic uint32_t refs;
	pthread_mutex_t lock;      /* reaped, status, waiters; every waitid and kill */
	struct volt_rt *rt;
	pid_t pid;
	struct volt_handle pidfd;  /* a source; the zero value without a pidfd */
	bool reaped;
	struct volt_exit_status status;
	struct volt_waitlist waiters;
};

static void child_put(struct volt__child *c)
{
	/* acq_rel: the last one out sees every other user's writes */
	if (volt__fetch_sub(&c->refs, 1, ACQ_REL) != 1)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void child_get(struct volt__child *c)
{
	volt__fetch_add(&c->refs, 1, RELAXED); /* relaxed: the caller holds one */
}

/* ------------------------------------------------------------- reaping */

static void status_of(const siginfo_t *si, struct volt_exit_status *st)
{
	*st = (struct volt_exit_status){ 0 };
	switch (si->si_code) {
	case CLD_EXITED:
		st->exited = true;
		st->code = si->si_status;
		break;
	case CLD_DUMPED:
		st->core_dumped = true;
		/* fallthrough */
	case CLD_KILLED:
		st->signaled = true;
		st->signo = si->si_status;
		break;
	default:
		break;
	}
}

/*
 * waitid on the child (blocking or WNOHANG) and, if it has exited, the
 * status published and the waiters woken. True once reaped. Under c->lock.
 */
static bool reap_locked(struct volt__child *c, bool block)
{
	struct volt__source *s = NULL;
	siginfo_t si;
	int ret = -1;

	if (c->reaped)
		return true;
	if (c->pidfd.rt && !block)
		s = volt__source_get(c->pidfd);
	do {
		memset(&si, 0, sizeof(si));
		if (s)
			ret = waitid((idtype_t)P_PIDFD, (id_t)s->fd, &si, WEXITED | WNOHANG);
		if (!s || (ret < 0 && errno == EINVAL)) /* Linux 5.3 has pidfd_open, not P_PIDFD */
			ret = waitid(P_PID, (id_t)c->pid, &si, WEXITED | (block ? 0 : WNOHANG));
	} while (ret < 0 && errno == EINTR);
	if (s)
		volt__source_put(s);
	if (ret == 0 && si.si_pid == 0)
		return false; /* still running */
	if (ret == 0)
		status_of(&si, &c->status);
	else
		c->status = (struct volt_exit_status){ 0 }; /* ECHILD: reaped behind our back */
	c->reaped = true;
	if (c->pidfd.rt) {
		(void)volt__source_close(c->pidfd); /* the fd goes with its last operation */
		c->pidfd = (struct volt_handle){ 0 };
	}
	volt__waitlist_wake_all_locked(&c->waiters, 1);
	return true;
}

static bool reap(struct volt__child *c, bool block)
{
	bool done;

	pthread_mutex_lock(&c->lock);
	done = reap_locked(c, block);
	pthread_mutex_unlock(&c->lock);
	return done;
}

/*
 * The fallback's wait between two waitid polls: a SIGCHLD delivered after
 * `seen` or the backoff timer, whichever comes first. Dropping it drops both.
 */
struct reap_tick {
	struct volt_future base;
	bool wait_live, sleep_live;
	bool timer_fired;
	struct volt__sigchld_wait wait;
	struct volt_sleep sleep;
};

static enum volt_poll tick_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct reap_tick *t = (struct reap_tick *)f;
	bool ready = false;

	if (t->wait_live && volt_future_poll(&t->wait.base, cx) == VOLT_READY) {
		volt_future_drop(&t->wait.base);
		t->wait_live = false;
		ready = true;
	}
	if (volt_future_poll(&t->sleep.base, cx) == VOLT_READY) {
		volt_future_drop(&t->sleep.base);
		t->sleep_live = false;
		t->timer_fired = true;
		ready = true;
	}
	return ready ? VOLT_READY : VOLT_PENDING;
}

static void tick_drop(struct volt_future *f)
{
	struct reap_tick *t = (struct reap_tick *)f;

	if (t->wait_live)
		volt_future_drop(&t->wait.base);
	if (t->sleep_live)
		volt_future_drop(&t->sleep.base);
	t->wait_live = t->sleep_live = false;
}

static const struct volt_future_ops tick_ops = { tick_poll, tick_drop };

static struct volt_future *reap_tick(struct reap_tick *t, struct volt__sigchld *sigchld,
				     uint64_t seen, uint64_t backoff_ns)
{
	volt_future_init(&t->base, &tick_ops);
	t->timer_fired = false;
	t->wait_live = sigchld != NULL;
	if (sigchld)
		(void)volt__sigchld_wait(&t->wait, sigchld, seen);
	(void)volt_sleep(&t->sleep, volt_ns(backoff_ns));
	t->sleep_live = true;
	return &t->base;
}

/* The reaper task: one per child, detached. */
struct reaper {
	struct volt_future base;
	struct volt__child *c;
	struct volt__sigchld *sigchld; /* the fallback's SIGCHLD broadcaster, or NULL */
	uint64_t seen;                 /* its generation before the last waitid */
	uint64_t backoff_ns, backoff_max_ns;
	bool no_poll;                  /* the driver could not poll the pidfd */
	union {
		struct volt_io_op poll;
		struct reap_tick tick;
	} u;
};

static enum volt_poll reaper_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct reaper *r = (struct reaper *)f;

	VOLT_BEGIN(f);
	for (;;) {
		/* the generation first: a SIGCHLD after it wakes the tick below */
		r->seen = r->sigchld ? volt__sigchld_gen(r->sigchld) : 0;
		if (reap(r->c, false))
			break;
		if (r->c->pidfd.rt && !r->no_poll) {
			volt__op_init(&r->u.poll, r->c->pidfd, VOLT__OP_POLL, NULL, 0, NULL);
			r->u.poll.msg_flags = POLLIN;
			VOLT_AWAIT(f, cx, &r->u.poll.base);
			/* any error (-EOPNOTSUPP on a driver without it): the fallback */
			if (r->u.poll.result < 0)
				r->no_poll = true;
		} else {
			VOLT_AWAIT(f, cx, reap_tick(&r->u.tick, r->sigchld, r->seen, r->backoff_ns));
			if (r->u.tick.timer_fired && r->backoff_ns < r->backoff_max_ns)
				r->backoff_ns *= 2;
			if (r->sigchld && !r->u.tick.timer_fired &&
			    volt__sigchld_gen(r->sigchld) == r->seen) {
				/* woken with no new delivery: the broadcaster is gone */
				volt__sigchld_put(r->sigchld);
				r->sigchld = NULL;
				r->backoff_max_ns = REAP_POLL_MAX_NS;
			}
		}
	}
	VOLT_END(f);
}

/* Ready or dropped by the runtime's shutdown: a child still running is killed and reaped. */
static void reaper_drop(struct volt_future *f)
{
	struct reaper *r = (struct reaper *)f;
	struct volt__child *c = r->c;

	pthread_mutex_lock(&c->lock);
	if (!reap_locked(c, false)) {
		(void)kill(c->pid, SIGKILL); /* not reaped: the pid is still ours */
		(void)reap_locked(c, true);
	}
	pthread_mutex_unlock(&c->lock);
	if (r->sigchld)
		volt__sigchld_put(r->sigchld);
	child_put(c);
}

static const struct volt_future_ops reaper_ops = { reaper_poll, reaper_drop };

/* --------------------------------------------------------------- spawn */

void volt_command_init(struct volt_command *cmd, const char *program, char *const *argv)
{
	*cmd = (struct volt_command){ .program = program, .argv = argv };
}

/* The parent's ends of the piped descriptors and the child's, while spawning. */
struct spawn_plan {
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	int child_fd[3];                 /* the child's pipe ends, -1 where none */
	struct volt_stream parent[3];    /* the parent's, zero where none */
};

static void plan_close_child_ends(struct spawn_plan *p)
{
	for (int i = 0; i < 3; i++) {
		if (p->child_fd[i] >= 0)
			close(p->child_fd[i]);
		p->child_fd[i] = -1;
	}
}

static void plan_close_parent_ends(struct spawn_plan *p)
{
	for (int i = 0; i < 3; i++) {
		if (p->parent[i].h.rt)
			(void)volt_stream_close(p->parent[i]);
		p->parent[i] = (struct volt_stream){ { 0 } };
	}
}

/* Descriptor `which` (0, 1, 2) of the child as `how` says: 0 or -errno. */
static int plan_stdio(struct volt_rt *rt, struct spawn_plan *p, int which, enum volt_stdio how)
{
	int fds[2], mine, flags, ret;

	switch (how) {
	case VOLT_STDIO_INHERIT:
		return 0;
	case VOLT_STDIO_NULL:
		return -posix_spawn_file_actions_addopen(&p->actions, which, "/dev/null",
							 which ? O_WRONLY : O_RDONLY, 0);
	case VOLT_STDIO_PIPED:
		if (pipe2(fds, O_CLOEXEC))
			return -errno;
		mine = which == 0 ? fds[1] : fds[0];
		p->child_fd[which] = which == 0 ? fds[0] : fds[1];
		flags = fcntl(mine, F_GETFL);
		if (flags < 0 || fcntl(mine, F_SETFL, flags | O_NONBLOCK) < 0) {
			ret = -errno;
			close(mine);
			return ret;
		}
		ret = volt__source_open(rt, mine, VOLT__SRC_STREAM, &p->parent[which].h);
		if (ret)
			return ret; /* mine is closed */
		/* dup2 onto 0..2 clears close-on-exec on the copy the program gets */
		return -posix_spawn_file_actions_adddup2(&p->actions, p->child_fd[which], which);
	default:
		return -EINVAL;
	}
}

/* Signal mask empty and every disposition default in the child; cwd. 0 or -errno. */
static int plan_attr(struct spawn_plan *p, const struct volt_command *cmd)
{
	sigset_t none, all;
	int ret;

	sigemptyset(&none);
	sigfillset(&all);
	ret = posix_spawnattr_setsigmask(&p->attr, &none);
	if (!ret)
		ret = posix_spawnattr_setsigdefault(&p->attr, &all);
	if (!ret)
		ret = posix_spawnattr_setflags(&p->attr, POSIX_SPAWN_SETSIGMASK |
							 POSIX_SPAWN_SETSIGDEF);
	if (!ret && cmd->cwd)
		ret = posix_spawn_file_actions_addchdir_np(&p->actions, cmd->cwd);
	return -ret;
}

/* The child's pidfd as a source, unless the kernel or the test switch says no. */
static void open_pidfd(struct volt__child *c)
{
	const char *off = getenv("VOLT_PROCESS_NO_PIDFD");
	int fd;

	if (off && !strcmp(off, "1"))
		return;
	fd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (fd < 0)
		return; /* ENOSYS (before 5.3) and the like: the reaper polls waitid */
	if (volt__source_open(c->rt, fd, VOLT__SRC_STREAM, &c->pidfd))
		c->pidfd = (struct volt_handle){ 0 }; /* fd closed: the same fallback */
}

static int check_command(const struct volt_command *cmd)
{
	if (!cmd || !cmd->program || !cmd->program[0])
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		if ((unsigned)cmd->stdio[i] > VOLT_STDIO_PIPED)
			return -EINVAL;
	return 0;
}

int volt_child_spawn(struct volt_rt *rt, const struct volt_command *cmd, struct volt_child *out)
{
	struct spawn_plan p = { .child_fd = { -1, -1, -1 } };
	char *const default_argv[2] = { (char *)(cmd ? cmd->program : NULL), NULL };
	struct volt__child *c;
	pid_t pid;
	int ret;

	ret = check_command(cmd);
	if (ret || !out)
		return ret ? ret : -EINVAL;
	rt = volt__rt_or_current(rt);
	if (!rt)
		return -EINVAL;
	if (!strcmp(volt_rt_driver(rt), "sim"))
		return -EOPNOTSUPP; /* the simulated network has no kernel descriptors */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = -pthread_mutex_init(&c->lock, NULL);
	if (ret) {
		free(c);
		return ret;
	}
	atomic_init(&c->refs, 1); /* the caller's handle */
	c->rt = rt;
	ret = -posix_spawn_file_actions_init(&p.actions);
	if (ret)
		goto fail_child;
	ret = -posix_spawnattr_init(&p.attr);
	if (ret)
		goto fail_actions;
	ret = plan_attr(&p, cmd);
	for (int i = 0; i < 3 && !ret; i++)
		ret = plan_stdio(rt, &p, i, cmd->stdio[i]);
	if (!ret) {
		if (cmd->stdio[0] == VOLT_STDIO_PIPED)
			volt__sigpipe_ignore_once();
		char *const *argv = cmd->argv ? cmd->argv : default_argv;
		char *const *envp = cmd->envp ? cmd->envp : environ;

		/* glibc reports a failed exec here (ENOENT...), not as an exit with 127 */
		ret = -(strchr(cmd->program, '/')
				? posix_spawn(&pid, cmd->program, &p.actions, &p.attr, argv, envp)
				: posix_spawnp(&pid, cmd->program, &p.actions, &p.attr, argv, envp));
	}
	plan_close_child_ends(&p);
	posix_spawnattr_destroy(&p.attr);
fail_actions:
	posix_spawn_file_actions_destroy(&p.actions);
	if (ret) {
		plan_close_parent_ends(&p);
		goto fail_child;
	}
	c->pid = pid;
	open_pidfd(c);

	struct reaper r = { .c = c, .backoff_ns = REAP_POLL_FIRST_NS,
			    .backoff_max_ns = REAP_POLL_MAX_NS };

	if (!c->pidfd.rt)
		r.sigchld = volt__sigchld_get(rt);
	if (r.sigchld)
		r.backoff_max_ns = REAP_POLL_MAX_SIGCHLD_NS;
	volt_future_init(&r.base, &reaper_ops);
	child_get(c); /* the reaper's */
	ret = volt_spawn(rt, &r.base, sizeof(r), NULL);
	if (ret) { /* -ESHUTDOWN, -ENOMEM: nobody would reap it, so it does not live */
		if (r.sigchld)
			volt__sigchld_put(r.sigchld);
		pthread_mutex_lock(&c->lock);
		(void)kill(pid, SIGKILL);
		(void)reap_locked(c, true);
		pthread_mutex_unlock(&c->lock);
		child_put(c);
		plan_close_parent_ends(&p);
		goto fail_child;
	}
	*out = (struct volt_child){ .pid = pid, .in = p.parent[0], .out = p.parent[1],
				    .err = p.parent[2], .state = c };
	return 0;

fail_child:
	child_put(c);
	return ret;
}

/* -------------------------------------------------------- wait and kill */

int volt_child_try_wait(const struct volt_child *child, struct volt_exit_status *status)
{
	struct volt__child *c = child ? child->state : NULL;
	int ret = -EAGAIN;

	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if (reap_locked(c, false)) {
		if (status)
			*status = c->status;
		ret = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static enum volt_poll wait_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct volt_child_wait *w = (struct volt_child_wait *)f;
	struct volt__child *c = w->state;

	if (!c) {
		w->result = -EINVAL;
		return VOLT_READY;
	}
	pthread_mutex_lock(&c->lock);
	if (c->reaped) { /* the reaper unlinked us when it published */
		w->status = c->status;
		w->result = 0;
		pthread_mutex_unlock(&c->lock);
		return VOLT_READY;
	}
	volt__waiter_set_waker(&w->waiter, &cx->waker);
	if (!w->waiter.linked)
		volt__waitlist_push(&c->waiters, &w->waiter);
	pthread_mutex_unlock(&c->lock);
	return VOLT_PENDING;
}

static void wait_drop(struct volt_future *f)
{
	struct volt_child_wait *w = (struct volt_child_wait *)f;
	struct volt__child *c = w->state;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (w->waiter.linked)
		volt__waitlist_remove(&c->waiters, &w->waiter);
	pthread_mutex_unlock(&c->lock);
	volt_waker_drop(&w->waiter.waker);
	w->state = NULL;
	child_put(c);
}

static const struct volt_future_ops wait_ops = { wait_poll, wait_drop };

struct volt_future *volt_child_wait(struct volt_child_wait *f, const struct volt_child *child)
{
	volt_future_init(&f->base, &wait_ops);
	f->state = child ? child->state : NULL;
	f->waiter = (struct volt_waiter){ 0 };
	f->result = 0;
	f->status = (struct volt_exit_status){ 0 };
	if (f->state)
		child_get(f->state);
	return &f->base;
}

int volt_child_wait_blocking(const struct volt_child *child, struct volt_exit_status *status,
			     volt_duration timeout)
{
	struct volt_child_wait w;
	ssize_t ret = volt_child_try_wait(child, status);

	if (ret != -EAGAIN)
		return (int)ret; /* reaped (also after the runtime is gone), or -EINVAL */
	ret = volt__op_block(child->state->rt, volt_child_wait(&w, child), timeout, &w.result);
	if (!ret && status)
		*status = w.status;
	return (int)ret;
}

int volt_child_kill(const struct volt_child *child, int signo)
{
	struct volt__child *c = child ? child->state : NULL;
	struct volt__source *s = NULL;
	int ret;

	if (!c || signo < 1 || signo > SIGRTMAX)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if (c->reaped) {
		ret = -ESRCH;
	} else {
		if (c->pidfd.rt)
			s = volt__source_get(c->pidfd);
		/* not reaped, and we hold the lock every reap takes: the pid is still ours */
		ret = s ? (int)syscall(SYS_pidfd_send_signal, s->fd, signo, NULL, 0)
			: kill(c->pid, signo);
		ret = ret < 0 ? -errno : 0;
		if (s)
			volt__source_put(s);
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

void volt_child_release(struct volt_child *child)
{
	if (!child || !child->state)
		return;
	child_put(child->state);
	child->state = NULL;
}
