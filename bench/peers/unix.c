/* SPDX-License-Identifier: MIT */
/*
 * unix.c -- peer: Unix domain sockets, SOCK_SEQPACKET socketpairs
 * (reliable, ordered, message boundaries kept).  One pair per (direction,
 * consumer), made before the fork; producers of a fan-in share the
 * sending end (each send is one whole message), a fan-out producer sends
 * to every consumer.  The consumer sleeps in recv(2).  The transport is
 * fdpair.c.
 */
#include "fdpair.h"

#include <errno.h>
#include <sys/socket.h>

static int
make(struct nvb_env *e, int p[2])
{
	(void)e;
	return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) == 0 ? 0 : -errno;
}

static int
send_msg(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EIO;
	return 0;
}

static int
recv_msg(int fd, void *buf, size_t size, size_t *len)
{
	ssize_t n;

	do
		n = recv(fd, buf, size, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	*len = (size_t)n;
	return 0;
}

static const struct fdpair_ops ops = {
	.make = make,
	.send = send_msg,
	.recv = recv_msg,
};

static int
setup(struct nvb_env *e)
{
	return fdpair_setup(e, &ops);
}

const struct nvb_tp nvb_tp_unix = FDPAIR_TP("unix", setup);
