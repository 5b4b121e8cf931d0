/* SPDX-License-Identifier: MIT */
/*
 * tls.h -- TLS 1.3 with mutual certificates for nvmsgd's links, on
 * non-blocking sockets (OpenSSL 3, Debian's libssl-dev).
 *
 * One context per daemon role and configuration (its certificate, key and
 * the CA that signs its peers); one connection object per socket.  Every
 * call returns at once: -EAGAIN with nvd_tls_wants() saying whether the
 * socket must become readable or writable before the call is repeated.
 * Both ends present a certificate and verify the other's: the chain up to
 * the configured CA, the validity dates, and the name the link expects
 * (a DNS name or IP address in the subjectAltName, checked by OpenSSL's
 * host or IP check).  Anything else is refused, and nvd_tls_error() says
 * why in one line (no certificate, unknown CA, expired, name mismatch...);
 * docs/TLS.md lists the reasons.  A connection that failed (any error but
 * -EAGAIN) is dead: every later call returns the same error.
 *
 * SIGPIPE: OpenSSL writes to the socket with write(2), so a write to a
 * reset connection raises SIGPIPE.  The daemon sets SIGPIPE to SIG_IGN at
 * start-up (so does the unit test); the write then returns -EPIPE.
 *
 * The module never prints and never exits.
 */
#ifndef NVD_TLS_H
#define NVD_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct nvd_tls_ctx;
struct nvd_tls;

/* struct nvd_tls_conf -- paths of PEM files, all required */
struct nvd_tls_conf {
	const char *cert; /* this end's certificate (chain) */
	const char *key;  /* its private key */
	const char *ca;	  /* the CA that signs the peers' certificates */
};

/*
 * nvd_tls_ctx_new -- a context for both directions (accepting and
 * dialling).  TLS 1.3 only; peer certificates required both ways.
 * Errors: -EINVAL (a NULL field), -ENOENT / -EACCES (a file), -EPROTO (a
 * file that OpenSSL refuses, or a key that does not match the
 * certificate); ERR (ERRLEN bytes) gets the reason.
 */
int nvd_tls_ctx_new(const struct nvd_tls_conf *conf, struct nvd_tls_ctx **out,
		    char *err, size_t errlen);
/* nvd_tls_ctx_free -- NULL accepted; sets *ctx to NULL.  Connections
 * made from it hold their own reference and may outlive it. */
void nvd_tls_ctx_free(struct nvd_tls_ctx **ctx);

/*
 * nvd_tls_new -- TLS over the connected non-blocking socket FD (not taken
 * over: the caller closes it after nvd_tls_free).  SERVER: 1 for the end
 * that accepted the TCP connection, 0 for the end that dialled.  PEER_NAME:
 * the name the peer's certificate must carry (a DNS name, or an IP address
 * literal checked as an IP SAN); NULL only for an accepting end, which
 * then checks the chain and dates but no name.
 * Errors: -EINVAL (also a PEER_NAME that is empty or 256 bytes or more),
 * -ENOMEM.
 */
int nvd_tls_new(struct nvd_tls_ctx *ctx, int fd, int server,
		const char *peer_name, struct nvd_tls **out);
/* nvd_tls_free -- NULL accepted; sets *t to NULL; sends no close_notify
 * (call nvd_tls_shutdown first for a clean close) */
void nvd_tls_free(struct nvd_tls **t);

/* nvd_tls_handshake -- 0 once done; -EAGAIN (see nvd_tls_wants); -EPROTO
 * refused or broken (nvd_tls_error says why); -ECONNRESET (also: the peer
 * closed during the handshake) / -EPIPE, or another socket error */
int nvd_tls_handshake(struct nvd_tls *t);

/* nvd_tls_read -- > 0 bytes read; 0 the peer closed (close_notify or
 * EOF), and 0 again on later calls; -EAGAIN; -EPROTO; -ECONNRESET.  Only
 * after the handshake and with N > 0: -EINVAL otherwise. */
ssize_t nvd_tls_read(struct nvd_tls *t, void *buf, size_t n);
/* nvd_tls_write -- > 0 bytes taken (maybe fewer than N); -EAGAIN;
 * -EPROTO; -EPIPE / -ECONNRESET.  Repeat a -EAGAIN write with the same
 * bytes, at least as many (OpenSSL's rule; the module enables moving
 * buffers, so they may be at another address).  Only after the handshake
 * and with N > 0: -EINVAL otherwise. */
ssize_t nvd_tls_write(struct nvd_tls *t, const void *buf, size_t n);
/* nvd_tls_pending -- bytes OpenSSL holds decrypted that a read returns
 * without the socket becoming readable (the loop must not wait then) */
size_t nvd_tls_pending(const struct nvd_tls *t);
/* nvd_tls_shutdown -- send close_notify, best effort, never waits */
void nvd_tls_shutdown(struct nvd_tls *t);

/* nvd_tls_wants -- after -EAGAIN: NVD_LOOP_READ (1) or NVD_LOOP_WRITE (2) */
unsigned nvd_tls_wants(const struct nvd_tls *t);
/* nvd_tls_error -- the last failure's reason, one line, never NULL */
const char *nvd_tls_error(const struct nvd_tls *t);
/* nvd_tls_peer -- the peer certificate's subject CN after the handshake
 * (for the log), or "" */
const char *nvd_tls_peer(const struct nvd_tls *t);

#endif
