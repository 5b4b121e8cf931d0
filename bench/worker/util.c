/* SPDX-License-Identifier: MIT */
/*
 * util.c -- time, pinning, shared memory, the start gate, children,
 * latency summaries and the servers' lifecycle.
 *
 * Servers (redis-server, nats-server) are children of the case process and
 * die with it (PR_SET_PDEATHSIG); their pids are also written to DIR/pids
 * so that the harness can stop them by pid when it had to kill the case
 * process itself.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const double nvb_quantiles[NVB_NQ] = { 0,	0.25,	  0.5,	     0.75,
				       0.9,	0.99,	  0.999,     0.9999,
				       0.99999, 0.999999, 0.9999999, 1 };

uint64_t
nvb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
nvb_ncpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set);
}

int
nvb_pin(int cpu)
{
	cpu_set_t allowed, set;
	int n, k = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return -errno;
	n = CPU_COUNT(&allowed);
	if (n <= 0)
		return -EINVAL;
	cpu %= n;
	/* the CPU-th allowed CPU */
	for (int i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &allowed))
			continue;
		if (k++ == cpu) {
			CPU_ZERO(&set);
			CPU_SET(i, &set);
			if (sched_setaffinity(0, sizeof(set), &set) != 0)
				return -errno;
			return 0;
		}
	}
	return -EINVAL;
}

void *
nvb_shm(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void
nvb_shm_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

int
nvb_gate_arrive(struct nvb_gate *g)
{
	atomic_fetch_add(&g->arrived, 1);
	for (unsigned spin = 0; !atomic_load(&g->go); spin++) {
		if (atomic_load(&g->failed))
			return -1;
		if (spin & 63)
			nvb_relax();
		else
			sched_yield(); /* more processes than CPUs at start */
	}
	return atomic_load(&g->failed) ? -1 : 0;
}

void
nvb_gate_fail(struct nvb_gate *g)
{
	atomic_store(&g->failed, 1);
}

pid_t
nvb_fork(int cpu, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	nvb_pin(cpu);
	fflush(NULL);
	_exit(fn(arg) == 0 ? 0 : 1);
}

int
nvb_wait_all(pid_t *pids, int n, double timeout_s)
{
	uint64_t deadline = nvb_now_ns() + (uint64_t)(timeout_s * 1e9);
	int left = n, bad = 0;

	while (left > 0) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG);
		if (w > 0) {
			for (int i = 0; i < n; i++) {
				if (pids[i] != w)
					continue;
				pids[i] = 0;
				left--;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					bad = 1;
			}
			continue;
		}
		if (w < 0 && errno == ECHILD)
			break;
		if (nvb_now_ns() > deadline) {
			fprintf(stderr,
				"bench: %d process(es) still running "
				"after %.0f s: killed\n",
				left, timeout_s);
			for (int i = 0; i < n; i++)
				if (pids[i] > 0) {
					kill(pids[i], SIGKILL);
					waitpid(pids[i], NULL, 0);
					pids[i] = 0;
				}
			return -1;
		}
		usleep(1000);
	}
	return bad ? -1 : 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double
at(const uint32_t *s, uint64_t n, double q)
{
	uint64_t i;

	if (n == 0)
		return 0;
	if (q >= 1)
		return s[n - 1];
	i = (uint64_t)(q * (double)n);
	return s[i < n ? i : n - 1];
}

void
nvb_summarise_rel(uint32_t *ns, uint64_t n, struct nvb_result *r)
{
	qsort(ns, n, sizeof(*ns), cmp_u32);
	r->rn = n;
	r->rp50 = at(ns, n, 0.5);
	r->rp99 = at(ns, n, 0.99);
	r->rp999 = at(ns, n, 0.999);
	r->rmax = at(ns, n, 1);
}

void
nvb_summarise(uint32_t *ns, uint64_t n, struct nvb_result *r)
{
	qsort(ns, n, sizeof(*ns), cmp_u32);
	r->n = n;
	r->p50 = at(ns, n, 0.5);
	r->p99 = at(ns, n, 0.99);
	r->p999 = at(ns, n, 0.999);
	r->max = at(ns, n, 1);
	for (int i = 0; i < NVB_NQ; i++)
		r->q[i] = at(ns, n, nvb_quantiles[i]);
}

void
nvb_record_pid(const char *dir, pid_t pid, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pids", dir);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%d %s\n", (int)pid, name);
	fclose(f);
}

pid_t
nvb_spawn(const char *dir, char *const argv[], const char *log)
{
	return nvb_spawn_on(dir, argv, log, -1, 0);
}

pid_t
nvb_spawn_on(const char *dir, char *const argv[], const char *log, int cpu,
	     int nice)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0) {
			dup2(nul, 0);
			close(nul);
		}
		/* servers float: with 2 CPUs, pinning them to either one
		 * would favour one side of the exchange */
		cpu_set_t all;
		CPU_ZERO(&all);
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &all);
		sched_setaffinity(0, sizeof(all), &all);
		if (cpu >= 0)
			nvb_pin(cpu);
		if (nice == NVB_SCHED_IDLE) {
			struct sched_param sp = { 0 };
			sched_setscheduler(0, SCHED_IDLE, &sp);
		} else if (nice) {
			setpriority(PRIO_PROCESS, 0, nice);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	const char *base = strrchr(argv[0], '/');
	nvb_record_pid(dir, pid, base ? base + 1 : argv[0]);
	return pid;
}

void
nvb_stop(pid_t pid, int ours)
{
	if (pid <= 0)
		return;
	if (kill(pid, SIGTERM) != 0)
		return;
	for (int i = 0; i < 300; i++) {
		if (ours) {
			if (waitpid(pid, NULL, WNOHANG) == pid)
				return;
		} else if (kill(pid, 0) != 0) {
			return;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	if (ours)
		waitpid(pid, NULL, 0);
}

int
nvb_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (void *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (void *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int
nvb_wait_port(int port, double timeout_s)
{
	uint64_t deadline = nvb_now_ns() + (uint64_t)(timeout_s * 1e9);

	do {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)port) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd >= 0 && connect(fd, (void *)&a, sizeof(a)) == 0) {
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		usleep(10000);
	} while (nvb_now_ns() < deadline);
	return -ETIMEDOUT;
}

int
nvb_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[1024];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (access(buf, X_OK) == 0)
			return 1;
		path += n;
		if (*path == ':')
			path++;
	}
	/* daemons live in sbin, which a user's PATH may lack */
	snprintf(buf, sizeof(buf), "/usr/sbin/%s", name);
	return access(buf, X_OK) == 0;
}
