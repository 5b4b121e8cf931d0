/* SPDX-License-Identifier: MIT */
/*
 * region.h -- named files mapped on a tier: paths, names, create, open.
 *
 * A region is a regular file.  Writers open it O_RDWR and map it
 * read-write with the tier's request; readers open it O_RDONLY and map it
 * PROT_READ, so the kernel enforces the split.  A region file is untrusted:
 * its size is checked against what the caller expects before mapping, and
 * nothing here reads its bytes.
 */
#ifndef NV_REGION_H
#define NV_REGION_H

#include <stddef.h>
#include <sys/types.h>

#include "../tier/tier.h"

#define NV_PATH_MAX 4096

struct nv_region {
	struct nv_map map;
	int fd;
	int writable;
	unsigned long long size; /* file size at open, bytes */
	char path[NV_PATH_MAX];
};

/* nv_name_valid -- [A-Za-z0-9_-]{1,47}, and '.' (not first) if ALLOW_DOT:
 * channel names may hold dots, consumer names may not, so that the cursor
 * file NAME.CONSUMER.nvcur names one pair only */
int nv_name_valid(const char *name, int allow_dot);
/* nv_region_sync_dir -- fsync directory DIR, so that a file created or
 * renamed in it keeps its name after a power failure; 0 or -errno */
int nv_region_sync_dir(const char *dir);

/* nv_region_path -- DIR/NAME.nvmsg or DIR/NAME.CONSUMER.nvcur */
int nv_region_data_path(char *out, size_t cap, const char *dir,
			const char *name);
int nv_region_cursor_path(char *out, size_t cap, const char *dir,
			  const char *name, const char *consumer);

/*
 * nv_region_create -- create PATH exclusively with MODE, size it to LEN
 * (fallocate, so a full filesystem fails here and not at first touch) and
 * map it writable on TIER.  On failure the file is removed.  If PATH is
 * a device dax (or a symlink to one), it is used in place instead.
 */
int nv_region_create(struct nv_region *r, const char *path, size_t len,
		     mode_t mode, enum nvmsg_tier tier);

/* nv_region_is_devdax -- is PATH (or its symlink target) a device dax?
 * A region on a device dax is initialised in place: PATH is created by
 * the administrator as a symlink to /dev/daxX.Y. */
int nv_region_is_devdax(const char *path);

/*
 * nv_region_open -- open PATH (O_RDWR if WRITABLE else O_RDONLY) and check
 * it is a regular file of at least MIN_LEN bytes.  Maps nothing: the caller
 * reads and validates the header first (nv_region_read), then maps.
 */
int nv_region_open(struct nv_region *r, const char *path, int writable,
		   size_t min_len);

/* nv_region_read -- pread the first LEN bytes (the header) */
int nv_region_read(struct nv_region *r, void *buf, size_t len);

/* nv_region_map -- map the first LEN bytes on TIER (LEN <= file size) */
int nv_region_map(struct nv_region *r, size_t len, enum nvmsg_tier tier);

void nv_region_close(struct nv_region *r);

#endif
