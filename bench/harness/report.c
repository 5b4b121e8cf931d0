/* SPDX-License-Identifier: MIT */
/*
 * report.c -- from runs to figures: aggregation over rounds, ratios to
 * the limit and to each peer, the targets, and the three outputs
 * (Markdown on stdout, --json FILE, --plot FILE through gnuplot).
 *
 * Aggregation: a run counts when its two floor probes agreed; the case's
 * figure is the median over those runs (max: the largest max), its floor
 * the median of their probes.  A case none of whose runs had agreeing
 * probes keeps its closest run and is marked unstable.
 *
 * Ratios:
 *   latency    "p50 / floor": for each run of the case, its p50 over the
 *              floor probed around that run, then the median over runs
 *              (the floor moves between runs: a ratio of medians would
 *              mix placements);
 *              "x peer": the peer's p50 over this row's (> 1: this row is
 *              that many times faster);
 *   throughput "/ ring": messages/s over the raw ring's in the same
 *              configuration (the limit); "x peer": this row's over the
 *              peer's (> 1: this row is faster).
 */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
nvb_aggregate(struct nvb_case *cases, int n)
{
	for (int i = 0; i < n; i++) {
		struct nvb_case *c = &cases[i];
		const struct nvb_rep *use[NVB_MAX_REPS];
		double v[NVB_MAX_REPS];
		int k = 0;

		for (int j = 0; j < c->nreps; j++)
			if (c->reps[j].ok)
				use[k++] = &c->reps[j];
		c->unstable = k == 0 && c->nreps > 0;
		if (k == 0)
			for (int j = 0; j < c->nreps; j++)
				use[k++] = &c->reps[j];
		c->have = k > 0;
		if (!c->have)
			continue;
		struct nvb_result *a = &c->agg;
		memset(a, 0, sizeof(*a));
#define MED(field)                                                             \
	do {                                                                   \
		for (int j = 0; j < k; j++)                                    \
			v[j] = use[j]->r.field;                                \
		a->field = median(v, k);                                       \
	} while (0)
		MED(p50);
		MED(p99);
		MED(p999);
		MED(msgs_per_s);
		MED(mb_per_s);
		MED(sleeps_per_msg);
		MED(rp50);
		MED(rp99);
		MED(rp999);
		for (int q = 0; q < NVB_NQ; q++)
			MED(q[q]);
#undef MED
		for (int j = 0; j < k; j++)
			v[j] = (use[j]->floor_before + use[j]->floor_after) / 2;
		c->floor = median(v, k);
		/* ratios run by run, each to the floor probed around it: the
		 * floor moves between runs, a ratio of medians would mix
		 * placements */
#define FL(j) ((use[j]->floor_before + use[j]->floor_after) / 2)
		for (int j = 0; j < k; j++)
			v[j] = use[j]->r.p50 / FL(j);
		c->p50_floor = median(v, k);
		for (int j = 0; j < k; j++)
			v[j] = use[j]->r.p999 / FL(j);
		c->p999_floor = median(v, k);
		for (int j = 0; j < k; j++)
			v[j] = use[j]->r.p50 - FL(j);
		c->p50_over = median(v, k);
#undef FL
		a->fsyncs = -1;
		for (int j = 0; j < k; j++) {
			const struct nvb_result *r = &use[j]->r;
			if (r->max > a->max)
				a->max = r->max;
			if (r->rmax > a->rmax)
				a->rmax = r->rmax;
			a->rn += r->rn;
			a->n += r->n;
			a->msgs += r->msgs;
			a->acks += r->acks;
			if (r->fsyncs >= 0)
				a->fsyncs = (a->fsyncs < 0 ? 0 : a->fsyncs) +
					    r->fsyncs;
		}
		snprintf(a->note, sizeof(a->note), "%s", use[0]->r.note);
		for (int j = 0; j < k; j++) /* an overloaded run is said */
			if (strstr(use[j]->r.note, "OVERLOADED"))
				snprintf(a->note, sizeof(a->note), "%s",
					 use[j]->r.note);
	}
}

static struct nvb_case *
find(struct nvb_case *cases, int n, enum nvb_measure m, size_t size,
     const char *sys)
{
	for (int i = 0; i < n; i++)
		if (cases[i].m == m && cases[i].size == size &&
		    strcmp(cases[i].sys->name, sys) == 0 && cases[i].have)
			return &cases[i];
	return NULL;
}

/* ------------------------------------------------------------ targets */

struct target {
	const char *id;
	const char *text;
	const char *case_id; /* row it is shown on */
	int state;	     /* -1 not measured, 0 missed, 1 met */
	char measured[200];
};

#define NTARGETS 48
static struct target targets[NTARGETS];
static int ntargets;

