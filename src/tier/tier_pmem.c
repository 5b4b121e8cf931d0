/* SPDX-License-Identifier: MIT */
/*
 * tier_pmem.c -- the pmem tier: ask libpmem2 for a cache-line-granular
 * mapping (MAP_SHARED_VALIDATE|MAP_SYNC on DAX) and refuse clearly when
 * the kernel cannot give one.  Never falls back.
 */
#include <errno.h>
#include <libpmem2.h>
#include <string.h>

#include "../base/err.h"
#include "tier.h"
#include "tier_pmem.h"

int
nv_pmem_map(struct nv_map *m, int fd, size_t len, const char *path)
{
	struct pmem2_config *cfg = NULL;
	struct pmem2_source *src = NULL;
	struct pmem2_map *map = NULL;
	int rc;

	rc = pmem2_source_from_fd(&src, fd);
	if (rc)
		return nv_err(NVMSG_E_TIER, "%s: libpmem2 source: %s", path,
			      pmem2_errormsg());
	rc = pmem2_config_new(&cfg);
	if (rc) {
		rc = nv_err(-ENOMEM, "%s: libpmem2 config: %s", path,
			    pmem2_errormsg());
		goto out_src;
	}
	pmem2_config_set_required_store_granularity(
		cfg, PMEM2_GRANULARITY_CACHE_LINE);
	pmem2_config_set_length(cfg, len);
	rc = pmem2_map_new(&map, cfg, src);
	if (rc == PMEM2_E_GRANULARITY_NOT_SUPPORTED) {
		rc = nv_err(NVMSG_E_NOT_PMEM,
			    "%s: tier pmem asked for a DAX mapping with "
			    "MAP_SYNC (cache-line persistence), and the kernel "
			    "refused: %s. Put the channel on a filesystem "
			    "mounted with -o dax on persistent memory (or a "
			    "devdax device), or create it with --tier msync "
			    "(durable through msync, ~100 us per commit)",
			    path, pmem2_errormsg());
		goto out_cfg;
	}
	if (rc) {
		rc = nv_err(NVMSG_E_TIER, "%s: libpmem2 map: %s", path,
			    pmem2_errormsg());
		goto out_cfg;
	}
	m->pmap = map;
	m->base = pmem2_map_get_address(map);
	m->flush_fn = (void (*)(const void *, size_t))pmem2_get_flush_fn(map);
	m->drain_fn = pmem2_get_drain_fn(map);
	m->granularity = pmem2_map_get_store_granularity(map) ==
					 PMEM2_GRANULARITY_BYTE
				 ? NV_GRAN_BYTE
				 : NV_GRAN_CACHE_LINE;
	rc = 0;
out_cfg:
	pmem2_config_delete(&cfg);
out_src:
	pmem2_source_delete(&src);
	return rc;
}

void
nv_pmem_unmap(struct nv_map *m)
{
	pmem2_map_delete(&m->pmap);
}
