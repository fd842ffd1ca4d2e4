/* SPDX-License-Identifier: MIT */
/*
 * tests/test_process.c: child processes (volt/process.h), each case on
 * every driver (VT_FOR_EACH_DRIVER) under every policy (VOLT_RT_TEST):
 *
 *  exit_code          `sh -c 'exit 3'`: exited, code 3 (blocking form)
 *  signal_self        `sh -c 'kill -TERM $$'`: signaled 15 (future form in a task)
 *  kill               our SIGKILL: signaled 9; kill after the reap is -ESRCH;
 *                     before it, a blocking wait times out, and is -EDEADLK
 *                     in a stackless task
 *  env_cwd            envp and cwd reach the child (its piped stdout read back)
 *  cat_8mib           8 MiB of a byte pattern through `cat`, written by a task
 *                     while this thread reads, so neither pipe fills for good
 *  missing            a missing program is -ENOENT from spawn (path and PATH
 *                     search), bad options -EINVAL; nothing leaks
 *  no_zombie          the handle and a pending wait dropped before the exit:
 *                     the child is still reaped (waitid says ECHILD)
 *  fallback           VOLT_PROCESS_NO_PIDFD=1: no pidfd is opened, SIGCHLD is
 *                     subscribed, and exit code, signal, kill and reaping
 *                     still work
 *  rt_free            a child running at volt_rt_free is killed and reaped
 *
 * Every case ends with the process's descriptor count back where it began.
 * No timing is asserted: the sleeps of the children only order events.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_helpers.h"

/*
 * The deadline of a call that must finish: 60 s, but none under `sim`,
 * whose virtual clock jumps ahead whenever 1 ms of real time passes with
 * no I/O event (a child that takes its time is enough); the runner's
 * per-case timeout is the deadline there.
 */
static volt_duration deadline;
#define DEADLINE deadline

static struct volt_rt *proc_rt(const char *policy, const char *driver)
{
	snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s", driver);
	deadline = vt_is_sim(policy) ? VOLT_DURATION_MAX : volt_secs(60);
	return vt_net_rt(policy, 2, driver);
}

/* argv for /bin/sh -c script. */
#define SH(script) ((char *const[]){ "sh", "-c", (char *)(script), NULL })

static void spawn_sh(struct volt_rt *rt, const char *script, struct volt_child *child)
{
	struct volt_command cmd;

	volt_command_init(&cmd, "/bin/sh", SH(script));
	CHECK_OK(volt_child_spawn(rt, &cmd, child));
	CHECK(child->pid > 0);
}

/* True once pid is no child of ours any more: reaped (by the runtime). */
static bool reaped(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD;
}

/* ----------------------------------------------- the future form in a task */

struct wait_task {
	struct volt_future base;
	struct volt_child_wait w;
	const struct volt_child *child;
	struct volt_exit_status *out;
};

static enum volt_poll wait_task_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct wait_task *t = (struct wait_task *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_child_wait(&t->w, t->child));
	*t->out = t->w.status;
	VOLT_RETURN(f, cx, t->w.result);
	VOLT_END(f);
}

static const struct volt_future_ops wait_task_ops = { wait_task_poll, NULL };

static struct volt_join *spawn_wait(struct volt_rt *rt, const struct volt_child *child,
				    struct volt_exit_status *out)
{
	struct wait_task t = { .child = child, .out = out };

	volt_future_init(&t.base, &wait_task_ops);
	return vt_spawn(rt, &t, sizeof(t), false);
}

static void await_exit(struct volt_rt *rt, const struct volt_child *child,
		       struct volt_exit_status *st)
{
	CHECK_EQ((intptr_t)vt_join(spawn_wait(rt, child, st)), 0);
}

/* ------------------------------------------------------------------ cases */

VOLT_RT_TEST(process_exit_code)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);
		struct volt_exit_status st;
		struct volt_child child;

		if (!rt)
			continue;
		spawn_sh(rt, "exit 3", &child);
		CHECK_OK(volt_child_wait_blocking(&child, &st, DEADLINE));
		CHECK(st.exited && !st.signaled);
		CHECK_EQ(st.code, 3);
		/* later answers are the same status, from the record */
		memset(&st, 0, sizeof(st));
		CHECK_OK(volt_child_try_wait(&child, &st));
		CHECK_EQ(st.code, 3);
		CHECK(reaped(child.pid));
		volt_child_release(&child);
		volt_child_release(&child); /* idempotent */
		CHECK_EQ(volt_child_try_wait(&child, &st), -EINVAL);
		volt_rt_free(rt);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}

