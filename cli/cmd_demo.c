/* SPDX-License-Identifier: MIT */
/*
 * cmd_demo.c -- nvmsg demo: prove exactly-once processing under SIGKILL.
 *
 * Runs demo_run_tier() on the volatile and the emulated tier (or the one
 * --tier names), then reports, per tier and in total, what the consumers'
 * output files show: sent, received, lost, duplicated, reordered, plus the
 * redeliveries the idempotent consumers skipped after the kill.  The exit
 * status is the verdict: 4 when anything was lost, duplicated, reordered
 * or malformed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nvmsg.h>

#include "cli.h"
#include "demo.h"
#include "output.h"

#define MAX_TIERS 2

/* struct totals -- the sums over tiers */
struct totals {
	uint64_t sent, lost, duplicated, reordered, invalid, redelivered;
	uint64_t kills;
};

static int
failed(const struct totals *t)
{
	return t->lost || t->duplicated || t->reordered || t->invalid;
}

static void
print_json(const struct demo_cfg *cfg, const struct demo_result *res,
	   int ntiers, const struct totals *t)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_bool(&w, "ok", !failed(t));
	jw_u64(&w, "sent", t->sent);
	jw_u64(&w, "lost", t->lost);
	jw_u64(&w, "duplicated", t->duplicated);
	jw_u64(&w, "reordered", t->reordered);
	jw_u64(&w, "invalid", t->invalid);
	jw_u64(&w, "redelivered", t->redelivered);
	jw_u64(&w, "kills", t->kills);
	jw_u64(&w, "producers", cfg->producers);
	jw_u64(&w, "consumers", cfg->consumers);
	jw_u64(&w, "messages_per_producer", cfg->messages);
	jw_arr(&w, "tiers");
	for (int i = 0; i < ntiers; i++) {
		const struct demo_result *r = &res[i];
		jw_obj(&w, NULL);
		jw_str(&w, "tier", nvmsg_tier_name(r->tier));
		jw_str(&w, "backing", r->backing);
		jw_u64(&w, "sent", r->sent);
		jw_obj(&w, "received");
		for (unsigned k = 0; k < cfg->consumers; k++) {
			char name[16];
			snprintf(name, sizeof(name), "c%u", k);
			jw_u64(&w, name, r->cons[k].unique);
		}
		jw_obj_end(&w);
		jw_u64(&w, "lost", r->lost);
		jw_u64(&w, "duplicated", r->duplicated);
		jw_u64(&w, "reordered", r->reordered);
		jw_u64(&w, "invalid", r->invalid);
		jw_u64(&w, "redelivered", r->redelivered);
		jw_u64(&w, "kills", r->kills);
		jw_u64(&w, "elapsed_ms", r->elapsed_ms);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
}

static void
print_tier(const struct demo_cfg *cfg, const struct demo_result *r)
{
	struct table t;

	printf("%s -- %s\n", nvmsg_tier_name(r->tier), r->backing);
	printf("  %u producers x %llu messages -> %u consumers, %d KiB "
	       "rings, consumer c%u SIGKILLed %llu time(s) and restarted\n",
	       cfg->producers, (unsigned long long)cfg->messages,
	       cfg->consumers, DEMO_CAPACITY / 1024, cfg->consumers > 1 ? 1 : 0,
	       (unsigned long long)r->kills);
	tbl_init(&t, 3, 0x2);
	tbl_add(&t, "sent");
	tbl_add(&t, "%llu", (unsigned long long)r->sent);
	tbl_add(&t, "messages");
	for (unsigned k = 0; k < cfg->consumers; k++) {
		tbl_add(&t, "received by c%u", k);
		tbl_add(&t, "%llu", (unsigned long long)r->cons[k].unique);
		tbl_add(&t, "%s",
			r->cons[k].unique == r->sent ? "all" : "MISSING");
	}
	tbl_add(&t, "lost");
	tbl_add(&t, "%llu", (unsigned long long)r->lost);
	tbl_add(&t, "%s", r->lost ? "FAIL" : "ok");
	tbl_add(&t, "duplicated");
	tbl_add(&t, "%llu", (unsigned long long)r->duplicated);
	tbl_add(&t, "%s", r->duplicated ? "FAIL" : "ok");
	tbl_add(&t, "reordered");
	tbl_add(&t, "%llu", (unsigned long long)r->reordered);
	tbl_add(&t, "%s", r->reordered ? "FAIL" : "ok");
	if (r->invalid) {
		tbl_add(&t, "invalid lines");
		tbl_add(&t, "%llu", (unsigned long long)r->invalid);
		tbl_add(&t, "FAIL");
	}
	tbl_add(&t, "redelivered");
	tbl_add(&t, "%llu", (unsigned long long)r->redelivered);
	tbl_add(&t, "after the kill; skipped by the idempotent consumer");
	tbl_add(&t, "elapsed");
	tbl_add(&t, "%llu", (unsigned long long)r->elapsed_ms);
	tbl_add(&t, "ms");
	tbl_print(&t, stdout, "  ");
	tbl_free(&t);
	putchar('\n');
}

