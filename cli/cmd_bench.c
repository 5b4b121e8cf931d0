/* SPDX-License-Identifier: MIT */
/*
 * cmd_bench.c -- nvmsg bench: nvmsg against the physical limit and its
 * peers, in one run, reported as ratios.
 *
 * The measuring is done by the nvmsg-bench program (bench/): it links the
 * peers' client libraries (ZeroMQ, hiredis, libnats), which have no place
 * in the nvmsg command.  This verb checks the options, finds nvmsg-bench
 * (next to this executable in a build tree, else in the installed libexec
 * directory, or $NVMSG_BENCH) and runs it in its place with the same
 * arguments.  The method and the latest results are in
 * docs/PERFORMANCE.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef NVMSG_BENCH_LIBEXEC
#define NVMSG_BENCH_LIBEXEC "/usr/local/libexec/nvmsg/nvmsg-bench"
#endif

/* find_harness -- the nvmsg-bench to run, into BUF; 0 or -1 */
static int
find_harness(char *buf, size_t len)
{
	const char *env = getenv("NVMSG_BENCH");
	char self[PATH_MAX];
	ssize_t n;

	if (env && env[0]) {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK) == 0 ? 0 : -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		size_t dirlen = slash ? (size_t)(slash - self) : 0;
		if (slash && dirlen + sizeof("/nvmsg-bench") <= len) {
			memcpy(buf, self, dirlen);
			memcpy(buf + dirlen, "/nvmsg-bench",
			       sizeof("/nvmsg-bench"));
			if (access(buf, X_OK) == 0)
				return 0;
		}
	}
	snprintf(buf, len, "%s", NVMSG_BENCH_LIBEXEC);
	return access(buf, X_OK) == 0 ? 0 : -1;
}

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "cases", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "tries", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'R' },
		{ "force", no_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "no-probe", no_argument, NULL, 'P' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	char path[PATH_MAX];
	int c, rc = CLI_OK;

	while ((c = cli_getopt(g, cmd, argc, argv, ":h", opts, &rc)) != -1)
		if (c == CLI_OPT_STOP)
			return rc;
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (find_harness(path, sizeof(path)) < 0) {
		fprintf(stderr,
			"nvmsg bench: the benchmark program nvmsg-bench was "
			"not found (looked for $NVMSG_BENCH, next to nvmsg, "
			"and %s): build the bench target\n",
			NVMSG_BENCH_LIBEXEC);
		return CLI_ERROR;
	}
	/* the same arguments, less the global --dir (no channel is used) */
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int k = 0;
	if (!args) {
		fprintf(stderr, "nvmsg bench: out of memory\n");
		return CLI_ERROR;
	}
	args[k++] = path;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--dir=", 6) == 0)
			continue;
		args[k++] = argv[i];
	}
	args[k] = NULL;
	fflush(NULL);
	execv(path, args);
	fprintf(stderr, "nvmsg bench: cannot run %s: %s\n", path,
		strerror(errno));
	free(args);
	return CLI_ERROR;
}

const struct cli_cmd cli_cmd_bench = {
	.name = "bench",
	.summary = "measure nvmsg against the machine's limit and peers",
	.synopsis = "[--quick] [--cases LIST] [--json FILE] [--plot FILE]\n"
		    "                   [--rounds N] [--tries N] [--rate MSGS] "
		    "[--force] [--list]",
	.help = "Measure nvmsg (volatile, emulated and msync tiers; "
		"spinning and blocking\nconsumers; batched throughput) "
		"against the raw floor of the machine (one\ncache line "
		"bounced between CPU 0 and CPU 1), a raw SPSC ring, pipe, "
		"Unix\nsocket, POSIX mq, ZeroMQ ipc, Redis Streams "
		"(appendfsync always), NATS\nJetStream and write+fdatasync. "
		"Prints Markdown tables with absolute\nfigures, the ratio to "
		"the limit and to each peer, and the issue's targets;\n"
		"progress goes to stderr.  A raw floor probe runs before and "
		"after every\ncase, cases are interleaved over rounds, and a "
		"case whose probes disagree\nis run again.  Refuses a busy "
		"machine (load average over 0.5 or unstable\nprobes) unless "
		"--quick or --force.  See docs/PERFORMANCE.md.\n"
		"\nOptions:\n"
		"  --quick        smoke counts (every case still produces "
		"numbers), one round,\n"
		"                 one try\n"
		"  --cases LIST   comma-separated patterns over case ids "
		"MEASURE/SIZE/SYSTEM,\n"
		"                 or a measure (pp, rate, tput1x1, tput4x1, "
		"tput1x3, barrier)\n"
		"                 or a system name (nvmsg-*, ring, pipe, "
		"redis, ...)\n"
		"  --json FILE    the same data as JSON\n"
		"  --plot FILE    latency-percentile plot, PNG (gnuplot)\n"
		"  --rounds N     interleaved rounds (default 3, quick 1)\n"
		"  --tries N      runs of a case whose probes disagree or "
		"during which other\n"
		"                 processes were busy (default 3, quick 1)\n"
		"  --rate MSGS    offered rate of the fixed-rate cases "
		"(default 2000)\n"
		"  --force        measure on a busy machine (output says "
		"BUSY)\n"
		"  --list         print the case ids and exit\n"
		"  --no-probe     no floor probes, no quiet check (to profile "
		"a case alone)\n"
		"\nExample:\n"
		"  nvmsg bench --json bench.json --plot latency.png\n"
		"  nvmsg bench --quick --cases 'pp/64/*'\n",
	.exit_status = "  0 every case produced numbers, 1 a case failed or "
		       "a peer is missing,\n  2 usage error, 3 machine busy "
		       "(full run without --force)\n",
	.run = run,
};
