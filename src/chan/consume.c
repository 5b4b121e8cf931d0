/* SPDX-License-Identifier: MIT */
/*
 * consume.c -- named consumers: view in place, ack durably, recv.
 *
 * A consumer maps the data region read-only and reads the record at its
 * position in ring I when the record's commit word, loaded with acquire,
 * says so (pairs with the producer's release store after its barrier), or
 * when the position is below the ring's pub_tail (stored after the same
 * barrier): everything it sees is already durable (I2).  The commit word
 * shares a cache line with the header and the payload's start, so on the
 * volatile tier a consumer waiting for messages that come one at a time
 * watches it and takes one line transfer per message where a tail word
 * would add a second (pub_tail is read only now and then); for batches,
 * and on tiers with a barrier, it watches pub_tail.  Each ring has one
 * writer and is read in position order (I3).
 * Its acks live in its own cursor region: ack[I] is the position after the
 * last record it acknowledged, stored with release after it stopped
 * reading those bytes and persisted (NV_PP_ACK) before nvmsg_ack returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/err.h"
#include "../base/seam.h"
#include "chan.h"

/* the sleeping part of a wait looks for dead producers' unpublished
 * records every 16th slice (slices are at most 2 ms): within about 30 ms,
 * at well under 1 % of a core for an idle consumer of 64 live producers */
#define NV_REAP_EVERY 15u
/* a caller that polls (timeout 0) looks every 1024th empty poll: a /proc
 * read per ring with an owner costs about 5 us, a poll about 20 ns */
#define NV_REAP_IDLE_POLLS 1023u
/* a spinning consumer reads the clock every 256th poll (a clock read
 * costs about as much as 20 polls) */
#define NV_CLOCK_EVERY 255u
/* while watching commit words, pub_tail (the producer's line) is read on
 * the first empty poll and every 64th after: often enough to notice a
 * batch, rarely enough not to pull the line from the producer */
#define NV_PUB_EVERY 63u
/* an owner found alive is trusted for 20 ms before /proc is read again:
 * a producer that dies is noticed within that (plus a slice) */
#define NV_ALIVE_TRUST_NS 20000000ull

struct nvmsg_consumer {
	uint32_t role;
	unsigned index;
	int verify;
	unsigned nrings;
	unsigned next; /* ring to look at first (round robin) */
	uint64_t ring_bytes;
	struct nv_chan ch;		       /* read-only */
	struct nv_cursor cur;		       /* ours, writable */
	uint64_t rpos[NVMSG_MAX_PRODUCERS];    /* next position to view */
	uint64_t pubc[NVMSG_MAX_PRODUCERS];    /* cached pub_tail */
	uint64_t acked[NVMSG_MAX_PRODUCERS];   /* last durable ack */
	uint64_t want[NVMSG_MAX_PRODUCERS];    /* ack noted, not yet durable
						* (acked[] when none) */
	uint64_t lastseq[NVMSG_MAX_PRODUCERS]; /* seq of the last view */
	int by_commit; /* watch commit words, not pub_tail (volatile) */
	unsigned empty[NVMSG_MAX_PRODUCERS];	/* empty polls, to read pub_tail
					      * only now and then */
	uint32_t run[NVMSG_MAX_PRODUCERS];	/* messages since empty */
	uint32_t last_run[NVMSG_MAX_PRODUCERS]; /* the last such run */
	uint32_t idle_polls;			/* empty polls with timeout 0 */
	uint64_t alive_owner[NVMSG_MAX_PRODUCERS]; /* owner word found alive */
	uint64_t alive_until[NVMSG_MAX_PRODUCERS]; /* ... trusted until (ns) */
	unsigned fork_gen;			   /* nv_fork_gen() at open */
};

