/* SPDX-License-Identifier: MIT */
/*
 * checksum.h -- the one checksum of nvmsg: XXH3-64 from Debian's libxxhash,
 * seeded, so that the same bytes at another position do not verify.
 */
#ifndef NV_CHECKSUM_H
#define NV_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* nv_checksum -- XXH3-64 of [p, p+len) with SEED */
uint64_t nv_checksum(const void *p, size_t len, uint64_t seed);

#endif
