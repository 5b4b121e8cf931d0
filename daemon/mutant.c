/* SPDX-License-Identifier: MIT */
/*
 * mutant.c -- nvmsgd-mutant-ackearly only (NVD_MUTANT_ACK_EARLY): a
 * receiver that acknowledges a message when it arrives and appends it up
 * to 200 ms later.  The power-cut test runs it in the guest as the control
 * that must show loss: the sender releases what the receiver acknowledged,
 * and a cut in those 200 ms loses it (docs/TESTING.md, "Power cut at
 * either end").  Never built into nvmsgd.
 */
#include <stdlib.h>
#include <string.h>

#include "nvmsgd.h"

#define DEFER_NS (200ull * 1000000)
#define MAX_HELD (64u << 20)

struct held {
	struct held *next;
	struct nvd_rchan *rc;
	unsigned slot;
	uint64_t seq;
	uint32_t len;
	uint8_t data[];
};

static struct held *head, **tail = &head;
static size_t held_bytes;
static uint64_t timer;

static void
drain(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)loop;
	(void)id;
	(void)data;
	timer = 0;
	while (head) {
		struct held *h = head;
		struct nvmsg_producer *p = nvd_rchan_at(h->rc, h->slot);
		head = h->next;
		if (p && nvmsg_send_seq(p, h->seq, h->data, h->len, 0, -1) < 0)
			NVD_ERR("mutant: append failed: %s", nvmsg_errmsg());
		held_bytes -= h->len;
		free(h);
	}
	tail = &head;
}

int
nvd_mutant_defer(struct nvd_link *l, unsigned slot, const struct nvw_msg *m)
{
	struct held *h;

	if (held_bytes + m->len > MAX_HELD ||
	    !(h = malloc(sizeof(*h) + m->len)))
		return -1;
	h->next = NULL;
	h->rc = l->rc;
	h->slot = slot;
	h->seq = m->seq;
	h->len = m->len;
	memcpy(h->data, m->data, m->len);
	*tail = h;
	tail = &h->next;
	held_bytes += m->len;
	if (!timer)
		nvd_loop_timer_add(l->d->loop, DEFER_NS, 0, drain, NULL,
				   &timer);
	return 0;
}
