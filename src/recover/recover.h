/* SPDX-License-Identifier: MIT */
/*
 * recover.h -- scanning a producer ring after an unclean stop.
 */
#ifndef NV_RECOVER_H
#define NV_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "../log/log.h"

struct nv_scan {
	uint64_t start;     /* where the scan began */
	uint64_t end;       /* first position that is not a whole record */
	uint64_t records;   /* messages scanned */
	uint64_t pads;      /* pad records scanned */
	uint64_t last_seq;  /* seq of the last message, 0 if none */
	const char *stop;   /* why the scan stopped ("end of lap", reason) */
};

/* results of nv_scan_bounds */
#define NV_BOUNDS_OK 0
#define NV_BOUNDS_BAD_ACK 1   /* acks[*bad] is not a record position near
			       * the tail */
#define NV_BOUNDS_SPREAD 2    /* the acks are more than a ring apart */

/*
 * nv_scan_bounds -- where recovery and check scan a ring from, and the
 * floor its whole records must reach: *lo is the lowest durable ack (or
 * PUBT without acks: nothing at or above it was ever overwritten), *floor
 * the highest of PUBT and the acks (everything below it was durable).
 * ACKS[k * STRIDE] for k < N are the consumers' durable acks of the ring.
 */
int nv_scan_bounds(uint64_t pubt, uint64_t ring_bytes, const uint64_t *acks,
		   size_t stride, unsigned n, uint64_t *lo, uint64_t *floor,
		   unsigned *bad);

/*
 * nv_scan_ring -- walk whole records of ring PRODUCER from START while
 * each verifies (bounds, checksum seeded with the position, producer id,
 * increasing sequence; not the commit word, which a power failure may have
 * lost) and the walk stays within one lap of START.
 */
void nv_scan_ring(const unsigned char *ring, uint64_t ring_bytes,
		  unsigned producer, uint64_t start, struct nv_scan *s);

/*
 * nv_scan_ring_to -- nv_scan_ring that also stops before any record that
 * would end past LIMIT (at most one lap from START) and requires every
 * message's sequence number to be above AFTER_SEQ (0: any).
 */
void nv_scan_ring_to(const unsigned char *ring, uint64_t ring_bytes,
		     unsigned producer, uint64_t start, uint64_t limit,
		     uint64_t after_seq, struct nv_scan *s);

#endif
