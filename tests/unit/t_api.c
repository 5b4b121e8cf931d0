/* SPDX-License-Identifier: MIT */
/*
 * t_api.c -- the public API against bad input.
 * Proves the API half of I5: every bad argument (NULL anywhere, empty or
 * oversized message, a handle of the other role passed through a cast,
 * invalid names, bad geometry, mode or tier, a channel created twice, an
 * unknown consumer, full slot tables, misuse of claims) returns a named
 * error with a sentence, never a crash, and leaves nothing behind; out
 * pointers are NULL on failure; close accepts NULL and pointer-to-NULL;
 * after all of it the channel still carries messages intact.
 */
#include <stdint.h>

#include "t.h"

static const char *dir;

static struct nvmsg_producer *
open_p(const char *name)
{
	struct nvmsg_producer *p = NULL;

	ASSERT_OK(nvmsg_producer_open(dir, name, NVMSG_ANY_PRODUCER, &p));
	ASSERT_TRUE(p != NULL);
	return p;
}

static struct nvmsg_consumer *
open_c(const char *name, const char *cons)
{
	struct nvmsg_consumer *c = NULL;

	ASSERT_OK(nvmsg_consumer_open(dir, name, cons, NVMSG_CONSUMER_CREATE,
				      &c));
	ASSERT_TRUE(c != NULL);
	return c;
}

