/* SPDX-License-Identifier: MIT */
/*
 * unix.c -- peer: Unix domain sockets, SOCK_SEQPACKET socketpairs
 * (reliable, ordered, message boundaries kept).  One pair per (direction,
 * consumer), made before the fork; producers of a fan-in share the
 * sending end (each send is one whole message), a fan-out producer sends
 * to every consumer.  The consumer sleeps in recv(2).
 */
#include "../worker/bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct fds {
	int rd[NVB_MAX_CHAN][NVB_MAX_CONS];
	int wr[NVB_MAX_CHAN][NVB_MAX_CONS];
};

static int
setup(struct nvb_env *e)
{
	struct fds *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	for (int c = 0; c < e->nchan; c++)
		for (int j = 0; j < e->ncons; j++) {
			int p[2];
			if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) != 0) {
				free(f);
				return -errno;
			}
			f->rd[c][j] = p[0];
			f->wr[c][j] = p[1];
		}
	e->priv = f;
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	struct fds *f = e->priv;

	for (int c = 0; c < e->nchan; c++)
		for (int j = 0; j < e->ncons; j++) {
			close(f->rd[c][j]);
			close(f->wr[c][j]);
		}
	free(f);
	e->priv = NULL;
}

struct tx {
	int fd[NVB_MAX_CONS];
	int n;
};

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct fds *f = e->priv;
	struct tx *t = calloc(1, sizeof(*t));

	(void)prod;
	if (!t)
		return -ENOMEM;
	t->n = e->ncons;
	for (int j = 0; j < e->ncons; j++)
		t->fd[j] = f->wr[chan][j];
	*h = t;
	return 0;
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	struct tx *t = h;

	(void)more;
	for (int j = 0; j < t->n; j++) {
		ssize_t n;
		do
			n = send(t->fd[j], buf, len, 0);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)len)
			return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static void
tx_close(void *h)
{
	free(h);
}

struct rx {
	int fd;
	size_t size;
	_Alignas(64) unsigned char buf[];
};

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct fds *f = e->priv;
	struct rx *r = aligned_alloc(64, (sizeof(*r) + e->size + 63) & ~63ul);

	if (!r)
		return -ENOMEM;
	r->fd = f->rd[chan][cons];
	r->size = e->size;
	*h = r;
	return 0;
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct rx *r = h;
	ssize_t n;

	do
		n = recv(r->fd, r->buf, r->size, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
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
	free(h);
}

const struct nvb_tp nvb_tp_unix = {
	.name = "unix",
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