static void add(const char *id, const char *text, const char *case_id,
		int state, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#include <stdarg.h>
static void
add(const char *id, const char *text, const char *case_id, int state,
    const char *fmt, ...)
{
	struct target *t = &targets[ntargets++];
	va_list ap;

	t->id = id;
	t->text = text;
	t->case_id = case_id;
	t->state = state;
	va_start(ap, fmt);
	vsnprintf(t->measured, sizeof(t->measured), fmt, ap);
	va_end(ap);
}

static void evaluate_main(struct nvb_case *cs, int n);
static void evaluate_fwd(struct nvb_case *cs, int n);

static void
evaluate(struct nvb_case *cs, int n)
{
	ntargets = 0;
	int any_main = 0, any_fwd = 0;
	for (int i = 0; i < n; i++) {
		any_main |= !NVB_IS_FWD(cs[i].m);
		any_fwd |= NVB_IS_FWD(cs[i].m);
	}
	if (any_main)
		evaluate_main(cs, n);
	if (any_fwd)
		evaluate_fwd(cs, n);
	for (int i = 0; i < n; i++) {
		cs[i].targets[0] = '\0';
		for (int t = 0; t < ntargets; t++) {
			size_t k = strlen(cs[i].targets);
			if (strcmp(targets[t].case_id, cs[i].id) != 0 ||
			    targets[t].state < 0)
				continue;
			snprintf(cs[i].targets + k, sizeof(cs[i].targets) - k,
				 "%s%s %s", k ? ", " : "", targets[t].id,
				 targets[t].state ? "met" : "missed");
		}
	}
}

/* evaluate_main -- the targets of issue 6 */
static void
evaluate_main(struct nvb_case *cs, int n)
{
	struct nvb_case *v = find(cs, n, NVB_PP, 64, "nvmsg-volatile-spin");
	struct nvb_case *em = find(cs, n, NVB_PP, 64, "nvmsg-emulated-spin");
	struct nvb_case *ms = find(cs, n, NVB_PP, 64, "nvmsg-msync-spin");
	struct nvb_case *bar = find(cs, n, NVB_BARRIER, 64, "barrier");
	struct nvb_case *te = find(cs, n, NVB_T11, 64, "nvmsg-emulated-b64");
	struct nvb_case *tv = find(cs, n, NVB_T11, 64, "nvmsg-volatile-b64");
	struct nvb_case *tr = find(cs, n, NVB_T11, 64, "ring");
	struct nvb_case *tv4 = find(cs, n, NVB_T11, 4096, "nvmsg-volatile-b64");
	struct nvb_case *mc4 = find(cs, n, NVB_T11, 4096, "memcpy");
	struct nvb_case *fd = find(cs, n, NVB_PP, 64, "fdatasync");
	struct nvb_case *tfd = find(cs, n, NVB_T11, 64, "fdatasync");
	struct nvb_case *tms = find(cs, n, NVB_T41, 64, "nvmsg-msync-b1");
	static const char *const fast[4] = { "pipe", "unix", "mq", "zmq" };
	static const char *const fast_id[4] = { "T8-pipe", "T8-unix", "T8-mq",
						"T8-zmq" };
	static const char *const slow[2] = { "redis", "fdatasync" };
	static const char *const slow_id[2] = { "T9-redis", "T9-fdatasync" };
	static const char *const none = "not measured in this run";

	if (v) {
		double r = v->p50_floor;
		add("T1", "volatile p50 at 64 B <= 1.2 x the raw floor", v->id,
		    r <= 1.2,
		    "%.2f x (median over runs of p50 / the floor around the "
		    "run; %.0f ns, floor %.0f ns)",
		    r, v->agg.p50, v->floor);
		r = v->p999_floor;
		add("T2", "volatile p99.9 at 64 B <= 3 x the raw floor (p50)",
		    v->id, r <= 3,
		    "%.2f x (median over runs; %.0f ns, floor %.0f ns)", r,
		    v->agg.p999, v->floor);
	} else {
		add("T1", "volatile p50 at 64 B <= 1.2 x the raw floor", "", -1,
		    "%s", none);
		add("T2", "volatile p99.9 at 64 B <= 3 x the raw floor (p50)",
		    "", -1, "%s", none);
	}
	if (em && bar)
		add("T3", "emulated p50 at 64 B <= floor + one persist barrier",
		    em->id, em->p50_over <= bar->agg.p50,
		    "p50 - floor = %.0f ns (median over runs) vs one barrier "
		    "%.0f ns (p50 %.0f ns, floor %.0f ns)",
		    em->p50_over, bar->agg.p50, em->agg.p50, em->floor);
	else
		add("T3", "emulated p50 at 64 B <= floor + one persist barrier",
		    "", -1, "%s", none);
	if (te)
		add("T4", "emulated 64 B, batched: >= 10 M msgs/s", te->id,
		    te->agg.msgs_per_s >= 10e6, "%.2f M msgs/s",
		    te->agg.msgs_per_s / 1e6);
	else
		add("T4", "emulated 64 B, batched: >= 10 M msgs/s", "", -1,
		    "%s", none);
	if (tv && tr)
		add("T5", "volatile SPSC 64 B >= 0.7 x the raw ring", tv->id,
		    tv->agg.msgs_per_s >= 0.7 * tr->agg.msgs_per_s,
		    "%.2f / %.2f M msgs/s = %.2f x", tv->agg.msgs_per_s / 1e6,
		    tr->agg.msgs_per_s / 1e6,
		    tv->agg.msgs_per_s / tr->agg.msgs_per_s);
	else
		add("T5", "volatile SPSC 64 B >= 0.7 x the raw ring", "", -1,
		    "%s", none);
	if (tv)
		add("T6", "volatile SPSC 64 B >= 40 M msgs/s", tv->id,
		    tv->agg.msgs_per_s >= 40e6, "%.2f M msgs/s",
		    tv->agg.msgs_per_s / 1e6);
	else
		add("T6", "volatile SPSC 64 B >= 40 M msgs/s", "", -1, "%s",
		    none);
	if (tv4 && mc4)
		add("T7", "volatile 4 KiB >= 0.5 x memcpy bandwidth", tv4->id,
		    tv4->agg.mb_per_s >= 0.5 * mc4->agg.mb_per_s,
		    "%.0f / %.0f MB/s = %.2f x", tv4->agg.mb_per_s,
		    mc4->agg.mb_per_s, tv4->agg.mb_per_s / mc4->agg.mb_per_s);
	else
		add("T7", "volatile 4 KiB >= 0.5 x memcpy bandwidth", "", -1,
		    "%s", none);
	for (int i = 0; i < 4; i++) {
		struct nvb_case *p = find(cs, n, NVB_PP, 64, fast[i]);
		if (v && p)
			add(fast_id[i],
			    "volatile (spinning) p50 at 64 B >= 50 x lower "
			    "than the peer",
			    v->id, p->agg.p50 >= 50 * v->agg.p50,
			    "%s %.0f ns / %.0f ns = %.0f x", fast[i],
			    p->agg.p50, v->agg.p50, p->agg.p50 / v->agg.p50);
		else
			add(fast_id[i],
			    "volatile (spinning) p50 at 64 B >= 50 x lower "
			    "than the peer",
			    "", -1, "%s", none);
	}
	for (int i = 0; i < 2; i++) {
		struct nvb_case *p = find(cs, n, NVB_PP, 64, slow[i]);
		if (em && p)
			add(slow_id[i],
			    "emulated (spinning) p50 at 64 B >= 500 x lower "
			    "than the durable peer",
			    em->id, p->agg.p50 >= 500 * em->agg.p50,
			    "%s %.0f ns / %.0f ns = %.0f x", slow[i],
			    p->agg.p50, em->agg.p50, p->agg.p50 / em->agg.p50);
		else
			add(slow_id[i],
			    "emulated (spinning) p50 at 64 B >= 500 x lower "
			    "than the durable peer",
			    "", -1, "%s", none);
	}
	if (ms && fd)
		add("T10", "msync p50 at 64 B no slower than write+fdatasync",
		    ms->id, ms->agg.p50 <= fd->agg.p50, "%.1f us vs %.1f us",
		    ms->agg.p50 / 1e3, fd->agg.p50 / 1e3);
	else
		add("T10", "msync p50 at 64 B no slower than write+fdatasync",
		    "", -1, "%s", none);
	if (tms && tfd)
		add("T11",
		    "msync, 4 producers, one commit each (group commit): >= 5 "
		    "x write+fdatasync msgs/s",
		    tms->id, tms->agg.msgs_per_s >= 5 * tfd->agg.msgs_per_s,
		    "%.0f / %.0f msgs/s = %.2f x", tms->agg.msgs_per_s,
		    tfd->agg.msgs_per_s,
		    tms->agg.msgs_per_s / tfd->agg.msgs_per_s);
	else
		add("T11",
		    "msync, 4 producers, one commit each (group commit): >= 5 "
		    "x write+fdatasync msgs/s",
		    "", -1, "%s", none);
}

/* ----------------------------------------------------------- markdown */

static const char *const peer_names[] = { "ring",  "ring-inline", "pipe",
					  "unix",  "mq",	  "zmq",
					  "redis", "nats",	  "fdatasync" };
#define NPEERS ((int)(sizeof(peer_names) / sizeof(peer_names[0])))

static void
fmt_ns(double ns, char *buf, size_t len)
{
	if (ns >= (double)UINT32_MAX) /* samples are capped there */
		snprintf(buf, len, "> 4.29 s");
	else if (ns >= 1e6)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns >= 1e4)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else
		snprintf(buf, len, "%.0f ns", ns);
}

