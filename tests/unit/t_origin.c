/* SPDX-License-Identifier: MIT */
/*
 * t_origin.c -- forwarded slots (origins) and partial acks, the library
 * calls nvmsgd stands on.
 *
 * Proves: nvmsg_producer_open_origin gives an origin a slot of its own and
 * finds it again after a close (its committed number is the highest
 * sequence held); nvmsg_send_seq refuses a number the slot holds
 * (NVMSG_E_DUPLICATE, nothing written) and accepts skips; plain sends
 * refuse a forwarded slot and send_seq refuses a local one; an
 * NVMSG_ANY_PRODUCER producer never lands on a forwarded slot; a consumer
 * sees the origin's numbers and can ask a slot's origin; a SIGKILLed
 * receiver's slot recovers the right committed number across a skip; a
 * slot that held records is never given to an origin (FULL_TABLE);
 * nvmsg_ack_view acks one slot's views up to one view, leaving the rest.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "t.h"

#define CHAN "fwd"

static const char *dir;

static void
origin_of(struct nvmsg_origin *o, uint8_t tag, uint32_t producer)
{
	memset(o, 0, sizeof(*o));
	memset(o->channel, tag, sizeof(o->channel));
	o->producer = producer;
}

static struct nvmsg_producer *
open_o(const struct nvmsg_origin *o)
{
	struct nvmsg_producer *p = NULL;

	ASSERT_OK(nvmsg_producer_open_origin(dir, CHAN, o, &p));
	ASSERT_TRUE(p != NULL);
	return p;
}

static void
send_seq(struct nvmsg_producer *p, uint64_t seq, int flags)
{
	char m[32];
	int n = snprintf(m, sizeof(m), "m%llu", (unsigned long long)seq);

	ASSERT_OK(nvmsg_send_seq(p, seq, m, (size_t)n, flags, 0));
}

/* struct got -- views read, by slot, in the order read */
struct got {
	unsigned n[4];
	uint64_t seq[4][8];
	struct nvmsg_view v[4][8];
};

/* drain -- read every view available into *G, checking payloads */
static void
drain(struct nvmsg_consumer *c, struct got *g)
{
	struct nvmsg_view v;
	int rc;

	memset(g, 0, sizeof(*g));
	while ((rc = nvmsg_view(c, &v, 0)) == 0) {
		char m[32];
		snprintf(m, sizeof(m), "m%llu", (unsigned long long)v.seq);
		ASSERT_EQ(v.len, strlen(m));
		ASSERT_TRUE(memcmp(v.data, m, v.len) == 0);
		ASSERT_TRUE(v.producer < 4 && g->n[v.producer] < 8);
		g->v[v.producer][g->n[v.producer]] = v;
		g->seq[v.producer][g->n[v.producer]++] = v.seq;
	}
	ASSERT_ERR(rc, -EAGAIN);
}

/* expect -- slot SLOT's views in *G were exactly SEQS (N of them) */
static void
expect(const struct got *g, unsigned slot, const uint64_t *seqs, unsigned n)
{
	ASSERT_EQ(g->n[slot], n);
	for (unsigned i = 0; i < n; i++)
		ASSERT_U64_EQ(g->seq[slot][i], seqs[i]);
}

