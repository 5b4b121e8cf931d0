/* SPDX-License-Identifier: MIT */
/*
 * t_mp.c -- producers and consumers as separate processes, one consumer
 * killed and restarted mid-stream.
 * Proves I1 (no loss), I2 (no phantom) and I3 (order) across processes,
 * and that a restarted consumer resumes exactly after its last ack:
 *
 *   4 producer processes send 200,000 messages each (NVMSG_MP_MESSAGES
 *   overrides) through 64 KiB rings, so the rings wrap and NVMSG_BLOCK
 *   back-pressure stops the producers whenever a consumer lags or is dead;
 *   3 consumer processes check every message (producer, per-producer
 *   counter == seq, filler of 8..200 bytes) and record each one durably in
 *   a results file (write(2) the record, then nvmsg_ack, one at a time).
 *   Consumer c0 is killed three times: by the parent with SIGKILL at a
 *   random moment, by itself between recording a message and acking it
 *   (the message must come again, once), and by itself between viewing a
 *   message and recording it (it must come again as the next one).  Each
 *   restart reads its results file and checks that the first message it
 *   receives from each producer is last-recorded + 1, or the one message
 *   recorded but not acked (counted as a redelivery, at most one per
 *   restart).  Producer 1 is killed with SIGKILL once, mid-stream, and
 *   restarted on its slot: it resumes at the sequence number the taken-over
 *   slot hands out, and no message is lost or doubled.  At the end every
 *   consumer's results file holds every producer's messages exactly once
 *   and in order: 0 lost, 0 phantom.
 *
 * Usage: t_mp [volatile|emulated]      (the test; emulated: 20,000 each)
 *        t_mp producer DIR ID N        (worker, exec'd by the test)
 *        t_mp consumer DIR NAME N DIE_AT DIE_MODE   (worker)
 * Environment: NVMSG_MP_MESSAGES, NVMSG_MP_SEED, NVMSG_MP_TIMEOUT (s).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include "t.h"

#define NPROD 4
#define NCONS 3
#define CHAN "mp"
#define MAGIC 0x4d50766eu
#define SEND_TIMEOUT_NS 120000000000ll
#define VIEW_TIMEOUT_NS 120000000000ll

/* die modes of the consumer worker */
#define DIE_NONE 0
#define DIE_BEFORE_ACK 1    /* recorded, not acked: comes again, once */
#define DIE_BEFORE_RECORD 2 /* viewed, not recorded: comes again as next */

struct msg_hdr {
	uint32_t magic;
	uint32_t producer;
	uint32_t counter;
	uint32_t fill;
};

/* one line of a results file: what a consumer recorded */
struct rec {
	uint32_t producer;
	uint32_t counter;
};

static uint32_t
fill_len(uint32_t producer, uint32_t counter)
{
	return 8 + (producer * 97 + counter * 13) % 193; /* 8..200 */
}

static unsigned char
fill_byte(uint32_t producer, uint32_t counter, uint32_t i)
{
	return (unsigned char)(producer * 53 + counter * 11 + i * 3);
}

/* ---------------------------------------------------------------- workers */

static int
producer_main(const char *dir, int id, uint32_t n)
{
	struct nvmsg_producer *p = NULL;
	unsigned char buf[sizeof(struct msg_hdr) + 256];
	int rc;

	rc = nvmsg_producer_open(dir, CHAN, id, &p);
	if (rc < 0)
		T_FAILF("producer %d: open: %s", id, nvmsg_errmsg());
	/* the sequence number the next message will carry: 1 on a fresh
	 * slot, after the last whole record when a killed life is taken
	 * over; counters follow sequence numbers */
	struct nvmsg_claim cl;
	rc = nvmsg_reserve(p, 1, &cl, NVMSG_BLOCK, SEND_TIMEOUT_NS);
	if (rc < 0)
		T_FAILF("producer %d: reserve: %s", id, nvmsg_errmsg());
	uint32_t from = (uint32_t)cl.seq;
	if (nvmsg_abort(p, &cl) != 0 || cl.seq == 0 || cl.seq > n + 1ull)
		T_FAILF("producer %d: resumes at seq %" PRIu64, id, cl.seq);
	for (uint32_t c = from; c <= n; c++) {
		struct msg_hdr h = { MAGIC, (uint32_t)id, c,
				     fill_len((uint32_t)id, c) };
		memcpy(buf, &h, sizeof(h));
		for (uint32_t i = 0; i < h.fill; i++)
			buf[sizeof(h) + i] = fill_byte((uint32_t)id, c, i);
		rc = nvmsg_send(p, buf, sizeof(h) + h.fill, NVMSG_BLOCK,
				SEND_TIMEOUT_NS);
		if (rc < 0)
			T_FAILF("producer %d: message %u: %s: %s", id, c,
				nvmsg_strerror(rc), nvmsg_errmsg());
	}
	nvmsg_producer_close(&p);
	return T_PASS;
}

