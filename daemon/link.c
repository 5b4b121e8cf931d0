/* SPDX-License-Identifier: MIT */
/*
 * link.c -- what every link does whatever its role: dial (with backoff)
 * or accept, the TLS handshake, the HELLO exchange that settles who sends,
 * heartbeats, and closing.  The roles' own work is in link_send.c and
 * link_recv.c.  One state machine per link (docs/DAEMON.md, "Links"):
 *
 *   IDLE -> CONNECTING -> TLS -> HELLO -> RUNNING -> (closed) IDLE
 *
 * The dialling end sends its HELLO first; the accepting end learns from it
 * which role it plays and answers with its own.  The receiver then sends
 * RESUME.  Whoever dials, messages flow from the sender to the receiver.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmsgd.h"

#define CTRL_BODY 4096u			 /* control frames' limit */
#define SEND_IN_CAP (64u << 10)		 /* a sender reads control frames */
#define BACKOFF_MIN_NS (50ull * 1000000) /* first reconnect delay */

const char *
nvd_state_name(enum nvd_state s)
{
	switch (s) {
	case NVD_IDLE:
		return "idle";
	case NVD_CONNECTING:
		return "connecting";
	case NVD_TLS:
		return "tls-handshake";
	case NVD_HELLO:
		return "hello";
	case NVD_RUNNING:
		return "running";
	}
	return "?";
}

static const char *
kind_name(const struct nvd_link *l)
{
	switch (l->conf.kind) {
	case NVD_FORWARD:
		return "forward";
	case NVD_OFFER:
		return "offer";
	case NVD_PULL:
		return "pull";
	}
	return "accepted";
}

static void on_io(struct nvd_loop *loop, int fd, unsigned mask, void *data);

struct nvd_link *
nvd_link_new(struct nvd_daemon *d, int conf_index,
	     const struct nvd_link_conf *lc)
{
	struct nvd_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->d = d;
	l->conf_index = conf_index;
	if (lc)
		l->conf = *lc;
	l->conn.fd = -1;
	l->role = lc && lc->kind == NVD_PULL ? NVW_ROLE_RECEIVER
		  : lc			     ? NVW_ROLE_SENDER
					     : 0;
	l->dialer = lc && lc->kind != NVD_OFFER;
	l->backoff_ns = BACKOFF_MIN_NS;
	return l;
}

void
nvd_link_free(struct nvd_link *l)
{
	if (!l)
		return;
	if (l->timer)
		nvd_loop_timer_del(l->d->loop, l->timer);
	if (l->connected) {
		nvd_loop_file_del(l->d->loop, l->conn.fd);
		nvd_conn_free(&l->conn);
	}
	nvd_send_reset(l);
	nvd_recv_reset(l);
	if (l->cons)
		nvmsg_consumer_close(&l->cons);
	free(l->fifo);
	free(l);
}

void
nvd_link_want(struct nvd_link *l)
{
	unsigned m = 0;

	if (!l->connected)
		return;
	if (l->state == NVD_CONNECTING)
		m = NVD_LOOP_WRITE;
	else if (l->state == NVD_TLS)
		m = l->conn.wants ? l->conn.wants : NVD_LOOP_READ;
	else {
		if (!l->blocked)
			m |= NVD_LOOP_READ;
		if (l->conn.out_len > l->conn.out_off)
			m |= l->conn.tls && l->conn.wants == NVD_LOOP_READ
				     ? NVD_LOOP_READ
				     : NVD_LOOP_WRITE;
	}
	nvd_loop_file_mod(l->d->loop, l->conn.fd, m);
}

/* queue -- frame bytes written by ENCODE at the tail (0: no room) */
static int
queued(struct nvd_link *l, size_t n)
{
	if (n == 0)
		return -ENOBUFS;
	nvd_conn_queued(&l->conn, n);
	return 0;
}

int
nvd_link_send_error(struct nvd_link *l, uint32_t code, const char *text)
{
	return queued(l, nvw_put_error(nvd_conn_tail(&l->conn),
				       nvd_conn_room(&l->conn), code, text));
}

static void
on_reconnect(struct nvd_loop *loop, uint64_t id, void *data)
{
	struct nvd_link *l = data;

	(void)loop;
	(void)id;
	l->timer = 0;
	nvd_link_start(l);
}

