/* SPDX-License-Identifier: MIT */
/*
 * batch.c -- the two batch descriptors of a producer slot.
 *
 * A batch's barrier also persists one descriptor {end_pos, end_seq,
 * first_seq, check}; the two descriptors alternate, so the previous
 * batch's descriptor is intact while the current one is being written.
 * After a power failure the checksum tells a whole descriptor from a torn
 * one, and comparing end_pos with the end of the whole records tells
 * whether that batch became durable.  This is how a restarted producer
 * learns exactly which of its sequence numbers were committed.
 */
#include "../base/checksum.h"
#include "log.h"

static uint64_t
desc_check(const uint64_t v[3], unsigned id, unsigned idx)
{
	return nv_checksum(v, 3 * sizeof(uint64_t), 2ull * id + idx + 1);
}

void
nv_desc_write(struct nv_prod_slot *s, unsigned id, unsigned idx,
	      uint64_t end_pos, uint64_t end_seq, uint64_t first_seq)
{
	struct nv_batch_desc *d = &s->desc[idx & 1];
	uint64_t v[3] = { end_pos, end_seq, first_seq };

	/* relaxed: read only by recovery, after the barrier made them
	 * durable, or by stat (informational) */
	nv_store_relaxed(&d->end_pos, end_pos);
	nv_store_relaxed(&d->end_seq, end_seq);
	nv_store_relaxed(&d->first_seq, first_seq);
	nv_store_relaxed(&d->check, desc_check(v, id, idx & 1));
}

int
nv_desc_read(const struct nv_prod_slot *s, unsigned id, unsigned idx,
	     struct nv_desc *out)
{
	const struct nv_batch_desc *d = &s->desc[idx & 1];
	uint64_t v[3] = {
		nv_load_relaxed(&d->end_pos),
		nv_load_relaxed(&d->end_seq),
		nv_load_relaxed(&d->first_seq),
	};

	if (nv_load_relaxed(&d->check) != desc_check(v, id, idx & 1) ||
	    v[0] % NV_REC_ALIGN || v[2] > v[1])
		return 0;
	out->end_pos = v[0];
	out->end_seq = v[1];
	out->first_seq = v[2];
	return 1;
}

int
nv_desc_newest(const struct nv_prod_slot *s, unsigned id, struct nv_desc *out)
{
	struct nv_desc d[2];
	int ok[2] = { nv_desc_read(s, id, 0, &d[0]),
		      nv_desc_read(s, id, 1, &d[1]) };
	int n;

	if (!ok[0] && !ok[1])
		return -1;
	/* positions never wrap and every batch ends further on (a batch of
	 * pads only keeps end_seq); equal end_pos: the same batch end */
	n = ok[0] && ok[1] ? d[1].end_pos > d[0].end_pos : ok[1];
	*out = d[n];
	return n;
}
