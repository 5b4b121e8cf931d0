/* SPDX-License-Identifier: MIT */
/*
 * gsync.h -- group commit on the msync tier (gsync.c).
 */
#ifndef NV_GSYNC_H
#define NV_GSYNC_H

#include "chan.h"

/* nv_group_drain -- the persist barrier at PP for a producer (OWNER) of an
 * msync channel, shared with every producer waiting at the same time:
 * returns when our stores to the data region are durable, 0 or -errno */
int nv_group_drain(struct nv_chan *ch, uint64_t owner, enum nv_pp pp);

#endif
