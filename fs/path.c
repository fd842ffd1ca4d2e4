/* SPDX-License-Identifier: MIT */
/*
 * fs/path.c: operations on paths (stat, readdir, rename, remove, mkdir,
 * read_file, write_file; fs/op.c runs them), and where each operation runs
 * (volt_fs_backend).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rt.h"
#include "fs/fs_op.h"
#include "net/op.h"

void volt_dirlist_free(struct volt_dirlist *d)
{
	if (!d)
		return;
	free(d->names); /* one block: the pointers, then the strings */
	d->names = NULL;
	d->count = 0;
}

/* Runs a path operation's blocking form. */
static int block(struct volt_rt *rt, enum volt__fs_kind kind, const struct volt__fs_args *a,
		 void *out, void *out2, volt_duration timeout)
{
	struct volt_fs_op f;

	rt = volt__rt_or_current(rt);
	if (!rt)
		return -EINVAL;
	volt__fs_path_op(&f, kind, rt, a, out, out2);
	return (int)volt__fs_block(rt, &f, timeout);
}

struct volt_future *volt_fs_stat(struct volt_fs_op *f, struct volt_rt *rt, const char *path,
				 struct volt_stat *out)
{
	struct volt__fs_args a = { .path = path };

	return volt__fs_path_op(f, VOLT__FS_STAT, rt, &a, out, NULL);
}

int volt_fs_stat_blocking(struct volt_rt *rt, const char *path, struct volt_stat *out,
			  volt_duration timeout)
{
	struct volt__fs_args a = { .path = path };

	return block(rt, VOLT__FS_STAT, &a, out, NULL, timeout);
}

struct volt_future *volt_fs_readdir(struct volt_fs_op *f, struct volt_rt *rt, const char *path,
				    struct volt_dirlist *out)
{
	struct volt__fs_args a = { .path = path };

	return volt__fs_path_op(f, VOLT__FS_READDIR, rt, &a, out, NULL);
}

int volt_fs_readdir_blocking(struct volt_rt *rt, const char *path, struct volt_dirlist *out,
			     volt_duration timeout)
{
	struct volt__fs_args a = { .path = path };

	return block(rt, VOLT__FS_READDIR, &a, out, NULL, timeout);
}

struct volt_future *volt_fs_rename(struct volt_fs_op *f, struct volt_rt *rt, const char *from,
				   const char *to)
{
	struct volt__fs_args a = { .path = from, .path2 = to };

	return volt__fs_path_op(f, VOLT__FS_RENAME, rt, &a, NULL, NULL);
}

int volt_fs_rename_blocking(struct volt_rt *rt, const char *from, const char *to,
			    volt_duration timeout)
{
	struct volt__fs_args a = { .path = from, .path2 = to };

	return block(rt, VOLT__FS_RENAME, &a, NULL, NULL, timeout);
}

struct volt_future *volt_fs_remove(struct volt_fs_op *f, struct volt_rt *rt, const char *path)
{
	struct volt__fs_args a = { .path = path };

	return volt__fs_path_op(f, VOLT__FS_REMOVE, rt, &a, NULL, NULL);
}

int volt_fs_remove_blocking(struct volt_rt *rt, const char *path, volt_duration timeout)
{
	struct volt__fs_args a = { .path = path };

	return block(rt, VOLT__FS_REMOVE, &a, NULL, NULL, timeout);
}

struct volt_future *volt_fs_mkdir(struct volt_fs_op *f, struct volt_rt *rt, const char *path,
				  mode_t mode)
{
	struct volt__fs_args a = { .path = path, .mode = mode };

	return volt__fs_path_op(f, VOLT__FS_MKDIR, rt, &a, NULL, NULL);
}

int volt_fs_mkdir_blocking(struct volt_rt *rt, const char *path, mode_t mode,
			   volt_duration timeout)
{
	struct volt__fs_args a = { .path = path, .mode = mode };

	return block(rt, VOLT__FS_MKDIR, &a, NULL, NULL, timeout);
}

struct volt_future *volt_fs_read_file(struct volt_fs_op *f, struct volt_rt *rt, const char *path,
				      size_t cap, void **data, size_t *len)
{
	struct volt__fs_args a = { .path = path, .cap = cap };

	return volt__fs_path_op(f, VOLT__FS_READ_FILE, rt, &a, data, len);
}

int volt_fs_read_file_blocking(struct volt_rt *rt, const char *path, size_t cap, void **data,
			       size_t *len, volt_duration timeout)
{
	struct volt__fs_args a = { .path = path, .cap = cap };

	return block(rt, VOLT__FS_READ_FILE, &a, data, len, timeout);
}

struct volt_future *volt_fs_write_file(struct volt_fs_op *f, struct volt_rt *rt,
				       const char *path, const void *data, size_t len, int flags)
{
	struct volt__fs_args a = { .path = path, .data = data, .len = len, .flags = flags };

	return volt__fs_path_op(f, VOLT__FS_WRITE_FILE, rt, &a, NULL, NULL);
}

int volt_fs_write_file_blocking(struct volt_rt *rt, const char *path, const void *data,
				size_t len, int flags, volt_duration timeout)
{
	struct volt__fs_args a = { .path = path, .data = data, .len = len, .flags = flags };

	return block(rt, VOLT__FS_WRITE_FILE, &a, NULL, NULL, timeout);
}

const char *volt_fs_backend(struct volt_rt *rt, const char *op)
{
	static const struct {
		const char *name;
		enum volt__fs_kind kind;
	} ops[] = {
		{ "open", VOLT__FS_OPEN },	   { "read", VOLT__FS_READ },
		{ "write", VOLT__FS_WRITE },	   { "pread", VOLT__FS_READ },
		{ "pwrite", VOLT__FS_WRITE },	   { "sync", VOLT__FS_SYNC },
		{ "stat", VOLT__FS_STAT },	   { "readdir", VOLT__FS_READDIR },
		{ "rename", VOLT__FS_RENAME },	   { "remove", VOLT__FS_REMOVE },
		{ "mkdir", VOLT__FS_MKDIR },	   { "read_file", VOLT__FS_READ_FILE },
		{ "write_file", VOLT__FS_WRITE_FILE },
	};

	rt = volt__rt_or_current(rt);
	if (!op)
		return NULL;
	if (!strcmp(op, "close"))
		return "inline";
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i].name))
			return volt__fs_native(rt, ops[i].kind) ? "io_uring" : "blocking pool";
	return NULL;
}