static void
schedule_reconnect(struct nvd_link *l)
{
	/* jitter: between half and the whole backoff, so that links cut
	 * at once do not dial again in step */
	uint64_t d =
		l->backoff_ns / 2 + (uint64_t)rand() % (l->backoff_ns / 2 + 1);

	if (l->timer)
		nvd_loop_timer_del(l->d->loop, l->timer);
	l->timer = 0;
	nvd_loop_timer_add(l->d->loop, d, 0, on_reconnect, l, &l->timer);
	l->backoff_ns *= 2;
	if (l->backoff_ns > l->d->conf.backoff_max_ns)
		l->backoff_ns = l->d->conf.backoff_max_ns;
}

void
nvd_link_close(struct nvd_link *l, const char *why, int err_code)
{
	if (!l->connected)
		return;
	if (err_code && l->state >= NVD_HELLO) {
		/* best effort: tell the peer why, then go */
		nvd_link_send_error(l, (uint32_t)err_code, why);
		(void)nvd_conn_flush(&l->conn);
	}
	if (l->state == NVD_RUNNING || l->state == NVD_HELLO)
		NVD_INFO("link %s %s: closed (%s) peer=%s", kind_name(l),
			 l->conf.local[0] ? l->conf.local : "-", why, l->peer);
	else
		NVD_WARN("link %s %s: connection failed (%s) peer=%s",
			 kind_name(l), l->conf.local[0] ? l->conf.local : "-",
			 why, l->peer);
	snprintf(l->last_error, sizeof(l->last_error), "%s", why);
	nvd_loop_file_del(l->d->loop, l->conn.fd);
	nvd_conn_free(&l->conn);
	l->connected = 0;
	l->state = NVD_IDLE;
	l->got_hello = 0;
	l->blocked = 0;
	if (l->timer) {
		nvd_loop_timer_del(l->d->loop, l->timer);
		l->timer = 0;
	}
	if (l->role == NVW_ROLE_SENDER)
		nvd_send_reset(l);
	else
		nvd_recv_reset(l);
	nvd_status_dirty(l->d);
	if (l->conf_index < 0)
		l->state = NVD_IDLE; /* freed by the daemon's reaper */
	else if (l->dialer && !l->d->stopping)
		schedule_reconnect(l);
}

/* setup_conn -- FD is connected: buffers, TLS, the first HELLO */
static int
setup_conn(struct nvd_link *l)
{
	struct nvd_daemon *d = l->d;
	int one = 1;

	setsockopt(l->conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->last_rx_ns = l->last_tx_ns = nvd_loop_now_ns();
	if (d->tls) {
		const char *name = l->dialer ? l->conf.peer_name : NULL;
		if (nvd_tls_new(d->tls, l->conn.fd, !l->dialer,
				name && name[0] ? name : NULL,
				&l->conn.tls) < 0)
			return -ENOMEM;
		l->state = NVD_TLS;
		return 0;
	}
	l->state = NVD_HELLO;
	return 0;
}

/* our_hello -- the HELLO this end sends */
static int
send_hello(struct nvd_link *l)
{
	struct nvw_hello h = {
		.version = NVW_VERSION,
		.role = (uint16_t)l->role,
		.flags = l->d->conf.allow_volatile ? NVW_HELLO_ALLOW_VOLATILE
						   : 0,
	};
	if (l->role == NVW_ROLE_SENDER) {
		h.max_msg = l->max_msg;
		snprintf(h.channel, sizeof(h.channel), "%s", l->conf.remote);
	} else {
		h.max_msg = l->d->conf.max_msg;
		/* a dialling receiver names the channel it wants; an
		 * accepting one answers with the name it was given */
		snprintf(h.channel, sizeof(h.channel), "%s",
			 l->dialer ? l->conf.remote : l->conf.local);
	}
	return queued(l, nvw_put_hello(nvd_conn_tail(&l->conn),
				       nvd_conn_room(&l->conn), &h));
}

/* after_connect -- TCP (and TLS) is up */
static int
after_connect(struct nvd_link *l)
{
	l->state = NVD_HELLO;
	if (l->dialer) {
		if (l->role == NVW_ROLE_SENDER && nvd_send_open(l) < 0)
			return -1;
		return send_hello(l);
	}
	return 0;
}

static int
do_tls(struct nvd_link *l)
{
	int rc = nvd_tls_handshake(l->conn.tls);

	if (rc == -EAGAIN) {
		l->conn.wants = nvd_tls_wants(l->conn.tls);
		return 0;
	}
	if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why), "tls: %s",
			 nvd_tls_error(l->conn.tls));
		NVD_WARN("link %s: TLS refused peer=%s: %s", kind_name(l),
			 l->peer, nvd_tls_error(l->conn.tls));
		nvd_link_close(l, why, 0);
		return -1;
	}
	l->conn.wants = 0;
	NVD_INFO("link %s: TLS 1.3 up peer=%s cert=%s", kind_name(l), l->peer,
		 nvd_tls_peer(l->conn.tls));
	if (after_connect(l) < 0) {
		nvd_link_close(l, "cannot start", NVW_ERR_INTERNAL);
		return -1;
	}
	return 1;
}

