/* SPDX-License-Identifier: MIT */
/*
 * main.c -- nvmsgd: options and configuration, the listening socket, the
 * loop's timers and hooks, the status file, reload (SIGHUP) and a clean
 * stop (SIGTERM, SIGINT).  See nvmsgd(8) and docs/DAEMON.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nvmsgd.h"

static const char usage[] =
	"usage: nvmsgd --dir DIR [options]\n"
	"       nvmsgd --config FILE [options]\n"
	"\n"
	"Forwards nvmsg channels between hosts: the sender keeps each\n"
	"message until the receiver has made it durable, exactly once.\n"
	"\n"
	"  --dir DIR               channel directory (required)\n"
	"  --listen HOST:PORT      accept links (senders and receivers)\n"
	"  --forward CH[:REMOTE]=HOST:PORT\n"
	"                          send channel CH to a receiver there\n"
	"  --offer CH[:REMOTE]     send CH to a receiver that dials in\n"
	"  --pull CH[:REMOTE]=HOST:PORT\n"
	"                          dial a sender there, receive REMOTE into CH\n"
	"  --peer-name NAME        name the previous link's peer certificate\n"
	"                          carries (default: its host)\n"
	"  --tls-cert F --tls-key F --tls-ca F\n"
	"                          TLS 1.3, mutual certificates (default)\n"
	"  --plaintext             no TLS: unencrypted, unauthenticated\n"
	"  --tier pmem|msync       tier of receiving channels created here\n"
	"                          (default: pmem on DAX, else msync)\n"
	"  --allow-volatile        accept a non-durable copy (emulated,\n"
	"                          volatile); status says NOT durable\n"
	"  --capacity BYTES        ring size of created channels (1M)\n"
	"  --max-producers N       slots of created channels: origins (16)\n"
	"  --window N              messages in flight per link (4096)\n"
	"  --window-bytes BYTES    payload bytes in flight per link (16M)\n"
	"  --max-msg BYTES         largest message received (1M)\n"
	"  --spin TIME             poll channels this long after work (200us)\n"
	"  --poll TIME             then poll every TIME (1ms)\n"
	"  --heartbeat TIME        PING after this silence (1s)\n"
	"  --dead-after TIME       drop a link silent this long (5s)\n"
	"  --backoff-max TIME      longest reconnect delay (2s)\n"
	"  --status FILE           status file (DIR/nvmsgd.status)\n"
	"  --port-file FILE        write the listening port there\n"
	"  --config FILE           options as 'key = value' lines\n"
	"  --verbose               log every connection event\n"
	"  --help, --version\n"
	"\n"
	"Exit: 0 stopped by SIGTERM/SIGINT, 1 failure while running,\n"
	"2 bad options, 3 cannot start (listen, TLS files).\n";

/* ------------------------------------------------------------ log */

void
nvd_log(const char *level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	/* one write per line: lines of several processes never mix */
	n = snprintf(line, sizeof(line), "nvmsgd[%d]: %s: ", (int)getpid(),
		     level);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	(void)!write(2, line, (size_t)n);
}

/* ------------------------------------------------------------ status */

static int status_dirty;

void
nvd_status_dirty(struct nvd_daemon *d)
{
	(void)d;
	status_dirty = 1;
}

void
nvd_daemon_worked(struct nvd_daemon *d)
{
	d->last_work_ns = nvd_loop_now_ns();
}

/* write_status -- DIR/nvmsgd.status, one line per link, replaced whole
 * (written to a temporary name, then renamed); docs/DAEMON.md "Status" */
static void
write_status(struct nvd_daemon *d)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->conf.status);
	if (!(f = fopen(tmp, "w")))
		return;
	fprintf(f, "nvmsgd pid=%d security=%s links=%u\n", (int)getpid(),
		d->tls ? "tls" : "plaintext", d->nlinks);
	for (unsigned i = 0; i < d->nlinks; i++) {
		struct nvd_link *l = d->links[i];
		if (!l || (l->conf_index < 0 && !l->connected))
			continue;
		int sender = l->role == NVW_ROLE_SENDER;
		fprintf(f,
			"link kind=%s role=%s local=%s remote=%s peer=%s "
			"state=%s security=%s remote_tier=%s durable=%s "
			"inflight=%u msgs=%llu bytes=%llu dups=%llu "
			"connects=%llu error=\"%s\"\n",
			nvd_link_kind(l), sender ? "sender" : "receiver",
			l->conf.local[0] ? l->conf.local : "-",
			l->conf.remote[0] ? l->conf.remote : "-",
			l->peer[0] ? l->peer : "-", nvd_state_name(l->state),
			d->tls ? "tls" : "plaintext",
			l->remote_tier ? nvmsg_tier_name(l->remote_tier) : "-",
			l->remote_tier ? (l->remote_durable ? "yes" : "NO")
				       : "-",
			sender ? l->fcount : 0, (unsigned long long)l->msgs,
			(unsigned long long)l->bytes,
			(unsigned long long)l->dups,
			(unsigned long long)l->connects, l->last_error);
	}
	if (fclose(f) == 0)
		rename(tmp, d->conf.status);
	status_dirty = 0;
}

