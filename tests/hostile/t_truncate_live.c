/* SPDX-License-Identifier: MIT */
/*
 * t_truncate_live.c -- a channel file changed under a running process:
 * what happens TODAY (docs/TESTING.md, "Hostile input").
 *
 * The library validates the file size when it opens a channel and maps
 * exactly that size; it does not watch the file afterwards.  Another
 * process with write access to the file can still:
 *
 *   1. truncate it under an open consumer: the next access to a page past
 *      the new end raises SIGBUS in the consumer (the classic trap of
 *      mapped files).  Today that kills the consumer; the test asserts
 *      that it dies of SIGBUS (or, should the library learn to catch it,
 *      that nvmsg_view returns NVMSG_E_CORRUPT naming the file) and
 *      never reads garbage or hangs.  Same for an open producer's send.
 *   2. truncate and re-extend it (a rewrite: the pages read zeros): no
 *      signal; the consumer's next view fails the record's position
 *      check, NVMSG_E_CORRUPT naming the file.
 *   3. rewrite payload bytes in place: with NVMSG_CONSUMER_VERIFY the
 *      view fails its checksum (NVMSG_E_CORRUPT); without it the
 *      consumer gets the rewritten bytes, which nothing can tell from a
 *      message (a writer of the file can always forge data).
 *
 * Each scenario runs in a forked child so that its SIGBUS is observed,
 * not suffered.  Under ASan the child's own SIGBUS handler may be
 * overridden by the sanitizer's, which then reports the bus error and
 * aborts: that is accepted as the same outcome.
 */
#include <fcntl.h>
#include <setjmp.h>

#include "t.h"

#define RING 4096u
#define CHAN "live"
#define DIED_OF_SIGBUS 42 /* the child's exit code from its handler */

static const char *dir;
static char data_path[512];

static void
on_sigbus(int sig)
{
	static const char msg[] = "child: SIGBUS\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	_exit(DIED_OF_SIGBUS);
}

/* setup -- a fresh channel with consumer "c" and 6 messages on slot 0 */
static void
setup(void)
{
	struct nvmsg_consumer *c;
	struct nvmsg_producer *p;

	nvmsg_channel_unlink(dir, CHAN);
	t_create(dir, CHAN, NVMSG_TIER_VOLATILE, RING, 2, 1);
	ASSERT_OK(
		nvmsg_consumer_open(dir, CHAN, "c", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_producer_open(dir, CHAN, 0, &p));
	for (int i = 0; i < 6; i++)
		ASSERT_OK(nvmsg_send(p, "live message", 12, 0, 0));
	nvmsg_producer_close(&p);
}

enum change { TRUNCATE, REWRITE_ZERO, REWRITE_PAYLOAD };

/* change_file -- what another process does to the file */
static void
change_file(enum change what, uint64_t payload_off)
{
	int fd = open(data_path, O_RDWR);
	struct stat st;

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(fstat(fd, &st));
	switch (what) {
	case TRUNCATE: /* the header page only */
		ASSERT_OK(ftruncate(fd, 4096));
		break;
	case REWRITE_ZERO: /* truncate and extend: every byte reads 0 */
		ASSERT_OK(ftruncate(fd, 0));
		ASSERT_OK(ftruncate(fd, st.st_size));
		break;
	case REWRITE_PAYLOAD:
		ASSERT_EQ(pwrite(fd, "FORGED", 6, (off_t)payload_off), 6);
		break;
	}
	close(fd);
}

/* consumer_child -- open, view one message, let the parent change the
 * file, view again; exit 0 if that view returned NVMSG_E_CORRUPT naming
 * the file, 3 if it returned a message whose bytes start with "FORGED",
 * 4 if it returned the original bytes, 1 otherwise */
static int
consumer_child(enum change what, int flags)
{
	int go[2], ready[2];
	pid_t pid;
	char b;

	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(ready));
	pid = fork();
	if (pid < 0)
		T_FAILF("fork: %s", strerror(errno));
	if (pid == 0) {
		struct nvmsg_consumer *c;
		struct nvmsg_view v;
		signal(SIGBUS, on_sigbus);
		t_no_core();
		alarm(20);
		ASSERT_OK(nvmsg_consumer_open(dir, CHAN, "c", flags, &c));
		ASSERT_OK(nvmsg_view(c, &v, 0));
		ASSERT_OK(nvmsg_ack(c));
		/* from here on no assertion: an exit code says what the
		 * view did (1 is the sanitizer's, see sigbus_or_corrupt) */
		ASSERT_EQ(write(ready[1], "r", 1), 1);
		ASSERT_EQ(read(go[0], &b, 1), 1);
		int rc = nvmsg_view(c, &v, 0);
		if (rc == NVMSG_E_CORRUPT &&
		    strstr(nvmsg_errmsg(), data_path) != NULL) {
			printf("child: nvmsg_view: NVMSG_E_CORRUPT: %s\n",
			       nvmsg_errmsg());
			_exit(0);
		}
		if (rc == 0 && v.len >= 6 && memcmp(v.data, "FORGED", 6) == 0)
			_exit(3);
		if (rc == 0 && v.len == 12 &&
		    memcmp(v.data, "live message", 12) == 0)
			_exit(4);
		fprintf(stderr, "child: view after the change: %d (%s): %s\n",
			rc, nvmsg_strerror(rc), nvmsg_errmsg());
		_exit(5);
	}
	close(go[0]);
	close(ready[1]);
	ASSERT_EQ(read(ready[0], &b, 1), 1); /* 0: the child failed */
	change_file(what, 0);
	ASSERT_EQ(write(go[1], "g", 1), 1);
	close(go[1]);
	close(ready[0]);
	return t_wait(pid);
}