/* find_offer -- the offer link for a receiver that asks for CHANNEL */
static struct nvd_link *
find_offer(struct nvd_daemon *d, const char *channel)
{
	for (unsigned i = 0; i < d->nlinks; i++) {
		struct nvd_link *o = d->links[i];
		if (o && o->conf_index >= 0 && o->conf.kind == NVD_OFFER &&
		    (!channel[0] || !strcmp(o->conf.local, channel)))
			return o;
	}
	return NULL;
}

/* adopt -- an accepted connection whose peer is a receiver belongs to the
 * offer link it asks for: move it there (a newer connection replaces an
 * older one, which may be a dead peer's that has not timed out yet) */
static struct nvd_link *
adopt(struct nvd_link *tmp, struct nvd_link *o)
{
	if (o->connected)
		nvd_link_close(o, "replaced by a new connection",
			       NVW_ERR_SHUTDOWN);
	nvd_loop_file_del(tmp->d->loop, tmp->conn.fd);
	o->conn = tmp->conn;
	o->connected = 1;
	o->state = NVD_HELLO;
	o->last_rx_ns = tmp->last_rx_ns;
	o->last_tx_ns = tmp->last_tx_ns;
	snprintf(o->peer, sizeof(o->peer), "%s", tmp->peer);
	memset(&tmp->conn, 0, sizeof(tmp->conn));
	tmp->conn.fd = -1;
	tmp->connected = 0;
	tmp->state = NVD_IDLE; /* reaped */
	if (nvd_loop_file_add(o->d->loop, o->conn.fd, NVD_LOOP_READ, on_io, o) <
	    0) {
		nvd_conn_free(&o->conn);
		o->connected = 0;
		return NULL;
	}
	o->connects++;
	return o;
}

/* on_hello -- the peer's HELLO: settle roles, answer, go on */
static int
on_hello(struct nvd_link **lp, const struct nvw_hello *h)
{
	struct nvd_link *l = *lp;

	if (l->got_hello) {
		nvd_link_close(l, "second HELLO", NVW_ERR_PROTOCOL);
		return -1;
	}
	if (h->version != NVW_VERSION) {
		nvd_link_close(l, "protocol version not spoken",
			       NVW_ERR_VERSION);
		return -1;
	}
	if (l->dialer && h->role == l->role) {
		nvd_link_close(l, "the peer has the same role", NVW_ERR_ROLE);
		return -1;
	}
	l->got_hello = 1;
	l->peer_max_msg = h->max_msg;
	if (!l->dialer) {
		if (h->role == NVW_ROLE_RECEIVER) {
			struct nvd_link *o = find_offer(l->d, h->channel);
			if (!o) {
				nvd_link_close(l,
					       "no channel offered under that "
					       "name",
					       NVW_ERR_CHANNEL);
				return -1;
			}
			if (!(o = adopt(l, o)))
				return -1;
			*lp = l = o;
			l->got_hello = 1;
			l->peer_max_msg = h->max_msg;
			if (nvd_send_open(l) < 0 || send_hello(l) < 0) {
				nvd_link_close(l, "cannot open the channel",
					       NVW_ERR_CHANNEL);
				return -1;
			}
			return 0; /* the receiver sends RESUME */
		}
		/* the peer sends: we receive into the channel it names */
		l->role = NVW_ROLE_RECEIVER;
		snprintf(l->conf.local, sizeof(l->conf.local), "%s",
			 h->channel);
		snprintf(l->conf.remote, sizeof(l->conf.remote), "%s",
			 h->channel);
		if (send_hello(l) < 0)
			return -1;
		return nvd_recv_hello_done(l);
	}
	if (l->role == NVW_ROLE_RECEIVER)
		return nvd_recv_hello_done(l);
	return 0; /* a dialling sender waits for RESUME */
}

/* handle -- one frame; -1 when the link was closed; 1 to stop parsing
 * (the receiver's channel is full: the frame stays in the buffer) */
