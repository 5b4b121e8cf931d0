/* SPDX-License-Identifier: MIT */
/*
 * t_dead.c -- a reader needs no writer (issue 11, defect 1), by SIGKILL.
 *
 * Proves, on the volatile and emulated tiers: after a producer process is
 * SIGKILLed with records past its pub_tail (an NVMSG_MORE batch not yet
 * flushed, written whole), with no writer running recovery,
 *   - a consumer of another uid (65534), with a read-only data mapping
 *     and only its own cursor writable, reads every whole record the dead
 *     producer left, in order, and acks them;
 *   - `nvmsg_channel_stat` counts them (tail, lag, next_seq);
 *   - a consumer registered then starts after them;
 *   - a producer reopened on the slot reports them committed (the scan
 *     starts at pub_tail even when every consumer acked past it) and goes
 *     on with the next sequence number: nothing is delivered twice.
 * On the code before issue 11 the consumer saw 3 of the 5, and the
 * restarted producer handed out sequence number 4 again.
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "t.h"

#define N_SINGLE 3
#define N_MORE 2

/* read_all -- as consumer C: read and ack; the sequence numbers land in
 * SEQS, returns how many (-1 if it could not open) */
static int
read_all(const char *dir, const char *c, uint64_t *seqs, int max)
{
	struct nvmsg_consumer *co;
	struct nvmsg_view v;
	int n = 0;

	if (nvmsg_consumer_open(dir, "ch", c, NVMSG_CONSUMER_VERIFY, &co) < 0)
		return -1;
	while (n < max && nvmsg_view(co, &v, 0) == 0)
		seqs[n++] = v.seq;
	if (nvmsg_ack(co) < 0)
		n = -1;
	nvmsg_consumer_close(&co);
	return n;
}

static void
run(int tier)
{
	const char *dir = t_tmpdir();
	struct nvmsg_channel_opts o = { .tier = tier, .mode = 0644 };
	struct nvmsg_consumer *co;
	struct nvmsg_producer *p;
	struct nvmsg_stat st;
	uint64_t seqs[16];
	char cur[600];
	int status;

	ASSERT_OK(nvmsg_channel_create(dir, "ch", &o));
	ASSERT_OK(nvmsg_consumer_open(dir, "ch", "other", NVMSG_CONSUMER_CREATE,
				      &co));
	nvmsg_consumer_close(&co);
	snprintf(cur, sizeof(cur), "%s/ch.other.nvcur", dir);
	/* the owner hands the cursor to uid 65534; the data stays 0644 */
	ASSERT_EQ(chown(cur, 65534, 65534), 0);
	ASSERT_EQ(chmod(dir, 0755), 0);

	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		if (nvmsg_producer_open(dir, "ch", 0, &p) < 0)
			_exit(2);
		for (int i = 0; i < N_SINGLE; i++)
			if (nvmsg_send(p, "single", 6, 0, 0) < 0)
				_exit(3);
		for (int i = 0; i < N_MORE; i++)
			if (nvmsg_send(p, "batched", 7, NVMSG_MORE, 0) < 0)
				_exit(4);
		raise(SIGKILL);
		_exit(5);
	}
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* stat, read-only: the dead producer's whole records count */
	ASSERT_OK(nvmsg_channel_stat(dir, "ch", &st));
	ASSERT_EQ(st.nproducers, 1);
	ASSERT_EQ(st.producers[0].alive, 0);
	ASSERT_EQ(st.producers[0].next_seq, N_SINGLE + N_MORE + 1);
	ASSERT_EQ(st.consumers[0].lag_messages, N_SINGLE + N_MORE);

	/* a consumer of another uid, no writer anywhere */
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(T_SKIP);
		int n = read_all(dir, "other", seqs, 16);
		if (n != N_SINGLE + N_MORE)
			_exit(10 + (n < 0 ? 9 : n));
		for (int i = 0; i < n; i++)
			if (seqs[i] != (uint64_t)i + 1)
				_exit(20);
		_exit(0);
	}
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == T_SKIP)
		T_SKIPF("cannot drop to uid 65534 (needs root)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		T_FAILF("consumer of uid 65534: %s (10 + n: read n messages)",
			t_status_str(status));

	/* registered now: starts after what the dead producer left */
	ASSERT_OK(nvmsg_consumer_open(dir, "ch", "late", NVMSG_CONSUMER_CREATE,
				      &co));
	nvmsg_consumer_close(&co);
	ASSERT_EQ(read_all(dir, "late", seqs, 16), 0);

	/* a writer comes: the acked records are committed, numbering goes
	 * on after them */
	ASSERT_OK(nvmsg_producer_open(dir, "ch", 0, &p));
	ASSERT_EQ(nvmsg_producer_committed(p), N_SINGLE + N_MORE);
	ASSERT_OK(nvmsg_send(p, "after", 5, 0, 0));
	ASSERT_OK(nvmsg_producer_close(&p));
	ASSERT_OK(nvmsg_channel_stat(dir, "ch", &st));
	ASSERT_EQ(st.producers[0].next_seq, N_SINGLE + N_MORE + 2);
	ASSERT_EQ(read_all(dir, "late", seqs, 16), 1);
	ASSERT_EQ(seqs[0], N_SINGLE + N_MORE + 1);
	ASSERT_OK(nvmsg_channel_unlink(dir, "ch"));
}

int
main(void)
{
	if (geteuid() != 0)
		T_SKIPF("needs root to run a consumer as uid 65534");
	run(NVMSG_TIER_VOLATILE);
	run(NVMSG_TIER_EMULATED);
	printf("t_dead: volatile and emulated: a read-only consumer of "
	       "another uid read a SIGKILLed producer's records\n");
	return T_PASS;
}
