/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire.c -- the link protocol's decoder (daemon/wire.c) on the bytes
 * a hostile peer sends, as nvmsgd's link reader would see them.
 *
 * INPUT
 *   byte 0      mode (bit 0) | chunk size - 1 (bits 7..1)
 *   mode 0      stream: the rest is a stream of frames, parsed one after
 *               the other (max_body 64 KiB) until one is refused or the
 *               bytes end
 *   mode 1      handshake: the rest arrives in chunks of (byte 0 >> 1) + 1
 *               bytes through a reader's buffer of NVW_HDR + 4 KiB, and
 *               the frames drive a link end's state machine (below)
 *
 * Oracles, both modes: every parse reads from a buffer of exactly the
 * bytes given (ASan catches a read past them); 1 is returned only for a
 * whole frame, with *used = NVW_HDR + body_len; 0 asks for more than is
 * there, and never for more than NVW_HDR + max_body; a refusal is
 * -EPROTO with *used 0 and a non-empty sentence, and is never decided
 * before the frame is whole unless its header already shows it.
 *
 * Stream mode: every accepted frame is encoded again from its fields by
 * the matching encoder, and the bytes must be the input's (round trip);
 * one byte less of room must make the encoder refuse; the fields hold
 * what wire.h promises (ranges, lengths, character sets).
 *
 * Handshake mode, a link end's state machine: the first frame must be
 * HELLO; after it, a second HELLO is a violation; a sender peer may send
 * ORIGIN, MSG, PING, PONG, ERROR; a receiver peer RESUME (once), ACK
 * (never decreasing), PING, PONG, ERROR; a MSG needs its origin index
 * declared by an ORIGIN, and carries at most the HELLO's max_msg; an
 * index is declared again only with the same origin.  A violation or a
 * refusal ends the connection with an ERROR, which must encode and parse
 * back; a PING is answered by a PONG, likewise.  The tables are indexed
 * by the decoded fields without further checks: an index the decoder
 * let through out of range is a finding for ASan and UBSan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "wire.h"

#define STREAM_MAX (64u * 1024) /* max_body of the stream mode */
#define HS_MAX 4096u		/* max_body of the handshake mode */
#define WHY 160

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* parse -- nvw_parse of P[0..N) as the decoder's contract requires;
 * returns its rc with *F, *USED and WHY filled */
static int
parse(const uint8_t *p, size_t n, size_t max_body, struct nvw_frame *f,
      size_t *used, char why[WHY])
{
	int rc;

	why[0] = '\0';
	rc = nvw_parse(p, n, max_body, f, used, why, WHY);
	if (rc == 1) {
		FZ_CHECK(n >= NVW_HDR && *used == NVW_HDR + f->body_len &&
				 *used <= n && f->body_len <= max_body,
			 "accepted: n %zu used %zu body_len %u", n, *used,
			 f->body_len);
		FZ_CHECK(f->type == get16(p + 4) && f->body_len == get32(p),
			 "type or body_len not the header's");
	} else if (rc == 0) {
		FZ_CHECK(*used > n && *used >= NVW_HDR &&
				 *used <= NVW_HDR + max_body,
			 "need more: n %zu used %zu max_body %zu", n, *used,
			 max_body);
		if (n >= NVW_HDR)
			FZ_CHECK(*used == NVW_HDR + get32(p),
				 "need more: used %zu, header says %u", *used,
				 get32(p));
	} else {
		FZ_CHECK(rc == -EPROTO && *used == 0 && why[0],
			 "refused: rc %d used %zu why \"%s\"", rc, *used, why);
		FZ_CHECK(n >= NVW_HDR, "refused before the header was in");
	}
	return rc;
}

/* header_only -- after a refusal of P[0..N): parsed with its header
 * alone, the frame is refused too, or the whole frame was there (a body
 * is judged only when whole) */
static void
header_only(const uint8_t *p, size_t n, size_t max_body)
{
	struct nvw_frame f;
	size_t used;
	char why[WHY];
	uint8_t h[NVW_HDR];

	memcpy(h, p, NVW_HDR);
	if (parse(h, NVW_HDR, max_body, &f, &used, why) == 0)
		FZ_CHECK(used <= n,
			 "refused with %zu bytes of a %zu-byte frame whose "
			 "header is fine",
			 n, used);
}

