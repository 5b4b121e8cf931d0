/* SPDX-License-Identifier: MIT */
/*
 * main.c -- nvmsg-bench: nvmsg against the physical limit and its peers,
 * in one run, reported as ratios.  `nvmsg bench` runs this program (the
 * peers' client libraries stay out of the nvmsg command).
 *
 * Flow: options; machine facts; is the machine quiet (load average, and
 * three floor probes that must agree)?  Are all the peers there?  Then
 * the rounds (run.c), the aggregation and the reports (report.c).
 *
 * Exit status: 0 every case produced numbers; 1 a case failed or a peer
 * is missing (said on stderr); 2 usage; 3 machine busy (full mode,
 * without --force).
 */
#include "harness.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_LOAD 0.5

static void
usage(FILE *f)
{
	fputs("usage: nvmsg bench [--quick] [--cases LIST] [--json FILE] "
	      "[--plot FILE]\n"
	      "                   [--rounds N] [--tries N] [--rate MSGS] "
	      "[--force] [--list]\n"
	      "                   [--forwarding] [--fwd-rate MSGS]\n",
	      f);
}

static void
help(void)
{
	usage(stdout);
	fputs("\nMeasures nvmsg (volatile, emulated and msync tiers; "
	      "spinning and blocking\nconsumers; batched throughput) "
	      "against the raw floor of the machine (one\ncache line "
	      "bounced between CPU 0 and CPU 1), a raw SPSC ring, pipe, "
	      "Unix\nsocket, POSIX mq, ZeroMQ ipc, Redis Streams "
	      "(appendfsync always), NATS\nJetStream and write+fdatasync; "
	      "prints Markdown tables with absolute figures,\nthe ratio to "
	      "the limit and to each peer, and the issue's targets.\n\n"
	      "The floor moves on this machine kind, so a floor probe runs "
	      "right before and\nafter every case, a case whose probes "
	      "disagree is run again, cases are\ninterleaved over rounds, "
	      "and every ratio uses the floor probed around its case.\n\n"
	      "Options:\n"
	      "  --quick        smoke counts (every case still produces "
	      "numbers); one round,\n"
	      "                 one try\n"
	      "  --cases LIST   comma-separated patterns over case ids "
	      "MEASURE/SIZE/SYSTEM\n"
	      "                 (fnmatch), or a measure or system name: "
	      "pp,rate,tput1x1,\n"
	      "                 tput4x1,tput1x3,barrier; nvmsg-*, ring, "
	      "pipe, redis, ...\n"
	      "  --json FILE    the same data as JSON\n"
	      "  --plot FILE    latency-percentile plot (PNG, gnuplot)\n"
	      "  --rounds N     interleaved rounds (default 3; quick 1)\n"
	      "  --tries N      runs of a case whose floor probes disagree "
	      "or during which\n"
	      "                 other processes were busy (default 3; "
	      "quick 1)\n"
	      "  --rate MSGS    offered rate of the fixed-rate latency "
	      "cases (default 2000)\n"
	      "  --forwarding   add the forwarding cases (not in the default "
	      "plan): nvmsg\n"
	      "                 forwarded by two nvmsgd over loopback TCP "
	      "(plaintext and TLS;\n"
	      "                 receiver on emulated, NOT durable, and on "
	      "msync), latency to\n"
	      "                 durable at the receiver and to the release "
	      "at the sender,\n"
	      "                 throughput, and the references (TCP "
	      "ping-pong, JetStream R1\n"
	      "                 and R3, Redis XADD); --cases 'fwd-*' selects "
	      "them alone.\n"
	      "                 nvmsgd: $NVMSGD, else the build's, else next "
	      "to nvmsg-bench\n"
	      "                 or in sbin\n"
	      "  --fwd-rate MSGS  offered rate of the forwarding latency "
	      "cases (default\n"
	      "                 10000)\n"
	      "  --force        measure even when the machine is busy "
	      "(output says BUSY)\n"
	      "  --list         print the case ids and exit\n"
	      "  --no-probe     no floor probes, no quiet check: a case "
	      "alone, to profile\n"
	      "                 it (perf record); the figures are not "
	      "comparable\n"
	      "\nExit status: 0 all cases measured; 1 a case failed or a "
	      "peer is missing;\n2 usage; 3 the machine is busy (full mode "
	      "without --force).\n"
	      "\nExample:\n"
	      "  nvmsg bench --json bench.json --plot latency.png\n"
	      "  nvmsg bench --quick --cases 'pp/64/*'\n"
	      "  nvmsg bench --cases 'fwd-*'            # forwarding only\n",
	      stdout);
}