static void
test_null(void)
{
	struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_VOLATILE,
					.capacity_bytes = 4096 };
	struct nvmsg_producer *p = (void *)1, *pp;
	struct nvmsg_consumer *c = (void *)1, *cc;
	struct nvmsg_stat st;
	struct nvmsg_claim cl;
	struct nvmsg_view v;
	char buf[64];
	size_t len;

	ASSERT_ERR(nvmsg_channel_create(NULL, "n", &o), -EINVAL);
	ASSERT_CONTAINS(nvmsg_errmsg(), "NULL");
	ASSERT_ERR(nvmsg_channel_create(dir, NULL, &o), NVMSG_E_BAD_NAME);
	ASSERT_ERR(nvmsg_channel_create(dir, "n", NULL), -EINVAL);
	ASSERT_EQ(t_count_entries(dir), 0);
	ASSERT_ERR(nvmsg_channel_unlink(NULL, "n"), -EINVAL);
	ASSERT_ERR(nvmsg_channel_unlink(dir, NULL), NVMSG_E_BAD_NAME);
	ASSERT_ERR(nvmsg_channel_stat(NULL, "n", &st), -EINVAL);
	ASSERT_ERR(nvmsg_channel_stat(dir, NULL, &st), NVMSG_E_BAD_NAME);

	t_create(dir, "n", NVMSG_TIER_VOLATILE, 4096, 2, 2);
	ASSERT_ERR(nvmsg_channel_stat(dir, "n", NULL), -EINVAL);
	/* opens: out is set to NULL on every failure */
	ASSERT_ERR(nvmsg_producer_open(NULL, "n", 0, &p), -EINVAL);
	ASSERT_TRUE(p == NULL);
	p = (void *)1;
	ASSERT_ERR(nvmsg_producer_open(dir, NULL, 0, &p), NVMSG_E_BAD_NAME);
	ASSERT_TRUE(p == NULL);
	ASSERT_ERR(nvmsg_producer_open(dir, "n", 0, NULL), -EINVAL);
	ASSERT_ERR(nvmsg_consumer_open(NULL, "n", "c", 0, &c), -EINVAL);
	ASSERT_TRUE(c == NULL);
	c = (void *)1;
	ASSERT_ERR(nvmsg_consumer_open(dir, NULL, "c", 0, &c),
		   NVMSG_E_BAD_NAME);
	ASSERT_TRUE(c == NULL);
	c = (void *)1;
	ASSERT_ERR(nvmsg_consumer_open(dir, "n", NULL, NVMSG_CONSUMER_CREATE,
				       &c),
		   NVMSG_E_BAD_NAME);
	ASSERT_TRUE(c == NULL);
	ASSERT_ERR(nvmsg_consumer_open(dir, "n", "c", NVMSG_CONSUMER_CREATE,
				       NULL),
		   -EINVAL);
	/* nothing was registered by the failed opens */
	ASSERT_OK(nvmsg_channel_stat(dir, "n", &st));
	ASSERT_EQ(st.nconsumers, 0);
	ASSERT_EQ(st.nproducers, 0);

	/* handles: NULL handle and NULL arguments */
	pp = open_p("n");
	cc = open_c("n", "c");
	ASSERT_ERR(nvmsg_send(NULL, "x", 1, 0, 0), -EINVAL);
	ASSERT_ERR(nvmsg_send(pp, NULL, 1, 0, 0), -EINVAL);
	ASSERT_ERR(nvmsg_send(pp, NULL, 0, 0, 0), -EINVAL);
	ASSERT_ERR(nvmsg_reserve(NULL, 1, &cl, 0, 0), -EINVAL);
	ASSERT_ERR(nvmsg_reserve(pp, 1, NULL, 0, 0), -EINVAL);
	ASSERT_ERR(nvmsg_commit(NULL, &cl, 0), -EINVAL);
	ASSERT_ERR(nvmsg_commit(pp, NULL, 0), -EINVAL);
	ASSERT_ERR(nvmsg_abort(NULL, &cl), -EINVAL);
	ASSERT_ERR(nvmsg_abort(pp, NULL), -EINVAL);
	ASSERT_ERR(nvmsg_producer_flush(NULL), -EINVAL);
	ASSERT_EQ(nvmsg_producer_id(NULL), 0);
	ASSERT_EQ(nvmsg_producer_max_msg(NULL), 0);
	ASSERT_ERR(nvmsg_view(NULL, &v, 0), -EINVAL);
	ASSERT_ERR(nvmsg_view(cc, NULL, 0), -EINVAL);
	ASSERT_ERR(nvmsg_ack(NULL), -EINVAL);
	ASSERT_ERR(nvmsg_recv(NULL, buf, sizeof(buf), &len, 0), -EINVAL);
	ASSERT_ERR(nvmsg_recv(cc, NULL, sizeof(buf), &len, 0), -EINVAL);
	ASSERT_ERR(nvmsg_recv(cc, buf, sizeof(buf), NULL, 0), -EINVAL);
	/* a reserve with a NULL claim opened nothing */
	ASSERT_OK(nvmsg_send(pp, "ok", 2, 0, 0));
	ASSERT_OK(nvmsg_recv(cc, buf, sizeof(buf), &len, 0));
	ASSERT_EQ(len, 2);
	/* the NULL-pointer checks come before a NULL buffer is read even
	 * with a NULL len */
	ASSERT_ERR(nvmsg_recv(cc, NULL, 0, NULL, 0), -EINVAL);

	/* close: NULL, pointer to NULL, and it sets *p to NULL */
	nvmsg_producer_close(NULL);
	nvmsg_consumer_close(NULL);
	p = NULL;
	c = NULL;
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
	nvmsg_producer_close(&pp);
	ASSERT_TRUE(pp == NULL);
	nvmsg_producer_close(&pp);
	nvmsg_consumer_close(&cc);
	ASSERT_TRUE(cc == NULL);
	nvmsg_consumer_close(&cc);

	/* library-wide helpers */
	ASSERT_ERR(nvmsg_tier_parse(NULL), -EINVAL);
	ASSERT_TRUE(nvmsg_tier_name(0) == NULL);
	ASSERT_TRUE(nvmsg_strerror(-123456) != NULL);
	ASSERT_TRUE(nvmsg_errmsg() != NULL);
	ASSERT_OK(nvmsg_channel_unlink(dir, "n"));
}

