/* SPDX-License-Identifier: MIT */
/*
 * tcp.c -- reference: plain TCP over loopback (127.0.0.1), the floor of
 * the forwarding path (nvmsgd).  One connection per (direction,
 * consumer), made before the fork (listen on port 0, connect, accept),
 * TCP_NODELAY on both ends.  The reader spins: recv(MSG_DONTWAIT) until
 * the whole message is there (a stream: every message of a case has the
 * case's size), as nvmsgd reads its sockets while it spins (--spin).  The
 * transport is fdpair.c; the forwarding section reports its ping-pong
 * one-way latency (round trip / 2).
 */
#include "fdpair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdio.h"

static int
nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* make -- one connection on 127.0.0.1: p[0] the accepted end (read),
 * p[1] the connecting end (write) */
static int
make(struct nvb_env *e, int p[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), c = -1, s = -1, rc = 0;

	(void)e;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0)
		return -errno;
	if (bind(ls, (void *)&a, sizeof(a)) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (void *)&a, &len) != 0 ||
	    (c = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(c, (void *)&a, sizeof(a)) != 0 ||
	    (s = accept(ls, NULL, NULL)) < 0 || nodelay(c) != 0 ||
	    nodelay(s) != 0)
		rc = -errno;
	close(ls);
	if (rc < 0) {
		if (c >= 0)
			close(c);
		if (s >= 0)
			close(s);
		return rc;
	}
	p[0] = s;
	p[1] = c;
	return 0;
}

static int
send_msg(int fd, const void *buf, size_t len)
{
	return write_all(fd, buf, len);
}

/* recv_msg -- SIZE bytes, polling */
static int
recv_msg(int fd, void *buf, size_t size, size_t *len)
{
	char *p = buf;
	size_t got = 0;

	while (got < size) {
		ssize_t n = recv(fd, p + got, size - got, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		nvb_relax();
	}
	*len = size;
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

const struct nvb_tp nvb_tp_tcp = FDPAIR_TP("tcp", setup);
