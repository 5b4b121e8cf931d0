/* SPDX-License-Identifier: MIT */
/*
 * consumers.c -- the consumer table and cursor regions.
 *
 * Registration (needs write access to the data region, under flock):
 *   1. create DIR/NAME.C.nvcur with every ack = S0 = the ring's pub_tail,
 *      persisted (NV_PP_CURSOR_INIT);
 *   2. write the table entry's name, persisted (NV_PP_CONSUMER_NAME), so
 *      that no crash image has an active entry with a torn name; then
 *      store state = ACTIVE and increment cons_gen (both seq_cst),
 *      persisted (NV_PP_CONSUMER_SLOT);
 *   3. re-read every pub_tail (seq_cst) as S1 and store ack = S1,
 *      persisted (NV_PP_CONSUMER_START).
 * A producer computes its free space from the consumers it knows; one that
 * has not yet seen the new entry loaded cons_gen after a seq_cst fence that
 * follows its own pub_tail store, so by store-buffering order its published
 * tail t <= S1, and its stale limit (min acks or t, plus one ring) never
 * reaches bytes at or after S1.  The new consumer starts at S1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/err.h"
#include "chan.h"

int
nv_cons_name(const struct nv_chan *ch, unsigned i, char *out)
{
	const struct nv_cons_entry *e = &ch->cons[i];

	memcpy(out, e->name, sizeof(e->name));
	out[NVMSG_NAME_MAX] = '\0';
	return nv_name_valid(out, 0) ? 0 : NVMSG_E_CORRUPT;
}

int
nv_cons_find(const struct nv_chan *ch, const char *name)
{
	char n[NVMSG_NAME_MAX + 1];

	for (unsigned i = 0; i < ch->l.max_consumers; i++) {
		/* acquire: pairs with the registrar's store of ACTIVE after
		 * the name, so a matching name is complete */
		if (nv_load_acquire(&ch->cons[i].state) != NV_CONS_ACTIVE)
			continue;
		if (nv_cons_name(ch, i, n) == 0 && strcmp(n, name) == 0)
			return (int)i;
	}
	return -1;
}

int
nv_cursor_open(struct nv_cursor *cu, const struct nv_chan *ch, unsigned index,
	       const char *consumer, int writable)
{
	char path[NV_PATH_MAX];
	struct nv_cur_hdr h;
	int rc;

	memset(cu, 0, sizeof(*cu));
	cu->reg.fd = -1;
	rc = nv_region_cursor_path(path, sizeof(path), ch->dir, ch->name,
				   consumer);
	if (rc < 0)
		return rc;
	rc = nv_region_open(&cu->reg, path, writable, sizeof(h));
	if (rc < 0)
		return nv_err_append(rc, "the cursor region of consumer %s",
				     consumer);
	rc = nv_region_read(&cu->reg, &h, sizeof(h));
	if (rc < 0)
		goto fail;
	rc = nv_cur_hdr_check(&h, cu->reg.size, ch->hdr, index, consumer, path);
	if (rc < 0)
		goto fail;
	rc = nv_region_map(&cu->reg, nv_cur_bytes(ch->l.max_producers),
			   ch->tier);
	if (rc < 0)
		goto fail;
	cu->hdr = cu->reg.map.base;
	cu->acks = (struct nv_ack_line *)((unsigned char *)cu->reg.map.base +
					  NV_ACK_OFF);
	cu->mapped = 1;
	return 0;
fail:
	nv_region_close(&cu->reg);
	return rc;
}

void
nv_cursor_close(struct nv_cursor *cu)
{
	if (cu->mapped || cu->reg.fd >= 0)
		nv_region_close(&cu->reg);
	cu->mapped = 0;
}

