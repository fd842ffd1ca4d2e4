/* SPDX-License-Identifier: MIT */
/*
 * core/context_aarch64.S: the AArch64 (AAPCS64) stack switch; see context.h.
 *
 * Saved frame (176 bytes), from the stored stack pointer upwards:
 *   0: x19 x20  16: x21 x22  32: x23 x24  48: x25 x26  64: x27 x28
 *  80: x29 x30  96: d8 d9  112: d10 d11  128: d12 d13  144: d14 d15
 * 160: FPCR
 * A new context (context.c) starts with x19 = argument, x20 = entry and
 * x30 = volt__ctx_trampoline.
 */
#if defined(__aarch64__) && !defined(VOLT_CTX_UCONTEXT)
	.text

	.globl	volt__ctx_switch
	.hidden	volt__ctx_switch
	.type	volt__ctx_switch, %function
	.p2align 4
volt__ctx_switch:			/* x0 = from, x1 = to */
	sub	sp, sp, #176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	ldr	x9, [x1]
	mov	sp, x9
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #176
	ret
	.size	volt__ctx_switch, .-volt__ctx_switch

	.globl	volt__ctx_trampoline
	.hidden	volt__ctx_trampoline
	.type	volt__ctx_trampoline, %function
	.p2align 4
volt__ctx_trampoline:
	mov	x0, x19
	blr	x20
	brk	#0			/* entry never returns */
	.size	volt__ctx_trampoline, .-volt__ctx_trampoline
#endif
	.section .note.GNU-stack, "", %progbits
