/* SPDX-License-Identifier: MIT */
/*
 * produce.c -- producers: claim a ring slot, reserve, commit, send, flush.
 *
 * Each producer owns one ring, so a ring has exactly one writer: no
 * reservation race between producers, a producer that dies mid-record
 * leaves a torn tail only in its own ring (nobody waits behind it), and a
 * batch of records is made durable with one barrier.
 *
 * Durable before visible (I2), per batch:
 *   1. write records (payload, then header sealed with its checksum);
 *   2. write the next batch descriptor (slot line 1, log/batch.c);
 *   3. flush the records and line 1, then ONE drain   (NV_PP_RECORD);
 *   4. release-store each record's commit word, then pub_tail: consumers
 *      read a record once its commit word is set (the line they spin on
 *      holds the header and the payload's start), or below pub_tail.
 * Recovery does not need the commit words persisted: the position-seeded
 * checksum tells a whole record from a torn one, and recovery stores the
 * words again (commit_span).
 *
 * Back-pressure: the producer writes at most one ring ahead of the lowest
 * ack of the consumers it knows (acks it maps read-only), so an unacked
 * record is never overwritten; see consumers.c for consumers that join.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/err.h"
#include "../recover/recover.h"
#include "../base/seam.h"
#include "chan.h"
#include "gsync.h"

struct nvmsg_producer {
	uint32_t role;
	unsigned id;
	struct nv_chan ch;
	struct nv_prod_slot *slot;
	unsigned char *ring;
	uint64_t ring_bytes;
	uint64_t tail;		   /* next write position (>= pub) */
	uint64_t pub;		   /* published (durable) position */
	uint64_t next_seq;	   /* seq of the next message */
	uint64_t batch_first;	   /* seq of the pending batch's first record */
	int batch_open;		   /* a message is written but not published */
	unsigned didx;		   /* batch descriptor to write next (0 or 1) */
	uint64_t committed;	   /* highest seq found durable at open */
	struct nvmsg_recovery rec; /* what open's recovery found */
	uint64_t limit;		   /* writes must end at or below this */
	uint64_t cons_gen;	   /* cons_gen the cursor set was built from */
	uint64_t owner;		   /* our owner word */
	size_t max_msg;
	int claim_open;
	int poisoned;	   /* a barrier failed: nothing more is sent */
	int forwarded;	   /* the slot has an origin line: nvmsg_send_seq */
	unsigned fork_gen; /* nv_fork_gen at open: a forked child's copy
			    * of the handle is refused (it is not the
			    * owner of the slot) */
	uint64_t lag_pub;  /* power-cut seam: pub_tail one batch late */
	unsigned ncur;	   /* cursors mapped, in list[0..ncur) */
	struct nv_cursor *cur[NVMSG_MAX_CONSUMERS];  /* by consumer slot */
	struct nv_cursor *list[NVMSG_MAX_CONSUMERS]; /* compact, hot path */
};

static int
check_role(const struct nvmsg_producer *p)
{
	if (!p)
		return nv_err(-EINVAL, "NULL producer");
	if (p->role != NV_ROLE_PRODUCER)
		return nv_err(NVMSG_E_WRONG_MODE,
			      "handle is not a producer (consumer handles "
			      "cannot send)");
	if (nv_unlikely(p->fork_gen != nv_fork_gen()))
		return nv_err(NVMSG_E_FORKED,
			      "producer handle inherited through fork(): the "
			      "slot belongs to the parent; open a producer in "
			      "the child");
	return 0;
}