static void
fmt_ratio(double r, char *buf, size_t len)
{
	if (!isfinite(r) || r <= 0)
		snprintf(buf, len, "-");
	else if (r >= 100)
		snprintf(buf, len, "%.0fx", r);
	else if (r >= 10)
		snprintf(buf, len, "%.1fx", r);
	else
		snprintf(buf, len, "%.2fx", r);
}

static void
fmt_rate(double v, char *buf, size_t len)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2f M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1f k", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

/* durable -- the "durable at ack" cell; NATS says what was measured */
static void
durable(const struct nvb_case *c, char *buf, size_t len)
{
	if (strcmp(c->sys->durable, "measured") != 0) {
		snprintf(buf, len, "%s", c->sys->durable);
		return;
	}
	if (c->agg.fsyncs < 0)
		snprintf(buf, len, "unknown (fsyncs not counted)");
	else if (c->agg.fsyncs == 0)
		snprintf(buf, len, "no: no fsync observed (%llu acks)",
			 (unsigned long long)c->agg.acks);
	else
		snprintf(buf, len, "%ld fsync for %llu acks", c->agg.fsyncs,
			 (unsigned long long)c->agg.acks);
}

static void
floor_cell(const struct nvb_case *c, char *buf, size_t len)
{
	/* the accepted runs' probes: lowest before / highest after */
	double lo = 0, hi = 0;

	for (int j = 0; j < c->nreps; j++) {
		const struct nvb_rep *r = &c->reps[j];
		if (!r->ok && !c->unstable)
			continue;
		double a = r->floor_before < r->floor_after ? r->floor_before
							    : r->floor_after;
		double b = r->floor_before < r->floor_after ? r->floor_after
							    : r->floor_before;
		if (lo == 0 || a < lo)
			lo = a;
		if (b > hi)
			hi = b;
	}
	double busy = 0;
	for (int j = 0; j < c->nreps; j++)
		if ((c->reps[j].ok || c->unstable) && c->reps[j].foreign > busy)
			busy = c->reps[j].foreign;
	char b[40] = "";
	if (busy > NVB_FOREIGN_MAX)
		snprintf(b, sizeof(b), " busy %.0f%%", busy * 100);
	snprintf(buf, len, "%.0f (%.0f-%.0f)%s%s", c->floor, lo, hi,
		 c->unstable ? " unstable" : "", b);
}

static void
lat_table(FILE *f, struct nvb_case *cs, int n, enum nvb_measure m, size_t size)
{
	char a[32], b[32], d[32], e[32], fl[64], du[96];

	fprintf(f, "\n### %s, %zu B\n\n", nvb_measure_title(m), size);
	fprintf(f, "| system | consumer | durable at ack | p50 | p99 | "
		   "p99.9 | max | floor ns (probes) | p50 / floor |");
	for (int p = 0; p < NPEERS; p++)
		fprintf(f, " x %s |", peer_names[p]);
	fprintf(f, " target |\n|---|---|---|--:|--:|--:|--:|--:|--:|");
	for (int p = 0; p < NPEERS; p++)
		fprintf(f, "--:|");
	fprintf(f, "---|\n");
	struct nvb_result fl_r;
	int np = nvb_floor_summary(&fl_r);
	if (m == NVB_PP && size == 64 && np > 0) {
		fmt_ns(fl_r.p50, a, sizeof(a));
		fmt_ns(fl_r.p99, b, sizeof(b));
		fmt_ns(fl_r.p999, d, sizeof(d));
		fmt_ns(fl_r.max, e, sizeof(e));
		fprintf(f,
			"| raw cache line (the floor; all %d probes of the "
			"run) | spin | no | %s | %s | %s | %s | %.0f | 1.00x |",
			np, a, b, d, e, fl_r.p50);
		for (int p = 0; p < NPEERS; p++) {
			struct nvb_case *pc =
				find(cs, n, m, size, peer_names[p]);
			char r[32];
			fmt_ratio(pc ? pc->agg.p50 / fl_r.p50 : 0, r,
				  sizeof(r));
			fprintf(f, " %s |", r);
		}
		fprintf(f, " |\n");
	}
	for (int i = 0; i < n; i++) {
		struct nvb_case *c = &cs[i];
		if (c->m != m || c->size != size)
			continue;
		if (!c->have) {
			fprintf(f, "| %s | %s | %s | no result: %s |\n",
				c->sys->label, c->sys->consumer,
				c->sys->durable,
				c->error[0] ? c->error : "not run");
			continue;
		}
		fmt_ns(c->agg.p50, a, sizeof(a));
		fmt_ns(c->agg.p99, b, sizeof(b));
		fmt_ns(c->agg.p999, d, sizeof(d));
		fmt_ns(c->agg.max, e, sizeof(e));
		floor_cell(c, fl, sizeof(fl));
		durable(c, du, sizeof(du));
		char r[32];
		fmt_ratio(c->p50_floor, r, sizeof(r));
		char co[64];
		/* the rate driver counts the consumer's sleeps: shows whether
		 * a blocking consumer really went to the kernel */
		if (m == NVB_RATE && strcmp(c->sys->consumer, "spin") != 0)
			snprintf(co, sizeof(co), "%s, %.2f sleeps/msg",
				 c->sys->consumer, c->agg.sleeps_per_msg);
		else
			snprintf(co, sizeof(co), "%s", c->sys->consumer);
		if (strstr(c->agg.note, "OVERLOADED")) {
			size_t k = strlen(co);
			snprintf(co + k, sizeof(co) - k, "; OVERLOADED");
		}
		fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |",
			c->sys->label, co, du, a, b, d, e, fl, r);
		for (int p = 0; p < NPEERS; p++) {
			struct nvb_case *pc =
				find(cs, n, m, size, peer_names[p]);
			if (!pc || pc == c) {
				fprintf(f, " - |");
				continue;
			}
			fmt_ratio(pc->agg.p50 / c->agg.p50, r, sizeof(r));
			fprintf(f, " %s |", r);
		}
		fprintf(f, " %s |\n", c->targets[0] ? c->targets : "");
	}
	if (m == NVB_PP && size == 64)
		fprintf(f, "| Aeron C 1.53-SNAPSHOT aeron:ipc (QUOTED from "
			   "BENCHMARKING.md, not measured) | spin | no | ~65 "
			   "ns | ~200 ns | ~155 ns | 2-12 ms (platform) | ~62 "
			   "(near) | ~1.05x |");
	else if (m == NVB_PP && size == 4096)
		fprintf(f, "| Aeron C 1.53-SNAPSHOT aeron:ipc (QUOTED from "
			   "BENCHMARKING.md, not measured) | spin | no | ~250 "
			   "ns | - | - | - | ~62 (near) | ~4x |");
	else
		return;
	for (int p = 0; p < NPEERS; p++)
		fprintf(f, " - |");
	fprintf(f, " |\n");
}

