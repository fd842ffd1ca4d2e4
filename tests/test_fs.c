/* SPDX-License-Identifier: MIT */
/*
 * tests/test_fs.c: files (volt/fs.h), every case on both drivers
 * (VT_FOR_EACH_DRIVER) under every policy (VOLT_RT_TEST). The future forms
 * run in a task (vt_run_in_task), the blocking forms on this plain thread.
 *
 *  fs_round_trip     write, read at the position (EOF: 0), pread/pwrite at
 *                    offsets, a short read at the end, stat size, both syncs,
 *                    -EBADF after close (twice, and every operation)
 *  fs_big_write      a 3 MiB write (more than one piece) lands whole
 *  fs_dir_ops        mkdir (-EEXIST again), readdir lists the names sorted,
 *                    rename (the old name is then -ENOENT), remove (a full
 *                    directory is -ENOTEMPTY, an empty one goes), stat
 *  fs_read_file      write_file + read_file round trip; over the cap is
 *                    -EFBIG with nothing returned and the file unchanged
 *  fs_bad_input      -EINVAL for bad arguments, -EBADF for a zero handle,
 *                    the backend table
 *  fs_rw_table       volt_rw_file: a file copied to another through the
 *                    volt_rw ops (read, write, result), byte for byte
 *  fs_dropped_read   a read in flight, dropped, its buffer freed, then the
 *                    bytes arrive: nothing writes into the freed buffer
 *                    (ASan-clean); see the case for how we know it was in
 *                    flight
 *  fs_dropped_open   an open stuck on the pool (a FIFO with no writer),
 *                    dropped: when it completes the descriptor is closed
 *  fs_shutdown_queued  jobs queued on a full pool when the runtime shuts
 *                    down: dropped ones that never ran close nothing
 *  fs_sim_driver     files on the simulation's driver (the pool), and its
 *                    -EOPNOTSUPP for VOLT__OP_POLL
 *
 * Sleeps only order events; no timing is asserted.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "net/op.h"
#include "net_helpers.h"

#define FOREVER VOLT_DURATION_MAX
#define FS_PATH 256 /* our paths are short: /tmp/volt-fs-XXXXXX/sub/a */

/* ------------------------------------------------------------ plumbing */

