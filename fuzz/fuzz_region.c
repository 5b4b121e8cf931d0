/* SPDX-License-Identifier: MIT */
/*
 * fuzz_region.c -- a channel image (fuzz_common.h) as the files of a
 * channel, then everything a process does with a channel it finds on
 * disk (invariant I5: a region file is untrusted input):
 *
 *   check, stat, each consumer opened with NVMSG_CONSUMER_VERIFY and
 *   drained (view with timeout 0, recv into a small buffer, ack),
 *   optionally a registration, repair, check again, every producer slot
 *   opened (recovery; optionally one send), the consumers drained again.
 *
 * Every call must return 0 or a named error with a sentence; beyond
 * that the oracles are:
 *   - a view lies inside its ring: the payload is the file's bytes at the
 *     record's position, and with VERIFY its checksum holds;
 *   - a drain ends (at most one view per record slot of every ring);
 *   - recv with a too small buffer leaves the message for the next view;
 *   - when check found no corruption and repair succeeded, a second
 *     check finds nothing left to repair and no corruption;
 *   - no file descriptor leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmsg.h>

#include "base/checksum.h"
#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_tmpdir();
	return 0;
}

/* struct seen -- what one drain saw of each ring, for the order oracle */
struct seen {
	uint64_t last_seq[NVMSG_MAX_PRODUCERS];
	int again; /* the next view may repeat a message (too small recv) */
};

/* file_offset -- the offset in the data file of the byte at P of this
 * process's mapping of it (from /proc/self/maps); -1 if not mapped */
static int64_t
file_offset(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[1024];
	int64_t at = -1;
	uintptr_t a = (uintptr_t)p;

	if (!f)
		return -1;
	while (at < 0 && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;
		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) == 3 &&
		    a >= lo && a < hi && strstr(line, "/" FZ_CHAN ".nvmsg"))
			at = (int64_t)(off + (a - lo));
	}
	fclose(f);
	return at;
}

/* check_view -- V (from ring V->producer) is inside that ring of the
 * file: compare with the file's bytes at the record's position; and it
 * is what a producer can write: not empty, its sequence number above the
 * ring's last one (equal only to re-view a message a too small recv left;
 * found by this target, fixed in 7083321) */
static void
check_view(const struct nvmsg_view *v, int fd, const struct fz_geom *g,
	   struct seen *s)
{
	uint64_t pos, check;
	uint8_t hdr[32];

