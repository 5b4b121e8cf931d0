/* SPDX-License-Identifier: MIT */
/*
 * send_recv.c -- the C API in one example: the program in README.md.
 *
 * Creates a volatile channel "demo", registers consumer "audit", sends
 * "hello" with a durable nvmsg_send, reads it in place with nvmsg_view,
 * acknowledges it, and removes the channel.  The README's program with
 * two additions: the directory is argv[1] when given (else /dev/shm, as
 * the README has it), so that runs do not collide, and the channel is
 * removed at the end.
 *
 *   ./send_recv [DIR]    prints: hello from producer 0 seq 1
 */
#include <nvmsg.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/dev/shm";
	struct nvmsg_channel_opts o = { .tier = NVMSG_TIER_VOLATILE };
	struct nvmsg_producer *p;
	struct nvmsg_consumer *c;
	struct nvmsg_view v;

	nvmsg_channel_create(dir, "demo", &o); /* once */
	nvmsg_consumer_open(dir, "demo", "audit", NVMSG_CONSUMER_CREATE, &c);
	nvmsg_producer_open(dir, "demo", NVMSG_ANY_PRODUCER, &p);

	if (nvmsg_send(p, "hello", 5, NVMSG_BLOCK, -1) < 0) /* durable now */
		fprintf(stderr, "send: %s\n", nvmsg_errmsg());
	if (nvmsg_view(c, &v, 1000000000) == 0) { /* read in place */
		printf("%.*s from producer %u seq %llu\n", (int)v.len,
		       (const char *)v.data, v.producer,
		       (unsigned long long)v.seq);
		nvmsg_ack(c); /* durable ack */
	}
	nvmsg_producer_close(&p);
	nvmsg_consumer_close(&c);
	nvmsg_channel_unlink(dir, "demo"); /* clean up */
	return 0;
}
