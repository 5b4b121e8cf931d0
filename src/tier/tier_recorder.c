/* SPDX-License-Identifier: MIT */
/*
 * tier_recorder.c -- cache and media images at the persist choke point.
 * See recorder.h for the model.  Regions are keyed by inode, because one
 * file is mapped by several handles (producers, consumers, registrar) that
 * share one page cache.
 */
#include "recorder.h"

/* test builds only: the splitmix64 eviction coin of the test harness */
#include "t_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_REGIONS 64
#define MAX_MAPS 256

struct region {
	dev_t dev;
	ino_t ino;
	char name[256];
	int fd; /* read-only: reads the cache */
	uint64_t len;
	unsigned char *media;
};

struct live_map {
	const unsigned char *base;
	uint64_t len;
	int region;
};

struct pending {
	int region;
	uint64_t off;
	uint64_t len;
	unsigned char *bytes;
};

static struct region regions[MAX_REGIONS];
static int nregions;
static struct live_map maps[MAX_MAPS];
static struct pending *pend;
static size_t npend, cappend;
static int paused;
static uint64_t points;
static nv_recorder_fn on_point;
static void *on_point_arg;

static int
find_map(const void *addr)
{
	const unsigned char *a = addr;

	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].base && a >= maps[i].base &&
		    a < maps[i].base + maps[i].len)
			return i;
	return -1;
}

static void
hook_map(struct nv_map *m, const char *path)
{
	struct stat st;
	int r;

	if (paused || stat(path, &st) != 0)
		return;
	for (r = 0; r < nregions; r++)
		if (regions[r].dev == st.st_dev && regions[r].ino == st.st_ino)
			break;
	if (r == nregions) {
		if (nregions == MAX_REGIONS)
			abort();
		struct region *g = &regions[nregions];
		const char *slash = strrchr(path, '/');
		snprintf(g->name, sizeof(g->name), "%s",
			 slash ? slash + 1 : path);
		g->dev = st.st_dev;
		g->ino = st.st_ino;
		g->len = (uint64_t)st.st_size;
		g->fd = open(path, O_RDONLY | O_CLOEXEC);
		g->media = malloc(g->len);
		if (g->fd < 0 || !g->media ||
		    pread(g->fd, g->media, g->len, 0) != (ssize_t)g->len)
			abort();
		/* what the file holds when first mapped is durable: it was
		 * created and persisted, or fallocated (zeros), before */
		nregions++;
	}
	for (int i = 0; i < MAX_MAPS; i++)
		if (!maps[i].base) {
			maps[i].base = m->base;
			maps[i].len = m->len;
			maps[i].region = r;
			return;
		}
	abort();
}

static void
hook_unmap(struct nv_map *m)
{
	int i = find_map(m->base);

	if (i >= 0)
		maps[i].base = NULL;
}

static void
hook_flush(struct nv_map *m, const void *addr, size_t len)
{
	(void)m;
	if (paused)
		return;
	int i = find_map(addr);
	if (i < 0)
		return;
	/* whole cache lines, as clwb writes them back */
	uint64_t off = (uint64_t)((const unsigned char *)addr - maps[i].base);
	uint64_t lo = off & ~63ull, hi = (off + len + 63) & ~63ull;
	if (hi > maps[i].len)
		hi = maps[i].len;
	if (npend == cappend) {
		cappend = cappend ? 2 * cappend : 64;
		pend = realloc(pend, cappend * sizeof(*pend));
		if (!pend)
			abort();
	}
	struct pending *p = &pend[npend++];
	p->region = maps[i].region;
	p->off = lo;
	p->len = hi - lo;
	p->bytes = malloc(p->len);
	if (!p->bytes)
		abort();
	memcpy(p->bytes, maps[i].base + lo, p->len);
}

static int
hook_drain(struct nv_map *m, enum nv_pp pp)
{
	(void)m;
	if (paused)
		return 0;
	points++;
	if (on_point)
		on_point(points, pp, on_point_arg);
	for (size_t k = 0; k < npend; k++) {
		struct pending *p = &pend[k];
		memcpy(regions[p->region].media + p->off, p->bytes, p->len);
		free(p->bytes);
	}
	npend = 0;
	return 0;
}

static const struct nv_tier_hooks hooks = {
	.map = hook_map,
	.unmap = hook_unmap,
	.flush = hook_flush,
	.drain = hook_drain,
};

void
nv_recorder_start(nv_recorder_fn fn, void *arg)
{
	on_point = fn;
	on_point_arg = arg;
	points = 0;
	paused = 0;
	nv_tier_set_hooks(&hooks);
}

void
nv_recorder_stop(void)
{
	nv_tier_set_hooks(NULL);
	for (size_t k = 0; k < npend; k++)
		free(pend[k].bytes);
	free(pend);
	pend = NULL;
	npend = cappend = 0;
	for (int r = 0; r < nregions; r++) {
		close(regions[r].fd);
		free(regions[r].media);
	}
	nregions = 0;
	memset(maps, 0, sizeof(maps));
}

void
nv_recorder_pause(int p)
{
	paused = p;
}

uint64_t
nv_recorder_points(void)
{
	return points;
}

long
nv_recorder_image(const char *dir, int mode, uint64_t seed)
{
	long dirty = 0;
	uint64_t s = seed;

	for (int r = 0; r < nregions; r++) {
		struct region *g = &regions[r];
		unsigned char *img = malloc(g->len), *cache = malloc(g->len);
		char path[4096 + 256];
		if (!img || !cache)
			abort();
		if (pread(g->fd, cache, g->len, 0) != (ssize_t)g->len)
			abort();
		memcpy(img, g->media, g->len);
		for (uint64_t off = 0; off + 8 <= g->len; off += 8) {
			if (memcmp(img + off, cache + off, 8) == 0)
				continue;
			dirty++;
			if (mode == NV_EVICT_ALL ||
			    (mode == NV_EVICT_RANDOM && (t_rng(&s) & 1)))
				memcpy(img + off, cache + off, 8);
		}
		snprintf(path, sizeof(path), "%s/%s", dir, g->name);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		if (fd < 0) {
			free(img);
			free(cache);
			return -errno;
		}
		if (write(fd, img, g->len) != (ssize_t)g->len)
			abort();
		close(fd);
		free(img);
		free(cache);
	}
	return dirty;
}

int
nv_recorder_durable(const void *addr, uint64_t len)
{
	int i = find_map(addr);

	if (i < 0)
		return -ENOENT;
	uint64_t off = (uint64_t)((const unsigned char *)addr - maps[i].base);
	if (off + len > maps[i].len)
		return -ERANGE;
	return memcmp(regions[maps[i].region].media + off, maps[i].base + off,
		      len) == 0;
}

int
nv_recorder_media_ptr(const char *name, const unsigned char **media,
		      uint64_t *len)
{
	for (int r = 0; r < nregions; r++)
		if (strcmp(regions[r].name, name) == 0) {
			*media = regions[r].media;
			*len = regions[r].len;
			return 0;
		}
	return -ENOENT;
}
