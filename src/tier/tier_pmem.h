/* SPDX-License-Identifier: MIT */
/*
 * tier_pmem.h -- the pmem tier's map through libpmem2.
 */
#ifndef NV_TIER_PMEM_H
#define NV_TIER_PMEM_H

#include <stddef.h>

struct nv_map;

int nv_pmem_map(struct nv_map *m, int fd, size_t len, const char *path);
void nv_pmem_unmap(struct nv_map *m);

#endif
