/* SPDX-License-Identifier: MIT */
/*
 * t_crash_fwd.c -- simulated power failure at every persist point of a
 * forwarding workload: the library calls a forwarding daemon stands on
 * (nvmsg_producer_open_origin, nvmsg_send_seq, nvmsg_ack_view).
 *
 * Two channels on the emulated tier, both recorded (src/tier/
 * tier_recorder.c), driven by one seeded single-threaded schedule:
 *
 *   snd  the sender's local channel: 2 producers (slots 0 and 1) and a
 *        consumer "link" that views ahead of the remote, copies each view
 *        into its window, "transmits" it to the receiver, and calls
 *        nvmsg_ack_view (NVMSG_MORE batches, then one barrier) only for
 *        the messages the receiver acknowledged; the link reconnects
 *        (consumer closed and reopened) now and then and transmits again
 *        what it had not acked;
 *   rcv  the receiver's channel: 4 origins, each on a slot of its own
 *        (nvmsg_producer_open_origin, lazily, so the origin line's
 *        NV_PP_ORIGIN point falls among other traffic): origins 0 and 1
 *        are snd's slots, forwarded by the link (contiguous numbers);
 *        origins 2 and 3 are simulated senders whose numbers skip (half of
 *        them follow a gap).  The receiver appends with nvmsg_send_seq in
 *        batches of 1..5 (NVMSG_MORE, then a flush, or a last send without
 *        NVMSG_MORE, or a batch left open for a later flush) and only after
 *        the flush "acks to the sender" up to the last number appended:
 *        that is the oracle's ground truth of what the sender was told is
 *        durable (W.r_acked).  Senders "reconnect" and resend numbers the
 *        receiver holds (durable or in an open batch): each must be
 *        refused with NVMSG_E_DUPLICATE and write nothing.  The receiver
 *        restarts (close, open_origin: committed must be the last number
 *        appended).  A consumer "down" reads rcv and acks, so rings wrap.
 *
 * At every drain (before it takes effect), for each eviction seed (none,
 * all, random 8-byte subsets), the crash image of both channels is written
 * and checked, "rebooted" (every owner is dead):
 *
 *   receiver (rcv), before any writer runs, "down" drains the raw image
 *   (read-only) and each slot's origin line names the origin its records
 *   carry (origin); every record read is a number that origin appended,
 *   with its bytes (phantom); per origin the numbers strictly increase
 *   (dup: nothing held twice) and follow the appended list without a hole
 *   (hole); "down" resumes after its last ack that returned or the ack in
 *   flight (resume).  Then every origin is reopened with open_origin
 *   (recovery) and: committed >= the highest number acked to the sender
 *   (acked: nothing acknowledged is missing); committed is a number that
 *   was appended (or 0), and equals the last record read after recovery,
 *   or, when nothing is left to read, the number "down" acked (committed);
 *   a resend of committed is refused (dup); a second recovery says the
 *   same and nvmsg_channel_check is clean (recovery); "down" reads after
 *   recovery exactly what it read before (raw).
 *
 *   sender (snd): the link drains the raw image: per slot it resumes
 *   never after the first message the receiver did not acknowledge
 *   (sendloss), and else after its last ack_view that returned or one in
 *   flight (resume); every message sent after where it resumes is still
 *   delivered (sendloss if the remote had not acked it, loss if it had);
 *   bytes and order hold (phantom, order); recovery of both producers:
 *   committed between sent and attempted (loss, phantom), the link reads
 *   the same after it (raw); and end to end: every message sent on snd is
 *   held by the receiver's image (at most its committed) or still
 *   delivered by the link (e2e).
 *
 * Live, without a crash: a resend the receiver holds must be refused
 * (api), and the link, reconnected, must resume right after its durable
 * ack_views (sendloss if it skips messages, resume if it repeats).
 *
 * Then more schedules are sampled (a random quarter of their points, one
 * random eviction each).  The last lines count violations by kind and say
 * "crash states: N, violations: V"; a run whose workload never reached
 * a case (skips, refused resends, ack_views with views left, lost appends,
 * redelivery, end-to-end checks) fails: it proved nothing.  --expect KIND
 * passes only if violations of that kind were found (the mutant builds,
 * -DNV_MUTANT=5 and 6, each trip their own); --evict none keeps only the
 * media image.
 */
#include <getopt.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "t.h"
#include "chan/chan.h"
#include "tier/recorder.h"

#define NS 2 /* snd's local producers (slots 0, 1) = origins 0, 1 */
#define NO 4 /* rcv's origins, one slot each */
#define RING 4096
#define WIN 16	  /* the link's window of views, per slot */
#define MAXA 8192 /* numbers appended per origin */
#define MAXLEN 48

enum kind {
	K_ACKED,     /* rcv: a number acked to the sender is missing */
	K_COMMITTED, /* rcv: committed claims a number not held, or
		      * disagrees with the last record */
	K_DUP,	     /* rcv: a number held twice or out of order, or a
		      * resend not refused */
	K_HOLE,	     /* rcv: an appended number missing between two held */
	K_ORIGIN,    /* rcv: a slot's origin line does not name its records'
		      * origin */
	K_SENDLOSS,  /* snd: the link resumes after a message the remote did
		      * not ack, or a sent message is not delivered */
	K_RESUME,    /* a consumer resumes elsewhere than its durable ack */
	K_E2E,	     /* a sent message neither held by rcv nor delivered
		      * again by the link */
	K_PHANTOM,   /* a message never sent, or bytes that differ */
	K_ORDER,     /* snd: a gap or reorder within a producer */
	K_LOSS,	     /* snd: a producer's committed below what was sent */
	K_RAW,	     /* a reader before recovery disagrees with after */
	K_RECOVERY,  /* check, recovery, or a second recovery disagree */
	K_API,	     /* a live call returned what the API does not say */
	K_COUNT
};
static const char *const kind_name[K_COUNT] = {
	"acked", "committed", "dup",   "hole", "origin", "sendloss", "resume",
	"e2e",	 "phantom",   "order", "loss", "raw",	 "recovery", "api",
};
static uint64_t by_kind[K_COUNT];

