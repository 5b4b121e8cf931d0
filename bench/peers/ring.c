/* SPDX-License-Identifier: MIT */
/*
 * ring.c -- peer: a raw SPSC ring in shared memory, the limit for a
 * message path between two cores (no checksum, no persistence, no
 * ownership, no recovery).
 *
 * One ring per producer (as nvmsg: fan-in is one ring each, the consumer
 * polls them round robin) and one read cursor per consumer (fan-out: the
 * producer waits for the slowest).  Records are an 8-byte length and the
 * payload, rounded up to 64 bytes; a length of UINT32_MAX pads to the end
 * of the ring.  The producer release-stores its tail after each record;
 * a consumer acquire-loads it, and release-stores its head when done.
 * The consumer always spins.
 */
#include "../worker/bench.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_BYTES (4u << 20)
#define PAD UINT32_MAX

struct ring {
	_Alignas(64) atomic_uint_fast64_t tail; /* producer writes */
	_Alignas(64) unsigned char data[RING_BYTES];
};

/* struct hline -- one consumer's head for one ring, on its own line */
struct hline {
	_Alignas(64) atomic_uint_fast64_t v; /* consumer writes */
};

/* struct ring_set -- heads first, then nchan x nprod rings */
struct ring_set {
	struct hline heads[NVB_MAX_CHAN][NVB_MAX_PROD][NVB_MAX_CONS];
	struct ring rings[];
};

static size_t
set_bytes(const struct nvb_env *e)
{
	return sizeof(struct ring_set) +
	       (size_t)(e->nchan * e->nprod) * sizeof(struct ring);
}

static struct ring *
ring_of(const struct nvb_env *e, int chan, int prod)
{
	struct ring_set *s = e->priv;

	return &s->rings[chan * e->nprod + prod];
}

static int
setup(struct nvb_env *e)
{
	e->priv = nvb_shm(set_bytes(e));
	if (!e->priv)
		return -ENOMEM;
	snprintf(e->note, sizeof(e->note), "spinning consumer");
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	nvb_shm_free(e->priv, set_bytes(e));
	e->priv = NULL;
}

struct tx {
	struct ring *r;
	atomic_uint_fast64_t *heads[NVB_MAX_CONS];
	int ncons;
	int oversub;
	uint64_t tail, limit;
};

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct ring_set *s = e->priv;
	struct tx *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->r = ring_of(e, chan, prod);
	t->ncons = e->ncons;
	t->oversub = e->oversub;
	for (int j = 0; j < e->ncons; j++)
		t->heads[j] = &s->heads[chan][prod][j].v;
	t->tail = atomic_load(&t->r->tail);
	t->limit = t->tail + RING_BYTES;
	*h = t;
	return 0;
}

static uint64_t
min_head(struct tx *t)
{
	uint64_t m = UINT64_MAX;

	for (int j = 0; j < t->ncons; j++) {
		uint64_t hd = atomic_load_explicit(t->heads[j],
						   memory_order_acquire);
		if (hd < m)
			m = hd;
	}
	return m;
}

static void
wait_space(struct tx *t, uint64_t need)
{
	unsigned spin = 0;

	while (t->tail + need > t->limit) {
		t->limit = min_head(t) + RING_BYTES;
		if (t->tail + need <= t->limit)
			return;
		if (t->oversub && (++spin & 63) == 0)
			sched_yield();
		else
			nvb_relax();
	}
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	struct tx *t = h;
	uint64_t need = (8 + len + 63) & ~(uint64_t)63;
	uint64_t off = t->tail % RING_BYTES;

	(void)more;
	if (off + need > RING_BYTES) {
		wait_space(t, RING_BYTES - off);
		*(uint32_t *)(t->r->data + off) = PAD;
		t->tail += RING_BYTES - off;
		off = 0;
	}
	wait_space(t, need);
	*(uint32_t *)(t->r->data + off) = (uint32_t)len;
	memcpy(t->r->data + off + 8, buf, len);
	t->tail += need;
	/* release: the record bytes before the tail that covers them */
	atomic_store_explicit(&t->r->tail, t->tail, memory_order_release);
	return 0;
}

static void
tx_close(void *h)
{
	free(h);
}

struct rx {
	struct ring *r[NVB_MAX_PROD];
	atomic_uint_fast64_t *head[NVB_MAX_PROD];
	uint64_t pos[NVB_MAX_PROD], tail[NVB_MAX_PROD];
	int nprod, next, cur, oversub;
};

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct ring_set *s = e->priv;
	struct rx *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->nprod = e->nprod;
	x->oversub = e->oversub;
	for (int p = 0; p < e->nprod; p++) {
		x->r[p] = ring_of(e, chan, p);
		x->head[p] = &s->heads[chan][p][cons].v;
		x->pos[p] = atomic_load(x->head[p]);
	}
	*h = x;
	return 0;
}

/* try -- the next record of ring P: 1 found, 0 none */
static int
try(struct rx *x, int p, const void **data, size_t *len)
{
	for (;;) {
		uint64_t pos = x->pos[p];
		if (pos >= x->tail[p]) {
			/* acquire: pairs with the producer's release */
			x->tail[p] = atomic_load_explicit(
				&x->r[p]->tail, memory_order_acquire);
			if (pos >= x->tail[p])
				return 0;
		}
		uint64_t off = pos % RING_BYTES;
		uint32_t l = *(const uint32_t *)(x->r[p]->data + off);
		if (l == PAD) {
			x->pos[p] += RING_BYTES - off;
			continue;
		}
		*data = x->r[p]->data + off + 8;
		*len = l;
		x->pos[p] += (8 + l + 63) & ~(uint64_t)63;
		return 1;
	}
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct rx *x = h;

	for (unsigned spin = 1;; spin++) {
		for (int k = 0; k < x->nprod; k++) {
			int p = (x->next + k) % x->nprod;
			if (try(x, p, data, len)) {
				x->cur = p;
				x->next = (p + 1) % x->nprod;
				return 0;
			}
		}
		if (x->oversub && (spin & 63) == 0)
			sched_yield();
		else
			nvb_relax();
	}
}

static int
rx_done(void *h)
{
	struct rx *x = h;

	/* release: our reads of the record before the producer reuses it */
	atomic_store_explicit(x->head[x->cur], x->pos[x->cur],
			      memory_order_release);
	return 0;
}

static void
rx_close(void *h)
{
	free(h);
}

const struct nvb_tp nvb_tp_ring = {
	.name = "ring",
	.setup = setup,
	.teardown = teardown,
	.tx_open = tx_open,
	.send = tx_send,
	.tx_close = tx_close,
	.rx_open = rx_open,
	.recv = rx_recv,
	.done = rx_done,
	.rx_close = rx_close,
};
