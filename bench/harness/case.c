/* SPDX-License-Identifier: MIT */
/*
 * case.c -- one case, run inside the case process the harness forked:
 * build the environment, set the transport up, run the driver, tear it
 * down; and the one-line text form in which the result goes back to the
 * harness through a pipe.
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tp_entry {
	const char *name;
	const struct nvb_tp *tp;
	const char *missing; /* why it is not built */
};

static const struct tp_entry tps[] = {
	{ "nvmsg", &nvb_tp_nvmsg, NULL },
	{ "ring", &nvb_tp_ring, NULL },
	{ "ring-inline", &nvb_tp_ring_inline, NULL },
	{ "pipe", &nvb_tp_pipe, NULL },
	{ "unix", &nvb_tp_unix, NULL },
	{ "mq", &nvb_tp_mq, NULL },
	{ "fdatasync", &nvb_tp_fdatasync, NULL },
	{ "tcp", &nvb_tp_tcp, NULL },
	{ "nvmsgd", &nvb_tp_nvmsgd, NULL },
#ifdef NVB_HAVE_ZMQ
	{ "zmq", &nvb_tp_zmq, NULL },
#else
	{ "zmq", NULL,
	  "libzmq was not found by pkg-config when the benchmark "
	  "was configured (install libzmq3-dev: bench/deps.sh)" },
#endif
#ifdef NVB_HAVE_HIREDIS
	{ "redis", &nvb_tp_redis, NULL },
#else
	{ "redis", NULL,
	  "hiredis was not found by pkg-config when the "
	  "benchmark was configured (install libhiredis-dev: "
	  "bench/deps.sh)" },
#endif
#ifdef NVB_HAVE_NATS
	{ "nats", &nvb_tp_nats, NULL },
#else
	{ "nats", NULL,
	  "libnats was not found by pkg-config when the "
	  "benchmark was configured (install libnats-dev: "
	  "bench/deps.sh)" },
#endif
};

const struct nvb_tp *
nvb_find_tp(const char *name, const char **why)
{
	*why = "unknown transport";
	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++)
		if (strcmp(tps[i].name, name) == 0) {
			*why = tps[i].missing;
			return tps[i].tp;
		}
	return NULL;
}

int
nvb_peer_missing(const struct nvb_system *s, char *why, size_t len)
{
	const char *w;

	if (strcmp(s->tp, "memcpy") == 0 || strcmp(s->tp, "barrier") == 0)
		return 0;
	if (!nvb_find_tp(s->tp, &w)) {
		snprintf(why, len, "%s: %s", s->name, w);
		return 1;
	}
	if (strcmp(s->tp, "redis") == 0 && !nvb_in_path("redis-server")) {
		snprintf(why, len,
			 "redis: redis-server is not installed "
			 "(apt-get install redis-server: "
			 "bench/deps.sh)");
		return 1;
	}
	if (strcmp(s->tp, "nvmsgd") == 0 && !nvb_fwd_path(&w)) {
		snprintf(why, len, "%s: %s", s->name, w);
		return 1;
	}
	if (strcmp(s->tp, "nvmsgd") == 0 && s->tls && !nvb_in_path("openssl")) {
		snprintf(why, len,
			 "%s: the openssl command (it makes the TLS "
			 "certificates) is not installed (apt-get install "
			 "openssl)",
			 s->name);
		return 1;
	}
	if (strcmp(s->tp, "nats") == 0 && !nvb_in_path("nats-server")) {
		snprintf(why, len,
			 "nats: nats-server is not installed "
			 "(apt-get install nats-server: "
			 "bench/deps.sh)");
		return 1;
	}
	return 0;
}

