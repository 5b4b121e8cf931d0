/* SPDX-License-Identifier: MIT */
/*
 * cmd_rm.c -- nvmsg rm: remove a channel and its consumers' cursor files.
 *
 * Processes that have the channel mapped keep their mappings; new opens
 * fail.  Silent on success.
 */
#include <nvmsg.h>

#include "cli.h"
#include "output.h"

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *name, *dir;
	int c, rc = CLI_OK;

	while ((c = cli_getopt(g, cmd, argc, argv, ":h", opts, &rc)) != -1)
		if (c == CLI_OPT_STOP)
			return rc;
	if ((rc = cli_name_operand(cmd, argc, argv, &name)) != 0)
		return rc;
	dir = cli_dir_find(g, name);
	if (!dir)
		return CLI_ERROR;
	rc = nvmsg_channel_unlink(dir, name);
	return rc < 0 ? cli_lib_err(rc) : CLI_OK;
}

const struct cli_cmd cli_cmd_rm = {
	.name = "rm",
	.summary = "remove a channel and its consumer cursors",
	.synopsis = "NAME",
	.help = "Remove NAME.nvmsg and every NAME.CONSUMER.nvcur next to it.  "
		"Processes that\nhave the channel open keep using their "
		"mappings; new opens fail.\n"
		"\nExample:\n"
		"  nvmsg rm orders --dir /dev/shm/nvmsg\n",
	.run = run,
};
