/* SPDX-License-Identifier: MIT */
/*
 * file_copy.c: copy a file with the runtime's file operations, showing a
 * progress line on stderr.
 *
 *	file_copy SRC DST
 *
 * DST is created or truncated (SRC's permission bits), written in chunks
 * read from SRC, and synced before the copy reports success. The copy is
 * one task written with the coroutine macros: each read and write is a
 * future (volt/fs.h), on io_uring when the runtime's driver is uring, on
 * the blocking pool otherwise (the first line says which).
 *
 * Exit codes: 0 copied; 1 an error (opening, reading, writing, syncing:
 * the message names it; DST may then be partly written); 2 bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <volt.h>

#define CHUNK (256 * 1024)

/* The copy's state: big (the buffer), so the task holds a pointer to it. */
struct copy {
	const char *src, *dst;
	struct volt_rt *rt;
	struct volt_file in, out;
	struct volt_stat st;
	struct volt_fs_op op;
	unsigned long long done;
	int shown;        /* the percentage last printed, -1: none yet */
	const char *step; /* what failed */
	ssize_t err;
	unsigned char buf[CHUNK];
};

struct copy_task {
	struct volt_future base;
	struct copy *c;
};

static void progress(struct copy *c, bool last)
{
	int pct = c->st.size ? (int)(c->done * 100 / c->st.size) : 100;

	if (pct == c->shown) {
		if (last)
			fputc('\n', stderr);
		return;
	}
	c->shown = pct;
	fprintf(stderr, "\rfile_copy: %llu / %llu bytes (%d%%)%s", c->done,
		(unsigned long long)c->st.size, pct, last ? "\n" : "");
}

/* Ends the copy with the step's error if r is one. */
#define FAIL_IF(c, r, what)                   \
	do {                                  \
		if ((r) < 0) {                \
			(c)->err = (r);       \
			(c)->step = (what);   \
			goto out;             \
		}                             \
	} while (0)

static enum volt_poll copy_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct copy *c = ((struct copy_task *)f)->c;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_file_open(&c->op, c->rt, c->src, O_RDONLY, 0, &c->in));
	FAIL_IF(c, c->op.result, "open SRC");
	VOLT_AWAIT(f, cx, volt_file_stat(&c->op, c->in, &c->st));
	FAIL_IF(c, c->op.result, "stat SRC");
	VOLT_AWAIT(f, cx, volt_file_open(&c->op, c->rt, c->dst, O_WRONLY | O_CREAT | O_TRUNC,
					 c->st.mode & 0777, &c->out));
	FAIL_IF(c, c->op.result, "open DST");
	for (;;) {
		VOLT_AWAIT(f, cx, volt_file_read(&c->op, c->in, c->buf, sizeof(c->buf)));
		FAIL_IF(c, c->op.result, "read SRC");
		if (c->op.result == 0)
			break;
		VOLT_AWAIT(f, cx, volt_file_write(&c->op, c->out, c->buf, (size_t)c->op.result));
		FAIL_IF(c, c->op.result, "write DST");
		c->done += (unsigned long long)c->op.result;
		progress(c, false);
	}
	VOLT_AWAIT(f, cx, volt_file_sync(&c->op, c->out, 0));
	FAIL_IF(c, c->op.result, "sync DST");
	progress(c, true);
out:
	if (c->in.h.rt)
		(void)volt_file_close(c->in);
	if (c->out.h.rt)
		(void)volt_file_close(c->out);
	VOLT_END(f);
}

static const struct volt_future_ops copy_ops = { copy_poll, NULL };

static int app(struct volt_rt *rt, void *arg)
{
	struct copy_task t = { .c = arg };
	struct volt_join *task;
	int ret;

	t.c->rt = rt;
	fprintf(stderr, "file_copy: reads and writes on the %s\n", volt_fs_backend(rt, "read"));
	volt_future_init(&t.base, &copy_ops);
	ret = volt_spawn(rt, &t.base, sizeof(t), &task);
	if (!ret)
		ret = volt_join_wait(task, NULL);
	if (ret) {
		fprintf(stderr, "file_copy: the copy task: %s\n", volt_strerror(ret));
		return 1;
	}
	if (t.c->err) {
		fprintf(stderr, "\nfile_copy: %s: %s\n", t.c->step, volt_strerror((int)t.c->err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct copy c; /* 256 KiB of buffer: not on the stack */

	if (argc != 3) {
		fprintf(stderr, "usage: file_copy SRC DST\n");
		return 2;
	}
	c.src = argv[1];
	c.dst = argv[2];
	c.shown = -1;
	return volt_run(app, &c) == 0 ? 0 : 1;
}