/* encode -- frame F again with the matching encoder into OUT (CAP) */
static size_t
encode(const struct nvw_frame *f, uint8_t *out, size_t cap)
{
	switch (f->type) {
	case NVW_HELLO:
		return nvw_put_hello(out, cap, &f->u.hello);
	case NVW_RESUME:
		return nvw_put_resume(out, cap, &f->u.resume);
	case NVW_ORIGIN:
		return nvw_put_origin(out, cap, &f->u.origin);
	case NVW_MSG:
		return nvw_put_msg(out, cap, f->u.msg.origin, f->u.msg.seq,
				   f->u.msg.data, f->u.msg.len);
	case NVW_ACK:
		return nvw_put_u64(out, cap, NVW_ACK, f->u.count);
	case NVW_PING:
	case NVW_PONG:
		return nvw_put_u64(out, cap, (enum nvw_type)f->type,
				   f->u.token);
	case NVW_ERROR:
		return nvw_put_error(out, cap, f->u.error.code,
				     f->u.error.text);
	default:
		FZ_CHECK(0, "accepted frame of type %u", f->type);
		return 0;
	}
}

static int
name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       (c == '.' && !first);
}

/* fields -- what wire.h promises of an accepted frame at P */
static void
fields(const struct nvw_frame *f, const uint8_t *p)
{
	size_t len;

	switch (f->type) {
	case NVW_HELLO:
		len = strlen(f->u.hello.channel);
		FZ_CHECK(f->u.hello.version == NVW_VERSION &&
				 (f->u.hello.role == NVW_ROLE_SENDER ||
				  f->u.hello.role == NVW_ROLE_RECEIVER) &&
				 !(f->u.hello.flags &
				   ~NVW_HELLO_ALLOW_VOLATILE) &&
				 f->u.hello.max_msg >= 1 &&
				 f->u.hello.max_msg <= 1u << 30,
			 "HELLO accepted with a field out of range");
		FZ_CHECK(len == f->body_len - 21 && len <= NVW_NAME_MAX &&
				 (len > 0 ||
				  f->u.hello.role == NVW_ROLE_RECEIVER),
			 "HELLO channel of %zu bytes, body_len %u", len,
			 f->body_len);
		for (size_t i = 0; i < len; i++)
			FZ_CHECK(name_char(f->u.hello.channel[i], i == 0),
				 "HELLO channel byte %zu accepted", i);
		break;
	case NVW_RESUME:
		FZ_CHECK(f->u.resume.tier >= 1 && f->u.resume.tier <= 4 &&
				 f->u.resume.count <= NVW_MAX_ORIGINS &&
				 f->body_len == 12 + 28 * f->u.resume.count,
			 "RESUME accepted: tier %u count %u body_len %u",
			 f->u.resume.tier, f->u.resume.count, f->body_len);
		break;
	case NVW_ORIGIN:
		FZ_CHECK(f->u.origin.index < NVW_MAX_INDEX,
			 "ORIGIN index %u accepted", f->u.origin.index);
		break;
	case NVW_MSG:
		FZ_CHECK(f->u.msg.seq >= 1 && f->u.msg.origin < NVW_MAX_INDEX &&
				 f->u.msg.len >= 1 &&
				 f->u.msg.len == f->body_len - NVW_MSG_HDR &&
				 f->u.msg.data == p + NVW_HDR + NVW_MSG_HDR,
			 "MSG accepted: seq %llu origin %u len %u",
			 (unsigned long long)f->u.msg.seq, f->u.msg.origin,
			 f->u.msg.len);
		break;
	case NVW_ERROR:
		len = strlen(f->u.error.text);
		FZ_CHECK(len == f->body_len - 4 && len <= NVW_TEXT_MAX,
			 "ERROR text of %zu bytes, body_len %u", len,
			 f->body_len);
		for (size_t i = 0; i < len; i++)
			FZ_CHECK(f->u.error.text[i] >= 0x20 &&
					 f->u.error.text[i] <= 0x7e,
				 "ERROR text byte %zu accepted", i);
		break;
	default:
		FZ_CHECK(f->body_len == 8, "%s of %u bytes accepted",
			 nvw_type_name(f->type), f->body_len);
		break;
	}
}

