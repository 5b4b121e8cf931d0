/* SPDX-License-Identifier: MIT */
/*
 * wait.h -- waiting without spinning forever (wait.c): futex on a word in
 * the shared mapping, bounded slices, and the spin and slice constants of
 * every waiter, each with the reason for its value.
 */
#ifndef NV_WAIT_H
#define NV_WAIT_H

#include <stdint.h>

#include "../base/atomic.h"

/* a consumer spins this many polls before it sleeps: a message is usually
 * a few hundred ns away, and 4096 pause-polls are about 100-200 us */
#define NV_CONSUMER_SPINS 4096u
/* a producer on a full ring spins this many pauses before it sleeps:
 * space comes back only with a consumer's ack barrier (micro- to
 * milliseconds), so spinning long gains nothing */
#define NV_PRODUCER_SPINS 256u
/* the longest sleep of one slice: a waiter re-checks at least this often,
 * so a wake it missed (it set its waiting flag just after the waker looked)
 * costs at most this much */
#define NV_WAIT_SLICE_NS 2000000ull
/* group commit: a leader waits up to this long for the producers the last
 * group released to come back (a futex wake costs about 20 us here) */
#define NV_GROUP_GATHER_NS 50000ull
/* group commit: a follower sleeps at most this long before it checks that
 * the leader is alive (a dead leader's lock is taken over) */
#define NV_GROUP_FOLLOW_NS 50000000ull

int nv_futex_wait(nv_a32 *word, uint32_t expect, uint64_t timeout_ns);
void nv_futex_wake(nv_a32 *word);
static inline void
nv_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}
/* deadline helpers: timeout < 0 forever, 0 none */
uint64_t nv_deadline(int64_t timeout_ns);
/* nv_wait_slice -- ns to sleep now, or 0 when the deadline passed */
uint64_t nv_wait_slice(uint64_t deadline, uint64_t max_slice);

#endif
