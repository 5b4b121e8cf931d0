/* SPDX-License-Identifier: MIT */
/*
 * nvmsg.h -- the whole public API of libnvmsg, and its manual.
 *
 * nvmsg is reliable messaging through shared memory.  A *channel* is a pair
 * of kinds of files in one directory:
 *
 *   DIR/NAME.nvmsg            the data region: header, producer table,
 *                             consumer table and one ring per producer slot.
 *                             Producers map it read-write; consumers map it
 *                             read-only (O_RDONLY fd, PROT_READ), so the
 *                             kernel stops a consumer that writes into it.
 *   DIR/NAME.CONSUMER.nvcur   one cursor region per named consumer, written
 *                             only by that consumer (its durable acks) and
 *                             mapped read-only by producers for back-pressure.
 *
 * The *tier* is chosen when the channel is created and asked of the kernel at
 * every map (see enum nvmsg_tier).  It is never downgraded silently.
 *
 * On a device dax, the administrator makes DIR/NAME.nvmsg (and each
 * DIR/NAME.CONSUMER.nvcur) a symlink to a /dev/daxX.Y namespace created
 * with a 4 KiB alignment and large enough; creation and registration then
 * initialise the device in place (pmem tier only), and nvmsg_channel_create
 * refuses (-EEXIST) a device that already holds a channel.
 *
 * Guarantees (docs/CONCURRENCY.md has the proof obligations):
 *   - a message whose nvmsg_send() without NVMSG_MORE (or nvmsg_commit()
 *     without it, or a later nvmsg_producer_flush() or close) returned 0 is
 *     durable on the channel's tier and will be delivered to every consumer
 *     registered before the send started, after any process crash and, on
 *     the pmem tier, after a power failure (I1).  A 0 from a call WITH
 *     NVMSG_MORE promises nothing yet: the record is only written;
 *   - after a producer dies, every durable record it left is readable by
 *     consumers, read-only ones included, without any writer running
 *     recovery first (a reader persists such records itself before it
 *     reads them);
 *   - a consumer only ever sees records that are already durable (I2);
 *   - a consumer sees each producer's messages in send order (I3);
 *   - a consumer that acked a message never receives it again; one that was
 *     killed after viewing and before acking receives the unacked ones again.
 *
 * Errors: every function returning int returns 0 (or a count where said) on
 * success and a negative code on failure: -errno for operating-system
 * conditions (-EAGAIN: channel full or nothing to read; -ETIMEDOUT; -EACCES;
 * -ENOENT; -EEXIST; -EINVAL; -ENOMEM; -EBUSY) or NVMSG_E_* below.
 * nvmsg_strerror() names every code; nvmsg_errmsg() returns a thread-local
 * sentence for the last failure of this thread (which file, what was asked,
 * why, what to do).  The library never prints and never exits.
 *
 * Threads: handles are not shared between threads without external locking.
 * Open one producer per sending thread (each gets its own ring slot) and one
 * consumer handle per consumer name.  Different handles may be used by
 * different threads and processes concurrently.
 *
 * fork(): a handle belongs to the process that opened it.  In a child, every
 * call on an inherited producer or consumer handle returns NVMSG_E_FORKED
 * (two processes would otherwise write one ring or one cursor); close frees
 * the child's copy without touching the parent's slot.  Open new handles in
 * the child.
 */
#ifndef NVMSG_H
#define NVMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NVMSG_API __attribute__((visibility("default")))
#else
#define NVMSG_API
#endif

#define NVMSG_VERSION_MAJOR 0
#define NVMSG_VERSION_MINOR 1
#define NVMSG_VERSION_PATCH 0

