/* SPDX-License-Identifier: MIT */
/*
 * tier.c -- tier dispatch: map, flush, drain, describe.
 *
 * The four tiers share one struct and one switch: they differ in three
 * places (how the map is made, what flush does, what drain does), and a
 * switch on a small integer keeps the volatile hot path free of indirect
 * calls.  tier_pmem.c holds everything that touches libpmem2.
 */
#include "tier.h"

#include <errno.h>
#include <libpmem.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/err.h"
#include "tier_pmem.h"

const struct nv_tier_hooks *nv_hooks;

void
nv_tier_set_hooks(const struct nv_tier_hooks *h)
{
	nv_hooks = h;
}

const char *
nv_pp_name(enum nv_pp pp)
{
	static const char *const names[NV_PP_COUNT] = {
		[NV_PP_CREATE_INIT] = "create-init",
		[NV_PP_CURSOR_INIT] = "cursor-init",
		[NV_PP_CONSUMER_NAME] = "consumer-name",
		[NV_PP_CONSUMER_SLOT] = "consumer-slot",
		[NV_PP_CONSUMER_START] = "consumer-start",
		[NV_PP_PRODUCER_CLAIM] = "producer-claim",
		[NV_PP_PRODUCER_RECOVER] = "producer-recover",
		[NV_PP_RECORD] = "record",
		[NV_PP_ACK] = "ack",
		[NV_PP_READER] = "reader",
		[NV_PP_ORIGIN] = "origin",
	};
	if ((unsigned)pp < NV_PP_COUNT && names[pp])
		return names[pp];
	return "unknown";
}

/* prefault -- fault every page in now so the hot path takes no page
 * fault.  madvise reports a page it cannot populate as an error; touching
 * by hand is only the fallback for kernels without MADV_POPULATE_* */
static void
prefault(struct nv_map *m)
{
#ifdef MADV_POPULATE_WRITE
	int adv = m->writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
	if (madvise(m->base, m->len, adv) == 0 || errno != EINVAL)
		return;
#endif
	volatile const unsigned char *p = m->base;
	unsigned char sink = 0;
	for (size_t off = 0; off < m->len; off += 4096)
		sink ^= p[off];
	(void)sink;
}

int
nv_tier_map(struct nv_map *m, int fd, size_t len, enum nvmsg_tier tier,
	    int writable, const char *path)
{
	int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = MAP_SHARED;

	memset(m, 0, sizeof(*m));
	m->len = len;
	m->tier = tier;
	m->writable = writable;
	m->dirty_lo = UINTPTR_MAX;
	if (tier < NVMSG_TIER_VOLATILE || tier > NVMSG_TIER_EMULATED)
		return nv_err(NVMSG_E_TIER, "%s: unknown tier %d", path, tier);
	if (tier == NVMSG_TIER_PMEM && writable) {
		int rc = nv_pmem_map(m, fd, len, path);
		if (rc < 0)
			return rc;
		prefault(m);
		if (nv_hooks)
			nv_hooks->map(m, path);
		return 0;
	}
	if (tier == NVMSG_TIER_VOLATILE)
		flags |= MAP_POPULATE;
	void *base = mmap(NULL, len, prot, flags, fd, 0);
	if (base == MAP_FAILED)
		return nv_err(-errno, "%s: mmap of %zu bytes failed: %s", path,
			      len, strerror(errno));
	m->base = base;
	m->granularity = tier == NVMSG_TIER_MSYNC ? NV_GRAN_PAGE
						  : NV_GRAN_CACHE_LINE;
	if (tier == NVMSG_TIER_PMEM) {
		/* a reader's map: a reader persists a dead producer's records
		 * before acting on them (chan/bound.c); libpmem's flush runs
		 * the same instructions as libpmem2's on any mapping */
		m->flush_fn = pmem_flush;
		m->drain_fn = pmem_drain;
	}
	if (tier != NVMSG_TIER_VOLATILE)
		prefault(m);
	if (nv_hooks && tier != NVMSG_TIER_VOLATILE)
		nv_hooks->map(m, path);
	return 0;
}

