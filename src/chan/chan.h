/* SPDX-License-Identifier: MIT */
/*
 * chan.h -- internal channel state shared by the chan/ modules.
 */
#ifndef NV_CHAN_H
#define NV_CHAN_H

#include <stdint.h>
#include <sys/types.h>

#include "../../include/nvmsg.h"
#include "../log/log.h"
#include "../region/region.h"

#define NV_ROLE_PRODUCER 0x50524f44u /* "PROD" */
#define NV_ROLE_CONSUMER 0x434f4e53u /* "CONS" */

/* struct nv_chan -- one open data region with its validated layout */
struct nv_chan {
	struct nv_region data;
	struct nv_layout l;
	enum nvmsg_tier tier;
	char dir[NV_PATH_MAX];
	char name[NVMSG_NAME_MAX + 1];
	struct nv_data_hdr *hdr;
	struct nv_cons_entry *cons;
	struct nv_prod_slot *prod;
	unsigned char *rings;
};

static inline unsigned char *
nv_chan_ring(const struct nv_chan *ch, unsigned i)
{
	return ch->rings + (uint64_t)i * ch->l.ring_bytes;
}

/* nv_chan_open -- open, validate and map DIR/NAME's data region */
int nv_chan_open(struct nv_chan *ch, const char *dir, const char *name,
		 int writable);
void nv_chan_close(struct nv_chan *ch);

/* struct nv_cursor -- one consumer's cursor region, as some process maps it */
struct nv_cursor {
	struct nv_region reg;
	struct nv_cur_hdr *hdr;
	struct nv_ack_line *acks;
	int mapped;
};

/* nv_cursor_open -- open and validate consumer INDEX's cursor region */
int nv_cursor_open(struct nv_cursor *cu, const struct nv_chan *ch,
		   unsigned index, const char *consumer, int writable);
void nv_cursor_close(struct nv_cursor *cu);

/* nv_cons_find -- index of active consumer NAME, or -1 */
int nv_cons_find(const struct nv_chan *ch, const char *name);
/* nv_cons_name -- copy consumer I's name (NUL-terminated, validated) */
int nv_cons_name(const struct nv_chan *ch, unsigned i, char *out);

/* nv_cons_register -- register NAME on a channel opened writable */
int nv_cons_register(struct nv_chan *ch, const char *name);

/* origins.c: nv_chan_origin -- slot I's origin into *O (this channel and
 * I for a local slot); 1 forwarded, 0 local, -1 torn line (then as local) */
int nv_chan_origin(const struct nv_chan *ch, unsigned i,
		   struct nvmsg_origin *o);

/* bound.c */
/*
 * nv_slot_bound -- *BOUND: the end of ring I's records a reader may read.
 * PUBT (the pub_tail it loaded) while the slot's owner lives; else the end
 * of the whole records after PUBT (what recovery keeps), within one ring of
 * FROM (the reader's lowest position), first made durable through M (the
 * reader's map of the data region; NULL: not persisted, for reports).
 * *LAST_SEQ (may be NULL) gets the highest sequence number past PUBT inside
 * the bound (0 if none).  Returns 0, or -errno when the reader's barrier
 * failed.
 */
int nv_slot_bound(const struct nv_chan *ch, struct nv_map *m, unsigned i,
		  uint64_t pubt, uint64_t from, uint64_t *bound,
		  uint64_t *last_seq);

/* by owner: wait.h (futex waits, spins, slices), owners.h (who owns a
 * slot, fork), gsync.h (group commit of the msync tier) */
#include "owners.h"
#include "wait.h"

#endif
