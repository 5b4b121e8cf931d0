/* SPDX-License-Identifier: MIT */
/*
 * rchan.c -- the receiving channels: created on the first link if
 * missing, on a durable tier, and shared by every link into them (fan-in).
 * Each holds one producer per origin (nvmsg_producer_open_origin), opened
 * when the channel is first used and kept for the daemon's life, so that
 * RESUME can say, per origin, the highest sequence number held durably.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmsgd.h"

struct nvd_rchan {
	struct nvd_rchan *next;
	struct nvd_daemon *d;
	char name[NVMSG_NAME_MAX + 1];
	int tier;
	uint32_t max_msg;
	unsigned n;
	struct {
		struct nvmsg_origin o;
		struct nvmsg_producer *p;
		int touched;
	} s[NVMSG_MAX_PRODUCERS];
};

const char *
nvd_rchan_name(const struct nvd_rchan *rc)
{
	return rc->name;
}

int
nvd_rchan_tier(const struct nvd_rchan *rc)
{
	return rc->tier;
}

uint32_t
nvd_rchan_max_msg(const struct nvd_rchan *rc)
{
	return rc->max_msg;
}

/* create -- the channel on the configured tier, or the best durable one:
 * pmem where the directory is on DAX, else msync */
static int
create(struct nvd_daemon *d, const char *name, char *err, size_t errlen)
{
	struct nvmsg_channel_opts o = {
		.capacity_bytes = d->conf.capacity,
		.max_producers = d->conf.max_producers,
		.mode = 0644,
	};
	int rc;

	o.tier = d->conf.tier ? d->conf.tier : NVMSG_TIER_PMEM;
	rc = nvmsg_channel_create(d->conf.dir, name, &o);
	if (rc == NVMSG_E_NOT_PMEM && !d->conf.tier) {
		o.tier = NVMSG_TIER_MSYNC;
		rc = nvmsg_channel_create(d->conf.dir, name, &o);
	}
	if (rc == -EEXIST)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "cannot create channel %s: %s", name,
			 nvmsg_errmsg());
		return rc;
	}
	NVD_INFO("created receiving channel %s on the %s tier", name,
		 nvmsg_tier_name(o.tier));
	return 0;
}

static int
add(struct nvd_rchan *rc, const struct nvmsg_origin *o, unsigned *slot)
{
	struct nvmsg_producer *p;
	int rc2;

	if (rc->n >= NVMSG_MAX_PRODUCERS)
		return NVMSG_E_FULL_TABLE;
	rc2 = nvmsg_producer_open_origin(rc->d->conf.dir, rc->name, o, &p);
	if (rc2 < 0)
		return rc2;
	rc->s[rc->n].o = *o;
	rc->s[rc->n].p = p;
	rc->s[rc->n].touched = 0;
	*slot = rc->n++;
	return 0;
}

int
nvd_rchan_get(struct nvd_daemon *d, const char *name, struct nvd_rchan **out,
	      uint32_t *code, char *err, size_t errlen)
{
	struct nvmsg_stat *st;
	struct nvmsg_origin *org;
	struct nvd_rchan *rc;
	int r;

	for (rc = d->rchans; rc; rc = rc->next)
		if (!strcmp(rc->name, name)) {
			*out = rc;
			return 0;
		}
	*code = NVW_ERR_CHANNEL;
	st = malloc(sizeof(*st));
	org = calloc(NVMSG_MAX_PRODUCERS, sizeof(*org));
	rc = calloc(1, sizeof(*rc));
	if (!st || !org || !rc) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	r = nvmsg_channel_stat(d->conf.dir, name, st);
	if (r == -ENOENT) {
		if ((r = create(d, name, err, errlen)) < 0)
			goto fail;
		r = nvmsg_channel_stat(d->conf.dir, name, st);
	}
	if (r < 0) {
		snprintf(err, errlen, "channel %s: %s", name, nvmsg_errmsg());
		goto fail;
	}
	if (st->tier != NVMSG_TIER_PMEM && st->tier != NVMSG_TIER_MSYNC &&
	    !d->conf.allow_volatile) {
		snprintf(err, errlen,
			 "receiving channel %s is on the %s tier, which is "
			 "NOT durable; refused (start nvmsgd with "
			 "--allow-volatile to accept it)",
			 name, nvmsg_tier_name(st->tier));
		*code = NVW_ERR_DURABLE;
		r = -EINVAL;
		goto fail;
	}
	rc->d = d;
	snprintf(rc->name, sizeof(rc->name), "%s", name);
	rc->tier = st->tier;
	rc->max_msg = (uint32_t)(st->capacity_bytes / 2 - 32);
	r = nvmsg_channel_origins(d->conf.dir, name, org);
	for (int i = 0; i < r; i++) {
		unsigned slot;
		if (!(org[i].flags & NVMSG_ORIGIN_FORWARDED))
			continue;
		int e = add(rc, &org[i], &slot);
		if (e < 0) {
			snprintf(err, errlen,
				 "channel %s: forwarded slot %d: %s", name, i,
				 nvmsg_errmsg());
			*code = NVW_ERR_INTERNAL;
			r = e;
			goto fail;
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "channel %s: %s", name, nvmsg_errmsg());
		goto fail;
	}
	rc->next = d->rchans;
	d->rchans = rc;
	free(st);
	free(org);
	*out = rc;
	return 0;
fail:
	if (rc)
		for (unsigned i = 0; i < rc->n; i++)
			nvmsg_producer_close(&rc->s[i].p);
	free(rc);
	free(st);
	free(org);
	return r < 0 ? r : -EINVAL;
}

