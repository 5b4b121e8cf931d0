/* SPDX-License-Identifier: MIT */
/*
 * probe.c -- what the machine allows, measured without any library:
 *
 *   floor    one cache line bounced between CPU 0 and CPU 1: the pinger
 *            stores an odd number, the ponger answers with the next even
 *            one.  One-way = round trip / 2, with the same two clock reads
 *            per round trip as the ping-pong driver, so the two compare.
 *   barrier  one persist barrier as the emulated tier pays it: a store to
 *            a line of a DRAM file mapping, pmem_flush (clwb or
 *            clflushopt, as libpmem picks) and pmem_drain (sfence).
 *   memcpy   single-core copy of messages into a 1 MiB ring: the
 *            bandwidth a 4 KiB message path is compared with.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct line {
	_Alignas(64) atomic_uint_fast64_t word;
	char pad[64 - sizeof(atomic_uint_fast64_t)];
};

struct floor_shared {
	struct nvb_gate gate;
	_Alignas(128) struct line ball; /* the bounced line, alone */
	_Alignas(128) uint64_t n;
	uint64_t count;
	uint32_t samples[];
};

static int
floor_ping(void *arg)
{
	struct floor_shared *sh = arg;
	uint64_t warm = sh->count / 10, k = 0;

	if (nvb_gate_arrive(&sh->gate) < 0)
		return -1;
	for (uint64_t i = 0; i < sh->count + warm; i++) {
		uint64_t v = 2 * i + 1;
		uint64_t t0 = nvb_now_ns();
		atomic_store_explicit(&sh->ball.word, v, memory_order_release);
		while (atomic_load_explicit(&sh->ball.word,
					    memory_order_acquire) != v + 1)
			nvb_relax();
		uint64_t t1 = nvb_now_ns();
		if (i >= warm) {
			uint64_t ow = (t1 - t0) / 2;
			sh->samples[k++] = ow > UINT32_MAX ? UINT32_MAX
							   : (uint32_t)ow;
		}
	}
	atomic_store_explicit(&sh->ball.word, UINT64_MAX, memory_order_release);
	sh->n = k;
	return 0;
}

static int
floor_pong(void *arg)
{
	struct floor_shared *sh = arg;
	uint64_t last = 0;

	if (nvb_gate_arrive(&sh->gate) < 0)
		return -1;
	for (;;) {
		uint64_t v = atomic_load_explicit(&sh->ball.word,
						  memory_order_acquire);
		if (v == UINT64_MAX)
			return 0;
		if ((v & 1) && v != last) {
			last = v;
			atomic_store_explicit(&sh->ball.word, v + 1,
					      memory_order_release);
		} else {
			nvb_relax();
		}
	}
}

int
nvb_probe_floor(uint64_t count, struct nvb_result *r)
{
	size_t len = sizeof(struct floor_shared) + count * sizeof(uint32_t);
	struct floor_shared *sh = nvb_shm(len);
	pid_t pids[2];

	if (!sh)
		return -ENOMEM;
	sh->count = count;
	pids[0] = nvb_fork(0, floor_ping, sh);
	pids[1] = nvb_fork(1, floor_pong, sh);
	while (atomic_load(&sh->gate.arrived) < 2 &&
	       !atomic_load(&sh->gate.failed))
		usleep(100);
	atomic_store(&sh->gate.go, 1);
	int rc = nvb_wait_all(pids, 2, 60);
	if (rc == 0 && sh->n > 0)
		nvb_summarise(sh->samples, sh->n, r);
	else
		rc = -1;
	nvb_shm_free(sh, len);
	return rc;
}

int
nvb_probe_barrier(const char *dir, double seconds, struct nvb_result *r)
{
	char path[512];
	const size_t len = 1 << 20, lines = 256, chunk = 1000;
	uint32_t *per = calloc(100000, sizeof(*per));
	uint64_t nper = 0;

	snprintf(path, sizeof(path), "%s/barrier", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0 || !per) {
		fprintf(stderr, "bench barrier: %s: %s\n", path,
			strerror(errno));
		free(per);
		return -1;
	}
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		free(per);
		return -1;
	}
	nvb_pin(0);
	uint64_t end = nvb_now_ns() + (uint64_t)(seconds * 1e9), i = 0;
	while (nper < 100000) {
		uint64_t t0 = nvb_now_ns();
		for (size_t k = 0; k < chunk; k++, i++) {
			unsigned char *l = m + (i % lines) * 64;
			((volatile uint64_t *)l)[0] = i;
			pmem_flush(l, 64);
			pmem_drain();
		}
		uint64_t t1 = nvb_now_ns();
		per[nper++] = (uint32_t)((t1 - t0) / chunk);
		if (t1 >= end && nper >= 10)
			break;
	}
	nvb_summarise(per, nper, r);
	snprintf(r->note, sizeof(r->note),
		 "store + pmem_flush + pmem_drain on a DRAM file; %s",
		 pmem_has_hw_drain() ? "hw drain" : "sfence");
	munmap(m, len);
	unlink(path);
	free(per);
	return 0;
}

int
nvb_probe_memcpy(size_t size, double seconds, struct nvb_result *r)
{
	const size_t ring = 1 << 20;
	unsigned char *dst = aligned_alloc(4096, ring);
	unsigned char *src = aligned_alloc(4096, (size + 8191) & ~(size_t)4095);

	if (!dst || !src)
		return -ENOMEM;
	memset(dst, 1, ring);
	memset(src, 2, size);
	nvb_pin(0);
	uint64_t t0 = nvb_now_ns(), t1, n = 0, end;
	end = t0 + (uint64_t)(seconds * 1e9);
	size_t off = 0;
	do {
		for (int k = 0; k < 256; k++, n++) {
			memcpy(dst + off, src, size);
			off += size;
			if (off + size > ring)
				off = 0;
		}
		__asm__ volatile("" ::: "memory");
		t1 = nvb_now_ns();
	} while (t1 < end);
	r->msgs = n;
	r->msgs_per_s = (double)n * 1e9 / (double)(t1 - t0);
	r->mb_per_s = r->msgs_per_s * (double)size / 1e6;
	snprintf(r->note, sizeof(r->note), "one core, into a 1 MiB ring");
	free(dst);
	free(src);
	return 0;
}