/* Library error codes, disjoint from -errno (all below -4095). */
#define NVMSG_E_BASE (-10000)
#define NVMSG_E_CORRUPT (-10001)    /* region bytes fail a check */
#define NVMSG_E_VERSION (-10002)    /* format version not supported */
#define NVMSG_E_NOT_PMEM (-10003)   /* pmem asked, kernel cannot DAX+MAP_SYNC */
#define NVMSG_E_TOO_BIG (-10004)    /* message larger than the channel allows */
#define NVMSG_E_EMPTY_MSG (-10005)  /* zero-length message */
#define NVMSG_E_WRONG_MODE (-10006) /* handle opened for the other role */
#define NVMSG_E_NO_CONSUMER (-10007) /* consumer name not registered */
#define NVMSG_E_FULL_TABLE (-10008)  /* no free producer or consumer slot */
#define NVMSG_E_BAD_NAME (-10009)    /* channel or consumer name invalid */
#define NVMSG_E_MISMATCH (-10010)    /* cursor region of another channel */
#define NVMSG_E_TIER (-10011)	     /* tier unknown or unusable */
#define NVMSG_E_FORKED (-10012)	     /* handle inherited through fork() */
#define NVMSG_E_DUPLICATE (-10013)   /* sequence number already held */

/* enum nvmsg_tier -- where a channel lives, asked of the kernel at map time */
enum nvmsg_tier {
	/* DRAM file (tmpfs); persist is a no-op.  Survives process crashes,
	 * lost at power failure.  send() makes no system call. */
	NVMSG_TIER_VOLATILE = 1,
	/* File on a DAX filesystem or devdax, mapped MAP_SHARED_VALIDATE |
	 * MAP_SYNC through libpmem2, cache-line persistence (clwb/clflushopt,
	 * nothing on eADR).  Creation and every open fail with
	 * NVMSG_E_NOT_PMEM when the kernel cannot honour it. */
	NVMSG_TIER_PMEM = 2,
	/* Any filesystem; each commit made durable with msync(MS_SYNC).
	 * Durable, about 100 us per commit; producers committing at the same
	 * time share one msync (group commit).  Explicit opt-in. */
	NVMSG_TIER_MSYNC = 3,
	/* DRAM file treated as pmem: the CPU's flush instructions run for
	 * real, there is no real durability.  Labelled "emulated" always. */
	NVMSG_TIER_EMULATED = 4,
};

/* nvmsg_tier_name -- "volatile", "pmem", "msync", "emulated" or NULL */
NVMSG_API const char *nvmsg_tier_name(int tier);
/* nvmsg_tier_parse -- inverse of nvmsg_tier_name; -EINVAL if unknown */
NVMSG_API int nvmsg_tier_parse(const char *name);

/* nvmsg_strerror -- static string naming any code this library returns */
NVMSG_API const char *nvmsg_strerror(int code);
/* nvmsg_errmsg -- this thread's sentence for its last failure; valid until
 * the next nvmsg call on this thread; never NULL (may be "") */
NVMSG_API const char *nvmsg_errmsg(void);
/* nvmsg_version -- "MAJOR.MINOR.PATCH" */
NVMSG_API const char *nvmsg_version(void);

/* Limits. */
#define NVMSG_NAME_MAX 47	/* channel and consumer names, bytes */
#define NVMSG_MAX_PRODUCERS 64	/* producer slots per channel */
#define NVMSG_MAX_CONSUMERS 64	/* consumer slots per channel */
#define NVMSG_MIN_CAPACITY 4096 /* bytes per producer ring */
#define NVMSG_MAX_CAPACITY (1ull << 34)

/*
 * struct nvmsg_channel_opts -- creation parameters.  Zero means default.
 */
struct nvmsg_channel_opts {
	int tier;		 /* enum nvmsg_tier; required */
	uint64_t capacity_bytes; /* per producer ring, power of two;
				  * default 1 MiB */
	unsigned max_producers;	 /* producer slots; default 8 */
	unsigned max_consumers;	 /* consumer slots; default 16 */
	mode_t mode;		 /* data file mode; default 0644: owner
				  * produces, others may consume */
};