static int
parse_num(const char *opt, const char *s, double lo, double hi, double *v)
{
	char *end;

	*v = strtod(s, &end);
	if (!*s || *end || !(*v >= lo && *v <= hi)) {
		fprintf(stderr,
			"nvmsg bench: %s: '%s' is not a number from "
			"%g to %g\n",
			opt, s, lo, hi);
		return -1;
	}
	return 0;
}

static void
set_params(struct nvb_opts *o, int rounds_given)
{
	if (o->quick) {
		o->probe_count = 20000;
		o->pp = (struct nvb_params){ 2000, 0.05, 0, 100 };
		o->lat_rate = (struct nvb_params){ 100, 0, o->rate, 10 };
		o->tput = (struct nvb_params){ 0, 0.03, 0, 0 };
		o->fwd_lat = (struct nvb_params){ 200, 0, o->fwd_rate, 20 };
		o->fwd_tput = (struct nvb_params){ 0, 0.2, 0, 0 };
		o->fwd_ref = (struct nvb_params){ 200, 0.05, 0, 10 };
		o->probe_seconds = 0.02;
		if (!rounds_given)
			o->rounds = 1;
		if (!o->tries_given) /* a smoke run does not retry */
			o->tries = 1;
	} else {
		o->probe_count = 1000000;
		o->pp = (struct nvb_params){ 1000000, 1.0, 0, 10000 };
		o->lat_rate = (struct nvb_params){ (uint64_t)(o->rate * 2), 0,
						   o->rate,
						   (uint64_t)(o->rate / 10) };
		o->tput = (struct nvb_params){ 0, 0.5, 0, 0 };
		/* 2 s of messages; a warm-up tenth */
		o->fwd_lat = (struct nvb_params){ (uint64_t)(o->fwd_rate * 2),
						  0, o->fwd_rate,
						  (uint64_t)(o->fwd_rate / 5) };
		o->fwd_tput = (struct nvb_params){ 0, 1.0, 0, 0 };
		o->fwd_ref = (struct nvb_params){ 20000, 1.0, 0, 100 };
		o->probe_seconds = 0.2;
	}
}

/* quiet_check -- load average and three agreeing floor probes */
static void
quiet_check(const struct nvb_opts *o, struct nvb_machine *mc)
{
	double f[3], lo = INFINITY, hi = 0;
	size_t k = 0;

	if (mc->load1_start > BUSY_LOAD) {
		mc->busy = 1;
		k += (size_t)snprintf(mc->busy_why + k,
				      sizeof(mc->busy_why) - k,
				      "load average %.2f > %.2f",
				      mc->load1_start, BUSY_LOAD);
	}
	for (int i = 0; i < 3; i++) {
		f[i] = nvb_floor(o, NULL);
		if (f[i] < lo)
			lo = f[i];
		if (f[i] > hi)
			hi = f[i];
	}
	mc->floor_spread = lo > 0 ? (hi - lo) / lo : INFINITY;
	fprintf(stderr,
		"bench: start probes %.0f, %.0f, %.0f ns one-way; "
		"load average %.2f\n",
		f[0], f[1], f[2], mc->load1_start);
	if (!(mc->floor_spread <= o->disagree) && k < sizeof(mc->busy_why)) {
		mc->busy = 1;
		snprintf(mc->busy_why + k, sizeof(mc->busy_why) - k,
			 "%sfloor probes spread %.0f%% (%.0f-%.0f ns)",
			 k ? "; " : "", mc->floor_spread * 100, lo, hi);
	}
}

