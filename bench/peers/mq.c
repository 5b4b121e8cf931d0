/* SPDX-License-Identifier: MIT */
/*
 * mq.c -- peer: POSIX message queues.  One queue per (direction,
 * consumer), created before the fork with room for 256 messages (10, the
 * unprivileged default, when the kernel refuses more); producers of a
 * fan-in share the queue, a fan-out producer sends to every consumer's.
 * The consumer sleeps in mq_receive(3).
 */
#include "../worker/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

struct qs {
	mqd_t q[NVB_MAX_CHAN][NVB_MAX_CONS];
	char name[NVB_MAX_CHAN][NVB_MAX_CONS][64];
};

static int
setup(struct nvb_env *e)
{
	struct qs *s = calloc(1, sizeof(*s));
	long depth = 256;

	if (!s)
		return -ENOMEM;
	/* 256 x 4 KiB is over the default 800 KiB per user: raise it when
	 * allowed (root), else fall back to the default depth below */
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MSGQUEUE, &rl);
	for (int c = 0; c < e->nchan; c++)
		for (int j = 0; j < e->ncons; j++) {
			struct mq_attr a = { .mq_maxmsg = depth,
					     .mq_msgsize = (long)e->size };
			snprintf(s->name[c][j], sizeof(s->name[c][j]),
				 "/nvmsg-bench-%d-%d-%d", (int)getpid(), c, j);
			mq_unlink(s->name[c][j]);
			s->q[c][j] = mq_open(s->name[c][j],
					     O_RDWR | O_CREAT | O_EXCL, 0600,
					     &a);
			if (s->q[c][j] == (mqd_t)-1 &&
			    (errno == EINVAL || errno == EMFILE) &&
			    depth > 10) {
				depth = 10;
				a.mq_maxmsg = depth;
				s->q[c][j] = mq_open(s->name[c][j],
						     O_RDWR | O_CREAT | O_EXCL,
						     0600, &a);
			}
			if (s->q[c][j] == (mqd_t)-1) {
				int err = errno;
				fprintf(stderr, "bench mq: mq_open %s: %m\n",
					s->name[c][j]);
				free(s);
				return -err;
			}
		}
	snprintf(e->note, sizeof(e->note), "queue depth %ld", depth);
	e->priv = s;
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	struct qs *s = e->priv;

	for (int c = 0; c < e->nchan; c++)
		for (int j = 0; j < e->ncons; j++) {
			mq_close(s->q[c][j]);
			mq_unlink(s->name[c][j]);
		}
	free(s);
	e->priv = NULL;
}

struct tx {
	mqd_t q[NVB_MAX_CONS];
	int n;
};

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct qs *s = e->priv;
	struct tx *t = calloc(1, sizeof(*t));

	(void)prod;
	if (!t)
		return -ENOMEM;
	t->n = e->ncons;
	for (int j = 0; j < e->ncons; j++)
		t->q[j] = s->q[chan][j];
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
			rc = mq_send(t->q[j], buf, len, 0);
		while (rc < 0 && errno == EINTR);
		if (rc < 0)
			return -errno;
	}
	return 0;
}

static void
tx_close(void *h)
{
	free(h);
}

struct rx {
	mqd_t q;
	size_t size;
	_Alignas(64) unsigned char buf[];
};

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct qs *s = e->priv;
	struct rx *r = aligned_alloc(64, (sizeof(*r) + e->size + 63) & ~63ul);

	if (!r)
		return -ENOMEM;
	r->q = s->q[chan][cons];
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
		n = mq_receive(r->q, (char *)r->buf, r->size, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
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

const struct nvb_tp nvb_tp_mq = {
	.name = "mq",
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
