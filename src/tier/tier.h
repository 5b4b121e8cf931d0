/* SPDX-License-Identifier: MIT */
/*
 * tier.h -- the memory request and the single persist choke point.
 *
 * A struct nv_map is one mapped file on one tier.  Every byte that must
 * become durable goes through nv_tier_flush() (queue lines for write-back)
 * and nv_tier_drain() (the barrier: after it returns, everything flushed
 * before is durable on the tier).  nv_tier_drain() takes the name of the
 * persist point (enum nv_pp); the test build's recorder can stop the world
 * there (docs/CONCURRENCY.md lists every point).
 *
 *   volatile  mmap MAP_SHARED|MAP_POPULATE of a tmpfs file; flush and
 *             drain do nothing (no system call on the hot path).
 *   pmem      libpmem2 with PMEM2_GRANULARITY_CACHE_LINE required, i.e.
 *             MAP_SHARED_VALIDATE|MAP_SYNC on DAX; flush/drain are
 *             libpmem2's (clwb or clflushopt + sfence; no flush on eADR).
 *   msync     mmap MAP_SHARED; flush widens a dirty page range; drain is
 *             msync(MS_SYNC) of that range.
 *   emulated  mmap of a DRAM file; flush/drain are libpmem's pmem_flush and
 *             pmem_drain, which execute the same instructions as libpmem2
 *             on any mapping (no environment variable is set).
 */
#ifndef NV_TIER_H
#define NV_TIER_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/nvmsg.h"
#include "../base/compiler.h"

/* enum nv_gran -- the smallest store the tier makes durable as one unit
 * (libpmem2's store granularity; page for msync) */
enum nv_gran {
	NV_GRAN_BYTE = 0,	/* eADR: the CPU caches are persistent */
	NV_GRAN_CACHE_LINE = 1, /* flush instructions + fence */
	NV_GRAN_PAGE = 2,	/* msync of whole pages */
};

/* enum nv_pp -- every persist point, by name */
enum nv_pp {
	NV_PP_CREATE_INIT = 1,	/* new data region: header, tables */
	NV_PP_CURSOR_INIT,	/* new cursor region */
	NV_PP_CONSUMER_NAME,	/* consumer table entry's name, before state */
	NV_PP_CONSUMER_SLOT,	/* consumer table entry (registration) */
	NV_PP_CONSUMER_START,	/* registration: start positions re-read */
	NV_PP_PRODUCER_CLAIM,	/* producer slot owner word */
	NV_PP_PRODUCER_RECOVER, /* producer: torn tail cut, hint rewritten */
	NV_PP_RECORD, /* send/commit: records + tail hint (1 barrier) */
	NV_PP_ACK,    /* consumer acks (1 barrier for all rings) */
	NV_PP_READER, /* a reader persists a dead producer's
				* records past pub_tail before acting */
	NV_PP_ORIGIN, /* a forwarded slot's origin line, before its
				* first record */
	NV_PP_COUNT
};

const char *nv_pp_name(enum nv_pp pp);

struct pmem2_map;

struct nv_map {
	void *base;
	size_t len;
	enum nvmsg_tier tier;
	int writable;
	enum nv_gran granularity;
	struct pmem2_map *pmap;
	void (*flush_fn)(const void *, size_t);
	void (*drain_fn)(void);
	uintptr_t dirty_lo; /* msync tier: pending range */
	uintptr_t dirty_hi;
	/* msync tier, a producer's map: the barrier is shared with every
	 * producer waiting at the same time (group commit, chan/gsync.c),
	 * which runs nv_tier_barrier() itself; NULL: a barrier of our own */
	int (*group_drain)(void *ctx, enum nv_pp pp);
	void *group_ctx;
};

/*
 * nv_tier_map -- map LEN bytes of FD (opened O_RDWR if WRITABLE, else
 * O_RDONLY) with TIER's request.  PATH names the file in errors.
 * Read-only maps never need MAP_SYNC and use plain mmap on every tier.
 * Returns 0 or NVMSG_E_NOT_PMEM, -errno.
 */
int nv_tier_map(struct nv_map *m, int fd, size_t len, enum nvmsg_tier tier,
		int writable, const char *path);
void nv_tier_unmap(struct nv_map *m);

/*
 * struct nv_tier_hooks -- the test seam at the choke point.  When set
 * (tests only; tier_recorder.c), every map, unmap, flush and drain of the
 * non-volatile tiers is reported, after the tier did its own work (map) or
 * before (unmap, flush, drain).  The drain hook may never return (a crash
 * test can stop the world there); a negative return is the drain's result
 * instead of the tier's (fault injection: -EIO as a failed msync).
 */
struct nv_tier_hooks {
	void (*map)(struct nv_map *m, const char *path);
	void (*unmap)(struct nv_map *m);
	void (*flush)(struct nv_map *m, const void *addr, size_t len);
	int (*drain)(struct nv_map *m, enum nv_pp pp);
};
extern const struct nv_tier_hooks *nv_hooks;
void nv_tier_set_hooks(const struct nv_tier_hooks *h);

void nv_tier_flush_slow(struct nv_map *m, const void *addr, size_t len);
int nv_tier_drain_slow(struct nv_map *m);

/* nv_tier_flush -- queue [addr, addr+len) for write-back */
static inline void
nv_tier_flush(struct nv_map *m, const void *addr, size_t len)
{
	if (m->tier == NVMSG_TIER_VOLATILE)
		return;
	nv_tier_flush_slow(m, addr, len);
}

/* nv_tier_barrier -- this map's own persist barrier, at the named point:
 * after it returns 0, everything flushed through M before is durable */
static inline int
nv_tier_barrier(struct nv_map *m, enum nv_pp pp)
{
	if (m->tier == NVMSG_TIER_VOLATILE)
		return 0;
	if (nv_unlikely(nv_hooks != NULL)) {
		int rc = nv_hooks->drain(m, pp);
		int tr = nv_tier_drain_slow(m);
		return rc < 0 ? rc : tr;
	}
	return nv_tier_drain_slow(m);
}

/* nv_tier_drain -- the persist barrier at the named point: the map's own,
 * or the group commit it belongs to (the one choke point either way) */
static inline int
nv_tier_drain(struct nv_map *m, enum nv_pp pp)
{
	if (m->tier == NVMSG_TIER_VOLATILE)
		return 0;
	if (m->group_drain)
		return m->group_drain(m->group_ctx, pp);
	return nv_tier_barrier(m, pp);
}

/* nv_tier_persist -- flush and drain in one */
static inline int
nv_tier_persist(struct nv_map *m, const void *addr, size_t len, enum nv_pp pp)
{
	nv_tier_flush(m, addr, len);
	return nv_tier_drain(m, pp);
}

/* nv_tier_describe -- backing label, persistence domain, granularity */
void nv_tier_describe(enum nvmsg_tier tier, enum nv_gran granularity,
		      char *backing, size_t blen, char *domain, size_t dlen,
		      char *gran, size_t glen);

#endif