static int
check_role(const struct nvmsg_consumer *c)
{
	if (!c)
		return nv_err(-EINVAL, "NULL consumer");
	if (c->role != NV_ROLE_CONSUMER)
		return nv_err(NVMSG_E_WRONG_MODE,
			      "handle is not a consumer (producer handles "
			      "cannot receive)");
	if (nv_unlikely(c->fork_gen != nv_fork_gen()))
		return nv_err(NVMSG_E_FORKED,
			      "consumer handle inherited through fork(): its "
			      "cursor is the parent's; open the consumer in "
			      "the child");
	return 0;
}

static int
register_consumer(const char *dir, const char *name, const char *consumer)
{
	struct nv_chan w;
	int rc = nv_chan_open(&w, dir, name, 1);

	if (rc == -EACCES)
		return nv_err(rc,
			      "consumer '%s' is not registered on %s/%s.nvmsg "
			      "and registering it needs write access to the "
			      "channel: ask its owner to register it (nvmsg "
			      "recv %s --consumer %s as the owner)",
			      consumer, dir, name, name, consumer);
	if (rc < 0)
		return rc;
	rc = nv_cons_register(&w, consumer);
	nv_chan_close(&w);
	return rc;
}

/* find_index -- consumer CONSUMER's entry in the table, registering it
 * first with NVMSG_CONSUMER_CREATE */
static int
find_index(struct nvmsg_consumer *c, const char *dir, const char *name,
	   const char *consumer, int flags)
{
	int idx = nv_cons_find(&c->ch, consumer), rc;

	if (idx < 0 && (flags & NVMSG_CONSUMER_CREATE)) {
		if ((rc = register_consumer(dir, name, consumer)) < 0)
			return rc;
		idx = nv_cons_find(&c->ch, consumer);
	}
	if (idx < 0)
		return nv_err(NVMSG_E_NO_CONSUMER,
			      "%s: consumer '%s' is not registered (open it "
			      "with NVMSG_CONSUMER_CREATE to register it)",
			      c->ch.data.path, consumer);
	return idx;
}

/* resume_ring -- where ring I is read from (our durable ack) and up to
 * where (its bound), checked against the ring's tail */
static int
resume_ring(struct nvmsg_consumer *c, unsigned i)
{
	uint64_t a = nv_load_acquire(&c->cur.acks[i].ack);
	uint64_t pubt = nv_load_acquire(&c->ch.prod[i].pub_tail);
	uint64_t bound, top;
	struct nv_desc d;
	/* a dead producer's durable records past its pub_tail are ours to
	 * read without a writer (bound.c) */
	int rc = nv_slot_bound(&c->ch, &c->ch.data.map, i, pubt, a, &bound,
			       NULL);

	if (rc < 0)
		return rc;
	/* after a power failure pub_tail may lag the last durable batch; its
	 * descriptor says where that batch ended */
	top = bound;
	if (nv_desc_newest(&c->ch.prod[i], i, &d) >= 0 && d.end_pos > top &&
	    d.end_pos - pubt <= c->ring_bytes)
		top = d.end_pos;
	/* a producer never runs more than a ring ahead of an ack */
	int ahead = a % NV_REC_ALIGN || a > top;
	if (ahead || (bound > a && bound - a > c->ring_bytes))
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: ack %llu of ring %u is %s the ring's tail "
			      "%llu",
			      c->cur.reg.path, (unsigned long long)a, i,
			      ahead ? "ahead of" : "more than a ring behind",
			      (unsigned long long)(ahead ? top : bound));
	c->rpos[i] = a;
	c->acked[i] = a;
	c->want[i] = a;
	c->pubc[i] = bound;
	/* a crash between the ack barrier and the ack_pub store leaves
	 * ack_pub behind; ack is durable, so publish it now */
	if (nv_load_relaxed(&c->cur.acks[i].ack_pub) != a)
		nv_store_release(&c->cur.acks[i].ack_pub, a);
	return 0;
}

