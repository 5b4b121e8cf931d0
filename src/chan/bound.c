/* SPDX-License-Identifier: MIT */
/*
 * bound.c -- how far a reader may read a ring, with or without a writer.
 *
 * pub_tail is stored after the barrier that made the records below it
 * durable, but the pub_tail word itself becomes durable only with the next
 * batch's barrier (publish() flushes the previous value along with the new
 * records).  So after a power failure the media can hold a pub_tail one
 * batch behind records whose send returned 0; a producer SIGKILLed between
 * its barrier and its pub_tail store leaves the same lag without any power
 * failure.  A writer's recovery (producer open, nvmsg repair) publishes
 * those records, but a reader must not depend on one: a read-only consumer
 * of another uid cannot run repair, and "a reader needs no writer"
 * (shared/DESIGN.md).
 *
 * So while a slot has no live owner (owner word 0, or a process that no
 * longer runs: owners.c) a reader extends the bound past pub_tail over the
 * whole records that follow it, found by the scan recovery itself runs
 * (recover/scan.c: checksum seeded with the position, producer id,
 * increasing sequence, within one lap).  Readers and recovery therefore
 * agree on what a dead producer left: a slot never grows when a writer
 * comes.  Those records may still sit only in a CPU cache or the page cache
 * (a producer killed before its barrier, no power failure), so the reader
 * flushes them through its own mapping and runs the barrier (NV_PP_READER)
 * before it reads any of them: durable before visible, done by the reader
 * (the "persist it yourself before acting" closing of the visible-is-not-
 * durable trap).  A record past pub_tail that verifies was written whole by
 * the slot's producer; once durable, recovery would keep it as well.
 *
 * Why not the newest batch descriptor as the bound: a descriptor is written
 * before its batch's flush, so one of a batch that never reached its
 * barrier can be whole in the cache and needs the same reader-side persist;
 * and recovery keeps whole records past the newest descriptor (a producer
 * killed between sealing and its barrier), so a descriptor bound would make
 * a slot grow when repair runs (docs/DECISIONS.md).
 */
#include "../base/err.h"
#include "../recover/recover.h"
#include "chan.h"

/* persist_span -- flush ring I's bytes [from, to) through M (may wrap) and
 * run the reader's barrier */
static int
persist_span(const struct nv_chan *ch, struct nv_map *m, unsigned i,
	     uint64_t from, uint64_t to)
{
	nv_ring_flush(m, nv_chan_ring(ch, i), ch->l.ring_bytes, from, to);
	return nv_tier_drain(m, NV_PP_READER);
}

int
nv_slot_bound(const struct nv_chan *ch, struct nv_map *m, unsigned i,
	      uint64_t pubt, uint64_t from, uint64_t *bound, uint64_t *last_seq)
{
	/* acquire: a dead owner's ring stores happened before it died; a
	 * live owner's word is all we need to decide */
	uint64_t w = nv_load_acquire(&ch->prod[i].owner_pid);
	struct nv_scan s;
	int rc;

	*bound = pubt;
	if (last_seq)
		*last_seq = 0;
	if (w != 0 && nv_owner_alive(w))
		return 0;
	if (from > pubt || pubt - from > ch->l.ring_bytes)
		from = pubt; /* the caller's window is not ours to trust */
	nv_scan_ring_to(nv_chan_ring(ch, i), ch->l.ring_bytes, i, pubt,
			from + ch->l.ring_bytes, &s);
	if (s.end == pubt)
		return 0;
	if (m && (rc = persist_span(ch, m, i, pubt, s.end)) < 0)
		return nv_err_append(rc,
				     "%s: ring %u: records of a dead "
				     "producer past its published tail "
				     "not made durable",
				     ch->data.path, i);
	*bound = s.end;
	if (last_seq)
		*last_seq = s.last_seq;
	return 0;
}
