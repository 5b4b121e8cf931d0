/* SPDX-License-Identifier: MIT */
/*
 * t_tls.c -- unit test of daemon/tls.c: TLS 1.3 with mutual certificates
 * on non-blocking sockets.
 *
 * Usage: t_tls PATH/TO/tests/net/mkcerts.sh (CTest passes it).  The
 * certificates are made at test time into a temp dir.
 *
 * Both ends run in this process over a real TCP connection on 127.0.0.1,
 * non-blocking, driven by poll() on what each end wants.  Proves: a
 * handshake with the right certificates completes and each end names the
 * other's CN; data goes both ways, including 1 MiB each way through small
 * socket buffers (partial writes and -EAGAIN, repeated with the same
 * bytes); decrypted bytes held by OpenSSL show in nvd_tls_pending; a
 * close_notify and a bare EOF both read as 0.  Then the refusals: each
 * gives -EPROTO on the refusing end with a reason that names the cause
 * (no client certificate, unknown CA, expired, wrong DNS name, wrong IP,
 * wrong client name, a TLS 1.2 client, a peer that does not speak TLS),
 * and the refused end learns of it as an alert.  Context errors: -EINVAL,
 * -ENOENT, and -EPROTO for a key that does not match, a file that is not
 * a key, a CA file without a certificate.
 *
 * No assertion depends on the machine's speed: every wait is a poll() on
 * readiness, with a timeout only to turn a hang into a failure.
 */
#include "t.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

#define HANG_MS 5000 /* a poll that sees nothing for this long: a hang */
#define MIB (1u << 20)

static const char *dir; /* the certificates */

/* ---- sockets ---- */

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	ASSERT_OK(fl);
	ASSERT_OK(fcntl(fd, F_SETFL, fl | O_NONBLOCK));
}

