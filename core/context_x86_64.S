/* SPDX-License-Identifier: MIT */
/*
 * core/context_x86_64.S: the x86-64 (System V) stack switch; see context.h.
 *
 * Saved frame, from the stack pointer stored in the context upwards:
 *   0: x87 control word (16 bits)   8: MXCSR (32 bits)
 *  16: r15  24: r14  32: r13  40: r12  48: rbx  56: rbp  64: return address
 * A new context (context.c) starts with r12 = argument, r13 = entry and the
 * return address = volt__ctx_trampoline.
 */
#if defined(__x86_64__) && !defined(VOLT_CTX_UCONTEXT)
	.text

	.globl	volt__ctx_switch
	.hidden	volt__ctx_switch
	.type	volt__ctx_switch, @function
	.p2align 4
volt__ctx_switch:			/* rdi = from, rsi = to */
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$16, %rsp
	stmxcsr	8(%rsp)
	fnstcw	(%rsp)
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	fldcw	(%rsp)
	ldmxcsr	8(%rsp)
	addq	$16, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	volt__ctx_switch, .-volt__ctx_switch

	.globl	volt__ctx_trampoline
	.hidden	volt__ctx_trampoline
	.type	volt__ctx_trampoline, @function
	.p2align 4
volt__ctx_trampoline:			/* entered by ret with rsp 16-aligned */
	.cfi_startproc
	.cfi_undefined rip		/* the bottom frame: unwinders stop here */
	movq	%r12, %rdi
	callq	*%r13
	ud2				/* entry never returns */
	.cfi_endproc
	.size	volt__ctx_trampoline, .-volt__ctx_trampoline
#endif
	.section .note.GNU-stack, "", @progbits
