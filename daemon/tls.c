/* SPDX-License-Identifier: MIT */
/*
 * tls.c -- TLS 1.3 with mutual certificates on non-blocking sockets
 * (tls.h), over OpenSSL 3.
 *
 * One SSL_CTX serves both roles (TLS_method, pinned to TLS 1.3 at both
 * ends of the version range); each connection is an SSL on the caller's
 * fd through OpenSSL's socket BIO.  Both roles set SSL_VERIFY_PEER |
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT, so a server asks for the client's
 * certificate and a handshake without one fails.  The expected name goes
 * into the SSL's X509_VERIFY_PARAM (host or IP), so OpenSSL checks it as
 * part of the chain verification and a mismatch is a verification error
 * like any other.
 *
 * Reasons.  When a handshake fails, the reason is picked in this order:
 * the verification result (SSL_get_verify_result, with the subject and
 * depth of the certificate that failed, recorded by verify_cb), then
 * OpenSSL's error queue: a few reasons get words of their own (no
 * certificate, not TLS, not TLS 1.3, an alert from the peer) and any other
 * is written as OpenSSL's "library: reason" strings.  The error queue is
 * per thread: it is cleared before every call into OpenSSL (SSL_get_error
 * needs that) and emptied after every failure, so one connection's errors
 * never leak into another's.
 *
 * State: after a fatal error (anything but -EAGAIN and end of stream) the
 * connection is dead: OpenSSL forbids further calls, including
 * SSL_shutdown, so every later call returns the same error.
 *
 * Global state: none of ours.  SSL_set_app_data (ex_data index 0, which
 * OpenSSL reserves for the application) carries the connection to the
 * verify callback, so no ex_data index is allocated.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "loop.h"

#define TLS_ERR_MAX 320 /* nvd_tls_error's buffer */
#define PEER_MAX 256	/* a DNS name (253) or an IP literal, and its NUL */
#define CN_MAX 128	/* a subject's CN as kept for messages */

struct nvd_tls_ctx {
	SSL_CTX *ssl;
};

struct nvd_tls {
	SSL *ssl;
	int fatal;	       /* the error that ended it; 0: alive */
	unsigned wants;	       /* NVD_LOOP_READ or _WRITE after -EAGAIN */
	bool done;	       /* the handshake completed */
	bool eof;	       /* the peer closed; reads return 0 */
	bool broken;	       /* SSL_ERROR_SYSCALL or _SSL seen: no more
				  calls into OpenSSL (no SSL_shutdown) */
	int vfy_depth;	       /* verify_cb: depth of the first failure */
	long vfy_err;	       /* its X509_V_ERR_*; X509_V_OK: none seen */
	char vfy_cn[CN_MAX];   /* its subject's CN, or "" */
	char name[PEER_MAX];   /* the peer name expected, or "" */
	char peer[CN_MAX];     /* the peer's CN once done */
	char err[TLS_ERR_MAX]; /* nvd_tls_error */
};

/* put -- format into ERR (ERRLEN bytes; none when 0) */
__attribute__((format(printf, 3, 4))) static void
put(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* queue_text -- OpenSSL's error queue as "lib: reason; ...", emptied */
static void
queue_text(char *buf, size_t len)
{
	unsigned long e;
	size_t used = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		const char *lib = ERR_lib_error_string(e);
		const char *why = ERR_reason_error_string(e);
		char code[32];
		int n;

		if (!why) {
			snprintf(code, sizeof(code), "error %#lx", e);
			why = code;
		}
		if (used + 1 >= len)
			continue; /* keep draining */
		n = snprintf(buf + used, len - used, "%s%s%s%s",
			     used ? "; " : "", lib ? lib : "", lib ? ": " : "",
			     why);
		if (n > 0)
			used += (size_t)n < len - used ? (size_t)n
						       : len - used - 1;
	}
	if (used == 0)
		snprintf(buf, len, "no reason given by OpenSSL");
}

/* ---- context ---- */

