/* SPDX-License-Identifier: MIT */
/*
 * recover.h -- scanning a producer ring after an unclean stop.
 */
#ifndef NV_RECOVER_H
#define NV_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/nvmsg.h"
#include "../base/seam.h"
#include "../log/log.h"

struct nv_scan {
	uint64_t start;	   /* where the scan began */
	uint64_t end;	   /* first position that is not a whole record */
	uint64_t records;  /* messages scanned */
	uint64_t pads;	   /* pad records scanned */
	uint64_t last_seq; /* seq of the last message, 0 if none */
	const char *stop;  /* why the scan stopped ("end of lap", reason) */
};

/* results of nv_scan_bounds */
#define NV_BOUNDS_OK 0
#define NV_BOUNDS_BAD_ACK                                                      \
	1		   /* acks[*bad] is not a record position near
			       * the tail */
#define NV_BOUNDS_SPREAD 2 /* the acks are more than a ring apart */

/*
 * nv_scan_bounds -- where recovery and check scan a ring from, and the
 * floor its whole records must reach: *lo is the lowest of PUBT and the
 * durable acks (nothing at or above it was ever overwritten: a producer
 * writes at most a ring past min(acks, its pub_tail)), *floor the highest
 * of PUBT and the acks (everything below it was durable).
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
 * would end past LIMIT (at most one lap from START).
 */
void nv_scan_ring_to(const unsigned char *ring, uint64_t ring_bytes,
		     unsigned producer, uint64_t start, uint64_t limit,
		     struct nv_scan *s);

/* struct nv_ring_ref -- one producer ring and its slot, as its owner (a
 * writer) maps them */
struct nv_ring_ref {
	struct nv_map *map; /* the data region, writable */
	struct nv_prod_slot *slot;
	unsigned char *ring;
	uint64_t ring_bytes;
	unsigned id;	  /* slot id = ring index */
	const char *path; /* the data file, for messages */
};

/* struct nv_recovered -- what nv_recover_ring found and did */
struct nv_recovered {
	uint64_t tail;	    /* end of the whole records, now pub_tail */
	uint64_t committed; /* highest committed sequence number (0: none) */
	unsigned didx;	    /* batch descriptor the next batch writes */
	struct nvmsg_recovery rep;
};

/*
 * nv_recover_ring -- recover ring R after any stop (repair.c): scan the
 * whole records from the lowest of the NACKS durable ACKS (ACK_PATHS name
 * their cursor files in messages; pub_tail without consumers), cut what
 * follows, write a descriptor covering no records where the next batch
 * starts, one barrier (NV_PP_PRODUCER_RECOVER), then restore the commit
 * words and publish the tail.  0, or NVMSG_E_CORRUPT / the barrier's error.
 */
int nv_recover_ring(const struct nv_ring_ref *r, const uint64_t *acks,
		    const char *const *ack_paths, unsigned nacks,
		    struct nv_recovered *out);

#endif
