/* SPDX-License-Identifier: MIT */
/*
 * t_wire.c -- unit test of daemon/wire.c, the link protocol's frames.
 *
 * Proves: every type encodes to the bytes docs/WIRE.md lays out (golden
 * frames written by hand) and parses back to the same fields; each check
 * of the decoder refuses with -EPROTO, *used 0 and a sentence naming the
 * field, one case per check; whatever the header alone shows is refused
 * with the header only (8 bytes given, a huge body_len never awaited); a
 * frame given byte by byte returns 0, asking for the header and then for
 * the whole frame, until it is all there; a stream of frames parses one
 * after the other; the encoders refuse a CAP one byte short and every
 * field the decoder would refuse.
 *
 * Every parse reads from a malloc'd copy of exactly the bytes given, so
 * that under ASan a read past them is a finding.
 */
#include "t.h"

#include "wire.h"

#define BIG (64u * 1024) /* the max_body of most cases */

static const uint8_t uuid_a[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
				    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
				    0xcc, 0xdd, 0xee, 0xff };

static uint8_t *copy_buf; /* the last parse's input, kept for msg.data */
static char why[256];
static struct nvw_frame fr;
static size_t used;

/* parse -- nvw_parse of an exact-size copy of BUF[0..N) into fr, used */
static int
parse(const uint8_t *buf, size_t n, size_t max_body)
{
	free(copy_buf);
	copy_buf = malloc(n ? n : 1);
	ASSERT_TRUE(copy_buf != NULL);
	memcpy(copy_buf, buf, n);
	why[0] = '\0';
	return nvw_parse(copy_buf, n, max_body, &fr, &used, why, sizeof(why));
}

/* refused -- BUF[0..N) is refused, naming FIELD (case at LINE) */
static void
refused(int line, const uint8_t *buf, size_t n, size_t max_body,
	const char *field)
{
	int rc = parse(buf, n, max_body);

	if (rc != -EPROTO || used != 0 || !strstr(why, field))
		T_FAILF("case at line %d (%s, body_len %u): rc %d used %zu "
			"why \"%s\", want -EPROTO, 0, a sentence naming \"%s\"",
			line, nvw_type_name(fr.type), fr.body_len, rc, used,
			why, field);
}
#define REFUSED(buf, n, field) refused(__LINE__, buf, n, BIG, field)

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
set32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
set64(uint8_t *p, uint64_t v)
{
	set32(p, (uint32_t)v);
	set32(p + 4, (uint32_t)(v >> 32));
}

/* hdr -- a frame header at P */
static void
hdr(uint8_t *p, uint32_t body_len, uint16_t type, uint16_t flags)
{
	set32(p, body_len);
	set16(p + 4, type);
	set16(p + 6, flags);
}

static struct nvw_hello
hello(uint16_t role, const char *channel)
{
	struct nvw_hello h = {
		.version = NVW_VERSION,
		.role = role,
		.flags = NVW_HELLO_ALLOW_VOLATILE,
		.max_msg = 1u << 20,
	};

	snprintf(h.channel, sizeof(h.channel), "%s", channel);
	return h;
}

/* ---- golden bytes: the layout of docs/WIRE.md, written by hand ---- */

