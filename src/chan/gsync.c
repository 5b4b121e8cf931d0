/* SPDX-License-Identifier: MIT */
/*
 * gsync.c -- group commit on the msync tier: one msync for the batches of
 * every producer that is waiting for one.
 *
 * msync(MS_SYNC) costs about 100 us here and writes back every dirty page
 * of the file, whichever process dirtied it (the page cache is shared).  So
 * a producer that needs its records durable takes a ticket; one producer
 * (the leader, holding sync_lock) reads the highest ticket taken, runs one
 * msync over the whole ring area, and stores that ticket as sync_done.
 * Every producer whose ticket is at or below it is durable without its own
 * msync; the others wait on sync_done (futex) and the next leader covers
 * them.  A ticket is taken after the producer's stores to the mapping, and
 * the leader reads the tickets before its msync begins, so the msync
 * writes back those stores (a page under writeback is write-protected; a
 * later store faults and dirties it again).
 *
 * A leader that dies holding sync_lock is detected by its owner word
 * (owners.c) and the lock is taken over.  A failed msync does not advance
 * sync_done: each waiter then runs its own and gets its own error.
 */
#include <errno.h>
#include <sched.h>

#include "../base/clock.h"
#include "../base/err.h"
#include "../base/seam.h"
#include "gsync.h"

/* lead -- with sync_lock held: one persist barrier for every ticket taken
 * so far; returns the drain's result */
static int
lead(struct nv_chan *ch, enum nv_pp pp)
{
	struct nv_data_hdr *h = ch->hdr;
	uint64_t done = nv_load_relaxed(&h->sync_done);
	uint32_t want = nv_load_relaxed(&h->sync_group);
	/* the group forms again: producers a group commit released come
	 * back one by one (a wake costs about 20 us here), so when the last
	 * msync covered several, wait up to 50 us for as many tickets */
	if (want > 1) {
		uint64_t until = nv_now_ns() + NV_GROUP_GATHER_NS;
		while (nv_load_acquire(&h->sync_req) - done < want &&
		       nv_now_ns() < until)
			sched_yield();
	}
	/* acquire: every ticket up to here was taken after its producer's
	 * stores to the mapping */
	uint64_t upto = nv_load_acquire(&h->sync_req);
	unsigned char *base = ch->data.map.base;

	/* every ring and slot: the waiters' records are in there too
	 * (crash-test mutant 1, records not flushed: only what the caller
	 * flushed) */
	if (!nv_mutant(1))
		nv_tier_flush(&ch->data.map, base + ch->l.prod_table_off,
			      ch->l.file_bytes - ch->l.prod_table_off);
	int rc = nv_tier_barrier(&ch->data.map, pp);
	if (rc == 0) {
		atomic_fetch_add_explicit(&h->sync_count, 1,
					  memory_order_relaxed);
		/* release: pairs with the followers' acquire of sync_done */
		if (upto > done) {
			nv_store_relaxed(&h->sync_group,
					 (uint32_t)(upto - done));
			nv_store_release(&h->sync_done, upto);
		}
	}
	return rc;
}

int
nv_group_drain(struct nv_chan *ch, uint64_t owner, enum nv_pp pp)
{
	struct nv_data_hdr *h = ch->hdr;
	/* acq_rel: our record stores happen before the ticket (a leader that
	 * reads it syncs them) */
	uint64_t t = atomic_fetch_add_explicit(&h->sync_req, 1,
					       memory_order_acq_rel) +
		     1;

	int stale = 0; /* the last sleep timed out: is the leader alive? */

	for (;;) {
		/* acquire: pairs with the leader's release of sync_done */
		uint64_t done = nv_load_acquire(&h->sync_done);
		if (done >= t)
			return 0;
		uint64_t cur = nv_load_acquire(&h->sync_lock);
		if (cur == 0 || (stale && !nv_owner_alive(cur))) {
			/* acq_rel: the previous leader's sync_done store
			 * before ours; our ticket before our msync */
			if (atomic_compare_exchange_strong_explicit(
				    &h->sync_lock, &cur, owner,
				    memory_order_acq_rel,
				    memory_order_relaxed)) {
				int rc = nv_load_acquire(&h->sync_done) >= t
						 ? 0
						 : lead(ch, pp);
				nv_store_release(&h->sync_lock, 0);
				/* seq_cst fence: our sync_done store before
				 * the waiter count's load (store-buffering
				 * pair with a waiter's fetch_add, then its
				 * load of sync_done) */
				nv_fence_seq();
				if (nv_load_relaxed(&h->sync_waiters))
					nv_futex_wake(
						(nv_a32 *)(void *)&h->sync_done);
				return rc;
			}
			continue;
		}
		/* another producer is syncing: sleep until it is done (the
		 * low half of sync_done changes), a slice at most, then look
		 * again; seq_cst: our waiter count is visible before the
		 * re-check of sync_done (pairs with the leader's fence) */
		atomic_fetch_add_explicit(&h->sync_waiters, 1,
					  memory_order_seq_cst);
		stale = 0;
		if (nv_load_seq(&h->sync_done) < t &&
		    nv_load_relaxed(&h->sync_lock) != 0)
			stale = nv_futex_wait((nv_a32 *)(void *)&h->sync_done,
					      (uint32_t)done,
					      NV_GROUP_FOLLOW_NS) == -ETIMEDOUT;
		atomic_fetch_sub_explicit(&h->sync_waiters, 1,
					  memory_order_relaxed);
	}
}
