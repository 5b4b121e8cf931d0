/* SPDX-License-Identifier: MIT */
/*
 * channel.c -- channel lifecycle: create, open, close, unlink; tier names.
 *
 * Creation order (durable before visible): the file is created
 * exclusively under a temporary name, sized, mapped on the tier, its
 * tables are zeroed, the header is written and the whole first part
 * persisted (NV_PP_CREATE_INIT); only then is it renamed into place, so a
 * crash during creation never leaves a half-made channel under NAME.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/err.h"
#include "chan.h"

static const char *const tier_names[] = {
	[NVMSG_TIER_VOLATILE] = "volatile",
	[NVMSG_TIER_PMEM] = "pmem",
	[NVMSG_TIER_MSYNC] = "msync",
	[NVMSG_TIER_EMULATED] = "emulated",
};

const char *
nvmsg_tier_name(int tier)
{
	if (tier < NVMSG_TIER_VOLATILE || tier > NVMSG_TIER_EMULATED)
		return NULL;
	return tier_names[tier];
}

int
nvmsg_tier_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int t = NVMSG_TIER_VOLATILE; t <= NVMSG_TIER_EMULATED; t++)
		if (strcmp(name, tier_names[t]) == 0)
			return t;
	return nv_err(-EINVAL,
		      "unknown tier '%s': choose volatile, pmem, msync or "
		      "emulated",
		      name);
}

#define NV_STR2(x) #x
#define NV_STR(x) NV_STR2(x)

const char *
nvmsg_version(void)
{
	/* the one source of the version: include/nvmsg.h (CMake reads it) */
	return NV_STR(NVMSG_VERSION_MAJOR) "." NV_STR(
		NVMSG_VERSION_MINOR) "." NV_STR(NVMSG_VERSION_PATCH);
}

/* create_params -- the geometry and mode OPTS ask for (defaults for 0),
 * checked; PATH names the channel in errors */
static int
create_params(const char *path, const struct nvmsg_channel_opts *opts,
	      struct nv_layout *l, mode_t *mode)
{
	uint64_t cap = opts->capacity_bytes ? opts->capacity_bytes : 1u << 20;
	unsigned np = opts->max_producers ? opts->max_producers : 8;
	unsigned nc = opts->max_consumers ? opts->max_consumers : 16;

	if (!nvmsg_tier_name(opts->tier))
		return nv_err(NVMSG_E_TIER,
			      "%s: tier %d unknown: choose volatile, pmem, "
			      "msync or emulated",
			      path, opts->tier);
	if (nv_layout_compute(l, cap, np, nc) != 0)
		return nv_err(-EINVAL,
			      "%s: capacity %llu must be a power of two from "
			      "%u to %llu bytes, producers 1..%u (got %u), "
			      "consumers 1..%u (got %u)",
			      path, (unsigned long long)cap, NVMSG_MIN_CAPACITY,
			      NVMSG_MAX_CAPACITY, NVMSG_MAX_PRODUCERS, np,
			      NVMSG_MAX_CONSUMERS, nc);
	*mode = opts->mode ? opts->mode : 0644;
	if (*mode & ~07777u)
		return nv_err(-EINVAL, "%s: mode %o is not a file mode", path,
			      (unsigned)*mode);
	return 0;
}

/* devdax_held -- -EEXIST if the device dax PATH already holds a channel
 * (a device is not created, so nothing else stops us wiping one) */
static int
devdax_held(const char *path)
{
	struct nv_region probe;
	char magic[8];

	if (nv_region_open(&probe, path, 0, sizeof(magic)) != 0)
		return 0;
	int held = nv_region_read(&probe, magic, sizeof(magic)) == 0 &&
		   memcmp(magic, NV_DATA_MAGIC, sizeof(NV_DATA_MAGIC)) == 0;
	nv_region_close(&probe);
	if (held)
		return nv_err(
			-EEXIST,
			"%s: the device dax already holds a channel; zero "
			"its first page to reuse it",
			path);
	return 0;
}

/* init_region -- zero the tables (and, on a device, old rings), then the
 * header last, each behind a barrier (NV_PP_CREATE_INIT) */
static int
init_region(struct nv_region *r, const struct nv_layout *l,
	    enum nvmsg_tier tier, int dax)
{
	unsigned char *base = r->map.base;
	struct nv_data_hdr h;
	int rc;

	memset(base, 0, l->ring_off);
	if (dax) /* rings may hold an old channel's records: clear them */
		memset(base + l->ring_off, 0, l->file_bytes - l->ring_off);
	nv_tier_flush(&r->map, base, dax ? l->file_bytes : l->ring_off);
	rc = nv_tier_drain(&r->map, NV_PP_CREATE_INIT);
	nv_data_hdr_init(&h, l, (uint32_t)tier);
	memcpy(base, &h, sizeof(h));
	nv_tier_flush(&r->map, base, sizeof(h));
	if (rc == 0)
		rc = nv_tier_drain(&r->map, NV_PP_CREATE_INIT);
	if (rc == 0 && tier != NVMSG_TIER_VOLATILE &&
	    tier != NVMSG_TIER_EMULATED && !dax)
		rc = fsync(r->fd) ? -errno : 0;
	return rc;
}

/* publish_file -- give the file TMP its mode and its name PATH (never
 * replacing a channel), durably where the tier is durable */