int
nvmsg_consumer_open(const char *dir, const char *name, const char *consumer,
		    int flags, struct nvmsg_consumer **out)
{
	struct nvmsg_consumer *c;
	int rc, idx;

	nv_err_clear();
	if (!out)
		return nv_err(-EINVAL, "NULL out");
	*out = NULL;
	if (!consumer || !nv_name_valid(consumer, 0))
		return nv_err(NVMSG_E_BAD_NAME,
			      "invalid consumer name '%s': use 1 to 47 of "
			      "[A-Za-z0-9_-]",
			      consumer ? consumer : "(null)");
	c = calloc(1, sizeof(*c));
	if (!c)
		return nv_err(-ENOMEM, "out of memory");
	c->cur.reg.fd = -1;
	rc = nv_chan_open(&c->ch, dir, name, 0);
	if (rc < 0)
		goto fail_free;
	if ((rc = idx = find_index(c, dir, name, consumer, flags)) < 0)
		goto fail_chan;
	rc = nv_cursor_open(&c->cur, &c->ch, (unsigned)idx, consumer, 1);
	if (rc < 0)
		goto fail_chan;
	c->role = NV_ROLE_CONSUMER;
	nv_fork_watch();
	c->fork_gen = nv_fork_gen();
	c->index = (unsigned)idx;
	c->verify = !!(flags & NVMSG_CONSUMER_VERIFY);
	/* volatile: spin on the record's commit word, one line with the
	 * header (pp 64 B p50 150 -> 120 ns).  Tiers with a barrier: spin on
	 * pub_tail, since a consumer re-reading the record line while the
	 * producer writes and flushes it slows the flush (emulated pp p50
	 * about 30 ns worse, docs/PERFORMANCE.md) */
	c->by_commit = c->ch.tier == NVMSG_TIER_VOLATILE;
	c->nrings = c->ch.l.max_producers;
	c->ring_bytes = c->ch.l.ring_bytes;
	for (unsigned i = 0; i < c->nrings; i++)
		if ((rc = resume_ring(c, i)) < 0)
			goto fail_cur;
	*out = c;
	return 0;
fail_cur:
	nv_cursor_close(&c->cur);
fail_chan:
	nv_chan_close(&c->ch);
fail_free:
	free(c);
	return rc;
}

void
nvmsg_consumer_close(struct nvmsg_consumer **cp)
{
	struct nvmsg_consumer *c;

	if (!cp || !*cp)
		return;
	c = *cp;
	*cp = NULL;
	if (c->role != NV_ROLE_CONSUMER)
		return;
	c->role = 0;
	nv_cursor_close(&c->cur);
	nv_chan_close(&c->ch);
	free(c);
}

/* ring_empty -- ring I has nothing now: the run of messages read since
 * it was last empty ends; 0 */
static int
ring_empty(struct nvmsg_consumer *c, unsigned i)
{
	if (c->run[i]) {
		c->last_run[i] = c->run[i];
		c->run[i] = 0;
	}
	return 0;
}

