/* SPDX-License-Identifier: MIT */
/*
 * record.c -- seal and read one record.
 *
 * A record proves itself: its checksum is seeded with its own absolute
 * position, so bytes left from an earlier lap of the ring, or a record
 * torn by a power failure, do not verify.  Its first word, the commit word
 * (position | 1), is stored after the batch's barrier: it is what a
 * consumer spins on, one cache line with the header and the payload's
 * start, so a message costs the consumer one line transfer, not two.
 */
#include <string.h>

#include "../base/checksum.h"
#include "../base/err.h"
#include "log.h"

/* the checksum covers seq, len, type, producer and the payload: one
 * contiguous span from byte 16, so one one-shot XXH3 call */
#define COVER_OFF 16u
#define COVER_HDR 16u

void
nv_rec_seal(struct nv_rec_hdr *r, uint64_t pos, uint64_t seq, uint32_t len,
	    uint16_t type, uint16_t producer)
{
	/* len, type and producer as ONE 8-byte store: the checksum's load
	 * of bytes 24..31 right after can then be forwarded from the store
	 * buffer instead of waiting for three narrow stores to reach L1
	 * (measured: the checksum was 37% of a volatile producer's time) */
	uint64_t w = (uint64_t)len | (uint64_t)type << 32 |
		     (uint64_t)producer << 48;
	r->seq = seq;
	memcpy(&r->len, &w, sizeof(w));
	r->check = nv_checksum((const unsigned char *)r + COVER_OFF,
			       COVER_HDR + (type == NV_REC_MSG ? len : 0), pos);
	/* the commit word is not written here: nv_rec_commit() stores it
	 * after the batch's barrier (durable before visible) */
}

void
nv_rec_commit(struct nv_rec_hdr *r, uint64_t pos)
{
	/* release: pairs with the consumer's acquire load of the commit
	 * word; the record's bytes are visible before the word that says
	 * they are whole */
	nv_store_release(&r->commit, nv_rec_commit_word(pos));
}

int
nv_rec_read(const unsigned char *ring, uint64_t ring_bytes, uint64_t pos,
	    int level, struct nv_rec_info *out, const char **why)
{
	uint64_t off = pos & (ring_bytes - 1);
	const struct nv_rec_hdr *r = (const void *)(ring + off);
	struct nv_rec_hdr h;

	if (off % NV_REC_ALIGN || off + NV_REC_HDR > ring_bytes) {
		*why = "misaligned position";
		return NVMSG_E_CORRUPT;
	}
	/* one copy: another process may be writing these bytes (a hostile
	 * or crashed writer); decide on the copy, never re-read */
	h.seq = r->seq;
	h.len = r->len;
	h.type = r->type;
	h.producer = r->producer;
	h.check = r->check;
	/* relaxed: a caller that trusts the commit word has loaded it with
	 * acquire already; NV_REC_SEALED ignores it (lost in a power failure,
	 * or not stored yet) and trusts the checksum alone */
	if (level != NV_REC_SEALED &&
	    nv_load_relaxed(&r->commit) != nv_rec_commit_word(pos)) {
		*why = "position mismatch";
		return NVMSG_E_CORRUPT;
	}
	if (h.type != NV_REC_MSG && h.type != NV_REC_PAD) {
		*why = "bad record type";
		return NVMSG_E_CORRUPT;
	}
	if (h.type == NV_REC_MSG && (h.len == 0 || h.seq == 0)) {
		*why = h.len == 0 ? "empty message" : "sequence number 0";
		return NVMSG_E_CORRUPT;
	}
	if (h.len > ring_bytes - off - NV_REC_HDR) {
		*why = "length past ring end";
		return NVMSG_E_CORRUPT;
	}
	if (h.type == NV_REC_PAD && off + NV_REC_HDR + h.len != ring_bytes) {
		*why = "pad does not end at ring end";
		return NVMSG_E_CORRUPT;
	}
	/* the header copy h is what was decided on; the hash reads the
	 * header bytes again, so a concurrent rewrite fails the hash */
	if (level != NV_REC_BOUNDS &&
	    nv_checksum((const unsigned char *)r + COVER_OFF,
			COVER_HDR + (h.type == NV_REC_MSG ? h.len : 0),
			pos) != h.check) {
		*why = "checksum mismatch";
		return NVMSG_E_CORRUPT;
	}
	out->pos = pos;
	out->seq = h.seq;
	out->len = h.len;
	out->type = h.type;
	out->producer = h.producer;
	out->size = h.type == NV_REC_PAD ? NV_REC_HDR + h.len
					 : nv_rec_size(h.len);
	out->payload = (const unsigned char *)(r + 1);
	return 0;
}
