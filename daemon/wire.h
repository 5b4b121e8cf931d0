/* SPDX-License-Identifier: MIT */
/*
 * wire.h -- the link protocol's frames (docs/WIRE.md, version 1): their
 * encoders and one decoder that checks every field before anything uses it.
 *
 * A frame is an 8-byte header and a body:
 *
 *   OFFSET SIZE
 *        0    4  body_len: bytes after the header (<= the decoder's limit)
 *        4    2  type (enum nvw_type)
 *        6    2  flags, zero in version 1 (a non-zero value is refused)
 *        8  len  body, laid out per type below; all integers little-endian
 *
 * The decoder never allocates and never reads past the bytes it is given:
 * nvw_parse() returns 0 until a whole frame is there, and a frame whose
 * header already shows it is bad (unknown type, flags, a length above the
 * limit or not the one its type needs) is refused as soon as the header is
 * in, so a hostile peer cannot make the reader wait for or buffer more than
 * the limit.  Names and texts are checked for their character set.
 */
#ifndef NVD_WIRE_H
#define NVD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define NVW_VERSION 1u
#define NVW_MAGIC "NVMSGLNK" /* 8 bytes, no NUL on the wire */
#define NVW_HDR 8u	     /* frame header bytes */
#define NVW_NAME_MAX 47u     /* channel names, as NVMSG_NAME_MAX */
#define NVW_MAX_ORIGINS 64u  /* entries of a RESUME (NVMSG_MAX_PRODUCERS) */
#define NVW_MAX_INDEX 1024u  /* origin indexes a link may declare */
#define NVW_TEXT_MAX 256u    /* bytes of an ERROR's text */
#define NVW_MSG_HDR 12u	     /* MSG body bytes before the payload */

enum nvw_type {
	NVW_HELLO = 1,	/* both ends, first frame */
	NVW_RESUME = 2, /* receiver -> sender, answers the sender's HELLO */
	NVW_ORIGIN = 3, /* sender -> receiver: index -> (channel, producer) */
	NVW_MSG = 4,	/* sender -> receiver: one message */
	NVW_ACK = 5,	/* receiver -> sender: MSGs durable, cumulative */
	NVW_PING = 6,	/* either way: liveness */
	NVW_PONG = 7,	/* answers PING with its token */
	NVW_ERROR = 8,	/* either way, then the sender of it closes */
};

/* HELLO roles */
#define NVW_ROLE_SENDER 1u
#define NVW_ROLE_RECEIVER 2u
/* HELLO flags; ALLOW_VOLATILE: the sender accepts a receiving channel
 * that is not durable */
#define NVW_HELLO_ALLOW_VOLATILE 0x1u
/* RESUME flags */
#define NVW_RESUME_DURABLE 0x1u /* receiving channel on pmem or msync */

/*
 * HELLO body (21 + name_len bytes exactly):
 *    0  8  magic "NVMSGLNK"
 *    8  2  version (1; another is refused)
 *   10  2  role (1 sender, 2 receiver)
 *   12  4  flags (HELLO flags; unknown bits refused)
 *   16  4  max_msg: sender: largest payload it sends; receiver: largest
 *          it accepts (1 .. 1 << 30)
 *   20  1  name_len (0 .. 47)
 *   21  n  channel: sender: the receiving channel's name (1..47 bytes,
 *          [A-Za-z0-9_.-], not starting with '.'); receiver: the channel
 *          it asks a listening sender for, or empty (n = 0): any
 */
struct nvw_hello {
	uint16_t version;
	uint16_t role;
	uint32_t flags;
	uint32_t max_msg;
	char channel[NVW_NAME_MAX + 1]; /* NUL-terminated, may be "" */
};

/*
 * RESUME body (12 + 28 * count bytes exactly):
 *    0  4  tier (enum nvmsg_tier: 1..4)
 *    4  4  flags (RESUME flags)
 *    8  4  count (0 .. 64)
 *   12 + 28 i: uuid[16], producer u32 (a slot id: < 64), seq u64: the
 *          highest sequence number the receiving channel holds durably
 *          from that origin
 */
struct nvw_resume_ent {
	uint8_t uuid[16];
	uint32_t producer;
	uint64_t seq;
};
struct nvw_resume {
	uint32_t tier;
	uint32_t flags;
	uint32_t count;
	struct nvw_resume_ent ent[NVW_MAX_ORIGINS];
};

/*
 * ORIGIN body (24 bytes): index u32 (< 1024), uuid[16], producer u32
 * (a slot id: < 64).
 * Declares what MSG frames with that origin index come from; an index may
 * be declared again only with the same origin (the receiver checks).
 */
