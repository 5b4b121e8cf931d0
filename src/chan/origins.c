/* SPDX-License-Identifier: MIT */
/*
 * origins.c -- where a producer slot's messages come from: a forwarded
 * slot's origin line (log/origin.c), else the channel itself.
 */
#include <errno.h>
#include <string.h>

#include "../base/err.h"
#include "chan.h"

int
nv_chan_origin(const struct nv_chan *ch, unsigned i, struct nvmsg_origin *o)
{
	int r;

	memset(o, 0, sizeof(*o));
	r = nv_origin_read(&ch->prod[i], i, o->channel, &o->producer);
	if (r > 0) {
		o->flags = NVMSG_ORIGIN_FORWARDED;
		return 1;
	}
	memcpy(o->channel, ch->hdr->uuid, sizeof(o->channel));
	o->producer = i;
	return r;
}

int
nvmsg_channel_origins(const char *dir, const char *name,
		      struct nvmsg_origin out[NVMSG_MAX_PRODUCERS])
{
	struct nv_chan ch;
	int rc;

	nv_err_clear();
	if (!out)
		return nv_err(-EINVAL, "NULL out");
	if ((rc = nv_chan_open(&ch, dir, name, 0)) < 0)
		return rc;
	for (unsigned i = 0; i < ch.l.max_producers; i++)
		(void)nv_chan_origin(&ch, i, &out[i]);
	rc = (int)ch.l.max_producers;
	nv_chan_close(&ch);
	return rc;
}
