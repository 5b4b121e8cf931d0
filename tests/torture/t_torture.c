/* SPDX-License-Identifier: MIT */
/*
 * t_torture.c -- SIGKILL torture with real processes.
 *
 * Proves I1 (no loss), I2 (no phantom), I3 (per-producer order),
 * detectability and the redelivery rule across process crashes: producer
 * and consumer processes are SIGKILLed (seeded; the seed is printed for
 * replay) and restarted, at least --kills times, in rounds of a fresh
 * channel.
 *
 * Producers.  Producer k owns slot k and numbers its messages 1..N; the
 * number is the library's sequence number (a fresh slot starts at 1, and
 * a restarted slot sends committed + 1 next), and the payload carries it
 * with a filler derived from it.  Each message goes out one of three ways,
 * drawn from the producer's seeded generator: nvmsg_reserve + nvmsg_commit,
 * a plain nvmsg_send, or an NVMSG_MORE batch (sends or commits) closed by
 * nvmsg_producer_flush or by a last call without NVMSG_MORE.  In the shared
 * mapping it stores `attempted` (the highest number handed to the library,
 * before the call) and `sent` (the highest number the API calls durable:
 * a plain send or a commit returned 0, or for a batch the closing call
 * returned 0).  A restarted producer checks detectability,
 * sent <= nvmsg_producer_committed() <= attempted, and resends exactly the
 * numbers after committed.
 *
 * Consumers.  Consumer c records each message it processes as one 16-byte
 * record (producer, number, check word over both, the record's index and
 * c) written by one pwrite(2) at its aligned offset in its own file, then
 * calls nvmsg_ack and, once the ack returned, stores the number in
 * acked[c][producer] in the shared mapping.  A record never straddles a
 * page, so a kill leaves it whole or leaves a partial tail (the file size
 * not a multiple of 16) that the next life cuts off: that message was
 * never acked and comes again.  The next life also verifies every check
 * word.  The redelivery rule (docs/TESTING.md): a message received again,
 * one already in the file, is allowed only if its number is above
 * acked[c][producer], i.e. its ack never returned; otherwise it is a
 * violation ("acked-then-redelivered").
 *
 * Kills are aimed.  Every process stores its phase in the shared mapping
 * (startup, idle, inside a plain send, reserve..commit, an NVMSG_MORE
 * batch before its closing call returned, a consumer between its record
 * write and its ack's return).  The parent waits until some process
 * reports the critical window with the fewest kills so far, and kills it
 * (three kills in four; the rest are not aimed); after waitpid it counts the
 * phase the dead process last stored, which is exactly where it died.  The
 * test fails if any critical window got fewer than --min-window kills.
 *
 * At the end every consumer's file must hold every producer's 1..N
 * exactly once, in order.  The last two lines are the kills per phase and
 * "kills: N, lost: 0, phantom: 0, reordered: 0, redelivered-unacked: R".
 *
 * --inject corrupt|skip-ack breaks the test's own side on purpose to show
 * that the oracle notices (tests torture_inject_*): "corrupt" flips a bit
 * of one consumer record, "skip-ack" makes consumers skip every second
 * nvmsg_ack while storing its number as if it had returned.
 */
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "t.h"

#define MAXP 4
#define MAXC 3
#define BATCH_MAX 6 /* messages in one NVMSG_MORE batch */

/* what a process is doing; stored by the process itself (the parent
 * stores PH_STARTUP before the fork), read by the parent after the kill */
enum phase {
	PH_STARTUP, /* open (a producer's open runs recovery), re-read file */
	PH_IDLE,    /* between messages; a consumer waiting in nvmsg_view */
	PH_SEND,    /* producer inside a plain nvmsg_send */
	PH_CLAIM,   /* producer from nvmsg_reserve to nvmsg_commit's return */
	PH_BATCH,   /* producer from its first NVMSG_MORE call to the return
		     * of the flush (or last send without NVMSG_MORE) */
	PH_RECORD,  /* consumer from its record write (or, for a
		     * redelivery, its view) to nvmsg_ack's return */
	PH_DONE,    /* finished: closing */
	PH_N
};

static const char *const phase_name[PH_N] = {
	"startup",    "idle",	   "send", "reserve-commit",
	"more-batch", "write-ack", "done",
};