static void
test_golden(void)
{
	static const uint8_t g_hello[] = {
		24,  0,	  0,	0,   1,	  0,   0,   0,	       /* header */
		'N', 'V', 'M',	'S', 'G', 'L', 'N', 'K', 1, 0, /* version */
		1,   0,					       /* role */
		1,   0,	  0,	0,			       /* flags */
		0,   0,	  0x10, 0,   /* max_msg 1 MiB */
		3,   'a', '.',	'b', /* name_len, channel */
	};
	static const uint8_t g_origin[] = {
		24,   0,    0,	  0,	3,    0,    0,
		0,    0xff, 0x03, 0,	0, /* index 1023 */
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
		0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
		0xee, 0xff, 7,	  0,	0,    0, /* producer */
	};
	static const uint8_t g_msg[] = {
		14,  0,	  0, 0, 4, 0, 0, 0, 5, 0, 0, 0, /* origin 5 */
		8,   7,	  6, 5, 4, 3, 2, 1,		/* seq */
		'h', 'i',
	};
	static const uint8_t g_ack[] = {
		8, 0, 0, 0, 5, 0, 0, 0, 0x2a, 0, 0, 0, 0, 0, 0, 0x80,
	};
	static const uint8_t g_error[] = {
		7, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0, 'v', '?', '9',
	};
	static const uint8_t g_resume[] = {
		40,   0,    0,	  0,	2,    0,    0,	  0,
		3,    0,    0,	  0,			     /* tier 3 msync */
		1,    0,    0,	  0,	1,    0,    0,	  0, /* flags, count */
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		63,   0,    0,	  0,			     /* producer */
		9,    0,    0,	  0,	0,    0,    0,	  0, /* seq */
	};
	uint8_t out[128];
	struct nvw_hello h = hello(NVW_ROLE_SENDER, "a.b");
	struct nvw_origin o = { .index = 1023, .producer = 7 };
	struct nvw_resume r = { .tier = 3, .flags = 1, .count = 1 };

	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &h), sizeof(g_hello));
	ASSERT_TRUE(memcmp(out, g_hello, sizeof(g_hello)) == 0);
	memcpy(o.uuid, uuid_a, 16);
	ASSERT_EQ(nvw_put_origin(out, sizeof(out), &o), sizeof(g_origin));
	ASSERT_TRUE(memcmp(out, g_origin, sizeof(g_origin)) == 0);
	ASSERT_EQ(nvw_put_msg(out, sizeof(out), 5, 0x0102030405060708ull, "hi",
			      2),
		  sizeof(g_msg));
	ASSERT_TRUE(memcmp(out, g_msg, sizeof(g_msg)) == 0);
	ASSERT_EQ(nvw_put_u64(out, sizeof(out), NVW_ACK, 0x800000000000002aull),
		  sizeof(g_ack));
	ASSERT_TRUE(memcmp(out, g_ack, sizeof(g_ack)) == 0);
	/* the encoder replaces a non-printable byte by '?' */
	ASSERT_EQ(nvw_put_error(out, sizeof(out), NVW_ERR_VERSION, "v\n9"),
		  sizeof(g_error));
	ASSERT_TRUE(memcmp(out, g_error, sizeof(g_error)) == 0);
	memcpy(r.ent[0].uuid, uuid_a, 16);
	r.ent[0].producer = 63;
	r.ent[0].seq = 9;
	ASSERT_EQ(nvw_put_resume(out, sizeof(out), &r), sizeof(g_resume));
	ASSERT_TRUE(memcmp(out, g_resume, sizeof(g_resume)) == 0);
}

/* ---- round trips: every type, encoded, parsed, the same fields ---- */

/* roundtrip -- parse the SIZE-byte frame at OUT: accepted whole */
static void
roundtrip(const uint8_t *out, size_t size, unsigned type)
{
	ASSERT_TRUE(size >= NVW_HDR);
	ASSERT_EQ(parse(out, size, BIG), 1);
	ASSERT_EQ(used, size);
	ASSERT_EQ(fr.type, type);
	ASSERT_EQ(fr.body_len, size - NVW_HDR);
}