static void
tput_table(FILE *f, struct nvb_case *cs, int n, enum nvb_measure m, size_t size)
{
	char a[32], fl[64], du[96], r[32];
	struct nvb_case *ring = find(cs, n, m, size, "ring");
	struct nvb_case *mc = find(cs, n, NVB_T11, size, "memcpy");

	fprintf(f, "\n### %s, %zu B\n\n", nvb_measure_title(m), size);
	fprintf(f,
		"| system | consumer | durable at ack | msgs/s | MB/s | "
		"floor ns (probes) | / ring (limit) |%s",
		m == NVB_T11 ? " / memcpy MB/s |" : "");
	for (int p = 1; p < NPEERS; p++)
		fprintf(f, " x %s |", peer_names[p]);
	fprintf(f, " target |\n|---|---|---|--:|--:|--:|--:|%s",
		m == NVB_T11 ? "--:|" : "");
	for (int p = 1; p < NPEERS; p++)
		fprintf(f, "--:|");
	fprintf(f, "---|\n");
	for (int i = 0; i < n; i++) {
		struct nvb_case *c = &cs[i];
		if (c->m != m || c->size != size)
			continue;
		if (!c->have) {
			fprintf(f, "| %s | %s | %s | no result: %s |\n",
				c->sys->label, c->sys->consumer,
				c->sys->durable,
				c->error[0] ? c->error : "not run");
			continue;
		}
		fmt_rate(c->agg.msgs_per_s, a, sizeof(a));
		floor_cell(c, fl, sizeof(fl));
		durable(c, du, sizeof(du));
		fprintf(f, "| %s | %s | %s | %s | %.0f | %s |", c->sys->label,
			c->sys->consumer, du, a, c->agg.mb_per_s, fl);
		fmt_ratio(ring && ring != c && ring->agg.msgs_per_s > 0
				  ? c->agg.msgs_per_s / ring->agg.msgs_per_s
				  : 0,
			  r, sizeof(r));
		fprintf(f, " %s |", r);
		if (m == NVB_T11) {
			fmt_ratio(mc && mc != c
					  ? c->agg.mb_per_s / mc->agg.mb_per_s
					  : 0,
				  r, sizeof(r));
			fprintf(f, " %s |", r);
		}
		for (int p = 1; p < NPEERS; p++) {
			struct nvb_case *pc =
				find(cs, n, m, size, peer_names[p]);
			if (!pc || pc == c || pc->agg.msgs_per_s <= 0) {
				fprintf(f, " - |");
				continue;
			}
			fmt_ratio(c->agg.msgs_per_s / pc->agg.msgs_per_s, r,
				  sizeof(r));
			fprintf(f, " %s |", r);
		}
		fprintf(f, " %s |\n", c->targets[0] ? c->targets : "");
	}
	if (m == NVB_T11) {
		fprintf(f,
			"| Aeron C 1.53-SNAPSHOT aeron:ipc (QUOTED from "
			"BENCHMARKING.md, not measured) | spin | no | %s | "
			"%s | near | - | - |",
			size == 64 ? "40-73 M" : "2-3.8 M",
			size == 64 ? "up to ~4600" : "up to ~15000");
		for (int p = 1; p < NPEERS; p++)
			fprintf(f, " - |");
		fprintf(f, " |\n");
	}
}

/* -------------------------------------------------------- forwarding */

static double fwd_offered; /* --fwd-rate of the run */

static void
target_row(FILE *f, const struct target *t)
{
	fprintf(f, "| %s | %s | %s | %s |\n", t->id, t->text, t->measured,
		t->state < 0 ? "not measured"
		: t->state   ? "met"
			     : "**missed**");
}

/* evaluate_fwd -- the targets of issue 13 (forwarding) */
static void
evaluate_fwd(struct nvb_case *cs, int n)
{
	static const char *const none = "not measured in this run";
	static const char *const sec[2] = { "plain", "tls" };
	static const char *const f1_id[2] = { "F1", "F1-tls" };
	static const char *const f2_id[2] = { "F2", "F2-tls" };
	static const char *const f3_id[2] = { "F3", "F3-tls" };
	static const char *const f4_id[2] = { "F4", "F4-tls" };
	static const char *const f5_id[2] = { "F5", "F5-tls" };
	static char f2_text[2][160];
	struct nvb_case *tcp = find(cs, n, NVB_FWD_REF, 64, "tcp");
	struct nvb_case *bar = find(cs, n, NVB_FWD_REF, 64, "barrier");
	struct nvb_case *r3 = find(cs, n, NVB_FWD_REF, 64, "nats-r3");
	char name[64];

	for (int k = 0; k < 2; k++) {
		const char *label = k ? " (TLS)" : " (plaintext)";
		char text[160];
		snprintf(name, sizeof(name), "nvmsgd-emulated-%s", sec[k]);
		struct nvb_case *l = find(cs, n, NVB_FWD_RATE, 64, name);
		struct nvb_case *t = find(cs, n, NVB_FWD_TPUT, 64, name);
		struct nvb_case *t4 = find(cs, n, NVB_FWD_TPUT, 4096, name);
		snprintf(name, sizeof(name), "nvmsgd-msync-%s", sec[k]);
		struct nvb_case *tm = find(cs, n, NVB_FWD_TPUT, 64, name);
		static const char *const f1_text[2] = {
			"durable p50, 64 B, receiver emulated, plaintext: <= 2 "
			"x TCP one-way p50 + one persist barrier",
			"durable p50, 64 B, receiver emulated, TLS: <= 2 x TCP "
			"one-way p50 + one persist barrier"
		};
		if (l && tcp && bar) {
			double lim = 2 * tcp->agg.p50 + bar->agg.p50;
			add(f1_id[k], f1_text[k], l->id, l->agg.p50 <= lim,
			    "%.1f us vs 2 x %.1f us + %.0f ns = %.1f us "
			    "(%.2f x)",
			    l->agg.p50 / 1e3, tcp->agg.p50 / 1e3, bar->agg.p50,
			    lim / 1e3, l->agg.p50 / lim);
		} else {
			add(f1_id[k], f1_text[k], "", -1, "%s", none);
		}
		snprintf(f2_text[k], sizeof(f2_text[k]),
			 "durable p99 at 10,000 msgs/s, 64 B, receiver "
			 "emulated%s: < 100 us%s",
			 label,
			 fwd_offered == 10000 ? ""
					      : " (this run offered another "
						"rate)");
		if (l)
			add(f2_id[k], f2_text[k], l->id,
			    fwd_offered == 10000 ? l->agg.p99 < 100e3 : -1,
			    "%.1f us at %.0f msgs/s", l->agg.p99 / 1e3,
			    fwd_offered);
		else
			add(f2_id[k], f2_text[k], "", -1, "%s", none);
		snprintf(text, sizeof(text), "%s", label);
		static const char *const f3_text[2] = {
			"throughput 64 B, receiver emulated, plaintext: >= 1 M "
			"msgs/s",
			"throughput 64 B, receiver emulated, TLS: >= 1 M msgs/s"
		};
		static const char *const f4_text[2] = {
			"throughput 4 KiB, receiver emulated, plaintext: >= 1 "
			"GB/s",
			"throughput 4 KiB, receiver emulated, TLS: >= 1 GB/s"
		};
		static const char *const f5_text[2] = {
			"throughput 64 B, receiver msync, plaintext: >= 200,000 "
			"msgs/s",
			"throughput 64 B, receiver msync, TLS: >= 200,000 "
			"msgs/s"
		};
		if (t)
			add(f3_id[k], f3_text[k], t->id,
			    t->agg.msgs_per_s >= 1e6, "%.3f M msgs/s",
			    t->agg.msgs_per_s / 1e6);
		else
			add(f3_id[k], f3_text[k], "", -1, "%s", none);
		if (t4)
			add(f4_id[k], f4_text[k], t4->id,
			    t4->agg.mb_per_s >= 1000,
			    "%.0f MB/s (%.1f k msgs/s)", t4->agg.mb_per_s,
			    t4->agg.msgs_per_s / 1e3);
		else
			add(f4_id[k], f4_text[k], "", -1, "%s", none);
		if (tm)
			add(f5_id[k], f5_text[k], tm->id,
			    tm->agg.msgs_per_s >= 200e3, "%.1f k msgs/s",
			    tm->agg.msgs_per_s / 1e3);
		else
			add(f5_id[k], f5_text[k], "", -1, "%s", none);
	}
	static const char *const f6_sys[2] = { "nvmsgd-emulated-plain",
					       "nvmsgd-msync-plain" };
	static const char *const f6_id[2] = { "F6", "F6-msync" };
	static const char *const f6_text[2] = {
		"release p50, 64 B, receiver emulated, plaintext: >= 10 x "
		"lower than JetStream R3 publish -> PubAck p50",
		"release p50, 64 B, receiver msync, plaintext: >= 10 x lower "
		"than JetStream R3 publish -> PubAck p50"
	};
	for (int k = 0; k < 2; k++) {
		struct nvb_case *l = find(cs, n, NVB_FWD_RATE, 64, f6_sys[k]);
		if (l && r3 && l->agg.rp50 > 0)
			add(f6_id[k], f6_text[k], l->id,
			    r3->agg.p50 >= 10 * l->agg.rp50,
			    "JetStream R3 %.1f us / %.1f us = %.1f x",
			    r3->agg.p50 / 1e3, l->agg.rp50 / 1e3,
			    r3->agg.p50 / l->agg.rp50);
		else
			add(f6_id[k], f6_text[k], "", -1, "%s", none);
	}
}

