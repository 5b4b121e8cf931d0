/* SPDX-License-Identifier: MIT */
/*
 * conn.c -- one link's socket, plaintext or TLS, with two bounded buffers:
 * frames read but not yet parsed, and frames queued but not yet written.
 * Both are allocated at the link's limits and never grow past them, so a
 * peer that sends without reading, or reads nothing, costs a bounded
 * amount of memory (docs/DAEMON.md, "Bounded memory").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmsgd.h"

int
nvd_conn_init(struct nvd_conn *c, int fd, size_t in_cap, size_t out_cap)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->in = malloc(in_cap);
	c->out = malloc(out_cap);
	if (!c->in || !c->out) {
		free(c->in);
		free(c->out);
		c->in = c->out = NULL;
		return -ENOMEM;
	}
	c->in_cap = in_cap;
	c->out_cap = out_cap;
	return 0;
}

void
nvd_conn_free(struct nvd_conn *c)
{
	if (c->tls) {
		nvd_tls_shutdown(c->tls);
		nvd_tls_free(&c->tls);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int
nvd_conn_grow_in(struct nvd_conn *c, size_t cap)
{
	if (cap <= c->in_cap)
		return 0;
	uint8_t *n = realloc(c->in, cap);
	if (!n)
		return -ENOMEM;
	c->in = n;
	c->in_cap = cap;
	return 0;
}

long
nvd_conn_fill(struct nvd_conn *c)
{
	size_t room = c->in_cap - c->in_len;
	ssize_t n;

	if (room == 0)
		return -ENOBUFS;
	if (c->tls) {
		n = nvd_tls_read(c->tls, c->in + c->in_len, room);
		if (n < 0) {
			if (n == -EAGAIN)
				c->wants = nvd_tls_wants(c->tls);
			else
				snprintf(c->why, sizeof(c->why), "tls: %s",
					 nvd_tls_error(c->tls));
			return (long)n;
		}
	} else {
		n = recv(c->fd, c->in + c->in_len, room, 0);
		if (n < 0) {
			int e = errno == EWOULDBLOCK ? EAGAIN : errno;
			if (e == EINTR)
				e = EAGAIN;
			if (e != EAGAIN)
				snprintf(c->why, sizeof(c->why), "read: %s",
					 strerror(e));
			return -e;
		}
	}
	c->in_len += (size_t)n;
	return (long)n;
}

/* compact -- move the unwritten bytes to the front, so that the room
 * after them is whole again */
static void
compact(struct nvd_conn *c)
{
	if (c->out_off == 0)
		return;
	memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
	c->out_len -= c->out_off;
	c->out_off = 0;
}

int
nvd_conn_flush(struct nvd_conn *c)
{
	while (c->out_off < c->out_len) {
		size_t left = c->out_len - c->out_off;
		ssize_t n;
		if (c->tls) {
			n = nvd_tls_write(c->tls, c->out + c->out_off, left);
			if (n < 0) {
				if (n == -EAGAIN)
					c->wants = nvd_tls_wants(c->tls);
				else
					snprintf(c->why, sizeof(c->why),
						 "tls: %s",
						 nvd_tls_error(c->tls));
				compact(c);
				return (int)n;
			}
		} else {
			n = send(c->fd, c->out + c->out_off, left,
				 MSG_NOSIGNAL);
			if (n < 0) {
				int e = errno == EWOULDBLOCK ? EAGAIN : errno;
				if (e == EINTR)
					continue;
				if (e != EAGAIN)
					snprintf(c->why, sizeof(c->why),
						 "write: %s", strerror(e));
				compact(c);
				return -e;
			}
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

void
nvd_conn_consume(struct nvd_conn *c, size_t n)
{
	if (n >= c->in_len) {
		c->in_len = 0;
		return;
	}
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}
