/* SPDX-License-Identifier: MIT */
/*
 * tests/runner.h: the test runner's registration and assertion macros.
 *
 * Each test file registers its own tests with a constructor, so there is no
 * central list to edit:
 *
 *	VOLT_TEST(config_defaults) { ... }            runs once
 *	VOLT_RT_TEST(spawn_join_many) { ... policy ... } runs once per policy
 *
 * The runner forks one child per (test, policy); in the child of a runtime
 * test VOLT_SCHED is already set to the policy, so a runtime built from
 * volt_config_init() uses it. A test passes by returning, fails through a
 * CHECK macro (which prints file:line, the expression and the values, then
 * ends the child with status 1) and skips with VT_SKIP (status 77).
 */
#ifndef VOLT_TESTS_RUNNER_H
#define VOLT_TESTS_RUNNER_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Sanitizer builds are several times slower: scale big loops down by 10. */
#if defined(VOLT_SANITIZE) && VOLT_SANITIZE
#define VT_SCALE(n) ((n) / 10)
#else
#define VT_SCALE(n) (n)
#endif

#define VT_EXIT_SKIP 77

typedef void (*vt_plain_fn)(void);
typedef void (*vt_rt_fn)(const char *policy);

struct vt_test {
	const char *name;
	const char *file;
	int line;
	vt_plain_fn plain; /* exactly one of plain and rt is set */
	vt_rt_fn rt;
};

void vt_register(const struct vt_test *t);

/*
 * A line vt_fail prints after the failure when not empty: helpers put the
 * seed of the runtime under test here, so a failure can be replayed with
 * VOLT_SEED=<seed>.
 */
extern char vt_fail_note[160];

#define VT__REGISTER(name_, plain_, rt_)                                         \
	__attribute__((constructor)) static void vt__reg_##name_(void)           \
	{                                                                        \
		static const struct vt_test t = { #name_, __FILE__, __LINE__,    \
						   plain_, rt_ };                \
		vt_register(&t);                                                 \
	}

#define VOLT_TEST(name_)                            \
	static void vt_test_##name_(void);          \
	VT__REGISTER(name_, vt_test_##name_, NULL)  \
	static void vt_test_##name_(void)

#define VOLT_RT_TEST(name_)                                         \
	static void vt_test_##name_(const char *policy);            \
	VT__REGISTER(name_, NULL, vt_test_##name_)                  \
	static void vt_test_##name_(__attribute__((unused)) const char *policy)

/* Failure and skip: print, then end the child at once (any thread may call). */
_Noreturn void vt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void vt_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define VT_SKIP(...) vt_skip(__VA_ARGS__)
#define VT_FAIL(...) vt_fail(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(cond)                                                  \
	do {                                                         \
		if (!(cond))                                         \
			vt_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_MSG(cond, ...)                                         \
	do {                                                         \
		if (!(cond)) {                                       \
			fprintf(stderr, "  note: ");                 \
			fprintf(stderr, __VA_ARGS__);                \
			fprintf(stderr, "\n");                       \
			vt_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
		}                                                    \
	} while (0)

/*
 * Integer comparisons; both sides are evaluated once, as intmax_t. The
 * expression text is taken here, before macro expansion of the arguments.
 */
#define VT__CMP(a, op, b, sa, sb)                                               \
	do {                                                                    \
		intmax_t vt_a_ = (intmax_t)(a), vt_b_ = (intmax_t)(b);          \
		if (!(vt_a_ op vt_b_))                                          \
			vt_fail(__FILE__, __LINE__, "CHECK(%s %s %s): %jd vs %jd", \
				sa, #op, sb, vt_a_, vt_b_);                     \
	} while (0)

#define CHECK_EQ(a, b) VT__CMP(a, ==, b, #a, #b)
#define CHECK_NE(a, b) VT__CMP(a, !=, b, #a, #b)
#define CHECK_LT(a, b) VT__CMP(a, <, b, #a, #b)
#define CHECK_LE(a, b) VT__CMP(a, <=, b, #a, #b)
#define CHECK_GT(a, b) VT__CMP(a, >, b, #a, #b)
#define CHECK_GE(a, b) VT__CMP(a, >=, b, #a, #b)

/* Unsigned 64-bit comparisons (counters that may exceed INTMAX_MAX). */
#define CHECK_UEQ(a, b)                                                         \
	do {                                                                    \
		uint64_t vt_a_ = (uint64_t)(a), vt_b_ = (uint64_t)(b);          \
		if (vt_a_ != vt_b_)                                             \
			vt_fail(__FILE__, __LINE__, "CHECK(%s == %s): %" PRIu64 \
				" vs %" PRIu64, #a, #b, vt_a_, vt_b_);          \
	} while (0)

#define CHECK_PTR_EQ(a, b)                                                   \
	do {                                                                 \
		const void *vt_a_ = (const void *)(a), *vt_b_ = (const void *)(b); \
		if (vt_a_ != vt_b_)                                          \
			vt_fail(__FILE__, __LINE__, "CHECK(%s == %s): %p vs %p", \
				#a, #b, vt_a_, vt_b_);                       \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                        \
	do {                                                                      \
		const char *vt_a_ = (a), *vt_b_ = (b);                            \
		if (!vt_a_ || !vt_b_ || strcmp(vt_a_, vt_b_) != 0)                \
			vt_fail(__FILE__, __LINE__, "CHECK(%s == %s): \"%s\" vs \"%s\"", \
				#a, #b, vt_a_ ? vt_a_ : "(null)",                 \
				vt_b_ ? vt_b_ : "(null)");                        \
	} while (0)

/* A call that returns 0 or a negative errno must return 0. */
#define CHECK_OK(expr)                                                          \
	do {                                                                    \
		intmax_t vt_r_ = (intmax_t)(expr);                              \
		if (vt_r_ != 0)                                                 \
			vt_fail(__FILE__, __LINE__, "CHECK_OK(%s): %jd (%s)",   \
				#expr, vt_r_,                                   \
				vt_r_ < 0 ? strerror((int)-vt_r_) : "positive");\
	} while (0)

#endif /* VOLT_TESTS_RUNNER_H */
