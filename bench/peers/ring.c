/* SPDX-License-Identifier: MIT */
/*
 * ring.c -- peers: raw SPSC rings in shared memory, the limit for a
 * message path between two cores (no checksum, no persistence, no
 * ownership, no recovery).  Two layouts:
 *
 *   ring         the producer release-stores a tail word (its own line)
 *                after each record; a consumer acquire-loads the tail,
 *                then reads the record.  Two dependent cross-core line
 *                transfers per message: the shape of nvmsg's pub_tail.
 *   ring-inline  the commit word is in the record header (Aeron's
 *                layout): the producer release-stores it after the
 *                payload; a consumer spins on the next record's header.
 *                One transfer (plus the adjacent payload line).
 *
 * One ring per producer (as nvmsg: fan-in is one ring each, the consumer
 * polls them round robin) and one read cursor per consumer, on its own
 * line (fan-out: the producer waits for the slowest).  Records are a
 * 16-byte header and the payload, rounded up to 64 bytes; a length of
 * UINT32_MAX pads to the end of the ring.  The consumer always spins.
 */
#include "../worker/bench.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_BYTES (4u << 20)
#define PAD UINT32_MAX
#define HDR 16u

/* struct rec -- a record header; commit is position + 1 once written */
struct rec {
	atomic_uint_fast64_t commit; /* ring-inline: producer, release */
	uint32_t len;
	uint32_t pad;
};

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
	int inline_commit;
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
setup_as(struct nvb_env *e, int inline_commit)
{
	struct ring_set *s = nvb_shm(set_bytes(e));

	if (!s)
		return -ENOMEM;
	s->inline_commit = inline_commit;
	e->priv = s;
	snprintf(e->note, sizeof(e->note), "%s; spinning consumer",
		 inline_commit ? "commit word in the record"
			       : "tail word on its own line");
	return 0;
}

static int
setup(struct nvb_env *e)
{
	return setup_as(e, 0);
}

static int
setup_inline(struct nvb_env *e)
{
	return setup_as(e, 1);
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
	int inline_commit;
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
	t->inline_commit = s->inline_commit;
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
		/* acquire: the consumer finished reading below its head */
		uint64_t hd =
			atomic_load_explicit(t->heads[j], memory_order_acquire);
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

/* put -- one record (LEN may be PAD) at the tail, then publish it */
static void
put(struct tx *t, uint32_t len, const void *buf, uint64_t size)
{
	struct rec *r = (void *)(t->r->data + t->tail % RING_BYTES);

	r->len = len;
	if (buf)
		memcpy((unsigned char *)r + HDR, buf, len);
	/* release: the record's bytes before the word that publishes them */
	if (t->inline_commit)
		atomic_store_explicit(&r->commit, t->tail + 1,
				      memory_order_release);
	t->tail += size;
	if (!t->inline_commit)
		atomic_store_explicit(&t->r->tail, t->tail,
				      memory_order_release);
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	struct tx *t = h;
	uint64_t need = (HDR + len + 63) & ~(uint64_t)63;
	uint64_t off = t->tail % RING_BYTES;

	(void)more;
	if (off + need > RING_BYTES) {
		wait_space(t, RING_BYTES - off);
		put(t, PAD, NULL, RING_BYTES - off);
	}
	wait_space(t, need);
	put(t, (uint32_t)len, buf, need);
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
	int nprod, next, cur, oversub, inline_commit;
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
	x->inline_commit = s->inline_commit;
	for (int p = 0; p < e->nprod; p++) {
		x->r[p] = ring_of(e, chan, p);
		x->head[p] = &s->heads[chan][p][cons].v;
		x->pos[p] = atomic_load(x->head[p]);
	}
	*h = x;
	return 0;
}

/* ready -- the record at the consumer's position of ring P is written */
static int
ready(struct rx *x, int p, const struct rec *r)
{
	uint64_t pos = x->pos[p];

	if (x->inline_commit)
		/* acquire: pairs with the producer's release of commit */
		return atomic_load_explicit(&((struct rec *)r)->commit,
					    memory_order_acquire) == pos + 1;
	if (pos < x->tail[p])
		return 1;
	/* acquire: pairs with the producer's release store of the tail */
	x->tail[p] = atomic_load_explicit(&x->r[p]->tail, memory_order_acquire);
	return pos < x->tail[p];
}

/* try -- the next record of ring P: 1 found, 0 none */
static int
try(struct rx *x, int p, const void **data, size_t *len)
{
	for (;;) {
		uint64_t off = x->pos[p] % RING_BYTES;
		const struct rec *r = (const void *)(x->r[p]->data + off);
		if (!ready(x, p, r))
			return 0;
		if (r->len == PAD) {
			x->pos[p] += RING_BYTES - off;
			continue;
		}
		*data = (const unsigned char *)r + HDR;
		*len = r->len;
		x->pos[p] += (HDR + r->len + 63) & ~(uint64_t)63;
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

const struct nvb_tp nvb_tp_ring_inline = {
	.name = "ring-inline",
	.setup = setup_inline,
	.teardown = teardown,
	.tx_open = tx_open,
	.send = tx_send,
	.tx_close = tx_close,
	.rx_open = rx_open,
	.recv = rx_recv,
	.done = rx_done,
	.rx_close = rx_close,
};
