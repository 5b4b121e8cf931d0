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
#define FWD (M(NVB_FWD_RATE) | M(NVB_FWD_TPUT))
#define FWDMASK (M(NVB_FWD_RATE) | M(NVB_FWD_TPUT) | M(NVB_FWD_REF))

const struct nvb_system nvb_systems[] = {
	/* the limit: no library at all */
	{ "ring", "ring", "raw SPSC ring (limit)", "spin", "no", 0, 1, 1, 0, 1,
	  ALL, 0, 0 },
	{ "ring-inline", "ring-inline",
	  "raw SPSC ring, commit word in the record (as Aeron)", "spin", "no",
	  0, 1, 1, 0, 1, ALL, 0, 0 },
	/* nvmsg latency rows: each tier, spinning and blocking consumer */
	{ "nvmsg-volatile-spin", "nvmsg", "nvmsg volatile", "spin", "no",
	  NVMSG_TIER_VOLATILE, 1, 1, 0, 0, LAT, 0, 0 },
	{ "nvmsg-volatile-block", "nvmsg", "nvmsg volatile", "block (futex)",
	  "no", NVMSG_TIER_VOLATILE, 0, 1, 0, 0, LAT, 0, 0 },
	{ "nvmsg-emulated-spin", "nvmsg", "nvmsg emulated", "spin",
	  "no (emulated)", NVMSG_TIER_EMULATED, 1, 1, 0, 0, LAT, 0, 0 },
	{ "nvmsg-emulated-block", "nvmsg", "nvmsg emulated", "block (futex)",
	  "no (emulated)", NVMSG_TIER_EMULATED, 0, 1, 0, 0, LAT, 0, 0 },
	{ "nvmsg-msync-spin", "nvmsg", "nvmsg msync", "spin", "yes",
	  NVMSG_TIER_MSYNC, 1, 1, 1, 0, LAT, 0, 0 },
	{ "nvmsg-msync-block", "nvmsg", "nvmsg msync", "block (futex)", "yes",
	  NVMSG_TIER_MSYNC, 0, 1, 1, 0, LAT, 0, 0 },
	/* nvmsg throughput rows: batches of 64 (NVMSG_MORE, one barrier per
	 * batch), and one message per barrier */
	{ "nvmsg-volatile-b64", "nvmsg", "nvmsg volatile, batch 64", "spin",
	  "no", NVMSG_TIER_VOLATILE, 1, 64, 0, 0, TPUT, 0, 0 },
	{ "nvmsg-emulated-b64", "nvmsg", "nvmsg emulated, batch 64", "spin",
	  "no (emulated)", NVMSG_TIER_EMULATED, 1, 64, 0, 0, TPUT, 0, 0 },
	{ "nvmsg-msync-b64", "nvmsg", "nvmsg msync, batch 64", "spin", "yes",
	  NVMSG_TIER_MSYNC, 1, 64, 1, 0, TPUT, 0, 0 },
	{ "nvmsg-volatile-b1", "nvmsg", "nvmsg volatile, batch 1", "spin", "no",
	  NVMSG_TIER_VOLATILE, 1, 1, 0, 0, M(NVB_T11) | M(NVB_T41), 0, 0 },
	{ "nvmsg-emulated-b1", "nvmsg", "nvmsg emulated, batch 1", "spin",
	  "no (emulated)", NVMSG_TIER_EMULATED, 1, 1, 0, 0,
	  M(NVB_T11) | M(NVB_T41), 0, 0 },
	{ "nvmsg-msync-b1", "nvmsg", "nvmsg msync, batch 1", "spin", "yes",
	  NVMSG_TIER_MSYNC, 1, 1, 1, 0, M(NVB_T11) | M(NVB_T41), 0, 0 },
	/* peers */
	{ "pipe", "pipe", "pipe", "block (kernel)", "no", 0, 0, 1, 0, 1, ALL, 0,
	  0 },
	{ "unix", "unix", "Unix socket", "block (kernel)", "no", 0, 0, 1, 0, 1,
	  ALL, 0, 0 },
	{ "mq", "mq", "POSIX mq", "block (kernel)", "no", 0, 0, 1, 0, 1, ALL, 0,
	  0 },
	{ "zmq", "zmq", "ZeroMQ ipc", "block (kernel)", "no", 0, 0, 1, 0, 1,
	  ALL, 0, 0 },
	{ "redis", "redis", "Redis XADD, appendfsync always", "block (kernel)",
	  "yes", 0, 0, 1, 1, 1, ALL | M(NVB_FWD_REF), 0, 0 },
	{ "nats", "nats", "NATS JetStream sync publish", "block (kernel)",
	  "measured", 0, 0, 1, 1, 1, ALL | M(NVB_FWD_REF), 0, 1 },
	{ "fdatasync", "fdatasync", "write + fdatasync", "spin", "yes", 0, 1, 1,
	  1, 1, ALL, 0, 0 },
	/* machine references */
	{ "memcpy", "memcpy", "memcpy, one core", "-", "-", 0, 0, 1, 0, 0,
	  M(NVB_T11), 0, 0 },
	{ "barrier", "barrier", "persist barrier (clwb+sfence)", "-", "-", 0, 0,
	  1, 0, 0, M(NVB_BARRIER) | M(NVB_FWD_REF), 0, 0 },
	/* forwarding through two nvmsgd over loopback (peers/fwd.c): the
	 * origin channel on the emulated tier, the receiving one on the
	 * row's; consumers sleep on the library's futexes (no spin) */
	{ "nvmsgd-emulated-plain", "nvmsgd",
	  "nvmsgd, receiver emulated (NOT durable), plaintext", "block (futex)",
	  "no (emulated)", NVMSG_TIER_EMULATED, 0, 64, 0, 0, FWD, 0, 0 },
	{ "nvmsgd-emulated-tls", "nvmsgd",
	  "nvmsgd, receiver emulated (NOT durable), TLS 1.3", "block (futex)",
	  "no (emulated)", NVMSG_TIER_EMULATED, 0, 64, 0, 0, FWD, 1, 0 },
	{ "nvmsgd-msync-plain", "nvmsgd", "nvmsgd, receiver msync, plaintext",
	  "block (futex)", "yes", NVMSG_TIER_MSYNC, 0, 64, 2, 0, FWD, 0, 0 },
	{ "nvmsgd-msync-tls", "nvmsgd", "nvmsgd, receiver msync, TLS 1.3",
	  "block (futex)", "yes", NVMSG_TIER_MSYNC, 0, 64, 2, 0, FWD, 1, 0 },
	/* the forwarding references */
	{ "tcp", "tcp", "TCP loopback ping-pong, one-way (RTT / 2)", "spin",
	  "no", 0, 1, 1, 0, 0, M(NVB_FWD_REF), 0, 0 },
	{ "nats-r3", "nats", "NATS JetStream R3 (3 nats-servers) sync publish",
	  "block (kernel)", "measured", 0, 0, 1, 1, 0, M(NVB_FWD_REF), 0, 3 },
};
const int nvb_nsystems = (int)(sizeof(nvb_systems) / sizeof(nvb_systems[0]));