/* try_ring -- the next message of ring I into *v: 1 found, 0 none, <0 err */
static int
try_ring(struct nvmsg_consumer *c, unsigned i, struct nvmsg_view *v)
{
	const unsigned char *ring = nv_chan_ring(&c->ch, i);
	struct nv_rec_info ri;
	const char *why = "";

	for (;;) {
		uint64_t pos = c->rpos[i];
		uint64_t want = nv_rec_commit_word(pos);
		int level = c->verify ? NV_REC_VERIFY : NV_REC_BOUNDS;
		/* pos is 32-byte aligned (a record boundary), so its header
		 * lies inside the ring */
		const struct nv_rec_hdr *r =
			(const void *)(ring + (pos & (c->ring_bytes - 1)));
		if (pos >= c->pubc[i]) {
			/* watch the commit word while messages come one at a
			 * time; when they came in a run (the producer batches),
			 * watch pub_tail: spinning on the line the producer is
			 * filling slows it (batch-64 throughput 24 -> 18 M/s) */
			int watch = c->by_commit && c->last_run[i] <= 1;
			/* acquire: pairs with the producer's release store of
			 * the commit word after the barrier (I2) */
			if (watch && nv_load_acquire(&r->commit) == want)
				goto whole;
			/* watching: pub_tail is the producer's line, read on
			 * the first empty poll and every 64th after */
			if (watch && (c->empty[i]++ & NV_PUB_EVERY))
				return ring_empty(c, i);
			/* acquire: pairs with the release store of pub_tail
			 * after the barrier (I2) */
			c->pubc[i] = nv_load_acquire(&c->ch.prod[i].pub_tail);
			if (pos >= c->pubc[i])
				return ring_empty(c, i);
			if (c->pubc[i] - pos > c->ring_bytes)
				return nv_err(NVMSG_E_CORRUPT,
					      "%s: ring %u published tail "
					      "%llu is more than a ring ahead "
					      "of position %llu",
					      c->ch.data.path, i,
					      (unsigned long long)c->pubc[i],
					      (unsigned long long)pos);
		}
		/* below pub_tail: durable, and its commit word stored before
		 * pub_tail unless a power failure lost it; then the checksum
		 * decides, and the record must end below pub_tail */
		if (nv_load_relaxed(&r->commit) != want)
			level = NV_REC_SEALED;
	whole:
		if (nv_rec_read(ring, c->ring_bytes, pos, level, &ri, &why) !=
			    0 ||
		    ri.producer != i ||
		    (level == NV_REC_SEALED && ri.size > c->pubc[i] - pos))
			return nv_err(NVMSG_E_CORRUPT,
				      "%s: ring %u record at position %llu: "
				      "%s",
				      c->ch.data.path, i,
				      (unsigned long long)pos,
				      why[0] ? why : "crosses the tail");
		if (ri.type == NV_REC_MSG && ri.seq <= c->lastseq[i])
			return nv_err(NVMSG_E_CORRUPT,
				      "%s: ring %u record at position %llu: "
				      "sequence not increasing (%llu after "
				      "%llu)",
				      c->ch.data.path, i,
				      (unsigned long long)pos,
				      (unsigned long long)ri.seq,
				      (unsigned long long)c->lastseq[i]);
		c->rpos[i] = pos + ri.size;
		if (ri.type == NV_REC_PAD)
			continue;
		c->lastseq[i] = ri.seq;
		c->run[i]++;
		v->data = ri.payload;
		v->len = ri.len;
		v->producer = i;
		v->seq = ri.seq;
		v->_end = c->rpos[i];
		return 1;
	}
}

/* reap_dead -- for each ring read up to its bound: if its producer died
 * after making records durable but before publishing them, take them as
 * published (bound.c).  Runs in the sleeping part of a wait, and now and
 * then while a caller polls; an owner found alive is not asked again for
 * NV_ALIVE_TRUST_NS (a /proc read costs microseconds) */
static int
reap_dead(struct nvmsg_consumer *c)
{
	uint64_t now = nv_now_ns();

	for (unsigned i = 0; i < c->nrings; i++) {
		uint64_t b;
		if (c->rpos[i] < c->pubc[i])
			continue;
		/* acquire: as the pub_tail loads of try_ring */
		uint64_t pubt = nv_load_acquire(&c->ch.prod[i].pub_tail);
		if (pubt > c->rpos[i])
			continue; /* published: try_ring takes it */
		/* relaxed: only a hint; nv_slot_bound loads it again */
		uint64_t w = nv_load_relaxed(&c->ch.prod[i].owner_pid);
		if (w != 0 && w == c->alive_owner[i] && now < c->alive_until[i])
			continue;
		if (w != 0 && nv_owner_alive(w)) {
			c->alive_owner[i] = w;
			c->alive_until[i] = now + NV_ALIVE_TRUST_NS;
			continue;
		}
		int rc = nv_slot_bound(&c->ch, &c->ch.data.map, i, pubt,
				       c->rpos[i], &b, NULL);
		if (rc < 0)
			return rc;
		if (b > c->rpos[i])
			c->pubc[i] = b;
	}
	return 0;
}

