/* SPDX-License-Identifier: MIT */
/*
 * cmd_ls.c -- nvmsg ls: the channels of a directory, with tier and depth.
 *
 * Lists the NAME.nvmsg files of --dir or $NVMSG_DIR, else for each default
 * directory that exists.  A file that fails to open is listed with the
 * library's reason and the listing goes on; the exit status is then 1.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

/* struct entry -- one listed channel: its stat, or why it has none */
struct entry {
	const char *dir;
	char *name;  /* without .nvmsg */
	int rc;	     /* nvmsg_channel_stat's result */
	char *error; /* its sentence when rc < 0 */
	int tier;
	char backing[96];
	uint64_t depth_bytes;
	unsigned nproducers;
	unsigned nconsumers;
};

struct listing {
	struct entry *e;
	size_t n, cap;
	int failed; /* an entry or a directory could not be read */
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

/* add -- stat channel NAME of DIR into a new entry */
static int
add(struct listing *l, const char *dir, const char *name, struct nvmsg_stat *st)
{
	struct entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct entry *ne = realloc(l->e, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		l->e = ne;
		l->cap = cap;
	}
	e = &l->e[l->n];
	memset(e, 0, sizeof(*e));
	e->dir = dir;
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	l->n++;
	e->rc = nvmsg_channel_stat(dir, name, st);
	if (e->rc < 0) {
		const char *msg = nvmsg_errmsg();
		e->error = strdup(msg[0] ? msg : nvmsg_strerror(e->rc));
		l->failed = 1;
		return 0;
	}
	e->tier = st->tier;
	snprintf(e->backing, sizeof(e->backing), "%s", st->backing);
	e->depth_bytes = st->depth_bytes;
	e->nproducers = st->nproducers;
	e->nconsumers = st->nconsumers;
	return 0;
}

/* scan -- every NAME.nvmsg of DIR, sorted by name; MISSING_OK skips a
 * directory that does not exist */
static int
scan(struct listing *l, const char *dir, int missing_ok, struct nvmsg_stat *st)
{
	size_t first = l->n;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		if (missing_ok && errno == ENOENT)
			return 0;
		cli_err("%s: %s", dir, strerror(errno));
		l->failed = 1;
		return 0;
	}
	while ((de = readdir(d))) {
		char name[256];
		size_t n = strlen(de->d_name);
		/* hidden files include channels still being created */
		if (de->d_name[0] == '.' || n <= 6 || n - 6 >= sizeof(name) ||
		    strcmp(de->d_name + n - 6, ".nvmsg") != 0)
			continue;
		memcpy(name, de->d_name, n - 6);
		name[n - 6] = '\0';
		if (add(l, dir, name, st) < 0) {
			closedir(d);
			cli_err("out of memory");
			return -ENOMEM;
		}
	}
	closedir(d);
	if (l->n > first)
		qsort(l->e + first, l->n - first, sizeof(*l->e), by_name);
	return 0;
}

static void
print_json(const struct listing *l)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_arr(&w, "channels");
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];
		jw_obj(&w, NULL);
		jw_str(&w, "name", e->name);
		jw_str(&w, "dir", e->dir);
		if (e->rc < 0) {
			jw_str(&w, "error", e->error ? e->error : "");
		} else {
			jw_str(&w, "tier",
			       nvmsg_tier_name(e->tier)
				       ? nvmsg_tier_name(e->tier)
				       : "unknown");
			jw_str(&w, "backing", e->backing);
			jw_u64(&w, "depth_bytes", e->depth_bytes);
			jw_u64(&w, "producers", e->nproducers);
			jw_u64(&w, "consumers", e->nconsumers);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
}

static void
print_human(const struct listing *l)
{
	struct table t;

	if (l->n == 0)
		return;
	tbl_init(&t, 6, 0x1c);
	tbl_add(&t, "NAME");
	tbl_add(&t, "TIER");
	tbl_add(&t, "DEPTH");
	tbl_add(&t, "PRODUCERS");
	tbl_add(&t, "CONSUMERS");
	tbl_add(&t, "DIR");
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];
		tbl_add(&t, "%s", e->name);
		if (e->rc < 0) {
			tbl_add(&t, "error");
			tbl_add(&t, "-");
			tbl_add(&t, "-");
			tbl_add(&t, "-");
		} else {
			tbl_add(&t, "%s",
				nvmsg_tier_name(e->tier)
					? nvmsg_tier_name(e->tier)
					: "unknown");
			tbl_add(&t, "%llu", (unsigned long long)e->depth_bytes);
			tbl_add(&t, "%u", e->nproducers);
			tbl_add(&t, "%u", e->nconsumers);
		}
		tbl_add(&t, "%s", e->dir);
	}
	tbl_print(&t, stdout, "");
	tbl_free(&t);
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].rc < 0)
			printf("%s: %s\n", l->e[i].name,
			       l->e[i].error ? l->e[i].error : "");
}

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct listing l = { 0 };
	struct nvmsg_stat *st;
	const char *dir;
	int json = 0, c, rc = CLI_OK;

	while ((c = cli_getopt(g, cmd, argc, argv, ":hj", opts, &rc)) != -1) {
		if (c == CLI_OPT_STOP)
			return rc;
		json = 1;
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	st = malloc(sizeof(*st));
	if (!st) {
		cli_err("out of memory");
		return CLI_ERROR;
	}
	dir = cli_dir_explicit(g);
	if (dir)
		rc = scan(&l, dir, 0, st);
	for (int i = 0; !dir && rc == 0 && i < CLI_NDEFAULT_DIRS; i++)
		rc = scan(&l, cli_default_dirs[i], 1, st);
	free(st);
	if (rc == 0) {
		if (json)
			print_json(&l);
		else
			print_human(&l);
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.e[i].name);
		free(l.e[i].error);
	}
	free(l.e);
	return rc == 0 && !l.failed ? CLI_OK : CLI_ERROR;
}

const struct cli_cmd cli_cmd_ls = {
	.name = "ls",
	.summary = "list channels with their tier and depth",
	.synopsis = "[--json]",
	.help = "List the channels (*.nvmsg) of the directory given by --dir "
		"or $NVMSG_DIR,\nelse of /dev/shm/nvmsg, /var/tmp/nvmsg and "
		"/mnt/pmem/nvmsg.  Each shows its\ntier, its depth (bytes the "
		"slowest consumer has not acknowledged) and its\nproducer "
		"and consumer counts.  A channel that cannot be opened is "
		"listed with\nthe reason, and the exit status is then 1.\n"
		"\nOptions:\n"
		"  --json            {\"channels\":[{\"name\":...,\"dir\":...,"
		"\"tier\":...,\n"
		"                    \"backing\":...,\"depth_bytes\":...,"
		"\"producers\":...,\n"
		"                    \"consumers\":...} or {\"name\":...,"
		"\"dir\":...,\"error\":...}]}\n"
		"\nExample:\n"
		"  nvmsg ls --dir /dev/shm/nvmsg\n",
	.run = run,
};
