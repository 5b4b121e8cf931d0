/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.c -- oracles, the scratch directory and the channel image
 * format shared by the fuzz targets (fuzz_common.h).
 *
 * The fix-ups read the image with the same distrust as the library:
 * every offset is checked against the image length before it is used.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvmsg.h>

#include "base/checksum.h"
#include "chan/chan.h"
#include "log/log.h"
#include "t_util.h"

const char *const fz_cur_names[FZ_NCUR] = { "c", "d" };

void
fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n%s:%d: FUZZ ORACLE FAILED: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  last nvmsg_errmsg(): %s\n", nvmsg_errmsg());
	abort();
}

void
fz_named(int rc, const char *what, const char *dir)
{
	const char *msg = nvmsg_errmsg();

	if (rc == 0)
		return;
	FZ_CHECK(rc < 0, "%s returned %d", what, rc);
	FZ_CHECK(strcmp(nvmsg_strerror(rc), "unknown nvmsg error code") != 0,
		 "%s returned %d, a code nvmsg_strerror does not name", what,
		 rc);
	/* -EAGAIN from view and recv is the hot path's "nothing yet": it
	 * sets no sentence, by design */
	if (rc != -EAGAIN)
		FZ_CHECK(msg && msg[0], "%s returned %d (%s) with no sentence",
			 what, rc, nvmsg_strerror(rc));
	if (dir && (rc == NVMSG_E_CORRUPT || rc == NVMSG_E_VERSION ||
		    rc == NVMSG_E_MISMATCH))
		FZ_CHECK(strstr(msg, dir) != NULL,
			 "%s returned %s but the sentence names no file in "
			 "%s: \"%s\"",
			 what, nvmsg_strerror(rc), dir, msg);
}

int
fz_known_bugs(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("NVMSG_FUZZ_KNOWN_BUGS") != NULL;
	return on;
}

int
fz_lowest_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static char tmpdir[128];

static void
remove_tmpdir(void)
{
	if (tmpdir[0]) {
		fz_clear_dir(tmpdir);
		rmdir(tmpdir);
		tmpdir[0] = '\0';
	}
}

const char *
fz_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/dev/shm/nvmsg-fuzz-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			fprintf(stderr, "mkdtemp %s: %s\n", tmpdir,
				strerror(errno));
			abort();
		}
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

void
fz_clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		/* a directory: EISDIR on Linux, EPERM by POSIX */
		if (unlink(p) != 0 && (errno == EISDIR || errno == EPERM))
			rmdir(p);
	}
	closedir(d);
}

int
fz_write_file(const char *dir, const char *file, const void *p, size_t n)
{
	char path[512];
	const uint8_t *b = p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	close(fd);
	return 0;
}

/* ------------------------------------------------------- channel image */

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* take -- the next part: u32 length, then up to that many bytes */
static int
take(const uint8_t **in, size_t *n, uint8_t **out, size_t *len)
{
	if (*n < 4)
		return 0;
	size_t want = get32(*in);
	*in += 4;
	*n -= 4;
	if (want > *n)
		want = *n;
	*out = malloc(want ? want : 1);
	if (!*out)
		abort();
	memcpy(*out, *in, want);
	*len = want;
	*in += want;
	*n -= want;
	return 1;
}

int
fz_chan_parse(struct fz_chan *c, const uint8_t *in, size_t n)
{
	memset(c, 0, sizeof(*c));
	if (n < 1)
		return -1;
	c->flags = in[0];
	in++;
	n--;
	c->has_data = take(&in, &n, &c->data, &c->data_len);
	for (int i = 0; i < FZ_NCUR; i++)
		c->has_cur[i] = take(&in, &n, &c->cur[i], &c->cur_len[i]);
	return 0;
}

void
fz_chan_free(struct fz_chan *c)
{
	free(c->data);
	for (int i = 0; i < FZ_NCUR; i++)
		free(c->cur[i]);
	memset(c, 0, sizeof(*c));
}

uint8_t *
fz_chan_encode(unsigned flags, const void *data, size_t data_len,
	       const void *const cur[FZ_NCUR], const size_t cur_len[FZ_NCUR],
	       size_t *len)
{
	size_t n = 1 + 4 + data_len;
	for (int i = 0; i < FZ_NCUR; i++)
		if (cur[i])
			n += 4 + cur_len[i];
	uint8_t *b = malloc(n), *p = b;
	if (!b)
		return NULL;
	*p++ = (uint8_t)flags;
	uint32_t l = (uint32_t)data_len;
	memcpy(p, &l, 4);
	memcpy(p + 4, data, data_len);
	p += 4 + data_len;
	for (int i = 0; i < FZ_NCUR; i++) {
		if (!cur[i])
			break; /* parts are positional: stop at a gap */
		l = (uint32_t)cur_len[i];
		memcpy(p, &l, 4);
		memcpy(p + 4, cur[i], cur_len[i]);
		p += 4 + cur_len[i];
	}
	*len = (size_t)(p - b);
	return b;
}

int
fz_geom(const uint8_t *data, size_t len, struct fz_geom *g)
{
	struct nv_layout l;

	if (len < sizeof(struct nv_data_hdr))
		return -1;
	if (nv_layout_compute(&l, t_get64(data + 24), get32(data + 32),
			      get32(data + 36)) != 0 ||
	    l.file_bytes > len)
		return -1;
	g->ring_bytes = l.ring_bytes;
	g->max_producers = l.max_producers;
	g->max_consumers = l.max_consumers;
	g->prod_table_off = l.prod_table_off;
	g->ring_off = l.ring_off;
	g->file_bytes = l.file_bytes;
	return 0;
}