void
nv_tier_unmap(struct nv_map *m)
{
	if (!m->base)
		return;
	if (nv_hooks && m->tier != NVMSG_TIER_VOLATILE)
		nv_hooks->unmap(m);
	if (m->pmap)
		nv_pmem_unmap(m);
	else
		munmap(m->base, m->len);
	m->base = NULL;
}

void
nv_tier_flush_slow(struct nv_map *m, const void *addr, size_t len)
{
	if (nv_unlikely(nv_hooks != NULL))
		nv_hooks->flush(m, addr, len);
	switch (m->tier) {
	case NVMSG_TIER_PMEM:
		m->flush_fn(addr, len);
		break;
	case NVMSG_TIER_MSYNC: {
		uintptr_t lo = (uintptr_t)addr;
		uintptr_t hi = lo + len;
		if (lo < m->dirty_lo)
			m->dirty_lo = lo;
		if (hi > m->dirty_hi)
			m->dirty_hi = hi;
		break;
	}
	case NVMSG_TIER_EMULATED:
		pmem_flush(addr, len);
		break;
	default:
		break;
	}
}

int
nv_tier_drain_slow(struct nv_map *m)
{
	switch (m->tier) {
	case NVMSG_TIER_PMEM:
		m->drain_fn();
		return 0;
	case NVMSG_TIER_MSYNC: {
		if (m->dirty_lo >= m->dirty_hi)
			return 0;
		uintptr_t page = 4096;
		uintptr_t lo = m->dirty_lo & ~(page - 1);
		uintptr_t hi = m->dirty_hi;
		m->dirty_lo = UINTPTR_MAX;
		m->dirty_hi = 0;
		if (msync((void *)lo, hi - lo, MS_SYNC) != 0)
			return nv_err(-errno, "msync failed: %s",
				      strerror(errno));
		return 0;
	}
	case NVMSG_TIER_EMULATED:
		pmem_drain();
		return 0;
	default:
		return 0;
	}
}

/* nd_domain -- the platform's persistence domain as the kernel's nvdimm
 * bus reports it (/sys/bus/nd/devices/regionN/persistence_domain), or
 * NULL when there is no nvdimm region */
static const char *
nd_domain(char *buf, size_t len)
{
	char path[128];

	for (int i = 0; i < 16; i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/nd/devices/region%d/persistence_domain", i);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		char *ok = fgets(buf, (int)len, f);
		fclose(f);
		if (!ok)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		return buf[0] ? buf : "none reported";
	}
	return NULL;
}

void
nv_tier_describe(enum nvmsg_tier tier, enum nv_gran granularity, char *backing,
		 size_t blen, char *domain, size_t dlen, char *gran,
		 size_t glen)
{
	char nd[64];
	const char *b = "unknown", *d = "unknown", *g = "unknown";

	switch (tier) {
	case NVMSG_TIER_VOLATILE:
		b = "volatile (DRAM file, lost at power failure)";
		d = "none (volatile)";
		g = "byte";
		break;
	case NVMSG_TIER_PMEM:
		b = "DAX+MAP_SYNC (libpmem2)";
		/* granularity from libpmem2 when this process mapped the
		 * region writable; the domain from the nvdimm bus */
		if (granularity == NV_GRAN_BYTE) {
			d = "cpu_cache (eADR, libpmem2)";
			g = "byte";
		} else {
			d = "memory_controller (ADR)";
			g = "cache line";
		}
		if (nd_domain(nd, sizeof(nd)))
			d = nd;
		break;
	case NVMSG_TIER_MSYNC:
		b = "msync(MS_SYNC) on a block filesystem";
		d = "storage (msync)";
		g = "page";
		break;
	case NVMSG_TIER_EMULATED:
		b = "emulated (DRAM file, clwb+sfence executed, NOT durable)";
		d = "none (emulated)";
		g = "cache line";
		break;
	}
	snprintf(backing, blen, "%s", b);
	snprintf(domain, dlen, "%s", d);
	snprintf(gran, glen, "%s", g);
}
