/* SPDX-License-Identifier: MIT */
/*
 * pc_guest.c -- the workload that runs inside the power-cut guest.
 *
 * The host (powercut.py) boots a QEMU guest whose /init runs this program,
 * reads its serial ports, kills QEMU at a random moment (the power cut),
 * boots again on the same NVDIMM and runs `verify`.  Everything the host
 * learns comes from the lines below, one write(2) each, so lines of
 * different processes never mix:
 *
 *   CREATED <tier> <backing...>        create: channel and consumer made
 *   OPEN <id> <committed> <first>      produce: slot opened; committed is
 *                                      nvmsg_producer_committed()
 *   SENT <id> <num> <seq>              produce: the send (or the batch
 *                                      holding <num>) returned 0
 *   DONE <id> <num>                    produce: all COUNT messages sent
 *   READ <phase> uid=<uid>             read, verify: a read begins; the
 *                                      GOT lines up to READEND are its
 *   GOT <producer> <num> <seq> <len>   consume, read, verify: viewed,
 *                                      checked
 *   READEND <phase> uid=<uid> count=<n> lag=<l> unknown=<u>
 *                                      read, verify: <n> viewed, <l> of
 *                                      them past the pub_tail that the
 *                                      media held when the read began
 *                                      (lag records; see pub_seqs), <u>
 *                                      slots whose lag is unknown
 *   ACK <producer> <num>               consume: nvmsg_ack returned 0 after
 *                                      the view of <num>
 *   CHECK <when> errors=.. ...         verify: nvmsg_channel_check
 *   REPAIR slots=.. published=.. ...   verify: nvmsg_channel_repair
 *   NOCHANNEL <errno-name>             read, verify: the channel is gone
 *   COMMITTED <id> <committed>         verify: nvmsg_producer_committed()
 *                                      of slot <id>, opened after the
 *                                      consumer drained (and acked) all
 *   END                                verify: done
 *   DAMAGED <sentence>                 read, verify: the channel's bytes
 *                                      fail a check (NVMSG_E_CORRUPT from
 *                                      the library, or a payload this
 *                                      program did not write): a verdict
 *                                      on the data, not on the rig
 *   BAD <sentence>                     any mode: something else failed
 *
 * After the cut the guest first reads (mode read) as the consumer, which
 * maps the data read-only, before anything opens a producer slot or
 * repairs: once as root, once as another uid (the owner gave it the
 * cursor file, as nvmsg_consumer_open documents).  Neither acks.  The
 * host judges I1 from that first read: a consumer must see every durable
 * message also while pub_tail lags the last durable batch, with no
 * writer around to recover the slot.  Then verify repairs and reads
 * again (and acks); the host checks that the reads agree.
 *
 * Why the host may trust what it saw: a SENT line is written only after
 * the send returned, so every SENT the host saw names a durable message.
 * The other direction needs care, because a line written to the console
 * sits in the guest's tty buffer for a while and dies with the guest.
 * So two waits (tcdrain: until the UART has handed every byte to QEMU,
 * which writes it into a file on the host, where it survives the kill;
 * each process has a serial port of its own, so that it waits for its
 * own lines only):
 *   - the consumer drains its GOT lines before nvmsg_ack, so an ack that
 *     became durable never covers a message whose GOT the host lacks: the
 *     consumer's resume point after the cut is at most the last GOT seen;
 *   - a producer drains its SENT lines before the next send starts, so at
 *     most one send (or batch) that the host never heard of can be durable:
 *     the last message delivered after the cut is at most one send past
 *     the last SENT seen.
 *
 * Payload of message <num> of producer <id>: magic, id, num, then filler
 * bytes derived from (id, num); its length is derived from them too.  The
 * consumer checks all of it on top of the library's checksum
 * (NVMSG_CONSUMER_VERIFY).
 *
 * Usage:
 *   pc_guest create DIR NAME TIER CONSUMER
 *   pc_guest produce DIR NAME ID FIRST COUNT SEED
 *   pc_guest consume DIR NAME CONSUMER SEED [PAUSE_MS]
 *   pc_guest read DIR NAME CONSUMER PHASE [UID]
 *   pc_guest verify DIR NAME CONSUMER
 * Exit status 0, or 1 after a BAD or DAMAGED line.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "nvmsg.h"
#include "t_util.h"

#define PC_MAGIC 0x314d4350u /* "PCM1" */
#define PC_HDR 16u	     /* magic, producer, num */
#define PC_MAX_LEN 256u
#define PC_CAPACITY (64u * 1024u) /* per ring: a few hundred sends wrap */
#define PC_PRODUCERS 4u
#define PC_CONSUMERS 2u
#define PC_BATCH_MAX 8u

