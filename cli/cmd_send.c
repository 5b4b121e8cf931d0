/* SPDX-License-Identifier: MIT */
/*
 * cmd_send.c -- nvmsg send: one message per argument, or per stdin line.
 *
 * Arguments are sent one by one, each durable and visible before the next.
 * Standard input is batched: lines are written with NVMSG_MORE and the
 * batch is persisted and published by one nvmsg_producer_flush() every
 * BATCH lines and before each read(2) that may block, so a pipe that
 * pauses (tail -f) never holds lines back.  A line counts as sent only
 * once its batch was flushed.
 *
 * Messages go through nvmsg_reserve/nvmsg_commit rather than nvmsg_send
 * (the same path inside the library) because the claim carries the
 * sequence number that --verbose prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

#define BATCH 64

struct sender {
	struct nvmsg_producer *p;
	int64_t timeout_ns;
	int verbose;
	uint64_t first_seq; /* of the unflushed batch */
	unsigned pending;   /* messages written with NVMSG_MORE */
};

/* fail -- report a library failure; a timeout has its own exit code */
static int
fail(int rc)
{
	cli_lib_err(rc);
	return rc == -ETIMEDOUT ? CLI_TIMEOUT : CLI_ERROR;
}

/* put -- write one message; FLAGS may hold NVMSG_MORE */
static int
put(struct sender *s, const void *buf, size_t len, int flags)
{
	struct nvmsg_claim cl;
	int rc;

	rc = nvmsg_reserve(s->p, len, &cl, NVMSG_BLOCK, s->timeout_ns);
	if (rc < 0)
		return rc;
	memcpy(cl.data, buf, len);
	if (s->pending++ == 0)
		s->first_seq = cl.seq;
	return nvmsg_commit(s->p, &cl, flags);
}

/* flush -- make the batch durable and visible, then report it */
static int
flush(struct sender *s)
{
	int rc = nvmsg_producer_flush(s->p);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; s->verbose && i < s->pending; i++)
		printf("sent producer=%u seq=%llu\n", nvmsg_producer_id(s->p),
		       (unsigned long long)(s->first_seq + i));
	s->pending = 0;
	fflush(stdout); /* write errors are reported at exit (main.c) */
	return 0;
}

static int
send_args(struct sender *s, int n, char **msgs)
{
	for (int i = 0; i < n; i++) {
		int rc = put(s, msgs[i], strlen(msgs[i]), 0);
		if (rc == 0)
			rc = flush(s);
		if (rc < 0)
			return fail(rc);
	}
	return CLI_OK;
}

/* stdin_fail -- report the failure of line LINE, then flush the lines
 * before it (they were read and written: they are sent) */
static int
stdin_fail(struct sender *s, int rc, unsigned long line)
{
	const char *msg = nvmsg_errmsg();

	cli_err("stdin line %lu: %s", line, msg[0] ? msg : nvmsg_strerror(rc));
	if (s->pending && flush(s) < 0)
		cli_lib_err(rc);
	return rc == -ETIMEDOUT ? CLI_TIMEOUT : CLI_ERROR;
}

/* send_stdin -- each non-empty line of stdin, without its newline */
static int
send_stdin(struct sender *s)
{
	size_t cap = 1 << 16, start = 0, end = 0;
	unsigned long line = 0;
	char *buf = malloc(cap);
	int rc = 0;

	if (!buf) {
		cli_err("out of memory");
		return CLI_ERROR;
	}
	for (;;) {
		char *nl = memchr(buf + start, '\n', end - start);
		if (nl) {
			size_t len = (size_t)(nl - (buf + start));
			line++;
			if (len > 0 &&
			    (rc = put(s, buf + start, len, NVMSG_MORE)) < 0)
				goto fail;
			if (s->pending == BATCH && (rc = flush(s)) < 0)
				goto fail;
			start += len + 1;
			continue;
		}
		/* no whole line left: keep the partial one, read more */
		memmove(buf, buf + start, end - start);
		end -= start;
		start = 0;
		if (end == cap) {
			char *nb = cap < SIZE_MAX / 2 ? realloc(buf, 2 * cap)
						      : NULL;
			if (!nb) {
				cli_err("stdin line %lu: out of memory",
					line + 1);
				free(buf);
				return CLI_ERROR;
			}
			buf = nb;
			cap *= 2;
		}
		/* about to wait for input: what we have goes out now */
		if (s->pending && (rc = flush(s)) < 0)
			goto fail;
		ssize_t n = read(STDIN_FILENO, buf + end, cap - end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_err("reading standard input: %s", strerror(errno));
			free(buf);
			return CLI_ERROR;
		}
		if (n == 0)
			break;
		end += (size_t)n;
	}
	/* a last line without a newline still counts */
	if (end > 0) {
		line++;
		if ((rc = put(s, buf, end, NVMSG_MORE)) < 0)
			goto fail;
	}
	if (s->pending && (rc = flush(s)) < 0)
		goto fail;
	free(buf);
	return CLI_OK;
fail:
	free(buf);
	return stdin_fail(s, rc, line);
}

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "producer", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct sender s = { .timeout_ns = -1 };
	int id = NVMSG_ANY_PRODUCER;
	const char *name, *dir;
	unsigned uid;
	int c, rc = CLI_OK;

	while ((c = cli_getopt(g, cmd, argc, argv, ":hp:t:v", opts, &rc)) !=
	       -1) {
		switch (c) {
		case CLI_OPT_STOP:
			return rc;
		case 'p':
			rc = cli_parse_unsigned(cmd, "--producer", optarg, 0,
						NVMSG_MAX_PRODUCERS - 1, &uid);
			id = (int)uid;
			break;
		case 't':
			rc = cli_parse_timeout(cmd, "--timeout-ms", optarg,
					       &s.timeout_ns);
			break;
		case 'v':
			s.verbose = 1;
			break;
		}
		if (rc != CLI_OK)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "missing channel NAME");
	name = argv[optind++];
	dir = cli_dir_find(g, name);
	if (!dir)
		return CLI_ERROR;
	rc = nvmsg_producer_open(dir, name, id, &s.p);
	if (rc < 0)
		return cli_lib_err(rc);
	if (optind < argc)
		rc = send_args(&s, argc - optind, argv + optind);
	else
		rc = send_stdin(&s);
	nvmsg_producer_close(&s.p);
	return rc;
}

const struct cli_cmd cli_cmd_send = {
	.name = "send",
	.summary = "send messages (arguments, or lines of stdin)",
	.synopsis = "NAME [MESSAGE...] [--producer ID] [--timeout-ms T] "
		    "[--verbose]",
	.help = "Send each MESSAGE as one message or, with none, each "
		"non-empty line of\nstandard input (newline stripped).  "
		"send returns after every message is\ndurable on the "
		"channel's tier and visible to its consumers.  Stdin lines "
		"are\nsent in batches of up to 64 lines made durable with "
		"one barrier; a batch\nis flushed before send waits for more "
		"input, so a paused pipe holds nothing\nback.  Use -- before "
		"messages that start with '-'.\n"
		"\nOptions:\n"
		"  --producer ID     producer slot to use (default: any free "
		"slot)\n"
		"  --timeout-ms T    how long each message may wait for space "
		"in a full\n"
		"                    channel (default: forever); then exit 3\n"
		"  -v, --verbose     print \"sent producer=ID seq=N\" per "
		"message once durable\n"
		"\nOnly consumers registered before a message is sent receive "
		"it.\n"
		"\nExample:\n"
		"  nvmsg send orders 'order 1' 'order 2'\n"
		"  seq 1000 | nvmsg send orders --producer 0\n",
	.run = run,
};