/* fwd_section -- the forwarding tables and their targets */
static void
fwd_section(FILE *f, const struct nvb_opts *o, struct nvb_case *cs, int n)
{
	char a[8][32], fl[64], du[96], r[32], co[96];

	fprintf(f,
		"\n### Forwarding (nvmsgd) over loopback\n\n"
		"Two nvmsgd on 127.0.0.1 (sender pinned to CPU 0 with the "
		"producer, receiver to CPU 1 with the consumer), both "
		"spinning (--spin); the origin channel on the emulated tier. "
		"Latency counts from the intended send time at the origin "
		"(coordinated omission corrected) to *durable*: a consumer "
		"of the receiving channel sees the message (the receiver "
		"publishes only what it flushed), and to *release*: the "
		"sender's link consumer acknowledges it after the receiver's "
		"durable ACK (the moment a producer waiting for ring space "
		"would wake).\n");
	for (int z = 0; z < 2; z++) {
		size_t size = z ? 4096 : 64;
		int any = 0;
		for (int i = 0; i < n; i++)
			any |= cs[i].m == NVB_FWD_RATE && cs[i].size == size;
		if (!any)
			continue;
		fprintf(f,
			"\n#### Forwarding latency at %.0f msgs/s, %zu B "
			"(coordinated omission corrected)\n\n",
			o->fwd_rate, size);
		fprintf(f, "| system | consumer | durable at receiver | "
			   "durable p50 | p99 | p99.9 | max | released p50 | "
			   "p99 | p99.9 | max | floor ns (probes) | durable "
			   "p50 / TCP one-way | x JetStream R3 (release) | "
			   "note | target |\n"
			   "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
			   "--:|--:|---|---|\n");
		struct nvb_case *tcp = find(cs, n, NVB_FWD_REF, size, "tcp");
		struct nvb_case *r3 = find(cs, n, NVB_FWD_REF, size, "nats-r3");
		for (int i = 0; i < n; i++) {
			struct nvb_case *c = &cs[i];
			if (c->m != NVB_FWD_RATE || c->size != size)
				continue;
			if (!c->have) {
				fprintf(f, "| %s | %s | %s | no result: %s |\n",
					c->sys->label, c->sys->consumer,
					c->sys->durable,
					c->error[0] ? c->error : "not run");
				continue;
			}
			fmt_ns(c->agg.p50, a[0], sizeof(a[0]));
			fmt_ns(c->agg.p99, a[1], sizeof(a[1]));
			fmt_ns(c->agg.p999, a[2], sizeof(a[2]));
			fmt_ns(c->agg.max, a[3], sizeof(a[3]));
			fmt_ns(c->agg.rp50, a[4], sizeof(a[4]));
			fmt_ns(c->agg.rp99, a[5], sizeof(a[5]));
			fmt_ns(c->agg.rp999, a[6], sizeof(a[6]));
			fmt_ns(c->agg.rmax, a[7], sizeof(a[7]));
			floor_cell(c, fl, sizeof(fl));
			durable(c, du, sizeof(du));
			snprintf(co, sizeof(co), "%s, %.2f sleeps/msg%s",
				 c->sys->consumer, c->agg.sleeps_per_msg,
				 strstr(c->agg.note, "OVERLOADED")
					 ? "; OVERLOADED"
					 : "");
			fprintf(f,
				"| %s | %s | %s | %s | %s | %s | %s | %s | %s "
				"| %s | %s | %s |",
				c->sys->label, co, du, a[0], a[1], a[2], a[3],
				a[4], a[5], a[6], a[7], fl);
			fmt_ratio(tcp ? c->agg.p50 / tcp->agg.p50 : 0, r,
				  sizeof(r));
			fprintf(f, " %s |", r);
			fmt_ratio(r3 && c->agg.rp50 > 0
					  ? r3->agg.p50 / c->agg.rp50
					  : 0,
				  r, sizeof(r));
			fprintf(f, " %s | %s | %s |\n", r, c->agg.note,
				c->targets);
		}
	}
	for (int z = 0; z < 2; z++) {
		size_t size = z ? 4096 : 64;
		int any = 0;
		for (int i = 0; i < n; i++)
			any |= cs[i].m == NVB_FWD_TPUT && cs[i].size == size;
		if (!any)
			continue;
		fprintf(f,
			"\n#### Forwarding throughput, %zu B (1 producer, "
			"batches of 64; the receiving consumer's rate)\n\n"
			"| system | consumer | durable at receiver | msgs/s | "
			"MB/s | floor ns (probes) | target |\n"
			"|---|---|---|--:|--:|--:|---|\n",
			size);
		for (int i = 0; i < n; i++) {
			struct nvb_case *c = &cs[i];
			if (c->m != NVB_FWD_TPUT || c->size != size)
				continue;
			if (!c->have) {
				fprintf(f, "| %s | %s | %s | no result: %s |\n",
					c->sys->label, c->sys->consumer,
					c->sys->durable,
					c->error[0] ? c->error : "not run");
				continue;
			}
			fmt_rate(c->agg.msgs_per_s, a[0], sizeof(a[0]));
			floor_cell(c, fl, sizeof(fl));
			durable(c, du, sizeof(du));
			fprintf(f, "| %s | %s | %s | %s | %.0f | %s | %s |\n",
				c->sys->label, c->sys->consumer, du, a[0],
				c->agg.mb_per_s, fl, c->targets);
		}
	}
	int any = 0;
	for (int i = 0; i < n; i++)
		any |= cs[i].m == NVB_FWD_REF;
	if (any) {
		fprintf(f, "\n#### Forwarding references (closed loop, one "
			   "at a time)\n\n"
			   "| reference | size | what is timed | durable at "
			   "ack | p50 | p99 | p99.9 | max | floor ns (probes) "
			   "|\n|---|--:|---|---|--:|--:|--:|--:|--:|\n");
		static const char *const order[] = { "tcp", "nats", "nats-r3",
						     "redis", "barrier" };
		for (int z = 0; z < 2; z++)
			for (size_t o2 = 0;
			     o2 < sizeof(order) / sizeof(order[0]); o2++)
				for (int i = 0; i < n; i++) {
					struct nvb_case *c = &cs[i];
					const char *what, *label;
					if (c->m != NVB_FWD_REF ||
					    c->size != (z ? 4096u : 64u) ||
					    strcmp(c->sys->name, order[o2]) !=
						    0)
						continue;
					if (strcmp(c->sys->tp, "tcp") == 0) {
						label = "TCP loopback (the floor of the path)";
						what = "ping-pong one-way (RTT / 2), both ends "
						       "spinning, TCP_NODELAY";
					} else if (strcmp(c->sys->name,
							  "nats-r3") == 0) {
						label = "NATS JetStream R3 (3 nats-servers)";
						what = "js_Publish -> PubAck (quorum stored), "
						       "file stream";
					} else if (strcmp(c->sys->tp, "nats") ==
						   0) {
						label = "NATS JetStream R1";
						what = "js_Publish -> PubAck, file stream";
					} else if (strcmp(c->sys->tp,
							  "redis") == 0) {
						label = "Redis XADD, appendfsync always";
						what = "XADD -> reply (after the AOF "
						       "fdatasync)";
					} else {
						label = "persist barrier";
						what = "store + clwb + sfence (DRAM file)";
					}
					if (!c->have) {
						fprintf(f,
							"| %s | %zu | %s | %s | no result: "
							"%s |\n",
							label, c->size, what,
							c->sys->durable,
							c->error[0]
								? c->error
								: "not run");
						continue;
					}
					fmt_ns(c->agg.p50, a[0], sizeof(a[0]));
					fmt_ns(c->agg.p99, a[1], sizeof(a[1]));
					fmt_ns(c->agg.p999, a[2], sizeof(a[2]));
					fmt_ns(c->agg.max, a[3], sizeof(a[3]));
					floor_cell(c, fl, sizeof(fl));
					durable(c, du, sizeof(du));
					fprintf(f,
						"| %s | %s | %s | %s | %s | %s | %s | %s | %s "
						"|\n",
						label,
						strcmp(c->sys->tp, "barrier")
							? (c->size == 64
								   ? "64"
								   : "4096")
							: "-",
						what, du, a[0], a[1], a[2],
						a[3], fl);
				}
	}
	fprintf(f, "\n#### Forwarding targets (issue 13; reported, never "
		   "asserted)\n\n"
		   "| target | requirement | measured | verdict |\n"
		   "|---|---|---|---|\n");
	/* F1, F1-tls, F2, ...: in the order of their numbers */
	for (char d = '1'; d <= '9'; d++)
		for (int t = 0; t < ntargets; t++)
			if (targets[t].id[0] == 'F' && targets[t].id[1] == d)
				target_row(f, &targets[t]);
	fprintf(f,
		"\nForwarding: \"durable p50 / TCP one-way\": this row's "
		"durable p50 over the TCP ping-pong's one-way p50 of the same "
		"size.  \"x JetStream R3 (release)\": JetStream R3's publish "
		"-> PubAck p50 over this row's release p50 (> 1: this row is "
		"faster).  The receiver on the emulated tier is NOT durable "
		"(DRAM; the flush instructions run).  JetStream 2.9 does not "
		"fsync before its PubAck (its durable column counts the "
		"fsyncs seen).\n");
}

