/* SPDX-License-Identifier: MIT */
/*
 * link_send.c -- the sending end of a link.  It reads the local channel as
 * a named consumer (link.<...>) and releases a message (nvmsg_ack_view)
 * only when the receiver's cumulative ACK covers it: until then the
 * message stays in the ring, so a crash of this daemon, of the receiver or
 * of the connection loses nothing, and a full ring back-pressures the
 * local producers as a slow consumer does.
 *
 * Frames in flight are bounded by the window (messages and bytes); each
 * in-flight message is one nvd_flight {view, frame number}.  On RESUME the
 * receiver says, per origin, the highest sequence number it holds: views
 * at or below it are released without being sent again.  After a
 * reconnect the consumer is reopened, so it resumes at its durable ack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmsgd.h"

/* consumer_name -- link-<remote>-<addr>, or link-offer-<local>, cut to
 * the name limit, characters outside [A-Za-z0-9_-] (consumer names have
 * no '.') made '_' */
static void
consumer_name(const struct nvd_link *l, char out[NVMSG_NAME_MAX + 1])
{
	char tmp[256];

	if (l->conf.kind == NVD_OFFER)
		snprintf(tmp, sizeof(tmp), "link-offer-%s", l->conf.local);
	else
		snprintf(tmp, sizeof(tmp), "link-%s-%s", l->conf.remote,
			 l->conf.addr);
	for (char *s = tmp; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			*s = '_';
	tmp[NVMSG_NAME_MAX] = 0;
	memcpy(out, tmp, strlen(tmp) + 1);
}

int
nvd_send_open(struct nvd_link *l)
{
	struct nvd_daemon *d = l->d;
	char name[NVMSG_NAME_MAX + 1];
	int rc;

	if (l->cons)
		nvmsg_consumer_close(&l->cons);
	consumer_name(l, name);
	rc = nvmsg_consumer_open(d->conf.dir, l->conf.local, name,
				 NVMSG_CONSUMER_CREATE | NVMSG_CONSUMER_VERIFY,
				 &l->cons);
	if (rc < 0) {
		snprintf(l->last_error, sizeof(l->last_error), "channel %s: %s",
			 l->conf.local, nvmsg_errmsg());
		NVD_ERR("link %s %s: cannot read the channel: %s",
			nvd_link_kind(l), l->conf.local, nvmsg_errmsg());
		return rc;
	}
	if (!l->fifo) {
		struct nvmsg_stat *st = malloc(sizeof(*st));
		if (!st)
			return -ENOMEM;
		rc = nvmsg_channel_stat(d->conf.dir, l->conf.local, st);
		if (rc == 0) {
			l->nslots = st->max_producers;
			l->max_msg = (uint32_t)(st->capacity_bytes / 2 - 32);
		}
		free(st);
		if (rc < 0)
			return rc;
		if (l->max_msg > d->conf.max_msg)
			l->max_msg = d->conf.max_msg;
		l->fifo = calloc(d->conf.window_msgs, sizeof(*l->fifo));
		if (!l->fifo)
			return -ENOMEM;
	}
	return 0;
}

void
nvd_send_reset(struct nvd_link *l)
{
	if (l->role != NVW_ROLE_SENDER)
		return;
	l->fhead = l->fcount = 0;
	l->fbytes = 0;
	l->sent_frames = l->acked_frames = 0;
	l->resumed = 0;
	memset(l->declared, 0, sizeof(l->declared));
	memset(l->skip, 0, sizeof(l->skip));
	/* views not released are read again from the durable ack */
	if (l->cons && !l->d->stopping)
		(void)nvd_send_open(l);
}

/* release -- ack locally every flight the receiver's ACKs cover */
static int
release(struct nvd_link *l)
{
	const struct nvmsg_view *last = NULL;
	unsigned n = l->d->conf.window_msgs;

	while (l->fcount && l->fifo[l->fhead].frame <= l->acked_frames) {
		struct nvd_flight *f = &l->fifo[l->fhead];
		if (last && nvmsg_ack_view(l->cons, last, NVMSG_MORE) < 0)
			break;
		last = &f->v;
		if (f->sent)
			l->fbytes -= f->v.len;
		l->fhead = (l->fhead + 1) % n;
		l->fcount--;
	}
	if (!last)
		return 0;
	int rc = nvmsg_ack_view(l->cons, last, 0);
	if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why), "local ack failed: %s",
			 nvmsg_errmsg());
		NVD_ERR("link %s %s: %s", nvd_link_kind(l), l->conf.local, why);
		nvd_link_close(l, why, NVW_ERR_INTERNAL);
		return -1;
	}
	return 1;
}