static struct volt_rt *fs_rt(const char *policy, const char *driver)
{
	snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s", driver);
	return vt_net_rt(policy, 2, driver);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh directory under /tmp: *dir; removed (with what is in it) by rm_tree. */
static void tmp_dir(char dir[64])
{
	snprintf(dir, 64, "/tmp/volt-fs-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void rm_tree(const char *dir)
{
	CHECK_OK(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS));
}

static void join_path(char out[FS_PATH], const char *dir, const char *name)
{
	int n = snprintf(out, FS_PATH, "%s/%s", dir, name);

	CHECK(n > 0 && n < FS_PATH);
}

/* pread until len bytes or the end (io_uring moves at most 16 KiB a call): the count. */
static size_t pread_all(struct volt_file f, unsigned char *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = volt_file_pread_blocking(f, buf + got, len - got, off + (off_t)got,
						     FOREVER);

		CHECK_GE(n, 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* ========================================================= round trip */

#define RT_LEN 100000

VOLT_RT_TEST(fs_round_trip)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		unsigned char *data = malloc(RT_LEN), *back = malloc(RT_LEN);
		char dir[64], path[FS_PATH];
		struct volt_fs_op op;
		struct volt_file f;
		struct volt_stat st;

		if (!rt)
			continue;
		CHECK(data && back);
		vt_pattern(data, RT_LEN, 7, 0);
		tmp_dir(dir);
		join_path(path, dir, "a");

		/* future forms, in a task */
		vt_run_in_task(rt, volt_file_open(&op, rt, path, O_RDWR | O_CREAT | O_TRUNC, 0600,
						  &f));
		CHECK_EQ(op.result, 0);
		vt_run_in_task(rt, volt_file_write(&op, f, data, RT_LEN));
		CHECK_EQ(op.result, RT_LEN);
		/* the position is at the end: a read there is EOF */
		vt_run_in_task(rt, volt_file_read(&op, f, back, 100));
		CHECK_EQ(op.result, 0);
		vt_run_in_task(rt, volt_file_stat(&op, f, &st));
		CHECK_EQ(op.result, 0);
		CHECK_UEQ(st.size, RT_LEN);
		CHECK(S_ISREG(st.mode));
		/* a short read at the end: 10 of the 100 asked */
		vt_run_in_task(rt, volt_file_pread(&op, f, back, 100, RT_LEN - 10));
		CHECK_EQ(op.result, 10);
		CHECK(!memcmp(back, data + RT_LEN - 10, 10));
		/* pwrite in the middle, then the whole file back */
		memcpy(data + 5000, "HELLO", 5);
		vt_run_in_task(rt, volt_file_pwrite(&op, f, "HELLO", 5, 5000));
		CHECK_EQ(op.result, 5);
		CHECK_EQ(pread_all(f, back, RT_LEN, 0), RT_LEN);
		CHECK(!memcmp(back, data, RT_LEN));
		vt_run_in_task(rt, volt_file_sync(&op, f, 0));
		CHECK_EQ(op.result, 0);
		vt_run_in_task(rt, volt_file_sync(&op, f, VOLT_FS_DATASYNC));
		CHECK_EQ(op.result, 0);

		/* blocking forms: pwrite past the end grows the file */
		CHECK_EQ(volt_file_pwrite_blocking(f, "END", 3, RT_LEN, FOREVER), 3);
		CHECK_OK(volt_file_stat_blocking(f, &st, FOREVER));
		CHECK_UEQ(st.size, RT_LEN + 3);
		CHECK_EQ(volt_file_pread_blocking(f, back, 3, RT_LEN, FOREVER), 3);
		CHECK(!memcmp(back, "END", 3));
		CHECK_EQ(volt_file_pread_blocking(f, back, 3, RT_LEN + 3, FOREVER), 0);
		CHECK_OK(volt_file_sync_blocking(f, 0, FOREVER));
		CHECK_OK(volt_fs_stat_blocking(rt, path, &st, FOREVER));
		CHECK_UEQ(st.size, RT_LEN + 3);

		/* reading at the position from a new handle: the first bytes */
		struct volt_file g;

		CHECK_OK(volt_file_open_blocking(rt, path, O_RDONLY, 0, &g, FOREVER));
		CHECK_EQ(volt_file_read_blocking(g, back, 4, FOREVER), 4);
		CHECK_EQ(volt_file_read_blocking(g, back + 4, 4, FOREVER), 4);
		CHECK(!memcmp(back, data, 8));
		/* a read-only file refuses writes */
		CHECK_EQ(volt_file_write_blocking(g, "x", 1, FOREVER), -EBADF);
		CHECK_OK(volt_file_close(g));

		/* after close: -EBADF everywhere, and closing again */
		CHECK_OK(volt_file_close(f));
		CHECK_EQ(volt_file_close(f), -EBADF);
		CHECK_EQ(volt_file_read_blocking(f, back, 1, FOREVER), -EBADF);
		CHECK_EQ(volt_file_pwrite_blocking(f, "x", 1, 0, FOREVER), -EBADF);
		CHECK_EQ(volt_file_sync_blocking(f, 0, FOREVER), -EBADF);
		CHECK_EQ(volt_file_stat_blocking(f, &st, FOREVER), -EBADF);
		vt_run_in_task(rt, volt_file_read(&op, f, back, 1));
		CHECK_EQ(op.result, -EBADF);

		rm_tree(dir);
		free(data);
		free(back);
		volt_rt_free(rt);
	}
}

/*
 * One write larger than a transfer's piece (1 MiB: the driver's buffer on
 * uring, a job's copy on the pool) is written whole, in order, at an
 * offset and at the position.
 */
#define BIG_LEN (3u << 20 | 12345)

VOLT_RT_TEST(fs_big_write)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		unsigned char *data = malloc(BIG_LEN);
		char dir[64], path[FS_PATH];
		struct volt_fs_op op;
		struct volt_file f;
		void *got;
		size_t len;

		if (!rt)
			continue;
		CHECK(data != NULL);
		vt_pattern(data, BIG_LEN, 5, 0);
		tmp_dir(dir);
		join_path(path, dir, "big");
		CHECK_OK(volt_file_open_blocking(rt, path, O_WRONLY | O_CREAT | O_TRUNC, 0600, &f,
						 FOREVER));
		vt_run_in_task(rt, volt_file_pwrite(&op, f, data, BIG_LEN, 100));
		CHECK_EQ(op.result, BIG_LEN);
		CHECK_EQ(volt_file_write_blocking(f, data, BIG_LEN, FOREVER), BIG_LEN); /* at 0 */
		CHECK_OK(volt_file_close(f));
		CHECK_OK(volt_fs_read_file_blocking(rt, path, SIZE_MAX, &got, &len, FOREVER));
		CHECK_EQ(len, BIG_LEN + 100);
		CHECK(!memcmp(got, data, BIG_LEN));            /* the write at the position */
		CHECK(!memcmp((char *)got + BIG_LEN, data + BIG_LEN - 100, 100)); /* pwrite's tail */
		free(got);
		rm_tree(dir);
		free(data);
		volt_rt_free(rt);
	}
}

