/* SPDX-License-Identifier: MIT */
/*
 * t_recorder.c -- the simulated power failure itself (src/tier/
 * tier_recorder.c, model in src/tier/recorder.h), checked on its own so
 * that a bug in it cannot hide behind a passing crash test.
 *
 * Proves, on emulated-tier mappings and against a byte model of the media
 * kept by this test:
 *   - a store that was never flushed is not on media (nv_recorder_durable
 *     says no, the NV_EVICT_NONE image holds the old bytes);
 *   - a flushed line is not on media until a drain, and the on_point
 *     callback still sees the old media (it runs before the drain);
 *   - a drain makes exactly the flushed lines durable: whole 64-byte
 *     lines (a flush of 8 bytes, or of 8 bytes across a line boundary,
 *     carries its whole line or lines) as they were at the flush (a store
 *     after the flush is not made durable by it), and nothing else;
 *   - NV_EVICT_ALL puts every dirty word on media (the image is the cache)
 *     and the image's return value counts the dirty 8-byte words;
 *   - NV_EVICT_RANDOM: every word of the image is whole (all 8 bytes from
 *     media or all from cache, never torn inside a word), roughly half the
 *     dirty words reach media, two seeds give different subsets, the same
 *     seed gives the same image byte for byte;
 *   - on_point sees every drain, in order, with its point number (from 1)
 *     and its persist point (checked by name through nv_pp_name), and a
 *     drain with nothing flushed is still a point;
 *   - paused, the recorder ignores flushes, drains and maps (a dropped
 *     flush is not replayed by a later drain; a map made while paused is
 *     never recorded);
 *   - two maps of one file (a second map through a hard link: same inode,
 *     other name) share one media image: a line flushed and drained
 *     through one map is durable seen through the other, mapping again
 *     does not make unflushed stores durable, and the crash image holds
 *     the file once, under the name it was first mapped by.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "t.h"
#include "tier/recorder.h"

#define LEN (16 * 1024)
#define NAME "rec.dat"
#define LINK "rec.link"

static const char *dir, *imgdir;
static struct nv_map m;
static unsigned char *p;	 /* m's bytes: the cache */
static unsigned char model[LEN]; /* what the media must hold */
static unsigned char img[LEN];

/* the on_point callback's log */
static struct {
	uint64_t point;
	enum nv_pp pp;
	int saw_media; /* the probe word was durable when the point fired */
} pts[64];
static unsigned npts;
static const void *probe; /* a word the drain is about to make durable */

static void
on_point(uint64_t point, enum nv_pp pp, void *arg)
{
	ASSERT_TRUE(arg == &npts);
	if (npts < 64) {
		pts[npts].point = point;
		pts[npts].pp = pp;
		pts[npts].saw_media = probe ? nv_recorder_durable(probe, 8)
					    : -1;
	}
	npts++;
}

