/* SPDX-License-Identifier: MIT */
/*
 * tp_nvmsg.c -- nvmsg as a transport, through the public API only.
 *
 * One channel per direction (ping-pong uses two), created in the case's
 * directory on the case's tier with one producer slot per producer and one
 * registered consumer per consumer, registered before any producer starts
 * so that every consumer sees every message.
 *
 *   send     nvmsg_send(NVMSG_BLOCK), with NVMSG_MORE inside a batch;
 *   flush    nvmsg_producer_flush: one barrier for the batch;
 *   recv     nvmsg_view in place: spinning (timeout 0, polled) or blocking
 *            (the library's adaptive wait: spin, then futex);
 *   done     nvmsg_ack every ack_every messages (one barrier for them).
 */
#include "bench.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include <nvmsg.h>

#define WAIT_NS 20000000000ll /* a stuck peer fails the case, never hangs */

static const char *const chan_name[NVB_MAX_CHAN] = { "bench0", "bench1" };

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "bench nvmsg: %s: %s (%s)\n", what, nvmsg_strerror(rc),
		nvmsg_errmsg());
	return rc;
}

static int
setup(struct nvb_env *e)
{
	struct nvmsg_channel_opts o = {
		.tier = e->tier,
		/* 4 MiB: 1000 messages of 4 KiB in flight */
		.capacity_bytes = e->size > 1024 ? 4u << 20 : 1u << 20,
		.max_producers = (unsigned)e->nprod,
		.max_consumers = (unsigned)e->ncons,
		.mode = 0600,
	};
	int rc;

	for (int c = 0; c < e->nchan; c++) {
		if ((rc = nvmsg_channel_create(e->dir, chan_name[c], &o)) < 0)
			return fail("create", rc);
		for (int j = 0; j < e->ncons; j++) {
			struct nvmsg_consumer *cons;
			char name[16];
			snprintf(name, sizeof(name), "c%d", j);
			rc = nvmsg_consumer_open(e->dir, chan_name[c], name,
						 NVMSG_CONSUMER_CREATE, &cons);
			if (rc < 0)
				return fail("register consumer", rc);
			nvmsg_consumer_close(&cons);
		}
	}
	snprintf(e->note, sizeof(e->note), "tier %s", nvmsg_tier_name(e->tier));
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	for (int c = 0; c < e->nchan; c++)
		nvmsg_channel_unlink(e->dir, chan_name[c]);
}

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct nvmsg_producer *p;
	int rc = nvmsg_producer_open(e->dir, chan_name[chan], prod, &p);

	if (rc < 0)
		return fail("producer open", rc);
	*h = p;
	return 0;
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	int rc = nvmsg_send(h, buf, len, NVMSG_BLOCK | (more ? NVMSG_MORE : 0),
			    WAIT_NS);

	return rc < 0 ? fail("send", rc) : 0;
}

static int
tx_flush(void *h)
{
	int rc = nvmsg_producer_flush(h);

	return rc < 0 ? fail("flush", rc) : 0;
}

static void
tx_close(void *h)
{
	struct nvmsg_producer *p = h;

	nvmsg_producer_close(&p);
}

struct rx {
	struct nvmsg_consumer *c;
	struct nvb_env *e;
	unsigned pending; /* viewed, not acked */
};

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct rx *r = calloc(1, sizeof(*r));
	char name[16];
	int rc;

	if (!r)
		return -ENOMEM;
	snprintf(name, sizeof(name), "c%d", cons);
	rc = nvmsg_consumer_open(e->dir, chan_name[chan], name, 0, &r->c);
	if (rc < 0) {
		free(r);
		return fail("consumer open", rc);
	}
	r->e = e;
	*h = r;
	return 0;
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct rx *r = h;
	struct nvmsg_view v;
	int rc;

	if (r->e->spin) {
		unsigned idle = 0;
		while ((rc = nvmsg_view(r->c, &v, 0)) == -EAGAIN) {
			/* acks are due before we wait: producers may be
			 * waiting for the space they free */
			if (r->pending) {
				if ((rc = nvmsg_ack(r->c)) < 0)
					return fail("ack", rc);
				r->pending = 0;
			}
			if (r->e->oversub && (++idle & 63) == 0)
				sched_yield();
			if (idle > (1u << 31))
				return -ETIMEDOUT;
		}
	} else if ((rc = nvmsg_view(r->c, &v, 0)) == -EAGAIN) {
		if (r->pending) {
			if ((rc = nvmsg_ack(r->c)) < 0)
				return fail("ack", rc);
			r->pending = 0;
		}
		rc = nvmsg_view(r->c, &v, WAIT_NS);
	}
	if (rc < 0)
		return fail("view", rc);
	*data = v.data;
	*len = v.len;
	return 0;
}

static int
rx_done(void *h)
{
	struct rx *r = h;
	int rc;

	if (++r->pending < (unsigned)r->e->ack_every)
		return 0;
	r->pending = 0;
	rc = nvmsg_ack(r->c);
	return rc < 0 ? fail("ack", rc) : 0;
}

static void
rx_close(void *h)
{
	struct rx *r = h;

	if (r->pending)
		nvmsg_ack(r->c);
	nvmsg_consumer_close(&r->c);
	free(r);
}

const struct nvb_tp nvb_tp_nvmsg = {
	.name = "nvmsg",
	.setup = setup,
	.teardown = teardown,
	.tx_open = tx_open,
	.send = tx_send,
	.flush = tx_flush,
	.tx_close = tx_close,
	.rx_open = rx_open,
	.recv = rx_recv,
	.done = rx_done,
	.rx_close = rx_close,
};