void
nvb_report_md(FILE *f, const struct nvb_opts *o, const struct nvb_machine *mc,
	      struct nvb_case *cs, int n)
{
	fwd_offered = o->fwd_rate;
	evaluate(cs, n);
	fprintf(f, "## nvmsg bench: %s\n\n", mc->started);
	if (mc->busy)
		fprintf(f,
			"**MACHINE BUSY: %s. These figures are distorted; "
			"run again on a quiet machine.**\n\n",
			mc->busy_why);
	fprintf(f, "- machine: %s, %d CPUs, flush: %s, %s\n", mc->cpu,
		mc->ncpus, mc->flush, mc->kernel);
	fprintf(f, "- libnvmsg %s; peers: %s\n", mc->nvmsg, mc->peers);
	fprintf(f,
		"- mode: %s, %d round(s), cases interleaved; floor probe "
		"%llu round trips before and after each case, a case "
		"rerun (up to %d tries) when its probes disagree by more "
		"than %.0f%%\n",
		o->quick ? "QUICK (smoke counts: not for conclusions)" : "full",
		o->rounds, (unsigned long long)o->probe_count, o->tries,
		o->disagree * 100);
	fprintf(f,
		"- load average (1 min): %.2f at start, %.2f at end; "
		"start probes spread %.0f%%; other processes used %.0f%% "
		"of the CPUs during the run; run took %.0f s\n",
		mc->load1_start, mc->load1_end, mc->floor_spread * 100,
		mc->foreign * 100, mc->elapsed_s);
	fprintf(f,
		"- producers pinned to CPU 0, consumers to CPU 1; servers "
		"float; offered rate %.0f msgs/s (forwarding: %.0f msgs/s); "
		"ratios use the floor probed around the same case\n",
		o->rate, o->fwd_rate);
	int any_main = 0, any_fwd = 0;
	for (int i = 0; i < n; i++) {
		any_main |= !NVB_IS_FWD(cs[i].m);
		any_fwd |= NVB_IS_FWD(cs[i].m);
	}
	for (int m = 0; m < NVB_NMEASURE; m++) {
		if (m == NVB_BARRIER || NVB_IS_FWD(m))
			continue;
		for (int z = 0; z < 2; z++) {
			size_t size = z ? 4096 : 64;
			int any = 0;
			for (int i = 0; i < n; i++)
				any |= cs[i].m == (enum nvb_measure)m &&
				       cs[i].size == size;
			if (!any)
				continue;
			if (NVB_IS_LAT(m))
				lat_table(f, cs, n, (enum nvb_measure)m, size);
			else
				tput_table(f, cs, n, (enum nvb_measure)m, size);
		}
	}
	struct nvb_case *bar = find(cs, n, NVB_BARRIER, 64, "barrier");
	if (bar)
		fprintf(f,
			"\nOne persist barrier (store, clwb, sfence on a "
			"DRAM file): p50 %.0f ns, p99 %.0f ns.\n",
			bar->agg.p50, bar->agg.p99);
	if (any_fwd)
		fwd_section(f, o, cs, n);
	if (!any_main)
		return;
	fprintf(f, "\n### Targets (issue 6; reported, never asserted)\n\n"
		   "| target | requirement | measured | verdict |\n"
		   "|---|---|---|---|\n");
	for (int t = 0; t < ntargets; t++)
		if (targets[t].id[0] != 'F')
			target_row(f, &targets[t]);
	fprintf(f, "\nLatency ratio columns \"x peer\": the peer's p50 over "
		   "this row's (> 1: this row is faster).  Throughput \"x "
		   "peer\": this row's msgs/s over the peer's.  \"floor ns "
		   "(probes)\": median one-way p50 of the raw cache-line "
		   "ping-pong probed right before and after the case, and the "
		   "range of those probes.  \"p50 / floor\": the median over "
		   "the case's runs of its p50 over the floor probed around "
		   "that run.  Figures are medians over a case's accepted runs "
		   "(max: the largest).\n");
}