static int
make_file(const char *name)
{
	const char *path = t_path(dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		T_FAILF("open %s: %s", path, strerror(errno));
	if (ftruncate(fd, LEN) != 0)
		T_FAILF("ftruncate %s: %s", path, strerror(errno));
	return fd;
}

/* image -- write the crash image for MODE and SEED, read ours back into
 * img; returns the number of dirty words the recorder considered */
static long
image(int mode, uint64_t seed)
{
	long n = nv_recorder_image(imgdir, mode, seed);
	int fd;

	if (n < 0)
		T_FAILF("nv_recorder_image: %s", strerror((int)-n));
	fd = open(t_path(imgdir, NAME), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		T_FAILF("open image: %s", strerror(errno));
	ASSERT_EQ(pread(fd, img, LEN, 0), LEN);
	close(fd);
	return n;
}

/* store -- 8 bytes of V at OFF in the cache, not flushed */
static void
store(uint64_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* take_line -- the model's media gets the 64-byte line at OFF as the
 * cache holds it now (what a flush snapshots) */
static void
take_line(unsigned char *snap, uint64_t off)
{
	uint64_t lo = off & ~63ull;

	memcpy(snap + lo, p + lo, 64);
}

/* media_is_model -- the recorder's media equals the model, byte for byte;
 * on a mismatch, name the first differing byte */
static void
media_is_model(const char *when)
{
	const unsigned char *media;
	uint64_t mlen;

	ASSERT_EQ(nv_recorder_media_ptr(NAME, &media, &mlen), 0);
	ASSERT_EQ(mlen, LEN);
	for (uint64_t i = 0; i < LEN; i++)
		if (media[i] != model[i])
			T_FAILF("%s: media byte %" PRIu64 " is %#x, want %#x",
				when, i, media[i], model[i]);
}

/* dirty_words -- 8-byte words where the cache differs from the model */
static long
dirty_words(void)
{
	long n = 0;

	for (uint64_t off = 0; off < LEN; off += 8)
		n += memcmp(p + off, model + off, 8) != 0;
	return n;
}

static void
test_unflushed(void)
{
	store(128, 0x1111111111111111ull);
	ASSERT_EQ(nv_recorder_durable(p + 128, 8), 0);
	ASSERT_EQ(nv_recorder_durable(p + 0, 128), 1); /* untouched */
	/* the whole range counts, not its first bytes */
	ASSERT_EQ(nv_recorder_durable(p + 64, 72), 0);
	ASSERT_ERR(nv_recorder_durable(p + LEN - 8, 16), -ERANGE);
	ASSERT_EQ(image(NV_EVICT_NONE, 1), 1);
	ASSERT_EQ(memcmp(img, model, LEN), 0);
	media_is_model("unflushed store");
}

static void
test_flush_drain(void)
{
	unsigned char snap[LEN];

	memcpy(snap, model, LEN);
	/* line 2 [128, 192): flush 8 bytes of it, the line's last word goes
	 * with it; line 3 [192, 256) is stored but never flushed */
	store(184, 0x2222222222222222ull);
	store(192, 0x3333333333333333ull);
	nv_tier_flush(&m, p + 128, 8);
	take_line(snap, 128);
	/* a flush of 8 bytes at 316 spans lines 4 and 5 [256, 384) */
	store(256, 0x4444444444444444ull);
	store(376, 0x5555555555555555ull);
	nv_tier_flush(&m, p + 316, 8);
	take_line(snap, 256);
	take_line(snap, 320);
	/* stored after its line's flush: the snapshot does not hold it */
	store(136, 0x6666666666666666ull);

	/* flushed, not drained: nothing on media yet */
	ASSERT_EQ(nv_recorder_durable(p + 128, 8), 0);
	ASSERT_EQ(nv_recorder_durable(p + 376, 8), 0);
	ASSERT_EQ(image(NV_EVICT_NONE, 1), dirty_words());
	ASSERT_EQ(memcmp(img, model, LEN), 0);
	media_is_model("flushed, not drained");

	probe = p + 128;
	ASSERT_EQ(nv_tier_drain(&m, NV_PP_RECORD), 0);
	probe = NULL;
	ASSERT_EQ(npts, 1);
	ASSERT_EQ(pts[0].saw_media, 0); /* the callback runs before */

	/* drained: exactly the flushed lines, as they were at the flush */
	memcpy(model, snap, LEN);
	media_is_model("drained");
	ASSERT_EQ(nv_recorder_durable(p + 128, 8), 1);
	ASSERT_EQ(nv_recorder_durable(p + 184, 8), 1);
	ASSERT_EQ(nv_recorder_durable(p + 256, 128), 1);
	ASSERT_EQ(nv_recorder_durable(p + 136, 8), 0);
	ASSERT_EQ(nv_recorder_durable(p + 192, 8), 0);
	ASSERT_EQ(image(NV_EVICT_NONE, 1), 2); /* 136 and 192 */
	ASSERT_EQ(memcmp(img, model, LEN), 0);

	/* flush and drain the rest: line 2 again (136) and line 3 */
	nv_tier_flush(&m, p + 136, 64);
	ASSERT_EQ(nv_tier_drain(&m, NV_PP_ACK), 0);
	take_line(model, 128);
	take_line(model, 192);
	media_is_model("second drain");
	ASSERT_EQ(nv_recorder_durable(p, LEN), 1);
	ASSERT_EQ(image(NV_EVICT_NONE, 1), 0);
}

static void
test_evict_all(void)
{
	/* dirty words in several lines, none flushed */
	for (uint64_t off = 1024; off < 2048; off += 24)
		store(off, 0x0102030405060708ull * (off | 1));
	long dirty = dirty_words();

	ASSERT_TRUE(dirty > 0);
	ASSERT_EQ(image(NV_EVICT_NONE, 5), dirty);
	ASSERT_EQ(memcmp(img, model, LEN), 0);
	ASSERT_EQ(image(NV_EVICT_ALL, 5), dirty);
	ASSERT_EQ(memcmp(img, p, LEN), 0);
	media_is_model("after images"); /* an image does not touch media */
}

/* evicted -- classify every word of img: the bitmap of words that came
 * from the cache; fails on a word that is neither media's nor cache's */
static long
evicted(unsigned char *from_cache)
{
	long n = 0;

	for (uint64_t off = 0; off < LEN; off += 8) {
		int was_media = memcmp(img + off, model + off, 8) == 0;
		int was_cache = memcmp(img + off, p + off, 8) == 0;
		if (!was_media && !was_cache)
			T_FAILF("image word at %" PRIu64 " is torn: neither "
				"media's nor cache's",
				off);
		from_cache[off / 8] = was_cache && !was_media;
		n += from_cache[off / 8];
	}
	return n;
}

static void
test_evict_random(void)
{
	static unsigned char a[LEN / 8], b[LEN / 8], again[LEN];
	/* 1024 more dirty words, each differing from media in all 8 bytes,
	 * so that a torn word could not pass for a whole one */
	for (uint64_t off = 4096; off < 4096 + 8192; off += 8)
		store(off,
		      0x8080808080808080ull | (off * 0x0101010101010101ull));
	long dirty = dirty_words();

	ASSERT_TRUE(dirty >= 1024);
	ASSERT_EQ(image(NV_EVICT_RANDOM, 11), dirty);
	long na = evicted(a);
	memcpy(again, img, LEN);
	ASSERT_EQ(image(NV_EVICT_RANDOM, 12), dirty);
	long nb = evicted(b);
	/* roughly half: binomial(dirty, 1/2) is within 0.4..0.6 of dirty
	 * except with probability below 1e-9 */
	ASSERT_TRUE(na * 10 >= dirty * 4 && na * 10 <= dirty * 6);
	ASSERT_TRUE(nb * 10 >= dirty * 4 && nb * 10 <= dirty * 6);
	ASSERT_TRUE(memcmp(a, b, sizeof(a)) != 0);
	long differ = 0;
	for (size_t i = 0; i < sizeof(a); i++)
		differ += a[i] != b[i];
	ASSERT_TRUE(differ * 10 >= dirty * 3); /* about half differ */
	/* the same seed again: the same image */
	ASSERT_EQ(image(NV_EVICT_RANDOM, 11), dirty);
	ASSERT_EQ(memcmp(img, again, LEN), 0);
	media_is_model("after random images");
	fprintf(stderr,
		"random eviction: %ld dirty words, seed 11: %ld on "
		"media, seed 12: %ld, subsets differ in %ld\n",
		dirty, na, nb, differ);
}

static void
test_points(void)
{
	static const enum nv_pp order[] = {
		NV_PP_CREATE_INIT,
		NV_PP_CONSUMER_SLOT,
		NV_PP_PRODUCER_CLAIM,
		NV_PP_ACK,
	};
	static const char *const names[] = {
		"create-init",
		"consumer-slot",
		"producer-claim",
		"ack",
	};
	uint64_t before = nv_recorder_points();
	unsigned first = npts;

	ASSERT_EQ(before, npts);
	for (unsigned i = 0; i < 4; i++) {
		if (i % 2) {
			nv_tier_flush(&m, p + 64 * i, 8);
			take_line(model, 64 * i);
		}
		/* a drain with nothing flushed is a point too */
		ASSERT_EQ(nv_tier_drain(&m, order[i]), 0);
	}
	ASSERT_EQ(nv_recorder_points(), before + 4);
	ASSERT_EQ(npts, first + 4);
	for (unsigned i = 0; i < 4; i++) {
		ASSERT_U64_EQ(pts[first + i].point, before + 1 + i);
		ASSERT_EQ(pts[first + i].pp, order[i]);
		if (strcmp(nv_pp_name(pts[first + i].pp), names[i]) != 0)
			T_FAILF("point %u: %s, want %s", i,
				nv_pp_name(pts[first + i].pp), names[i]);
	}
	ASSERT_EQ(pts[0].point, 1);
	ASSERT_EQ(pts[0].pp, NV_PP_RECORD);
	ASSERT_EQ(strcmp(nv_pp_name(pts[0].pp), "record"), 0);
	ASSERT_EQ(pts[1].pp, NV_PP_ACK);
	media_is_model("points");
}

static void
test_pause(void)
{
	uint64_t before = nv_recorder_points();
	unsigned seen = npts;
	struct nv_map m2;
	int fd2 = make_file("paused.dat");

	nv_recorder_pause(1);
	store(512, 0x7777777777777777ull);
	nv_tier_flush(&m, p + 512, 8);
	ASSERT_EQ(nv_tier_drain(&m, NV_PP_RECORD), 0);
	ASSERT_OK(nv_tier_map(&m2, fd2, LEN, NVMSG_TIER_EMULATED, 1,
			      t_path(dir, "paused.dat")));
	nv_recorder_pause(0);

	ASSERT_U64_EQ(nv_recorder_points(), before);
	ASSERT_EQ(npts, seen);
	ASSERT_EQ(nv_recorder_durable(p + 512, 8), 0);
	media_is_model("paused flush and drain");
	/* the flush was dropped, not kept for the next drain */
	ASSERT_EQ(nv_tier_drain(&m, NV_PP_RECORD), 0);
	ASSERT_EQ(nv_recorder_durable(p + 512, 8), 0);
	media_is_model("drain after pause");
	/* the map made while paused is not recorded, now or later */
	ASSERT_ERR(nv_recorder_durable(m2.base, 8), -ENOENT);
	const unsigned char *media;
	uint64_t mlen;
	ASSERT_ERR(nv_recorder_media_ptr("paused.dat", &media, &mlen), -ENOENT);
	nv_tier_unmap(&m2);
	close(fd2);

	/* unpaused, the same flush works */
	nv_tier_flush(&m, p + 512, 8);
	ASSERT_EQ(nv_tier_drain(&m, NV_PP_RECORD), 0);
	take_line(model, 512);
	ASSERT_EQ(nv_recorder_durable(p + 512, 8), 1);
	media_is_model("flush after pause");
}

static void
test_two_maps(void)
{
	struct nv_map m2;
	const char *link_path = t_path(dir, LINK);
	unsigned char *q;

	/* an unflushed store made before the second map */
	store(8192, 0x9999999999999999ull);
	if (link(t_path(dir, NAME), link_path) != 0)
		T_FAILF("link: %s", strerror(errno));
	int fd2 = open(link_path, O_RDWR | O_CLOEXEC);
	if (fd2 < 0)
		T_FAILF("open %s: %s", link_path, strerror(errno));
	ASSERT_OK(
		nv_tier_map(&m2, fd2, LEN, NVMSG_TIER_EMULATED, 1, link_path));
	q = m2.base;
	ASSERT_TRUE(q != p);
	/* mapping again did not re-read the file as durable */
	ASSERT_EQ(nv_recorder_durable(q + 8192, 8), 0);
	ASSERT_EQ(nv_recorder_durable(p + 8192, 8), 0);
	const unsigned char *media;
	uint64_t mlen;
	ASSERT_ERR(nv_recorder_media_ptr(LINK, &media, &mlen), -ENOENT);

	/* through the second map, seen durable through the first */
	uint64_t v = 0xababababababababull;
	memcpy(q + 640, &v, 8);
	ASSERT_EQ(nv_recorder_durable(p + 640, 8), 0);
	nv_tier_flush(&m2, q + 640, 8);
	ASSERT_EQ(nv_tier_drain(&m2, NV_PP_RECORD), 0);
	take_line(model, 640);
	ASSERT_EQ(nv_recorder_durable(p + 640, 8), 1);
	ASSERT_EQ(nv_recorder_durable(q + 640, 8), 1);
	media_is_model("flushed through the second map");
	/* and the other way round */
	store(704, 0xcdcdcdcdcdcdcdcdull);
	nv_tier_flush(&m, p + 704, 8);
	ASSERT_EQ(nv_tier_drain(&m, NV_PP_RECORD), 0);
	take_line(model, 704);
	ASSERT_EQ(nv_recorder_durable(q + 704, 8), 1);
	media_is_model("flushed through the first map");

	/* one file, one image, under its first name */
	ASSERT_EQ(nv_recorder_image(imgdir, NV_EVICT_NONE, 1), dirty_words());
	ASSERT_EQ(t_count_entries(imgdir), 1);
	image(NV_EVICT_NONE, 1);
	ASSERT_EQ(memcmp(img, model, LEN), 0);

	/* the second map gone, the first still recorded */
	nv_tier_unmap(&m2);
	close(fd2);
	ASSERT_EQ(nv_recorder_durable(p + 704, 8), 1);
}

int
main(void)
{
	int fd;

	t_watchdog(60);
	dir = t_tmpdir();
	imgdir = t_tmpdir();
	fd = make_file(NAME);
	/* a file is durable as it is when first mapped: zeros */
	memset(model, 0, sizeof(model));

	nv_recorder_start(on_point, &npts);
	ASSERT_OK(nv_tier_map(&m, fd, LEN, NVMSG_TIER_EMULATED, 1,
			      t_path(dir, NAME)));
	p = m.base;
	ASSERT_EQ(nv_recorder_points(), 0);
	ASSERT_ERR(nv_recorder_durable(model, 8), -ENOENT);
	media_is_model("first map");

	test_unflushed();
	test_flush_drain();
	test_evict_all();
	test_evict_random();
	test_points();
	test_pause();
	test_two_maps();

	nv_tier_unmap(&m);
	ASSERT_ERR(nv_recorder_durable(p, 8), -ENOENT);
	close(fd);
	nv_recorder_stop();
	const unsigned char *media;
	uint64_t mlen;
	ASSERT_ERR(nv_recorder_media_ptr(NAME, &media, &mlen), -ENOENT);
	printf("recorder: all checks passed\n");
	return T_PASS;
}