/* ------------------------------------------------------------ loop */

static void
reap(struct nvd_daemon *d)
{
	for (unsigned i = 0; i < d->nlinks; i++) {
		struct nvd_link *l = d->links[i];
		if (l && l->conf_index < 0 && !l->connected) {
			nvd_link_free(l);
			d->links[i] = NULL;
			status_dirty = 1;
		}
	}
	while (d->nlinks && !d->links[d->nlinks - 1])
		d->nlinks--;
}

static void
before_sleep(struct nvd_loop *loop, void *data)
{
	struct nvd_daemon *d = data;
	int work = 0;

	for (unsigned i = 0; i < d->nlinks; i++)
		if (d->links[i])
			work |= nvd_link_poll(d->links[i]) > 0;
	reap(d);
	if (status_dirty) /* links come and go rarely: write at once */
		write_status(d);
	/* spin while messages flow: an idle wait would add a poll
	 * period to every message's latency */
	if (work || nvd_loop_now_ns() - d->last_work_ns < d->conf.spin_ns)
		nvd_loop_no_sleep(loop);
}

static void
on_poll(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)loop;
	(void)id;
	(void)data; /* waking up is the point: before_sleep polls */
}

static void
on_tick(struct nvd_loop *loop, uint64_t id, void *data)
{
	struct nvd_daemon *d = data;
	uint64_t now = nvd_loop_now_ns();

	(void)loop;
	(void)id;
	for (unsigned i = 0; i < d->nlinks; i++)
		if (d->links[i])
			nvd_link_tick(d->links[i], now);
}

static void
on_status(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)loop;
	(void)id;
	write_status(data);
}

static void
on_accept(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	struct nvd_daemon *d = data;

	(void)loop;
	(void)mask;
	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char host[64], serv[16], peer[NVD_ADDR_MAX];
		int c = accept4(fd, (struct sockaddr *)&ss, &sl,
				SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			if (errno != EAGAIN && errno != EINTR)
				NVD_WARN("accept: %s", strerror(errno));
			return;
		}
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host),
				serv, sizeof(serv),
				NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			snprintf(peer, sizeof(peer), "?");
		else
			snprintf(peer, sizeof(peer), "%s:%s", host, serv);
		nvd_link_accepted(d, c, peer);
		status_dirty = 1;
	}
}