static const char *const mnames[NVB_NMEASURE] = {
	"pp",	   "rate",     "tput1x1",  "tput4x1", "tput1x3",
	"barrier", "fwd-rate", "fwd-tput", "fwd-ref"
};
static const char *const mtitles[NVB_NMEASURE] = {
	"Ping-pong one-way latency (round trip / 2)",
	"One-way latency at a fixed offered rate (coordinated omission "
	"corrected)",
	"Throughput, 1 producer x 1 consumer",
	"Throughput, 4 producers x 1 consumer",
	"Throughput, 1 producer x 3 consumers (fan-out)",
	"One persist barrier",
	"Forwarding (nvmsgd) latency at a fixed offered rate (coordinated "
	"omission corrected)",
	"Forwarding (nvmsgd) throughput",
	"Forwarding references (closed loop)"
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
 * pattern without '/' matches a measure or a system name).  A forwarding
 * case (FWD) is never in the default plan: a pattern selects it by its id
 * or its measure's name (fwd-*), or by a system that only forwards
 * (nvmsgd-*), not by a peer's name (redis, nats, barrier) */
static int
selected(const char *id, const char *m, const struct nvb_system *sy, int fwd,
	 const char *pats)
{
	const char *sys = sy->name;
	char buf[1024];

	if (!pats)
		return !fwd;
	if (fwd && (sy->measures & ~FWDMASK))
		sys = ""; /* a peer's name selects its own cases only */
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
				/* the barrier has no size */
				if (m == NVB_FWD_REF && z == 1 &&
				    strcmp(sy->tp, "barrier") == 0)
					continue;
				struct nvb_case *x = &c[k];
				snprintf(x->id, sizeof(x->id), "%s/%zu/%s",
					 mnames[m], sizes[z], sy->name);
				int fwd = NVB_IS_FWD(m);
				if (!selected(x->id, mnames[m], sy, fwd,
					      o->cases) &&
				    !(fwd && o->forwarding))
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
