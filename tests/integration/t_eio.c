/* SPDX-License-Identifier: MIT */
/*
 * t_eio.c -- a failed persist barrier is final (issue 11, defect 2).
 *
 * Proves: after a producer's barrier fails (-EIO), every later send,
 * reserve and flush fails with it and publishes nothing, even when a
 * retried barrier would succeed (Linux can return 0 from an msync retried
 * after a writeback error although the pages were lost); close reports the
 * failure; no consumer ever sees a message whose barrier failed, neither
 * live nor after the producer is gone (readers extend a dead producer's
 * bound over whole records, so the failed ones must be cut); a new producer
 * on the slot resumes after the last message that committed.
 *
 * Two injections: on the msync tier the real msync(2) is interposed (this
 * program defines msync and calls libc's through dlsym), so the library's
 * own tier code sees the error; on the emulated tier the persist choke
 * point's hook returns -EIO (tier.h).
 *
 * Also the other durability edges of the API: a failed fsync of the
 * directory (fsync(2) on directories interposed the same way) fails
 * channel creation and consumer registration and leaves nothing behind;
 * and a handle inherited through fork() is refused in the child
 * (NVMSG_E_FORKED) while the parent's goes on.
 */
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "t.h"
#include "tier/tier.h"

static int fail_drains;	  /* fail every barrier while set */
static int fail_dir_sync; /* fail fsync of directories while set */
static unsigned failed;