/* no_passphrase -- an encrypted key is refused, never prompted for */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* readable -- 0 if PATH can be opened for reading, else -errno */
static int
readable(const char *what, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		put(err, errlen, "%s %s: %s", what, path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

/* load_key -- the private key in PEM file PATH, or NULL (ERR says why) */
static EVP_PKEY *
load_key(const char *path, char *err, size_t errlen)
{
	char why[200];
	EVP_PKEY *key = NULL;
	BIO *bio = BIO_new_file(path, "r");

	if (bio) {
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	if (!key) {
		queue_text(why, sizeof(why));
		put(err, errlen, "key %s: not a usable PEM private key (%s)",
		    path, why);
	}
	return key;
}

static int
setup(SSL_CTX *ssl, const struct nvd_tls_conf *conf, char *err, size_t errlen)
{
	char why[200];
	EVP_PKEY *key;
	X509 *cert;
	int ok;

	if (!SSL_CTX_set_min_proto_version(ssl, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ssl, TLS1_3_VERSION)) {
		queue_text(why, sizeof(why));
		put(err, errlen, "TLS 1.3 is not available: %s", why);
		return -EPROTO;
	}
	SSL_CTX_set_default_passwd_cb(ssl, no_passphrase);
	if (SSL_CTX_use_certificate_chain_file(ssl, conf->cert) != 1) {
		queue_text(why, sizeof(why));
		put(err, errlen, "certificate %s: refused by OpenSSL (%s)",
		    conf->cert, why);
		return -EPROTO;
	}
	key = load_key(conf->key, err, errlen);
	if (!key)
		return -EPROTO;
	cert = SSL_CTX_get0_certificate(ssl);
	ok = cert && X509_check_private_key(cert, key) == 1 &&
	     SSL_CTX_use_PrivateKey(ssl, key) == 1 &&
	     SSL_CTX_check_private_key(ssl) == 1;
	EVP_PKEY_free(key);
	if (!ok) {
		queue_text(why, sizeof(why));
		put(err, errlen, "key %s does not match certificate %s (%s)",
		    conf->key, conf->cert, why);
		return -EPROTO;
	}
	if (SSL_CTX_load_verify_locations(ssl, conf->ca, NULL) != 1) {
		queue_text(why, sizeof(why));
		put(err, errlen, "CA %s: refused by OpenSSL (%s)", conf->ca,
		    why);
		return -EPROTO;
	}
	return 0;
}

/* verify_cb -- record the first certificate that fails, keep the verdict */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct nvd_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *cert;

	if (ok || !t || t->vfy_err != X509_V_OK)
		return ok;
	t->vfy_err = X509_STORE_CTX_get_error(x);
	t->vfy_depth = X509_STORE_CTX_get_error_depth(x);
	t->vfy_cn[0] = '\0';
	cert = X509_STORE_CTX_get_current_cert(x);
	if (cert && X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					      NID_commonName, t->vfy_cn,
					      sizeof(t->vfy_cn)) < 0)
		t->vfy_cn[0] = '\0';
	return ok;
}

int
nvd_tls_ctx_new(const struct nvd_tls_conf *conf, struct nvd_tls_ctx **out,
		char *err, size_t errlen)
{
	struct nvd_tls_ctx *c;
	int r;

	put(err, errlen, "%s", "");
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!conf || !conf->cert || !conf->key || !conf->ca) {
		put(err, errlen, "TLS: cert, key and ca are all required");
		return -EINVAL;
	}
	r = readable("certificate", conf->cert, err, errlen);
	if (r == 0)
		r = readable("key", conf->key, err, errlen);
	if (r == 0)
		r = readable("CA", conf->ca, err, errlen);
	if (r < 0)
		return r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ERR_clear_error();
	c->ssl = SSL_CTX_new(TLS_method());
	if (!c->ssl) {
		char why[200];

		queue_text(why, sizeof(why));
		put(err, errlen, "SSL_CTX_new: %s", why);
		free(c);
		return -ENOMEM;
	}
	r = setup(c->ssl, conf, err, errlen);
	ERR_clear_error();
	if (r < 0) {
		nvd_tls_ctx_free(&c);
		return r;
	}
	SSL_CTX_set_verify(c->ssl,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   verify_cb);
	SSL_CTX_set_mode(c->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
					 SSL_MODE_ENABLE_PARTIAL_WRITE);
	/* links are long-lived: no resumption, so no tickets to send after
	 * the handshake and no cache to keep */
	SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(c->ssl, 0);
	*out = c;
	return 0;
}

void
nvd_tls_ctx_free(struct nvd_tls_ctx **ctx)
{
	if (!ctx || !*ctx)
		return;
	SSL_CTX_free((*ctx)->ssl); /* each SSL holds its own reference */
	free(*ctx);
	*ctx = NULL;
}

/* ---- connection ---- */

static bool
is_ip(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	       inet_pton(AF_INET6, name, a) == 1;
}

