/* SPDX-License-Identifier: MIT */
/*
 * cmd_check.c -- nvmsg check: read-only verification of a channel.
 *
 * Runs nvmsg_channel_check and turns its report into a verdict that the
 * exit status carries: clean (0), repair needed (5: dead producers left
 * work that nvmsg repair does, nothing is corrupt) or corrupt (1: the
 * first error, which names the file, goes to stderr).  A channel that
 * cannot be opened at all is an error too (1), reported as the library's
 * sentence, and then nothing is printed on standard output.
 *
 * Changes nothing and needs only read permission, so it is safe to run
 * next to live producers and consumers: a live producer's slot is never
 * counted as needing repair.
 */
#include <nvmsg.h>

#include "cli.h"
#include "output.h"

/* verdict -- what the report means, as the JSON "verdict" spells it */
static const char *
verdict(const struct nvmsg_check *r)
{
	if (r->errors)
		return "corrupt";
	if (r->repairs_needed)
		return "repair-needed";
	return "clean";
}

static int
call(const char *dir, const char *name, void *report)
{
	return nvmsg_channel_check(dir, name, report);
}

static void
print_json(const char *path, const char *name, const void *report)
{
	const struct nvmsg_check *r = report;
	struct jw w;

	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_str(&w, "name", name);
	jw_str(&w, "path", path);
	jw_u64(&w, "producers", r->producers);
	jw_u64(&w, "producers_dead", r->producers_dead);
	jw_u64(&w, "consumers", r->consumers);
	jw_u64(&w, "records_scanned", r->records_scanned);
	jw_u64(&w, "bytes_scanned", r->bytes_scanned);
	jw_u64(&w, "records_unpublished", r->records_unpublished);
	jw_u64(&w, "torn_tails", r->torn_tails);
	jw_u64(&w, "repairs_needed", r->repairs_needed);
	jw_u64(&w, "errors", r->errors);
	jw_str(&w, "first_error", r->first_error);
	jw_u64(&w, "elapsed_ns", r->elapsed_ns);
	jw_str(&w, "verdict", verdict(r));
	jw_obj_end(&w);
}

static void
print_human(const char *path, const char *dir, const char *name,
	    const void *report)
{
	const struct nvmsg_check *r = report;
	struct table t;

	tbl_init(&t, 2, 0);
	tbl_add(&t, "channel");
	tbl_add(&t, "%s", path);
	tbl_add(&t, "producers");
	tbl_add(&t, "%u used, %u dead", r->producers, r->producers_dead);
	tbl_add(&t, "consumers");
	tbl_add(&t, "%u", r->consumers);
	tbl_add(&t, "records scanned");
	tbl_add(&t, "%llu", (unsigned long long)r->records_scanned);
	tbl_add(&t, "bytes scanned");
	tbl_add(&t, "%llu", (unsigned long long)r->bytes_scanned);
	tbl_add(&t, "unpublished records");
	tbl_add(&t,
		"%llu (whole records of dead producers, not yet "
		"published)",
		(unsigned long long)r->records_unpublished);
	tbl_add(&t, "torn tails");
	tbl_add(&t, "%u", r->torn_tails);
	tbl_add(&t, "repairs needed");
	tbl_add(&t, "%u (producer slots nvmsg repair would take over)",
		r->repairs_needed);
	tbl_add(&t, "errors");
	tbl_add(&t, "%u", r->errors);
	if (r->errors) {
		tbl_add(&t, "first error");
		tbl_add(&t, "%s", r->first_error);
	}
	tbl_add(&t, "time");
	tbl_add(&t, "%.3f ms", (double)r->elapsed_ns / 1e6);
	tbl_add(&t, "verdict");
	if (r->errors)
		tbl_add(&t, "corrupt (nvmsg repair cannot undo it)");
	else if (r->repairs_needed)
		tbl_add(&t, "repair needed (run: nvmsg repair %s --dir %s)",
			name, dir);
	else
		tbl_add(&t, "clean");
	tbl_print(&t, stdout, "");
	tbl_free(&t);
}

/* status -- corrupt (the first error on stderr), repair needed or clean */
static int
status(const void *report)
{
	const struct nvmsg_check *r = report;

	if (r->errors) {
		/* the sentence names the file; the count says if it is all */
		if (r->errors > 1)
			cli_err("%s (and %u more errors)", r->first_error,
				r->errors - 1);
		else
			cli_err("%s", r->first_error);
		return CLI_ERROR;
	}
	return r->repairs_needed ? CLI_REPAIR : CLI_OK;
}

static const struct cli_report check_report = {
	.call = call,
	.print_json = print_json,
	.print_human = print_human,
	.status = status,
};

const struct cli_cmd cli_cmd_check = {
	.name = "check",
	.summary = "verify a channel, read-only; exit 5 if it needs repair",
	.synopsis = "NAME [--json]",
	.help = "Verify the channel without changing it: header, consumer "
		"table, every\nconsumer's cursor file and every ring (bounds, "
		"position, checksum and\nsequence of each record from the "
		"oldest unacknowledged one).  Report the\nproducer slots used "
		"and those whose owner process is dead, the consumers,\nthe "
		"records and bytes scanned, whole records that dead producers "
		"left\nunpublished, torn records at their tails, the slots "
		"nvmsg repair would take\nover, the errors (corruption repair "
		"cannot undo) with the first of them,\nthe time taken and a "
		"verdict: clean, repair needed or corrupt.\nNeeds only read "
		"permission; safe next to live producers and consumers,\n"
		"whose slots never need repair.\n"
		"\nOptions:\n"
		"  --json            one JSON object, with \"verdict\": "
		"\"clean\",\n"
		"                    \"repair-needed\" or \"corrupt\"\n"
		"\nExample:\n"
		"  nvmsg check orders --json\n"
		"  nvmsg check orders; [ $? -eq 5 ] && nvmsg repair orders\n",
	.exit_status = "  0  clean\n"
		       "  1  corrupt (the first error, naming the file, is on "
		       "stderr), or the\n"
		       "     channel cannot be opened at all\n"
		       "  2  usage error\n"
		       "  5  repair needed: dead producers left work for "
		       "nvmsg repair, nothing\n"
		       "     is corrupt\n",
	.report = &check_report,
	.run = cli_report_run,
};
