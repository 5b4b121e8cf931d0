/* SPDX-License-Identifier: MIT */
/*
 * report.c -- the one run() of the verbs that ask the library for a
 * report on one channel and print it: nvmsg check and nvmsg repair.
 *
 * The steps are the same for both: NAME and --json (cli_name_json), the
 * library call, the channel's path, the report as one JSON object or one
 * table, then the exit status.  What differs (the call, the two printers,
 * the status) is the verb's struct cli_report, reached from its command
 * table entry.
 */
#include <string.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

/* union report -- room for any verb's report */
union report {
	struct nvmsg_check check;
	struct nvmsg_recovery recovery;
};

int
cli_report_run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct cli_report *v = cmd->report;
	union report r;
	const char *name, *dir;
	char path[4200];
	int json, rc;

	memset(&r, 0, sizeof(r));
	rc = cli_name_json(g, cmd, argc, argv, &name, &dir, &json);
	if (rc != CLI_GO)
		return rc;
	rc = v->call(dir, name, &r);
	if (rc < 0)
		return cli_lib_err(rc);
	snprintf(path, sizeof(path), "%s/%s.nvmsg", dir, name);
	if (json)
		v->print_json(path, name, &r);
	else
		v->print_human(path, dir, name, &r);
	return v->status ? v->status(&r) : CLI_OK;
}