/* the critical windows: each needs --min-window kills */
static const unsigned critical[] = { PH_SEND, PH_CLAIM, PH_BATCH, PH_RECORD };
#define NCRIT (sizeof(critical) / sizeof(critical[0]))

/* the parent's view of the children, in a MAP_SHARED anonymous mapping
 * that survives their kills; reset for each round */
struct shared {
	_Atomic unsigned phase[MAXP + MAXC];   /* written by the process */
	_Atomic uint64_t attempted[MAXP];      /* producer: highest number
					      * handed to the library */
	_Atomic uint64_t sent[MAXP];	       /* producer: highest number
					      * the API says is durable */
	_Atomic uint64_t acked[MAXC][MAXP];    /* consumer: stored after
					      * nvmsg_ack returned */
	_Atomic uint64_t mode[3];	       /* producers: messages sent by
					      * commit, send, batch */
	_Atomic uint64_t lost[MAXP];	       /* producer: committed < sent */
	_Atomic uint64_t phantom[MAXP + MAXC]; /* seen live, by the process
						* that saw it */
	_Atomic uint64_t dup_acked[MAXC];      /* received again after its ack
					      * returned */
	_Atomic uint64_t redelivered[MAXC];    /* received again, ack never
					      * returned: allowed */
	_Atomic uint64_t cut[MAXC];	       /* partial tail records cut */
};

/* one consumer record; 16 bytes at a 16-aligned offset never straddle a
 * page, so a kill inside pwrite leaves it whole or a partial tail */
struct rec {
	uint32_t producer;
	uint32_t check; /* rec_check() of everything else and the index */
	uint64_t num;
};
_Static_assert(sizeof(struct rec) == 16, "a record is 16 bytes");

enum inject { INJ_NONE, INJ_CORRUPT, INJ_SKIP_ACK };

static struct shared *sh;
static const char *dir;
static unsigned np = 3, nc = 2;
static uint64_t nmsg = 20000;
static int tier = NVMSG_TIER_VOLATILE;
static enum inject inject;

static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
fill(uint64_t p, uint64_t num, unsigned char *b)
{
	size_t len = 16 + (size_t)((num * 29 + p * 7) % 100);

	memcpy(b, &p, 8);
	memcpy(b + 8, &num, 8);
	for (size_t i = 16; i < len; i++)
		b[i] = (unsigned char)(num + i * 3 + p);
	return len;
}

static void
set_phase(unsigned slot, enum phase ph)
{
	atomic_store(&sh->phase[slot], (unsigned)ph);
}

/* ---------------------------------------------------------------- producer */

/* send_one -- hand message NUM to the library by send or by
 * reserve + commit, with FLAGS (NVMSG_MORE or 0) */
static void
send_one(struct nvmsg_producer *p, unsigned id, uint64_t num, int claim,
	 int flags)
{
	unsigned char b[128];
	size_t len = fill(id, num, b);

	/* before the call: a consumer may see it, or recovery may commit
	 * it, from the moment the library writes it */
	atomic_store(&sh->attempted[id], num);
	if (!claim) {
		if (nvmsg_send(p, b, len, flags | NVMSG_BLOCK, -1) < 0)
			_exit(2);
		return;
	}
	struct nvmsg_claim cl;
	if (nvmsg_reserve(p, len, &cl, NVMSG_BLOCK, -1) < 0)
		_exit(2);
	if (cl.seq != num) {
		fprintf(stderr, "producer %u: message %llu gets seq %llu\n", id,
			(unsigned long long)num, (unsigned long long)cl.seq);
		atomic_fetch_add(&sh->phantom[id], 1);
	}
	memcpy(cl.data, b, len);
	if (nvmsg_commit(p, &cl, flags) < 0)
		_exit(3);
}

