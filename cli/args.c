/* SPDX-License-Identifier: MIT */
/*
 * args.c -- command-line parsing shared by every verb: getopt_long with
 * the common options, usage errors, operands and validated numbers.
 *
 * Every malformed input ends here as a usage error (exit 2) with a line
 * that names the option and the value: nothing is guessed, truncated or
 * wrapped around (strtoull alone accepts "-1", " 5" and "5x").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nvmsg %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: nvmsg %s %s\n", cmd->name, cmd->synopsis);
	fprintf(stderr, "Try 'nvmsg help %s' for more information.\n",
		cmd->name);
	return CLI_USAGE;
}

void
cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: nvmsg %s %s\n\n%s", cmd->name, cmd->synopsis,
		cmd->help);
	fputs("\nCommon options:\n"
	      "  --dir DIR       channel directory (default: $NVMSG_DIR, "
	      "else see nvmsg --help)\n"
	      "  -h, --help      this help\n"
	      "\nExit status:\n",
	      f);
	fputs(cmd->exit_status ? cmd->exit_status
			       : "  0 success, 1 error, 2 usage error, "
				 "3 timeout, 4 demo verdict failed,\n"
				 "  5 check: repair needed\n",
	      f);
}

int
cli_getopt(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv,
	   const char *shortopts, const struct option *opts, int *rc)
{
	for (;;) {
		int c = getopt_long(argc, argv, shortopts, opts, NULL);

		switch (c) {
		case CLI_OPT_DIR:
			if (!optarg[0]) {
				*rc = cli_usage_error(cmd, "--dir is empty");
				return CLI_OPT_STOP;
			}
			g->dir = optarg;
			continue;
		case 'h':
			cli_print_help(cmd, stdout);
			*rc = CLI_OK;
			return CLI_OPT_STOP;
		case ':':
			*rc = cli_usage_error(cmd, "option '%s' needs a value",
					      argv[optind - 1]);
			return CLI_OPT_STOP;
		case '?':
			if (optopt)
				*rc = cli_usage_error(
					cmd, "unknown option '-%c'", optopt);
			else
				*rc = cli_usage_error(cmd,
						      "unknown option '%s'",
						      argv[optind - 1]);
			return CLI_OPT_STOP;
		default:
			return c;
		}
	}
}

int
cli_name_operand(const struct cli_cmd *cmd, int argc, char **argv,
		 const char **name)
{
	if (optind >= argc)
		return cli_usage_error(cmd, "missing channel NAME");
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind + 1]);
	*name = argv[optind];
	return 0;
}

int
cli_name_json(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv,
	      const char **name, const char **dir, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = CLI_OK;

	*json = 0;
	while ((c = cli_getopt(g, cmd, argc, argv, ":hj", opts, &rc)) != -1) {
		if (c == CLI_OPT_STOP)
			return rc;
		*json = 1;
	}
	if ((rc = cli_name_operand(cmd, argc, argv, name)) != 0)
		return rc;
	*dir = cli_dir_find(g, *name);
	return *dir ? CLI_GO : CLI_ERROR;
}

/* digits -- strtoull on a string of decimal digits only; *END gets the
 * first byte after them.  0 or -1 (no digits, or out of range). */
static int
digits(const char *s, uint64_t *out, char **end)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, end, 10);
	if (errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int
cli_parse_u64(const struct cli_cmd *cmd, const char *opt, const char *s,
	      uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;

	if (digits(s, &v, &end) != 0 || *end)
		return cli_usage_error(cmd, "%s '%s' is not a number", opt, s);
	if (v < min || v > max)
		return cli_usage_error(cmd, "%s %s is out of range %llu..%llu",
				       opt, s, (unsigned long long)min,
				       (unsigned long long)max);
	*out = v;
	return 0;
}

int
cli_parse_unsigned(const struct cli_cmd *cmd, const char *opt, const char *s,
		   unsigned min, unsigned max, unsigned *out)
{
	uint64_t v = 0;
	int rc = cli_parse_u64(cmd, opt, s, min, max, &v);

	if (rc == 0)
		*out = (unsigned)v;
	return rc;
}

int
cli_parse_size(const struct cli_cmd *cmd, const char *opt, const char *s,
	       uint64_t *out)
{
	char *end;
	uint64_t v;
	unsigned shift = 0;

	if (digits(s, &v, &end) != 0)
		return cli_usage_error(cmd, "%s '%s' is not a size", opt, s);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return cli_usage_error(
			cmd, "%s '%s': the suffix must be K, M or G", opt, s);
	}
	if (shift && end[1])
		return cli_usage_error(
			cmd, "%s '%s': the suffix must be K, M or G", opt, s);
	if (v == 0)
		return cli_usage_error(cmd, "%s must not be 0", opt);
	if (v > UINT64_MAX >> shift)
		return cli_usage_error(cmd, "%s '%s' is too large", opt, s);
	*out = v << shift;
	return 0;
}

int
cli_parse_timeout(const struct cli_cmd *cmd, const char *opt, const char *s,
		  int64_t *ns)
{
	uint64_t ms = 0;
	int rc = cli_parse_u64(cmd, opt, s, 0, INT64_MAX / 1000000, &ms);

	if (rc == 0)
		*ns = (int64_t)ms * 1000000;
	return rc;
}
