/* SPDX-License-Identifier: MIT */
/*
 * fuzz_record.c -- the log layer's parsers of untrusted bytes, in memory
 * (internal API, no files: fast): nv_rec_read and nv_scan_ring on a ring
 * of a power-of-two size at an arbitrary position, nv_desc_read on a
 * producer slot, nv_data_hdr_check and nv_cur_hdr_check on headers.
 *
 * INPUT
 *   byte 0        mode (bits 7..5) | log2 of the ring size (bits 4..0,
 *                 taken mod 17: 1 byte to 64 KiB)
 *   mode 0..3, 7  records: byte 1 flags (bit 0 reseal the records that
 *                 look placed, bit 1 verify checksums), bytes 2..9 the
 *                 start position (u64 LE), byte 10 the producer id,
 *                 then the ring's bytes (zero-filled or cut to size)
 *   mode 4        batch descriptors: byte 1 slot id, then a 256-byte slot
 *   mode 5        data header: u64 LE file size, then the header
 *   mode 6        cursor header: u64 LE file size, u32 LE consumer index,
 *                 a data header (256 bytes), then the cursor header
 * The ring, slot and headers are malloc'd at their exact size, so ASan
 * catches a read one byte past them.
 *
 * Oracles: a record read succeeds only inside the ring (payload, size,
 * pad to the ring end); a scan stays within one lap, ends on a record
 * boundary, and every record it counted reads again with its checksum,
 * with increasing sequence numbers; a header accepted has a geometry in
 * range that fits the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmsg.h>

#include "base/checksum.h"
#include "fuzz_common.h"
#include "log/log.h"
#include "recover/recover.h"
#include "t_util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* copy -- a malloc'd buffer of exactly LEN bytes from IN (zero-filled) */
static uint8_t *
copy(const uint8_t *in, size_t n, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		abort();
	memset(b, 0, len);
	memcpy(b, in, n < len ? n : len);
	return b;
}

static void
one_record(const uint8_t *ring, uint64_t rb, uint64_t pos, int level)
{
	struct nv_rec_info ri;
	const char *why = NULL;
	int rc = nv_rec_read(ring, rb, pos, level, &ri, &why);

	if (rc != 0) {
		FZ_CHECK(rc == NVMSG_E_CORRUPT && why && why[0],
			 "nv_rec_read: %d, why %s", rc, why ? why : "NULL");
		return;
	}
	uint64_t off = pos & (rb - 1);
	FZ_CHECK(ri.pos == pos && ri.payload == ring + off + NV_REC_HDR,
		 "record at %llu: payload not after its header",
		 (unsigned long long)pos);
	FZ_CHECK(off + NV_REC_HDR + ri.len <= rb && ri.size >= NV_REC_HDR &&
			 ri.size <= rb - off,
		 "record at offset %llu of %llu bytes: len %u size %llu",
		 (unsigned long long)off, (unsigned long long)rb, ri.len,
		 (unsigned long long)ri.size);
	if (ri.type == NV_REC_PAD)
		FZ_CHECK(off + ri.size == rb, "pad does not end the ring");
	else
		FZ_CHECK(ri.type == NV_REC_MSG &&
				 ri.size == nv_rec_size(ri.len),
			 "message type %u size %llu", ri.type,
			 (unsigned long long)ri.size);
}

static void
scan(const uint8_t *ring, uint64_t rb, unsigned producer, uint64_t start)
{
	struct nv_scan s;
	struct nv_rec_info ri;
	const char *why;

	nv_scan_ring(ring, rb, producer, start, &s);
	FZ_CHECK(s.start == start && s.end >= start && s.end - start <= rb,
		 "scan from %llu ended at %llu (ring %llu)",
		 (unsigned long long)start, (unsigned long long)s.end,
		 (unsigned long long)rb);
	FZ_CHECK((s.end - start) % NV_REC_ALIGN == 0 && s.stop && s.stop[0],
		 "scan end %llu not a record boundary, or no reason",
		 (unsigned long long)s.end);
	/* walk again: every counted record verifies, in order */
	uint64_t pos = start, seq = 0, msgs = 0, pads = 0;
	while (pos < s.end) {
		FZ_CHECK(nv_rec_read(ring, rb, pos, NV_REC_SEALED, &ri, &why) ==
				 0,
			 "scanned record at %llu does not read again: %s",
			 (unsigned long long)pos, why);
		FZ_CHECK(ri.producer == producer, "scanned foreign record");
		if (ri.type == NV_REC_MSG) {
			FZ_CHECK(ri.seq > seq, "sequence %llu after %llu",
				 (unsigned long long)ri.seq,
				 (unsigned long long)seq);
			seq = ri.seq;
			msgs++;
		} else {
			pads++;
		}
		pos += ri.size;
	}
	FZ_CHECK(pos == s.end && msgs == s.records && pads == s.pads &&
			 seq == s.last_seq,
		 "scan counted %llu+%llu records to %llu, walk %llu+%llu to "
		 "%llu",
		 (unsigned long long)s.records, (unsigned long long)s.pads,
		 (unsigned long long)s.end, (unsigned long long)msgs,
		 (unsigned long long)pads, (unsigned long long)pos);
}

