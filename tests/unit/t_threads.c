/* SPDX-License-Identifier: MIT */
/*
 * t_threads.c -- producers and consumers as threads of one process.
 * Proves I1 and I3 under real concurrency (and gives TSan the protocol to
 * check): 4 producer threads, each with its own handle and ring slot, send
 * 50,000 messages each through 64 KiB rings (so they wrap and block on
 * back-pressure), mixing copy sends, zero-copy reserve/commit and
 * NVMSG_MORE batches; 2 consumer threads, each with its own named
 * consumer, receive every message exactly once and in order per producer,
 * with intact payloads, acking in batches of varying size.
 * NVMSG_MESSAGES overrides the per-producer count.
 */
#include <pthread.h>

#include "t.h"

#define NPROD 4
#define NCONS 2
#define MAGIC 0x6e764d53u

static const char *dir;
static uint32_t nmsg;
static int any_slot; /* --any: producers ask for NVMSG_ANY_PRODUCER */
static unsigned slot_of[NPROD]; /* the slot producer i got */

struct msg_hdr {
	uint32_t magic;
	uint32_t producer;
	uint32_t counter;
	uint32_t fill;
};

static uint32_t
fill_len(uint32_t producer, uint32_t counter)
{
	return 8 + (producer * 131 + counter * 29) % 193; /* 8..200 */
}

static unsigned char
fill_byte(uint32_t producer, uint32_t counter, uint32_t i)
{
	return (unsigned char)(producer * 31 + counter * 7 + i);
}

static size_t
make(unsigned char *buf, uint32_t producer, uint32_t counter)
{
	struct msg_hdr h = { MAGIC, producer, counter,
			     fill_len(producer, counter) };

	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = 0; i < h.fill; i++)
		buf[sizeof(h) + i] = fill_byte(producer, counter, i);
	return sizeof(h) + h.fill;
}

struct worker {
	pthread_t tid;
	int id;
	char err[256];
	uint64_t received;
};

static struct worker prods[NPROD], conss[NCONS];

#define WFAIL(w, ...)                                                          \
	do {                                                                   \
		snprintf((w)->err, sizeof((w)->err), __VA_ARGS__);             \
		goto out;                                                      \
	} while (0)

static void *
producer_main(void *arg)
{
	struct worker *w = arg;
	struct nvmsg_producer *p = NULL;
	unsigned char buf[256];
	int rc;

	rc = nvmsg_producer_open(dir, "th",
				 any_slot ? NVMSG_ANY_PRODUCER : w->id, &p);
	if (rc < 0)
		WFAIL(w, "producer %d open: %s: %s", w->id, nvmsg_strerror(rc),
		      nvmsg_errmsg());
	slot_of[w->id] = nvmsg_producer_id(p);
	for (uint32_t n = 1; n <= nmsg; n++) {
		/* a batch of four every 64 messages */
		int more = (n % 64) < 3 ? NVMSG_MORE : 0;
		int flags = NVMSG_BLOCK | more;
		if ((n + (uint32_t)w->id) % 2) {
			size_t len = make(buf, (uint32_t)w->id, n);
			rc = nvmsg_send(p, buf, len, flags, 30000000000ll);
		} else {
			struct nvmsg_claim cl;
			uint32_t len = (uint32_t)sizeof(struct msg_hdr) +
				       fill_len((uint32_t)w->id, n);
			rc = nvmsg_reserve(p, len, &cl, flags, 30000000000ll);
			if (rc == 0) {
				if (cl.seq != n)
					WFAIL(w,
					      "producer %d: claim seq "
					      "%" PRIu64 " for message %u",
					      w->id, cl.seq, n);
				make(cl.data, (uint32_t)w->id, n);
				rc = nvmsg_commit(p, &cl, more);
			}
		}
		if (rc < 0)
			WFAIL(w, "producer %d message %u: %s: %s", w->id, n,
			      nvmsg_strerror(rc), nvmsg_errmsg());
	}
	rc = nvmsg_producer_flush(p);
	if (rc < 0)
		WFAIL(w, "producer %d flush: %s", w->id, nvmsg_errmsg());
out:
	nvmsg_producer_close(&p);
	return NULL;
}