static void
test_roundtrip(void)
{
	static uint8_t out[4096];
	static const char *const names[] = {
		"q", "orders.eu-1", "A_b-C.9",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU", /* 47 */
	};
	size_t n;

	for (unsigned i = 0; i < 4; i++) {
		for (uint16_t role = 1; role <= 2; role++) {
			struct nvw_hello h = hello(role, names[i]);

			h.flags = i & 1;
			h.max_msg = i == 3 ? 1u << 30 : 1 + i;
			n = nvw_put_hello(out, sizeof(out), &h);
			ASSERT_EQ(n, NVW_HDR + 21 + strlen(names[i]));
			roundtrip(out, n, NVW_HELLO);
			ASSERT_EQ(fr.u.hello.version, 1);
			ASSERT_EQ(fr.u.hello.role, role);
			ASSERT_EQ(fr.u.hello.flags, h.flags);
			ASSERT_EQ(fr.u.hello.max_msg, h.max_msg);
			ASSERT_TRUE(strcmp(fr.u.hello.channel, names[i]) == 0);
		}
	}
	/* a receiver may leave the channel empty: any */
	struct nvw_hello any = hello(NVW_ROLE_RECEIVER, "");
	n = nvw_put_hello(out, sizeof(out), &any);
	ASSERT_EQ(n, NVW_HDR + 21);
	roundtrip(out, n, NVW_HELLO);
	ASSERT_EQ(fr.u.hello.channel[0], '\0');
	ASSERT_EQ(fr.u.hello.role, NVW_ROLE_RECEIVER);

	static struct nvw_resume r;
	static const uint32_t counts[] = { 0, 1, 21, 63, NVW_MAX_ORIGINS };
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		uint32_t c = counts[k];

		memset(&r, 0, sizeof(r));
		r.tier = 1 + c % 4;
		r.flags = c & 1;
		r.count = c;
		for (uint32_t i = 0; i < c; i++) {
			memcpy(r.ent[i].uuid, uuid_a, 16);
			r.ent[i].uuid[0] = (uint8_t)i;
			r.ent[i].producer = i;
			r.ent[i].seq = UINT64_MAX - i;
		}
		n = nvw_put_resume(out, sizeof(out), &r);
		ASSERT_EQ(n, NVW_HDR + 12 + 28 * c);
		roundtrip(out, n, NVW_RESUME);
		ASSERT_EQ(fr.u.resume.tier, r.tier);
		ASSERT_EQ(fr.u.resume.flags, r.flags);
		ASSERT_EQ(fr.u.resume.count, c);
		for (uint32_t i = 0; i < c; i++) {
			ASSERT_TRUE(memcmp(fr.u.resume.ent[i].uuid,
					   r.ent[i].uuid, 16) == 0);
			ASSERT_EQ(fr.u.resume.ent[i].producer, i);
			ASSERT_U64_EQ(fr.u.resume.ent[i].seq, UINT64_MAX - i);
		}
	}

	struct nvw_origin o = { .index = 0, .producer = 0 };
	memcpy(o.uuid, uuid_a, 16);
	for (uint32_t idx = 0; idx < NVW_MAX_INDEX; idx += 1023) {
		o.index = idx;
		o.producer = idx ? 63 : 0;
		n = nvw_put_origin(out, sizeof(out), &o);
		ASSERT_EQ(n, NVW_HDR + 24);
		roundtrip(out, n, NVW_ORIGIN);
		ASSERT_EQ(fr.u.origin.index, idx);
		ASSERT_EQ(fr.u.origin.producer, o.producer);
		ASSERT_TRUE(memcmp(fr.u.origin.uuid, uuid_a, 16) == 0);
	}

	static uint8_t payload[1000];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	n = nvw_put_msg(out, sizeof(out), 1023, UINT64_MAX, payload, 1000);
	ASSERT_EQ(n, NVW_HDR + NVW_MSG_HDR + 1000);
	roundtrip(out, n, NVW_MSG);
	ASSERT_EQ(fr.u.msg.origin, 1023);
	ASSERT_U64_EQ(fr.u.msg.seq, UINT64_MAX);
	ASSERT_EQ(fr.u.msg.len, 1000);
	ASSERT_TRUE(fr.u.msg.data == copy_buf + NVW_HDR + NVW_MSG_HDR);
	ASSERT_TRUE(memcmp(fr.u.msg.data, payload, 1000) == 0);
	/* DATA NULL: the head only, the caller copies the payload after it */
	memset(out, 0xee, sizeof(out));
	n = nvw_put_msg(out, sizeof(out), 0, 1, NULL, 1);
	ASSERT_EQ(n, NVW_HDR + NVW_MSG_HDR + 1);
	ASSERT_EQ(out[NVW_HDR + NVW_MSG_HDR], 0xee); /* not written */
	out[NVW_HDR + NVW_MSG_HDR] = 'x';
	roundtrip(out, n, NVW_MSG);
	ASSERT_EQ(fr.u.msg.len, 1);
	ASSERT_EQ(fr.u.msg.data[0], 'x');
	ASSERT_U64_EQ(fr.u.msg.seq, 1);

	static const uint64_t vals[] = { 0, 1, 0x0123456789abcdefull,
					 UINT64_MAX };
	for (unsigned i = 0; i < 4; i++) {
		n = nvw_put_u64(out, sizeof(out), NVW_ACK, vals[i]);
		ASSERT_EQ(n, NVW_HDR + 8);
		roundtrip(out, n, NVW_ACK);
		ASSERT_U64_EQ(fr.u.count, vals[i]);
		n = nvw_put_u64(out, sizeof(out), NVW_PING, vals[i]);
		roundtrip(out, n, NVW_PING);
		ASSERT_U64_EQ(fr.u.token, vals[i]);
		n = nvw_put_u64(out, sizeof(out), NVW_PONG, vals[i]);
		roundtrip(out, n, NVW_PONG);
		ASSERT_U64_EQ(fr.u.token, vals[i]);
	}

	n = nvw_put_error(out, sizeof(out), NVW_ERR_CHANNEL,
			  "channel q: not offered");
	roundtrip(out, n, NVW_ERROR);
	ASSERT_EQ(fr.u.error.code, NVW_ERR_CHANNEL);
	ASSERT_TRUE(strcmp(fr.u.error.text, "channel q: not offered") == 0);
	n = nvw_put_error(out, sizeof(out), 0xffffffffu, NULL);
	ASSERT_EQ(n, NVW_HDR + 4);
	roundtrip(out, n, NVW_ERROR);
	ASSERT_EQ(fr.u.error.code, 0xffffffffu);
	ASSERT_EQ(fr.u.error.text[0], '\0');
	/* a long text is cut to 256 bytes; control bytes become '?' */
	char longtext[400];
	memset(longtext, '~', sizeof(longtext));
	longtext[0] = '\t';
	longtext[sizeof(longtext) - 1] = '\0';
	n = nvw_put_error(out, sizeof(out), NVW_ERR_INTERNAL, longtext);
	ASSERT_EQ(n, NVW_HDR + 4 + NVW_TEXT_MAX);
	roundtrip(out, n, NVW_ERROR);
	ASSERT_EQ(strlen(fr.u.error.text), NVW_TEXT_MAX);
	ASSERT_EQ(fr.u.error.text[0], '?');
	ASSERT_EQ(fr.u.error.text[255], '~');

	ASSERT_TRUE(strcmp(nvw_type_name(NVW_HELLO), "HELLO") == 0);
	ASSERT_TRUE(strcmp(nvw_type_name(NVW_ERROR), "ERROR") == 0);
	ASSERT_TRUE(strcmp(nvw_type_name(0), "?") == 0);
	ASSERT_TRUE(strcmp(nvw_type_name(9), "?") == 0);
	ASSERT_TRUE(strcmp(nvw_type_name(70000), "?") == 0);
}

