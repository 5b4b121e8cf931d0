/* SPDX-License-Identifier: MIT */
/*
 * cmd_recv.c -- nvmsg recv: print a named consumer's messages, ack each.
 *
 * Order per message: view it in place, write it to stdout, flush, and only
 * then ack.  A message is therefore acknowledged only after it left this
 * process; if recv is killed in between, or stdout fails, the next recv of
 * the same consumer prints it again (at-least-once, never lost).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

static void
print_message(const struct nvmsg_view *v, int json)
{
	struct jw w;

	if (!json) {
		fwrite(v->data, 1, v->len, stdout);
		putchar('\n');
		return;
	}
	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_u64(&w, "producer", v->producer);
	jw_u64(&w, "seq", v->seq);
	jw_bytes(&w, "data", v->data, v->len);
	jw_obj_end(&w);
}

/* registered -- 1 if CONSUMER is registered on the channel, 0 if not, -1
 * when that cannot be told (nvmsg_consumer_open then says why) */
static int
registered(const char *dir, const char *name, const char *consumer)
{
	struct nvmsg_stat *st = malloc(sizeof(*st));
	int found = -1;

	if (st && nvmsg_channel_stat(dir, name, st) == 0) {
		found = 0;
		for (unsigned i = 0; i < st->nconsumers; i++)
			if (strcmp(st->consumers[i].name, consumer) == 0)
				found = 1;
	}
	free(st);
	return found;
}

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "consumer", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct nvmsg_consumer *con = NULL;
	const char *name, *dir, *consumer = NULL;
	uint64_t count = 0, got = 0;
	int64_t timeout_ns = -1;
	int json = 0, known, c, rc = CLI_OK;

	while ((c = cli_getopt(g, cmd, argc, argv, ":hc:n:t:j", opts, &rc)) !=
	       -1) {
		switch (c) {
		case CLI_OPT_STOP:
			return rc;
		case 'c':
			consumer = optarg;
			break;
		case 'n':
			rc = cli_parse_u64(cmd, "--count", optarg, 1,
					   UINT64_MAX, &count);
			break;
		case 't':
			rc = cli_parse_timeout(cmd, "--timeout-ms", optarg,
					       &timeout_ns);
			break;
		case 'j':
			json = 1;
			break;
		}
		if (rc != CLI_OK)
			return rc;
	}
	if ((rc = cli_name_operand(cmd, argc, argv, &name)) != 0)
		return rc;
	if (!consumer)
		return cli_usage_error(cmd, "--consumer NAME is required");
	dir = cli_dir_find(g, name);
	if (!dir)
		return CLI_ERROR;
	known = registered(dir, name, consumer);
	rc = nvmsg_consumer_open(dir, name, consumer,
				 NVMSG_CONSUMER_CREATE | NVMSG_CONSUMER_VERIFY,
				 &con);
	if (rc < 0)
		return cli_lib_err(rc);
	/* the classic surprise: messages sent before this are not ours */
	if (known == 0)
		fprintf(stderr,
			"nvmsg recv: registered new consumer '%s' on "
			"%s/%s.nvmsg; it receives the messages sent from "
			"now on\n",
			consumer, dir, name);
	while (count == 0 || got < count) {
		struct nvmsg_view v;

		rc = nvmsg_view(con, &v, timeout_ns);
		if (rc == -ETIMEDOUT || rc == -EAGAIN) {
			rc = count ? CLI_TIMEOUT : CLI_OK;
			if (count)
				cli_err("timeout: %llu of %llu messages "
					"received",
					(unsigned long long)got,
					(unsigned long long)count);
			break;
		}
		if (rc < 0) {
			rc = cli_lib_err(rc);
			break;
		}
		print_message(&v, json);
		/* not acked unless it was written out */
		if ((rc = cli_check_written(stdout, "standard output")) != 0)
			break;
		if ((rc = nvmsg_ack(con)) < 0) {
			rc = cli_lib_err(rc);
			break;
		}
		got++;
		rc = CLI_OK;
	}
	nvmsg_consumer_close(&con);
	return rc;
}

const struct cli_cmd cli_cmd_recv = {
	.name = "recv",
	.summary = "receive messages as a named consumer, and ack them",
	.synopsis = "NAME --consumer C [--count N] [--timeout-ms T] [--json]",
	.help = "Receive the messages of channel NAME as consumer C, print "
		"each on its own\nline (its bytes, then a newline) and "
		"acknowledge it once written.  A\nconsumer resumes after its "
		"last acknowledgement; C is registered on first\nuse (that "
		"needs write permission on the channel) and receives "
		"messages sent\nfrom then on.  Records are verified against "
		"their checksums.\n"
		"\nOptions:\n"
		"  --consumer C      consumer name, 1 to 47 of [A-Za-z0-9_-] "
		"(required)\n"
		"  --count N         exit after N messages\n"
		"  --timeout-ms T    longest wait for the next message "
		"(default: forever);\n"
		"                    when it passes, exit 0, or 3 if --count "
		"was not reached\n"
		"  --json            one object per line, "
		"{\"producer\":P,\"seq\":S,\n"
		"                    \"data\":\"...\"}; bytes that are not "
		"UTF-8 are written\n"
		"                    as \\u00XX\n"
		"\nExample:\n"
		"  nvmsg recv orders --consumer billing --count 10 "
		"--timeout-ms 5000\n",
	.run = run,
};
