/* SPDX-License-Identifier: MIT */
/*
 * demo_run.c -- one tier of nvmsg demo: real processes, a real SIGKILL.
 *
 * The parent makes a fresh directory and a channel with 64 KiB rings,
 * registers the consumers c0..c<C-1> (so each receives every message),
 * then forks them and the producers p0..p<P-1>.  Producers send "p<id>
 * <seq>" with NVMSG_BLOCK: the small rings fill, so they wait on the
 * slowest consumer (back-pressure).  Consumers process each message by
 * appending a line to their output file, and ack in batches of
 * DEMO_ACK_BATCH, so a kill usually lands between a write and its ack.
 *
 * The parent SIGKILLs consumer c1 (c0 when there is one consumer) once it
 * processed a third of the messages, and forks it again: the restarted
 * consumer resumes after its last ack, gets the written-but-unacked
 * messages again and skips them (demo_verdict.c).  Once the producers are
 * done and the library reports no consumer lag, or after the deadline,
 * the consumers are stopped and the verdict is read from their files.
 *
 * No orphans: every child asks the kernel for SIGKILL when the parent
 * dies (PR_SET_PDEATHSIG), and every error path of the parent kills and
 * reaps what it forked before removing the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "output.h"

/* struct shared -- counters in a MAP_SHARED mapping: children write,
 * the parent reads them for the kill trigger and the progress line.
 * Relaxed everywhere: they are statistics, not synchronisation. */
struct shared {
	_Atomic uint64_t sent;
	struct {
		_Atomic uint64_t lines;	      /* written by consumer K */
		_Atomic uint64_t redelivered; /* skipped by consumer K */
	} cons[NVMSG_MAX_CONSUMERS];
};

