/* SPDX-License-Identifier: MIT */
/*
 * owners.c -- is the process that owns a slot still alive?
 *
 * A pid alone is reused by the kernel; the pair (pid, start time in clock
 * ticks since boot, field 22 of /proc/PID/stat) names one process for one
 * boot.  After a reboot (a power failure) a new process may have the same
 * pair, so the owner word also carries 16 bits of a hash of the kernel's
 * boot_id.  A slot whose triple no longer matches a running process is
 * dead: detected, not guessed by a timeout.
 *
 * Owner word: boot16 << 48 | (start & 0x3ffffff) << 22 | pid (pid_max is
 * at most 2^22).  One CAS installs it, so no reader sees a pid paired
 * with another process's start time.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/checksum.h"
#include "chan.h"

uint64_t nv_boot_salt; /* tests: a different value models a reboot */
_Atomic unsigned nv_fork_generation;

static void
forked_child(void)
{
	atomic_fetch_add_explicit(&nv_fork_generation, 1, memory_order_relaxed);
}

static void
install_fork_handler(void)
{
	(void)pthread_atfork(NULL, NULL, forked_child);
}

void
nv_fork_watch(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, install_fork_handler);
}

static uint64_t proc_stat(pid_t pid, char *state);

static uint64_t
boot16(void)
{
	static _Atomic uint64_t cached; /* 0: not read yet */
	uint64_t b = atomic_load_explicit(&cached, memory_order_relaxed);

	if (!b) {
		char id[64] = "";
		int fd = open("/proc/sys/kernel/random/boot_id",
			      O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, id, sizeof(id) - 1);
			id[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		b = (nv_checksum(id, strlen(id), 0x6e766d7367ull) & 0xffff) |
		    0x10000; /* bit 16 marks "read" */
		atomic_store_explicit(&cached, b, memory_order_relaxed);
	}
	return ((b ^ nv_boot_salt) & 0xffff);
}

uint64_t
nv_owner_self(void)
{
	pid_t pid = getpid();

	return boot16() << 48 | (nv_proc_start(pid) & 0x3ffffffull) << 22 |
	       ((uint64_t)pid & 0x3fffffull);
}

int
nv_owner_alive(uint64_t w)
{
	pid_t pid = (pid_t)(w & 0x3fffffull);
	uint64_t start;
	char state = '?';

	if (w == 0 || w >> 48 != boot16())
		return 0;
	start = proc_stat(pid, &state);
	if (start == 0)
		return nv_proc_alive(pid, 0);
	/* killed but not yet reaped: it will never write again */
	if (state == 'Z' || state == 'X')
		return 0;
	return (start & 0x3ffffffull) == ((w >> 22) & 0x3ffffffull);
}

pid_t
nv_owner_pid(uint64_t w)
{
	return (pid_t)(w & 0x3fffffull);
}

/* proc_stat -- state (field 3) and start time (field 22) of PID; 0 if
 * it cannot be read */
static uint64_t
proc_stat(pid_t pid, char *state)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and ')': skip to the last ')' */
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	*state = p[2];
	/* ")" ends field 2; after iteration k, p is the space before
	 * field k + 1, so the loop stops before field 22 (starttime) */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	return strtoull(p + 1, NULL, 10);
}

uint64_t
nv_proc_start(pid_t pid)
{
	char state;

	return proc_stat(pid, &state);
}

int
nv_proc_alive(pid_t pid, uint64_t start)
{
	if (pid <= 0)
		return 0;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	uint64_t now = nv_proc_start(pid);
	if (now == 0)
		return kill(pid, 0) == 0 || errno == EPERM;
	return now == start;
}
