/* SPDX-License-Identifier: MIT */
/*
 * tests/context/selftest.c: the stack switch alone, for any architecture
 * (built natively by `make test-context`, and for AArch64 under qemu-user
 * when a cross compiler is installed). Two contexts bounce control back and
 * forth many times while each keeps many values live across the switch (the
 * compiler puts them in callee-saved registers, integer and floating point),
 * and the floating-point rounding mode set on one side must not leak to the
 * other. Exit 0 on success.
 */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/context.h"

#define ROUNDS 10000

static struct volt__ctx main_ctx, co_ctx;
static volatile uint64_t co_sum;

static void co_main(void *arg)
{
	uint64_t a = (uintptr_t)arg, b = a * 3, c = a * 5, d = a * 7, e = a * 11, f = a * 13;
	double x = 1.5, y = 2.25, z = 3.125;

	fesetround(FE_UPWARD); /* this side rounds up */
	for (int i = 0; i < ROUNDS; i++) {
		a += 1, b += 2, c += 3, d += 4, e += 5, f += 6;
		x += 1, y += 2, z += 3;
		volt__ctx_switch(&co_ctx, &main_ctx);
		if (fegetround() != FE_UPWARD) {
			puts("FAIL: rounding mode not restored on the coroutine side");
			exit(1);
		}
	}
	co_sum = a + b + c + d + e + f + (uint64_t)(x + y + z);
	volt__ctx_switch(&co_ctx, &main_ctx);
	abort(); /* never resumed again */
}

int main(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	uint64_t p = 17, q = 19, r = 23, s = 29, t = 31, u = 37;
	double m = 0.5, n = 0.25;

	fesetround(FE_TONEAREST);
	volt__ctx_init(&co_ctx, stack, sizeof stack, co_main, (void *)(uintptr_t)100);
	for (int i = 0; i < ROUNDS + 1; i++) {
		p += 7, q += 11, r += 13, s += 17, t += 19, u += 23, m += 1, n += 2;
		volt__ctx_switch(&main_ctx, &co_ctx);
		if (fegetround() != FE_TONEAREST) {
			puts("FAIL: rounding mode not restored on the main side");
			return 1;
		}
	}
	uint64_t want_main = 17 + 19 + 23 + 29 + 31 + 37 + (uint64_t)(ROUNDS + 1) * (7 + 11 + 13 + 17 + 19 + 23);
	uint64_t got_main = p + q + r + s + t + u;
	uint64_t want_co = 100 * (1 + 3 + 5 + 7 + 11 + 13) + (uint64_t)ROUNDS * (1 + 2 + 3 + 4 + 5 + 6) +
			   (uint64_t)(1.5 + 2.25 + 3.125 + ROUNDS * 6.0);

	if (got_main != want_main || co_sum != want_co ||
	    m != 0.5 + ROUNDS + 1 || n != 0.25 + 2.0 * (ROUNDS + 1)) {
		printf("FAIL: main %llu/%llu co %llu/%llu\n", (unsigned long long)got_main,
		       (unsigned long long)want_main, (unsigned long long)co_sum,
		       (unsigned long long)want_co);
		return 1;
	}
	puts("context selftest: ok");
	return 0;
}
