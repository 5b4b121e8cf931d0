/* SPDX-License-Identifier: MIT */
/*
 * pc_link.c -- the workload and the probes of the link power-cut test
 * (powercut_link.py, docs/TESTING.md "Power cut at either end").  It runs
 * in the QEMU guest and on the host, around nvmsgd.
 *
 * Message <seq> of producer slot <id> carries magic, id and seq, then
 * filler bytes derived from (id, seq); its length is derived from them
 * too.  A producer sends the slot's sequence numbers in order from
 * nvmsg_producer_committed() + 1, so a message's number is its sequence
 * number in its origin slot, on every hop: the receiving nvmsgd appends it
 * with the origin's sequence number (nvmsg_send_seq).
 *
 * Lines (one write(2) each):
 *   CREATED <tier> <backing>             create
 *   OPEN <id> <committed>                produce: slot opened
 *   DONE <id> <last>                     produce: sent up to COUNT
 *   STOPPED <id> <last>                  produce: SIGTERM, <last> is the
 *                                        last seq whose send returned 0
 *   SLOT <slot> <origin-uuid> <origin-producer> <forwarded>
 *                                        dump: a slot that holds messages
 *   RUN <slot> <origin-producer> <first> <last>
 *                                        dump: the consumer viewed seqs
 *                                        <first>..<last> of that slot in
 *                                        a row, each checked
 *   DUMPEND count=<n>                    dump: <n> messages viewed
 *   RELEASED <slot> <upto> <exact>       released: the consumer's durable
 *                                        ack covers seqs 1..<upto> of the
 *                                        slot (exact 1: a message after it
 *                                        was viewed; 0: none was, <upto>
 *                                        is what was published before)
 *   NOCHANNEL <error>                    dump, released: no channel
 *   DAMAGED <sentence>                   dump: a payload this program did
 *                                        not write, or NVMSG_E_CORRUPT
 *   BAD <sentence>                       any other failure
 *
 * Usage:
 *   pc_link create DIR NAME TIER CAPACITY PRODUCERS [CONSUMER...]
 *   pc_link produce DIR NAME ID COUNT RATE [BATCH_PCT]
 *   pc_link dump DIR NAME CONSUMER
 *   pc_link released DIR NAME CONSUMER
 * dump and released view without acknowledging anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvmsg.h"
#include "t_util.h"

#define PL_MAGIC 0x314c4350u /* "PCL1" */
#define PL_HDR 16u	     /* magic, producer, seq */
#define PL_MAX_LEN 160u

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

static _Noreturn void
bad(const char *what, int rc)
{
	say("%s %s: %s (%s)", rc == NVMSG_E_CORRUPT ? "DAMAGED" : "BAD", what,
	    nvmsg_strerror(rc), nvmsg_errmsg());
	exit(1);
}

static size_t
msg_len(unsigned id, uint64_t seq)
{
	return PL_HDR + t_mix64(((uint64_t)id << 56) ^ seq ^ 0x77) %
				(PL_MAX_LEN - PL_HDR);
}

static size_t
msg_fill(unsigned char *buf, unsigned id, uint64_t seq)
{
	size_t len = msg_len(id, seq);
	uint32_t magic = PL_MAGIC, pid = id;
	uint64_t x = t_mix64(((uint64_t)id << 32) ^ seq ^ 0x5151);

	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &pid, 4);
	memcpy(buf + 8, &seq, 8);
	for (size_t i = PL_HDR; i < len; i++)
		buf[i] = (unsigned char)((x >> (8 * (i % 8))) + i);
	return len;
}

/* msg_ok -- is V message SEQ of origin producer ID, as this program wrote
 * it? */
