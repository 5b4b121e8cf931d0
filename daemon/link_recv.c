/* SPDX-License-Identifier: MIT */
/*
 * link_recv.c -- the receiving end of a link.  Each MSG is appended with
 * its origin's sequence number (nvmsg_send_seq, NVMSG_MORE) to the slot of
 * its origin in the receiving channel; after a read's worth of frames one
 * flush per touched slot makes them durable (one barrier, or one group
 * msync), and only then does the ACK go out: durable before acknowledged.
 * A resent message is refused by the slot (NVMSG_E_DUPLICATE) and counted
 * as acknowledged: exactly once.  A full channel stops the reading (the
 * frame stays in the buffer, the socket is not read, TCP pushes back to
 * the sender) and a timer retries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmsgd.h"

#define RETRY_MIN_NS (1ull * 1000000)
#define RETRY_MAX_NS (50ull * 1000000)

void
nvd_recv_reset(struct nvd_link *l)
{
	if (l->role != NVW_ROLE_RECEIVER)
		return;
	free(l->index);
	l->index = NULL;
	l->recv_frames = l->durable_frames = 0;
	l->blocked = 0;
	l->rc = NULL;
}

int
nvd_recv_hello_done(struct nvd_link *l)
{
	struct nvd_daemon *d = l->d;
	struct nvw_resume *r;
	uint32_t code = NVW_ERR_CHANNEL;
	char err[300];
	size_t n;

	if (nvd_rchan_get(d, l->conf.local, &l->rc, &code, err, sizeof(err)) <
	    0) {
		NVD_ERR("link from %s: %s", l->peer, err);
		nvd_link_close(l, err, (int)code);
		return -1;
	}
	if (l->peer_max_msg > nvd_rchan_max_msg(l->rc) ||
	    l->peer_max_msg > d->conf.max_msg) {
		snprintf(err, sizeof(err),
			 "the sender's messages may reach %u bytes; channel "
			 "%s takes at most %u (and --max-msg %u)",
			 l->peer_max_msg, l->conf.local,
			 nvd_rchan_max_msg(l->rc), d->conf.max_msg);
		NVD_ERR("link from %s: %s", l->peer, err);
		nvd_link_close(l, err, NVW_ERR_TOO_BIG);
		return -1;
	}
	/* room for the largest frame plus a read's worth of small ones */
	if (nvd_conn_grow_in(&l->conn, NVW_HDR + NVW_MSG_HDR +
					       (size_t)l->peer_max_msg +
					       (256u << 10)) < 0 ||
	    !(l->index = calloc(NVW_MAX_INDEX, sizeof(*l->index))) ||
	    !(r = malloc(sizeof(*r)))) {
		nvd_link_close(l, "out of memory", NVW_ERR_INTERNAL);
		return -1;
	}
	nvd_rchan_resume(l->rc, r);
	n = nvw_put_resume(nvd_conn_tail(&l->conn), nvd_conn_room(&l->conn), r);
	free(r);
	if (n == 0) {
		nvd_link_close(l, "cannot encode RESUME", NVW_ERR_INTERNAL);
		return -1;
	}
	nvd_conn_queued(&l->conn, n);
	l->remote_tier = nvd_rchan_tier(l->rc);
	l->remote_durable = l->remote_tier == NVMSG_TIER_PMEM ||
			    l->remote_tier == NVMSG_TIER_MSYNC;
	l->state = NVD_RUNNING;
	NVD_INFO("link from %s: receiving into %s (%s%s)", l->peer,
		 l->conf.local, nvmsg_tier_name(l->remote_tier),
		 l->remote_durable ? "" : ", NOT durable");
	nvd_status_dirty(d);
	return 0;
}

static void on_retry(struct nvd_loop *loop, uint64_t id, void *data);

/* block -- the channel is full: stop reading, retry later */
static int
block(struct nvd_link *l)
{
	if (!l->blocked) {
		l->blocked = 1;
		l->backoff_ns = RETRY_MIN_NS;
	} else if ((l->backoff_ns *= 2) > RETRY_MAX_NS) {
		l->backoff_ns = RETRY_MAX_NS;
	}
	if (!l->timer)
		nvd_loop_timer_add(l->d->loop, l->backoff_ns, 0, on_retry, l,
				   &l->timer);
	return 1;
}

static void
on_retry(struct nvd_loop *loop, uint64_t id, void *data)
{
	struct nvd_link *l = data;

	(void)loop;
	(void)id;
	l->timer = 0;
	if (!l->connected || !l->blocked)
		return;
	l->blocked = 0;
	if (nvd_link_parse(&l) < 0 || !l->connected)
		return;
	if (l->blocked) {
		block(l); /* still full: back off further */
		l->blocked = 1;
	}
	nvd_link_want(l);
}

