/* SPDX-License-Identifier: MIT */
/*
 * run.c -- the schedule: rounds of every case in plan order (A B C A B C),
 * a raw floor probe right before and right after each case (the probe
 * after one case is the probe before the next: nothing runs between),
 * and a case whose two probes disagree by more than o->disagree is run
 * again, up to o->tries times.
 *
 * Each case runs in a forked case process with a private directory (on
 * /var/tmp for the disk-backed systems, /dev/shm for the others).  The
 * result comes back as one line through a pipe.  A case process that
 * overruns its time is killed, and so is every server it recorded in
 * DIR/pids (stopped by pid, after checking the pid still names that
 * program); the directory is removed whatever happened.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char base_disk[256], base_mem[256];
static volatile sig_atomic_t stop_requested;
static volatile pid_t case_pid;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
rm_rf(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* same_program -- /proc/PID/comm starts like NAME (comm is cut at 15) */
static int
same_program(pid_t pid, const char *name)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return comm[0] && strncmp(comm, name, strlen(comm)) == 0;
}

/* stop_recorded -- stop every server listed in DIR/pids that still runs */
static void
stop_recorded(const char *dir)
{
	char path[600], name[64];
	int pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pids", dir);
	if (!(f = fopen(path, "r")))
		return;
	while (fscanf(f, "%d %63s", &pid, name) == 2)
		if (pid > 1 && same_program(pid, name)) {
			fprintf(stderr,
				"bench: stopping leftover %s (pid %d)\n", name,
				pid);
			nvb_stop(pid, 0);
		}
	fclose(f);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (case_pid > 0)
		kill(case_pid, SIGKILL);
}

void
nvb_cleanup(void)
{
	rm_rf(base_disk);
	rm_rf(base_mem);
	base_disk[0] = base_mem[0] = '\0';
}

/* reap_stale -- directories left by a harness that was killed outright
 * (SIGKILL: no handler ran): stop the servers they record, remove them.
 * Each base directory holds harness.pid, the pid of its harness. */
static void
reap_stale(const char *pattern)
{
	glob_t g;

	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char path[600];
		int pid = 0;
		FILE *f;
		snprintf(path, sizeof(path), "%s/harness.pid", g.gl_pathv[i]);
		if (!(f = fopen(path, "r")))
			continue; /* being made, or not ours */
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
		if (pid <= 0 || (kill(pid, 0) == 0 || errno == EPERM))
			continue; /* its harness still runs */
		fprintf(stderr, "bench: cleaning up after a killed run: %s\n",
			g.gl_pathv[i]);
		glob_t cases;
		snprintf(path, sizeof(path), "%s/*", g.gl_pathv[i]);
		if (glob(path, GLOB_ONLYDIR, NULL, &cases) == 0) {
			for (size_t k = 0; k < cases.gl_pathc; k++)
				stop_recorded(cases.gl_pathv[k]);
			globfree(&cases);
		}
		rm_rf(g.gl_pathv[i]);
	}
	globfree(&g);
}

static void
write_pid(const char *dir)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/harness.pid", dir);
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
}

static int
make_bases(void)
{
	reap_stale("/var/tmp/nvmsg-bench.*");
	reap_stale("/dev/shm/nvmsg-bench.*");
	reap_stale("/tmp/nvmsg-bench.*");
	snprintf(base_disk, sizeof(base_disk), "/var/tmp/nvmsg-bench.XXXXXX");
	snprintf(base_mem, sizeof(base_mem), "/dev/shm/nvmsg-bench.XXXXXX");
	if (!mkdtemp(base_disk)) {
		fprintf(stderr, "bench: mkdtemp under /var/tmp: %s\n",
			strerror(errno));
		base_disk[0] = '\0';
		return -1;
	}
	if (!mkdtemp(base_mem)) {
		/* no /dev/shm: memory-backed cases use /tmp */
		snprintf(base_mem, sizeof(base_mem), "/tmp/nvmsg-bench.XXXXXX");
		if (!mkdtemp(base_mem)) {
			base_mem[0] = '\0';
			return -1;
		}
	}
	write_pid(base_disk);
	write_pid(base_mem);
	return 0;
}

/* every probe of the run, for the floor's own row and curve */
#define MAX_PROBES 4096
static struct nvb_result probes[MAX_PROBES];
static int nprobes;