/* roundtrip -- the accepted SIZE-byte frame at P encodes again to P */
static void
roundtrip(const struct nvw_frame *f, const uint8_t *p, size_t size)
{
	static uint8_t out[NVW_HDR + STREAM_MAX];
	size_t m = encode(f, out, size);

	FZ_CHECK(m == size && memcmp(out, p, size) == 0,
		 "%s of %zu bytes encodes again to %zu bytes%s",
		 nvw_type_name(f->type), size, m,
		 m == size ? " that differ" : "");
	FZ_CHECK(encode(f, out, size - 1) == 0,
		 "%s encoded into %zu bytes of room, %zu needed",
		 nvw_type_name(f->type), size - 1, size);
}

/* ------------------------------------------------------------- stream */

static void
stream(const uint8_t *in, size_t n)
{
	struct nvw_frame f;
	size_t off = 0, used, used2;
	char why[WHY];
	int rc;

	for (;;) {
		rc = parse(in + off, n - off, STREAM_MAX, &f, &used, why);
		if (rc < 0)
			header_only(in + off, n - off, STREAM_MAX);
		if (rc != 1)
			return;
		fields(&f, in + off);
		roundtrip(&f, in + off, used);
		/* one byte short: more is needed, the whole frame */
		rc = parse(in + off, used - 1, STREAM_MAX, &f, &used2, why);
		FZ_CHECK(rc == 0 && used2 == used,
			 "frame of %zu bytes less one: rc %d used %zu", used,
			 rc, used2);
		off += used;
	}
}

/* ---------------------------------------------------------- handshake */

enum { WANT_HELLO, OPEN, CLOSED };

struct conn {
	int state;
	unsigned role;	  /* the peer's HELLO role */
	uint32_t max_msg; /* the peer's HELLO max_msg */
	int resumed;	  /* a RESUME came */
	uint64_t msgs;	  /* MSG frames received */
	uint64_t acked;	  /* the last ACK's count */
	uint64_t pings;	  /* PONGs sent */
	struct nvw_origin origin[NVW_MAX_INDEX];
	uint8_t declared[NVW_MAX_INDEX];
	uint64_t slot_seq[64];	   /* per producer slot id: RESUME's seq */
	uint8_t slot_declared[64]; /* per producer slot id: in an ORIGIN */
};

/* answer -- FRAME (SIZE bytes, 0: refused by its encoder) parses back */
static void
answer(const uint8_t *frame, size_t size, unsigned type)
{
	struct nvw_frame f;
	size_t used;
	char why[WHY];

	FZ_CHECK(size > 0, "%s answer not encoded", nvw_type_name(type));
	FZ_CHECK(parse(frame, size, HS_MAX, &f, &used, why) == 1 &&
			 f.type == type && used == size,
		 "%s answer does not parse back: %s", nvw_type_name(type), why);
}

/* close_with -- end C with an ERROR of CODE saying WHY */
static void
close_with(struct conn *c, uint32_t code, const char *why)
{
	uint8_t out[NVW_HDR + 4 + NVW_TEXT_MAX];

	FZ_CHECK(why && why[0], "closed without a reason");
	answer(out, nvw_put_error(out, sizeof(out), code, why), NVW_ERROR);
	c->state = CLOSED;
}