int
nvb_run_case(const struct nvb_case *c, const struct nvb_opts *o,
	     const char *dir, const char *disk_dir, struct nvb_result *r)
{
	const struct nvb_system *s = c->sys;
	struct nvb_env e = { 0 };
	const struct nvb_tp *tp;
	const char *why;
	int rc;

	memset(r, 0, sizeof(*r));
	r->fsyncs = -1;
	if (strcmp(s->tp, "memcpy") == 0)
		return nvb_probe_memcpy(c->size, o->probe_seconds, r);
	if (strcmp(s->tp, "barrier") == 0)
		return nvb_probe_barrier(dir, o->probe_seconds, r);
	int tcp = strcmp(s->tp, "tcp") == 0;
	if (!(tp = nvb_find_tp(s->tp, &why))) {
		snprintf(r->note, sizeof(r->note), "%s", why);
		return -ENOENT;
	}
	e.dir = dir;
	e.disk_dir = disk_dir;
	e.size = c->size;
	e.nprod = c->m == NVB_T41 ? 4 : 1;
	e.ncons = c->m == NVB_T13 ? 3 : 1;
	e.nchan = c->m == NVB_PP || (c->m == NVB_FWD_REF && tcp) ? 2 : 1;
	e.spin = s->spin;
	e.batch = s->batch;
	/* latency: every message acknowledged; throughput: every 64 (and
	 * whenever the consumer finds nothing to read) */
	e.ack_every = NVB_IS_LAT(c->m) ? 1 : 64;
	e.tier = s->tier;
	e.rx_tier = s->tier;
	e.tls = s->tls;
	e.replicas = s->replicas > 0 ? s->replicas : 1;
	e.fwd_tput = c->m == NVB_FWD_TPUT;
	e.oversub = e.nprod + e.ncons > nvb_ncpus();
	e.fsyncs = -1;
	if ((rc = tp->setup(&e)) < 0) {
		tp->teardown(&e);
		snprintf(r->note, sizeof(r->note), "%s setup failed (%s)",
			 s->name, strerror(-rc));
		return rc;
	}
	switch (c->m) {
	case NVB_PP:
		rc = nvb_pingpong(tp, &e, &o->pp, r);
		break;
	case NVB_RATE:
		rc = nvb_rate(tp, &e, &o->lat_rate, r);
		break;
	case NVB_FWD_RATE:
		rc = nvb_fwd_rate(&e, &o->fwd_lat, r);
		break;
	case NVB_FWD_TPUT:
		rc = nvb_throughput(tp, &e, &o->fwd_tput, r);
		break;
	case NVB_FWD_REF:
		rc = tcp ? nvb_pingpong(tp, &e, &o->fwd_ref, r)
			 : nvb_publish(tp, &e, &o->fwd_ref, r);
		break;
	default:
		rc = nvb_throughput(tp, &e, &o->tput, r);
		break;
	}
	tp->teardown(&e);
	r->fsyncs = e.fsyncs;
	if (rc < 0)
		snprintf(r->note, sizeof(r->note),
			 "%s: the run failed (see "
			 "the messages above)",
			 s->name);
	else if (r->note[0]) { /* the driver's, then the transport's */
		char tmp[sizeof(r->note)];
		snprintf(tmp, sizeof(tmp), "%.150s; %.100s", r->note, e.note);
		snprintf(r->note, sizeof(r->note), "%s", tmp);
	} else {
		snprintf(r->note, sizeof(r->note), "%s", e.note);
	}
	return rc;
}

void
nvb_format_result(const struct nvb_result *r, char *buf, size_t len)
{
	int k = snprintf(buf, len,
			 "n=%llu p50=%.1f p99=%.1f p999=%.1f max=%.1f "
			 "mps=%.1f mbps=%.3f msgs=%llu sleeps=%.4f "
			 "fsyncs=%ld acks=%llu q=",
			 (unsigned long long)r->n, r->p50, r->p99, r->p999,
			 r->max, r->msgs_per_s, r->mb_per_s,
			 (unsigned long long)r->msgs, r->sleeps_per_msg,
			 r->fsyncs, (unsigned long long)r->acks);
	for (int i = 0; i < NVB_NQ && k > 0 && (size_t)k < len; i++)
		k += snprintf(buf + k, len - (size_t)k, "%s%.1f", i ? "," : "",
			      r->q[i]);
	if (k > 0 && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k,
			      " rel=%llu,%.1f,%.1f,%.1f,%.1f",
			      (unsigned long long)r->rn, r->rp50, r->rp99,
			      r->rp999, r->rmax);
	if (k > 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, " note=%s", r->note);
}

int
nvb_parse_result(const char *line, struct nvb_result *r, char *err,
		 size_t errlen)
{
	unsigned long long n, msgs, acks;
	int used = 0;

	memset(r, 0, sizeof(*r));
	if (sscanf(line,
		   "n=%llu p50=%lf p99=%lf p999=%lf max=%lf mps=%lf "
		   "mbps=%lf msgs=%llu sleeps=%lf fsyncs=%ld acks=%llu q=%n",
		   &n, &r->p50, &r->p99, &r->p999, &r->max, &r->msgs_per_s,
		   &r->mb_per_s, &msgs, &r->sleeps_per_msg, &r->fsyncs, &acks,
		   &used) < 11 ||
	    used == 0) {
		snprintf(err, errlen, "unreadable result: %.120s", line);
		return -1;
	}
	r->n = n;
	r->msgs = msgs;
	r->acks = acks;
	const char *p = line + used;
	for (int i = 0; i < NVB_NQ; i++) {
		char *end;
		r->q[i] = strtod(p, &end);
		p = *end == ',' ? end + 1 : end;
	}
	const char *rel = strstr(p, " rel=");
	if (rel) {
		unsigned long long rn = 0;
		if (sscanf(rel, " rel=%llu,%lf,%lf,%lf,%lf", &rn, &r->rp50,
			   &r->rp99, &r->rp999, &r->rmax) == 5)
			r->rn = rn;
	}
	const char *note = strstr(p, "note=");
	if (note) {
		snprintf(r->note, sizeof(r->note), "%s", note + 5);
		r->note[strcspn(r->note, "\n")] = '\0';
	}
	return 0;
}
