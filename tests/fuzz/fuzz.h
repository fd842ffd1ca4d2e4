/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz.h: what the libFuzzer targets share: a reader that turns
 * the fuzzer's bytes into choices, and FUZZ_CHECK, the oracle's assertion.
 *
 * A target is one file, tests/fuzz/fuzz_NAME.c, defining
 * LLVMFuzzerTestOneInput; `make test-fuzz` builds each with clang,
 * libFuzzer, ASan and UBSan (tests/fuzz/README.md). A target interprets its
 * input as a small program (operations on the code under test, mirrored on
 * a trivial reference model) and checks after each step that the two
 * agree. A disagreement prints what differed and aborts, which libFuzzer
 * reports as a crash and saves the input as crash-<sha1>; running the
 * target with that file as its argument replays it.
 *
 * The reader never fails: past the end of the input every read returns 0,
 * so every input is a valid program, and a short one is a short program.
 */
#ifndef VOLT_TESTS_FUZZ_H
#define VOLT_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_more(const struct fz *f)
{
	return f->n > 0;
}

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

/* Little-endian, `bytes` of them (at most 8). */
static inline uint64_t fz_bytes(struct fz *f, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)fz_u8(f) << (8 * i);
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)fz_bytes(f, 2);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return (uint32_t)fz_bytes(f, 4);
}

static inline uint64_t fz_u64(struct fz *f)
{
	return fz_bytes(f, 8);
}

/* The oracle failed: say where and what, then abort (libFuzzer saves the input). */
#define FUZZ_CHECK(cond, ...)                                                          \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__,    \
				__LINE__, #cond);                                      \
			fprintf(stderr, __VA_ARGS__);                                  \
			fputc('\n', stderr);                                           \
			abort();                                                       \
		}                                                                      \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv); /* optional: once, before the first input */

#endif /* VOLT_TESTS_FUZZ_H */