/* struct run -- the parent's view of one tier's run */
struct run {
	const struct demo_cfg *cfg;
	int tier;
	char dir[PATH_MAX];
	pid_t parent;
	struct shared *sh;
	pid_t prod[NVMSG_MAX_PRODUCERS]; /* 0 once reaped */
	pid_t cons[NVMSG_MAX_CONSUMERS];
	unsigned prod_done;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------- children */

static _Noreturn void
child_fail(const char *who, unsigned idx, int rc)
{
	const char *msg = nvmsg_errmsg();

	fprintf(stderr, "nvmsg demo: %s%u: %s\n", who, idx,
		msg[0] ? msg : nvmsg_strerror(rc));
	_exit(1);
}

static _Noreturn void
producer_main(struct run *r, unsigned id)
{
	struct nvmsg_producer *p = NULL;
	char buf[64];
	int rc;

	rc = nvmsg_producer_open(r->dir, DEMO_CHANNEL, (int)id, &p);
	if (rc < 0)
		child_fail("p", id, rc);
	for (uint64_t seq = 1; seq <= r->cfg->messages; seq++) {
		int n = snprintf(buf, sizeof(buf), "p%u %llu", id,
				 (unsigned long long)seq);
		rc = nvmsg_send(p, buf, (size_t)n, NVMSG_BLOCK, -1);
		if (rc < 0)
			child_fail("p", id, rc);
		atomic_fetch_add_explicit(&r->sh->sent, 1,
					  memory_order_relaxed);
	}
	nvmsg_producer_close(&p);
	_exit(0);
}

/* write_all -- the whole of BUF at the end of FD (opened O_APPEND) */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* restart_scan -- read what an earlier incarnation of this consumer
 * recorded; cut a torn last line so that appends start on a new line */
static int
restart_scan(struct run *r, int fd, unsigned k, uint64_t *last)
{
	uint64_t lines;
	size_t len, whole;
	char *buf;
	int rc = demo_read_file(fd, &buf, &len);

	if (rc < 0)
		return rc;
	whole = demo_scan_restart(buf, len, r->cfg->producers, last, &lines);
	free(buf);
	if (whole != len && ftruncate(fd, (off_t)whole) != 0)
		return -errno;
	atomic_store_explicit(&r->sh->cons[k].lines, lines,
			      memory_order_relaxed);
	return 0;
}

/* consume -- process one message: record it, or skip a redelivery */
static void
consume(struct run *r, unsigned k, int fd, const struct nvmsg_view *v,
	uint64_t *last, unsigned char *replay)
{
	char want[64], line[64];
	int n = snprintf(want, sizeof(want), "p%u %llu", v->producer,
			 (unsigned long long)v->seq);

	if (v->producer >= r->cfg->producers || v->len != (size_t)n ||
	    memcmp(v->data, want, (size_t)n) != 0) {
		fprintf(stderr,
			"nvmsg demo: c%u: producer %u seq %llu carries the "
			"wrong payload\n",
			k, v->producer, (unsigned long long)v->seq);
		_exit(1);
	}
	/* a redelivery is a seq already recorded, seen before any new seq
	 * of that producer since the restart; anything else is recorded,
	 * so that a library fault shows up in the verdict */
	if (replay[v->producer] && v->seq <= last[v->producer]) {
		atomic_fetch_add_explicit(&r->sh->cons[k].redelivered, 1,
					  memory_order_relaxed);
		return;
	}
	replay[v->producer] = 0;
	size_t len = demo_format_line(line, sizeof(line), v->producer, v->seq);
	if (write_all(fd, line, len) != 0) {
		fprintf(stderr, "nvmsg demo: c%u: write: %s\n", k,
			strerror(errno));
		_exit(1);
	}
	last[v->producer] = v->seq;
	atomic_fetch_add_explicit(&r->sh->cons[k].lines, 1,
				  memory_order_relaxed);
}

static _Noreturn void
consumer_main(struct run *r, unsigned k)
{
	uint64_t last[NVMSG_MAX_PRODUCERS] = { 0 };
	unsigned char replay[NVMSG_MAX_PRODUCERS];
	struct nvmsg_consumer *c = NULL;
	char path[PATH_MAX + 32], name[16];
	unsigned unacked = 0;
	int fd, rc;

	snprintf(name, sizeof(name), "c%u", k);
	snprintf(path, sizeof(path), "%s/%s.out", r->dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	rc = fd < 0 ? -errno : restart_scan(r, fd, k, last);
	if (rc < 0) {
		fprintf(stderr, "nvmsg demo: %s: %s\n", path, strerror(-rc));
		_exit(1);
	}
	memset(replay, 1, sizeof(replay));
	rc = nvmsg_consumer_open(r->dir, DEMO_CHANNEL, name,
				 NVMSG_CONSUMER_VERIFY, &c);
	if (rc < 0)
		child_fail("c", k, rc);
	for (;;) {
		struct nvmsg_view v;
		/* with messages pending an ack, do not wait: ack them now */
		rc = nvmsg_view(c, &v, unacked ? 0 : -1);
		if (rc == -EAGAIN) {
			if ((rc = nvmsg_ack(c)) < 0)
				child_fail("c", k, rc);
			unacked = 0;
			continue;
		}
		if (rc < 0)
			child_fail("c", k, rc);
		consume(r, k, fd, &v, last, replay);
		if (++unacked == DEMO_ACK_BATCH) {
			if ((rc = nvmsg_ack(c)) < 0)
				child_fail("c", k, rc);
			unacked = 0;
		}
	}
}

/* spawn -- fork a producer (IS_CONSUMER 0) or a consumer; its pid or -1 */
static pid_t
spawn(struct run *r, int is_consumer, unsigned idx)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		cli_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* die with the parent, even if it is SIGKILLed */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != r->parent)
		_exit(1);
	if (is_consumer)
		consumer_main(r, idx);
	producer_main(r, idx);
}

/* ---------------------------------------------------------- parent */

/* stop_all -- send SIG to every child not yet reaped, and reap them */
static void
stop_all(struct run *r, int sig)
{
	pid_t *all[2] = { r->prod, r->cons };
	unsigned n[2] = { r->cfg->producers, r->cfg->consumers };

	for (int a = 0; a < 2; a++)
		for (unsigned i = 0; i < n[a]; i++)
			if (all[a][i] > 0)
				kill(all[a][i], sig);
	for (int a = 0; a < 2; a++)
		for (unsigned i = 0; i < n[a]; i++)
			if (all[a][i] > 0) {
				while (waitpid(all[a][i], NULL, 0) < 0 &&
				       errno == EINTR)
					;
				all[a][i] = 0;
			}
}

static void
describe_status(char *buf, size_t cap, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, cap, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, cap, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, cap, "stopped");
}