int
nvd_tls_new(struct nvd_tls_ctx *ctx, int fd, int server, const char *peer_name,
	    struct nvd_tls **out)
{
	struct nvd_tls *t;
	int ok;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || fd < 0 || (server != 0 && server != 1) ||
	    (!server && !peer_name))
		return -EINVAL;
	if (peer_name && (!*peer_name || strlen(peer_name) >= PEER_MAX))
		return -EINVAL;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vfy_err = X509_V_OK;
	t->vfy_depth = -1;
	ERR_clear_error();
	t->ssl = SSL_new(ctx->ssl);
	if (!t->ssl) {
		ERR_clear_error();
		free(t);
		return -ENOMEM;
	}
	SSL_set_app_data(t->ssl, t);
	ok = SSL_set_fd(t->ssl, fd) == 1; /* BIO_NOCLOSE: the fd stays ours */
	if (ok && peer_name) {
		snprintf(t->name, sizeof(t->name), "%s", peer_name);
		if (is_ip(peer_name)) {
			ok = X509_VERIFY_PARAM_set1_ip_asc(
				     SSL_get0_param(t->ssl), peer_name) == 1;
		} else {
			SSL_set_hostflags(t->ssl,
					  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(t->ssl, peer_name) == 1;
		}
	}
	ERR_clear_error();
	if (!ok) {
		nvd_tls_free(&t);
		return -ENOMEM;
	}
	if (server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	*out = t;
	return 0;
}

void
nvd_tls_free(struct nvd_tls **t)
{
	if (!t || !*t)
		return;
	SSL_free((*t)->ssl);
	free(*t);
	*t = NULL;
}

/* say -- T's reason, cut to its buffer */
__attribute__((format(printf, 2, 3))) static void
say(struct nvd_tls *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
}

/* fail -- T is dead with error CODE; every later call returns it */
static int
fail(struct nvd_tls *t, int code)
{
	t->fatal = code;
	t->wants = 0;
	return code;
}

/* verify_reason -- the verification failure RESULT as one line */
static void
verify_reason(struct nvd_tls *t, long result)
{
	const char *why = X509_verify_cert_error_string(result);
	const char *hint = "";
	char who[CN_MAX + 48] = "";

	if (t->vfy_err == result && t->vfy_depth >= 0)
		snprintf(who, sizeof(who), " (subject CN=%s, depth %d)",
			 t->vfy_cn[0] ? t->vfy_cn : "?", t->vfy_depth);
	switch (result) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		say(t, "peer certificate: %s: it does not name %s%s", why,
		    t->name, who);
		return;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		hint = ": not signed by the configured CA";
		break;
	default:
		break;
	}
	say(t, "peer certificate: %s%s%s", why, hint, who);
}

/* alert_text -- the alert behind error REASON (SSL_AD_REASON_OFFSET +
 * alert), in words; OpenSSL 3.0 has none for TLS 1.3's new alerts */
static const char *
alert_text(int reason)
{
	int alert = reason - SSL_AD_REASON_OFFSET;
	const char *s;

	if (alert == TLS13_AD_CERTIFICATE_REQUIRED)
		return "certificate required";
	if (alert == TLS13_AD_MISSING_EXTENSION)
		return "missing extension";
	s = SSL_alert_desc_string_long(alert);
	if (!s || strcmp(s, "unknown") == 0)
		s = ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, reason));
	return s ? s : "unknown";
}

/* ssl_reason -- a failure reported through the error queue, as one line;
 * empties the queue */
static void
ssl_reason(struct nvd_tls *t, const char *op)
{
	unsigned long e = ERR_peek_error();
	int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
	char why[TLS_ERR_MAX - 64];

	queue_text(why, sizeof(why));
	if (lib != ERR_LIB_SSL) {
		say(t, "TLS %s: %s", op, why);
		return;
	}
	switch (reason) {
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		say(t, "peer did not return a certificate");
		return;
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
		if (!t->done) {
			say(t, "peer does not speak TLS (%s)",
			    ERR_reason_error_string(e));
			return;
		}
		break;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		say(t, "peer does not speak TLS 1.3 (%s)",
		    ERR_reason_error_string(e));
		return;
	default:
		break;
	}
	if (reason >= SSL_AD_REASON_OFFSET &&
	    reason < SSL_AD_REASON_OFFSET + 256) {
		say(t, "peer sent alert: %s (%d)", alert_text(reason),
		    reason - SSL_AD_REASON_OFFSET);
		return;
	}
	say(t, "TLS %s: %s", op, why);
}

/*
 * check -- the outcome R of an SSL call (ERRNO_AT_CALL: errno right after
 * it) made by OP: -EAGAIN (wants set), 1 the peer closed (close_notify or
 * EOF), or a fatal error with t->err set.
 */
static int
check(struct nvd_tls *t, int r, int errno_at_call, const char *op)
{
	int e = SSL_get_error(t->ssl, r);
	long v;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		ERR_clear_error();
		t->wants = NVD_LOOP_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		t->wants = NVD_LOOP_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return 1;
	case SSL_ERROR_SYSCALL:
		/* the socket BIO turns EAGAIN and EINTR into WANT_*: this
		 * is EOF (errno 0) or a real socket error */
		ERR_clear_error();
		t->broken = true;
		if (errno_at_call == 0)
			return 1;
		say(t, "TLS %s: %s", op, strerror(errno_at_call));
		return fail(t, -errno_at_call);
	case SSL_ERROR_SSL:
		t->broken = true;
		if (ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_SSL &&
		    ERR_GET_REASON(ERR_peek_error()) ==
			    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return 1;
		}
		v = SSL_get_verify_result(t->ssl);
		if (!t->done && v != X509_V_OK) {
			ERR_clear_error();
			verify_reason(t, v);
		} else {
			ssl_reason(t, op);
		}
		return fail(t, -EPROTO);
	default:
		ERR_clear_error();
		say(t, "TLS %s: SSL_get_error %d", op, e);
		return fail(t, -EPROTO);
	}
}