static int
handle(struct nvd_link **lp, const struct nvw_frame *f)
{
	struct nvd_link *l = *lp;

	if (!l->got_hello && f->type != NVW_HELLO && f->type != NVW_ERROR) {
		nvd_link_close(l, "a frame before HELLO", NVW_ERR_PROTOCOL);
		return -1;
	}
	switch (f->type) {
	case NVW_HELLO:
		return on_hello(lp, &f->u.hello);
	case NVW_PING: {
		size_t n = nvw_put_u64(nvd_conn_tail(&l->conn),
				       nvd_conn_room(&l->conn), NVW_PONG,
				       f->u.token);
		(void)queued(l, n); /* no room: the pong is skipped */
		return 0;
	}
	case NVW_PONG:
		return 0;
	case NVW_ERROR: {
		char why[NVW_TEXT_MAX + 32];
		snprintf(why, sizeof(why), "peer error %u: %s", f->u.error.code,
			 f->u.error.text);
		nvd_link_close(l, why, 0);
		return -1;
	}
	default:
		break;
	}
	if (l->role == NVW_ROLE_SENDER)
		return nvd_send_frame(l, f);
	return nvd_recv_frame(l, f);
}

/* nvd_link_parse -- handle every whole frame in the read buffer */
int
nvd_link_parse(struct nvd_link **lp)
{
	struct nvd_link *l = *lp;
	size_t off = 0;
	int rc = 0;

	while (l->connected && off < l->conn.in_len) {
		struct nvw_frame f;
		size_t used = 0, max_body = CTRL_BODY;
		char why[200];
		if (l->state == NVD_RUNNING && l->role == NVW_ROLE_RECEIVER)
			max_body = NVW_MSG_HDR + (size_t)l->peer_max_msg;
		int p = nvw_parse(l->conn.in + off, l->conn.in_len - off,
				  max_body, &f, &used, why, sizeof(why));
		if (p == 0)
			break;
		if (p < 0) {
			char msg[260];
			snprintf(msg, sizeof(msg), "garbled frame: %s", why);
			NVD_WARN("link %s: %s peer=%s", kind_name(l), msg,
				 l->peer);
			nvd_link_close(l, msg, NVW_ERR_PROTOCOL);
			return -1;
		}
		rc = handle(lp, &f);
		l = *lp;
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
		off += used;
	}
	if (l->connected)
		nvd_conn_consume(&l->conn, off);
	if (l->connected && l->role == NVW_ROLE_RECEIVER &&
	    l->state == NVD_RUNNING)
		return nvd_recv_batch_done(l);
	return 0;
}

/* on_readable -- read what is there (a bounded number of times), parse */
static void
on_readable(struct nvd_link *l)
{
	for (int i = 0; i < 8 && l->connected; i++) {
		long n = nvd_conn_fill(&l->conn);
		if (n == -EAGAIN || n == -ENOBUFS)
			break;
		if (n == 0) {
			nvd_link_close(l, "peer closed the connection", 0);
			return;
		}
		if (n < 0) {
			nvd_link_close(l, l->conn.why, 0);
			return;
		}
		l->last_rx_ns = nvd_loop_now_ns();
		if (nvd_link_parse(&l) < 0)
			return;
		if (l->blocked)
			break;
	}
}

static void
finish_connect(struct nvd_link *l)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(l->conn.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		nvd_link_close(l, strerror(err), 0);
		return;
	}
	if (setup_conn(l) < 0 ||
	    (l->state == NVD_HELLO && after_connect(l) < 0)) {
		nvd_link_close(l, "cannot start the link", 0);
		return;
	}
	l->connects++;
	NVD_INFO("link %s %s: connected peer=%s", kind_name(l), l->conf.local,
		 l->peer);
	if (l->state == NVD_TLS)
		(void)do_tls(l); /* the dialler speaks first: ClientHello */
}

static void
on_io(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	struct nvd_link *l = data;

	(void)loop;
	(void)fd;
	if (l->state == NVD_CONNECTING) {
		finish_connect(l);
	} else if (l->state == NVD_TLS) {
		if (do_tls(l) > 0 && l->connected)
			on_readable(l);
	} else {
		if ((mask & NVD_LOOP_READ) && !l->blocked)
			on_readable(l);
		if (l->connected && l->conn.tls &&
		    nvd_tls_pending(l->conn.tls) && !l->blocked)
			on_readable(l);
	}
	if (!l->connected)
		return;
	if (l->conn.out_len > l->conn.out_off) {
		int rc = nvd_conn_flush(&l->conn);
		if (rc < 0 && rc != -EAGAIN) {
			nvd_link_close(l, l->conn.why, 0);
			return;
		}
		l->last_tx_ns = nvd_loop_now_ns();
	}
	nvd_link_want(l);
}