/* sync_consumers -- map the cursor regions of newly registered consumers */
static int
sync_consumers(struct nvmsg_producer *p)
{
	struct nv_chan *ch = &p->ch;
	/* seq_cst fence: orders our earlier pub_tail store before the
	 * cons_gen load (store-buffering pair with the registrar) */
	nv_fence_seq();
	uint64_t gen = nv_load_seq(&ch->hdr->cons_gen);
	if (gen == p->cons_gen)
		return 0;
	for (unsigned i = 0; i < ch->l.max_consumers; i++) {
		char name[NVMSG_NAME_MAX + 1];
		if (p->cur[i] ||
		    nv_load_acquire(&ch->cons[i].state) != NV_CONS_ACTIVE)
			continue;
		if (nv_cons_name(ch, i, name) != 0)
			return nv_err(NVMSG_E_CORRUPT,
				      "%s: consumer table entry %u has an "
				      "invalid name",
				      ch->data.path, i);
		struct nv_cursor *cu = calloc(1, sizeof(*cu));
		if (!cu)
			return nv_err(-ENOMEM, "out of memory");
		int rc = nv_cursor_open(cu, ch, i, name, 0);
		if (rc < 0) {
			free(cu);
			return nv_err_append(rc,
					     "producer cannot see the "
					     "acks of consumer %s",
					     name);
		}
		p->cur[i] = cu;
		p->list[p->ncur++] = cu;
	}
	p->cons_gen = gen;
	return 0;
}

/* min_ack -- lowest ack over known consumers for our ring; pub if none.
 * *who gets the cursor holding it (NULL if none). */
static uint64_t
min_ack(const struct nvmsg_producer *p, struct nv_cursor **who)
{
	uint64_t m = p->pub;

	*who = NULL;
	for (unsigned i = 0; i < p->ncur; i++) {
		struct nv_cursor *cu = p->list[i];
		/* acquire: pairs with the consumer's release store of
		 * ack_pub, issued after it finished reading those bytes (which
		 * we are about to overwrite) and after its ack was durable */
		uint64_t a = nv_load_acquire(&cu->acks[p->id].ack_pub);
		if (a > p->pub) /* hostile or stale: never trust upward */
			a = p->pub;
		if (!*who || a < m) {
			m = a;
			*who = cu;
		}
	}
	return m;
}

static int
refresh_limit(struct nvmsg_producer *p, struct nv_cursor **who)
{
	int rc = sync_consumers(p);

	if (rc < 0)
		return rc;
	p->limit = min_ack(p, who) + p->ring_bytes;
	return 0;
}

static void
wake_consumers(struct nvmsg_producer *p)
{
	/* relaxed: a consumer that set waiting just after this load is
	 * woken by its own wait slice (wait.c); no fence on the hot path */
	for (unsigned i = 0; i < p->ncur; i++) {
		struct nv_cursor *cu = p->list[i];
		if (nv_load_relaxed(&cu->hdr->waiting)) {
			atomic_fetch_add_explicit(&p->ch.hdr->doorbell, 1,
						  memory_order_release);
			nv_futex_wake(&p->ch.hdr->doorbell);
			return;
		}
	}
}

/* flush_span -- queue ring bytes [from, to) for write-back (may wrap) */
static void
flush_span(struct nvmsg_producer *p, uint64_t from, uint64_t to)
{
	nv_ring_flush(&p->ch.data.map, p->ring, p->ring_bytes, from, to);
}

/* commit_span -- store the commit words of [from, to) (log/ring.c) */
static void
commit_span(struct nvmsg_producer *p, uint64_t from, uint64_t to)
{
	nv_ring_commit_span(p->ring, p->ring_bytes, from, to);
}

/* group_drain -- the msync tier's barrier of producer CTX: one msync for
 * every producer waiting (group commit, gsync.c) */
static int
group_drain(void *ctx, enum nv_pp pp)
{
	struct nvmsg_producer *p = ctx;

	return nv_group_drain(&p->ch, p->owner, pp);
}