/*
 * nvmsg_channel_create -- create DIR/NAME.nvmsg on the given tier.
 * DIR must exist.  NAME matches [A-Za-z0-9_.-]{1,47} and does not start
 * with '.'.  The file is created exclusively with opts->mode (the umask
 * does not apply), sized, mapped with the tier's request, pre-faulted,
 * initialised and made durable before this returns.
 * Errors: -EINVAL (bad opts), NVMSG_E_BAD_NAME, -EEXIST, -EACCES, -ENOSPC,
 * NVMSG_E_NOT_PMEM (pmem tier on a file the kernel cannot map with
 * MAP_SYNC; nvmsg_errmsg() says which path and what to do), NVMSG_E_TIER.
 * On failure no file is left behind.
 */
NVMSG_API int nvmsg_channel_create(const char *dir, const char *name,
				   const struct nvmsg_channel_opts *opts);

/*
 * nvmsg_channel_unlink -- remove the data region and every cursor region of
 * NAME.  Processes that have it mapped keep their mappings.
 * Errors: NVMSG_E_BAD_NAME, -ENOENT, -EACCES.
 */
NVMSG_API int nvmsg_channel_unlink(const char *dir, const char *name);

/* struct nvmsg_consumer_stat -- one consumer's view, in struct nvmsg_stat */
struct nvmsg_consumer_stat {
	char name[NVMSG_NAME_MAX + 1];
	uint64_t lag_bytes;    /* published but not acked, all rings */
	uint64_t lag_messages; /* same, in records (counted by walking) */
	int waiting;	       /* consumer sleeps on the doorbell */
};

/* struct nvmsg_producer_stat -- one claimed producer slot */
struct nvmsg_producer_stat {
	unsigned id;
	pid_t pid;	   /* owner, 0 when released */
	int alive;	   /* owner process still runs */
	uint64_t tail;	   /* position readers read up to, never wraps:
				 * pub_tail, or for a slot without a live
				 * owner the end of its whole records */
	uint64_t next_seq; /* sequence number of its next message */
};

/*
 * NVMSG_REPORT_VERSION -- the layout of the report structs below
 * (nvmsg_stat, nvmsg_check, nvmsg_recovery), stored by the library in
 * their first field.  A later layout gets a new number and new functions
 * to fill it; a struct of this version never changes (bindings and
 * programs that read it by offset can rely on it).
 */
#define NVMSG_REPORT_VERSION 1u

/*
 * struct nvmsg_stat -- what nvmsg_channel_stat() reports.  Plain value.
 */
struct nvmsg_stat {
	uint32_t version;	     /* NVMSG_REPORT_VERSION (library) */
	int tier;		     /* enum nvmsg_tier */
	char backing[96];	     /* e.g. "DAX+MAP_SYNC (libpmem2)",
					 * "emulated (DRAM, clwb+sfence, NOT
					 * durable)", "volatile (tmpfs)" */
	char persistence_domain[48]; /* "memory_controller", "cpu_cache",
					 * "none (volatile)", "page cache +
					 * msync", "unknown" */
	char store_granularity[32];  /* "cache line", "byte", "page" */
	uint64_t file_bytes;
	uint64_t capacity_bytes; /* per producer ring */
	unsigned max_producers;
	unsigned max_consumers;
	uint32_t format_version;
	uint64_t depth_bytes; /* max lag over consumers */
	unsigned nproducers;  /* claimed slots (alive or not) */
	unsigned nconsumers;
	uint64_t group_commits; /* msync tier: commits that asked for
					 * a group msync so far */
	uint64_t group_syncs;	/* msync tier: msyncs that served
					 * them (group commit across
					 * producers: fewer than commits) */
	struct nvmsg_producer_stat producers[NVMSG_MAX_PRODUCERS];
	struct nvmsg_consumer_stat consumers[NVMSG_MAX_CONSUMERS];
};