/* the workload's state: what each side was told */
struct fwd_view {
	uint64_t seq;
	struct nvmsg_view v;
	size_t len;
	unsigned char data[MAXLEN];
	int tx; /* transmitted to the receiver */
};

struct wl {
	/* snd */
	struct nvmsg_producer *sp[NS];
	uint64_t s_next[NS], s_attempted[NS], s_sent_ok[NS], s_pending[NS];
	struct nvmsg_consumer *link;
	int link_reg;
	struct fwd_view win[NS][WIN];
	unsigned nwin[NS];
	uint64_t l_viewed[NS];
	uint64_t l_try[NS];  /* highest ack_view noted or in flight */
	uint64_t l_done[NS]; /* highest ack_view made durable (returned) */
	/* rcv */
	struct nvmsg_producer *rp[NO];
	int r_tried[NO]; /* open_origin was called */
	int slot_k[NO];	 /* live: rcv slot -> origin */
	uint64_t app[NO][MAXA];
	unsigned napp[NO];
	uint64_t r_acked[NO]; /* acked to the sender (after the flush) */
	uint64_t gen_last[NO], gen_hold[NO];
	struct nvmsg_consumer *down;
	int down_reg;
	unsigned d_idx[NO], d_done_idx[NO];
	uint64_t d_viewed[NO], d_try[NO], d_done[NO];
};

static struct wl W;
static struct nvmsg_origin org[NO];
static const char *dir_live, *dir_img;
static char dir_img_buf[256];
static uint64_t states, violations, checks_points;
static uint64_t dups_refused, skips, torn_states, redeliver_states, e2e_checked,
	ahead_acks;
static int verbose, all_points = 1, evict_none_only;
static uint64_t sample_rng, seed_base, wl_rng;
static unsigned random_seeds = 6;

static size_t
msg_len(unsigned k, uint64_t seq)
{
	return 1 + (size_t)((seq * 37 + k * 11) % MAXLEN);
}

static void
msg_fill(unsigned k, uint64_t seq, unsigned char *b)
{
	size_t n = msg_len(k, seq);
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(k * 131 + seq * 7 + i * 13);
}

