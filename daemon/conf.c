/* SPDX-License-Identifier: MIT */
/*
 * conf.c -- nvmsgd's configuration: one set of options, given on the
 * command line (--key value) or in a file (key = value, one per line, '#'
 * starts a comment).  docs/nvmsgd.conf.example documents each option.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmsgd.h"

#define MS (UINT64_C(1000000))
#define US (UINT64_C(1000))

void
nvd_conf_defaults(struct nvd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->capacity = 1u << 20;
	c->max_producers = 16;
	c->window_msgs = 4096;
	c->window_bytes = 16u << 20;
	c->spin_ns = 200 * US;
	c->poll_ns = 1 * MS;
	c->heartbeat_ns = 1000 * MS;
	c->dead_ns = 5000 * MS;
	c->backoff_max_ns = 2000 * MS;
	c->max_msg = 1u << 20;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* parse_u64 -- a number with an optional unit suffix (k, M, G; or us,
 * ms, s when TIME) */
static int
parse_u64(const char *s, int time, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);

	if (errno || end == s || s[0] == '-')
		return -1;
	uint64_t mul = 1;
	if (time) {
		if (!strcmp(end, "us"))
			mul = US;
		else if (!strcmp(end, "ms") || !*end)
			mul = MS;
		else if (!strcmp(end, "s"))
			mul = 1000 * MS;
		else
			return -1;
	} else if (*end) {
		if (!strcmp(end, "k") || !strcmp(end, "K"))
			mul = 1u << 10;
		else if (!strcmp(end, "M"))
			mul = 1u << 20;
		else if (!strcmp(end, "G"))
			mul = 1u << 30;
		else
			return -1;
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NVMSG_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

int
nvd_split_addr(const char *addr, char *host, size_t hostlen, char *port,
	       size_t portlen)
{
	const char *colon;
	size_t hl;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - addr - 1);
		addr++;
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - addr);
	}
	if (hl == 0 || hl >= hostlen || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, addr, hl);
	host[hl] = 0;
	strcpy(port, colon + 1);
	char *end;
	long p = strtol(port, &end, 10);
	return *end || p < 0 || p > 65535 ? -1 : 0;
}

/* parse_link -- "LOCAL[:REMOTE]=HOST:PORT" (forward, pull) or
 * "LOCAL[:REMOTE]" (offer) */
static int
parse_link(struct nvd_conf *c, enum nvd_kind kind, const char *val, char *err,
	   size_t errlen)
{
	struct nvd_link_conf *l;
	char names[2 * NVMSG_NAME_MAX + 2];
	const char *eq = strchr(val, '=');
	size_t nl = eq ? (size_t)(eq - val) : strlen(val);

	if (c->nlinks >= NVD_MAX_LINKS)
		return fail(err, errlen, "too many links (at most %s)%s", "64",
			    "");
	l = &c->links[c->nlinks];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	if ((kind == NVD_OFFER) != (eq == NULL) || nl >= sizeof(names))
		return fail(err, errlen, "'%s': expected %s", val,
			    kind == NVD_OFFER ? "CHANNEL[:REMOTE]"
					      : "CHANNEL[:REMOTE]=HOST:PORT");
	memcpy(names, val, nl);
	names[nl] = 0;
	char *colon = strchr(names, ':');
	if (colon)
		*colon++ = 0;
	if (!valid_name(names) || (colon && !valid_name(colon)))
		return fail(err, errlen,
			    "'%s': a channel name is 1..47 of [A-Za-z0-9_.-], "
			    "not starting with '.'%s",
			    val, "");
	strcpy(l->local, names);
	strcpy(l->remote, colon ? colon : names);
	if (eq) {
		char host[NVD_ADDR_MAX], port[16];
		if (strlen(eq + 1) >= sizeof(l->addr) ||
		    nvd_split_addr(eq + 1, host, sizeof(host), port,
				   sizeof(port)) < 0)
			return fail(err, errlen,
				    "'%s': expected HOST:PORT after '='%s", val,
				    "");
		strcpy(l->addr, eq + 1);
		strcpy(l->peer_name, host);
	}
	c->nlinks++;
	return 0;
}

static int
copy_str(char *dst, size_t cap, const char *key, const char *val, char *err,
	 size_t errlen)
{
	if (strlen(val) >= cap)
		return fail(err, errlen, "--%s: '%s' is too long", key, val);
	strcpy(dst, val);
	return 0;
}

