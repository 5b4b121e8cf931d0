/* SPDX-License-Identifier: MIT */
/*
 * t_header.c -- log/header.c: layout, data header and cursor header.
 * Proves part of I5 (the region file is untrusted): a header is trusted
 * only after magic, version, checksum, geometry, layout signature and the
 * file size agree; a newer format is NVMSG_E_VERSION (never misread), and a
 * cursor region of another channel (or consumer) is NVMSG_E_MISMATCH, both
 * in memory and through the public API on files altered on disk.
 */
#include <fcntl.h>
#include <stddef.h>

#include "base/checksum.h"
#include "log/log.h"
#include "t.h"

static void
reseal(void *h)
{
	uint64_t c = nv_checksum(h, NV_HDR_CHECKED, 0);

	memcpy((unsigned char *)h + NV_HDR_CHECKED, &c, sizeof(c));
}

static void
test_layout(void)
{
	struct nv_layout l;

	ASSERT_OK(nv_layout_compute(&l, 4096, 1, 1));
	ASSERT_EQ(l.cons_table_off, 4096);
	ASSERT_EQ(l.prod_table_off, 8192);
	ASSERT_EQ(l.ring_off, 12288);
	ASSERT_EQ(l.file_bytes, 16384);
	ASSERT_OK(nv_layout_compute(&l, 1u << 20, 64, 64));
	ASSERT_EQ(l.prod_table_off, 4096 + 4096); /* 64 x 64 B */
	ASSERT_EQ(l.ring_off, 8192 + 16384);	  /* 64 x 256 B */
	ASSERT_EQ(l.file_bytes, 8192 + 16384 + 64ull * (1u << 20));
	/* every combination keeps tables and rings page-aligned */
	for (unsigned np = 1; np <= 64; np += 7)
		for (unsigned nc = 1; nc <= 64; nc += 9) {
			ASSERT_OK(nv_layout_compute(&l, 8192, np, nc));
			ASSERT_EQ(l.prod_table_off % 4096, 0);
			ASSERT_EQ(l.ring_off % 4096, 0);
			ASSERT_TRUE(l.prod_table_off >=
				    l.cons_table_off + nc * 64ull);
			ASSERT_TRUE(l.ring_off >=
				    l.prod_table_off + np * 256ull);
			ASSERT_EQ(l.file_bytes, l.ring_off + np * 8192ull);
		}
	/* the largest geometry does not overflow */
	ASSERT_OK(nv_layout_compute(&l, NVMSG_MAX_CAPACITY, 64, 64));
	ASSERT_U64_EQ(l.file_bytes, l.ring_off + 64 * NVMSG_MAX_CAPACITY);
	/* out of range */
	ASSERT_ERR(nv_layout_compute(&l, 2048, 1, 1), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 0, 1, 1), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 5000, 1, 1), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 4096 + 4096 * 2, 1, 1), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, NVMSG_MAX_CAPACITY * 2, 1, 1),
		   -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 1ull << 63, 1, 1), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 4096, 0, 1), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 4096, 65, 1), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 4096, 1, 0), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 4096, 1, 65), -EINVAL);
	ASSERT_ERR(nv_layout_compute(&l, 4096, 0xffffffffu, 1), -EINVAL);
}

