/* SPDX-License-Identifier: MIT */
/*
 * t_torture.c -- SIGKILL torture with real processes.
 *
 * Proves I1 (no loss), I2 (no phantom), I3 (per-producer order) and
 * detectability across process crashes: producer and consumer processes
 * are SIGKILLed at random moments (seeded; the seed is printed for
 * replay) and restarted, at least --kills times.
 *
 * Producer k owns slot k.  It numbers its messages 1..N itself (the
 * payload carries the number and a filler derived from it) and tells the
 * parent, through a shared anonymous mapping, which number is in flight
 * (with the library's sequence number from the claim) and which was last
 * acknowledged.  A restarted producer asks nvmsg_producer_committed()
 * which sequence numbers committed and resends exactly the rest.
 *
 * Consumer c writes each message it processes as a line to its own file
 * (write(2), then nvmsg_ack), and after each ack returns stores the acked
 * number in the shared mapping.  A restarted consumer reads its file
 * first; a message it receives again is a redelivery, allowed only if its
 * ack never returned (killed after writing, before the ack completed: the
 * number is above the shared acked number); a redelivery of a message
 * whose ack returned is counted as a duplicate violation.
 *
 * At the end every consumer's file must hold every producer's 1..N
 * exactly once, in order.  Last line:
 * "kills: N, lost: 0, phantom: 0, reordered: 0, redelivered-unacked: R".
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "t.h"

#define MAXP 4
#define MAXC 3

struct shared {
	_Atomic uint64_t inflight_seq[MAXP]; /* claim.seq before commit */
	_Atomic uint64_t inflight_num[MAXP]; /* its message number */
	_Atomic uint64_t sent_num[MAXP];     /* last acknowledged number */
	_Atomic uint64_t done[MAXP + MAXC];
	_Atomic uint64_t bad[MAXC];          /* disallowed redeliveries */
	_Atomic uint64_t redelivered[MAXC];  /* allowed ones */
	_Atomic uint64_t progress[MAXC];     /* lines written */
	_Atomic uint64_t acked_num[MAXC][MAXP]; /* stored after each ack
						 * returned: survives a kill */
};

static struct shared *sh;
static const char *dir;
static unsigned np = 3, nc = 2;
static uint64_t nmsg = 20000;
static int tier = NVMSG_TIER_VOLATILE;

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
producer(unsigned id)
{
	struct nvmsg_producer *p;
	unsigned char b[128];

	if (nvmsg_producer_open(dir, "t", (int)id, &p) < 0) {
		fprintf(stderr, "producer %u open: %s\n", id, nvmsg_errmsg());
		_exit(1);
	}
	/* detectability: which of my messages committed? */
	uint64_t committed = nvmsg_producer_committed(p);
	uint64_t num = atomic_load(&sh->sent_num[id]);
	if (atomic_load(&sh->inflight_num[id]) == num + 1 &&
	    atomic_load(&sh->inflight_seq[id]) != 0 &&
	    atomic_load(&sh->inflight_seq[id]) <= committed)
		num++; /* the one in flight committed: do not resend it */
	atomic_store(&sh->sent_num[id], num);
	while (num < nmsg) {
		struct nvmsg_claim cl;
		size_t len = fill(id, num + 1, b);
		if (nvmsg_reserve(p, len, &cl, NVMSG_BLOCK, -1) < 0)
			_exit(2);
		memcpy(cl.data, b, len);
		atomic_store(&sh->inflight_seq[id], cl.seq);
		atomic_store(&sh->inflight_num[id], num + 1);
		if (nvmsg_commit(p, &cl, 0) < 0)
			_exit(3);
		atomic_store(&sh->sent_num[id], ++num);
	}
	nvmsg_producer_close(&p);
	atomic_store(&sh->done[id], 1);
	_exit(0);
}

static char *
result_path(unsigned c, char *buf, size_t n)
{
	snprintf(buf, n, "%s/c%u.out", dir, c);
	return buf;
}