void
fz_reseal_ring(uint8_t *ring, uint64_t rb)
{
	for (uint64_t off = 0; off + NV_REC_HDR <= rb; off += NV_REC_ALIGN) {
		uint8_t *r = ring + off;
		/* the commit word (pos | 1) gives the position; a word
		 * without bit 0 (an uncommitted or version 1 record) too */
		uint64_t pos = t_get64(r) & ~(uint64_t)1;
		uint32_t len = get32(r + 24);
		uint16_t type = (uint16_t)(r[28] | r[29] << 8);
		if ((pos & (rb - 1)) != off ||
		    (type != NV_REC_MSG && type != NV_REC_PAD) ||
		    len > rb - off - NV_REC_HDR)
			continue;
		t_put64(r + 8,
			nv_checksum(r + 16, 16 + (type == NV_REC_MSG ? len : 0),
				    pos));
	}
}

void
fz_chan_fix(struct fz_chan *c)
{
	struct fz_geom g;

	if (c->has_data && fz_geom(c->data, c->data_len, &g) == 0) {
		for (unsigned i = 0; i < g.max_producers; i++) {
			uint8_t *slot = c->data + g.prod_table_off + 256u * i;
			if ((c->flags & FZ_OWNER_LIVE) && t_get64(slot + 128))
				t_put64(slot + 128, nv_owner_self());
			if (c->flags & FZ_FIX_DESC)
				for (unsigned k = 0; k < 2; k++) {
					uint8_t *d = slot + 64 + 32 * k;
					t_put64(d + 24,
						nv_checksum(d, 24,
							    2ull * i + k + 1));
				}
			if (c->flags & FZ_FIX_RECS)
				fz_reseal_ring(c->data + g.ring_off +
						       g.ring_bytes * i,
					       g.ring_bytes);
		}
	}
	if ((c->flags & FZ_FIX_HDR) && c->has_data && c->data_len >= 128)
		t_put64(c->data + 120, nv_checksum(c->data, NV_HDR_CHECKED, 0));
	for (int i = 0; i < FZ_NCUR; i++)
		if ((c->flags & FZ_FIX_CUR) && c->has_cur[i] &&
		    c->cur_len[i] >= 128)
			t_put64(c->cur[i] + 120,
				nv_checksum(c->cur[i], NV_HDR_CHECKED, 0));
}

void
fz_chan_write(const struct fz_chan *c, const char *dir)
{
	char file[64];

	fz_clear_dir(dir);
	if (c->has_data &&
	    fz_write_file(dir, FZ_CHAN ".nvmsg", c->data, c->data_len) != 0)
		abort();
	for (int i = 0; i < FZ_NCUR; i++) {
		if (!c->has_cur[i])
			continue;
		snprintf(file, sizeof(file), FZ_CHAN ".%s.nvcur",
			 fz_cur_names[i]);
		if (fz_write_file(dir, file, c->cur[i], c->cur_len[i]) != 0)
			abort();
	}
}

/* ------------------------------------------------------ shared oracles */

int
fz_check_run(const char *dir, struct nvmsg_check *r)
{
	int rc = nvmsg_channel_check(dir, FZ_CHAN, r);

	fz_named(rc, "nvmsg_channel_check", dir);
	if (rc < 0)
		return rc;
	FZ_CHECK(r->producers <= NVMSG_MAX_PRODUCERS &&
			 r->producers_dead <= r->producers &&
			 r->consumers <= NVMSG_MAX_CONSUMERS &&
			 r->repairs_needed <= r->producers &&
			 r->torn_tails <= r->producers,
		 "check report out of range: %u producers, %u dead, %u "
		 "consumers, %u repairs",
		 r->producers, r->producers_dead, r->consumers,
		 r->repairs_needed);
	FZ_CHECK(memchr(r->first_error, '\0', sizeof(r->first_error)) != NULL,
		 "first_error not terminated");
	FZ_CHECK(!r->errors == !r->first_error[0],
		 "%u errors but first_error \"%s\"", r->errors, r->first_error);
	if (r->errors)
		FZ_CHECK(strstr(r->first_error, dir) != NULL,
			 "first_error names no file in %s: \"%s\"", dir,
			 r->first_error);
	return 0;
}

int
fz_stat_run(const char *dir)
{
	struct nvmsg_stat *st = malloc(sizeof(*st));
	int rc;

	if (!st)
		abort();
	rc = nvmsg_channel_stat(dir, FZ_CHAN, st);
	fz_named(rc, "nvmsg_channel_stat", dir);
	if (rc == 0) {
		FZ_CHECK(st->max_producers >= 1 &&
				 st->max_producers <= NVMSG_MAX_PRODUCERS &&
				 st->max_consumers >= 1 &&
				 st->max_consumers <= NVMSG_MAX_CONSUMERS,
			 "stat geometry %u producers %u consumers",
			 st->max_producers, st->max_consumers);
		FZ_CHECK(st->nproducers <= st->max_producers &&
				 st->nconsumers <= st->max_consumers,
			 "stat counts %u/%u producers %u/%u consumers",
			 st->nproducers, st->max_producers, st->nconsumers,
			 st->max_consumers);
		FZ_CHECK(nvmsg_tier_name(st->tier) != NULL, "stat tier %d",
			 st->tier);
		for (unsigned i = 0; i < st->nconsumers; i++)
			FZ_CHECK(memchr(st->consumers[i].name, '\0',
					sizeof(st->consumers[i].name)),
				 "consumer name not terminated");
	}
	free(st);
	return rc;
}