/* ======================================================= directories */

static void check_names(struct volt_rt *rt, const char *dir, const char *const *want, size_t n)
{
	struct volt_dirlist l = { NULL, 0 };
	struct volt_fs_op op;

	vt_run_in_task(rt, volt_fs_readdir(&op, rt, dir, &l));
	CHECK_EQ(op.result, 0);
	CHECK_EQ(l.count, n);
	for (size_t i = 0; i < n; i++)
		CHECK_MSG(!strcmp(l.names[i], want[i]), "%zu: %s vs %s", i, l.names[i], want[i]);
	CHECK(l.names[n] == NULL);
	volt_dirlist_free(&l);
	CHECK(l.names == NULL && l.count == 0);
}

VOLT_RT_TEST(fs_dir_ops)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		char dir[64], sub[FS_PATH], a[FS_PATH], b[FS_PATH], z[FS_PATH];
		struct volt_fs_op op;
		struct volt_file f;
		struct volt_stat st;

		if (!rt)
			continue;
		tmp_dir(dir);
		join_path(sub, dir, "sub");
		join_path(a, sub, "a");
		join_path(b, sub, "b");
		join_path(z, sub, "z");

		vt_run_in_task(rt, volt_fs_mkdir(&op, rt, sub, 0700));
		CHECK_EQ(op.result, 0);
		vt_run_in_task(rt, volt_fs_mkdir(&op, rt, sub, 0700));
		CHECK_EQ(op.result, -EEXIST);
		CHECK_OK(volt_fs_stat_blocking(rt, sub, &st, FOREVER));
		CHECK(S_ISDIR(st.mode));
		check_names(rt, sub, NULL, 0);

		CHECK_OK(volt_fs_write_file_blocking(rt, b, "b", 1, 0, FOREVER));
		vt_run_in_task(rt, volt_fs_write_file(&op, rt, a, "aa", 2, 0));
		CHECK_EQ(op.result, 0);
		check_names(rt, sub, (const char *const[]){ "a", "b" }, 2);

		vt_run_in_task(rt, volt_fs_rename(&op, rt, a, z));
		CHECK_EQ(op.result, 0);
		vt_run_in_task(rt, volt_file_open(&op, rt, a, O_RDONLY, 0, &f));
		CHECK_EQ(op.result, -ENOENT);
		CHECK_EQ(volt_fs_rename_blocking(rt, a, z, FOREVER), -ENOENT);
		check_names(rt, sub, (const char *const[]){ "b", "z" }, 2);
		CHECK_OK(volt_fs_stat_blocking(rt, z, &st, FOREVER));
		CHECK_UEQ(st.size, 2);

		vt_run_in_task(rt, volt_fs_remove(&op, rt, sub));
		CHECK_EQ(op.result, -ENOTEMPTY);
		vt_run_in_task(rt, volt_fs_remove(&op, rt, z));
		CHECK_EQ(op.result, 0);
		CHECK_OK(volt_fs_remove_blocking(rt, b, FOREVER));
		CHECK_EQ(volt_fs_remove_blocking(rt, b, FOREVER), -ENOENT);
		CHECK_OK(volt_fs_remove_blocking(rt, sub, FOREVER)); /* empty now */
		vt_run_in_task(rt, volt_fs_stat(&op, rt, sub, &st));
		CHECK_EQ(op.result, -ENOENT);
		CHECK_EQ(volt_fs_mkdir_blocking(rt, a, 0700, FOREVER), -ENOENT); /* no parent */
		struct volt_dirlist l = { NULL, 0 };

		CHECK_EQ(volt_fs_readdir_blocking(rt, sub, &l, FOREVER), -ENOENT);
		CHECK(l.names == NULL);

		rm_tree(dir);
		volt_rt_free(rt);
	}
}