/* read_results -- last number per producer recorded in the file */
static void
read_results(unsigned c, uint64_t *last)
{
	char path[512], line[64];
	FILE *f = fopen(result_path(c, path, sizeof(path)), "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long p, n;
		if (sscanf(line, "%llu %llu", &p, &n) != 2 || p >= MAXP)
			continue; /* a line torn by SIGKILL mid-write */
		last[p] = n;
	}
	fclose(f);
}

static void
consumer(unsigned c)
{
	struct nvmsg_consumer *co;
	struct nvmsg_view v;
	char name[16], path[512];
	uint64_t last[MAXP] = {0}, total = 0;
	unsigned char b[128];

	snprintf(name, sizeof(name), "c%u", c);
	if (nvmsg_consumer_open(dir, "t", name, NVMSG_CONSUMER_VERIFY, &co) <
	    0) {
		fprintf(stderr, "consumer %u open: %s\n", c, nvmsg_errmsg());
		_exit(1);
	}
	read_results(c, last);
	for (unsigned p = 0; p < np; p++)
		total += last[p];
	int fd = open(result_path(c, path, sizeof(path)),
		      O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		_exit(4);
	/* a line torn by a kill mid-write: end it so the next is whole */
	if (write(fd, "\n", 1) != 1)
		_exit(4);
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
		if (p != v.producer || v.len != fill(p, n, b) ||
		    memcmp(v.data, b, v.len) != 0) {
			fprintf(stderr, "consumer %u: phantom/garbled message "
					"from %u\n", c, v.producer);
			_exit(6);
		}
		if (n <= last[p]) {
			/* redelivery: allowed only if its ack never returned
			 * (views go round robin, so it may come after new
			 * messages of other rings, and a kill may repeat it) */
			if (n > atomic_load(&sh->acked_num[c][p])) {
				atomic_fetch_add(&sh->redelivered[c], 1);
			} else {
				atomic_fetch_add(&sh->bad[c], 1);
				fprintf(stderr, "consumer %u: producer %llu "
						"number %llu seq %llu again, "
						"acked before\n",
					c, (unsigned long long)p,
					(unsigned long long)n,
					(unsigned long long)v.seq);
			}
		} else {
			char line[48];
			int len = snprintf(line, sizeof(line), "%llu %llu\n",
					   (unsigned long long)p,
					   (unsigned long long)n);
			if (write(fd, line, (size_t)len) != len)
				_exit(7);
			last[p] = n;
			total++;
			atomic_store(&sh->progress[c], total);
		}
		if (nvmsg_ack(co) < 0)
			_exit(8);
		atomic_store(&sh->acked_num[c][p], n > last[p] ? last[p] : n);
	}
	close(fd);
	nvmsg_consumer_close(&co);
	atomic_store(&sh->done[MAXP + c], 1);
	_exit(0);
}

static pid_t
spawn(unsigned who)
{
	pid_t pid = fork();

	if (pid < 0)
		T_FAILF("fork: %s", strerror(errno));
	if (pid == 0) {
		if (who < MAXP)
			producer(who);
		consumer(who - MAXP);
	}
	return pid;
}

static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* verify -- every consumer file holds 1..N per producer, once, in order */
static void
verify(unsigned c, uint64_t *lost, uint64_t *phantom, uint64_t *reordered)
{
	char path[512], line[64];
	uint64_t last[MAXP] = {0};
	FILE *f = fopen(result_path(c, path, sizeof(path)), "r");

	if (!f)
		T_FAILF("no results of consumer %u", c);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long p, n;
		if (line[0] == '\n')
			continue;
		if (sscanf(line, "%llu %llu", &p, &n) != 2 || p >= np) {
			(*phantom)++;
			continue;
		}
		if (n > nmsg)
			(*phantom)++;
		else if (n != last[p] + 1)
			(*reordered)++;
		last[p] = n;
	}
	fclose(f);
	for (unsigned p = 0; p < np; p++)
		*lost += nmsg - (last[p] < nmsg ? last[p] : nmsg);
}

