/* SPDX-License-Identifier: MIT */
/*
 * core/context.c: building a fresh context on a new stack (the switch itself
 * is in context_<arch>.S), and the ucontext fallback for other machines.
 */
#include <stdint.h>
#include <string.h>

#include "core/context.h"

#if defined(__x86_64__) && !defined(VOLT_CTX_UCONTEXT)

void volt__ctx_trampoline(void);

void volt__ctx_init(struct volt__ctx *ctx, void *lo, size_t size, void (*entry)(void *),
		    void *arg)
{
	/* the frame volt__ctx_switch pops, 16-aligned so that the trampoline's
	 * call gives entry the stack alignment of an ordinary call */
	uint64_t *sp = (uint64_t *)(((uintptr_t)lo + size) & ~(uintptr_t)15);

	*--sp = (uint64_t)(uintptr_t)volt__ctx_trampoline; /* return address */
	*--sp = 0;                                          /* rbp */
	*--sp = 0;                                          /* rbx */
	*--sp = (uint64_t)(uintptr_t)arg;                   /* r12 */
	*--sp = (uint64_t)(uintptr_t)entry;                 /* r13 */
	*--sp = 0;                                          /* r14 */
	*--sp = 0;                                          /* r15 */
	sp -= 2;
	memset(sp, 0, 16);
	uint16_t fpucw = 0x037f; /* the ABI's initial x87 control word */
	uint32_t mxcsr = 0x1f80; /* and MXCSR: all exceptions masked, round to nearest */

	memcpy(sp, &fpucw, sizeof(fpucw));
	memcpy(sp + 1, &mxcsr, sizeof(mxcsr));
	ctx->sp = sp;
}

#elif defined(__aarch64__) && !defined(VOLT_CTX_UCONTEXT)

void volt__ctx_trampoline(void);

void volt__ctx_init(struct volt__ctx *ctx, void *lo, size_t size, void (*entry)(void *),
		    void *arg)
{
	uint64_t *sp = (uint64_t *)((((uintptr_t)lo + size) & ~(uintptr_t)15) - 176);

	memset(sp, 0, 176);
	sp[0] = (uint64_t)(uintptr_t)arg;                   /* x19 */
	sp[1] = (uint64_t)(uintptr_t)entry;                 /* x20 */
	sp[11] = (uint64_t)(uintptr_t)volt__ctx_trampoline; /* x30 */
	ctx->sp = sp;                                       /* FPCR 0: the default */
}

#else /* the portable fallback */

/* makecontext passes int arguments: split the two pointers in halves. */
static void ucontext_entry(unsigned e_lo, unsigned e_hi, unsigned a_lo, unsigned a_hi)
{
	void (*entry)(void *) =
		(void (*)(void *))(uintptr_t)((uint64_t)e_hi << 32 | e_lo);
	void *arg = (void *)(uintptr_t)((uint64_t)a_hi << 32 | a_lo);

	entry(arg);
}

void volt__ctx_init(struct volt__ctx *ctx, void *lo, size_t size, void (*entry)(void *),
		    void *arg)
{
	uint64_t e = (uint64_t)(uintptr_t)entry, a = (uint64_t)(uintptr_t)arg;

	getcontext(&ctx->uc);
	ctx->uc.uc_stack.ss_sp = lo;
	ctx->uc.uc_stack.ss_size = size;
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, (void (*)(void))ucontext_entry, 4, (unsigned)e,
		    (unsigned)(e >> 32), (unsigned)a, (unsigned)(a >> 32));
}

void volt__ctx_switch(struct volt__ctx *from, struct volt__ctx *to)
{
	swapcontext(&from->uc, &to->uc);
}

#endif
