/* SPDX-License-Identifier: MIT */
/*
 * zmq.c -- peer: ZeroMQ PUSH/PULL over ipc:// (Unix sockets in the case's
 * directory).  Each consumer binds a PULL socket per direction; every
 * producer connects a PUSH socket to each consumer of the direction
 * (fan-in: PULL fair-queues the producers; fan-out: one PUSH per consumer,
 * so nothing is dropped, unlike PUB/SUB at its high-water mark).  One
 * context per process, made after the fork.  The consumer sleeps in
 * zmq_recv.
 */
#include "../worker/bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

static void *ctx; /* this process's context (made after the fork) */
static int nopen; /* handles open on it */

static void *
context(void)
{
	if (!ctx)
		ctx = zmq_ctx_new();
	if (ctx)
		nopen++;
	return ctx;
}

/* release -- the last handle terminates the context, which sends what
 * is still queued (up to the linger time): the processes end with
 * _exit, and queued messages, the end marker among them, would be lost */
static void
release(void)
{
	if (--nopen == 0 && ctx) {
		zmq_ctx_term(ctx);
		ctx = NULL;
	}
}

static void
endpoint(const struct nvb_env *e, int chan, int cons, char *buf, size_t len)
{
	snprintf(buf, len, "ipc://%s/zmq-%d-%d", e->dir, chan, cons);
}

static int
setup(struct nvb_env *e)
{
	int major, minor, patch;

	zmq_version(&major, &minor, &patch);
	snprintf(e->note, sizeof(e->note), "libzmq %d.%d.%d, ipc PUSH/PULL",
		 major, minor, patch);
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	(void)e;
}

static int
zfail(const char *what)
{
	int err = zmq_errno();

	fprintf(stderr, "bench zmq: %s: %s\n", what, zmq_strerror(err));
	return -err;
}

struct tx {
	void *s[NVB_MAX_CONS];
	int n;
};

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct tx *t = calloc(1, sizeof(*t));
	int linger = 5000, ivl = 1;

	(void)prod;
	if (!t || !context())
		return -ENOMEM;
	t->n = e->ncons;
	for (int j = 0; j < e->ncons; j++) {
		char ep[600];
		endpoint(e, chan, j, ep, sizeof(ep));
		t->s[j] = zmq_socket(ctx, ZMQ_PUSH);
		if (!t->s[j])
			return zfail("socket");
		zmq_setsockopt(t->s[j], ZMQ_LINGER, &linger, sizeof(linger));
		/* retry the connection every ms (the default is 100 ms), so a
		 * consumer that binds a moment after we connect is found at
		 * once */
		zmq_setsockopt(t->s[j], ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
		if (zmq_connect(t->s[j], ep) != 0)
			return zfail(ep);
	}
	*h = t;
	return 0;
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	struct tx *t = h;

	(void)more;
	for (int j = 0; j < t->n; j++) {
		int rc;
		do
			rc = zmq_send(t->s[j], buf, len, 0);
		while (rc < 0 && zmq_errno() == EINTR);
		if (rc != (int)len)
			return zfail("send");
	}
	return 0;
}

static void
tx_close(void *h)
{
	struct tx *t = h;

	for (int j = 0; j < t->n; j++)
		zmq_close(t->s[j]);
	free(t);
	release();
}

struct rx {
	void *s;
	size_t size;
	_Alignas(64) unsigned char buf[];
};

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct rx *r = aligned_alloc(64, (sizeof(*r) + e->size + 63) & ~63ul);
	char ep[600];

	if (!r || !context())
		return -ENOMEM;
	endpoint(e, chan, cons, ep, sizeof(ep));
	r->s = zmq_socket(ctx, ZMQ_PULL);
	if (!r->s)
		return zfail("socket");
	if (zmq_bind(r->s, ep) != 0)
		return zfail(ep);
	r->size = e->size;
	*h = r;
	return 0;
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct rx *r = h;
	int n;

	do
		n = zmq_recv(r->s, r->buf, r->size, 0);
	while (n < 0 && zmq_errno() == EINTR);
	if (n < 0)
		return zfail("recv");
	*data = r->buf;
	*len = (size_t)n;
	return 0;
}

static int
rx_done(void *h)
{
	(void)h;
	return 0;
}

static void
rx_close(void *h)
{
	struct rx *r = h;

	zmq_close(r->s);
	free(r);
	release();
}

const struct nvb_tp nvb_tp_zmq = {
	.name = "zmq",
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
