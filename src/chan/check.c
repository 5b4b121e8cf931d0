/* SPDX-License-Identifier: MIT */
/*
 * check.c -- nvmsg_channel_check (read-only) and nvmsg_channel_repair.
 *
 * Check maps everything read-only and walks what recovery would walk,
 * reporting instead of fixing.  Repair is recovery itself: it opens every
 * slot whose owner is dead as a producer (which runs recover_ring in
 * produce.c) and closes it again, so there is one recovery, not two.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/err.h"
#include "../recover/recover.h"
#include "chan.h"

static void problem(struct nvmsg_check *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
problem(struct nvmsg_check *r, const char *fmt, ...)
{
	va_list ap;

	if (r->errors++ == 0) {
		va_start(ap, fmt);
		vsnprintf(r->first_error, sizeof(r->first_error), fmt, ap);
		va_end(ap);
	}
}

/* torn_at -- 1 if the header bytes at END (where a scan stopped) were
 * written and are not a whole record of an earlier lap: a record begun and
 * never made whole (repair cuts it).  Zeroed space and an earlier lap's
 * record are what a ring holds past its tail otherwise. */
static int
torn_at(const unsigned char *ring, uint64_t ring_bytes, uint64_t end)
{
	const struct nv_rec_hdr *h =
		(const void *)(ring + (end & (ring_bytes - 1)));
	static const unsigned char zero[NV_REC_HDR];
	uint64_t w = nv_load_relaxed(&h->commit), old = w & ~(uint64_t)1;
	struct nv_rec_info ri;
	const char *why;

	if (memcmp(h, zero, sizeof(zero)) == 0)
		return 0;
	if ((w & 1) && old < end && ((end - old) & (ring_bytes - 1)) == 0 &&
	    nv_rec_read(ring, ring_bytes, old, NV_REC_VERIFY, &ri, &why) == 0)
		return 0;
	return 1;
}

/* check_ring -- scan ring I from its oldest unacked record; 1 if the
 * slot needs repair (a dead owner, or a released slot with records past
 * pub_tail or a torn record at the tail) */
static int
check_ring(const struct nv_chan *ch, unsigned i, const uint64_t *acks,
	   unsigned nacks, struct nvmsg_check *r)
{
	const struct nv_prod_slot *s = &ch->prod[i];
	uint64_t pubt = nv_load_acquire(&s->pub_tail);
	uint64_t w = nv_load_acquire(&s->owner_pid);
	uint64_t lo, floor;
	struct nv_scan sc;

	if (!w && !pubt)
		return 0;
	r->producers++;
	int dead = w && !nv_owner_alive(w);
	r->producers_dead += dead;
	if (pubt % NV_REC_ALIGN) {
		problem(r, "%s: ring %u: published tail %llu not aligned",
			ch->data.path, i, (unsigned long long)pubt);
		return 0;
	}
	unsigned bad = 0;
	int b = nv_scan_bounds(pubt, ch->l.ring_bytes, acks + i,
			       NVMSG_MAX_PRODUCERS, nacks, &lo, &floor, &bad);
	if (b == NV_BOUNDS_BAD_ACK) {
		problem(r,
			"%s: ring %u: a consumer ack %llu is ahead of the "
			"tail %llu",
			ch->data.path, i,
			(unsigned long long)acks[bad * NVMSG_MAX_PRODUCERS + i],
			(unsigned long long)pubt);
		return 0;
	}
	if (b == NV_BOUNDS_SPREAD) {
		problem(r, "%s: ring %u: consumer acks more than a ring apart",
			ch->data.path, i);
		return 0;
	}
	nv_scan_ring(nv_chan_ring(ch, i), ch->l.ring_bytes, i, lo, &sc);
	r->records_scanned += sc.records;
	r->bytes_scanned += sc.end - lo;
	if (sc.end < floor) {
		problem(r,
			"%s: ring %u: record at position %llu fails (%s) "
			"below the durable tail %llu",
			ch->data.path, i, (unsigned long long)sc.end, sc.stop,
			(unsigned long long)floor);
		return 0;
	}
	if (!dead && w)
		return 0; /* a live producer may be writing past its tail */
	int need = 0;
	if (sc.end > pubt) {
		struct nv_scan past;
		nv_scan_ring(nv_chan_ring(ch, i), ch->l.ring_bytes, i, pubt,
			     &past);
		r->records_unpublished += past.records;
		need = 1;
	}
	if (torn_at(nv_chan_ring(ch, i), ch->l.ring_bytes, sc.end)) {
		r->torn_tails++;
		need = 1;
	}
	r->repairs_needed += need || dead;
	return need || dead;
}