static void
test_data_hdr(void)
{
	struct nv_layout l, got;
	struct nv_data_hdr h, g, other;

	ASSERT_OK(nv_layout_compute(&l, 8192, 4, 3));
	nv_data_hdr_init(&h, &l, NVMSG_TIER_EMULATED);
	ASSERT_TRUE(memcmp(h.magic, "NVMSGCH", 8) == 0);
	ASSERT_EQ(h.version, NV_FORMAT_VERSION);
	ASSERT_EQ(h.header_bytes, 4096);
	ASSERT_EQ(h.tier, NVMSG_TIER_EMULATED);
	ASSERT_TRUE(h.created_ns > 0);
	ASSERT_OK(nv_data_hdr_check(&h, l.file_bytes, "F", &got));
	ASSERT_TRUE(memcmp(&got, &l, sizeof(l)) == 0);
	/* a bigger file is fine */
	ASSERT_OK(nv_data_hdr_check(&h, l.file_bytes + 4096, "F", &got));
	/* two channels get two uuids */
	nv_data_hdr_init(&other, &l, NVMSG_TIER_EMULATED);
	ASSERT_TRUE(memcmp(h.uuid, other.uuid, sizeof(h.uuid)) != 0);
	/* words after the checked bytes (doorbell, cons_gen) are live
	 * shared words, not covered */
	g = h;
	atomic_store(&g.doorbell, 77);
	atomic_store(&g.cons_gen, 5);
	ASSERT_OK(nv_data_hdr_check(&g, l.file_bytes, "F", &got));

	/* wrong magic */
	g = h;
	g.magic[0] = 'X';
	ASSERT_ERR(nv_data_hdr_check(&g, l.file_bytes, "F", &got),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "F: not an nvmsg channel");
	g = h;
	memcpy(g.magic, "NVMSGCU", 8); /* a cursor region is not a channel */
	reseal(&g);
	ASSERT_ERR(nv_data_hdr_check(&g, l.file_bytes, "F", &got),
		   NVMSG_E_CORRUPT);
	/* a future version: refused as a version, even if sealed */
	g = h;
	g.version = NV_FORMAT_VERSION + 1;
	reseal(&g);
	ASSERT_ERR(nv_data_hdr_check(&g, l.file_bytes, "F", &got),
		   NVMSG_E_VERSION);
	ASSERT_CONTAINS(nvmsg_errmsg(), "newer");
	g.version = 0xffffffffu;
	reseal(&g);
	ASSERT_ERR(nv_data_hdr_check(&g, l.file_bytes, "F", &got),
		   NVMSG_E_VERSION);
	g.version = 0;
	reseal(&g);
	ASSERT_ERR(nv_data_hdr_check(&g, l.file_bytes, "F", &got),
		   NVMSG_E_VERSION);
	/* checksum: any changed checked byte */
	for (size_t off = 8; off < NV_HDR_CHECKED + 8; off++) {
		g = h;
		((unsigned char *)&g)[off] ^= 0x10;
		int rc = nv_data_hdr_check(&g, l.file_bytes, "F", &got);
		/* a flipped version byte is a damaged header too: the
		 * checksum fails, so it is not taken for a newer format */
		if (rc != NVMSG_E_CORRUPT)
			T_FAILF("byte %zu flipped: %d (%s)", off, rc,
				nvmsg_errmsg());
	}
	g = h;
	g.created_ns ^= 1;
	ASSERT_ERR(nv_data_hdr_check(&g, l.file_bytes, "F", &got),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "checksum");
	/* sealed but out-of-range geometry */
	struct {
		size_t off;
		uint64_t val;
		unsigned size;
	} geo[] = {
		{ offsetof(struct nv_data_hdr, header_bytes), 8192, 4 },
		{ offsetof(struct nv_data_hdr, ring_bytes), 8192 + 32, 8 },
		{ offsetof(struct nv_data_hdr, ring_bytes), 1024, 8 },
		{ offsetof(struct nv_data_hdr, ring_bytes), 1ull << 40, 8 },
		{ offsetof(struct nv_data_hdr, max_producers), 0, 4 },
		{ offsetof(struct nv_data_hdr, max_producers), 65, 4 },
		{ offsetof(struct nv_data_hdr, max_consumers), 0, 4 },
		{ offsetof(struct nv_data_hdr, max_consumers), 1000, 4 },
		{ offsetof(struct nv_data_hdr, tier), 0, 4 },
		{ offsetof(struct nv_data_hdr, tier), 5, 4 },
	};
	for (size_t i = 0; i < sizeof(geo) / sizeof(geo[0]); i++) {
		g = h;
		memcpy((unsigned char *)&g + geo[i].off, &geo[i].val,
		       geo[i].size);
		reseal(&g);
		int rc = nv_data_hdr_check(&g, 1ull << 50, "F", &got);
		if (rc != NVMSG_E_CORRUPT)
			T_FAILF("geometry case %zu: %d, want corrupt", i, rc);
		ASSERT_CONTAINS(nvmsg_errmsg(), "geometry");
	}
	/* sealed geometry that is in range but whose layout signature (the
	 * offsets and size) does not follow from it */
	size_t sig[] = { offsetof(struct nv_data_hdr, file_bytes),
			 offsetof(struct nv_data_hdr, cons_table_off),
			 offsetof(struct nv_data_hdr, prod_table_off),
			 offsetof(struct nv_data_hdr, ring_off) };
	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		uint64_t v;
		g = h;
		memcpy(&v, (unsigned char *)&g + sig[i], 8);
		v += 4096;
		memcpy((unsigned char *)&g + sig[i], &v, 8);
		reseal(&g);
		ASSERT_ERR(nv_data_hdr_check(&g, 1ull << 50, "F", &got),
			   NVMSG_E_CORRUPT);
		ASSERT_CONTAINS(nvmsg_errmsg(), "layout signature");
	}
	/* a consistent header on a file too short for its geometry */
	g = h;
	g.ring_bytes = 1u << 20;
	ASSERT_OK(nv_layout_compute(&l, 1u << 20, 4, 3));
	g.file_bytes = l.file_bytes;
	g.ring_off = l.ring_off;
	reseal(&g);
	ASSERT_OK(nv_data_hdr_check(&g, l.file_bytes, "F", &got));
	ASSERT_ERR(nv_data_hdr_check(&g, l.file_bytes - 1, "F", &got),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "file has");
	ASSERT_ERR(nv_data_hdr_check(&g, 4096, "F", &got), NVMSG_E_CORRUPT);
}