/* say -- one console line, one write(2) */
static void
say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	for (int off = 0; off < n;) {
		ssize_t w = write(STDOUT_FILENO, line + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (int)w;
	}
}

/* drain -- wait until every byte written to the console reached the host
 * (see the top comment); a no-op when stdout is not a terminal */
static void
drain(void)
{
	while (tcdrain(STDOUT_FILENO) != 0 && errno == EINTR)
		;
}

/* the verify boot's read under way (READ .. READEND), for DAMAGED lines */
static const char *reading = "";

/* bad -- report a failure with the library's sentence, exit 1: DAMAGED
 * when the library found the channel's bytes corrupt (a verdict on the
 * data), BAD otherwise (the rig, or a call that should not fail) */
static _Noreturn void
bad(const char *what, int rc)
{
	say("%s %s%s%s: %s (%s)", rc == NVMSG_E_CORRUPT ? "DAMAGED" : "BAD",
	    reading, *reading ? ": " : "", what, nvmsg_strerror(rc),
	    nvmsg_errmsg());
	drain();
	exit(1);
}

/* msg_len -- payload bytes of message NUM of producer ID (t_mix64, the
 * splitmix64 hash, is the length and filler generator) */
static size_t
msg_len(unsigned id, uint64_t num)
{
	return PC_HDR +
	       t_mix64(((uint64_t)id << 56) ^ num) % (PC_MAX_LEN - PC_HDR);
}

/* msg_fill -- write message NUM of producer ID into BUF; returns its len */
static size_t
msg_fill(unsigned char *buf, unsigned id, uint64_t num)
{
	size_t len = msg_len(id, num);
	uint32_t magic = PC_MAGIC, pid = id;
	uint64_t x = t_mix64(((uint64_t)id << 32) ^ num ^ 0x5555);

	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &pid, 4);
	memcpy(buf + 8, &num, 8);
	for (size_t i = PC_HDR; i < len; i++)
		buf[i] = (unsigned char)((x >> (8 * (i % 8))) + i);
	return len;
}

/* msg_check -- does the view hold a message this program wrote, from the
 * producer slot that the record names?  *NUM gets its number. */
static int
msg_check(const struct nvmsg_view *v, uint64_t *num)
{
	unsigned char want[PC_MAX_LEN];
	uint32_t magic, id;

	if (v->len < PC_HDR || v->len > PC_MAX_LEN)
		return 0;
	memcpy(&magic, v->data, 4);
	memcpy(&id, (const unsigned char *)v->data + 4, 4);
	memcpy(num, (const unsigned char *)v->data + 8, 8);
	if (magic != PC_MAGIC || id != v->producer)
		return 0;
	return msg_fill(want, id, *num) == v->len &&
	       memcmp(want, v->data, v->len) == 0;
}

/* rnd -- xorshift64*, seeded per process */
static uint64_t rnd_state = 1;

static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

static int
cmd_create(const char *dir, const char *name, const char *tier,
	   const char *consumer)
{
	struct nvmsg_channel_opts o = {
		.tier = nvmsg_tier_parse(tier),
		.capacity_bytes = PC_CAPACITY,
		.max_producers = PC_PRODUCERS,
		.max_consumers = PC_CONSUMERS,
	};
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_stat *st;
	int rc;

	if (o.tier < 0)
		bad("tier", o.tier);
	rc = nvmsg_channel_create(dir, name, &o);
	if (rc < 0)
		bad("nvmsg_channel_create", rc);
	rc = nvmsg_consumer_open(dir, name, consumer, NVMSG_CONSUMER_CREATE,
				 &c);
	if (rc < 0)
		bad("nvmsg_consumer_open(CREATE)", rc);
	nvmsg_consumer_close(&c);
	st = calloc(1, sizeof(*st));
	if (!st)
		bad("calloc", -ENOMEM);
	rc = nvmsg_channel_stat(dir, name, st);
	if (rc < 0)
		bad("nvmsg_channel_stat", rc);
	say("CREATED %s %s; persistence domain %s", nvmsg_tier_name(st->tier),
	    st->backing, st->persistence_domain);
	free(st);
	return 0;
}

/* cmd_produce -- send COUNT messages numbered FIRST.. on slot ID: single
 * sends, zero-copy reserve/commit, and NVMSG_MORE batches closed by a
 * plain send or by nvmsg_producer_flush, at random */
