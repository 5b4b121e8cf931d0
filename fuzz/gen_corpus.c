/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c -- the seed corpora, made from REAL channels: the library
 * creates small channels (4 KiB rings, 1 to 4 producer slots) in a
 * scratch directory, producers and consumers work on them (wrapping the
 * ring, a producer killed between reserve and commit, a batch written
 * but never published), and their files become seeds, whole and damaged.
 *
 *   gen_corpus OUTDIR      writes OUTDIR/{region,check,record,cli}/
 *
 * Run by hand when the format changes (the corpora are committed):
 *   cmake --build build --target gen_corpus
 *   build/fuzz/gen_corpus fuzz/corpus
 * Files already in OUTDIR/<target>/ are kept (libFuzzer's -merge=1 adds
 * the inputs it found there); a seed of the same name is overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nvmsg.h>

#include "base/checksum.h"
#include "fuzz_common.h"
#include "log/log.h"
#include "t_util.h"

#define RING 4096u

static const char *outdir;
static char work[128];
static unsigned nseeds;

static void
die(const char *what, int rc)
{
	fprintf(stderr, "gen_corpus: %s: %d (%s) %s\n", what, rc,
		nvmsg_strerror(rc), nvmsg_errmsg());
	exit(1);
}

#define OK(e)                                                                  \
	do {                                                                   \
		int _rc = (e);                                                 \
		if (_rc < 0)                                                   \
			die(#e, _rc);                                          \
	} while (0)

/* struct blob -- a file's bytes */
struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob
slurp(const char *file)
{
	char path[512];
	struct blob b = { NULL, 0 };
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", work, file);
	f = fopen(path, "rb");
	if (!f)
		return b;
	if (fstat(fileno(f), &st) != 0)
		exit(1);
	b.n = (size_t)st.st_size;
	b.p = malloc(b.n ? b.n : 1);
	if (!b.p || fread(b.p, 1, b.n, f) != b.n)
		exit(1);
	fclose(f);
	return b;
}

static void
seed(const char *target, const char *name, const void *p, size_t n)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (fz_write_file(path, name, p, n) != 0) {
		fprintf(stderr, "gen_corpus: cannot write %s/%s\n", path, name);
		exit(1);
	}
	nseeds++;
}

/* struct image -- one channel's files, as the image format holds them */
struct image {
	struct blob data;
	struct blob cur[FZ_NCUR];
};

static void
take_image(struct image *im, const char *chan)
{
	char f[128];

	snprintf(f, sizeof(f), "%s.nvmsg", chan);
	im->data = slurp(f);
	for (int i = 0; i < FZ_NCUR; i++) {
		snprintf(f, sizeof(f), "%s.%s.nvcur", chan, fz_cur_names[i]);
		im->cur[i] = slurp(f);
	}
}

static void
free_image(struct image *im)
{
	free(im->data.p);
	for (int i = 0; i < FZ_NCUR; i++)
		free(im->cur[i].p);
}

/* chan_seed -- IM as a seed of fuzz_region and fuzz_check */
static void
chan_seed(const char *name, unsigned flags, const struct image *im)
{
	const void *cur[FZ_NCUR];
	size_t cur_len[FZ_NCUR], n;

	for (int i = 0; i < FZ_NCUR; i++) {
		cur[i] = im->cur[i].p;
		cur_len[i] = im->cur[i].n;
	}
	uint8_t *b =
		fz_chan_encode(flags, im->data.p, im->data.n, cur, cur_len, &n);
	if (!b)
		exit(1);
	seed("region", name, b, n);
	seed("check", name, b, n);
	free(b);
}

/* record_seed -- ring I of IM at position POS as a fuzz_record seed */
static void
record_seed(const char *name, const struct image *im, unsigned i, uint64_t pos,
	    unsigned flags)
{
	struct fz_geom g;

	if (fz_geom(im->data.p, im->data.n, &g) != 0 || i >= g.max_producers)
		exit(1);
	size_t n = 11 + g.ring_bytes;
	uint8_t *b = malloc(n);
	if (!b)
		exit(1);
	unsigned k = 0;
	while ((1ull << k) < g.ring_bytes)
		k++;
	b[0] = (uint8_t)k;
	b[1] = (uint8_t)flags;
	memcpy(b + 2, &pos, 8);
	b[10] = (uint8_t)i;
	memcpy(b + 11, im->data.p + g.ring_off + g.ring_bytes * i,
	       g.ring_bytes);
	seed("record", name, b, n);
	free(b);
}