/* ========================================================= whole files */

#define WF_LEN 5000

VOLT_RT_TEST(fs_read_file)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		unsigned char data[WF_LEN];
		char dir[64], path[FS_PATH], empty[FS_PATH];
		struct volt_fs_op op;
		void *got = NULL, *sentinel = (void *)&op;
		size_t len = 0;

		if (!rt)
			continue;
		tmp_dir(dir);
		join_path(path, dir, "w");
		join_path(empty, dir, "e");
		vt_pattern(data, WF_LEN, 3, 0);

		vt_run_in_task(rt, volt_fs_write_file(&op, rt, path, data, WF_LEN, VOLT_FS_SYNC));
		CHECK_EQ(op.result, 0);
		vt_run_in_task(rt, volt_fs_read_file(&op, rt, path, WF_LEN, &got, &len));
		CHECK_EQ(op.result, 0);
		CHECK_EQ(len, WF_LEN);
		CHECK(!memcmp(got, data, WF_LEN));
		CHECK_EQ(((char *)got)[WF_LEN], '\0');
		free(got);

		/* over the cap: -EFBIG, nothing returned, nothing changed */
		got = sentinel;
		len = 12345;
		vt_run_in_task(rt, volt_fs_read_file(&op, rt, path, WF_LEN - 1, &got, &len));
		CHECK_EQ(op.result, -EFBIG);
		CHECK(got == sentinel && len == 12345);
		CHECK_EQ(volt_fs_read_file_blocking(rt, path, 0, &got, &len, FOREVER), -EFBIG);
		CHECK_OK(volt_fs_read_file_blocking(rt, path, SIZE_MAX, &got, NULL, FOREVER));
		CHECK(!memcmp(got, data, WF_LEN));
		free(got);

		/* empty, and missing */
		CHECK_OK(volt_fs_write_file_blocking(rt, empty, NULL, 0, 0, FOREVER));
		CHECK_OK(volt_fs_read_file_blocking(rt, empty, 0, &got, &len, FOREVER));
		CHECK_EQ(len, 0);
		CHECK_EQ(((char *)got)[0], '\0');
		free(got);
		CHECK_OK(volt_fs_remove_blocking(rt, empty, FOREVER));
		CHECK_EQ(volt_fs_read_file_blocking(rt, empty, 10, &got, &len, FOREVER), -ENOENT);

		rm_tree(dir);
		volt_rt_free(rt);
	}
}

/* ========================================================== bad input */

