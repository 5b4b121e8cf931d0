/* SPDX-License-Identifier: MIT */
/*
 * demo.h -- nvmsg demo, shared between its three files:
 *   cmd_demo.c     options, the loop over tiers, the verdict report;
 *   demo_run.c     one tier: the channel, the producer and consumer
 *                  processes, the kill and restart, the deadline;
 *   demo_verdict.c the consumers' output files: their line format, the
 *                  restart scan and the verdict counts.
 *
 * Each consumer process appends "<producer> <seq>\n" to DIR/c<K>.out for
 * every message it processes, before acknowledging it.  The verdict is
 * computed from those files alone, not from what the library reports.
 */
#ifndef NVMSG_CLI_DEMO_H
#define NVMSG_CLI_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include <nvmsg.h>

#define DEMO_CHANNEL "demo"
#define DEMO_CAPACITY (64 * 1024) /* per ring: wraps many times */
#define DEMO_DEADLINE_MS 60000	  /* for every consumer to catch up */
#define DEMO_ACK_BATCH 64	  /* messages processed per ack */

/* struct demo_cfg -- what the user asked for */
struct demo_cfg {
	unsigned producers;
	unsigned consumers;
	uint64_t messages; /* per producer */
	const char *base;  /* parent of the temporary directories, or NULL
			    * for the tier's usual place */
	int progress;	   /* draw a progress line on stderr */
};

/* struct demo_counts -- what one consumer's output file shows */
struct demo_counts {
	uint64_t lines;
	uint64_t unique;     /* distinct (producer, seq) pairs */
	uint64_t duplicated; /* lines whose pair appeared before */
	uint64_t reordered;  /* first deliveries of a seq lower than an
			      * earlier seq of the same producer */
	uint64_t invalid;    /* lines that are not "<producer> <seq>" of
			      * a message that was sent */
};

/* struct demo_result -- one tier's run */
struct demo_result {
	int tier;
	char backing[96];
	uint64_t sent;
	struct demo_counts cons[NVMSG_MAX_CONSUMERS];
	uint64_t lost; /* sum over consumers of sent - unique */
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t invalid;
	uint64_t redelivered; /* skipped by consumers after a restart */
	uint64_t kills;
	uint64_t elapsed_ms;
	int drained; /* every consumer caught up before the deadline */
};

/* demo_run_tier -- run the demo once on TIER into *RES.  0 when the run
 * completed (its verdict is in *RES), -1 after printing why it could not
 * run.  No child process outlives it, and its directory is removed. */
int demo_run_tier(const struct demo_cfg *cfg, int tier,
		  struct demo_result *res);

/* demo_format_line -- "<producer> <seq>\n" into BUF; its length */
size_t demo_format_line(char *buf, size_t cap, unsigned producer, uint64_t seq);

/* demo_scan_restart -- what a restarting consumer needs from its output
 * file BUF (LEN bytes): LAST[p] the highest seq recorded per producer
 * (NPRODUCERS entries), *LINES the whole lines.  Returns the length of
 * the whole lines: a torn last line is cut there. */
size_t demo_scan_restart(const char *buf, size_t len, unsigned nproducers,
			 uint64_t *last, uint64_t *lines);

/* demo_check_file -- verdict counts of output file PATH; 0, or -1 after
 * printing why it could not be read */
int demo_check_file(const char *path, const struct demo_cfg *cfg,
		    struct demo_counts *out);

/* demo_read_file -- the whole of file FD into a malloc'd *BUF; 0 or -errno */
int demo_read_file(int fd, char **buf, size_t *len);

#endif /* NVMSG_CLI_DEMO_H */