/*
 * nvmsg_channel_stat -- fill *st for DIR/NAME.  Opens the data region
 * read-only and each cursor region read-only; needs only read permission.
 * Errors: -ENOENT, -EACCES, NVMSG_E_CORRUPT, NVMSG_E_VERSION, NVMSG_E_BAD_NAME.
 */
NVMSG_API int nvmsg_channel_stat(const char *dir, const char *name,
				 struct nvmsg_stat *st);

/*
 * struct nvmsg_check -- what nvmsg_channel_check() found.  Plain value.
 */
struct nvmsg_check {
	uint32_t version;	 /* NVMSG_REPORT_VERSION (library) */
	unsigned producers;	 /* slots ever used */
	unsigned producers_dead; /* owned by a process that is gone */
	unsigned consumers;
	uint64_t records_scanned; /* whole records verified */
	uint64_t bytes_scanned;
	uint64_t records_unpublished; /* whole records past pub_tail of a
				       * dead slot: repair publishes them */
	unsigned torn_tails;	      /* dead slots with a torn record at the
				      * tail: repair cuts it */
	unsigned repairs_needed;      /* dead slots repair would take over */
	unsigned errors;	      /* corruption repair cannot undo */
	char first_error[512];	      /* the first error, naming the file */
	uint64_t elapsed_ns;
};

/*
 * nvmsg_channel_check -- read-only verification of DIR/NAME: header,
 * consumer table, every cursor region, every ring (bounds, position,
 * checksum, sequence) from the oldest unacknowledged record.  Needs only
 * read permission; changes nothing.  Returns 0 when the check ran (then
 * *r says what was found; the channel is clean when r->errors and
 * r->repairs_needed are 0), or the error that kept it from opening the
 * channel at all (-ENOENT, NVMSG_E_CORRUPT, NVMSG_E_VERSION, ...).
 */
NVMSG_API int nvmsg_channel_check(const char *dir, const char *name,
				  struct nvmsg_check *r);

struct nvmsg_recovery; /* below, with the producer calls */

/*
 * nvmsg_channel_repair -- what recovery does, for every used producer
 * slot without a live owner: take the slot over, scan its ring, publish
 * whole records past pub_tail, cut a torn tail, release the slot.  Slots
 * of live producers are left alone.  Needs write permission.  *r (may be
 * NULL) sums the work done, also when a slot fails: the other slots are
 * still repaired and the first failure is returned.
 * Errors: as nvmsg_producer_open (-ENOENT, -EACCES, NVMSG_E_CORRUPT,
 * NVMSG_E_VERSION, NVMSG_E_NOT_PMEM), with the slot named in
 * nvmsg_errmsg().
 */
NVMSG_API int nvmsg_channel_repair(const char *dir, const char *name,
				   struct nvmsg_recovery *r);

/* ---------------------------------------------------------------- produce */

struct nvmsg_producer;

#define NVMSG_ANY_PRODUCER (-1)

/*
 * nvmsg_producer_open -- open DIR/NAME as a producer (read-write mapping)
 * on producer slot ID, or on any free slot with NVMSG_ANY_PRODUCER.
 * A slot whose owner process is dead (pid and start time no longer match)
 * is taken over: the ring is scanned, a torn tail is cut and sending
 * resumes after the last whole record, with the next sequence number.
 * *out is NULL on failure.
 * Errors: -ENOENT, -EACCES (no write permission on the data file),
 * -EBUSY (slot ID owned by a live process), NVMSG_E_FULL_TABLE,
 * NVMSG_E_CORRUPT, NVMSG_E_VERSION, NVMSG_E_NOT_PMEM, -EINVAL.
 */
NVMSG_API int nvmsg_producer_open(const char *dir, const char *name, int id,
				  struct nvmsg_producer **out);

