/* SPDX-License-Identifier: MIT */
/*
 * volt/common.h: version, export macro and the types every module shares.
 *
 * Error convention (liburing/libuv): a function returns 0 or a positive
 * count on success and a negative errno on failure. Try-operations return
 * small result enums instead. Nothing in the library reads errno after an
 * await: a task may resume on another thread.
 */
#ifndef VOLT_COMMON_H
#define VOLT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOLT_VERSION_MAJOR 0
#define VOLT_VERSION_MINOR 1
#define VOLT_VERSION_PATCH 0

#if defined(__GNUC__)
#define VOLT_API __attribute__((visibility("default")))
#else
#define VOLT_API
#endif

/*
 * An atomic field of a public struct. C++ (the benchmark harness) sees a
 * plain field of the same size and alignment; only the library touches it.
 */
#ifdef __cplusplus
#define VOLT__ATOMIC(T) T
#else
#define VOLT__ATOMIC(T) _Atomic T
#endif

/* Most workers one runtime starts (the idle bitmap is one 64-bit word). */
#define VOLT_MAX_WORKERS 64

struct volt_rt;

#endif /* VOLT_COMMON_H */
