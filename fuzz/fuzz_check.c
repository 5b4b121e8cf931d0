/* SPDX-License-Identifier: MIT */
/*
 * fuzz_check.c -- nvmsg_channel_check (and nvmsg_channel_stat, which
 * reads the same tables) on a channel image (fuzz_common.h): the
 * read-only verifier must report, never crash, on any bytes.  Cheaper
 * per input than fuzz_region, so it goes deeper into the header and
 * table checks in the same time.
 *
 * Oracles: a named error or 0; a report within range whose first error
 * names the file; no file descriptor leak.
 */
#include <nvmsg.h>

#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_tmpdir();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	const char *dir = fz_tmpdir();
	struct nvmsg_check r;
	struct fz_chan ch;

	if (fz_chan_parse(&ch, in, n) < 0)
		return 0;
	fz_chan_fix(&ch);
	fz_chan_write(&ch, dir);
	int fd0 = fz_lowest_fd();
	fz_check_run(dir, &r);
	fz_stat_run(dir);
	FZ_CHECK(fz_lowest_fd() == fd0,
		 "file descriptor leak: lowest free fd "
		 "%d, was %d",
		 fz_lowest_fd(), fd0);
	fz_chan_free(&ch);
	return 0;
}