/* write_all -- one write(2) of the whole record, or fail */
static void
write_rec(int fd, uint32_t producer, uint32_t counter)
{
	struct rec r = { producer, counter };

	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		T_FAILF("results write: %s", strerror(errno));
}

static int
consumer_main(const char *dir, const char *name, uint32_t n, uint64_t die_at,
	      int die_mode)
{
	struct nvmsg_consumer *c = NULL;
	uint32_t last[NPROD] = { 0 };
	int first[NPROD];
	uint64_t recorded = 0, redelivered = 0;
	char path[600];
	struct stat st;
	int fd, rc;

	/* what this consumer recorded before (a previous life) */
	snprintf(path, sizeof(path), "%s/%s.res", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) != 0)
		T_FAILF("%s: %s", path, strerror(errno));
	if (st.st_size % (off_t)sizeof(struct rec)) {
		/* a record cut by a kill inside write(2): not recorded */
		if (ftruncate(fd,
			      st.st_size -
				      st.st_size % (off_t)sizeof(struct rec)) !=
		    0)
			T_FAILF("ftruncate: %s", strerror(errno));
		fprintf(stderr, "%s: cut a partial record\n", name);
	}
	struct rec r;
	while (pread(fd, &r, sizeof(r), (off_t)(recorded * sizeof(r))) ==
	       (ssize_t)sizeof(r)) {
		if (r.producer >= NPROD || r.counter != last[r.producer] + 1)
			T_FAILF("%s: results file corrupt at record %" PRIu64,
				name, recorded);
		last[r.producer] = r.counter;
		recorded++;
	}
	for (int i = 0; i < NPROD; i++)
		first[i] = 1;
	/* the life log, read by the parent: one "life" line per start, one
	 * "redelivery" line per redelivery, each written before going on */
	snprintf(path, sizeof(path), "%s/%s.sum", dir, name);
	int sum = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (sum < 0)
		T_FAILF("%s: %s", path, strerror(errno));
	dprintf(sum, "life %" PRIu64 "\n", recorded);

	rc = nvmsg_consumer_open(dir, CHAN, name, NVMSG_CONSUMER_VERIFY, &c);
	if (rc < 0)
		T_FAILF("%s: open: %s", name, nvmsg_errmsg());
	for (;;) {
		int done = 1;
		for (int i = 0; i < NPROD; i++)
			done &= last[i] == n;
		struct nvmsg_view v;
		/* when done, drain what is left without waiting: only an
		 * allowed redelivery may be there */
		rc = nvmsg_view(c, &v, done ? 0 : VIEW_TIMEOUT_NS);
		if (rc == -EAGAIN && done)
			break;
		if (rc < 0)
			T_FAILF("%s: view after %" PRIu64 " records: %s: %s",
				name, recorded, nvmsg_strerror(rc),
				nvmsg_errmsg());
		struct msg_hdr h;
		if (v.len < sizeof(h))
			T_FAILF("%s: phantom: %zu-byte message", name, v.len);
		memcpy(&h, v.data, sizeof(h));
		if (h.magic != MAGIC || h.producer >= NPROD ||
		    h.producer != v.producer || h.counter == 0 ||
		    h.counter > n || v.seq != h.counter ||
		    h.fill != fill_len(h.producer, h.counter) ||
		    v.len != sizeof(h) + h.fill)
			T_FAILF("%s: phantom: magic %#x producer %u (slot %u) "
				"counter %u seq %" PRIu64 " len %zu",
				name, h.magic, h.producer, v.producer,
				h.counter, v.seq, v.len);
		const unsigned char *f =
			(const unsigned char *)v.data + sizeof(h);
		for (uint32_t i = 0; i < h.fill; i++)
			if (f[i] != fill_byte(h.producer, h.counter, i))
				T_FAILF("%s: message %u/%u altered at byte "
					"%u",
					name, h.producer, h.counter, i);
		uint32_t p = h.producer;
		if (h.counter == last[p] + 1) {
			if (die_mode == DIE_BEFORE_RECORD &&
			    recorded + 1 == die_at)
				kill(getpid(), SIGKILL);
			write_rec(fd, p, h.counter);
			recorded++;
			last[p] = h.counter;
			if (die_mode == DIE_BEFORE_ACK && recorded == die_at)
				kill(getpid(), SIGKILL);
		} else if (first[p] && last[p] > 0 && h.counter == last[p]) {
			/* recorded by the previous life, which died before
			 * its ack: the one allowed redelivery */
			redelivered++;
			dprintf(sum, "redelivery %u %u\n", p, h.counter);
			if (redelivered > 1)
				T_FAILF("%s: second redelivery (producer %u "
					"message %u): only one message was "
					"ever recorded and not acked",
					name, p, h.counter);
		} else {
			T_FAILF("%s: producer %u message %u after %u: %s", name,
				p, h.counter, last[p],
				h.counter <= last[p]
					? (first[p] ? "resumed before the "
						      "last ack"
						    : "duplicate")
					: "lost messages");
		}
		first[p] = 0;
		rc = nvmsg_ack(c);
		if (rc < 0)
			T_FAILF("%s: ack: %s", name, nvmsg_errmsg());
	}
	nvmsg_consumer_close(&c);
	close(fd);
	dprintf(sum, "end %" PRIu64 "\n", recorded);
	close(sum);
	return T_PASS;
}