static void
producer(unsigned id, uint64_t s)
{
	struct nvmsg_producer *p;

	if (nvmsg_producer_open(dir, "t", (int)id, &p) < 0) {
		fprintf(stderr, "producer %u open: %s\n", id, nvmsg_errmsg());
		_exit(1);
	}
	/* detectability: everything the API called durable committed, and
	 * nothing that was never handed to the library */
	uint64_t num = nvmsg_producer_committed(p);
	uint64_t sent = atomic_load(&sh->sent[id]);
	uint64_t att = atomic_load(&sh->attempted[id]);
	if (num < sent) {
		fprintf(stderr, "producer %u: committed %llu < sent %llu\n", id,
			(unsigned long long)num, (unsigned long long)sent);
		atomic_fetch_add(&sh->lost[id], sent - num);
	}
	if (num > att) {
		fprintf(stderr,
			"producer %u: committed %llu > attempted %llu\n", id,
			(unsigned long long)num, (unsigned long long)att);
		atomic_fetch_add(&sh->phantom[id], num - att);
	}
	atomic_store(&sh->sent[id], num);
	set_phase(id, PH_IDLE);
	while (num < nmsg) {
		uint64_t r = rng(&s), k = 1;
		unsigned mode = (unsigned)(r % 3);
		if (mode == 2) {
			/* closed by a flush, or by a last call without
			 * NVMSG_MORE; each message by send or by a claim */
			int by_flush = (int)(r >> 16) & 1;
			k = 2 + (r >> 8) % (BATCH_MAX - 1);
			if (k > nmsg - num)
				k = nmsg - num;
			set_phase(id, PH_BATCH);
			for (uint64_t i = 1; i <= k; i++) {
				int more = i < k || by_flush ? NVMSG_MORE : 0;
				int claim = (int)(r >> (20 + i)) & 1;
				send_one(p, id, num + i, claim, more);
			}
			if (by_flush && nvmsg_producer_flush(p) < 0)
				_exit(3);
		} else {
			set_phase(id, mode ? PH_SEND : PH_CLAIM);
			send_one(p, id, num + 1, !mode, 0);
		}
		num += k;
		atomic_store(&sh->sent[id], num);
		atomic_fetch_add(&sh->mode[mode], k);
		set_phase(id, PH_IDLE);
	}
	set_phase(id, PH_DONE);
	nvmsg_producer_close(&p);
	_exit(0);
}

/* ---------------------------------------------------------------- consumer */

static uint32_t
rec_check(unsigned c, uint64_t idx, uint32_t p, uint64_t n)
{
	uint64_t x = (idx + 1) * 0x9e3779b97f4a7c15ull ^
		     n * 0xbf58476d1ce4e5b9ull ^ (uint64_t)p << 56 ^
		     (uint64_t)c << 48;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return (uint32_t)x ^ 0x7e57ab1eu;
}

static char *
result_path(unsigned c, char *buf, size_t n)
{
	snprintf(buf, n, "%s/c%u.out", dir, c);
	return buf;
}

/* check_recs -- call FN on each of FD's first NREC records in order, up to
 * the first whose check word is wrong; returns its index, or NREC */
static uint64_t
check_recs(int fd, unsigned c, uint64_t nrec,
	   void (*fn)(const struct rec *, void *), void *arg)
{
	struct rec buf[256];

	for (uint64_t i = 0; i < nrec;) {
		uint64_t want = nrec - i < 256 ? nrec - i : 256;
		ssize_t got = pread(fd, buf, want * sizeof(buf[0]),
				    (off_t)(i * sizeof(buf[0])));
		if (got != (ssize_t)(want * sizeof(buf[0])))
			T_FAILF("results of consumer %u: short read", c);
		for (uint64_t j = 0; j < want; j++, i++) {
			if (buf[j].check !=
			    rec_check(c, i, buf[j].producer, buf[j].num))
				return i;
			fn(&buf[j], arg);
		}
	}
	return nrec;
}

static void
note_last(const struct rec *r, void *arg)
{
	uint64_t *last = arg;

	if (r->producer < MAXP && r->num > last[r->producer])
		last[r->producer] = r->num;
}

/* open_results -- open consumer C's file, cut a partial tail, verify every
 * record and fill LAST; returns the fd and the number of records */