/* dial -- a non-blocking connect to the link's address */
static int
dial(struct nvd_link *l)
{
	char host[NVD_ADDR_MAX], port[16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int fd, rc;

	if (nvd_split_addr(l->conf.addr, host, sizeof(host), port,
			   sizeof(port)) < 0)
		return -EINVAL;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(l->last_error, sizeof(l->last_error), "%s: %s",
			 l->conf.addr, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -errno;
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static size_t
out_cap(const struct nvd_link *l)
{
	/* a sender queues up to two of its largest frames and a window's
	 * worth of small ones; a receiver only control frames */
	size_t big = NVW_HDR + NVW_MSG_HDR + (size_t)l->d->conf.max_msg;
	return 2 * big + (256u << 10);
}

void
nvd_link_start(struct nvd_link *l)
{
	if (l->connected || l->d->stopping || !l->dialer)
		return;
	snprintf(l->peer, sizeof(l->peer), "%s", l->conf.addr);
	int fd = dial(l);
	if (fd < 0) {
		if (!l->last_error[0] || fd != -EHOSTUNREACH)
			snprintf(l->last_error, sizeof(l->last_error),
				 "connect: %s", strerror(-fd));
		schedule_reconnect(l);
		return;
	}
	if (nvd_conn_init(&l->conn, fd, SEND_IN_CAP, out_cap(l)) < 0) {
		close(fd);
		schedule_reconnect(l);
		return;
	}
	if (nvd_loop_file_add(l->d->loop, fd, NVD_LOOP_WRITE, on_io, l) < 0) {
		nvd_conn_free(&l->conn);
		schedule_reconnect(l);
		return;
	}
	l->connected = 1;
	l->state = NVD_CONNECTING;
	l->last_rx_ns = l->last_tx_ns = nvd_loop_now_ns();
	nvd_status_dirty(l->d);
}

int
nvd_link_accepted(struct nvd_daemon *d, int fd, const char *peer)
{
	struct nvd_link *l = NULL;
	unsigned slot;

	for (slot = 0; slot < NVD_MAX_LINKS * 2; slot++)
		if (!d->links[slot])
			break;
	if (slot == NVD_MAX_LINKS * 2 || !(l = nvd_link_new(d, -1, NULL))) {
		NVD_WARN("refused connection from %s: too many links", peer);
		close(fd);
		return -ENOSPC;
	}
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	if (nvd_conn_init(&l->conn, fd, SEND_IN_CAP, out_cap(l)) < 0 ||
	    nvd_loop_file_add(d->loop, fd, NVD_LOOP_READ, on_io, l) < 0) {
		NVD_WARN("refused connection from %s: out of resources", peer);
		nvd_conn_free(&l->conn);
		free(l);
		return -ENOMEM;
	}
	l->connected = 1;
	d->links[slot] = l;
	if (slot >= d->nlinks)
		d->nlinks = slot + 1;
	if (setup_conn(l) < 0) {
		nvd_link_close(l, "cannot start TLS", 0);
		return 0;
	}
	NVD_INFO("accepted connection from %s", peer);
	nvd_link_want(l);
	return 0;
}

/* nvd_link_tick -- heartbeats and dead peers (the daemon's periodic timer) */
void
nvd_link_tick(struct nvd_link *l, uint64_t now)
{
	const struct nvd_conf *c = &l->d->conf;

	if (!l->connected)
		return;
	if (now - l->last_rx_ns > c->dead_ns) {
		nvd_link_close(l,
			       l->state == NVD_RUNNING
				       ? "peer silent: no frame within "
					 "dead-after"
				       : "handshake not done within dead-after",
			       0);
		return;
	}
	if (l->state >= NVD_HELLO && now - l->last_tx_ns > c->heartbeat_ns &&
	    nvd_conn_room(&l->conn) >= 64) {
		queued(l, nvw_put_u64(nvd_conn_tail(&l->conn),
				      nvd_conn_room(&l->conn), NVW_PING, now));
		if (nvd_conn_flush(&l->conn) == 0)
			l->last_tx_ns = now;
		nvd_link_want(l);
	}
}

int
nvd_link_poll(struct nvd_link *l)
{
	if (!l->connected || l->state != NVD_RUNNING ||
	    l->role != NVW_ROLE_SENDER)
		return 0;
	int work = nvd_send_pump(l);
	if (work < 0 || !l->connected)
		return 0;
	if (l->conn.out_len > l->conn.out_off) {
		int rc = nvd_conn_flush(&l->conn);
		if (rc < 0 && rc != -EAGAIN) {
			nvd_link_close(l, l->conn.why, 0);
			return 0;
		}
		l->last_tx_ns = nvd_loop_now_ns();
		nvd_link_want(l);
	}
	return work;
}

const char *
nvd_link_kind(const struct nvd_link *l)
{
	return kind_name(l);
}
