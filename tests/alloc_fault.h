/* SPDX-License-Identifier: MIT */
/*
 * tests/alloc_fault.h: allocation-failure injection for the test runner
 * (SQLite's OOM method: make the n-th allocation fail, for n = 1, 2, ...
 * until the operation completes without meeting the failure).
 *
 * The test binaries are linked with -Wl,--wrap=malloc,... (the Makefile's
 * ALLOC_WRAP), so every call to an allocator from an object linked into the
 * binary (the test files and the members of libvolt.a) goes through
 * tests/alloc_fault.c first; calls made inside shared libraries (libc's own,
 * hwloc, liburing, the sanitizer runtimes) do not. The points counted, in
 * one sequence: malloc, calloc, realloc (to a non-zero size),
 * posix_memalign, aligned_alloc, strdup, strndup, mmap (fiber stacks) and
 * pthread_create (a thread start allocates a stack; it fails with EAGAIN).
 * free, munmap and realloc to size 0 are wrapped for the live counts.
 *
 * Armed with vt_alloc_fail_after(n, mode), the n-th point from now fails:
 * only that one (VT_ALLOC_TRANSIENT) or it and every later one
 * (VT_ALLOC_PERSISTENT), until vt_alloc_disarm(). Counters are global
 * atomics, so allocations by worker threads count too (which point is the
 * n-th then depends on the interleaving; the loop still ends, since it stops
 * at the first n past the operation's last allocation).
 *
 * Whether armed or not, the wrappers keep counts of live heap blocks and
 * live mappings (allocations minus frees), which a test compares before and
 * after an operation: a difference is a leak, in every build tree.
 *
 * A binary linked without the --wrap flags still links (the __real_ symbols
 * are weak); vt_alloc_available() is then false and the tests skip.
 */
#ifndef VOLT_TESTS_ALLOC_FAULT_H
#define VOLT_TESTS_ALLOC_FAULT_H

#include <stdbool.h>
#include <stdint.h>

enum vt_alloc_mode {
	VT_ALLOC_TRANSIENT,  /* only the n-th point fails */
	VT_ALLOC_PERSISTENT, /* the n-th and every later point fail */
};

/* True if the binary was linked with the --wrap flags (the wrappers are live). */
bool vt_alloc_available(void);

/* Arms: the n-th allocation point from now (n >= 1) fails, as `mode` says. */
void vt_alloc_fail_after(uint64_t n, enum vt_alloc_mode mode);

/* Disarms; returns the failures injected since the last vt_alloc_fail_after. */
uint64_t vt_alloc_disarm(void);

struct vt_alloc_stats {
	uint64_t points;   /* allocation points met since the process started */
	uint64_t injected; /* failures injected since the process started */
	int64_t live;      /* heap blocks allocated and not yet freed */
	int64_t maps;      /* mappings made and not yet unmapped */
	uint64_t threads;  /* threads started (pthread_create successes) */
};

void vt_alloc_stats(struct vt_alloc_stats *s);

#endif /* VOLT_TESTS_ALLOC_FAULT_H */
