/* SPDX-License-Identifier: MIT */
/*
 * tests/alloc_fault.c: the allocator wrappers behind tests/alloc_fault.h.
 *
 * The linker's --wrap=SYM turns every undefined reference to SYM in the
 * binary's own objects into __wrap_SYM, and every __real_SYM into SYM. The
 * wrappers below count the call as one allocation point, decide whether it
 * fails, and otherwise call the real function (under a sanitizer, that is
 * its interceptor, so ASan, LSan and TSan still see every block).
 *
 * The decision is two relaxed atomics: a ticket taken from `points` and a
 * compare with `fail_at` (0 = disarmed). The counters sit on separate cache
 * lines; every test in the binary pays for them, so they stay cheap.
 *
 * The __real_ symbols are weak: a binary linked without --wrap still links,
 * never calls these wrappers, and vt_alloc_available() tells it so.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc_fault.h"

#define WEAK __attribute__((weak))

extern void *__real_malloc(size_t n) WEAK;
extern void *__real_calloc(size_t n, size_t size) WEAK;
extern void *__real_realloc(void *p, size_t n) WEAK;
extern void __real_free(void *p) WEAK;
extern int __real_posix_memalign(void **out, size_t align, size_t n) WEAK;
extern void *__real_aligned_alloc(size_t align, size_t n) WEAK;
extern void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) WEAK;
extern int __real_munmap(void *addr, size_t len) WEAK;
extern int __real_pthread_create(pthread_t *th, const pthread_attr_t *attr,
				 void *(*fn)(void *), void *arg) WEAK;

/* The wrappers have no prototypes elsewhere: the linker calls them by name. */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
int __wrap_posix_memalign(void **out, size_t align, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t max);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);

#define LINE 64

static struct {
	_Alignas(LINE) _Atomic uint64_t points;
	_Alignas(LINE) _Atomic uint64_t fail_at;  /* absolute point number; 0 = disarmed */
	_Atomic int persistent;
	_Atomic uint64_t armed_injected;          /* failures since the last arm */
	_Atomic uint64_t injected;
	_Alignas(LINE) _Atomic int64_t live;
	_Atomic int64_t maps;
	_Atomic uint64_t threads;
} st;

#define RELAXED memory_order_relaxed

bool vt_alloc_available(void)
{
	return __real_malloc != NULL;
}

void vt_alloc_fail_after(uint64_t n, enum vt_alloc_mode mode)
{
	if (n == 0)
		n = 1;
	atomic_store_explicit(&st.armed_injected, 0, RELAXED);
	atomic_store_explicit(&st.persistent, mode == VT_ALLOC_PERSISTENT, RELAXED);
	/* seq_cst: the allocations that follow in this thread count from here */
	atomic_store(&st.fail_at, atomic_load(&st.points) + n);
}

uint64_t vt_alloc_disarm(void)
{
	atomic_store(&st.fail_at, 0);
	return atomic_load(&st.armed_injected);
}

void vt_alloc_stats(struct vt_alloc_stats *s)
{
	s->points = atomic_load(&st.points);
	s->injected = atomic_load(&st.injected);
	s->live = atomic_load(&st.live);
	s->maps = atomic_load(&st.maps);
	s->threads = atomic_load(&st.threads);
}

/* One allocation point: true if this one must fail. */
static bool point_fails(void)
{
	uint64_t n = atomic_fetch_add_explicit(&st.points, 1, RELAXED) + 1;
	uint64_t at = atomic_load_explicit(&st.fail_at, RELAXED);

	if (!at || n < at)
		return false;
	if (n > at && !atomic_load_explicit(&st.persistent, RELAXED))
		return false;
	atomic_fetch_add_explicit(&st.armed_injected, 1, RELAXED);
	atomic_fetch_add_explicit(&st.injected, 1, RELAXED);
	return true;
}

static void *counted(void *p)
{
	if (p)
		atomic_fetch_add_explicit(&st.live, 1, RELAXED);
	return p;
}

void *__wrap_malloc(size_t n)
{
	if (point_fails()) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(__real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (point_fails()) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(__real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (p && n == 0) {
		/* glibc (and ASan by default) free the block and return NULL */
		q = __real_realloc(p, 0);
		if (!q)
			atomic_fetch_sub_explicit(&st.live, 1, RELAXED);
		return q;
	}
	if (point_fails()) {
		errno = ENOMEM;
		return NULL; /* p stays as it was, as a real failure leaves it */
	}
	q = __real_realloc(p, n);
	if (q && !p)
		atomic_fetch_add_explicit(&st.live, 1, RELAXED);
	return q;
}

void __wrap_free(void *p)
{
	if (p)
		atomic_fetch_sub_explicit(&st.live, 1, RELAXED);
	__real_free(p);
}

int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
	int err;

	if (point_fails())
		return ENOMEM;
	err = __real_posix_memalign(out, align, n);
	if (!err)
		atomic_fetch_add_explicit(&st.live, 1, RELAXED);
	return err;
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
	if (point_fails()) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(__real_aligned_alloc(align, n));
}

char *__wrap_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = __wrap_malloc(len);

	if (d)
		memcpy(d, s, len);
	return d;
}

char *__wrap_strndup(const char *s, size_t max)
{
	size_t len = strnlen(s, max);
	char *d = __wrap_malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	if (point_fails()) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	p = __real_mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		atomic_fetch_add_explicit(&st.maps, 1, RELAXED);
	return p;
}

int __wrap_munmap(void *addr, size_t len)
{
	int r = __real_munmap(addr, len);

	if (r == 0)
		atomic_fetch_sub_explicit(&st.maps, 1, RELAXED);
	return r;
}

int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg)
{
	int err;

	if (point_fails())
		return EAGAIN;
	err = __real_pthread_create(th, attr, fn, arg);
	if (!err)
		atomic_fetch_add_explicit(&st.threads, 1, RELAXED);
	return err;
}
