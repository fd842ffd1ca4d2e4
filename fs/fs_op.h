/* SPDX-License-Identifier: MIT */
/*
 * fs/fs_op.h: the one future behind every file operation (fs/op.c), for
 * fs/file.c and fs/path.c.
 */
#ifndef VOLT_FS_FS_OP_H
#define VOLT_FS_FS_OP_H

#include <volt.h>

#include "volt/fs.h"

enum volt__fs_kind {
	VOLT__FS_OPEN = 1,
	VOLT__FS_READ,       /* read / pread (io.offset -1: the position) */
	VOLT__FS_WRITE,      /* write / pwrite, all of it */
	VOLT__FS_SYNC,       /* io.msg_flags: VOLT_FS_DATASYNC */
	VOLT__FS_FSTAT,
	VOLT__FS_STAT,
	VOLT__FS_READDIR,
	VOLT__FS_RENAME,
	VOLT__FS_REMOVE,
	VOLT__FS_MKDIR,
	VOLT__FS_READ_FILE,
	VOLT__FS_WRITE_FILE,
};

/* The arguments of a path operation, copied into its job by volt__fs_path_op. */
struct volt__fs_args {
	const char *path, *path2; /* path2: rename's target */
	int flags;                /* open's flags; write_file's VOLT_FS_SYNC */
	mode_t mode;
	size_t cap;               /* read_file */
	const void *data;         /* write_file's bytes (copied) */
	size_t len;
};

/*
 * Fills f for an operation on an open file: buf/len/offset as the
 * operation takes them (offset -1: the position), out where its answer
 * goes (stat). Runs on io_uring or the blocking pool, decided at the
 * first poll.
 */
struct volt_future *volt__fs_file_op(struct volt_fs_op *f, enum volt__fs_kind kind,
				     struct volt_file file, void *buf, size_t len,
				     int64_t offset, int flags, void *out);

/* Fills f for an operation on a path (on the blocking pool); out, out2: its answer. */
struct volt_future *volt__fs_path_op(struct volt_fs_op *f, enum volt__fs_kind kind,
				     struct volt_rt *rt, const struct volt__fs_args *a,
				     void *out, void *out2);

/* Runs f (its blocking form) on rt: its result, or the timeout's or block_on's error. */
ssize_t volt__fs_block(struct volt_rt *rt, struct volt_fs_op *f, volt_duration timeout);

/* True if file operations of this kind run on io_uring under rt's driver. */
bool volt__fs_native(const struct volt_rt *rt, enum volt__fs_kind kind);

#endif /* VOLT_FS_FS_OP_H */
