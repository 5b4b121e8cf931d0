/* SPDX-License-Identifier: MIT */
/*
 * clock.h -- monotonic and wall clocks in nanoseconds.
 */
#ifndef NV_CLOCK_H
#define NV_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
nv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
nv_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
