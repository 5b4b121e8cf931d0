/* SPDX-License-Identifier: MIT */
/*
 * harness.h -- the benchmark harness: the plan (which cases exist), the
 * run (floor probes around each case, retries, interleaved rounds) and
 * the report (aggregation, ratios, targets, Markdown, JSON, plot).
 */
#ifndef NVB_HARNESS_H
#define NVB_HARNESS_H

#include <stdio.h>

#include "../worker/bench.h"

enum nvb_measure {
	NVB_PP,	     /* ping-pong latency */
	NVB_RATE,    /* fixed-rate latency, coordinated omission corrected */
	NVB_T11,     /* throughput 1 producer x 1 consumer */
	NVB_T41,     /* 4 producers x 1 consumer */
	NVB_T13,     /* 1 producer x 3 consumers */
	NVB_BARRIER, /* one persist barrier */
	/* forwarding through nvmsgd (left out of the default plan) */
	NVB_FWD_RATE, /* latency at a fixed rate: durable and released */
	NVB_FWD_TPUT, /* throughput through the two daemons */
	NVB_FWD_REF,  /* the references: TCP, JetStream, Redis, barrier */
	NVB_NMEASURE
};
#define NVB_IS_LAT(m)                                                          \
	((m) == NVB_PP || (m) == NVB_RATE || (m) == NVB_FWD_RATE ||            \
	 (m) == NVB_FWD_REF)
#define NVB_IS_FWD(m) ((m) >= NVB_FWD_RATE && (m) < NVB_NMEASURE)

/* struct nvb_system -- one row kind: a transport with its settings */
struct nvb_system {
	const char *name;     /* in case ids: pp/64/<name> */
	const char *tp;	      /* transport, or "memcpy" / "barrier" */
	const char *label;    /* table row */
	const char *consumer; /* "spin", "block (futex)", "block (kernel)" */
	const char *durable;  /* at the acknowledgement */
	int tier;	      /* nvmsg tier, 0 for peers */
	int spin;
	int batch;
	int disk;	   /* data on the real disk (/var/tmp); 2: a memory
			    * directory and one on the disk (disk_dir) */
	int peer;	   /* a peer column in the ratio table */
	unsigned measures; /* 1u << enum nvb_measure */
	int tls;	   /* nvmsgd: TLS 1.3 (tier: the receiver's) */
	int replicas;	   /* nats: stream replicas */
};

extern const struct nvb_system nvb_systems[];
extern const int nvb_nsystems;

/* struct nvb_rep -- one run of a case with the floor around it */
struct nvb_rep {
	int ok;
	double floor_before, floor_after; /* one-way p50 ns of the probes */
	double foreign; /* CPU share other processes used during the run */
	int tries;
	struct nvb_result r;
};

#define NVB_MAX_REPS 8

/* struct nvb_case -- one case and everything measured for it */
struct nvb_case {
	char id[64];
	enum nvb_measure m;
	size_t size;
	const struct nvb_system *sys;
	int nreps;
	struct nvb_rep reps[NVB_MAX_REPS];
	/* aggregate (report.c) */
	int have;	   /* at least one run produced numbers */
	int unstable;	   /* no run had agreeing probes */
	double floor;	   /* median of the accepted runs' floors */
	double p50_floor;  /* median over accepted runs of p50 / its floor */
	double p999_floor; /* same for p99.9 */
	double p50_over;   /* median over runs of p50 - its floor, ns */
	struct nvb_result agg; /* medians over accepted runs; max of max */
	char error[256];       /* why no numbers */
	char targets[128];     /* "T1 met, T2 missed" */
};

/* struct nvb_opts -- the command line */
struct nvb_opts {
	int quick;
	int force;
	int rounds;
	int tries;
	int tries_given;
	double disagree;   /* probes disagree above this fraction */
	double rate;	   /* offered rate, msgs/s */
	const char *cases; /* comma-separated patterns, NULL: all */
	const char *json;
	const char *plot;
	int list;
	int no_probe;	 /* --no-probe: for profiling a case alone */
	int forwarding;	 /* --forwarding: the nvmsgd cases too */
	double fwd_rate; /* offered rate of the forwarding latency cases */
	uint64_t probe_count;
	struct nvb_params pp, lat_rate, tput;
	struct nvb_params fwd_lat, fwd_tput, fwd_ref;
	double probe_seconds; /* barrier, memcpy */
};

/* struct nvb_machine -- what the run was measured on */
struct nvb_machine {
	char host[64];
	char cpu[128];
	int ncpus;
	char flush[32]; /* clwb, clflushopt or clflush */
	char kernel[128];
	char nvmsg[32]; /* libnvmsg version */
	double load1_start, load1_end;
	int busy; /* the run should not be trusted */
	char busy_why[256];
	double floor_spread; /* of the three start probes */
	double foreign;	     /* CPU share other processes used, whole run */
	char started[32];    /* UTC */
	double elapsed_s;
	char peers[512]; /* versions of the servers */
};

/* plan.c */
int nvb_plan(const struct nvb_opts *o, struct nvb_case **out, int *n);
const char *nvb_measure_name(enum nvb_measure m);
const char *nvb_measure_title(enum nvb_measure m);

/* case.c: run one case in this process (the harness forks first) */
int nvb_run_case(const struct nvb_case *c, const struct nvb_opts *o,
		 const char *dir, const char *disk_dir, struct nvb_result *r);
void nvb_format_result(const struct nvb_result *r, char *buf, size_t len);
int nvb_parse_result(const char *line, struct nvb_result *r, char *err,
		     size_t errlen);
int nvb_peer_missing(const struct nvb_system *s, char *why, size_t len);

/* machine.c */
void nvb_machine_info(struct nvb_machine *mc);
double nvb_load1(void);

/* struct nvb_cpu -- CPU time at one moment: the whole machine's busy time
 * (/proc/stat, steal included) and ours (this process and its waited
 * descendants), seconds */
struct nvb_cpu {
	double wall, busy, ours;
};
void nvb_cpu_sample(struct nvb_cpu *s);
/* nvb_foreign -- the share of the machine's CPU capacity that other
 * processes (or the host, as steal) used between A and B, 0..1 */
double nvb_foreign(const struct nvb_cpu *a, const struct nvb_cpu *b);
#define NVB_FOREIGN_MAX 0.10 /* above this a run is not trusted */

/* run.c */
int nvb_run(const struct nvb_opts *o, struct nvb_machine *mc,
	    struct nvb_case *cases, int n);
/* nvb_floor -- one probe in a child process; p50 one-way ns, or < 0 */
double nvb_floor(const struct nvb_opts *o, struct nvb_result *r);
/* nvb_floor_summary -- medians over every probe of the run (max: the
 * largest); returns the number of probes */
int nvb_floor_summary(struct nvb_result *out);
void nvb_cleanup(void);
/* nvb_signals -- SIGINT, SIGTERM, SIGHUP stop the run cleanly (the case
 * process killed, its servers stopped, directories removed); SIGPIPE
 * ignored */
void nvb_signals(void);

/* report.c */
void nvb_aggregate(struct nvb_case *cases, int n);
void nvb_report_md(FILE *f, const struct nvb_opts *o,
		   const struct nvb_machine *mc, struct nvb_case *cases, int n);
int nvb_report_json(const char *file, const struct nvb_opts *o,
		    const struct nvb_machine *mc, struct nvb_case *cases,
		    int n);
int nvb_report_plot(const char *file, struct nvb_case *cases, int n);

#endif /* NVB_HARNESS_H */
