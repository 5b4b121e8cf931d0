/* SPDX-License-Identifier: MIT */
/*
 * zero_copy.c -- writing a message in place and reading it in place.
 *
 * The producer asks for room in the channel with nvmsg_reserve, formats
 * each message straight into the claim (no buffer of its own, no copy),
 * and seals it with nvmsg_commit.  The commits of one batch carry
 * NVMSG_MORE but the last: the whole batch becomes durable and visible
 * with one barrier, when the last commit returns.  The consumer reads
 * each message where it lies with nvmsg_view (read-only mapping, no copy)
 * and acknowledges all of them with one nvmsg_ack.
 *
 *   ./zero_copy [DIR]    DIR: where the channel lives (default /dev/shm);
 *                        the channel is removed at the end
 *
 * Prints one "got" line per message, then "3 messages, acked"; exits 0,
 * or 1 after saying what failed.
 */
#include <errno.h>
#include <nvmsg.h>
#include <stdio.h>

#define NMSG 3

static const char *const items[NMSG] = { "apples", "pears", "plums" };

/* fail -- say which call failed and why; the exit status of main */
static int
fail(const char *what, int rc)
{
	fprintf(stderr, "zero_copy: %s: %s (%s)\n", what, nvmsg_strerror(rc),
		nvmsg_errmsg());
	return 1;
}

/* format -- message I into BUF (CAP bytes); returns its length without
 * the terminating NUL (BUF NULL, CAP 0: only the length) */
static int
format(char *buf, size_t cap, int i)
{
	return snprintf(buf, cap, "order %d: %d %s", i + 1, 10 * (i + 1),
			items[i]);
}

/* produce -- NMSG messages, each formatted in place */
static int
produce(struct nvmsg_producer *p)
{
	for (int i = 0; i < NMSG; i++) {
		struct nvmsg_claim cl;
		/* the claim is exactly the message, its NUL included */
		size_t len = (size_t)format(NULL, 0, i) + 1;
		int rc = nvmsg_reserve(p, len, &cl, NVMSG_BLOCK, 1000000000);

		if (rc < 0)
			return fail("nvmsg_reserve", rc);
		/* written straight into the channel's mapping */
		format(cl.data, cl.len, i);
		rc = nvmsg_commit(p, &cl, i < NMSG - 1 ? NVMSG_MORE : 0);
		if (rc < 0)
			return fail("nvmsg_commit", rc);
	}
	return 0; /* the last commit returned: all NMSG are durable */
}

/* consume -- view every message in place, then one ack for them all */
static int
consume(struct nvmsg_consumer *c)
{
	struct nvmsg_view v;
	int n = 0, rc;

	while ((rc = nvmsg_view(c, &v, 0)) == 0) {
		const char *s = v.data;

		/* bytes from the channel: check before treating as text */
		if (v.len == 0 || s[v.len - 1] != '\0') {
			fprintf(stderr,
				"zero_copy: message %u/%llu is not "
				"a string\n",
				v.producer, (unsigned long long)v.seq);
			return 1;
		}
		printf("got \"%s\" (producer %u, seq %llu, %zu bytes)\n", s,
		       v.producer, (unsigned long long)v.seq, v.len);
		n++;
	}
	if (rc != -EAGAIN) /* -EAGAIN: nothing more to read now */
		return fail("nvmsg_view", rc);
	rc = nvmsg_ack(c);
	if (rc < 0)
		return fail("nvmsg_ack", rc);
	printf("%d messages, acked\n", n);
	return n == NMSG ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/dev/shm";
	struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_VOLATILE };
	struct nvmsg_producer *p = NULL;
	struct nvmsg_consumer *c = NULL;
	int rc, status = 1;

	rc = nvmsg_channel_create(dir, "zero_copy", &o);
	if (rc < 0)
		return fail("nvmsg_channel_create", rc);
	/* registered before the first send: it receives every message */
	rc = nvmsg_consumer_open(dir, "zero_copy", "reader",
				 NVMSG_CONSUMER_CREATE, &c);
	if (rc < 0) {
		fail("nvmsg_consumer_open", rc);
		goto out;
	}
	rc = nvmsg_producer_open(dir, "zero_copy", NVMSG_ANY_PRODUCER, &p);
	if (rc < 0) {
		fail("nvmsg_producer_open", rc);
		goto out;
	}
	status = produce(p);
	if (status == 0)
		status = consume(c);
out:
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
	nvmsg_channel_unlink(dir, "zero_copy");
	return status;
}