static void
test_sizes(void)
{
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	struct nvmsg_claim cl;
	struct nvmsg_view v;
	static unsigned char big[8192], back[8192];
	size_t len, max;

	t_create(dir, "s", NVMSG_TIER_EMULATED, 8192, 1, 1);
	c = open_c("s", "c");
	p = open_p("s");
	max = nvmsg_producer_max_msg(p);
	ASSERT_EQ(max, 8192 / 2 - 32);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	/* empty */
	ASSERT_ERR(nvmsg_send(p, big, 0, 0, 0), NVMSG_E_EMPTY_MSG);
	ASSERT_CONTAINS(nvmsg_errmsg(), "zero-length");
	ASSERT_ERR(nvmsg_send(p, big, 0, NVMSG_BLOCK, -1), NVMSG_E_EMPTY_MSG);
	ASSERT_ERR(nvmsg_reserve(p, 0, &cl, 0, 0), NVMSG_E_EMPTY_MSG);
	/* too big, by one and by far; never blocks even with NVMSG_BLOCK */
	ASSERT_ERR(nvmsg_send(p, big, max + 1, 0, 0), NVMSG_E_TOO_BIG);
	ASSERT_CONTAINS(nvmsg_errmsg(), "at most");
	ASSERT_ERR(nvmsg_send(p, big, max + 1, NVMSG_BLOCK, -1),
		   NVMSG_E_TOO_BIG);
	ASSERT_ERR(nvmsg_send(p, big, SIZE_MAX, 0, 0), NVMSG_E_TOO_BIG);
	ASSERT_ERR(nvmsg_send(p, big, (size_t)UINT32_MAX + 1, 0, 0),
		   NVMSG_E_TOO_BIG);
	ASSERT_ERR(nvmsg_reserve(p, max + 1, &cl, 0, 0), NVMSG_E_TOO_BIG);
	ASSERT_ERR(nvmsg_reserve(p, SIZE_MAX, &cl, 0, 0), NVMSG_E_TOO_BIG);
	ASSERT_EQ(nvmsg_view(c, &v, 0), -EAGAIN);
	/* exactly the maximum goes through intact, twice around the ring */
	for (int round = 0; round < 5; round++) {
		ASSERT_OK(nvmsg_send(p, big, max, 0, 0));
		ASSERT_OK(nvmsg_view(c, &v, 0));
		ASSERT_EQ(v.len, max);
		ASSERT_EQ(v.seq, round + 1);
		ASSERT_TRUE(memcmp(v.data, big, max) == 0);
		ASSERT_OK(nvmsg_ack(c));
	}
	/* recv into a buffer too small: NVMSG_E_TOO_BIG, *len says the
	 * size, the message is not consumed */
	ASSERT_OK(nvmsg_send(p, big, 100, 0, 0));
	len = 0;
	ASSERT_ERR(nvmsg_recv(c, back, 99, &len, 0), NVMSG_E_TOO_BIG);
	ASSERT_EQ(len, 100);
	ASSERT_ERR(nvmsg_recv(c, back, 0, &len, 0), NVMSG_E_TOO_BIG);
	ASSERT_OK(nvmsg_recv(c, back, 100, &len, 0));
	ASSERT_EQ(len, 100);
	ASSERT_TRUE(memcmp(back, big, 100) == 0);
	ASSERT_EQ(nvmsg_view(c, &v, 0), -EAGAIN);
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
}

static void
test_claims(void)
{
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	struct nvmsg_claim cl, cl2;
	struct nvmsg_view v;

	t_create(dir, "cl", NVMSG_TIER_VOLATILE, 4096, 1, 1);
	c = open_c("cl", "c");
	p = open_p("cl");
	/* commit or abort with no claim open */
	memset(&cl, 0, sizeof(cl));
	ASSERT_ERR(nvmsg_commit(p, &cl, 0), -EINVAL);
	ASSERT_ERR(nvmsg_abort(p, &cl), -EINVAL);
	/* one claim at a time; send refuses while it is open */
	ASSERT_OK(nvmsg_reserve(p, 10, &cl, 0, 0));
	ASSERT_EQ(cl.len, 10);
	ASSERT_EQ(cl.seq, 1);
	ASSERT_ERR(nvmsg_reserve(p, 10, &cl2, 0, 0), -EBUSY);
	ASSERT_ERR(nvmsg_send(p, "x", 1, 0, 0), -EBUSY);
	/* a forged claim is refused; the real one still commits */
	cl2 = cl;
	cl2._pos += 32;
	ASSERT_ERR(nvmsg_commit(p, &cl2, 0), -EINVAL);
	ASSERT_ERR(nvmsg_abort(p, &cl2), -EINVAL);
	memcpy(cl.data, "0123456789", 10);
	ASSERT_OK(nvmsg_commit(p, &cl, 0));
	/* committing twice is refused */
	ASSERT_ERR(nvmsg_commit(p, &cl, 0), -EINVAL);
	/* an aborted claim sends nothing and frees the producer */
	ASSERT_OK(nvmsg_reserve(p, 20, &cl, 0, 0));
	memset(cl.data, 'z', 20);
	ASSERT_OK(nvmsg_abort(p, &cl));
	ASSERT_ERR(nvmsg_commit(p, &cl, 0), -EINVAL);
	ASSERT_ERR(nvmsg_abort(p, &cl), -EINVAL);
	ASSERT_OK(nvmsg_send(p, "after", 5, 0, 0));
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_EQ(v.len, 10);
	ASSERT_TRUE(memcmp(v.data, "0123456789", 10) == 0);
	ASSERT_OK(nvmsg_view(c, &v, 0));
	ASSERT_EQ(v.len, 5);
	ASSERT_EQ(v.seq, 2); /* the aborted claim took no sequence number */
	ASSERT_EQ(nvmsg_view(c, &v, 0), -EAGAIN);
	/* flush with nothing pending */
	ASSERT_OK(nvmsg_producer_flush(p));
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
}