/* publish -- make [pub, tail) durable with one barrier, then visible */
static int
publish(struct nvmsg_producer *p)
{
	int rc;

	/* a failed barrier is final: a retried msync after a writeback
	 * error can return 0 although the pages were lost */
	if (nv_unlikely(p->poisoned))
		return nv_err(p->poisoned,
			      "%s: producer stopped after a failed "
			      "persist; nothing more is published",
			      p->ch.data.path);
	if (p->tail == p->pub)
		return 0;
	/* a batch of pads only has no first record */
	nv_desc_write(p->slot, p->id, p->didx, p->tail, p->next_seq,
		      p->batch_open ? p->batch_first : p->next_seq);
	p->didx ^= 1;
	p->batch_open = 0;
	if (nv_mutant(2)) {
		/* crash-test mutant 2: visible before durable */
		commit_span(p, p->pub, p->tail);
		nv_store_release(&p->slot->pub_tail, p->tail);
	}
	if (!nv_mutant(1)) /* crash-test mutant 1: records not flushed */
		flush_span(p, p->pub, p->tail);
	nv_tier_flush(&p->ch.data.map, p->slot->desc, sizeof(p->slot->desc));
	/* last batch's pub_tail: lets media lag at most one batch */
	nv_tier_flush(&p->ch.data.map, &p->slot->pub_tail, 8);
	/* the one barrier (on msync, shared by every producer waiting:
	 * group commit behind the tier's drain, see group_drain) */
	rc = nv_tier_drain(&p->ch.data.map, NV_PP_RECORD);
	if (nv_unlikely(rc < 0)) {
		p->poisoned = rc;
		return nv_err_append(rc,
				     "%s: records not made durable; "
				     "producer stopped",
				     p->ch.data.path);
	}
	commit_span(p, p->pub, p->tail);
	/* release: pairs with the consumer's acquire load of pub_tail, so
	 * the record bytes are visible before the position that covers them */
	if (nv_seam_pub_lag()) {
		/* power-cut rig seam: the slot shows the previous batch's
		 * tail, as media does when the cache kept the pub_tail line */
		nv_store_release(&p->slot->pub_tail, p->lag_pub);
		p->lag_pub = p->tail;
	} else {
		nv_store_release(&p->slot->pub_tail, p->tail);
	}
	p->pub = p->tail;
	if (p->ncur)
		wake_consumers(p);
	return 0;
}

/* wait_space -- until tail + need <= limit, or -EAGAIN / -ETIMEDOUT */
static int
wait_space(struct nvmsg_producer *p, uint64_t need, int flags,
	   int64_t timeout_ns)
{
	struct nv_cursor *who;
	uint64_t deadline = 0;
	int rc;

	if (p->tail + need <= p->limit)
		return 0;
	if ((rc = refresh_limit(p, &who)) < 0)
		return rc;
	if (p->tail + need <= p->limit)
		return 0;
	/* our own unpublished batch may be what holds consumers back */
	if (p->tail != p->pub) {
		if ((rc = publish(p)) < 0)
			return rc;
		if ((rc = refresh_limit(p, &who)) < 0)
			return rc;
		if (p->tail + need <= p->limit)
			return 0;
	}
	if (!(flags & NVMSG_BLOCK))
		return nv_err(-EAGAIN, "%s: ring %u full", p->ch.data.path,
			      p->id);
	deadline = nv_deadline(timeout_ns);
	for (unsigned spin = 0;; spin++) {
		if (spin < NV_PRODUCER_SPINS) {
			nv_cpu_relax();
		} else {
			uint64_t slice =
				nv_wait_slice(deadline, NV_WAIT_SLICE_NS);
			if (slice == 0) {
				rc = nv_err(-ETIMEDOUT,
					    "%s: ring %u full until timeout",
					    p->ch.data.path, p->id);
				break;
			}
			nv_store_seq(&p->slot->waiting, 1);
			if ((rc = refresh_limit(p, &who)) < 0)
				break;
			if (p->tail + need <= p->limit)
				break;
			if (who) {
				nv_a64 *w = &who->acks[p->id].ack_pub;
				uint64_t a = nv_load_acquire(w);
				/* the low half of the 64-bit word */
				nv_futex_wait((nv_a32 *)(void *)w, (uint32_t)a,
					      slice);
			}
		}
		if ((rc = refresh_limit(p, &who)) < 0)
			break;
		if (p->tail + need <= p->limit) {
			rc = 0;
			break;
		}
	}
	nv_store_relaxed(&p->slot->waiting, 0);
	return rc;
}

/* place -- make room for a record of LEN payload bytes at the tail,
 * writing a pad record first if it would cross the ring end */
