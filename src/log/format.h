/* SPDX-License-Identifier: MIT */
/*
 * format.h -- the on-media format, version 3.  Same tables as docs/FORMAT.md.
 * All integers little-endian; every offset pinned by _Static_assert below.
 *
 * DATA REGION (DIR/NAME.nvmsg)
 * OFFSET  SIZE  DESCRIPTION
 *      0     8  magic "NVMSGCH\0"
 *      8     4  version (3)
 *     12     4  header_bytes (4096)
 *     16     8  file_bytes
 *     24     8  ring_bytes (per producer ring, power of two)
 *     32     4  max_producers (1..64)
 *     36     4  max_consumers (1..64)
 *     40     4  tier (1 volatile, 2 pmem, 3 msync, 4 emulated)
 *     44     4  flags (0)
 *     48    16  uuid (random, also in every cursor region)
 *     64     8  created_ns (CLOCK_REALTIME)
 *     72     8  cons_table_off
 *     80     8  prod_table_off
 *     88     8  ring_off
 *     96    24  reserved, zero
 *    120     8  header_check = XXH3-64(bytes 0..119, seed 0)
 *    128     4  doorbell (producers increment when a consumer sleeps)
 *    192     8  cons_gen (registrations so far; registrar writes)
 *    256    32  group commit (msync tier; producers write): sync_req,
 *               sync_done, sync_lock (owner word), sync_count
 *    288     4  sync_waiters
 *    292     4  sync_group (tickets the last group msync covered)
 *   4096        consumer table: max_consumers x 64-byte entries
 *      +0   8     state: 0 free, 1 active (stored last)
 *      +8  48     name, NUL-padded
 *   prod_table_off: max_producers x 256-byte slots
 *      +0   8     pub_tail: published position (producer writes,
 *                 consumers read; stored after the record is durable)
 *     +64  32     batch descriptor 0 } written alternately, each flushed
 *     +96  32     batch descriptor 1 } inside its batch's barrier:
 *        +0  8    end_pos: ring tail after the batch
 *        +8  8    end_seq: sequence number after the batch
 *       +16  8    first_seq: the sequence number after the previous
 *                 batch (its first record's, except on a forwarded slot,
 *                 whose numbers may skip: chan/produce.c send_seq)
 *       +24  8    check = XXH3-64(bytes +0..+23, seed 2 * id + index + 1)
 *    +128   8     owner: boot16 << 48 | start26 << 22 | pid22 (0 free)
 *    +136   8     reserved, zero
 *    +144   4     waiting: producer sleeps on a full ring
 *    +192  64     origin line (forwarded slots; all zero otherwise),
 *                 written and persisted once, before the slot's first
 *                 record, never changed after:
 *        +0 16    origin channel uuid
 *       +16  4    origin producer slot id
 *       +20  4    flags: 1 (set)
 *       +24 32    reserved, zero
 *       +56  8    check = XXH3-64(bytes +0..+55, seed 0x6f726967 + id)
 *   ring_off: max_producers rings of ring_bytes each
 *
 * RECORD (32-byte aligned inside a ring; never straddles the ring end)
 *      0   8  commit = pos | 1: the record's absolute position (never
 *             wraps) with bit 0 set, stored with release AFTER the
 *             batch's barrier; consumers read a record when its commit
 *             word is set; not covered by check and may be missing on
 *             media after a power failure (recovery restores it)
 *      8   8  check = XXH3-64(bytes 16..31 ++ payload, seed pos), one
 *             contiguous span; a pad record's payload is not covered
 *     16   8  seq: producer sequence number, from 1 (pads: 0)
 *     24   4  len: payload bytes
 *     28   2  type: 1 message, 2 pad (fills to the ring end)
 *     30   2  producer slot id
 *     32 len  payload, then padding to 32-byte alignment (not covered)
 *
 * CURSOR REGION (DIR/NAME.CONSUMER.nvcur)
 *      0   8  magic "NVMSGCU\0"
 *      8   4  version (3)
 *     12   4  consumer index in the channel's consumer table
 *     16  16  channel uuid
 *     32  48  consumer name
 *     80   4  max_producers
 *     84   4  reserved
 *     88   8  created_ns
 *     96  24  reserved
 *    120   8  header_check = XXH3-64(bytes 0..119, seed 0)
 *    128   4  waiting: consumer sleeps on the doorbell
 *    256 + 64*i  8  ack[i]: next unread position in ring i (durable)
 *    264 + 64*i  8  ack_pub[i]: ack[i] as producers may use it: stored
 *                   after the barrier that made ack[i] durable
 */
