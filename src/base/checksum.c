/* SPDX-License-Identifier: MIT */
/*
 * checksum.c -- XXH3-64 over libxxhash (docs/DEPENDENCIES.md says why).
 */
#include "checksum.h"

/* the state struct on the stack needs its definition (stable in 0.8) */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

uint64_t
nv_checksum(const void *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}

uint64_t
nv_checksum2(const void *a, size_t alen, const void *b, size_t blen,
	     uint64_t seed)
{
	XXH3_state_t st;

	/* A stack state avoids XXH3_createState's malloc on the hot path. */
	XXH3_64bits_reset_withSeed(&st, seed);
	XXH3_64bits_update(&st, a, alen);
	XXH3_64bits_update(&st, b, blen);
	return XXH3_64bits_digest(&st);
}
