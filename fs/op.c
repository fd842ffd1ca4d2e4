/* SPDX-License-Identifier: MIT */
/*
 * fs/op.c: the one future behind every file operation, on io_uring or on
 * the blocking pool.
 *
 * Three paths. A read, write or sync of an open file under the uring
 * driver is a driver operation (VOLT__OP_PREAD/PWRITE/FSYNC,
 * drivers/uring.c) run by the socket operation's future (net/op.c)
 * embedded in the volt_fs_op: the kernel reads into the driver's record and
 * the bytes are copied out on completion, so a dropped read never reaches
 * the caller's buffer. Open, stat, rename, remove and mkdir under uring
 * (when the kernel has the opcodes) are driver operations without a
 * source (VOLT__OP_OPENAT...), polled here (path_poll) on arguments kept
 * in the job, whose paths the driver copies into its record at
 * submission. Everything else, and every operation under epoll or sim (a
 * regular file is always "ready": readiness cannot tell when a read would
 * block on the disk), is a *job* on the blocking pool.
 *
 * A job owns everything its system calls touch: the copied paths, a
 * buffer of its own for a read (copied out when the future completes) and
 * a copy of a write's bytes, the struct it stats into, the listing, and a
 * reference on the file's source (so the descriptor outlives the job even
 * if the file is closed meanwhile). Nothing on the pool thread points into
 * the future, so the caller may drop it (or volt_spawn may copy it) at any
 * time.
 *
 * Who frees the job (the scheme of net/resolve.c):
 * - never submitted (dropped before the first poll, submission failed):
 *   the future, at once;
 * - finished while the future waits: the future, in the poll that takes
 *   the answer;
 * - the future is dropped while the job is queued or running: the drop
 *   polls the pool's future once more with an "orphan" waker naming the
 *   job (volt__blocking_orphan, core/blocking.c). Done already: the drop frees it. Otherwise the pool holds that
 *   waker and wakes it exactly once when the job ends (ran, or cancelled
 *   by shutdown before it ran); the wake frees the job, closing a
 *   descriptor a dropped open made and freeing a dropped read_file's bytes.
 * The pool's lock orders the drop's poll against the job's end, so exactly
 * one side frees. The pool is shut down before the sources (core/runtime.c),
 * so an orphan's source reference is always let go before the table goes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io.h"
#include "core/live.h"
#include "core/rt.h"
#include "drivers/source.h"
#include "fs/fs_op.h"
#include "net/op.h"

/*
 * A pool job moves at most this much: a read is short (as files allow), a
 * write is copied and written in pieces of this size, one job each, so a
 * large write never needs a copy of its whole buffer.
 */
#define POOL_CHUNK (1u << 20)

_Static_assert(sizeof(struct volt_fs_op) <= VOLT_RW_OP_SPACE, "volt_rw_file's op must fit");
_Static_assert(VOLT_FS_DATASYNC == VOLT__FSYNC_DATA, "a sync's flag reaches the job as is");

/* ST_URING: a file's driver operation; ST_PATH: a path's (no source); ST_WAITING: the pool. */
enum { ST_INIT = 0, ST_URING, ST_PATH, ST_WAITING, ST_DONE };

struct fs_job {
	struct volt_blocking_future bf; /* waits for the pool; heap, so never moves */
	bool submitted;                 /* bf is live */
	uint8_t kind;
	int flags;
	mode_t mode;
	int64_t offset;                 /* -1: the file position */
	size_t len;                     /* read: wanted; write: bytes in data; read_file: cap */
	ssize_t result;                 /* written by the job */
	struct volt__source *src;       /* file operations: referenced */
	struct volt_rt *rt;
	char *data;                     /* the job's bytes (read, write, read_file) */
	size_t data_len;
	struct volt_stat st;
	struct volt_dirlist dir;
	struct volt__path_args args;    /* a path operation on io_uring */
	struct statx stx;               /* its statx */
	char *path2;                    /* inside `path`'s allocation */
	char path[];
};

/* ------------------------------------------------------------ the jobs */

static ssize_t neg_errno(ssize_t r)
{
	return r < 0 ? -errno : r;
}

static void fill_statx(struct volt_stat *out, const struct statx *st)
{
	out->size = st->stx_size;
	out->ino = st->stx_ino;
	out->mtime_ns = st->stx_mtime.tv_sec * 1000000000 + st->stx_mtime.tv_nsec;
	out->mode = st->stx_mode;
	out->nlink = st->stx_nlink;
}

