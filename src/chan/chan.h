/* SPDX-License-Identifier: MIT */
/*
 * chan.h -- internal channel state shared by the chan/ modules.
 */
#ifndef NV_CHAN_H
#define NV_CHAN_H

#include <stdint.h>
#include <sys/types.h>

#include "../../include/nvmsg.h"
#include "../log/log.h"
#include "../region/region.h"

#define NV_ROLE_PRODUCER 0x50524f44u /* "PROD" */
#define NV_ROLE_CONSUMER 0x434f4e53u /* "CONS" */

/* struct nv_chan -- one open data region with its validated layout */
struct nv_chan {
	struct nv_region data;
	struct nv_layout l;
	enum nvmsg_tier tier;
	char dir[NV_PATH_MAX];
	char name[NVMSG_NAME_MAX + 1];
	struct nv_data_hdr *hdr;
	struct nv_cons_entry *cons;
	struct nv_prod_slot *prod;
	unsigned char *rings;
};

static inline unsigned char *
nv_chan_ring(const struct nv_chan *ch, unsigned i)
{
	return ch->rings + (uint64_t)i * ch->l.ring_bytes;
}

/* nv_chan_open -- open, validate and map DIR/NAME's data region */
int nv_chan_open(struct nv_chan *ch, const char *dir, const char *name,
		 int writable);
void nv_chan_close(struct nv_chan *ch);

/* struct nv_cursor -- one consumer's cursor region, as some process maps it */
struct nv_cursor {
	struct nv_region reg;
	struct nv_cur_hdr *hdr;
	struct nv_ack_line *acks;
	int mapped;
};

/* nv_cursor_open -- open and validate consumer INDEX's cursor region */
int nv_cursor_open(struct nv_cursor *cu, const struct nv_chan *ch,
		   unsigned index, const char *consumer, int writable);
void nv_cursor_close(struct nv_cursor *cu);

/* nv_cons_find -- index of active consumer NAME, or -1 */
int nv_cons_find(const struct nv_chan *ch, const char *name);
/* nv_cons_name -- copy consumer I's name (NUL-terminated, validated) */
int nv_cons_name(const struct nv_chan *ch, unsigned i, char *out);

/* nv_cons_register -- register NAME on a channel opened writable */
int nv_cons_register(struct nv_chan *ch, const char *name);

/* owners.c */
uint64_t nv_proc_start(pid_t pid);
int nv_proc_alive(pid_t pid, uint64_t start);
/* nv_owner_self -- this process's owner word (boot, start time, pid) */
uint64_t nv_owner_self(void);
/* nv_owner_alive -- does owner word W name a process running now? */
int nv_owner_alive(uint64_t w);
pid_t nv_owner_pid(uint64_t w);
/* tests only: XORed into the boot hash; changing it models a reboot */
extern uint64_t nv_boot_salt;
/* fork generation: a child's handlers increment it, so a handle opened
 * before fork() (whose slot or cursor is the parent's) sees another
 * value.  nv_fork_watch() installs the handler (once); open calls it */
extern _Atomic unsigned nv_fork_generation;
void nv_fork_watch(void);
static inline unsigned
nv_fork_gen(void)
{
	/* relaxed: only this process's own atfork handler writes it, before
	 * fork() returns in the child */
	return atomic_load_explicit(&nv_fork_generation, memory_order_relaxed);
}

/* bound.c */
/*
 * nv_slot_bound -- *BOUND: the end of ring I's records a reader may read.
 * PUBT (the pub_tail it loaded) while the slot's owner lives; else the end
 * of the whole records after PUBT (what recovery keeps), within one ring of
 * FROM (the reader's lowest position), first made durable through M (the
 * reader's map of the data region; NULL: not persisted, for reports).
 * Returns 0, or -errno when the reader's barrier failed.
 */
int nv_slot_bound(const struct nv_chan *ch, struct nv_map *m, unsigned i,
		  uint64_t pubt, uint64_t from, uint64_t *bound);
/* nv_slot_bound_seq -- the same; *LAST_SEQ (may be NULL) gets the highest
 * sequence number past PUBT inside the bound (0 if none) */
int nv_slot_bound_seq(const struct nv_chan *ch, struct nv_map *m, unsigned i,
		      uint64_t pubt, uint64_t from, uint64_t *bound,
		      uint64_t *last_seq);

/* gsync.c */
/* nv_group_drain -- the persist barrier at PP for a producer (OWNER) of an
 * msync channel, shared with every producer waiting at the same time:
 * returns when our stores to the data region are durable, 0 or -errno */
int nv_group_drain(struct nv_chan *ch, uint64_t owner, enum nv_pp pp);

/* wait.c */
int nv_futex_wait(nv_a32 *word, uint32_t expect, uint64_t timeout_ns);
void nv_futex_wake(nv_a32 *word);
static inline void
nv_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}
/* deadline helpers: timeout < 0 forever, 0 none */
uint64_t nv_deadline(int64_t timeout_ns);
/* nv_wait_slice -- ns to sleep now, or 0 when the deadline passed */
uint64_t nv_wait_slice(uint64_t deadline, uint64_t max_slice);

#endif
