/* SPDX-License-Identifier: MIT */
/*
 * cmd_repair.c -- nvmsg repair: run recovery on the slots of dead producers.
 *
 * nvmsg_channel_repair takes over every producer slot whose owner process
 * is gone, publishes the whole records it left past its published tail,
 * cuts a torn tail and releases the slot: the same recovery a producer
 * reopening that slot would run.  Live producers are left alone, so repair
 * is safe while the channel is in use.  Needs write permission.  Prints
 * what was done: one aligned table, or one JSON object.
 */
#include <nvmsg.h>

#include "cli.h"
#include "output.h"

static int
call(const char *dir, const char *name, void *report)
{
	return nvmsg_channel_repair(dir, name, report);
}

static void
print_json(const char *path, const char *name, const void *report)
{
	const struct nvmsg_recovery *r = report;
	struct jw w;

	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_str(&w, "name", name);
	jw_str(&w, "path", path);
	jw_u64(&w, "slots_recovered", r->slots_recovered);
	jw_u64(&w, "records_scanned", r->records_scanned);
	jw_u64(&w, "records_published", r->records_published);
	jw_u64(&w, "bytes_scanned", r->bytes_scanned);
	jw_u64(&w, "bytes_cut", r->bytes_cut);
	jw_u64(&w, "elapsed_ns", r->elapsed_ns);
	jw_obj_end(&w);
}

static void
print_human(const char *path, const char *dir, const char *name,
	    const void *report)
{
	const struct nvmsg_recovery *r = report;
	struct table t;

	(void)dir;
	(void)name;

	tbl_init(&t, 2, 0);
	tbl_add(&t, "channel");
	tbl_add(&t, "%s", path);
	tbl_add(&t, "slots recovered");
	if (r->slots_recovered)
		tbl_add(&t,
			"%u (producer slots of dead processes, taken "
			"over and released)",
			r->slots_recovered);
	else
		tbl_add(&t, "0 (no producer slot had a dead owner: nothing "
			    "to do)");
	tbl_add(&t, "records scanned");
	tbl_add(&t, "%llu", (unsigned long long)r->records_scanned);
	tbl_add(&t, "records published");
	tbl_add(&t, "%llu (whole records found past a published tail)",
		(unsigned long long)r->records_published);
	tbl_add(&t, "bytes scanned");
	tbl_add(&t, "%llu", (unsigned long long)r->bytes_scanned);
	tbl_add(&t, "bytes cut");
	tbl_add(&t,
		"%llu (non-zero bytes cleared past the tail: a torn or "
		"abandoned record, and stale bytes of earlier laps)",
		(unsigned long long)r->bytes_cut);
	tbl_add(&t, "time");
	tbl_add(&t, "%.3f ms", (double)r->elapsed_ns / 1e6);
	tbl_print(&t, stdout, "");
	tbl_free(&t);
}

/* success whenever the repair ran: no status callback (CLI_OK) */
static const struct cli_report repair_report = {
	.call = call,
	.print_json = print_json,
	.print_human = print_human,
};

const struct cli_cmd cli_cmd_repair = {
	.name = "repair",
	.summary = "recover the producer slots of dead processes",
	.synopsis = "NAME [--json]",
	.help = "Take over every producer slot whose owner process is dead, "
		"as a producer\nreopening it would: scan its ring, publish the "
		"whole records found past its\npublished tail, cut a torn "
		"record at the tail, then release the slot.\nSlots of live "
		"producers are left alone, so repair is safe while the\n"
		"channel is in use.  Prints the slots recovered, the records "
		"scanned and\npublished, the bytes scanned and cut, and the "
		"time taken.  Needs write\npermission.  It does not undo "
		"corruption (what nvmsg check reports as\nerrors).\n"
		"\nOptions:\n"
		"  --json            one JSON object instead of a table\n"
		"\nExample:\n"
		"  nvmsg check orders; [ $? -eq 5 ] && nvmsg repair orders\n",
	.exit_status = "  0  success (also when there was nothing to do)\n"
		       "  1  error (the reason is on stderr)\n"
		       "  2  usage error\n",
	.report = &repair_report,
	.run = cli_report_run,
};