VOLT_RT_TEST(process_signal_self)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);
		struct volt_exit_status st;
		struct volt_child child;

		if (!rt)
			continue;
		spawn_sh(rt, "kill -TERM $$; sleep 5", &child);
		await_exit(rt, &child, &st);
		CHECK(st.signaled && !st.exited && !st.core_dumped);
		CHECK_EQ(st.signo, SIGTERM);
		volt_child_release(&child);
		volt_rt_free(rt);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}

/* The blocking form in a stackless task: refused. */
static void *wait_in_task(void *arg)
{
	return (void *)(intptr_t)volt_child_wait_blocking(arg, NULL, VOLT_DURATION_MAX);
}

/* Runs fn(arg) in a task and returns its output. */
static void *vt_join_fn(struct volt_rt *rt, void *(*fn)(void *), void *arg)
{
	struct volt_join *j;

	CHECK_OK(volt_spawn_fn(rt, fn, arg, &j));
	return vt_join(j);
}

/* Kill a long sleeper (after a timed-out wait); the status says SIGKILL; later kills are -ESRCH. */
static void kill_case(struct volt_rt *rt)
{
	struct volt_exit_status st;
	struct volt_child child;

	spawn_sh(rt, "exec sleep 30", &child);
	CHECK_EQ(volt_child_try_wait(&child, &st), -EAGAIN);
	CHECK_EQ(volt_child_wait_blocking(&child, &st, volt_ms(10)), -ETIMEDOUT);
	CHECK_EQ((intptr_t)vt_join_fn(rt, wait_in_task, &child), -EDEADLK);
	CHECK_EQ(volt_child_kill(&child, 0), -EINVAL);
	CHECK_EQ(volt_child_kill(&child, SIGRTMAX + 1), -EINVAL);
	CHECK_OK(volt_child_kill(&child, SIGKILL));
	await_exit(rt, &child, &st);
	CHECK(st.signaled && !st.exited);
	CHECK_EQ(st.signo, SIGKILL);
	CHECK_EQ(volt_child_kill(&child, SIGTERM), -ESRCH);
	CHECK(reaped(child.pid));
	volt_child_release(&child);
	CHECK_EQ(volt_child_kill(&child, SIGTERM), -EINVAL);
}

VOLT_RT_TEST(process_kill)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);

		if (!rt)
			continue;
		kill_case(rt);
		volt_rt_free(rt);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}

/* Everything the stream gives until EOF, into buf (NUL-terminated). */
static size_t read_all(struct volt_stream s, char *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = volt_stream_read_blocking(s, buf + got, cap - 1 - got, DEADLINE);

		CHECK_GE(n, 0);
		if (n == 0)
			break;
		got += (size_t)n;
		CHECK_LT(got, cap - 1);
	}
	buf[got] = '\0';
	return got;
}

VOLT_RT_TEST(process_env_cwd)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);
		char dir[] = "/tmp/volt-proc-XXXXXX", real[PATH_MAX], want[PATH_MAX + 64];
		char out[PATH_MAX + 64];
		char *const envp[] = { "FOO=bar from the parent", "PATH=/usr/bin:/bin", NULL };
		struct volt_exit_status st;
		struct volt_command cmd;
		struct volt_child child;

		if (!rt)
			continue;
		CHECK(mkdtemp(dir) != NULL);
		CHECK(realpath(dir, real) != NULL);
		/* no '/' in the name: found through PATH */
		volt_command_init(&cmd, "sh", SH("echo \"$FOO\"; pwd -P; echo \"$HOME\""));
		cmd.envp = envp;
		cmd.cwd = dir;
		cmd.stdio[1] = VOLT_STDIO_PIPED;
		cmd.stdio[0] = VOLT_STDIO_NULL;
		CHECK_OK(volt_child_spawn(rt, &cmd, &child));
		CHECK(child.out.h.rt != NULL);
		CHECK(child.in.h.rt == NULL && child.err.h.rt == NULL);
		read_all(child.out, out, sizeof(out));
		snprintf(want, sizeof(want), "bar from the parent\n%s\n\n", real);
		CHECK_STR_EQ(out, want);
		CHECK_OK(volt_child_wait_blocking(&child, &st, DEADLINE));
		CHECK(st.exited && st.code == 0);
		CHECK_OK(volt_stream_close(child.out));
		volt_child_release(&child);
		CHECK_OK(rmdir(dir));
		volt_rt_free(rt);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}