static void fill_stat(struct volt_stat *out, const struct stat *st)
{
	out->size = (uint64_t)st->st_size;
	out->ino = (uint64_t)st->st_ino;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	out->mode = (uint32_t)st->st_mode;
	out->nlink = (uint32_t)st->st_nlink;
}

/* Writes all len bytes at offset (-1: the position): len or -errno. */
static ssize_t write_all(int fd, const char *p, size_t len, int64_t offset)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = offset < 0 ? write(fd, p + done, len - done)
				       : pwrite(fd, p + done, len - done,
						(off_t)(offset + (int64_t)done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (ssize_t)len;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The listing of path, sorted, in one allocation. */
static int list_dir(const char *path, struct volt_dirlist *out)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	size_t count = 0, bytes = 0;
	char *names = NULL;

	if (!dir)
		return -errno;
	/* pass 1: the names, packed one after the other */
	for (errno = 0; (e = readdir(dir)); errno = 0) {
		size_t n = strlen(e->d_name) + 1;
		char *more;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!(more = realloc(names, bytes + n))) {
			free(names);
			closedir(dir);
			return -ENOMEM;
		}
		names = more;
		memcpy(names + bytes, e->d_name, n);
		bytes += n;
		count++;
	}
	int err = -errno;

	closedir(dir);
	if (err) {
		free(names);
		return err;
	}
	/* pass 2: one block, the pointer array then the strings */
	char **v = malloc((count + 1) * sizeof(char *) + bytes);

	if (!v) {
		free(names);
		return -ENOMEM;
	}
	char *s = (char *)(v + count + 1);

	if (bytes)
		memcpy(s, names, bytes);
	free(names);
	for (size_t i = 0; i < count; i++) {
		v[i] = s;
		s += strlen(s) + 1;
	}
	v[count] = NULL;
	qsort(v, count, sizeof(char *), cmp_names);
	out->names = v;
	out->count = count;
	return 0;
}

/* The whole file, at most cap bytes: 0 with job->data/data_len, or -errno (-EFBIG). */
static ssize_t read_whole(struct fs_job *job)
{
	int fd = open(job->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t have = 0, room;
	ssize_t ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size > job->len) {
		ret = -EFBIG;
		goto out;
	}
	room = (size_t)st.st_size + 1; /* +1: the NUL, and the read that sees the end */
	if (!(job->data = malloc(room + 1))) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (have == room) { /* it grew since fstat */
			char *more;

			if (room > job->len) {
				ret = -EFBIG;
				break;
			}
			room = room * 2 > job->len + 1 ? job->len + 1 : room * 2;
			if (!(more = realloc(job->data, room + 1))) {
				ret = -ENOMEM;
				break;
			}
			job->data = more;
		}
		ssize_t n = read(fd, job->data + have, room - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : 0;
			break;
		}
		have += (size_t)n;
	}
	if (!ret && have > job->len)
		ret = -EFBIG;
	if (ret) {
		free(job->data);
		job->data = NULL;
	} else {
		job->data[have] = '\0';
		job->data_len = have;
	}
out:
	close(fd);
	return ret;
}