/* step -- one accepted frame F on connection C */
static void
step(struct conn *c, const struct nvw_frame *f)
{
	uint8_t out[NVW_HDR + 8];

	if (c->state == WANT_HELLO) {
		if (f->type != NVW_HELLO) {
			close_with(c, NVW_ERR_PROTOCOL, "want HELLO first");
			return;
		}
		c->role = f->u.hello.role;
		c->max_msg = f->u.hello.max_msg;
		c->state = OPEN;
		return;
	}
	switch (f->type) {
	case NVW_HELLO:
		close_with(c, NVW_ERR_PROTOCOL, "HELLO again");
		return;
	case NVW_PING:
		c->pings++;
		answer(out, nvw_put_u64(out, sizeof(out), NVW_PONG, f->u.token),
		       NVW_PONG);
		return;
	case NVW_PONG:
		return;
	case NVW_ERROR:
		c->state = CLOSED;
		return;
	default:
		break;
	}
	if (c->role == NVW_ROLE_RECEIVER) {
		if (f->type == NVW_RESUME && !c->resumed) {
			c->resumed = 1;
			for (uint32_t i = 0; i < f->u.resume.count; i++)
				c->slot_seq[f->u.resume.ent[i].producer] =
					f->u.resume.ent[i].seq;
		} else if (f->type == NVW_ACK && f->u.count >= c->acked) {
			c->acked = f->u.count;
		} else {
			close_with(c, NVW_ERR_PROTOCOL,
				   "frame not for a sender, or out of order");
		}
		return;
	}
	/* the peer is a sender */
	if (f->type == NVW_ORIGIN) {
		const struct nvw_origin *o = &f->u.origin;
		struct nvw_origin *d = &c->origin[o->index];

		if (c->declared[o->index] &&
		    (d->producer != o->producer ||
		     memcmp(d->uuid, o->uuid, 16) != 0)) {
			close_with(c, NVW_ERR_PROTOCOL,
				   "ORIGIN index declared with another origin");
			return;
		}
		*d = *o;
		c->declared[o->index] = 1;
		c->slot_declared[o->producer] = 1; /* a slot id: < 64 */
	} else if (f->type == NVW_MSG) {
		if (!c->declared[f->u.msg.origin] ||
		    f->u.msg.len > c->max_msg) {
			close_with(c, NVW_ERR_PROTOCOL,
				   "MSG of an undeclared origin, or too big");
			return;
		}
		c->msgs++;
	} else {
		close_with(c, NVW_ERR_PROTOCOL, "frame not for a receiver");
	}
}

/* refused -- the reader's bytes RX[0..HAVE) were refused: a HELLO
 * refused for its version says so (the caller answers NVW_ERR_VERSION) */
static void
refused(struct conn *c, const struct nvw_frame *f, const uint8_t *rx,
	size_t have, const char *why)
{
	header_only(rx, have, HS_MAX);
	if (f->type == NVW_HELLO && get16(rx + 6) == 0 && f->body_len >= 21 &&
	    f->body_len <= 68 && have >= NVW_HDR + f->body_len &&
	    memcmp(rx + NVW_HDR, NVW_MAGIC, 8) == 0) {
		unsigned v = get16(rx + NVW_HDR + 8);

		FZ_CHECK(f->u.hello.version == v,
			 "HELLO refused: version %u reported, %u sent",
			 f->u.hello.version, v);
		if (v != NVW_VERSION) {
			FZ_CHECK(strstr(why, "version") != NULL,
				 "HELLO version %u refused as \"%s\"", v, why);
			close_with(c, NVW_ERR_VERSION, why);
			return;
		}
	}
	close_with(c, NVW_ERR_PROTOCOL, why);
}

static void
handshake(const uint8_t *in, size_t n, size_t chunk)
{
	static struct conn c;
	static uint8_t rx[NVW_HDR + HS_MAX];
	struct nvw_frame f;
	size_t have = 0, off = 0, used;
	char why[WHY];
	int rc;

	memset(&c, 0, sizeof(c));
	while (c.state != CLOSED) {
		/* read: at most a chunk, at most the room left */
		size_t k = n - off < chunk ? n - off : chunk;

		if (k > sizeof(rx) - have)
			k = sizeof(rx) - have;
		if (k == 0)
			return; /* the peer sent nothing more */
		memcpy(rx + have, in + off, k);
		have += k;
		off += k;
		/* the frames that are whole, each parsed from an exact copy */
		while (c.state != CLOSED) {
			uint8_t *p = malloc(have ? have : 1);

			if (!p)
				abort();
			memcpy(p, rx, have);
			rc = parse(p, have, HS_MAX, &f, &used, why);
			if (rc == 0) {
				FZ_CHECK(used <= sizeof(rx),
					 "asks for %zu bytes, the buffer "
					 "holds %zu",
					 used, sizeof(rx));
			} else if (rc < 0) {
				refused(&c, &f, p, have, why);
			} else {
				fields(&f, p);
				step(&c, &f);
				memmove(rx, rx + used, have - used);
				have -= used;
			}
			free(p);
			if (rc != 1)
				break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	if (n < 1)
		return 0;
	if (in[0] & 1)
		handshake(in + 1, n - 1, (size_t)(in[0] >> 1) + 1);
	else
		stream(in + 1, n - 1);
	return 0;
}
