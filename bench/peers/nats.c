/* SPDX-License-Identifier: MIT */
/*
 * nats.c -- peer: NATS JetStream with the NATS C client (libnats).  The
 * case process starts its own nats-server (-js, store in the case's
 * directory on the real disk, 127.0.0.1 and a free port) and creates a
 * file-backed stream BENCH over bench.*.  Stopped by pid at teardown.
 *
 *   send  js_Publish, synchronous: returns after the server's PubAck;
 *   recv  a push consumer per reader (js_SubscribeSync, AckNone, deliver
 *         all), natsSubscription_NextMsg.
 *
 * With e->replicas 3 the case process starts three nats-servers as one
 * cluster on 127.0.0.1 (a configuration file each, shared/PLATFORM.md)
 * and the stream has three replicas: a PubAck then says that a quorum
 * stored the message.
 *
 * Durability is measured, not assumed: when strace is installed the
 * server runs under `strace -f --seccomp-bpf -e trace=fsync,fdatasync`
 * (only those calls stop the server) and the fsync and fdatasync calls
 * made during the measurement are counted and reported with the number
 * of acknowledged publishes.
 */
#include "../worker/bench.h"

#include <errno.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define NODES 3 /* of an R3 stream's cluster */

struct srv {
	int n;		     /* servers: 1, or NODES for an R3 stream */
	pid_t pid[NODES];    /* our child: strace, or nats-server itself */
	pid_t server[NODES]; /* nats-server (from its pid file) */
	int port[NODES];
	int traced;
	double t_start; /* CLOCK_REALTIME when the measurement began */
	char url[64];
};

static void
path(const struct nvb_env *e, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", e->dir, name);
}

