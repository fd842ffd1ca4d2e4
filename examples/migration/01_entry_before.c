/* SPDX-License-Identifier: MIT */
/*
 * 01_entry_before.c: the program before migration. main() does the work
 * itself, on the process's one thread. docs/MIGRATION.md, step 1.
 */
#include <stdio.h>

static long serve(long n)
{
	long sum = 0;

	for (long i = 1; i <= n; i++)
		sum += i;
	return sum;
}

int main(void)
{
	long sum = serve(100);

	printf("result: sum 1..100 = %ld\n", sum);
	return sum == 5050 ? 0 : 1;
}
