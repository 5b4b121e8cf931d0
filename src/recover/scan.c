/* SPDX-License-Identifier: MIT */
/*
 * scan.c -- walk a ring from a known record boundary to its torn tail.
 *
 * A ring has one writer, so records are contiguous and a torn record can
 * only be at the tail: every record before the tail hint was durable when
 * the hint was, and nothing after a torn record was ever acknowledged.
 */
#include "recover.h"

void
nv_scan_ring(const unsigned char *ring, uint64_t ring_bytes, unsigned producer,
	     uint64_t start, struct nv_scan *s)
{
	nv_scan_ring_to(ring, ring_bytes, producer, start, start + ring_bytes,
			s);
}

void
nv_scan_ring_to(const unsigned char *ring, uint64_t ring_bytes,
		unsigned producer, uint64_t start, uint64_t limit,
		struct nv_scan *s)
{
	uint64_t pos = start;
	struct nv_rec_info ri;
	const char *why = "";

	s->start = start;
	s->records = 0;
	s->pads = 0;
	s->last_seq = 0;
	s->stop = "end of lap";
	if (limit - start > ring_bytes)
		limit = start + ring_bytes;
	while (pos < limit) {
		/* sealed: commit words may be lost in a power failure (they
		 * are stored after the barrier); the checksum decides */
		if (nv_rec_read(ring, ring_bytes, pos, NV_REC_SEALED, &ri,
				&why) != 0) {
			s->stop = why;
			break;
		}
		if (ri.producer != producer) {
			s->stop = "wrong producer id";
			break;
		}
		if (ri.size > limit - pos) {
			s->stop = "record beyond one lap";
			break;
		}
		if (ri.type == NV_REC_MSG) {
			if (ri.seq == 0 || ri.seq <= s->last_seq) {
				s->stop = "sequence not increasing";
				break;
			}
			s->last_seq = ri.seq;
			s->records++;
		} else {
			s->pads++;
		}
		pos += ri.size;
	}
	s->end = pos;
}

int
nv_scan_bounds(uint64_t pubt, uint64_t ring_bytes, const uint64_t *acks,
	       size_t stride, unsigned n, uint64_t *lo, uint64_t *floor,
	       unsigned *bad)
{
	*lo = pubt;
	*floor = pubt;
	for (unsigned k = 0; k < n; k++) {
		uint64_t a = acks[k * stride];
		if (a % NV_REC_ALIGN || a > pubt + ring_bytes) {
			*bad = k;
			return NV_BOUNDS_BAD_ACK;
		}
		/* lowest of PUBT and the acks: consumers may have read (and
		 * acked) records past pub_tail (commit words on the volatile
		 * tier, a dead producer's bound: chan/bound.c), and those
		 * records count for what committed */
		if (a < *lo)
			*lo = a;
		if (a > *floor)
			*floor = a;
	}
	return *floor - *lo > ring_bytes ? NV_BOUNDS_SPREAD : NV_BOUNDS_OK;
}