static int
poll_once(struct nvmsg_consumer *c, struct nvmsg_view *v)
{
	for (unsigned k = 0; k < c->nrings; k++) {
		unsigned i = c->next + k;
		if (i >= c->nrings)
			i -= c->nrings;
		int rc = try_ring(c, i, v);
		if (rc != 0) {
			c->next = i + 1 == c->nrings ? 0 : i + 1;
			return rc;
		}
	}
	return 0;
}

int
nvmsg_view(struct nvmsg_consumer *c, struct nvmsg_view *v, int64_t timeout_ns)
{
	int rc = check_role(c);

	if (nv_unlikely(rc < 0))
		return rc;
	if (nv_unlikely(!v))
		return nv_err(-EINVAL, "NULL view");
	rc = poll_once(c, v);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	if (timeout_ns == 0) {
		/* a caller that polls: look for dead producers every
		 * 1024th empty poll (see NV_REAP_EVERY) */
		if ((++c->idle_polls & NV_REAP_IDLE_POLLS) != 0)
			return -EAGAIN;
		if ((rc = reap_dead(c)) < 0)
			return rc;
		rc = poll_once(c, v);
		return rc > 0 ? 0 : rc < 0 ? rc : -EAGAIN;
	}
	uint64_t deadline = nv_deadline(timeout_ns);
	/* adaptive: spin first (a message is usually a few hundred ns
	 * away), then sleep on the doorbell in bounded slices */
	for (unsigned spin = 0;; spin++) {
		if (spin < NV_CONSUMER_SPINS) {
			nv_cpu_relax();
			if ((spin & NV_CLOCK_EVERY) == NV_CLOCK_EVERY &&
			    nv_now_ns() >= deadline)
				break;
		} else {
			uint64_t slice =
				nv_wait_slice(deadline, NV_WAIT_SLICE_NS);
			if (slice == 0)
				break;
			nv_a32 *bell = &c->ch.hdr->doorbell;
			/* a producer that died before publishing durable
			 * records: look now and then (a /proc read per ring
			 * whose owner is set) */
			if ((spin & NV_REAP_EVERY) == 0 &&
			    (rc = reap_dead(c)) < 0)
				return rc;
			/* seq_cst: our waiting flag must be visible before
			 * we re-check the rings (pairs with the producer's
			 * load of it after publishing) */
			nv_store_seq(&c->cur.hdr->waiting, 1);
			uint32_t d = nv_load_seq(bell);
			rc = poll_once(c, v);
			if (rc == 0)
				nv_futex_wait(bell, d, slice);
			nv_store_relaxed(&c->cur.hdr->waiting, 0);
			if (rc != 0)
				return rc > 0 ? 0 : rc;
		}
		rc = poll_once(c, v);
		if (rc != 0)
			return rc > 0 ? 0 : rc;
	}
	return -ETIMEDOUT;
}

/* commit_acks -- make every noted ack (want[]) durable with one barrier,
 * then let producers reuse the space */
static int
commit_acks(struct nvmsg_consumer *c)
{
	int any = 0, rc;

	for (unsigned i = 0; i < c->nrings; i++) {
		if (c->want[i] == c->acked[i])
			continue;
		/* relaxed: producers do not read ack, only recovery does */
		nv_store_relaxed(&c->cur.acks[i].ack, c->want[i]);
		if (nv_mutant(3)) /* crash-test mutant 3: ack usable early */
			nv_store_release(&c->cur.acks[i].ack_pub, c->want[i]);
		nv_tier_flush(&c->cur.reg.map, &c->cur.acks[i], 8);
		any = 1;
	}
	if (!any)
		return 0;
	rc = nv_tier_drain(&c->cur.reg.map, NV_PP_ACK);
	if (rc < 0) {
		/* not acked: put the last durable acks back, so that a
		 * reopened consumer resumes before these messages (after a
		 * power failure the media may hold either) */
		for (unsigned i = 0; i < c->nrings; i++) {
			nv_store_relaxed(&c->cur.acks[i].ack, c->acked[i]);
			c->want[i] = c->acked[i];
		}
		return nv_err_append(rc, "%s: acks not made durable",
				     c->cur.reg.path);
	}
	for (unsigned i = 0; i < c->nrings; i++) {
		if (c->want[i] == c->acked[i])
			continue;
		c->acked[i] = c->want[i];
		/* release: our reads of the acked bytes happen before the
		 * producer, acquiring ack_pub, overwrites them; stored after
		 * the barrier so a producer never reuses space whose ack a
		 * power failure could undo (the ack's own "durable before
		 * visible") */
		nv_store_release(&c->cur.acks[i].ack_pub, c->want[i]);
		/* relaxed: a producer that starts waiting after this load
		 * re-checks within its wait slice (wait.c) */
		if (nv_load_relaxed(&c->ch.prod[i].waiting))
			nv_futex_wake(
				(nv_a32 *)(void *)&c->cur.acks[i].ack_pub);
	}
	return 0;
}

