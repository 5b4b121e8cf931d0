/* SPDX-License-Identifier: MIT */
/*
 * cli.h -- what the files of the nvmsg command share: exit codes, the
 * command table entry, option parsing and directory resolution.
 *
 * The command uses only the public header <nvmsg.h>; every library failure
 * is reported as "nvmsg: " followed by nvmsg_errmsg().
 */
#ifndef NVMSG_CLI_H
#define NVMSG_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes: documented in nvmsg --help and nvmsg(1); scripts rely on them. */
enum cli_exit {
	CLI_OK = 0,	 /* success */
	CLI_ERROR = 1,	 /* the operation failed (message on stderr) */
	CLI_USAGE = 2,	 /* bad command line */
	CLI_TIMEOUT = 3, /* recv: fewer than --count messages in time;
			  * send: channel full until --timeout-ms */
	CLI_VERDICT = 4, /* demo: lost, duplicated or reordered messages */
	CLI_REPAIR = 5,	 /* check: repair needed (dead producers left work
			  * for nvmsg repair; nothing is corrupt) */
};

/* struct cli -- global state set by options before or after the verb */
struct cli {
	const char *dir; /* --dir DIR; NULL when not given */
};

struct cli_report; /* report.c, below */

/* struct cli_cmd -- one subcommand: its name, help and entry point */
struct cli_cmd {
	const char *name;
	const char *summary;  /* one line, for nvmsg --help */
	const char *synopsis; /* "NAME --tier T [...]": after "nvmsg VERB " */
	const char *help;     /* description, options, example */
	const char *exit_status; /* the verb's own "Exit status:" lines, or
				  * NULL for the common ones */
	const struct cli_report *report; /* check, repair: what their run,
					  * cli_report_run, asks and prints;
					  * NULL for the other verbs */
	int (*run)(struct cli *g, const struct cli_cmd *cmd, int argc,
		   char **argv);
};

extern const struct cli_cmd cli_cmd_create;
extern const struct cli_cmd cli_cmd_send;
extern const struct cli_cmd cli_cmd_recv;
extern const struct cli_cmd cli_cmd_stat;
extern const struct cli_cmd cli_cmd_ls;
extern const struct cli_cmd cli_cmd_rm;
extern const struct cli_cmd cli_cmd_check;
extern const struct cli_cmd cli_cmd_repair;
extern const struct cli_cmd cli_cmd_demo;

/* ------------------------------------------------------------ args.c */

/* Options every verb accepts, appended to each verb's option table. */
#define CLI_OPT_DIR 0x100
#define CLI_COMMON_OPTIONS                                                     \
	{ "dir", required_argument, NULL, CLI_OPT_DIR },                       \
	{                                                                      \
		"help", no_argument, NULL, 'h'                                 \
	}

/* cli_getopt returns this when the verb must return *rc at once (it
 * printed its help, or a usage error) */
#define CLI_OPT_STOP (-2)

/* cli_getopt -- getopt_long over a verb's arguments (argv[0] is the verb)
 * that handles --dir and --help itself and reports unknown options and
 * missing arguments as usage errors.  SHORTOPTS must start with ':' and
 * hold 'h'.  Returns the next verb option, -1 after the last one (optind
 * then indexes the operands), or CLI_OPT_STOP with *rc set. */
int cli_getopt(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *opts, int *rc);

/* cli_usage_error -- "nvmsg VERB: <why>", the synopsis and a hint on
 * stderr; returns CLI_USAGE */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* cli_print_help -- the full help of one verb */
void cli_print_help(const struct cli_cmd *cmd, FILE *f);

/* cli_name_operand -- the single NAME operand, or a usage error (CLI_USAGE
 * returned) when it is missing or followed by others */
int cli_name_operand(const struct cli_cmd *cmd, int argc, char **argv,
		     const char **name);

/* CLI_GO -- returned by cli_name_json when the verb goes on */
#define CLI_GO (-1)

/* cli_name_json -- the arguments of a "NAME [--json]" verb (stat, check,
 * repair): *json, *name, and *dir, the directory holding the channel.
 * Returns CLI_GO, or the exit status the verb must return now (help
 * printed, a usage error, or no such channel, said on stderr). */
int cli_name_json(struct cli *g, const struct cli_cmd *cmd, int argc,
		  char **argv, const char **name, const char **dir, int *json);

/* Number parsing with full validation: decimal digits only (no sign, no
 * blanks), no overflow, MIN <= value <= MAX.  Each returns 0, or prints a
 * usage error naming OPT and returns CLI_USAGE. */
int cli_parse_u64(const struct cli_cmd *cmd, const char *opt, const char *s,
		  uint64_t min, uint64_t max, uint64_t *out);
/* cli_parse_unsigned -- as cli_parse_u64, into an unsigned */
int cli_parse_unsigned(const struct cli_cmd *cmd, const char *opt,
		       const char *s, unsigned min, unsigned max,
		       unsigned *out);
/* cli_parse_size -- BYTES with an optional K, M or G suffix (powers of
 * 1024, either case) */
int cli_parse_size(const struct cli_cmd *cmd, const char *opt, const char *s,
		   uint64_t *out);
/* cli_parse_timeout -- milliseconds into nanoseconds for the library */
int cli_parse_timeout(const struct cli_cmd *cmd, const char *opt, const char *s,
		      int64_t *ns);

/* ---------------------------------------------------------- report.c */

/* struct cli_report -- a "NAME [--json]" verb that asks the library for a
 * report on one channel and prints it (check, repair).  REPORT is the
 * verb's report struct (struct nvmsg_check, struct nvmsg_recovery),
 * zeroed before the call; PATH is "DIR/NAME.nvmsg". */
struct cli_report {
	/* the library call: 0 with *report filled, or a negative code */
	int (*call)(const char *dir, const char *name, void *report);
	void (*print_json)(const char *path, const char *name,
			   const void *report);
	void (*print_human)(const char *path, const char *dir, const char *name,
			    const void *report);
	/* the exit status once the report is printed (saying why on stderr
	 * when it is not CLI_OK); NULL: always CLI_OK */
	int (*status)(const void *report);
};

/* cli_report_run -- the run of such a verb (CMD->report): NAME and
 * --json (cli_name_json), the call (a failure is reported as the
 * library's sentence, CLI_ERROR, nothing on stdout), the report as JSON
 * or as a table on stdout, then its status */
int cli_report_run(struct cli *g, const struct cli_cmd *cmd, int argc,
		   char **argv);

/* ------------------------------------------------------------ dirs.c */

/* The default directories, in the order commands search them. */
#define CLI_DIR_SHM "/dev/shm/nvmsg"
#define CLI_DIR_VARTMP "/var/tmp/nvmsg"
#define CLI_DIR_PMEM "/mnt/pmem/nvmsg"
#define CLI_NDEFAULT_DIRS 3
extern const char *const cli_default_dirs[CLI_NDEFAULT_DIRS];

/* cli_dir_explicit -- --dir, else $NVMSG_DIR when set and not empty, else
 * NULL */
const char *cli_dir_explicit(const struct cli *g);

/* cli_dir_for_create -- the directory a new channel of TIER goes to:
 * explicit, else the tier's default, made if missing (mode 0755).
 * Returns it, or NULL after printing why. */
const char *cli_dir_for_create(const struct cli *g, int tier);

/* cli_dir_find -- the directory that holds channel NAME: explicit, else
 * the first default directory with NAME.nvmsg in it.  Returns it, or
 * NULL after printing why. */
const char *cli_dir_find(const struct cli *g, const char *name);

#endif /* NVMSG_CLI_H */
