/* SPDX-License-Identifier: MIT */
/*
 * plan.c -- the systems under test and the cases they make.
 *
 * A case is "<measure>/<size>/<system>", e.g. pp/64/nvmsg-volatile-spin.
 * The plan is the list in this order; the run goes through it once per
 * round (A B C A B C), never a case many times in a row, because the
 * core-to-core floor of this machine moves every few seconds.
 */
#include "harness.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <nvmsg.h>

#define M(x) (1u << (x))
#define LAT (M(NVB_PP) | M(NVB_RATE))
#define TPUT (M(NVB_T11) | M(NVB_T41) | M(NVB_T13))
#define ALL (LAT | TPUT)

const struct nvb_system nvb_systems[] = {
	/* the limit: no library at all */
	{ "ring", "ring", "raw SPSC ring (limit)", "spin", "no", 0, 1, 1, 0, 1,
	  ALL },
	{ "ring-inline", "ring-inline",
	  "raw SPSC ring, commit word in the record (as Aeron)", "spin", "no",
	  0, 1, 1, 0, 1, ALL },
	/* nvmsg latency rows: each tier, spinning and blocking consumer */
	{ "nvmsg-volatile-spin", "nvmsg", "nvmsg volatile", "spin", "no",
	  NVMSG_TIER_VOLATILE, 1, 1, 0, 0, LAT },
	{ "nvmsg-volatile-block", "nvmsg", "nvmsg volatile", "block (futex)",
	  "no", NVMSG_TIER_VOLATILE, 0, 1, 0, 0, LAT },
	{ "nvmsg-emulated-spin", "nvmsg", "nvmsg emulated", "spin",
	  "no (emulated)", NVMSG_TIER_EMULATED, 1, 1, 0, 0, LAT },
	{ "nvmsg-emulated-block", "nvmsg", "nvmsg emulated", "block (futex)",
	  "no (emulated)", NVMSG_TIER_EMULATED, 0, 1, 0, 0, LAT },
	{ "nvmsg-msync-spin", "nvmsg", "nvmsg msync", "spin", "yes",
	  NVMSG_TIER_MSYNC, 1, 1, 1, 0, LAT },
	{ "nvmsg-msync-block", "nvmsg", "nvmsg msync", "block (futex)", "yes",
	  NVMSG_TIER_MSYNC, 0, 1, 1, 0, LAT },
	/* nvmsg throughput rows: batches of 64 (NVMSG_MORE, one barrier per
	 * batch), and one message per barrier */
	{ "nvmsg-volatile-b64", "nvmsg", "nvmsg volatile, batch 64", "spin",
	  "no", NVMSG_TIER_VOLATILE, 1, 64, 0, 0, TPUT },
	{ "nvmsg-emulated-b64", "nvmsg", "nvmsg emulated, batch 64", "spin",
	  "no (emulated)", NVMSG_TIER_EMULATED, 1, 64, 0, 0, TPUT },
	{ "nvmsg-msync-b64", "nvmsg", "nvmsg msync, batch 64", "spin", "yes",
	  NVMSG_TIER_MSYNC, 1, 64, 1, 0, TPUT },
	{ "nvmsg-volatile-b1", "nvmsg", "nvmsg volatile, batch 1", "spin", "no",
	  NVMSG_TIER_VOLATILE, 1, 1, 0, 0, M(NVB_T11) | M(NVB_T41) },
	{ "nvmsg-emulated-b1", "nvmsg", "nvmsg emulated, batch 1", "spin",
	  "no (emulated)", NVMSG_TIER_EMULATED, 1, 1, 0, 0,
	  M(NVB_T11) | M(NVB_T41) },
	{ "nvmsg-msync-b1", "nvmsg", "nvmsg msync, batch 1", "spin", "yes",
	  NVMSG_TIER_MSYNC, 1, 1, 1, 0, M(NVB_T11) | M(NVB_T41) },
	/* peers */
	{ "pipe", "pipe", "pipe", "block (kernel)", "no", 0, 0, 1, 0, 1, ALL },
	{ "unix", "unix", "Unix socket", "block (kernel)", "no", 0, 0, 1, 0, 1,
	  ALL },
	{ "mq", "mq", "POSIX mq", "block (kernel)", "no", 0, 0, 1, 0, 1, ALL },
	{ "zmq", "zmq", "ZeroMQ ipc", "block (kernel)", "no", 0, 0, 1, 0, 1,
	  ALL },
	{ "redis", "redis", "Redis XADD, appendfsync always", "block (kernel)",
	  "yes", 0, 0, 1, 1, 1, ALL },
	{ "nats", "nats", "NATS JetStream sync publish", "block (kernel)",
	  "measured", 0, 0, 1, 1, 1, ALL },
	{ "fdatasync", "fdatasync", "write + fdatasync", "spin", "yes", 0, 1, 1,
	  1, 1, ALL },
	/* machine references */
	{ "memcpy", "memcpy", "memcpy, one core", "-", "-", 0, 0, 1, 0, 0,
	  M(NVB_T11) },
	{ "barrier", "barrier", "persist barrier (clwb+sfence)", "-", "-", 0, 0,
	  1, 0, 0, M(NVB_BARRIER) },
};
const int nvb_nsystems = (int)(sizeof(nvb_systems) / sizeof(nvb_systems[0]));

