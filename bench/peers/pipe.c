/* SPDX-License-Identifier: MIT */
/*
 * pipe.c -- peer: anonymous pipes.  One pipe per (direction, consumer),
 * made before the fork and sized to 1 MiB (as nvmsg's ring); producers
 * of a fan-in share the pipe (writes of at most PIPE_BUF bytes are
 * atomic), a fan-out producer writes each message to every consumer's
 * pipe.  The consumer sleeps in read(2).  The transport is fdpair.c.
 */
#include "fdio.h"
#include "fdpair.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>

static int
make(struct nvb_env *e, int p[2])
{
	(void)e;
	if (pipe(p) != 0)
		return -errno;
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	return 0;
}

/* a pipe keeps no boundaries: every message is read at its known size */
static int
recv_msg(int fd, void *buf, size_t size, size_t *len)
{
	*len = size;
	return read_all(fd, buf, size);
}

static const struct fdpair_ops ops = {
	.make = make,
	.send = write_all,
	.recv = recv_msg,
};

static int
setup(struct nvb_env *e)
{
	if (e->size > PIPE_BUF)
		snprintf(e->note, sizeof(e->note),
			 "messages over PIPE_BUF: fan-in may interleave");
	return fdpair_setup(e, &ops);
}

const struct nvb_tp nvb_tp_pipe = FDPAIR_TP("pipe", setup);