static int
place(struct nvmsg_producer *p, size_t len, int flags, int64_t timeout_ns)
{
	uint64_t need = nv_rec_size(len);
	uint64_t off = p->tail & (p->ring_bytes - 1);
	int rc;

	if (off + need > p->ring_bytes) {
		uint64_t pad = p->ring_bytes - off;
		if ((rc = wait_space(p, pad, flags, timeout_ns)) < 0)
			return rc;
		nv_rec_seal((struct nv_rec_hdr *)(p->ring + off), p->tail, 0,
			    (uint32_t)(pad - NV_REC_HDR), NV_REC_PAD,
			    (uint16_t)p->id);
		p->tail += pad;
	}
	return wait_space(p, need, flags, timeout_ns);
}

static int
check_len(struct nvmsg_producer *p, size_t len)
{
	if (len == 0)
		return nv_err(NVMSG_E_EMPTY_MSG, "zero-length message");
	if (len > p->max_msg)
		return nv_err(NVMSG_E_TOO_BIG,
			      "message of %zu bytes; this channel takes at "
			      "most %zu (half a ring less a header)",
			      len, p->max_msg);
	if (p->poisoned)
		return nv_err(p->poisoned, "producer stopped after a failed "
					   "persist");
	return 0;
}

static int
refuse_forwarded(const struct nvmsg_producer *p)
{
	return nv_err(NVMSG_E_WRONG_MODE,
		      "%s: producer slot %u holds forwarded messages: send "
		      "with nvmsg_send_seq",
		      p->ch.data.path, p->id);
}

static int
commit_at(struct nvmsg_producer *p, size_t len, int flags)
{
	struct nv_rec_hdr *r =
		(void *)(p->ring + (p->tail & (p->ring_bytes - 1)));

	if (!p->batch_open) {
		p->batch_first = p->next_seq;
		p->batch_open = 1;
	}
	nv_rec_seal(r, p->tail, p->next_seq++, (uint32_t)len, NV_REC_MSG,
		    (uint16_t)p->id);
	p->tail += nv_rec_size(len);
	if (flags & NVMSG_MORE)
		return 0;
	return publish(p);
}

int
nvmsg_send(struct nvmsg_producer *p, const void *buf, size_t len, int flags,
	   int64_t timeout_ns)
{
	int rc = check_role(p);

	if (nv_unlikely(rc < 0))
		return rc;
	if (nv_unlikely(!buf))
		return nv_err(-EINVAL, "NULL message buffer");
	if (nv_unlikely((rc = check_len(p, len)) < 0))
		return rc;
	if (nv_unlikely(p->claim_open))
		return nv_err(-EBUSY, "a reserved claim is open: commit or "
				      "abort it first");
	if (nv_unlikely(p->forwarded))
		return refuse_forwarded(p);
	if (nv_unlikely((rc = place(p, len, flags, timeout_ns)) < 0))
		return rc;
	memcpy(p->ring + (p->tail & (p->ring_bytes - 1)) + NV_REC_HDR, buf,
	       len);
	return commit_at(p, len, flags);
}

int
nvmsg_send_seq(struct nvmsg_producer *p, uint64_t seq, const void *buf,
	       size_t len, int flags, int64_t timeout_ns)
{
	int rc = check_role(p);

	if (rc < 0)
		return rc;
	if (!p->forwarded)
		return nv_err(NVMSG_E_WRONG_MODE,
			      "%s: producer slot %u is not a forwarded slot "
			      "(open it with nvmsg_producer_open_origin)",
			      p->ch.data.path, p->id);
	if (!buf || seq == 0)
		return nv_err(-EINVAL, "%s",
			      buf ? "sequence number 0"
				  : "NULL message buffer");
	if (seq < p->next_seq)
		return nv_err(NVMSG_E_DUPLICATE,
			      "%s: slot %u already holds sequence numbers up "
			      "to %llu; %llu dropped",
			      p->ch.data.path, p->id,
			      (unsigned long long)(p->next_seq - 1),
			      (unsigned long long)seq);
	if ((rc = check_len(p, len)) < 0)
		return rc;
	if (p->claim_open)
		return nv_err(-EBUSY, "a reserved claim is open");
	if ((rc = place(p, len, flags, timeout_ns)) < 0)
		return rc;
	memcpy(p->ring + (p->tail & (p->ring_bytes - 1)) + NV_REC_HDR, buf,
	       len);
	/* a batch's descriptor keeps the number after the previous batch
	 * as its first_seq, not this record's: recovery of a torn batch
	 * then lands on the last committed number even across a skip */
	if (!p->batch_open) {
		/* crash-test mutant 5: the record's own number */
		p->batch_first = nv_mutant(5) ? seq : p->next_seq;
		p->batch_open = 1;
	}
	p->next_seq = seq;
	return commit_at(p, len, flags);
}