VOLT_RT_TEST(fs_bad_input)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		char dir[64], path[FS_PATH], buf[8];
		struct volt_fs_op op;
		struct volt_file f, zero = { { NULL, 0, 0 } };
		struct volt_stat st;

		if (!rt)
			continue;
		tmp_dir(dir);
		join_path(path, dir, "x");
		CHECK_OK(volt_fs_write_file_blocking(rt, path, "12345678", 8, 0, FOREVER));
		CHECK_OK(volt_file_open_blocking(rt, path, O_RDWR, 0, &f, FOREVER));

		CHECK_EQ(volt_file_open_blocking(rt, NULL, O_RDONLY, 0, &f, FOREVER), -EINVAL);
		CHECK_EQ(volt_file_open_blocking(rt, "", O_RDONLY, 0, &f, FOREVER), -EINVAL);
		CHECK_EQ(volt_file_open_blocking(rt, path, O_RDONLY, 0, NULL, FOREVER), -EINVAL);
		CHECK_EQ(volt_file_pread_blocking(f, buf, 1, -1, FOREVER), -EINVAL);
		CHECK_EQ(volt_file_pwrite_blocking(f, buf, 1, -5, FOREVER), -EINVAL);
		CHECK_EQ(volt_file_read_blocking(f, NULL, 1, FOREVER), -EINVAL);
		CHECK_EQ(volt_file_read_blocking(f, buf, (size_t)SSIZE_MAX + 1, FOREVER), -EINVAL);
		CHECK_EQ(volt_file_stat_blocking(f, NULL, FOREVER), -EINVAL);
		CHECK_EQ(volt_fs_rename_blocking(rt, path, "", FOREVER), -EINVAL);
		CHECK_EQ(volt_fs_stat_blocking(rt, path, NULL, FOREVER), -EINVAL);
		CHECK_EQ(volt_fs_write_file_blocking(rt, path, NULL, 3, 0, FOREVER), -EINVAL);
		vt_run_in_task(rt, volt_fs_readdir(&op, rt, NULL, NULL));
		CHECK_EQ(op.result, -EINVAL);
		/* nothing above touched the file */
		CHECK_EQ(volt_file_pread_blocking(f, buf, 8, 0, FOREVER), 8);
		CHECK(!memcmp(buf, "12345678", 8));
		/* a zero handle */
		CHECK_EQ(volt_file_read_blocking(zero, buf, 1, FOREVER), -EBADF);
		CHECK_EQ(volt_file_stat_blocking(zero, &st, FOREVER), -EBADF);
		CHECK_EQ(volt_file_close(zero), -EBADF);
		/* the backend table */
		bool uring = !strcmp(d, "uring");

		CHECK(!strcmp(volt_fs_backend(rt, "pread"), uring ? "io_uring" : "blocking pool"));
		CHECK(!strcmp(volt_fs_backend(rt, "sync"), uring ? "io_uring" : "blocking pool"));
		CHECK(!strcmp(volt_fs_backend(rt, "readdir"), "blocking pool"));
		CHECK(!strcmp(volt_fs_backend(rt, "open"), uring ? "io_uring" : "blocking pool"));
		CHECK(!strcmp(volt_fs_backend(rt, "read_file"), "blocking pool"));
		CHECK(!strcmp(volt_fs_backend(rt, "close"), "inline"));
		CHECK(volt_fs_backend(rt, "truncate") == NULL);

		CHECK_OK(volt_file_close(f));
		rm_tree(dir);
		volt_rt_free(rt);
	}
}

/* ======================================================= the rw table */

/* Copies one volt_rw to another in chunks through the ops table, in a task. */
struct rw_copy {
	struct volt_future base;
	struct volt_rw from, to;
	unsigned char buf[3000]; /* not a divisor of the size: a short last chunk */
	ssize_t n, total;
	union {
		max_align_t align;
		unsigned char bytes[VOLT_RW_OP_SPACE];
	} space;
};

static enum volt_poll rw_copy_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct rw_copy *c = (struct rw_copy *)f;

	VOLT_BEGIN(f);
	for (;;) {
		VOLT_AWAIT(f, cx, c->from.ops->read(&c->from, c->space.bytes, c->buf, sizeof(c->buf)));
		c->n = c->from.ops->result(c->space.bytes);
		if (c->n <= 0)
			break;
		VOLT_AWAIT(f, cx, c->to.ops->write(&c->to, c->space.bytes, c->buf, (size_t)c->n));
		CHECK_EQ(c->to.ops->result(c->space.bytes), c->n);
		c->total += c->n;
	}
	VOLT_END(f);
}

static const struct volt_future_ops rw_copy_ops = { rw_copy_poll, NULL };

#define RW_LEN 50000

VOLT_RT_TEST(fs_rw_table)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		unsigned char *data = malloc(RW_LEN);
		char dir[64], src[FS_PATH], dst[FS_PATH];
		struct volt_file a, b;
		struct rw_copy c;
		void *got;
		size_t len;

		if (!rt)
			continue;
		CHECK(data != NULL);
		tmp_dir(dir);
		join_path(src, dir, "src");
		join_path(dst, dir, "dst");
		vt_pattern(data, RW_LEN, 11, 0);
		CHECK_OK(volt_fs_write_file_blocking(rt, src, data, RW_LEN, 0, FOREVER));
		CHECK_OK(volt_file_open_blocking(rt, src, O_RDONLY, 0, &a, FOREVER));
		CHECK_OK(volt_file_open_blocking(rt, dst, O_WRONLY | O_CREAT | O_TRUNC, 0600, &b,
						 FOREVER));
		memset(&c, 0, sizeof(c));
		volt_future_init(&c.base, &rw_copy_ops);
		c.from = volt_rw_file(a);
		c.to = volt_rw_file(b);
		CHECK(!strcmp(c.from.ops->name, "file"));
		CHECK(c.from.ops->shutdown_write == NULL);
		vt_run_in_task(rt, &c.base);
		CHECK_EQ(c.n, 0); /* ended at EOF, not an error */
		CHECK_EQ(c.total, RW_LEN);
		CHECK_OK(volt_file_close(a));
		CHECK_OK(volt_file_close(b));
		CHECK_OK(volt_fs_read_file_blocking(rt, dst, RW_LEN, &got, &len, FOREVER));
		CHECK_EQ(len, RW_LEN);
		CHECK(!memcmp(got, data, RW_LEN));
		free(got);
		rm_tree(dir);
		free(data);
		volt_rt_free(rt);
	}
}

