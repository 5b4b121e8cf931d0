/* SPDX-License-Identifier: MIT */
/*
 * fdatasync.c -- peer: an append-only log file on the real disk, each
 * message written with pwrite(2) and made durable with fdatasync(2)
 * before it is published; durable at the acknowledgement, as nvmsg's
 * msync tier.
 *
 * One file per (direction, producer) in the case's directory (under
 * /var/tmp, never tmpfs).  After the fdatasync the producer
 * release-stores the file's durable length in a shared-memory word; a
 * consumer polls the words (spinning) and preads the message.  So the
 * delivery path is the same cache-line hand-off as nvmsg's, and the
 * difference is the cost of the durability.
 */
#include "../worker/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct word {
	_Alignas(64) atomic_uint_fast64_t len; /* producer writes */
};

struct log {
	struct word pub[NVB_MAX_CHAN][NVB_MAX_PROD];
};

static void
path_of(const struct nvb_env *e, int chan, int prod, char *buf, size_t len)
{
	snprintf(buf, len, "%s/log-%d-%d", e->dir, chan, prod);
}

static int
setup(struct nvb_env *e)
{
	e->priv = nvb_shm(sizeof(struct log));
	if (!e->priv)
		return -ENOMEM;
	for (int c = 0; c < e->nchan; c++)
		for (int p = 0; p < e->nprod; p++) {
			char path[512];
			path_of(e, c, p, path, sizeof(path));
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0)
				return -errno;
			fsync(fd);
			close(fd);
		}
	snprintf(e->note, sizeof(e->note),
		 "pwrite + fdatasync per message; consumer polls");
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	nvb_shm_free(e->priv, sizeof(struct log));
	e->priv = NULL;
}

struct tx {
	int fd;
	uint64_t off;
	atomic_uint_fast64_t *pub;
};

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct log *l = e->priv;
	struct tx *t = calloc(1, sizeof(*t));
	char path[512];

	if (!t)
		return -ENOMEM;
	path_of(e, chan, prod, path, sizeof(path));
	t->fd = open(path, O_WRONLY);
	if (t->fd < 0) {
		free(t);
		return -errno;
	}
	t->pub = &l->pub[chan][prod].len;
	*h = t;
	return 0;
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	struct tx *t = h;
	ssize_t n = pwrite(t->fd, buf, len, (off_t)t->off);

	(void)more;
	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EIO;
	if (fdatasync(t->fd) != 0)
		return -errno;
	t->off += len;
	/* release: pairs with the consumer's acquire; durable before visible */
	atomic_store_explicit(t->pub, t->off, memory_order_release);
	return 0;
}

static void
tx_close(void *h)
{
	struct tx *t = h;

	close(t->fd);
	free(t);
}

struct rx {
	int fd[NVB_MAX_PROD];
	atomic_uint_fast64_t *pub[NVB_MAX_PROD];
	uint64_t pos[NVB_MAX_PROD];
	int nprod, next, oversub;
	size_t size;
	_Alignas(64) unsigned char buf[];
};

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct log *l = e->priv;
	struct rx *r = aligned_alloc(64, (sizeof(*r) + e->size + 63) & ~63ul);

	(void)cons;
	if (!r)
		return -ENOMEM;
	r->nprod = e->nprod;
	r->next = 0;
	r->oversub = e->oversub;
	r->size = e->size;
	for (int p = 0; p < e->nprod; p++) {
		char path[512];
		path_of(e, chan, p, path, sizeof(path));
		r->fd[p] = open(path, O_RDONLY);
		if (r->fd[p] < 0)
			return -errno;
		r->pub[p] = &l->pub[chan][p].len;
		r->pos[p] = 0;
	}
	*h = r;
	return 0;
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct rx *r = h;

	for (unsigned spin = 1;; spin++) {
		for (int k = 0; k < r->nprod; k++) {
			int p = (r->next + k) % r->nprod;
			/* acquire: pairs with the producer's release */
			uint64_t end = atomic_load_explicit(
				r->pub[p], memory_order_acquire);
			if (end <= r->pos[p])
				continue;
			ssize_t n = pread(r->fd[p], r->buf, r->size,
					  (off_t)r->pos[p]);
			if (n != (ssize_t)r->size)
				return n < 0 ? -errno : -EIO;
			r->pos[p] += r->size;
			r->next = (p + 1) % r->nprod;
			*data = r->buf;
			*len = r->size;
			return 0;
		}
		if (r->oversub && (spin & 63) == 0)
			sched_yield();
		else
			nvb_relax();
	}
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

	for (int p = 0; p < r->nprod; p++)
		close(r->fd[p]);
	free(r);
}

const struct nvb_tp nvb_tp_fdatasync = {
	.name = "fdatasync",
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