static int
open_results(unsigned c, uint64_t *last, uint64_t *nrec)
{
	char path[512];
	struct stat st;
	int fd = open(result_path(c, path, sizeof(path)), O_RDWR | O_CREAT,
		      0644);

	if (fd < 0 || fstat(fd, &st) != 0)
		_exit(4);
	if (st.st_size % (off_t)sizeof(struct rec)) {
		/* a kill inside pwrite: that message was not acked */
		if (ftruncate(fd,
			      st.st_size -
				      st.st_size % (off_t)sizeof(struct rec)) !=
		    0)
			_exit(4);
		atomic_fetch_add(&sh->cut[c], 1);
	}
	*nrec = (uint64_t)st.st_size / sizeof(struct rec);
	uint64_t bad = check_recs(fd, c, *nrec, note_last, last);
	if (bad != *nrec)
		T_FAILF("consumer %u: results file corrupt at record %llu of "
			"%llu (bad check word)",
			c, (unsigned long long)bad, (unsigned long long)*nrec);
	return fd;
}

static void
consumer(unsigned c)
{
	unsigned slot = MAXP + c;
	struct nvmsg_consumer *co;
	struct nvmsg_view v;
	char name[16];
	uint64_t last[MAXP] = { 0 }, total = 0, nrec, views = 0;
	unsigned char b[128];

	snprintf(name, sizeof(name), "c%u", c);
	if (nvmsg_consumer_open(dir, "t", name, NVMSG_CONSUMER_VERIFY, &co) <
	    0) {
		fprintf(stderr, "consumer %u open: %s\n", c, nvmsg_errmsg());
		_exit(1);
	}
	int fd = open_results(c, last, &nrec);
	for (unsigned p = 0; p < np; p++)
		total += last[p];
	set_phase(slot, PH_IDLE);
	while (total < np * nmsg) {
		int rc = nvmsg_view(co, &v, 100000000);
		if (rc == -ETIMEDOUT)
			continue;
		if (rc < 0) {
			fprintf(stderr, "consumer %u view: %s\n", c,
				nvmsg_errmsg());
			_exit(5);
		}
		uint64_t p, n;
		memcpy(&p, v.data, 8);
		memcpy(&n, (const unsigned char *)v.data + 8, 8);
		if (p != v.producer || p >= np || v.len != fill(p, n, b) ||
		    memcmp(v.data, b, v.len) != 0 || v.seq != n ||
		    n > atomic_load(&sh->attempted[p])) {
			/* garbled, or never handed to the library: never
			 * recorded, so the end check also sees it lost */
			fprintf(stderr,
				"consumer %u: phantom message from %u "
				"seq %llu (number %llu, %zu bytes)\n",
				c, v.producer, (unsigned long long)v.seq,
				(unsigned long long)n, v.len);
			atomic_fetch_add(&sh->phantom[slot], 1);
			if (nvmsg_ack(co) < 0)
				_exit(8);
			continue;
		}
		set_phase(slot, PH_RECORD);
		if (n <= last[p]) {
			/* received again: allowed only if its ack never
			 * returned (views go round robin, so it may come
			 * after new messages of other producers, and a kill
			 * may repeat it) */
			if (n > atomic_load(&sh->acked[c][p])) {
				atomic_fetch_add(&sh->redelivered[c], 1);
			} else {
				atomic_fetch_add(&sh->dup_acked[c], 1);
				fprintf(stderr,
					"consumer %u: producer %llu "
					"number %llu again, its ack "
					"returned before\n",
					c, (unsigned long long)p,
					(unsigned long long)n);
			}
		} else {
			struct rec r = { (uint32_t)p, 0, n };
			r.check = rec_check(c, nrec, r.producer, n);
			if (pwrite(fd, &r, sizeof(r),
				   (off_t)(nrec * sizeof(r))) !=
			    (ssize_t)sizeof(r))
				_exit(7);
			nrec++;
			total += n - last[p];
			last[p] = n;
		}
		/* --inject skip-ack: the next ack covers this one, unless a
		 * kill comes first, and the acked number lies */
		int skip = inject == INJ_SKIP_ACK && ++views % 2 == 0;
		if (!skip && nvmsg_ack(co) < 0)
			_exit(8);
		if (n > atomic_load(&sh->acked[c][p]))
			atomic_store(&sh->acked[c][p], n);
		set_phase(slot, PH_IDLE);
	}
	set_phase(slot, PH_DONE);
	close(fd);
	nvmsg_consumer_close(&co);
	_exit(0);
}

/* ---------------------------------------------------------------- parent */

