/* SPDX-License-Identifier: MIT */
/*
 * io/pipe.c: pipes and adopted descriptors as stream handles.
 *
 * A pipe end is an ordinary stream source (VOLT__SRC_STREAM): the source
 * table notes it is not a socket, so the epoll driver's system calls are
 * read(2)/write(2) instead of recv/send, and io_uring queues READ/WRITE.
 * The `sim` driver has no kernel descriptors: -EOPNOTSUPP there, before
 * anything is opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rt.h"
#include "drivers/source.h"
#include "io/rw_internal.h"
#include "net/op.h"

static void sigpipe_ignore(void)
{
	struct sigaction old, ign = { .sa_handler = SIG_IGN };

	if (sigaction(SIGPIPE, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
	    old.sa_handler == SIG_DFL)
		(void)sigaction(SIGPIPE, &ign, NULL);
}

void volt__sigpipe_ignore_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, sigpipe_ignore);
}

/* rt (or the current runtime) if it can hold kernel descriptors: 0, -EINVAL or -EOPNOTSUPP. */
static int real_fd_runtime(struct volt_rt **rt)
{
	*rt = volt__rt_or_current(*rt);
	if (!*rt)
		return -EINVAL;
	const char *driver = volt_rt_driver(*rt);

	return driver && !strcmp(driver, "sim") ? -EOPNOTSUPP : 0;
}

int volt_pipe(struct volt_rt *rt, struct volt_stream *rd, struct volt_stream *wr)
{
	int fds[2], ret;

	if (!rd || !wr)
		return -EINVAL;
	ret = real_fd_runtime(&rt);
	if (ret)
		return ret;
	volt__sigpipe_ignore_once();
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	ret = volt__source_open(rt, fds[0], VOLT__SRC_STREAM, &rd->h);
	if (ret) {
		close(fds[1]);
		return ret;
	}
	ret = volt__source_open(rt, fds[1], VOLT__SRC_STREAM, &wr->h);
	if (ret) {
		(void)volt_stream_close(*rd);
		return ret;
	}
	return 0;
}

int volt_stream_from_fd(struct volt_rt *rt, int fd, struct volt_stream *out)
{
	int ret, flags;

	if (fd < 0 || !out)
		return -EINVAL;
	ret = real_fd_runtime(&rt);
	if (ret)
		return ret;
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return -EINVAL; /* files are volt/fs.h's: epoll cannot wait on them */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		volt__sigpipe_ignore_once();
	return volt__source_open(rt, fd, VOLT__SRC_STREAM, &out->h);
}
