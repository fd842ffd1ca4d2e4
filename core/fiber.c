/* SPDX-License-Identifier: MIT */
/*
 * core/fiber.c: fibers, stackful tasks on the stackless scheduler.
 *
 * A fiber is a future whose poll switches onto the fiber's own stack and
 * runs the fiber's function until it finishes or blocks. Blocking
 * (volt__fiber_block_on, behind volt_block_on) polls the awaited future with
 * the fiber task's context; if it is pending, the fiber saves its registers
 * and switches back to the poll, which returns VOLT_PENDING. The task's waker
 * is what the awaited future stores, so a wake requeues the task like any
 * other, and the next poll, on whatever worker, switches back in and the
 * blocking call polls again. Scheduling, stealing, budget, groups, joins and
 * cancellation are therefore the stackless task's, unchanged.
 *
 * States: NEW (never run), RUNNING (on its stack), PARKED (switched out in a
 * blocking call), DONE (its function returned; the stack may go).
 *
 * Cancellation. The runtime drops a fiber's future instead of polling it
 * (core/task.c). Dropping a PARKED fiber resumes it once more with
 * `cancelled` set: the blocking call it is in returns -ECANCELED, as does
 * every later one, and the function is expected to return; the drop runs it
 * until it has, then frees the stack. A NEW fiber never runs.
 *
 * Stacks: mmap'd with a PROT_NONE guard page below, default-size ones kept
 * in a per-worker cache (no system call per spawn in the steady state).
 * A fault in the guard page of the running fiber prints which fiber size
 * overflowed, then lets the default action end the process.
 *
 * Valgrind is told of every stack (VALGRIND_STACK_REGISTER) where its
 * header is installed.
 *
 * Sanitizers: AddressSanitizer is told of every stack switch
 * (__sanitizer_start/finish_switch_fiber) and ThreadSanitizer of every fiber
 * and switch (__tsan_create/switch_to/destroy_fiber), so both keep
 * working with fibers that migrate between threads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/context.h"
#include "core/fiber.h"
#include "core/rt.h"
#include "core/task.h"

#if defined(__SANITIZE_ADDRESS__)
#define VOLT__ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(VOLT__TSAN)
#include <sanitizer/tsan_interface.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#define VOLT__VALGRIND 1
#include <valgrind/valgrind.h>
#endif
#endif

enum fiber_state { FIBER_NEW, FIBER_RUNNING, FIBER_PARKED, FIBER_DONE };

struct fiber {
	struct volt_future base;
	volt_fiber_fn fn;
	void *arg;
	struct volt_rt *rt;
	struct volt__ctx ctx;   /* the fiber's saved registers */
	struct volt__ctx *back; /* the poller's, while it runs */
	struct volt_cx *cx;     /* the context of the poll that runs it */
	char *map;              /* the mapping: guard page, then the stack */
	size_t stack_size;      /* usable bytes above the guard page */
	void *output;
	uint8_t state;          /* enum fiber_state */
	bool cancelled;
#ifdef VOLT__ASAN
	void *fake_stack;              /* ASan's fake stack of the side switched away from */
	const void *back_bottom;       /* the poller's stack, for the switch back */
	size_t back_size;
#endif
#ifdef VOLT__TSAN
	void *tsan_fiber;
	void *tsan_back;
#endif
};

static _Thread_local struct fiber *tl_fiber;
static size_t page_size;
static pthread_once_t fiber_once = PTHREAD_ONCE_INIT;
static struct sigaction prev_segv;

/* ---- stacks ---- */

static size_t round_pages(size_t n)
{
	return (n + page_size - 1) & ~(page_size - 1);
}

/*
 * The top STACK_NOTE bytes of every stack hold its Valgrind stack id, so the
 * stack can be registered once when mapped and deregistered when unmapped
 * (cached stacks keep theirs); the fiber runs below them. Valgrind needs the
 * registration to tell a stack switch from a wild stack-pointer change.
 */
#define STACK_NOTE 16

static unsigned *stack_note(char *map, size_t size)
{
	return (unsigned *)(map + page_size + size - STACK_NOTE);
}