static int
msg_ok(unsigned k, uint64_t seq, const void *data, size_t len)
{
	unsigned char exp[MAXLEN];

	msg_fill(k, seq, exp);
	return len == msg_len(k, seq) && memcmp(data, exp, len) == 0;
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

static uint64_t
app_hi(unsigned k)
{
	return W.napp[k] ? W.app[k][W.napp[k] - 1] : 0;
}

/* app_find -- index of SEQ in origin K's appended list, or -1 */
static long
app_find(unsigned k, uint64_t seq)
{
	long lo = 0, hi = (long)W.napp[k] - 1;

	while (lo <= hi) {
		long m = (lo + hi) / 2;
		if (W.app[k][m] == seq)
			return m;
		if (W.app[k][m] < seq)
			lo = m + 1;
		else
			hi = m - 1;
	}
	return -1;
}

/* app_succ -- the first number origin K appended after SEQ (0: none) */
static uint64_t
app_succ(unsigned k, uint64_t seq)
{
	for (unsigned i = 0; i < W.napp[k]; i++)
		if (W.app[k][i] > seq)
			return W.app[k][i];
	return 0;
}

/* crash checks: the receiver ---------------------------------------------- */

struct reads {
	uint64_t first[NO], last[NO];
	unsigned n[NO];
};

/* origin_k -- which origin the image's slot S names; -1 none */
static int
origin_k(struct nvmsg_consumer *co, unsigned s)
{
	struct nvmsg_origin o;

	if (nvmsg_consumer_origin(co, s, &o) < 0 ||
	    !(o.flags & NVMSG_ORIGIN_FORWARDED))
		return -1;
	for (unsigned k = 0; k < NO; k++)
		if (o.producer == org[k].producer &&
		    memcmp(o.channel, org[k].channel, 16) == 0)
			return (int)k;
	return -1;
}

/* drain_rcv -- "down" reads the image of rcv to the end without acking;
 * -1 if it cannot open */
static int
drain_rcv(const char *when, struct reads *r)
{
	struct nvmsg_consumer *co;
	struct nvmsg_view v;
	int kof[NO], rc;
	long lastidx[NO];

	memset(r, 0, sizeof(*r));
	if (nvmsg_consumer_open(dir_img, "rcv", "down", NVMSG_CONSUMER_VERIFY,
				&co) < 0)
		return -1;
	for (unsigned s = 0; s < NO; s++)
		kof[s] = -2; /* not asked yet */
	while ((rc = nvmsg_view(co, &v, 0)) == 0) {
		unsigned s = v.producer;
		if (s >= NO) {
			violation(K_PHANTOM, "rcv %s: slot %u out of range",
				  when, s);
			break;
		}
		if (kof[s] == -2) {
			kof[s] = origin_k(co, s);
			if (kof[s] < 0)
				violation(K_ORIGIN,
					  "rcv %s: slot %u holds records "
					  "(seq %llu) but its origin line "
					  "names no origin of the workload",
					  when, s, (unsigned long long)v.seq);
		}
		if (kof[s] < 0)
			continue;
		unsigned k = (unsigned)kof[s];
		long idx = app_find(k, v.seq);
		if (verbose)
			fprintf(stderr, "rcv %s: slot %u origin %u seq %llu\n",
				when, s, k, (unsigned long long)v.seq);
		if (idx < 0 || !msg_ok(k, v.seq, v.data, v.len)) {
			violation(K_PHANTOM,
				  "rcv %s: origin %u seq %llu %s (appended "
				  "up to %llu)",
				  when, k, (unsigned long long)v.seq,
				  idx < 0 ? "was never appended"
					  : "has bytes that were not sent",
				  (unsigned long long)app_hi(k));
			if (idx < 0)
				continue;
		}
		if (r->n[k]) {
			if (v.seq <= r->last[k])
				violation(K_DUP,
					  "rcv %s: origin %u holds seq %llu "
					  "after %llu (held twice or out of "
					  "order)",
					  when, k, (unsigned long long)v.seq,
					  (unsigned long long)r->last[k]);
			else if (idx != lastidx[k] + 1)
				violation(K_HOLE,
					  "rcv %s: origin %u seq %llu follows "
					  "%llu, but %llu was appended between",
					  when, k, (unsigned long long)v.seq,
					  (unsigned long long)r->last[k],
					  (unsigned long long)
						  W.app[k][lastidx[k] + 1]);
		} else {
			r->first[k] = v.seq;
		}
		r->n[k]++;
		r->last[k] = v.seq;
		lastidx[k] = idx;
	}
	if (rc != -EAGAIN)
		violation(K_RECOVERY, "rcv %s: view failed: %s", when,
			  nvmsg_errmsg());
	nvmsg_consumer_close(&co);
	return 0;
}

/* check_rcv -- the receiver's image; COMMITTED gets each origin's */
static void
check_rcv(uint64_t committed[NO])
{
	struct reads raw, after;
	struct nvmsg_check ck;
	struct nvmsg_producer *p;
	int raw_ok, rc;

	memset(committed, 0, NO * sizeof(committed[0]));
	rc = nvmsg_channel_check(dir_img, "rcv", &ck);
	if (rc < 0 || ck.errors)
		violation(K_RECOVERY, "check of the rcv image: %s",
			  rc < 0 ? nvmsg_errmsg() : ck.first_error);
	/* a reader needs no writer */
	raw_ok = drain_rcv("before recovery", &raw) == 0;
	if (!raw_ok && W.down_reg)
		violation(K_RAW, "rcv: down cannot open before recovery: %s",
			  nvmsg_errmsg());
	for (unsigned k = 0; k < NO && raw_ok && W.down_reg; k++) {
		uint64_t a = app_succ(k, W.d_done[k]),
			 b = app_succ(k, W.d_try[k]);
		if (raw.n[k] && raw.first[k] != a && raw.first[k] != b)
			violation(K_RESUME,
				  "rcv: down resumes origin %u at seq %llu, "
				  "but acked %llu (next %llu), in flight "
				  "%llu (next %llu)",
				  k, (unsigned long long)raw.first[k],
				  (unsigned long long)W.d_done[k],
				  (unsigned long long)a,
				  (unsigned long long)W.d_try[k],
				  (unsigned long long)b);
	}
	/* recovery: the receiver restarts on every origin it had */
	for (unsigned k = 0; k < NO; k++) {
		if (!W.r_tried[k])
			continue;
		rc = nvmsg_producer_open_origin(dir_img, "rcv", &org[k], &p);
		if (rc < 0) {
			violation(K_RECOVERY,
				  "rcv: open_origin of origin %u failed: %s", k,
				  nvmsg_errmsg());
			continue;
		}
		uint64_t c = committed[k] = nvmsg_producer_committed(p);
		nvmsg_producer_close(&p);
		torn_states += c < app_hi(k);
		if (c < W.r_acked[k])
			violation(K_ACKED,
				  "rcv: origin %u committed %llu, but %llu "
				  "was acked to the sender",
				  k, (unsigned long long)c,
				  (unsigned long long)W.r_acked[k]);
		if (c && app_find(k, c) < 0)
			violation(K_COMMITTED,
				  "rcv: origin %u committed %llu, a number "
				  "never appended (appended up to %llu, acked "
				  "%llu)",
				  k, (unsigned long long)c,
				  (unsigned long long)app_hi(k),
				  (unsigned long long)W.r_acked[k]);
		if (nvmsg_producer_open_origin(dir_img, "rcv", &org[k], &p) <
		    0) {
			violation(K_RECOVERY,
				  "rcv: second open_origin of origin %u "
				  "failed: %s",
				  k, nvmsg_errmsg());
			continue;
		}
		if (nvmsg_producer_committed(p) != c)
			violation(
				K_RECOVERY,
				"rcv: origin %u committed %llu after a "
				"second open, %llu after the first",
				k,
				(unsigned long long)nvmsg_producer_committed(p),
				(unsigned long long)c);
		/* the sender reconnects and resends from what it was told */
		if (c &&
		    nvmsg_send_seq(p, c, "x", 1, 0, 0) != NVMSG_E_DUPLICATE)
			violation(K_DUP,
				  "rcv: origin %u: a resend of committed %llu "
				  "was not refused",
				  k, (unsigned long long)c);
		nvmsg_producer_close(&p);
	}
	rc = nvmsg_channel_check(dir_img, "rcv", &ck);
	if (rc < 0 || ck.errors || ck.repairs_needed)
		violation(K_RECOVERY, "rcv check after recovery: %s",
			  rc < 0 ? nvmsg_errmsg() : ck.first_error);
	if (drain_rcv("after recovery", &after) < 0) {
		if (W.down_reg)
			violation(K_RECOVERY,
				  "rcv: down cannot open after recovery: %s",
				  nvmsg_errmsg());
		return;
	}
	for (unsigned k = 0; k < NO && W.down_reg; k++) {
		uint64_t c = committed[k];
		if (raw_ok &&
		    (raw.n[k] != after.n[k] || raw.last[k] != after.last[k]))
			violation(K_RAW,
				  "rcv: origin %u: read %u up to %llu before "
				  "recovery, %u up to %llu after",
				  k, raw.n[k], (unsigned long long)raw.last[k],
				  after.n[k],
				  (unsigned long long)after.last[k]);
		if (!W.r_tried[k])
			continue;
		if (after.n[k] && after.last[k] != c)
			violation(K_COMMITTED,
				  "rcv: origin %u: records up to %llu, but "
				  "committed %llu",
				  k, (unsigned long long)after.last[k],
				  (unsigned long long)c);
		if (!after.n[k] && c != W.d_done[k] && c != W.d_try[k])
			violation(K_COMMITTED,
				  "rcv: origin %u: nothing after down's ack "
				  "(%llu, in flight %llu), but committed %llu",
				  k, (unsigned long long)W.d_done[k],
				  (unsigned long long)W.d_try[k],
				  (unsigned long long)c);
	}
}

/* crash checks: the sender ------------------------------------------------ */

/* drain_snd -- the link reads the image of snd to the end without acking */
static int
drain_snd(const char *when, struct reads *r)
{
	struct nvmsg_consumer *co;
	struct nvmsg_view v;
	int rc;

	memset(r, 0, sizeof(*r));
	if (nvmsg_consumer_open(dir_img, "snd", "link", NVMSG_CONSUMER_VERIFY,
				&co) < 0)
		return -1;
	while ((rc = nvmsg_view(co, &v, 0)) == 0) {
		unsigned i = v.producer;
		if (i >= NS || v.seq > W.s_attempted[i] ||
		    !msg_ok(i, v.seq, v.data, v.len)) {
			violation(K_PHANTOM,
				  "snd %s: producer %u seq %llu was never "
				  "sent (or its bytes differ)",
				  when, i, (unsigned long long)v.seq);
			break;
		}
		if (r->n[i] && v.seq != r->last[i] + 1)
			violation(K_ORDER,
				  "snd %s: producer %u seq %llu after %llu",
				  when, i, (unsigned long long)v.seq,
				  (unsigned long long)r->last[i]);
		if (!r->n[i])
			r->first[i] = v.seq;
		r->n[i]++;
		r->last[i] = v.seq;
	}
	if (rc != -EAGAIN)
		violation(K_RECOVERY, "snd %s: view failed: %s", when,
			  nvmsg_errmsg());
	nvmsg_consumer_close(&co);
	return 0;
}

static void
check_snd(const uint64_t rcommitted[NO])
{
	struct reads raw, after;
	struct nvmsg_check ck;
	struct nvmsg_producer *p;
	uint64_t committed[NS] = { 0 };
	int raw_ok, rc;

	rc = nvmsg_channel_check(dir_img, "snd", &ck);
	if (rc < 0 || ck.errors)
		violation(K_RECOVERY, "check of the snd image: %s",
			  rc < 0 ? nvmsg_errmsg() : ck.first_error);
	raw_ok = drain_snd("before recovery", &raw) == 0;
	if (!raw_ok && W.link_reg)
		violation(K_RAW, "snd: link cannot open before recovery: %s",
			  nvmsg_errmsg());
	for (unsigned i = 0; i < NS && raw_ok && W.link_reg; i++) {
		uint64_t remote = W.r_acked[i], sent = W.s_sent_ok[i];
		/* where it resumes: after the last durable ack, so every
		 * message after it is delivered again */
		uint64_t from = raw.n[i] ? raw.first[i] : sent + 1;
		uint64_t have = raw.n[i] ? raw.last[i] : 0;
		if (raw.n[i] && raw.first[i] > remote + 1)
			violation(K_SENDLOSS,
				  "snd: the link resumes producer %u at seq "
				  "%llu, but the remote acked only %llu (ack "
				  "views: %llu durable, %llu in flight)",
				  i, (unsigned long long)raw.first[i],
				  (unsigned long long)remote,
				  (unsigned long long)W.l_done[i],
				  (unsigned long long)W.l_try[i]);
		else if (raw.n[i] && (raw.first[i] <= W.l_done[i] ||
				      raw.first[i] > W.l_try[i] + 1))
			violation(K_RESUME,
				  "snd: the link resumes producer %u at seq "
				  "%llu, but its ack views are %llu durable, "
				  "%llu in flight",
				  i, (unsigned long long)raw.first[i],
				  (unsigned long long)W.l_done[i],
				  (unsigned long long)W.l_try[i]);
		/* every message sent after where it resumes is delivered:
		 * after the durable ack there is nothing but those */
		uint64_t miss = raw.n[i] ? have + 1 : W.l_try[i] + 1;
		if (have < sent && miss <= sent)
			violation(miss > remote ? K_SENDLOSS : K_LOSS,
				  "snd: producer %u sent up to %llu, remote "
				  "acked %llu, ack views up to %llu, but "
				  "after the crash the link never delivers "
				  "seq %llu (read %u, up to %llu)",
				  i, (unsigned long long)sent,
				  (unsigned long long)remote,
				  (unsigned long long)W.l_try[i],
				  (unsigned long long)miss, raw.n[i],
				  (unsigned long long)have);
		redeliver_states += raw.n[i] && raw.first[i] <= remote;
		/* end to end: held there, or delivered again from here */
		uint64_t need = from - 1 < sent ? from - 1 : sent;
		e2e_checked++;
		if (need > rcommitted[i])
			violation(K_E2E,
				  "producer %u: seqs %llu..%llu are neither "
				  "held by the receiver (committed %llu) nor "
				  "delivered again by the link (from %llu)",
				  i, (unsigned long long)rcommitted[i] + 1,
				  (unsigned long long)need,
				  (unsigned long long)rcommitted[i],
				  (unsigned long long)from);
	}
	for (unsigned i = 0; i < NS; i++) {
		if (nvmsg_producer_open(dir_img, "snd", (int)i, &p) < 0) {
			violation(K_RECOVERY, "snd: recovery of slot %u: %s", i,
				  nvmsg_errmsg());
			continue;
		}
		committed[i] = nvmsg_producer_committed(p);
		nvmsg_producer_close(&p);
		if (committed[i] < W.s_sent_ok[i] ||
		    committed[i] > W.s_attempted[i])
			violation(committed[i] < W.s_sent_ok[i] ? K_LOSS
								: K_PHANTOM,
				  "snd: producer %u committed %llu, sent %llu, "
				  "attempted %llu",
				  i, (unsigned long long)committed[i],
				  (unsigned long long)W.s_sent_ok[i],
				  (unsigned long long)W.s_attempted[i]);
	}
	rc = nvmsg_channel_check(dir_img, "snd", &ck);
	if (rc < 0 || ck.errors || ck.repairs_needed)
		violation(K_RECOVERY, "snd check after recovery: %s",
			  rc < 0 ? nvmsg_errmsg() : ck.first_error);
	if (drain_snd("after recovery", &after) < 0) {
		if (W.link_reg)
			violation(K_RECOVERY,
				  "snd: link cannot open after recovery: %s",
				  nvmsg_errmsg());
		return;
	}
	for (unsigned i = 0; i < NS; i++) {
		if (raw_ok && raw.last[i] != after.last[i])
			violation(K_RAW,
				  "snd: producer %u: read up to %llu before "
				  "recovery, %llu after",
				  i, (unsigned long long)raw.last[i],
				  (unsigned long long)after.last[i]);
		if (after.n[i] && after.last[i] != committed[i])
			violation(K_RECOVERY,
				  "snd: producer %u: read up to %llu, "
				  "committed %llu",
				  i, (unsigned long long)after.last[i],
				  (unsigned long long)committed[i]);
	}
}

static int
img_has(const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir_img, file);
	return access(path, F_OK) == 0;
}

