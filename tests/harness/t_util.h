/* SPDX-License-Identifier: MIT */
/*
 * t_util.h -- the small helpers that tests, fuzz targets and the power-cut
 * guest share, written once: a splitmix64 generator, 64-bit loads and
 * stores at any alignment, a monotonic clock in nanoseconds.
 *
 * libc only (no nvmsg.h, no assertions), so that fuzz/ and
 * tests/powercut/pc_guest.c include it without the harness; t.h includes
 * it for every test program.  Every helper is static inline.
 */
#ifndef NV_T_UTIL_H
#define NV_T_UTIL_H

#include <stdint.h>
#include <string.h>
#include <time.h>

/* t_mix64 -- the splitmix64 output for state X: a stateless hash of X
 * (deterministic, no libc state) */
static inline uint64_t
t_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* t_rng -- the next number of the splitmix64 generator whose state is *S
 * (seeded by the caller; the same seed gives the same sequence) */
static inline uint64_t
t_rng(uint64_t *s)
{
	uint64_t x = *s;

	*s += 0x9e3779b97f4a7c15ull;
	return t_mix64(x);
}

/* t_get64, t_put64 -- the u64 at P, at any alignment, in host order
 * (little-endian, as the on-media format) */
static inline uint64_t
t_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline void
t_put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* t_now_ns -- CLOCK_MONOTONIC in nanoseconds */
static inline uint64_t
t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
