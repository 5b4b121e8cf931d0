/* SPDX-License-Identifier: MIT */
/*
 * t_tier.c -- tier/: the memory request and the persist choke point.
 * Proves: each tier maps a file as asked (and pmem on a non-DAX file is
 * refused with NVMSG_E_NOT_PMEM and a sentence that names the path and
 * the way out, never silently downgraded); flush and drain work on every
 * tier; every map, flush, drain and unmap of a non-volatile tier goes
 * through the test hooks (the volatile tier never does: persist is a
 * no-op), each drain with its named point, a whole channel lifecycle
 * passes the points in protocol order, and at the "record" point the
 * records are not yet visible to consumers (durable before visible, the
 * first trap behind I2).
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "base/err.h"
#include "tier/tier.h"
#include "t.h"

#define LEN (64 * 1024)

static int
make_file(const char *dir, const char *name, size_t len)
{
	const char *path = t_path(dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		T_FAILF("open %s: %s", path, strerror(errno));
	if (ftruncate(fd, (off_t)len) != 0)
		T_FAILF("ftruncate %s: %s", path, strerror(errno));
	return fd;
}

/* the hooks' log: every map, unmap, flush and drain they were told of */
enum ev { EV_MAP = 1, EV_UNMAP, EV_FLUSH, EV_DRAIN };
static struct {
	enum ev ev;
	enum nv_pp pp;
	struct nv_map *m;
	const void *addr;
	size_t len;
} log_[1024];
static unsigned nlog;
static struct nvmsg_consumer *probe; /* checked at the record point */
static int probe_failures;

static void
note(enum ev ev, enum nv_pp pp, struct nv_map *m, const void *addr, size_t len)
{
	if (nlog < 1024) {
		log_[nlog].ev = ev;
		log_[nlog].pp = pp;
		log_[nlog].m = m;
		log_[nlog].addr = addr;
		log_[nlog].len = len;
	}
	nlog++;
}

static void
on_map(struct nv_map *m, const char *path)
{
	(void)path;
	note(EV_MAP, 0, m, m->base, m->len);
}

static void
on_unmap(struct nv_map *m)
{
	note(EV_UNMAP, 0, m, m->base, m->len);
}

static void
on_flush(struct nv_map *m, const void *addr, size_t len)
{
	note(EV_FLUSH, 0, m, addr, len);
}

static int
on_drain(struct nv_map *m, enum nv_pp pp)
{
	note(EV_DRAIN, pp, m, NULL, 0);
	if (pp == NV_PP_RECORD && probe) {
		struct nvmsg_view v;
		/* the barrier is under way, pub_tail is not yet stored: a
		 * consumer must not see the record yet */
		if (nvmsg_view(probe, &v, 0) != -EAGAIN)
			probe_failures++;
	}
	return 0;
}

static const struct nv_tier_hooks hooks = {
	.map = on_map,
	.unmap = on_unmap,
	.flush = on_flush,
	.drain = on_drain,
};

/* drains -- the persist points in the log, in order */
static unsigned
drains(enum nv_pp *out, unsigned cap)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nlog && i < 1024; i++)
		if (log_[i].ev == EV_DRAIN && n < cap)
			out[n++] = log_[i].pp;
	return n;
}

static void
test_names(void)
{
	for (int pp = NV_PP_CREATE_INIT; pp < NV_PP_COUNT; pp++) {
		const char *n = nv_pp_name((enum nv_pp)pp);
		ASSERT_TRUE(n && strcmp(n, "unknown") != 0);
		for (int q = NV_PP_CREATE_INIT; q < pp; q++)
			ASSERT_TRUE(strcmp(n, nv_pp_name((enum nv_pp)q)) != 0);
	}
	ASSERT_TRUE(strcmp(nv_pp_name((enum nv_pp)0), "unknown") == 0);
	ASSERT_TRUE(strcmp(nv_pp_name(NV_PP_COUNT), "unknown") == 0);
	ASSERT_TRUE(strcmp(nv_pp_name((enum nv_pp) - 1), "unknown") == 0);
	ASSERT_TRUE(strcmp(nv_pp_name(NV_PP_RECORD), "record") == 0);
	ASSERT_TRUE(strcmp(nv_pp_name(NV_PP_ACK), "ack") == 0);
	/* public names */
	for (int t = NVMSG_TIER_VOLATILE; t <= NVMSG_TIER_EMULATED; t++) {
		const char *n = nvmsg_tier_name(t);
		ASSERT_TRUE(n != NULL);
		ASSERT_EQ(nvmsg_tier_parse(n), t);
	}
	ASSERT_TRUE(strcmp(nvmsg_tier_name(NVMSG_TIER_EMULATED), "emulated") ==
		    0);
	ASSERT_TRUE(nvmsg_tier_name(0) == NULL);
	ASSERT_TRUE(nvmsg_tier_name(5) == NULL);
	ASSERT_TRUE(nvmsg_tier_name(-1) == NULL);
	ASSERT_ERR(nvmsg_tier_parse("Volatile"), -EINVAL);
	ASSERT_ERR(nvmsg_tier_parse(""), -EINVAL);
	ASSERT_ERR(nvmsg_tier_parse(NULL), -EINVAL);
}

