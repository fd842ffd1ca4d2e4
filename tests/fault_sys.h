/* SPDX-License-Identifier: MIT */
/*
 * tests/fault_sys.h: a system-call table (drivers/sys.h) that wraps the
 * real one and injects faults from a seeded plan, for the fault-injection
 * tests (tests/test_fault_io.c). How each fault is made realistic is
 * explained in tests/fault_sys.c.
 *
 *	vt_fault_install(seed);             before the runtime is created
 *	vt_fault_set(VT_FC_RECV, VT_F_EAGAIN, 0.3);   arm, at any time
 *	... run ...
 *	vt_fault_clear();                   disarm (counters stay)
 *	vt_fault_uninstall();               after the runtime is freed
 *
 * The plan is a probability per (call, fault); each call draws once from
 * the seed's stream and injects at most one fault. Faults a call cannot
 * give on a path (ECANCELED from a system call, say) are never drawn
 * there. Only TCP sockets the shim saw made (socket, accept) are faulted;
 * the runtime's own descriptors, UDP and Unix sockets pass untouched.
 */
#ifndef VOLT_TESTS_FAULT_SYS_H
#define VOLT_TESTS_FAULT_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What is called. On io_uring ACCEPT, RECV and SEND are the operations' SQEs and CQEs. */
enum vt_fcall {
	VT_FC_ACCEPT,       /* accept4, or an IORING_OP_ACCEPT */
	VT_FC_RECV,         /* recvfrom/read on a stream, or its IORING_OP_RECV */
	VT_FC_SEND,         /* sendto/write on a stream, or its IORING_OP_SEND */
	VT_FC_SOCKET,       /* socket(2) for TCP */
	VT_FC_EPOLL_CTL,    /* EPOLL_CTL_ADD of a TCP socket */
	VT_FC_EPOLL_WAIT,   /* epoll_pwait2 / epoll_wait */
	VT_FC_URING_SUBMIT, /* io_uring_submit */
	VT_FC_URING_ENTER,  /* io_uring_enter2, the poller's wait */
	VT_FC_URING_SETUP,  /* io_uring_queue_init_params */
	VT_FC_N
};

/* What can be injected (VT_F_SHORT: a transfer of n bytes moves 1..n). */
enum vt_fault {
	VT_F_EAGAIN,
	VT_F_EINTR,
	VT_F_ECONNRESET,
	VT_F_EPIPE,
	VT_F_EMFILE,
	VT_F_ENFILE,
	VT_F_ENOBUFS,
	VT_F_ENOMEM,
	VT_F_ENOSPC,
	VT_F_EBUSY,
	VT_F_ECANCELED,
	VT_F_EPERM,
	VT_F_ENOSYS,
	VT_F_SHORT,
	VT_F_N
};

/* Installs the shim as the process-wide table, plan empty, counters zero. */
void vt_fault_install(uint64_t seed);

/* Restores the real table; the runtime that used the shim must be freed. */
void vt_fault_uninstall(void);

/* The probability (0..1) that call c fails with f; the sum for one call must be <= 1. */
void vt_fault_set(enum vt_fcall c, enum vt_fault f, double p);

/* Every probability back to 0 and the dooms forgotten; counters are kept. */
void vt_fault_clear(void);

/*
 * Dooms the nth connection accepted from now on (1 = the next): once
 * `after` bytes have moved on it (both directions), its next call fails
 * with err, -ECONNRESET (a receive or a send) or -EPIPE (a send), and the
 * descriptor behaves as a reset or closed one would from then on. Returns
 * the doom's number for vt_fault_doom_fired; at most 4.
 */
int vt_fault_doom(unsigned nth, uint64_t after, int err);

/* True once doom `id` has failed a call. */
bool vt_fault_doom_fired(int id);

/* Faults of kind f injected into call c so far. */
uint64_t vt_fault_count(enum vt_fcall c, enum vt_fault f);

/* All faults injected so far (dooms included). */
uint64_t vt_fault_total(void);

/* Readiness events the shim added for descriptors it answered EAGAIN (epoll). */
uint64_t vt_fault_synthetic(void);

/* NOPs that stood in for io_uring operations. */
uint64_t vt_fault_standins(void);

/* The nonzero counters as "recv:EAGAIN=12 send:SHORT=3 ..." into buf. */
void vt_fault_describe(char *buf, size_t len);

const char *vt_fault_name(enum vt_fault f);
const char *vt_fcall_name(enum vt_fcall c);

#endif /* VOLT_TESTS_FAULT_SYS_H */