/* reap -- collect children that ended; -1 if one ended other than a
 * producer finishing its messages */
static int
reap(struct run *r)
{
	char how[64];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		describe_status(how, sizeof(how), status);
		for (unsigned i = 0; i < r->cfg->producers; i++) {
			if (r->prod[i] != pid)
				continue;
			r->prod[i] = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				cli_err("demo: producer p%u %s", i, how);
				return -1;
			}
			r->prod_done++;
		}
		for (unsigned i = 0; i < r->cfg->consumers; i++) {
			if (r->cons[i] != pid)
				continue;
			r->cons[i] = 0;
			cli_err("demo: consumer c%u %s", i, how);
			return -1;
		}
	}
	return 0;
}

/* kill_restart -- SIGKILL consumer K, reap it, fork it again */
static int
kill_restart(struct run *r, unsigned k)
{
	char how[64];
	int status = 0;

	kill(r->cons[k], SIGKILL);
	while (waitpid(r->cons[k], &status, 0) < 0 && errno == EINTR)
		;
	r->cons[k] = 0;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		/* it ended by itself just before the kill: a real failure */
		describe_status(how, sizeof(how), status);
		cli_err("demo: consumer c%u %s", k, how);
		return -1;
	}
	r->cons[k] = spawn(r, 1, k);
	return r->cons[k] < 0 ? -1 : 0;
}

/* drained -- every consumer acked everything, as the library sees it */
static int
drained(struct run *r)
{
	struct nvmsg_stat *st = malloc(sizeof(*st));
	int done = 0;

	if (st && nvmsg_channel_stat(r->dir, DEMO_CHANNEL, st) == 0) {
		done = 1;
		for (unsigned i = 0; i < st->nconsumers; i++)
			if (st->consumers[i].lag_messages != 0)
				done = 0;
	}
	free(st);
	return done;
}

static void
progress(struct run *r, unsigned kills)
{
	uint64_t total = r->cfg->producers * r->cfg->messages;
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "\r%s: sent %llu/%llu  processed",
		     nvmsg_tier_name(r->tier),
		     (unsigned long long)atomic_load_explicit(
			     &r->sh->sent, memory_order_relaxed),
		     (unsigned long long)total);
	for (unsigned i = 0;
	     i < r->cfg->consumers && n > 0 && (size_t)n < sizeof(line) - 48;
	     i++)
		n += snprintf(
			line + n, sizeof(line) - (size_t)n, " c%u %llu", i,
			(unsigned long long)atomic_load_explicit(
				&r->sh->cons[i].lines, memory_order_relaxed));
	fprintf(stderr, "%s  kills %u\033[K", line, kills);
}

/* supervise -- from the forks to the end of the stream; -1 on error */
static int
supervise(struct run *r, struct demo_result *res)
{
	const struct demo_cfg *cfg = r->cfg;
	unsigned victim = cfg->consumers > 1 ? 1 : 0;
	uint64_t kill_at = cfg->producers * cfg->messages / 3;
	uint64_t start = now_ms(), last_draw = 0, last_stat = 0;
	const struct timespec tick = { 0, 2000000 };

	for (;;) {
		uint64_t now = now_ms();

		if (interrupted) {
			cli_err("demo: interrupted");
			return -1;
		}
		if (reap(r) < 0)
			return -1;
		if (!res->kills &&
		    atomic_load_explicit(&r->sh->cons[victim].lines,
					 memory_order_relaxed) >= kill_at) {
			if (kill_restart(r, victim) < 0)
				return -1;
			res->kills++;
		}
		if (res->kills && r->prod_done == cfg->producers &&
		    now - last_stat >= 10) {
			last_stat = now;
			if (drained(r)) {
				res->drained = 1;
				break;
			}
		}
		if (now - start >= DEMO_DEADLINE_MS) {
			cli_err("demo: %s: consumers did not catch up within "
				"%d s",
				nvmsg_tier_name(r->tier),
				DEMO_DEADLINE_MS / 1000);
			break;
		}
		if (cfg->progress && now - last_draw >= 100) {
			last_draw = now;
			progress(r, (unsigned)res->kills);
		}
		nanosleep(&tick, NULL);
	}
	res->elapsed_ms = now_ms() - start;
	if (cfg->progress)
		fputs("\r\033[K", stderr);
	return 0;
}

