/* SPDX-License-Identifier: MIT */
/*
 * t_scan.c -- recover/scan.c: walking a ring to its torn tail.
 * Proves what recovery needs for I1-I3 and I5: over a ring that wrapped
 * several times (pads at the ring end), a scan from any record boundary of
 * the live span reaches exactly the tail and counts every message and pad;
 * it stops at a torn record, at a sequence number that does not increase,
 * at another producer's record, and it never covers more than one lap,
 * even over a hostile ring built to lead it round again.
 */
#include <stdalign.h>

#include "recover/recover.h"
#include "t.h"

#define RING 4096u
#define PROD 3

static alignas(64) unsigned char ring[RING];

struct writer {
	uint64_t tail;
	uint64_t seq;
	uint64_t msgs[4096]; /* positions of the messages written */
	unsigned nmsgs;
	uint64_t pads[256]; /* positions of the pads written */
	unsigned npads;
};

static struct nv_rec_hdr *
at(uint64_t pos)
{
	return (struct nv_rec_hdr *)(void *)(ring + (pos & (RING - 1)));
}

/* append -- what a producer does: pad to the ring end if the record
 * would cross it, then write and seal the message */
static uint64_t
append(struct writer *w, uint32_t len)
{
	uint64_t need = nv_rec_size(len);
	uint64_t off = w->tail & (RING - 1);

	if (off + need > RING) {
		nv_rec_seal(at(w->tail), w->tail, 0,
			    (uint32_t)(RING - off - NV_REC_HDR), NV_REC_PAD,
			    PROD);
		if (w->npads < 256)
			w->pads[w->npads++] = w->tail;
		w->tail += RING - off;
	}
	uint64_t pos = w->tail;
	memset(at(pos) + 1, (int)(pos >> 5), len);
	nv_rec_seal(at(pos), pos, ++w->seq, len, NV_REC_MSG, PROD);
	w->msgs[w->nmsgs++] = pos;
	w->tail += need;
	return pos;
}

/* count -- messages and pads written in [from, to) */
static void
count(const struct writer *w, uint64_t from, uint64_t to, uint64_t *msgs,
      uint64_t *pads)
{
	*msgs = *pads = 0;
	for (unsigned i = 0; i < w->nmsgs; i++)
		*msgs += w->msgs[i] >= from && w->msgs[i] < to;
	for (unsigned i = 0; i < w->npads; i++)
		*pads += w->pads[i] >= from && w->pads[i] < to;
}

/* fill -- 5 laps of messages of varying size, starting at a high lap */
static void
fill(struct writer *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	memset(ring, 0xee, sizeof(ring));
	w->tail = 1000 * (uint64_t)RING + 32 * (seed % 7);
	uint64_t end = w->tail + 5 * RING;
	while (w->tail < end)
		append(w, (uint32_t)(1 + t_rng(&seed) % 300));
}

static void
test_whole(void)
{
	struct writer w;
	struct nv_scan s;
	uint64_t msgs, pads;
	unsigned starts = 0;

	for (uint64_t seed = 1; seed <= 8; seed++) {
		fill(&w, seed);
		ASSERT_TRUE(w.npads >= 2); /* it wrapped, with pads */
		/* from every message boundary of the live span */
		for (unsigned i = 0; i < w.nmsgs; i++) {
			uint64_t start = w.msgs[i];
			if (w.tail - start > RING)
				continue;
			nv_scan_ring(ring, RING, PROD, start, &s);
			count(&w, start, w.tail, &msgs, &pads);
			if (s.end != w.tail)
				T_FAILF("seed %" PRIu64 " start %" PRIu64
					": end %" PRIu64 ", tail %" PRIu64
					" (%s)",
					seed, start, s.end, w.tail, s.stop);
			ASSERT_EQ(s.start, start);
			ASSERT_EQ(s.records, msgs);
			ASSERT_EQ(s.pads, pads);
			ASSERT_EQ(s.last_seq, w.seq);
			starts++;
		}
		/* from the pads of the live span too */
		for (unsigned i = 0; i < w.npads; i++) {
			if (w.tail - w.pads[i] > RING)
				continue;
			nv_scan_ring(ring, RING, PROD, w.pads[i], &s);
			ASSERT_EQ(s.end, w.tail);
		}
		/* from the tail itself: nothing, at once */
		nv_scan_ring(ring, RING, PROD, w.tail, &s);
		ASSERT_EQ(s.end, w.tail);
		ASSERT_EQ(s.records, 0);
		ASSERT_EQ(s.last_seq, 0);
		ASSERT_TRUE(strcmp(s.stop, "end of lap") != 0);
	}
	ASSERT_TRUE(starts > 100);
}