/* ---- header refusals: decided from the 8 header bytes alone ---- */

static void
test_header_refusals(void)
{
	uint8_t h[NVW_HDR];

	hdr(h, 8, 0, 0); /* type 0 */
	REFUSED(h, 8, "type");
	hdr(h, 8, 9, 0); /* type 9 */
	REFUSED(h, 8, "type");
	hdr(h, 8, 0xffff, 0);
	REFUSED(h, 8, "type");
	hdr(h, 8, NVW_PING, 1); /* flags */
	REFUSED(h, 8, "flags");
	hdr(h, 8, NVW_PING, 0x8000);
	REFUSED(h, 8, "flags");

	/* body_len not possible for the type */
	static const struct {
		uint16_t type;
		uint32_t len;
	} bad[] = {
		{ NVW_HELLO, 0 },
		{ NVW_HELLO, 20 },
		{ NVW_HELLO, 69 },
		{ NVW_RESUME, 11 },
		{ NVW_RESUME, 13 },
		{ NVW_RESUME, 12 + 28 + 27 },
		{ NVW_RESUME, 12 + 28 * 65 },
		{ NVW_ORIGIN, 23 },
		{ NVW_ORIGIN, 25 },
		{ NVW_MSG, 0 },
		{ NVW_MSG, 12 },
		{ NVW_ACK, 7 },
		{ NVW_ACK, 9 },
		{ NVW_PING, 0 },
		{ NVW_PONG, 16 },
		{ NVW_ERROR, 3 },
		{ NVW_ERROR, 261 },
		{ NVW_ERROR, 0xffffffffu },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hdr(h, bad[i].len, bad[i].type, 0);
		refused(__LINE__, h, 8, BIG, "body_len");
		ASSERT_EQ(fr.type, bad[i].type);
		ASSERT_EQ(fr.body_len, bad[i].len);
	}

	/* above the caller's limit: a huge MSG is refused at once, never
	 * awaited (only the 8 header bytes are given) */
	hdr(h, 0xffffffffu, NVW_MSG, 0);
	REFUSED(h, 8, "body_len");
	hdr(h, BIG + 1, NVW_MSG, 0);
	REFUSED(h, 8, "body_len");
	hdr(h, BIG, NVW_MSG, 0); /* at the limit: awaited */
	ASSERT_EQ(parse(h, 8, BIG), 0);
	ASSERT_EQ(used, NVW_HDR + BIG);
	/* a control frame above a small limit: the largest RESUME */
	hdr(h, 12 + 28 * 64, NVW_RESUME, 0);
	refused(__LINE__, h, 8, 12 + 28 * 64 - 1, "body_len");
	ASSERT_EQ(parse(h, 8, 12 + 28 * 64), 0);
	ASSERT_EQ(used, NVW_HDR + 12 + 28 * 64);

	/* why may be absent or short: the refusal stands, cut sentence */
	hdr(h, 8, 9, 0);
	ASSERT_ERR(nvw_parse(h, 8, BIG, &fr, &used, NULL, 0), -EPROTO);
	char shortwhy[6];
	ASSERT_ERR(nvw_parse(h, 8, BIG, &fr, &used, shortwhy, sizeof(shortwhy)),
		   -EPROTO);
	ASSERT_EQ(strlen(shortwhy), sizeof(shortwhy) - 1);
}

