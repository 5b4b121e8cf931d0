/* SPDX-License-Identifier: MIT */
/*
 * cmd_create.c -- nvmsg create: make a channel on a chosen tier.
 *
 * The tier is always named by the user (never defaulted): it decides what
 * survives a crash or a power failure.  The success line repeats what the
 * library says backs the channel, read back with nvmsg_channel_stat.
 */
#include <stdlib.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tier", required_argument, NULL, 't' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "producers", required_argument, NULL, 'p' },
		{ "consumers", required_argument, NULL, 'C' },
		{ "mode", required_argument, NULL, 'm' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct nvmsg_channel_opts co = { 0 };
	struct nvmsg_stat *st;
	const char *name, *dir;
	uint64_t mode;
	char *end;
	int c, rc = CLI_OK;

	while ((c = cli_getopt(g, cmd, argc, argv, ":ht:c:p:C:m:", opts,
			       &rc)) != -1) {
		switch (c) {
		case CLI_OPT_STOP:
			return rc;
		case 't':
			co.tier = nvmsg_tier_parse(optarg);
			if (co.tier < 0)
				return cli_usage_error(cmd, "%s",
						       nvmsg_errmsg());
			break;
		case 'c':
			rc = cli_parse_size(cmd, "--capacity", optarg,
					    &co.capacity_bytes);
			break;
		case 'p':
			rc = cli_parse_unsigned(cmd, "--producers", optarg, 1,
						NVMSG_MAX_PRODUCERS,
						&co.max_producers);
			break;
		case 'C':
			rc = cli_parse_unsigned(cmd, "--consumers", optarg, 1,
						NVMSG_MAX_CONSUMERS,
						&co.max_consumers);
			break;
		case 'm':
			if (optarg[0] < '0' || optarg[0] > '7')
				return cli_usage_error(
					cmd, "--mode '%s' is not an octal mode",
					optarg);
			mode = strtoull(optarg, &end, 8);
			if (*end || mode == 0 || mode > 07777)
				return cli_usage_error(
					cmd,
					"--mode '%s' must be an octal file "
					"mode from 1 to 7777",
					optarg);
			co.mode = (mode_t)mode;
			break;
		}
		if (rc != CLI_OK)
			return rc;
	}
	if ((rc = cli_name_operand(cmd, argc, argv, &name)) != 0)
		return rc;
	if (co.tier == 0)
		return cli_usage_error(cmd, "--tier is required: volatile, "
					    "pmem, msync or emulated");
	dir = cli_dir_for_create(g, co.tier);
	if (!dir)
		return CLI_ERROR;
	rc = nvmsg_channel_create(dir, name, &co);
	if (rc < 0)
		return cli_lib_err(rc);

	st = malloc(sizeof(*st));
	if (st && nvmsg_channel_stat(dir, name, st) == 0)
		printf("created %s/%s.nvmsg: tier %s, %s\n", dir, name,
		       nvmsg_tier_name(st->tier), st->backing);
	else
		printf("created %s/%s.nvmsg: tier %s\n", dir, name,
		       nvmsg_tier_name(co.tier));
	free(st);
	return CLI_OK;
}

const struct cli_cmd cli_cmd_create = {
	.name = "create",
	.summary = "create a channel on a tier",
	.synopsis = "NAME --tier volatile|pmem|msync|emulated [--capacity "
		    "BYTES] [--producers N]\n"
		    "                    [--consumers N] [--mode OCTAL]",
	.help = "Create the channel DIR/NAME.nvmsg.  NAME is 1 to 47 of "
		"[A-Za-z0-9_.-], not\nstarting with '.'.\n"
		"\nOptions:\n"
		"  --tier T          required; where the channel lives:\n"
		"                      volatile  DRAM file (tmpfs), lost at "
		"power failure\n"
		"                      pmem      DAX file with MAP_SYNC, "
		"survives power failure\n"
		"                      msync     any filesystem, each commit "
		"msync'ed (slow, durable)\n"
		"                      emulated  DRAM file treated as pmem "
		"(NOT durable; for testing)\n"
		"  --capacity BYTES  ring size per producer, a power of two "
		"from 4K to 16G;\n"
		"                    suffixes K, M, G (powers of 1024); "
		"default 1M\n"
		"  --producers N     producer slots, 1..64 (default 8)\n"
		"  --consumers N     consumer slots, 1..64 (default 16)\n"
		"  --mode OCTAL      data file mode (default 644: the owner "
		"produces, others\n"
		"                    may consume); the umask does not apply\n"
		"\nWithout --dir or $NVMSG_DIR the channel goes to "
		"/dev/shm/nvmsg (volatile,\nemulated), /var/tmp/nvmsg "
		"(msync) or /mnt/pmem/nvmsg (pmem), made if missing.\n"
		"\nExample:\n"
		"  nvmsg create orders --tier volatile --capacity 64K "
		"--producers 4\n",
	.run = run,
};