static void
test_torn(void)
{
	struct writer w;
	struct nv_scan s;
	uint64_t msgs, pads;

	fill(&w, 11);
	/* start a bit less than a lap behind the tail */
	unsigned first = 0;
	while (w.tail - w.msgs[first] > RING - 512)
		first++;
	uint64_t start = w.msgs[first];
	unsigned k = first + (w.nmsgs - first) / 2;
	uint64_t torn = w.msgs[k];
	struct nv_rec_hdr *r = at(torn);

	/* a payload byte that never reached media */
	((unsigned char *)(r + 1))[0] ^= 0x01;
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, torn);
	ASSERT_EQ(s.last_seq, w.seq - (w.nmsgs - k));
	count(&w, start, torn, &msgs, &pads);
	ASSERT_EQ(s.records, msgs);
	ASSERT_TRUE(strcmp(s.stop, "checksum mismatch") == 0);
	((unsigned char *)(r + 1))[0] ^= 0x01;
	/* commit words never reached media (they are stored after the
	 * barrier and not flushed) or hold an earlier lap's: the scan
	 * trusts the checksum alone and still reaches the tail */
	atomic_store(&r->commit, 0);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.tail);
	atomic_store(&r->commit, nv_rec_commit_word(torn - RING));
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.tail);
	nv_rec_commit(r, torn);
	/* a length word torn to garbage */
	uint32_t len = r->len;
	r->len = 0xdeadbeef;
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, torn);
	ASSERT_TRUE(strcmp(s.stop, "length past ring end") == 0);
	r->len = len;
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.tail);
	/* a torn pad record stops the scan too */
	unsigned pk = 0;
	while (pk < w.npads && !(w.pads[pk] > start && w.pads[pk] < w.tail))
		pk++;
	if (pk < w.npads) {
		struct nv_rec_hdr *pr = at(w.pads[pk]);
		pr->check ^= 1;
		nv_scan_ring(ring, RING, PROD, start, &s);
		ASSERT_EQ(s.end, w.pads[pk]);
		ASSERT_TRUE(strcmp(s.stop, "checksum mismatch") == 0);
		pr->check ^= 1;
	}
	/* a misaligned start reads nothing */
	nv_scan_ring(ring, RING, PROD, start + 8, &s);
	ASSERT_EQ(s.end, start + 8);
	ASSERT_EQ(s.records, 0);
}

/* reseal -- rewrite record POS with other header fields, validly sealed */
static void
reseal(uint64_t pos, uint64_t seq, uint16_t producer)
{
	struct nv_rec_hdr *r = at(pos);

	nv_rec_seal(r, pos, seq, r->len, NV_REC_MSG, producer);
}

static void
test_sequence_and_producer(void)
{
	struct writer w;
	struct nv_scan s;

	fill(&w, 21);
	unsigned first = 0;
	while (w.tail - w.msgs[first] > RING)
		first++;
	uint64_t start = w.msgs[first];
	unsigned k = first + 5;
	struct nv_rec_hdr *r = at(w.msgs[k]);
	uint64_t seq = r->seq;

	ASSERT_TRUE(k + 1 < w.nmsgs);
	/* the same sequence again */
	reseal(w.msgs[k], seq - 1, PROD);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.msgs[k]);
	ASSERT_EQ(s.records, 5);
	ASSERT_EQ(s.last_seq, seq - 1);
	ASSERT_TRUE(strcmp(s.stop, "sequence not increasing") == 0);
	/* going backwards */
	reseal(w.msgs[k], 1, PROD);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.msgs[k]);
	ASSERT_TRUE(strcmp(s.stop, "sequence not increasing") == 0);
	/* zero is never a sequence number, even first */
	reseal(w.msgs[k], 0, PROD);
	nv_scan_ring(ring, RING, PROD, w.msgs[k], &s);
	ASSERT_EQ(s.end, w.msgs[k]);
	ASSERT_EQ(s.records, 0);
	ASSERT_TRUE(strcmp(s.stop, "sequence number 0") == 0);
	/* a gap upwards is not a reason to stop (recovery continues the
	 * sequence after the largest one) */
	reseal(w.msgs[k], seq + 1000, PROD);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.msgs[k + 1]);
	ASSERT_TRUE(strcmp(s.stop, "sequence not increasing") == 0);
	reseal(w.msgs[k], seq, PROD);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.tail);
	/* a validly sealed record of another producer id */
	reseal(w.msgs[k], seq, PROD + 1);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.msgs[k]);
	ASSERT_EQ(s.records, 5);
	ASSERT_TRUE(strcmp(s.stop, "wrong producer id") == 0);
	/* the same ring scanned as that producer stops at once */
	nv_scan_ring(ring, RING, PROD + 1, start, &s);
	ASSERT_EQ(s.end, start);
	ASSERT_TRUE(strcmp(s.stop, "wrong producer id") == 0);
	reseal(w.msgs[k], seq, PROD);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, w.tail);
}

