/* SPDX-License-Identifier: MIT */
/*
 * t_region.c -- region/: names, paths, create and open of region files.
 * Proves part of I5 (a hostile or wrong file yields a clear error, never a
 * crash or a hang): names are validated (dots only in channel names, so a
 * cursor file names one channel/consumer pair), creation is exclusive and
 * leaves nothing on failure, and opening a missing file, a directory, a
 * FIFO (must not block in open) or a truncated file is refused by name.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "base/err.h"
#include "region/region.h"
#include "t.h"

static void
test_names(void)
{
	char n47[48], n48[49];

	memset(n47, 'a', 47);
	n47[47] = '\0';
	memset(n48, 'b', 48);
	n48[48] = '\0';
	static const char *const good[] = { "a",     "A",    "0", "ch",
					    "a-b_c", "Z9-_", "x-" };
	static const char *const bad[] = { "",	   ".",	   "..",  ".hidden",
					   "a/b",  "/",	   "a b", "a\tb",
					   "a\nb", "ä",	   "a*",  "a?",
					   "a:b",  "a\\b", "a%s", "-\x01" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT_TRUE(nv_name_valid(good[i], 0));
		ASSERT_TRUE(nv_name_valid(good[i], 1));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (nv_name_valid(bad[i], 0) || nv_name_valid(bad[i], 1))
			T_FAILF("name \"%s\" accepted", bad[i]);
	}
	ASSERT_TRUE(nv_name_valid(n47, 0));
	ASSERT_TRUE(nv_name_valid(n47, 1));
	ASSERT_TRUE(!nv_name_valid(n48, 0));
	ASSERT_TRUE(!nv_name_valid(n48, 1));
	ASSERT_TRUE(!nv_name_valid(NULL, 0));
	ASSERT_TRUE(!nv_name_valid(NULL, 1));
	/* dots: allowed (not first) in channel names only */
	ASSERT_TRUE(nv_name_valid("a.b", 1));
	ASSERT_TRUE(nv_name_valid("a..b.", 1));
	ASSERT_TRUE(!nv_name_valid("a.b", 0));
	ASSERT_TRUE(!nv_name_valid("a.", 0));
	ASSERT_TRUE(!nv_name_valid(".a", 1));
}

static void
test_paths(void)
{
	char out[NV_PATH_MAX], tiny[16];

	ASSERT_OK(nv_region_data_path(out, sizeof(out), "/d", "ch.1"));
	ASSERT_TRUE(strcmp(out, "/d/ch.1.nvmsg") == 0);
	ASSERT_OK(nv_region_cursor_path(out, sizeof(out), "/d", "ch.1",
					"cons_A"));
	ASSERT_TRUE(strcmp(out, "/d/ch.1.cons_A.nvcur") == 0);
	ASSERT_ERR(nv_region_data_path(out, sizeof(out), "/d", "a/b"),
		   NVMSG_E_BAD_NAME);
	ASSERT_CONTAINS(nvmsg_errmsg(), "a/b");
	ASSERT_ERR(nv_region_data_path(out, sizeof(out), "/d", NULL),
		   NVMSG_E_BAD_NAME);
	ASSERT_CONTAINS(nvmsg_errmsg(), "(null)");
	ASSERT_TRUE(nv_region_data_path(out, sizeof(out), NULL, "ch") < 0);
	/* a consumer name may not hold a dot; a channel name may */
	ASSERT_ERR(nv_region_cursor_path(out, sizeof(out), "/d", "ch", "c.x"),
		   NVMSG_E_BAD_NAME);
	ASSERT_CONTAINS(nvmsg_errmsg(), "c.x");
	ASSERT_ERR(nv_region_cursor_path(out, sizeof(out), "/d", ".ch", "c"),
		   NVMSG_E_BAD_NAME);
	ASSERT_ERR(nv_region_cursor_path(out, sizeof(out), "/d", "ch", NULL),
		   NVMSG_E_BAD_NAME);
	/* too long for the buffer: an error, never a cut path */
	ASSERT_ERR(nv_region_data_path(tiny, sizeof(tiny), "/dir", "channel"),
		   -ENAMETOOLONG);
	ASSERT_ERR(nv_region_cursor_path(tiny, sizeof(tiny), "/d", "ch",
					 "consumer"),
		   -ENAMETOOLONG);
}

