/* SPDX-License-Identifier: MIT */
/*
 * drivers.c -- the three measures, written once over struct nvb_tp.
 *
 *   ping-pong   one message there and back between CPU 0 and CPU 1;
 *               one-way latency = round trip / 2 (two clock reads per
 *               round trip, outside the acknowledgements);
 *   rate        one producer sends at a fixed offered rate; the latency of
 *               a message counts from its *intended* send time, so a
 *               stalled sender is charged for every message it delayed
 *               (coordinated omission corrected);
 *   throughput  P producers x C consumers for a fixed time; each consumer
 *               reads every payload word; the figure is the slowest
 *               consumer's messages per second after a warm-up tenth.
 *
 * Producers run on CPU 0, consumers on CPU 1 (pinned), each in its own
 * process; the processes meet at a gate in shared memory before the clock
 * starts.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* struct shared -- written by the children, read by the case process */
struct shared {
	struct nvb_gate gate;
	atomic_int cons_done;	     /* consumers that received everything */
	uint64_t n;		     /* latency samples written */
	uint64_t sent[NVB_MAX_PROD]; /* per producer */
	struct {
		uint64_t msgs;	 /* after warm-up */
		uint64_t t0, t1; /* window, ns */
		uint64_t all;	 /* every message */
		long sleeps;	 /* voluntary context switches */
	} cons[NVB_MAX_CONS];
	uint32_t samples[]; /* one-way ns */
};

struct child {
	const struct nvb_tp *tp;
	struct nvb_env *e;
	const struct nvb_params *pa;
	struct shared *sh;
	uint64_t cap; /* samples[] entries */
	int idx;
};

static unsigned char *
new_msg(size_t size)
{
	unsigned char *m = aligned_alloc(64, (size + 63) & ~(size_t)63);

	if (m)
		for (size_t i = 0; i < size; i++)
			m[i] = (unsigned char)(i * 131u + 7u);
	return m;
}

static long
vcsw(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw;
}

/* touch -- read every payload word, as a consumer that uses it would */
static uint64_t
touch(const void *d, size_t len)
{
	const uint64_t *w = d;
	uint64_t s = 0;

	for (size_t i = 0; i < len / 8; i++)
		s += w[i];
	return s;
}

static volatile uint64_t sink;

/* wait_consumers -- a sender closes only after every consumer got its
 * end marker: some transports drop what is still in flight when the
 * sending side disconnects (ZeroMQ loses the tail of a PUSH whose
 * process exits, linger or not) */
static void
wait_consumers(struct shared *sh, int n)
{
	uint64_t deadline = nvb_now_ns() + 60000000000ull;

	while (atomic_load(&sh->cons_done) < n &&
	       !atomic_load(&sh->gate.failed) && nvb_now_ns() < deadline)
		usleep(100);
}

static int
bad(struct child *c, const char *what, int rc)
{
	fprintf(stderr, "bench %s: %s failed (%d)\n", c->tp->name, what, rc);
	nvb_gate_fail(&c->sh->gate);
	return -1;
}

/* run -- fork N children (FN with idx i on CPU cpu_of(i)), open the gate
 * once all arrived, wait for them */
static int
run(struct child *proto, int n, int (*fn)(void *), const int *cpus,
    double timeout_s)
{
	struct child kids[NVB_MAX_PROD + NVB_MAX_CONS + 2];
	pid_t pids[NVB_MAX_PROD + NVB_MAX_CONS + 2];
	struct nvb_gate *g = &proto->sh->gate;

	for (int i = 0; i < n; i++) {
		kids[i] = *proto;
		kids[i].idx = i;
		pids[i] = nvb_fork(cpus[i], fn, &kids[i]);
		if (pids[i] < 0) {
			nvb_gate_fail(g);
			nvb_wait_all(pids, i, 5);
			return -1;
		}
	}
	uint64_t deadline = nvb_now_ns() + 30000000000ull;
	while (atomic_load(&g->arrived) < n && !atomic_load(&g->failed) &&
	       nvb_now_ns() < deadline)
		usleep(200);
	if (atomic_load(&g->arrived) < n)
		nvb_gate_fail(g);
	g->t_go = nvb_now_ns();
	atomic_store(&g->go, 1);
	int rc = nvb_wait_all(pids, n, timeout_s);
	return rc < 0 || atomic_load(&g->failed) ? -1 : 0;
}

/* ---------------------------------------------------------- ping-pong */