/* ---------------------------------------------------------------- parent */

static const char *self_exe = "/proc/self/exe";

static pid_t
spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid < 0)
		T_FAILF("fork: %s", strerror(errno));
	if (pid == 0) {
		execv(self_exe, argv);
		fprintf(stderr, "exec %s: %s\n", self_exe, strerror(errno));
		_exit(127);
	}
	return pid;
}

struct child {
	pid_t pid;
	char role[16];
	int done;
};

static const char *g_dir;
static uint32_t g_n;
static struct child kids[NPROD + NCONS];

static pid_t
spawn_consumer(int k, uint64_t die_at, int die_mode)
{
	char name[16], n[16], at[24], mode[16];

	snprintf(name, sizeof(name), "c%d", k);
	snprintf(n, sizeof(n), "%u", g_n);
	snprintf(at, sizeof(at), "%" PRIu64, die_at);
	snprintf(mode, sizeof(mode), "%d", die_mode);
	char *argv[] = { "t_mp", "consumer", (char *)g_dir, name,
			 n,	 at,	     mode,	    NULL };
	return spawn(argv);
}

static void
kill_all(void)
{
	for (int i = 0; i < NPROD + NCONS; i++)
		if (!kids[i].done && kids[i].pid > 0) {
			kill(kids[i].pid, SIGKILL);
			t_wait(kids[i].pid);
			kids[i].done = 1;
		}
}

static uint64_t
records_of(int k)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/c%d.res", g_dir, k);
	if (stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size / sizeof(struct rec);
}

/* verify -- consumer K's results: each producer's 1..N exactly once, in
 * order; returns the number of records */
static uint64_t
verify(int k)
{
	char path[600];
	uint32_t last[NPROD] = { 0 };
	uint64_t nrec = 0, lost = 0, phantom = 0;
	struct rec r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/c%d.res", g_dir, k);
	f = fopen(path, "r");
	if (!f)
		T_FAILF("%s: %s", path, strerror(errno));
	while (fread(&r, sizeof(r), 1, f) == 1) {
		nrec++;
		if (r.producer >= NPROD || r.counter != last[r.producer] + 1) {
			if (phantom++ < 5)
				fprintf(stderr,
					"c%d record %" PRIu64 ": "
					"producer %u message %u\n",
					k, nrec, r.producer, r.counter);
			continue;
		}
		last[r.producer] = r.counter;
	}
	fclose(f);
	for (int i = 0; i < NPROD; i++)
		lost += g_n - last[i];
	if (lost || phantom || nrec != (uint64_t)g_n * NPROD)
		T_FAILF("c%d: %" PRIu64 " records, %" PRIu64 " lost, %" PRIu64
			" phantom or out of order",
			k, nrec, lost, phantom);
	return nrec;
}