int
nvd_rchan_producer(struct nvd_rchan *rc, const struct nvmsg_origin *o,
		   unsigned *slot)
{
	for (unsigned i = 0; i < rc->n; i++)
		if (rc->s[i].o.producer == o->producer &&
		    !memcmp(rc->s[i].o.channel, o->channel, 16)) {
			*slot = i;
			return 0;
		}
	return add(rc, o, slot);
}

struct nvmsg_producer *
nvd_rchan_at(struct nvd_rchan *rc, unsigned slot)
{
	if (slot >= rc->n)
		return NULL;
	/* closed after a failure: reopen (recovery says what is held) */
	if (!rc->s[slot].p &&
	    nvmsg_producer_open_origin(rc->d->conf.dir, rc->name,
				       &rc->s[slot].o, &rc->s[slot].p) < 0) {
		NVD_ERR("channel %s: cannot reopen a forwarded slot: %s",
			rc->name, nvmsg_errmsg());
		return NULL;
	}
	return rc->s[slot].p;
}

void
nvd_rchan_resume(struct nvd_rchan *rc, struct nvw_resume *r)
{
	memset(r, 0, sizeof(*r));
	r->tier = (uint32_t)rc->tier;
	if (rc->tier == NVMSG_TIER_PMEM || rc->tier == NVMSG_TIER_MSYNC)
		r->flags = NVW_RESUME_DURABLE;
	for (unsigned i = 0; i < rc->n && r->count < NVW_MAX_ORIGINS; i++) {
		struct nvmsg_producer *p = rc->s[i].p;
		if (!p &&
		    nvmsg_producer_open_origin(rc->d->conf.dir, rc->name,
					       &rc->s[i].o, &rc->s[i].p) < 0)
			continue;
		p = rc->s[i].p;
		struct nvw_resume_ent *e = &r->ent[r->count++];
		memcpy(e->uuid, rc->s[i].o.channel, 16);
		e->producer = rc->s[i].o.producer;
		/* every record appended is durable here: the links flush
		 * before they return to the loop */
		e->seq = nvmsg_producer_last_seq(p);
	}
}

void
nvd_rchan_touch(struct nvd_rchan *rc, struct nvmsg_producer *p)
{
	for (unsigned i = 0; i < rc->n; i++)
		if (rc->s[i].p == p) {
			rc->s[i].touched = 1;
			return;
		}
}

int
nvd_rchan_flush(struct nvd_rchan *rc)
{
	int first = 0;

	for (unsigned i = 0; i < rc->n; i++) {
		if (!rc->s[i].touched)
			continue;
		rc->s[i].touched = 0;
		int e = nvmsg_producer_flush(rc->s[i].p);
		if (e < 0) {
			NVD_ERR("channel %s: persist failed: %s; the slot is "
				"reopened (recovered) on its next use",
				rc->name, nvmsg_errmsg());
			nvmsg_producer_close(&rc->s[i].p);
			if (!first)
				first = e;
		}
	}
	return first;
}

void
nvd_rchan_close_all(struct nvd_daemon *d)
{
	while (d->rchans) {
		struct nvd_rchan *rc = d->rchans;
		d->rchans = rc->next;
		for (unsigned i = 0; i < rc->n; i++) {
			int e = nvmsg_producer_close(&rc->s[i].p);
			if (e < 0)
				NVD_ERR("channel %s: close: %s", rc->name,
					nvmsg_strerror(e));
		}
		free(rc);
	}
}