/* setup -- the directory, the channel and its registered consumers */
static int
setup(struct run *r, struct demo_result *res)
{
	struct nvmsg_channel_opts co = {
		.tier = r->tier,
		.capacity_bytes = DEMO_CAPACITY,
		.max_producers = r->cfg->producers,
		.max_consumers = r->cfg->consumers,
	};
	struct nvmsg_stat *st;
	int rc;

	rc = nvmsg_channel_create(r->dir, DEMO_CHANNEL, &co);
	if (rc < 0)
		return cli_lib_err(rc), -1;
	st = malloc(sizeof(*st));
	if (!st || (rc = nvmsg_channel_stat(r->dir, DEMO_CHANNEL, st)) < 0) {
		free(st);
		return cli_lib_err(st ? rc : -ENOMEM), -1;
	}
	snprintf(res->backing, sizeof(res->backing), "%s", st->backing);
	free(st);
	for (unsigned k = 0; k < r->cfg->consumers; k++) {
		struct nvmsg_consumer *c = NULL;
		char name[16];
		snprintf(name, sizeof(name), "c%u", k);
		rc = nvmsg_consumer_open(r->dir, DEMO_CHANNEL, name,
					 NVMSG_CONSUMER_CREATE, &c);
		if (rc < 0)
			return cli_lib_err(rc), -1;
		nvmsg_consumer_close(&c);
	}
	return 0;
}

/* verdict -- read every consumer's file into *RES */
static int
verdict(struct run *r, struct demo_result *res)
{
	res->sent = r->cfg->producers * r->cfg->messages;
	for (unsigned k = 0; k < r->cfg->consumers; k++) {
		struct demo_counts *c = &res->cons[k];
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/c%u.out", r->dir, k);
		if (demo_check_file(path, r->cfg, c) < 0)
			return -1;
		res->lost += res->sent - c->unique;
		res->duplicated += c->duplicated;
		res->reordered += c->reordered;
		res->invalid += c->invalid;
		res->redelivered += atomic_load_explicit(
			&r->sh->cons[k].redelivered, memory_order_relaxed);
	}
	return 0;
}

/* remove_dir -- the demo's own directory and everything in it */
static void
remove_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d))) {
			char path[PATH_MAX + 256];
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	if (rmdir(dir) != 0)
		cli_err("cannot remove %s: %s", dir, strerror(errno));
}

static const char *
default_base(int tier)
{
	switch (tier) {
	case NVMSG_TIER_MSYNC:
		return "/var/tmp";
	case NVMSG_TIER_PMEM:
		return "/mnt/pmem";
	default:
		return "/dev/shm";
	}
}

int
demo_run_tier(const struct demo_cfg *cfg, int tier, struct demo_result *res)
{
	struct run r = { .cfg = cfg, .tier = tier, .parent = getpid() };
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	const char *base = cfg->base ? cfg->base : default_base(tier);
	int rc = -1;

	memset(res, 0, sizeof(*res));
	res->tier = tier;
	if ((size_t)snprintf(r.dir, sizeof(r.dir), "%s/nvmsg-demo-XXXXXX",
			     base) >= sizeof(r.dir) ||
	    !mkdtemp(r.dir)) {
		cli_err("demo: cannot make a directory in %s: %s", base,
			strerror(errno));
		return -1;
	}
	r.sh = mmap(NULL, sizeof(*r.sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r.sh == MAP_FAILED) {
		cli_err("demo: mmap: %s", strerror(errno));
		remove_dir(r.dir);
		return -1;
	}
	interrupted = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (setup(&r, res) < 0)
		goto out;
	for (unsigned k = 0; k < cfg->consumers; k++)
		if ((r.cons[k] = spawn(&r, 1, k)) < 0)
			goto out;
	for (unsigned i = 0; i < cfg->producers; i++)
		if ((r.prod[i] = spawn(&r, 0, i)) < 0)
			goto out;
	if (supervise(&r, res) < 0)
		goto out;
	/* consumers run until told: all is acked, so a signal is safe */
	stop_all(&r, SIGTERM);
	rc = verdict(&r, res);
out:
	stop_all(&r, SIGKILL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	munmap(r.sh, sizeof(*r.sh));
	remove_dir(r.dir);
	return rc;
}