/*
 * nvmsg_producer_close -- publish pending (NVMSG_MORE) records with one
 * barrier, then release the slot and free the handle.  NULL and *p == NULL
 * accepted (0); *p is NULL afterwards whatever the result.
 * Returns 0 when every message sent through this handle that had not
 * failed is durable, or the error that kept the last batch from becoming
 * durable (-EIO), or the producer's earlier failure (nvmsg_producer_error):
 * then the unpublished messages were not sent (they are cleared, so no
 * reader takes them) and the caller resends them after reopening.
 * In a child made by fork() it frees the child's copy without touching the
 * parent's slot and returns NVMSG_E_FORKED.
 */
NVMSG_API int nvmsg_producer_close(struct nvmsg_producer **p);

/*
 * nvmsg_producer_error -- 0 while the producer works; after a failed
 * persist barrier (-EIO from msync, say) the error that stopped it.  The
 * failure is final: every later send, reserve, commit and flush returns it
 * and publishes nothing (a retried msync after a writeback error can
 * return 0 although the pages were lost).  Close the producer and open a
 * new one (recovery tells, through nvmsg_producer_committed, what
 * committed).  -EINVAL / NVMSG_E_WRONG_MODE / NVMSG_E_FORKED for a bad
 * handle.
 */
NVMSG_API int nvmsg_producer_error(const struct nvmsg_producer *p);

/* nvmsg_producer_id -- the slot this producer owns */
NVMSG_API unsigned nvmsg_producer_id(const struct nvmsg_producer *p);

/* nvmsg_producer_max_msg -- largest payload accepted, bytes */
NVMSG_API size_t nvmsg_producer_max_msg(const struct nvmsg_producer *p);

/*
 * nvmsg_producer_committed -- detectability after a crash: the highest
 * sequence number of this producer slot that was durable when the slot
 * was opened (0 if none).  Every sequence number up to it was committed
 * (and is or was delivered); none after it was.  A producer restarted on
 * the same slot id resends exactly the messages after it; the next
 * message it sends carries sequence number committed + 1, so a slot's
 * sequence numbers stay contiguous across crashes (a number handed to a
 * message that never committed is handed out again).
 */
NVMSG_API uint64_t nvmsg_producer_committed(const struct nvmsg_producer *p);

/* struct nvmsg_recovery -- what recovery found and did */
struct nvmsg_recovery {
	uint32_t version;	    /* NVMSG_REPORT_VERSION (library) */
	unsigned slots_recovered;   /* producer slots scanned and resealed */
	uint64_t records_scanned;   /* whole records verified */
	uint64_t records_published; /* whole records found past pub_tail and
				     * published by recovery */
	uint64_t bytes_scanned;
	uint64_t bytes_cut; /* non-zero bytes cleared after the tail:
				     * a torn or abandoned record, and stale
				     * bytes of earlier laps */
	uint64_t elapsed_ns;
};

/* nvmsg_producer_recovery -- copy into *R the report of the recovery that
 * nvmsg_producer_open ran on this producer's slot.
 * Errors: -EINVAL (NULL p or r), NVMSG_E_WRONG_MODE, NVMSG_E_FORKED. */
NVMSG_API int nvmsg_producer_recovery(const struct nvmsg_producer *p,
				      struct nvmsg_recovery *r);

/* Flags for send, reserve and commit. */
#define NVMSG_BLOCK 0x1 /* wait for space (up to timeout) instead of -EAGAIN */
#define NVMSG_MORE                                                             \
	0x2 /* batch: do not persist or publish yet; a later
			 * call without NVMSG_MORE, or nvmsg_producer_flush(),
			 * persists the whole batch with one barrier */

/*
 * nvmsg_send -- copy LEN bytes from BUF into the channel as one message.
 * Without NVMSG_MORE, returns 0 only after the record is durable on the
 * channel's tier and published to consumers (durable before visible).
 * With NVMSG_MORE it returns 0 once the record is written; it is neither
 * durable nor visible until the next call without NVMSG_MORE or flush.
 * A full channel returns -EAGAIN, or with NVMSG_BLOCK waits up to
 * TIMEOUT_NS (< 0: forever) and returns -ETIMEDOUT.  A full channel never
 * overwrites a record some consumer has not acknowledged.
 * Errors: -EINVAL (NULL p or buf), NVMSG_E_EMPTY_MSG, NVMSG_E_TOO_BIG,
 * -EAGAIN, -ETIMEDOUT, -EBUSY (a claim is open), NVMSG_E_FORKED, and tier
 * errors from msync (-EIO): after one, the producer is stopped (see
 * nvmsg_producer_error) and the failed message may or may not survive.
 */
