/* SPDX-License-Identifier: MIT */
/*
 * core/context.h: switching the CPU between stacks (the fibers' engine).
 *
 * volt__ctx_switch(from, to) saves the callee-saved state the ABI requires
 * on the current stack, stores the stack pointer in *from, loads to's and
 * restores what is saved there: a few instructions, no system call (compare
 * swapcontext, which saves the signal mask with a syscall: ~1.2 us here,
 * against ~9 ns). What is saved:
 * - x86-64 System V: rbx, rbp, r12-r15, rsp, the MXCSR control bits and the
 *   x87 control word (context_x86_64.S);
 * - AArch64 AAPCS64: x19-x28, x29 (fp), x30 (lr), sp, d8-d15 and FPCR
 *   (context_aarch64.S);
 * - elsewhere, or built with -DVOLT_CTX_UCONTEXT, ucontext (context.c):
 *   portable and slow (swapcontext makes a system call).
 */
#ifndef VOLT_CORE_CONTEXT_H
#define VOLT_CORE_CONTEXT_H

#include <stddef.h>

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(VOLT_CTX_UCONTEXT)
#define VOLT__CTX_ASM 1
struct volt__ctx {
	void *sp; /* the saved stack pointer; the asm relies on offset 0 */
};
#else
#include <ucontext.h>
struct volt__ctx {
	ucontext_t uc;
};
#endif

/* Prepares ctx to run entry(arg) on the stack [lo, lo + size) when switched to. */
void volt__ctx_init(struct volt__ctx *ctx, void *lo, size_t size, void (*entry)(void *),
		    void *arg);

/* Saves the running context into from and resumes to. */
void volt__ctx_switch(struct volt__ctx *from, struct volt__ctx *to);

#endif /* VOLT_CORE_CONTEXT_H */
