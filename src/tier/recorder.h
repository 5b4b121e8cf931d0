/* SPDX-License-Identifier: MIT */
/*
 * recorder.h -- simulated power failure (test builds only).
 *
 * The recorder keeps two images of every non-volatile region mapped while
 * it runs: the cache (the live file, what programs see) and the media
 * (what is durable).  A flush snapshots the flushed bytes; a drain copies
 * every pending snapshot to media (a store fence orders all earlier
 * flushes of the thread).  At a crash the cache is lost, except that any
 * aligned 8-byte word that differs between cache and media may or may not
 * have reached media (cache eviction), chosen per word by a seeded
 * generator: a store wider than 8 bytes can tear.
 *
 * Single-threaded use only: the crash test drives every producer and
 * consumer from one thread with a seeded schedule.
 */
#ifndef NV_RECORDER_H
#define NV_RECORDER_H

#include <stdint.h>

#include "tier.h"

/* called at every drain, before it takes effect; POINT counts from 1 */
typedef void (*nv_recorder_fn)(uint64_t point, enum nv_pp pp, void *arg);

void nv_recorder_start(nv_recorder_fn fn, void *arg);
void nv_recorder_stop(void);
/* paused: hooks ignore maps, flushes and drains (the checker's own I/O) */
void nv_recorder_pause(int paused);
uint64_t nv_recorder_points(void);

/* eviction modes for nv_recorder_image */
#define NV_EVICT_NONE 0	  /* media only */
#define NV_EVICT_ALL 1	  /* every dirty word reached media */
#define NV_EVICT_RANDOM 2 /* each dirty word with probability 1/2 */

/*
 * nv_recorder_image -- write the crash image of every recorded region into
 * DIR under its file name.  Returns the number of dirty words considered,
 * or -errno.
 */
long nv_recorder_image(const char *dir, int mode, uint64_t seed);

/*
 * nv_recorder_durable -- the live I2 check: is every byte of
 * [addr, addr+len) of a recorded mapping equal on media and in cache?
 * 1 yes, 0 no, -ENOENT not a recorded mapping.
 */
int nv_recorder_durable(const void *addr, uint64_t len);

/* nv_recorder_media_ptr -- the media image of recorded file NAME
 * (basename); -ENOENT if unknown */
int nv_recorder_media_ptr(const char *name, const unsigned char **media,
			  uint64_t *len);

#endif
