/* SPDX-License-Identifier: MIT */
/*
 * origin.c -- the origin line of a producer slot: where a forwarded
 * slot's messages come from (origin channel uuid, origin producer slot).
 *
 * The receiving daemon gives each origin producer a slot of its own and
 * appends with the origin's sequence numbers, so "the highest sequence
 * held from that origin" is the slot's committed number, which recovery
 * derives from the records and descriptors in the same barrier as their
 * bytes.  The line itself is written and persisted once, before the
 * slot's first record, and never changed: a torn line can only be found
 * on a slot that holds no record yet (docs/FORMAT.md, "Origins").
 */
#include <string.h>

#include "../base/checksum.h"
#include "log.h"

static uint64_t
origin_check(const struct nv_origin_line *l, unsigned id)
{
	return nv_checksum(l, offsetof(struct nv_origin_line, check),
			   (uint64_t)NV_ORIGIN_SEED + id);
}

void
nv_origin_write(struct nv_prod_slot *s, unsigned id, const uint8_t uuid[16],
		uint32_t producer)
{
	struct nv_origin_line l;

	memset(&l, 0, sizeof(l));
	memcpy(l.uuid, uuid, sizeof(l.uuid));
	l.producer = producer;
	l.flags = NV_ORIGIN_SET;
	l.check = origin_check(&l, id);
	memcpy(&s->origin, &l, sizeof(l));
}

int
nv_origin_read(const struct nv_prod_slot *s, unsigned id, uint8_t uuid[16],
	       uint32_t *producer)
{
	static const struct nv_origin_line zero;
	struct nv_origin_line l;

	memcpy(&l, &s->origin, sizeof(l));
	if (memcmp(&l, &zero, sizeof(l)) == 0)
		return 0;
	if (l.flags != NV_ORIGIN_SET || l.check != origin_check(&l, id))
		return -1;
	memcpy(uuid, l.uuid, sizeof(l.uuid));
	*producer = l.producer;
	return 1;
}