static int
publish_file(struct nv_region *r, const char *dir, const char *tmp,
	     const char *path, mode_t mode, enum nvmsg_tier tier)
{
	int rc = fchmod(r->fd, mode) != 0 ? -errno : 0;

	/* RENAME_NOREPLACE: two creators racing for one name cannot both
	 * succeed (a plain rename would replace the first channel) */
	if (rc == 0 &&
	    renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0)
		rc = -errno;
	if (rc == -EEXIST) {
		nv_err(rc, "%s: channel already exists", path);
		unlink(tmp);
	} else if (rc < 0) {
		nv_err(rc, "%s: cannot finish creation: %s", path,
		       strerror(-rc));
		unlink(tmp);
	} else if ((tier == NVMSG_TIER_MSYNC || tier == NVMSG_TIER_PMEM) &&
		   (rc = nv_region_sync_dir(dir)) < 0) {
		/* the rename itself must survive a power failure: a channel
		 * whose name may vanish is not reported created */
		nv_err_append(rc, "creation of %s undone", path);
		unlink(path);
		(void)nv_region_sync_dir(dir);
	}
	return rc;
}

int
nvmsg_channel_create(const char *dir, const char *name,
		     const struct nvmsg_channel_opts *opts)
{
	char path[NV_PATH_MAX], tmp[NV_PATH_MAX];
	struct nv_region r;
	struct nv_layout l;
	mode_t mode = 0;
	int rc, dax;

	nv_err_clear();
	if (!dir || !opts)
		return nv_err(-EINVAL, "nvmsg_channel_create: NULL %s",
			      dir ? "opts" : "dir");
	if ((rc = nv_region_data_path(path, sizeof(path), dir, name)) < 0 ||
	    (rc = create_params(path, opts, &l, &mode)) < 0)
		return rc;
	dax = nv_region_is_devdax(path);
	if (!dax && access(path, F_OK) == 0)
		return nv_err(-EEXIST, "%s: channel already exists", path);
	if (dax && (rc = devdax_held(path)) < 0)
		return rc;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.nvmsg.new.%d", dir, name,
			     (int)getpid()) >= sizeof(tmp))
		return nv_err(-ENAMETOOLONG, "%s: path too long", dir);
	/* owner write is needed to initialise; the final mode is set below.
	 * A device dax is initialised in place: header last. */
	rc = nv_region_create(&r, dax ? path : tmp, l.file_bytes, mode | 0200,
			      opts->tier);
	if (rc < 0) {
		if (rc == -ENOENT)
			nv_err(rc, "%s: directory does not exist", dir);
		return nv_err_append(rc, "creating channel %s", path);
	}
	rc = init_region(&r, &l, opts->tier, dax);
	if (!dax) {
		if (rc < 0) {
			nv_err_append(rc, "%s: cannot finish creation", path);
			unlink(tmp);
		} else
			rc = publish_file(&r, dir, tmp, path, mode, opts->tier);
	}
	nv_region_close(&r);
	return rc;
}

int
nv_chan_open(struct nv_chan *ch, const char *dir, const char *name,
	     int writable)
{
	char path[NV_PATH_MAX];
	int rc;

	memset(ch, 0, sizeof(*ch));
	if (!dir)
		return nv_err(-EINVAL, "NULL directory");
	rc = nv_region_data_path(path, sizeof(path), dir, name);
	if (rc < 0)
		return rc;
	snprintf(ch->dir, sizeof(ch->dir), "%s", dir);
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	rc = nv_region_open(&ch->data, path, writable,
			    sizeof(struct nv_data_hdr));
	if (rc < 0)
		return rc;
	struct nv_data_hdr h;
	rc = nv_region_read(&ch->data, &h, sizeof(h));
	if (rc < 0)
		goto fail;
	rc = nv_data_hdr_check(&h, ch->data.size, path, &ch->l);
	if (rc < 0)
		goto fail;
	ch->tier = (int)h.tier;
	rc = nv_region_map(&ch->data, ch->l.file_bytes, ch->tier);
	if (rc < 0)
		goto fail;
	unsigned char *base = ch->data.map.base;
	ch->hdr = (struct nv_data_hdr *)base;
	/* the mapped header must be the one we validated (not rewritten
	 * between pread and mmap by a hostile process) */
	if (memcmp(ch->hdr, &h, NV_HDR_CHECKED + 8) != 0) {
		rc = nv_err(NVMSG_E_CORRUPT, "%s: header changed while opening",
			    path);
		goto fail;
	}
	ch->cons = (struct nv_cons_entry *)(base + ch->l.cons_table_off);
	ch->prod = (struct nv_prod_slot *)(base + ch->l.prod_table_off);
	ch->rings = base + ch->l.ring_off;
	return 0;
fail:
	nv_region_close(&ch->data);
	return rc;
}

void
nv_chan_close(struct nv_chan *ch)
{
	nv_region_close(&ch->data);
}

int
nvmsg_channel_unlink(const char *dir, const char *name)
{
	char path[NV_PATH_MAX], prefix[NVMSG_NAME_MAX + 2];
	struct dirent *de;
	DIR *d;
	int rc;

	nv_err_clear();
	if (!dir)
		return nv_err(-EINVAL, "NULL directory");
	rc = nv_region_data_path(path, sizeof(path), dir, name);
	if (rc < 0)
		return rc;
	if (unlink(path) != 0)
		return nv_err(-errno, "%s: cannot remove: %s", path,
			      strerror(errno));
	/* cursor regions: NAME.<consumer>.nvcur */
	snprintf(prefix, sizeof(prefix), "%s.", name);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || n < 7 ||
		    strcmp(de->d_name + n - 6, ".nvcur") != 0)
			continue;
		/* the consumer part must be one valid name (no dots inside
		 * the prefix match of a longer channel name) */
		char cons[NV_PATH_MAX];
		size_t cl = n - strlen(prefix) - 6;
		if (cl == 0 || cl > NVMSG_NAME_MAX)
			continue;
		memcpy(cons, de->d_name + strlen(prefix), cl);
		cons[cl] = '\0';
		if (!nv_name_valid(cons, 0))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     de->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(d);
	return 0;
}
