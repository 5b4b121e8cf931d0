/* SPDX-License-Identifier: MIT */
/*
 * t_chan.c -- channel API on every available tier, in one process.
 * Proves: fan-out to every named consumer, per-producer order (I3),
 * resume after the last ack, back-pressure never overwrites an unacked
 * record (-EAGAIN), wrap-around, zero-copy reserve/commit, batching.
 */
#include "t.h"

static void
roundtrip(int tier)
{
	const char *dir = t_tmpdir();
	struct nvmsg_producer *p = NULL;
	struct nvmsg_consumer *a = NULL, *b = NULL;
	struct nvmsg_view v;
	char buf[256];
	size_t len;

	t_create(dir, "ch", tier, 4096, 2, 4);
	ASSERT_OK(nvmsg_consumer_open(
		dir, "ch", "a", NVMSG_CONSUMER_CREATE | NVMSG_CONSUMER_VERIFY,
		&a));
	ASSERT_OK(
		nvmsg_consumer_open(dir, "ch", "b", NVMSG_CONSUMER_CREATE, &b));
	ASSERT_OK(nvmsg_producer_open(dir, "ch", NVMSG_ANY_PRODUCER, &p));
	ASSERT_EQ(nvmsg_view(a, &v, 0), -EAGAIN);

	/* fill the ring until back-pressure: b never acks */
	int sent = 0, rc;
	for (;;) {
		snprintf(buf, sizeof(buf), "message %d", sent);
		rc = nvmsg_send(p, buf, strlen(buf), 0, 0);
		if (rc == -EAGAIN)
			break;
		ASSERT_OK(rc);
		sent++;
		ASSERT_TRUE(sent < 1000);
	}
	ASSERT_TRUE(sent > 10);
	/* a receives all, in order */
	for (int i = 0; i < sent; i++) {
		char exp[64];
		ASSERT_OK(nvmsg_recv(a, buf, sizeof(buf) - 1, &len, 0));
		buf[len] = '\0';
		snprintf(exp, sizeof(exp), "message %d", i);
		if (strcmp(buf, exp) != 0)
			T_FAILF("got '%s', want '%s'", buf, exp);
	}
	ASSERT_EQ(nvmsg_view(a, &v, 0), -EAGAIN);
	/* still full: b has acked nothing */
	ASSERT_EQ(nvmsg_send(p, "x", 1, 0, 0), -EAGAIN);
	ASSERT_EQ(nvmsg_send(p, "x", 1, NVMSG_BLOCK, 1000000), -ETIMEDOUT);
	/* b views half, restarts without ack, sees them again */
	for (int i = 0; i < sent / 2; i++)
		ASSERT_OK(nvmsg_view(b, &v, 0));
	nvmsg_consumer_close(&b);
	ASSERT_OK(nvmsg_consumer_open(dir, "ch", "b", 0, &b));
	for (int i = 0; i < sent / 2; i++) {
		ASSERT_OK(nvmsg_view(b, &v, 0));
		ASSERT_EQ(v.seq, (uint64_t)i + 1);
	}
	ASSERT_OK(nvmsg_ack(b));
	nvmsg_consumer_close(&b);
	ASSERT_OK(nvmsg_consumer_open(dir, "ch", "b", 0, &b));
	ASSERT_OK(nvmsg_view(b, &v, 0));
	ASSERT_EQ(v.seq, (uint64_t)sent / 2 + 1);
	for (int i = sent / 2 + 1; i < sent; i++)
		ASSERT_OK(nvmsg_view(b, &v, 0));
	ASSERT_OK(nvmsg_ack(b));
	/* space again; wrap around many times with zero-copy and batches */
	uint64_t seq = (uint64_t)sent;
	for (int round = 0; round < 300; round++) {
		struct nvmsg_claim cl;
		ASSERT_OK(nvmsg_reserve(p, 100 + round % 50, &cl, 0, 0));
		memset(cl.data, round & 0xff, cl.len);
		ASSERT_OK(nvmsg_commit(p, &cl, NVMSG_MORE));
		ASSERT_OK(nvmsg_send(p, "tail", 4, 0, 0));
		seq += 2;
		for (int k = 0; k < 2; k++) {
			struct nvmsg_consumer *c = k ? b : a;
			ASSERT_OK(nvmsg_view(c, &v, 0));
			ASSERT_EQ(v.len, 100 + round % 50);
			ASSERT_EQ(((const unsigned char *)v.data)[0],
				  round & 0xff);
			ASSERT_OK(nvmsg_view(c, &v, 0));
			ASSERT_EQ(v.seq, seq);
			ASSERT_OK(nvmsg_ack(c));
		}
	}
	/* a producer that reopens its slot continues the sequence */
	unsigned id = nvmsg_producer_id(p);
	nvmsg_producer_close(&p);
	ASSERT_OK(nvmsg_producer_open(dir, "ch", (int)id, &p));
	ASSERT_OK(nvmsg_send(p, "again", 5, 0, 0));
	ASSERT_OK(nvmsg_view(a, &v, 0));
	ASSERT_EQ(v.seq, seq + 1);
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&a);
	nvmsg_consumer_close(&b);
	ASSERT_OK(nvmsg_channel_unlink(dir, "ch"));
}

int
main(void)
{
	roundtrip(NVMSG_TIER_VOLATILE);
	roundtrip(NVMSG_TIER_EMULATED);
	roundtrip(NVMSG_TIER_MSYNC);
	printf("t_chan: ok\n");
	return T_PASS;
}
