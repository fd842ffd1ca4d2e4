/* SPDX-License-Identifier: MIT */
/*
 * fs/file.c: open files: open, close, read, write, pread, pwrite, sync,
 * stat, and the file as a volt_rw. Each is fs/op.c's future; the blocking
 * forms run it with volt__fs_block.
 */
#include <errno.h>

#include "drivers/source.h"
#include "fs/fs_op.h"
#include "net/op.h"

struct volt_future *volt_file_open(struct volt_fs_op *f, struct volt_rt *rt, const char *path,
				   int flags, mode_t mode, struct volt_file *out)
{
	struct volt__fs_args a = { .path = path, .flags = flags, .mode = mode };

	return volt__fs_path_op(f, VOLT__FS_OPEN, rt, &a, out, NULL);
}

int volt_file_open_blocking(struct volt_rt *rt, const char *path, int flags, mode_t mode,
			    struct volt_file *out, volt_duration timeout)
{
	struct volt_fs_op f;

	rt = volt__rt_or_current(rt);
	if (!rt)
		return -EINVAL;
	volt_file_open(&f, rt, path, flags, mode, out);
	return (int)volt__fs_block(rt, &f, timeout);
}

int volt_file_close(struct volt_file file)
{
	return volt__source_close(file.h);
}

struct volt_future *volt_file_read(struct volt_fs_op *f, struct volt_file file, void *buf,
				   size_t len)
{
	return volt__fs_file_op(f, VOLT__FS_READ, file, buf, len, -1, 0, NULL);
}

struct volt_future *volt_file_pread(struct volt_fs_op *f, struct volt_file file, void *buf,
				    size_t len, off_t offset)
{
	/* a negative offset would mean "the position": refuse it instead */
	return volt__fs_file_op(f, VOLT__FS_READ, file, buf, len, offset < 0 ? -2 : offset, 0,
				NULL);
}

struct volt_future *volt_file_write(struct volt_fs_op *f, struct volt_file file,
				    const void *buf, size_t len)
{
	return volt__fs_file_op(f, VOLT__FS_WRITE, file, (void *)buf, len, -1, 0, NULL);
}

struct volt_future *volt_file_pwrite(struct volt_fs_op *f, struct volt_file file,
				     const void *buf, size_t len, off_t offset)
{
	return volt__fs_file_op(f, VOLT__FS_WRITE, file, (void *)buf, len,
				offset < 0 ? -2 : offset, 0, NULL);
}

struct volt_future *volt_file_sync(struct volt_fs_op *f, struct volt_file file, int flags)
{
	return volt__fs_file_op(f, VOLT__FS_SYNC, file, NULL, 0, -1, flags, NULL);
}

struct volt_future *volt_file_stat(struct volt_fs_op *f, struct volt_file file,
				   struct volt_stat *out)
{
	return volt__fs_file_op(f, VOLT__FS_FSTAT, file, NULL, 0, -1, 0, out);
}

ssize_t volt_file_read_blocking(struct volt_file file, void *buf, size_t len,
				volt_duration timeout)
{
	struct volt_fs_op f;

	volt_file_read(&f, file, buf, len);
	return volt__fs_block(file.h.rt, &f, timeout);
}

ssize_t volt_file_pread_blocking(struct volt_file file, void *buf, size_t len, off_t offset,
				 volt_duration timeout)
{
	struct volt_fs_op f;

	volt_file_pread(&f, file, buf, len, offset);
	return volt__fs_block(file.h.rt, &f, timeout);
}

ssize_t volt_file_write_blocking(struct volt_file file, const void *buf, size_t len,
				 volt_duration timeout)
{
	struct volt_fs_op f;

	volt_file_write(&f, file, buf, len);
	return volt__fs_block(file.h.rt, &f, timeout);
}

ssize_t volt_file_pwrite_blocking(struct volt_file file, const void *buf, size_t len,
				  off_t offset, volt_duration timeout)
{
	struct volt_fs_op f;

	volt_file_pwrite(&f, file, buf, len, offset);
	return volt__fs_block(file.h.rt, &f, timeout);
}

int volt_file_sync_blocking(struct volt_file file, int flags, volt_duration timeout)
{
	struct volt_fs_op f;

	volt_file_sync(&f, file, flags);
	return (int)volt__fs_block(file.h.rt, &f, timeout);
}

int volt_file_stat_blocking(struct volt_file file, struct volt_stat *out, volt_duration timeout)
{
	struct volt_fs_op f;

	volt_file_stat(&f, file, out);
	return (int)volt__fs_block(file.h.rt, &f, timeout);
}

/* ---- the file as a volt_rw */

static struct volt_future *rw_read(const struct volt_rw *rw, void *space, void *buf, size_t len)
{
	return volt_file_read(space, (struct volt_file){ rw->obj.h }, buf, len);
}

static struct volt_future *rw_write(const struct volt_rw *rw, void *space, const void *buf,
				    size_t len)
{
	return volt_file_write(space, (struct volt_file){ rw->obj.h }, buf, len);
}

static ssize_t rw_result(void *space)
{
	return ((struct volt_fs_op *)space)->result;
}

static const struct volt_rw_ops file_rw_ops = {
	.name = "file",
	.read = rw_read,
	.write = rw_write,
	.result = rw_result,
	.shutdown_write = NULL,
};

struct volt_rw volt_rw_file(struct volt_file file)
{
	struct volt_rw rw = { .ops = &file_rw_ops };

	rw.obj.h = file.h;
	return rw;
}
