/* SPDX-License-Identifier: MIT */
/*
 * region.c -- create, open, map and close region files.
 */
#include "region.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../base/err.h"

int
nv_name_valid(const char *name, int allow_dot)
{
	size_t n;

	if (!name || !name[0] || name[0] == '.')
		return 0;
	for (n = 0; name[n]; n++) {
		char c = name[n];
		if (n >= NVMSG_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      (c == '.' && allow_dot)))
			return 0;
	}
	return 1;
}

int
nv_region_data_path(char *out, size_t cap, const char *dir, const char *name)
{
	if (!dir || !nv_name_valid(name, 1))
		return nv_err(NVMSG_E_BAD_NAME,
			      "invalid channel name '%s': use 1 to 47 of "
			      "[A-Za-z0-9_.-], not starting with '.'",
			      name ? name : "(null)");
	if ((size_t)snprintf(out, cap, "%s/%s.nvmsg", dir, name) >= cap)
		return nv_err(-ENAMETOOLONG, "%s/%s: path too long", dir, name);
	return 0;
}

int
nv_region_cursor_path(char *out, size_t cap, const char *dir, const char *name,
		      const char *consumer)
{
	int rc = nv_region_data_path(out, cap, dir, name);

	if (rc < 0)
		return rc;
	if (!nv_name_valid(consumer, 0))
		return nv_err(NVMSG_E_BAD_NAME,
			      "invalid consumer name '%s': use 1 to 47 of "
			      "[A-Za-z0-9_-]",
			      consumer ? consumer : "(null)");
	if ((size_t)snprintf(out, cap, "%s/%s.%s.nvcur", dir, name, consumer) >=
	    cap)
		return nv_err(-ENAMETOOLONG, "%s: path too long", dir);
	return 0;
}

/* devdax_size -- bytes of the device dax character device ST, from sysfs;
 * 0 if ST is not a device dax */
