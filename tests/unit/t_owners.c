/* SPDX-License-Identifier: MIT */
/*
 * t_owners.c -- chan/owners.c: is the owner of a slot still alive?
 * Proves what takeover (and so I1 after a producer crash) rests on: a
 * process is named by (pid, start time), the start time of a live process
 * is non-zero and stable (even when its name holds spaces and ')'), a
 * reaped child is dead, a reused pid is caught because its start time
 * differs, and a pair from before a reboot because the owner word carries
 * a boot hash; the start time is /proc's field 22 and does not move when
 * the process maps memory; through the API, a producer slot whose owner word names a dead
 * process or a reused pid is taken over, and one of a live owner is not.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "chan/chan.h"
#include "log/format.h"
#include <signal.h>
#include <sys/wait.h>

#include "t.h"

static void
test_self(void)
{
	uint64_t s = nv_proc_start(getpid());

	ASSERT_TRUE(s != 0);
	for (int i = 0; i < 100; i++)
		ASSERT_U64_EQ(nv_proc_start(getpid()), s);
	ASSERT_TRUE(nv_proc_alive(getpid(), s));
	/* same pid, another start time: a reused pid, so not our owner */
	ASSERT_TRUE(!nv_proc_alive(getpid(), s + 1));
	ASSERT_TRUE(!nv_proc_alive(getpid(), s - 1));
	/* bad pids */
	ASSERT_TRUE(!nv_proc_alive(0, s));
	ASSERT_TRUE(!nv_proc_alive(-1, s));
	ASSERT_EQ(nv_proc_start(0), 0);
	ASSERT_EQ(nv_proc_start(-5), 0);
	/* pid 1 exists (its start time is whatever it is, and stable) */
	uint64_t s1 = nv_proc_start(1);
	if (s1 != 0)
		ASSERT_U64_EQ(nv_proc_start(1), s1);
}

/* a child whose comm holds ") (" and spaces: field 22 is still found */
static void
test_odd_name(void)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		uint64_t before = nv_proc_start(getpid());
		prctl(PR_SET_NAME, "a) b (c) 1 2 3", 0, 0, 0);
		uint64_t after = nv_proc_start(getpid());
		_exit(before != 0 && before == after ? 0 : 1);
	}
	ASSERT_EXIT(pid, 0);
}

