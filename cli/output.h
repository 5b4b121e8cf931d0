/* SPDX-License-Identifier: MIT */
/*
 * output.h -- how the nvmsg command speaks: error lines, aligned tables
 * for people, and a small streaming JSON writer for scripts.
 *
 * JSON strings are escaped per RFC 8259.  Message payloads are arbitrary
 * bytes: valid UTF-8 is copied through, and each byte that is not part of
 * a valid UTF-8 sequence is written as \u00XX (that byte read as Latin-1),
 * so the output is always valid JSON and never loses a byte's value.
 */
#ifndef NVMSG_CLI_OUTPUT_H
#define NVMSG_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* cli_err -- "nvmsg: <message>" on stderr */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_lib_err -- report the library failure RC: "nvmsg: " + nvmsg_errmsg(),
 * or nvmsg_strerror(RC) when the library left no sentence.  Returns
 * CLI_ERROR. */
int cli_lib_err(int rc);

/* cli_check_written -- flush F; 0, or CLI_ERROR after reporting that
 * WHAT could not be written */
int cli_check_written(FILE *f, const char *what);

/* ---------------------------------------------------------------- JSON */

#define JW_MAX_DEPTH 8

/* struct jw -- a JSON writer; KEY arguments are NULL inside arrays and at
 * the top level.  Closing the top-level value writes a newline. */
struct jw {
	FILE *f;
	int depth;
	int more[JW_MAX_DEPTH]; /* a value was written at this depth */
};

void jw_init(struct jw *w, FILE *f);
void jw_obj(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_bytes(struct jw *w, const char *key, const void *s, size_t n);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, int v);

/* json_string -- N bytes of S as one quoted, escaped JSON string */
void json_string(FILE *f, const void *s, size_t n);

/* -------------------------------------------------------------- tables */

/* struct table -- cells filled left to right, top to bottom; printed with
 * every column as wide as its widest cell, two spaces apart */
struct table {
	unsigned ncols;
	unsigned right; /* bit C set: column C is right-aligned */
	size_t ncells;
	size_t cap;
	char **cells;
};

void tbl_init(struct table *t, unsigned ncols, unsigned right_mask);
/* tbl_add -- append one formatted cell */
void tbl_add(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* tbl_print -- every row, each prefixed with INDENT */
void tbl_print(const struct table *t, FILE *f, const char *indent);
void tbl_free(struct table *t);

#endif /* NVMSG_CLI_OUTPUT_H */