static pid_t
read_pid(const char *file)
{
	FILE *f = fopen(file, "r");
	int pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

static double
realtime(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static const char *
server_path(void)
{
	return access("/usr/sbin/nats-server", X_OK) == 0
		       ? "/usr/sbin/nats-server"
		       : "nats-server";
}

/* add_stream -- the file-backed stream BENCH over bench.*, REPLICAS
 * copies */
static int
add_stream(const char *url, int replicas, int quiet)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	natsStatus st = natsConnection_ConnectTo(&nc, url);

	if (st == NATS_OK)
		st = natsConnection_JetStream(&js, nc, NULL);
	if (st == NATS_OK) {
		const char *subj[] = { "bench.*" };
		jsStreamConfig_Init(&sc);
		sc.Name = "BENCH";
		sc.Subjects = subj;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Replicas = replicas;
		st = js_AddStream(NULL, js, &sc, NULL, &jerr);
	}
	if (js)
		jsCtx_Destroy(js);
	if (nc)
		natsConnection_Destroy(nc);
	if (st != NATS_OK && !quiet)
		fprintf(stderr, "bench nats: stream: %s (%d)\n",
			natsStatus_GetText(st), (int)jerr);
	return st == NATS_OK ? 0 : -1;
}

/* cluster_conf -- node I's configuration file for an R3 cluster
 * (shared/PLATFORM.md: server_name, listen, jetstream store_dir, cluster
 * name, listen and routes to the other nodes) */
static int
cluster_conf(const struct nvb_env *e, int i, const int *port, const int *cport,
	     char *file, size_t len)
{
	char store[512];
	FILE *f;

	snprintf(file, len, "%s/nats%d.conf", e->dir, i);
	snprintf(store, sizeof(store), "%s/js%d", e->dir, i);
	if (!(f = fopen(file, "w")))
		return -errno;
	fprintf(f,
		"server_name: n%d\nlisten: 127.0.0.1:%d\n"
		"jetstream { store_dir: \"%s\" }\n"
		"cluster {\n  name: bench\n  listen: 127.0.0.1:%d\n"
		"  routes: [",
		i, port[i], store, cport[i]);
	for (int j = 0, k = 0; j < NODES; j++)
		if (j != i)
			fprintf(f, "%snats-route://127.0.0.1:%d",
				k++ ? ", " : "", cport[j]);
	fprintf(f, "]\n}\n");
	return fclose(f) == 0 ? 0 : -EIO;
}

static int
setup(struct nvb_env *e)
{
	struct srv *s = calloc(1, sizeof(*s));
	char port[16], log[512], store[512], pidf[512], trace[512], conf[512];
	int cport[NODES];

	if (!s)
		return -ENOMEM;
	e->priv = s;
	s->n = e->replicas > 1 ? NODES : 1;
	s->traced = nvb_in_path("strace");
	/* client and cluster ports, all different (a port asked for twice
	 * in a row may come back the same) */
	for (int t = 0, dup = 1; dup && t < 20; t++) {
		int all[2 * NODES];
		for (int i = 0; i < s->n; i++) {
			all[2 * i] = s->port[i] = nvb_free_port();
			all[2 * i + 1] = cport[i] = nvb_free_port();
		}
		dup = 0;
		for (int i = 0; i < 2 * s->n; i++)
			for (int j = 0; j < i; j++)
				dup |= all[i] == all[j] || all[i] <= 0;
	}
	for (int i = 0; i < s->n; i++) {
		char name[32];
		snprintf(port, sizeof(port), "%d", s->port[i]);
		snprintf(name, sizeof(name), "nats%d.log", i);
		path(e, name, log, sizeof(log));
		snprintf(name, sizeof(name), "js%d", i);
		path(e, name, store, sizeof(store));
		snprintf(name, sizeof(name), "nats%d.pid", i);
		path(e, name, pidf, sizeof(pidf));
		snprintf(name, sizeof(name), "strace%d.out", i);
		path(e, name, trace, sizeof(trace));
		char *srv[] = { (char *)server_path(),
				"-a",
				"127.0.0.1",
				"-p",
				port,
				"-js",
				"-sd",
				store,
				"-P",
				pidf,
				NULL };
		char *csrv[] = {
			(char *)server_path(), "-c", conf, "-P", pidf, NULL
		};
		if (s->n > 1 &&
		    cluster_conf(e, i, s->port, cport, conf, sizeof(conf)) < 0)
			return -EIO;
		char *const *cmd = s->n > 1 ? csrv : srv;
		char *traced[24] = { "strace", "-f", "--seccomp-bpf",
				     "-ttt",   "-e", "trace=fsync,fdatasync",
				     "-o",     trace };
		for (int k = 0; cmd[k]; k++)
			traced[8 + k] = cmd[k];
		s->pid[i] = nvb_spawn(e->dir, s->traced ? traced : cmd, log);
		if (s->pid[i] < 0) {
			fprintf(stderr,
				"bench nats: cannot start nats-server\n");
			return -ECONNREFUSED;
		}
	}
	for (int i = 0; i < s->n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "nats%d.log", i);
		path(e, name, log, sizeof(log));
		snprintf(name, sizeof(name), "nats%d.pid", i);
		path(e, name, pidf, sizeof(pidf));
		if (nvb_wait_port(s->port[i], 15) < 0) {
			fprintf(stderr,
				"bench nats: nats-server did not start (see "
				"%s)\n",
				log);
			return -ECONNREFUSED;
		}
		s->server[i] = read_pid(pidf);
		if (s->server[i] > 0 && s->server[i] != s->pid[i])
			nvb_record_pid(e->dir, s->server[i], "nats-server");
	}
	snprintf(s->url, sizeof(s->url), "nats://127.0.0.1:%d", s->port[0]);
	/* in a child: libnats must not be initialised in this process, or
	 * every forked reader inherits the same NUID state and so the same
	 * inbox (each would receive the others' deliveries) */
	pid_t pid = fork();
	if (pid == 0) {
		/* a cluster elects its meta leader first (under a second
		 * here): until then the stream cannot be made */
		for (int t = 0; t < 60; t++) {
			if (add_stream(s->url, s->n, s->n > 1 && t < 59) == 0)
				_exit(0);
			if (s->n == 1)
				break;
			usleep(250000);
		}
		_exit(1);
	}
	int wst = 1;
	if (pid < 0 || waitpid(pid, &wst, 0) != pid || !WIFEXITED(wst) ||
	    WEXITSTATUS(wst) != 0)
		return -EIO;
	s->t_start = realtime();
	return 0;
}

/* count_fsyncs -- fsync and fdatasync calls in strace's -ttt log at or
 * after T0 (setup's own calls are not counted) */
static long
count_fsyncs(const char *file, double t0)
{
	FILE *f = fopen(file, "r");
	char line[512];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		int pid;
		double t;
		int used = 0;
		if (sscanf(line, "%d %lf %n", &pid, &t, &used) < 2)
			continue;
		const char *call = line + used;
		if (t < t0)
			continue;
		if (strncmp(call, "fsync(", 6) == 0 ||
		    strncmp(call, "fdatasync(", 10) == 0)
			n++;
	}
	fclose(f);
	return n;
}