NVMSG_API int nvmsg_send(struct nvmsg_producer *p, const void *buf, size_t len,
			 int flags, int64_t timeout_ns);

/*
 * struct nvmsg_claim -- a reservation for writing in place.  DATA points
 * into the producer's mapping and is valid until commit or abort.
 */
struct nvmsg_claim {
	void *data;    /* write the payload here */
	size_t len;    /* bytes reserved */
	uint64_t seq;  /* sequence number the message will carry */
	uint64_t _pos; /* private */
};

/*
 * nvmsg_reserve -- reserve LEN bytes for one message (zero-copy).  Flags
 * and errors as nvmsg_send().  Only one claim may be open per producer.
 */
NVMSG_API int nvmsg_reserve(struct nvmsg_producer *p, size_t len,
			    struct nvmsg_claim *claim, int flags,
			    int64_t timeout_ns);
/* nvmsg_commit -- seal the claim; durable and visible on return unless
 * FLAGS has NVMSG_MORE.  Errors: -EINVAL (no open claim); as
 * nvmsg_producer_flush when the barrier runs (-EIO). */
NVMSG_API int nvmsg_commit(struct nvmsg_producer *p, struct nvmsg_claim *claim,
			   int flags);
/* nvmsg_abort -- drop the claim; nothing is sent and its sequence number
 * is handed to the next message.  Errors: -EINVAL (no such open claim),
 * NVMSG_E_WRONG_MODE, NVMSG_E_FORKED. */
NVMSG_API int nvmsg_abort(struct nvmsg_producer *p, struct nvmsg_claim *claim);
/* nvmsg_producer_flush -- persist and publish every NVMSG_MORE record with
 * one barrier.  0 when nothing was pending, else 0 only once they are
 * durable.  Errors: the barrier's (-EIO from msync), and after any failed
 * barrier that failure again, for ever (nvmsg_producer_error). */
NVMSG_API int nvmsg_producer_flush(struct nvmsg_producer *p);

/* ---------------------------------------------------------------- consume */

struct nvmsg_consumer;

#define NVMSG_CONSUMER_CREATE                                                  \
	0x1			  /* register NAME if not yet registered
				   * (needs write permission on the data
				   * file); it starts at the current tail */
#define NVMSG_CONSUMER_VERIFY 0x2 /* verify each record's checksum */

/*
 * nvmsg_consumer_open -- open DIR/NAME as the named consumer CONSUMER.
 * The data region is mapped read-only from an O_RDONLY fd; only the
 * consumer's own cursor region is writable.  A consumer resumes after its
 * last ack.  Registration (NVMSG_CONSUMER_CREATE) creates the cursor region
 * with the data file's mode plus owner write, and the consumer receives
 * every message sent after registration returns.  Registration needs
 * write access to the data region: for a consumer that runs as another
 * user, the channel's owner registers it and gives that user the cursor
 * file DIR/NAME.CONSUMER.nvcur (chown), which is all the consumer writes.
 * Errors: -ENOENT, -EACCES, NVMSG_E_NO_CONSUMER, NVMSG_E_FULL_TABLE,
 * NVMSG_E_BAD_NAME, NVMSG_E_CORRUPT, NVMSG_E_VERSION, NVMSG_E_MISMATCH,
 * NVMSG_E_NOT_PMEM.
 */
NVMSG_API int nvmsg_consumer_open(const char *dir, const char *name,
				  const char *consumer, int flags,
				  struct nvmsg_consumer **out);