uint64_t
nvmsg_producer_last_seq(const struct nvmsg_producer *p)
{
	return p && p->role == NV_ROLE_PRODUCER ? p->next_seq - 1 : 0;
}

int
nvmsg_reserve(struct nvmsg_producer *p, size_t len, struct nvmsg_claim *claim,
	      int flags, int64_t timeout_ns)
{
	int rc = check_role(p);

	if (rc < 0)
		return rc;
	if (!claim)
		return nv_err(-EINVAL, "NULL claim");
	if ((rc = check_len(p, len)) < 0)
		return rc;
	if (p->claim_open)
		return nv_err(-EBUSY, "a claim is already open");
	if (p->forwarded)
		return refuse_forwarded(p);
	if ((rc = place(p, len, flags, timeout_ns)) < 0)
		return rc;
	claim->data = p->ring + (p->tail & (p->ring_bytes - 1)) + NV_REC_HDR;
	claim->len = len;
	claim->seq = p->next_seq;
	claim->_pos = p->tail;
	p->claim_open = 1;
	return 0;
}

int
nvmsg_commit(struct nvmsg_producer *p, struct nvmsg_claim *claim, int flags)
{
	int rc = check_role(p);

	if (rc < 0)
		return rc;
	if (!claim || !p->claim_open || claim->_pos != p->tail)
		return nv_err(-EINVAL, "no such open claim");
	p->claim_open = 0;
	return commit_at(p, claim->len, flags);
}

int
nvmsg_abort(struct nvmsg_producer *p, struct nvmsg_claim *claim)
{
	int rc = check_role(p);

	if (rc < 0)
		return rc;
	if (!claim || !p->claim_open || claim->_pos != p->tail)
		return nv_err(-EINVAL, "no such open claim");
	p->claim_open = 0;
	return 0;
}

int
nvmsg_producer_flush(struct nvmsg_producer *p)
{
	int rc = check_role(p);

	return rc < 0 ? rc : publish(p);
}

unsigned
nvmsg_producer_id(const struct nvmsg_producer *p)
{
	return p ? p->id : 0;
}

size_t
nvmsg_producer_max_msg(const struct nvmsg_producer *p)
{
	return p ? p->max_msg : 0;
}

uint64_t
nvmsg_producer_committed(const struct nvmsg_producer *p)
{
	return p && p->role == NV_ROLE_PRODUCER ? p->committed : 0;
}

int
nvmsg_producer_recovery(const struct nvmsg_producer *p,
			struct nvmsg_recovery *r)
{
	int rc = check_role(p);

	if (rc < 0)
		return rc;
	if (!r)
		return nv_err(-EINVAL, "NULL recovery report");
	*r = p->rec;
	return 0;
}

static int
claim_slot(struct nvmsg_producer *p, unsigned i)
{
	nv_a64 *ow = &p->ch.prod[i].owner_pid;
	uint64_t cur = nv_load_acquire(ow);

	if (cur == p->owner)
		return -EBUSY; /* another handle of this process */
	if (cur != 0 && nv_owner_alive(cur))
		return -EBUSY;
	/* acq_rel: acquire the dead owner's ring state, release ours */
	if (!atomic_compare_exchange_strong_explicit(ow, &cur, p->owner,
						     memory_order_acq_rel,
						     memory_order_relaxed))
		return -EBUSY;
	p->id = i;
	p->slot = &p->ch.prod[i];
	nv_tier_persist(&p->ch.data.map, ow, 8, NV_PP_PRODUCER_CLAIM);
	return 0;
}