static void
on_point(uint64_t point, enum nv_pp pp, void *arg)
{
	uint64_t rcommitted[NO];

	(void)arg;
	if (!all_points && (t_rng(&sample_rng) & 3) != 0)
		return;
	nv_recorder_pause(1);
	checks_points++;
	unsigned nseeds = all_points && !evict_none_only ? 2 + random_seeds : 1;
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
		nv_boot_salt ^= 0x5a5a; /* every pre-crash owner is dead */
		/* a channel not mapped since the recorder started is not in
		 * the image (its file as created is durable, nothing to
		 * check): the first points of a workload */
		memset(rcommitted, 0, sizeof(rcommitted));
		if (img_has("rcv.nvmsg"))
			check_rcv(rcommitted);
		if (img_has("snd.nvmsg"))
			check_snd(rcommitted);
		nv_boot_salt ^= 0x5a5a;
		if (getenv("T_CRASH_STOP") &&
		    point == strtoull(getenv("T_CRASH_STOP"), NULL, 0) &&
		    k == 0) {
			nv_recorder_image(dir_img, mode,
					  seed_base * 1000003 + point * 31 + k);
			fprintf(stderr,
				"stopped at point %llu pp %s, image "
				"in %s\n",
				(unsigned long long)point, nv_pp_name(pp),
				dir_img);
			_exit(3);
		}
		nvmsg_channel_unlink(dir_img, "snd");
		nvmsg_channel_unlink(dir_img, "rcv");
	}
	nv_recorder_pause(0);
}