static ssize_t write_whole(struct fs_job *job)
{
	int fd = open(job->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	ssize_t ret;

	if (fd < 0)
		return -errno;
	ret = write_all(fd, job->data, job->data_len, -1);
	if (ret >= 0 && (job->flags & VOLT_FS_SYNC) && fsync(fd))
		ret = -errno;
	if (close(fd) && ret >= 0 && errno != EINTR)
		ret = -errno; /* NFS and the like report write errors here */
	return ret < 0 ? ret : 0;
}

static ssize_t run(struct fs_job *job)
{
	int fd = job->src ? job->src->fd : -1;
	struct stat st;
	ssize_t r;

	switch (job->kind) {
	case VOLT__FS_OPEN:
		do
			r = neg_errno(open(job->path, job->flags | O_CLOEXEC, job->mode));
		while (r == -EINTR);
		return r;
	case VOLT__FS_READ:
		do
			r = neg_errno(job->offset < 0 ? read(fd, job->data, job->len)
						      : pread(fd, job->data, job->len,
							      (off_t)job->offset));
		while (r == -EINTR);
		return r;
	case VOLT__FS_WRITE:
		return write_all(fd, job->data, job->data_len, job->offset);
	case VOLT__FS_SYNC:
		return neg_errno((job->flags & VOLT_FS_DATASYNC) ? fdatasync(fd) : fsync(fd));
	case VOLT__FS_FSTAT:
	case VOLT__FS_STAT:
		r = job->kind == VOLT__FS_FSTAT ? fstat(fd, &st) : stat(job->path, &st);
		if (r)
			return -errno;
		fill_stat(&job->st, &st);
		return 0;
	case VOLT__FS_READDIR:
		return list_dir(job->path, &job->dir);
	case VOLT__FS_RENAME:
		return neg_errno(rename(job->path, job->path2));
	case VOLT__FS_REMOVE:
		r = neg_errno(unlink(job->path));
		if (r == -EISDIR) /* Linux's answer for a directory */
			r = neg_errno(rmdir(job->path));
		return r;
	case VOLT__FS_MKDIR:
		return neg_errno(mkdir(job->path, job->mode));
	case VOLT__FS_READ_FILE:
		return read_whole(job);
	case VOLT__FS_WRITE_FILE:
		return write_whole(job);
	default:
		return -EINVAL;
	}
}

/* Runs on a pool thread. */
static void *job_run(void *arg)
{
	struct fs_job *job = arg;

	job->result = run(job);
	return NULL;
}

/* Frees the job and whatever it still owns (an answer nobody took). */
static void job_free(struct fs_job *job)
{
	if (job->kind == VOLT__FS_OPEN && job->result >= 0)
		close((int)job->result); /* a dropped open's descriptor */
	free(job->data);
	volt_dirlist_free(&job->dir);
	if (job->src)
		volt__source_put(job->src);
	if (job->submitted)
		volt_future_drop(&job->bf.base); /* releases the pool handle */
	free(job);
}

static struct fs_job *job_new(enum volt__fs_kind kind, const char *path, const char *path2)
{
	size_t n = path ? strlen(path) + 1 : 0, n2 = path2 ? strlen(path2) + 1 : 0;
	struct fs_job *job = malloc(sizeof(*job) + n + n2);

	if (!job)
		return NULL;
	memset(job, 0, sizeof(*job));
	job->kind = (uint8_t)kind;
	job->offset = -1;
	job->result = -ECANCELED; /* until it runs: never a descriptor to close */
	if (path)
		memcpy(job->path, path, n);
	job->path2 = job->path + n;
	if (path2)
		memcpy(job->path2, path2, n2);
	return job;
}

/* An orphan's release (volt__blocking_orphan): the pool is done with the job. */
static void job_release(struct volt_blocking_future *bf)
{
	job_free((struct fs_job *)bf); /* bf is its first member; job_free drops it */
}

/* ---------------------------------------------------------- the future */

static bool is_file_kind(int kind)
{
	return kind == VOLT__FS_READ || kind == VOLT__FS_WRITE || kind == VOLT__FS_SYNC ||
	       kind == VOLT__FS_FSTAT;
}

static bool is_path_native_kind(int kind)
{
	return kind == VOLT__FS_OPEN || kind == VOLT__FS_STAT || kind == VOLT__FS_RENAME ||
	       kind == VOLT__FS_REMOVE || kind == VOLT__FS_MKDIR;
}

bool volt__fs_native(const struct volt_rt *rt, enum volt__fs_kind kind)
{
	if (!rt || rt->io.ops != &volt__driver_uring)
		return false;
	if (kind == VOLT__FS_READ || kind == VOLT__FS_WRITE || kind == VOLT__FS_SYNC)
		return true;
	return is_path_native_kind(kind) && volt__uring_path_ops(rt->io.drv);
}

/* ---- a path operation on io_uring: the driver's operation, without a source */

/*
 * The first poll of a path operation under uring: its driver operation in
 * f->io, on the arguments in the job (which stays the future's: the driver
 * copies the paths at submission). False: the pool runs it (another
 * driver, a kernel without the opcodes, paths too long for the record).
 */
static bool start_path(struct volt_fs_op *f, struct fs_job *job)
{
	static const uint8_t opcode[] = {
		[VOLT__FS_OPEN] = VOLT__OP_OPENAT,	[VOLT__FS_STAT] = VOLT__OP_STATX,
		[VOLT__FS_RENAME] = VOLT__OP_RENAMEAT,	[VOLT__FS_REMOVE] = VOLT__OP_UNLINKAT,
		[VOLT__FS_MKDIR] = VOLT__OP_MKDIRAT,
	};
	bool two = job->kind == VOLT__FS_RENAME;
	size_t bytes = strlen(job->path) + 1 + (two ? strlen(job->path2) + 1 : 0);

	if (!volt__fs_native(job->rt, job->kind) || bytes > VOLT__PATH_ARGS_MAX)
		return false;
	job->args = (struct volt__path_args){
		.path = job->path,
		.path2 = two ? job->path2 : NULL,
		.flags = job->kind == VOLT__FS_OPEN ? job->flags : 0,
		.mode = (unsigned)job->mode,
		.statx_out = &job->stx,
	};
	(void)volt__op_init(&f->io, (struct volt_handle){ job->rt, 0, 0 }, opcode[job->kind],
			    &job->args, 0, NULL);
	f->state = ST_PATH;
	return true;
}

/* Runs the driver operation (counted as pending I/O while it waits, as net/op.c does). */
static enum volt_poll path_poll(struct volt_fs_op *f, struct volt_cx *cx)
{
	struct volt_rt *rt = f->io.h.rt;

	if (!volt_budget_take(cx)) {
		volt_waker_wake_by_ref(&cx->waker);
		return VOLT_PENDING;
	}
	if (rt->io.ops->op_poll(rt->io.drv, &f->io, cx) == VOLT_PENDING) {
		if (!(f->io.flags & VOLT__OPF_COUNTED)) {
			f->io.flags |= VOLT__OPF_COUNTED;
			volt__io_pending(rt, 1);
		}
		return VOLT_PENDING;
	}
	if (f->io.flags & VOLT__OPF_COUNTED) {
		f->io.flags &= (uint16_t)~VOLT__OPF_COUNTED;
		volt__io_pending(rt, -1);
	}
	return VOLT_READY;
}

static void path_drop(struct volt_fs_op *f)
{
	struct volt_rt *rt = f->io.h.rt;

	rt->io.ops->op_drop(rt->io.drv, &f->io); /* an orphaned openat's descriptor: closed */
	if (f->io.flags & VOLT__OPF_COUNTED) {
		f->io.flags &= (uint16_t)~VOLT__OPF_COUNTED;
		volt__io_pending(rt, -1);
	}
}

/*
 * The first poll of a file operation: a job on the pool taking a
 * reference on the source, or (uring) the driver operation already
 * prepared in f->io. 0, or the error that ends the future.
 */
static int start_file(struct volt_fs_op *f)
{
	struct volt__source *s = volt__source_get(f->io.h);
	struct fs_job *job;

	if (!s)
		return volt__source_error(f->io.h);
	if (volt__fs_native(s->rt, f->kind)) {
		volt__source_put(s); /* the driver operation takes its own */
		f->state = ST_URING;
		return 0;
	}
	if (!(job = job_new(f->kind, NULL, NULL))) {
		volt__source_put(s);
		return -ENOMEM;
	}
	job->src = s;
	job->rt = s->rt;
	job->offset = f->io.offset;
	job->flags = f->io.msg_flags;
	if (f->kind == VOLT__FS_READ) {
		job->len = f->io.len > POOL_CHUNK ? POOL_CHUNK : f->io.len;
		job->data = malloc(job->len ? job->len : 1);
	} else if (f->kind == VOLT__FS_WRITE) {
		size_t left = f->io.len - f->io.done;

		job->data_len = left > POOL_CHUNK ? POOL_CHUNK : left;
		job->data = malloc(job->data_len ? job->data_len : 1);
		if (job->data && job->data_len)
			memcpy(job->data, (const char *)f->io.buf + f->io.done, job->data_len);
		if (job->offset >= 0)
			job->offset += (int64_t)f->io.done;
	}
	if ((f->kind == VOLT__FS_READ || f->kind == VOLT__FS_WRITE) && !job->data) {
		job_free(job);
		return -ENOMEM;
	}
	f->job = job;
	return 0;
}

/* Submits f's job; 0, or the error that ends the future. */
static int submit(struct fs_job *job)
{
	struct volt_blocking *h;
	int err = volt_concurrent(job->rt, job_run, job, &h);

	if (err)
		return err == -ESHUTDOWN ? -ECANCELED : err;
	volt_blocking_await(&job->bf, h);
	job->submitted = true;
	return 0;
}

/* Takes the job's answer into f's caller's places and frees the job. */
static void finish(struct volt_fs_op *f, struct fs_job *job)
{
	ssize_t r = job->bf.result ? job->bf.result : job->result; /* -ECANCELED: shut down */

	if (r >= 0 && job->kind == VOLT__FS_WRITE)
		r += (ssize_t)f->io.done; /* the pieces before this one */
	if (r >= 0) {
		switch (job->kind) {
		case VOLT__FS_OPEN: {
			struct volt_handle h;

			r = volt__source_open(job->rt, (int)job->result, VOLT__SRC_FILE, &h);
			job->result = -1; /* the source owns (or closed) the descriptor */
			if (!r)
				((struct volt_file *)f->out)->h = h;
			break;
		}
		case VOLT__FS_READ:
			if (r > 0)
				memcpy(f->out, job->data, (size_t)r);
			break;
		case VOLT__FS_FSTAT:
		case VOLT__FS_STAT:
			*(struct volt_stat *)f->out = job->st;
			break;
		case VOLT__FS_READDIR:
			*(struct volt_dirlist *)f->out = job->dir;
			job->dir = (struct volt_dirlist){ NULL, 0 };
			break;
		case VOLT__FS_READ_FILE:
			*(void **)f->out = job->data;
			if (f->out2)
				*(size_t *)f->out2 = job->data_len;
			job->data = NULL;
			break;
		default:
			break;
		}
	}
	f->result = r;
	job_free(job);
	f->job = NULL;
	f->state = ST_DONE;
}

/* Ends f with err, freeing a job that was never submitted (or failed to be). */
static enum volt_poll fail(struct volt_fs_op *f, int err)
{
	if (f->job)
		job_free(f->job);
	f->job = NULL;
	f->result = err;
	f->state = ST_DONE;
	return VOLT_READY;
}

static enum volt_poll fs_poll(struct volt_future *base, struct volt_cx *cx)
{
	struct volt_fs_op *f = (struct volt_fs_op *)base;
	int err = 0;

	if (f->state == ST_DONE)
		return VOLT_READY;
	if (f->state == ST_INIT) {
		if (is_file_kind(f->kind) && !f->result)
			err = start_file(f);
		else if (!f->job)
			err = (int)f->result; /* init's error */
		else
			(void)start_path(f, f->job);
		if (!err && f->state == ST_INIT)
			err = submit(f->job);
		if (err)
			return fail(f, err);
		if (f->state == ST_INIT)
			f->state = ST_WAITING;
	}
	if (f->state == ST_URING) {
		if (volt_future_poll(&f->io.base, cx) == VOLT_PENDING)
			return VOLT_PENDING;
		f->result = f->io.result;
		f->state = ST_DONE;
		return VOLT_READY;
	}
	if (f->state == ST_PATH) {
		struct fs_job *job = f->job;

		if (path_poll(f, cx) == VOLT_PENDING)
			return VOLT_PENDING;
		if (job->kind == VOLT__FS_REMOVE && f->io.result == -EISDIR && !job->args.flags) {
			job->args.flags = AT_REMOVEDIR; /* Linux's answer for a directory */
			f->io.result = 0;
			return fs_poll(base, cx); /* the driver starts a new operation */
		}
		job->result = f->io.result;
		if (job->kind == VOLT__FS_STAT && job->result == 0)
			fill_statx(&job->st, &job->stx);
		finish(f, job);
		return VOLT_READY;
	}
	for (;;) {
		struct fs_job *job = f->job;

		if (volt_future_poll(&job->bf.base, cx) == VOLT_PENDING)
			return VOLT_PENDING;
		if (job->kind != VOLT__FS_WRITE || job->bf.result || job->result < 0 ||
		    f->io.done + (size_t)job->result >= f->io.len) {
			finish(f, job);
			return VOLT_READY;
		}
		/* a write's next piece: a new job (and a new reference on the file) */
		f->io.done += (size_t)job->result;
		job_free(job);
		f->job = NULL;
		err = start_file(f);
		if (!err)
			err = submit(f->job);
		if (err)
			return fail(f, err); /* f->io.done bytes were written */
	}
}

static void fs_drop(struct volt_future *base)
{
	struct volt_fs_op *f = (struct volt_fs_op *)base;
	struct fs_job *job = f->job;

	if (f->state == ST_URING) {
		volt_future_drop(&f->io.base); /* the driver cancels; its record keeps the buffer */
		f->state = ST_DONE;
		return;
	}
	if (f->state == ST_PATH)
		path_drop(f); /* the record has its own copy of the paths: the job can go */
	f->state = ST_DONE;
	if (!job)
		return;
	f->job = NULL;
	if (!job->submitted) {
		job_free(job);
		return;
	}
	volt__blocking_orphan(&job->bf, job->rt, job_release);
}

static const struct volt_future_ops fs_ops = { .poll = fs_poll, .drop = fs_drop };

static void fs_init(struct volt_fs_op *f, enum volt__fs_kind kind, void *out, void *out2)
{
	volt_future_init(&f->base, &fs_ops);
	f->job = NULL;
	f->out = out;
	f->out2 = out2;
	f->kind = (uint8_t)kind;
	f->state = ST_INIT;
	f->result = 0;
}

struct volt_future *volt__fs_file_op(struct volt_fs_op *f, enum volt__fs_kind kind,
				     struct volt_file file, void *buf, size_t len,
				     int64_t offset, int flags, void *out)
{
	static const uint8_t opcode[] = {
		[VOLT__FS_READ] = VOLT__OP_PREAD,
		[VOLT__FS_WRITE] = VOLT__OP_PWRITE,
		[VOLT__FS_SYNC] = VOLT__OP_FSYNC,
		[VOLT__FS_FSTAT] = VOLT__OP_FSYNC, /* unused: always on the pool */
	};

	fs_init(f, kind, out, NULL);
	(void)volt__op_init(&f->io, file.h, opcode[kind], buf, len, NULL);
	f->io.offset = offset;
	f->io.loop = kind == VOLT__FS_WRITE; /* a write writes everything */
	if (kind == VOLT__FS_READ)
		f->out = buf;
	if (len > SSIZE_MAX || (len && !buf) || offset < -1 ||
	    (kind == VOLT__FS_FSTAT && !out))
		f->result = -EINVAL;
	/* the driver's flag (uring), and the pool's (start_file copies msg_flags) */
	if (kind == VOLT__FS_SYNC && (flags & VOLT_FS_DATASYNC))
		f->io.msg_flags = VOLT__FSYNC_DATA;
	return &f->base;
}

struct volt_future *volt__fs_path_op(struct volt_fs_op *f, enum volt__fs_kind kind,
				     struct volt_rt *rt, const struct volt__fs_args *a,
				     void *out, void *out2)
{
	struct fs_job *job;

	fs_init(f, kind, out, out2);
	rt = volt__rt_or_current(rt);
	if (!rt || !a->path || !a->path[0] ||
	    (kind == VOLT__FS_RENAME && (!a->path2 || !a->path2[0])) ||
	    (a->len && !a->data) || a->len > SSIZE_MAX ||
	    ((kind == VOLT__FS_OPEN || kind == VOLT__FS_STAT || kind == VOLT__FS_READDIR ||
	      kind == VOLT__FS_READ_FILE) && !out)) {
		f->result = -EINVAL;
		return &f->base;
	}
	if (!volt__live(rt)) {
		f->result = -ESHUTDOWN;
		return &f->base;
	}
	if (!(job = job_new(kind, a->path, kind == VOLT__FS_RENAME ? a->path2 : NULL))) {
		f->result = -ENOMEM;
		return &f->base;
	}
	job->rt = rt;
	job->flags = a->flags;
	job->mode = a->mode;
	job->len = a->cap;
	if (kind == VOLT__FS_WRITE_FILE) {
		job->data_len = a->len;
		if (!(job->data = malloc(a->len ? a->len : 1))) {
			job_free(job);
			f->result = -ENOMEM;
			return &f->base;
		}
		if (a->len)
			memcpy(job->data, a->data, a->len);
	}
	f->job = job;
	return &f->base;
}

ssize_t volt__fs_block(struct volt_rt *rt, struct volt_fs_op *f, volt_duration timeout)
{
	return volt__op_block(rt, &f->base, timeout, &f->result);
}