static void
test_create(const char *dir)
{
	struct nv_region r, r2;
	char path[512];
	struct stat st;
	mode_t old = umask(077);

	snprintf(path, sizeof(path), "%s", t_path(dir, "r1"));

	/* the umask does not narrow the creator's mode */
	ASSERT_OK(nv_region_create(&r, path, 8192, 0644, NVMSG_TIER_VOLATILE));
	umask(old);
	ASSERT_TRUE(r.fd >= 0);
	ASSERT_TRUE(r.map.base != NULL);
	ASSERT_EQ(r.size, 8192);
	ASSERT_EQ(r.writable, 1);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0644);
	ASSERT_EQ(st.st_size, 8192);
	memset(r.map.base, 0x5a, 8192);
	/* exclusive */
	ASSERT_ERR(nv_region_create(&r2, path, 8192, 0644, NVMSG_TIER_VOLATILE),
		   -EEXIST);
	ASSERT_CONTAINS(nvmsg_errmsg(), path);
	ASSERT_EQ(r2.fd, -1);
	nv_region_close(&r);
	ASSERT_EQ(r.fd, -1);
	/* the first file is untouched by the refused second create */
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_size, 8192);
	/* missing directory */
	ASSERT_ERR(nv_region_create(&r2, t_path(dir, "no/such"), 8192, 0644,
				    NVMSG_TIER_VOLATILE),
		   -ENOENT);
	/* a tier refusal removes the file it created */
	ASSERT_ERR(nv_region_create(&r2, t_path(dir, "r2"), 8192, 0644,
				    NVMSG_TIER_PMEM),
		   NVMSG_E_NOT_PMEM);
	ASSERT_TRUE(access(t_path(dir, "r2"), F_OK) != 0);
	ASSERT_ERR(nv_region_create(&r2, t_path(dir, "r3"), 8192, 0644, 9),
		   NVMSG_E_TIER);
	ASSERT_TRUE(access(t_path(dir, "r3"), F_OK) != 0);
	/* a directory where the file would go */
	ASSERT_EQ(mkdir(t_path(dir, "adir"), 0755), 0);
	ASSERT_ERR(nv_region_create(&r2, t_path(dir, "adir"), 8192, 0644,
				    NVMSG_TIER_VOLATILE),
		   -EEXIST);
}

