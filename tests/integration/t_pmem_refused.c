/* SPDX-License-Identifier: MIT */
/*
 * t_pmem_refused.c -- the pmem tier is never faked.
 * Proves the tier contract behind I1 on the persistent tier: asking for
 * NVMSG_TIER_PMEM where the kernel cannot map DAX with MAP_SYNC (a tmpfs
 * directory) fails with NVMSG_E_NOT_PMEM and a sentence that names the
 * path, says MAP_SYNC/DAX and points to msync; nothing is left in the
 * directory, not even the temporary file creation uses; and a channel
 * whose header says pmem (written here by hand) is refused the same way by
 * every open that needs a writable mapping, never downgraded silently.
 */
#include <fcntl.h>

#include "base/checksum.h"
#include "log/format.h"
#include "t.h"

static void
check_message(const char *msg, const char *path)
{
	ASSERT_CONTAINS(msg, path);
	ASSERT_CONTAINS(msg, "MAP_SYNC");
	if (!strstr(msg, "DAX") && !strstr(msg, "dax"))
		T_FAILF("message does not mention DAX: %s", msg);
	ASSERT_CONTAINS(msg, "msync");
}

int
main(void)
{
	const char *dir = t_tmpdir();
	char path[512];
	struct nvmsg_channel_opts o = {
		.tier = NVMSG_TIER_PMEM,
		.capacity_bytes = 4096,
		.max_producers = 1,
		.max_consumers = 1,
	};

	snprintf(path, sizeof(path), "%s/ch.nvmsg", dir);
	ASSERT_ERR(nvmsg_channel_create(dir, "ch", &o), NVMSG_E_NOT_PMEM);
	check_message(nvmsg_errmsg(), path);
	printf("refusal: %s\n", nvmsg_errmsg());
	/* nothing at all is left: no channel, no temporary, no cursor */
	ASSERT_EQ(t_count_entries(dir), 0);
	/* the same with the default geometry and an explicit mode */
	o = (struct nvmsg_channel_opts){ .tier = NVMSG_TIER_PMEM,
					 .mode = 0600 };
	ASSERT_ERR(nvmsg_channel_create(dir, "ch.big", &o), NVMSG_E_NOT_PMEM);
	ASSERT_EQ(t_count_entries(dir), 0);
	/* and again: a refusal leaves no state that changes the answer */
	ASSERT_ERR(nvmsg_channel_create(dir, "ch", &o), NVMSG_E_NOT_PMEM);
	ASSERT_EQ(t_count_entries(dir), 0);

	/*
	 * A channel file that says pmem (made on the emulated tier, then its
	 * header's tier set to pmem and resealed): opening it for writing
	 * needs MAP_SYNC again, so it is refused, also for a consumer whose
	 * cursor region is writable.  Read-only inspection still works.
	 */
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_producer *p = NULL;
	t_create(dir, "forged", NVMSG_TIER_EMULATED, 4096, 1, 1);
	ASSERT_OK(nvmsg_consumer_open(dir, "forged", "c", NVMSG_CONSUMER_CREATE,
				      &c));
	nvmsg_consumer_close(&c);
	snprintf(path, sizeof(path), "%s/forged.nvmsg", dir);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	struct nv_data_hdr h;
	ASSERT_EQ(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	h.tier = NVMSG_TIER_PMEM;
	h.header_check = nv_checksum(&h, NV_HDR_CHECKED, 0);
	ASSERT_EQ(pwrite(fd, &h, NV_HDR_CHECKED + 8, 0), NV_HDR_CHECKED + 8);
	close(fd);
	int before = t_count_entries(dir);
	ASSERT_ERR(nvmsg_producer_open(dir, "forged", 0, &p), NVMSG_E_NOT_PMEM);
	ASSERT_TRUE(p == NULL);
	check_message(nvmsg_errmsg(), path);
	ASSERT_ERR(nvmsg_consumer_open(dir, "forged", "c", 0, &c),
		   NVMSG_E_NOT_PMEM);
	ASSERT_TRUE(c == NULL);
	ASSERT_CONTAINS(nvmsg_errmsg(), "forged.c.nvcur");
	ASSERT_ERR(nvmsg_consumer_open(dir, "forged", "d",
				       NVMSG_CONSUMER_CREATE, &c),
		   NVMSG_E_NOT_PMEM);
	ASSERT_TRUE(c == NULL);
	/* the refused registration left no cursor region behind */
	ASSERT_EQ(t_count_entries(dir), before);
	struct nvmsg_stat st;
	ASSERT_OK(nvmsg_channel_stat(dir, "forged", &st));
	ASSERT_EQ(st.tier, NVMSG_TIER_PMEM);
	ASSERT_CONTAINS(st.backing, "MAP_SYNC");
	ASSERT_OK(nvmsg_channel_unlink(dir, "forged"));
	ASSERT_EQ(t_count_entries(dir), 0);
	printf("t_pmem_refused: ok\n");
	return T_PASS;
}