/* =========================================== dropped operations in flight */

#define DROP_BUF 65536

/* Bytes waiting in a FIFO. */
static int fifo_bytes(int fd)
{
	int n = 0;

	CHECK_OK(ioctl(fd, FIONREAD, &n));
	return n;
}

/*
 * A read of a FIFO opened as a file (O_RDWR, so the open does not wait for
 * a writer) is in flight until someone writes: the FIFO is empty, so the
 * read cannot complete before the test writes. "In flight" is seen from
 * outside: the task's probe says the operation returned VOLT_PENDING (on
 * uring: its IORING_OP_READ is queued, then in the kernel; on epoll: its
 * job is on the pool, whose thread is in read(2) or about to be), and the
 * task is still not done 2 ms later. Then the task is cancelled (the read
 * future dropped), the buffer freed, and only then bytes are written:
 * whatever completes the read (the kernel into the driver's record, the
 * pool thread into its job's buffer) must not touch the freed buffer;
 * ASan would report a use-after-free.
 *
 * Where the bytes go: on epoll the orphaned job's read(2) takes them (it
 * is the only reader), so the FIFO empties: waiting for that shows the
 * orphan completed. On uring the cancel disarms the read (a pipe read is
 * poll-driven in the kernel, so cancellable) and the bytes stay, or the
 * read had completed into the record first; either way the test drains
 * what is left with a plain descriptor before the next round.
 */
VOLT_RT_TEST(fs_dropped_read)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		bool uring = !strcmp(d, "uring");
		char dir[64], fifo[FS_PATH];
		struct volt_file f;

		if (!rt)
			continue;
		tmp_dir(dir);
		join_path(fifo, dir, "fifo");
		CHECK_OK(mkfifo(fifo, 0600));
		CHECK_OK(volt_file_open_blocking(rt, fifo, O_RDWR, 0, &f, FOREVER));
		CHECK(!strcmp(volt_fs_backend(rt, "read"), uring ? "io_uring" : "blocking pool"));
		int wfd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		int rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

		CHECK(wfd >= 0 && rfd >= 0);
		for (int round = 0; round < 4; round++) {
			unsigned char *buf = malloc(DROP_BUF), junk[DROP_BUF];
			struct volt_fs_op op;
			atomic_int pending = 0;

			CHECK(buf != NULL);
			memset(buf, 0xAA, DROP_BUF);
			struct volt_join *j =
				vt_spawn_in_task(rt, volt_file_read(&op, f, buf, DROP_BUF), &pending);

			VT_WAIT_FOR(atomic_load(&pending));
			vt_sleep_us(2000);
			CHECK(!volt_join_is_done(j)); /* nothing to read: still in flight */
			volt_join_cancel(j);
			CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
			free(buf); /* the kernel or the pool may still be reading */
			memset(junk, 0x55, sizeof(junk));
			CHECK_GT(write(wfd, junk, round < 2 ? 1 : sizeof(junk) / 2), 0);
			if (!uring)
				VT_WAIT_FOR(fifo_bytes(rfd) == 0); /* the orphan's read took them */
			vt_sleep_us(5000); /* uring: time for a completion that may still come */
			while (read(rfd, junk, sizeof(junk)) > 0)
				;
		}
		close(wfd);
		close(rfd);
		CHECK_OK(volt_file_close(f));
		rm_tree(dir);
		volt_rt_free(rt);
	}
}

