/* SPDX-License-Identifier: MIT */
/*
 * experiments/leakcheck.h: the process figures the leak experiments
 * (spawn_cancel.c, shutdown_inflight.c) compare before a runtime is made
 * and after it is freed: malloc's bytes in use, open descriptors, threads.
 *
 * malloc: mallinfo2() summed over every arena (uordblks + hblkhd). glibc
 * counts chunks parked in its per-thread caches (tcache) as in use, so the
 * figure drifts by a few KiB as threads come and go; with the caches off
 * it is exact to the byte. lc_tcache_off() re-executes the program with
 * GLIBC_TUNABLES=glibc.malloc.tcache_count=0 unless that is already set.
 *
 * Header-only (each experiment is one program); every function is static.
 * The clock and the option parsing come from proto.h.
 */
#ifndef VOLT_EXPERIMENTS_LEAKCHECK_H
#define VOLT_EXPERIMENTS_LEAKCHECK_H

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LC_TCACHE_OFF "glibc.malloc.tcache_count=0"

static inline void lc_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Entries of a /proc directory, without opendir's own descriptor for /proc/self/fd. */
static inline long lc_count_dir(const char *path)
{
	struct dirent *e;
	long n = 0;
	DIR *d = opendir(path);

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - (strcmp(path, "/proc/self/fd") == 0);
}

static inline long lc_fds(void)
{
	return lc_count_dir("/proc/self/fd");
}

static inline long lc_threads(void)
{
	return lc_count_dir("/proc/self/task");
}

/* Bytes malloc has handed out and not taken back, over every arena. */
static inline size_t lc_malloc_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/*
 * Re-executes the program (argv) with glibc's thread caches off, unless they
 * already are. Returns true if they are off; false (after saying why on
 * stderr, as `name`) if the program could not re-execute: its malloc
 * figures then carry the caches' drift.
 */
static inline bool lc_tcache_off(const char *name, char **argv)
{
	const char *t = getenv("GLIBC_TUNABLES");
	char *v;

	if (t && strstr(t, LC_TCACHE_OFF))
		return true;
	if (asprintf(&v, "%s%s" LC_TCACHE_OFF, t ? t : "", t ? ":" : "") < 0)
		return false;
	setenv("GLIBC_TUNABLES", v, 1);
	free(v);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "%s: cannot re-execute with " LC_TCACHE_OFF " (%s): the malloc figures "
			"include glibc's thread caches\n", name, strerror(errno));
	return false;
}

#endif /* VOLT_EXPERIMENTS_LEAKCHECK_H */