/* finish -- the handshake completed: check what it proved, keep the CN */
static int
finish(struct nvd_tls *t)
{
	X509 *cert = SSL_get0_peer_certificate(t->ssl);
	long v = SSL_get_verify_result(t->ssl);

	/* SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT already ensure both;
	 * checked again so that a change of flags cannot open the door */
	if (!cert) {
		say(t, "peer did not return a certificate");
		return fail(t, -EPROTO);
	}
	if (v != X509_V_OK) {
		verify_reason(t, v);
		return fail(t, -EPROTO);
	}
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
				      NID_commonName, t->peer,
				      sizeof(t->peer)) < 0)
		t->peer[0] = '\0';
	t->done = true;
	t->wants = 0;
	return 0;
}

int
nvd_tls_handshake(struct nvd_tls *t)
{
	int r, saved;

	if (!t)
		return -EINVAL;
	if (t->fatal)
		return t->fatal;
	if (t->done)
		return 0;
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(t->ssl);
	saved = errno;
	if (r == 1)
		return finish(t);
	r = check(t, r, saved, "handshake");
	if (r == 1) {
		say(t, "peer closed the connection during the handshake");
		return fail(t, -ECONNRESET);
	}
	return r;
}

/* not_ready -- the error of a read or write called before the handshake
 * completed, or with nothing to move */
static int
not_ready(struct nvd_tls *t, size_t n, const char *op)
{
	if (t->fatal)
		return t->fatal;
	if (!t->done) {
		say(t, "TLS %s before the handshake", op);
		return -EINVAL;
	}
	if (n == 0) {
		say(t, "TLS %s of 0 bytes", op);
		return -EINVAL;
	}
	return 0;
}

ssize_t
nvd_tls_read(struct nvd_tls *t, void *buf, size_t n)
{
	size_t got = 0;
	int r, saved;

	if (!t || !buf)
		return -EINVAL;
	r = not_ready(t, n, "read");
	if (r < 0)
		return r;
	if (t->eof)
		return 0;
	if (n > INT_MAX)
		n = INT_MAX; /* a record is 16 KiB; the size_t is for ease */
	ERR_clear_error();
	errno = 0;
	r = SSL_read_ex(t->ssl, buf, n, &got);
	saved = errno;
	if (r == 1) {
		t->wants = 0;
		return (ssize_t)got;
	}
	r = check(t, r, saved, "read");
	if (r == 1) {
		t->eof = true;
		return 0;
	}
	return r;
}

ssize_t
nvd_tls_write(struct nvd_tls *t, const void *buf, size_t n)
{
	size_t put_n = 0;
	int r, saved;

	if (!t || !buf)
		return -EINVAL;
	r = not_ready(t, n, "write");
	if (r < 0)
		return r;
	if (t->eof && t->broken) { /* EOF without close_notify */
		say(t, "TLS write: the peer closed the connection");
		return fail(t, -EPIPE);
	}
	if (n > INT_MAX)
		n = INT_MAX;
	ERR_clear_error();
	errno = 0;
	r = SSL_write_ex(t->ssl, buf, n, &put_n);
	saved = errno;
	if (r == 1) {
		t->wants = 0;
		return (ssize_t)put_n;
	}
	r = check(t, r, saved, "write");
	if (r == 1) {
		say(t, "TLS write: the peer closed the connection");
		return fail(t, -EPIPE);
	}
	return r;
}

size_t
nvd_tls_pending(const struct nvd_tls *t)
{
	int n;

	if (!t || !t->done || t->fatal || t->broken)
		return 0;
	n = SSL_pending(t->ssl);
	return n > 0 ? (size_t)n : 0;
}

void
nvd_tls_shutdown(struct nvd_tls *t)
{
	if (!t || !t->done || t->fatal || t->broken)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl); /* sends close_notify, or cannot */
	ERR_clear_error();
}

unsigned
nvd_tls_wants(const struct nvd_tls *t)
{
	return t ? t->wants : 0;
}

const char *
nvd_tls_error(const struct nvd_tls *t)
{
	return t ? t->err : "";
}

const char *
nvd_tls_peer(const struct nvd_tls *t)
{
	return t && t->done ? t->peer : "";
}