static pid_t
spawn(unsigned slot, uint64_t seed)
{
	pid_t parent = getpid();

	set_phase(slot, PH_STARTUP);
	pid_t pid = fork();

	if (pid < 0)
		T_FAILF("fork: %s", strerror(errno));
	if (pid == 0) {
		/* a parent that fails must not leave producers blocked on
		 * a full ring forever (holding ctest's output pipe) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != parent)
			_exit(1);
		if (slot < MAXP)
			producer(slot, seed | 1);
		consumer(slot - MAXP);
	}
	return pid;
}

struct tally {
	uint64_t lost, phantom, reordered;
	uint64_t last[MAXP];
};

static void
tally_rec(const struct rec *r, void *arg)
{
	struct tally *t = arg;

	if (r->producer >= np || r->num > nmsg)
		t->phantom++;
	else if (r->num <= t->last[r->producer])
		t->reordered++; /* backwards, or twice */
	else
		t->lost += r->num - t->last[r->producer] - 1; /* a gap */
	if (r->producer < np && r->num > t->last[r->producer])
		t->last[r->producer] = r->num;
}

/* verify -- every consumer file holds 1..N per producer, once, in order */
static void
verify(unsigned c, uint64_t *lost, uint64_t *phantom, uint64_t *reordered)
{
	char path[512];
	struct tally t = { 0 };
	struct stat st;
	int fd = open(result_path(c, path, sizeof(path)), O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		T_FAILF("no results of consumer %u", c);
	/* the last life finished, so it cut any partial tail */
	uint64_t nrec = (uint64_t)st.st_size / sizeof(struct rec);
	if (st.st_size % (off_t)sizeof(struct rec))
		t.phantom++;
	uint64_t bad = check_recs(fd, c, nrec, tally_rec, &t);
	if (bad != nrec) {
		fprintf(stderr, "consumer %u: record %llu corrupt\n", c,
			(unsigned long long)bad);
		t.phantom += nrec - bad;
	}
	close(fd);
	for (unsigned p = 0; p < np; p++)
		t.lost += nmsg - (t.last[p] < nmsg ? t.last[p] : nmsg);
	*lost += t.lost;
	*phantom += t.phantom;
	*reordered += t.reordered;
}

/* corrupt_one -- flip a bit of a record in the middle of consumer C's file
 * (--inject corrupt): its next life must refuse the file */
static void
corrupt_one(unsigned c)
{
	char path[512];
	struct stat st;
	unsigned char byte;
	int fd = open(result_path(c, path, sizeof(path)), O_RDWR);

	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 64)
		return;
	off_t at = st.st_size / 32 * 16 + 9; /* a byte of a number */
	if (pread(fd, &byte, 1, at) == 1) {
		byte ^= 4;
		if (pwrite(fd, &byte, 1, at) == 1) {
			fprintf(stderr,
				"inject: flipped a bit of consumer "
				"%u's record %lld\n",
				c, (long long)(at / 16));
			inject = INJ_NONE;
		}
	}
	close(fd);
}

/* reachable -- some live process can still enter window PH */
static int
reachable(unsigned ph, const pid_t *pids)
{
	unsigned base = ph == PH_RECORD ? MAXP : 0;
	unsigned n = ph == PH_RECORD ? nc : np;

	for (unsigned slot = base; slot < base + n; slot++)
		if (pids[slot] && atomic_load(&sh->phase[slot]) != PH_DONE)
			return 1;
	return 0;
}

/*
 * await_window -- spin (yielding: there may be only two cores) until some
 * live process reports a critical window that is among the least killed
 * so far (within 8 of the fewest reachable), for at most BUDGET_NS;
 * returns its slot, -1 on timeout, -2 if no live process can enter one.
 * Any process will do, not one picked in advance: a picked one is too
 * often starting up or waiting.
 */
static int
await_window(const pid_t *pids, const uint64_t *by_phase, uint64_t budget_ns,
	     uint64_t *s)
{
	uint64_t fewest = UINT64_MAX;
	unsigned want = 0; /* bit per phase */
	uint64_t t0;

	for (unsigned i = 0; i < NCRIT; i++)
		if (reachable(critical[i], pids) &&
		    by_phase[critical[i]] < fewest)
			fewest = by_phase[critical[i]];
	for (unsigned i = 0; i < NCRIT; i++)
		if (reachable(critical[i], pids) &&
		    by_phase[critical[i]] <= fewest + 8)
			want |= 1u << critical[i];
	if (!want)
		return -2;
	t0 = t_now_ns();
	unsigned first = (unsigned)rng(s);
	for (unsigned i = 1;; i++) {
		for (unsigned k = 0; k < MAXP + MAXC; k++) {
			unsigned slot = (first + k) % (MAXP + MAXC);
			if (pids[slot] &&
			    want >> atomic_load(&sh->phase[slot]) & 1)
				return (int)slot;
		}
		if (i % 16)
			continue;
		if (t_now_ns() - t0 > budget_ns)
			return -1;
		sched_yield();
	}
}

int
main(int argc, char **argv)
{
	unsigned kills_wanted = 1000, min_window = 0;
	uint64_t seed = (uint64_t)time(NULL);
	int opt;
	static const struct option lo[] = {
		{ "seed", required_argument, 0, 's' },
		{ "kills", required_argument, 0, 'k' },
		{ "messages", required_argument, 0, 'm' },
		{ "tier", required_argument, 0, 't' },
		{ "min-window", required_argument, 0, 'w' },
		{ "inject", required_argument, 0, 'i' },
		{ 0, 0, 0, 0 },
	};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			kills_wanted = (unsigned)atoi(optarg);
			break;
		case 'm':
			nmsg = strtoull(optarg, NULL, 0);
			break;
		case 't':
			tier = nvmsg_tier_parse(optarg);
			break;
		case 'w':
			min_window = (unsigned)atoi(optarg);
			break;
		case 'i':
			if (!strcmp(optarg, "corrupt"))
				inject = INJ_CORRUPT;
			else if (!strcmp(optarg, "skip-ack"))
				inject = INJ_SKIP_ACK;
			else
				T_FAILF("--inject corrupt or skip-ack");
			break;
		default:
			fprintf(stderr,
				"usage: %s [--seed S] [--kills K] "
				"[--messages N] [--tier T] "
				"[--min-window W] "
				"[--inject corrupt|skip-ack]\n",
				argv[0]);
			return 2;
		}
	}
	if (tier < 0)
		T_FAILF("bad tier");
	if (!min_window)
		min_window = kills_wanted / 20;
	printf("t_torture: seed %llu (replay with --seed), %u kills wanted "
	       "(at least %u per critical window), %u producers x %llu "
	       "messages, %u consumers, tier %s\n",
	       (unsigned long long)seed, kills_wanted, min_window, np,
	       (unsigned long long)nmsg, nc, nvmsg_tier_name(tier));
	fflush(stdout);
	const char *base = t_tmpdir();
	static char rdir[512];
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(sh != MAP_FAILED);
	uint64_t s = seed | 1, kills = 0, rounds = 0, by_phase[PH_N] = { 0 };
	uint64_t lost = 0, phantom = 0, reordered = 0, redelivered = 0;
	uint64_t dup_acked = 0, cut = 0, modes[3] = { 0 };
	/* rounds of a fresh channel each, until enough kills landed */
	while (kills < kills_wanted) {
		snprintf(rdir, sizeof(rdir), "%s/r%llu", base,
			 (unsigned long long)rounds++);
		ASSERT_TRUE(mkdir(rdir, 0755) == 0);
		dir = rdir;
		t_create(dir, "t", tier, 16384, MAXP, MAXC);
		memset(sh, 0, sizeof(*sh));
		/* register the consumers before anything is sent */
		for (unsigned c = 0; c < nc; c++) {
			struct nvmsg_consumer *co;
			char name[16];
			snprintf(name, sizeof(name), "c%u", c);
			ASSERT_OK(nvmsg_consumer_open(
				dir, "t", name, NVMSG_CONSUMER_CREATE, &co));
			nvmsg_consumer_close(&co);
		}
		pid_t pids[MAXP + MAXC] = { 0 };
		for (unsigned p = 0; p < np; p++)
			pids[p] = spawn(p, rng(&s));
		for (unsigned c = 0; c < nc; c++)
			pids[MAXP + c] = spawn(MAXP + c, 0);
		unsigned live = np + nc;
		while (live) {
			/*
			 * Aim: three kills in four go to the critical window
			 * with the fewest kills so far, once a process reports
			 * it (within 2 ms), after a random spin of up to a few
			 * microseconds so that they spread over the window; the
			 * rest fall after a random sleep wherever the target
			 * is, startup and idle included.
			 */
			int aim = rng(&s) % 4 != 0;
			if (!aim) {
				struct timespec ts = { 0, (long)(rng(&s) %
								 400000) };
				nanosleep(&ts, NULL);
			}
			/* reap whoever finished */
			for (unsigned k = 0; k < MAXP + MAXC; k++) {
				int st;
				if (!pids[k] ||
				    waitpid(pids[k], &st, WNOHANG) != pids[k])
					continue;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					T_FAILF("child %u failed: status %d", k,
						st);
				pids[k] = 0;
				live--;
			}
			if (!live || kills >= kills_wanted)
				continue;
			int slot = -1;
			if (aim) {
				slot = await_window(pids, by_phase, 2000000,
						    &s);
				if (slot == -1)
					continue;
				uint64_t spin = slot >= 0 ? rng(&s) % 2048 : 0;
				while (spin--)
					atomic_load(&sh->phase[slot]);
			}
			if (slot < 0) {
				unsigned who = (unsigned)(rng(&s) % (np + nc));
				slot = (int)(who < np ? who : MAXP + who - np);
				if (!pids[slot])
					continue;
			}
			kill(pids[slot], SIGKILL);
			int st;
			waitpid(pids[slot], &st, 0);
			if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
				/* its last word is where it died */
				by_phase[atomic_load(&sh->phase[slot])]++;
				kills++;
				if (inject == INJ_CORRUPT && slot >= MAXP)
					corrupt_one((unsigned)slot - MAXP);
				pids[slot] = spawn((unsigned)slot, rng(&s));
			} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
				pids[slot] = 0; /* it finished just before */
				live--;
			} else {
				T_FAILF("child %d ended with status %d", slot,
					st);
			}
		}
		for (unsigned c = 0; c < nc; c++) {
			verify(c, &lost, &phantom, &reordered);
			redelivered += atomic_load(&sh->redelivered[c]);
			dup_acked += atomic_load(&sh->dup_acked[c]);
			cut += atomic_load(&sh->cut[c]);
		}
		for (unsigned k = 0; k < MAXP + MAXC; k++)
			phantom += atomic_load(&sh->phantom[k]);
		for (unsigned k = 0; k < MAXP; k++)
			lost += atomic_load(&sh->lost[k]);
		for (unsigned m = 0; m < 3; m++)
			modes[m] += atomic_load(&sh->mode[m]);
		printf("round %llu: kills so far %llu\n",
		       (unsigned long long)rounds, (unsigned long long)kills);
		fflush(stdout);
	}
	int short_window = 0;
	for (unsigned i = 0; i < NCRIT; i++) {
		if (by_phase[critical[i]] >= min_window)
			continue;
		printf("too few kills in window %s: %llu < %u\n",
		       phase_name[critical[i]],
		       (unsigned long long)by_phase[critical[i]], min_window);
		short_window = 1;
	}
	printf("sent by reserve-commit %llu, send %llu, batch %llu; partial "
	       "records cut %llu\n",
	       (unsigned long long)modes[0], (unsigned long long)modes[1],
	       (unsigned long long)modes[2], (unsigned long long)cut);
	printf("acked-then-redelivered: %llu\n", (unsigned long long)dup_acked);
	printf("kills by phase:");
	for (unsigned ph = 0; ph < PH_N; ph++)
		printf(" %s %llu%s", phase_name[ph],
		       (unsigned long long)by_phase[ph],
		       ph + 1 < PH_N ? "," : "");
	printf(" (critical windows need %u each)\n", min_window);
	printf("kills: %llu, lost: %llu, phantom: %llu, reordered: %llu, "
	       "redelivered-unacked: %llu\n",
	       (unsigned long long)kills, (unsigned long long)lost,
	       (unsigned long long)phantom, (unsigned long long)reordered,
	       (unsigned long long)redelivered);
	return lost || phantom || reordered || dup_acked || short_window ||
			       kills < kills_wanted
		       ? T_FAIL
		       : T_PASS;
}
