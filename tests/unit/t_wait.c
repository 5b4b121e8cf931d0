/* SPDX-License-Identifier: MIT */
/*
 * t_wait.c -- chan/wait.c: deadlines, wait slices and futex waits.
 * Proves what "wait without spinning forever" and "never a hang" (I5)
 * rest on: deadline and slice arithmetic (forever, none, a slice cut at
 * the deadline, 0 once it passed), a futex wait returns at once when the
 * word already changed, times out when nobody wakes it, and is woken by a
 * store plus wake from another thread, and from another process through
 * a shared mapping.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "base/clock.h"
#include "chan/chan.h"
#include "t.h"

#define MS 1000000ull

static void
test_deadline(void)
{
	uint64_t now = nv_now_ns();

	ASSERT_U64_EQ(nv_deadline(-1), UINT64_MAX);
	ASSERT_U64_EQ(nv_deadline(INT64_MIN), UINT64_MAX);
	uint64_t d0 = nv_deadline(0);
	ASSERT_TRUE(d0 >= now && d0 - now < 1000 * MS);
	uint64_t d1 = nv_deadline(5000 * MS);
	ASSERT_TRUE(d1 >= now + 5000 * MS && d1 - now < 6000 * MS);
	/* forever: always the full slice */
	ASSERT_U64_EQ(nv_wait_slice(UINT64_MAX, 2 * MS), 2 * MS);
	ASSERT_U64_EQ(nv_wait_slice(UINT64_MAX, 0), 0);
	/* passed: 0 */
	ASSERT_U64_EQ(nv_wait_slice(now, 2 * MS), 0);
	ASSERT_U64_EQ(nv_wait_slice(0, 2 * MS), 0);
	ASSERT_U64_EQ(nv_wait_slice(nv_deadline(0), 2 * MS), 0);
	/* far: the full slice */
	ASSERT_U64_EQ(nv_wait_slice(nv_deadline(10000 * MS), 2 * MS), 2 * MS);
	/* near: cut at the deadline, never beyond it */
	uint64_t before = nv_now_ns();
	uint64_t d = before + 500 * MS;
	uint64_t sl = nv_wait_slice(d, 10000 * MS);
	ASSERT_TRUE(sl > 0 && sl <= 500 * MS);
	ASSERT_TRUE(before + sl <= d);
	/* the monotonic clock does not go backwards */
	uint64_t a = nv_now_ns(), b = nv_now_ns();
	ASSERT_TRUE(b >= a);
}

static nv_a32 word;

static void
test_futex_timeout(void)
{
	atomic_store(&word, 5);
	/* the word is not what the caller expects: at once, -EAGAIN */
	uint64_t t0 = nv_now_ns();
	ASSERT_ERR(nv_futex_wait(&word, 4, 2000 * MS), -EAGAIN);
	ASSERT_TRUE(nv_now_ns() - t0 < 1000 * MS);
	/* nobody wakes it: times out after about the timeout */
	t0 = nv_now_ns();
	ASSERT_ERR(nv_futex_wait(&word, 5, 50 * MS), -ETIMEDOUT);
	uint64_t took = nv_now_ns() - t0;
	ASSERT_TRUE(took >= 45 * MS);
	ASSERT_TRUE(took < 5000 * MS);
	/* a zero timeout returns at once */
	t0 = nv_now_ns();
	ASSERT_ERR(nv_futex_wait(&word, 5, 0), -ETIMEDOUT);
	ASSERT_TRUE(nv_now_ns() - t0 < 1000 * MS);
	/* a timeout with whole seconds and nanoseconds is converted right */
	t0 = nv_now_ns();
	ASSERT_ERR(nv_futex_wait(&word, 5, 1000 * MS + 20 * MS), -ETIMEDOUT);
	took = nv_now_ns() - t0;
	ASSERT_TRUE(took >= 1000 * MS && took < 6000 * MS);
	/* a wake with no waiter is harmless */
	nv_futex_wake(&word);
}

static atomic_int started;

static void *
waker(void *arg)
{
	(void)arg;
	while (!atomic_load(&started))
		;
	/* let the waiter reach the kernel, then change and wake */
	struct timespec ts = { 0, 50 * (long)MS };
	nanosleep(&ts, NULL);
	atomic_store_explicit(&word, 6, memory_order_release);
	nv_futex_wake(&word);
	return NULL;
}

static void
test_futex_wake_thread(void)
{
	pthread_t t;
	uint64_t t0;

	atomic_store(&word, 5);
	atomic_store(&started, 0);
	ASSERT_EQ(pthread_create(&t, NULL, waker, NULL), 0);
	t0 = nv_now_ns();
	atomic_store(&started, 1);
	/* as the library does: re-check after each return */
	while (atomic_load_explicit(&word, memory_order_acquire) == 5) {
		int rc = nv_futex_wait(&word, 5, 10000 * MS);
		ASSERT_TRUE(rc == 0 || rc == -EAGAIN || rc == -EINTR);
	}
	uint64_t took = nv_now_ns() - t0;
	ASSERT_EQ(atomic_load(&word), 6);
	/* woken, not timed out: far less than the 10 s timeout */
	ASSERT_TRUE(took < 5000 * MS);
	ASSERT_EQ(pthread_join(t, NULL), 0);
}

/* across processes: the word lives in a MAP_SHARED mapping */
static void
test_futex_wake_process(void)
{
	nv_a32 *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	ASSERT_TRUE(w != MAP_FAILED);
	atomic_store(w, 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		uint64_t t0 = nv_now_ns();
		atomic_store(&w[1], 1); /* ready */
		nv_futex_wake(&w[1]);
		while (atomic_load(w) == 0)
			nv_futex_wait(w, 0, 10000 * MS);
		_exit(nv_now_ns() - t0 < 5000 * MS ? 0 : 1);
	}
	while (atomic_load(&w[1]) == 0)
		nv_futex_wait(&w[1], 0, 100 * MS);
	struct timespec ts = { 0, 50 * (long)MS };
	nanosleep(&ts, NULL);
	atomic_store(w, 1);
	nv_futex_wake(w);
	ASSERT_EXIT(pid, 0);
	munmap(w, 4096);
}

int
main(void)
{
	t_watchdog(60);
	test_deadline();
	test_futex_timeout();
	test_futex_wake_thread();
	test_futex_wake_process();
	printf("t_wait: ok\n");
	return T_PASS;
}
