/* SPDX-License-Identifier: MIT */
/*
 * header.c -- layout, data header and cursor header: encode and validate.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "../base/checksum.h"
#include "../base/clock.h"
#include "../base/err.h"
#include "../../include/nvmsg.h"
#include "log.h"

int
nv_layout_compute(struct nv_layout *l, uint64_t ring_bytes,
		  uint32_t max_producers, uint32_t max_consumers)
{
	if (ring_bytes < NVMSG_MIN_CAPACITY ||
	    ring_bytes > NVMSG_MAX_CAPACITY || (ring_bytes & (ring_bytes - 1)))
		return -EINVAL;
	if (max_producers < 1 || max_producers > NVMSG_MAX_PRODUCERS ||
	    max_consumers < 1 || max_consumers > NVMSG_MAX_CONSUMERS)
		return -EINVAL;
	l->ring_bytes = ring_bytes;
	l->max_producers = max_producers;
	l->max_consumers = max_consumers;
	l->cons_table_off = NV_PAGE;
	l->prod_table_off = l->cons_table_off +
			    NV_ALIGN_UP((uint64_t)max_consumers *
						sizeof(struct nv_cons_entry),
					(uint64_t)NV_PAGE);
	l->ring_off = l->prod_table_off +
		      NV_ALIGN_UP((uint64_t)max_producers *
					  sizeof(struct nv_prod_slot),
				  (uint64_t)NV_PAGE);
	/* at most 64 * 2^34: no overflow */
	l->file_bytes = l->ring_off + (uint64_t)max_producers * ring_bytes;
	return 0;
}

void
nv_data_hdr_init(struct nv_data_hdr *h, const struct nv_layout *l,
		 uint32_t tier)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, NV_DATA_MAGIC, sizeof(NV_DATA_MAGIC));
	h->version = NV_FORMAT_VERSION;
	h->header_bytes = NV_PAGE;
	h->file_bytes = l->file_bytes;
	h->ring_bytes = l->ring_bytes;
	h->max_producers = l->max_producers;
	h->max_consumers = l->max_consumers;
	h->tier = tier;
	if (getrandom(h->uuid, sizeof(h->uuid), 0) != sizeof(h->uuid)) {
		uint64_t t = nv_wall_ns() ^ nv_now_ns();
		memcpy(h->uuid, &t, sizeof(t));
	}
	h->created_ns = nv_wall_ns();
	h->cons_table_off = l->cons_table_off;
	h->prod_table_off = l->prod_table_off;
	h->ring_off = l->ring_off;
	h->header_check = nv_checksum(h, NV_HDR_CHECKED, 0);
}

int
nv_data_hdr_check(const struct nv_data_hdr *h, uint64_t file_bytes,
		  const char *path, struct nv_layout *l)
{
	if (memcmp(h->magic, NV_DATA_MAGIC, sizeof(NV_DATA_MAGIC)) != 0)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: not an nvmsg channel (bad magic)", path);
	/* every version keeps magic, version and header_check where they
	 * are (docs/FORMAT.md): a damaged version field fails the checksum */
	if (h->version != NV_FORMAT_VERSION &&
	    nv_checksum(h, NV_HDR_CHECKED, 0) != h->header_check)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: header checksum mismatch (version field "
			      "reads %u)",
			      path, h->version);
	if (h->version != NV_FORMAT_VERSION)
		return nv_err(NVMSG_E_VERSION,
			      "%s: format version %u, this library reads "
			      "version %u%s",
			      path, h->version, NV_FORMAT_VERSION,
			      h->version > NV_FORMAT_VERSION
				      ? " (written by a newer nvmsg)"
				      : " (written by an older nvmsg: drain it "
					"with that version, then create the "
					"channel again)");
	if (nv_checksum(h, NV_HDR_CHECKED, 0) != h->header_check)
		return nv_err(NVMSG_E_CORRUPT, "%s: header checksum mismatch",
			      path);
	if (h->header_bytes != NV_PAGE || h->tier < NVMSG_TIER_VOLATILE ||
	    h->tier > NVMSG_TIER_EMULATED ||
	    nv_layout_compute(l, h->ring_bytes, h->max_producers,
			      h->max_consumers) != 0)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: header geometry out of range", path);
	if (l->file_bytes != h->file_bytes ||
	    l->cons_table_off != h->cons_table_off ||
	    l->prod_table_off != h->prod_table_off ||
	    l->ring_off != h->ring_off)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: header layout signature does not match "
			      "its geometry",
			      path);
	if (h->file_bytes > file_bytes)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: geometry needs %llu bytes, file has %llu",
			      path, (unsigned long long)h->file_bytes,
			      (unsigned long long)file_bytes);
	return 0;
}

uint64_t
nv_cur_bytes(uint32_t max_producers)
{
	return NV_ALIGN_UP(NV_ACK_OFF + (uint64_t)max_producers *
						sizeof(struct nv_ack_line),
			   (uint64_t)NV_PAGE);
}

void
nv_cur_hdr_init(struct nv_cur_hdr *c, const struct nv_data_hdr *h,
		uint32_t index, const char *name)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->magic, NV_CUR_MAGIC, sizeof(NV_CUR_MAGIC));
	c->version = NV_FORMAT_VERSION;
	c->cons_index = index;
	memcpy(c->uuid, h->uuid, sizeof(c->uuid));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->max_producers = h->max_producers;
	c->created_ns = nv_wall_ns();
	c->header_check = nv_checksum(c, NV_HDR_CHECKED, 0);
}

int
nv_cur_hdr_check(const struct nv_cur_hdr *c, uint64_t file_bytes,
		 const struct nv_data_hdr *h, uint32_t index, const char *name,
		 const char *path)
{
	if (memcmp(c->magic, NV_CUR_MAGIC, sizeof(NV_CUR_MAGIC)) != 0)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: not an nvmsg cursor region (bad magic)",
			      path);
	if (c->version != NV_FORMAT_VERSION)
		return nv_err(NVMSG_E_VERSION,
			      "%s: cursor format version %u, expected %u", path,
			      c->version, NV_FORMAT_VERSION);
	if (nv_checksum(c, NV_HDR_CHECKED, 0) != c->header_check)
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: cursor header checksum mismatch", path);
	if (memcmp(c->uuid, h->uuid, sizeof(c->uuid)) != 0)
		return nv_err(NVMSG_E_MISMATCH,
			      "%s: cursor region belongs to another channel "
			      "(uuid differs)",
			      path);
	if (c->cons_index != index || c->max_producers != h->max_producers ||
	    strncmp(c->name, name, sizeof(c->name)) != 0)
		return nv_err(NVMSG_E_MISMATCH,
			      "%s: cursor region is for consumer '%.47s' slot "
			      "%u, expected '%s' slot %u",
			      path, c->name, c->cons_index, name, index);
	if (file_bytes < nv_cur_bytes(h->max_producers))
		return nv_err(NVMSG_E_CORRUPT,
			      "%s: cursor region truncated (%llu bytes)", path,
			      (unsigned long long)file_bytes);
	return 0;
}
