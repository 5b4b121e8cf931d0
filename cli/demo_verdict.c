/* SPDX-License-Identifier: MIT */
/*
 * demo_verdict.c -- the demo consumers' output files: format, restart
 * scan, verdict.
 *
 * One line per processed message, "<producer> <seq>\n", appended with
 * write(2) before the message is acknowledged.  A consumer killed between
 * the write and the ack gets the message again after its restart; it
 * finds the pair already in its file and skips it (an idempotent
 * consumer).  So the file of a correct run holds each pair exactly once,
 * in send order per producer, whatever the kills: that is what the
 * verdict checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "output.h"

size_t
demo_format_line(char *buf, size_t cap, unsigned producer, uint64_t seq)
{
	int n = snprintf(buf, cap, "%u %llu\n", producer,
			 (unsigned long long)seq);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* parse_line -- "<producer> <seq>" in [S, S+N) (no newline); 0 or -1 */
static int
parse_line(const char *s, size_t n, unsigned *producer, uint64_t *seq)
{
	uint64_t v[2] = { 0, 0 };
	size_t i = 0;

	for (int f = 0; f < 2; f++) {
		size_t start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (v[f] > (UINT64_MAX - 9) / 10)
				return -1;
			v[f] = v[f] * 10 + (uint64_t)(s[i++] - '0');
		}
		if (i == start)
			return -1;
		if (f == 0 && (i == n || s[i++] != ' '))
			return -1;
	}
	if (i != n || v[0] >= NVMSG_MAX_PRODUCERS)
		return -1;
	*producer = (unsigned)v[0];
	*seq = v[1];
	return 0;
}

size_t
demo_scan_restart(const char *buf, size_t len, unsigned nproducers,
		  uint64_t *last, uint64_t *lines)
{
	size_t pos = 0;

	*lines = 0;
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		unsigned p;
		uint64_t s;

		if (!nl)
			return pos;
		size_t n = (size_t)(nl - (buf + pos));
		if (parse_line(buf + pos, n, &p, &s) == 0 && p < nproducers &&
		    s > last[p])
			last[p] = s;
		(*lines)++;
		pos += n + 1;
	}
}

int
demo_read_file(int fd, char **bufp, size_t *lenp)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* struct seen -- one bit per (producer, seq), and the highest seq so far */
struct seen {
	unsigned char *bits;
	uint64_t per; /* bits per producer: messages + 1 */
	uint64_t max[NVMSG_MAX_PRODUCERS];
};

static void
check_line(struct seen *sn, const struct demo_cfg *cfg, const char *s, size_t n,
	   struct demo_counts *c)
{
	unsigned p;
	uint64_t seq;

	c->lines++;
	if (parse_line(s, n, &p, &seq) != 0 || p >= cfg->producers ||
	    seq == 0 || seq > cfg->messages) {
		c->invalid++;
		return;
	}
	uint64_t bit = p * sn->per + seq;
	if (sn->bits[bit / 8] & 1u << bit % 8) {
		c->duplicated++;
		return;
	}
	sn->bits[bit / 8] |= (unsigned char)(1u << bit % 8);
	c->unique++;
	if (seq < sn->max[p])
		c->reordered++;
	else
		sn->max[p] = seq;
}

int
demo_check_file(const char *path, const struct demo_cfg *cfg,
		struct demo_counts *c)
{
	struct seen sn = { .per = cfg->messages + 1 };
	char *buf;
	size_t len, pos = 0;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* the consumer never started: all lost */
	if (fd < 0) {
		cli_err("%s: %s", path, strerror(errno));
		return -1;
	}
	rc = demo_read_file(fd, &buf, &len);
	close(fd);
	if (rc < 0) {
		cli_err("%s: %s", path, strerror(-rc));
		return -1;
	}
	sn.bits = calloc(cfg->producers * sn.per / 8 + 1, 1);
	if (!sn.bits) {
		free(buf);
		cli_err("out of memory");
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		check_line(&sn, cfg, buf + pos, n, c);
		pos += n + 1;
	}
	free(sn.bits);
	free(buf);
	return 0;
}