static int
create_cursor(struct nv_chan *ch, unsigned index, const char *name)
{
	char path[NV_PATH_MAX];
	struct nv_region r;
	struct stat st;
	int rc;

	rc = nv_region_cursor_path(path, sizeof(path), ch->dir, ch->name, name);
	if (rc < 0)
		return rc;
	if (fstat(ch->data.fd, &st) != 0)
		return nv_err(-errno, "fstat: %s", strerror(errno));
	/* a leftover from a registration that crashed before step 2
	 * (a device dax symlink is reused in place) */
	if (!nv_region_is_devdax(path))
		unlink(path);
	mode_t mode = (st.st_mode & 0666) | 0200;
	uint64_t len = nv_cur_bytes(ch->l.max_producers);
	rc = nv_region_create(&r, path, len, mode, ch->tier);
	if (rc < 0)
		return nv_err_append(rc, "registering consumer %s", name);
	/* a device dax node keeps its owner; a file gets the channel's */
	if (!nv_region_is_devdax(path) &&
	    fchown(r.fd, st.st_uid, st.st_gid) != 0) {
		/* not root: the file stays ours, which is what we want */
	}
	unsigned char *base = r.map.base;
	struct nv_cur_hdr h;
	nv_cur_hdr_init(&h, ch->hdr, index, name);
	memcpy(base, &h, sizeof(h));
	struct nv_ack_line *acks = (void *)(base + NV_ACK_OFF);
	for (unsigned i = 0; i < ch->l.max_producers; i++) {
		uint64_t s0 = nv_load_acquire(&ch->prod[i].pub_tail);
		/* a dead producer's durable records past pub_tail were sent
		 * before this consumer existed (bound.c) */
		rc = nv_slot_bound(ch, &ch->data.map, i, s0, s0, &s0, NULL);
		if (rc < 0)
			break;
		nv_store_relaxed(&acks[i].ack, s0);
		nv_store_relaxed(&acks[i].ack_pub, s0);
	}
	if (rc == 0) {
		nv_tier_flush(&r.map, base, len);
		rc = nv_tier_drain(&r.map, NV_PP_CURSOR_INIT);
	}
	if (rc == 0 && ch->tier == NVMSG_TIER_MSYNC)
		rc = fsync(r.fd) ? -errno : 0;
	/* the cursor file's name survives a power failure before the
	 * table entry that points at it is written */
	if (rc == 0 && !nv_region_is_devdax(path) &&
	    (ch->tier == NVMSG_TIER_MSYNC || ch->tier == NVMSG_TIER_PMEM))
		rc = nv_region_sync_dir(ch->dir);
	nv_region_close(&r);
	if (rc < 0)
		unlink(path);
	return rc;
}

int
nv_cons_register(struct nv_chan *ch, const char *name)
{
	int rc, idx;

	if (!nv_name_valid(name, 0))
		return nv_err(NVMSG_E_BAD_NAME,
			      "invalid consumer name '%s': use 1 to 47 of "
			      "[A-Za-z0-9_-]",
			      name);
	if (flock(ch->data.fd, LOCK_EX) != 0)
		return nv_err(-errno, "%s: flock: %s", ch->data.path,
			      strerror(errno));
	idx = nv_cons_find(ch, name);
	if (idx >= 0) {
		rc = idx;
		goto out;
	}
	for (idx = 0; idx < (int)ch->l.max_consumers; idx++)
		if (nv_load_relaxed(&ch->cons[idx].state) == NV_CONS_FREE)
			break;
	if (idx == (int)ch->l.max_consumers) {
		rc = nv_err(NVMSG_E_FULL_TABLE,
			    "%s: all %u consumer slots are taken",
			    ch->data.path, ch->l.max_consumers);
		goto out;
	}
	rc = create_cursor(ch, (unsigned)idx, name);
	if (rc < 0)
		goto out;
	struct nv_cons_entry *e = &ch->cons[idx];
	memset(e->name, 0, sizeof(e->name));
	memcpy(e->name, name, strlen(name));
	nv_tier_flush(&ch->data.map, e, sizeof(*e));
	rc = nv_tier_drain(&ch->data.map, NV_PP_CONSUMER_NAME);
	if (rc < 0)
		goto out;
	/* seq_cst: the store-buffering pair with the producer's fence
	 * before it loads cons_gen (header comment) */
	nv_store_seq(&e->state, NV_CONS_ACTIVE);
	atomic_fetch_add_explicit(&ch->hdr->cons_gen, 1, memory_order_seq_cst);
	nv_tier_flush(&ch->data.map, e, sizeof(*e));
	nv_tier_flush(&ch->data.map, &ch->hdr->cons_gen, 8);
	rc = nv_tier_drain(&ch->data.map, NV_PP_CONSUMER_SLOT);
	if (rc < 0)
		goto out;
	struct nv_cursor cu;
	rc = nv_cursor_open(&cu, ch, (unsigned)idx, name, 1);
	if (rc < 0)
		goto out;
	for (unsigned i = 0; i < ch->l.max_producers && rc == 0; i++) {
		uint64_t s1 = nv_load_seq(&ch->prod[i].pub_tail);
		rc = nv_slot_bound(ch, &ch->data.map, i, s1, s1, &s1, NULL);
		nv_store_relaxed(&cu.acks[i].ack, s1);
		nv_tier_flush(&cu.reg.map, &cu.acks[i], 8);
	}
	if (rc == 0)
		rc = nv_tier_drain(&cu.reg.map, NV_PP_CONSUMER_START);
	/* ack_pub moves only forward and only after ack is durable */
	for (unsigned i = 0; i < ch->l.max_producers && rc == 0; i++)
		nv_store_release(&cu.acks[i].ack_pub,
				 nv_load_relaxed(&cu.acks[i].ack));
	nv_cursor_close(&cu);
	if (rc == 0)
		rc = idx;
out:
	flock(ch->data.fd, LOCK_UN);
	return rc;
}