static int
cmd_produce(const char *dir, const char *name, unsigned id, uint64_t first,
	    uint64_t count)
{
	unsigned char buf[PC_MAX_LEN];
	struct nvmsg_producer *p = NULL;
	uint64_t num = first, end = first + count, seq;
	int rc;

	rc = nvmsg_producer_open(dir, name, (int)id, &p);
	if (rc < 0)
		bad("nvmsg_producer_open", rc);
	seq = nvmsg_producer_committed(p);
	say("OPEN %u %" PRIu64 " %" PRIu64, id, seq, first);
	drain();
	while (num < end) {
		uint64_t r = rnd() % 10, n = 1;
		struct nvmsg_claim cl;
		size_t len;

		if (r < 6) { /* one plain send */
			len = msg_fill(buf, id, num);
			rc = nvmsg_send(p, buf, len, NVMSG_BLOCK, -1);
			if (rc < 0)
				bad("nvmsg_send", rc);
			seq++; /* seq of the send (a prediction: see below) */
		} else if (r < 8) { /* zero copy */
			rc = nvmsg_reserve(p, msg_len(id, num), &cl,
					   NVMSG_BLOCK, -1);
			if (rc < 0)
				bad("nvmsg_reserve", rc);
			msg_fill(cl.data, id, num);
			seq = cl.seq;
			rc = nvmsg_commit(p, &cl, 0);
			if (rc < 0)
				bad("nvmsg_commit", rc);
		} else { /* a batch: durable together, at its last send
			  * (without NVMSG_MORE) or at nvmsg_producer_flush */
			int by_flush = r == 9;

			n = 2 + rnd() % 3;
			if (n > end - num)
				n = end - num;
			for (uint64_t k = 0; k < n; k++) {
				int more = k + 1 < n || by_flush;

				len = msg_fill(buf, id, num + k);
				rc = nvmsg_send(p, buf, len,
						NVMSG_BLOCK |
							(more ? NVMSG_MORE : 0),
						-1);
				if (rc < 0)
					bad("nvmsg_send(batch)", rc);
			}
			if (by_flush && (rc = nvmsg_producer_flush(p)) < 0)
				bad("nvmsg_producer_flush", rc);
			seq += n;
		}
		/* The seq printed for plain sends is the library's numbering
		 * within one open (consecutive); the host uses it to name
		 * records, never to judge them. */
		for (uint64_t k = 0; k < n; k++)
			say("SENT %u %" PRIu64 " %" PRIu64, id, num + k,
			    seq - (n - 1 - k));
		num += n;
		drain(); /* before the next send starts */
	}
	say("DONE %u %" PRIu64, id, end - 1);
	nvmsg_producer_close(&p);
	return 0;
}

/* view_one -- view, check and print one message; 0, or -EAGAIN/-ETIMEDOUT
 * when none came; *PROD and *NUM name it, *SEQ (if not NULL) is its seq */
static int
view_one(struct nvmsg_consumer *c, int64_t timeout_ns, unsigned *prod,
	 uint64_t *num, uint64_t *seq)
{
	struct nvmsg_view v;
	int rc = nvmsg_view(c, &v, timeout_ns);

	if (rc == -EAGAIN || rc == -ETIMEDOUT)
		return rc;
	if (rc < 0)
		bad("nvmsg_view", rc);
	if (!msg_check(&v, num)) {
		say("DAMAGED %s%spayload of producer %u seq %" PRIu64
		    " len %zu is "
		    "not one this program wrote",
		    reading, *reading ? ": " : "", v.producer, v.seq, v.len);
		drain();
		exit(1);
	}
	*prod = v.producer;
	if (seq)
		*seq = v.seq;
	say("GOT %u %" PRIu64 " %" PRIu64 " %zu", v.producer, *num, v.seq,
	    v.len);
	return 0;
}

/* cmd_consume -- view batches of 1..PC_BATCH_MAX messages, ack each batch
 * with one nvmsg_ack, then sleep PAUSE_MS (a slow consumer keeps messages
 * unacked when the power goes); runs until the power cut (or a failure:
 * exit 1) */
static _Noreturn void
cmd_consume(const char *dir, const char *name, const char *consumer,
	    unsigned pause_ms)
{
	struct nvmsg_consumer *c = NULL;
	unsigned prod[PC_BATCH_MAX];
	uint64_t num[PC_BATCH_MAX];
	int rc;

	rc = nvmsg_consumer_open(dir, name, consumer, NVMSG_CONSUMER_VERIFY,
				 &c);
	if (rc < 0)
		bad("nvmsg_consumer_open", rc);
	for (;;) {
		unsigned want = 1 + (unsigned)(rnd() % PC_BATCH_MAX), n = 0;

		while (n < want &&
		       view_one(c, n ? 0 : -1, &prod[n], &num[n], NULL) == 0)
			n++;
		if (n == 0)
			continue;
		drain(); /* every GOT reaches the host before the ack */
		rc = nvmsg_ack(c);
		if (rc < 0)
			bad("nvmsg_ack", rc);
		for (unsigned k = 0; k < n; k++)
			say("ACK %u %" PRIu64, prod[k], num[k]);
		if (pause_ms)
			usleep(pause_ms * 1000u);
	}
}

