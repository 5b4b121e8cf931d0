/* SPDX-License-Identifier: MIT */
/*
 * recover.h -- scanning a producer ring after an unclean stop.
 */
#ifndef NV_RECOVER_H
#define NV_RECOVER_H

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

/*
 * nv_scan_ring -- walk whole records of ring PRODUCER from START while
 * each verifies (bounds, position, checksum, producer id, increasing
 * sequence) and the walk stays within one lap of START.
 */
void nv_scan_ring(const unsigned char *ring, uint64_t ring_bytes,
		  unsigned producer, uint64_t start, struct nv_scan *s);

#endif