/* ---- body refusals: one case per check ---- */

/* mk_hello -- a valid HELLO frame at P; its size */
static size_t
mk_hello(uint8_t *p, uint16_t role, const char *channel)
{
	struct nvw_hello h = hello(role, channel);
	size_t n = nvw_put_hello(p, 256, &h);

	ASSERT_TRUE(n > 0);
	return n;
}

static void
test_hello_refusals(void)
{
	uint8_t f[256];
	uint8_t *b = f + NVW_HDR;
	size_t n;

	n = mk_hello(f, NVW_ROLE_SENDER, "chan");
	f[8 + 7] = 'X'; /* magic */
	REFUSED(f, n, "magic");

	n = mk_hello(f, NVW_ROLE_SENDER, "chan");
	set16(b + 8, 2); /* version 2: refused, the version reported */
	REFUSED(f, n, "version");
	ASSERT_EQ(fr.type, NVW_HELLO);
	ASSERT_EQ(fr.u.hello.version, 2);
	set16(b + 8, 0);
	REFUSED(f, n, "version");

	n = mk_hello(f, NVW_ROLE_SENDER, "chan");
	set16(b + 10, 0); /* role */
	REFUSED(f, n, "role");
	set16(b + 10, 3);
	REFUSED(f, n, "role");

	n = mk_hello(f, NVW_ROLE_SENDER, "chan");
	set32(b + 12, 2); /* flags: an unknown bit */
	REFUSED(f, n, "flags");
	set32(b + 12, 0x80000001u);
	REFUSED(f, n, "flags");

	n = mk_hello(f, NVW_ROLE_SENDER, "chan");
	set32(b + 16, 0); /* max_msg */
	REFUSED(f, n, "max_msg");
	set32(b + 16, (1u << 30) + 1);
	REFUSED(f, n, "max_msg");
	set32(b + 16, 0xffffffffu);
	REFUSED(f, n, "max_msg");

	/* name_len above 47 (the body_len of 68 passes the header) */
	n = mk_hello(f, NVW_ROLE_SENDER,
		     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU");
	ASSERT_EQ(n, NVW_HDR + 68);
	b[20] = 48;
	REFUSED(f, n, "name_len");
	b[20] = 255;
	REFUSED(f, n, "name_len");
	/* name_len not the one body_len holds */
	n = mk_hello(f, NVW_ROLE_SENDER, "chan");
	b[20] = 3;
	REFUSED(f, n, "name_len");
	b[20] = 5;
	REFUSED(f, n, "name_len");

	/* a sender must name the channel */
	n = mk_hello(f, NVW_ROLE_RECEIVER, "");
	ASSERT_EQ(parse(f, n, BIG), 1);
	set16(b + 10, NVW_ROLE_SENDER);
	REFUSED(f, n, "channel");

	/* the channel's character set, and no leading '.' */
	static const char *const badnames[] = { ".hidden", "a/b",
						"a b",	   "..",
						"a\x01",   "caf\xc3\xa9" };
	for (size_t i = 0; i < sizeof(badnames) / sizeof(badnames[0]); i++) {
		for (uint16_t role = 1; role <= 2; role++) {
			size_t len = strlen(badnames[i]);

			n = mk_hello(f, role, "x");
			b[20] = (uint8_t)len;
			memcpy(b + 21, badnames[i], len);
			hdr(f, (uint32_t)(21 + len), NVW_HELLO, 0);
			n = NVW_HDR + 21 + len;
			refused(__LINE__, f, n, BIG, "channel");
		}
	}
	/* a NUL inside the name */
	n = mk_hello(f, NVW_ROLE_SENDER, "ab");
	b[22] = '\0';
	REFUSED(f, n, "channel");
	/* a dot inside is fine */
	n = mk_hello(f, NVW_ROLE_SENDER, "a..b");
	ASSERT_EQ(parse(f, n, BIG), 1);
}

static void
test_resume_refusals(void)
{
	static struct nvw_resume r;
	uint8_t f[2048];
	uint8_t *b = f + NVW_HDR;
	size_t n;

	r.tier = 2;
	r.flags = NVW_RESUME_DURABLE;
	r.count = 3;
	for (uint32_t i = 0; i < 3; i++)
		r.ent[i].producer = i;
	n = nvw_put_resume(f, sizeof(f), &r);
	ASSERT_EQ(parse(f, n, BIG), 1);

	set32(b, 0); /* tier */
	REFUSED(f, n, "tier");
	set32(b, 5);
	REFUSED(f, n, "tier");
	set32(b, 4);
	ASSERT_EQ(parse(f, n, BIG), 1);

	set32(b + 4, 2); /* flags */
	REFUSED(f, n, "flags");
	set32(b + 4, 0);
	ASSERT_EQ(parse(f, n, BIG), 1);

	set32(b + 8, 65); /* count above 64 */
	REFUSED(f, n, "count");
	set32(b + 8, 2); /* count not what body_len holds */
	REFUSED(f, n, "count");
	set32(b + 8, 4);
	REFUSED(f, n, "count");
	set32(b + 8, 3);

	set32(b + 12 + 28 * 2 + 16, 64); /* the last entry's producer */
	REFUSED(f, n, "producer");
	ASSERT_CONTAINS(why, "entry 2");
}

static void
test_other_refusals(void)
{
	struct nvw_origin o = { .index = 1, .producer = 2 };
	uint8_t f[256];
	uint8_t *b = f + NVW_HDR;
	size_t n;

	n = nvw_put_origin(f, sizeof(f), &o);
	set32(b, NVW_MAX_INDEX); /* index */
	REFUSED(f, n, "index");
	set32(b, 0xffffffffu);
	REFUSED(f, n, "index");
	set32(b, 1);
	set32(b + 20, 64); /* producer */
	REFUSED(f, n, "producer");

	n = nvw_put_msg(f, sizeof(f), 3, 1, "abc", 3);
	set32(b, NVW_MAX_INDEX); /* origin index */
	REFUSED(f, n, "origin");
	set32(b, 3);
	set64(b + 4, 0); /* seq */
	REFUSED(f, n, "seq");

	static const uint8_t badbytes[] = { 0x00, 0x0a, 0x1f, 0x7f, 0x80, 0xff };
	for (size_t i = 0; i < sizeof(badbytes); i++) {
		n = nvw_put_error(f, sizeof(f), NVW_ERR_PROTOCOL, "bad frame");
		b[4 + 3] = badbytes[i]; /* text */
		refused(__LINE__, f, n, BIG, "text");
		ASSERT_CONTAINS(why, "byte 3");
	}
	/* the edges of printable ASCII are fine */
	n = nvw_put_error(f, sizeof(f), NVW_ERR_PROTOCOL, " ~");
	ASSERT_EQ(parse(f, n, BIG), 1);
}

/* ---- partial input ---- */

static void
test_partial(void)
{
	static uint8_t stream[8192];
	static struct nvw_resume r = { .tier = 1, .count = 64 };
	struct nvw_hello h = hello(NVW_ROLE_SENDER, "orders");
	struct nvw_origin o = { .index = 7, .producer = 1 };
	size_t sizes[8], total = 0, n;
	unsigned types[8], k = 0;

#define ADD(type, expr)                                                        \
	do {                                                                   \
		n = (expr);                                                    \
		ASSERT_TRUE(n > 0);                                            \
		sizes[k] = n;                                                  \
		types[k++] = (type);                                           \
		total += n;                                                    \
	} while (0)
	ADD(NVW_HELLO, nvw_put_hello(stream, sizeof(stream), &h));
	ADD(NVW_RESUME,
	    nvw_put_resume(stream + total, sizeof(stream) - total, &r));
	ADD(NVW_ORIGIN,
	    nvw_put_origin(stream + total, sizeof(stream) - total, &o));
	ADD(NVW_MSG, nvw_put_msg(stream + total, sizeof(stream) - total, 7, 1,
				 "payload", 7));
	ADD(NVW_ACK,
	    nvw_put_u64(stream + total, sizeof(stream) - total, NVW_ACK, 1));
	ADD(NVW_PING,
	    nvw_put_u64(stream + total, sizeof(stream) - total, NVW_PING, 9));
	ADD(NVW_PONG,
	    nvw_put_u64(stream + total, sizeof(stream) - total, NVW_PONG, 9));
	ADD(NVW_ERROR, nvw_put_error(stream + total, sizeof(stream) - total,
				     NVW_ERR_SHUTDOWN, "bye"));
#undef ADD

	/* each frame byte by byte: 0 until whole, asking for the header
	 * and then for the frame's size */
	size_t off = 0;
	for (unsigned i = 0; i < k; i++) {
		for (size_t m = 0; m < sizes[i]; m++) {
			ASSERT_EQ(parse(stream + off, m, BIG), 0);
			ASSERT_EQ(used, m < NVW_HDR ? NVW_HDR : sizes[i]);
		}
		ASSERT_EQ(parse(stream + off, sizes[i], BIG), 1);
		ASSERT_EQ(used, sizes[i]);
		ASSERT_EQ(fr.type, types[i]);
		off += sizes[i];
	}

	/* the stream as a reader sees it: frame after frame, each parse
	 * given everything that is left */
	off = 0;
	for (unsigned i = 0; i < k; i++) {
		ASSERT_EQ(parse(stream + off, total - off, BIG), 1);
		ASSERT_EQ(used, sizes[i]);
		ASSERT_EQ(fr.type, types[i]);
		off += used;
	}
	ASSERT_EQ(off, total);
	ASSERT_EQ(parse(stream + off, 0, BIG), 0);
	ASSERT_EQ(used, NVW_HDR);

	/* a bad body is refused only once whole (its header is fine) */
	n = nvw_put_msg(stream, sizeof(stream), 1, 1, "abc", 3);
	set64(stream + NVW_HDR + 4, 0);
	for (size_t m = NVW_HDR; m < n; m++) {
		ASSERT_EQ(parse(stream, m, BIG), 0);
		ASSERT_EQ(used, n);
	}
	REFUSED(stream, n, "seq");
}

/* ---- encoders: too small a CAP, fields out of range ---- */

/* cap_check -- the encoding of SIZE bytes needs all of them: one byte
 * less gives 0 */
#define CAP_CHECK(call_with_cap)                                               \
	do {                                                                   \
		size_t cap = sizeof(out), full = (call_with_cap);              \
		ASSERT_TRUE(full > 0);                                         \
		cap = full;                                                    \
		ASSERT_EQ((call_with_cap), full);                              \
		cap = full - 1;                                                \
		ASSERT_EQ((call_with_cap), 0);                                 \
		cap = 0;                                                       \
		ASSERT_EQ((call_with_cap), 0);                                 \
	} while (0)

static void
test_encoders(void)
{
	static uint8_t out[4096];
	static struct nvw_resume r = { .tier = 3, .count = 64 };
	struct nvw_hello h = hello(NVW_ROLE_SENDER, "orders");
	struct nvw_origin o = { .index = 7, .producer = 1 };

	CAP_CHECK(nvw_put_hello(out, cap, &h));
	CAP_CHECK(nvw_put_resume(out, cap, &r));
	CAP_CHECK(nvw_put_origin(out, cap, &o));
	CAP_CHECK(nvw_put_msg(out, cap, 1, 1, "abcdef", 6));
	CAP_CHECK(nvw_put_msg(out, cap, 1, 1, NULL, 100)); /* payload room */
	CAP_CHECK(nvw_put_u64(out, cap, NVW_ACK, 5));
	CAP_CHECK(nvw_put_u64(out, cap, NVW_PING, 5));
	CAP_CHECK(nvw_put_u64(out, cap, NVW_PONG, 5));
	CAP_CHECK(nvw_put_error(out, cap, 1, "why"));
	CAP_CHECK(nvw_put_error(out, cap, 1, ""));
	ASSERT_EQ(nvw_put_u64(NULL, 0, NVW_ACK, 5), 0);

	/* fields out of range: what the decoder refuses */
	struct nvw_hello bad = h;
	bad.version = 2;
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad = h;
	bad.role = 3;
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad = h;
	bad.flags = 2;
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad = h;
	bad.max_msg = 0;
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad.max_msg = (1u << 30) + 1;
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad = hello(NVW_ROLE_SENDER, "");
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad = hello(NVW_ROLE_SENDER, ".x");
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad = hello(NVW_ROLE_RECEIVER, "a/b");
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);
	bad = h;
	memset(bad.channel, 'a', sizeof(bad.channel)); /* no NUL: 48 bytes */
	ASSERT_EQ(nvw_put_hello(out, sizeof(out), &bad), 0);

	static struct nvw_resume br;
	br = r;
	br.tier = 0;
	ASSERT_EQ(nvw_put_resume(out, sizeof(out), &br), 0);
	br.tier = 5;
	ASSERT_EQ(nvw_put_resume(out, sizeof(out), &br), 0);
	br = r;
	br.flags = 2;
	ASSERT_EQ(nvw_put_resume(out, sizeof(out), &br), 0);
	br = r;
	br.count = 65;
	ASSERT_EQ(nvw_put_resume(out, sizeof(out), &br), 0);
	br = r;
	br.ent[63].producer = 64;
	ASSERT_EQ(nvw_put_resume(out, sizeof(out), &br), 0);

	struct nvw_origin bo = o;
	bo.index = NVW_MAX_INDEX;
	ASSERT_EQ(nvw_put_origin(out, sizeof(out), &bo), 0);
	bo = o;
	bo.producer = 64;
	ASSERT_EQ(nvw_put_origin(out, sizeof(out), &bo), 0);

	ASSERT_EQ(nvw_put_msg(out, sizeof(out), NVW_MAX_INDEX, 1, "a", 1), 0);
	ASSERT_EQ(nvw_put_msg(out, sizeof(out), 0, 0, "a", 1), 0);
	ASSERT_EQ(nvw_put_msg(out, sizeof(out), 0, 1, "a", 0), 0);
	ASSERT_EQ(nvw_put_msg(out, SIZE_MAX, 0, 1, NULL, UINT32_MAX), 0);

	ASSERT_EQ(nvw_put_u64(out, sizeof(out), NVW_HELLO, 1), 0);
	ASSERT_EQ(nvw_put_u64(out, sizeof(out), NVW_MSG, 1), 0);
	ASSERT_EQ(nvw_put_u64(out, sizeof(out), (enum nvw_type)9, 1), 0);

	/* the header written is the frame's */
	ASSERT_EQ(nvw_put_error(out, sizeof(out), 1, "abc"), NVW_HDR + 7);
	ASSERT_EQ(get32(out), 7);
	ASSERT_EQ(out[4] | out[5] << 8, NVW_ERROR);
	ASSERT_EQ(out[6] | out[7], 0);
}

int
main(void)
{
	t_watchdog(t_sanitized() ? 50 : 30);
	test_golden();
	test_roundtrip();
	test_header_refusals();
	test_hello_refusals();
	test_resume_refusals();
	test_other_refusals();
	test_partial();
	test_encoders();
	free(copy_buf);
	printf("t_wire: ok\n");
	return T_PASS;
}