/* ld64 -- a little-endian 64-bit field of a mapped region */
static uint64_t
ld64(const unsigned char *at)
{
	uint64_t v;

	memcpy(&v, at, 8);
	return v;
}

/* pub_seqs -- for each producer slot, the seq of the first record past the
 * slot's pub_tail as the media holds it now: the end_seq of the batch
 * descriptor whose end_pos is pub_tail (the slot table of docs/FORMAT.md,
 * read from the data file mapped read-only, not through the library,
 * which reads a dead producer's records past pub_tail as if published).
 * After a cut pub_tail lags at most one batch, and the descriptors hold
 * the last two batches.  UINT64_MAX where none ends at pub_tail. */
static int
pub_seqs(const char *dir, const char *name, uint64_t seq[PC_PRODUCERS])
{
	char path[512];
	const unsigned char *m;
	uint64_t prod_off;
	uint32_t maxp;
	size_t len = 4096;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.nvmsg", dir, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -errno;
	for (int pass = 0; pass < 2; pass++) {
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			int e = -errno;

			close(fd);
			return e;
		}
		memcpy(&maxp, m + 32, 4);
		prod_off = ld64(m + 80);
		if (pass == 0) {
			munmap((void *)m, len);
			if (maxp < PC_PRODUCERS || prod_off > (1u << 24)) {
				close(fd);
				return -EINVAL;
			}
			/* whole pages: a device dax maps no less */
			len = (prod_off + 256u * maxp + 4095) & ~(size_t)4095;
		}
	}
	close(fd);
	for (unsigned i = 0; i < PC_PRODUCERS; i++) {
		const unsigned char *slot = m + prod_off + 256u * i;
		uint64_t pub = ld64(slot);

		seq[i] = pub == 0 ? 1 : UINT64_MAX;
		for (unsigned k = 0; k < 2; k++)
			if (pub && ld64(slot + 64 + 32 * k) == pub)
				seq[i] = ld64(slot + 64 + 32 * k + 8);
	}
	munmap((void *)m, len);
	return 0;
}

/* read_all -- view every message CONSUMER has not acked, each checked and
 * printed, between READ and READEND lines; ack them all when ACK.  Lag
 * records: those past the pub_tail the media held before the read
 * (pub_seqs).  0, or 1 when the channel is gone (NOCHANNEL). */
static int
read_all(const char *dir, const char *name, const char *consumer,
	 const char *phase, int ack)
{
	struct nvmsg_consumer *c = NULL;
	uint64_t pubseq[PC_PRODUCERS], got = 0, lag = 0, num, seq;
	unsigned prod, uid = (unsigned)geteuid(), unknown = 0;
	static char rd[64];
	int rc;

	rc = pub_seqs(dir, name, pubseq);
	if (rc == -ENOENT) {
		say("NOCHANNEL %s", nvmsg_strerror(rc));
		return 1;
	}
	if (rc < 0) {
		say("BAD read the slot table of %s/%s.nvmsg: %s", dir, name,
		    strerror(-rc));
		drain();
		exit(1);
	}
	say("READ %s uid=%u", phase, uid);
	snprintf(rd, sizeof(rd), "read %s uid=%u", phase, uid);
	reading = rd;
	rc = nvmsg_consumer_open(dir, name, consumer, NVMSG_CONSUMER_VERIFY,
				 &c);
	if (rc < 0)
		bad("nvmsg_consumer_open", rc);
	while (view_one(c, 0, &prod, &num, &seq) == 0) {
		got++;
		lag += prod < PC_PRODUCERS && seq >= pubseq[prod];
	}
	if (ack && (rc = nvmsg_ack(c)) < 0)
		bad("nvmsg_ack", rc);
	nvmsg_consumer_close(&c);
	for (unsigned i = 0; i < PC_PRODUCERS; i++)
		unknown += pubseq[i] == UINT64_MAX;
	say("READEND %s uid=%u count=%" PRIu64 " lag=%" PRIu64 " unknown=%u",
	    phase, uid, got, lag, unknown);
	reading = "";
	return 0;
}

/* cmd_read -- after the cut, before any repair or producer open: read
 * as CONSUMER (the data mapped read-only), as uid UID when given; no ack */