static char *stack_map(size_t size)
{
	char *map = mmap(NULL, size + page_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

	if (map == MAP_FAILED)
		return NULL;
	if (mprotect(map, page_size, PROT_NONE)) { /* the guard page */
		munmap(map, size + page_size);
		return NULL;
	}
#ifdef VOLT__VALGRIND
	*stack_note(map, size) = VALGRIND_STACK_REGISTER(map + page_size, map + page_size + size);
#endif
	return map;
}

static void stack_unmap(char *map, size_t size)
{
#ifdef VOLT__VALGRIND
	VALGRIND_STACK_DEREGISTER(*stack_note(map, size));
#else
	(void)stack_note;
#endif
	munmap(map, size + page_size);
}

/* A default-size stack from the calling worker's cache, or a new mapping. */
static char *stack_get(struct volt_rt *rt, size_t size)
{
	struct volt__worker *w = volt__worker_of(rt);

	if (w && size == VOLT_FIBER_STACK_DEFAULT && w->nstacks)
		return w->stacks[--w->nstacks];
	return stack_map(size);
}

static void stack_put(struct volt_rt *rt, char *map, size_t size)
{
	struct volt__worker *w = volt__worker_of(rt);

	if (w && size == VOLT_FIBER_STACK_DEFAULT && w->nstacks < VOLT__STACK_CACHE) {
		w->stacks[w->nstacks++] = map;
		return;
	}
	stack_unmap(map, size);
}

void volt__fiber_stack_cache_flush(struct volt__worker *w)
{
	while (w->nstacks)
		stack_unmap(w->stacks[--w->nstacks], VOLT_FIBER_STACK_DEFAULT);
}

/* ---- stack overflow ---- */

/* Appends the decimal n to buf at *len (async-signal-safe). */
static void put_decimal(char *buf, size_t *len, size_t n)
{
	char digits[24];
	int k = 0;

	do
		digits[k++] = (char)('0' + n % 10);
	while (n /= 10);
	while (k)
		buf[(*len)++] = digits[--k];
}

static void put_text(char *buf, size_t *len, const char *s)
{
	while (*s)
		buf[(*len)++] = *s++;
}

static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
	struct fiber *fb = tl_fiber;
	char *addr = si->si_addr;

	(void)sig;
	(void)uctx;
	if (fb && addr >= fb->map && addr < fb->map + page_size) {
		char msg[200];
		size_t len = 0;

		put_text(msg, &len, "volt: fiber stack overflow: a fiber ran past the end of its ");
		put_decimal(msg, &len, fb->stack_size);
		put_text(msg, &len, "-byte stack (pass a larger stack_size to volt_spawn_fiber)\n");
		ssize_t unused = write(STDERR_FILENO, msg, len);

		(void)unused;
	}
	/* Give the fault back: the previous action (by default, the end of the
	 * process) takes it when the instruction runs again. */
	sigaction(SIGSEGV, &prev_segv, NULL);
}

static void fiber_setup(void)
{
	struct sigaction sa;

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
#ifndef VOLT__ASAN /* ASan reports stack overflows itself */
	sigaction(SIGSEGV, &sa, &prev_segv);
#endif
}

/* ---- switching ---- */

/* On the poller's stack: run fb until it parks or finishes. */
static void switch_in(struct fiber *fb)
{
	struct volt__ctx here;
	struct fiber *outer = tl_fiber;

	fb->back = &here;
	tl_fiber = fb;
	fb->state = FIBER_RUNNING;
#ifdef VOLT__TSAN
	fb->tsan_back = __tsan_get_current_fiber();
	__tsan_switch_to_fiber(fb->tsan_fiber, 0);
#endif
#ifdef VOLT__ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, fb->map + page_size, fb->stack_size);
#endif
	volt__ctx_switch(&here, &fb->ctx);
#ifdef VOLT__ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	tl_fiber = outer;
}

/* On the fiber's stack: back to the poller (never to return if finished). */
static void switch_out(struct fiber *fb)
{
#ifdef VOLT__ASAN
	__sanitizer_start_switch_fiber(fb->state == FIBER_DONE ? NULL : &fb->fake_stack,
				       fb->back_bottom, fb->back_size);
#endif
#ifdef VOLT__TSAN
	__tsan_switch_to_fiber(fb->tsan_back, 0);
#endif
	volt__ctx_switch(&fb->ctx, fb->back);
#ifdef VOLT__ASAN
	__sanitizer_finish_switch_fiber(fb->fake_stack, &fb->back_bottom, &fb->back_size);
#endif
}

static void fiber_main(void *arg)
{
	struct fiber *fb = arg;

#ifdef VOLT__ASAN
	__sanitizer_finish_switch_fiber(NULL, &fb->back_bottom, &fb->back_size);
#endif
	fb->output = fb->fn(fb->rt, fb->arg);
	fb->state = FIBER_DONE;
	switch_out(fb);
}

static void fiber_release(struct fiber *fb)
{
#ifdef VOLT__TSAN
	__tsan_destroy_fiber(fb->tsan_fiber);
#endif
	stack_put(fb->rt, fb->map, fb->stack_size);
	fb->map = NULL;
}

