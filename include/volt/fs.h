/* SPDX-License-Identifier: MIT */
/*
 * volt/fs.h: files and directories.
 *
 * A file is a handle in the same slot table as sockets (volt/net.h): a
 * small value, copies are fine, closing twice or using a copy after close
 * is -EBADF, an operation in flight keeps the descriptor (not the caller's
 * copy) alive, and volt_rt_free closes what is still open.
 *
 * Where each operation runs (volt_fs_backend, docs/files.md): on the uring
 * driver read, write, pread, pwrite and sync, and open, stat by path,
 * rename, remove and mkdir (when the kernel has those opcodes) are
 * io_uring operations; readdir, stat of an open file, read_file and
 * write_file, and every operation on the other drivers, run on the
 * runtime's blocking pool (volt/blocking.h). Either way:
 * - the kernel, or a pool thread, never writes into the caller's buffer
 *   after the future was dropped: reads land in a buffer the driver (or
 *   the job) owns and are copied out when the future completes; writes
 *   copy the caller's bytes before they start. Paths are copied too.
 * - a dropped operation still runs to its end (a pool job cannot be
 *   stopped; an io_uring request is cancelled if the kernel still can):
 *   a dropped write may have happened, a dropped open's descriptor is
 *   closed, a dropped read's bytes are gone (and the file position moved).
 *
 * Three forms, as for sockets: the future (`volt_file_read(&op, ...)`,
 * await it in a task, read op.result), the blocking form
 * (`..._blocking(..., timeout)`: parks a fiber or a plain thread, -EDEADLK in
 * a stackless task, -ETIMEDOUT after timeout, VOLT_DURATION_MAX for none);
 * and volt_timeout() works on any future. Path operations take the runtime
 * (NULL: the current one; -EINVAL if there is none). Results are negative
 * errno values on error; bad arguments (NULL path or buffer, len above
 * SSIZE_MAX, negative offset) are -EINVAL before anything runs.
 */
#ifndef VOLT_FS_H
#define VOLT_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "future.h"
#include "net.h"
#include "rw.h"
#include "time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An open file (see above). The zero value is never a valid handle. */
struct volt_file { struct volt_handle h; };

/* What stat reports: a small subset of struct stat. */
struct volt_stat {
	uint64_t size;     /* bytes */
	uint64_t ino;
	int64_t mtime_ns;  /* last modification, ns since the epoch */
	uint32_t mode;     /* st_mode: file type (S_ISDIR...) and permission bits */
	uint32_t nlink;
};

/*
 * A directory listing: `count` names, sorted (strcmp), without "." and
 * "..", then a NULL (names[count]). The array and the strings are one
 * allocation owned by the caller: release it with volt_dirlist_free (which
 * also zeroes the struct).
 */
struct volt_dirlist {
	char **names;
	size_t count;
};

VOLT_API void volt_dirlist_free(struct volt_dirlist *d);

/*
 * One file operation in flight: the future every call below fills. After
 * it completes, `result` is a byte count, 0, or a negative errno. Members
 * other than result are internal.
 */
struct volt_fs_op {
	struct volt_future base;
	struct volt_io_op io;    /* the io_uring path */
	void *job;               /* the blocking-pool path */
	void *out;               /* where the answer goes (buffer, file, stat, list) */
	void *out2;              /* read_file's length */
	uint8_t kind;
	uint8_t state;
	ssize_t result;
};

/* --------------------------------------------------------------- files */

/*
 * open(2) of path with flags (O_RDONLY, O_WRONLY|O_CREAT|O_TRUNC, ...;
 * O_CLOEXEC is always added) and mode (for O_CREAT): 0 and *out, or
 * -ENOENT, -EACCES, -EEXIST (O_EXCL), -EISDIR (a directory for writing)...
 */
VOLT_API struct volt_future *volt_file_open(struct volt_fs_op *f, struct volt_rt *rt,
					    const char *path, int flags, mode_t mode,
					    struct volt_file *out);
VOLT_API int volt_file_open_blocking(struct volt_rt *rt, const char *path, int flags,
				     mode_t mode, struct volt_file *out, volt_duration timeout);

/* Closes the file (operations in flight finish first): 0, or -EBADF if already closed. */
VOLT_API int volt_file_close(struct volt_file file);

/*
 * Reads up to len bytes at the file position (read) or at offset (pread;
 * the position is not moved): the count, 0 at end of file, or -errno. A
 * read may return fewer bytes than asked before the end (at most 1 MiB a
 * call); loop, or use read_file.
 */
VOLT_API struct volt_future *volt_file_read(struct volt_fs_op *f, struct volt_file file,
					    void *buf, size_t len);
VOLT_API struct volt_future *volt_file_pread(struct volt_fs_op *f, struct volt_file file,
					     void *buf, size_t len, off_t offset);
VOLT_API ssize_t volt_file_read_blocking(struct volt_file file, void *buf, size_t len,
					 volt_duration timeout);
VOLT_API ssize_t volt_file_pread_blocking(struct volt_file file, void *buf, size_t len,
					  off_t offset, volt_duration timeout);

/*
 * Writes all len bytes at the file position (write; O_APPEND appends) or
 * at offset (pwrite): len, or -errno (-ENOSPC, -EBADF for a file opened
 * read-only...) with an unknown part written.
 */
VOLT_API struct volt_future *volt_file_write(struct volt_fs_op *f, struct volt_file file,
					     const void *buf, size_t len);
VOLT_API struct volt_future *volt_file_pwrite(struct volt_fs_op *f, struct volt_file file,
					      const void *buf, size_t len, off_t offset);