static void
records(const uint8_t *in, size_t n, unsigned k)
{
	if (n < 11)
		return;
	uint64_t rb = 1ull << (k % 17);
	unsigned flags = in[1];
	uint64_t pos = t_get64(in + 2);
	unsigned producer = in[10];
	uint8_t *ring = copy(in + 11, n - 11, rb);

	if (flags & 1)
		fz_reseal_ring(ring, rb);
	int level = flags & 4	? NV_REC_SEALED
		    : flags & 2 ? NV_REC_VERIFY
				: NV_REC_BOUNDS;
	one_record(ring, rb, pos, level);
	one_record(ring, rb, pos & ~(uint64_t)(NV_REC_ALIGN - 1), level);
	scan(ring, rb, producer, pos);
	scan(ring, rb, producer, pos - (pos & (rb - 1))); /* lap start */
	free(ring);
}

static void
descs(const uint8_t *in, size_t n)
{
	if (n < 2)
		return;
	unsigned id = in[1] % NVMSG_MAX_PRODUCERS;
	struct nv_prod_slot *s = (void *)copy(in + 2, n - 2, sizeof(*s));
	struct nv_desc d;

	for (unsigned k = 0; k < 2; k++)
		if (nv_desc_read(s, id, k, &d))
			FZ_CHECK(d.end_pos % NV_REC_ALIGN == 0 &&
					 d.first_seq <= d.end_seq,
				 "descriptor accepted: end %llu first %llu "
				 "end_seq %llu",
				 (unsigned long long)d.end_pos,
				 (unsigned long long)d.first_seq,
				 (unsigned long long)d.end_seq);
	free(s);
}

static void
data_hdr(const uint8_t *in, size_t n, struct nv_data_hdr **out,
	 uint64_t *file_bytes)
{
	struct nv_layout l;

	*out = NULL;
	if (n < 8)
		return;
	*file_bytes = t_get64(in);
	struct nv_data_hdr *h = (void *)copy(in + 8, n - 8, sizeof(*h));
	int rc = nv_data_hdr_check(h, *file_bytes, "/fuzz/data", &l);
	if (rc == 0) {
		FZ_CHECK(l.file_bytes <= *file_bytes &&
				 l.file_bytes == h->file_bytes &&
				 l.ring_bytes >= NVMSG_MIN_CAPACITY &&
				 (l.ring_bytes & (l.ring_bytes - 1)) == 0 &&
				 l.max_producers >= 1 &&
				 l.max_producers <= NVMSG_MAX_PRODUCERS &&
				 l.max_consumers >= 1 &&
				 l.max_consumers <= NVMSG_MAX_CONSUMERS,
			 "header accepted with geometry out of range");
		FZ_CHECK(h->tier >= 1 && h->tier <= 4, "tier %u accepted",
			 h->tier);
	} else {
		FZ_CHECK(rc == NVMSG_E_CORRUPT || rc == NVMSG_E_VERSION,
			 "nv_data_hdr_check: %d", rc);
		FZ_CHECK(strstr(nvmsg_errmsg(), "/fuzz/data") != NULL,
			 "header error names no file: %s", nvmsg_errmsg());
	}
	*out = h;
}

static void
cur_hdr(const uint8_t *in, size_t n)
{
	struct nv_data_hdr *h;
	uint64_t file_bytes;

	if (n < 12 + sizeof(*h))
		return;
	uint32_t index;
	memcpy(&index, in + 8, 4);
	file_bytes = t_get64(in);
	h = (void *)copy(in + 12, sizeof(*h), sizeof(*h));
	struct nv_cur_hdr *c = (void *)copy(in + 12 + sizeof(*h),
					    n - 12 - sizeof(*h), sizeof(*c));
	int rc = nv_cur_hdr_check(c, file_bytes, h, index, "c", "/fuzz/cur");
	if (rc == 0)
		FZ_CHECK(file_bytes >= nv_cur_bytes(h->max_producers) &&
				 c->cons_index == index &&
				 memcmp(c->uuid, h->uuid, 16) == 0,
			 "cursor header accepted for another channel or size");
	else
		FZ_CHECK((rc == NVMSG_E_CORRUPT || rc == NVMSG_E_VERSION ||
			  rc == NVMSG_E_MISMATCH) &&
				 strstr(nvmsg_errmsg(), "/fuzz/cur") != NULL,
			 "nv_cur_hdr_check: %d: %s", rc, nvmsg_errmsg());
	free(c);
	free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct nv_data_hdr *h;
	uint64_t fb;

	if (n < 1)
		return 0;
	switch (in[0] >> 5) {
	case 4:
		descs(in, n);
		break;
	case 5:
		data_hdr(in + 1, n - 1, &h, &fb);
		free(h);
		break;
	case 6:
		cur_hdr(in + 1, n - 1);
		break;
	default:
		records(in, n, in[0] & 31u);
		break;
	}
	return 0;
}