/* tcp_pair -- a connected pair over 127.0.0.1, both non-blocking */
static void
tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int lfd, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_OK(lfd);
	ASSERT_OK(bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_OK(listen(lfd, 4));
	ASSERT_OK(getsockname(lfd, (struct sockaddr *)&a, &alen));
	*cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_OK(*cli);
	if (connect(*cli, (struct sockaddr *)&a, sizeof(a)) < 0 &&
	    errno != EINPROGRESS)
		T_FAILF("connect: %s", strerror(errno));
	*srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC); /* queued: no wait */
	ASSERT_OK(*srv);
	nonblock(*srv);
	close(lfd);
	ASSERT_OK(
		setsockopt(*cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	ASSERT_OK(
		setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
}

static short
events(unsigned wants)
{
	short ev = 0;

	if (wants & 1u)
		ev |= POLLIN;
	if (wants & 2u)
		ev |= POLLOUT;
	return ev ? ev : POLLIN | POLLOUT;
}

/* ---- contexts ---- */

static struct nvd_tls_ctx *
ctx(const char *cert, const char *key, const char *ca)
{
	struct nvd_tls_conf conf = { .cert = cert, .key = key, .ca = ca };
	struct nvd_tls_ctx *c;
	char err[256];
	char certp[512], keyp[512], cap[512];

	snprintf(certp, sizeof(certp), "%s/%s", dir, cert);
	snprintf(keyp, sizeof(keyp), "%s/%s", dir, key);
	snprintf(cap, sizeof(cap), "%s/%s", dir, ca);
	conf.cert = certp;
	conf.key = keyp;
	conf.ca = cap;
	if (nvd_tls_ctx_new(&conf, &c, err, sizeof(err)) != 0)
		T_FAILF("nvd_tls_ctx_new(%s, %s, %s): %s", cert, key, ca, err);
	return c;
}

/* ---- one end of a connection: ours (nvd_tls) or a raw OpenSSL one ---- */

struct end {
	const char *who;
	int fd;
	struct nvd_tls *t; /* or */
	SSL *raw;	   /* a client built here, without a certificate */
	int rc;		   /* the handshake's last result */
	unsigned wants;
};

static void
end_tls(struct end *e, const char *who, struct nvd_tls_ctx *c, int fd,
	int server, const char *peer)
{
	memset(e, 0, sizeof(*e));
	e->who = who;
	e->fd = fd;
	ASSERT_OK(nvd_tls_new(c, fd, server, peer, &e->t));
	e->rc = -EAGAIN;
}

static void
end_close(struct end *e)
{
	nvd_tls_free(&e->t);
	ASSERT_TRUE(e->t == NULL);
	if (e->raw)
		SSL_free(e->raw);
	e->raw = NULL;
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

static const char *
end_error(const struct end *e)
{
	return e->t ? nvd_tls_error(e->t) : "(raw client)";
}

/* step -- one handshake call on E, unless it has finished */
static void
step(struct end *e)
{
	int r;

	if (e->rc != -EAGAIN)
		return;
	if (e->t) {
		e->rc = nvd_tls_handshake(e->t);
		e->wants = nvd_tls_wants(e->t);
		if (e->rc == -EAGAIN)
			ASSERT_TRUE(e->wants == 1u || e->wants == 2u);
		return;
	}
	ERR_clear_error();
	r = SSL_do_handshake(e->raw);
	if (r == 1) {
		e->rc = 0;
		return;
	}
	switch (SSL_get_error(e->raw, r)) {
	case SSL_ERROR_WANT_READ:
		e->wants = 1;
		return;
	case SSL_ERROR_WANT_WRITE:
		e->wants = 2;
		return;
	default:
		ERR_clear_error();
		e->rc = -EPROTO;
	}
}

static bool
failed(const struct end *e)
{
	return e && e->rc != 0 && e->rc != -EAGAIN;
}

/* handshake -- drive A and B (B may be NULL) until each has finished, or
 * one has failed and the other has heard nothing more for a while */
static void
handshake(struct end *a, struct end *b)
{
	for (;;) {
		struct pollfd p[2];
		nfds_t n = 0;
		int r;

		step(a);
		if (b)
			step(b);
		if (a->rc != -EAGAIN && (!b || b->rc != -EAGAIN))
			return;
		if (a->rc == -EAGAIN)
			p[n++] = (struct pollfd){ a->fd, events(a->wants), 0 };
		if (b && b->rc == -EAGAIN)
			p[n++] = (struct pollfd){ b->fd, events(b->wants), 0 };
		r = poll(p, n, failed(a) || failed(b) ? 500 : HANG_MS);
		ASSERT_OK(r);
		if (r == 0) {
			if (failed(a) || failed(b))
				return;
			T_FAILF("handshake hung: %s rc %d, %s rc %d", a->who,
				a->rc, b ? b->who : "-", b ? b->rc : 0);
		}
	}
}

static void
wait_for(const struct end *e, unsigned wants)
{
	struct pollfd p = { e->fd, events(wants), 0 };
	int r = poll(&p, 1, HANG_MS);

	ASSERT_OK(r);
	if (r == 0)
		T_FAILF("%s: no readiness for %ums", e->who, HANG_MS);
}

/* read_one -- the next result of a read on E that is not -EAGAIN */
static ssize_t
read_one(struct end *e, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = nvd_tls_read(e->t, buf, n);

		if (r != -EAGAIN)
			return r;
		wait_for(e, nvd_tls_wants(e->t));
	}
}

static void
write_all(struct end *e, const void *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r =
			nvd_tls_write(e->t, (const char *)buf + off, n - off);

		if (r == -EAGAIN) {
			wait_for(e, nvd_tls_wants(e->t));
			continue;
		}
		ASSERT_OK(r);
		off += (size_t)r;
	}
}

/* pair -- a completed handshake between a client with CCERT and a server
 * with SCERT (both trusting ca.pem) */
static void
connect_ok(struct end *c, struct end *s, struct nvd_tls_ctx *cc,
	   struct nvd_tls_ctx *sc, const char *cname, const char *sname)
{
	int cfd, sfd;

	tcp_pair(&cfd, &sfd);
	end_tls(c, "client", cc, cfd, 0, cname);
	end_tls(s, "server", sc, sfd, 1, sname);
	handshake(c, s);
	if (c->rc != 0 || s->rc != 0)
		T_FAILF("handshake: client %d (%s), server %d (%s)", c->rc,
			end_error(c), s->rc, end_error(s));
	ASSERT_EQ(nvd_tls_handshake(c->t), 0); /* done stays done */
	ASSERT_EQ(nvd_tls_pending(c->t), 0);
}

/* ---- the tests ---- */

static void
test_ctx_errors(void)
{
	struct nvd_tls_conf conf;
	struct nvd_tls_ctx *c = (struct nvd_tls_ctx *)&conf; /* not NULL */
	char err[256];
	char cert[512], key[512], ca[512], other[512];

	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);

	conf = (struct nvd_tls_conf){ cert, key, NULL };
	ASSERT_ERR(nvd_tls_ctx_new(&conf, &c, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(c == NULL);
	ASSERT_ERR(nvd_tls_ctx_new(NULL, &c, err, sizeof(err)), -EINVAL);

	snprintf(other, sizeof(other), "%s/missing.pem", dir);
	conf = (struct nvd_tls_conf){ other, key, ca };
	ASSERT_ERR(nvd_tls_ctx_new(&conf, &c, err, sizeof(err)), -ENOENT);
	ASSERT_CONTAINS(err, "missing.pem");
	printf("missing file: %s\n", err);
	conf = (struct nvd_tls_conf){ cert, key, other };
	ASSERT_ERR(nvd_tls_ctx_new(&conf, &c, err, 0), -ENOENT);

	/* the client's key with the server's certificate */
	snprintf(other, sizeof(other), "%s/client.key", dir);
	conf = (struct nvd_tls_conf){ cert, other, ca };
	ASSERT_ERR(nvd_tls_ctx_new(&conf, &c, err, sizeof(err)), -EPROTO);
	ASSERT_CONTAINS(err, "does not match");
	printf("key mismatch: %s\n", err);

	/* a certificate where the key should be */
	conf = (struct nvd_tls_conf){ cert, ca, ca };
	ASSERT_ERR(nvd_tls_ctx_new(&conf, &c, err, sizeof(err)), -EPROTO);
	ASSERT_CONTAINS(err, "private key");
	printf("not a key: %s\n", err);

	/* a key where the certificate should be */
	conf = (struct nvd_tls_conf){ key, key, ca };
	ASSERT_ERR(nvd_tls_ctx_new(&conf, &c, err, sizeof(err)), -EPROTO);
	ASSERT_CONTAINS(err, "certificate");
	printf("not a certificate: %s\n", err);

	/* a CA file without a certificate */
	conf = (struct nvd_tls_conf){ cert, key, key };
	ASSERT_ERR(nvd_tls_ctx_new(&conf, &c, err, sizeof(err)), -EPROTO);
	ASSERT_CONTAINS(err, "CA");
	printf("not a CA: %s\n", err);

	conf = (struct nvd_tls_conf){ cert, key, ca };
	ASSERT_OK(nvd_tls_ctx_new(&conf, &c, err, sizeof(err)));
	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(err[0], 0);
	nvd_tls_ctx_free(&c);
	ASSERT_TRUE(c == NULL);
	nvd_tls_ctx_free(&c);
	nvd_tls_ctx_free(NULL);
}

static void
test_args(void)
{
	struct nvd_tls_ctx *c = ctx("client.pem", "client.key", "ca.pem");
	struct nvd_tls *t = (struct nvd_tls *)c;
	char buf[8];
	int cfd, sfd;

	tcp_pair(&cfd, &sfd);
	ASSERT_ERR(nvd_tls_new(c, cfd, 0, NULL, &t), -EINVAL); /* dials: name */
	ASSERT_TRUE(t == NULL);
	ASSERT_ERR(nvd_tls_new(c, cfd, 0, "", &t), -EINVAL);
	ASSERT_ERR(nvd_tls_new(c, -1, 1, NULL, &t), -EINVAL);
	ASSERT_ERR(nvd_tls_new(NULL, cfd, 1, NULL, &t), -EINVAL);
	ASSERT_ERR(nvd_tls_new(c, cfd, 2, NULL, &t), -EINVAL);
	ASSERT_OK(nvd_tls_new(c, cfd, 0, "localhost", &t));
	ASSERT_ERR(nvd_tls_read(t, buf, sizeof(buf)), -EINVAL); /* too early */
	ASSERT_ERR(nvd_tls_write(t, buf, sizeof(buf)), -EINVAL);
	ASSERT_CONTAINS(nvd_tls_error(t), "before the handshake");
	ASSERT_EQ(nvd_tls_pending(t), 0);
	ASSERT_TRUE(strcmp(nvd_tls_peer(t), "") == 0);
	nvd_tls_shutdown(t); /* before the handshake: nothing to do */
	nvd_tls_free(&t);
	ASSERT_TRUE(t == NULL);
	nvd_tls_free(&t);
	nvd_tls_free(NULL);
	ASSERT_TRUE(strcmp(nvd_tls_error(NULL), "") == 0);
	close(cfd);
	close(sfd);
	nvd_tls_ctx_free(&c);
}

/* transfer -- LEN bytes from A to B through small socket buffers, both
 * driven together; partial writes and -EAGAIN must occur */
static void
transfer(struct end *a, struct end *b, size_t len, uint64_t seed)
{
	unsigned char *src = malloc(len), *dst = malloc(len);
	size_t woff = 0, roff = 0;
	unsigned partial = 0, eagain = 0, reads = 0;
	int small = 16384;
	uint64_t s = seed;

	ASSERT_TRUE(src && dst);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = t_rng(&s);

		memcpy(src + i, &v, len - i < 8 ? len - i : 8);
	}
	ASSERT_OK(setsockopt(a->fd, SOL_SOCKET, SO_SNDBUF, &small,
			     sizeof(small)));
	ASSERT_OK(setsockopt(b->fd, SOL_SOCKET, SO_RCVBUF, &small,
			     sizeof(small)));
	/* fill the socket buffers while nobody reads: a write must come to
	 * -EAGAIN, and the loop below repeats it with the same bytes */
	for (;;) {
		ssize_t r = nvd_tls_write(a->t, src + woff, len - woff);

		if (r == -EAGAIN) {
			eagain++;
			break;
		}
		ASSERT_OK(r);
		if ((size_t)r < len - woff)
			partial++;
		woff += (size_t)r;
		if (woff == len)
			T_FAILF("%zu bytes fit in the socket buffers", len);
	}
	while (roff < len) {
		struct pollfd p[2];
		nfds_t n = 0;
		ssize_t r;
		int pr;

		if (woff < len) {
			r = nvd_tls_write(a->t, src + woff, len - woff);
			if (r == -EAGAIN) {
				eagain++;
				p[n++] = (struct pollfd){
					a->fd, events(nvd_tls_wants(a->t)), 0
				};
			} else {
				ASSERT_OK(r);
				ASSERT_TRUE(r > 0);
				if ((size_t)r < len - woff)
					partial++;
				woff += (size_t)r;
			}
		}
		/* read until -EAGAIN: what is pending is read, not waited for */
		r = -EAGAIN;
		while (roff < len &&
		       (r = nvd_tls_read(b->t, dst + roff, len - roff)) > 0) {
			roff += (size_t)r;
			reads++;
		}
		if (roff == len)
			break;
		if (r == 0)
			T_FAILF("%s: unexpected end of stream", b->who);
		if (r != -EAGAIN)
			T_FAILF("%s read: %zd (%s)", b->who, r,
				nvd_tls_error(b->t));
		ASSERT_EQ(nvd_tls_pending(b->t), 0);
		if (woff < len && n == 0)
			continue; /* the writer made progress: write more */
		p[n++] = (struct pollfd){ b->fd, events(nvd_tls_wants(b->t)),
					  0 };
		pr = poll(p, n, HANG_MS);
		ASSERT_OK(pr);
		if (pr == 0)
			T_FAILF("transfer hung at %zu written, %zu read", woff,
				roff);
	}
	ASSERT_TRUE(memcmp(src, dst, len) == 0);
	ASSERT_TRUE(partial > 0);
	ASSERT_TRUE(eagain > 0);
	printf("%s -> %s: %zu bytes, %u partial writes, %u -EAGAIN, "
	       "%u reads\n",
	       a->who, b->who, len, partial, eagain, reads);
	free(src);
	free(dst);
}

static void
test_ok(void)
{
	struct nvd_tls_ctx *cc = ctx("client.pem", "client.key", "ca.pem");
	struct nvd_tls_ctx *sc = ctx("server.pem", "server.key", "ca.pem");
	struct end c, s;
	char msg[100], buf[200];

	connect_ok(&c, &s, cc, sc, "localhost", NULL);
	ASSERT_TRUE(strcmp(nvd_tls_peer(c.t), "localhost") == 0);
	ASSERT_TRUE(strcmp(nvd_tls_peer(s.t), "nvmsg-client") == 0);

	/* both ways; a short read leaves the rest pending in OpenSSL */
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	write_all(&c, msg, sizeof(msg));
	ASSERT_EQ(read_one(&s, buf, 10), 10);
	ASSERT_EQ(nvd_tls_pending(s.t), sizeof(msg) - 10);
	/* no readiness needed: the rest is already decrypted */
	ASSERT_EQ(nvd_tls_read(s.t, buf + 10, sizeof(buf)), sizeof(msg) - 10);
	ASSERT_TRUE(memcmp(buf, msg, sizeof(msg)) == 0);
	ASSERT_EQ(nvd_tls_pending(s.t), 0);
	ASSERT_ERR(nvd_tls_read(s.t, buf, sizeof(buf)), -EAGAIN);
	ASSERT_EQ(nvd_tls_wants(s.t), 1u);
	ASSERT_ERR(nvd_tls_read(s.t, buf, 0), -EINVAL);

	write_all(&s, "pong", 4);
	ASSERT_EQ(read_one(&c, buf, sizeof(buf)), 4);
	ASSERT_TRUE(memcmp(buf, "pong", 4) == 0);

	transfer(&c, &s, MIB, 1);
	transfer(&s, &c, MIB, 2);

	/* a clean close: close_notify reads as 0, and stays 0 */
	nvd_tls_shutdown(c.t);
	ASSERT_EQ(read_one(&s, buf, sizeof(buf)), 0);
	ASSERT_EQ(nvd_tls_read(s.t, buf, sizeof(buf)), 0);
	end_close(&c);
	end_close(&s);
	nvd_tls_ctx_free(&cc);
	nvd_tls_ctx_free(&sc);
}

/* the names: the accepting end checks the client's name, the dialling end
 * an IP literal; then a bare EOF (no close_notify) reads as 0 */
static void
test_names(void)
{
	struct nvd_tls_ctx *cc = ctx("client.pem", "client.key", "ca.pem");
	struct nvd_tls_ctx *sc = ctx("server.pem", "server.key", "ca.pem");
	struct end c, s;
	char buf[16];

	connect_ok(&c, &s, cc, sc, "127.0.0.1", "localhost");
	write_all(&c, "x", 1);
	ASSERT_EQ(read_one(&s, buf, sizeof(buf)), 1);
	end_close(&c); /* no close_notify */
	ASSERT_EQ(read_one(&s, buf, sizeof(buf)), 0);
	ASSERT_EQ(nvd_tls_read(s.t, buf, sizeof(buf)), 0);
	ASSERT_ERR(nvd_tls_write(s.t, "x", 1), -EPIPE);
	end_close(&s);

	/* a write to a peer that has gone: -EPIPE or -ECONNRESET, never
	 * SIGPIPE (ignored, as the daemon does) */
	connect_ok(&c, &s, cc, sc, "localhost", NULL);
	end_close(&c);
	for (unsigned i = 0;; i++) {
		ssize_t r = nvd_tls_write(s.t, "gone?", 5);

		if (r == -EPIPE || r == -ECONNRESET) {
			printf("%-28s server: %s\n", "write to a closed peer",
			       nvd_tls_error(s.t));
			break;
		}
		if (r == -EAGAIN)
			wait_for(&s, nvd_tls_wants(s.t));
		else
			ASSERT_EQ(r, 5);
		if (i == 1000)
			T_FAILF("1000 writes to a closed socket succeeded");
		usleep(1000); /* let the RST come back */
	}
	end_close(&s);

	/* the same context, the other way round: one certificate serves
	 * both roles */
	connect_ok(&c, &s, sc, cc, "localhost", "localhost");
	ASSERT_TRUE(strcmp(nvd_tls_peer(s.t), "localhost") == 0);
	end_close(&c);
	end_close(&s);
	nvd_tls_ctx_free(&cc);
	nvd_tls_ctx_free(&sc);
}

/* raw_max -- the highest version of the raw client of refused() */
static int raw_max = TLS1_3_VERSION;

/*
 * refused -- a client with CCERT (NULL: a raw client without one, up to
 * version raw_max) dials a
 * server with SCERT expecting CNAME; the server expects SNAME.  The end
 * REFUSER (the client or the server) must fail with -EPROTO and a reason
 * holding WORD; the other end must learn of it (an alert) or have
 * finished its half of the handshake (a TLS 1.3 client is done before the
 * server has checked its certificate).
 */
static void
refused(const char *what, const char *ccert, const char *scert,
	const char *cname, const char *sname, int server_refuses,
	const char *word)
{
	char ckey[64], skey[64], buf[16];
	struct nvd_tls_ctx *cc = NULL, *sc;
	struct end c, s, *bad, *other;
	int cfd, sfd;

	snprintf(skey, sizeof(skey), "%.*s.key", (int)(strlen(scert) - 4),
		 scert);
	sc = ctx(scert, skey, "ca.pem");
	tcp_pair(&cfd, &sfd);
	if (ccert) {
		snprintf(ckey, sizeof(ckey), "%.*s.key",
			 (int)(strlen(ccert) - 4), ccert);
		cc = ctx(ccert, ckey, "ca.pem");
		end_tls(&c, "client", cc, cfd, 0, cname);
	} else {
		SSL_CTX *raw = SSL_CTX_new(TLS_client_method());
		char ca[512];

		snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
		ASSERT_TRUE(raw != NULL);
		ASSERT_EQ(SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION),
			  1);
		ASSERT_EQ(SSL_CTX_set_max_proto_version(raw, raw_max), 1);
		ASSERT_EQ(SSL_CTX_load_verify_locations(raw, ca, NULL), 1);
		SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, NULL);
		memset(&c, 0, sizeof(c));
		c.who = "raw client";
		c.fd = cfd;
		c.raw = SSL_new(raw);
		SSL_CTX_free(raw); /* the SSL keeps its reference */
		ASSERT_TRUE(c.raw != NULL);
		ASSERT_EQ(SSL_set_fd(c.raw, cfd), 1);
		ASSERT_EQ(SSL_set1_host(c.raw, cname), 1);
		SSL_set_connect_state(c.raw);
		c.rc = -EAGAIN;
	}
	end_tls(&s, "server", sc, sfd, 1, sname);
	handshake(&c, &s);
	bad = server_refuses ? &s : &c;
	other = server_refuses ? &c : &s;
	if (bad->rc != -EPROTO)
		T_FAILF("%s: %s gave %d (%s), want -EPROTO; %s gave %d (%s)",
			what, bad->who, bad->rc, end_error(bad), other->who,
			other->rc, end_error(other));
	ASSERT_CONTAINS(nvd_tls_error(bad->t), word);
	printf("%-28s %s: %s\n", what, bad->who, nvd_tls_error(bad->t));
	/* dead stays dead, with the same reason */
	ASSERT_ERR(nvd_tls_handshake(bad->t), -EPROTO);
	ASSERT_ERR(nvd_tls_read(bad->t, buf, sizeof(buf)), -EPROTO);
	ASSERT_ERR(nvd_tls_write(bad->t, "x", 1), -EPROTO);
	ASSERT_CONTAINS(nvd_tls_error(bad->t), word);
	nvd_tls_shutdown(bad->t); /* must not touch a dead SSL */

	/* the refused end: an alert, now or at its first read */
	if (other->t) {
		if (other->rc == 0)
			other->rc = (int)read_one(other, buf, sizeof(buf));
		if (other->rc != -EPROTO)
			T_FAILF("%s: %s gave %d (%s), want -EPROTO", what,
				other->who, other->rc, end_error(other));
		ASSERT_CONTAINS(nvd_tls_error(other->t), "alert");
		printf("%-28s %s: %s\n", "", other->who,
		       nvd_tls_error(other->t));
	}
	end_close(&c);
	end_close(&s);
	nvd_tls_ctx_free(&cc);
	nvd_tls_ctx_free(&sc);
}