VOLT_API ssize_t volt_file_write_blocking(struct volt_file file, const void *buf, size_t len,
					  volt_duration timeout);
VOLT_API ssize_t volt_file_pwrite_blocking(struct volt_file file, const void *buf, size_t len,
					   off_t offset, volt_duration timeout);

/* volt_file_sync's flag: fdatasync (data, and only the metadata needed to read it). */
#define VOLT_FS_DATASYNC 0x1

/* fsync(2), or fdatasync(2) with VOLT_FS_DATASYNC: 0 or -errno (-EIO...). */
VOLT_API struct volt_future *volt_file_sync(struct volt_fs_op *f, struct volt_file file,
					    int flags);
VOLT_API int volt_file_sync_blocking(struct volt_file file, int flags, volt_duration timeout);

/* fstat(2) of an open file: 0 and *out, or -errno. */
VOLT_API struct volt_future *volt_file_stat(struct volt_fs_op *f, struct volt_file file,
					    struct volt_stat *out);
VOLT_API int volt_file_stat_blocking(struct volt_file file, struct volt_stat *out,
				     volt_duration timeout);

/*
 * The file as a volt_rw (volt/rw.h): read and write at the file position
 * (a write writes everything), no shutdown_write. The file stays the
 * caller's to close.
 */
VOLT_API struct volt_rw volt_rw_file(struct volt_file file);

/* ---------------------------------------------------------- by path */

/* stat(2) of path (links followed): 0 and *out, or -ENOENT, -ENOTDIR, -EACCES... */
VOLT_API struct volt_future *volt_fs_stat(struct volt_fs_op *f, struct volt_rt *rt,
					  const char *path, struct volt_stat *out);
VOLT_API int volt_fs_stat_blocking(struct volt_rt *rt, const char *path, struct volt_stat *out,
				   volt_duration timeout);

/*
 * Lists the directory at path into *out (see struct volt_dirlist; free it
 * with volt_dirlist_free): 0, or -ENOENT, -ENOTDIR, -ENOMEM... *out is
 * untouched on error.
 */
VOLT_API struct volt_future *volt_fs_readdir(struct volt_fs_op *f, struct volt_rt *rt,
					     const char *path, struct volt_dirlist *out);
VOLT_API int volt_fs_readdir_blocking(struct volt_rt *rt, const char *path,
				      struct volt_dirlist *out, volt_duration timeout);

/* rename(2): 0, or -ENOENT, -EXDEV, -ENOTEMPTY... (an existing `to` file is replaced). */
VOLT_API struct volt_future *volt_fs_rename(struct volt_fs_op *f, struct volt_rt *rt,
					    const char *from, const char *to);
VOLT_API int volt_fs_rename_blocking(struct volt_rt *rt, const char *from, const char *to,
				     volt_duration timeout);

/*
 * Removes a file, a symbolic link (not its target) or an EMPTY directory:
 * 0, or -ENOENT, -ENOTEMPTY (a directory with entries; nothing is removed
 * recursively), -EACCES...
 */
VOLT_API struct volt_future *volt_fs_remove(struct volt_fs_op *f, struct volt_rt *rt,
					    const char *path);
VOLT_API int volt_fs_remove_blocking(struct volt_rt *rt, const char *path,
				     volt_duration timeout);

/* mkdir(2) (one level): 0, or -EEXIST, -ENOENT (no parent)... */
VOLT_API struct volt_future *volt_fs_mkdir(struct volt_fs_op *f, struct volt_rt *rt,
					   const char *path, mode_t mode);
VOLT_API int volt_fs_mkdir_blocking(struct volt_rt *rt, const char *path, mode_t mode,
				    volt_duration timeout);

/*
 * The whole file at path in one malloc'ed buffer (*data, free() it; a NUL
 * follows the *len bytes, not counted) : 0, or -errno. A file larger than
 * cap bytes is -EFBIG and nothing is returned (*data and *len untouched;
 * the file is not changed). len may be NULL.
 */
VOLT_API struct volt_future *volt_fs_read_file(struct volt_fs_op *f, struct volt_rt *rt,
					       const char *path, size_t cap, void **data,
					       size_t *len);
VOLT_API int volt_fs_read_file_blocking(struct volt_rt *rt, const char *path, size_t cap,
					void **data, size_t *len, volt_duration timeout);

/* volt_fs_write_file's flag: fsync the file before it reports success. */
#define VOLT_FS_SYNC 0x1

/*
 * Creates or truncates path (mode 0666 before the umask), writes all len
 * bytes of data (copied first) and, with VOLT_FS_SYNC, fsyncs: 0 or -errno.
 */
VOLT_API struct volt_future *volt_fs_write_file(struct volt_fs_op *f, struct volt_rt *rt,
						const char *path, const void *data, size_t len,
						int flags);
VOLT_API int volt_fs_write_file_blocking(struct volt_rt *rt, const char *path,
					 const void *data, size_t len, int flags,
					 volt_duration timeout);

/*
 * Where operation `op` runs on rt: "io_uring" or "blocking pool"; NULL for
 * a name that is not one of: "open", "close", "read", "write", "pread",
 * "pwrite", "sync", "stat", "readdir", "rename", "remove", "mkdir",
 * "read_file", "write_file" ("close" is "inline": it never waits).
 */
VOLT_API const char *volt_fs_backend(struct volt_rt *rt, const char *op);

#ifdef __cplusplus
}
#endif

#endif /* VOLT_FS_H */