/* workload: the receiver ---------------------------------------------------- */

static void
rx_open(unsigned k)
{
	W.r_tried[k] = 1;
	ASSERT_OK(
		nvmsg_producer_open_origin(dir_live, "rcv", &org[k], &W.rp[k]));
	if (nvmsg_producer_committed(W.rp[k]) != app_hi(k))
		T_FAILF("rcv origin %u reopened: committed %llu, appended "
			"%llu",
			k,
			(unsigned long long)nvmsg_producer_committed(W.rp[k]),
			(unsigned long long)app_hi(k));
	W.slot_k[nvmsg_producer_id(W.rp[k])] = (int)k;
}

/* rx_append -- the receiver appends origin K's message SEQ; a number it
 * holds (durable or in its open batch) must be refused and write nothing */
static int
rx_append(unsigned k, uint64_t seq, const void *buf, size_t len, int flags)
{
	if (!W.rp[k])
		rx_open(k);
	uint64_t before = nvmsg_producer_last_seq(W.rp[k]);
	int dup = seq <= app_hi(k);
	if (!dup) {
		/* appended before the call: a crash inside it may keep it */
		if (W.napp[k] >= MAXA)
			T_FAILF("origin %u: more than %u appended", k, MAXA);
		W.app[k][W.napp[k]++] = seq;
	}
	int rc = nvmsg_send_seq(W.rp[k], seq, buf, len, flags, 0);
	if (dup) {
		if (rc != NVMSG_E_DUPLICATE ||
		    nvmsg_producer_last_seq(W.rp[k]) != before)
			violation(K_API,
				  "live: origin %u resend of seq %llu (held "
				  "up to %llu): %s, last seq %llu",
				  k, (unsigned long long)seq,
				  (unsigned long long)app_hi(k),
				  nvmsg_strerror(rc),
				  (unsigned long long)nvmsg_producer_last_seq(
					  W.rp[k]));
		dups_refused += rc == NVMSG_E_DUPLICATE;
		return 0;
	}
	if (rc == -EAGAIN) {
		W.napp[k]--; /* not appended (a full ring) */
		return rc;
	}
	if (rc < 0)
		T_FAILF("send_seq origin %u seq %llu: %s", k,
			(unsigned long long)seq, nvmsg_errmsg());
	if (!(flags & NVMSG_MORE))
		W.r_acked[k] = seq; /* the batch is durable: ack it */
	return 0;
}