/* on_resume -- what the receiver holds: skip it */
static int
on_resume(struct nvd_link *l, const struct nvw_resume *r)
{
	const struct nvd_conf *c = &l->d->conf;

	l->remote_tier = (int)r->tier;
	l->remote_durable = (r->flags & NVW_RESUME_DURABLE) != 0;
	if (!l->remote_durable && !c->allow_volatile) {
		NVD_ERR("link %s %s: the receiving channel is on the %s tier, "
			"NOT durable; refused (--allow-volatile accepts it)",
			nvd_link_kind(l), l->conf.local,
			nvmsg_tier_name((int)r->tier));
		nvd_link_close(l, "receiving channel not durable",
			       NVW_ERR_DURABLE);
		return -1;
	}
	if (!l->remote_durable)
		NVD_WARN("link %s %s: the remote copy is on the %s tier and "
			 "NOT durable (allowed by --allow-volatile)",
			 nvd_link_kind(l), l->conf.local,
			 nvmsg_tier_name((int)r->tier));
	for (unsigned i = 0; i < l->nslots; i++) {
		if (nvmsg_consumer_origin(l->cons, i, &l->origin[i]) < 0)
			memset(&l->origin[i], 0, sizeof(l->origin[i]));
		l->skip[i] = 0;
		for (unsigned k = 0; k < r->count; k++)
			if (r->ent[k].producer == l->origin[i].producer &&
			    !memcmp(r->ent[k].uuid, l->origin[i].channel, 16))
				l->skip[i] = r->ent[k].seq;
	}
	l->resumed = 1;
	l->state = NVD_RUNNING;
	l->backoff_ns = 50ull * 1000000;
	NVD_INFO("link %s %s -> %s: running peer=%s remote=%s%s",
		 nvd_link_kind(l), l->conf.local, l->conf.remote, l->peer,
		 nvmsg_tier_name((int)r->tier),
		 l->remote_durable ? "" : " (NOT durable)");
	nvd_status_dirty(l->d);
	return 0;
}

int
nvd_send_frame(struct nvd_link *l, const struct nvw_frame *f)
{
	switch (f->type) {
	case NVW_RESUME:
		if (l->resumed) {
			nvd_link_close(l, "second RESUME", NVW_ERR_PROTOCOL);
			return -1;
		}
		return on_resume(l, &f->u.resume);
	case NVW_ACK:
		if (!l->resumed || f->u.count < l->acked_frames ||
		    f->u.count > l->sent_frames) {
			nvd_link_close(l, "ACK out of range", NVW_ERR_PROTOCOL);
			return -1;
		}
		l->acked_frames = f->u.count;
		return release(l) < 0 ? -1 : 0;
	default:
		nvd_link_close(l, "unexpected frame for a sender",
			       NVW_ERR_PROTOCOL);
		return -1;
	}
}

int
nvd_send_pump(struct nvd_link *l)
{
	const struct nvd_conf *c = &l->d->conf;
	size_t big = NVW_HDR + NVW_MSG_HDR + (size_t)l->max_msg + NVW_HDR + 24;
	int work = 0;

	if (!l->resumed)
		return 0;
	while (l->fcount < c->window_msgs && l->fbytes < c->window_bytes &&
	       nvd_conn_room(&l->conn) >= big) {
		struct nvmsg_view v;
		int rc = nvmsg_view(l->cons, &v, 0);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			char why[300];
			snprintf(why, sizeof(why), "reading the channel: %s",
				 nvmsg_errmsg());
			NVD_ERR("link %s %s: %s", nvd_link_kind(l),
				l->conf.local, why);
			nvd_link_close(l, why, NVW_ERR_INTERNAL);
			return -1;
		}
		work = 1;
		if (v.len > l->max_msg) {
			/* never dropped: the link stops until the limit is
			 * raised (the message stays in the channel) */
			char why[200];
			snprintf(why, sizeof(why),
				 "a message of %zu bytes exceeds --max-msg %u",
				 v.len, l->max_msg);
			NVD_ERR("link %s %s: %s; the link waits for a restart "
				"with a larger --max-msg",
				nvd_link_kind(l), l->conf.local, why);
			nvd_link_close(l, why, NVW_ERR_TOO_BIG);
			return -1;
		}
		struct nvd_flight *fl =
			&l->fifo[(l->fhead + l->fcount) % c->window_msgs];
		fl->v = v;
		l->fcount++;
		if (v.producer < l->nslots && v.seq <= l->skip[v.producer]) {
			/* held already: released once what is before it is */
			fl->frame = l->sent_frames;
			fl->sent = 0;
			l->dups++;
			continue;
		}
		if (v.producer >= l->nslots)
			continue; /* cannot happen: nslots is the table */
		if (!l->declared[v.producer]) {
			struct nvw_origin o = { .index = v.producer };
			(void)nvmsg_consumer_origin(l->cons, v.producer,
						    &l->origin[v.producer]);
			memcpy(o.uuid, l->origin[v.producer].channel, 16);
			o.producer = l->origin[v.producer].producer;
			size_t n = nvw_put_origin(nvd_conn_tail(&l->conn),
						  nvd_conn_room(&l->conn), &o);
			nvd_conn_queued(&l->conn, n);
			l->declared[v.producer] = 1;
		}
		size_t n = nvw_put_msg(nvd_conn_tail(&l->conn),
				       nvd_conn_room(&l->conn), v.producer,
				       v.seq, v.data, (uint32_t)v.len);
		nvd_conn_queued(&l->conn, n);
		fl->frame = ++l->sent_frames;
		fl->sent = 1;
#ifdef NVD_MUTANT_RELEASE_EARLY
		/* tests/net's control: released when sent, not when acked */
		fl->frame = 0;
#endif
		l->fbytes += v.len;
		l->msgs++;
		l->bytes += v.len;
	}
	if (work) {
		nvd_daemon_worked(l->d);
		if (release(l) < 0)
			return -1;
	}
	return work;
}