#ifndef NV_FORMAT_H
#define NV_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "../base/atomic.h"
#include "../base/compiler.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the format is little-endian and written with native stores");

#define NV_FORMAT_VERSION 3u
#define NV_DATA_MAGIC "NVMSGCH"
#define NV_CUR_MAGIC "NVMSGCU"
#define NV_PAGE 4096u
#define NV_REC_ALIGN 32u
#define NV_REC_HDR 32u
#define NV_REC_MSG 1u
#define NV_REC_PAD 2u

struct nv_data_hdr {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	uint64_t file_bytes;
	uint64_t ring_bytes;
	uint32_t max_producers;
	uint32_t max_consumers;
	uint32_t tier;
	uint32_t flags;
	uint8_t uuid[16];
	uint64_t created_ns;
	uint64_t cons_table_off;
	uint64_t prod_table_off;
	uint64_t ring_off;
	uint8_t reserved[24];
	uint64_t header_check;
	/* line 2: producers write (read by sleeping consumers) */
	nv_a32 doorbell;
	uint8_t pad1[60];
	/* line 3: registrar writes */
	nv_a64 cons_gen;
	uint8_t pad2[56];
	/* line 4: group commit of the msync tier (chan/gsync.c); producers */
	nv_a64 sync_req;     /* commit tickets taken */
	nv_a64 sync_done;    /* every ticket <= it is durable */
	nv_a64 sync_lock;    /* owner word of the syncing producer, 0 free */
	nv_a64 sync_count;   /* msyncs done by group commit (stat) */
	nv_a32 sync_waiters; /* producers sleeping on sync_done */
	nv_a32 sync_group;   /* tickets the last msync covered */
	uint8_t pad3[24];
};
NV_OFFSET_IS(struct nv_data_hdr, version, 8);
NV_OFFSET_IS(struct nv_data_hdr, file_bytes, 16);
NV_OFFSET_IS(struct nv_data_hdr, ring_bytes, 24);
NV_OFFSET_IS(struct nv_data_hdr, max_producers, 32);
NV_OFFSET_IS(struct nv_data_hdr, tier, 40);
NV_OFFSET_IS(struct nv_data_hdr, uuid, 48);
NV_OFFSET_IS(struct nv_data_hdr, created_ns, 64);
NV_OFFSET_IS(struct nv_data_hdr, cons_table_off, 72);
NV_OFFSET_IS(struct nv_data_hdr, ring_off, 88);
NV_OFFSET_IS(struct nv_data_hdr, header_check, 120);
NV_OFFSET_IS(struct nv_data_hdr, doorbell, 128);
NV_OFFSET_IS(struct nv_data_hdr, cons_gen, 192);
NV_OFFSET_IS(struct nv_data_hdr, sync_req, 256);
NV_OFFSET_IS(struct nv_data_hdr, sync_done, 264);
NV_OFFSET_IS(struct nv_data_hdr, sync_lock, 272);
NV_OFFSET_IS(struct nv_data_hdr, sync_count, 280);
NV_OFFSET_IS(struct nv_data_hdr, sync_waiters, 288);
NV_OFFSET_IS(struct nv_data_hdr, sync_group, 292);
NV_SIZE_IS(struct nv_data_hdr, 320);
#define NV_HDR_CHECKED 120u

struct nv_cons_entry {
	nv_a64 state; /* registrar writes, release, after name */
	char name[48];
	uint64_t reserved;
};
NV_OFFSET_IS(struct nv_cons_entry, name, 8);
NV_SIZE_IS(struct nv_cons_entry, 64);
#define NV_CONS_FREE 0u
#define NV_CONS_ACTIVE 1u