static void
create(const char *chan, unsigned np, unsigned nc)
{
	struct nvmsg_channel_opts o = {
		.tier = NVMSG_TIER_VOLATILE,
		.capacity_bytes = RING,
		.max_producers = np,
		.max_consumers = nc,
		.mode = 0644,
	};
	OK(nvmsg_channel_create(work, chan, &o));
}

static struct nvmsg_consumer *
consumer(const char *chan, const char *name)
{
	struct nvmsg_consumer *c;

	OK(nvmsg_consumer_open(work, chan, name,
			       NVMSG_CONSUMER_CREATE | NVMSG_CONSUMER_VERIFY,
			       &c));
	return c;
}

/* send_n -- N messages of 1 to 200 bytes on slot ID */
static void
send_n(const char *chan, int id, unsigned n, unsigned salt)
{
	struct nvmsg_producer *p;
	char msg[256];

	OK(nvmsg_producer_open(work, chan, id, &p));
	for (unsigned i = 0; i < n; i++) {
		size_t len = 1 + (i * 37 + salt) % 200;
		memset(msg, 'a' + (int)(i % 26), len);
		OK(nvmsg_send(p, msg, len, 0, 0));
	}
	nvmsg_producer_close(&p);
}

/* take_n -- view and ack N messages (fewer if there are fewer) */
static void
take_n(struct nvmsg_consumer *c, unsigned n)
{
	struct nvmsg_view v;

	for (unsigned i = 0; i < n; i++)
		if (nvmsg_view(c, &v, 0) != 0)
			break;
	OK(nvmsg_ack(c));
}

/* die_mid_record -- a child producer on slot ID sends SENT messages,
 * writes BATCH more with NVMSG_MORE (never published) and, if RESERVE,
 * reserves and fills one more, then exits without commit or close */
static void
die_mid_record(const char *chan, int id, unsigned sent, unsigned batch,
	       int reserve)
{
	pid_t pid = fork();

	if (pid < 0)
		exit(1);
	if (pid == 0) {
		struct nvmsg_producer *p;
		struct nvmsg_claim cl;
		if (nvmsg_producer_open(work, chan, id, &p) != 0)
			_exit(1);
		for (unsigned i = 0; i < sent; i++)
			if (nvmsg_send(p, "sent", 4, 0, 0) != 0)
				_exit(1);
		for (unsigned i = 0; i < batch; i++)
			if (nvmsg_send(p, "batched", 7, NVMSG_MORE, 0) != 0)
				_exit(1);
		if (reserve) {
			if (nvmsg_reserve(p, 100, &cl, 0, 0) != 0)
				_exit(1);
			memset(cl.data, 'x', cl.len);
		}
		_exit(0); /* no commit, no close: the slot's owner is dead */
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr, "gen_corpus: dying producer failed\n");
		exit(1);
	}
}

static void
clear_work(void)
{
	fz_clear_dir(work);
}

/* ------------------------------------------------------------ scenarios */