/* a peer that sends the link's plaintext greeting instead of a
 * ClientHello: the server refuses at once, it does not wait for more */
static void
test_plaintext(void)
{
	static const char hello[] = "NVMSGLNK\x01\x00\x00\x00\x10\x00\x00\x00";
	struct nvd_tls_ctx *sc = ctx("server.pem", "server.key", "ca.pem");
	struct end s;
	int cfd, sfd;

	tcp_pair(&cfd, &sfd);
	end_tls(&s, "server", sc, sfd, 1, NULL);
	step(&s);
	ASSERT_ERR(s.rc, -EAGAIN); /* nothing yet */
	ASSERT_EQ(s.wants, 1u);
	ASSERT_EQ(write(cfd, hello, sizeof(hello) - 1),
		  (long long)sizeof(hello) - 1);
	handshake(&s, NULL);
	ASSERT_ERR(s.rc, -EPROTO);
	ASSERT_CONTAINS(nvd_tls_error(s.t), "does not speak TLS");
	printf("%-28s server: %s\n", "plaintext peer", nvd_tls_error(s.t));
	close(cfd);
	end_close(&s);

	/* a peer that hangs up during the handshake */
	tcp_pair(&cfd, &sfd);
	end_tls(&s, "server", sc, sfd, 1, NULL);
	close(cfd);
	handshake(&s, NULL);
	ASSERT_ERR(s.rc, -ECONNRESET);
	printf("%-28s server: %s\n", "hang-up in the handshake",
	       nvd_tls_error(s.t));
	end_close(&s);
	nvd_tls_ctx_free(&sc);
}