struct nv_prod_slot {
	/* line 0: the owner producer writes; consumers read */
	nv_a64 pub_tail;
	uint8_t pad0[56];
	/* line 1: the owner producer writes; one descriptor per batch,
	 * alternating, flushed in the batch's barrier (recover: the newest
	 * one whose batch is whole says which sequence numbers committed) */
	struct nv_batch_desc {
		nv_a64 end_pos;
		nv_a64 end_seq;
		nv_a64 first_seq;
		nv_a64 check;
	} desc[2];
	/* line 2: ownership; the claiming producer writes */
	nv_a64 owner_pid;   /* owner word (owners.c), one CAS claims it */
	nv_a64 owner_start; /* reserved, zero */
	nv_a32 waiting;
	uint8_t pad2[44];
	/* line 3: where a forwarded slot's messages come from (origin.c) */
	struct nv_origin_line {
		uint8_t uuid[16];
		uint32_t producer;
		uint32_t flags;
		uint8_t reserved[32];
		uint64_t check;
	} origin;
};
NV_OFFSET_IS(struct nv_prod_slot, pub_tail, 0);
NV_OFFSET_IS(struct nv_prod_slot, desc, 64);
NV_SIZE_IS(struct nv_batch_desc, 32);
NV_OFFSET_IS(struct nv_prod_slot, owner_pid, 128);
NV_OFFSET_IS(struct nv_prod_slot, owner_start, 136);
NV_OFFSET_IS(struct nv_prod_slot, waiting, 144);
NV_OFFSET_IS(struct nv_prod_slot, origin, 192);
NV_OFFSET_IS(struct nv_origin_line, check, 56);
NV_SIZE_IS(struct nv_prod_slot, 256);
#define NV_ORIGIN_SET 1u
#define NV_ORIGIN_SEED 0x6f726967u

struct nv_rec_hdr {
	nv_a64 commit; /* pos | 1, stored after the barrier */
	uint64_t check;
	uint64_t seq;
	uint32_t len;
	uint16_t type;
	uint16_t producer;
};
NV_OFFSET_IS(struct nv_rec_hdr, check, 8);
NV_OFFSET_IS(struct nv_rec_hdr, seq, 16);
NV_OFFSET_IS(struct nv_rec_hdr, len, 24);
NV_OFFSET_IS(struct nv_rec_hdr, type, 28);
NV_OFFSET_IS(struct nv_rec_hdr, producer, 30);
NV_SIZE_IS(struct nv_rec_hdr, NV_REC_HDR);

struct nv_cur_hdr {
	char magic[8];
	uint32_t version;
	uint32_t cons_index;
	uint8_t uuid[16];
	char name[48];
	uint32_t max_producers;
	uint32_t reserved0;
	uint64_t created_ns;
	uint8_t reserved[24];
	uint64_t header_check;
	/* line 2: the consumer writes; producers read */
	nv_a32 waiting;
	uint8_t pad[124];
};
NV_OFFSET_IS(struct nv_cur_hdr, cons_index, 12);
NV_OFFSET_IS(struct nv_cur_hdr, uuid, 16);
NV_OFFSET_IS(struct nv_cur_hdr, name, 32);
NV_OFFSET_IS(struct nv_cur_hdr, max_producers, 80);
NV_OFFSET_IS(struct nv_cur_hdr, created_ns, 88);
NV_OFFSET_IS(struct nv_cur_hdr, header_check, 120);
NV_OFFSET_IS(struct nv_cur_hdr, waiting, 128);
NV_SIZE_IS(struct nv_cur_hdr, 256);

/* one ack line per producer ring; the consumer writes both words */
struct nv_ack_line {
	nv_a64 ack;	/* durable resume point (recovery reads it) */
	nv_a64 ack_pub; /* stored after ack is durable; producers reuse
			 * ring space only below it */
	uint8_t pad[48];
};
NV_OFFSET_IS(struct nv_ack_line, ack_pub, 8);
NV_SIZE_IS(struct nv_ack_line, 64);
#define NV_ACK_OFF 256u

#endif