static void
channels(void)
{
	struct nvmsg_consumer *c, *d;
	struct image im, other;
	struct fz_geom g;
	uint8_t *b;

	/* empty: created, one consumer, nothing sent */
	clear_work();
	create("e", 1, 1);
	c = consumer("e", "c");
	nvmsg_consumer_close(&c);
	take_image(&im, "e");
	chan_seed("empty-1p", 0, &im);
	chan_seed("empty-1p-register", FZ_REGISTER | FZ_SEND, &im);
	free_image(&im);

	/* valid: two producers, two consumers at different acks */
	clear_work();
	create("v", 2, 2);
	c = consumer("v", "c");
	d = consumer("v", "d");
	send_n("v", 0, 8, 1);
	send_n("v", 1, 5, 7);
	take_n(c, 6);
	take_n(d, 1);
	nvmsg_consumer_close(&c);
	nvmsg_consumer_close(&d);
	take_image(&im, "v");
	chan_seed("valid-2p", 0, &im);
	chan_seed("valid-2p-fix-all",
		  FZ_FIX_HDR | FZ_FIX_CUR | FZ_FIX_RECS | FZ_FIX_DESC, &im);
	chan_seed("valid-2p-live-send", FZ_OWNER_LIVE | FZ_SEND | FZ_FIX_HDR,
		  &im);
	record_seed("valid-ring0", &im, 0, 0, 2);
	record_seed("valid-ring1-bounds", &im, 1, 0, 0);
	record_seed("valid-ring0-mid", &im, 0,
		    t_get64(im.cur[0].p + NV_ACK_OFF), 3);
	if (fz_geom(im.data.p, im.data.n, &g) != 0)
		exit(1);
	/* a producer slot for nv_desc_read (mode 4) */
	b = malloc(2 + 256);
	b[0] = 4u << 5;
	b[1] = 0;
	memcpy(b + 2, im.data.p + g.prod_table_off, 256);
	seed("record", "desc-slot0", b, 2 + 256);
	free(b);
	/* the data header for nv_data_hdr_check (mode 5) */
	b = malloc(1 + 8 + 256);
	b[0] = 5u << 5;
	t_put64(b + 1, im.data.n);
	memcpy(b + 9, im.data.p, 256);
	seed("record", "data-header", b, 1 + 8 + 256);
	/* future version with a valid checksum */
	b[9 + 8] = 2;
	t_put64(b + 9 + 120, nv_checksum(b + 9, NV_HDR_CHECKED, 0));
	seed("record", "data-header-v2", b, 1 + 8 + 256);
	free(b);
	/* a cursor header for nv_cur_hdr_check (mode 6) */
	b = malloc(1 + 12 + 512);
	b[0] = 6u << 5;
	t_put64(b + 1, im.cur[0].n);
	uint32_t idx = 0;
	memcpy(b + 9, &idx, 4);
	memcpy(b + 13, im.data.p, 256);
	memcpy(b + 13 + 256, im.cur[0].p, 256);
	seed("record", "cursor-header", b, 1 + 12 + 512);
	free(b);

	/* damaged copies of the valid channel */
	struct image dm;
	uint8_t *keep = im.data.p;
	size_t keep_n = im.data.n;
	dm = im;
	dm.data.n = 100; /* shorter than the header */
	chan_seed("trunc-header", 0, &dm);
	dm.data.n = 4096 + 64; /* header whole, tables cut */
	chan_seed("trunc-tables", 0, &dm);
	dm.data.n = keep_n - 1000; /* last ring cut */
	chan_seed("trunc-ring", FZ_FIX_HDR, &dm);
	dm.data.n = 0;
	chan_seed("zero-length", 0, &dm);
	dm.data.n = keep_n;
	dm.cur[0].n = 200; /* cursor shorter than its header */
	chan_seed("trunc-cursor", 0, &dm);
	dm.cur[0].n = im.cur[0].n;

	b = malloc(keep_n);
	dm.data.p = b;
	memcpy(b, keep, keep_n);
	b[0] ^= 0x20; /* magic */
	chan_seed("bad-magic", 0, &dm);
	memcpy(b, keep, keep_n);
	b[8] = 2; /* version, with a valid checksum: NVMSG_E_VERSION */
	chan_seed("future-version", FZ_FIX_HDR, &dm);
	chan_seed("future-version-badsum", 0, &dm);
	memcpy(b, keep, keep_n);
	b[64] ^= 1; /* created_ns: checksum mismatch */
	chan_seed("header-checksum", 0, &dm);
	memcpy(b, keep, keep_n);
	t_put64(b + 24, 8192); /* ring_bytes: geometry does not fit */
	t_put64(b + 16, t_get64(b + 88) + 2 * 8192);
	chan_seed("geometry-too-big", FZ_FIX_HDR, &dm);
	memcpy(b, keep, keep_n);
	t_put64(b + 32, 3); /* max_producers: layout signature mismatch */
	chan_seed("layout-signature", FZ_FIX_HDR, &dm);
	/* a record whose length points past the ring end, resealed: the
	 * oldest record a consumer has not acked (every reader meets it) */
	memcpy(b, keep, keep_n);
	uint64_t lo = t_get64(im.cur[0].p + NV_ACK_OFF);
	if (t_get64(im.cur[1].p + NV_ACK_OFF) < lo)
		lo = t_get64(im.cur[1].p + NV_ACK_OFF);
	uint8_t *r0 = b + g.ring_off + (lo & (RING - 1));
	uint32_t huge = RING;
	memcpy(r0 + 24, &huge, 4);
	chan_seed("record-len-past-end", FZ_FIX_RECS, &dm);
	chan_seed("record-len-past-end-badsum", 0, &dm);
	/* that record claims another producer */
	memcpy(b, keep, keep_n);
	r0[30] = 1;
	chan_seed("record-foreign-producer", FZ_FIX_RECS, &dm);
	/* pub_tail not aligned, and one ring ahead */
	memcpy(b, keep, keep_n);
	t_put64(b + g.prod_table_off, t_get64(b + g.prod_table_off) + 8);
	chan_seed("pub-tail-misaligned", 0, &dm);
	t_put64(b + g.prod_table_off, 5 * RING);
	chan_seed("pub-tail-far", 0, &dm);
	/* a consumer table entry with a bad name and a bad state */
	memcpy(b, keep, keep_n);
	b[4096 + 8] = '.';
	chan_seed("consumer-bad-name", 0, &dm);
	memcpy(b, keep, keep_n);
	b[4096] = 7;
	chan_seed("consumer-bad-state", 0, &dm);
	/* a cursor ahead of the tail */
	memcpy(b, keep, keep_n);
	uint8_t *cb = malloc(im.cur[0].n);
	memcpy(cb, im.cur[0].p, im.cur[0].n);
	dm.cur[0].p = cb;
	t_put64(cb + NV_ACK_OFF, t_get64(b + g.prod_table_off) + 3 * RING);
	chan_seed("cursor-ahead", 0, &dm);
	t_put64(cb + NV_ACK_OFF, t_get64(b + g.prod_table_off) + 64);
	chan_seed("cursor-ahead-near", 0, &dm);
	memcpy(cb, im.cur[0].p, im.cur[0].n);
	cb[12] = 1; /* cons_index: another consumer's slot */
	chan_seed("cursor-wrong-index", FZ_FIX_CUR, &dm);
	/* bit flips spread over the image */
	for (unsigned k = 0; k < 3; k++) {
		char name[32];
		memcpy(b, keep, keep_n);
		memcpy(cb, im.cur[0].p, im.cur[0].n);
		for (unsigned j = 0; j < 24; j++) {
			size_t at =
				((size_t)j * 2654435761u + k * 977) % keep_n;
			b[at] ^= (uint8_t)(1u << ((j + k) % 8));
		}
		cb[NV_ACK_OFF + k] ^= 0x40;
		snprintf(name, sizeof(name), "bitflip-%u", k);
		chan_seed(name, k == 0 ? 0 : FZ_FIX_HDR | FZ_FIX_CUR, &dm);
	}
	free(cb);
	free(b);

	/* a cursor region of another channel (NVMSG_E_MISMATCH) */
	create("o", 2, 2);
	c = consumer("o", "c");
	nvmsg_consumer_close(&c);
	take_image(&other, "o");
	dm = im;
	dm.cur[0] = other.cur[0];
	chan_seed("cursor-other-channel", 0, &dm);
	free_image(&other);
	free_image(&im);

	/* wrapped: three laps of a 4 KiB ring, pads at the ring end */
	clear_work();
	create("w", 1, 2);
	c = consumer("w", "c");
	d = consumer("w", "d");
	for (unsigned lap = 0; lap < 12; lap++) {
		send_n("w", 0, 10, lap);
		take_n(c, 10);
		take_n(d, lap == 11 ? 4 : 10);
	}
	send_n("w", 0, 3, 99);
	nvmsg_consumer_close(&c);
	nvmsg_consumer_close(&d);
	take_image(&im, "w");
	chan_seed("wrapped", 0, &im);
	chan_seed("wrapped-fix-recs", FZ_FIX_RECS | FZ_FIX_HDR, &im);
	record_seed("wrapped-ring0", &im, 0, t_get64(im.cur[1].p + NV_ACK_OFF),
		    2);
	record_seed("wrapped-ring0-lap", &im, 0,
		    t_get64(im.cur[0].p + NV_ACK_OFF) & ~(uint64_t)(RING - 1),
		    3);
	free_image(&im);

	/* producer dead mid-record: sent, batched (unpublished), reserved */
	clear_work();
	create("d", 2, 1);
	c = consumer("d", "c");
	nvmsg_consumer_close(&c);
	send_n("d", 0, 4, 3);
	die_mid_record("d", 1, 3, 2, 1);
	take_image(&im, "d");
	chan_seed("dead-mid-record", 0, &im);
	chan_seed("dead-mid-record-send", FZ_SEND | FZ_REGISTER, &im);
	record_seed("dead-ring1", &im, 1, 0, 2);
	free_image(&im);

	/* producer dead after a reserve only, slot 0, ring wrapped once */
	clear_work();
	create("r", 1, 1);
	c = consumer("r", "c");
	for (unsigned lap = 0; lap < 3; lap++) {
		send_n("r", 0, 12, lap);
		take_n(c, 12);
	}
	nvmsg_consumer_close(&c);
	die_mid_record("r", 0, 1, 0, 1);
	take_image(&im, "r");
	chan_seed("dead-reserve-wrapped", 0, &im);
	record_seed("dead-reserve-ring0", &im, 0, 0, 2);
	free_image(&im);

	/* four slots, two consumers, one batch left unpublished */
	clear_work();
	create("m", 4, 3);
	c = consumer("m", "c");
	d = consumer("m", "d");
	send_n("m", 0, 2, 1);
	send_n("m", 2, 3, 2);
	die_mid_record("m", 3, 0, 3, 0);
	take_n(c, 2);
	nvmsg_consumer_close(&c);
	nvmsg_consumer_close(&d);
	take_image(&im, "m");
	chan_seed("four-slots-unpublished", 0, &im);
	chan_seed("four-slots-live", FZ_OWNER_LIVE | FZ_FIX_HDR, &im);
	free_image(&im);
	clear_work();
}