static void
teardown(struct nvb_env *e)
{
	struct srv *s = e->priv;
	char trace[512];

	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		if (s->server[i] > 0 && s->server[i] != s->pid[i])
			nvb_stop(s->server[i], 0); /* strace then exits */
		if (s->pid[i] > 0)
			nvb_stop(s->pid[i], 1);
	}
	if (s->traced) {
		e->fsyncs = 0;
		for (int i = 0; i < s->n; i++) {
			char name[32];
			snprintf(name, sizeof(name), "strace%d.out", i);
			path(e, name, trace, sizeof(trace));
			long n = count_fsyncs(trace, s->t_start);
			if (n < 0) {
				e->fsyncs = -1;
				break;
			}
			e->fsyncs += n;
		}
		snprintf(e->note, sizeof(e->note),
			 "nats-server JetStream file stream, R%d%s; fsync "
			 "counted with strace",
			 s->n, s->n > 1 ? " (3 nats-servers)" : "");
	} else {
		e->fsyncs = -1;
		snprintf(e->note, sizeof(e->note),
			 "nats-server JetStream file stream; fsyncs not "
			 "counted (strace missing)");
	}
	free(s);
	e->priv = NULL;
}

struct conn {
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	natsMsg *msg;
	char subj[32];
	size_t cap;
	unsigned char *buf; /* aligned copy of the payload */
};

static int
conn_open(struct nvb_env *e, int chan, struct conn **out)
{
	struct srv *s = e->priv;
	struct conn *c = calloc(1, sizeof(*c));
	natsStatus st;

	if (!c)
		return -ENOMEM;
	snprintf(c->subj, sizeof(c->subj), "bench.%d", chan);
	c->cap = (e->size + 63) & ~(size_t)63;
	c->buf = aligned_alloc(64, c->cap);
	if (!c->buf) {
		free(c);
		return -ENOMEM;
	}
	st = natsConnection_ConnectTo(&c->nc, s->url);
	if (st == NATS_OK)
		st = natsConnection_JetStream(&c->js, c->nc, NULL);
	if (st != NATS_OK) {
		fprintf(stderr, "bench nats: connect: %s\n",
			natsStatus_GetText(st));
		free(c->buf);
		free(c);
		return -ECONNREFUSED;
	}
	*out = c;
	return 0;
}

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	(void)prod;
	return conn_open(e, chan, (struct conn **)h);
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	struct conn *c = h;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus st =
		js_Publish(&pa, c->js, c->subj, buf, (int)len, NULL, &jerr);

	(void)more;
	if (pa)
		jsPubAck_Destroy(pa);
	if (st != NATS_OK) {
		fprintf(stderr, "bench nats: publish: %s (%d)\n",
			natsStatus_GetText(st), (int)jerr);
		return -EIO;
	}
	return 0;
}

static void
conn_close(void *h)
{
	struct conn *c = h;

	if (c->msg)
		natsMsg_Destroy(c->msg);
	if (c->sub)
		natsSubscription_Destroy(c->sub);
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
	free(c->buf);
	free(c);
}

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct conn *c;
	jsSubOptions so;
	jsErrCode jerr = 0;
	int rc = conn_open(e, chan, &c);

	(void)cons;
	if (rc < 0)
		return rc;
	jsSubOptions_Init(&so);
	so.Stream = "BENCH";
	so.Config.AckPolicy = js_AckNone;
	so.Config.DeliverPolicy = js_DeliverAll;
	so.Config.FilterSubject = c->subj; /* one direction only */
	natsStatus st =
		js_SubscribeSync(&c->sub, c->js, c->subj, NULL, &so, &jerr);
	if (st == NATS_OK)
		st = natsSubscription_SetPendingLimits(c->sub, -1, -1);
	if (st != NATS_OK) {
		fprintf(stderr, "bench nats: subscribe: %s (%d)\n",
			natsStatus_GetText(st), (int)jerr);
		conn_close(c);
		return -EIO;
	}
	*h = c;
	return 0;
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct conn *c = h;

	if (c->msg) {
		natsMsg_Destroy(c->msg);
		c->msg = NULL;
	}
	natsStatus st = natsSubscription_NextMsg(&c->msg, c->sub, 20000);
	if (st != NATS_OK) {
		fprintf(stderr, "bench nats: next message: %s\n",
			natsStatus_GetText(st));
		return -EIO;
	}
	size_t n = (size_t)natsMsg_GetDataLength(c->msg);
	if (n > c->cap)
		return -EPROTO;
	memcpy(c->buf, natsMsg_GetData(c->msg), n);
	*data = c->buf;
	*len = n;
	return 0;
}

static int
rx_done(void *h)
{
	(void)h;
	return 0;
}

const struct nvb_tp nvb_tp_nats = {
	.name = "nats",
	.setup = setup,
	.teardown = teardown,
	.tx_open = tx_open,
	.send = tx_send,
	.tx_close = conn_close,
	.rx_open = rx_open,
	.recv = rx_recv,
	.done = rx_done,
	.rx_close = conn_close,
};
