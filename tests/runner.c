/* SPDX-License-Identifier: MIT */
/*
 * tests/runner.c: the test runner (after libuv's): every test file registers
 * its tests from a constructor; main() sorts them, and runs each (test,
 * policy) case in a forked child with a deadline, so a crash, a failed
 * assertion, a leak reported at exit or a deadlock fails that case only.
 *
 *	volt-test [--list] [--runtime-only] [--policy NAME]... [FILTER]...
 *
 * A FILTER is a substring of a test name; a case runs if any filter matches
 * (no filter: all). --policy limits runtime tests to the named policies (a
 * name no registered policy has is an error, status 2); --runtime-only
 * skips the plain tests (`make lab` runs a student's policy this way).
 * Child exit status: 0 pass, 77 skip, anything else (or a signal) fail.
 * The last line printed is exactly "N passed, N failed" (", N skipped" is
 * appended only if something was skipped); the exit status is 1 if any case
 * failed.
 *
 * Timeout per case: 60 s, times VOLT_TEST_TIMEOUT_SCALE (a positive number)
 * when set, times 4 in sanitizer builds.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "volt.h"
#include "runner.h"

#define VT_BASE_TIMEOUT_S 60.0

static struct vt_test *tests;
static size_t ntests, captests;
static char **filters, **pols; /* globals, so a child's leak check sees them */

/* The case running in this (child) process, for failure messages. */
static const char *cur_name = "?";
char vt_fail_note[160];
static const char *cur_policy;

void vt_register(const struct vt_test *t)
{
	if (ntests == captests) {
		size_t cap = captests ? 2 * captests : 64;
		struct vt_test *n = realloc(tests, cap * sizeof *n);

		if (!n) {
			fprintf(stderr, "volt-test: out of memory registering %s\n", t->name);
			exit(2);
		}
		tests = n;
		captests = cap;
	}
	tests[ntests++] = *t;
}

void vt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  (in %s%s%s%s)\n", cur_name, cur_policy ? " [" : "",
		cur_policy ? cur_policy : "", cur_policy ? "]" : "");
	if (vt_fail_note[0])
		fprintf(stderr, "  %s\n", vt_fail_note);
	fflush(stderr);
	fflush(stdout);
	/* Other threads may still run: leave at once, without atexit handlers. */
	_exit(1);
}

void vt_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  skip: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	fflush(stdout);
	_exit(VT_EXIT_SKIP);
}

static int cmp_test(const void *a, const void *b)
{
	const struct vt_test *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double timeout_s(void)
{
	double t = VT_BASE_TIMEOUT_S;
	const char *s = getenv("VOLT_TEST_TIMEOUT_SCALE");

	if (s && *s) {
		char *end;
		double k = strtod(s, &end);

		if (*end == '\0' && k > 0)
			t *= k;
		else
			fprintf(stderr, "volt-test: ignoring VOLT_TEST_TIMEOUT_SCALE=%s\n", s);
	}
#if defined(VOLT_SANITIZE) && VOLT_SANITIZE
	t *= 4;
#endif
	return t;
}

enum outcome { PASS, FAIL, SKIP };

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static enum outcome run_case(const struct vt_test *t, const char *policy, double limit)
{
	double start = now_s(), elapsed;
	char what[96] = "";
	int status = 0;
	long nap = 1;
	pid_t pid, r;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		printf("FAIL %s%s%s%s (fork: %s)\n", t->name, policy ? " [" : "",
		       policy ? policy : "", policy ? "]" : "", strerror(errno));
		return FAIL;
	}
	if (pid == 0) {
		cur_name = t->name;
		cur_policy = policy;
		if (policy) {
			if (setenv("VOLT_SCHED", policy, 1) != 0)
				vt_fail(__FILE__, __LINE__, "setenv VOLT_SCHED failed");
			t->rt(policy);
		} else {
			t->plain();
		}
		fflush(stdout);
		fflush(stderr);
		exit(0); /* through atexit, so LeakSanitizer checks the child */
	}

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			snprintf(what, sizeof what, "waitpid: %s", strerror(errno));
			break;
		}
		if (now_s() - start > limit) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			snprintf(what, sizeof what, "timeout after %.0fs", limit);
			break;
		}
		sleep_ms(nap);
		if (nap < 20)
			nap *= 2;
	}
	elapsed = now_s() - start;

	if (!what[0]) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok   %s%s%s%s %.2fs\n", t->name, policy ? " [" : "",
			       policy ? policy : "", policy ? "]" : "", elapsed);
			return PASS;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == VT_EXIT_SKIP) {
			printf("skip %s%s%s%s\n", t->name, policy ? " [" : "",
			       policy ? policy : "", policy ? "]" : "");
			return SKIP;
		}
		if (WIFEXITED(status))
			snprintf(what, sizeof what, "exit %d", WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			snprintf(what, sizeof what, "signal %d, %s", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		else
			snprintf(what, sizeof what, "status 0x%x", (unsigned)status);
	}
	printf("FAIL %s%s%s%s (%s)\n", t->name, policy ? " [" : "", policy ? policy : "",
	       policy ? "]" : "", what);
	return FAIL;
}