static void
test_wrong_mode(void)
{
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	struct nvmsg_claim cl;
	struct nvmsg_view v;
	char buf[16];
	size_t len;

	t_create(dir, "w", NVMSG_TIER_VOLATILE, 4096, 1, 1);
	c = open_c("w", "c");
	p = open_p("w");
	struct nvmsg_producer *cp = (struct nvmsg_producer *)(void *)c;
	struct nvmsg_consumer *pc = (struct nvmsg_consumer *)(void *)p;

	ASSERT_ERR(nvmsg_send(cp, "x", 1, 0, 0), NVMSG_E_WRONG_MODE);
	ASSERT_CONTAINS(nvmsg_errmsg(), "not a producer");
	ASSERT_ERR(nvmsg_send(cp, "x", 1, NVMSG_BLOCK, -1), NVMSG_E_WRONG_MODE);
	ASSERT_ERR(nvmsg_reserve(cp, 1, &cl, 0, 0), NVMSG_E_WRONG_MODE);
	ASSERT_ERR(nvmsg_commit(cp, &cl, 0), NVMSG_E_WRONG_MODE);
	ASSERT_ERR(nvmsg_abort(cp, &cl), NVMSG_E_WRONG_MODE);
	ASSERT_ERR(nvmsg_producer_flush(cp), NVMSG_E_WRONG_MODE);
	ASSERT_ERR(nvmsg_view(pc, &v, 0), NVMSG_E_WRONG_MODE);
	ASSERT_CONTAINS(nvmsg_errmsg(), "not a consumer");
	ASSERT_ERR(nvmsg_view(pc, &v, -1), NVMSG_E_WRONG_MODE);
	ASSERT_ERR(nvmsg_ack(pc), NVMSG_E_WRONG_MODE);
	ASSERT_ERR(nvmsg_recv(pc, buf, sizeof(buf), &len, 0),
		   NVMSG_E_WRONG_MODE);
	/* both handles still work */
	ASSERT_OK(nvmsg_send(p, "x", 1, 0, 0));
	ASSERT_OK(nvmsg_recv(c, buf, sizeof(buf), &len, 0));
	ASSERT_EQ(len, 1);
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
	/* a closed handle's memory is gone; nothing more to test there */
}

static void
test_names(void)
{
	struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_VOLATILE,
					.capacity_bytes = 4096 };
	struct nvmsg_producer *p = NULL;
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_stat st;
	char n48[49], n47[48];
	int before = t_count_entries(dir);

	memset(n48, 'x', 48);
	n48[48] = '\0';
	memset(n47, 'y', 47);
	n47[47] = '\0';
	const char *bad[] = { "",     ".",   "..",  ".ch", "a/b", "../up",
			      "/abs", "a b", "a\n", "a*",  "ä",	  n48 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_ERR(nvmsg_channel_create(dir, bad[i], &o),
			   NVMSG_E_BAD_NAME);
		ASSERT_CONTAINS(nvmsg_errmsg(), "invalid channel name");
		ASSERT_ERR(nvmsg_producer_open(dir, bad[i], 0, &p),
			   NVMSG_E_BAD_NAME);
		ASSERT_ERR(nvmsg_consumer_open(dir, bad[i], "c",
					       NVMSG_CONSUMER_CREATE, &c),
			   NVMSG_E_BAD_NAME);
		ASSERT_ERR(nvmsg_channel_stat(dir, bad[i], &st),
			   NVMSG_E_BAD_NAME);
		ASSERT_ERR(nvmsg_channel_unlink(dir, bad[i]), NVMSG_E_BAD_NAME);
	}
	ASSERT_EQ(t_count_entries(dir), before);
	/* the longest name, and dots inside a channel name, are fine */
	t_create(dir, n47, NVMSG_TIER_VOLATILE, 4096, 1, 2);
	t_create(dir, "a.b-c_D.9", NVMSG_TIER_VOLATILE, 4096, 1, 2);
	/* consumer names: no dots; registration refuses bad ones */
	const char *badc[] = { "", ".", "a.b", "c.", "a/b", "a b", n48 };
	for (size_t i = 0; i < sizeof(badc) / sizeof(badc[0]); i++) {
		ASSERT_ERR(nvmsg_consumer_open(dir, "a.b-c_D.9", badc[i],
					       NVMSG_CONSUMER_CREATE, &c),
			   NVMSG_E_BAD_NAME);
		ASSERT_CONTAINS(nvmsg_errmsg(), "invalid consumer name");
		ASSERT_TRUE(c == NULL);
	}
	ASSERT_OK(nvmsg_channel_stat(dir, "a.b-c_D.9", &st));
	ASSERT_EQ(st.nconsumers, 0);
	c = open_c(n47, n47);
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_channel_unlink(dir, n47));
	ASSERT_OK(nvmsg_channel_unlink(dir, "a.b-c_D.9"));
	ASSERT_EQ(t_count_entries(dir), before);
}

