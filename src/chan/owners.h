/* SPDX-License-Identifier: MIT */
/*
 * owners.h -- is the process that owns a slot alive (owners.c), and which
 * fork() generation opened a handle.
 */
#ifndef NV_OWNERS_H
#define NV_OWNERS_H

#include <stdint.h>
#include <sys/types.h>

#include "../base/atomic.h"

uint64_t nv_proc_start(pid_t pid);
int nv_proc_alive(pid_t pid, uint64_t start);
/* nv_owner_self -- this process's owner word (boot, start time, pid) */
uint64_t nv_owner_self(void);
/* nv_owner_alive -- does owner word W name a process running now? */
int nv_owner_alive(uint64_t w);
pid_t nv_owner_pid(uint64_t w);
/* tests only: XORed into the boot hash; changing it models a reboot */
extern uint64_t nv_boot_salt;
/* fork generation: a child's handlers increment it, so a handle opened
 * before fork() (whose slot or cursor is the parent's) sees another
 * value.  nv_fork_watch() installs the handler (once); open calls it */
extern _Atomic unsigned nv_fork_generation;
void nv_fork_watch(void);
static inline unsigned
nv_fork_gen(void)
{
	/* relaxed: only this process's own atfork handler writes it, before
	 * fork() returns in the child */
	return atomic_load_explicit(&nv_fork_generation, memory_order_relaxed);
}

#endif