int
main(int argc, char **argv)
{
	char cmd[1200];

	if (argc != 2)
		T_FAILF("usage: %s PATH/TO/tests/net/mkcerts.sh", argv[0]);
	t_watchdog(100);
	/* as the daemon: a write to a reset socket returns EPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (system("command -v openssl >/dev/null 2>&1") != 0)
		T_SKIPF("the openssl command is not installed");
	dir = t_tmpdir();
	snprintf(cmd, sizeof(cmd), "'%s' '%s'", argv[1], dir);
	if (system(cmd) != 0)
		T_FAILF("%s failed", cmd);

	test_ctx_errors();
	test_args();
	test_ok();
	test_names();
	refused("no client certificate", NULL, "server.pem", "localhost", NULL,
		1, "did not return a certificate");
	raw_max = TLS1_2_VERSION;
	refused("TLS 1.2 client", NULL, "server.pem", "localhost", NULL, 1,
		"does not speak TLS 1.3");
	raw_max = TLS1_3_VERSION;
	refused("client cert from ca2", "wrongca.pem", "server.pem",
		"localhost", NULL, 1, "unable to get local issuer certificate");
	refused("expired server cert", "client.pem", "expired.pem", "localhost",
		NULL, 0, "certificate has expired");
	refused("server cert for other name", "client.pem", "wrongname.pem",
		"localhost", NULL, 0, "hostname mismatch");
	refused("server cert for other IP", "client.pem", "server.pem",
		"127.0.0.2", NULL, 0, "IP address mismatch");
	refused("client cert for other name", "client.pem", "server.pem",
		"localhost", "other.example", 1, "hostname mismatch");
	test_plaintext();
	printf("t_tls: ok\n");
	return T_PASS;
}
