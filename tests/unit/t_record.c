/* SPDX-License-Identifier: MIT */
/*
 * t_record.c -- log/record.c: seal and read one record.
 * Proves what I2 and I5 rest on at the record level: a sealed record reads
 * back as written; nv_rec_read never follows a length or position it has
 * not bounds-checked (wrong position, misaligned position, bad type, length
 * past the ring end, pad not ending at the ring end), and the checksum,
 * seeded with the position, catches a flipped payload or header bit and
 * bytes of an earlier lap, at NV_REC_VERIFY and NV_REC_SEALED; a record
 * is readable at BOUNDS or VERIFY only once its commit word is stored.
 */
#include <stdalign.h>

#include "log/log.h"
#include "t.h"

#define RING 4096u

static alignas(64) unsigned char ring[RING];

static struct nv_rec_hdr *
at(uint64_t pos)
{
	return (struct nv_rec_hdr *)(void *)(ring + (pos & (RING - 1)));
}

/* put -- write a message of LEN bytes of pattern BYTE at POS and seal it */
static void
put(uint64_t pos, uint64_t seq, uint32_t len, unsigned char byte,
    uint16_t producer)
{
	struct nv_rec_hdr *r = at(pos);

	memset(r + 1, byte, len);
	nv_rec_seal(r, pos, seq, len, NV_REC_MSG, producer);
	nv_rec_commit(r, pos);
}

/* seal_pad -- a pad record at POS, sealed and committed */
static void
seal_pad(struct nv_rec_hdr *r, uint64_t pos, uint32_t len, uint16_t producer)
{
	nv_rec_seal(r, pos, 0, len, NV_REC_PAD, producer);
	nv_rec_commit(r, pos);
}

static int
rd(uint64_t pos, int level, struct nv_rec_info *ri, const char **why)
{
	*why = "";
	return nv_rec_read(ring, RING, pos, level, ri, why);
}

#define ASSERT_WHY(pos, level, reason)                                         \
	do {                                                                   \
		struct nv_rec_info _ri;                                        \
		const char *_why;                                              \
		ASSERT_ERR(rd((pos), (level), &_ri, &_why), NVMSG_E_CORRUPT);  \
		if (strcmp(_why, (reason)) != 0)                               \
			T_FAILF("why \"%s\", want \"%s\"", _why, (reason));    \
	} while (0)

static void
test_roundtrip(void)
{
	struct nv_rec_info ri;
	const char *why;

	ASSERT_EQ(nv_rec_size(0), 32);
	ASSERT_EQ(nv_rec_size(1), 64);
	ASSERT_EQ(nv_rec_size(32), 64);
	ASSERT_EQ(nv_rec_size(33), 96);
	memset(ring, 0, sizeof(ring));
	/* a few laps in: positions are absolute, offsets are masked */
	uint64_t base = 5 * RING;
	put(base + 64, 7, 100, 0xab, 3);
	for (int level = NV_REC_BOUNDS; level <= NV_REC_SEALED; level++) {
		ASSERT_OK(rd(base + 64, level, &ri, &why));
		ASSERT_EQ(ri.pos, base + 64);
		ASSERT_EQ(ri.seq, 7);
		ASSERT_EQ(ri.len, 100);
		ASSERT_EQ(ri.type, NV_REC_MSG);
		ASSERT_EQ(ri.producer, 3);
		ASSERT_EQ(ri.size, nv_rec_size(100));
		ASSERT_TRUE(ri.payload == ring + 64 + 32);
		ASSERT_EQ(ri.payload[0], 0xab);
		ASSERT_EQ(ri.payload[99], 0xab);
	}
	/* a record that ends exactly at the ring end */
	put(base + RING - 64, 8, 32, 0x11, 3);
	ASSERT_OK(rd(base + RING - 64, NV_REC_VERIFY, &ri, &why));
	ASSERT_EQ(ri.size, 64);
	/* the largest payload that fits from offset 0 */
	put(base + RING, 9, RING - 32, 0x22, 3);
	ASSERT_OK(rd(base + RING, NV_REC_VERIFY, &ri, &why));
	ASSERT_EQ(ri.size, RING);
	/* no producer writes an empty message or sequence number 0: a
	 * record that claims either is corrupt, even with a valid checksum */
	memset(ring, 0, sizeof(ring));
	put(0, 5, 0, 0, 1);
	ASSERT_EQ(rd(0, NV_REC_VERIFY, &ri, &why), NVMSG_E_CORRUPT);
	ASSERT_TRUE(strcmp(why, "empty message") == 0);
	put(0, 0, 1, 0, 1);
	ASSERT_EQ(rd(0, NV_REC_BOUNDS, &ri, &why), NVMSG_E_CORRUPT);
	ASSERT_TRUE(strcmp(why, "sequence number 0") == 0);
	/* the maximum seq/producer values */
	memset(ring, 0, sizeof(ring));
	put(0, UINT64_MAX, 1, 0, 0xffff);
	ASSERT_OK(rd(0, NV_REC_VERIFY, &ri, &why));
	ASSERT_U64_EQ(ri.seq, UINT64_MAX);
	ASSERT_EQ(ri.producer, 0xffff);
	ASSERT_EQ(ri.size, 64);
	/* a pad record filling to the ring end; its payload is not covered */
	struct nv_rec_hdr *r = at(base + 1024);
	seal_pad(r, base + 1024, RING - 1024 - 32, 3);
	ASSERT_OK(rd(base + 1024, NV_REC_VERIFY, &ri, &why));
	ASSERT_EQ(ri.type, NV_REC_PAD);
	ASSERT_EQ(ri.size, RING - 1024);
	ring[2000] ^= 0xff;
	ASSERT_OK(rd(base + 1024, NV_REC_VERIFY, &ri, &why));
	/* a pad of zero payload bytes, exactly the last 32 bytes */
	r = at(base + RING - 32);
	seal_pad(r, base + RING - 32, 0, 3);
	ASSERT_OK(rd(base + RING - 32, NV_REC_VERIFY, &ri, &why));
	ASSERT_EQ(ri.size, 32);
}