static void
test_opts(void)
{
	struct nvmsg_channel_opts o;
	struct nvmsg_stat st;
	int before = t_count_entries(dir);

	/* geometry */
	uint64_t caps[] = { 1,
			    2048,
			    4095,
			    4097,
			    5000,
			    3u << 12,
			    NVMSG_MAX_CAPACITY * 2,
			    UINT64_MAX,
			    (uint64_t)1 << 63 };
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		o = (struct nvmsg_channel_opts){ .tier = NVMSG_TIER_VOLATILE,
						 .capacity_bytes = caps[i] };
		ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EINVAL);
		ASSERT_CONTAINS(nvmsg_errmsg(), "capacity");
	}
	o = (struct nvmsg_channel_opts){ .tier = NVMSG_TIER_VOLATILE,
					 .capacity_bytes = 4096,
					 .max_producers = 65 };
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EINVAL);
	o.max_producers = 1000000;
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EINVAL);
	o.max_producers = 1;
	o.max_consumers = 65;
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EINVAL);
	o.max_consumers = 0xffffffffu;
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EINVAL);
	/* mode: only permission bits */
	o.max_consumers = 1;
	o.mode = 0100644;
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EINVAL);
	ASSERT_CONTAINS(nvmsg_errmsg(), "mode");
	o.mode = 070000;
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EINVAL);
	/* tier */
	int tiers[] = { 0, -1, 5, 99, 1 << 30 };
	for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
		o = (struct nvmsg_channel_opts){ .tier = tiers[i],
						 .capacity_bytes = 4096 };
		ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), NVMSG_E_TIER);
		ASSERT_CONTAINS(nvmsg_errmsg(), "tier");
	}
	/* no refusal left a file, not even a temporary one */
	ASSERT_EQ(t_count_entries(dir), before);
	/* a missing directory */
	o = (struct nvmsg_channel_opts){ .tier = NVMSG_TIER_VOLATILE,
					 .capacity_bytes = 4096 };
	ASSERT_ERR(nvmsg_channel_create(t_path(dir, "nodir"), "o", &o),
		   -ENOENT);
	ASSERT_CONTAINS(nvmsg_errmsg(), "nodir");
	/* defaults: zero means default */
	o = (struct nvmsg_channel_opts){ .tier = NVMSG_TIER_VOLATILE };
	ASSERT_OK(nvmsg_channel_create(dir, "o", &o));
	ASSERT_OK(nvmsg_channel_stat(dir, "o", &st));
	ASSERT_EQ(st.capacity_bytes, 1u << 20);
	ASSERT_EQ(st.max_producers, 8);
	ASSERT_EQ(st.max_consumers, 16);
	ASSERT_EQ(st.tier, NVMSG_TIER_VOLATILE);
	struct stat sb;
	ASSERT_EQ(stat(t_path(dir, "o.nvmsg"), &sb), 0);
	ASSERT_EQ(sb.st_mode & 07777, 0644);
	/* twice */
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EEXIST);
	ASSERT_CONTAINS(nvmsg_errmsg(), "o.nvmsg");
	o.tier = NVMSG_TIER_EMULATED;
	ASSERT_ERR(nvmsg_channel_create(dir, "o", &o), -EEXIST);
	/* the first one is intact */
	ASSERT_OK(nvmsg_channel_stat(dir, "o", &st));
	ASSERT_EQ(st.tier, NVMSG_TIER_VOLATILE);
	ASSERT_OK(nvmsg_channel_unlink(dir, "o"));
	ASSERT_ERR(nvmsg_channel_unlink(dir, "o"), -ENOENT);
	ASSERT_EQ(t_count_entries(dir), before);
	/* opening what does not exist */
	struct nvmsg_producer *p = NULL;
	struct nvmsg_consumer *c = NULL;
	ASSERT_ERR(nvmsg_producer_open(dir, "o", 0, &p), -ENOENT);
	ASSERT_ERR(nvmsg_consumer_open(dir, "o", "c", NVMSG_CONSUMER_CREATE,
				       &c),
		   -ENOENT);
	ASSERT_ERR(nvmsg_channel_stat(dir, "o", &st), -ENOENT);
}