static int
msg_ok(const struct nvmsg_view *v, unsigned id)
{
	unsigned char want[PL_MAX_LEN];

	if (v->len < PL_HDR || v->len > PL_MAX_LEN)
		return 0;
	return msg_fill(want, id, v->seq) == v->len &&
	       memcmp(want, v->data, v->len) == 0;
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

static int
cmd_create(int argc, char **argv)
{
	struct nvmsg_channel_opts o = {
		.tier = nvmsg_tier_parse(argv[4]),
		.capacity_bytes = arg_u64(argv[5], "capacity"),
		.max_producers = (unsigned)arg_u64(argv[6], "producers"),
	};
	struct nvmsg_stat *st;
	int rc;

	if (o.tier < 0)
		bad("tier", o.tier);
	rc = nvmsg_channel_create(argv[2], argv[3], &o);
	if (rc < 0)
		bad("nvmsg_channel_create", rc);
	for (int i = 7; i < argc; i++) {
		struct nvmsg_consumer *c = NULL;

		rc = nvmsg_consumer_open(argv[2], argv[3], argv[i],
					 NVMSG_CONSUMER_CREATE, &c);
		if (rc < 0)
			bad("nvmsg_consumer_open(CREATE)", rc);
		nvmsg_consumer_close(&c);
	}
	if (!(st = calloc(1, sizeof(*st))))
		bad("calloc", -ENOMEM);
	rc = nvmsg_channel_stat(argv[2], argv[3], st);
	if (rc < 0)
		bad("nvmsg_channel_stat", rc);
	say("CREATED %s %s", nvmsg_tier_name(st->tier), st->backing);
	free(st);
	return 0;
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* cmd_produce -- on slot ID, send the seqs after the slot's committed one
 * up to COUNT, RATE messages a second (0: as fast as it goes); BATCH_PCT
 * of the sends start an NVMSG_MORE batch of 2..4 (durable together at its
 * last send).  SIGTERM stops it between two sends (or batches). */
static int
cmd_produce(int argc, char **argv)
{
	unsigned id = (unsigned)arg_u64(argv[4], "id");
	uint64_t count = arg_u64(argv[5], "count");
	uint64_t rate = arg_u64(argv[6], "rate");
	uint64_t pct = argc > 7 ? arg_u64(argv[7], "batch percent") : 0;
	unsigned char buf[PL_MAX_LEN];
	struct nvmsg_producer *p = NULL;
	uint64_t seq, start, k = 0, rs = 0x9e3779b97f4a7c15ull ^ id;
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	rc = nvmsg_producer_open(argv[2], argv[3], (int)id, &p);
	if (rc < 0)
		bad("nvmsg_producer_open", rc);
	seq = nvmsg_producer_committed(p);
	say("OPEN %u %" PRIu64, id, seq);
	rs ^= seq;
	start = now_ns();
	while (seq < count && !stop) {
		uint64_t n = 1;

		if (t_mix64(rs++) % 100 < pct)
			n = 2 + t_mix64(rs++) % 3;
		if (n > count - seq)
			n = count - seq;
		for (uint64_t i = 1; i <= n; i++) {
			size_t len = msg_fill(buf, id, seq + i);

			rc = nvmsg_send(p, buf, len,
					NVMSG_BLOCK | (i < n ? NVMSG_MORE : 0),
					-1);
			if (rc < 0)
				bad("nvmsg_send", rc);
		}
		seq += n;
		k += n;
		if (rate) {
			uint64_t due = start + k * 1000000000ull / rate;
			uint64_t now = now_ns();

			if (due > now) {
				struct timespec ts = {
					.tv_sec = (time_t)((due - now) /
							   1000000000ull),
					.tv_nsec = (long)((due - now) %
							  1000000000ull),
				};
				nanosleep(&ts, NULL);
			}
		}
	}
	say("%s %u %" PRIu64, seq >= count ? "DONE" : "STOPPED", id, seq);
	rc = nvmsg_producer_close(&p);
	if (rc < 0)
		bad("nvmsg_producer_close", rc);
	return 0;
}

/* cmd_dump -- every message CONSUMER has not acked (for a consumer that
 * never acks: all the channel ever got since it was registered), checked,
 * as runs of consecutive seqs per slot, in the order viewed */
static int
cmd_dump(char **argv)
{
	struct nvmsg_consumer *c = NULL;
	struct {
		uint64_t first, last;
		unsigned oprod;
		int open, seen;
	} run[NVMSG_MAX_PRODUCERS];
	uint64_t count = 0;
	struct nvmsg_view v;
	int rc;

	memset(run, 0, sizeof(run));
	rc = nvmsg_consumer_open(argv[2], argv[3], argv[4],
				 NVMSG_CONSUMER_VERIFY, &c);
	if (rc == -ENOENT) {
		say("NOCHANNEL %s", nvmsg_strerror(rc));
		return 0;
	}
	if (rc < 0)
		bad("nvmsg_consumer_open", rc);
	while ((rc = nvmsg_view(c, &v, 0)) == 0) {
		unsigned s = v.producer;

		if (s >= NVMSG_MAX_PRODUCERS)
			bad("view: slot out of range", -EINVAL);
		if (!run[s].seen) {
			struct nvmsg_origin o;
			char hex[33];

			rc = nvmsg_consumer_origin(c, s, &o);
			if (rc < 0)
				bad("nvmsg_consumer_origin", rc);
			for (int i = 0; i < 16; i++)
				snprintf(hex + 2 * i, 3, "%02x", o.channel[i]);
			say("SLOT %u %s %u %u", s, hex, o.producer,
			    (o.flags & NVMSG_ORIGIN_FORWARDED) ? 1 : 0);
			run[s].seen = 1;
			run[s].oprod = o.producer;
		}
		if (!msg_ok(&v, run[s].oprod)) {
			say("DAMAGED slot %u seq %" PRIu64 " len %zu: not the "
			    "message of origin producer %u this program wrote",
			    s, v.seq, v.len, run[s].oprod);
			exit(1);
		}
		count++;
		if (run[s].open && v.seq == run[s].last + 1) {
			run[s].last = v.seq;
			continue;
		}
		if (run[s].open)
			say("RUN %u %u %" PRIu64 " %" PRIu64, s, run[s].oprod,
			    run[s].first, run[s].last);
		run[s].open = 1;
		run[s].first = run[s].last = v.seq;
	}
	if (rc != -EAGAIN)
		bad("nvmsg_view", rc);
	for (unsigned s = 0; s < NVMSG_MAX_PRODUCERS; s++)
		if (run[s].open)
			say("RUN %u %u %" PRIu64 " %" PRIu64, s, run[s].oprod,
			    run[s].first, run[s].last);
	say("DUMPEND count=%" PRIu64, count);
	nvmsg_consumer_close(&c);
	return 0;
}

/* cmd_released -- how far CONSUMER's durable ack reaches in each claimed
 * slot: the first message it has not acked, found by viewing (no ack),
 * less one; where it has none, every message published before it opened
 * (stat first, so that a message published meanwhile is not counted) */
static int
cmd_released(char **argv)
{
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_stat *st = calloc(1, sizeof(*st));
	uint64_t first[NVMSG_MAX_PRODUCERS] = { 0 };
	struct nvmsg_view v;
	int rc;

	if (!st)
		bad("calloc", -ENOMEM);
	rc = nvmsg_channel_stat(argv[2], argv[3], st);
	if (rc == -ENOENT) {
		say("NOCHANNEL %s", nvmsg_strerror(rc));
		return 0;
	}
	if (rc < 0)
		bad("nvmsg_channel_stat", rc);
	rc = nvmsg_consumer_open(argv[2], argv[3], argv[4], 0, &c);
	if (rc < 0)
		bad("nvmsg_consumer_open", rc);
	while ((rc = nvmsg_view(c, &v, 0)) == 0)
		if (v.producer < NVMSG_MAX_PRODUCERS && !first[v.producer])
			first[v.producer] = v.seq;
	if (rc != -EAGAIN)
		bad("nvmsg_view", rc);
	nvmsg_consumer_close(&c);
	for (unsigned i = 0; i < st->nproducers; i++) {
		unsigned s = st->producers[i].id;

		if (s >= NVMSG_MAX_PRODUCERS)
			continue;
		if (first[s])
			say("RELEASED %u %" PRIu64 " 1", s, first[s] - 1);
		else
			say("RELEASED %u %" PRIu64 " 0", s,
			    st->producers[i].next_seq - 1);
	}
	free(st);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "create") && argc >= 7)
		return cmd_create(argc, argv);
	if (!strcmp(mode, "produce") && (argc == 7 || argc == 8))
		return cmd_produce(argc, argv);
	if (!strcmp(mode, "dump") && argc == 5)
		return cmd_dump(argv);
	if (!strcmp(mode, "released") && argc == 5)
		return cmd_released(argv);
	fprintf(stderr,
		"usage: pc_link create DIR NAME TIER CAPACITY PRODUCERS "
		"[CONSUMER...]\n"
		"       pc_link produce DIR NAME ID COUNT RATE [BATCH_PCT]\n"
		"       pc_link dump DIR NAME CONSUMER\n"
		"       pc_link released DIR NAME CONSUMER\n");
	return 2;
}