/* one tier: map, write, flush, drain through the hooks, unmap */
static void
test_map(const char *dir, int tier)
{
	int vol = tier == NVMSG_TIER_VOLATILE;
	char name[32];
	struct nv_map m;
	int fd;

	snprintf(name, sizeof(name), "tier%d", tier);
	fd = make_file(dir, name, LEN);
	nlog = 0;
	ASSERT_OK(nv_tier_map(&m, fd, LEN, tier, 1, t_path(dir, name)));
	ASSERT_TRUE(m.base != NULL);
	ASSERT_EQ(m.len, LEN);
	ASSERT_EQ(m.tier, tier);
	ASSERT_EQ(m.writable, 1);
	ASSERT_EQ(m.granularity, tier == NVMSG_TIER_MSYNC ? 2 : 1);
	/* the volatile tier never reaches the hooks: persist is a no-op */
	ASSERT_EQ(nlog, vol ? 0 : 1);
	if (!vol) {
		ASSERT_EQ(log_[0].ev, EV_MAP);
		ASSERT_TRUE(log_[0].m == &m && log_[0].addr == m.base);
	}
	unsigned char *p = m.base;
	memset(p, 0xa5, LEN);
	nlog = 0;
	/* two disjoint ranges, then one barrier */
	nv_tier_flush(&m, p + 100, 50);
	nv_tier_flush(&m, p + 40000, 5000);
	if (tier == NVMSG_TIER_MSYNC) {
		/* the msync tier widens one dirty range */
		ASSERT_TRUE(m.dirty_lo == (uintptr_t)(p + 100));
		ASSERT_TRUE(m.dirty_hi == (uintptr_t)(p + 45000));
	}
	ASSERT_OK(nv_tier_drain(&m, NV_PP_RECORD));
	if (tier == NVMSG_TIER_MSYNC)
		ASSERT_TRUE(m.dirty_lo >= m.dirty_hi); /* range consumed */
	/* a drain with nothing flushed succeeds and still names its point */
	ASSERT_OK(nv_tier_drain(&m, NV_PP_ACK));
	ASSERT_OK(nv_tier_persist(&m, p + LEN - 8, 8, NV_PP_PRODUCER_CLAIM));
	if (vol) {
		ASSERT_EQ(nlog, 0);
	} else {
		ASSERT_EQ(nlog, 6);
		ASSERT_EQ(log_[0].ev, EV_FLUSH);
		ASSERT_TRUE(log_[0].addr == p + 100 && log_[0].len == 50);
		ASSERT_EQ(log_[1].ev, EV_FLUSH);
		ASSERT_TRUE(log_[1].addr == p + 40000 && log_[1].len == 5000);
		ASSERT_EQ(log_[2].ev, EV_DRAIN);
		ASSERT_EQ(log_[2].pp, NV_PP_RECORD);
		ASSERT_TRUE(log_[2].m == &m);
		ASSERT_EQ(log_[3].ev, EV_DRAIN);
		ASSERT_EQ(log_[3].pp, NV_PP_ACK);
		ASSERT_EQ(log_[4].ev, EV_FLUSH);
		ASSERT_TRUE(log_[4].addr == p + LEN - 8 && log_[4].len == 8);
		ASSERT_EQ(log_[5].ev, EV_DRAIN);
		ASSERT_EQ(log_[5].pp, NV_PP_PRODUCER_CLAIM);
	}
	/* the bytes reached the file (shared mapping) */
	unsigned char back[64];
	ASSERT_EQ(pread(fd, back, sizeof(back), 40000), (ssize_t)sizeof(back));
	for (size_t i = 0; i < sizeof(back); i++)
		ASSERT_EQ(back[i], 0xa5);
	nlog = 0;
	nv_tier_unmap(&m);
	ASSERT_TRUE(m.base == NULL);
	ASSERT_EQ(nlog, vol ? 0 : 1);
	if (!vol)
		ASSERT_EQ(log_[0].ev, EV_UNMAP);
	nv_tier_unmap(&m); /* twice is harmless, and not reported */
	ASSERT_EQ(nlog, vol ? 0 : 1);
	/* a read-only map of the same file, from an O_RDONLY fd */
	int rfd = open(t_path(dir, name), O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(rfd >= 0);
	ASSERT_OK(nv_tier_map(&m, rfd, LEN, tier, 0, t_path(dir, name)));
	ASSERT_EQ(m.writable, 0);
	ASSERT_EQ(((unsigned char *)m.base)[LEN - 1], 0xa5);
	nv_tier_unmap(&m);
	close(rfd);
	close(fd);
}

static void
test_pmem_refused(const char *dir)
{
	struct nv_map m;
	int fd = make_file(dir, "pmem", LEN);
	const char *path = t_path(dir, "pmem");

	nv_err_clear();
	ASSERT_ERR(nv_tier_map(&m, fd, LEN, NVMSG_TIER_PMEM, 1, path),
		   NVMSG_E_NOT_PMEM);
	ASSERT_TRUE(m.base == NULL);
	ASSERT_CONTAINS(nvmsg_errmsg(), path);
	ASSERT_CONTAINS(nvmsg_errmsg(), "MAP_SYNC");
	ASSERT_CONTAINS(nvmsg_errmsg(), "dax");
	ASSERT_CONTAINS(nvmsg_errmsg(), "DAX");
	ASSERT_CONTAINS(nvmsg_errmsg(), "msync");
	nv_tier_unmap(&m); /* nothing mapped: harmless */
	/* a reader never needs MAP_SYNC: read-only maps use plain mmap */
	int rfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(rfd >= 0);
	ASSERT_OK(nv_tier_map(&m, rfd, LEN, NVMSG_TIER_PMEM, 0, path));
	ASSERT_TRUE(m.base != NULL);
	nv_tier_unmap(&m);
	close(rfd);
	close(fd);
}

static void
test_bad_tier(const char *dir)
{
	struct nv_map m;
	int fd = make_file(dir, "bad", LEN);

	for (int t = -1; t <= 6; t += 1) {
		if (t >= NVMSG_TIER_VOLATILE && t <= NVMSG_TIER_EMULATED)
			continue;
		ASSERT_ERR(nv_tier_map(&m, fd, LEN, t, 1, "bad-file"),
			   NVMSG_E_TIER);
		ASSERT_CONTAINS(nvmsg_errmsg(), "bad-file");
		ASSERT_TRUE(m.base == NULL);
	}
	close(fd);
}

static void
test_describe(void)
{
	char b[96], d[48], g[32];

	for (int t = NVMSG_TIER_VOLATILE; t <= NVMSG_TIER_EMULATED; t++) {
		nv_tier_describe(t, 1, b, sizeof(b), d, sizeof(d), g,
				 sizeof(g));
		ASSERT_TRUE(strcmp(b, "unknown") != 0);
		ASSERT_TRUE(strcmp(d, "unknown") != 0);
		ASSERT_TRUE(strcmp(g, "unknown") != 0);
	}
	/* the emulated tier is always labelled as such */
	nv_tier_describe(NVMSG_TIER_EMULATED, 1, b, sizeof(b), d, sizeof(d), g,
			 sizeof(g));
	ASSERT_CONTAINS(b, "emulated");
	ASSERT_CONTAINS(b, "NOT durable");
	nv_tier_describe(NVMSG_TIER_PMEM, 0, b, sizeof(b), d, sizeof(d), g,
			 sizeof(g));
	ASSERT_CONTAINS(d, "cpu_cache");
	nv_tier_describe(NVMSG_TIER_PMEM, 1, b, sizeof(b), d, sizeof(d), g,
			 sizeof(g));
	ASSERT_CONTAINS(d, "memory_controller");
	ASSERT_CONTAINS(g, "cache line");
	nv_tier_describe(0, 1, b, sizeof(b), d, sizeof(d), g, sizeof(g));
	ASSERT_TRUE(strcmp(b, "unknown") == 0);
	/* short buffers are cut, never overrun */
	char tiny[4];
	nv_tier_describe(NVMSG_TIER_EMULATED, 1, tiny, sizeof(tiny), d,
			 sizeof(d), g, sizeof(g));
	ASSERT_EQ(strlen(tiny), 3);
}

/* a whole channel lifecycle passes every named point, in protocol order */
static void
test_channel_points(const char *dir, int tier)
{
	struct nvmsg_producer *p = NULL;
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_view v;
	static const enum nv_pp want[] = {
		/* tables first, then the header (a crash between leaves no
		 * valid header) */
		NV_PP_CREATE_INIT,
		NV_PP_CREATE_INIT,
		NV_PP_CURSOR_INIT,
		NV_PP_CONSUMER_NAME,
		NV_PP_CONSUMER_SLOT,
		NV_PP_CONSUMER_START,
		NV_PP_PRODUCER_CLAIM,
		NV_PP_PRODUCER_RECOVER,
		NV_PP_RECORD,
		NV_PP_RECORD,
		NV_PP_ACK,
	};
	const unsigned nwant = sizeof(want) / sizeof(want[0]);
	enum nv_pp got[64];
	unsigned n;
	char name[16];

	snprintf(name, sizeof(name), "pp%d", tier);
	nlog = 0;
	probe = NULL;
	probe_failures = 0;
	t_create(dir, name, tier, 4096, 1, 2);
	ASSERT_OK(
		nvmsg_consumer_open(dir, name, "c", NVMSG_CONSUMER_CREATE, &c));
	ASSERT_OK(nvmsg_producer_open(dir, name, 0, &p));
	probe = c;
	ASSERT_OK(nvmsg_send(p, "hello", 5, 0, 0));
	probe = NULL;
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_EQ(v.seq, 1);
	/* a batch: NVMSG_MORE does not drain; the flush drains once */
	n = drains(got, 64);
	ASSERT_OK(nvmsg_send(p, "a", 1, NVMSG_MORE, 0));
	ASSERT_OK(nvmsg_send(p, "b", 1, NVMSG_MORE, 0));
	ASSERT_EQ(drains(got, 64), n);
	ASSERT_EQ(nvmsg_view(c, &v, 0), -EAGAIN);
	probe = c;
	ASSERT_OK(nvmsg_producer_flush(p));
	probe = NULL;
	ASSERT_EQ(drains(got, 64), tier == NVMSG_TIER_VOLATILE ? 0 : n + 1);
	for (uint64_t seq = 2; seq <= 3; seq++) {
		ASSERT_OK(nvmsg_view(c, &v, 0));
		ASSERT_EQ(v.seq, seq);
	}
	ASSERT_EQ(nvmsg_view(c, &v, 0), -EAGAIN);
	ASSERT_OK(nvmsg_ack(c));
	ASSERT_EQ(probe_failures, 0);
	n = drains(got, 64);
	if (tier == NVMSG_TIER_VOLATILE) {
		/* no hook on the volatile tier, ever */
		ASSERT_EQ(nlog, 0);
	} else {
		if (n != nwant)
			T_FAILF("tier %d: %u persist points, want %u", tier, n,
				nwant);
		for (unsigned i = 0; i < n; i++)
			if (got[i] != want[i])
				T_FAILF("tier %d: point %u is %s, want %s",
					tier, i, nv_pp_name(got[i]),
					nv_pp_name(want[i]));
		/* every drain had a flush since the previous drain */
		int flushed = 0;
		for (unsigned i = 0; i < nlog && i < 1024; i++) {
			if (log_[i].ev == EV_FLUSH)
				flushed = 1;
			if (log_[i].ev != EV_DRAIN)
				continue;
			if (!flushed)
				T_FAILF("tier %d: drain %s with nothing "
					"flushed before it",
					tier, nv_pp_name(log_[i].pp));
			flushed = 0;
		}
	}
	/* nothing viewed since: ack drains nothing */
	ASSERT_OK(nvmsg_ack(c));
	ASSERT_EQ(drains(got, 64), n);
	nvmsg_producer_close(&p);
	if (tier != NVMSG_TIER_VOLATILE) {
		ASSERT_TRUE(drains(got, 64) > n);
		ASSERT_EQ(got[drains(got, 64) - 1], NV_PP_PRODUCER_CLAIM);
	}
	nvmsg_consumer_close(&c);
	/* every map was unmapped again */
	int maps = 0;
	for (unsigned i = 0; i < nlog && i < 1024; i++)
		maps += log_[i].ev == EV_MAP	 ? 1
			: log_[i].ev == EV_UNMAP ? -1
						 : 0;
	ASSERT_EQ(maps, 0);
}

int
main(void)
{
	const char *dir = t_tmpdir();

	nv_tier_set_hooks(&hooks);
	test_names();
	test_map(dir, NVMSG_TIER_VOLATILE);
	test_map(dir, NVMSG_TIER_EMULATED);
	test_map(dir, NVMSG_TIER_MSYNC);
	test_pmem_refused(dir);
	test_bad_tier(dir);
	test_describe();
	test_channel_points(dir, NVMSG_TIER_VOLATILE);
	test_channel_points(dir, NVMSG_TIER_EMULATED);
	test_channel_points(dir, NVMSG_TIER_MSYNC);
	nv_tier_set_hooks(NULL);
	nlog = 0;
	struct nv_map m;
	int fd = make_file(dir, "nohook", LEN);
	ASSERT_OK(nv_tier_map(&m, fd, LEN, NVMSG_TIER_EMULATED, 1, "nohook"));
	ASSERT_OK(nv_tier_persist(&m, m.base, 64, NV_PP_RECORD));
	ASSERT_EQ(nlog, 0);
	nv_tier_unmap(&m);
	close(fd);
	printf("t_tier: ok\n");
	return T_PASS;
}