static int
on_msg(struct nvd_link *l, const struct nvw_msg *m)
{
	unsigned k = m->origin < NVW_MAX_INDEX ? l->index[m->origin] : 0;
	struct nvmsg_producer *p;
	int rc;

	if (!k) {
		nvd_link_close(l, "MSG for an origin index never declared",
			       NVW_ERR_PROTOCOL);
		return -1;
	}
	if (!(p = nvd_rchan_at(l->rc, k - 1))) {
		nvd_link_close(l, "forwarded slot unusable", NVW_ERR_INTERNAL);
		return -1;
	}
	if (m->len > l->peer_max_msg) {
		nvd_link_close(l, "MSG larger than the HELLO's max_msg",
			       NVW_ERR_PROTOCOL);
		return -1;
	}
#ifdef NVD_MUTANT_ACK_EARLY
	/* the control of tests/powercut (never in nvmsgd): acknowledge now,
	 * append later (mutant.c) */
	if (nvd_mutant_defer(l, k - 1, m) == 0) {
		l->recv_frames++;
		l->msgs++;
		return 0;
	}
#endif
	rc = nvmsg_send_seq(p, m->seq, m->data, m->len, NVMSG_MORE, 0);
	if (rc == -EAGAIN)
		return block(l);
	l->blocked = 0;
	if (rc == NVMSG_E_DUPLICATE) {
		l->recv_frames++;
		l->dups++;
		return 0;
	}
	if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why), "append to %s failed: %s",
			 l->conf.local, nvmsg_errmsg());
		NVD_ERR("link from %s: %s", l->peer, why);
		nvd_link_close(l, why, NVW_ERR_INTERNAL);
		return -1;
	}
	nvd_rchan_touch(l->rc, p);
	l->recv_frames++;
	l->msgs++;
	l->bytes += m->len;
	return 0;
}

static int
on_origin(struct nvd_link *l, const struct nvw_origin *o)
{
	struct nvmsg_origin want = { .producer = o->producer };
	unsigned slot;
	int rc;

	memcpy(want.channel, o->uuid, 16);
#ifdef NVD_MUTANT_NEW_SLOT
	/* tests/net's control: each run claims new slots for old origins */
	want.channel[15] ^= (uint8_t)(getpid() | 1);
#endif
	rc = nvd_rchan_producer(l->rc, &want, &slot);
	if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why),
			 "no slot for origin %02x%02x.. "
			 "producer %u: %s",
			 o->uuid[0], o->uuid[1], o->producer, nvmsg_errmsg());
		NVD_ERR("link from %s: %s", l->peer, why);
		nvd_link_close(l, why,
			       rc == NVMSG_E_FULL_TABLE ? NVW_ERR_FULL
							: NVW_ERR_INTERNAL);
		return -1;
	}
	if (l->index[o->index] && l->index[o->index] != slot + 1) {
		nvd_link_close(l,
			       "origin index declared again for another "
			       "origin",
			       NVW_ERR_PROTOCOL);
		return -1;
	}
	l->index[o->index] = (uint8_t)(slot + 1);
	return 0;
}

int
nvd_recv_frame(struct nvd_link *l, const struct nvw_frame *f)
{
	if (l->state != NVD_RUNNING) {
		nvd_link_close(l, "frame before the link runs",
			       NVW_ERR_PROTOCOL);
		return -1;
	}
	switch (f->type) {
	case NVW_MSG:
		return on_msg(l, &f->u.msg);
	case NVW_ORIGIN:
		return on_origin(l, &f->u.origin);
	default:
		nvd_link_close(l, "unexpected frame for a receiver",
			       NVW_ERR_PROTOCOL);
		return -1;
	}
}

int
nvd_recv_batch_done(struct nvd_link *l)
{
	int rc;

	if (l->recv_frames == l->durable_frames)
		return 0;
	rc = nvd_rchan_flush(l->rc);
	if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why), "persist failed: %s",
			 nvmsg_strerror(rc));
		NVD_ERR("link from %s: %s", l->peer, why);
		nvd_link_close(l, why, NVW_ERR_INTERNAL);
		return -1;
	}
	l->durable_frames = l->recv_frames;
	size_t n = nvw_put_u64(nvd_conn_tail(&l->conn), nvd_conn_room(&l->conn),
			       NVW_ACK, l->durable_frames);
	if (n == 0) {
		nvd_link_close(l, "no room for an ACK", NVW_ERR_INTERNAL);
		return -1;
	}
	nvd_conn_queued(&l->conn, n);
	nvd_daemon_worked(l->d);
	return 0;
}