/* fsync -- libc's, or -EIO for a directory while fail_dir_sync is set */
int
fsync(int fd)
{
	static int (*real)(int);
	struct stat st;

	if (fail_dir_sync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		failed++;
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

/* msync -- libc's, or -EIO while fail_drains is set */
int
msync(void *addr, size_t len, int flags)
{
	static int (*real)(void *, size_t, int);

	if (fail_drains) {
		failed++;
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "msync");
	return real(addr, len, flags);
}

static void
h_map(struct nv_map *m, const char *path)
{
	(void)m;
	(void)path;
}

static void
h_unmap(struct nv_map *m)
{
	(void)m;
}

static void
h_flush(struct nv_map *m, const void *addr, size_t len)
{
	(void)m;
	(void)addr;
	(void)len;
}

static int
h_drain(struct nv_map *m, enum nv_pp pp)
{
	(void)m;
	(void)pp;
	if (!fail_drains)
		return 0;
	failed++;
	return -EIO;
}

static const struct nv_tier_hooks eio_hooks = {
	.map = h_map,
	.unmap = h_unmap,
	.flush = h_flush,
	.drain = h_drain,
};

/* expect_only -- a fresh handle of consumer "c" sees exactly the messages
 * WANT[0..n), then nothing (views only: nothing is acked) */
static void
expect_only(const char *dir, const char **want, unsigned n)
{
	struct nvmsg_consumer *c;
	struct nvmsg_view v;

	ASSERT_OK(
		nvmsg_consumer_open(dir, "ch", "c", NVMSG_CONSUMER_VERIFY, &c));
	for (unsigned i = 0; i < n; i++) {
		ASSERT_OK(nvmsg_view(c, &v, 0));
		ASSERT_EQ(v.len, strlen(want[i]));
		if (memcmp(v.data, want[i], v.len) != 0)
			T_FAILF("message %u: got %.*s seq %llu, want %s", i,
				(int)v.len, (const char *)v.data,
				(unsigned long long)v.seq, want[i]);
	}
	ASSERT_ERR(nvmsg_view(c, &v, 0), -EAGAIN);
	nvmsg_consumer_close(&c);
}

static void
run(int tier, const char *base)
{
	const char *dir = t_tmpdir_in(base);
	struct nvmsg_channel_opts o = { .tier = tier, .mode = 0644 };
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	struct nvmsg_claim cl;
	char buf[64];
	size_t len;

	ASSERT_OK(nvmsg_channel_create(dir, "ch", &o));
	ASSERT_OK(
		nvmsg_consumer_open(dir, "ch", "c", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_producer_open(dir, "ch", 0, &p));
	ASSERT_OK(nvmsg_send(p, "a", 1, 0, 0));
	ASSERT_OK(nvmsg_producer_error(p));

	/* the barrier of "b" fails */
	fail_drains = 1;
	ASSERT_ERR(nvmsg_send(p, "b", 1, 0, 0), -EIO);
	ASSERT_TRUE(failed > 0);
	/* from here a retried barrier would succeed: nothing may use it */
	fail_drains = 0;
	ASSERT_ERR(nvmsg_producer_error(p), -EIO);
	ASSERT_ERR(nvmsg_producer_flush(p), -EIO);
	ASSERT_ERR(nvmsg_send(p, "c", 1, 0, 0), -EIO);
	ASSERT_ERR(nvmsg_send(p, "d", 1, NVMSG_MORE, 0), -EIO);
	ASSERT_ERR(nvmsg_reserve(p, 1, &cl, 0, 0), -EIO);
	ASSERT_ERR(nvmsg_producer_flush(p), -EIO);
	/* live: "a" only */
	expect_only(dir, (const char *[]){ "a" }, 1);
	ASSERT_ERR(nvmsg_producer_close(&p), -EIO);
	ASSERT_TRUE(p == NULL);
	/* the producer is gone: a reader extending its bound over whole
	 * records finds none of the failed ones */
	expect_only(dir, (const char *[]){ "a" }, 1);

	/* a batch: NVMSG_MORE records, then the flush's barrier fails */
	ASSERT_OK(nvmsg_producer_open(dir, "ch", 0, &p));
	ASSERT_EQ(nvmsg_producer_committed(p), 1);
	ASSERT_OK(nvmsg_send(p, "e", 1, NVMSG_MORE, 0));
	ASSERT_OK(nvmsg_send(p, "f", 1, NVMSG_MORE, 0));
	fail_drains = 1;
	ASSERT_ERR(nvmsg_producer_flush(p), -EIO);
	fail_drains = 0;
	ASSERT_ERR(nvmsg_producer_flush(p), -EIO);
	expect_only(dir, (const char *[]){ "a" }, 1);
	/* close would publish the batch: it must not, and must say so */
	ASSERT_ERR(nvmsg_producer_close(&p), -EIO);
	expect_only(dir, (const char *[]){ "a" }, 1);

	/* close's own barrier fails on a pending batch */
	ASSERT_OK(nvmsg_producer_open(dir, "ch", 0, &p));
	ASSERT_EQ(nvmsg_producer_committed(p), 1);
	ASSERT_OK(nvmsg_send(p, "g", 1, NVMSG_MORE, 0));
	fail_drains = 1;
	ASSERT_ERR(nvmsg_producer_close(&p), -EIO);
	fail_drains = 0;
	expect_only(dir, (const char *[]){ "a" }, 1);

	/* a new producer resumes after what committed: "a" is seq 1 */
	ASSERT_OK(nvmsg_producer_open(dir, "ch", 0, &p));
	ASSERT_EQ(nvmsg_producer_committed(p), 1);
	ASSERT_OK(nvmsg_send(p, "h", 1, 0, 0));
	ASSERT_OK(nvmsg_producer_close(&p));
	expect_only(dir, (const char *[]){ "a", "h" }, 2);

	/* recv: a failed ack after the copy leaves *len set (the message is
	 * held, not acked) and it comes again after a reopen */
	ASSERT_OK(nvmsg_consumer_open(dir, "ch", "c", 0, &c));
	fail_drains = 1;
	int rc = nvmsg_recv(c, buf, sizeof(buf), &len, 0);
	fail_drains = 0;
	ASSERT_EQ(rc, -EIO);
	ASSERT_EQ(len, 1);
	ASSERT_TRUE(buf[0] == 'a');
	nvmsg_consumer_close(&c);
	expect_only(dir, (const char *[]){ "a", "h" }, 2);
	/* and a recv with nothing to read leaves *len at 0 */
	ASSERT_OK(nvmsg_consumer_open(dir, "ch", "c", 0, &c));
	ASSERT_OK(nvmsg_recv(c, buf, sizeof(buf), &len, 0));
	ASSERT_OK(nvmsg_recv(c, buf, sizeof(buf), &len, 0));
	ASSERT_ERR(nvmsg_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);
	ASSERT_EQ(len, 0);
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_channel_unlink(dir, "ch"));
}

/* dir_sync -- a directory fsync that fails undoes creation and
 * registration */
static void
dir_sync(void)
{
	const char *dir = t_tmpdir_in("/var/tmp");
	struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_MSYNC,
					.mode = 0644 };
	struct nvmsg_consumer *c;
	struct nvmsg_stat st;
	char path[600];

	fail_dir_sync = 1;
	ASSERT_ERR(nvmsg_channel_create(dir, "ch", &o), -EIO);
	fail_dir_sync = 0;
	snprintf(path, sizeof(path), "%s/ch.nvmsg", dir);
	ASSERT_TRUE(access(path, F_OK) != 0);
	ASSERT_OK(nvmsg_channel_create(dir, "ch", &o));
	fail_dir_sync = 1;
	ASSERT_ERR(nvmsg_consumer_open(dir, "ch", "c", NVMSG_CONSUMER_CREATE,
				       &c),
		   -EIO);
	fail_dir_sync = 0;
	ASSERT_OK(nvmsg_channel_stat(dir, "ch", &st));
	ASSERT_EQ(st.nconsumers, 0);
	snprintf(path, sizeof(path), "%s/ch.c.nvcur", dir);
	ASSERT_TRUE(access(path, F_OK) != 0);
	ASSERT_OK(
		nvmsg_consumer_open(dir, "ch", "c", NVMSG_CONSUMER_CREATE, &c));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_channel_unlink(dir, "ch"));
}

