/* SPDX-License-Identifier: MIT */
/*
 * repair.c -- a writer's recovery of one producer ring after any stop.
 *
 * pub_tail is the floor: it is stored after the barrier, so every record
 * below any value of it that reached media is durable.  The batch
 * descriptors are written inside the barrier and may be ahead of what
 * became durable, so they only say which sequence numbers committed.  The
 * scan starts at the lowest durable consumer ack (or pub_tail) and walks
 * whole records; records past pub_tail that verify are the last batches,
 * durable or not yet flushed by a dead owner, so they are flushed before
 * they are published (readers take the same records without a writer:
 * chan/bound.c).  Everything past the last whole record, up to one ring
 * from the scan's start, is cleared, so a torn tail can never be mistaken
 * for records later.
 *
 * The caller owns the slot (its owner word is ours) and holds the durable
 * acks of every consumer it knows.
 */
#include <string.h>

#include "../base/err.h"
#include "../tier/tier.h"
#include "recover.h"

/* committed_seq -- the highest sequence number that committed: that of
 * the newest whole descriptor if its batch is whole (its end within the
 * whole records END), else the batch before it; at least the last whole
 * record's (LAST) */
static uint64_t
committed_seq(const struct nv_ring_ref *r, uint64_t end, uint64_t last,
	      int *newest)
{
	struct nv_desc nd;
	uint64_t committed = last;

	*newest = nv_desc_newest(r->slot, r->id, &nd);
	if (*newest >= 0) {
		uint64_t c = nv_mutant(4)	 ? nd.end_seq
			     : nd.end_pos <= end ? nd.end_seq
						 : nd.first_seq;
		if (c > 0 && c - 1 > committed)
			committed = c - 1;
	}
	return committed;
}

/* check_bounds -- where the scan starts (*lo) and what it must reach */
static int
check_bounds(const struct nv_ring_ref *r, uint64_t pubt, const uint64_t *acks,
	     const char *const *ack_paths, unsigned nacks, uint64_t *lo,
	     uint64_t *floor)
{
	unsigned bad = 0;
	int b = nv_scan_bounds(pubt, r->ring_bytes, acks, 1, nacks, lo, floor,
			       &bad);

	if (b == NV_BOUNDS_BAD_ACK)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: ack %llu for ring %u is not a record "
			      "position near the tail %llu",
			      ack_paths[bad], (unsigned long long)acks[bad],
			      r->id, (unsigned long long)pubt);
	if (b == NV_BOUNDS_SPREAD)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: ring %u: consumer acks %llu and %llu are "
			      "more than a ring apart",
			      r->path, r->id, (unsigned long long)*lo,
			      (unsigned long long)*floor);
	return 0;
}

int
nv_recover_ring(const struct nv_ring_ref *r, const uint64_t *acks,
		const char *const *ack_paths, unsigned nacks,
		struct nv_recovered *out)
{
	uint64_t pubt = nv_load_relaxed(&r->slot->pub_tail), lo, floor;
	struct nv_scan s;
	int newest, rc;

	memset(out, 0, sizeof(*out));
	out->rep.version = NVMSG_REPORT_VERSION;
	if (pubt % NV_REC_ALIGN)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: producer slot %u: published tail %llu is "
			      "not record-aligned",
			      r->path, r->id, (unsigned long long)pubt);
	rc = check_bounds(r, pubt, acks, ack_paths, nacks, &lo, &floor);
	if (rc < 0)
		return rc;
	nv_scan_ring(r->ring, r->ring_bytes, r->id, lo, &s);
	if (s.end < floor)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: ring %u: record at position %llu fails "
			      "(%s) below the durable tail %llu",
			      r->path, r->id, (unsigned long long)s.end, s.stop,
			      (unsigned long long)floor);
	/* numbers after the committed one never committed (torn records
	 * are cut below), so the next message takes committed + 1: a
	 * producer's sequence numbers stay contiguous across crashes */
	out->committed = committed_seq(r, s.end, s.last_seq, &newest);
	out->didx = newest >= 0 ? (unsigned)newest ^ 1 : 0;
	out->tail = s.end;
	out->rep.slots_recovered = 1;
	out->rep.records_scanned = s.records;
	out->rep.bytes_scanned = s.end - lo;
	nv_ring_flush(r->map, r->ring, r->ring_bytes, lo, s.end);
	/* cut a torn tail: everything outside the live span [lo, end) */
	out->rep.bytes_cut = nv_ring_clear(r->map, r->ring, r->ring_bytes,
					   s.end, lo + r->ring_bytes);
	/* a descriptor covering no records: where the next batch starts */
	nv_desc_write(r->slot, r->id, out->didx, s.end, out->committed + 1,
		      out->committed + 1);
	out->didx ^= 1;
	nv_tier_flush(r->map, r->slot->desc, sizeof(r->slot->desc));
	rc = nv_tier_drain(r->map, NV_PP_PRODUCER_RECOVER);
	if (rc < 0)
		return nv_err_append(rc,
				     "%s: ring %u: recovery not made "
				     "durable",
				     r->path, r->id);
	/* commit words: a power failure may have lost those of durable
	 * records (they are stored after the barrier, never flushed) */
	nv_ring_commit_span(r->ring, r->ring_bytes, lo, s.end);
	/* release: pairs with the consumers' acquire loads of pub_tail, as
	 * in publish() */
	nv_store_release(&r->slot->pub_tail, s.end);
	if (s.end > pubt) {
		struct nv_scan pubs;
		nv_scan_ring(r->ring, r->ring_bytes, r->id, pubt, &pubs);
		out->rep.records_published = pubs.records;
	}
	return 0;
}
