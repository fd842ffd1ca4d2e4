/* SPDX-License-Identifier: MIT */
/* core/rng.h: the small PRNGs of the runtime (victim choice, the sim policy). */
#ifndef VOLT_CORE_RNG_H
#define VOLT_CORE_RNG_H

#include <stdint.h>

/* splitmix64 (Steele, Lea, Flood): full period, any seed, a good seeder. */
static inline uint64_t volt__splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* xorshift64 (Marsaglia): three shifts, state must not be 0. */
static inline uint64_t volt__xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A non-zero xorshift state for stream i of a run seeded with seed. */
static inline uint64_t volt__rng_stream(uint64_t seed, unsigned i)
{
	uint64_t x = seed + i;
	uint64_t s = volt__splitmix64(&x);

	return s ? s : 1;
}

#endif /* VOLT_CORE_RNG_H */
