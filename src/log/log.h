/* SPDX-License-Identifier: MIT */
/*
 * log.h -- the on-media format's code: layout, headers, records.
 *
 * Everything here treats region bytes as untrusted: a header is validated
 * field by field (magic and version first, then the checksum, then the
 * geometry against the file size) before any other field is used, and a
 * record is bounds-checked inside its ring before its length is followed.
 */
#ifndef NV_LOG_H
#define NV_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

struct nv_layout {
	uint64_t ring_bytes;
	uint32_t max_producers;
	uint32_t max_consumers;
	uint64_t cons_table_off;
	uint64_t prod_table_off;
	uint64_t ring_off;
	uint64_t file_bytes;
};

/* nv_layout_compute -- geometry from the three parameters; -EINVAL if out
 * of range (ring not a power of two in [4 KiB, 16 GiB], 1..64 slots) */
int nv_layout_compute(struct nv_layout *l, uint64_t ring_bytes,
		      uint32_t max_producers, uint32_t max_consumers);

/* nv_data_hdr_init -- fill a new data header (computes the checksum) */
void nv_data_hdr_init(struct nv_data_hdr *h, const struct nv_layout *l,
		      uint32_t tier);

/* nv_data_hdr_check -- validate a header read from a file of FILE_BYTES;
 * fills *l.  NVMSG_E_CORRUPT / NVMSG_E_VERSION with a sentence naming PATH */
int nv_data_hdr_check(const struct nv_data_hdr *h, uint64_t file_bytes,
		      const char *path, struct nv_layout *l);

/* nv_cur_bytes -- size of a cursor region for MAX_PRODUCERS rings */
uint64_t nv_cur_bytes(uint32_t max_producers);

void nv_cur_hdr_init(struct nv_cur_hdr *c, const struct nv_data_hdr *h,
		     uint32_t index, const char *name);
/* nv_cur_hdr_check -- validate a cursor header against its channel */
int nv_cur_hdr_check(const struct nv_cur_hdr *c, uint64_t file_bytes,
		     const struct nv_data_hdr *h, uint32_t index,
		     const char *name, const char *path);

/* batch descriptors (batch.c) --------------------------------------------- */

struct nv_desc {
	uint64_t end_pos;
	uint64_t end_seq;
	uint64_t first_seq;
};

/* nv_desc_write -- fill descriptor IDX (0 or 1) of slot ID */
void nv_desc_write(struct nv_prod_slot *s, unsigned id, unsigned idx,
		   uint64_t end_pos, uint64_t end_seq, uint64_t first_seq);
/* nv_desc_read -- 1 and *out if descriptor IDX verifies, else 0 */
int nv_desc_read(const struct nv_prod_slot *s, unsigned id, unsigned idx,
		 struct nv_desc *out);
/* nv_desc_newest -- the index (0 or 1) of the newest whole descriptor of
 * slot ID (the larger end_pos) and *out, or -1 when neither verifies (no
 * batch yet: both are zero) */
int nv_desc_newest(const struct nv_prod_slot *s, unsigned id,
		   struct nv_desc *out);

/* origin lines (origin.c) ----------------------------------------------- */

/* nv_origin_write -- fill slot ID's origin line (the caller persists it) */
void nv_origin_write(struct nv_prod_slot *s, unsigned id,
		     const uint8_t uuid[16], uint32_t producer);
/* nv_origin_read -- 1 and the origin if slot ID's line is set and
 * verifies, 0 if it is all zero (a local slot), -1 if it is torn */
int nv_origin_read(const struct nv_prod_slot *s, unsigned id, uint8_t uuid[16],
		   uint32_t *producer);

/* ring spans (ring.c) ---------------------------------------------------- */

struct nv_map;

/* nv_ring_flush -- queue ring bytes [from, to) for write-back through M
 * (the span may wrap once; at most one ring) */
void nv_ring_flush(struct nv_map *m, const unsigned char *ring,
		   uint64_t ring_bytes, uint64_t from, uint64_t to);

/* nv_ring_clear -- zero ring bytes [from, to) (may wrap once; at most one
 * ring) and queue them for write-back through M; returns how many of them
 * were not zero */
uint64_t nv_ring_clear(struct nv_map *m, unsigned char *ring,
		       uint64_t ring_bytes, uint64_t from, uint64_t to);

/*
 * nv_ring_commit_span -- store the commit word of every record in
 * [from, to), records written by their producer or verified by recovery,
 * after the barrier that made them durable.  The first record's word goes
 * last: a consumer waits on it, and once it sees it (acquire) it finds the
 * whole batch committed and reads it in one burst instead of chasing the
 * stores line by line (measured: batch-64 throughput 18 -> 23 M msgs/s on
 * the volatile tier).
 */
void nv_ring_commit_span(unsigned char *ring, uint64_t ring_bytes,
			 uint64_t from, uint64_t to);

/* records ---------------------------------------------------------------- */

static inline uint64_t
nv_rec_size(uint64_t len)
{
	return NV_ALIGN_UP(NV_REC_HDR + len, (uint64_t)NV_REC_ALIGN);
}

/* the commit word of the record at POS: positions are 32-byte aligned, so
 * bit 0 tells a committed record at position 0 from a zeroed word */
static inline uint64_t
nv_rec_commit_word(uint64_t pos)
{
	return pos | 1u;
}

/* nv_rec_seal -- fill the header of a record whose payload is in place,
 * all but its commit word */
void nv_rec_seal(struct nv_rec_hdr *r, uint64_t pos, uint64_t seq, uint32_t len,
		 uint16_t type, uint16_t producer);

/* nv_rec_commit -- store the commit word (release), after the barrier
 * that made the record durable: consumers may read it from then on */
void nv_rec_commit(struct nv_rec_hdr *r, uint64_t pos);

/* struct nv_rec_info -- what nv_rec_read() found */
struct nv_rec_info {
	uint64_t pos;
	uint64_t seq;
	uint32_t len;
	uint16_t type;
	uint16_t producer;
	uint64_t size; /* bytes this record occupies, pad included */
	const unsigned char *payload;
};

/* verify levels for nv_rec_read */
#define NV_REC_BOUNDS 0 /* commit word, type and length only */
#define NV_REC_VERIFY 1 /* also the checksum */
#define NV_REC_SEALED                                                          \
	2 /* type, length and checksum; the commit word is
			 * ignored (recovery, check, and records below
			 * pub_tail whose word a power failure lost) */

/*
 * nv_rec_read -- read the record at absolute POS of a ring of RING_BYTES
 * at RING.  Never reads outside the ring.  Returns 0, or NVMSG_E_CORRUPT
 * with *why set to a static reason ("position mismatch" (the commit word
 * is not this position's), "bad type",
 * "length past ring end", "checksum mismatch").
 */
int nv_rec_read(const unsigned char *ring, uint64_t ring_bytes, uint64_t pos,
		int level, struct nv_rec_info *out, const char **why);

#endif
