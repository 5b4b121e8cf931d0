/* SPDX-License-Identifier: MIT */
/*
 * wire.c -- the link protocol's frames (wire.h, docs/WIRE.md): one decoder
 * of untrusted bytes and the encoders that mirror it.
 *
 * Trust order.  nvw_parse() reads the 8-byte header first and refuses,
 * before any body byte is awaited, what the header alone shows is wrong:
 * an unknown type, non-zero flags, a body_len above the caller's limit or
 * one its type can never have.  Only then does it wait for the body, and
 * it decodes the body field by field, each checked before the next is
 * read.  Every integer is assembled from bytes (little-endian, any
 * alignment); nothing is allocated; nothing is read at or past BUF + N.
 *
 * The encoders refuse what the decoder refuses, so a frame an encoder
 * wrote always parses again to the same fields and the same bytes (the
 * round trip that fuzz/fuzz_wire.c checks).
 */
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define HELLO_FIXED 21u	 /* HELLO body before the channel name */
#define RESUME_FIXED 12u /* RESUME body before the entries */
#define RESUME_ENT 28u	 /* bytes per RESUME entry */
#define ORIGIN_BODY 24u
#define U64_BODY 8u    /* ACK, PING, PONG */
#define ERROR_FIXED 4u /* ERROR body before the text */
#define MAX_MSG (1u << 30)
#define MAX_TIER 4u	  /* enum nvmsg_tier: 1 volatile .. 4 emulated */
#define MAX_PRODUCERS 64u /* NVMSG_MAX_PRODUCERS: producer slot ids */

/* ------------------------------------------------ little-endian bytes */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* --------------------------------------------------------- the checks */

/* refuse -- WHY := the sentence (when WHYLEN > 0); -EPROTO */
__attribute__((format(printf, 3, 4))) static int
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

/* name_bad -- the index of the first byte of NAME (N bytes) that a
 * channel name may not hold there, or N when every byte is allowed */
static size_t
name_bad(const uint8_t *name, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			 (c == '.' && i > 0);

		if (!ok)
			return i;
	}
	return n;
}

