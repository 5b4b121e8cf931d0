/* SPDX-License-Identifier: MIT */
/*
 * t.h -- the test harness: assertions that print both sides, temp dirs,
 * fork and exec helpers, exit codes 0 pass / 1 fail / 77 skip (as
 * liburing's test/helpers.h).
 *
 * Every helper is static inline so that each test is one self-contained
 * program.  Assertions exit the process that fails them: in a forked child
 * that is the child (the parent sees its exit status), so a child reports
 * with its exit code and never returns into the parent's code.
 *
 * The libc-only helpers (the splitmix64 generator, t_get64/t_put64,
 * t_now_ns) live in t_util.h, included here.
 */
#ifndef NV_T_H
#define NV_T_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvmsg.h"
#include "t_util.h"

#define T_PASS 0
#define T_FAIL 1
#define T_SKIP 77

#define T_FAILF(...)                                                           \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		exit(T_FAIL);                                                  \
	} while (0)

/* a skip is for a developer's machine that lacks a part; in CI (.ci/run
 * exports NVMSG_CI=1) a test that cannot run fails loudly */
#define T_SKIPF(...)                                                           \
	do {                                                                   \
		int _ci = getenv("NVMSG_CI") != NULL;                          \
		fprintf(stderr, _ci ? "FAIL (cannot run in CI): " : "skip: "); \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		exit(_ci ? T_FAIL : T_SKIP);                                   \
	} while (0)

#define ASSERT_TRUE(c)                                                         \
	do {                                                                   \
		if (!(c))                                                      \
			T_FAILF("ASSERT_TRUE(%s) failed (last error: %s)", #c, \
				nvmsg_errmsg());                               \
	} while (0)

#define ASSERT_EQ(a, b)                                                        \
	do {                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);            \
		if (_a != _b)                                                  \
			T_FAILF("ASSERT_EQ(%s, %s): %lld != %lld (%s)", #a,    \
				#b, _a, _b, nvmsg_errmsg());                   \
	} while (0)

#define ASSERT_NE(a, b)                                                        \
	do {                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);            \
		if (_a == _b)                                                  \
			T_FAILF("ASSERT_NE(%s, %s): both %lld (%s)", #a, #b,   \
				_a, nvmsg_errmsg());                           \
	} while (0)

/* ASSERT_U64_EQ -- for values that do not fit a long long */
#define ASSERT_U64_EQ(a, b)                                                    \
	do {                                                                   \
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);               \
		if (_a != _b)                                                  \
			T_FAILF("ASSERT_U64_EQ(%s, %s): %#" PRIx64             \
				" != %#" PRIx64,                               \
				#a, #b, _a, _b);                               \
	} while (0)

#define ASSERT_OK(e)                                                           \
	do {                                                                   \
		long long _r = (long long)(e);                                 \
		if (_r < 0)                                                    \
			T_FAILF("%s = %lld (%s): %s", #e, _r,                  \
				nvmsg_strerror((int)_r), nvmsg_errmsg());      \
	} while (0)

/* ASSERT_ERR -- E returns exactly CODE; both are named on failure */
#define ASSERT_ERR(e, code)                                                    \
	do {                                                                   \
		int _r = (int)(e), _c = (int)(code);                           \
		if (_r != _c)                                                  \
			T_FAILF("%s = %d (%s), want %s = %d (%s); "            \
				"errmsg: %s",                                  \
				#e, _r, nvmsg_strerror(_r), #code, _c,         \
				nvmsg_strerror(_c), nvmsg_errmsg());           \
	} while (0)

/* ASSERT_CONTAINS -- string S holds SUB (case-sensitive) */
#define ASSERT_CONTAINS(s, sub)                                                \
	do {                                                                   \
		const char *_s = (s), *_sub = (sub);                           \
		if (!_s || !strstr(_s, _sub))                                  \
			T_FAILF("%s does not contain \"%s\": \"%s\"", #s,      \
				_sub, _s ? _s : "(null)");                     \
	} while (0)

