/* SPDX-License-Identifier: MIT */
/*
 * fdpair.c -- the fd-pair transport of pipe.c and unix.c (fdpair.h).
 */
#include "fdpair.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct fds {
	const struct fdpair_ops *ops;
	int rd[NVB_MAX_CHAN][NVB_MAX_CONS];
	int wr[NVB_MAX_CHAN][NVB_MAX_CONS];
};

int
fdpair_setup(struct nvb_env *e, const struct fdpair_ops *ops)
{
	struct fds *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->ops = ops;
	for (int c = 0; c < e->nchan; c++)
		for (int j = 0; j < e->ncons; j++) {
			int p[2];
			int rc = ops->make(e, p);
			if (rc < 0) {
				free(f);
				return rc;
			}
			f->rd[c][j] = p[0];
			f->wr[c][j] = p[1];
		}
	e->priv = f;
	return 0;
}

void
fdpair_teardown(struct nvb_env *e)
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
	const struct fdpair_ops *ops;
	int fd[NVB_MAX_CONS];
	int n;
};

int
fdpair_tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct fds *f = e->priv;
	struct tx *t = calloc(1, sizeof(*t));

	(void)prod;
	if (!t)
		return -ENOMEM;
	t->ops = f->ops;
	t->n = e->ncons;
	for (int j = 0; j < e->ncons; j++)
		t->fd[j] = f->wr[chan][j];
	*h = t;
	return 0;
}

int
fdpair_send(void *h, const void *buf, size_t len, int more)
{
	struct tx *t = h;

	(void)more;
	for (int j = 0; j < t->n; j++) {
		int rc = t->ops->send(t->fd[j], buf, len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
fdpair_tx_close(void *h)
{
	free(h);
}

struct rx {
	const struct fdpair_ops *ops;
	int fd;
	size_t size;
	_Alignas(64) unsigned char buf[];
};

int
fdpair_rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct fds *f = e->priv;
	struct rx *r = aligned_alloc(64, (sizeof(*r) + e->size + 63) & ~63ul);

	if (!r)
		return -ENOMEM;
	r->ops = f->ops;
	r->fd = f->rd[chan][cons];
	r->size = e->size;
	*h = r;
	return 0;
}

int
fdpair_recv(void *h, const void **data, size_t *len)
{
	struct rx *r = h;

	*data = r->buf;
	return r->ops->recv(r->fd, r->buf, r->size, len);
}

int
fdpair_done(void *h)
{
	(void)h;
	return 0;
}

void
fdpair_rx_close(void *h)
{
	free(h);
}
