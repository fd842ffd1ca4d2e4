/* SPDX-License-Identifier: MIT */
/*
 * pipeline.c: `producer | consumer`, with the parent in the middle.
 *
 *	pipeline ["PRODUCER COMMAND" "CONSUMER COMMAND"]
 *
 * Runs each command with /bin/sh -c (default: `seq 1 100000` and `wc -l`).
 * The producer's stdout and the consumer's stdin are pipes whose parent
 * ends are streams; a task copies one into the other with volt_copy
 * (volt/bufio.h) through a 64 KiB buffer, then shuts the consumer's input
 * down so it sees end of input. The consumer writes to our stdout. The
 * main thread waits for the copy and both children (the blocking forms)
 * and reports on stderr:
 *
 *	copied 588895 bytes
 *	producer: exited with 0
 *	consumer: exited with 0
 *
 * Exit status: 0 when both children exited with 0 and the copy succeeded,
 * 1 otherwise, 2 for bad usage or a spawn error.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <volt.h>

static const char *producer_cmd = "seq 1 100000";
static const char *consumer_cmd = "wc -l";

/* ---- the pump: producer's stdout -> consumer's stdin */

struct pump {
	struct volt_future base;
	struct volt_copy copy;
	struct volt_stream from, to;
	int64_t *copied; /* the byte count, or -errno */
};

static enum volt_poll pump_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct pump *p = (struct pump *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_copy(&p->copy, volt_rw_stream(p->from), volt_rw_stream(p->to),
				    NULL, 0));
	*p->copied = p->copy.result;
	/* end of input for the consumer (a pipe: its write end is closed) */
	(void)volt_rw_shutdown_write(volt_rw_stream(p->to));
	(void)volt_stream_close(p->from);
	VOLT_END(f);
}

static const struct volt_future_ops pump_ops = { .poll = pump_poll };

/* ---- main */

static int spawn_sh(struct volt_rt *rt, const char *script, enum volt_stdio in,
		    enum volt_stdio out, struct volt_child *child)
{
	char *const argv[] = { "sh", "-c", (char *)script, NULL };
	struct volt_command cmd;
	int ret;

	volt_command_init(&cmd, "/bin/sh", argv);
	cmd.stdio[0] = in;
	cmd.stdio[1] = out;
	ret = volt_child_spawn(rt, &cmd, child);
	if (ret)
		fprintf(stderr, "pipeline: cannot run \"%s\": %s\n", script, volt_strerror(ret));
	return ret;
}

static void report(const char *who, struct volt_child *child)
{
	struct volt_exit_status st;
	int ret = volt_child_wait_blocking(child, &st, VOLT_DURATION_MAX);

	if (ret)
		fprintf(stderr, "%s: wait failed: %s\n", who, volt_strerror(ret));
	else if (st.exited)
		fprintf(stderr, "%s: exited with %d\n", who, st.code);
	else
		fprintf(stderr, "%s: killed by signal %d%s\n", who, st.signo,
			st.core_dumped ? ", core dumped" : "");
}

static bool succeeded(const struct volt_child *child)
{
	struct volt_exit_status st;

	return volt_child_try_wait(child, &st) == 0 && st.exited && st.code == 0;
}

static int run(struct volt_rt *rt, void *arg)
{
	struct volt_child producer, consumer;
	struct volt_join *j;
	int64_t copied = 0;
	int ok;

	(void)arg;
	if (spawn_sh(rt, producer_cmd, VOLT_STDIO_INHERIT, VOLT_STDIO_PIPED, &producer))
		return 2;
	if (spawn_sh(rt, consumer_cmd, VOLT_STDIO_PIPED, VOLT_STDIO_INHERIT, &consumer)) {
		(void)volt_child_kill(&producer, SIGTERM);
		volt_child_release(&producer);
		return 2;
	}

	struct pump p = { .from = producer.out, .to = consumer.in, .copied = &copied };

	volt_future_init(&p.base, &pump_ops);
	if (volt_spawn(rt, &p.base, sizeof(p), &j) || volt_join_wait(j, NULL)) {
		fprintf(stderr, "pipeline: the copy task did not run\n");
		copied = -ECANCELED;
	}
	if (copied < 0)
		fprintf(stderr, "copy failed: %s\n", volt_strerror((int)copied));
	else
		fprintf(stderr, "copied %" PRId64 " bytes\n", copied);
	report("producer", &producer);
	report("consumer", &consumer);
	ok = copied >= 0 && succeeded(&producer) && succeeded(&consumer);
	volt_child_release(&producer);
	volt_child_release(&consumer);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3) {
		producer_cmd = argv[1];
		consumer_cmd = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [\"PRODUCER COMMAND\" \"CONSUMER COMMAND\"]\n", argv[0]);
		return 2;
	}
	return volt_run(run, NULL);
}