static void
test_origin_slots(void)
{
	struct nvmsg_origin a, b, got, all[NVMSG_MAX_PRODUCERS];
	struct nvmsg_producer *p, *q, *local;
	struct nvmsg_consumer *c;
	unsigned sa;

	t_create(dir, CHAN, NVMSG_TIER_VOLATILE, 4096, 4, 4);
	ASSERT_OK(
		nvmsg_consumer_open(dir, CHAN, "c", NVMSG_CONSUMER_CREATE, &c));
	origin_of(&a, 0xa1, 3);
	origin_of(&b, 0xb2, 0);
	p = open_o(&a);
	sa = nvmsg_producer_id(p);
	ASSERT_U64_EQ(nvmsg_producer_committed(p), 0);
	ASSERT_ERR(nvmsg_send(p, "x", 1, 0, 0), NVMSG_E_WRONG_MODE);
	ASSERT_CONTAINS(nvmsg_errmsg(), "nvmsg_send_seq");
	send_seq(p, 5, 0);
	ASSERT_ERR(nvmsg_send_seq(p, 5, "x", 1, 0, 0), NVMSG_E_DUPLICATE);
	ASSERT_ERR(nvmsg_send_seq(p, 2, "x", 1, 0, 0), NVMSG_E_DUPLICATE);
	ASSERT_ERR(nvmsg_send_seq(p, 0, "x", 1, 0, 0), -EINVAL);
	send_seq(p, 9, NVMSG_MORE);
	send_seq(p, 10, 0);
	ASSERT_U64_EQ(nvmsg_producer_last_seq(p), 10);
	/* the same origin's slot is owned: a second open is refused */
	ASSERT_ERR(nvmsg_producer_open_origin(dir, CHAN, &a, &q), -EBUSY);
	ASSERT_TRUE(q == NULL);
	/* a local producer never lands on the forwarded slot */
	ASSERT_OK(nvmsg_producer_open(dir, CHAN, NVMSG_ANY_PRODUCER, &local));
	ASSERT_NE(nvmsg_producer_id(local), sa);
	ASSERT_ERR(nvmsg_send_seq(local, 99, "x", 1, 0, 0), NVMSG_E_WRONG_MODE);
	ASSERT_OK(nvmsg_send(local, "m1", 2, 0, 0));
	ASSERT_OK(nvmsg_producer_close(&p));

	/* the consumer sees the origin's numbers, skips and all */
	struct got g;
	drain(c, &g);
	expect(&g, sa, (const uint64_t[]){ 5, 9, 10 }, 3);
	expect(&g, nvmsg_producer_id(local), (const uint64_t[]){ 1 }, 1);
	ASSERT_OK(nvmsg_ack(c));
	ASSERT_OK(nvmsg_consumer_origin(c, sa, &got));
	ASSERT_EQ(got.flags, NVMSG_ORIGIN_FORWARDED);
	ASSERT_EQ(got.producer, 3);
	ASSERT_TRUE(memcmp(got.channel, a.channel, 16) == 0);
	ASSERT_OK(nvmsg_consumer_origin(c, nvmsg_producer_id(local), &got));
	ASSERT_EQ(got.flags, 0);
	ASSERT_EQ(got.producer, nvmsg_producer_id(local));
	ASSERT_ERR(nvmsg_consumer_origin(c, 4, &got), -EINVAL);

	/* reopened: the same slot, committed = the highest held */
	p = open_o(&a);
	ASSERT_EQ(nvmsg_producer_id(p), sa);
	ASSERT_U64_EQ(nvmsg_producer_committed(p), 10);
	ASSERT_ERR(nvmsg_send_seq(p, 10, "x", 1, 0, 0), NVMSG_E_DUPLICATE);
	send_seq(p, 11, 0);
	/* a second origin gets another slot */
	q = open_o(&b);
	ASSERT_NE(nvmsg_producer_id(q), sa);
	ASSERT_NE(nvmsg_producer_id(q), nvmsg_producer_id(local));
	send_seq(q, 1, 0);
	ASSERT_EQ(nvmsg_channel_origins(dir, CHAN, all), 4);
	ASSERT_EQ(all[sa].flags, NVMSG_ORIGIN_FORWARDED);
	ASSERT_EQ(all[nvmsg_producer_id(q)].producer, 0);
	ASSERT_EQ(all[nvmsg_producer_id(local)].flags, 0);
	drain(c, &g);
	expect(&g, sa, (const uint64_t[]){ 11 }, 1);
	expect(&g, nvmsg_producer_id(q), (const uint64_t[]){ 1 }, 1);
	ASSERT_OK(nvmsg_ack(c));
	ASSERT_OK(nvmsg_producer_close(&q));
	ASSERT_OK(nvmsg_producer_close(&local));

	/* the local slot held records: never given to a new origin; one
	 * slot (never used) is left, then none */
	struct nvmsg_origin x, y;
	origin_of(&x, 0xc3, 1);
	origin_of(&y, 0xd4, 1);
	q = open_o(&x);
	ASSERT_OK(nvmsg_producer_close(&q));
	ASSERT_ERR(nvmsg_producer_open_origin(dir, CHAN, &y, &q),
		   NVMSG_E_FULL_TABLE);
	ASSERT_CONTAINS(nvmsg_errmsg(), "never held a record");
	ASSERT_OK(nvmsg_producer_close(&p));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_channel_unlink(dir, CHAN));
}

/* a receiver killed after a batch with a skip was written but before it
 * was published: its whole records are kept (a reader or recovery makes
 * them durable), and committed is their highest number; one killed before
 * writing them whole keeps the number before the skip */