	FZ_CHECK(v->producer < g->max_producers, "view from producer %u of %u",
		 v->producer, g->max_producers);
	FZ_CHECK(v->len <= g->ring_bytes - 32,
		 "view of %zu bytes in a ring of %llu", v->len,
		 (unsigned long long)g->ring_bytes);
	uint64_t last = s->last_seq[v->producer];
	FZ_CHECK(v->len > 0, "view of an empty message (seq %llu)",
		 (unsigned long long)v->seq);
	FZ_CHECK(v->seq > last || (s->again && v->seq == last),
		 "ring %u: view of seq %llu after seq %llu", v->producer,
		 (unsigned long long)v->seq, (unsigned long long)last);
	s->last_seq[v->producer] = v->seq;
	s->again = 0;
	memcpy(hdr, (const uint8_t *)v->data - 32, 32);
	memcpy(&pos, hdr, 8);
	memcpy(&check, hdr + 8, 8);
	/* where the view lies in the file: the commit word (pos | 1) is
	 * not covered by the checksum, so a record read by its checksum
	 * alone (below pub_tail) may hold any word there; the mapping says */
	int64_t foff = file_offset((const uint8_t *)v->data - 32);
	uint64_t rbase = g->ring_off + g->ring_bytes * v->producer;
	FZ_CHECK(foff >= 0 && (uint64_t)foff >= rbase &&
			 (uint64_t)foff < rbase + g->ring_bytes,
		 "view of producer %u is not inside its ring (file offset "
		 "%lld)",
		 v->producer, (long long)foff);
	uint64_t off = (uint64_t)foff - rbase;
	/* the position: the commit word's when the view was trusted by its
	 * word; else (read by its checksum, below pub_tail) the one at this
	 * offset in the lap below pub_tail */
	uint64_t pubt = 0;
	FZ_CHECK(pread(fd, &pubt, 8,
		       (off_t)(g->prod_table_off + 256u * v->producer)) == 8,
		 "cannot read pub_tail of ring %u", v->producer);
	uint64_t base = pubt - g->ring_bytes;
	uint64_t below = base + ((off - base) & (g->ring_bytes - 1));
	/* or, for a slot without a live owner, past pub_tail: readers take
	 * the whole records that follow it (chan/bound.c) */
	uint64_t above = pubt + ((off - pubt) & (g->ring_bytes - 1));
	pos &= ~(uint64_t)1;
	FZ_CHECK(off + 32 + v->len <= g->ring_bytes,
		 "view at ring offset %llu of %zu bytes crosses the ring end",
		 (unsigned long long)off, v->len);
	uint8_t *file = malloc(32 + v->len);
	if (!file)
		abort();
	off_t at = (off_t)(g->ring_off + g->ring_bytes * v->producer + off);
	FZ_CHECK(pread(fd, file, 32 + v->len, at) == (ssize_t)(32 + v->len),
		 "short read of the data file at %lld", (long long)at);
	FZ_CHECK(memcmp(file + 32, v->data, v->len) == 0 &&
			 memcmp(file, hdr, 32) == 0,
		 "view of producer %u at position %llu is not the file's "
		 "bytes there",
		 v->producer, (unsigned long long)pos);
	FZ_CHECK(nv_checksum(file + 16, 16 + v->len, pos) == check ||
			 nv_checksum(file + 16, 16 + v->len, below) == check ||
			 nv_checksum(file + 16, 16 + v->len, above) == check,
		 "verified view fails its checksum (commit word %llu, "
		 "pub_tail %llu, ring offset %llu)",
		 (unsigned long long)pos, (unsigned long long)pubt,
		 (unsigned long long)off);
	free(file);
}

