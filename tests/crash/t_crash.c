/* SPDX-License-Identifier: MIT */
/*
 * t_crash.c -- simulated power failure at every persist point.
 *
 * Proves I1 (no loss), I2 (no phantom, nothing visible that is not
 * durable), I3 (per-producer order) and "an acked message is never
 * received again" across power failures, on the emulated tier with the
 * recorder (src/tier/tier_recorder.c) at the persist choke point.
 *
 * A seeded single-threaded schedule drives 3 producers (4 slots) and 2
 * consumers through sends, NVMSG_MORE batches, flushes, views, acks,
 * consumer restarts, producer restarts, ring wrap-around and back-pressure,
 * and one producer that dies between reserve and commit.  At every drain
 * (before it takes effect) the test:
 *   1. checks that every record a consumer could see now (its commit word
 *      set, or below pub_tail) is already on media (I2, "durable before
 *      visible"), walking each ring from the lowest ack of all consumers
 *      and counting the records it checked, and that no ack_pub is ahead
 *      of the durable ack;
 *   2. for each eviction seed (none, all, then random 8-byte subsets),
 *      writes the crash image to a second directory and "reboots" (every
 *      owner process is dead); then, BEFORE any writer runs: the unacked
 *      record at each durable ack (read from the image's cursor file) must
 *      be whole, every consumer drains the raw image read-only and must
 *      find every message whose send returned (a reader needs no writer),
 *      and a consumer registered there must start after everything sent
 *      before it existed; then recovery opens every producer slot, the
 *      consumers drain again and must see exactly what they saw before
 *      recovery, and I1-I3 are checked against what the workload had been
 *      told before the crash.
 * At some acks (a seeded quarter) the schedule interleaves: while the ack's
 * barrier is in flight the producers try to send until their rings are
 * full, so a producer that reused space on an ack not yet durable (mutant
 * 3) overwrites records a power failure can leave unacked.
 * Then it samples more random (point, seed) pairs from other schedules.
 * Each violation has a kind (enum kind); the last lines count them by kind
 * and say "crash states: N, violations: V".  --expect KIND (the mutant
 * builds) passes only if violations of that kind were found: each mutant
 * trips its own invariant.  --evict none keeps only the media image (no
 * eviction): a mutant that needs eviction must then go unseen.
 */
#include <getopt.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "t.h"
#include "chan/chan.h"
#include "log/log.h"
#include "tier/recorder.h"

#define NP 4
#define NC 2 /* consumers of the workload; slot NC is the late one */
#define RING 4096

/* kinds of violation: each mutant must trip its own */
enum kind {
	K_LIVE,	     /* visible before durable (I2, live walk) */
	K_ACKPUB,    /* ack_pub ahead of the durable ack (live) */
	K_OVERWRITE, /* the record at a durable ack was overwritten */
	K_LOSS,	     /* a sent message missing after recovery (I1) */
	K_RAW,	     /* a reader without a writer misses a sent message, or
		      * disagrees with what recovery then publishes */
	K_LATE,	     /* a consumer registered after the crash got a message
		      * sent before it existed */
	K_RESUME,    /* a consumer resumes elsewhere than its durable ack */
	K_PHANTOM,   /* a message never sent, or bytes that differ (I2) */
	K_ORDER,     /* a gap or reorder within a producer (I3) */
	K_RECOVERY,  /* check, recovery or committed disagree */
	K_COUNT
};
static const char *const kind_name[K_COUNT] = {
	"live", "ackpub", "overwrite", "loss",	"raw",
	"late", "resume", "phantom",   "order", "recovery",
};
static uint64_t by_kind[K_COUNT];
static uint64_t live_records; /* records the live walk checked */
static int evict_none_only;
static int interleave_on = 1;
static int in_interleave;

struct wl {
	struct nvmsg_producer *prod[NP];
	uint64_t next_seq[NP];
	uint64_t attempted[NP];
	uint64_t sent_ok[NP];
	uint64_t pending_hi[NP];
	struct nvmsg_consumer *cons[NC];
	int registered[NC];
	uint64_t viewed[NC][NP];
	uint64_t acked[NC][NP];
	uint64_t ack_try[NC][NP];
	int abandoned;
};

