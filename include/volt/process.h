/* SPDX-License-Identifier: MIT */
/*
 * volt/process.h: child processes: spawn, await exit, kill.
 *
 * A `struct volt_command` says what to run: the program (a path; with no
 * '/' in it, searched in PATH like execvp), its argv, its environment
 * (NULL: this process's), its working directory (NULL: ours) and what
 * each of stdin, stdout and stderr is: inherited, /dev/null, or a pipe.
 * volt_child_spawn() starts it with posix_spawn and fills a caller-owned
 * `struct volt_child`: the pid, and for every piped descriptor the
 * parent's end as a `struct volt_stream` (non-blocking, close-on-exec; the
 * child's end is a plain blocking pipe). Those streams work with every
 * volt_stream_* call and with volt_rw_stream() (volt/rw.h), and are the
 * caller's to close (volt_stream_close; closing the stdin stream is how
 * the child sees end of input). volt_rt_free closes those still open.
 *
 * Exit. The runtime, not the handle, reaps the child: spawn starts a small
 * reaper task that awaits the child's pidfd (pidfd_open, readable when it
 * exits) and reaps it with waitid(P_PIDFD). Where the kernel has no pidfd
 * (before Linux 5.3; or VOLT_PROCESS_NO_PIDFD=1 in the environment, for
 * tests) the reaper waits for SIGCHLD through the runtime's one SIGCHLD
 * subscription (volt/signal.h; the first such spawn blocks SIGCHLD in the
 * calling thread), backed by a timer. So a child is never left a zombie,
 * whether anyone awaits it or not: volt_child_release() may come before
 * the exit. docs/processes.md has the details.
 *
 * At volt_rt_free a child still running is killed (SIGKILL) and reaped:
 * a runtime that is gone can no longer reap it, and leaving it running
 * would leave either a zombie or a stray process behind. Wait for the
 * children you want to finish before freeing the runtime.
 *
 * Forms, as everywhere: try (volt_child_try_wait: -EAGAIN while running),
 * future (volt_child_wait, cancellation-safe: dropping it changes nothing
 * for the child) and blocking (volt_child_wait_blocking with a timeout).
 *
 * SIGPIPE: the first pipe the library makes (a piped stdio, volt_pipe,
 * volt_stream_from_fd on a pipe: volt/rw.h) sets SIGPIPE to SIG_IGN if it
 * was SIG_DFL (as Rust's runtime does at start), so writing to a child
 * that has exited is -EPIPE, not the death of this process. Every child
 * starts with an empty signal mask and default dispositions.
 */
#ifndef VOLT_PROCESS_H
#define VOLT_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "future.h"
#include "net.h"
#include "time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a child's stdin, stdout or stderr is. */
enum volt_stdio {
	VOLT_STDIO_INHERIT = 0, /* this process's descriptor (the default) */
	VOLT_STDIO_NULL,        /* /dev/null */
	VOLT_STDIO_PIPED,       /* a pipe; the parent's end is a volt_stream */
};

/* What to run. Fill it with volt_command_init, then set what differs. */
struct volt_command {
	const char *program;  /* a path, or a name searched in PATH (no '/') */
	char *const *argv;    /* NULL-terminated; NULL: { program, NULL } */
	char *const *envp;    /* NULL-terminated; NULL: this process's environ */
	const char *cwd;      /* NULL: this process's working directory */
	enum volt_stdio stdio[3]; /* [0] stdin, [1] stdout, [2] stderr */
};

/* program and argv as given, the rest inherited. */
VOLT_API void volt_command_init(struct volt_command *cmd, const char *program,
				char *const *argv);

/*
 * How a child ended. Neither exited nor signaled: someone else in this
 * process reaped the child first (a waitpid(-1) of yours), so the status
 * is unknown.
 */
struct volt_exit_status {
	bool exited;      /* it called exit: `code` is the exit code */
	int code;
	bool signaled;    /* a signal ended it: `signo` */
	int signo;
	bool core_dumped; /* with signaled: a core was dumped */
};

struct volt__child;

/*
 * A spawned child. `in`, `out`, `err` are the parent's ends of the piped
 * descriptors (the zero value where not piped); `state` is internal and
 * shared with the reaper. Release it with volt_child_release.
 */
struct volt_child {
	pid_t pid;
	struct volt_stream in;  /* write to the child's stdin */
	struct volt_stream out; /* read the child's stdout */
	struct volt_stream err; /* read the child's stderr */
	struct volt__child *state;
};

/*
 * Starts cmd on rt (NULL: the current runtime). 0 and *out, or -errno:
 * -ENOENT (no such program), -EACCES, -ENOEXEC... as posix_spawn reports
 * the failed exec (never a child exiting with 127), -EINVAL (no program,
 * a bad stdio value, no runtime), -EOPNOTSUPP (the sim driver: no kernel
 * descriptors), -ESHUTDOWN (rt is shutting down), -EMFILE, -ENOMEM. On error nothing is left: no descriptor, no child.
 */
VOLT_API int volt_child_spawn(struct volt_rt *rt, const struct volt_command *cmd,
			      struct volt_child *out);

/*
 * The exit status if the child has been reaped: 0 and *status, or
 * -EAGAIN while it runs, -EINVAL if child was released (or never spawned).
 */
VOLT_API int volt_child_try_wait(const struct volt_child *child, struct volt_exit_status *status);

/*
 * Awaits the exit: when ready, `result` is 0 and `status` filled. It holds
 * a reference of its own, so the child may be released while it waits;
 * dropping it early leaves the child running and still reaped.
 */
struct volt_child_wait {
	struct volt_future base;
	struct volt__child *state;   /* internal */
	struct volt_waiter waiter;   /* internal */
	ssize_t result;              /* 0, or -EINVAL (child released or never spawned) */
	struct volt_exit_status status;
};

VOLT_API struct volt_future *volt_child_wait(struct volt_child_wait *f,
					     const struct volt_child *child);

/*
 * The blocking form: 0 and *status (may be NULL), -ETIMEDOUT, -EDEADLK in
 * a stackless task, -EINVAL. After volt_rt_free, a child it reaped still
 * answers 0; one never seen exiting answers -ESHUTDOWN.
 */
VOLT_API int volt_child_wait_blocking(const struct volt_child *child,
				      struct volt_exit_status *status, volt_duration timeout);

/*
 * Sends signo (1..64) to the child (pidfd_send_signal, or kill without a
 * pidfd, never to a reused pid): 0, -ESRCH once it has been reaped,
 * -EINVAL (bad signo, released child), -EPERM.
 */
VOLT_API int volt_child_kill(const struct volt_child *child, int signo);

/*
 * Lets go of the handle: the child runs on and is reaped when it exits
 * (or killed at volt_rt_free). Piped streams are not closed (they are
 * handles of their own). child->state is NULL afterwards; idempotent.
 */
VOLT_API void volt_child_release(struct volt_child *child);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_PROCESS_H */
