/* SPDX-License-Identifier: MIT */
/*
 * checksum.c -- XXH3-64 over libxxhash (docs/DEPENDENCIES.md says why).
 */
#include "checksum.h"

#include <xxhash.h>

uint64_t
nv_checksum(const void *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}