/* rx_flush -- close origin K's batch, then ack the sender up to it */
static void
rx_flush(unsigned k)
{
	if (!W.rp[k])
		return;
	ASSERT_OK(nvmsg_producer_flush(W.rp[k]));
	W.r_acked[k] = app_hi(k);
}

static void
rx_restart(unsigned k)
{
	if (!W.rp[k])
		return;
	/* close publishes the open batch: acknowledged now */
	ASSERT_OK(nvmsg_producer_close(&W.rp[k]));
	W.r_acked[k] = app_hi(k);
	rx_open(k);
}

/* sim_batch -- simulated sender K (2, 3): N messages whose numbers skip,
 * NVMSG_MORE; HOW 0: flush, 1: the last without NVMSG_MORE, 2: leave the
 * batch open */
static void
sim_batch(unsigned k, unsigned n, unsigned how)
{
	unsigned char b[MAXLEN];

	for (unsigned j = 0; j < n; j++) {
		uint64_t seq = W.gen_hold[k];
		if (!seq) {
			uint64_t r = t_rng(&wl_rng);
			unsigned skip = (r & 1) ? 1 + (unsigned)(r >> 8) % 5
						: 0;
			seq = W.gen_last[k] + 1 + skip;
			skips += skip != 0;
		}
		int flags = how == 1 && j == n - 1 ? 0 : NVMSG_MORE;
		msg_fill(k, seq, b);
		if (rx_append(k, seq, b, msg_len(k, seq), flags) == -EAGAIN) {
			W.gen_hold[k] = seq;
			break;
		}
		W.gen_hold[k] = 0;
		W.gen_last[k] = seq;
	}
	if (how == 0)
		rx_flush(k);
}

/* sim_resend -- sender K reconnects and resends its last few numbers
 * (acked, and in the receiver's open batch): every one refused */
static void
sim_resend(unsigned k)
{
	unsigned char b[MAXLEN];

	if (!W.napp[k])
		return;
	unsigned back = 1 + (unsigned)(t_rng(&wl_rng) % 8);
	unsigned from = W.napp[k] > back ? W.napp[k] - back : 0;
	for (unsigned j = from; j < W.napp[k]; j++) {
		uint64_t seq = W.app[k][j];
		msg_fill(k, seq, b);
		rx_append(k, seq, b, msg_len(k, seq),
			  j + 1 == W.napp[k] ? 0 : NVMSG_MORE);
	}
}

/* down -- the receiver's local consumer: view N, maybe ack */
static void
down(unsigned n, int ack)
{
	struct nvmsg_view v;

	for (unsigned i = 0; i < n; i++) {
		int rc = nvmsg_view(W.down, &v, 0);
		if (rc == -EAGAIN)
			break;
		if (rc < 0)
			T_FAILF("down view: %s", nvmsg_errmsg());
		if (v.producer >= NO || W.slot_k[v.producer] < 0)
			T_FAILF("down: slot %u has no origin", v.producer);
		unsigned k = (unsigned)W.slot_k[v.producer];
		if (W.d_idx[k] >= W.napp[k] || v.seq != W.app[k][W.d_idx[k]] ||
		    !msg_ok(k, v.seq, v.data, v.len))
			T_FAILF("live: down got origin %u seq %llu after "
				"%llu",
				k, (unsigned long long)v.seq,
				(unsigned long long)W.d_viewed[k]);
		W.d_idx[k]++;
		W.d_viewed[k] = v.seq;
	}
	if (!ack)
		return;
	memcpy(W.d_try, W.d_viewed, sizeof(W.d_try));
	ASSERT_OK(nvmsg_ack(W.down));
	memcpy(W.d_done, W.d_viewed, sizeof(W.d_done));
	memcpy(W.d_done_idx, W.d_idx, sizeof(W.d_done_idx));
}

static void
down_open(void)
{
	ASSERT_OK(nvmsg_consumer_open(dir_live, "rcv", "down",
				      NVMSG_CONSUMER_CREATE, &W.down));
	W.down_reg = 1;
	memcpy(W.d_viewed, W.d_done, sizeof(W.d_done));
	memcpy(W.d_try, W.d_done, sizeof(W.d_done));
	memcpy(W.d_idx, W.d_done_idx, sizeof(W.d_idx));
}

/* workload: the sender ------------------------------------------------------ */

static void
s_send(unsigned i, int more)
{
	unsigned char b[MAXLEN];
	uint64_t seq = W.s_next[i];

	msg_fill(i, seq, b);
	if (seq > W.s_attempted[i])
		W.s_attempted[i] = seq;
	int rc = nvmsg_send(W.sp[i], b, msg_len(i, seq), more ? NVMSG_MORE : 0,
			    0);
	if (rc == -EAGAIN)
		return;
	if (rc < 0)
		T_FAILF("send: %s", nvmsg_errmsg());
	W.s_next[i]++;
	if (more)
		W.s_pending[i] = seq;
	else
		W.s_sent_ok[i] = seq, W.s_pending[i] = 0;
}

static void
s_flush(unsigned i)
{
	ASSERT_OK(nvmsg_producer_flush(W.sp[i]));
	if (W.s_pending[i])
		W.s_sent_ok[i] = W.s_pending[i];
	W.s_pending[i] = 0;
}

/* link_view -- the link views up to N messages ahead of the remote and
 * copies each into its window */