/* nvmsg_consumer_close -- NULL accepted; sets *c to NULL.  Does not ack. */
NVMSG_API void nvmsg_consumer_close(struct nvmsg_consumer **c);

/*
 * struct nvmsg_view -- one message, read in place.  DATA points into the
 * consumer's read-only mapping.  Its lifetime: until the next nvmsg_ack()
 * or nvmsg_recv() on the handle (after the ack producers may overwrite
 * the bytes) or nvmsg_consumer_close() (the mapping goes).  A later
 * nvmsg_view() does not end it (unacked bytes are never overwritten), so a
 * batch of views may be read before one ack; copy what must outlive it.
 */
struct nvmsg_view {
	const void *data;
	size_t len;
	unsigned producer; /* producer slot id */
	uint64_t seq;	   /* the producer's sequence number, from 1 */
	uint64_t _end;	   /* private: ring position after the record */
};

/*
 * nvmsg_view -- the next message not yet viewed, from any producer (round
 * robin over producers; each producer's messages in order).  Waits up to
 * TIMEOUT_NS (0: do not wait, -EAGAIN; < 0: forever) with an adaptive spin,
 * then a futex on the channel's doorbell word.  Viewed messages stay
 * unacked until nvmsg_ack().
 * Errors: -EAGAIN, -ETIMEDOUT, NVMSG_E_CORRUPT (a record fails its bounds
 * or checksum check; nvmsg_errmsg() says where), -EINVAL.
 */
NVMSG_API int nvmsg_view(struct nvmsg_consumer *c, struct nvmsg_view *v,
			 int64_t timeout_ns);
/*
 * nvmsg_ack -- durably acknowledge every message viewed so far (one
 * barrier for all of them), and wake producers blocked on a full ring.
 * After it returns, a restart of this consumer resumes after them.
 * Errors: the barrier's (-EIO from msync on the cursor file): then nothing
 * is acked (producers do not reuse the space, and a reopened consumer
 * resumes at the previous ack; after a power failure that follows the
 * failed barrier the media may hold either ack), NVMSG_E_FORKED, -EINVAL,
 * NVMSG_E_WRONG_MODE.
 */
NVMSG_API int nvmsg_ack(struct nvmsg_consumer *c);
/*
 * nvmsg_recv -- view the next message, copy it into BUF (CAP bytes) and ack
 * (the ack covers it and every message viewed before with nvmsg_view).
 * *LEN gets the message size.  Returns 0 when the message is copied and
 * durably acked.  On failure *LEN is 0, except when the copy succeeded and
 * the ack failed (-EIO): then *LEN > 0 and BUF holds the message, which is
 * NOT acknowledged and will be delivered again after the consumer reopens.
 * Errors: as nvmsg_view; NVMSG_E_TOO_BIG (*LEN is the size needed; the
 * message stays unviewed) if CAP is too small; as nvmsg_ack.
 */
NVMSG_API int nvmsg_recv(struct nvmsg_consumer *c, void *buf, size_t cap,
			 size_t *len, int64_t timeout_ns);

/*
 * nvmsg_ack_view -- durably acknowledge the messages of V's producer slot
 * up to and including V (a message viewed through this handle), leaving
 * the other slots' views unacked: for a forwarder that releases messages
 * as their remote copies become durable.  With NVMSG_MORE the ack is only
 * noted; the next nvmsg_ack_view without it (or nvmsg_ack, which acks
 * everything viewed) makes every noted ack durable with one barrier.
 * Views of the same slot after V, and of other slots, stay valid.
 * Errors: -EINVAL (V not viewed through C, or already acked), as nvmsg_ack.
 */
NVMSG_API int nvmsg_ack_view(struct nvmsg_consumer *c,
			     const struct nvmsg_view *v, int flags);

/* ---------------------------------------------------------------- origins */