static int
printable(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* body_ok -- whether BODY_LEN is one TYPE may have; *LO and *HI name the
 * range for the refusal (a RESUME's is 12 + 28 x count as well) */
static int
body_ok(unsigned type, uint32_t len, uint32_t *lo, uint32_t *hi)
{
	switch (type) {
	case NVW_HELLO:
		*lo = HELLO_FIXED;
		*hi = HELLO_FIXED + NVW_NAME_MAX;
		break;
	case NVW_RESUME:
		*lo = RESUME_FIXED;
		*hi = RESUME_FIXED + RESUME_ENT * NVW_MAX_ORIGINS;
		if (len >= *lo && (len - RESUME_FIXED) % RESUME_ENT != 0)
			return 0;
		break;
	case NVW_ORIGIN:
		*lo = *hi = ORIGIN_BODY;
		break;
	case NVW_MSG:
		*lo = NVW_MSG_HDR + 1;
		*hi = UINT32_MAX;
		break;
	case NVW_ACK:
	case NVW_PING:
	case NVW_PONG:
		*lo = *hi = U64_BODY;
		break;
	case NVW_ERROR:
		*lo = ERROR_FIXED;
		*hi = ERROR_FIXED + NVW_TEXT_MAX;
		break;
	default:
		return 0;
	}
	return len >= *lo && len <= *hi;
}

/* check_header -- 0, or -EPROTO when the header alone shows the frame
 * is bad */
static int
check_header(unsigned type, unsigned flags, uint32_t len, size_t max_body,
	     char *why, size_t whylen)
{
	uint32_t lo = 0, hi = 0;

	if (type < NVW_HELLO || type > NVW_ERROR)
		return refuse(why, whylen,
			      "frame type %u is unknown (version 1 has 1..8)",
			      type);
	if (flags != 0)
		return refuse(why, whylen,
			      "%s frame flags %#x: zero in version 1",
			      nvw_type_name(type), flags);
	if (!body_ok(type, len, &lo, &hi)) {
		if (type == NVW_RESUME)
			return refuse(why, whylen,
				      "RESUME body_len %" PRIu32
				      ": want 12 + 28 x count, count 0..64",
				      len);
		if (lo == hi)
			return refuse(why, whylen,
				      "%s body_len %" PRIu32 ": want %" PRIu32,
				      nvw_type_name(type), len, lo);
		if (hi == UINT32_MAX)
			return refuse(why, whylen,
				      "%s body_len %" PRIu32
				      ": want at least %" PRIu32,
				      nvw_type_name(type), len, lo);
		return refuse(why, whylen,
			      "%s body_len %" PRIu32 ": want %" PRIu32
			      "..%" PRIu32,
			      nvw_type_name(type), len, lo, hi);
	}
#if SIZE_MAX <= UINT32_MAX
	/* NVW_HDR + len must fit *used */
	if (max_body > SIZE_MAX - NVW_HDR)
		max_body = SIZE_MAX - NVW_HDR;
#endif
	if (len > max_body)
		return refuse(why, whylen,
			      "%s body_len %" PRIu32 " above the limit %zu",
			      nvw_type_name(type), len, max_body);
	return 0;
}

/* ------------------------------------------------------- the bodies */

static int
parse_hello(const uint8_t *b, uint32_t len, struct nvw_hello *h, char *why,
	    size_t whylen)
{
	const size_t ml = sizeof(NVW_MAGIC) - 1;
	uint8_t name_len;
	size_t bad;

	if (memcmp(b, NVW_MAGIC, ml) != 0) {
		char hex[2 * 8 + 1];

		for (size_t i = 0; i < ml; i++)
			snprintf(hex + 2 * i, 3, "%02x", b[i]);
		return refuse(why, whylen,
			      "HELLO magic %s: want \"" NVW_MAGIC "\"", hex);
	}
	/* the version first: a later version's HELLO is refused by its
	 * number, whatever else it changed (wire.h, nvw_parse) */
	h->version = get16(b + 8);
	if (h->version != NVW_VERSION)
		return refuse(why, whylen,
			      "HELLO version %u: this end speaks version %u",
			      h->version, NVW_VERSION);
	h->role = get16(b + 10);
	if (h->role != NVW_ROLE_SENDER && h->role != NVW_ROLE_RECEIVER)
		return refuse(why, whylen,
			      "HELLO role %u: want 1 (sender) or 2 (receiver)",
			      h->role);
	h->flags = get32(b + 12);
	if (h->flags & ~NVW_HELLO_ALLOW_VOLATILE)
		return refuse(why, whylen,
			      "HELLO flags %#" PRIx32
			      ": unknown bits %#" PRIx32,
			      h->flags, h->flags & ~NVW_HELLO_ALLOW_VOLATILE);
	h->max_msg = get32(b + 16);
	if (h->max_msg < 1 || h->max_msg > MAX_MSG)
		return refuse(why, whylen,
			      "HELLO max_msg %" PRIu32 ": want 1..%u",
			      h->max_msg, MAX_MSG);
	name_len = b[20];
	if (name_len > NVW_NAME_MAX)
		return refuse(why, whylen, "HELLO name_len %u: want 0..%u",
			      name_len, NVW_NAME_MAX);
	if (len != HELLO_FIXED + name_len)
		return refuse(why, whylen,
			      "HELLO name_len %u: body_len %" PRIu32
			      " holds a name of %" PRIu32 " bytes",
			      name_len, len, len - HELLO_FIXED);
	if (name_len == 0 && h->role == NVW_ROLE_SENDER)
		return refuse(why, whylen,
			      "HELLO channel empty: a sender names the "
			      "receiving channel");
	bad = name_bad(b + HELLO_FIXED, name_len);
	if (bad < name_len)
		return refuse(why, whylen,
			      "HELLO channel byte %zu is 0x%02x: want "
			      "[A-Za-z0-9_.-], not starting with '.'",
			      bad, b[HELLO_FIXED + bad]);
	memcpy(h->channel, b + HELLO_FIXED, name_len);
	h->channel[name_len] = '\0';
	return 0;
}

static int
parse_resume(const uint8_t *b, uint32_t len, struct nvw_resume *r, char *why,
	     size_t whylen)
{
	uint32_t have = (len - RESUME_FIXED) / RESUME_ENT;

	r->tier = get32(b);
	if (r->tier < 1 || r->tier > MAX_TIER)
		return refuse(why, whylen, "RESUME tier %" PRIu32 ": want 1..4",
			      r->tier);
	r->flags = get32(b + 4);
	if (r->flags & ~NVW_RESUME_DURABLE)
		return refuse(why, whylen,
			      "RESUME flags %#" PRIx32
			      ": unknown bits %#" PRIx32,
			      r->flags, r->flags & ~NVW_RESUME_DURABLE);
	r->count = get32(b + 8);
	if (r->count > NVW_MAX_ORIGINS)
		return refuse(why, whylen,
			      "RESUME count %" PRIu32 ": want 0..%u", r->count,
			      NVW_MAX_ORIGINS);
	if (r->count != have)
		return refuse(why, whylen,
			      "RESUME count %" PRIu32 ": body_len %" PRIu32
			      " holds %" PRIu32 " entries",
			      r->count, len, have);
	for (uint32_t i = 0; i < r->count; i++) {
		const uint8_t *e = b + RESUME_FIXED + RESUME_ENT * i;
		struct nvw_resume_ent *d = &r->ent[i];

		d->producer = get32(e + 16);
		if (d->producer >= MAX_PRODUCERS)
			return refuse(why, whylen,
				      "RESUME entry %" PRIu32
				      " producer %" PRIu32 ": want 0..%u",
				      i, d->producer, MAX_PRODUCERS - 1);
		memcpy(d->uuid, e, 16);
		d->seq = get64(e + 20);
	}
	return 0;
}

static int
parse_origin(const uint8_t *b, struct nvw_origin *o, char *why, size_t whylen)
{
	o->index = get32(b);
	if (o->index >= NVW_MAX_INDEX)
		return refuse(why, whylen,
			      "ORIGIN index %" PRIu32 ": want 0..%u", o->index,
			      NVW_MAX_INDEX - 1);
	o->producer = get32(b + 20);
	if (o->producer >= MAX_PRODUCERS)
		return refuse(why, whylen,
			      "ORIGIN producer %" PRIu32 ": want 0..%u",
			      o->producer, MAX_PRODUCERS - 1);
	memcpy(o->uuid, b + 4, 16);
	return 0;
}

static int
parse_msg(const uint8_t *b, uint32_t len, struct nvw_msg *m, char *why,
	  size_t whylen)
{
	m->origin = get32(b);
	if (m->origin >= NVW_MAX_INDEX)
		return refuse(why, whylen,
			      "MSG origin %" PRIu32 ": want an index 0..%u",
			      m->origin, NVW_MAX_INDEX - 1);
	m->seq = get64(b + 4);
	if (m->seq == 0)
		return refuse(why, whylen, "MSG seq 0: want 1 or more");
	m->data = b + NVW_MSG_HDR;
	m->len = len - NVW_MSG_HDR;
	return 0;
}

static int
parse_error(const uint8_t *b, uint32_t len, struct nvw_frame *f, char *why,
	    size_t whylen)
{
	uint32_t n = len - ERROR_FIXED;

	f->u.error.code = get32(b);
	for (uint32_t i = 0; i < n; i++)
		if (!printable(b[ERROR_FIXED + i]))
			return refuse(why, whylen,
				      "ERROR text byte %" PRIu32
				      " is 0x%02x: want printable ASCII "
				      "0x20..0x7e",
				      i, b[ERROR_FIXED + i]);
	memcpy(f->u.error.text, b + ERROR_FIXED, n);
	f->u.error.text[n] = '\0';
	return 0;
}

int
nvw_parse(const uint8_t *buf, size_t n, size_t max_body, struct nvw_frame *f,
	  size_t *used, char *why, size_t whylen)
{
	const uint8_t *b = buf + NVW_HDR;
	uint32_t len;
	unsigned type;
	int rc;

	*used = NVW_HDR;
	if (n < NVW_HDR)
		return 0;
	len = get32(buf);
	type = get16(buf + 4);
	f->type = (uint16_t)type;
	f->body_len = len;
	rc = check_header(type, get16(buf + 6), len, max_body, why, whylen);
	if (rc != 0) {
		*used = 0;
		return rc;
	}
	*used = NVW_HDR + (size_t)len;
	if (n < *used)
		return 0;
	switch (type) {
	case NVW_HELLO:
		rc = parse_hello(b, len, &f->u.hello, why, whylen);
		break;
	case NVW_RESUME:
		rc = parse_resume(b, len, &f->u.resume, why, whylen);
		break;
	case NVW_ORIGIN:
		rc = parse_origin(b, &f->u.origin, why, whylen);
		break;
	case NVW_MSG:
		rc = parse_msg(b, len, &f->u.msg, why, whylen);
		break;
	case NVW_ACK:
		f->u.count = get64(b);
		break;
	case NVW_PING:
	case NVW_PONG:
		f->u.token = get64(b);
		break;
	default: /* NVW_ERROR: check_header knows no other */
		rc = parse_error(b, len, f, why, whylen);
		break;
	}
	if (rc != 0) {
		*used = 0;
		return rc;
	}
	return 1;
}

/* ------------------------------------------------------- the encoders */

/* frame -- the header of a TYPE frame of BODY bytes at OUT (CAP bytes);
 * the body's start, or NULL when the frame does not fit */
static uint8_t *
frame(uint8_t *out, size_t cap, unsigned type, uint32_t body)
{
	if (!out || cap < NVW_HDR || cap - NVW_HDR < body)
		return NULL;
	put32(out, body);
	put16(out + 4, (uint16_t)type);
	put16(out + 6, 0);
	return out + NVW_HDR;
}

size_t
nvw_put_hello(uint8_t *out, size_t cap, const struct nvw_hello *h)
{
	size_t name_len;
	uint8_t *b;

	if (!h || h->version != NVW_VERSION ||
	    (h->role != NVW_ROLE_SENDER && h->role != NVW_ROLE_RECEIVER) ||
	    (h->flags & ~NVW_HELLO_ALLOW_VOLATILE) || h->max_msg < 1 ||
	    h->max_msg > MAX_MSG)
		return 0;
	name_len = strnlen(h->channel, sizeof(h->channel));
	if (name_len > NVW_NAME_MAX ||
	    (name_len == 0 && h->role == NVW_ROLE_SENDER) ||
	    name_bad((const uint8_t *)h->channel, name_len) < name_len)
		return 0;
	b = frame(out, cap, NVW_HELLO, (uint32_t)(HELLO_FIXED + name_len));
	if (!b)
		return 0;
	memcpy(b, NVW_MAGIC, 8);
	put16(b + 8, h->version);
	put16(b + 10, h->role);
	put32(b + 12, h->flags);
	put32(b + 16, h->max_msg);
	b[20] = (uint8_t)name_len;
	memcpy(b + HELLO_FIXED, h->channel, name_len);
	return NVW_HDR + HELLO_FIXED + name_len;
}

size_t
nvw_put_resume(uint8_t *out, size_t cap, const struct nvw_resume *r)
{
	uint32_t body;
	uint8_t *b;

	if (!r || r->tier < 1 || r->tier > MAX_TIER ||
	    (r->flags & ~NVW_RESUME_DURABLE) || r->count > NVW_MAX_ORIGINS)
		return 0;
	for (uint32_t i = 0; i < r->count; i++)
		if (r->ent[i].producer >= MAX_PRODUCERS)
			return 0;
	body = RESUME_FIXED + RESUME_ENT * r->count;
	b = frame(out, cap, NVW_RESUME, body);
	if (!b)
		return 0;
	put32(b, r->tier);
	put32(b + 4, r->flags);
	put32(b + 8, r->count);
	for (uint32_t i = 0; i < r->count; i++) {
		uint8_t *e = b + RESUME_FIXED + RESUME_ENT * i;

		memcpy(e, r->ent[i].uuid, 16);
		put32(e + 16, r->ent[i].producer);
		put64(e + 20, r->ent[i].seq);
	}
	return NVW_HDR + body;
}

size_t
nvw_put_origin(uint8_t *out, size_t cap, const struct nvw_origin *o)
{
	uint8_t *b;

	if (!o || o->index >= NVW_MAX_INDEX || o->producer >= MAX_PRODUCERS)
		return 0;
	b = frame(out, cap, NVW_ORIGIN, ORIGIN_BODY);
	if (!b)
		return 0;
	put32(b, o->index);
	memcpy(b + 4, o->uuid, 16);
	put32(b + 20, o->producer);
	return NVW_HDR + ORIGIN_BODY;
}

size_t
nvw_put_msg(uint8_t *out, size_t cap, uint32_t origin, uint64_t seq,
	    const void *data, uint32_t len)
{
	uint8_t *b;

	if (origin >= NVW_MAX_INDEX || seq == 0 || len == 0 ||
	    len > UINT32_MAX - NVW_MSG_HDR)
		return 0;
	/* the payload's room is asked for even when the caller copies it */
	b = frame(out, cap, NVW_MSG, NVW_MSG_HDR + len);
	if (!b)
		return 0;
	put32(b, origin);
	put64(b + 4, seq);
	if (data)
		memcpy(b + NVW_MSG_HDR, data, len);
	return NVW_HDR + NVW_MSG_HDR + (size_t)len;
}

size_t
nvw_put_u64(uint8_t *out, size_t cap, enum nvw_type type, uint64_t v)
{
	uint8_t *b;

	if (type != NVW_ACK && type != NVW_PING && type != NVW_PONG)
		return 0;
	b = frame(out, cap, type, U64_BODY);
	if (!b)
		return 0;
	put64(b, v);
	return NVW_HDR + U64_BODY;
}

size_t
nvw_put_error(uint8_t *out, size_t cap, uint32_t code, const char *text)
{
	size_t n = text ? strnlen(text, NVW_TEXT_MAX) : 0;
	uint8_t *b;

	b = frame(out, cap, NVW_ERROR, (uint32_t)(ERROR_FIXED + n));
	if (!b)
		return 0;
	put32(b, code);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)text[i];

		b[ERROR_FIXED + i] = printable(c) ? c : (uint8_t)'?';
	}
	return NVW_HDR + ERROR_FIXED + n;
}

const char *
nvw_type_name(unsigned type)
{
	static const char *const names[] = {
		[NVW_HELLO] = "HELLO",	 [NVW_RESUME] = "RESUME",
		[NVW_ORIGIN] = "ORIGIN", [NVW_MSG] = "MSG",
		[NVW_ACK] = "ACK",	 [NVW_PING] = "PING",
		[NVW_PONG] = "PONG",	 [NVW_ERROR] = "ERROR",
	};

	if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
		return "?";
	return names[type];
}
