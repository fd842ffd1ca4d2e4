/* SPDX-License-Identifier: MIT */
/*
 * core/atomic.h: the one door to shared memory.
 *
 * Every atomic operation in the library goes through these macros, so that a
 * test build can put a scheduling point in front of each one (VOLT_CHAOS:
 * a seeded yield or spin, to widen race windows under real threads) without
 * touching the algorithms. In a normal build they are the C11 operations
 * and cost nothing extra.
 *
 * Conventions: an ordering weaker than seq_cst carries a one-line reason at
 * its use; acquire/release go on the operations themselves, never on
 * stand-alone fences, which ThreadSanitizer cannot follow.
 */
#ifndef VOLT_CORE_ATOMIC_H
#define VOLT_CORE_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#ifdef VOLT_CHAOS
void volt__chaos_point(void);
#define VOLT__POINT() volt__chaos_point()
#else
#define VOLT__POINT() ((void)0)
#endif

#define RELAXED memory_order_relaxed
#define ACQUIRE memory_order_acquire
#define RELEASE memory_order_release
#define ACQ_REL memory_order_acq_rel
#define SEQ_CST memory_order_seq_cst

#define volt__load(p, mo) (VOLT__POINT(), atomic_load_explicit((p), (mo)))
#define volt__store(p, v, mo) (VOLT__POINT(), atomic_store_explicit((p), (v), (mo)))
#define volt__xchg(p, v, mo) (VOLT__POINT(), atomic_exchange_explicit((p), (v), (mo)))
#define volt__fetch_add(p, v, mo) (VOLT__POINT(), atomic_fetch_add_explicit((p), (v), (mo)))
#define volt__fetch_sub(p, v, mo) (VOLT__POINT(), atomic_fetch_sub_explicit((p), (v), (mo)))
#define volt__fetch_or(p, v, mo) (VOLT__POINT(), atomic_fetch_or_explicit((p), (v), (mo)))
#define volt__fetch_and(p, v, mo) (VOLT__POINT(), atomic_fetch_and_explicit((p), (v), (mo)))
/* Weak CAS: *expected is updated on failure; use in retry loops. */
#define volt__cas(p, expected, desired, mo_ok, mo_fail) \
	(VOLT__POINT(), atomic_compare_exchange_weak_explicit((p), (expected), (desired), (mo_ok), (mo_fail)))
#define volt__cas_strong(p, expected, desired, mo_ok, mo_fail) \
	(VOLT__POINT(), atomic_compare_exchange_strong_explicit((p), (expected), (desired), (mo_ok), (mo_fail)))

/*
 * A full StoreLoad barrier, for the one place that needs it without an RMW
 * on a shared line: the idle protocol's lost-wakeup argument (core/idle.c).
 * It publishes no data (the queues do that with acquire/release), so
 * ThreadSanitizer's blindness to fences cannot hide a data race here.
 */
#if defined(__SANITIZE_THREAD__)
#define VOLT__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VOLT__TSAN 1
#endif
#endif

#ifdef VOLT__TSAN
/* TSan rejects fences: an acq_rel RMW on one shared word orders the same two
 * sides (all callers RMW the same word, so one reads the other's write). */
extern _Atomic unsigned volt__fence_word;
#define volt__fence_sc() ((void)volt__fetch_add(&volt__fence_word, 0, ACQ_REL))
#else
#define volt__fence_sc() (VOLT__POINT(), atomic_thread_fence(SEQ_CST))
#endif

/* A counter written by one thread and read by others: no RMW needed. */
#define volt__count(p) volt__store((p), atomic_load_explicit((p), RELAXED) + 1, RELAXED)
#define volt__count_n(p, n) volt__store((p), atomic_load_explicit((p), RELAXED) + (n), RELAXED)

#define VOLT__CACHELINE 64
#define VOLT__ALIGNED_LINE _Alignas(VOLT__CACHELINE)

static inline void volt__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif /* VOLT_CORE_ATOMIC_H */
