/* SPDX-License-Identifier: MIT */
/*
 * nvmsgd.h -- the daemon's shared state: configuration (conf.c), the
 * connection under a link (conn.c), links (link.c, link_send.c,
 * link_recv.c), receiving channels (rchan.c), the log and the status file
 * (main.c).  docs/DAEMON.md describes how they fit.
 */
#ifndef NVD_NVMSGD_H
#define NVD_NVMSGD_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../include/nvmsg.h"
#include "loop.h"
#include "tls.h"
#include "wire.h"

/* exit codes (nvmsgd(8)) */
#define NVD_EXIT_OK 0	   /* stopped by SIGTERM or SIGINT */
#define NVD_EXIT_FAIL 1	   /* a failure while running */
#define NVD_EXIT_USAGE 2   /* bad option or configuration */
#define NVD_EXIT_STARTUP 3 /* cannot listen, open a channel or TLS files */

#define NVD_MAX_LINKS 64
#define NVD_ADDR_MAX 128

/* ------------------------------------------------------------ conf.c */

enum nvd_kind {
	NVD_FORWARD = 1, /* sender that dials: local channel -> remote */
	NVD_OFFER = 2,	 /* sender that waits for a receiver to dial in */
	NVD_PULL = 3,	 /* receiver that dials a listening sender */
};

struct nvd_link_conf {
	enum nvd_kind kind;
	char local[NVMSG_NAME_MAX + 1];	 /* channel on this host */
	char remote[NVMSG_NAME_MAX + 1]; /* channel on the other host */
	char addr[NVD_ADDR_MAX];	 /* host:port (FORWARD, PULL) */
	char peer_name[NVD_ADDR_MAX];	 /* name the peer's certificate
					  * carries (default: the host) */
};

struct nvd_conf {
	char dir[4096];
	char listen[NVD_ADDR_MAX]; /* "" : no listening socket */
	int plaintext;
	char tls_cert[4096], tls_key[4096], tls_ca[4096];
	int tier;		/* receiving channels created on; 0: auto */
	int allow_volatile;	/* receive into / send to a non-durable copy */
	uint64_t capacity;	/* ring bytes of a created channel */
	unsigned max_producers; /* slots of a created channel (fan-in) */
	unsigned window_msgs;	/* MSGs in flight per link */
	uint64_t window_bytes;	/* payload bytes in flight per link */
	uint64_t spin_ns;	/* keep polling this long after work */
	uint64_t poll_ns;	/* then poll every this often */
	uint64_t heartbeat_ns;	/* PING after this much silence */
	uint64_t dead_ns;	/* close a link silent this long */
	uint64_t backoff_max_ns;
	uint32_t max_msg;  /* largest message a receiver takes */
	char status[4096]; /* status file; default DIR/nvmsgd.status */
	int verbose;
	unsigned nlinks;
	struct nvd_link_conf links[NVD_MAX_LINKS];
};

/* nvd_conf_defaults -- every field's default */
void nvd_conf_defaults(struct nvd_conf *c);
/* nvd_conf_option -- apply one option (long name without "--", value);
 * 0, or -1 with ERR set */
int nvd_conf_option(struct nvd_conf *c, const char *key, const char *val,
		    char *err, size_t errlen);
/* nvd_conf_file -- apply every "key = value" line of PATH */
int nvd_conf_file(struct nvd_conf *c, const char *path, char *err,
		  size_t errlen);
/* nvd_conf_check -- the whole configuration makes sense */
int nvd_conf_check(const struct nvd_conf *c, char *err, size_t errlen);
/* nvd_split_addr -- "host:port" or "[v6]:port" into HOST and PORT */
int nvd_split_addr(const char *addr, char *host, size_t hostlen, char *port,
		   size_t portlen);

/* ------------------------------------------------------------ log */

