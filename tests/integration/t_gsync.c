/* SPDX-License-Identifier: MIT */
/*
 * t_gsync.c -- group commit on the msync tier (src/chan/gsync.c).
 * Proves, with real processes on a real disk-backed file (/var/tmp):
 *   - 4 producer processes, every message sent alone (one commit each):
 *     every message is delivered once and in order per producer, every
 *     commit took a ticket and every ticket was served (sync_done ==
 *     sync_req), and the commits shared msyncs (fewer msyncs than
 *     commits: the test fails if no two producers ever shared one);
 *   - a leader that died holding the group lock does not stop the others:
 *     a send finishes after the lock is taken over, within a few slices.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "t.h"
#include "chan/chan.h"

#define NP 4
#define N 150

static const char *dir;

static void
producer(int id)
{
	struct nvmsg_producer *p = NULL;
	char buf[64];

	ASSERT_OK(nvmsg_producer_open(dir, "g", id, &p));
	for (int i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof(buf), "p%d-%d", id, i);
		ASSERT_OK(nvmsg_send(p, buf, (size_t)n, 0, 0));
	}
	nvmsg_producer_close(&p);
}

static uint64_t
hdr_word(unsigned off)
{
	uint64_t w = 0;
	int fd = open(t_path(dir, "g.nvmsg"), O_RDONLY);

	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(pread(fd, &w, 8, off) == 8);
	close(fd);
	return w;
}

static void
test_group(void)
{
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_stat *st = calloc(1, sizeof(*st));
	pid_t pid[NP];
	int status;

	ASSERT_TRUE(st != NULL);
	t_create(dir, "g", NVMSG_TIER_MSYNC, 64 << 10, NP, 1);
	ASSERT_OK(
		nvmsg_consumer_open(dir, "g", "c", NVMSG_CONSUMER_CREATE, &c));
	for (int k = 0; k < NP; k++) {
		pid[k] = fork();
		ASSERT_TRUE(pid[k] >= 0);
		if (pid[k] == 0) {
			producer(k);
			_exit(0);
		}
	}
	for (int k = 0; k < NP; k++) {
		ASSERT_TRUE(waitpid(pid[k], &status, 0) == pid[k]);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	int next[NP] = { 0 };
	for (int i = 0; i < NP * N; i++) {
		struct nvmsg_view v;
		char want[64];
		ASSERT_OK(nvmsg_view(c, &v, 1000000000));
		ASSERT_TRUE(v.producer < NP);
		int n = snprintf(want, sizeof(want), "p%u-%d", v.producer,
				 next[v.producer]++);
		ASSERT_EQ(v.len, (size_t)n);
		ASSERT_TRUE(memcmp(v.data, want, v.len) == 0);
	}
	ASSERT_OK(nvmsg_ack(c));
	nvmsg_consumer_close(&c);
	for (int k = 0; k < NP; k++)
		ASSERT_EQ(next[k], N);
	ASSERT_OK(nvmsg_channel_stat(dir, "g", st));
	printf("group commit: %llu commits in %llu msyncs\n",
	       (unsigned long long)st->group_commits,
	       (unsigned long long)st->group_syncs);
	ASSERT_U64_EQ(st->group_commits, NP * N);
	ASSERT_TRUE(st->group_syncs >= 1);
	ASSERT_TRUE(st->group_syncs < st->group_commits);
	/* every ticket served: sync_done == sync_req (FORMAT.md offsets) */
	ASSERT_U64_EQ(hdr_word(264), hdr_word(256));
	ASSERT_U64_EQ(hdr_word(272), 0); /* the lock is free */
	free(st);
}

static void
test_dead_leader(void)
{
	struct nvmsg_producer *p = NULL;
	int status;
	int fds[2];
	uint64_t dead = 0;

	/* the owner word of a process that is gone */
	ASSERT_TRUE(pipe(fds) == 0);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		uint64_t w = nv_owner_self();
		_exit(write(fds[1], &w, 8) == 8 ? 0 : 1);
	}
	ASSERT_TRUE(read(fds[0], &dead, 8) == 8);
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	close(fds[0]);
	close(fds[1]);
	ASSERT_TRUE(!nv_owner_alive(dead));
	/* it died holding the lock, between its msync and its unlock */
	int fd = open(t_path(dir, "g.nvmsg"), O_RDWR);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(pwrite(fd, &dead, 8, 272) == 8);
	close(fd);
	ASSERT_OK(nvmsg_producer_open(dir, "g", 0, &p));
	uint64_t t0 = t_now_ns();
	ASSERT_OK(nvmsg_send(p, "after", 5, 0, 0));
	uint64_t ms = (t_now_ns() - t0) / 1000000;
	printf("send after a dead leader: %llu ms\n", (unsigned long long)ms);
	ASSERT_TRUE(ms < 5000);
	nvmsg_producer_close(&p);
	ASSERT_U64_EQ(hdr_word(272), 0);
	ASSERT_U64_EQ(hdr_word(264), hdr_word(256));
}

int
main(void)
{
	dir = t_tmpdir_in("/var/tmp");
	test_group();
	test_dead_leader();
	printf("t_gsync: ok\n");
	return T_PASS;
}