static void *
consumer_main(void *arg)
{
	struct worker *w = arg;
	struct nvmsg_consumer *c = NULL;
	uint32_t last[NPROD] = { 0 };
	uint64_t total = (uint64_t)nmsg * NPROD;
	unsigned since_ack = 0, batch = 1;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "c%d", w->id);
	rc = nvmsg_consumer_open(dir, "th", name,
				 w->id ? NVMSG_CONSUMER_VERIFY : 0, &c);
	if (rc < 0)
		WFAIL(w, "consumer %d open: %s", w->id, nvmsg_errmsg());
	while (w->received < total) {
		struct nvmsg_view v;
		struct msg_hdr h;
		rc = nvmsg_view(c, &v, 30000000000ll);
		if (rc < 0)
			WFAIL(w,
			      "consumer %d after %" PRIu64 " messages: "
			      "%s: %s",
			      w->id, w->received, nvmsg_strerror(rc),
			      nvmsg_errmsg());
		if (v.len < sizeof(h))
			WFAIL(w, "consumer %d: phantom message of %zu bytes",
			      w->id, v.len);
		memcpy(&h, v.data, sizeof(h));
		if (h.magic != MAGIC || h.producer >= NPROD ||
		    (!any_slot && h.producer != v.producer))
			WFAIL(w,
			      "consumer %d: phantom message (magic %#x, "
			      "producer %u in slot %u)",
			      w->id, h.magic, h.producer, v.producer);
		if (h.counter != last[h.producer] + 1)
			WFAIL(w,
			      "consumer %d: producer %u message %u after "
			      "%u (%s)",
			      w->id, h.producer, h.counter, last[h.producer],
			      h.counter <= last[h.producer] ? "duplicate"
							    : "lost");
		if (v.seq != h.counter)
			WFAIL(w,
			      "consumer %d: seq %" PRIu64 " carries "
			      "counter %u",
			      w->id, v.seq, h.counter);
		if (h.fill != fill_len(h.producer, h.counter) ||
		    v.len != sizeof(h) + h.fill)
			WFAIL(w, "consumer %d: length %zu for %u/%u", w->id,
			      v.len, h.producer, h.counter);
		const unsigned char *f =
			(const unsigned char *)v.data + sizeof(h);
		for (uint32_t i = 0; i < h.fill; i++)
			if (f[i] != fill_byte(h.producer, h.counter, i))
				WFAIL(w,
				      "consumer %d: payload of %u/%u "
				      "altered at %u",
				      w->id, h.producer, h.counter, i);
		last[h.producer] = h.counter;
		w->received++;
		/* ack in batches of 1..37 messages */
		if (++since_ack >= batch) {
			rc = nvmsg_ack(c);
			if (rc < 0)
				WFAIL(w, "consumer %d ack: %s", w->id,
				      nvmsg_errmsg());
			since_ack = 0;
			batch = 1 + (unsigned)(w->received * 7 % 37);
		}
	}
	rc = nvmsg_ack(c);
	if (rc < 0)
		WFAIL(w, "consumer %d ack: %s", w->id, nvmsg_errmsg());
	for (int i = 0; i < NPROD; i++)
		if (last[i] != nmsg)
			WFAIL(w, "consumer %d: producer %d ended at %u", w->id,
			      i, last[i]);
out:
	nvmsg_consumer_close(&c);
	return NULL;
}

/*
 * --any (registered as t_threads_any): the same with every producer opened
 * on NVMSG_ANY_PRODUCER; each must get a slot of its own (this caught the
 * owners start-time bug, fixed in 30c0f46, that put every thread on slot 0).
 */
int
main(int argc, char **argv)
{
	struct nvmsg_consumer *c = NULL;
	uint64_t t0 = t_now_ns();

	any_slot = argc > 1 && strcmp(argv[1], "--any") == 0;

	t_watchdog(600);
	dir = t_tmpdir();
	nmsg = (uint32_t)t_env_u64("NVMSG_MESSAGES", 50000);
	t_create(dir, "th", NVMSG_TIER_VOLATILE, 64 * 1024, NPROD, 4);
	/* register both consumers before the first send */
	for (int i = 0; i < NCONS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "c%d", i);
		ASSERT_OK(nvmsg_consumer_open(dir, "th", name,
					      NVMSG_CONSUMER_CREATE, &c));
		nvmsg_consumer_close(&c);
	}
	for (int i = 0; i < NCONS; i++) {
		conss[i].id = i;
		ASSERT_EQ(pthread_create(&conss[i].tid, NULL, consumer_main,
					 &conss[i]),
			  0);
	}
	for (int i = 0; i < NPROD; i++) {
		prods[i].id = i;
		ASSERT_EQ(pthread_create(&prods[i].tid, NULL, producer_main,
					 &prods[i]),
			  0);
	}
	int failed = 0;
	for (int i = 0; i < NPROD; i++) {
		ASSERT_EQ(pthread_join(prods[i].tid, NULL), 0);
		if (prods[i].err[0]) {
			fprintf(stderr, "%s\n", prods[i].err);
			failed = 1;
		}
	}
	for (int i = 0; i < NCONS; i++) {
		ASSERT_EQ(pthread_join(conss[i].tid, NULL), 0);
		if (conss[i].err[0]) {
			fprintf(stderr, "%s\n", conss[i].err);
			failed = 1;
		}
	}
	for (int i = 0; i < NPROD; i++)
		for (int j = 0; j < i; j++)
			if (!prods[i].err[0] && !prods[j].err[0] &&
			    slot_of[i] == slot_of[j]) {
				fprintf(stderr,
					"producers %d and %d share "
					"slot %u\n",
					j, i, slot_of[i]);
				failed = 1;
			}
	if (failed)
		return T_FAIL;
	struct nvmsg_stat st;
	ASSERT_OK(nvmsg_channel_stat(dir, "th", &st));
	ASSERT_EQ(st.depth_bytes, 0);
	ASSERT_EQ(st.nconsumers, NCONS);
	for (unsigned i = 0; i < st.nproducers; i++)
		ASSERT_EQ(st.producers[i].next_seq, (uint64_t)nmsg + 1);
	printf("t_threads: %d producers x %u messages, %d consumers: each "
	       "got %" PRIu64 " exactly once, in order; 0 lost, 0 phantom "
	       "(%.1f s)\n",
	       NPROD, nmsg, NCONS, conss[0].received,
	       (double)(t_now_ns() - t0) / 1e9);
	return T_PASS;
}