/*
 * Forwarding keeps where each message came from, in the receiving channel
 * itself (docs/DAEMON.md, "Origin identity").  The receiver gives each
 * origin (origin channel, origin producer slot) a producer slot of its own
 * and appends with the origin's sequence numbers, so the slot's committed
 * number is the highest sequence held from that origin, recovered after any
 * crash from the same barrier as the bytes.  The slot's origin line is
 * persisted before its first record and never changes.
 */
struct nvmsg_origin {
	uint8_t channel[16]; /* the origin channel's uuid */
	uint32_t producer;   /* the producer slot there */
	uint32_t flags;	     /* NVMSG_ORIGIN_FORWARDED */
};
/* the slot holds forwarded messages (else it is a local producer's slot
 * and the origin is this channel itself) */
#define NVMSG_ORIGIN_FORWARDED 0x1u

/*
 * nvmsg_channel_origins -- for each producer slot I of DIR/NAME, OUT[I]
 * gets its origin: the origin line of a forwarded slot, else this
 * channel's uuid and I.  Needs read permission.  Returns the number of
 * slots (max_producers), or an error as nvmsg_channel_stat.
 */
NVMSG_API int
nvmsg_channel_origins(const char *dir, const char *name,
		      struct nvmsg_origin out[NVMSG_MAX_PRODUCERS]);

/*
 * nvmsg_consumer_origin -- the origin of PRODUCER's slot on C's channel,
 * as nvmsg_channel_origins (a view's origin: v.producer).  A forwarder
 * forwards a forwarded slot's messages under their first origin, so
 * origins survive several hops.  Errors: -EINVAL (PRODUCER out of range),
 * NVMSG_E_WRONG_MODE, NVMSG_E_FORKED, NVMSG_E_CORRUPT (a torn origin line
 * on a slot that holds records).
 */
NVMSG_API int nvmsg_consumer_origin(const struct nvmsg_consumer *c,
				    unsigned producer, struct nvmsg_origin *o);

/*
 * nvmsg_producer_open_origin -- open DIR/NAME as a producer on the slot
 * that holds origin O's messages, or, when none does, on a slot that never
 * held a record, whose origin line is then made durable first.  The slot
 * is taken over (recovered) as by nvmsg_producer_open; its committed
 * number is the highest sequence of O held.  Send with nvmsg_send_seq
 * only.  Slots of NVMSG_ANY_PRODUCER never get a forwarded slot.
 * Errors: -EBUSY (O's slot is owned by a live process),
 * NVMSG_E_FULL_TABLE (no slot left that never held a record), and those
 * of nvmsg_producer_open.
 */
NVMSG_API int nvmsg_producer_open_origin(const char *dir, const char *name,
					 const struct nvmsg_origin *o,
					 struct nvmsg_producer **out);

/*
 * nvmsg_send_seq -- nvmsg_send on a forwarded slot, with the origin's
 * sequence number SEQ, which must be above every number the slot holds
 * (it may skip numbers).  NVMSG_E_DUPLICATE when it is not: nothing is
 * written (exactly once: a resent message is dropped here).
 * Errors: NVMSG_E_WRONG_MODE (not a forwarded slot; and nvmsg_send,
 * reserve and commit refuse forwarded slots), -EINVAL (SEQ 0), and those
 * of nvmsg_send.
 */
NVMSG_API int nvmsg_send_seq(struct nvmsg_producer *p, uint64_t seq,
			     const void *buf, size_t len, int flags,
			     int64_t timeout_ns);

/* nvmsg_producer_last_seq -- the highest sequence number written through
 * P so far (committed at open, then each send; NVMSG_MORE sends count
 * before they are durable); 0 for a bad handle */
NVMSG_API uint64_t nvmsg_producer_last_seq(const struct nvmsg_producer *p);

/* ---------------------------------------------------------------- roles */

/* Passing a consumer where a producer is expected (or the reverse) through
 * a cast is detected: the call returns NVMSG_E_WRONG_MODE. */

#ifdef __cplusplus
}
#endif
#endif /* NVMSG_H */
