/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h -- what the fuzz targets share: oracles, a scratch
 * directory, and the "channel image" input format of fuzz_region and
 * fuzz_check.
 *
 * A fuzz target is a libFuzzer entry point (LLVMFuzzerTestOneInput) that
 * must return for every input.  A crash, a hang, an out-of-bounds access
 * (ASan), undefined behaviour (UBSan), a leaked file descriptor or a
 * result that breaks an oracle below is a finding; an oracle failure
 * aborts with a line saying which.  The same targets are linked with
 * replay.c (a plain main) in every build, so CTest replays the corpora
 * without a fuzzer.
 *
 * CHANNEL IMAGE (fuzz_region, fuzz_check):
 *   byte 0           flags (FZ_* below)
 *   u32 LE, bytes    the data region  DIR/f.nvmsg
 *   u32 LE, bytes    the cursor region of consumer "c"  DIR/f.c.nvcur
 *   u32 LE, bytes    the cursor region of consumer "d"  DIR/f.d.nvcur
 * A length longer than what is left takes what is left; a missing part
 * is a missing file.  Flags repair what a mutation breaks on purpose, so
 * that the fuzzer gets past the checksums to the code behind them.
 */
#ifndef NV_FUZZ_COMMON_H
#define NV_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ------------------------------------------------------------- oracles */

void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/* FZ_CHECK -- an oracle: abort with the condition and a sentence */
#define FZ_CHECK(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond))                                                   \
			fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);       \
	} while (0)

/* fz_named -- RC (from call WHAT) is 0 or a code nvmsg_strerror names,
 * and a failure left a sentence in nvmsg_errmsg() (-EAGAIN, the hot
 * path's "nothing now", need not); a failure that is
 * about region bytes (corrupt, version, mismatch) names a file in DIR
 * (NULL: not checked).  Aborts otherwise. */
void fz_named(int rc, const char *what, const char *dir);

/* fz_known_bugs -- 1 when NVMSG_FUZZ_KNOWN_BUGS is set: the oracles of
 * library bugs not fixed yet (fuzz/known-bugs/README.md) are on.  Off by
 * default, so that the short runs in CI and a campaign go on past them;
 * the fuzz_<t>_known_bugs tests set it.  Remove the condition with the
 * fix. */
int fz_known_bugs(void);

/* fz_lowest_fd -- the lowest free file descriptor: it grows when a call
 * leaks one */
int fz_lowest_fd(void);

/* ----------------------------------------------------------- scratch dir */

/* fz_tmpdir -- this process's directory under /dev/shm, made on first
 * use, removed at exit */
const char *fz_tmpdir(void);
/* fz_clear_dir -- remove every entry of DIR (files, FIFOs, empty dirs) */
void fz_clear_dir(const char *dir);
/* fz_write_file -- DIR/FILE := [P, P+N); 0 or -1 */
int fz_write_file(const char *dir, const char *file, const void *p, size_t n);

/* ------------------------------------------------------- channel image */

#define FZ_CHAN "f" /* channel name inside the scratch dir */
#define FZ_NCUR 2   /* cursor regions in an image: "c", "d" */
extern const char *const fz_cur_names[FZ_NCUR];

#define FZ_FIX_HDR 0x01	   /* recompute the data header checksum */
#define FZ_FIX_CUR 0x02	   /* recompute the cursor header checksums */
#define FZ_FIX_RECS 0x04   /* reseal every record that looks placed */
#define FZ_FIX_DESC 0x08   /* recompute both batch descriptors' checks */
#define FZ_OWNER_LIVE 0x10 /* claimed slots: owned by this process */
#define FZ_REGISTER 0x20   /* fuzz_region: also register consumer "e" */
#define FZ_SEND 0x40	   /* fuzz_region: send one message per slot */

struct fz_chan {
	unsigned flags;
	uint8_t *data; /* owned copies, fixed up in place */
	size_t data_len;
	int has_data;
	uint8_t *cur[FZ_NCUR];
	size_t cur_len[FZ_NCUR];
	int has_cur[FZ_NCUR];
};

/* fz_chan_parse -- split IN into *C (copies); -1 if IN is empty */
int fz_chan_parse(struct fz_chan *c, const uint8_t *in, size_t n);
/* fz_chan_fix -- apply the FZ_FIX_* and FZ_OWNER_* flags */
void fz_chan_fix(struct fz_chan *c);
/* fz_chan_write -- the image's files in DIR (cleared first) */
void fz_chan_write(const struct fz_chan *c, const char *dir);
void fz_chan_free(struct fz_chan *c);
/* fz_chan_encode -- the inverse of fz_chan_parse (gen_corpus): returns a
 * malloc'd image of *LEN bytes */
uint8_t *fz_chan_encode(unsigned flags, const void *data, size_t data_len,
			const void *const cur[FZ_NCUR],
			const size_t cur_len[FZ_NCUR], size_t *len);

/* struct fz_geom -- the geometry an image's header claims, when it is in
 * range and fits the image (what the library would accept) */
struct fz_geom {
	uint64_t ring_bytes;
	unsigned max_producers;
	unsigned max_consumers;
	uint64_t prod_table_off;
	uint64_t ring_off;
	uint64_t file_bytes;
};
/* fz_geom -- 0 and *G from the header of DATA (LEN bytes), or -1 */
int fz_geom(const uint8_t *data, size_t len, struct fz_geom *g);

/* fz_reseal_ring -- recompute the checksum of every record of RING (RB
 * bytes, a power of two) whose position word, type and length make it a
 * placed record (FZ_FIX_RECS) */
void fz_reseal_ring(uint8_t *ring, uint64_t rb);

/* fz_check_run -- nvmsg_channel_check on DIR/f with the oracles of every
 * target; returns its rc, fills *R */
struct nvmsg_check;
int fz_check_run(const char *dir, struct nvmsg_check *r);
/* fz_stat_run -- nvmsg_channel_stat on DIR/f with its oracles */
int fz_stat_run(const char *dir);

#endif