static void
print_conclusion(const struct demo_cfg *cfg, const struct demo_result *res,
		 int ntiers, const struct totals *t)
{
	char tiers[64] = "";

	for (int i = 0; i < ntiers; i++)
		snprintf(tiers + strlen(tiers), sizeof(tiers) - strlen(tiers),
			 "%s%s", i ? (i + 1 == ntiers ? " and " : ", ") : "",
			 nvmsg_tier_name(res[i].tier));
	if (failed(t)) {
		printf("FAIL on %s: %llu lost, %llu duplicated, %llu "
		       "reordered, %llu invalid.\n",
		       tiers, (unsigned long long)t->lost,
		       (unsigned long long)t->duplicated,
		       (unsigned long long)t->reordered,
		       (unsigned long long)t->invalid);
		return;
	}
	printf("PASS on %s: each of %u consumers processed all %llu "
	       "messages exactly once, in order per producer, despite %llu "
	       "SIGKILL(s) (%llu redeliveries skipped).\n",
	       tiers, cfg->consumers,
	       (unsigned long long)(cfg->producers * cfg->messages),
	       (unsigned long long)t->kills,
	       (unsigned long long)t->redelivered);
}

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tier", required_argument, NULL, 't' },
		{ "messages", required_argument, NULL, 'n' },
		{ "producers", required_argument, NULL, 'p' },
		{ "consumers", required_argument, NULL, 'c' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct demo_cfg cfg = { .producers = 4,
				.consumers = 3,
				.messages = 20000 };
	int tiers[MAX_TIERS] = { NVMSG_TIER_VOLATILE, NVMSG_TIER_EMULATED };
	struct demo_result res[MAX_TIERS];
	struct totals t = { 0 };
	int ntiers = MAX_TIERS, json = 0, c, rc = CLI_OK;

	while ((c = cli_getopt(g, cmd, argc, argv, ":hjt:n:p:c:", opts, &rc)) !=
	       -1) {
		switch (c) {
		case CLI_OPT_STOP:
			return rc;
		case 'j':
			json = 1;
			break;
		case 't':
			tiers[0] = nvmsg_tier_parse(optarg);
			if (tiers[0] < 0)
				return cli_usage_error(cmd, "%s",
						       nvmsg_errmsg());
			ntiers = 1;
			break;
		case 'n':
			rc = cli_parse_u64(cmd, "--messages", optarg, 1,
					   1000000, &cfg.messages);
			break;
		case 'p':
			rc = cli_parse_unsigned(cmd, "--producers", optarg, 1,
						NVMSG_MAX_PRODUCERS,
						&cfg.producers);
			break;
		case 'c':
			rc = cli_parse_unsigned(cmd, "--consumers", optarg, 1,
						NVMSG_MAX_CONSUMERS,
						&cfg.consumers);
			break;
		}
		if (rc != CLI_OK)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	cfg.base = g->dir;
	cfg.progress = isatty(STDERR_FILENO);

	for (int i = 0; i < ntiers; i++) {
		struct demo_result *r = &res[i];
		if (demo_run_tier(&cfg, tiers[i], r) < 0)
			return CLI_ERROR;
		t.sent += r->sent;
		t.lost += r->lost;
		t.duplicated += r->duplicated;
		t.reordered += r->reordered;
		t.invalid += r->invalid;
		t.redelivered += r->redelivered;
		t.kills += r->kills;
		if (!json)
			print_tier(&cfg, r);
	}
	if (json)
		print_json(&cfg, res, ntiers, &t);
	else
		print_conclusion(&cfg, res, ntiers, &t);
	return failed(&t) ? CLI_VERDICT : CLI_OK;
}

const struct cli_cmd cli_cmd_demo = {
	.name = "demo",
	.summary = "show exactly-once processing across a consumer SIGKILL",
	.synopsis = "[--json] [--tier T] [--messages N] [--producers P] "
		    "[--consumers C]",
	.help = "Run a small system of processes on a fresh channel and "
		"check the result.\nOn the volatile and the emulated tier "
		"(or only on --tier T), each in a new\ntemporary directory "
		"that is removed afterwards: P producer processes send N\n"
		"messages each through 64 KiB rings (so they wrap and "
		"producers wait for\nspace) to C consumer processes c0, c1, "
		"...  Each consumer appends\n\"<producer> <seq>\" to its own "
		"file for every message, then acks.  Consumer c1\nis "
		"SIGKILLed a third of the way through and restarted: it "
		"resumes after its\nlast ack, receives the messages it wrote "
		"but had not acked yet, and skips\nthem because its file "
		"already has them (an idempotent consumer: exactly-once\n"
		"processing built on at-least-once delivery).\n"
		"\nThe verdict is read from the consumers' files: per "
		"consumer every message\nexactly once (lost, duplicated), in "
		"send order per producer (reordered).\nA progress line is "
		"drawn on stderr when it is a terminal.\n"
		"\nOptions:\n"
		"  --tier T          one tier only; volatile, emulated, msync "
		"or pmem\n"
		"  --messages N      messages per producer, 1..1000000 "
		"(default 20000)\n"
		"  --producers P     1..64 (default 4)\n"
		"  --consumers C     1..64 (default 3)\n"
		"  --json            one JSON object with the totals (ok, "
		"sent, lost,\n"
		"                    duplicated, reordered, redelivered, "
		"kills) and \"tiers\",\n"
		"                    one object per tier: tier, backing, sent, "
		"received\n"
		"                    ({\"c0\":N,...}), the same counts and "
		"elapsed_ms\n"
		"  --dir DIR         make the temporary directories in DIR "
		"(default /dev/shm;\n"
		"                    /var/tmp for msync, /mnt/pmem for pmem); "
		"$NVMSG_DIR is\n"
		"                    not used\n"
		"\nExit status 4 when any message was lost, duplicated or "
		"reordered.\n"
		"\nExample:\n"
		"  nvmsg demo\n"
		"  nvmsg demo --json --messages 5000\n",
	.run = run,
};