/*
 * Dropped opens: the descriptor an open makes for nobody is closed.
 *
 * On the pool an open of a FIFO for reading waits (in open(2)) for a
 * writer: drop it, then open the FIFO O_RDWR (a writer, never waiting):
 * the pool's open returns for nobody and its descriptor must be closed.
 * io_uring's openat does not wait for a writer (it opens non-blocking
 * first), so there the opens of a regular file are dropped as soon as
 * they are pending: the drop's cancel and the openat go to the kernel
 * together, the openat usually completes first, and the orphan's CQE
 * carries a descriptor that the driver closes. Either way the descriptor
 * count comes back to where it was.
 */
VOLT_RT_TEST(fs_dropped_open)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = fs_rt(policy, d);
		char dir[64], fifo[FS_PATH], path[FS_PATH];
		struct volt_fs_op op;
		struct volt_file f;
		int base;

		if (!rt)
			continue;
		tmp_dir(dir);
		join_path(fifo, dir, "fifo");
		join_path(path, dir, "file");
		CHECK_OK(mkfifo(fifo, 0600));
		CHECK_OK(volt_fs_write_file_blocking(rt, path, "x", 1, 0, FOREVER));
		base = vt_fd_count(NULL);
		if (!strcmp(volt_fs_backend(rt, "open"), "blocking pool")) {
			atomic_int pending = 0;
			struct volt_join *j = vt_spawn_in_task(
				rt, volt_file_open(&op, rt, fifo, O_RDONLY, 0, &f), &pending);

			VT_WAIT_FOR(atomic_load(&pending));
			vt_sleep_us(2000);
			CHECK(!volt_join_is_done(j)); /* no writer: open(2) cannot have returned */
			volt_join_cancel(j);
			CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
			int wfd = open(fifo, O_RDWR | O_CLOEXEC); /* lets the pool's open(2) return */

			CHECK(wfd >= 0);
			CHECK_EQ(vt_fd_count_settled(base + 1), base + 1); /* only wfd is left */
			close(wfd);
		}
		for (int round = 0; round < 16; round++) {
			atomic_int pending = 0;
			struct volt_join *j = vt_spawn_in_task(
				rt, volt_file_open(&op, rt, path, O_RDONLY, 0, &f), &pending);

			VT_WAIT_FOR(atomic_load(&pending) || volt_join_is_done(j));
			volt_join_cancel(j);
			int ret = volt_join_wait(j, NULL);

			if (ret == 0) { /* it completed before the cancel: ours to close */
				CHECK_EQ(op.result, 0);
				CHECK_OK(volt_file_close(f));
			} else {
				CHECK_EQ(ret, -ECANCELED);
			}
		}
		CHECK_EQ(vt_fd_count_settled(base), base);
		rm_tree(dir);
		volt_rt_free(rt);
	}
}

/*
 * The simulation's driver (drivers/sim.c) has no files in its world: a
 * file there is a plain descriptor whose every operation runs on the
 * blocking pool, like epoll's; and the driver answers its readiness
 * opcode (VOLT__OP_POLL) with -EOPNOTSUPP.
 */
VOLT_RT_TEST(fs_sim_driver)
{
	struct volt_rt *rt = fs_rt(policy, "sim");
	char dir[64], path[FS_PATH];
	unsigned char buf[16];
	struct volt_fs_op op;
	struct volt_io_op poll;
	struct volt_file f;
	struct volt_stat st;

	tmp_dir(dir);
	join_path(path, dir, "s");
	int base = vt_fd_count(NULL);

	CHECK(!strcmp(volt_fs_backend(rt, "read"), "blocking pool"));
	vt_run_in_task(rt, volt_file_open(&op, rt, path, O_RDWR | O_CREAT, 0600, &f));
	CHECK_EQ(op.result, 0);
	vt_run_in_task(rt, volt_file_write(&op, f, "simulated", 9));
	CHECK_EQ(op.result, 9);
	vt_run_in_task(rt, volt_file_pread(&op, f, buf, sizeof(buf), 3));
	CHECK_EQ(op.result, 6);
	CHECK(!memcmp(buf, "ulated", 6));
	CHECK_OK(volt_fs_stat_blocking(rt, path, &st, FOREVER));
	CHECK_UEQ(st.size, 9);
	(void)volt__op_init(&poll, f.h, VOLT__OP_POLL, NULL, 0, NULL);
	poll.msg_flags = POLLIN;
	vt_run_in_task(rt, &poll.base);
	CHECK_EQ(poll.result, -EOPNOTSUPP);
	CHECK_OK(volt_file_close(f));
	CHECK_EQ(vt_fd_count_settled(base), base); /* a real close(2), not the world's */
	rm_tree(dir);
	volt_rt_free(rt);
}