/* ---- the future ---- */

static enum volt_poll fiber_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct fiber *fb = (struct fiber *)f;

	fb->cx = cx;
	switch_in(fb);
	if (fb->state != FIBER_DONE)
		return VOLT_PENDING;
	cx->output = fb->output;
	return VOLT_READY;
}

static void noop_waker_fn(void *data)
{
	(void)data;
}

static void *noop_waker_clone(void *data)
{
	return data;
}

static const struct volt_waker_ops noop_waker_ops = {
	.wake = noop_waker_fn,
	.wake_by_ref = noop_waker_fn,
	.clone = noop_waker_clone,
	.drop = noop_waker_fn,
};

static void fiber_drop(struct volt_future *f)
{
	struct fiber *fb = (struct fiber *)f;

	if (!fb->map)
		return;
	if (fb->state == FIBER_PARKED) {
		/* unwind: its blocking calls now return -ECANCELED */
		struct volt_cx cx = { { &noop_waker_ops, NULL }, fb->rt, NULL, NULL, UINT64_MAX };

		fb->cancelled = true;
		while (fb->state != FIBER_DONE) {
			fb->cx = &cx;
			switch_in(fb);
		}
	}
	fiber_release(fb);
}

static const struct volt_future_ops fiber_ops = {
	.poll = fiber_poll,
	.drop = fiber_drop,
};

/* ---- the blocking mechanism, in a fiber ---- */

bool volt__fiber_active(void)
{
	return tl_fiber != NULL;
}

bool volt_in_fiber(void)
{
	return volt__fiber_active();
}

int volt__fiber_block_on(struct volt_future *f, void **output)
{
	struct fiber *fb = tl_fiber;
	struct volt_cx cx;

	for (;;) {
		if (fb->cancelled) {
			volt_future_drop(f);
			return -ECANCELED;
		}
		cx = *fb->cx; /* this poll's waker and worker; a private output */
		cx.output = NULL;
		if (volt_future_poll(f, &cx) == VOLT_READY)
			break;
		fb->state = FIBER_PARKED;
		switch_out(fb);
	}
	volt_future_drop(f);
	if (output)
		*output = cx.output;
	return 0;
}

/* ---- spawning ---- */

/* On the task's copy of the fiber, before it is queued. */
static void fiber_placed(struct volt_future *f)
{
	struct fiber *fb = (struct fiber *)f;

	volt__ctx_init(&fb->ctx, fb->map + page_size, fb->stack_size - STACK_NOTE, fiber_main, fb);
}

int volt__spawn_fiber(struct volt_rt *rt, struct volt_group *g, volt_fiber_fn fn, void *arg,
		      size_t stack_size, struct volt_join **join)
{
	struct fiber fb;
	int ret;

	pthread_once(&fiber_once, fiber_setup);
	if (!rt || !fn)
		return -EINVAL;
	if (stack_size == 0)
		stack_size = VOLT_FIBER_STACK_DEFAULT;
	if (stack_size < VOLT_FIBER_STACK_MIN || stack_size > VOLT_FIBER_STACK_MAX)
		return -EINVAL;
	memset(&fb, 0, sizeof(fb));
	volt_future_init(&fb.base, &fiber_ops);
	fb.fn = fn;
	fb.arg = arg;
	fb.rt = rt;
	fb.stack_size = round_pages(stack_size);
	fb.state = FIBER_NEW;
	fb.map = stack_get(rt, fb.stack_size);
	if (!fb.map)
		return -ENOMEM;
#ifdef VOLT__TSAN
	fb.tsan_fiber = __tsan_create_fiber(0);
#endif
	/* the context is built on the task's copy of fb: its argument is that copy */
	ret = volt__spawn_with(rt, g, &fb.base, sizeof(fb), join, fiber_placed);
	if (ret) {
#ifdef VOLT__TSAN
		__tsan_destroy_fiber(fb.tsan_fiber);
#endif
		stack_put(rt, fb.map, fb.stack_size);
	}
	return ret;
}


int volt_spawn_fiber(struct volt_rt *rt, volt_fiber_fn fn, void *arg, size_t stack_size,
		     struct volt_join **join)
{
	return volt__spawn_fiber(rt, NULL, fn, arg, stack_size, join);
}

/* ---- yield ---- */

int volt_yield(struct volt_rt *rt)
{
	struct volt_yield y;

	if (!volt__fiber_active() && !volt__worker_self()) {
		sched_yield();
		return 0;
	}
	return volt_block_on(rt, volt_yield_now(&y), NULL);
}