/* check_all -- the whole check of an open channel; NEED[i] (may be NULL)
 * says which slots repair should take over */
static int
check_all(const struct nv_chan *ch, struct nvmsg_check *r, int *need)
{
	uint64_t *acks;
	unsigned nacks = 0;

	acks = calloc(NVMSG_MAX_CONSUMERS * NVMSG_MAX_PRODUCERS, sizeof(*acks));
	if (!acks)
		return nv_err(-ENOMEM, "out of memory");
	for (unsigned c = 0; c < ch->l.max_consumers; c++) {
		uint64_t st = nv_load_acquire(&ch->cons[c].state);
		char cname[NVMSG_NAME_MAX + 1];
		struct nv_cursor cu;
		if (st == NV_CONS_FREE)
			continue;
		if (st != NV_CONS_ACTIVE) {
			problem(r, "%s: consumer entry %u has state %llu",
				ch->data.path, c, (unsigned long long)st);
			continue;
		}
		r->consumers++;
		if (nv_cons_name(ch, c, cname) != 0) {
			problem(r, "%s: consumer entry %u has an invalid name",
				ch->data.path, c);
			continue;
		}
		if (nv_cursor_open(&cu, ch, c, cname, 0) < 0) {
			problem(r, "%s", nvmsg_errmsg());
			continue;
		}
		for (unsigned i = 0; i < ch->l.max_producers; i++)
			acks[nacks * NVMSG_MAX_PRODUCERS + i] =
				nv_load_acquire(&cu.acks[i].ack);
		nacks++;
		nv_cursor_close(&cu);
	}
	for (unsigned i = 0; i < ch->l.max_producers; i++) {
		int n = check_ring(ch, i, acks, nacks, r);
		if (need)
			need[i] = n;
	}
	free(acks);
	return 0;
}

int
nvmsg_channel_check(const char *dir, const char *name, struct nvmsg_check *r)
{
	struct nv_chan ch;
	uint64_t t0 = nv_now_ns();
	int rc;

	nv_err_clear();
	if (!r)
		return nv_err(-EINVAL, "NULL check report");
	memset(r, 0, sizeof(*r));
	r->version = NVMSG_REPORT_VERSION;
	rc = nv_chan_open(&ch, dir, name, 0);
	if (rc < 0)
		return rc;
	rc = check_all(&ch, r, NULL);
	nv_chan_close(&ch);
	r->elapsed_ns = nv_now_ns() - t0;
	return rc;
}

int
nvmsg_channel_repair(const char *dir, const char *name,
		     struct nvmsg_recovery *out)
{
	struct nvmsg_recovery sum = { .version = NVMSG_REPORT_VERSION }, one;
	struct nv_chan ch;
	uint64_t t0 = nv_now_ns();
	int rc;

	nv_err_clear();
	rc = nv_chan_open(&ch, dir, name, 1);
	if (rc < 0)
		return rc;
	unsigned n = ch.l.max_producers;
	int need[NVMSG_MAX_PRODUCERS] = { 0 };
	struct nvmsg_check scratch = { 0 };
	rc = check_all(&ch, &scratch, need);
	nv_chan_close(&ch);
	if (rc < 0)
		return rc;
	/* the slots check says need it: a dead owner's, or a released one
	 * with records past pub_tail or a torn tail; one failing slot does
	 * not stop the others */
	int first = 0;
	for (unsigned i = 0; i < n; i++) {
		struct nvmsg_producer *p;
		if (!need[i])
			continue;
		rc = nvmsg_producer_open(dir, name, (int)i, &p);
		if (rc == -EBUSY)
			continue; /* a live process took it meanwhile */
		if (rc < 0) {
			if (!first)
				first = nv_err_append(rc,
						      "repairing producer "
						      "slot %u",
						      i);
			continue;
		}
		nvmsg_producer_recovery(p, &one);
		sum.slots_recovered++;
		sum.records_scanned += one.records_scanned;
		sum.records_published += one.records_published;
		sum.bytes_scanned += one.bytes_scanned;
		sum.bytes_cut += one.bytes_cut;
		nvmsg_producer_close(&p);
	}
	sum.elapsed_ns = nv_now_ns() - t0;
	if (out)
		*out = sum;
	return first;
}