/* recover_ring -- a writer's recovery of our ring (recover/repair.c),
 * from the durable acks of every consumer we know */
static int
recover_ring(struct nvmsg_producer *p)
{
	struct nv_ring_ref r = {
		.map = &p->ch.data.map,
		.slot = p->slot,
		.ring = p->ring,
		.ring_bytes = p->ring_bytes,
		.id = p->id,
		.path = p->ch.data.path,
	};
	uint64_t acks[NVMSG_MAX_CONSUMERS];
	const char *paths[NVMSG_MAX_CONSUMERS];
	struct nv_recovered out;
	struct nv_cursor *who;
	int rc;

	p->pub = nv_load_relaxed(&p->slot->pub_tail);
	if ((rc = sync_consumers(p)) < 0)
		return rc;
	for (unsigned k = 0; k < p->ncur; k++) {
		acks[k] = nv_load_relaxed(&p->list[k]->acks[p->id].ack);
		paths[k] = p->list[k]->reg.path;
	}
	if ((rc = nv_recover_ring(&r, acks, paths, p->ncur, &out)) < 0)
		return rc;
	p->committed = out.committed;
	p->next_seq = out.committed + 1;
	p->didx = out.didx;
	p->tail = p->pub = p->lag_pub = out.tail;
	p->rec = out.rep;
	return refresh_limit(p, &who);
}

/* producer_free -- undo producer_new (and a claim already released) */
static void
producer_free(struct nvmsg_producer *p)
{
	for (unsigned i = 0; i < NVMSG_MAX_CONSUMERS; i++)
		if (p->cur[i]) {
			nv_cursor_close(p->cur[i]);
			free(p->cur[i]);
		}
	nv_chan_close(&p->ch);
	free(p);
}

/* producer_new -- a handle on DIR/NAME mapped read-write, no slot yet */
static int
producer_new(const char *dir, const char *name, struct nvmsg_producer **out)
{
	struct nvmsg_producer *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return nv_err(-ENOMEM, "out of memory");
	rc = nv_chan_open(&p->ch, dir, name, 1);
	if (rc < 0) {
		if (rc == -EACCES)
			nv_err_append(rc, "cannot open as producer");
		free(p);
		return rc;
	}
	p->role = NV_ROLE_PRODUCER;
	nv_fork_watch();
	p->fork_gen = nv_fork_gen();
	p->ring_bytes = p->ch.l.ring_bytes;
	p->max_msg = p->ring_bytes / 2 - NV_REC_HDR;
	p->owner = nv_owner_self();
	*out = p;
	return 0;
}

/* slot_origin -- slot I's origin line: 1 set (into *O), 0 none, -1 torn */
static int
slot_origin(const struct nvmsg_producer *p, unsigned i, struct nvmsg_origin *o)
{
	struct nvmsg_origin tmp;

	return nv_chan_origin(&p->ch, i, o ? o : &tmp);
}

/* release_slot -- give up a slot we claimed (nothing was sent on it) */
static void
release_slot(struct nvmsg_producer *p)
{
	nv_store_release(&p->slot->owner_pid, 0);
	nv_tier_persist(&p->ch.data.map, &p->slot->owner_pid, 8,
			NV_PP_PRODUCER_CLAIM);
}

/* start_slot -- recover the claimed slot's ring and get ready to send */
static int
start_slot(struct nvmsg_producer *p)
{
	p->ring = nv_chan_ring(&p->ch, p->id);
	uint64_t t0 = nv_now_ns();
	int rc = recover_ring(p);
	p->rec.elapsed_ns = nv_now_ns() - t0;
	if (rc < 0) {
		nv_store_release(&p->slot->owner_pid, 0);
		return rc;
	}
	int o = slot_origin(p, p->id, NULL);
	if (o < 0 && p->committed > 0) {
		release_slot(p);
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: producer slot %u holds records but its "
			      "origin line is torn",
			      p->ch.data.path, p->id);
	}
	p->forwarded = o > 0;
	return 0;
}

