/* SPDX-License-Identifier: MIT */
/*
 * stat.c -- nvmsg_channel_stat: tier, backing, geometry, producers, lags.
 * Read-only: maps the data region and each cursor region PROT_READ.
 */
#include <errno.h>
#include <string.h>

#include "../base/err.h"
#include "chan.h"

/* count_records -- messages in [from, to) of ring I, walking bounds only
 * (the checksum where a power failure lost a commit word) */
static uint64_t
count_records(const struct nv_chan *ch, unsigned i, uint64_t from, uint64_t to)
{
	const unsigned char *ring = nv_chan_ring(ch, i);
	struct nv_rec_info ri;
	const char *why;
	uint64_t n = 0;

	if (to < from || to - from > ch->l.ring_bytes)
		return 0;
	while (from < to &&
	       (nv_rec_read(ring, ch->l.ring_bytes, from, NV_REC_BOUNDS, &ri,
			    &why) == 0 ||
		nv_rec_read(ring, ch->l.ring_bytes, from, NV_REC_SEALED, &ri,
			    &why) == 0) &&
	       ri.size <= to - from) {
		n += ri.type == NV_REC_MSG;
		from += ri.size;
	}
	return n;
}

int
nvmsg_channel_stat(const char *dir, const char *name, struct nvmsg_stat *st)
{
	struct nv_chan ch;
	int rc;

	nv_err_clear();
	if (!st)
		return nv_err(-EINVAL, "NULL stat");
	memset(st, 0, sizeof(*st));
	st->version = NVMSG_REPORT_VERSION;
	rc = nv_chan_open(&ch, dir, name, 0);
	if (rc < 0)
		return rc;
	st->tier = ch.tier;
	nv_tier_describe(ch.tier, ch.data.map.granularity, st->backing,
			 sizeof(st->backing), st->persistence_domain,
			 sizeof(st->persistence_domain), st->store_granularity,
			 sizeof(st->store_granularity));
	st->file_bytes = ch.l.file_bytes;
	st->capacity_bytes = ch.l.ring_bytes;
	st->max_producers = ch.l.max_producers;
	st->max_consumers = ch.l.max_consumers;
	st->format_version = ch.hdr->version;
	st->group_commits = nv_load_relaxed(&ch.hdr->sync_req);
	st->group_syncs = nv_load_relaxed(&ch.hdr->sync_count);
	uint64_t pub[NVMSG_MAX_PRODUCERS];
	for (unsigned i = 0; i < ch.l.max_producers; i++) {
		struct nv_prod_slot *s = &ch.prod[i];
		uint64_t pubt = nv_load_acquire(&s->pub_tail);
		/* what a reader reads: a dead producer's whole records past
		 * pub_tail count (bound.c); a report persists nothing */
		uint64_t last = 0;
		rc = nv_slot_bound(&ch, NULL, i, pubt, pubt, &pub[i], &last);
		if (rc < 0)
			goto out;
		uint64_t w = nv_load_acquire(&s->owner_pid);
		if (!w && !pub[i])
			continue;
		struct nvmsg_producer_stat *ps =
			&st->producers[st->nproducers++];
		ps->id = i;
		ps->pid = nv_owner_pid(w);
		ps->alive = nv_owner_alive(w);
		ps->tail = pub[i];
		struct nv_desc d;
		/* a dead producer's batch that did not reach its bound never
		 * committed: recovery hands its numbers out again (first_seq),
		 * as does this report */
		if (nv_desc_newest(s, i, &d) >= 0)
			ps->next_seq = ps->alive || d.end_pos <= pub[i]
					       ? d.end_seq
					       : d.first_seq;
		/* whole records past pub_tail that recovery keeps */
		if (last + 1 > ps->next_seq && last)
			ps->next_seq = last + 1;
	}
	for (unsigned c = 0; c < ch.l.max_consumers; c++) {
		if (nv_load_acquire(&ch.cons[c].state) != NV_CONS_ACTIVE)
			continue;
		struct nvmsg_consumer_stat *cs =
			&st->consumers[st->nconsumers++];
		if (nv_cons_name(&ch, c, cs->name) != 0) {
			rc = nv_err(NVMSG_E_CORRUPT,
				    "%s: consumer entry %u has a bad name",
				    ch.data.path, c);
			goto out;
		}
		struct nv_cursor cu;
		rc = nv_cursor_open(&cu, &ch, c, cs->name, 0);
		if (rc < 0)
			goto out;
		cs->waiting = (int)nv_load_relaxed(&cu.hdr->waiting);
		for (unsigned i = 0; i < ch.l.max_producers; i++) {
			uint64_t a = nv_load_acquire(&cu.acks[i].ack);
			if (a >= pub[i])
				continue;
			cs->lag_bytes += pub[i] - a;
			cs->lag_messages += count_records(&ch, i, a, pub[i]);
		}
		if (cs->lag_bytes > st->depth_bytes)
			st->depth_bytes = cs->lag_bytes;
		nv_cursor_close(&cu);
	}
	rc = 0;
out:
	nv_chan_close(&ch);
	return rc;
}