static void
test_cur_hdr(void)
{
	struct nv_layout l;
	struct nv_data_hdr h, other;
	struct nv_cur_hdr c, g;
	uint64_t n;

	ASSERT_EQ(nv_cur_bytes(1), 4096);
	ASSERT_EQ(nv_cur_bytes(60), 4096);
	ASSERT_EQ(nv_cur_bytes(61), 8192);
	ASSERT_EQ(nv_cur_bytes(64), 8192);
	ASSERT_OK(nv_layout_compute(&l, 8192, 4, 8));
	nv_data_hdr_init(&h, &l, NVMSG_TIER_VOLATILE);
	nv_data_hdr_init(&other, &l, NVMSG_TIER_VOLATILE);
	n = nv_cur_bytes(4);
	nv_cur_hdr_init(&c, &h, 3, "cons");
	ASSERT_TRUE(memcmp(c.magic, "NVMSGCU", 8) == 0);
	ASSERT_EQ(c.cons_index, 3);
	ASSERT_EQ(c.max_producers, 4);
	ASSERT_OK(nv_cur_hdr_check(&c, n, &h, 3, "cons", "C"));

	g = c;
	g.magic[2] = 'm';
	ASSERT_ERR(nv_cur_hdr_check(&g, n, &h, 3, "cons", "C"),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "C: not an nvmsg cursor region");
	g = c;
	g.version = NV_FORMAT_VERSION + 1;
	reseal(&g);
	ASSERT_ERR(nv_cur_hdr_check(&g, n, &h, 3, "cons", "C"),
		   NVMSG_E_VERSION);
	g = c;
	g.version = NV_FORMAT_VERSION - 1; /* version 1 */
	reseal(&g);
	ASSERT_ERR(nv_cur_hdr_check(&g, n, &h, 3, "cons", "C"),
		   NVMSG_E_VERSION);
	g = c;
	g.created_ns++;
	ASSERT_ERR(nv_cur_hdr_check(&g, n, &h, 3, "cons", "C"),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "checksum");
	/* a valid cursor of another channel */
	ASSERT_ERR(nv_cur_hdr_check(&c, n, &other, 3, "cons", "C"),
		   NVMSG_E_MISMATCH);
	ASSERT_CONTAINS(nvmsg_errmsg(), "another channel");
	/* of another consumer slot, name or geometry */
	ASSERT_ERR(nv_cur_hdr_check(&c, n, &h, 2, "cons", "C"),
		   NVMSG_E_MISMATCH);
	ASSERT_ERR(nv_cur_hdr_check(&c, n, &h, 3, "con", "C"),
		   NVMSG_E_MISMATCH);
	ASSERT_ERR(nv_cur_hdr_check(&c, n, &h, 3, "consx", "C"),
		   NVMSG_E_MISMATCH);
	ASSERT_CONTAINS(nvmsg_errmsg(), "'cons'");
	g = c;
	g.max_producers = 5;
	reseal(&g);
	ASSERT_ERR(nv_cur_hdr_check(&g, n, &h, 3, "cons", "C"),
		   NVMSG_E_MISMATCH);
	/* a name field without a NUL is printed bounded */
	g = c;
	memset(g.name, 'z', sizeof(g.name));
	reseal(&g);
	ASSERT_ERR(nv_cur_hdr_check(&g, n, &h, 3, "cons", "C"),
		   NVMSG_E_MISMATCH);
	/* truncated */
	ASSERT_ERR(nv_cur_hdr_check(&c, n - 1, &h, 3, "cons", "C"),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "truncated");
}