/* finish_open -- the handle is ready: hand it out */
static void
finish_open(struct nvmsg_producer *p, struct nvmsg_producer **out)
{
	if (p->ch.tier == NVMSG_TIER_MSYNC) {
		/* from now on our barriers are the group's (gsync.c) */
		p->ch.data.map.group_drain = group_drain;
		p->ch.data.map.group_ctx = p;
	}
	*out = p;
}

int
nvmsg_producer_open(const char *dir, const char *name, int id,
		    struct nvmsg_producer **out)
{
	struct nvmsg_producer *p;
	int rc;

	nv_err_clear();
	if (!out)
		return nv_err(-EINVAL, "NULL out");
	*out = NULL;
	if ((rc = producer_new(dir, name, &p)) < 0)
		return rc;
	if (id != NVMSG_ANY_PRODUCER &&
	    (id < 0 || (unsigned)id >= p->ch.l.max_producers)) {
		rc = nv_err(-EINVAL, "%s: producer id %d out of range 0..%u",
			    p->ch.data.path, id, p->ch.l.max_producers - 1);
		goto fail;
	}
	rc = -EBUSY;
	if (id != NVMSG_ANY_PRODUCER) {
		rc = claim_slot(p, (unsigned)id);
		if (rc < 0)
			nv_err(rc,
			       "%s: producer slot %d is owned by a live "
			       "process",
			       p->ch.data.path, id);
	} else {
		/* forwarded slots are the receiving daemon's */
		for (unsigned i = 0; i < p->ch.l.max_producers && rc < 0; i++)
			if (slot_origin(p, i, NULL) == 0)
				rc = claim_slot(p, i);
		if (rc < 0)
			rc = nv_err(NVMSG_E_FULL_TABLE,
				    "%s: all %u producer slots are owned by "
				    "live processes (or hold forwarded "
				    "messages)",
				    p->ch.data.path, p->ch.l.max_producers);
	}
	if (rc < 0 || (rc = start_slot(p)) < 0)
		goto fail;
	finish_open(p, out);
	return 0;
fail:
	producer_free(p);
	return rc;
}

/* fresh_slot -- slot I never held a record: no pub_tail, no descriptor
 * (recovery confirms it after the claim) */
static int
fresh_slot(const struct nvmsg_producer *p, unsigned i)
{
	struct nv_desc d;

	/* a descriptor that ends at sequence 1 covers no record (what
	 * recovery writes on an empty slot) */
	return nv_load_relaxed(&p->ch.prod[i].pub_tail) == 0 &&
	       (nv_desc_newest(&p->ch.prod[i], i, &d) < 0 || d.end_seq <= 1) &&
	       slot_origin(p, i, NULL) <= 0;
}

/* claim_origin -- a fresh slot for origin O: claimed, recovered (it must
 * hold nothing), its origin line made durable before any record */
static int
claim_origin(struct nvmsg_producer *p, const struct nvmsg_origin *o)
{
	for (unsigned i = 0; i < p->ch.l.max_producers; i++) {
		if (!fresh_slot(p, i) || claim_slot(p, i) < 0)
			continue;
		int rc = start_slot(p);
		if (rc < 0)
			return rc;
		if (p->committed > 0 || p->tail > 0) {
			/* a dead producer's unpublished records: a local
			 * slot after all */
			release_slot(p);
			continue;
		}
		nv_origin_write(p->slot, p->id, o->channel, o->producer);
		rc = nv_tier_persist(&p->ch.data.map, &p->slot->origin,
				     sizeof(p->slot->origin), NV_PP_ORIGIN);
		if (rc < 0) {
			release_slot(p);
			return nv_err_append(rc,
					     "%s: origin line of slot %u not "
					     "made durable",
					     p->ch.data.path, p->id);
		}
		p->forwarded = 1;
		return 0;
	}
	return nv_err(NVMSG_E_FULL_TABLE,
		      "%s: no producer slot left for a new origin (each "
		      "origin producer needs a slot that never held a record; "
		      "%u slots)",
		      p->ch.data.path, p->ch.l.max_producers);
}