static void
test_rejects(void)
{
	struct nv_rec_info ri;
	const char *why;
	uint64_t base = 3 * RING;
	struct nv_rec_hdr *r;

	memset(ring, 0, sizeof(ring));
	put(base + 256, 1, 40, 0x33, 0);
	ASSERT_OK(rd(base + 256, NV_REC_VERIFY, &ri, &why));

	/* wrong position: same offset, another lap (stale bytes) */
	ASSERT_WHY(base + 256 + RING, NV_REC_BOUNDS, "position mismatch");
	ASSERT_WHY(base + 256 - RING, NV_REC_VERIFY, "position mismatch");
	/* another offset holding zeros */
	ASSERT_WHY(base + 512, NV_REC_BOUNDS, "position mismatch");
	/* misaligned: never read at an unaligned offset */
	ASSERT_WHY(base + 256 + 8, NV_REC_BOUNDS, "misaligned position");
	ASSERT_WHY(base + 1, NV_REC_BOUNDS, "misaligned position");
	ASSERT_WHY(base + RING - 16, NV_REC_BOUNDS, "misaligned position");

	/* bad type: at both levels, without reading the payload */
	r = at(base + 256);
	for (unsigned t = 0; t < 8; t++) {
		if (t == NV_REC_MSG || t == NV_REC_PAD)
			continue;
		r->type = (uint16_t)t;
		ASSERT_WHY(base + 256, NV_REC_BOUNDS, "bad record type");
	}
	r->type = 0xffff;
	ASSERT_WHY(base + 256, NV_REC_VERIFY, "bad record type");
	r->type = NV_REC_MSG;
	ASSERT_OK(rd(base + 256, NV_REC_VERIFY, &ri, &why));

	/* length past the ring end */
	r->len = RING - 256 - 32 + 1;
	ASSERT_WHY(base + 256, NV_REC_BOUNDS, "length past ring end");
	r->len = 0xffffffffu;
	ASSERT_WHY(base + 256, NV_REC_BOUNDS, "length past ring end");
	r->len = 0x80000000u;
	ASSERT_WHY(base + 256, NV_REC_VERIFY, "length past ring end");
	/* the longest length that stays inside passes bounds, not the
	 * checksum */
	r->len = RING - 256 - 32;
	ASSERT_OK(rd(base + 256, NV_REC_BOUNDS, &ri, &why));
	ASSERT_EQ(ri.size, RING - 256);
	ASSERT_WHY(base + 256, NV_REC_VERIFY, "checksum mismatch");
	r->len = 40;
	ASSERT_OK(rd(base + 256, NV_REC_VERIFY, &ri, &why));

	/* a pad must end exactly at the ring end */
	r = at(base + 1024);
	seal_pad(r, base + 1024, 64, 0);
	ASSERT_WHY(base + 1024, NV_REC_BOUNDS, "pad does not end at ring end");
	seal_pad(r, base + 1024, RING - 1024 - 32 - 32, 0);
	ASSERT_WHY(base + 1024, NV_REC_VERIFY, "pad does not end at ring end");
	seal_pad(r, base + 1024, RING - 1024 - 32, 0);
	ASSERT_OK(rd(base + 1024, NV_REC_VERIFY, &ri, &why));
	seal_pad(r, base + 1024, RING - 1024 - 32 + 32, 0);
	ASSERT_WHY(base + 1024, NV_REC_BOUNDS, "length past ring end");
}

