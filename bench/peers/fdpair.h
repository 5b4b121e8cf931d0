/* SPDX-License-Identifier: MIT */
/*
 * fdpair.h -- the transport shared by the peers built on a pair of file
 * descriptors per (direction, consumer): pipe.c and unix.c.  A peer gives
 * how a pair is made and how one message is written and read; everything
 * else (fan-in sharing the sending end, fan-out to every consumer, the
 * handles) is here.
 */
#ifndef NVB_FDPAIR_H
#define NVB_FDPAIR_H

#include <stddef.h>

#include "../worker/bench.h"

struct fdpair_ops {
	/* make one pair: p[0] read end, p[1] write end; 0 or -errno */
	int (*make)(struct nvb_env *e, int p[2]);
	/* write one whole message; 0 or -errno */
	int (*send)(int fd, const void *buf, size_t len);
	/* read one message of at most SIZE bytes into BUF; *len gets its
	 * length; 0 or -errno */
	int (*recv)(int fd, void *buf, size_t size, size_t *len);
};

int fdpair_setup(struct nvb_env *e, const struct fdpair_ops *ops);
void fdpair_teardown(struct nvb_env *e);
int fdpair_tx_open(struct nvb_env *e, int chan, int prod, void **h);
int fdpair_send(void *h, const void *buf, size_t len, int more);
void fdpair_tx_close(void *h);
int fdpair_rx_open(struct nvb_env *e, int chan, int cons, void **h);
int fdpair_recv(void *h, const void **data, size_t *len);
int fdpair_done(void *h);
void fdpair_rx_close(void *h);

/* FDPAIR_TP -- an nvb_tp named NAME whose setup is SETUP */
#define FDPAIR_TP(NAME, SETUP)                                                 \
	{                                                                      \
		.name = NAME, .setup = SETUP, .teardown = fdpair_teardown,     \
		.tx_open = fdpair_tx_open, .send = fdpair_send,                \
		.tx_close = fdpair_tx_close, .rx_open = fdpair_rx_open,        \
		.recv = fdpair_recv, .done = fdpair_done,                      \
		.rx_close = fdpair_rx_close,                                   \
	}

#endif