static void
test_one_lap(void)
{
	struct writer w;
	struct nv_scan s;

	/* exactly one full lap of valid records: stops at the lap */
	memset(&w, 0, sizeof(w));
	memset(ring, 0, sizeof(ring));
	uint64_t start = 77 * (uint64_t)RING + 512;
	w.tail = start;
	while (w.tail - start < RING) {
		uint64_t left = RING - (w.tail - start);
		uint64_t room = RING - (w.tail & (RING - 1));
		/* 64-byte records tile the lap: no empty filler record */
		uint32_t len = 32;
		if (left < nv_rec_size(len) || room < nv_rec_size(len))
			len = (uint32_t)((left < room ? left : room) -
					 NV_REC_HDR);
		append(&w, len);
	}
	ASSERT_EQ(w.tail - start, RING);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.end, start + RING);
	ASSERT_EQ(s.records, w.nmsgs);
	ASSERT_TRUE(strcmp(s.stop, "end of lap") == 0);

	/*
	 * A hostile ring that leads the scan round again: record A (seq 1,
	 * one byte, 64 bytes in all) at offset 64, record B (seq 2) filling
	 * to the ring end, then record C (seq 3) at offset 0 of the next lap,
	 * 128 bytes long, whose payload carries a copy of A, so A still
	 * reads as valid while C overlaps it.  C would take the scan past
	 * one lap.
	 */
	memset(ring, 0, sizeof(ring));
	start = 9 * (uint64_t)RING + 64;
	struct nv_rec_hdr *a = at(start);
	memset(a + 1, 0x5a, 32);
	nv_rec_seal(a, start, 1, 1, NV_REC_MSG, PROD);
	unsigned char acopy[64];
	memcpy(acopy, a, sizeof(acopy));
	uint64_t bpos = start + 64;
	nv_rec_seal(at(bpos), bpos, 2, RING - 128 - NV_REC_HDR, NV_REC_MSG,
		    PROD);
	uint64_t cpos = start - 64 + RING;
	struct nv_rec_hdr *c = at(cpos);
	unsigned char *cpay = (unsigned char *)(c + 1);
	memset(cpay, 0, 96);
	memcpy(cpay + 32, acopy, sizeof(acopy)); /* lands on A's bytes */
	nv_rec_seal(c, cpos, 3, 96, NV_REC_MSG, PROD);
	ASSERT_TRUE(memcmp(a, acopy, sizeof(acopy)) == 0);
	nv_scan_ring(ring, RING, PROD, start, &s);
	ASSERT_EQ(s.records, 2);
	ASSERT_EQ(s.last_seq, 2);
	ASSERT_EQ(s.end, cpos);
	ASSERT_TRUE(s.end - s.start <= RING);
	ASSERT_TRUE(strcmp(s.stop, "record beyond one lap") == 0);
}

/* random rings with valid records sprinkled: never out of bounds (ASan),
 * never more than one lap, always stops */
static void
test_random(void)
{
	struct nv_scan s;
	uint64_t seed = 99;

	for (int iter = 0; iter < 2000; iter++) {
		for (size_t i = 0; i < RING; i += 8) {
			uint64_t v = t_rng(&seed);
			memcpy(ring + i, &v, 8);
		}
		uint64_t lap = (t_rng(&seed) % 1000) * RING;
		/* sprinkle valid records, sometimes chaining */
		uint64_t pos = lap + (t_rng(&seed) % (RING / 32)) * 32;
		uint64_t seq = 1 + t_rng(&seed) % 10;
		for (int n = (int)(t_rng(&seed) % 40); n > 0; n--) {
			uint64_t off = pos & (RING - 1);
			uint64_t room = RING - off - NV_REC_HDR;
			uint32_t len = (uint32_t)(t_rng(&seed) % 200);
			int pad = t_rng(&seed) % 8 == 0 || len > room;
			if (pad)
				len = (uint32_t)room;
			uint16_t prod = t_rng(&seed) % 16 ? PROD : 0;
			nv_rec_seal(at(pos), pos, pad ? 0 : seq++, len,
				    pad ? NV_REC_PAD : NV_REC_MSG, prod);
			pos += pad ? NV_REC_HDR + len : nv_rec_size(len);
			if (t_rng(&seed) % 16 == 0)
				seq -= 2;
			if (t_rng(&seed) % 16 == 0)
				pos += 32 * (t_rng(&seed) % 8);
		}
		uint64_t start = lap + (t_rng(&seed) % (RING / 8)) * 8;
		nv_scan_ring(ring, RING, PROD, start, &s);
		ASSERT_TRUE(s.end >= start);
		ASSERT_TRUE(s.end - start <= RING);
		ASSERT_TRUE(s.stop != NULL);
		ASSERT_TRUE(s.records + s.pads <= RING / 32);
	}
}

int
main(void)
{
	test_whole();
	test_torn();
	test_sequence_and_producer();
	test_one_lap();
	test_random();
	printf("t_scan: ok\n");
	return T_PASS;
}
