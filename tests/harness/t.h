/* SPDX-License-Identifier: MIT */
/*
 * t.h -- the test harness: assertions that print both sides, temp dirs,
 * exit codes 0 pass / 1 fail / 77 skip (as liburing's test/helpers.h).
 */
#ifndef NV_T_H
#define NV_T_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmsg.h"

#define T_PASS 0
#define T_FAIL 1
#define T_SKIP 77

#define T_FAILF(...)                                                        \
	do {                                                                \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);             \
		fprintf(stderr, __VA_ARGS__);                               \
		fprintf(stderr, "\n");                                      \
		exit(T_FAIL);                                               \
	} while (0)

#define ASSERT_TRUE(c)                                                      \
	do {                                                                \
		if (!(c))                                                   \
			T_FAILF("ASSERT_TRUE(%s) failed (last error: %s)",   \
				#c, nvmsg_errmsg());                        \
	} while (0)

#define ASSERT_EQ(a, b)                                                     \
	do {                                                                \
		long long _a = (long long)(a), _b = (long long)(b);         \
		if (_a != _b)                                               \
			T_FAILF("ASSERT_EQ(%s, %s): %lld != %lld (%s)", #a,  \
				#b, _a, _b, nvmsg_errmsg());                \
	} while (0)

#define ASSERT_OK(e)                                                        \
	do {                                                                \
		long long _r = (long long)(e);                              \
		if (_r < 0)                                                 \
			T_FAILF("%s = %lld (%s): %s", #e, _r,               \
				nvmsg_strerror((int)_r), nvmsg_errmsg());   \
	} while (0)

/* t_tmpdir -- a fresh directory under /dev/shm (or $TMPDIR for msync);
 * removed at exit by t_cleanup() registered with atexit */
static char t_dir_buf[256];
static pid_t t_dir_owner;

static inline void
t_cleanup(void)
{
	char cmd[300];

	if (t_dir_buf[0] && getpid() == t_dir_owner) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t_dir_buf);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", t_dir_buf);
	}
}

static inline const char *
t_tmpdir_in(const char *base)
{
	snprintf(t_dir_buf, sizeof(t_dir_buf), "%s/nvmsg-test-XXXXXX", base);
	if (!mkdtemp(t_dir_buf))
		T_FAILF("mkdtemp %s: %s", t_dir_buf, strerror(errno));
	t_dir_owner = getpid();
	atexit(t_cleanup);
	return t_dir_buf;
}

static inline const char *
t_tmpdir(void)
{
	return t_tmpdir_in("/dev/shm");
}

/* t_create -- create a channel with the usual small geometry */
static inline void
t_create(const char *dir, const char *name, int tier, uint64_t cap,
	 unsigned np, unsigned nc)
{
	struct nvmsg_channel_opts o = {
		.tier = tier,
		.capacity_bytes = cap,
		.max_producers = np,
		.max_consumers = nc,
		.mode = 0644,
	};
	ASSERT_OK(nvmsg_channel_create(dir, name, &o));
}

#endif