static void
link_view(unsigned n)
{
	struct nvmsg_view v;

	for (unsigned j = 0; j < n; j++) {
		if (W.nwin[0] >= WIN - 1 || W.nwin[1] >= WIN - 1)
			break;
		int rc = nvmsg_view(W.link, &v, 0);
		if (rc == -EAGAIN)
			break;
		if (rc < 0)
			T_FAILF("link view: %s", nvmsg_errmsg());
		unsigned i = v.producer;
		if (i >= NS)
			T_FAILF("link: producer %u", i);
		if (v.seq != W.l_viewed[i] + 1)
			violation(v.seq > W.l_viewed[i] + 1 ? K_SENDLOSS
							    : K_RESUME,
				  "live: the link got producer %u seq %llu "
				  "after %llu (ack views durable up to %llu, "
				  "remote acked %llu)",
				  i, (unsigned long long)v.seq,
				  (unsigned long long)W.l_viewed[i],
				  (unsigned long long)W.l_done[i],
				  (unsigned long long)W.r_acked[i]);
		if (!msg_ok(i, v.seq, v.data, v.len))
			violation(
				K_PHANTOM,
				"live: link producer %u seq %llu bytes differ",
				i, (unsigned long long)v.seq);
		struct fwd_view *f = &W.win[i][W.nwin[i]++];
		f->seq = v.seq;
		f->v = v;
		f->len = v.len < MAXLEN ? v.len : MAXLEN;
		memcpy(f->data, v.data, f->len);
		f->tx = 0;
		W.l_viewed[i] = v.seq;
	}
}

/* link_transmit -- up to M views not yet transmitted go to the receiver
 * (NVMSG_MORE); FLUSH: the receiver closes its batches and acks */
static void
link_transmit(unsigned m, int flush)
{
	for (unsigned j = 0; j < m; j++) {
		unsigned i = (unsigned)(t_rng(&wl_rng) & 1);
		struct fwd_view *f = NULL;
		for (unsigned t = 0; t < NS && !f; t++) {
			unsigned s = (i + t) % NS;
			for (unsigned e = 0; e < W.nwin[s] && !f; e++)
				if (!W.win[s][e].tx)
					f = &W.win[s][e], i = s;
		}
		if (!f)
			break;
		if (rx_append(i, f->seq, f->data, f->len, NVMSG_MORE) ==
		    -EAGAIN)
			break;
		f->tx = 1;
	}
	if (flush)
		for (unsigned k = 0; k < NS; k++)
			rx_flush(k);
}

/* link_ack -- ack_view, per slot, the last view the remote acked: every
 * call but the last with NVMSG_MORE; ALL_MORE: the last too (only noted) */
static void
link_ack(int all_more)
{
	int j[NS], last = -1;

	for (unsigned i = 0; i < NS; i++) {
		j[i] = -1;
		for (unsigned e = 0; e < W.nwin[i]; e++)
			if (W.win[i][e].seq <= W.r_acked[i])
				j[i] = (int)e;
		if (j[i] >= 0)
			last = (int)i;
	}
	if (last < 0)
		return;
	for (unsigned i = 0; i < NS; i++) {
		if (j[i] < 0)
			continue;
		struct fwd_view *f = &W.win[i][j[i]];
		int flags = (int)i == last && !all_more ? 0 : NVMSG_MORE;
		if (f->seq > W.l_try[i])
			W.l_try[i] = f->seq;
		int rc = nvmsg_ack_view(W.link, &f->v, flags);
		if (rc == -EINVAL)
			violation(K_API,
				  "live: ack_view of producer %u seq %llu "
				  "refused: %s",
				  i, (unsigned long long)f->seq,
				  nvmsg_errmsg());
		else if (rc < 0)
			T_FAILF("ack_view: %s", nvmsg_errmsg());
		if (!flags)
			memcpy(W.l_done, W.l_try, sizeof(W.l_done));
		/* the acked views leave the window */
		unsigned gone = (unsigned)j[i] + 1;
		memmove(&W.win[i][0], &W.win[i][gone],
			(W.nwin[i] - gone) * sizeof(W.win[i][0]));
		W.nwin[i] -= gone;
		/* views left: the link read ahead of the remote */
		ahead_acks += W.nwin[i] > 0;
	}
}

/* link_open -- (re)connect: the link resumes at its durable acks; noted
 * acks never made durable are gone, and its window is empty */
static void
link_open(void)
{
	ASSERT_OK(nvmsg_consumer_open(dir_live, "snd", "link",
				      NVMSG_CONSUMER_CREATE, &W.link));
	W.link_reg = 1;
	memcpy(W.l_viewed, W.l_done, sizeof(W.l_done));
	memcpy(W.l_try, W.l_done, sizeof(W.l_done));
	memset(W.nwin, 0, sizeof(W.nwin));
}