/* payload_offset -- file offset of the payload of ring 0's record at
 * position POS (ring_off from the header) */
static uint64_t
payload_offset(uint64_t pos)
{
	int fd = open(data_path, O_RDONLY);
	uint64_t ring_off = 0;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pread(fd, &ring_off, 8, 88), 8);
	close(fd);
	return ring_off + (pos & (RING - 1)) + 32;
}

/* sigbus_or_corrupt -- the accepted outcomes of a truncation */
static const char *
sigbus_or_corrupt(int st)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == DIED_OF_SIGBUS)
		return "SIGBUS";
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS)
		return "SIGBUS";
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return "NVMSG_E_CORRUPT";
	/* ASan's handler: a report of the bus error, then abort/exit 1 */
	if (t_sanitized() && ((WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT) ||
			      (WIFEXITED(st) && WEXITSTATUS(st) == 1)))
		return "SIGBUS (reported by ASan)";
	return NULL;
}

static void
truncated_under_consumer(void)
{
	setup();
	int st = consumer_child(TRUNCATE, NVMSG_CONSUMER_VERIFY);
	const char *what = sigbus_or_corrupt(st);
	if (!what)
		T_FAILF("consumer after truncation: %s, want SIGBUS or "
			"NVMSG_E_CORRUPT",
			t_status_str(st));
	printf("truncated under an open consumer: %s\n", what);
}

static void
truncated_under_producer(void)
{
	int go[2], ready[2];
	char b;

	setup();
	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(ready));
	pid_t pid = fork();
	if (pid == 0) {
		struct nvmsg_producer *p;
		signal(SIGBUS, on_sigbus);
		t_no_core();
		alarm(20);
		ASSERT_OK(nvmsg_producer_open(dir, CHAN, 1, &p));
		ASSERT_EQ(write(ready[1], "r", 1), 1);
		ASSERT_EQ(read(go[0], &b, 1), 1);
		int rc = nvmsg_send(p, "after", 5, 0, 0);
		_exit(rc == NVMSG_E_CORRUPT ? 0 : 5);
	}
	close(go[0]);
	close(ready[1]);
	ASSERT_EQ(read(ready[0], &b, 1), 1);
	change_file(TRUNCATE, 0);
	ASSERT_EQ(write(go[1], "g", 1), 1);
	int st = t_wait(pid);
	const char *what = sigbus_or_corrupt(st);
	if (!what)
		T_FAILF("producer after truncation: %s, want SIGBUS or "
			"NVMSG_E_CORRUPT",
			t_status_str(st));
	printf("truncated under an open producer: %s\n", what);
}

static void
rewritten_under_consumer(void)
{
	setup();
	int st = consumer_child(REWRITE_ZERO, NVMSG_CONSUMER_VERIFY);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		T_FAILF("consumer after a rewrite with zeros: %s, want "
			"NVMSG_E_CORRUPT",
			t_status_str(st));
	printf("rewritten (zeros) under an open consumer: NVMSG_E_CORRUPT\n");
}

/* payload_child -- as consumer_child, the change being a forged payload
 * of the second message (position 64 of ring 0) */
static int
payload_child(int flags)
{
	int go[2], ready[2];
	char b;

	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(ready));
	pid_t pid = fork();
	if (pid == 0) {
		struct nvmsg_consumer *c;
		struct nvmsg_view v;
		alarm(20);
		ASSERT_OK(nvmsg_consumer_open(dir, CHAN, "c", flags, &c));
		ASSERT_OK(nvmsg_view(c, &v, 0));
		ASSERT_EQ(write(ready[1], "r", 1), 1);
		ASSERT_EQ(read(go[0], &b, 1), 1);
		int rc = nvmsg_view(c, &v, 0);
		if (rc == NVMSG_E_CORRUPT &&
		    strstr(nvmsg_errmsg(), "checksum mismatch") &&
		    strstr(nvmsg_errmsg(), data_path))
			_exit(0);
		if (rc == 0 && memcmp(v.data, "FORGED", 6) == 0)
			_exit(3);
		_exit(5);
	}
	close(go[0]);
	close(ready[1]);
	ASSERT_EQ(read(ready[0], &b, 1), 1);
	change_file(REWRITE_PAYLOAD, payload_offset(64));
	ASSERT_EQ(write(go[1], "g", 1), 1);
	return t_wait(pid);
}

static void
payload_forged(void)
{
	setup();
	int st = payload_child(NVMSG_CONSUMER_VERIFY);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		T_FAILF("verifying consumer after a forged payload: %s, want "
			"NVMSG_E_CORRUPT (checksum mismatch)",
			t_status_str(st));
	printf("payload forged, NVMSG_CONSUMER_VERIFY: NVMSG_E_CORRUPT\n");
	setup();
	st = payload_child(0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
		T_FAILF("consumer without VERIFY after a forged payload: %s, "
			"want the forged bytes (exit 3)",
			t_status_str(st));
	printf("payload forged, no VERIFY: the forged bytes are delivered\n");
}

int
main(void)
{
	t_watchdog(120);
	dir = t_tmpdir();
	snprintf(data_path, sizeof(data_path), "%s/" CHAN ".nvmsg", dir);
	truncated_under_consumer();
	truncated_under_producer();
	rewritten_under_consumer();
	payload_forged();
	return T_PASS;
}