/* drain -- view every message consumer NAME can see now */
static void
drain(const char *dir, const char *name, int flags)
{
	struct nvmsg_consumer *c = NULL;
	struct nvmsg_view v, again;
	struct seen seen = { { 0 }, 0 };
	char path[512];
	struct fz_geom g;
	uint8_t hdr[256];
	int rc = nvmsg_consumer_open(dir, FZ_CHAN, name,
				     flags | NVMSG_CONSUMER_VERIFY, &c);

	fz_named(rc, "nvmsg_consumer_open", dir);
	if (rc < 0) {
		FZ_CHECK(c == NULL, "failed open left a handle");
		return;
	}
	/* it opened, so the header validated: the geometry is the file's */
	snprintf(path, sizeof(path), "%s/" FZ_CHAN ".nvmsg", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	FZ_CHECK(fd >= 0 && pread(fd, hdr, sizeof(hdr), 0) == sizeof(hdr),
		 "cannot read back %s", path);
	/* fz_geom reads only the header; the length is the file's */
	off_t size = lseek(fd, 0, SEEK_END);
	FZ_CHECK(size >= 0 && fz_geom(hdr, (size_t)size, &g) == 0,
		 "consumer opened a channel whose geometry does not fit");
	uint64_t limit = (uint64_t)g.max_producers * (g.ring_bytes / 32) + 1;
	uint64_t n = 0;
	for (;; n++) {
		FZ_CHECK(n <= limit, "drain does not end: %llu views",
			 (unsigned long long)n);
		if (n % 3 == 1) {
			uint8_t small[8];
			size_t len = 0;
			rc = nvmsg_recv(c, small, sizeof(small), &len, 0);
			if (rc == NVMSG_E_TOO_BIG) {
				seen.again = 1;
				/* the message stays: a view finds it, or
				 * one of another ring (round robin), or
				 * that ring's corruption */
				rc = nvmsg_view(c, &again, 0);
				fz_named(rc, "nvmsg_view after NVMSG_E_TOO_BIG",
					 dir);
				FZ_CHECK(rc != -EAGAIN,
					 "message of %zu bytes gone after "
					 "a too small recv",
					 len);
				if (rc < 0)
					break;
				check_view(&again, fd, &g, &seen);
				continue;
			}
			fz_named(rc, "nvmsg_recv", dir);
			if (rc < 0)
				break;
			FZ_CHECK(len <= sizeof(small), "recv copied %zu", len);
			continue;
		}
		rc = nvmsg_view(c, &v, 0);
		if (rc == -EAGAIN)
			break;
		fz_named(rc, "nvmsg_view", dir);
		if (rc < 0)
			break;
		check_view(&v, fd, &g, &seen);
		if (n % 4 == 0)
			fz_named(nvmsg_ack(c), "nvmsg_ack", dir);
	}
	fz_named(nvmsg_ack(c), "nvmsg_ack", dir);
	close(fd);
	nvmsg_consumer_close(&c);
	FZ_CHECK(c == NULL, "close did not clear the handle");
}

/* producers -- open every slot the header claims (recovery), send one
 * message if asked, close */
static void
producers(const char *dir, const struct fz_chan *ch)
{
	struct fz_geom g;
	unsigned n = 2;

	if (fz_geom(ch->data, ch->data_len, &g) == 0)
		n = g.max_producers;
	for (unsigned i = 0; i <= n; i++) {
		struct nvmsg_producer *p = NULL;
		/* one past the end: NVMSG_ANY_PRODUCER, then -EINVAL */
		int id = i < n ? (int)i : NVMSG_ANY_PRODUCER;
		int rc = nvmsg_producer_open(dir, FZ_CHAN, id, &p);
		fz_named(rc, "nvmsg_producer_open", dir);
		if (rc < 0) {
			FZ_CHECK(p == NULL, "failed open left a handle");
			continue;
		}
		struct nvmsg_recovery r;
		fz_named(nvmsg_producer_recovery(p, &r),
			 "nvmsg_producer_recovery", dir);
		if (ch->flags & FZ_SEND) {
			static const char msg[] = "fuzz";
			rc = nvmsg_send(p, msg, sizeof(msg), 0, 0);
			fz_named(rc, "nvmsg_send", dir);
		}
		nvmsg_producer_close(&p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	const char *dir = fz_tmpdir();
	struct nvmsg_check r1, r2;
	struct fz_chan ch;

	if (fz_chan_parse(&ch, in, n) < 0)
		return 0;
	fz_chan_fix(&ch);
	fz_chan_write(&ch, dir);
	int fd0 = fz_lowest_fd();

	int c1 = fz_check_run(dir, &r1);
	fz_stat_run(dir);
	for (int i = 0; i < FZ_NCUR; i++)
		drain(dir, fz_cur_names[i], 0);
	if (ch.flags & FZ_REGISTER)
		drain(dir, "e", NVMSG_CONSUMER_CREATE);

	struct nvmsg_recovery rec;
	int rr = nvmsg_channel_repair(dir, FZ_CHAN, &rec);
	fz_named(rr, "nvmsg_channel_repair", dir);
	int c2 = fz_check_run(dir, &r2);
	if (c1 == 0 && r1.errors == 0 && rr == 0 && !(ch.flags & FZ_REGISTER)) {
		FZ_CHECK(c2 == 0 && r2.errors == 0,
			 "repair of a channel check found clean of corruption "
			 "left corruption: %s",
			 r2.first_error);
		FZ_CHECK(r2.repairs_needed == 0,
			 "repair succeeded but check still finds %u slots to "
			 "repair",
			 r2.repairs_needed);
	}

	producers(dir, &ch);
	for (int i = 0; i < FZ_NCUR; i++)
		drain(dir, fz_cur_names[i], 0);

	FZ_CHECK(fz_lowest_fd() == fd0,
		 "file descriptor leak: lowest free fd "
		 "%d, was %d",
		 fz_lowest_fd(), fd0);
	fz_chan_free(&ch);
	return 0;
}