/* The writer: 8 MiB of the pattern into the child's stdin, then close it (EOF). */
struct feed_task {
	struct volt_future base;
	struct volt_io_op op;
	struct volt_stream in;
	const unsigned char *buf;
	size_t len;
};

static enum volt_poll feed_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct feed_task *t = (struct feed_task *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_stream_write_all(&t->op, t->in, t->buf, t->len));
	(void)volt_stream_close(t->in);
	VOLT_RETURN(f, cx, t->op.result);
	VOLT_END(f);
}

static const struct volt_future_ops feed_ops = { feed_poll, NULL };

VOLT_RT_TEST(process_cat_8mib)
{
	const size_t len = 8u << 20;
	unsigned char *src = malloc(len), *got = malloc(len + 1); /* +1: the read past the end */
	const char *d;

	CHECK(src && got);
	vt_pattern(src, len, 12, 0);
	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);
		struct volt_exit_status st;
		struct volt_command cmd;
		struct volt_child child;
		size_t off = 0;

		if (!rt)
			continue;
		volt_command_init(&cmd, "cat", NULL); /* argv NULL: { "cat", NULL } */
		cmd.stdio[0] = cmd.stdio[1] = VOLT_STDIO_PIPED;
		CHECK_OK(volt_child_spawn(rt, &cmd, &child));

		struct feed_task t = { .in = child.in, .buf = src, .len = len };

		volt_future_init(&t.base, &feed_ops);
		struct volt_join *writer = vt_spawn(rt, &t, sizeof(t), false);

		memset(got, 0, len);
		for (;;) {
			ssize_t n = volt_stream_read_blocking(child.out, got + off,
							      off < len ? len - off : 1, DEADLINE);

			CHECK_GE(n, 0);
			if (n == 0)
				break;
			off += (size_t)n;
			CHECK_LE(off, len);
		}
		CHECK_EQ(off, len);
		CHECK(memcmp(got, src, len) == 0);
		CHECK_EQ((intptr_t)vt_join(writer), (intptr_t)len);
		CHECK_OK(volt_child_wait_blocking(&child, &st, DEADLINE));
		CHECK(st.exited && st.code == 0);
		CHECK_OK(volt_stream_close(child.out));
		CHECK_EQ(volt_stream_close(child.in), -EBADF); /* the writer closed it */
		volt_child_release(&child);
		volt_rt_free(rt);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
	free(src);
	free(got);
}

VOLT_RT_TEST(process_missing)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);
		struct volt_command cmd;
		struct volt_child child = { .pid = 77 };

		if (!rt)
			continue;
		volt_command_init(&cmd, "/nonexistent/volt-no-such-program", NULL);
		cmd.stdio[0] = cmd.stdio[1] = cmd.stdio[2] = VOLT_STDIO_PIPED;
		CHECK_EQ(volt_child_spawn(rt, &cmd, &child), -ENOENT);
		CHECK_EQ(child.pid, 77); /* untouched */
		volt_command_init(&cmd, "volt-no-such-program-in-path", NULL);
		cmd.stdio[1] = VOLT_STDIO_PIPED;
		CHECK_EQ(volt_child_spawn(rt, &cmd, &child), -ENOENT);
		volt_command_init(&cmd, "/bin/true", NULL);
		cmd.cwd = "/nonexistent/volt-no-such-dir";
		CHECK_EQ(volt_child_spawn(rt, &cmd, &child), -ENOENT);
		volt_command_init(&cmd, "", NULL);
		CHECK_EQ(volt_child_spawn(rt, &cmd, &child), -EINVAL);
		volt_command_init(&cmd, "/bin/true", NULL);
		cmd.stdio[2] = (enum volt_stdio)7;
		CHECK_EQ(volt_child_spawn(rt, &cmd, &child), -EINVAL);
		CHECK_EQ(volt_child_spawn(rt, NULL, &child), -EINVAL);
		CHECK_EQ(volt_child_spawn(rt, &cmd, NULL), -EINVAL);
		volt_rt_free(rt);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}

