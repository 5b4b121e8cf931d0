/* SPDX-License-Identifier: MIT */
/*
 * ring.c -- spans of a producer ring: flush them, commit their records.
 *
 * Positions are 64-bit byte counts that never wrap; the byte of position
 * p is at p mod ring_bytes, so a span [from, to) of at most one ring may
 * wrap once.  Records never straddle the ring end (a pad fills it), so the
 * record walk below needs no wrap of its own.
 */
#include <string.h>

#include "../tier/tier.h"
#include "log.h"

void
nv_ring_flush(struct nv_map *m, const unsigned char *ring, uint64_t ring_bytes,
	      uint64_t from, uint64_t to)
{
	uint64_t off = from & (ring_bytes - 1), len = to - from;

	if (len == 0)
		return;
	if (off + len > ring_bytes) {
		nv_tier_flush(m, ring + off, ring_bytes - off);
		nv_tier_flush(m, ring, len - (ring_bytes - off));
	} else {
		nv_tier_flush(m, ring + off, len);
	}
}

/* clear -- zero LEN bytes at A; returns how many were not zero */
static uint64_t
clear(unsigned char *a, uint64_t len)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < len; i++)
		n += a[i] != 0;
	memset(a, 0, len);
	return n;
}

uint64_t
nv_ring_clear(struct nv_map *m, unsigned char *ring, uint64_t ring_bytes,
	      uint64_t from, uint64_t to)
{
	uint64_t off = from & (ring_bytes - 1), len = to - from, cut;

	if (len == 0)
		return 0;
	if (off + len > ring_bytes) {
		cut = clear(ring + off, ring_bytes - off);
		cut += clear(ring, len - (ring_bytes - off));
	} else {
		cut = clear(ring + off, len);
	}
	nv_ring_flush(m, ring, ring_bytes, from, to);
	return cut;
}

/* rec_at -- the header at position POS and the bytes its record takes */
static struct nv_rec_hdr *
rec_at(unsigned char *ring, uint64_t ring_bytes, uint64_t pos, uint64_t *size)
{
	struct nv_rec_hdr *r = (void *)(ring + (pos & (ring_bytes - 1)));

	*size = r->type == NV_REC_PAD ? NV_REC_HDR + r->len
				      : nv_rec_size(r->len);
	return r;
}

void
nv_ring_commit_span(unsigned char *ring, uint64_t ring_bytes, uint64_t from,
		    uint64_t to)
{
	uint64_t size, pos;
	struct nv_rec_hdr *first;

	if (from >= to)
		return;
	first = rec_at(ring, ring_bytes, from, &size);
	for (pos = from + size; pos < to; pos += size)
		nv_rec_commit(rec_at(ring, ring_bytes, pos, &size), pos);
	nv_rec_commit(first, from);
}
