/* SPDX-License-Identifier: MIT */
/*
 * t_checksum.c -- base/checksum.c: the one checksum of the format.
 * Proves what I2 and I5 lean on: the checksum is XXH3-64 (pinned by a
 * known vector, so the on-media format cannot drift with the library), it
 * is seeded (the same bytes at another position do not verify), it sees a
 * single flipped bit.
 */
#include "base/checksum.h"
#include "t.h"

static void
test_known_vectors(void)
{
	/* XXH3_64bits("") with seed 0 (xxhash's published test value) */
	ASSERT_U64_EQ(nv_checksum("", 0, 0), 0x2D06800538D394C2ull);
	ASSERT_U64_EQ(nv_checksum(NULL, 0, 0), 0x2D06800538D394C2ull);
}

static void
test_seeded(void)
{
	unsigned char buf[4096];
	uint64_t s = 1;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)t_rng(&s);
	/* lengths across XXH3's internal code paths: 0, 1-3, 4-8, 9-16,
	 * 17-128, 129-240, long */
	static const size_t lens[] = {
		0,   1,	  3,   4,   8,	 9,   16,   17,
		100, 128, 129, 200, 240, 241, 1000, 4096
	};
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k];
		uint64_t a = nv_checksum(buf, len, 4096);
		/* deterministic */
		ASSERT_U64_EQ(a, nv_checksum(buf, len, 4096));
		/* another seed (another record position) differs */
		ASSERT_NE(a, nv_checksum(buf, len, 4096 + 32));
		ASSERT_NE(a, nv_checksum(buf, len, 0));
		ASSERT_NE(a, nv_checksum(buf, len, 4096ull << 32));
		if (len == 0)
			continue;
		/* same bytes at another address: same value */
		unsigned char copy[4096 + 8];
		memcpy(copy + 3, buf, len);
		ASSERT_U64_EQ(a, nv_checksum(copy + 3, len, 4096));
		/* any single flipped bit changes it */
		for (size_t bit = 0; bit<len * 8; bit += len> 64 ? 61 : 1) {
			buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			uint64_t b = nv_checksum(buf, len, 4096);
			buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			if (a == b)
				T_FAILF("len %zu: flipping bit %zu not seen",
					len, bit);
		}
		/* a byte beyond LEN is not covered */
		buf[len % sizeof(buf)] ^= 0xff;
		if (len < sizeof(buf))
			ASSERT_U64_EQ(a, nv_checksum(buf, len, 4096));
		buf[len % sizeof(buf)] ^= 0xff;
	}
}

int
main(void)
{
	test_known_vectors();
	test_seeded();
	printf("t_checksum: ok\n");
	return T_PASS;
}
