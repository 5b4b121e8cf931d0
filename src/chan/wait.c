/* SPDX-License-Identifier: MIT */
/*
 * wait.c -- futex waits on words in the shared mapping, and deadlines.
 *
 * The futexes are shared (no FUTEX_PRIVATE_FLAG): the word lives in a
 * MAP_SHARED file mapping and waiters and wakers are different processes.
 * Waiting needs only read access, so a producer can wait on a consumer's
 * ack word that it maps read-only.  Waits are sliced (callers pass at most
 * a few ms) so that a wake lost to the unfenced check on the hot path
 * costs one slice, never a hang (docs/CONCURRENCY.md).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../base/clock.h"
#include "chan.h"

int
nv_futex_wait(nv_a32 *word, uint32_t expect, uint64_t timeout_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000ull),
		.tv_nsec = (long)(timeout_ns % 1000000000ull),
	};
	long rc = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expect, &ts,
			  NULL, 0);
	return rc == 0 ? 0 : -errno;
}

void
nv_futex_wake(nv_a32 *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL,
		0);
}

uint64_t
nv_deadline(int64_t timeout_ns)
{
	if (timeout_ns < 0)
		return UINT64_MAX;
	return nv_now_ns() + (uint64_t)timeout_ns;
}

uint64_t
nv_wait_slice(uint64_t deadline, uint64_t max_slice)
{
	uint64_t now;

	if (deadline == UINT64_MAX)
		return max_slice;
	now = nv_now_ns();
	if (now >= deadline)
		return 0;
	return deadline - now < max_slice ? deadline - now : max_slice;
}