static const char *const mnames[NVB_NMEASURE] = { "pp",	     "rate",
						  "tput1x1", "tput4x1",
						  "tput1x3", "barrier" };
static const char *const mtitles[NVB_NMEASURE] = {
	"Ping-pong one-way latency (round trip / 2)",
	"One-way latency at a fixed offered rate (coordinated omission "
	"corrected)",
	"Throughput, 1 producer x 1 consumer",
	"Throughput, 4 producers x 1 consumer",
	"Throughput, 1 producer x 3 consumers (fan-out)",
	"One persist barrier"
};

const char *
nvb_measure_name(enum nvb_measure m)
{
	return (unsigned)m < NVB_NMEASURE ? mnames[m] : "?";
}

const char *
nvb_measure_title(enum nvb_measure m)
{
	return (unsigned)m < NVB_NMEASURE ? mtitles[m] : "?";
}

/* selected -- ID matches one of the comma-separated PATTERNS (fnmatch; a
 * pattern without '/' matches a measure or a system name) */
static int
selected(const char *id, const char *m, const char *sys, const char *pats)
{
	char buf[1024];

	if (!pats)
		return 1;
	snprintf(buf, sizeof(buf), "%s", pats);
	for (char *save = NULL, *p = strtok_r(buf, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		if (fnmatch(p, id, 0) == 0)
			return 1;
		if (!strchr(p, '/') &&
		    (fnmatch(p, m, 0) == 0 || fnmatch(p, sys, 0) == 0))
			return 1;
	}
	return 0;
}

int
nvb_plan(const struct nvb_opts *o, struct nvb_case **out, int *n)
{
	static const size_t sizes[2] = { 64, 4096 };
	int cap = NVB_NMEASURE * 2 * nvb_nsystems, k = 0;
	struct nvb_case *c = calloc((size_t)cap, sizeof(*c));

	if (!c)
		return -1;
	for (int m = 0; m < NVB_NMEASURE; m++)
		for (int z = 0; z < 2; z++) {
			if (m == NVB_BARRIER && z == 1)
				continue;
			for (int s = 0; s < nvb_nsystems; s++) {
				const struct nvb_system *sy = &nvb_systems[s];
				if (!(sy->measures & M(m)))
					continue;
				struct nvb_case *x = &c[k];
				snprintf(x->id, sizeof(x->id), "%s/%zu/%s",
					 mnames[m], sizes[z], sy->name);
				if (!selected(x->id, mnames[m], sy->name,
					      o->cases))
					continue;
				x->m = (enum nvb_measure)m;
				x->size = sizes[z];
				x->sys = sy;
				k++;
			}
		}
	*out = c;
	*n = k;
	return 0;
}
