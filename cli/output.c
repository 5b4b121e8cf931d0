/* SPDX-License-Identifier: MIT */
/*
 * output.c -- error lines, aligned tables and JSON for the nvmsg command.
 *
 * Nothing here decides what to print, only how: commands build a table or
 * walk a JSON writer, so every command's human and --json output share one
 * escaping and one alignment rule.
 */
#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <nvmsg.h>

#include "cli.h"

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("nvmsg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_lib_err(int rc)
{
	const char *msg = nvmsg_errmsg();

	cli_err("%s", msg[0] ? msg : nvmsg_strerror(rc));
	return CLI_ERROR;
}

int
cli_check_written(FILE *f, const char *what)
{
	if (fflush(f) == 0 && !ferror(f))
		return 0;
	cli_err("cannot write %s: %s", what, strerror(errno));
	return CLI_ERROR;
}

/* ---------------------------------------------------------------- JSON */

/* utf8_len -- length of the valid UTF-8 sequence at S (N bytes left), or
 * 0 when S does not start one (overlong forms, surrogates and code points
 * above U+10FFFF are not valid) */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1fu;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0fu;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
json_string(FILE *f, const void *buf, size_t n)
{
	const unsigned char *s = buf;
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		unsigned char c = s[i];
		size_t len = utf8_len(s + i, n - i);

		if (len > 1) {
			fwrite(s + i, 1, len, f);
			i += len;
			continue;
		}
		i++;
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			/* control characters, DEL, and bytes of no valid
			 * sequence (as Latin-1) */
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
			break;
		}
	}
	fputc('"', f);
}

void
jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

/* member -- the comma before a value and its key, if any */
static void
member(struct jw *w, const char *key)
{
	if (w->more[w->depth])
		fputc(',', w->f);
	w->more[w->depth] = 1;
	if (key) {
		json_string(w->f, key, strlen(key));
		fputc(':', w->f);
	}
}

static void
open_value(struct jw *w, const char *key, char c)
{
	member(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->more[w->depth] = 0;
}

static void
close_value(struct jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth > 0)
		w->depth--;
	if (w->depth == 0) {
		fputc('\n', w->f);
		w->more[0] = 0;
	}
}

void
jw_obj(struct jw *w, const char *key)
{
	open_value(w, key, '{');
}

void
jw_obj_end(struct jw *w)
{
	close_value(w, '}');
}

void
jw_arr(struct jw *w, const char *key)
{
	open_value(w, key, '[');
}

void
jw_arr_end(struct jw *w)
{
	close_value(w, ']');
}

void
jw_str(struct jw *w, const char *key, const char *s)
{
	jw_bytes(w, key, s, strlen(s));
}

void
jw_bytes(struct jw *w, const char *key, const void *s, size_t n)
{
	member(w, key);
	json_string(w->f, s, n);
}

void
jw_u64(struct jw *w, const char *key, uint64_t v)
{
	member(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void
jw_i64(struct jw *w, const char *key, int64_t v)
{
	member(w, key);
	fprintf(w->f, "%lld", (long long)v);
}

void
jw_bool(struct jw *w, const char *key, int v)
{
	member(w, key);
	fputs(v ? "true" : "false", w->f);
}

/* -------------------------------------------------------------- tables */

void
tbl_init(struct table *t, unsigned ncols, unsigned right_mask)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = right_mask;
}

void
tbl_add(struct table *t, const char *fmt, ...)
{
	char *cell = NULL;
	va_list ap;

	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		char **cells = realloc(t->cells, cap * sizeof(*cells));
		if (!cells)
			return; /* out of memory: the cell is dropped */
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&cell, fmt, ap) < 0)
		cell = NULL;
	va_end(ap);
	t->cells[t->ncells++] = cell;
}

void
tbl_print(const struct table *t, FILE *f, const char *indent)
{
	size_t width[32] = { 0 };
	unsigned ncols = t->ncols < 32 ? t->ncols : 32;

	for (size_t i = 0; i < t->ncells; i++) {
		size_t n = t->cells[i] ? strlen(t->cells[i]) : 0;
		if (n > width[i % ncols])
			width[i % ncols] = n;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		unsigned col = (unsigned)(i % ncols);
		const char *cell = t->cells[i] ? t->cells[i] : "?";
		int w = (int)width[col];
		int last = col + 1 == ncols || i + 1 == t->ncells;

		if (col == 0)
			fputs(indent, f);
		if (t->right & 1u << col)
			fprintf(f, "%*s", w, cell);
		else if (last)
			fputs(cell, f);
		else
			fprintf(f, "%-*s", w, cell);
		fputs(last ? "\n" : "  ", f);
	}
}

void
tbl_free(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