static void
test_child(void)
{
	int go[2];
	pid_t pid;
	char c = 0;

	ASSERT_EQ(pipe(go), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		/* wait for the parent's word (or its death) */
		if (read(go[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	uint64_t s = nv_proc_start(pid);
	ASSERT_TRUE(s != 0);
	ASSERT_TRUE(nv_proc_alive(pid, s));
	ASSERT_TRUE(!nv_proc_alive(pid, s + 1));
	ASSERT_EQ(write(go[1], &c, 1), 1);
	close(go[1]);
	ASSERT_EXIT(pid, 0);
	/* reaped: gone, whatever start time is asked about */
	ASSERT_TRUE(!nv_proc_alive(pid, s));
	ASSERT_EQ(nv_proc_start(pid), 0);
	/* a killed and reaped child too */
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	s = nv_proc_start(pid);
	ASSERT_TRUE(nv_proc_alive(pid, s));
	ASSERT_EQ(kill(pid, SIGKILL), 0);
	int st = t_wait(pid);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ASSERT_TRUE(!nv_proc_alive(pid, s));
}

/* owner_word -- as owners.c builds it: boot16 << 48 | start26 << 22 |
 * pid22, with this boot's hash taken from our own word */
static uint64_t
owner_word(pid_t pid, uint64_t start)
{
	return (nv_owner_self() >> 48) << 48 | (start & 0x3ffffffull) << 22 |
	       ((uint64_t)pid & 0x3fffffull);
}

static void
test_owner_word(void)
{
	uint64_t w = nv_owner_self();

	ASSERT_TRUE(w != 0);
	ASSERT_U64_EQ(nv_owner_self(), w);
	ASSERT_EQ(nv_owner_pid(w), getpid());
	ASSERT_U64_EQ(owner_word(getpid(), nv_proc_start(getpid())), w);
	ASSERT_TRUE(nv_owner_alive(w));
	ASSERT_TRUE(!nv_owner_alive(0));
	/* our pid with another start time: a reused pid */
	ASSERT_TRUE(!nv_owner_alive(w ^ (1ull << 22)));
	/* our pid and start time from another boot (a power failure and
	 * reboot can repeat the pair) */
	ASSERT_TRUE(!nv_owner_alive(w ^ (1ull << 48)));
	uint64_t salt = nv_boot_salt;
	nv_boot_salt ^= 0x5a5a;
	ASSERT_TRUE(!nv_owner_alive(w));
	ASSERT_TRUE(nv_owner_alive(nv_owner_self()));
	nv_boot_salt = salt;
	ASSERT_TRUE(nv_owner_alive(w));
	/* the parent, with its own start time */
	pid_t pp = getppid();
	ASSERT_TRUE(nv_owner_alive(owner_word(pp, nv_proc_start(pp))));
	ASSERT_TRUE(!nv_owner_alive(owner_word(pp, nv_proc_start(pp) + 1)));
}

static void
set_owner(const char *dir, unsigned slot, uint64_t w)
{
	struct nv_data_hdr h;
	int fd = open(t_path(dir, "own.nvmsg"), O_RDWR | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	off_t off = (off_t)(h.prod_table_off + slot * 256ull + 128);
	ASSERT_EQ(pwrite(fd, &w, 8, off), 8);
	close(fd);
}

static void
test_takeover(const char *dir)
{
	struct nvmsg_producer *p = NULL;
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_view v;
	pid_t pid;

	t_create(dir, "own", NVMSG_TIER_VOLATILE, 4096, 2, 1);
	ASSERT_OK(nvmsg_consumer_open(dir, "own", "c", NVMSG_CONSUMER_CREATE,
				      &c));
	/* a child takes slot 0, sends, and dies without closing */
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct nvmsg_producer *cp = NULL;
		if (nvmsg_producer_open(dir, "own", 0, &cp) != 0)
			_exit(2);
		if (nvmsg_send(cp, "from child", 10, 0, 0) != 0)
			_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	int st = t_wait(pid);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* dead owner: taken over, the sequence continues */
	ASSERT_OK(nvmsg_producer_open(dir, "own", 0, &p));
	ASSERT_OK(nvmsg_send(p, "from parent", 11, 0, 0));
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_EQ(v.seq, 1);
	ASSERT_EQ(v.len, 10);
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_EQ(v.seq, 2);
	ASSERT_OK(nvmsg_ack(c));
	nvmsg_producer_close(&p);

	/* a live owner (our parent: alive, right start time) keeps it */
	pid_t pp = getppid();
	set_owner(dir, 0, owner_word(pp, nv_proc_start(pp)));
	ASSERT_ERR(nvmsg_producer_open(dir, "own", 0, &p), -EBUSY);
	ASSERT_CONTAINS(nvmsg_errmsg(), "owned by a live process");
	ASSERT_TRUE(p == NULL);
	/* with both slots owned by live processes the table is full */
	set_owner(dir, 1, owner_word(pp, nv_proc_start(pp)));
	ASSERT_ERR(nvmsg_producer_open(dir, "own", NVMSG_ANY_PRODUCER, &p),
		   NVMSG_E_FULL_TABLE);
	/* the same pid with another start time: a reused pid, taken over */
	set_owner(dir, 0, owner_word(pp, nv_proc_start(pp) + 1));
	ASSERT_OK(nvmsg_producer_open(dir, "own", 0, &p));
	ASSERT_EQ(nvmsg_producer_id(p), 0);
	ASSERT_OK(nvmsg_send(p, "third", 5, 0, 0));
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_EQ(v.seq, 3);
	nvmsg_producer_close(&p);
	/* a pid that no longer exists: taken over by "any" */
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(0);
	uint64_t cs = nv_proc_start(pid);
	ASSERT_EXIT(pid, 0);
	set_owner(dir, 0, owner_word(pid, cs ? cs : 12345));
	ASSERT_OK(nvmsg_producer_open(dir, "own", NVMSG_ANY_PRODUCER, &p));
	ASSERT_EQ(nvmsg_producer_id(p), 0);
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
	/* stat reports the slot's owner as not alive after the close and
	 * the live parent's slot as alive */
	struct nvmsg_stat s;
	ASSERT_OK(nvmsg_channel_stat(dir, "own", &s));
	for (unsigned i = 0; i < s.nproducers; i++) {
		if (s.producers[i].id == 0)
			ASSERT_EQ(s.producers[i].alive, 0);
		if (s.producers[i].id == 1) {
			ASSERT_EQ(s.producers[i].pid, pp);
			ASSERT_EQ(s.producers[i].alive, 1);
		}
	}
}

/*
 * Regression checks for a bug found by this test (fixed in 30c0f46):
 * nv_proc_start() returned field 23 of /proc/PID/stat (vsize) instead of
 * field 22 (starttime), so a live owner that mapped memory looked dead and
 * its slot was taken over while it still wrote (two writers on one ring).
 */

/* field22 -- starttime of PID read here, independently of owners.c */
static uint64_t
field22(pid_t pid)
{
	char path[64], buf[1024];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	ASSERT_TRUE(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	char *p = strrchr(buf, ')');
	ASSERT_TRUE(p != NULL);
	/* p + 2 is field 3 (state) */
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		ASSERT_TRUE(p != NULL);
		p++;
	}
	return strtoull(p, NULL, 10);
}

static void
test_start_field(const char *dir)
{
	struct nvmsg_producer *p = NULL, *q = NULL;
	int go[2], ready[2];
	char c = 0;

	/* the start time is /proc's field 22, ours and our parent's */
	ASSERT_U64_EQ(nv_proc_start(getpid()), field22(getpid()));
	ASSERT_U64_EQ(nv_proc_start(getppid()), field22(getppid()));
	/* ... and does not change when the process maps memory */
	uint64_t s = nv_proc_start(getpid());
	void *big = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(big != MAP_FAILED);
	ASSERT_U64_EQ(nv_proc_start(getpid()), s);
	munmap(big, 64 << 20);
	/* the parent started no later than we did */
	ASSERT_TRUE(nv_proc_start(getppid()) <= s);

	/* a second handle of this process cannot take its live slot */
	t_create(dir, "kb", NVMSG_TIER_VOLATILE, 4096, 2, 1);
	ASSERT_OK(nvmsg_producer_open(dir, "kb", 0, &p));
	big = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(big != MAP_FAILED);
	ASSERT_ERR(nvmsg_producer_open(dir, "kb", 0, &q), -EBUSY);
	munmap(big, 64 << 20);
	nvmsg_producer_close(&p);

	/* a live child that claimed slot 0 and then mapped memory keeps it */
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(ready), 0);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct nvmsg_producer *cp = NULL;
		if (nvmsg_producer_open(dir, "kb", 0, &cp) != 0)
			_exit(2);
		void *m = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		(void)m;
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	int rc = nvmsg_producer_open(dir, "kb", 0, &p);
	ASSERT_EQ(write(go[1], &c, 1), 1);
	ASSERT_EXIT(pid, 0);
	if (rc != -EBUSY)
		T_FAILF("slot 0 of a live process was taken over: %d (%s)", rc,
			nvmsg_strerror(rc));
}

/* test_zombie -- a producer killed and not yet reaped is dead: its slot
 * can be taken over before the parent reaps it (a supervisor need not
 * reap first) */
static void
test_zombie(const char *dir)
{
	struct nvmsg_producer *p = NULL;
	int ready[2];
	char c = 0;

	t_create(dir, "zb", NVMSG_TIER_VOLATILE, 4096, 1, 1);
	ASSERT_TRUE(pipe(ready) == 0);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct nvmsg_producer *cp = NULL;
		if (nvmsg_producer_open(dir, "zb", 0, &cp) != 0)
			_exit(2);
		if (write(ready[1], &c, 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	ASSERT_EQ(nvmsg_producer_open(dir, "zb", 0, &p), -EBUSY);
	kill(pid, SIGKILL);
	/* wait until it is a zombie, without reaping it */
	siginfo_t si;
	ASSERT_TRUE(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
	ASSERT_OK(nvmsg_producer_open(dir, "zb", 0, &p));
	nvmsg_producer_close(&p);
	ASSERT_TRUE(waitpid(pid, NULL, 0) == pid);
	close(ready[0]);
	close(ready[1]);
}

int
main(void)
{
	const char *dir = t_tmpdir();

	test_self();
	test_odd_name();
	test_child();
	test_owner_word();
	test_takeover(dir);
	test_start_field(dir);
	test_zombie(dir);
	printf("t_owners: ok\n");
	return T_PASS;
}