/* cli -- argument vectors, NUL-separated */
static void
cli(void)
{
	/* sizeof counts the literal's final NUL: it ends the last argument */
#define A(name, lit)                                                           \
	{                                                                      \
		name, lit, sizeof(lit)                                         \
	}
	static const struct {
		const char *name;
		const char *args;
		size_t n;
	} argvs[] = {
		A("create", "create\0q\0--tier\0volatile\0--capacity\0"
			    "4K\0"
			    "--producers\0"
			    "2\0--consumers\0"
			    "2"),
		A("create-msync", "create\0q\0--tier\0msync\0--capacity\0"
				  "8k\0--mode\0"
				  "0600"),
		A("create-pmem", "create\0q\0--tier\0pmem"),
		A("create-big", "create\0q\0--tier\0emulated\0--capacity\0"
				"16G"),
		A("create-dir", "--dir\0.\0create\0q\0--tier\0volatile\0"
				"--capacity\0"
				"4096"),
		A("send", "send\0q\0hello\0world\0--producer\0"
			  "1\0"
			  "--timeout-ms\0"
			  "0"),
		A("send-stdin", "send\0q\0--timeout-ms\0"
				"5"),
		A("recv", "recv\0q\0--consumer\0c\0--count\0"
			  "3\0"
			  "--timeout-ms\0"
			  "0\0--json"),
		A("stat", "stat\0q\0--json"),
		A("check", "check\0q"),
		A("check-json", "check\0q\0--json\0--dir\0."),
		A("repair", "repair\0q"),
		A("ls", "ls\0--json"),
		A("rm", "rm\0q"),
		A("help", "help\0create"),
		A("help-all", "--help"),
		A("version", "--version"),
		A("verb-help", "stat\0--help"),
		A("bad-option", "stat\0q\0--frobnicate"),
		A("bad-number", "recv\0q\0--consumer\0c\0--count\0-1"),
		A("missing-name", "check"),
		A("bad-name", "stat\0.hidden"),
		A("unknown-verb", "frob"),
		A("dash-dash", "--\0stat\0q"),
	};
#undef A
	for (size_t i = 0; i < sizeof(argvs) / sizeof(argvs[0]); i++)
		seed("cli", argvs[i].name, argvs[i].args, argvs[i].n);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	snprintf(work, sizeof(work), "/dev/shm/nvmsg-gen-XXXXXX");
	if (!mkdtemp(work)) {
		perror("mkdtemp");
		return 1;
	}
	channels();
	cli();
	rmdir(work);
	printf("gen_corpus: %u seeds in %s\n", nseeds, outdir);
	return 0;
}