static void
test_tables(void)
{
	struct nvmsg_producer *p = NULL;
	struct nvmsg_consumer *c = NULL, *c1, *c2;

	t_create(dir, "t", NVMSG_TIER_VOLATILE, 4096, 2, 2);
	/* unknown consumer without CREATE */
	ASSERT_ERR(nvmsg_consumer_open(dir, "t", "nobody", 0, &c),
		   NVMSG_E_NO_CONSUMER);
	ASSERT_CONTAINS(nvmsg_errmsg(), "nobody");
	ASSERT_CONTAINS(nvmsg_errmsg(), "NVMSG_CONSUMER_CREATE");
	ASSERT_TRUE(c == NULL);
	/* the consumer table fills */
	c1 = open_c("t", "one");
	c2 = open_c("t", "two");
	ASSERT_ERR(nvmsg_consumer_open(dir, "t", "three", NVMSG_CONSUMER_CREATE,
				       &c),
		   NVMSG_E_FULL_TABLE);
	ASSERT_CONTAINS(nvmsg_errmsg(), "consumer slots");
	ASSERT_TRUE(c == NULL);
	ASSERT_TRUE(access(t_path(dir, "t.three.nvcur"), F_OK) != 0);
	/* an existing name opens (no new slot needed), CREATE or not */
	ASSERT_OK(nvmsg_consumer_open(dir, "t", "one", NVMSG_CONSUMER_CREATE,
				      &c));
	nvmsg_consumer_close(&c);
	/* producer ids out of range */
	ASSERT_ERR(nvmsg_producer_open(dir, "t", 2, &p), -EINVAL);
	ASSERT_CONTAINS(nvmsg_errmsg(), "out of range");
	ASSERT_ERR(nvmsg_producer_open(dir, "t", -2, &p), -EINVAL);
	ASSERT_ERR(nvmsg_producer_open(dir, "t", 1 << 20, &p), -EINVAL);
	ASSERT_TRUE(p == NULL);
	nvmsg_consumer_close(&c1);
	nvmsg_consumer_close(&c2);

	/*
	 * The producer table fills: two children hold both slots of a
	 * channel without consumers and wait; the parent's open fails.
	 */
	int ready[2], go[2];
	pid_t kids[2];
	char ch = 0;

	t_create(dir, "pt", NVMSG_TIER_VOLATILE, 4096, 2, 1);
	ASSERT_EQ(pipe(ready), 0);
	ASSERT_EQ(pipe(go), 0);
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		ASSERT_TRUE(kids[k] >= 0);
		if (kids[k] == 0) {
			struct nvmsg_producer *kp = NULL;
			close(go[1]);
			if (nvmsg_producer_open(dir, "pt", k, &kp) != 0)
				_exit(2);
			if (write(ready[1], &ch, 1) != 1)
				_exit(3);
			if (read(go[0], &ch, 1) < 0)
				_exit(4);
			_exit(0);
		}
	}
	close(go[0]);
	for (int k = 0; k < 2; k++)
		ASSERT_EQ(read(ready[0], &ch, 1), 1);
	int rc_any = nvmsg_producer_open(dir, "pt", NVMSG_ANY_PRODUCER, &p);
	char msg[512];
	snprintf(msg, sizeof(msg), "%s", nvmsg_errmsg());
	int rc_one = nvmsg_producer_open(dir, "pt", 1, &p);
	close(go[1]); /* the children exit */
	for (int k = 0; k < 2; k++)
		ASSERT_EXIT(kids[k], 0);
	ASSERT_ERR(rc_any, NVMSG_E_FULL_TABLE);
	ASSERT_CONTAINS(msg, "producer slots");
	ASSERT_ERR(rc_one, -EBUSY);
	ASSERT_TRUE(p == NULL);
	/* their owners exited without closing: the slots are free again */
	ASSERT_OK(nvmsg_producer_open(dir, "pt", NVMSG_ANY_PRODUCER, &p));
	nvmsg_producer_close(&p);
	close(ready[0]);
	close(ready[1]);
}