static void
pwrite_at(const char *path, off_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void
pread_at(const char *path, off_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* expect -- every way to open channel NAME fails with CODE */
static void
expect(const char *dir, const char *name, int code, const char *what)
{
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_producer *p = NULL;
	struct nvmsg_stat st;

	ASSERT_ERR(nvmsg_consumer_open(dir, name, "x", 0, &c), code);
	ASSERT_TRUE(c == NULL);
	ASSERT_CONTAINS(nvmsg_errmsg(), what);
	ASSERT_ERR(nvmsg_consumer_open(dir, name, "new", NVMSG_CONSUMER_CREATE,
				       &c),
		   code);
	ASSERT_ERR(nvmsg_producer_open(dir, name, NVMSG_ANY_PRODUCER, &p),
		   code);
	ASSERT_TRUE(p == NULL);
	ASSERT_CONTAINS(nvmsg_errmsg(), what);
	ASSERT_ERR(nvmsg_channel_stat(dir, name, &st), code);
}

static void
test_on_disk(const char *dir)
{
	struct nvmsg_consumer *c = NULL;
	struct nv_data_hdr h, g;
	char path[512];

	snprintf(path, sizeof(path), "%s", t_path(dir, "d.nvmsg"));
	t_create(dir, "d", NVMSG_TIER_VOLATILE, 4096, 2, 2);
	ASSERT_OK(
		nvmsg_consumer_open(dir, "d", "x", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	pread_at(path, 0, &h, sizeof(h));

	g = h;
	memcpy(g.magic, "GARBAGE", 8);
	pwrite_at(path, 0, &g, NV_HDR_CHECKED + 8);
	expect(dir, "d", NVMSG_E_CORRUPT, "bad magic");
	g = h;
	g.version = NV_FORMAT_VERSION + 1;
	reseal(&g);
	pwrite_at(path, 0, &g, NV_HDR_CHECKED + 8);
	expect(dir, "d", NVMSG_E_VERSION, "newer");
	g = h;
	g.flags ^= 1;
	pwrite_at(path, 0, &g, NV_HDR_CHECKED + 8);
	expect(dir, "d", NVMSG_E_CORRUPT, "checksum");
	g = h;
	g.ring_bytes = 1u << 16;
	reseal(&g);
	pwrite_at(path, 0, &g, NV_HDR_CHECKED + 8);
	expect(dir, "d", NVMSG_E_CORRUPT, "d.nvmsg");
	/* restored: it opens again */
	pwrite_at(path, 0, &h, NV_HDR_CHECKED + 8);
	ASSERT_OK(nvmsg_consumer_open(dir, "d", "x", 0, &c));
	nvmsg_consumer_close(&c);

	/* a cursor region copied from another channel */
	t_create(dir, "e", NVMSG_TIER_VOLATILE, 4096, 2, 2);
	ASSERT_OK(
		nvmsg_consumer_open(dir, "e", "x", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	unsigned char cur[4096];
	pread_at(t_path(dir, "e.x.nvcur"), 0, cur, sizeof(cur));
	pwrite_at(t_path(dir, "d.x.nvcur"), 0, cur, sizeof(cur));
	ASSERT_ERR(nvmsg_consumer_open(dir, "d", "x", 0, &c), NVMSG_E_MISMATCH);
	ASSERT_CONTAINS(nvmsg_errmsg(), "d.x.nvcur");
	ASSERT_CONTAINS(nvmsg_errmsg(), "another channel");
	struct nvmsg_producer *p = NULL;
	ASSERT_ERR(nvmsg_producer_open(dir, "d", 0, &p), NVMSG_E_MISMATCH);
	ASSERT_TRUE(p == NULL);
	/* the refused producer released its slot: another open gets it
	 * once the cursor is sane again */
	ASSERT_OK(nvmsg_channel_unlink(dir, "e"));
	struct nv_cur_hdr ch;
	pread_at(t_path(dir, "d.x.nvcur"), 0, &ch, sizeof(ch));
	memcpy(ch.uuid, h.uuid, sizeof(ch.uuid));
	reseal(&ch);
	pwrite_at(t_path(dir, "d.x.nvcur"), 0, &ch, sizeof(ch));
	ASSERT_OK(nvmsg_consumer_open(dir, "d", "x", 0, &c));
	ASSERT_OK(nvmsg_producer_open(dir, "d", 0, &p));
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
}

int
main(void)
{
	const char *dir = t_tmpdir();

	test_layout();
	test_data_hdr();
	test_cur_hdr();
	test_on_disk(dir);
	printf("t_header: ok\n");
	return T_PASS;
}