static void
test_open(const char *dir)
{
	struct nv_region r;
	char path[512]; /* 8192 bytes of 0x5a */
	unsigned char hdr[64];

	snprintf(path, sizeof(path), "%s", t_path(dir, "r1"));

	/* a good file, both modes */
	ASSERT_OK(nv_region_open(&r, path, 0, 4096));
	ASSERT_EQ(r.size, 8192);
	ASSERT_EQ(r.writable, 0);
	ASSERT_TRUE(r.map.base == NULL); /* nothing mapped yet */
	ASSERT_OK(nv_region_read(&r, hdr, sizeof(hdr)));
	ASSERT_EQ(hdr[0], 0x5a);
	/* a map longer than the file is refused before mmap */
	ASSERT_ERR(nv_region_map(&r, 8193, NVMSG_TIER_VOLATILE),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), path);
	ASSERT_OK(nv_region_map(&r, 8192, NVMSG_TIER_VOLATILE));
	ASSERT_EQ(((unsigned char *)r.map.base)[8191], 0x5a);
	nv_region_close(&r);
	ASSERT_OK(nv_region_open(&r, path, 1, 8192));
	ASSERT_EQ(r.writable, 1);
	nv_region_close(&r);

	/* missing */
	ASSERT_ERR(nv_region_open(&r, t_path(dir, "missing"), 0, 64), -ENOENT);
	ASSERT_CONTAINS(nvmsg_errmsg(), t_path(dir, "missing"));
	ASSERT_EQ(r.fd, -1);

	/* truncated: shorter than what the caller needs */
	ASSERT_ERR(nv_region_open(&r, path, 0, 8193), NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "truncated");
	ASSERT_CONTAINS(nvmsg_errmsg(), path);
	ASSERT_EQ(r.fd, -1);
	int fd = open(t_path(dir, "empty"), O_CREAT | O_WRONLY, 0644);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_ERR(nv_region_open(&r, t_path(dir, "empty"), 1, 1),
		   NVMSG_E_CORRUPT);
	/* a short read of the header is corrupt, not a crash */
	ASSERT_OK(nv_region_open(&r, t_path(dir, "empty"), 0, 0));
	ASSERT_ERR(nv_region_read(&r, hdr, sizeof(hdr)), NVMSG_E_CORRUPT);
	nv_region_close(&r);

	/* a directory, read-only and read-write */
	ASSERT_ERR(nv_region_open(&r, t_path(dir, "adir"), 0, 64),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), t_path(dir, "adir"));
	ASSERT_ERR(nv_region_open(&r, t_path(dir, "adir"), 1, 64),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "directory");

	/* a FIFO: open must not block waiting for a writer/reader */
	ASSERT_EQ(mkfifo(t_path(dir, "fifo"), 0644), 0);
	t_watchdog(20);
	ASSERT_ERR(nv_region_open(&r, t_path(dir, "fifo"), 0, 64),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "not a regular file");
	ASSERT_ERR(nv_region_open(&r, t_path(dir, "fifo"), 1, 64),
		   NVMSG_E_CORRUPT);
	alarm(0);

	/* a symlink to a good file is followed (the kernel's choice) */
	ASSERT_EQ(symlink(path, t_path(dir, "link")), 0);
	ASSERT_OK(nv_region_open(&r, t_path(dir, "link"), 0, 64));
	nv_region_close(&r);
	nv_region_close(&r); /* twice is harmless */
}

