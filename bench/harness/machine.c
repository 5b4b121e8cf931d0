/* SPDX-License-Identifier: MIT */
/*
 * machine.c -- what the run was measured on: CPU model, flush instruction
 * (from /proc/cpuinfo flags), kernel, load, the peers' versions.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <nvmsg.h>

double
nvb_load1(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

void
nvb_cpu_sample(struct nvb_cpu *s)
{
	unsigned long long v[8] = { 0 };
	struct rusage self, kids;
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");

	memset(s, 0, sizeof(*s));
	s->wall = (double)nvb_now_ns() / 1e9;
	if (f) {
		/* cpu user nice system idle iowait irq softirq steal */
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) == 8)
			s->busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] +
					   v[7]) /
				  (hz > 0 ? hz : 100);
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
#define SECS(tv) ((double)(tv).tv_sec + (double)(tv).tv_usec / 1e6)
	s->ours = SECS(self.ru_utime) + SECS(self.ru_stime) +
		  SECS(kids.ru_utime) + SECS(kids.ru_stime);
#undef SECS
}

double
nvb_foreign(const struct nvb_cpu *a, const struct nvb_cpu *b)
{
	double cap = (b->wall - a->wall) * nvb_ncpus();
	double other = (b->busy - a->busy) - (b->ours - a->ours);

	if (cap <= 0)
		return 0;
	if (other < 0)
		other = 0;
	return other / cap > 1 ? 1 : other / cap;
}

/* has_flag -- FLAG is a whole word in the flags line */
static int
has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ' ') &&
		    (p[n] == ' ' || !p[n] || p[n] == '\n'))
			return 1;
	return 0;
}

/* first_line -- the first line of COMMAND's output, or "" */
static void
first_line(const char *command, char *buf, size_t len)
{
	FILE *p = popen(command, "r");

	buf[0] = '\0';
	if (!p)
		return;
	if (!fgets(buf, (int)len, p))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	pclose(p);
}

void
nvb_machine_info(struct nvb_machine *mc)
{
	char line[4096], v[160];
	struct utsname u;
	FILE *f;
	time_t now = time(NULL);

	memset(mc, 0, sizeof(*mc));
	gethostname(mc->host, sizeof(mc->host) - 1);
	snprintf(mc->cpu, sizeof(mc->cpu), "unknown");
	snprintf(mc->flush, sizeof(mc->flush), "none");
	if ((f = fopen("/proc/cpuinfo", "r"))) {
		int got_model = 0, got_flags = 0;
		while (fgets(line, sizeof(line), f) &&
		       !(got_model && got_flags)) {
			char *colon = strchr(line, ':');
			if (!colon)
				continue;
			char *val = colon + 1 + (colon[1] == ' ');
			val[strcspn(val, "\n")] = '\0';
			if (!got_model &&
			    strncmp(line, "model name", 10) == 0) {
				snprintf(mc->cpu, sizeof(mc->cpu), "%s", val);
				got_model = 1;
			} else if (!got_flags &&
				   strncmp(line, "flags", 5) == 0) {
				const char *fl = has_flag(val, "clwb") ? "clwb"
						 : has_flag(val, "clflushopt")
							 ? "clflushopt"
						 : has_flag(val, "clflush")
							 ? "clflush"
							 : "none";
				snprintf(mc->flush, sizeof(mc->flush), "%s%s",
					 fl,
					 has_flag(val, "avx512f") ? " (AVX-512)"
								  : "");
				got_flags = 1;
			}
		}
		fclose(f);
	}
	mc->ncpus = nvb_ncpus();
	if (uname(&u) == 0)
		snprintf(mc->kernel, sizeof(mc->kernel), "%.20s %.60s %.20s",
			 u.sysname, u.release, u.machine);
	snprintf(mc->nvmsg, sizeof(mc->nvmsg), "%s", nvmsg_version());
	mc->load1_start = nvb_load1();
	strftime(mc->started, sizeof(mc->started), "%Y-%m-%d %H:%M:%S UTC",
		 gmtime(&now));
	first_line("redis-server --version 2>/dev/null", v, sizeof(v));
	size_t k = (size_t)snprintf(mc->peers, sizeof(mc->peers), "%s",
				    v[0] ? v : "redis-server missing");
	first_line("PATH=$PATH:/usr/sbin nats-server --version 2>/dev/null", v,
		   sizeof(v));
	if (k < sizeof(mc->peers))
		k += (size_t)snprintf(mc->peers + k, sizeof(mc->peers) - k,
				      "; %s", v[0] ? v : "nats-server missing");
	first_line("dpkg-query -W -f='${Package} ${Version}, ' libzmq5 "
		   "libhiredis0.14 libnats3.4 2>/dev/null | sed 's/, $//'",
		   v, sizeof(v));
	if (k < sizeof(mc->peers) && v[0])
		snprintf(mc->peers + k, sizeof(mc->peers) - k, "; %s", v);
}