static void
run_workload(uint64_t seed, unsigned ops)
{
	struct nvmsg_channel_opts o = {
		.tier = NVMSG_TIER_EMULATED,
		.capacity_bytes = RING,
		.max_producers = NS,
		.max_consumers = 1,
		.mode = 0644,
	};
	struct nvmsg_origin so[NVMSG_MAX_PRODUCERS];

	memset(&W, 0, sizeof(W));
	wl_rng = seed * 0x9e3779b97f4a7c15ull + 1;
	for (unsigned i = 0; i < NS; i++)
		W.s_next[i] = 1;
	for (unsigned s = 0; s < NO; s++)
		W.slot_k[s] = -1;
	ASSERT_OK(nvmsg_channel_create(dir_live, "snd", &o));
	o.max_producers = NO;
	ASSERT_OK(nvmsg_channel_create(dir_live, "rcv", &o));
	/* origins 0, 1: snd's slots (its uuid); 2, 3: simulated senders */
	ASSERT_EQ(nvmsg_channel_origins(dir_live, "snd", so), NS);
	for (unsigned k = 0; k < NO; k++) {
		memset(&org[k], 0, sizeof(org[k]));
		if (k < NS) {
			org[k] = so[k];
		} else {
			memset(org[k].channel, (int)(0xa0 + k), 16);
			org[k].producer = 7;
		}
		org[k].flags = NVMSG_ORIGIN_FORWARDED;
	}

	nv_recorder_start(on_point, NULL);
	link_open();
	down_open();
	for (unsigned i = 0; i < NS; i++)
		ASSERT_OK(
			nvmsg_producer_open(dir_live, "snd", (int)i, &W.sp[i]));
	for (unsigned op = 0; op < ops; op++) {
		uint64_t r = t_rng(&wl_rng);
		unsigned i = (unsigned)(r >> 8) & 1;
		unsigned k = 2 + ((unsigned)(r >> 9) & 1);
		unsigned n = 1 + (unsigned)(r >> 16) % 5;
		unsigned what = (unsigned)(r % 100);
		if (what < 16) {
			/* a burst, some of it NVMSG_MORE */
			for (unsigned q = 0; q < n; q++)
				s_send(i, ((r >> (24 + 2 * q)) % 3) == 0);
		} else if (what < 19) {
			s_flush(i);
		} else if (what < 30) {
			link_view(n + 1);
		} else if (what < 41) {
			link_transmit(1 + n / 2, (r >> 24) & 1);
		} else if (what < 44) {
			for (unsigned q = 0; q < NO; q++)
				rx_flush(q);
		} else if (what < 53) {
			link_ack(((r >> 24) & 3) == 0);
		} else if (what < 55) {
			nvmsg_consumer_close(&W.link);
			link_open();
		} else if (what < 69) {
			sim_batch(k, n, (unsigned)(r >> 24) % 3);
		} else if (what < 72) {
			sim_resend(k);
		} else if (what < 74) {
			rx_restart((unsigned)(r >> 24) % NO);
		} else if (what < 90) {
			down(2 + n, ((r >> 24) & 3) != 0);
		} else if (what < 92) {
			nvmsg_consumer_close(&W.down);
			down_open();
		} else {
			/* a whole round trip */
			link_view(4);
			link_transmit(4, 1);
			link_ack(0);
		}
	}
	nv_recorder_stop();
	for (unsigned q = 0; q < NO; q++)
		ASSERT_OK(nvmsg_producer_close(&W.rp[q]));
	for (unsigned q = 0; q < NS; q++)
		ASSERT_OK(nvmsg_producer_close(&W.sp[q]));
	nvmsg_consumer_close(&W.link);
	nvmsg_consumer_close(&W.down);
	ASSERT_OK(nvmsg_channel_unlink(dir_live, "snd"));
	ASSERT_OK(nvmsg_channel_unlink(dir_live, "rcv"));
}

int
main(int argc, char **argv)
{
	unsigned workloads = 3, ops = 400, samples = 6;
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
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [--seed S] [--workloads W] "
				"[--ops N] [--random-seeds K] [--samples M] "
				"[--expect KIND] [--evict none]\n",
				argv[0]);
			return 2;
		}
	}
	dir_live = t_tmpdir();
	snprintf(dir_img_buf, sizeof(dir_img_buf), "%s/img", dir_live);
	ASSERT_TRUE(mkdir(dir_img_buf, 0755) == 0);
	dir_img = dir_img_buf;
	printf("t_crash_fwd: seed %llu, %u workloads x %u ops, every persist "
	       "point x %u eviction seeds, then %u more workloads sampled\n",
	       (unsigned long long)seed, workloads, ops,
	       evict_none_only ? 1 : 2 + random_seeds, samples);
	for (unsigned w = 0; w < workloads; w++) {
		seed_base = seed + w;
		all_points = 1;
		run_workload(seed_base, ops);
	}
	uint64_t exhaustive = states, points = checks_points;
	sample_rng = seed ^ 0xabcdef;
	for (unsigned k = 0; k < samples; k++) {
		seed_base = seed + workloads + k;
		all_points = 0;
		run_workload(seed_base, ops);
	}
	printf("exhaustive states: %llu at %llu points; sampled states: "
	       "%llu\n",
	       (unsigned long long)exhaustive, (unsigned long long)points,
	       (unsigned long long)(states - exhaustive));
	printf("workload: %llu skips, %llu resends refused, %llu ack_views "
	       "with views left (read ahead of the remote)\n",
	       (unsigned long long)skips, (unsigned long long)dups_refused,
	       (unsigned long long)ahead_acks);
	printf("states: %llu origins with an appended number lost, %llu "
	       "links redelivering remote-acked messages, %llu end-to-end "
	       "checks\n",
	       (unsigned long long)torn_states,
	       (unsigned long long)redeliver_states,
	       (unsigned long long)e2e_checked);
	printf("violations by kind:");
	for (int k = 0; k < K_COUNT; k++)
		printf(" %s %llu", kind_name[k],
		       (unsigned long long)by_kind[k]);
	printf("\ncrash states: %llu, violations: %llu\n",
	       (unsigned long long)states, (unsigned long long)violations);
	/* a run that never reached the interesting cases proves nothing */
	if (states == 0 || skips == 0 || dups_refused == 0 || ahead_acks == 0 ||
	    torn_states == 0 || redeliver_states == 0 || e2e_checked == 0) {
		fprintf(stderr, "t_crash_fwd: the workload missed a case "
				"(one of the counts above is 0): it proved "
				"nothing\n");
		return T_FAIL;
	}
	if (expect >= 0) {
		printf("expected kind %s: %llu\n", kind_name[expect],
		       (unsigned long long)by_kind[expect]);
		return by_kind[expect] > 0 ? T_PASS : T_FAIL;
	}
	return violations == 0 ? T_PASS : T_FAIL;
}