static uint64_t
devdax_size(const struct stat *st)
{
	char p[128];
	unsigned long long n = 0;
	FILE *f;

	if (!S_ISCHR(st->st_mode))
		return 0;
	snprintf(p, sizeof(p), "/sys/dev/char/%u:%u/size", major(st->st_rdev),
		 minor(st->st_rdev));
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

int
nv_region_is_devdax(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && devdax_size(&st) > 0;
}

/* create_on_devdax -- a region on a device dax (PATH is the device or a
 * symlink to it): nothing to create, the device is initialised in place */
static int
create_on_devdax(struct nv_region *r, const char *path, size_t len,
		 enum nvmsg_tier tier)
{
	struct stat st;
	int rc;

	if (tier != NVMSG_TIER_PMEM)
		return nv_err(NVMSG_E_TIER,
			      "%s: a device dax holds only the pmem tier",
			      path);
	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return nv_err(-errno, "%s: %s", path, strerror(errno));
	if (fstat(r->fd, &st) != 0 || devdax_size(&st) < len) {
		rc = nv_err(-ENOSPC, "%s: device dax of %llu bytes, %zu needed",
			    path, (unsigned long long)devdax_size(&st), len);
		goto fail;
	}
	r->size = len;
	r->writable = 1;
	rc = nv_tier_map(&r->map, r->fd, len, tier, 1, path);
	if (rc == 0)
		return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return rc;
}

/* write_zeros -- allocate LEN bytes where fallocate is not supported */
static int
write_zeros(int fd, size_t len)
{
	static const char zero[65536];

	for (size_t off = 0; off < len;) {
		size_t n = len - off < sizeof(zero) ? len - off : sizeof(zero);
		ssize_t w = pwrite(fd, zero, n, (off_t)off);
		if (w <= 0)
			return w < 0 ? errno : EIO;
		off += (size_t)w;
	}
	return 0;
}

int
nv_region_create(struct nv_region *r, const char *path, size_t len, mode_t mode,
		 enum nvmsg_tier tier)
{
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (nv_region_is_devdax(path))
		return create_on_devdax(r, path, len, tier);
	r->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (r->fd < 0) {
		rc = -errno;
		if (rc == -EEXIST)
			return nv_err(rc, "%s: already exists", path);
		if (rc == -EISDIR)
			return nv_err(rc, "%s: is a directory", path);
		return nv_err(rc, "%s: cannot create: %s", path,
			      strerror(errno));
	}
	/* the umask must not narrow what the creator chose */
	if (fchmod(r->fd, mode) != 0) {
		rc = nv_err(-errno, "%s: chmod: %s", path, strerror(errno));
		goto fail;
	}
	rc = posix_fallocate(r->fd, 0, (off_t)len);
	if (rc == EOPNOTSUPP || rc == EINVAL)
		rc = write_zeros(r->fd, len);
	if (rc) {
		rc = nv_err(-rc, "%s: cannot allocate %zu bytes: %s", path, len,
			    strerror(rc));
		goto fail;
	}
	r->size = len;
	r->writable = 1;
	rc = nv_tier_map(&r->map, r->fd, len, tier, 1, path);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	close(r->fd);
	unlink(path);
	r->fd = -1;
	return rc;
}

int
nv_region_open(struct nv_region *r, const char *path, int writable,
	       size_t min_len)
{
	struct stat st;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	/* O_NONBLOCK: a FIFO in the channel's place must not hang open() */
	r->fd = open(path,
		     (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
	if (r->fd < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return nv_err(rc, "%s: no such file", path);
		if (rc == -EACCES)
			return nv_err(rc,
				      "%s: permission denied (opening %s): "
				      "the file's owner and mode decide who "
				      "may produce (write) and consume (read)",
				      path,
				      writable ? "read-write" : "read-only");
		if (rc == -EISDIR)
			return nv_err(NVMSG_E_CORRUPT,
				      "%s: is a directory, not a channel",
				      path);
		return nv_err(rc, "%s: %s", path, strerror(errno));
	}
	if (fstat(r->fd, &st) != 0) {
		rc = nv_err(-errno, "%s: fstat: %s", path, strerror(errno));
		goto fail;
	}
	uint64_t dax = devdax_size(&st);
	if (dax)
		st.st_size = (off_t)dax;
	else if (S_ISDIR(st.st_mode)) {
		rc = nv_err(NVMSG_E_CORRUPT,
			    "%s: is a directory, not a channel", path);
		goto fail;
	} else if (!S_ISREG(st.st_mode)) {
		rc = nv_err(NVMSG_E_CORRUPT,
			    "%s: not a regular file (nor a device dax)", path);
		goto fail;
	}
	if ((uint64_t)st.st_size < min_len) {
		rc = nv_err(NVMSG_E_CORRUPT,
			    "%s: truncated: %lld bytes, at least %zu needed",
			    path, (long long)st.st_size, min_len);
		goto fail;
	}
	r->size = (uint64_t)st.st_size;
	r->writable = writable;
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return rc;
}

/* read_by_map -- a device dax has no read(2): map its start and copy.
 * Its mappings must be aligned to the namespace's alignment (4 KiB or
 * 2 MiB), so try a page, then 2 MiB. */
static int
read_by_map(struct nv_region *r, void *buf, size_t len)
{
	static const size_t tries[] = { 4096, 2u << 20 };

	for (size_t i = 0; i < 2; i++) {
		size_t m = tries[i];
		if (m < len || m > r->size)
			continue;
		void *p = mmap(NULL, m, PROT_READ, MAP_SHARED, r->fd, 0);
		if (p == MAP_FAILED)
			continue;
		memcpy(buf, p, len);
		munmap(p, m);
		return 0;
	}
	return nv_err(-EINVAL, "%s: cannot read the device dax header",
		      r->path);
}

int
nv_region_read(struct nv_region *r, void *buf, size_t len)
{
	ssize_t n = pread(r->fd, buf, len, 0);

	if (n < 0 && errno == EINVAL && nv_region_is_devdax(r->path))
		return read_by_map(r, buf, len);
	if (n < 0)
		return nv_err(-errno, "%s: read: %s", r->path, strerror(errno));
	if ((size_t)n != len)
		return nv_err(NVMSG_E_CORRUPT, "%s: truncated header", r->path);
	return 0;
}

int
nv_region_map(struct nv_region *r, size_t len, enum nvmsg_tier tier)
{
	struct stat st;

	if (len > r->size)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: file has %llu bytes, its header says %zu",
			      r->path, (unsigned long long)r->size, len);
	/* nvmsg allocates every byte at creation: holes mean a file made or
	 * extended by someone else, and a hole that cannot be filled on
	 * first touch would raise SIGBUS (docs/TESTING.md, hostile input) */
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_blocks * 512 < len)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: sparse file: %llu of %zu bytes allocated "
			      "(a channel is allocated in full when created)",
			      r->path, (unsigned long long)st.st_blocks * 512,
			      len);
	return nv_tier_map(&r->map, r->fd, len, tier, r->writable, r->path);
}

void
nv_region_close(struct nv_region *r)
{
	nv_tier_unmap(&r->map);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

int
nv_region_sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (dfd < 0)
		return nv_err(-errno,
			      "%s: cannot open the directory to sync "
			      "it: %s",
			      dir, strerror(errno));
	if (fsync(dfd) != 0)
		rc = nv_err(-errno,
			    "%s: fsync of the directory failed (%s): "
			    "a new file's name may not survive a "
			    "power failure",
			    dir, strerror(errno));
	close(dfd);
	return rc;
}