/* struct life -- one start of a consumer, from its life log */
struct life {
	uint64_t start; /* records in its results file when it began */
	int redeliveries;
	struct rec red; /* the (last) redelivered message */
	int ended;	/* it wrote its "end" line */
};

/* lives -- parse consumer K's life log */
static int
lives(int k, struct life *out, int cap)
{
	char path[600], word[16];
	unsigned long long a, b;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/c%d.sum", g_dir, k);
	f = fopen(path, "r");
	if (!f)
		T_FAILF("%s: %s", path, strerror(errno));
	while (fscanf(f, "%15s %llu", word, &a) == 2) {
		if (strcmp(word, "life") == 0) {
			if (n == cap)
				T_FAILF("c%d: more than %d lives", k, cap);
			out[n++] = (struct life){ .start = a };
		} else if (strcmp(word, "redelivery") == 0 && n > 0 &&
			   fscanf(f, "%llu", &b) == 1) {
			out[n - 1].redeliveries++;
			out[n - 1].red.producer = (uint32_t)a;
			out[n - 1].red.counter = (uint32_t)b;
		} else if (strcmp(word, "end") == 0 && n > 0) {
			out[n - 1].ended = 1;
		} else {
			T_FAILF("c%d: bad life log line '%s'", k, word);
		}
	}
	fclose(f);
	return n;
}

/* record_at -- consumer K's record number I (from 1) */
static struct rec
record_at(int k, uint64_t i)
{
	char path[600];
	struct rec r = { 0, 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/c%d.res", g_dir, k);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || i == 0 ||
	    pread(fd, &r, sizeof(r), (off_t)((i - 1) * sizeof(r))) !=
		    (ssize_t)sizeof(r))
		T_FAILF("%s: no record %" PRIu64, path, i);
	close(fd);
	return r;
}

/* check_redelivery -- life L of c0 saw at most one redelivery, and only of
 * the last record of the life before it (recorded, maybe not acked) */
static void
check_redelivery(const struct life *l, int idx, int want_min, int want_max)
{
	if (l->redeliveries < want_min || l->redeliveries > want_max)
		T_FAILF("c0 life %d: %d redeliveries, want %d..%d", idx,
			l->redeliveries, want_min, want_max);
	if (l->redeliveries) {
		struct rec last = record_at(0, l->start);
		if (last.producer != l->red.producer ||
		    last.counter != l->red.counter)
			T_FAILF("c0 life %d: redelivered %u/%u, but the last "
				"record of the life before was %u/%u",
				idx, l->red.producer, l->red.counter,
				last.producer, last.counter);
	}
}