static int
pinger(void *arg)
{
	struct child *c = arg;
	struct nvb_env *e = c->e;
	void *tx, *rx;
	int rc;

	if ((rc = c->tp->tx_open(e, 0, 0, &tx)) < 0)
		return bad(c, "open ping sender", rc);
	if ((rc = c->tp->rx_open(e, 1, 0, &rx)) < 0)
		return bad(c, "open pong receiver", rc);
	unsigned char *m = new_msg(e->size);
	struct nvb_hdr *h = (void *)m;
	if (!m || nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	uint64_t start = nvb_now_ns(), k = 0, k_all = 0;
	uint64_t deadline = start + (uint64_t)(c->pa->seconds * 1e9);
	uint64_t warm_until = start + (uint64_t)(c->pa->seconds * 1e8);
	for (uint64_t i = 0;; i++) {
		const void *d;
		size_t len;
		h->seq = i;
		h->flags = 0;
		uint64_t t0 = nvb_now_ns();
		h->t_ns = t0;
		if ((rc = c->tp->send(tx, m, e->size, 0)) < 0)
			return bad(c, "send ping", rc);
		if ((rc = c->tp->recv(rx, &d, &len)) < 0)
			return bad(c, "receive pong", rc);
		uint64_t t1 = nvb_now_ns();
		const struct nvb_hdr *ph = d;
		if (len != e->size || ph->seq != i) {
			fprintf(stderr,
				"bench %s: pong %llu of %zu bytes, "
				"expected %llu of %zu\n",
				c->tp->name, (unsigned long long)ph->seq, len,
				(unsigned long long)i, e->size);
			return bad(c, "ping-pong order", -EPROTO);
		}
		if ((rc = c->tp->done(rx)) < 0)
			return bad(c, "acknowledge pong", rc);
		k_all++;
		if (i >= c->pa->warm || t1 >= warm_until) {
			uint64_t ow = (t1 - t0) / 2;
			c->sh->samples[k++] = ow > UINT32_MAX ? UINT32_MAX
							      : (uint32_t)ow;
		}
		if (k >= c->cap || k >= c->pa->count || t1 >= deadline)
			break;
	}
	h->flags = NVB_END;
	if ((rc = c->tp->send(tx, m, e->size, 0)) < 0)
		return bad(c, "send end", rc);
	c->sh->sent[0] = 2 * k_all + 1; /* pings, pongs and the end */
	c->sh->n = k;
	wait_consumers(c->sh, 1);
	c->tp->rx_close(rx);
	c->tp->tx_close(tx);
	free(m);
	return 0;
}

static int
ponger(void *arg)
{
	struct child *c = arg;
	struct nvb_env *e = c->e;
	void *tx, *rx;
	int rc;

	if ((rc = c->tp->rx_open(e, 0, 0, &rx)) < 0)
		return bad(c, "open ping receiver", rc);
	if ((rc = c->tp->tx_open(e, 1, 0, &tx)) < 0)
		return bad(c, "open pong sender", rc);
	unsigned char *m = new_msg(e->size);
	if (!m || nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	for (;;) {
		const void *d;
		size_t len;
		if ((rc = c->tp->recv(rx, &d, &len)) < 0)
			return bad(c, "receive ping", rc);
		if (len > e->size)
			return bad(c, "ping size", -EPROTO);
		memcpy(m, d, len);
		if (((const struct nvb_hdr *)d)->flags & NVB_END) {
			c->tp->done(rx);
			atomic_fetch_add(&c->sh->cons_done, 1);
			break;
		}
		if ((rc = c->tp->send(tx, m, len, 0)) < 0)
			return bad(c, "send pong", rc);
		if ((rc = c->tp->done(rx)) < 0)
			return bad(c, "acknowledge ping", rc);
	}
	c->tp->tx_close(tx);
	c->tp->rx_close(rx);
	free(m);
	return 0;
}

static struct shared *
new_shared(uint64_t cap, size_t *len)
{
	*len = sizeof(struct shared) + cap * sizeof(uint32_t);
	return nvb_shm(*len);
}

static double
timeout_of(const struct nvb_params *pa)
{
	double t = pa->seconds * 4 + 30;

	if (pa->rate > 0)
		t += (double)(pa->count + pa->warm) / pa->rate * 4;
	return t;
}

int
nvb_pingpong(const struct nvb_tp *tp, struct nvb_env *e,
	     const struct nvb_params *pa, struct nvb_result *r)
{
	size_t len;
	uint64_t cap = pa->count;
	struct shared *sh = new_shared(cap, &len);
	static const int cpus[2] = { 0, 1 };
	int (*const fns[2])(void *) = { pinger, ponger };

	if (!sh)
		return -ENOMEM;
	struct child proto = { tp, e, pa, sh, cap, 0 };
	/* two different functions: fork them one by one */
	struct child kids[2] = { proto, proto };
	pid_t pids[2];
	for (int i = 0; i < 2; i++) {
		kids[i].idx = i;
		pids[i] = nvb_fork(cpus[i], fns[i], &kids[i]);
	}
	uint64_t deadline = nvb_now_ns() + 30000000000ull;
	while (atomic_load(&sh->gate.arrived) < 2 &&
	       !atomic_load(&sh->gate.failed) && nvb_now_ns() < deadline)
		usleep(200);
	if (atomic_load(&sh->gate.arrived) < 2)
		nvb_gate_fail(&sh->gate);
	atomic_store(&sh->gate.go, 1);
	int rc = nvb_wait_all(pids, 2, timeout_of(pa));
	if (rc == 0 && !atomic_load(&sh->gate.failed) && sh->n > 0) {
		nvb_summarise(sh->samples, sh->n, r);
		r->acks = sh->sent[0];
	} else {
		rc = -1;
	}
	nvb_shm_free(sh, len);
	return rc;
}

/* --------------------------------------------------------------- rate */

static int
rate_producer(void *arg)
{
	struct child *c = arg;
	struct nvb_env *e = c->e;
	void *tx;
	int rc;

	if ((rc = c->tp->tx_open(e, 0, 0, &tx)) < 0)
		return bad(c, "open sender", rc);
	unsigned char *m = new_msg(e->size);
	struct nvb_hdr *h = (void *)m;
	if (!m || nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	double interval = 1e9 / c->pa->rate;
	uint64_t start = nvb_now_ns() + 1000000;
	uint64_t total = c->pa->count + c->pa->warm, k;
	/* a system slower than the offered rate falls behind without end:
	 * stop sending one schedule length (at least 1 s) after the last
	 * intended time; the report says how many were sent */
	double span = (double)total * interval;
	uint64_t stop = start + (uint64_t)(span * 2 > span + 1e9 ? span * 2
								 : span + 1e9);
	for (k = 0; k < total; k++) {
		uint64_t intended = start + (uint64_t)((double)k * interval);
		uint64_t now;
		while ((now = nvb_now_ns()) < intended)
			nvb_relax();
		if (now > stop)
			break;
		h->t_ns = intended; /* not the actual send time */
		h->seq = k;
		h->flags = 0;
		if ((rc = c->tp->send(tx, m, e->size, 0)) < 0)
			return bad(c, "send", rc);
	}
	h->flags = NVB_END;
	if ((rc = c->tp->send(tx, m, e->size, 0)) < 0)
		return bad(c, "send end", rc);
	c->sh->sent[0] = k + 1;
	c->sh->sent[1] = total; /* offered */
	wait_consumers(c->sh, 1);
	c->tp->tx_close(tx);
	free(m);
	return 0;
}

static int
rate_consumer(void *arg)
{
	struct child *c = arg;
	void *rx;
	uint64_t k = 0;
	int rc;

	if ((rc = c->tp->rx_open(c->e, 0, 0, &rx)) < 0)
		return bad(c, "open receiver", rc);
	if (nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	long v0 = vcsw();
	uint64_t all = 0;
	for (;;) {
		const void *d;
		size_t len;
		if ((rc = c->tp->recv(rx, &d, &len)) < 0)
			return bad(c, "receive", rc);
		uint64_t t = nvb_now_ns();
		const struct nvb_hdr *h = d;
		if (h->flags & NVB_END) {
			c->tp->done(rx);
			atomic_fetch_add(&c->sh->cons_done, 1);
			break;
		}
		all++;
		if (h->seq >= c->pa->warm && k < c->cap) {
			uint64_t ow = t > h->t_ns ? t - h->t_ns : 0;
			c->sh->samples[k++] = ow > UINT32_MAX ? UINT32_MAX
							      : (uint32_t)ow;
		}
		if ((rc = c->tp->done(rx)) < 0)
			return bad(c, "acknowledge", rc);
	}
	c->sh->cons[0].sleeps = vcsw() - v0;
	c->sh->cons[0].all = all;
	c->sh->n = k;
	c->tp->rx_close(rx);
	return 0;
}

int
nvb_rate(const struct nvb_tp *tp, struct nvb_env *e,
	 const struct nvb_params *pa, struct nvb_result *r)
{
	size_t len;
	uint64_t cap = pa->count + 1;
	struct shared *sh = new_shared(cap, &len);

	if (!sh)
		return -ENOMEM;
	struct child proto = { tp, e, pa, sh, cap, 0 };
	struct child kids[2] = { proto, proto };
	pid_t pids[2];
	pids[0] = nvb_fork(0, rate_producer, &kids[0]);
	pids[1] = nvb_fork(1, rate_consumer, &kids[1]);
	uint64_t deadline = nvb_now_ns() + 30000000000ull;
	while (atomic_load(&sh->gate.arrived) < 2 &&
	       !atomic_load(&sh->gate.failed) && nvb_now_ns() < deadline)
		usleep(200);
	if (atomic_load(&sh->gate.arrived) < 2)
		nvb_gate_fail(&sh->gate);
	atomic_store(&sh->gate.go, 1);
	int rc = nvb_wait_all(pids, 2, timeout_of(pa));
	if (rc == 0 && !atomic_load(&sh->gate.failed) && sh->n > 0) {
		nvb_summarise(sh->samples, sh->n, r);
		r->acks = sh->sent[0];
		if (sh->sent[0] < sh->sent[1] + 1)
			snprintf(r->note, sizeof(r->note),
				 "OVERLOADED: slower than the offered rate, "
				 "sent %llu of %llu messages in twice the "
				 "schedule",
				 (unsigned long long)sh->sent[0] - 1,
				 (unsigned long long)sh->sent[1]);
		r->sleeps_per_msg = sh->cons[0].all
					    ? (double)sh->cons[0].sleeps /
						      (double)sh->cons[0].all
					    : 0;
	} else {
		rc = -1;
	}
	nvb_shm_free(sh, len);
	return rc;
}

/* --------------------------------------------------------- throughput */

static int
tput_producer(void *arg)
{
	struct child *c = arg;
	struct nvb_env *e = c->e;
	void *tx;
	int rc, batch = e->batch > 0 ? e->batch : 1;

	if ((rc = c->tp->tx_open(e, 0, c->idx, &tx)) < 0)
		return bad(c, "open sender", rc);
	unsigned char *m = new_msg(e->size);
	struct nvb_hdr *h = (void *)m;
	if (!m || nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	uint64_t end = c->sh->gate.t_go + (uint64_t)(c->pa->seconds * 1e9);
	uint64_t i = 0, since = 0;
	h->prod = (uint32_t)c->idx;
	h->flags = 0;
	for (;; i++) {
		int more = batch > 1 && (i + 1) % (uint64_t)batch != 0;
		h->seq = i;
		if ((rc = c->tp->send(tx, m, e->size, more)) < 0)
			return bad(c, "send", rc);
		/* the clock is read at batch ends, every 64 messages or so */
		if (!more && ++since >= 64) {
			since = 0;
			if (nvb_now_ns() >= end)
				break;
		}
	}
	if (c->tp->flush && (rc = c->tp->flush(tx)) < 0)
		return bad(c, "flush", rc);
	h->flags = NVB_END;
	h->seq = ++i;
	if ((rc = c->tp->send(tx, m, e->size, 0)) < 0)
		return bad(c, "send end", rc);
	c->sh->sent[c->idx] = i + 1;
	wait_consumers(c->sh, e->ncons);
	c->tp->tx_close(tx);
	free(m);
	return 0;
}

static int
tput_consumer(void *arg)
{
	struct child *c = arg;
	struct nvb_env *e = c->e;
	int j = c->idx - e->nprod;
	void *rx;
	int rc, ends = 0;

	if ((rc = c->tp->rx_open(e, 0, j, &rx)) < 0)
		return bad(c, "open receiver", rc);
	if (nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	long v0 = vcsw();
	uint64_t warm = c->sh->gate.t_go + (uint64_t)(c->pa->seconds * 1e8);
	uint64_t n = 0, nwarm = 0, twarm = c->sh->gate.t_go, s = 0;
	int warmed = 0;
	for (;;) {
		const void *d;
		size_t len;
		if ((rc = c->tp->recv(rx, &d, &len)) < 0)
			return bad(c, "receive", rc);
		const struct nvb_hdr *h = d;
		if (h->flags & NVB_END) {
			c->tp->done(rx);
			if (++ends == e->nprod) {
				atomic_fetch_add(&c->sh->cons_done, 1);
				break;
			}
			continue;
		}
		s += touch(d, len);
		n++;
		if (!warmed && (n & 255) == 0) {
			uint64_t t = nvb_now_ns();
			if (t >= warm) {
				warmed = 1;
				nwarm = n;
				twarm = t;
			}
		}
		if ((rc = c->tp->done(rx)) < 0)
			return bad(c, "acknowledge", rc);
	}
	uint64_t t1 = nvb_now_ns();
	sink = s;
	if (!warmed || n - nwarm < 16) { /* too short to drop a warm-up */
		nwarm = 0;
		twarm = c->sh->gate.t_go;
	}
	c->sh->cons[j].msgs = n - nwarm;
	c->sh->cons[j].t0 = twarm;
	c->sh->cons[j].t1 = t1;
	c->sh->cons[j].all = n;
	c->sh->cons[j].sleeps = vcsw() - v0;
	c->tp->rx_close(rx);
	return 0;
}

static int
tput_child(void *arg)
{
	struct child *c = arg;

	return c->idx < c->e->nprod ? tput_producer(arg) : tput_consumer(arg);
}

int
nvb_throughput(const struct nvb_tp *tp, struct nvb_env *e,
	       const struct nvb_params *pa, struct nvb_result *r)
{
	size_t len;
	struct shared *sh = new_shared(1, &len);
	int cpus[NVB_MAX_PROD + NVB_MAX_CONS];
	int n = e->nprod + e->ncons;

	if (!sh)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		cpus[i] = i < e->nprod ? 0 : 1;
	struct child proto = { tp, e, pa, sh, 1, 0 };
	int rc = run(&proto, n, tput_child, cpus, timeout_of(pa));
	if (rc == 0) {
		double slowest = -1;
		uint64_t all = 0;
		long sleeps = 0;
		for (int j = 0; j < e->ncons; j++) {
			double dt = (double)(sh->cons[j].t1 - sh->cons[j].t0);
			double mps =
				dt > 0 ? (double)sh->cons[j].msgs * 1e9 / dt
				       : 0;
			if (slowest < 0 || mps < slowest)
				slowest = mps;
			all += sh->cons[j].all;
			sleeps += sh->cons[j].sleeps;
		}
		r->msgs_per_s = slowest;
		r->mb_per_s = slowest * (double)e->size / 1e6;
		r->msgs = all;
		r->sleeps_per_msg = all ? (double)sleeps / (double)all : 0;
		for (int p = 0; p < e->nprod; p++)
			r->acks += sh->sent[p];
	}
	nvb_shm_free(sh, len);
	return rc;
}

/* ------------------------------------------------------------ publish */

static int
publisher(void *arg)
{
	struct child *c = arg;
	struct nvb_env *e = c->e;
	void *tx;
	int rc;

	if ((rc = c->tp->tx_open(e, 0, 0, &tx)) < 0)
		return bad(c, "open sender", rc);
	unsigned char *m = new_msg(e->size);
	struct nvb_hdr *h = (void *)m;
	if (!m || nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	uint64_t start = nvb_now_ns(), k = 0, i;
	uint64_t deadline = start + (uint64_t)(c->pa->seconds * 1e9);
	uint64_t warm_until = start + (uint64_t)(c->pa->seconds * 1e8);
	h->flags = 0;
	for (i = 0;; i++) {
		h->seq = i;
		uint64_t t0 = nvb_now_ns();
		h->t_ns = t0;
		if ((rc = c->tp->send(tx, m, e->size, 0)) < 0)
			return bad(c, "publish", rc);
		uint64_t t1 = nvb_now_ns();
		if (i >= c->pa->warm || t1 >= warm_until) {
			uint64_t d = t1 - t0;
			c->sh->samples[k++] = d > UINT32_MAX ? UINT32_MAX
							     : (uint32_t)d;
		}
		if (k >= c->cap || k >= c->pa->count || t1 >= deadline)
			break;
	}
	c->sh->sent[0] = i + 1;
	c->sh->n = k;
	c->tp->tx_close(tx);
	free(m);
	return 0;
}

int
nvb_publish(const struct nvb_tp *tp, struct nvb_env *e,
	    const struct nvb_params *pa, struct nvb_result *r)
{
	size_t len;
	uint64_t cap = pa->count;
	struct shared *sh = new_shared(cap, &len);
	static const int cpus[1] = { 0 };

	if (!sh)
		return -ENOMEM;
	struct child proto = { tp, e, pa, sh, cap, 0 };
	int rc = run(&proto, 1, publisher, cpus, timeout_of(pa));
	if (rc == 0 && sh->n > 0) {
		nvb_summarise(sh->samples, sh->n, r);
		r->acks = sh->sent[0];
	} else {
		rc = -1;
	}
	nvb_shm_free(sh, len);
	return rc;
}