static struct wl W;
static const char *dir_live, *dir_img;
static char dir_img_buf[256];
static unsigned char *live_data; /* read-only map of the live data file */
static struct nv_layout L;
static uint64_t states, violations, checks_points;
static int verbose;
static int all_points = 1;
static uint64_t sample_rng; /* sample mode: crash at a random quarter */
static unsigned random_seeds = 6;
static uint64_t seed_base;
/* abandoned producers (died between reserve and commit): kept reachable,
 * never closed, as a dead process's would be */
static struct nvmsg_producer *graveyard[64];
static unsigned ngraves;

static size_t
msg_len(unsigned p, uint64_t seq)
{
	return 1 + (size_t)((seq * 37 + p * 11) % 200);
}

static void
msg_fill(unsigned p, uint64_t seq, unsigned char *b)
{
	size_t n = msg_len(p, seq);
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(p * 131 + seq * 7 + i * 13);
}

static void violation(enum kind k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
violation(enum kind k, const char *fmt, ...)
{
	va_list ap;

	violations++;
	by_kind[k]++;
	if (violations <= 20 || verbose) {
		fprintf(stderr, "VIOLATION %s (point %llu): ", kind_name[k],
			(unsigned long long)nv_recorder_points());
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* check_visible -- I2 live: records a consumer may read now (commit word
 * set, or below pub_tail) are on media */
static void
check_visible(void)
{
	const unsigned char *media;
	uint64_t mlen;
	char name[64];

	snprintf(name, sizeof(name), "ch.nvmsg");
	if (nv_recorder_media_ptr(name, &media, &mlen) != 0)
		return;
	const struct nv_prod_slot *slots =
		(const void *)(live_data + L.prod_table_off);
	for (unsigned p = 0; p < NP; p++) {
		uint64_t pub = nv_load_acquire(&slots[p].pub_tail);
		uint64_t lo = pub;
		/* walk from the lowest ack of all consumers (each a record
		 * boundary, nothing at or above it overwritten), read from the
		 * cursor files; pub_tail when there is none */
		for (unsigned c = 0; c < NC; c++) {
			char path[512], cname[32];
			const unsigned char *cm;
			uint64_t cl;
			snprintf(cname, sizeof(cname), "ch.c%u.nvcur", c);
			snprintf(path, sizeof(path), "%s/%s", dir_live, cname);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			uint64_t a[2], durable;
			if (pread(fd, a, 16, NV_ACK_OFF + 64 * p) != 16) {
				close(fd);
				continue;
			}
			if (nv_recorder_media_ptr(cname, &cm, &cl) == 0) {
				/* producers reuse space below ack_pub: it
				 * must never be ahead of the durable ack */
				memcpy(&durable, cm + NV_ACK_OFF + 64 * p, 8);
				if (a[1] > durable)
					violation(
						K_ACKPUB,
						"consumer c%u ring %u: ack_pub "
						"%llu visible, durable ack "
						"only %llu",
						c, p, (unsigned long long)a[1],
						(unsigned long long)durable);
			}
			close(fd);
			if (a[0] < lo)
				lo = a[0];
		}
		const unsigned char *ring =
			live_data + L.ring_off + (uint64_t)p * RING;
		const unsigned char *mring =
			media + L.ring_off + (uint64_t)p * RING;
		uint64_t pos = lo;
		struct nv_rec_info ri;
		const char *why;
		/* visible: below pub_tail, or its commit word is set */
		while (pos - lo < RING) {
			int committed = nv_rec_read(ring, RING, pos,
						    NV_REC_BOUNDS, &ri,
						    &why) == 0;
			if (!committed && pos >= pub)
				break; /* the tail */
			if (!committed &&
			    nv_rec_read(ring, RING, pos, NV_REC_SEALED, &ri,
					&why) != 0) {
				/* below pub_tail every position from an ack
				 * on is a whole record: a walk that cannot go
				 * on proves nothing and says so */
				violation(
					K_LIVE,
					"ring %u: position %llu below pub_tail "
					"%llu is not a whole record (%s)",
					p, (unsigned long long)pos,
					(unsigned long long)pub, why);
				break;
			}
			live_records += ri.type == NV_REC_MSG;
			uint64_t off = pos & (RING - 1);
			/* all but the commit word, stored after the
			 * barrier and never flushed by design */
			uint64_t n = NV_REC_HDR - 8 +
				     (ri.type == NV_REC_MSG ? ri.len : 0);
			if (memcmp(ring + off + 8, mring + off + 8, n) != 0) {
				violation(K_LIVE,
					  "ring %u record at %llu (seq %llu) "
					  "is visible (%s) but not durable",
					  p, (unsigned long long)pos,
					  (unsigned long long)ri.seq,
					  committed ? "commit word set"
						    : "below pub_tail");
				break;
			}
			pos += ri.size;
		}
	}
}

/* load_image -- the crash image's data file and durable acks, as the
 * files say (independent of any library state) */
static unsigned char *
load_image(uint64_t ack[NC][NP], int have[NC])
{
	char path[512];
	unsigned char *d = malloc(L.file_bytes);

	ASSERT_TRUE(d != NULL);
	snprintf(path, sizeof(path), "%s/ch.nvmsg", dir_img);
	int fd = open(path, O_RDONLY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(pread(fd, d, L.file_bytes, 0) == (ssize_t)L.file_bytes);
	close(fd);
	for (unsigned c = 0; c < NC; c++) {
		snprintf(path, sizeof(path), "%s/ch.c%u.nvcur", dir_img, c);
		have[c] = 0;
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		have[c] = 1;
		for (unsigned p = 0; p < NP; p++)
			if (pread(fd, &ack[c][p], 8, NV_ACK_OFF + 64 * p) != 8)
				have[c] = 0;
		close(fd);
	}
	return d;
}

/* first_msg -- seq of the first message at or after POS in image ring P;
 * 0 if there is none; *whole = 0 if POS is not a whole record */
static uint64_t
first_msg(const unsigned char *d, unsigned p, uint64_t pos, int *whole)
{
	const unsigned char *ring = d + L.ring_off + (uint64_t)p * RING;
	struct nv_rec_info ri;
	const char *why;

	*whole = 1;
	for (unsigned n = 0; n < RING / NV_REC_ALIGN; n++) {
		if (nv_rec_read(ring, RING, pos, NV_REC_SEALED, &ri, &why) !=
			    0 ||
		    ri.producer != p) {
			if (n == 0)
				*whole = 0;
			return 0;
		}
		if (ri.type == NV_REC_MSG)
			return ri.seq;
		pos += ri.size;
	}
	return 0;
}

/* drain -- read consumer CNAME of the image to the end without acking;
 * check phantoms, payloads and order; FIRST/LAST per producer.  Returns
 * messages read, or -1 if it could not open */
static long
drain(const char *cname, int flags, uint64_t first[NP], uint64_t last[NP],
      const char *when)
{
	struct nvmsg_consumer *co;
	struct nvmsg_view v;
	unsigned char exp[256];
	long n = 0;
	int rc;

	memset(first, 0, NP * sizeof(first[0]));
	memset(last, 0, NP * sizeof(last[0]));
	if (nvmsg_consumer_open(dir_img, "ch", cname,
				NVMSG_CONSUMER_VERIFY | flags, &co) < 0)
		return -1;
	while ((rc = nvmsg_view(co, &v, 0)) == 0) {
		unsigned pr = v.producer;
		n++;
		if (verbose)
			fprintf(stderr, "%s %s: producer %u seq %llu\n", cname,
				when, pr, (unsigned long long)v.seq);
		if (pr >= NP || v.seq > W.attempted[pr]) {
			violation(K_PHANTOM,
				  "%s %s: phantom message producer %u seq %llu "
				  "(attempted %llu)",
				  cname, when, pr, (unsigned long long)v.seq,
				  (unsigned long long)(pr < NP ? W.attempted[pr]
							       : 0));
			break;
		}
		msg_fill(pr, v.seq, exp);
		if (v.len != msg_len(pr, v.seq) ||
		    memcmp(v.data, exp, v.len) != 0)
			violation(K_PHANTOM,
				  "%s %s: producer %u seq %llu payload differs "
				  "from what was sent",
				  cname, when, pr, (unsigned long long)v.seq);
		if (last[pr] && v.seq != last[pr] + 1)
			violation(
				K_ORDER,
				"%s %s: producer %u seq %llu after %llu (order "
				"or gap)",
				cname, when, pr, (unsigned long long)v.seq,
				(unsigned long long)last[pr]);
		if (!first[pr])
			first[pr] = v.seq;
		last[pr] = v.seq;
	}
	if (rc != -EAGAIN)
		violation(K_RECOVERY, "%s %s: view failed: %s", cname, when,
			  nvmsg_errmsg());
	nvmsg_consumer_close(&co);
	return n;
}

/* check_reads -- what consumer C read (FIRST/LAST) against its durable
 * ack in the image (E: the seq at it, 0 none) and what was sent; LOSS is
 * the kind a missing sent message counts as */
static void
check_reads(unsigned c, const uint64_t first[NP], const uint64_t last[NP],
	    const uint64_t e[NP], enum kind loss, const char *when)
{
	for (unsigned pr = 0; pr < NP; pr++) {
		uint64_t acked = W.acked[c][pr], tried = W.ack_try[c][pr];
		/* it resumes exactly at its durable ack, which is the ack
		 * that returned or the one in flight */
		if (first[pr] != e[pr])
			violation(K_RESUME,
				  "c%u %s: producer %u resumes at seq %llu, "
				  "but the durable ack points at seq %llu "
				  "(acked %llu, in flight %llu)",
				  c, when, pr, (unsigned long long)first[pr],
				  (unsigned long long)e[pr],
				  (unsigned long long)acked,
				  (unsigned long long)tried);
		uint64_t have = first[pr] ? last[pr] : 0;
		/* every sent message after what it may have acked */
		if (W.sent_ok[pr] > tried && have < W.sent_ok[pr])
			violation(loss,
				  "c%u %s: producer %u lost messages: sent "
				  "%llu, received up to %llu (acked %llu, in "
				  "flight %llu)",
				  c, when, pr,
				  (unsigned long long)W.sent_ok[pr],
				  (unsigned long long)have,
				  (unsigned long long)acked,
				  (unsigned long long)tried);
	}
}

/* check_recovered -- reboot on the image in dir_img: read it without a
 * writer, then recover, read again, and check I1-I3 */
static void
check_recovered(void)
{
	struct nvmsg_producer *p;
	struct nvmsg_check ck;
	uint64_t committed[NP] = { 0 }, ack[NC][NP], e[NC][NP] = { { 0 } };
	uint64_t first[NP], last[NP], raw_last[NC][NP];
	int have[NC], raw_open[NC], rc;
	long n;

	nv_boot_salt ^= 0x5a5a; /* every pre-crash owner is now dead */
	unsigned char *img = load_image(ack, have);
	/* the durable acks, from the image's cursor files */
	for (unsigned c = 0; c < NC; c++) {
		for (unsigned pr = 0; pr < NP && W.registered[c]; pr++) {
			int whole;
			uint64_t acked = W.acked[c][pr];
			uint64_t tried = W.ack_try[c][pr];
			e[c][pr] =
				have[c] ? first_msg(img, pr, ack[c][pr], &whole)
					: 0;
			if (!have[c])
				continue;
			/* a sent message past every ack it may have made
			 * must be at its durable ack, whole */
			if (!whole && tried < W.sent_ok[pr])
				violation(
					K_OVERWRITE,
					"c%u ring %u: no whole record at the "
					"durable ack %llu, but messages up to "
					"%llu were sent and at most %llu "
					"acked",
					c, pr, (unsigned long long)ack[c][pr],
					(unsigned long long)W.sent_ok[pr],
					(unsigned long long)tried);
			if (e[c][pr] &&
			    (e[c][pr] <= acked || e[c][pr] > tried + 1))
				violation(K_RESUME,
					  "c%u ring %u: durable ack at seq "
					  "%llu, but acked %llu and in flight "
					  "%llu",
					  c, pr, (unsigned long long)e[c][pr],
					  (unsigned long long)acked,
					  (unsigned long long)tried);
		}
	}
	free(img);
	/* nvmsg check on the raw crash image: no corruption, ever */
	rc = nvmsg_channel_check(dir_img, "ch", &ck);
	if (rc < 0 || ck.errors)
		violation(K_RECOVERY, "check of the crash image: %s",
			  rc < 0 ? nvmsg_errmsg() : ck.first_error);
	/* a reader needs no writer: every consumer drains the raw image
	 * (read-only data mapping, no producer has run recovery) */
	for (unsigned c = 0; c < NC; c++) {
		char cname[8];
		snprintf(cname, sizeof(cname), "c%u", c);
		/* also one whose registration was in flight: then the
		 * image may hold it or not */
		n = drain(cname, 0, first, last, "before recovery");
		raw_open[c] = n >= 0;
		if (n < 0) {
			if (W.registered[c])
				violation(K_RAW,
					  "%s cannot open before recovery: %s",
					  cname, nvmsg_errmsg());
			memset(raw_last[c], 0, sizeof(raw_last[c]));
			continue;
		}
		if (W.registered[c])
			check_reads(c, first, last, e[c], K_RAW,
				    "before recovery");
		memcpy(raw_last[c], last, sizeof(last));
	}
	/* registered after the crash, before recovery: it starts after
	 * everything sent before it existed */
	n = drain("late", NVMSG_CONSUMER_CREATE, first, last,
		  "registered before recovery");
	if (n != 0)
		violation(K_LATE,
			  "a consumer registered on the crash image "
			  "read %ld messages sent before it existed%s",
			  n, n < 0 ? " (it could not register)" : "");
	for (unsigned i = 0; i < NP; i++) {
		rc = nvmsg_producer_open(dir_img, "ch", (int)i, &p);
		if (rc < 0) {
			violation(K_RECOVERY,
				  "recovery of producer slot %u failed: %s", i,
				  nvmsg_errmsg());
			continue;
		}
		/* detectability: committed covers every acknowledged send
		 * and nothing never attempted */
		committed[i] = nvmsg_producer_committed(p);
		if (committed[i] < W.sent_ok[i] ||
		    committed[i] > W.attempted[i])
			violation(committed[i] < W.sent_ok[i] ? K_LOSS
							      : K_PHANTOM,
				  "producer %u: committed %llu, but sent %llu "
				  "and attempted %llu",
				  i, (unsigned long long)committed[i],
				  (unsigned long long)W.sent_ok[i],
				  (unsigned long long)W.attempted[i]);
		nvmsg_producer_close(&p);
		/* a second recovery says the same (it once did not) */
		if (nvmsg_producer_open(dir_img, "ch", (int)i, &p) == 0) {
			if (nvmsg_producer_committed(p) != committed[i])
				violation(K_RECOVERY,
					  "producer %u: committed %llu after "
					  "a second open, %llu after the first",
					  i,
					  (unsigned long long)
						  nvmsg_producer_committed(p),
					  (unsigned long long)committed[i]);
			nvmsg_producer_close(&p);
		}
	}
	/* after recovery the channel checks clean */
	rc = nvmsg_channel_check(dir_img, "ch", &ck);
	if (rc < 0 || ck.errors || ck.repairs_needed)
		violation(K_RECOVERY,
			  "check after recovery: %s (errors %u, repairs %u)",
			  rc < 0 ? nvmsg_errmsg() : ck.first_error, ck.errors,
			  ck.repairs_needed);
	for (unsigned c = 0; c < NC; c++) {
		char cname[8];
		snprintf(cname, sizeof(cname), "c%u", c);
		n = drain(cname, 0, first, last, "after recovery");
		if (n < 0) {
			if (W.registered[c])
				violation(K_RECOVERY,
					  "consumer %s cannot open after "
					  "recovery: %s",
					  cname, nvmsg_errmsg());
			continue;
		}
		if (W.registered[c])
			check_reads(c, first, last, e[c], K_LOSS,
				    "after recovery");
		for (unsigned pr = 0; pr < NP; pr++) {
			if (first[pr] && last[pr] != committed[pr])
				violation(
					K_RECOVERY,
					"%s: producer %u: received up to %llu "
					"but recovery says %llu committed",
					cname, pr, (unsigned long long)last[pr],
					(unsigned long long)committed[pr]);
			/* the reader without a writer saw the same */
			if (raw_open[c] && last[pr] != raw_last[c][pr])
				violation(K_RAW,
					  "%s: producer %u: read up to %llu "
					  "before recovery, %llu after",
					  cname, pr,
					  (unsigned long long)raw_last[c][pr],
					  (unsigned long long)last[pr]);
		}
	}
	n = drain("late", 0, first, last, "after recovery");
	if (n != 0)
		violation(K_LATE,
			  "the consumer registered on the crash image "
			  "read %ld messages after recovery",
			  n);
	nv_boot_salt ^= 0x5a5a;
}

static int do_send(unsigned p, int more);

/* interleave -- while an ack's barrier is in flight, every producer sends
 * until its ring is full (at most 8 messages): space is reused only on
 * acks already durable, or mutant 3 overwrites what a crash leaves
 * unacked (the nested persist points are crash points too) */
static void
interleave(void)
{
	in_interleave = 1;
	nv_recorder_pause(0);
	for (unsigned p = 0; p < NP; p++)
		for (unsigned k = 0; k < 8 && W.prod[p]; k++)
			if (do_send(p, 0) == -EAGAIN)
				break;
	nv_recorder_pause(1);
	in_interleave = 0;
}

static void
on_point(uint64_t point, enum nv_pp pp, void *arg)
{
	(void)arg;
	(void)pp;
	if (!all_points && (t_rng(&sample_rng) & 3) != 0)
		return;
	nv_recorder_pause(1);
	checks_points++;
	check_visible();
	unsigned nseeds = all_points ? 2 + random_seeds : 1;
	if (evict_none_only)
		nseeds = 1;
	for (unsigned k = 0; k < nseeds; k++) {
		int mode = k == 0   ? NV_EVICT_NONE
			   : k == 1 ? NV_EVICT_ALL
				    : NV_EVICT_RANDOM;
		if (!all_points && !evict_none_only)
			mode = NV_EVICT_RANDOM;
		long n = nv_recorder_image(
			dir_img, mode, seed_base * 1000003 + point * 31 + k);
		if (n < 0)
			T_FAILF("image: %s", strerror((int)-n));
		states++;
		check_recovered();
		if (getenv("T_CRASH_STOP") &&
		    point == strtoull(getenv("T_CRASH_STOP"), NULL, 0) &&
		    k == 0) {
			fprintf(stderr,
				"stopped at point %llu pp %s, image in "
				"%s\n",
				(unsigned long long)point, nv_pp_name(pp),
				dir_img);
			nv_recorder_image(dir_img, mode,
					  seed_base * 1000003 + point * 31 + k);
			_exit(3);
		}
		nvmsg_channel_unlink(dir_img, "ch");
	}
	if (pp == NV_PP_ACK && interleave_on && !in_interleave &&
	    (t_rng(&sample_rng) & 3) == 0)
		interleave();
	nv_recorder_pause(0);
}

/* workload --------------------------------------------------------------- */

static int
do_send(unsigned p, int more)
{
	unsigned char b[256];
	uint64_t seq = W.next_seq[p];

	msg_fill(p, seq, b);
	if (seq > W.attempted[p])
		W.attempted[p] = seq;
	int rc = nvmsg_send(W.prod[p], b, msg_len(p, seq),
			    more ? NVMSG_MORE : 0, 0);
	if (rc == -EAGAIN)
		return rc;
	if (rc < 0)
		T_FAILF("send: %s", nvmsg_errmsg());
	W.next_seq[p]++;
	if (more)
		W.pending_hi[p] = seq;
	else
		W.sent_ok[p] = seq, W.pending_hi[p] = 0;
	return 0;
}

static void
do_flush(unsigned p)
{
	ASSERT_OK(nvmsg_producer_flush(W.prod[p]));
	if (W.pending_hi[p])
		W.sent_ok[p] = W.pending_hi[p];
	W.pending_hi[p] = 0;
}

static void
do_consume(unsigned c, unsigned n, int ack)
{
	struct nvmsg_view v;
	unsigned char exp[256];

	for (unsigned i = 0; i < n; i++) {
		int rc = nvmsg_view(W.cons[c], &v, 0);
		if (rc == -EAGAIN)
			break;
		if (rc < 0)
			T_FAILF("view: %s", nvmsg_errmsg());
		msg_fill(v.producer, v.seq, exp);
		if (v.seq != W.viewed[c][v.producer] + 1 ||
		    v.len != msg_len(v.producer, v.seq) ||
		    memcmp(v.data, exp, v.len) != 0)
			T_FAILF("live: consumer %u got producer %u seq %llu "
				"after %llu",
				c, v.producer, (unsigned long long)v.seq,
				(unsigned long long)W.viewed[c][v.producer]);
		W.viewed[c][v.producer] = v.seq;
	}
	if (!ack)
		return;
	memcpy(W.ack_try[c], W.viewed[c], sizeof(W.viewed[c]));
	ASSERT_OK(nvmsg_ack(W.cons[c]));
	memcpy(W.acked[c], W.viewed[c], sizeof(W.viewed[c]));
}

static void
open_consumer(unsigned c)
{
	char cname[8];

	snprintf(cname, sizeof(cname), "c%u", c);
	ASSERT_OK(nvmsg_consumer_open(dir_live, "ch", cname,
				      NVMSG_CONSUMER_CREATE, &W.cons[c]));
	W.registered[c] = 1;
	memcpy(W.viewed[c], W.acked[c], sizeof(W.viewed[c]));
}

static void
run_workload(uint64_t seed, unsigned ops)
{
	uint64_t s = seed;
	struct nvmsg_channel_opts o = {
		.tier = NVMSG_TIER_EMULATED,
		.capacity_bytes = RING,
		.max_producers = NP,
		.max_consumers = NC + 1, /* + the late one */
		.mode = 0644,
	};
	char path[512];

	memset(&W, 0, sizeof(W));
	for (unsigned p = 0; p < NP; p++)
		W.next_seq[p] = 1;
	ASSERT_OK(nvmsg_channel_create(dir_live, "ch", &o));
	snprintf(path, sizeof(path), "%s/ch.nvmsg", dir_live);
	int fd = open(path, O_RDONLY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(nv_layout_compute(&L, RING, NP, NC));
	live_data = mmap(NULL, L.file_bytes, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(live_data != MAP_FAILED);
	close(fd);

	nv_recorder_start(on_point, NULL);
	for (unsigned c = 0; c < NC; c++)
		open_consumer(c);
	for (unsigned p = 0; p < 3; p++)
		ASSERT_OK(nvmsg_producer_open(dir_live, "ch", (int)p,
					      &W.prod[p]));
	for (unsigned op = 0; op < ops; op++) {
		uint64_t r = t_rng(&s);
		unsigned p = (unsigned)(r >> 8) % NP;
		unsigned c = (unsigned)(r >> 16) % NC;
		unsigned what = (unsigned)(r % 100);
		if (!W.prod[p])
			p = (p + 1) % NP;
		if (!W.prod[p])
			p = 0;
		if (what < 40) {
			do_send(p, 0);
		} else if (what < 55) {
			do_send(p, 1);
		} else if (what < 60) {
			do_flush(p);
		} else if (what < 88) {
			do_consume(c, 1 + (unsigned)(r >> 24) % 6,
				   ((r >> 32) & 3) != 0);
		} else if (what < 92) {
			nvmsg_consumer_close(&W.cons[c]);
			open_consumer(c);
		} else if (what < 95) {
			/* clean producer restart: close publishes pending */
			unsigned id = nvmsg_producer_id(W.prod[p]);
			nvmsg_producer_close(&W.prod[p]);
			/* close published the batch: acknowledged now */
			if (W.pending_hi[p])
				W.sent_ok[p] = W.pending_hi[p];
			W.pending_hi[p] = 0;
			ASSERT_OK(nvmsg_producer_open(dir_live, "ch", (int)id,
						      &W.prod[p]));
		} else if (what < 96 && !W.abandoned && op > ops / 3) {
			/* a producer dies between reserve and commit */
			struct nvmsg_claim cl;
			unsigned char b[256];
			do_flush(p);
			uint64_t seq = W.next_seq[p];
			msg_fill(p, seq, b);
			if (nvmsg_reserve(W.prod[p], msg_len(p, seq), &cl, 0,
					  0) == 0) {
				W.attempted[p] = seq;
				memcpy(cl.data, b, cl.len / 2);
				if (ngraves < 64)
					graveyard[ngraves++] = W.prod[p];
				W.prod[p] = NULL;
				W.abandoned++;
				/* its replacement takes the free slot 3 */
				ASSERT_OK(nvmsg_producer_open(dir_live, "ch", 3,
							      &W.prod[3]));
			}
		} else {
			do_consume(c, 8, 1);
		}
	}
	nv_recorder_stop();
	for (unsigned p = 0; p < NP; p++)
		if (W.prod[p]) {
			do_flush(p);
			nvmsg_producer_close(&W.prod[p]);
		}
	for (unsigned c = 0; c < NC; c++)
		nvmsg_consumer_close(&W.cons[c]);
	munmap(live_data, L.file_bytes);
	ASSERT_OK(nvmsg_channel_unlink(dir_live, "ch"));
}

int
main(int argc, char **argv)
{
	unsigned workloads = 13, ops = 1200, samples = 20;
	int expect = -1, opt;
	uint64_t seed = 1;
	static const struct option lo[] = {
		{ "seed", required_argument, 0, 's' },
		{ "workloads", required_argument, 0, 'w' },
		{ "ops", required_argument, 0, 'o' },
		{ "random-seeds", required_argument, 0, 'r' },
		{ "samples", required_argument, 0, 'n' },
		{ "expect", required_argument, 0, 'x' },
		{ "evict", required_argument, 0, 'e' },
		{ "no-interleave", no_argument, 0, 'i' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 },
	};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			workloads = (unsigned)atoi(optarg);
			break;
		case 'o':
			ops = (unsigned)atoi(optarg);
			break;
		case 'r':
			random_seeds = (unsigned)atoi(optarg);
			break;
		case 'n':
			samples = (unsigned)atoi(optarg);
			break;
		case 'x':
			for (int k = 0; k < K_COUNT; k++)
				if (strcmp(optarg, kind_name[k]) == 0)
					expect = k;
			if (expect < 0) {
				fprintf(stderr, "unknown kind %s\n", optarg);
				return 2;
			}
			break;
		case 'e':
			evict_none_only = strcmp(optarg, "none") == 0;
			break;
		case 'i':
			interleave_on = 0;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [--seed S] [--workloads W] "
				"[--ops N] [--random-seeds K] "
				"[--samples M] [--expect KIND] "
				"[--evict none] [--no-interleave]\n",
				argv[0]);
			return 2;
		}
	}
	dir_live = t_tmpdir();
	snprintf(dir_img_buf, sizeof(dir_img_buf), "%s/img", dir_live);
	ASSERT_TRUE(mkdir(dir_img_buf, 0755) == 0);
	dir_img = dir_img_buf;
	printf("t_crash: seed %llu, %u workloads x %u ops, every persist "
	       "point x %u eviction seeds, then %u more workloads sampled\n",
	       (unsigned long long)seed, workloads, ops, 2 + random_seeds,
	       samples);
	/* exhaustive: every persist point of each workload */
	for (unsigned w = 0; w < workloads; w++) {
		seed_base = seed + w;
		all_points = 1;
		run_workload(seed_base, ops);
	}
	uint64_t exhaustive = states;
	/* other schedules, a random quarter of their points, one random
	 * eviction seed each */
	sample_rng = seed ^ 0xabcdef;
	for (unsigned k = 0; k < samples; k++) {
		seed_base = seed + workloads + k;
		all_points = 0;
		run_workload(seed_base, ops);
	}
	printf("exhaustive states: %llu at %llu points; sampled states: "
	       "%llu\n",
	       (unsigned long long)exhaustive,
	       (unsigned long long)checks_points,
	       (unsigned long long)(states - exhaustive));
	printf("live walk: %llu visible records checked against media\n",
	       (unsigned long long)live_records);
	printf("violations by kind:");
	for (int k = 0; k < K_COUNT; k++)
		printf(" %s %llu", kind_name[k],
		       (unsigned long long)by_kind[k]);
	printf("\ncrash states: %llu, violations: %llu\n",
	       (unsigned long long)states, (unsigned long long)violations);
	if (live_records == 0) {
		fprintf(stderr, "t_crash: the live walk checked no record: it "
				"proved nothing\n");
		return T_FAIL;
	}
	if (expect >= 0) {
		printf("expected kind %s: %llu\n", kind_name[expect],
		       (unsigned long long)by_kind[expect]);
		return by_kind[expect] > 0 ? T_PASS : T_FAIL;
	}
	return violations == 0 ? T_PASS : T_FAIL;
}