int
nvd_conf_option(struct nvd_conf *c, const char *key, const char *val, char *err,
		size_t errlen)
{
	uint64_t v = 0;

	if (!strcmp(key, "plaintext")) {
		c->plaintext = 1;
		return 0;
	}
	if (!strcmp(key, "allow-volatile")) {
		c->allow_volatile = 1;
		return 0;
	}
	if (!strcmp(key, "verbose")) {
		c->verbose = 1;
		return 0;
	}
	if (!val)
		return fail(err, errlen, "--%s needs a value%s", key, "");
	if (!strcmp(key, "dir"))
		return copy_str(c->dir, sizeof(c->dir), key, val, err, errlen);
	if (!strcmp(key, "listen")) {
		char host[NVD_ADDR_MAX], port[16];
		if (nvd_split_addr(val, host, sizeof(host), port,
				   sizeof(port)) < 0)
			return fail(err, errlen,
				    "--listen '%s': expected HOST:PORT%s", val,
				    "");
		return copy_str(c->listen, sizeof(c->listen), key, val, err,
				errlen);
	}
	if (!strcmp(key, "tls-cert"))
		return copy_str(c->tls_cert, sizeof(c->tls_cert), key, val, err,
				errlen);
	if (!strcmp(key, "tls-key"))
		return copy_str(c->tls_key, sizeof(c->tls_key), key, val, err,
				errlen);
	if (!strcmp(key, "tls-ca"))
		return copy_str(c->tls_ca, sizeof(c->tls_ca), key, val, err,
				errlen);
	if (!strcmp(key, "status"))
		return copy_str(c->status, sizeof(c->status), key, val, err,
				errlen);
	if (!strcmp(key, "forward"))
		return parse_link(c, NVD_FORWARD, val, err, errlen);
	if (!strcmp(key, "offer"))
		return parse_link(c, NVD_OFFER, val, err, errlen);
	if (!strcmp(key, "pull"))
		return parse_link(c, NVD_PULL, val, err, errlen);
	if (!strcmp(key, "peer-name")) {
		if (c->nlinks == 0)
			return fail(err, errlen,
				    "--peer-name '%s' must follow the link it "
				    "names%s",
				    val, "");
		return copy_str(c->links[c->nlinks - 1].peer_name,
				sizeof(c->links[0].peer_name), key, val, err,
				errlen);
	}
	if (!strcmp(key, "tier")) {
		int t = nvmsg_tier_parse(val);
		if (t < 0)
			return fail(err, errlen,
				    "--tier '%s': one of pmem, msync, "
				    "emulated, volatile%s",
				    val, "");
		c->tier = t;
		return 0;
	}
	int time = !strcmp(key, "spin") || !strcmp(key, "poll") ||
		   !strcmp(key, "heartbeat") || !strcmp(key, "dead-after") ||
		   !strcmp(key, "backoff-max");
	if (parse_u64(val, time, &v) < 0)
		return fail(err, errlen, "--%s '%s': not a valid number", key,
			    val);
	if (!strcmp(key, "capacity"))
		c->capacity = v;
	else if (!strcmp(key, "max-producers") && v >= 1 &&
		 v <= NVMSG_MAX_PRODUCERS)
		c->max_producers = (unsigned)v;
	else if (!strcmp(key, "window") && v >= 1 && v <= (1u << 20))
		c->window_msgs = (unsigned)v;
	else if (!strcmp(key, "window-bytes") && v >= 4096)
		c->window_bytes = v;
	else if (!strcmp(key, "max-msg") && v >= 1 && v <= (1u << 30))
		c->max_msg = (uint32_t)v;
	else if (!strcmp(key, "spin"))
		c->spin_ns = v;
	else if (!strcmp(key, "poll") && v >= 10 * US)
		c->poll_ns = v;
	else if (!strcmp(key, "heartbeat") && v >= MS)
		c->heartbeat_ns = v;
	else if (!strcmp(key, "dead-after") && v >= MS)
		c->dead_ns = v;
	else if (!strcmp(key, "backoff-max") && v >= MS)
		c->backoff_max_ns = v;
	else
		return fail(err, errlen,
			    "--%s '%s': unknown option or value out of range "
			    "(nvmsgd --help)",
			    key, val);
	return 0;
}

int
nvd_conf_file(struct nvd_conf *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	unsigned no = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e, *key, *val = NULL;
		no++;
		if ((e = strchr(s, '#')))
			*e = 0;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (!*s)
			continue;
		key = s;
		if ((e = strchr(s, '='))) {
			val = e + 1;
			*e = 0;
			while (e > key && isspace((unsigned char)e[-1]))
				*--e = 0;
			while (isspace((unsigned char)*val))
				val++;
		}
		char sub[512];
		if (!strcmp(key, "config") ||
		    nvd_conf_option(c, key, val, sub, sizeof(sub)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, no,
				 !strcmp(key, "config") ? "no nested config"
							: sub);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int
nvd_conf_check(const struct nvd_conf *c, char *err, size_t errlen)
{
	int tls = c->tls_cert[0] || c->tls_key[0] || c->tls_ca[0];
	int offers = 0;

	if (!c->dir[0])
		return fail(err, errlen, "--dir is required%s%s", "", "");
	if (c->plaintext && tls)
		return fail(err, errlen,
			    "--plaintext and --tls-* exclude each other%s%s",
			    "", "");
	if (!c->plaintext && !(c->tls_cert[0] && c->tls_key[0] && c->tls_ca[0]))
		return fail(err, errlen,
			    "TLS needs --tls-cert, --tls-key and --tls-ca "
			    "(or say --plaintext: links then carry messages "
			    "unencrypted and unauthenticated)%s%s",
			    "", "");
	for (unsigned i = 0; i < c->nlinks; i++)
		offers += c->links[i].kind == NVD_OFFER;
	if (offers && !c->listen[0])
		return fail(err, errlen,
			    "--offer needs --listen (a receiver dials in)%s%s",
			    "", "");
	if (!c->listen[0] && c->nlinks == 0)
		return fail(err, errlen,
			    "nothing to do: give --listen, --forward or "
			    "--pull%s%s",
			    "", "");
	for (unsigned i = 0; i < c->nlinks; i++)
		for (unsigned j = 0; j < i; j++)
			if (c->links[i].kind != NVD_PULL &&
			    c->links[j].kind != NVD_PULL &&
			    !strcmp(c->links[i].local, c->links[j].local) &&
			    !strcmp(c->links[i].addr, c->links[j].addr))
				return fail(err, errlen,
					    "channel '%s' is sent to '%s' "
					    "twice",
					    c->links[i].local,
					    c->links[i].addr);
	return 0;
}