static int
cmd_read(const char *dir, const char *name, const char *consumer,
	 const char *phase, const char *uid)
{
	if (uid) {
		char *end;
		unsigned long u = strtoul(uid, &end, 10);

		if (*uid == '\0' || *end || setgroups(0, NULL) != 0 ||
		    setgid((gid_t)u) != 0 || setuid((uid_t)u) != 0) {
			say("BAD read: cannot become uid %s: %s", uid,
			    strerror(errno));
			drain();
			exit(1);
		}
	}
	read_all(dir, name, consumer, phase, 0);
	drain();
	return 0;
}

/* cmd_verify -- after the reads before repair: check, repair, check, then
 * read again (and ack, so that the next round starts after it), then ask
 * every producer slot what committed */
static int
cmd_verify(const char *dir, const char *name, const char *consumer)
{
	struct nvmsg_recovery rec;
	struct nvmsg_check ck;
	int rc;

	rc = nvmsg_channel_check(dir, name, &ck);
	if (rc == -ENOENT) {
		say("NOCHANNEL %s", nvmsg_strerror(rc));
		drain();
		return 0;
	}
	if (rc < 0)
		bad("nvmsg_channel_check", rc);
	say("CHECK before errors=%u repairs=%u unpublished=%" PRIu64
	    " torn=%u dead=%u first_error=%s",
	    ck.errors, ck.repairs_needed, ck.records_unpublished, ck.torn_tails,
	    ck.producers_dead, ck.first_error[0] ? ck.first_error : "-");
	rc = nvmsg_channel_repair(dir, name, &rec);
	if (rc < 0)
		bad("nvmsg_channel_repair", rc);
	say("REPAIR slots=%u scanned=%" PRIu64 " published=%" PRIu64
	    " cut_bytes=%" PRIu64,
	    rec.slots_recovered, rec.records_scanned, rec.records_published,
	    rec.bytes_cut);
	rc = nvmsg_channel_check(dir, name, &ck);
	if (rc < 0)
		bad("nvmsg_channel_check(after)", rc);
	say("CHECK after errors=%u repairs=%u unpublished=%" PRIu64
	    " torn=%u dead=%u first_error=%s",
	    ck.errors, ck.repairs_needed, ck.records_unpublished, ck.torn_tails,
	    ck.producers_dead, ck.first_error[0] ? ck.first_error : "-");
	if (read_all(dir, name, consumer, "post", 1))
		bad("read after repair", -ENOENT);
	/* detectability: what each slot says committed, now that the
	 * consumer has shown what survived */
	for (unsigned id = 0; id < PC_PRODUCERS; id++) {
		struct nvmsg_producer *p = NULL;

		rc = nvmsg_producer_open(dir, name, (int)id, &p);
		if (rc < 0)
			bad("nvmsg_producer_open", rc);
		say("COMMITTED %u %" PRIu64, id, nvmsg_producer_committed(p));
		nvmsg_producer_close(&p);
	}
	say("END");
	drain();
	return 0;
}

static uint64_t
arg_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		say("BAD %s: '%s' is not a number", what, s);
		exit(1);
	}
	return v;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "create") && argc == 6)
		return cmd_create(argv[2], argv[3], argv[4], argv[5]);
	if (!strcmp(mode, "produce") && argc == 8) {
		rnd_state = arg_u64(argv[7], "seed") | 1;
		return cmd_produce(argv[2], argv[3],
				   (unsigned)arg_u64(argv[4], "id"),
				   arg_u64(argv[5], "first"),
				   arg_u64(argv[6], "count"));
	}
	if (!strcmp(mode, "consume") && (argc == 6 || argc == 7)) {
		rnd_state = arg_u64(argv[5], "seed") | 1;
		cmd_consume(argv[2], argv[3], argv[4],
			    argc == 7 ? (unsigned)arg_u64(argv[6], "pause")
				      : 0);
	}
	if (!strcmp(mode, "read") && (argc == 6 || argc == 7))
		return cmd_read(argv[2], argv[3], argv[4], argv[5],
				argc == 7 ? argv[6] : NULL);
	if (!strcmp(mode, "verify") && argc == 5)
		return cmd_verify(argv[2], argv[3], argv[4]);
	fprintf(stderr,
		"usage: pc_guest create DIR NAME TIER CONSUMER\n"
		"       pc_guest produce DIR NAME ID FIRST COUNT SEED\n"
		"       pc_guest consume DIR NAME CONSUMER SEED [PAUSE_MS]\n"
		"       pc_guest read DIR NAME CONSUMER PHASE [UID]\n"
		"       pc_guest verify DIR NAME CONSUMER\n");
	return 2;
}