/* forked -- a child's inherited handles are refused; the parent's work */
static void
forked(void)
{
	const char *dir = t_tmpdir();
	struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_VOLATILE,
					.mode = 0644 };
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	struct nvmsg_view v;
	int status;

	ASSERT_OK(nvmsg_channel_create(dir, "ch", &o));
	ASSERT_OK(
		nvmsg_consumer_open(dir, "ch", "c", NVMSG_CONSUMER_CREATE, &c));
	ASSERT_OK(nvmsg_producer_open(dir, "ch", 0, &p));
	ASSERT_OK(nvmsg_send(p, "a", 1, 0, 0));
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		int ok = nvmsg_send(p, "x", 1, 0, 0) == NVMSG_E_FORKED &&
			 nvmsg_producer_flush(p) == NVMSG_E_FORKED &&
			 nvmsg_view(c, &v, 0) == NVMSG_E_FORKED &&
			 nvmsg_ack(c) == NVMSG_E_FORKED &&
			 nvmsg_producer_close(&p) == NVMSG_E_FORKED;
		nvmsg_consumer_close(&c);
		_exit(ok ? 0 : 1);
	}
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the parent's producer still owns its slot and sends */
	ASSERT_OK(nvmsg_send(p, "b", 1, 0, 0));
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_TRUE(v.len == 1 && *(const char *)v.data == 'a');
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_TRUE(v.len == 1 && *(const char *)v.data == 'b');
	ASSERT_ERR(nvmsg_view(c, &v, 0), -EAGAIN);
	ASSERT_OK(nvmsg_ack(c));
	ASSERT_OK(nvmsg_producer_close(&p));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_channel_unlink(dir, "ch"));
}

int
main(void)
{
	dir_sync();
	forked();
	/* the real msync of the msync tier fails */
	run(NVMSG_TIER_MSYNC, "/var/tmp");
	printf("t_eio: msync tier: %u msyncs failed by injection\n", failed);
	/* the emulated tier's barrier fails at the choke point */
	failed = 0;
	nv_tier_set_hooks(&eio_hooks);
	run(NVMSG_TIER_EMULATED, "/dev/shm");
	nv_tier_set_hooks(NULL);
	printf("t_eio: emulated tier: %u barriers failed by injection\n",
	       failed);
	return T_PASS;
}