void nvd_log(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define NVD_INFO(...) nvd_log("info", __VA_ARGS__)
#define NVD_WARN(...) nvd_log("warn", __VA_ARGS__)
#define NVD_ERR(...) nvd_log("error", __VA_ARGS__)

/* ------------------------------------------------------------ conn.c */

/* struct nvd_conn -- a socket (plaintext or TLS) with bounded buffers */
struct nvd_conn {
	int fd;
	struct nvd_tls *tls; /* NULL: plaintext */
	int tls_done;	     /* handshake finished */
	uint8_t *in;	     /* bytes read, not yet parsed: in[0..in_len) */
	size_t in_len, in_cap;
	uint8_t *out; /* bytes to write: out[out_off..out_len) */
	size_t out_off, out_len, out_cap;
	unsigned wants; /* what TLS waits for after -EAGAIN */
	char why[256];	/* the reason of the last failure */
};

int nvd_conn_init(struct nvd_conn *c, int fd, size_t in_cap, size_t out_cap);
void nvd_conn_free(struct nvd_conn *c);
/* nvd_conn_grow_in -- make the read buffer hold at least CAP bytes */
int nvd_conn_grow_in(struct nvd_conn *c, size_t cap);
/* nvd_conn_fill -- read what fits: > 0 bytes, 0 EOF, -EAGAIN, < 0 */
long nvd_conn_fill(struct nvd_conn *c);
/* nvd_conn_flush -- write what is queued: 0 all written, -EAGAIN, < 0 */
int nvd_conn_flush(struct nvd_conn *c);
/* nvd_conn_room -- bytes that can be queued now */
static inline size_t
nvd_conn_room(const struct nvd_conn *c)
{
	return c->out_cap - c->out_len;
}
/* nvd_conn_tail -- where the next frame is encoded (then _queued(n)) */
static inline uint8_t *
nvd_conn_tail(struct nvd_conn *c)
{
	return c->out + c->out_len;
}
static inline void
nvd_conn_queued(struct nvd_conn *c, size_t n)
{
	c->out_len += n;
}
/* nvd_conn_consume -- drop N parsed bytes from the read buffer */
void nvd_conn_consume(struct nvd_conn *c, size_t n);

/* ------------------------------------------------------------ links */

enum nvd_state {
	NVD_IDLE = 0,	/* no connection (waiting to dial, or accepted) */
	NVD_CONNECTING, /* non-blocking connect in progress */
	NVD_TLS,	/* TLS handshake */
	NVD_HELLO,	/* HELLOs (and RESUME) being exchanged */
	NVD_RUNNING,	/* messages flow */
};

struct nvd_daemon;
struct nvd_rchan;

/* one in-flight message of a sending link */
struct nvd_flight {
	struct nvmsg_view v;
	uint64_t frame; /* released once this many MSGs are acked */
	int sent;	/* sent as a MSG (else held by the receiver) */
};

struct nvd_link {
	struct nvd_daemon *d;
	struct nvd_link_conf conf; /* for an accepted link, filled from the
				    * peer's HELLO */
	int conf_index;		   /* index in d->conf.links, -1 accepted */
	int role;		   /* NVW_ROLE_SENDER / RECEIVER: ours */
	int dialer;		   /* we opened the connection */
	enum nvd_state state;
	struct nvd_conn conn;
	int connected; /* conn is set up */
	char peer[NVD_ADDR_MAX];
	uint64_t last_rx_ns, last_tx_ns;
	uint64_t timer; /* reconnect or retry timer, 0 none */
	uint64_t backoff_ns;
	int got_hello;
	uint32_t peer_max_msg;
	/* statistics since the daemon started */
	uint64_t connects, msgs, bytes, dups;
	char last_error[256];
	int remote_tier;
	int remote_durable;
	/* sender */
	struct nvmsg_consumer *cons;
	unsigned nslots;
	struct nvmsg_origin origin[NVMSG_MAX_PRODUCERS];
	uint8_t declared[NVMSG_MAX_PRODUCERS];
	uint64_t skip[NVMSG_MAX_PRODUCERS]; /* receiver holds up to this */
	struct nvd_flight *fifo;	    /* window_msgs entries */
	unsigned fhead, fcount;
	uint64_t fbytes;
	uint64_t sent_frames, acked_frames;
	uint32_t max_msg; /* local channel's largest message */
	int resumed;
	/* receiver */
	struct nvd_rchan *rc;
	uint8_t *index; /* origin index -> rchan slot + 1 (0: none) */
	uint64_t recv_frames, durable_frames;
	int blocked; /* receiving channel full: retrying */
};

struct nvd_daemon {
	struct nvd_conf conf;
	char conf_path[4096];
	struct nvd_loop *loop;
	struct nvd_tls_ctx *tls;
	int listen_fd;
	struct nvd_link *links[NVD_MAX_LINKS * 2];
	unsigned nlinks;
	struct nvd_rchan *rchans;
	uint64_t last_work_ns;
	uint64_t status_timer;
	int stopping;
};

/* link.c: the common part (connect, TLS, HELLO, heartbeats, close) */
struct nvd_link *nvd_link_new(struct nvd_daemon *d, int conf_index,
			      const struct nvd_link_conf *lc);
void nvd_link_start(struct nvd_link *l); /* dial now, or wait */
int nvd_link_accepted(struct nvd_daemon *d, int fd, const char *peer);
void nvd_link_close(struct nvd_link *l, const char *why, int err_code);
void nvd_link_free(struct nvd_link *l);
void nvd_link_want(struct nvd_link *l); /* re-arm the fd's mask */
int nvd_link_send_error(struct nvd_link *l, uint32_t code, const char *text);
/* nvd_link_poll -- the before-sleep pass: senders pump; 1 if work done */
int nvd_link_poll(struct nvd_link *l);
/* nvd_link_tick -- heartbeats and silent peers (periodic) */
void nvd_link_tick(struct nvd_link *l, uint64_t now);
/* nvd_link_parse -- handle the whole frames read (*LP may change: an
 * accepted connection moves into its offer link); -1 when closed */
int nvd_link_parse(struct nvd_link **lp);
const char *nvd_state_name(enum nvd_state s);
const char *nvd_link_kind(const struct nvd_link *l);

/* link_send.c */
int nvd_send_open(struct nvd_link *l); /* open the link consumer */
int nvd_send_hello_done(struct nvd_link *l);
int nvd_send_frame(struct nvd_link *l, const struct nvw_frame *f);
int nvd_send_pump(struct nvd_link *l);
void nvd_send_reset(struct nvd_link *l); /* connection gone */

/* link_recv.c */
int nvd_recv_hello_done(struct nvd_link *l);
/* nvd_recv_frame -- one frame after HELLO: -1 closed, 1 stop (full) */
int nvd_recv_frame(struct nvd_link *l, const struct nvw_frame *f);
/* nvd_recv_batch_done -- make what was appended durable, then ACK */
int nvd_recv_batch_done(struct nvd_link *l);
void nvd_recv_reset(struct nvd_link *l);

/* rchan.c: receiving channels, shared by the links into them */
int nvd_rchan_get(struct nvd_daemon *d, const char *name,
		  struct nvd_rchan **out, uint32_t *err_code, char *err,
		  size_t errlen);
/* nvd_rchan_producer -- the slot (table index) of origin O, opened or
 * claimed; nvd_rchan_at -- its producer (reopened after a failure), or
 * NULL */
int nvd_rchan_producer(struct nvd_rchan *rc, const struct nvmsg_origin *o,
		       unsigned *slot);
struct nvmsg_producer *nvd_rchan_at(struct nvd_rchan *rc, unsigned slot);
/* nvd_rchan_resume -- the RESUME entries: every origin held, with the
 * highest sequence number held durably */
void nvd_rchan_resume(struct nvd_rchan *rc, struct nvw_resume *r);
int nvd_rchan_tier(const struct nvd_rchan *rc);
uint32_t nvd_rchan_max_msg(const struct nvd_rchan *rc);
/* nvd_rchan_flush -- make every appended record durable; 0 or the first
 * failure (the failed producer is closed and reopened later) */
int nvd_rchan_flush(struct nvd_rchan *rc);
void nvd_rchan_touch(struct nvd_rchan *rc, struct nvmsg_producer *p);
void nvd_rchan_close_all(struct nvd_daemon *d);
const char *nvd_rchan_name(const struct nvd_rchan *rc);

#ifdef NVD_MUTANT_ACK_EARLY
/* mutant.c: a receiver that acknowledges before it appends (test only) */
int nvd_mutant_defer(struct nvd_link *l, unsigned slot,
		     const struct nvw_msg *m);
#endif

/* main.c */
void nvd_status_dirty(struct nvd_daemon *d);
void nvd_daemon_worked(struct nvd_daemon *d);

#endif