int
main(int argc, char **argv)
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
		{ "forwarding", no_argument, NULL, 'F' },
		{ "fwd-rate", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvb_opts o = {
		.rounds = 3,
		.tries = 3,
		.disagree = 0.25,
		.rate = 2000,
		.fwd_rate = 10000,
	};
	struct nvb_machine mc;
	struct nvb_case *cases;
	int n, ch, rounds_given = 0;
	double v;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			o.quick = 1;
			break;
		case 'c':
			o.cases = optarg;
			break;
		case 'j':
			o.json = optarg;
			break;
		case 'p':
			o.plot = optarg;
			break;
		case 'r':
			if (parse_num("--rounds", optarg, 1, NVB_MAX_REPS, &v))
				return 2;
			o.rounds = (int)v;
			rounds_given = 1;
			break;
		case 't':
			if (parse_num("--tries", optarg, 1, 20, &v))
				return 2;
			o.tries = (int)v;
			o.tries_given = 1;
			break;
		case 'R':
			if (parse_num("--rate", optarg, 1, 1e6, &v))
				return 2;
			o.rate = v;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'F':
			o.forwarding = 1;
			break;
		case 'W':
			if (parse_num("--fwd-rate", optarg, 1, 1e6, &v))
				return 2;
			o.fwd_rate = v;
			break;
		case 'l':
			o.list = 1;
			break;
		case 'P':
			o.no_probe = 1;
			o.force = 1;
			break;
		case 'h':
			help();
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nvmsg bench: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	set_params(&o, rounds_given);
	nvb_signals();
	if (nvb_plan(&o, &cases, &n) < 0)
		return 1;
	if (n == 0) {
		fprintf(stderr,
			"nvmsg bench: --cases '%s' selects no case "
			"(see --list)\n",
			o.cases);
		free(cases);
		return 2;
	}
	if (o.list) {
		for (int i = 0; i < n; i++)
			printf("%s\n", cases[i].id);
		free(cases);
		return 0;
	}
	/* every selected peer must be there: a missing one fails loudly */
	int missing = 0;
	for (int s = 0; s < nvb_nsystems; s++) {
		char why[512];
		int used = 0;
		for (int i = 0; i < n; i++)
			used |= cases[i].sys == &nvb_systems[s];
		if (used &&
		    nvb_peer_missing(&nvb_systems[s], why, sizeof(why))) {
			fprintf(stderr, "nvmsg bench: peer missing: %s\n", why);
			missing = 1;
		}
	}
	if (missing) {
		fprintf(stderr, "nvmsg bench: install the peers with "
				"bench/deps.sh and reconfigure, or leave them "
				"out with --cases\n");
		free(cases);
		return 1;
	}
	nvb_machine_info(&mc);
	if (mc.ncpus < 2)
		fprintf(stderr,
			"nvmsg bench: only %d CPU: producer and "
			"consumer share it, latencies are "
			"meaningless\n",
			mc.ncpus);
	if (!o.no_probe)
		quiet_check(&o, &mc);
	if (mc.busy) {
		fprintf(stderr, "nvmsg bench: MACHINE BUSY: %s\n", mc.busy_why);
		if (!o.quick && !o.force) {
			fprintf(stderr, "nvmsg bench: not measuring on a busy "
					"machine; wait for it to be quiet, or "
					"use --force (the output will say "
					"BUSY)\n");
			free(cases);
			return 3;
		}
	}
	fprintf(stderr, "bench: %d cases x %d round(s)%s\n", n, o.rounds,
		o.quick ? " (quick)" : "");
	int rc = nvb_run(&o, &mc, cases, n);
	mc.load1_end = nvb_load1();
	if (rc == -2) {
		fprintf(stderr, "nvmsg bench: interrupted; no report\n");
		free(cases);
		return 1;
	}
	nvb_aggregate(cases, n);
	nvb_report_md(stdout, &o, &mc, cases, n);
	fflush(stdout);
	if (o.json && nvb_report_json(o.json, &o, &mc, cases, n) < 0)
		rc = 1;
	if (o.plot && nvb_report_plot(o.plot, cases, n) < 0)
		rc = 1;
	for (int i = 0; i < n; i++)
		if (!cases[i].have) {
			fprintf(stderr,
				"nvmsg bench: %s produced no numbers: "
				"%s\n",
				cases[i].id,
				cases[i].error[0] ? cases[i].error : "not run");
			rc = 1;
		}
	free(cases);
	return rc < 0 ? 1 : rc;
}