struct nvw_origin {
	uint32_t index;
	uint8_t uuid[16];
	uint32_t producer;
};

/*
 * MSG body (12 + len bytes, len >= 1): origin index u32 (< 1024), seq
 * u64 (>= 1), payload.  The decoder checks len against its max_body
 * only; the receiver checks it against the HELLO's max_msg.
 */
struct nvw_msg {
	uint32_t origin;
	uint64_t seq;
	const uint8_t *data; /* into the caller's buffer */
	uint32_t len;
};

/* ACK body (8): count u64, MSG frames of this connection durable (or
 * dropped as already held), cumulative.  PING and PONG body (8): token. */

/* ERROR body (4 + n bytes, n <= 256): code u32 (enum nvw_err), text of
 * printable ASCII (0x20..0x7e) */
enum nvw_err {
	NVW_ERR_PROTOCOL = 1, /* a frame that breaks this format */
	NVW_ERR_VERSION = 2,  /* HELLO version not spoken */
	NVW_ERR_ROLE = 3,     /* both ends have the same role */
	NVW_ERR_CHANNEL = 4,  /* channel missing, unusable, or not offered */
	NVW_ERR_DURABLE = 5,  /* receiving channel not durable, not allowed */
	NVW_ERR_TOO_BIG = 6,  /* max_msg above what the other end takes */
	NVW_ERR_FULL = 7,     /* no producer slot left for a new origin */
	NVW_ERR_SHUTDOWN = 8, /* the daemon stops */
	NVW_ERR_INTERNAL = 9, /* a local failure (logged there) */
};

struct nvw_frame {
	uint16_t type;
	uint32_t body_len;
	union {
		struct nvw_hello hello;
		struct nvw_resume resume;
		struct nvw_origin origin;
		struct nvw_msg msg;
		uint64_t count; /* ACK */
		uint64_t token; /* PING, PONG */
		struct {
			uint32_t code;
			char text[NVW_TEXT_MAX + 1]; /* NUL-terminated */
		} error;
	} u;
};

/*
 * nvw_parse -- decode the frame at the start of BUF (N bytes available).
 * MAX_BODY bounds body_len (the caller's buffer, e.g. NVW_MSG_HDR + its
 * max_msg; at least 12 + 28 * 64, the largest RESUME, so that every
 * control frame fits).
 * Returns 1 with *F filled and *USED = NVW_HDR + body_len; 0 when more
 * bytes are needed (then *USED is the total the frame needs if the header
 * is in, else NVW_HDR); -EPROTO when the bytes are not a valid frame: WHY
 * (WHYLEN bytes, may be 0) gets a sentence naming the field, and *USED is
 * 0.  A refusal is decided from the header alone whenever the header
 * shows it.  Whenever the header is in (even on a refusal), F->type and
 * F->body_len hold its values; a HELLO refused after its magic matched
 * has F->u.hello.version set, so that the caller can tell a version it
 * does not speak (answered with NVW_ERR_VERSION) from other refusals.
 */
int nvw_parse(const uint8_t *buf, size_t n, size_t max_body,
	      struct nvw_frame *f, size_t *used, char *why, size_t whylen);

/*
 * Encoders: each writes one whole frame at OUT (CAP bytes) and returns
 * its size, or 0 when CAP is too small or a field is out of range (the
 * encoders refuse what the decoder would refuse).
 */
size_t nvw_put_hello(uint8_t *out, size_t cap, const struct nvw_hello *h);
size_t nvw_put_resume(uint8_t *out, size_t cap, const struct nvw_resume *r);
size_t nvw_put_origin(uint8_t *out, size_t cap, const struct nvw_origin *o);
/* nvw_put_msg -- header and MSG head of a LEN-byte payload copied from
 * DATA (DATA may be NULL: then only the NVW_HDR + NVW_MSG_HDR bytes are
 * written and the caller copies the payload after them; CAP and the size
 * returned still count the payload) */
size_t nvw_put_msg(uint8_t *out, size_t cap, uint32_t origin, uint64_t seq,
		   const void *data, uint32_t len);
size_t nvw_put_u64(uint8_t *out, size_t cap, enum nvw_type type,
		   uint64_t v); /* ACK, PING, PONG */
size_t nvw_put_error(uint8_t *out, size_t cap, uint32_t code,
		     const char *text); /* text cut to 256, non-printable
					 * bytes replaced by '?' */

/* nvw_type_name -- "HELLO", ... or "?" */
const char *nvw_type_name(unsigned type);

#endif
