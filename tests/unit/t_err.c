/* SPDX-License-Identifier: MIT */
/*
 * t_err.c -- base/err.c: codes, names and the thread-local sentence.
 * Proves the error half of I5 (a bad input yields a clear error): every
 * NVMSG_E_* code is disjoint from -errno and has its own name, -errno codes
 * are named by the OS, and the sentence of nvmsg_errmsg() is per thread and
 * grows by appended context without overflowing.
 */
#include <pthread.h>

#include "base/err.h"
#include "t.h"

static const struct {
	int code;
	const char *name;
} codes[] = {
	{ NVMSG_E_CORRUPT, "NVMSG_E_CORRUPT" },
	{ NVMSG_E_VERSION, "NVMSG_E_VERSION" },
	{ NVMSG_E_NOT_PMEM, "NVMSG_E_NOT_PMEM" },
	{ NVMSG_E_TOO_BIG, "NVMSG_E_TOO_BIG" },
	{ NVMSG_E_EMPTY_MSG, "NVMSG_E_EMPTY_MSG" },
	{ NVMSG_E_WRONG_MODE, "NVMSG_E_WRONG_MODE" },
	{ NVMSG_E_NO_CONSUMER, "NVMSG_E_NO_CONSUMER" },
	{ NVMSG_E_FULL_TABLE, "NVMSG_E_FULL_TABLE" },
	{ NVMSG_E_BAD_NAME, "NVMSG_E_BAD_NAME" },
	{ NVMSG_E_MISMATCH, "NVMSG_E_MISMATCH" },
	{ NVMSG_E_TIER, "NVMSG_E_TIER" },
	{ NVMSG_E_FORKED, "NVMSG_E_FORKED" },
	{ NVMSG_E_DUPLICATE, "NVMSG_E_DUPLICATE" },
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static void
test_names(void)
{
	const char *unknown = nvmsg_strerror(NVMSG_E_BASE - 999);

	ASSERT_TRUE(unknown != NULL);
	for (size_t i = 0; i < NCODES; i++) {
		const char *s = nvmsg_strerror(codes[i].code);
		/* disjoint from -errno: the OS range ends at -4095 */
		ASSERT_TRUE(codes[i].code < -4095);
		ASSERT_TRUE(codes[i].code < NVMSG_E_BASE);
		ASSERT_TRUE(s != NULL);
		ASSERT_CONTAINS(s, codes[i].name);
		if (strcmp(s, unknown) == 0)
			T_FAILF("%s has the unknown-code text", codes[i].name);
		for (size_t j = 0; j < i; j++) {
			ASSERT_NE(codes[i].code, codes[j].code);
			if (strcmp(s, nvmsg_strerror(codes[j].code)) == 0)
				T_FAILF("%s and %s share the text \"%s\"",
					codes[i].name, codes[j].name, s);
		}
	}
	/* every code between BASE and the last one is named: a new code
	 * added to nvmsg.h without a name fails here */
	for (int c = NVMSG_E_BASE - 1; c >= NVMSG_E_DUPLICATE; c--)
		ASSERT_TRUE(strcmp(nvmsg_strerror(c), unknown) != 0);
	ASSERT_TRUE(strcmp(nvmsg_strerror(NVMSG_E_DUPLICATE - 1), unknown) ==
		    0);
	ASSERT_TRUE(strcmp(nvmsg_strerror(NVMSG_E_BASE), unknown) == 0);
	/* -errno: the OS names them */
	ASSERT_TRUE(strcmp(nvmsg_strerror(-ENOENT), strerror(ENOENT)) == 0);
	ASSERT_TRUE(strcmp(nvmsg_strerror(-EAGAIN), strerror(EAGAIN)) == 0);
	ASSERT_TRUE(strcmp(nvmsg_strerror(-EACCES), strerror(EACCES)) == 0);
	ASSERT_TRUE(strcmp(nvmsg_strerror(-ETIMEDOUT), strerror(ETIMEDOUT)) ==
		    0);
	ASSERT_TRUE(nvmsg_strerror(0) != NULL);
	ASSERT_TRUE(strcmp(nvmsg_strerror(0), unknown) != 0);
	/* positive and far-out codes are never NULL */
	ASSERT_TRUE(nvmsg_strerror(1) != NULL);
	ASSERT_TRUE(nvmsg_strerror(-5000) != NULL);
	ASSERT_TRUE(nvmsg_strerror(-2147483647 - 1) != NULL);
	ASSERT_TRUE(nvmsg_strerror(2147483647) != NULL);
}

static void
test_sentence(void)
{
	char big[2000];

	nv_err_clear();
	ASSERT_TRUE(nvmsg_errmsg() != NULL);
	ASSERT_EQ(nvmsg_errmsg()[0], '\0');
	ASSERT_EQ(nv_err(-ENOENT, "%s: no such thing %d", "/x/y", 7), -ENOENT);
	ASSERT_TRUE(strcmp(nvmsg_errmsg(), "/x/y: no such thing 7") == 0);
	/* appending keeps the first sentence and adds ": context" */
	ASSERT_EQ(nv_err_append(NVMSG_E_CORRUPT, "opening %s", "ch"),
		  NVMSG_E_CORRUPT);
	ASSERT_TRUE(strcmp(nvmsg_errmsg(),
			   "/x/y: no such thing 7: opening ch") == 0);
	ASSERT_EQ(nv_err_append(-EIO, "step %d", 3), -EIO);
	ASSERT_TRUE(strcmp(nvmsg_errmsg(),
			   "/x/y: no such thing 7: opening ch: step 3") == 0);
	/* a new error replaces the sentence */
	nv_err(-EINVAL, "fresh");
	ASSERT_TRUE(strcmp(nvmsg_errmsg(), "fresh") == 0);
	/* an overlong sentence is cut, never overflows; appending to a
	 * full buffer is a no-op that still returns the code */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nv_err(-EINVAL, "%s", big);
	size_t n = strlen(nvmsg_errmsg());
	ASSERT_TRUE(n > 100 && n < sizeof(big) - 1);
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(nv_err_append(-EIO, "%s", big), -EIO);
	ASSERT_TRUE(strlen(nvmsg_errmsg()) <= n + 2 + sizeof(big));
	ASSERT_TRUE(strlen(nvmsg_errmsg()) < 4096);
	/* appending to an empty sentence works (leading ": " allowed) */
	nv_err_clear();
	nv_err_append(-EIO, "ctx");
	ASSERT_CONTAINS(nvmsg_errmsg(), "ctx");
	nv_err_clear();
	ASSERT_EQ(nvmsg_errmsg()[0], '\0');
}

struct th {
	int id;
	int ok;
	pthread_barrier_t *bar;
};

static void *
thread_main(void *arg)
{
	struct th *t = arg;
	char want[64];

	/* a fresh thread starts with an empty sentence */
	if (nvmsg_errmsg()[0] != '\0')
		return NULL;
	snprintf(want, sizeof(want), "thread %d failed", t->id);
	nv_err(-EIO, "thread %d failed", t->id);
	/* all threads have set theirs before any checks its own */
	pthread_barrier_wait(t->bar);
	if (strcmp(nvmsg_errmsg(), want) != 0)
		return NULL;
	nv_err_append(-EIO, "ctx %d", t->id);
	pthread_barrier_wait(t->bar);
	snprintf(want, sizeof(want), "thread %d failed: ctx %d", t->id, t->id);
	if (strcmp(nvmsg_errmsg(), want) != 0)
		return NULL;
	t->ok = 1;
	return NULL;
}

static void
test_thread_local(void)
{
	enum { N = 4 };
	pthread_t tid[N];
	struct th t[N];
	pthread_barrier_t bar;

	nv_err(-EINVAL, "main thread");
	ASSERT_EQ(pthread_barrier_init(&bar, NULL, N), 0);
	for (int i = 0; i < N; i++) {
		t[i] = (struct th){ .id = i, .ok = 0, .bar = &bar };
		ASSERT_EQ(pthread_create(&tid[i], NULL, thread_main, &t[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(pthread_join(tid[i], NULL), 0);
		if (!t[i].ok)
			T_FAILF("thread %d saw another thread's sentence", i);
	}
	pthread_barrier_destroy(&bar);
	ASSERT_TRUE(strcmp(nvmsg_errmsg(), "main thread") == 0);
}

/* public calls set the sentence: a failing call names what failed */
static void
test_public(void)
{
	struct nvmsg_producer *p = NULL;

	ASSERT_ERR(nvmsg_producer_open("/nonexistent-nvmsg-dir", "ch",
				       NVMSG_ANY_PRODUCER, &p),
		   -ENOENT);
	ASSERT_TRUE(p == NULL);
	ASSERT_CONTAINS(nvmsg_errmsg(), "/nonexistent-nvmsg-dir/ch.nvmsg");
	ASSERT_ERR(nvmsg_tier_parse("floppy"), -EINVAL);
	ASSERT_CONTAINS(nvmsg_errmsg(), "floppy");
	char ver[32];
	snprintf(ver, sizeof(ver), "%d.%d.%d", NVMSG_VERSION_MAJOR,
		 NVMSG_VERSION_MINOR, NVMSG_VERSION_PATCH);
	ASSERT_TRUE(nvmsg_version() != NULL);
	ASSERT_TRUE(strcmp(nvmsg_version(), ver) == 0);
}

int
main(void)
{
	test_names();
	test_sentence();
	test_thread_local();
	test_public();
	printf("t_err: ok\n");
	return T_PASS;
}