int
main(int argc, char **argv)
{
	unsigned kills_wanted = 1000;
	uint64_t seed = (uint64_t)time(NULL);
	int opt;
	static const struct option lo[] = {
		{"seed", required_argument, 0, 's'},
		{"kills", required_argument, 0, 'k'},
		{"messages", required_argument, 0, 'm'},
		{"tier", required_argument, 0, 't'},
		{0, 0, 0, 0},
	};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'k': kills_wanted = (unsigned)atoi(optarg); break;
		case 'm': nmsg = strtoull(optarg, NULL, 0); break;
		case 't': tier = nvmsg_tier_parse(optarg); break;
		default:
			fprintf(stderr, "usage: %s [--seed S] [--kills K] "
					"[--messages N] [--tier T]\n",
				argv[0]);
			return 2;
		}
	}
	if (tier < 0)
		T_FAILF("bad tier");
	printf("t_torture: seed %llu (replay with --seed), %u kills wanted, "
	       "%u producers x %llu messages, %u consumers, tier %s\n",
	       (unsigned long long)seed, kills_wanted, np,
	       (unsigned long long)nmsg, nc, nvmsg_tier_name(tier));
	fflush(stdout);
	const char *base = t_tmpdir();
	static char rdir[512];
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(sh != MAP_FAILED);
	uint64_t s = seed | 1, kills = 0, rounds = 0;
	uint64_t lost = 0, phantom = 0, reordered = 0, redelivered = 0, bad = 0;
	/* rounds of a fresh channel each, until enough kills landed while
	 * processes were still working */
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
			ASSERT_OK(nvmsg_consumer_open(dir, "t", name,
						      NVMSG_CONSUMER_CREATE,
						      &co));
			nvmsg_consumer_close(&co);
		}
		pid_t pids[MAXP + MAXC] = {0};
		for (unsigned p = 0; p < np; p++)
			pids[p] = spawn(p);
		for (unsigned c = 0; c < nc; c++)
			pids[MAXP + c] = spawn(MAXP + c);
		unsigned live = np + nc;
		while (live) {
			struct timespec ts = {0, (long)(rng(&s) % 400000)};
			nanosleep(&ts, NULL);
			/* reap whoever finished */
			for (unsigned k = 0; k < MAXP + MAXC; k++) {
				int st;
				if (!pids[k] || waitpid(pids[k], &st, WNOHANG) !=
							pids[k])
					continue;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					T_FAILF("child %u failed: status %d", k,
						st);
				pids[k] = 0;
				live--;
			}
			if (!live || kills >= kills_wanted)
				continue;
			unsigned who = (unsigned)(rng(&s) % (np + nc));
			unsigned slot = who < np ? who : MAXP + (who - np);
			if (!pids[slot])
				continue;
			kill(pids[slot], SIGKILL);
			int st;
			waitpid(pids[slot], &st, 0);
			if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
				kills++;
				pids[slot] = spawn(slot);
			} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
				pids[slot] = 0; /* it finished just before */
				live--;
			} else {
				T_FAILF("child %u ended with status %d", slot,
					st);
			}
		}
		for (unsigned c = 0; c < nc; c++) {
			verify(c, &lost, &phantom, &reordered);
			redelivered += atomic_load(&sh->redelivered[c]);
			bad += atomic_load(&sh->bad[c]);
		}
		printf("round %llu: kills so far %llu\n",
		       (unsigned long long)rounds, (unsigned long long)kills);
		fflush(stdout);
	}
	printf("duplicates not explained by a kill before the ack: %llu\n",
	       (unsigned long long)bad);
	printf("kills: %llu, lost: %llu, phantom: %llu, reordered: %llu, "
	       "redelivered-unacked: %llu\n",
	       (unsigned long long)kills, (unsigned long long)lost,
	       (unsigned long long)phantom, (unsigned long long)reordered,
	       (unsigned long long)redelivered);
	return lost || phantom || reordered || bad || kills < kills_wanted
		       ? T_FAIL
		       : T_PASS;
}
