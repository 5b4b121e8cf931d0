/* SPDX-License-Identifier: MIT */
/*
 * owners.c -- is the process that owns a slot still alive?
 *
 * A pid alone is reused by the kernel; the pair (pid, start time in clock
 * ticks since boot, field 22 of /proc/PID/stat) names one process for the
 * life of the machine.  A slot whose pair no longer matches a running
 * process is dead: detected, not guessed by a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"

uint64_t
nv_proc_start(pid_t pid)
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
	if (!p)
		return 0;
	p++;
	/* after ')' come fields 3..; starttime is field 22 */
	for (int field = 2; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	if (!p)
		return 0;
	return strtoull(p + 1, NULL, 10);
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