static void
test_kill_after_skip(void)
{
	struct nvmsg_origin a;
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	pid_t pid;

	t_create(dir, CHAN, NVMSG_TIER_EMULATED, 4096, 2, 2);
	ASSERT_OK(
		nvmsg_consumer_open(dir, CHAN, "c", NVMSG_CONSUMER_CREATE, &c));
	origin_of(&a, 0x5a, 7);
	p = open_o(&a);
	send_seq(p, 3, 0);
	ASSERT_OK(nvmsg_producer_close(&p));
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct nvmsg_producer *k = NULL;
		if (nvmsg_producer_open_origin(dir, CHAN, &a, &k) != 0 ||
		    nvmsg_send_seq(k, 40, "m40", 3, NVMSG_MORE, 0) != 0 ||
		    nvmsg_send_seq(k, 41, "m41", 3, NVMSG_MORE, 0) != 0)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	p = open_o(&a);
	ASSERT_U64_EQ(nvmsg_producer_committed(p), 41);
	ASSERT_ERR(nvmsg_send_seq(p, 41, "x", 1, 0, 0), NVMSG_E_DUPLICATE);
	send_seq(p, 42, 0);
	struct got g;
	drain(c, &g);
	expect(&g, nvmsg_producer_id(p), (const uint64_t[]){ 3, 40, 41, 42 },
	       4);
	ASSERT_OK(nvmsg_producer_close(&p));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_channel_unlink(dir, CHAN));
}

static struct nvmsg_consumer *
reopen(struct nvmsg_consumer **c)
{
	nvmsg_consumer_close(c);
	ASSERT_OK(nvmsg_consumer_open(dir, CHAN, "c", 0, c));
	return *c;
}

static void
test_ack_view(void)
{
	struct nvmsg_producer *p0, *p1;
	struct nvmsg_consumer *c;

	t_create(dir, CHAN, NVMSG_TIER_VOLATILE, 4096, 2, 2);
	ASSERT_OK(
		nvmsg_consumer_open(dir, CHAN, "c", NVMSG_CONSUMER_CREATE, &c));
	ASSERT_OK(nvmsg_producer_open(dir, CHAN, 0, &p0));
	ASSERT_OK(nvmsg_producer_open(dir, CHAN, 1, &p1));
	for (int i = 1; i <= 2; i++) {
		char m[8];
		int n = snprintf(m, sizeof(m), "m%d", i);
		ASSERT_OK(nvmsg_send(p0, m, (size_t)n, 0, 0));
		ASSERT_OK(nvmsg_send(p1, m, (size_t)n, 0, 0));
	}
	struct got g;
	const uint64_t one_two[] = { 1, 2 }, two[] = { 2 };
	drain(c, &g);
	expect(&g, 0, one_two, 2);
	expect(&g, 1, one_two, 2);
	struct nvmsg_view a1 = g.v[0][0], a2 = g.v[0][1], b1 = g.v[1][0],
			  b2 = g.v[1][1];
	ASSERT_OK(nvmsg_ack_view(c, &a1, 0));
	/* a1 acked, a2 stays valid, slot 1 untouched */
	ASSERT_TRUE(memcmp(a2.data, "m2", 2) == 0);
	ASSERT_ERR(nvmsg_ack_view(c, &a1, 0), -EINVAL);
	reopen(&c);
	drain(c, &g);
	expect(&g, 0, two, 1);
	expect(&g, 1, one_two, 2);
	/* noted with MORE, durable with the next call */
	b1 = g.v[1][0];
	ASSERT_OK(nvmsg_ack_view(c, &b1, NVMSG_MORE));
	reopen(&c);
	drain(c, &g);
	expect(&g, 0, two, 1);
	expect(&g, 1, one_two, 2);
	a2 = g.v[0][0];
	b2 = g.v[1][1];
	ASSERT_OK(nvmsg_ack_view(c, &b2, NVMSG_MORE));
	ASSERT_OK(nvmsg_ack_view(c, &a2, 0));
	reopen(&c);
	drain(c, &g);
	expect(&g, 0, two, 0);
	expect(&g, 1, two, 0);
	/* a view this handle did not read is refused */
	ASSERT_ERR(nvmsg_ack_view(c, &b2, 0), -EINVAL);
	ASSERT_ERR(nvmsg_ack_view(c, NULL, 0), -EINVAL);
	ASSERT_OK(nvmsg_producer_close(&p0));
	ASSERT_OK(nvmsg_producer_close(&p1));
	nvmsg_consumer_close(&c);
	ASSERT_OK(nvmsg_channel_unlink(dir, CHAN));
}

int
main(void)
{
	dir = t_tmpdir();
	t_watchdog(60);
	test_origin_slots();
	test_kill_after_skip();
	test_ack_view();
	printf("t_origin: ok\n");
	return T_PASS;
}