/* Drop the handle and a pending wait while `sleep` runs: it is reaped all the same. */
static void no_zombie_case(struct volt_rt *rt)
{
	struct volt_exit_status st;
	struct volt_child child;
	struct volt_join *j;
	pid_t pid;

	spawn_sh(rt, "exec sleep 0.2", &child);
	pid = child.pid;
	j = spawn_wait(rt, &child, &st);
	CHECK_OK(volt_join_cancel(j));
	CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
	volt_child_release(&child);
	VT_WAIT_FOR(reaped(pid)); /* the runner's timeout fails a child never reaped */
}

VOLT_RT_TEST(process_no_zombie)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);

		if (!rt)
			continue;
		no_zombie_case(rt);
		volt_rt_free(rt);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}

/* pidfds this process holds (/proc/self/fd links to "anon_inode:[pidfd]"). */
static int pidfd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], link[64];
	int n = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		n += strcmp(link, "anon_inode:[pidfd]") == 0;
	}
	closedir(d);
	return n;
}

/* pidfds a running child costs the parent: 1 with a pidfd, 0 without. */
static int pidfd_cost(struct volt_rt *rt)
{
	struct volt_exit_status st;
	struct volt_child child;
	int cost;

	/* an earlier child's pidfd goes when its reaper's last operation lets go */
	VT_WAIT_FOR(pidfd_count() == 0);
	spawn_sh(rt, "exec sleep 30", &child);
	cost = pidfd_count();
	CHECK_OK(volt_child_kill(&child, SIGKILL));
	CHECK_OK(volt_child_wait_blocking(&child, &st, DEADLINE));
	CHECK_EQ(st.signo, SIGKILL);
	volt_child_release(&child);
	return cost;
}

VOLT_RT_TEST(process_fallback)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);
		struct volt_exit_status st;
		struct volt_child child;

		if (!rt)
			continue;
		sigset_t mask, saved;

		CHECK_OK(pthread_sigmask(SIG_BLOCK, NULL, &saved));
		CHECK_OK(unsetenv("VOLT_PROCESS_NO_PIDFD"));
		CHECK_EQ(pidfd_cost(rt), 1); /* this kernel has pidfd_open */
		CHECK_OK(pthread_sigmask(SIG_BLOCK, NULL, &mask));
		CHECK(!sigismember(&mask, SIGCHLD)); /* no SIGCHLD subscription with pidfds */
		CHECK_OK(setenv("VOLT_PROCESS_NO_PIDFD", "1", 1));
		CHECK_EQ(pidfd_cost(rt), 0);
		/* the SIGCHLD subscription was made from this thread: SIGCHLD is blocked here */
		CHECK_OK(pthread_sigmask(SIG_BLOCK, NULL, &mask));
		CHECK(sigismember(&mask, SIGCHLD));
		spawn_sh(rt, "exit 3", &child);
		CHECK_OK(volt_child_wait_blocking(&child, &st, DEADLINE));
		CHECK(st.exited && st.code == 3);
		volt_child_release(&child);
		spawn_sh(rt, "kill -TERM $$; sleep 5", &child);
		await_exit(rt, &child, &st);
		CHECK(st.signaled && st.signo == SIGTERM);
		volt_child_release(&child);
		kill_case(rt);
		no_zombie_case(rt);
		CHECK_OK(unsetenv("VOLT_PROCESS_NO_PIDFD"));
		volt_rt_free(rt);
		/* SIGCHLD's default action is to ignore it: unblocking it is harmless */
		CHECK_OK(pthread_sigmask(SIG_SETMASK, &saved, NULL));
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}

VOLT_RT_TEST(process_rt_free)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		int fds = vt_fd_count(NULL);
		struct volt_rt *rt = proc_rt(policy, d);
		struct volt_exit_status st;
		struct volt_child child;

		if (!rt)
			continue;
		spawn_sh(rt, "exec sleep 30", &child);
		CHECK_EQ(volt_child_try_wait(&child, &st), -EAGAIN);
		volt_rt_free(rt);
		CHECK(reaped(child.pid));
		CHECK_OK(volt_child_try_wait(&child, &st));
		CHECK(st.signaled && st.signo == SIGKILL);
		CHECK_OK(volt_child_wait_blocking(&child, &st, DEADLINE));
		CHECK_EQ(volt_child_kill(&child, SIGTERM), -ESRCH);
		volt_child_release(&child);
		CHECK_EQ(vt_fd_count_settled(fds), fds);
	}
}