static void
test_checksum(void)
{
	struct nv_rec_info ri;
	const char *why;
	uint64_t pos = 7 * RING + 128;
	struct nv_rec_hdr *r;
	uint32_t len = 200;

	memset(ring, 0, sizeof(ring));
	put(pos, 42, len, 0x5c, 2);
	r = at(pos);
	unsigned char *pay = (unsigned char *)(r + 1);
	/* every payload bit: caught at VERIFY, not looked at by BOUNDS */
	for (uint32_t bit = 0; bit < len * 8; bit++) {
		pay[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		ASSERT_OK(rd(pos, NV_REC_BOUNDS, &ri, &why));
		ASSERT_WHY(pos, NV_REC_VERIFY, "checksum mismatch");
		pay[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	ASSERT_OK(rd(pos, NV_REC_VERIFY, &ri, &why));
	/* covered header fields: seq, producer (len and type change the
	 * bounds too, tested above) */
	r->seq ^= 1ull << 40;
	ASSERT_OK(rd(pos, NV_REC_BOUNDS, &ri, &why));
	ASSERT_WHY(pos, NV_REC_VERIFY, "checksum mismatch");
	r->seq ^= 1ull << 40;
	r->producer ^= 1;
	ASSERT_WHY(pos, NV_REC_VERIFY, "checksum mismatch");
	r->producer ^= 1;
	r->len = len - 1;
	ASSERT_WHY(pos, NV_REC_VERIFY, "checksum mismatch");
	r->len = len;
	r->check ^= 1ull << 63;
	ASSERT_WHY(pos, NV_REC_VERIFY, "checksum mismatch");
	r->check ^= 1ull << 63;
	ASSERT_OK(rd(pos, NV_REC_VERIFY, &ri, &why));
	/* padding bytes after the payload (to 32-byte alignment) are not
	 * covered */
	pay[len + 3] ^= 0xff;
	ASSERT_OK(rd(pos, NV_REC_VERIFY, &ri, &why));
	/* a whole record of an earlier lap, with its commit word
	 * rewritten to the new lap: the position-seeded checksum fails */
	nv_rec_commit(r, pos + RING);
	ASSERT_OK(rd(pos + RING, NV_REC_BOUNDS, &ri, &why));
	ASSERT_WHY(pos + RING, NV_REC_VERIFY, "checksum mismatch");
	ASSERT_WHY(pos + RING, NV_REC_SEALED, "checksum mismatch");
}

/* the commit word: stored after the barrier, what a consumer trusts; a
 * sealed record without it is not readable at BOUNDS or VERIFY, and is
 * at SEALED (recovery: the word may be lost in a power failure) */
static void
test_commit_word(void)
{
	struct nv_rec_info ri;
	const char *why;
	struct nv_rec_hdr *r = at(0);

	memset(ring, 0, sizeof(ring));
	/* position 0: the zeroed word must not read as committed */
	ASSERT_U64_EQ(nv_rec_commit_word(0), 1);
	ASSERT_U64_EQ(nv_rec_commit_word(5 * RING + 96), 5 * RING + 97);
	memset(r + 1, 0x7e, 20);
	nv_rec_seal(r, 0, 1, 20, NV_REC_MSG, 4);
	ASSERT_U64_EQ(atomic_load(&r->commit), 0);
	ASSERT_WHY(0, NV_REC_BOUNDS, "position mismatch");
	ASSERT_WHY(0, NV_REC_VERIFY, "position mismatch");
	ASSERT_OK(rd(0, NV_REC_SEALED, &ri, &why));
	ASSERT_EQ(ri.len, 20);
	nv_rec_commit(r, 0);
	ASSERT_U64_EQ(atomic_load(&r->commit), 1);
	ASSERT_OK(rd(0, NV_REC_BOUNDS, &ri, &why));
	ASSERT_OK(rd(0, NV_REC_VERIFY, &ri, &why));
	/* a new record begun over an earlier lap's: the old commit word
	 * stays until the new one is committed, and reads at neither
	 * position: the old record's checksum fails (its payload changed),
	 * the new one is not committed */
	uint64_t pos = RING;
	memset(r + 1, 0x11, 20);
	nv_rec_seal(r, pos, 2, 20, NV_REC_MSG, 4);
	ASSERT_WHY(pos, NV_REC_BOUNDS, "position mismatch");
	ASSERT_WHY(0, NV_REC_VERIFY, "checksum mismatch");
	ASSERT_OK(rd(pos, NV_REC_SEALED, &ri, &why));
	nv_rec_commit(r, pos);
	ASSERT_OK(rd(pos, NV_REC_VERIFY, &ri, &why));
	ASSERT_EQ(ri.seq, 2);
	/* SEALED still checks everything but the commit word */
	r->check ^= 1;
	ASSERT_WHY(pos, NV_REC_SEALED, "checksum mismatch");
	r->type = 9;
	ASSERT_WHY(pos, NV_REC_SEALED, "bad record type");
}

int
main(void)
{
	test_roundtrip();
	test_rejects();
	test_checksum();
	test_commit_word();
	printf("t_record: ok\n");
	return T_PASS;
}