double
nvb_floor(const struct nvb_opts *o, struct nvb_result *r)
{
	struct nvb_result tmp;

	if (!r)
		r = &tmp;
	memset(r, 0, sizeof(*r));
	if (nvb_probe_floor(o->probe_count, r) < 0)
		return -1;
	if (nprobes < MAX_PROBES)
		probes[nprobes++] = *r;
	return r->p50;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
nvb_floor_summary(struct nvb_result *out)
{
	static double v[MAX_PROBES];

	memset(out, 0, sizeof(*out));
	if (nprobes == 0)
		return 0;
#define MED(field)                                                             \
	do {                                                                   \
		for (int i = 0; i < nprobes; i++)                              \
			v[i] = probes[i].field;                                \
		qsort(v, (size_t)nprobes, sizeof(v[0]), cmp_dbl);              \
		out->field = v[nprobes / 2];                                   \
	} while (0)
	MED(p50);
	MED(p99);
	MED(p999);
	for (int q = 0; q < NVB_NQ; q++)
		MED(q[q]);
#undef MED
	for (int i = 0; i < nprobes; i++) {
		if (probes[i].max > out->max)
			out->max = probes[i].max;
		out->n += probes[i].n;
	}
	snprintf(out->note, sizeof(out->note), "%d probes", nprobes);
	return nprobes;
}

/* case_timeout -- seconds a case process may run */
static double
case_timeout(const struct nvb_case *c, const struct nvb_opts *o)
{
	double t = 60;

	if (c->m == NVB_PP)
		t += o->pp.seconds * 4;
	else if (c->m == NVB_RATE)
		t += (double)(o->lat_rate.count + o->lat_rate.warm) /
		     o->lat_rate.rate * 4;
	else if (c->m == NVB_FWD_RATE) /* + the daemons, the certificates */
		t += 30 + (double)(o->fwd_lat.count + o->fwd_lat.warm) /
				  o->fwd_lat.rate * 4;
	else if (c->m == NVB_FWD_TPUT)
		t += 30 + o->fwd_tput.seconds * 4;
	else if (c->m == NVB_FWD_REF) /* + a 3-node cluster's election */
		t += 30 + o->fwd_ref.seconds * 4;
	else
		t += o->tput.seconds * 4;
	return t;
}

/* run_one -- fork the case process, read its line; 0 and *r, or < 0 and
 * ERR says why */
static int
run_one(const struct nvb_case *c, const struct nvb_opts *o, int seq,
	struct nvb_result *r, char *err, size_t errlen)
{
	char dir[512], ddir[512] = "", line[2048];
	int p[2];

	snprintf(dir, sizeof(dir), "%s/%d",
		 c->sys->disk == 1 ? base_disk : base_mem, seq);
	if (mkdir(dir, 0700) != 0) {
		snprintf(err, errlen, "mkdir %.200s: %s", dir, strerror(errno));
		return -1;
	}
	/* a system with data on both (nvmsgd: the origin in memory, the
	 * receiving channel on the disk) */
	if (c->sys->disk == 2) {
		snprintf(ddir, sizeof(ddir), "%s/%d", base_disk, seq);
		if (mkdir(ddir, 0700) != 0) {
			snprintf(err, errlen, "mkdir %.200s: %s", ddir,
				 strerror(errno));
			rm_rf(dir);
			return -1;
		}
	}
	if (pipe(p) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct nvb_result res;
		/* dies with the harness; its servers die with it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(p[0]);
		int rc = nvb_run_case(c, o, dir,
				      ddir[0]	     ? ddir
				      : c->sys->disk ? dir
						     : NULL,
				      &res);
		if (rc == 0)
			snprintf(line, sizeof(line), "ok ");
		else
			snprintf(line, sizeof(line), "err ");
		nvb_format_result(&res, line + strlen(line),
				  sizeof(line) - strlen(line) - 1);
		strcat(line, "\n");
		if (write(p[1], line, strlen(line)) < 0)
			_exit(3);
		_exit(rc == 0 ? 0 : 2);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	case_pid = pid;
	uint64_t deadline = nvb_now_ns() + (uint64_t)(case_timeout(c, o) * 1e9);
	size_t got = 0;
	int timed_out = 0;
	line[0] = '\0';
	while (got < sizeof(line) - 1) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int64_t left = (int64_t)(deadline - nvb_now_ns()) / 1000000;
		if (nvb_now_ns() >= deadline) {
			timed_out = 1;
			break;
		}
		int pr = poll(&pf, 1, (int)(left > 1000 ? 1000 : left + 1));
		if (pr < 0 && errno == EINTR) {
			if (stop_requested)
				break;
			continue;
		}
		if (pr <= 0)
			continue;
		ssize_t n = read(p[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
	}
	close(p[0]);
	if (timed_out || stop_requested)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	case_pid = 0;
	stop_recorded(dir);
	rm_rf(dir);
	if (ddir[0])
		rm_rf(ddir);
	if (stop_requested) {
		snprintf(err, errlen, "interrupted");
		return -1;
	}
	if (timed_out) {
		snprintf(err, errlen, "no result after %.0f s: killed",
			 case_timeout(c, o));
		return -1;
	}
	if (strncmp(line, "ok ", 3) == 0)
		return nvb_parse_result(line + 3, r, err, errlen);
	if (strncmp(line, "err ", 4) == 0) {
		nvb_parse_result(line + 4, r, err, errlen);
		snprintf(err, errlen, "%s", r->note[0] ? r->note : "failed");
		return -1;
	}
	snprintf(err, errlen, "the case process died without a result");
	return -1;
}

static void
human(double v, char *buf, size_t len)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2f M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1f k", v / 1e3);
	else
		snprintf(buf, len, "%.0f ", v);
}

static void
progress(int round, const struct nvb_opts *o, int i, int n,
	 const struct nvb_case *c, const struct nvb_rep *rep, const char *err,
	 double dis, double secs)
{
	char a[32];

	fprintf(stderr, "[%d/%d %3d/%d] %-30s ", round, o->rounds, i + 1, n,
		c->id);
	if (err) {
		fprintf(stderr, "FAILED: %s\n", err);
		return;
	}
	if (NVB_IS_LAT(c->m) || c->m == NVB_BARRIER)
		fprintf(stderr, "p50 %.0f ns  p99.9 %.0f ns", rep->r.p50,
			rep->r.p999);
	if (rep->r.rn)
		fprintf(stderr, "  released p50 %.0f ns  p99.9 %.0f ns",
			rep->r.rp50, rep->r.rp999);
	if (!NVB_IS_LAT(c->m) && c->m != NVB_BARRIER) {
		human(rep->r.msgs_per_s, a, sizeof(a));
		fprintf(stderr, "%smsgs/s  %.0f MB/s", a, rep->r.mb_per_s);
	}
	fprintf(stderr, "  floor %.0f/%.0f ns  %.1f s%s", rep->floor_before,
		rep->floor_after, secs,
		dis > o->disagree ? "  (probes disagree)" : "");
	if (rep->foreign > NVB_FOREIGN_MAX)
		fprintf(stderr, "  (others used %.0f%% of the CPUs)",
			rep->foreign * 100);
	fputc('\n', stderr);
}

static double
disagreement(double a, double b)
{
	double lo = a < b ? a : b;

	if (a <= 0 || b <= 0)
		return INFINITY;
	return fabs(a - b) / lo;
}

void
nvb_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* a closed stdout or stderr (| head) must not kill the harness
	 * before it has stopped its servers and removed its directories */
	signal(SIGPIPE, SIG_IGN);
}

int
nvb_run(const struct nvb_opts *o, struct nvb_machine *mc,
	struct nvb_case *cases, int n)
{
	double last = -1;
	int seq = 0, failures = 0;
	uint64_t t0 = nvb_now_ns();
	struct nvb_cpu r0, r1;

	nvb_cpu_sample(&r0);

	if (stop_requested)
		return -2;
	if (make_bases() < 0)
		return -1;
	for (int round = 1; round <= o->rounds && !stop_requested; round++) {
		for (int i = 0; i < n && !stop_requested; i++) {
			struct nvb_case *c = &cases[i];
			struct nvb_rep best = { 0 };
			double best_dis = INFINITY;
			char err[256] = "";
			int failed = 0, t;
			if (c->nreps >= NVB_MAX_REPS)
				continue;
			for (t = 1; t <= o->tries && !stop_requested; t++) {
				struct nvb_rep rep = { 0 };
				struct nvb_cpu c0, c1;
				uint64_t ts = nvb_now_ns();
				nvb_cpu_sample(&c0);
				if (o->no_probe)
					rep.floor_before = -1;
				else
					rep.floor_before =
						last > 0 ? last
							 : nvb_floor(o, NULL);
				int rc = run_one(c, o, seq++, &rep.r, err,
						 sizeof(err));
				rep.floor_after = last =
					o->no_probe ? -1 : nvb_floor(o, NULL);
				nvb_cpu_sample(&c1);
				rep.foreign = nvb_foreign(&c0, &c1);
				rep.tries = t;
				double dis = disagreement(rep.floor_before,
							  rep.floor_after);
				progress(round, o, i, n, c, &rep,
					 rc < 0 ? err : NULL, dis,
					 (double)(nvb_now_ns() - ts) / 1e9);
				if (rc < 0) {
					failed = 1;
					break;
				}
				/* agreeing probes, and the machine ours */
				rep.ok = (dis <= o->disagree &&
					  rep.foreign <= NVB_FOREIGN_MAX) ||
					 o->no_probe;
				if (rep.foreign > NVB_FOREIGN_MAX)
					dis += 1; /* rank a busy run last */
				if (dis < best_dis || !best.tries) {
					best = rep;
					best_dis = dis;
				}
				if (rep.ok)
					break;
			}
			if (failed) {
				failures++;
				snprintf(c->error, sizeof(c->error), "%s", err);
				continue;
			}
			if (best.tries)
				c->reps[c->nreps++] = best;
		}
	}
	mc->elapsed_s = (double)(nvb_now_ns() - t0) / 1e9;
	nvb_cpu_sample(&r1);
	mc->foreign = nvb_foreign(&r0, &r1);
	if (mc->foreign > NVB_FOREIGN_MAX) {
		size_t k = strlen(mc->busy_why);
		mc->busy = 1;
		snprintf(mc->busy_why + k, sizeof(mc->busy_why) - k,
			 "%sother processes used %.0f%% of the CPUs during the "
			 "run",
			 k ? "; " : "", mc->foreign * 100);
	}
	nvb_cleanup();
	if (stop_requested) {
		fprintf(stderr, "bench: interrupted; servers stopped, "
				"directories removed\n");
		return -2;
	}
	return failures ? 1 : 0;
}