static bool matches(const char *name, int nfilters)
{
	if (nfilters == 0)
		return true;
	for (int i = 0; i < nfilters; i++)
		if (strstr(name, filters[i]))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: volt-test [--list] [--runtime-only] [--policy NAME]... [FILTER]...\n"
		   "  FILTER   run only tests whose name contains one of the FILTERs\n"
		   "  --policy run runtime tests only under the named policies\n"
		   "  --runtime-only  run only the runtime tests (those run per policy)\n"
		   "  --list   print the cases instead of running them\n"
		   "Env: VOLT_TEST_TIMEOUT_SCALE multiplies the %.0f s timeout per case.\n",
		VT_BASE_TIMEOUT_S);
}

int main(int argc, char **argv)
{
	int nfilters = 0, npols = 0;
	bool list = false, runtime_only = false;
	unsigned passed = 0, failed = 0, skipped = 0;
	double limit = timeout_s();

	filters = calloc((size_t)argc, sizeof *filters);
	pols = calloc((size_t)argc, sizeof *pols);
	if (!filters || !pols) {
		fprintf(stderr, "volt-test: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			list = true;
		} else if (strcmp(argv[i], "--runtime-only") == 0) {
			runtime_only = true;
		} else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
			pols[npols++] = argv[++i];
		} else if (strncmp(argv[i], "--policy=", 9) == 0) {
			pols[npols++] = argv[i] + 9;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			usage(stderr);
			return 2;
		} else {
			filters[nfilters++] = argv[i];
		}
	}

	for (int k = 0; k < npols; k++) {
		unsigned p = 0;

		while (volt_sched_name(p) && strcmp(volt_sched_name(p), pols[k]) != 0)
			p++;
		if (!volt_sched_name(p)) {
			fprintf(stderr, "volt-test: no policy named \"%s\"; registered:", pols[k]);
			for (p = 0; volt_sched_name(p); p++)
				fprintf(stderr, " %s", volt_sched_name(p));
			fprintf(stderr, "\n");
			free(filters);
			free(pols);
			free(tests);
			return 2;
		}
	}

	if (ntests)
		qsort(tests, ntests, sizeof *tests, cmp_test);

	for (size_t i = 0; i < ntests; i++) {
		const struct vt_test *t = &tests[i];

		if (!matches(t->name, nfilters))
			continue;
		if (t->plain) {
			if (runtime_only)
				continue;
			if (list) {
				printf("%s\n", t->name);
				continue;
			}
			switch (run_case(t, NULL, limit)) {
			case PASS: passed++; break;
			case FAIL: failed++; break;
			case SKIP: skipped++; break;
			}
			continue;
		}
		for (unsigned p = 0; volt_sched_name(p); p++) {
			const char *policy = volt_sched_name(p);
			bool want = npols == 0;

			for (int k = 0; k < npols; k++)
				if (strcmp(pols[k], policy) == 0)
					want = true;
			if (!want)
				continue;
			if (list) {
				printf("%s [%s]\n", t->name, policy);
				continue;
			}
			switch (run_case(t, policy, limit)) {
			case PASS: passed++; break;
			case FAIL: failed++; break;
			case SKIP: skipped++; break;
			}
		}
	}
	free(filters);
	free(pols);
	free(tests);
	if (list)
		return 0;
	if (skipped)
		printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	else
		printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
