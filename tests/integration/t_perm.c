/* SPDX-License-Identifier: MIT */
/*
 * t_perm.c -- readers cannot write; file modes decide who may do what.
 * Proves I5's "readers cannot write" with the kernel as the judge:
 *   t_perm        a consumer process that stores into its view of a
 *                 message (the read-only data mapping) dies with SIGSEGV,
 *                 cannot mprotect the mapping writable either, and the
 *                 channel stays intact: every message still reads back
 *                 with verified checksums for a second consumer, and the
 *                 killed consumer's cursor did not move;
 *   t_perm user   (root only, else exit 77) a process dropped to uid/gid
 *                 65534 cannot open a 0644 channel as producer (-EACCES,
 *                 the sentence says permission denied and names the
 *                 file), cannot register a consumer (-EACCES, says write
 *                 access is needed), cannot open a registered consumer
 *                 whose cursor region it may not write (-EACCES), can
 *                 stat the channel, and once its cursor region is its
 *                 own it consumes every message.
 */
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "t.h"

#define N 200

static void
payload(int i, char *buf, size_t *len)
{
	*len = (size_t)snprintf(buf, 128, "message %04d %.*s", i, i % 60,
				"abcdefghijklmnopqrstuvwxyz0123456789"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
}

static void
send_all(const char *dir, const char *name)
{
	struct nvmsg_producer *p = NULL;
	char buf[128];
	size_t len;

	ASSERT_OK(nvmsg_producer_open(dir, name, NVMSG_ANY_PRODUCER, &p));
	for (int i = 0; i < N; i++) {
		payload(i, buf, &len);
		ASSERT_OK(nvmsg_send(p, buf, len, 0, 0));
	}
	nvmsg_producer_close(&p);
}

/* read_all -- consumer CONS reads exactly the N messages, verified */
static void
read_all(const char *dir, const char *name, const char *cons)
{
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_view v;
	char want[128];
	size_t len;

	ASSERT_OK(nvmsg_consumer_open(dir, name, cons, NVMSG_CONSUMER_VERIFY,
				      &c));
	for (int i = 0; i < N; i++) {
		ASSERT_OK(nvmsg_view(c, &v, 0));
		payload(i, want, &len);
		ASSERT_EQ(v.seq, i + 1);
		ASSERT_EQ(v.len, len);
		if (memcmp(v.data, want, len) != 0)
			T_FAILF("%s: message %d altered", cons, i);
	}
	ASSERT_EQ(nvmsg_view(c, &v, 0), -EAGAIN);
	ASSERT_OK(nvmsg_ack(c));
	nvmsg_consumer_close(&c);
}

static void
register_consumer(const char *dir, const char *name, const char *cons)
{
	struct nvmsg_consumer *c = NULL;

	ASSERT_OK(nvmsg_consumer_open(dir, name, cons, NVMSG_CONSUMER_CREATE,
				      &c));
	nvmsg_consumer_close(&c);
}

static int
test_readonly(void)
{
	const char *dir = t_tmpdir();
	pid_t pid;

	t_create(dir, "ro", NVMSG_TIER_VOLATILE, 65536, 1, 2);
	register_consumer(dir, "ro", "a");
	register_consumer(dir, "ro", "b");
	send_all(dir, "ro");

	/* the child is the hostile consumer */
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct nvmsg_consumer *c = NULL;
		struct nvmsg_view v;
		struct sigaction sa;

		t_no_core();
		if (nvmsg_consumer_open(dir, "ro", "a", 0, &c) != 0)
			_exit(10);
		if (nvmsg_view(c, &v, 0) != 0)
			_exit(11);
		/* the kernel refuses to make the mapping writable */
		long pg = sysconf(_SC_PAGESIZE);
		void *page = (void *)((uintptr_t)v.data & ~(uintptr_t)(pg - 1));
		if (mprotect(page, (size_t)pg, PROT_READ | PROT_WRITE) == 0)
			_exit(12);
		if (errno != EACCES)
			_exit(13);
		/* default action, also under a sanitizer's own handler */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		/* the store: must not return */
		*(volatile char *)(uintptr_t)v.data = 'X';
		_exit(14);
	}
	int st = t_wait(pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
		T_FAILF("hostile consumer: %s, want signal %d (SIGSEGV); "
			"exit 12/14 mean the data mapping was writable",
			t_status_str(st), SIGSEGV);
	/* intact: the other consumer reads everything, verified */
	read_all(dir, "ro", "b");
	/* the dead consumer acked nothing: it resumes at the first message
	 * and also reads everything intact */
	read_all(dir, "ro", "a");
	struct nvmsg_stat s;
	ASSERT_OK(nvmsg_channel_stat(dir, "ro", &s));
	ASSERT_EQ(s.depth_bytes, 0);
	printf("t_perm: hostile consumer died with SIGSEGV, channel intact\n");
	return T_PASS;
}

/* drop -- become uid/gid 65534 with no supplementary groups */
static void
drop(void)
{
	if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0) {
		fprintf(stderr, "cannot drop privileges: %s\n",
			strerror(errno));
		_exit(T_SKIP);
	}
	if (geteuid() != 65534 || getegid() != 65534)
		_exit(T_SKIP);
}