int
nvmsg_ack(struct nvmsg_consumer *c)
{
	int rc = check_role(c);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < c->nrings; i++)
		c->want[i] = c->rpos[i];
	return commit_acks(c);
}

int
nvmsg_ack_view(struct nvmsg_consumer *c, const struct nvmsg_view *v, int flags)
{
	int rc = check_role(c);

	if (rc < 0)
		return rc;
	if (!v)
		return nv_err(-EINVAL, "NULL view");
	/* the view must lie between the last noted ack and what was read
	 * (unsigned distances: positions never wrap) */
	if (v->producer >= c->nrings || v->_end <= c->acked[v->producer] ||
	    v->_end - c->acked[v->producer] >
		    c->rpos[v->producer] - c->acked[v->producer])
		return nv_err(-EINVAL,
			      "view (slot %u, sequence %llu) was not viewed "
			      "through this consumer, or is already acked",
			      v->producer, (unsigned long long)v->seq);
	if (v->_end > c->want[v->producer])
		c->want[v->producer] = v->_end;
	if (nv_mutant(6)) /* crash-test mutant 6: acks all that was read */
		c->want[v->producer] = c->rpos[v->producer];
	if (flags & NVMSG_MORE)
		return 0;
	return commit_acks(c);
}

int
nvmsg_consumer_origin(const struct nvmsg_consumer *c, unsigned producer,
		      struct nvmsg_origin *o)
{
	int rc = check_role(c);

	if (rc < 0)
		return rc;
	if (!o || producer >= c->nrings)
		return nv_err(-EINVAL,
			      "producer slot %u out of range (%u "
			      "slots), or NULL origin",
			      producer, c->nrings);
	if (nv_chan_origin(&c->ch, producer, o) < 0 && c->rpos[producer] > 0)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: producer slot %u holds records but its "
			      "origin line is torn",
			      c->ch.data.path, producer);
	return 0;
}

int
nvmsg_recv(struct nvmsg_consumer *c, void *buf, size_t cap, size_t *len,
	   int64_t timeout_ns)
{
	struct nvmsg_view v;
	int rc = check_role(c);

	if (rc < 0)
		return rc;
	if (!buf || !len)
		return nv_err(-EINVAL, "NULL %s", buf ? "len" : "buffer");
	*len = 0;
	rc = nvmsg_view(c, &v, timeout_ns);
	if (rc < 0)
		return rc;
	*len = v.len;
	if (v.len > cap) {
		/* step back: the message stays unviewed */
		c->rpos[v.producer] -= nv_rec_size(v.len);
		c->lastseq[v.producer] = v.seq - 1;
		return nv_err(NVMSG_E_TOO_BIG,
			      "message of %zu bytes does not fit a %zu-byte "
			      "buffer",
			      v.len, cap);
	}
	memcpy(buf, v.data, v.len);
	/* a failed ack leaves *len set: the caller holds the message, and it
	 * is delivered again after a reopen (nvmsg.h) */
	return nvmsg_ack(c);
}
