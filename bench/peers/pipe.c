/* SPDX-License-Identifier: MIT */
/*
 * pipe.c -- peer: anonymous pipes.  One pipe per (direction, consumer),
 * made before the fork and sized to 1 MiB (as nvmsg's ring); producers
 * of a fan-in share the pipe (writes of at most PIPE_BUF bytes are
 * atomic), a fan-out producer writes each message to every consumer's
 * pipe.  The consumer sleeps in read(2).
 */
#include "../worker/bench.h"
#include "fdio.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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
	if (e->size > PIPE_BUF)
		snprintf(e->note, sizeof(e->note),
			 "messages over PIPE_BUF: fan-in may interleave");
	for (int c = 0; c < e->nchan; c++)
		for (int j = 0; j < e->ncons; j++) {
			int p[2];
			if (pipe(p) != 0) {
				free(f);
				return -errno;
			}
			fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
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
		int rc = write_all(t->fd[j], buf, len);
		if (rc < 0)
			return rc;
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
	int rc = read_all(r->fd, r->buf, r->size);

	*data = r->buf;
	*len = r->size;
	return rc;
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

const struct nvb_tp nvb_tp_pipe = {
	.name = "pipe",
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