int
nvmsg_producer_open_origin(const char *dir, const char *name,
			   const struct nvmsg_origin *o,
			   struct nvmsg_producer **out)
{
	struct nvmsg_producer *p;
	int rc;

	nv_err_clear();
	if (!out || !o)
		return nv_err(-EINVAL, "NULL %s", out ? "origin" : "out");
	*out = NULL;
	if ((rc = producer_new(dir, name, &p)) < 0)
		return rc;
	for (unsigned i = 0; i < p->ch.l.max_producers; i++) {
		struct nvmsg_origin h;
		if (slot_origin(p, i, &h) <= 0 || h.producer != o->producer ||
		    memcmp(h.channel, o->channel, sizeof(h.channel)) != 0)
			continue;
		if ((rc = claim_slot(p, i)) < 0) {
			rc = nv_err(rc,
				    "%s: producer slot %u of this origin is "
				    "owned by a live process",
				    p->ch.data.path, i);
			goto fail;
		}
		if ((rc = start_slot(p)) < 0)
			goto fail;
		finish_open(p, out);
		return 0;
	}
	if ((rc = claim_origin(p, o)) < 0)
		goto fail;
	finish_open(p, out);
	return 0;
fail:
	producer_free(p);
	return rc;
}

/* cut_unpublished -- a poisoned producer's records past pub_tail never
 * became durable: clear them so that no reader, extending a dead or closed
 * producer's bound over whole records (bound.c), takes them (best effort:
 * the barrier that failed may fail again) */
static void
cut_unpublished(struct nvmsg_producer *p)
{
	(void)nv_ring_clear(&p->ch.data.map, p->ring, p->ring_bytes, p->pub,
			    p->tail);
	(void)nv_tier_drain(&p->ch.data.map, NV_PP_PRODUCER_CLAIM);
	p->tail = p->pub;
}

int
nvmsg_producer_close(struct nvmsg_producer **pp)
{
	struct nvmsg_producer *p;
	int rc = 0;

	if (!pp || !*pp)
		return 0;
	p = *pp;
	*pp = NULL;
	if (p->role != NV_ROLE_PRODUCER)
		return nv_err(NVMSG_E_WRONG_MODE, "handle is not a producer");
	if (p->fork_gen != nv_fork_gen()) {
		/* a forked child's copy: the slot and its state are the
		 * parent's; only our memory is released */
		rc = nv_err(NVMSG_E_FORKED, "producer handle inherited "
					    "through fork(): closed without "
					    "publishing");
		goto release;
	}
	if (!p->poisoned)
		rc = publish(p);
	/* close's own persists are ours alone, as before group commit */
	p->ch.data.map.group_drain = NULL;
	if (p->poisoned) {
		rc = nv_err(p->poisoned,
			    "%s: producer closed after a failed "
			    "persist; its last unpublished "
			    "messages were not sent",
			    p->ch.data.path);
		cut_unpublished(p);
	}
	/* the real tail, also under the lag seam */
	nv_store_release(&p->slot->pub_tail, p->pub);
	int prc = nv_tier_persist(&p->ch.data.map, &p->slot->pub_tail, 8,
				  NV_PP_PRODUCER_CLAIM);
	if (prc < 0 && rc == 0)
		rc = nv_err(prc, "%s: published tail not made durable at close",
			    p->ch.data.path);
	/* release: our ring state is complete before the slot is free */
	nv_store_release(&p->slot->owner_pid, 0);
	nv_tier_persist(&p->ch.data.map, &p->slot->owner_pid, 8,
			NV_PP_PRODUCER_CLAIM);
release:
	for (unsigned i = 0; i < NVMSG_MAX_CONSUMERS; i++)
		if (p->cur[i]) {
			nv_cursor_close(p->cur[i]);
			free(p->cur[i]);
		}
	p->role = 0;
	nv_chan_close(&p->ch);
	free(p);
	return rc;
}

int
nvmsg_producer_error(const struct nvmsg_producer *p)
{
	int rc = check_role(p);

	return rc < 0 ? rc : p->poisoned;
}