static int
test_user(void)
{
	if (geteuid() != 0)
		T_SKIPF("needs root to drop to uid 65534");
	const char *dir = t_tmpdir();
	char data[512], cur[512];
	pid_t pid;
	int st;

	/* 65534 must be able to traverse and read, not write, the dir */
	ASSERT_EQ(chmod(dir, 0755), 0);
	snprintf(data, sizeof(data), "%s/ch.nvmsg", dir);
	snprintf(cur, sizeof(cur), "%s/ch.reg.nvcur", dir);
	t_create(dir, "ch", NVMSG_TIER_VOLATILE, 65536, 2, 4);
	register_consumer(dir, "ch", "reg");
	send_all(dir, "ch");
	struct stat sb;
	ASSERT_EQ(stat(data, &sb), 0);
	ASSERT_EQ(sb.st_mode & 07777, 0644);
	ASSERT_EQ(stat(cur, &sb), 0);
	ASSERT_EQ(sb.st_uid, 0);
	ASSERT_EQ(sb.st_mode & 0022, 0); /* not writable for others */

	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct nvmsg_producer *p = NULL;
		struct nvmsg_consumer *c = NULL;
		struct nvmsg_stat s;

		drop();
		/* producer: needs write permission on the data file */
		ASSERT_ERR(nvmsg_producer_open(dir, "ch", NVMSG_ANY_PRODUCER,
					       &p),
			   -EACCES);
		ASSERT_TRUE(p == NULL);
		ASSERT_CONTAINS(nvmsg_errmsg(), "permission denied");
		ASSERT_CONTAINS(nvmsg_errmsg(), data);
		ASSERT_ERR(nvmsg_producer_open(dir, "ch", 1, &p), -EACCES);
		/* registering a new consumer writes the data file */
		ASSERT_ERR(nvmsg_consumer_open(dir, "ch", "newc",
					       NVMSG_CONSUMER_CREATE, &c),
			   -EACCES);
		ASSERT_TRUE(c == NULL);
		ASSERT_CONTAINS(nvmsg_errmsg(), "newc");
		ASSERT_CONTAINS(nvmsg_errmsg(), data);
		ASSERT_CONTAINS(nvmsg_errmsg(), "write access");
		ASSERT_TRUE(access(t_path(dir, "ch.newc.nvcur"), F_OK) != 0);
		/* a registered consumer whose cursor is not ours to write */
		ASSERT_ERR(nvmsg_consumer_open(dir, "ch", "reg", 0, &c),
			   -EACCES);
		ASSERT_CONTAINS(nvmsg_errmsg(), "permission denied");
		ASSERT_CONTAINS(nvmsg_errmsg(), cur);
		/* reading the channel's state needs read permission only */
		ASSERT_OK(nvmsg_channel_stat(dir, "ch", &s));
		ASSERT_EQ(s.nconsumers, 1);
		/* the directory is not ours: no create, no unlink */
		struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_VOLATILE,
						.capacity_bytes = 4096 };
		ASSERT_ERR(nvmsg_channel_create(dir, "mine", &o), -EACCES);
		ASSERT_ERR(nvmsg_channel_unlink(dir, "ch"), -EACCES);
		exit(T_PASS);
	}
	st = t_wait(pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == T_SKIP)
		T_SKIPF("cannot drop privileges here");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		T_FAILF("unprivileged child: %s", t_status_str(st));
	ASSERT_EQ(access(data, F_OK), 0);
	ASSERT_EQ(access(cur, F_OK), 0);

	/* the owner hands the cursor region to 65534: now it consumes */
	ASSERT_EQ(chown(cur, 65534, 65534), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		drop();
		read_all(dir, "ch", "reg");
		exit(T_PASS);
	}
	ASSERT_EXIT(pid, 0);
	/* its acks are visible to the owner */
	struct nvmsg_stat s;
	ASSERT_OK(nvmsg_channel_stat(dir, "ch", &s));
	ASSERT_EQ(s.nconsumers, 1);
	ASSERT_EQ(s.consumers[0].lag_messages, 0);
	printf("t_perm user: uid 65534 refused as producer and registrar, "
	       "consumes once its cursor is its own\n");
	return T_PASS;
}

int
main(int argc, char **argv)
{
	t_watchdog(60);
	if (argc > 1 && strcmp(argv[1], "user") == 0)
		return test_user();
	return test_readonly();
}
