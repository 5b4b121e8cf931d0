/* SPDX-License-Identifier: MIT */
/*
 * main.c -- the nvmsg command: global options, the verb table, help.
 *
 *   nvmsg [--dir DIR] VERB [ARGS...]
 *
 * Global options come before the verb; --dir is also accepted after it
 * (each verb's option table carries it).  Exit codes are part of the
 * interface, listed in enum cli_exit (cli.h), here in --help and in
 * nvmsg(1): 0 success, 1 error, 2 usage, 3 timeout, 4 demo verdict failed,
 * 5 check: repair needed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

#ifndef NVMSG_CLI_VERSION
#define NVMSG_CLI_VERSION "unknown"
#endif

/* cmd_bench.c (declared here, not in cli.h, to keep the bench change to
 * the files it owns; it can move next to the others) */
extern const struct cli_cmd cli_cmd_bench;

static const struct cli_cmd *const commands[] = {
	&cli_cmd_create, &cli_cmd_send,	 &cli_cmd_recv,	 &cli_cmd_stat,
	&cli_cmd_ls,	 &cli_cmd_rm,	 &cli_cmd_check, &cli_cmd_repair,
	&cli_cmd_demo,	 &cli_cmd_bench,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_cmd *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static void
print_usage(FILE *f)
{
	fputs("usage: nvmsg [--dir DIR] COMMAND [ARGS...]\n"
	      "       nvmsg COMMAND --help | nvmsg help COMMAND\n"
	      "       nvmsg --version\n",
	      f);
}

static void
print_help(FILE *f)
{
	print_usage(f);
	fputs("\nReliable messaging over shared memory: channels of "
	      "per-producer rings,\nnamed consumers that resume after "
	      "their last acknowledgement.\n\nCommands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name,
			commands[i]->summary);
	fputs("\nGlobal options (--dir is also accepted after the command):\n"
	      "  --dir DIR      directory that holds the channels\n"
	      "  -h, --help     this help\n"
	      "  -V, --version  print the versions of nvmsg and libnvmsg\n"
	      "\nDirectories:\n"
	      "  --dir, else $NVMSG_DIR, else a default.  create uses the "
	      "tier's default:\n"
	      "  volatile and emulated " CLI_DIR_SHM ", msync " CLI_DIR_VARTMP
	      ",\n"
	      "  pmem " CLI_DIR_PMEM
	      " (made if missing).  Other commands look for NAME.nvmsg\n"
	      "  in " CLI_DIR_SHM ", " CLI_DIR_VARTMP ", " CLI_DIR_PMEM
	      ", in that order.\n"
	      "\nExit status:\n"
	      "  0  success\n"
	      "  1  error (the reason is printed on stderr)\n"
	      "  2  usage error\n"
	      "  3  timeout (recv got fewer than --count messages; send "
	      "found the channel full)\n"
	      "  4  demo verdict failed (messages lost, duplicated or "
	      "reordered)\n"
	      "  5  check: repair needed (dead producers left work for "
	      "nvmsg repair;\n"
	      "     nothing is corrupt)\n"
	      "\nExample:\n"
	      "  nvmsg demo\n"
	      "  nvmsg create orders --tier volatile\n"
	      "  echo hello | nvmsg send orders\n"
	      "  nvmsg recv orders --consumer billing --count 1\n"
	      "\nSee nvmsg(1) and libnvmsg(7).\n",
	      f);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nvmsg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr);
	fputs("Try 'nvmsg --help' for more information.\n", stderr);
	return CLI_USAGE;
}

/* help_command -- nvmsg help [VERB] */
static int
help_command(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		print_help(stdout);
		return CLI_OK;
	}
	if (argc > 2)
		return usage_error("help: unexpected argument '%s'", argv[2]);
	if (strcmp(argv[1], "help") == 0) {
		print_help(stdout);
		return CLI_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error("help: unknown command '%s'", argv[1]);
	cli_print_help(cmd, stdout);
	return CLI_OK;
}

static int
run(int argc, char **argv)
{
	struct cli g = { 0 };
	const struct cli_cmd *cmd;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_help(stdout);
			return CLI_OK;
		} else if (strcmp(a, "-V") == 0 ||
			   strcmp(a, "--version") == 0) {
			printf("nvmsg %s (libnvmsg %s)\n", NVMSG_CLI_VERSION,
			       nvmsg_version());
			return CLI_OK;
		} else if (strcmp(a, "--dir") == 0) {
			if (i + 1 == argc || !argv[i + 1][0])
				return usage_error("%s needs a directory", a);
			g.dir = argv[++i];
		} else if (strncmp(a, "--dir=", 6) == 0) {
			if (!a[6])
				return usage_error("%s needs a directory", a);
			g.dir = a + 6;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (i == argc)
		return usage_error("%s", "missing COMMAND");
	if (strcmp(argv[i], "help") == 0)
		return help_command(argc - i, argv + i);
	cmd = find_command(argv[i]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[i]);
	optind = 0; /* glibc: start a fresh scan of the verb's arguments */
	return cmd->run(&g, cmd, argc - i, argv + i);
}

int
main(int argc, char **argv)
{
	int rc = run(argc, argv);
	int wrc = cli_check_written(stdout, "standard output");

	return rc == CLI_OK ? wrc : rc;
}