static int
start_listen(struct nvd_daemon *d, const char *port_file)
{
	char host[NVD_ADDR_MAX], port[16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE },
			*ai;
	int fd, one = 1, rc;

	nvd_split_addr(d->conf.listen, host, sizeof(host), port, sizeof(port));
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		NVD_ERR("--listen %s: %s", d->conf.listen, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		NVD_ERR("--listen %s: %s", d->conf.listen, strerror(errno));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char serv[NI_MAXSERV] = "?";
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, serv,
			    sizeof(serv), NI_NUMERICSERV);
	if (port_file) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%s\n", serv) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) < 0) {
			NVD_ERR("--port-file %s: %s", port_file,
				strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (nvd_loop_file_add(d->loop, fd, NVD_LOOP_READ, on_accept, d) < 0) {
		close(fd);
		return -1;
	}
	d->listen_fd = fd;
	NVD_INFO("listening on %s (port %s, %s)", d->conf.listen, serv,
		 d->tls ? "TLS 1.3, mutual certificates"
			: "PLAINTEXT: unencrypted, unauthenticated");
	return 0;
}

/* add_links -- link objects for configured links not there yet */
static void
add_links(struct nvd_daemon *d)
{
	for (unsigned i = 0; i < d->conf.nlinks; i++) {
		int have = 0;
		for (unsigned k = 0; k < d->nlinks; k++)
			if (d->links[k] && d->links[k]->conf_index == (int)i)
				have = 1;
		if (have)
			continue;
		unsigned slot;
		for (slot = 0; slot < NVD_MAX_LINKS * 2 && d->links[slot];
		     slot++)
			;
		struct nvd_link *l;
		if (slot == NVD_MAX_LINKS * 2 ||
		    !(l = nvd_link_new(d, (int)i, &d->conf.links[i])))
			return;
		d->links[slot] = l;
		if (slot >= d->nlinks)
			d->nlinks = slot + 1;
		if (l->role == NVW_ROLE_SENDER && nvd_send_open(l) < 0)
			NVD_WARN("link %s %s: channel not readable yet; "
				 "retrying",
				 nvd_link_kind(l), l->conf.local);
		NVD_INFO("link %s %s%s%s: configured", nvd_link_kind(l),
			 l->conf.local, l->conf.addr[0] ? " " : "",
			 l->conf.addr);
		nvd_link_start(l);
	}
	status_dirty = 1;
}

static int
same_link(const struct nvd_link_conf *a, const struct nvd_link_conf *b)
{
	return a->kind == b->kind && !strcmp(a->local, b->local) &&
	       !strcmp(a->remote, b->remote) && !strcmp(a->addr, b->addr) &&
	       !strcmp(a->peer_name, b->peer_name);
}

static void
on_hup(struct nvd_loop *loop, int signo, void *data)
{
	struct nvd_daemon *d = data;
	struct nvd_conf *n = malloc(sizeof(*n));
	char err[512];

	(void)loop;
	(void)signo;
	if (!n)
		return;
	if (!d->conf_path[0]) {
		NVD_WARN("SIGHUP: no --config file to reload");
		free(n);
		return;
	}
	nvd_conf_defaults(n);
	if (nvd_conf_file(n, d->conf_path, err, sizeof(err)) < 0 ||
	    nvd_conf_check(n, err, sizeof(err)) < 0) {
		NVD_ERR("SIGHUP: %s; keeping the running configuration", err);
		free(n);
		return;
	}
	unsigned removed = 0, kept = 0;
	for (unsigned k = 0; k < d->nlinks; k++) {
		struct nvd_link *l = d->links[k];
		if (!l || l->conf_index < 0)
			continue;
		int found = -1;
		for (unsigned i = 0; i < n->nlinks; i++)
			if (same_link(&l->conf, &n->links[i]))
				found = (int)i;
		if (found < 0) {
			nvd_link_close(l, "removed by reload",
				       NVW_ERR_SHUTDOWN);
			nvd_link_free(l);
			d->links[k] = NULL;
			removed++;
		} else {
			l->conf_index = found;
			kept++;
		}
	}
	/* links only: the rest needs a restart */
	d->conf.nlinks = n->nlinks;
	memcpy(d->conf.links, n->links, sizeof(n->links));
	unsigned before = kept;
	add_links(d);
	NVD_INFO("reloaded %s: %u links (%u kept, %u removed, %u added)",
		 d->conf_path, n->nlinks, kept, removed, n->nlinks - before);
	free(n);
}

static void
on_stop(struct nvd_loop *loop, int signo, void *data)
{
	struct nvd_daemon *d = data;

	NVD_INFO("%s: stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
	d->stopping = 1;
	nvd_loop_stop(loop);
}

/* ------------------------------------------------------------ main */

/* quit -- an exit before the loop ran: free what was made (so that leak
 * checkers keep the exit code), return RC */
static int
quit(struct nvd_daemon *d, int rc)
{
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	nvd_tls_ctx_free(&d->tls);
	nvd_loop_close(&d->loop);
	free(d);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", 1, 0, 0 },
		{ "listen", 1, 0, 0 },
		{ "forward", 1, 0, 0 },
		{ "offer", 1, 0, 0 },
		{ "pull", 1, 0, 0 },
		{ "peer-name", 1, 0, 0 },
		{ "tls-cert", 1, 0, 0 },
		{ "tls-key", 1, 0, 0 },
		{ "tls-ca", 1, 0, 0 },
		{ "plaintext", 0, 0, 0 },
		{ "tier", 1, 0, 0 },
		{ "allow-volatile", 0, 0, 0 },
		{ "capacity", 1, 0, 0 },
		{ "max-producers", 1, 0, 0 },
		{ "window", 1, 0, 0 },
		{ "window-bytes", 1, 0, 0 },
		{ "max-msg", 1, 0, 0 },
		{ "spin", 1, 0, 0 },
		{ "poll", 1, 0, 0 },
		{ "heartbeat", 1, 0, 0 },
		{ "dead-after", 1, 0, 0 },
		{ "backoff-max", 1, 0, 0 },
		{ "status", 1, 0, 0 },
		{ "verbose", 0, 0, 0 },
		{ "config", 1, 0, 'c' },
		{ "port-file", 1, 0, 'p' },
		{ "help", 0, 0, 'h' },
		{ "version", 0, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	struct nvd_daemon *d = calloc(1, sizeof(*d));
	const char *port_file = NULL;
	char err[8192];
	int o, idx, rc = NVD_EXIT_OK;

	if (!d)
		return NVD_EXIT_FAIL;
	d->listen_fd = -1;
	nvd_conf_defaults(&d->conf);
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (o == 'h') {
			fputs(usage, stdout);
			return quit(d, NVD_EXIT_OK);
		}
		if (o == 'V') {
			printf("nvmsgd %s (wire protocol %u)\n",
			       nvmsg_version(), NVW_VERSION);
			return quit(d, NVD_EXIT_OK);
		}
		if (o == 'p') {
			port_file = optarg;
			continue;
		}
		if (o == 'c') {
			snprintf(d->conf_path, sizeof(d->conf_path), "%s",
				 optarg);
			if (nvd_conf_file(&d->conf, optarg, err, sizeof(err)) <
			    0) {
				fprintf(stderr, "nvmsgd: %s\n", err);
				return quit(d, NVD_EXIT_USAGE);
			}
			continue;
		}
		if (o != 0) {
			fprintf(stderr,
				"nvmsgd: unknown option or missing value: "
				"%s\n%s",
				argv[optind - 1], usage);
			return quit(d, NVD_EXIT_USAGE);
		}
		if (nvd_conf_option(&d->conf, opts[idx].name, optarg, err,
				    sizeof(err)) < 0) {
			fprintf(stderr, "nvmsgd: %s\n", err);
			return quit(d, NVD_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nvmsgd: unexpected argument '%s'\n%s",
			argv[optind], usage);
		return quit(d, NVD_EXIT_USAGE);
	}
	if (nvd_conf_check(&d->conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "nvmsgd: %s\n", err);
		return quit(d, NVD_EXIT_USAGE);
	}
	if (!d->conf.status[0])
		snprintf(d->conf.status, sizeof(d->conf.status),
			 "%.4000s/nvmsgd.status", d->conf.dir);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)(getpid() ^ nvd_loop_now_ns()));

	struct rlimit rl;
	unsigned max_fds = 4096;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 &&
	    rl.rlim_cur > 64)
		max_fds = (unsigned)rl.rlim_cur;
	if (nvd_loop_create(max_fds, 64 + 4 * NVD_MAX_LINKS, &d->loop) < 0) {
		NVD_ERR("cannot create the event loop");
		return quit(d, NVD_EXIT_STARTUP);
	}
	nvd_loop_signal_add(d->loop, SIGTERM, on_stop, d);
	nvd_loop_signal_add(d->loop, SIGINT, on_stop, d);
	nvd_loop_signal_add(d->loop, SIGHUP, on_hup, d);
	if (!d->conf.plaintext) {
		struct nvd_tls_conf tc = { d->conf.tls_cert, d->conf.tls_key,
					   d->conf.tls_ca };
		if (nvd_tls_ctx_new(&tc, &d->tls, err, sizeof(err)) < 0) {
			NVD_ERR("TLS: %s", err);
			return quit(d, NVD_EXIT_STARTUP);
		}
	} else {
		NVD_WARN("--plaintext: links are neither encrypted nor "
			 "authenticated");
	}
	if (d->conf.listen[0] && start_listen(d, port_file) < 0)
		return quit(d, NVD_EXIT_STARTUP);
	nvd_loop_before_sleep(d->loop, before_sleep, d);
	nvd_loop_timer_add(d->loop, d->conf.poll_ns, d->conf.poll_ns, on_poll,
			   d, NULL);
	nvd_loop_timer_add(d->loop, 100000000ull, 100000000ull, on_tick, d,
			   NULL);
	nvd_loop_timer_add(d->loop, 0, 1000000000ull, on_status, d,
			   &d->status_timer);
	add_links(d);
	NVD_INFO("nvmsgd %s started: dir=%s links=%u", nvmsg_version(),
		 d->conf.dir, d->conf.nlinks);
	if (nvd_loop_run(d->loop) < 0) {
		NVD_ERR("event loop failed: %s", strerror(errno));
		rc = NVD_EXIT_FAIL;
	}
	/* stop: tell peers, release what is held (every ACK sent was for
	 * durable records; a sender's unreleased views are simply read
	 * again by the next run) */
	d->stopping = 1;
	for (unsigned i = 0; i < d->nlinks; i++) {
		if (!d->links[i])
			continue;
		nvd_link_close(d->links[i], "daemon stopping",
			       NVW_ERR_SHUTDOWN);
		nvd_link_free(d->links[i]);
		d->links[i] = NULL;
	}
	nvd_rchan_close_all(d);
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	d->nlinks = 0;
	write_status(d);
	nvd_tls_ctx_free(&d->tls);
	nvd_loop_close(&d->loop);
	NVD_INFO("stopped");
	free(d);
	return rc;
}
