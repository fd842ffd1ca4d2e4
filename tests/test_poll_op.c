/* SPDX-License-Identifier: MIT */
/*
 * tests/test_poll_op.c: VOLT__OP_POLL, the driver's readiness operation
 * (drivers/driver.h), on every driver under every policy. It is internal:
 * the process code awaits a pidfd with it; here an eventfd stands in.
 *
 *  poll_op_ready     a POLLIN wait on an empty eventfd stays pending until
 *                    another thread writes the counter, then completes 0;
 *                    POLLOUT on the same descriptor is ready at once
 *  poll_op_dropped   a POLLIN wait cancelled through its join handle while
 *                    it waits completes the task with -ECANCELED, leaves the
 *                    descriptor usable (a second wait still sees the write),
 *                    and closing the handle then releases the descriptor
 *  poll_op_closed    closing the handle while a wait is pending ends it
 *                    with -ECANCELED
 *
 * "Pending" is the probe's word (tests/net_helpers.h): the driver's
 * op_poll returned VOLT_PENDING, so the wait was armed (epoll: on the
 * waiter list after poll(2) said 0; uring: its POLL_ADD queued). Sleeps
 * only order events.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "drivers/source.h"
#include "net/op.h"
#include "net_helpers.h"

/* An empty non-blocking eventfd in a source of rt; its descriptor in *fd. */
static struct volt_handle eventfd_source(struct volt_rt *rt, int *fd)
{
	struct volt_handle h;

	*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(*fd >= 0);
	CHECK_OK(volt__source_open(rt, *fd, VOLT__SRC_STREAM, &h));
	return h;
}

static struct volt_future *poll_op(struct volt_io_op *op, struct volt_handle h, int mask)
{
	struct volt_future *f = volt__op_init(op, h, VOLT__OP_POLL, NULL, 0, NULL);

	op->msg_flags = mask;
	return f;
}

static void bump(int fd)
{
	uint64_t one = 1;

	CHECK_EQ(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

static struct volt_rt *rt_on(const char *policy, const char *driver)
{
	snprintf(vt_fail_note, sizeof(vt_fail_note), "driver %s", driver);
	return vt_net_rt(policy, 2, driver);
}

VOLT_RT_TEST(poll_op_ready)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = rt_on(policy, d);
		struct volt_io_op op, out;
		atomic_int pending = 0;
		int fd;

		if (!rt)
			continue;
		struct volt_handle h = eventfd_source(rt, &fd);

		/* writable at once */
		out.result = -12345;
		vt_run_in_task(rt, poll_op(&out, h, POLLOUT));
		CHECK_EQ(out.result, 0);

		/* readable only after the write */
		op.result = -12345;
		struct volt_join *j = vt_spawn_in_task(rt, poll_op(&op, h, POLLIN), &pending);

		VT_WAIT_FOR(atomic_load(&pending));
		vt_sleep_us(2000);
		CHECK(!volt_join_is_done(j)); /* nothing to read yet: it cannot be ready */
		bump(fd);
		CHECK_OK(volt_join_wait(j, NULL));
		CHECK_EQ(op.result, 0);

		/* still readable (the counter was not read): ready at once */
		vt_run_in_task(rt, poll_op(&op, h, POLLIN));
		CHECK_EQ(op.result, 0);
		CHECK_OK(volt_stream_close((struct volt_stream){ h }));
		volt_rt_free(rt);
	}
}

VOLT_RT_TEST(poll_op_dropped)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = rt_on(policy, d);
		struct volt_io_op op;
		int fd, base;

		if (!rt)
			continue;
		base = vt_fd_count(NULL);
		struct volt_handle h = eventfd_source(rt, &fd);

		for (int round = 0; round < 4; round++) {
			atomic_int pending = 0;

			op.result = -12345;
			struct volt_join *j =
				vt_spawn_in_task(rt, poll_op(&op, h, POLLIN), &pending);

			VT_WAIT_FOR(atomic_load(&pending));
			if (round & 1)
				vt_sleep_us(2000); /* odd rounds: surely in the kernel */
			volt_join_cancel(j);
			CHECK_EQ(volt_join_wait(j, NULL), -ECANCELED);
			CHECK_EQ(op.result, -ECANCELED); /* the drop's mark, not a completion */
		}
		/* the descriptor is still fine: a new wait sees a write */
		atomic_int pending = 0;
		struct volt_join *j = vt_spawn_in_task(rt, poll_op(&op, h, POLLIN), &pending);

		VT_WAIT_FOR(atomic_load(&pending));
		bump(fd);
		CHECK_OK(volt_join_wait(j, NULL));
		CHECK_EQ(op.result, 0);
		CHECK_OK(volt_stream_close((struct volt_stream){ h }));
		CHECK_EQ(volt_stream_close((struct volt_stream){ h }), -EBADF);
		CHECK_EQ(vt_fd_count_settled(base), base); /* the eventfd is gone */
		volt_rt_free(rt);
	}
}

VOLT_RT_TEST(poll_op_closed)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = rt_on(policy, d);
		struct volt_io_op op;
		atomic_int pending = 0;
		int fd;

		if (!rt)
			continue;
		struct volt_handle h = eventfd_source(rt, &fd);

		op.result = -12345;
		struct volt_join *j = vt_spawn_in_task(rt, poll_op(&op, h, POLLIN), &pending);

		VT_WAIT_FOR(atomic_load(&pending));
		CHECK_OK(volt_stream_close((struct volt_stream){ h }));
		CHECK_OK(volt_join_wait(j, NULL));
		CHECK_EQ(op.result, -ECANCELED);
		volt_rt_free(rt);
	}
}