/* the channel carries messages intact after all the bad input above */
static void
test_still_works(void)
{
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	char buf[64];
	size_t len;

	t_create(dir, "ok", NVMSG_TIER_VOLATILE, 4096, 1, 1);
	c = open_c("ok", "c");
	p = open_p("ok");
	for (int i = 0; i < 500; i++) {
		char m[32];
		int n = snprintf(m, sizeof(m), "m%d", i);
		ASSERT_OK(nvmsg_send(p, m, (size_t)n, 0, 0));
		ASSERT_EQ(nvmsg_send(p, NULL, 3, 0, 0), -EINVAL);
		ASSERT_EQ(nvmsg_send(p, m, 0, 0, 0), NVMSG_E_EMPTY_MSG);
		ASSERT_OK(nvmsg_recv(c, buf, sizeof(buf), &len, 0));
		ASSERT_EQ(len, n);
		ASSERT_TRUE(memcmp(buf, m, len) == 0);
	}
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
}

/*
 * Regression checks for two bugs found by this test (both fixed):
 *  1. consumer open without NVMSG_CONSUMER_CREATE answered an invalid
 *     consumer name with NVMSG_E_NO_CONSUMER (fixed in f421565);
 *  2. one process opening more producers than the channel has slots never
 *     got NVMSG_E_FULL_TABLE: each handle took slot 0 again (the owners
 *     start-time bug, fixed in 30c0f46).
 */
static void
test_regressions(void)
{
	struct nvmsg_producer *p[3] = { NULL, NULL, NULL };
	struct nvmsg_consumer *c = NULL;

	t_create(dir, "rg", NVMSG_TIER_VOLATILE, 4096, 2, 2);
	ASSERT_ERR(nvmsg_consumer_open(dir, "rg", "a.b", 0, &c),
		   NVMSG_E_BAD_NAME);
	ASSERT_ERR(nvmsg_consumer_open(dir, "rg", "", 0, &c), NVMSG_E_BAD_NAME);
	ASSERT_TRUE(c == NULL);
	ASSERT_OK(nvmsg_producer_open(dir, "rg", NVMSG_ANY_PRODUCER, &p[0]));
	ASSERT_OK(nvmsg_producer_open(dir, "rg", NVMSG_ANY_PRODUCER, &p[1]));
	ASSERT_NE(nvmsg_producer_id(p[0]), nvmsg_producer_id(p[1]));
	ASSERT_ERR(nvmsg_producer_open(dir, "rg", NVMSG_ANY_PRODUCER, &p[2]),
		   NVMSG_E_FULL_TABLE);
	ASSERT_CONTAINS(nvmsg_errmsg(), "producer slots");
	ASSERT_TRUE(p[2] == NULL);
	/* a live handle's slot is not taken by an explicit open either */
	ASSERT_ERR(nvmsg_producer_open(dir, "rg", 0, &p[2]), -EBUSY);
	nvmsg_producer_close(&p[0]);
	ASSERT_OK(nvmsg_producer_open(dir, "rg", NVMSG_ANY_PRODUCER, &p[2]));
	ASSERT_EQ(nvmsg_producer_id(p[2]), 0);
	nvmsg_producer_close(&p[1]);
	nvmsg_producer_close(&p[2]);
}

int
main(void)
{
	dir = t_tmpdir();
	t_watchdog(60);
	test_null();
	test_sizes();
	test_claims();
	test_wrong_mode();
	test_names();
	test_opts();
	test_tables();
	test_still_works();
	test_regressions();
	printf("t_api: ok\n");
	return T_PASS;
}