/* --------------------------------------------------------------- json */

static void
jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
jnum(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static void
jresult(FILE *f, const struct nvb_result *r, int lat)
{
	fputc('{', f);
	if (lat) {
		fprintf(f, "\"samples\": %llu, \"p50_ns\": ",
			(unsigned long long)r->n);
		jnum(f, r->p50);
		fputs(", \"p99_ns\": ", f);
		jnum(f, r->p99);
		fputs(", \"p999_ns\": ", f);
		jnum(f, r->p999);
		fputs(", \"max_ns\": ", f);
		jnum(f, r->max);
		fputs(", \"quantiles\": [", f);
		for (int q = 0; q < NVB_NQ; q++) {
			fprintf(f, "%s[%.7g, ", q ? ", " : "",
				nvb_quantiles[q]);
			jnum(f, r->q[q]);
			fputc(']', f);
		}
		fputs("], \"sleeps_per_msg\": ", f);
		jnum(f, r->sleeps_per_msg);
	} else {
		fputs("\"msgs_per_s\": ", f);
		jnum(f, r->msgs_per_s);
		fputs(", \"mb_per_s\": ", f);
		jnum(f, r->mb_per_s);
		fprintf(f, ", \"messages\": %llu, \"sleeps_per_msg\": ",
			(unsigned long long)r->msgs);
		jnum(f, r->sleeps_per_msg);
	}
	if (r->rn) {
		fprintf(f, ", \"release\": {\"samples\": %llu, \"p50_ns\": ",
			(unsigned long long)r->rn);
		jnum(f, r->rp50);
		fputs(", \"p99_ns\": ", f);
		jnum(f, r->rp99);
		fputs(", \"p999_ns\": ", f);
		jnum(f, r->rp999);
		fputs(", \"max_ns\": ", f);
		jnum(f, r->rmax);
		fputc('}', f);
	}
	fprintf(f, ", \"fsyncs\": %ld, \"acks\": %llu, \"note\": ", r->fsyncs,
		(unsigned long long)r->acks);
	jstr(f, r->note);
	fputc('}', f);
}

int
nvb_report_json(const char *file, const struct nvb_opts *o,
		const struct nvb_machine *mc, struct nvb_case *cs, int n)
{
	FILE *f = fopen(file, "w");
	char du[96];

	if (!f) {
		perror(file);
		return -1;
	}
	fputs("{\n  \"machine\": {\"host\": ", f);
	jstr(f, mc->host);
	fputs(", \"cpu\": ", f);
	jstr(f, mc->cpu);
	fprintf(f, ", \"cpus\": %d, \"flush\": ", mc->ncpus);
	jstr(f, mc->flush);
	fputs(", \"kernel\": ", f);
	jstr(f, mc->kernel);
	fputs(", \"libnvmsg\": ", f);
	jstr(f, mc->nvmsg);
	fputs(", \"peers\": ", f);
	jstr(f, mc->peers);
	fputs("},\n  \"run\": {\"started\": ", f);
	jstr(f, mc->started);
	fprintf(f,
		", \"quick\": %s, \"rounds\": %d, \"tries\": %d, "
		"\"probe_round_trips\": %llu, \"disagree\": %.3g, "
		"\"rate_msgs_per_s\": %.0f, \"fwd_rate_msgs_per_s\": %.0f, "
		"\"elapsed_s\": %.1f, "
		"\"load1_start\": %.2f, \"load1_end\": %.2f, "
		"\"start_floor_spread\": %.3f, \"foreign_cpu\": %.3f, "
		"\"busy\": %s, \"busy_why\": ",
		o->quick ? "true" : "false", o->rounds, o->tries,
		(unsigned long long)o->probe_count, o->disagree, o->rate,
		o->fwd_rate, mc->elapsed_s, mc->load1_start, mc->load1_end,
		mc->floor_spread, mc->foreign, mc->busy ? "true" : "false");
	jstr(f, mc->busy_why);
	fputs("},\n  \"floor\": ", f);
	struct nvb_result fr;
	int np = nvb_floor_summary(&fr);
	if (np > 0) {
		fprintf(f, "{\"probes\": %d, \"one_way\": ", np);
		jresult(f, &fr, 1);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\n  \"cases\": [\n", f);
	for (int i = 0; i < n; i++) {
		struct nvb_case *c = &cs[i];
		int lat = NVB_IS_LAT(c->m) || c->m == NVB_BARRIER;
		fputs("    {\"id\": ", f);
		jstr(f, c->id);
		fprintf(f,
			", \"measure\": \"%s\", \"size\": %zu, "
			"\"system\": ",
			nvb_measure_name(c->m), c->size);
		jstr(f, c->sys->name);
		fputs(", \"label\": ", f);
		jstr(f, c->sys->label);
		fputs(", \"consumer\": ", f);
		jstr(f, c->sys->consumer);
		durable(c, du, sizeof(du));
		fputs(", \"durable_at_ack\": ", f);
		jstr(f, du);
		fprintf(f, ", \"have\": %s, \"unstable\": %s, \"error\": ",
			c->have ? "true" : "false",
			c->unstable ? "true" : "false");
		jstr(f, c->error);
		fputs(", \"floor_ns\": ", f);
		jnum(f, c->have ? c->floor : NAN);
		if (c->have && lat && c->m != NVB_BARRIER) {
			fputs(", \"p50_over_floor\": ", f);
			jnum(f, c->p50_floor);
			fputs(", \"p999_over_floor\": ", f);
			jnum(f, c->p999_floor);
		}
		fputs(", \"result\": ", f);
		if (c->have)
			jresult(f, &c->agg, lat);
		else
			fputs("null", f);
		fputs(", \"targets\": ", f);
		jstr(f, c->targets);
		fputs(", \"runs\": [", f);
		for (int j = 0; j < c->nreps; j++) {
			const struct nvb_rep *r = &c->reps[j];
			fprintf(f,
				"%s{\"accepted\": %s, \"tries\": %d, "
				"\"foreign_cpu\": %.3f, \"floor_before_ns\": ",
				j ? ", " : "", r->ok ? "true" : "false",
				r->tries, r->foreign);
			jnum(f, r->floor_before);
			fputs(", \"floor_after_ns\": ", f);
			jnum(f, r->floor_after);
			fputs(", \"result\": ", f);
			jresult(f, &r->r, lat);
			fputc('}', f);
		}
		fprintf(f, "]}%s\n", i + 1 < n ? "," : "");
	}
	fputs("  ],\n  \"targets\": [\n", f);
	for (int t = 0; t < ntargets; t++) {
		fputs("    {\"id\": ", f);
		jstr(f, targets[t].id);
		fputs(", \"requirement\": ", f);
		jstr(f, targets[t].text);
		fputs(", \"case\": ", f);
		jstr(f, targets[t].case_id);
		fputs(", \"measured\": ", f);
		jstr(f, targets[t].measured);
		fprintf(f, ", \"verdict\": \"%s\"}%s\n",
			targets[t].state < 0 ? "not measured"
			: targets[t].state   ? "met"
					     : "missed",
			t + 1 < ntargets ? "," : "");
	}
	fputs("  ],\n  \"quoted_not_measured\": {\"system\": \"Aeron C "
	      "1.53-SNAPSHOT aeron:ipc\", \"source\": "
	      "\"shared/BENCHMARKING.md\", \"pp_64_p50_ns\": 65, "
	      "\"pp_64_p999_ns\": 155, \"pp_4096_p50_ns\": 250, "
	      "\"tput1x1_64_msgs_per_s\": \"40-73 M\", "
	      "\"tput1x1_4096_msgs_per_s\": \"2-3.8 M\"}\n}\n",
	      f);
	if (fclose(f) != 0) {
		perror(file);
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- plot */

int
nvb_report_plot(const char *file, struct nvb_case *cs, int n)
{
	char script[] = "/tmp/nvmsg-bench-plot.XXXXXX";
	static const enum nvb_measure ms[2] = { NVB_PP, NVB_RATE };
	static const size_t sizes[2] = { 64, 4096 };
	int fd = mkstemp(script);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		perror("plot script");
		return -1;
	}
	/* x: 1 / (1 - q), so 50% 90% 99% 99.9% are evenly spaced */
	fprintf(f,
		"set terminal pngcairo size 1600,1200 font ',9'\n"
		"set output '%s'\nset logscale xy\nset grid\n"
		"set key top left font ',8' opaque box\n"
		"set xlabel 'percentile'\nset ylabel 'one-way latency "
		"(ns)'\n"
		/* tic labels are formats to gnuplot: %% for a % */
		"set xtics ('0%%%%' 1, '50%%%%' 2, '90%%%%' 10, "
		"'99%%%%' 100, '99.9%%%%' 1000, '99.99%%%%' 10000, "
		"'99.999%%%%' 100000, '99.9999%%%%' 1000000)\n"
		"set multiplot layout 2,2\n",
		file);
	for (int a = 0; a < 2; a++)
		for (int z = 0; z < 2; z++) {
			int k = 0;
			char cmd[8192] = "";
			size_t used = 0;
			struct nvb_result fr;
			if (ms[a] == NVB_PP && sizes[z] == 64 &&
			    nvb_floor_summary(&fr) > 0) {
				fprintf(f, "$d%d_%d_%d << EOD\n", a, z, k);
				for (int q = 0; q + 1 < NVB_NQ; q++) {
					double x = 1 / (1 - nvb_quantiles[q]);
					if (q > 2 && x > (double)fr.n)
						break;
					if (fr.q[q] > 0)
						fprintf(f, "%g %g\n", x,
							fr.q[q]);
				}
				fprintf(f, "EOD\n");
				used += (size_t)snprintf(
					cmd + used, sizeof(cmd) - used,
					"plot $d%d_%d_%d with lines lw 3 lc "
					"'black' title 'raw cache line (floor)'",
					a, z, k);
				k++;
			}
			for (int i = 0; i < n; i++) {
				struct nvb_case *c = &cs[i];
				if (c->m != ms[a] || c->size != sizes[z] ||
				    !c->have)
					continue;
				fprintf(f, "$d%d_%d_%d << EOD\n", a, z, k);
				for (int q = 0; q + 1 < NVB_NQ; q++) {
					double x = 1 / (1 - nvb_quantiles[q]);
					/* no point past the samples */
					if (q > 2 && x > (double)c->agg.n)
						break;
					if (c->agg.q[q] > 0)
						fprintf(f, "%g %g\n", x,
							c->agg.q[q]);
				}
				fprintf(f, "EOD\n");
				used += (size_t)snprintf(
					cmd + used, sizeof(cmd) - used,
					"%s$d%d_%d_%d with linespoints title "
					"'%s%s%s'",
					k ? ", " : "plot ", a, z, k,
					c->sys->label,
					strcmp(c->sys->consumer, "-") ? ", "
								      : "",
					strcmp(c->sys->consumer, "-")
						? c->sys->consumer
						: "");
				k++;
				if (used >= sizeof(cmd) - 256)
					break;
			}
			fprintf(f, "set title '%s, %zu B'\n",
				a ? "fixed rate (CO corrected)" : "ping-pong",
				sizes[z]);
			if (k)
				fprintf(f, "%s\n", cmd);
			else
				fprintf(f, "set label 1 'no data' at graph "
					   "0.5,0.5\nplot 1/0 notitle\nunset "
					   "label 1\n");
		}
	fprintf(f, "unset multiplot\n");
	fclose(f);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "gnuplot %s", script);
	int rc = system(cmd);
	unlink(script);
	if (rc != 0) {
		fprintf(stderr,
			"bench: gnuplot failed (%d); is gnuplot-nox "
			"installed? (bench/deps.sh)\n",
			rc);
		return -1;
	}
	return 0;
}