/* the same refusals through the public API, in a channel's place */
static void
test_public(const char *dir)
{
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_producer *p = NULL;
	struct nvmsg_stat st;

	t_watchdog(20);
	ASSERT_EQ(mkfifo(t_path(dir, "pf.nvmsg"), 0644), 0);
	ASSERT_ERR(nvmsg_consumer_open(dir, "pf", "c", 0, &c), NVMSG_E_CORRUPT);
	ASSERT_TRUE(c == NULL);
	ASSERT_ERR(nvmsg_producer_open(dir, "pf", NVMSG_ANY_PRODUCER, &p),
		   NVMSG_E_CORRUPT);
	ASSERT_TRUE(p == NULL);
	ASSERT_ERR(nvmsg_channel_stat(dir, "pf", &st), NVMSG_E_CORRUPT);
	ASSERT_EQ(mkdir(t_path(dir, "pd.nvmsg"), 0755), 0);
	ASSERT_ERR(nvmsg_consumer_open(dir, "pd", "c", 0, &c), NVMSG_E_CORRUPT);
	ASSERT_ERR(nvmsg_producer_open(dir, "pd", 0, &p), NVMSG_E_CORRUPT);
	/* a channel cannot be created over a FIFO or a directory */
	struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_VOLATILE,
					.capacity_bytes = 4096 };
	ASSERT_ERR(nvmsg_channel_create(dir, "pf", &o), -EEXIST);
	ASSERT_ERR(nvmsg_channel_create(dir, "pd", &o), -EEXIST);
	/* a truncated channel file */
	t_create(dir, "pt", NVMSG_TIER_VOLATILE, 4096, 1, 1);
	ASSERT_EQ(truncate(t_path(dir, "pt.nvmsg"), 5000), 0);
	ASSERT_ERR(nvmsg_consumer_open(dir, "pt", "c", NVMSG_CONSUMER_CREATE,
				       &c),
		   NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "pt.nvmsg");
	ASSERT_ERR(nvmsg_producer_open(dir, "pt", 0, &p), NVMSG_E_CORRUPT);
	ASSERT_EQ(truncate(t_path(dir, "pt.nvmsg"), 100), 0);
	ASSERT_ERR(nvmsg_producer_open(dir, "pt", 0, &p), NVMSG_E_CORRUPT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "truncated");
	/* a FIFO in a cursor region's place */
	t_create(dir, "pc", NVMSG_TIER_VOLATILE, 4096, 1, 2);
	ASSERT_OK(
		nvmsg_consumer_open(dir, "pc", "c", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	ASSERT_EQ(unlink(t_path(dir, "pc.c.nvcur")), 0);
	ASSERT_EQ(mkfifo(t_path(dir, "pc.c.nvcur"), 0644), 0);
	ASSERT_ERR(nvmsg_consumer_open(dir, "pc", "c", 0, &c), NVMSG_E_CORRUPT);
	ASSERT_ERR(nvmsg_producer_open(dir, "pc", 0, &p), NVMSG_E_CORRUPT);
	ASSERT_ERR(nvmsg_channel_stat(dir, "pc", &st), NVMSG_E_CORRUPT);
	/* a missing cursor region */
	ASSERT_EQ(unlink(t_path(dir, "pc.c.nvcur")), 0);
	ASSERT_ERR(nvmsg_consumer_open(dir, "pc", "c", 0, &c), -ENOENT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "pc.c.nvcur");
	alarm(0);
}

/* unlink removes a channel's cursor regions and no other channel's: with
 * dots allowed in channel names only, "a.b.c.nvcur" belongs to channel
 * "a.b" (consumer "c"), never to channel "a" */
static void
test_unlink(const char *dir)
{
	struct nvmsg_consumer *c = NULL;

	t_create(dir, "a", NVMSG_TIER_VOLATILE, 4096, 1, 2);
	t_create(dir, "a.b", NVMSG_TIER_VOLATILE, 4096, 1, 2);
	t_create(dir, "ab", NVMSG_TIER_VOLATILE, 4096, 1, 2);
	ASSERT_OK(
		nvmsg_consumer_open(dir, "a", "x", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_consumer_open(dir, "a.b", "c", NVMSG_CONSUMER_CREATE,
				      &c));
	nvmsg_consumer_close(&c);
	ASSERT_OK(
		nvmsg_consumer_open(dir, "ab", "c", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	ASSERT_EQ(access(t_path(dir, "a.x.nvcur"), F_OK), 0);
	ASSERT_OK(nvmsg_channel_unlink(dir, "a"));
	ASSERT_TRUE(access(t_path(dir, "a.nvmsg"), F_OK) != 0);
	ASSERT_TRUE(access(t_path(dir, "a.x.nvcur"), F_OK) != 0);
	ASSERT_EQ(access(t_path(dir, "a.b.nvmsg"), F_OK), 0);
	ASSERT_EQ(access(t_path(dir, "a.b.c.nvcur"), F_OK), 0);
	ASSERT_EQ(access(t_path(dir, "ab.c.nvcur"), F_OK), 0);
	ASSERT_OK(nvmsg_consumer_open(dir, "a.b", "c", 0, &c));
	nvmsg_consumer_close(&c);
	ASSERT_ERR(nvmsg_channel_unlink(dir, "a"), -ENOENT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "a.nvmsg");
	ASSERT_OK(nvmsg_channel_unlink(dir, "a.b"));
	ASSERT_TRUE(access(t_path(dir, "a.b.c.nvcur"), F_OK) != 0);
	ASSERT_EQ(access(t_path(dir, "ab.c.nvcur"), F_OK), 0);
	ASSERT_OK(nvmsg_channel_unlink(dir, "ab"));
	ASSERT_TRUE(access(t_path(dir, "ab.c.nvcur"), F_OK) != 0);
}

int
main(void)
{
	const char *dir = t_tmpdir();

	test_names();
	test_paths();
	test_create(dir);
	test_open(dir);
	test_public(dir);
	test_unlink(dir);
	printf("t_region: ok\n");
	return T_PASS;
}