/* t_tmpdir -- a fresh directory under /dev/shm (or BASE); every directory
 * made by this process is removed at exit by t_cleanup() (atexit), and
 * only by the process that made it (not by forked children) */
#define T_MAX_DIRS 16
static char t_dirs[T_MAX_DIRS][256];
static unsigned t_ndirs;
static pid_t t_dir_owner;

static inline void
t_cleanup(void)
{
	char cmd[300];

	if (getpid() != t_dir_owner)
		return;
	for (unsigned i = 0; i < t_ndirs; i++) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t_dirs[i]);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", t_dirs[i]);
	}
	t_ndirs = 0;
}

static inline const char *
t_tmpdir_in(const char *base)
{
	char *d;

	if (t_ndirs == T_MAX_DIRS)
		T_FAILF("more than %d temp dirs", T_MAX_DIRS);
	d = t_dirs[t_ndirs];
	snprintf(d, sizeof(t_dirs[0]), "%s/nvmsg-test-XXXXXX", base);
	if (!mkdtemp(d))
		T_FAILF("mkdtemp %s: %s", d, strerror(errno));
	if (t_ndirs++ == 0) {
		t_dir_owner = getpid();
		atexit(t_cleanup);
	}
	return d;
}

static inline const char *
t_tmpdir(void)
{
	return t_tmpdir_in("/dev/shm");
}

/* t_create -- create a channel with the usual small geometry */
static inline void
t_create(const char *dir, const char *name, int tier, uint64_t cap, unsigned np,
	 unsigned nc)
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

/* t_path -- "DIR/FILE" in a static buffer of four rotating slots */
static inline const char *
t_path(const char *dir, const char *file)
{
	static char buf[4][512];
	static unsigned n;
	char *p = buf[n++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, file);
	return p;
}

/* t_count_entries -- names in DIR other than "." and "..", -1 on error */
static inline int
t_count_entries(const char *dir)
{
	char cmd[600];
	FILE *f;
	int n = 0, ch;

	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	return pclose(f) == 0 ? n : -1;
}

/* t_env_u64 -- the number in environment variable NAME, or DEF */
static inline uint64_t
t_env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	v = strtoull(s, &end, 10);
	if (*end || v == 0)
		T_FAILF("%s=%s: want a positive integer", name, s);
	return v;
}

/* t_sanitized -- 1 when built with AddressSanitizer (slower, own SIGSEGV
 * handler) */
static inline int
t_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#else
	return 0;
#endif
#else
	return 0;
#endif
}

/* t_watchdog -- fail (never hang) if the process runs past SECONDS */
static inline void
t_watchdog_fire(int sig)
{
	static const char msg[] = "watchdog: test ran past its limit\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	_exit(T_FAIL);
}

static inline void
t_watchdog(unsigned seconds)
{
	signal(SIGALRM, t_watchdog_fire);
	alarm(seconds);
}

/* t_no_core -- a child that is meant to crash leaves no core file */
static inline void
t_no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
}

/* t_wait -- waitpid PID (retrying EINTR) and return its status */
static inline int
t_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			T_FAILF("waitpid %d: %s", (int)pid, strerror(errno));
	}
	return st;
}

/* t_status_str -- "exit 3", "signal 9 (Killed)" */
static inline const char *
t_status_str(int st)
{
	static char buf[64];

	if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, sizeof(buf), "status %#x", st);
	return buf;
}

/* ASSERT_EXIT -- child PID exits with CODE */
#define ASSERT_EXIT(pid, code)                                                 \
	do {                                                                   \
		int _st = t_wait(pid);                                         \
		if (!WIFEXITED(_st) || WEXITSTATUS(_st) != (code))             \
			T_FAILF("child %d: %s, want exit %d", (int)(pid),      \
				t_status_str(_st), (code));                    \
	} while (0)

#endif