static int
run(int tier, uint32_t n)
{
	uint64_t seed =
		t_env_u64("NVMSG_MP_SEED", (uint64_t)getpid() ^ t_now_ns());
	uint64_t timeout_s = t_env_u64("NVMSG_MP_TIMEOUT", 560);
	uint64_t t0 = t_now_ns(), total = (uint64_t)n * NPROD;
	struct nvmsg_consumer *c = NULL;

	g_dir = t_tmpdir();
	g_n = n;
	printf("t_mp %s: %d producers x %u messages, %d consumers, seed "
	       "%" PRIu64 " (NVMSG_MP_SEED)\n",
	       nvmsg_tier_name(tier), NPROD, n, NCONS, seed);
	fflush(stdout);
	t_create(g_dir, CHAN, tier, 64 * 1024, NPROD, NCONS + 1);
	for (int k = 0; k < NCONS; k++) {
		char name[8];
		snprintf(name, sizeof(name), "c%d", k);
		ASSERT_OK(nvmsg_consumer_open(g_dir, CHAN, name,
					      NVMSG_CONSUMER_CREATE, &c));
		nvmsg_consumer_close(&c);
	}

	/*
	 * c0's deaths, in record counts: the parent's SIGKILL somewhere in
	 * the first eighth, a death before an ack near 3/8, a death before
	 * a record near 5/8 (each restarted life runs to its own death).
	 */
	uint64_t kill_at = total / 16 + t_rng(&seed) % (total / 16 + 1);
	uint64_t die_ack = total * 3 / 8 + t_rng(&seed) % (total / 16 + 1);
	uint64_t die_rec = total * 5 / 8 + t_rng(&seed) % (total / 16 + 1);
	int life = 0; /* c0: 0 until the kill, 1 dies before an ack,
		       * 2 dies before a record, 3 runs to the end */
	/* producer 1's death, in c1's records */
	uint64_t pkill_at = total / 4 + t_rng(&seed) % (total / 4 + 1);
	int pkilled = 0;

	for (int k = 0; k < NCONS; k++) {
		kids[k].pid = spawn_consumer(k, 0, DIE_NONE);
		snprintf(kids[k].role, sizeof(kids[k].role), "c%d", k);
	}
	for (int i = 0; i < NPROD; i++) {
		char id[8], nn[16];
		snprintf(id, sizeof(id), "%d", i);
		snprintf(nn, sizeof(nn), "%u", n);
		char *argv[] = {
			"t_mp", "producer", (char *)g_dir, id, nn, NULL
		};
		kids[NCONS + i].pid = spawn(argv);
		snprintf(kids[NCONS + i].role, sizeof(kids[0].role),
			 "producer %d", i);
	}

	int running = NPROD + NCONS;
	uint64_t deadline = t0 + timeout_s * 1000000000ull;
	while (running > 0) {
		if (t_now_ns() > deadline) {
			kill_all();
			T_FAILF("timed out after %" PRIu64 " s (c0 has %" PRIu64
				" records, c1 %" PRIu64 ", c2 %" PRIu64 ")",
				timeout_s, records_of(0), records_of(1),
				records_of(2));
		}
		if (life == 0 && records_of(0) >= kill_at) {
			kill(kids[0].pid, SIGKILL);
			int st = t_wait(kids[0].pid);
			if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
				/* it finished before the kill landed */
				kids[0].done = 1;
				kill_all();
				T_FAILF("c0 was to be killed: %s",
					t_status_str(st));
			}
			printf("c0 killed by SIGKILL after %" PRIu64
			       " records\n",
			       records_of(0));
			fflush(stdout);
			life = 1;
			kids[0].pid =
				spawn_consumer(0, die_ack, DIE_BEFORE_ACK);
		}
		struct child *p1 = &kids[NCONS + 1];
		if (!pkilled && !p1->done && records_of(1) >= pkill_at) {
			pkilled = 1;
			kill(p1->pid, SIGKILL);
			int st = t_wait(p1->pid);
			if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
				printf("producer 1 killed by SIGKILL when c1 "
				       "had %" PRIu64 " records\n",
				       records_of(1));
				fflush(stdout);
				char nn[16];
				snprintf(nn, sizeof(nn), "%u", n);
				char *argv[] = {
					"t_mp", "producer", (char *)g_dir,
					"1",	nn,	    NULL
				};
				p1->pid = spawn(argv);
			} else {
				/* it ended before the kill landed */
				p1->done = 1;
				running--;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
					kill_all();
					T_FAILF("producer 1: %s",
						t_status_str(st));
				}
				printf("producer 1 finished before its "
				       "kill\n");
			}
		}
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0)
			T_FAILF("waitpid: %s", strerror(errno));
		if (pid == 0) {
			poll(NULL, 0, 2);
			continue;
		}
		int k;
		for (k = 0; k < NPROD + NCONS; k++)
			if (kids[k].pid == pid && !kids[k].done)
				break;
		if (k == NPROD + NCONS)
			continue;
		if (k == 0 && (life == 1 || life == 2) && WIFSIGNALED(st) &&
		    WTERMSIG(st) == SIGKILL) {
			printf("c0 killed itself %s after %" PRIu64
			       " records\n",
			       life == 1 ? "between record and ack"
					 : "between view and record",
			       records_of(0));
			fflush(stdout);
			life++;
			kids[0].pid =
				life == 2 ? spawn_consumer(0, die_rec,
							   DIE_BEFORE_RECORD)
					  : spawn_consumer(0, 0, DIE_NONE);
			continue;
		}
		kids[k].done = 1;
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			kill_all();
			T_FAILF("%s: %s", kids[k].role, t_status_str(st));
		}
		if (k == 0 && life != 3) {
			kill_all();
			T_FAILF("c0 finished in life %d: the kills were not "
				"all exercised",
				life);
		}
	}

	/* every consumer: every message exactly once, in order */
	for (int k = 0; k < NCONS; k++)
		verify(k);
	/*
	 * c0's lives: 0 killed by us (no redelivery possible at its start),
	 * 1 started after an asynchronous kill (0 or 1 redelivery), 2
	 * started after a death between record and ack (exactly 1: that
	 * record), 3 started after a death between view and record (0: the
	 * viewed message comes as the next one).  Only the last life ends.
	 */
	struct life lv[8];
	int nl = lives(0, lv, 8);
	if (nl != 4)
		T_FAILF("c0 lived %d lives, want 4", nl);
	check_redelivery(&lv[0], 0, 0, 0);
	check_redelivery(&lv[1], 1, 0, 1);
	check_redelivery(&lv[2], 2, 1, 1);
	check_redelivery(&lv[3], 3, 0, 0);
	if (lv[2].start != die_ack || lv[3].start != die_rec - 1)
		T_FAILF("c0 lives started at %" PRIu64 " and %" PRIu64
			", want %" PRIu64 " and %" PRIu64,
			lv[2].start, lv[3].start, die_ack, die_rec - 1);
	for (int i = 0; i < 3; i++)
		if (lv[i].ended)
			T_FAILF("c0 life %d ended, want it killed", i);
	if (!lv[3].ended)
		T_FAILF("c0 life 3 did not end");
	int redelivered = lv[1].redeliveries + lv[2].redeliveries;
	for (int k = 1; k < NCONS; k++) {
		struct life l1[2];
		if (lives(k, l1, 2) != 1 || l1[0].redeliveries != 0 ||
		    !l1[0].ended)
			T_FAILF("c%d (never killed) restarted or saw "
				"redeliveries",
				k);
	}
	struct nvmsg_stat s;
	ASSERT_OK(nvmsg_channel_stat(g_dir, CHAN, &s));
	ASSERT_EQ(s.depth_bytes, 0);
	ASSERT_EQ(s.nconsumers, NCONS);
	printf("t_mp %s: %d producers x %u messages (producer 1 killed "
	       "once), %d consumers (c0 killed 3 times, resumed at %" PRIu64
	       ", %" PRIu64 ", %" PRIu64
	       " records, %d allowed redelivery(ies)): each consumer got "
	       "%" PRIu64 " messages exactly once and in order, 0 lost, "
	       "0 phantom (%.1f s)\n",
	       nvmsg_tier_name(tier), NPROD, n, NCONS, lv[1].start, lv[2].start,
	       lv[3].start, redelivered, total,
	       (double)(t_now_ns() - t0) / 1e9);
	return T_PASS;
}

int
main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "producer") == 0)
		return producer_main(argv[2], atoi(argv[3]),
				     (uint32_t)strtoul(argv[4], NULL, 10));
	if (argc >= 7 && strcmp(argv[1], "consumer") == 0)
		return consumer_main(argv[2], argv[3],
				     (uint32_t)strtoul(argv[4], NULL, 10),
				     strtoull(argv[5], NULL, 10),
				     atoi(argv[6]));
	int tier = NVMSG_TIER_VOLATILE;
	if (argc >= 2) {
		tier = nvmsg_tier_parse(argv[1]);
		if (tier < 0)
			T_FAILF("usage: t_mp [volatile|emulated]");
	}
	uint32_t def = tier == NVMSG_TIER_VOLATILE ? 200000 : 20000;
	uint32_t n = (uint32_t)t_env_u64("NVMSG_MP_MESSAGES", def);
	if (n < 100)
		T_FAILF("NVMSG_MP_MESSAGES must be at least 100");
	return run(tier, n);
}