/* Opens the FIFO for writing after a pause: lets a pool thread stuck in open(2) go. */
static void *late_writer(void *arg)
{
	vt_sleep_us(20000);
	int fd = open(arg, O_WRONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	close(fd);
	return NULL;
}

/*
 * Shutdown with jobs still queued: a pool of one thread is held by a
 * read_file of a FIFO (its open(2) waits for a writer); behind it wait an
 * open of a regular file (read_file where open is io_uring's) and a
 * readdir, whose futures are dropped. volt_rt_free cancels the
 * queued jobs (they never run) and waits for the held one, which a late
 * writer lets go. The dropped open that never ran has no descriptor to
 * close (it must not close descriptor 0), and nothing leaks (ASan).
 */
VOLT_RT_TEST(fs_shutdown_queued)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_config cfg;
		struct volt_rt *rt;
		char dir[64], fifo[FS_PATH], path[FS_PATH];
		struct volt_fs_op held, open_op, list_op;
		struct volt_file g;
		struct volt_dirlist list;
		void *held_data = NULL, *got = NULL;
		size_t held_len = 0, len = 0;
		atomic_int p1 = 0, p2 = 0, p3 = 0;
		pthread_t writer;
		int ret;

		vt_cfg(&cfg, policy, 2);
		cfg.driver = d;
		cfg.max_blocking_threads = 1;
		ret = volt_rt_new(&cfg, &rt);
		if (ret == -ENOSYS || ret == -EPERM)
			continue;
		CHECK_OK(ret);
		snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s", d);
		tmp_dir(dir);
		join_path(fifo, dir, "fifo");
		join_path(path, dir, "file");
		CHECK_OK(mkfifo(fifo, 0600));
		CHECK_OK(volt_fs_write_file_blocking(rt, path, "x", 1, 0, FOREVER));
		int fd0 = fcntl(0, F_GETFD);

		/* submitted first, so run first: the pool takes jobs in order */
		struct volt_join *hj = vt_spawn_in_task(
			rt, volt_fs_read_file(&held, rt, fifo, 100, &held_data, &held_len), &p1);

		VT_WAIT_FOR(atomic_load(&p1));
		/* an open that never runs (on the pool) must close nothing */
		bool pool_open = !strcmp(volt_fs_backend(rt, "open"), "blocking pool");
		struct volt_join *oj = vt_spawn_in_task(
			rt,
			pool_open ? volt_file_open(&open_op, rt, path, O_RDONLY, 0, &g)
				  : volt_fs_read_file(&open_op, rt, path, 100, &got, &len),
			&p2);

		VT_WAIT_FOR(atomic_load(&p2));
		struct volt_join *sj =
			vt_spawn_in_task(rt, volt_fs_readdir(&list_op, rt, dir, &list), &p3);

		VT_WAIT_FOR(atomic_load(&p3));
		vt_sleep_us(2000);
		/* queued behind the held one */
		CHECK(!volt_join_is_done(oj) && !volt_join_is_done(sj));
		volt_join_cancel(oj);
		volt_join_cancel(sj);
		CHECK_EQ(volt_join_wait(oj, NULL), -ECANCELED);
		CHECK_EQ(volt_join_wait(sj, NULL), -ECANCELED);
		volt_join_detach(hj);
		CHECK_OK(pthread_create(&writer, NULL, late_writer, fifo));
		volt_rt_free(rt); /* cancels what is queued, waits for the held open */
		CHECK_OK(pthread_join(writer, NULL));
		CHECK_EQ(fcntl(0, F_GETFD), fd0); /* descriptor 0 as it was */
		free(held_data); /* if the held read_file completed before the runtime stopped */
		CHECK(got == NULL);
		rm_tree(dir);
	}
}
