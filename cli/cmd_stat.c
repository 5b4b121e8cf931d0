/* SPDX-License-Identifier: MIT */
/*
 * cmd_stat.c -- nvmsg stat: everything nvmsg_channel_stat reports.
 *
 * Read-only: needs only read permission on the channel's files.  Human
 * output is three aligned tables (channel, producers, consumers); --json
 * is one object with the same fields under the struct's names.  A
 * forwarded slot shows its origin (nvmsg_channel_origins); the links of
 * an nvmsgd serving the directory come from its status file
 * (DIR/nvmsgd.status, docs/DAEMON.md "Status").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

/* origin_str -- "local", or "fwd UUID8../P" for a forwarded slot */
static const char *
origin_str(const struct nvmsg_origin *o, char *buf, size_t cap)
{
	if (!(o->flags & NVMSG_ORIGIN_FORWARDED))
		return "local";
	snprintf(buf, cap, "fwd %02x%02x%02x%02x/%u", o->channel[0],
		 o->channel[1], o->channel[2], o->channel[3], o->producer);
	return buf;
}

/* links -- the daemon's status lines whose local channel is NAME, each
 * given to FN; the number of lines */
static unsigned
links(const char *dir, const char *name, void (*fn)(const char *, void *),
      void *arg)
{
	char path[4200], line[2048], want[NVMSG_NAME_MAX + 16];
	unsigned n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/nvmsgd.status", dir);
	snprintf(want, sizeof(want), " local=%s ", name);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (strncmp(line, "link ", 5) == 0 && strstr(line, want)) {
			fn(line + 5, arg);
			n++;
		}
	}
	fclose(f);
	return n;
}

static void
link_json(const char *line, void *arg)
{
	jw_str(arg, NULL, line);
}

static void
link_human(const char *line, void *arg)
{
	(void)arg;
	printf("  %s\n", line);
}

static void
print_json(const char *dir, const char *name, const struct nvmsg_stat *st,
	   const struct nvmsg_origin *org)
{
	char path[4200], ob[64];
	struct jw w;

	snprintf(path, sizeof(path), "%s/%s.nvmsg", dir, name);
	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_str(&w, "name", name);
	jw_str(&w, "path", path);
	jw_str(&w, "tier",
	       nvmsg_tier_name(st->tier) ? nvmsg_tier_name(st->tier)
					 : "unknown");
	jw_str(&w, "backing", st->backing);
	jw_str(&w, "persistence_domain", st->persistence_domain);
	jw_str(&w, "store_granularity", st->store_granularity);
	jw_u64(&w, "format_version", st->format_version);
	jw_u64(&w, "file_bytes", st->file_bytes);
	jw_u64(&w, "capacity_bytes", st->capacity_bytes);
	jw_u64(&w, "max_producers", st->max_producers);
	jw_u64(&w, "max_consumers", st->max_consumers);
	jw_u64(&w, "depth_bytes", st->depth_bytes);
	jw_u64(&w, "group_commits", st->group_commits);
	jw_u64(&w, "group_syncs", st->group_syncs);
	jw_arr(&w, "producers");
	for (unsigned i = 0; i < st->nproducers; i++) {
		const struct nvmsg_producer_stat *p = &st->producers[i];
		jw_obj(&w, NULL);
		jw_u64(&w, "id", p->id);
		jw_i64(&w, "pid", p->pid);
		jw_bool(&w, "alive", p->alive);
		jw_u64(&w, "tail", p->tail);
		jw_u64(&w, "next_seq", p->next_seq);
		jw_str(&w, "origin", origin_str(&org[p->id], ob, sizeof(ob)));
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_arr(&w, "consumers");
	for (unsigned i = 0; i < st->nconsumers; i++) {
		const struct nvmsg_consumer_stat *c = &st->consumers[i];
		jw_obj(&w, NULL);
		jw_str(&w, "name", c->name);
		jw_u64(&w, "lag_bytes", c->lag_bytes);
		jw_u64(&w, "lag_messages", c->lag_messages);
		jw_bool(&w, "waiting", c->waiting);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_arr(&w, "links");
	links(dir, name, link_json, &w);
	jw_arr_end(&w);
	jw_obj_end(&w);
}

static void
print_human(const char *dir, const char *name, const struct nvmsg_stat *st,
	    const struct nvmsg_origin *org)
{
	char ob[64];
	struct table t;

	tbl_init(&t, 2, 0);
	tbl_add(&t, "channel");
	tbl_add(&t, "%s/%s.nvmsg", dir, name);
	tbl_add(&t, "tier");
	tbl_add(&t, "%s",
		nvmsg_tier_name(st->tier) ? nvmsg_tier_name(st->tier)
					  : "unknown");
	tbl_add(&t, "backing");
	tbl_add(&t, "%s", st->backing);
	tbl_add(&t, "persistence domain");
	tbl_add(&t, "%s", st->persistence_domain);
	tbl_add(&t, "store granularity");
	tbl_add(&t, "%s", st->store_granularity);
	tbl_add(&t, "format version");
	tbl_add(&t, "%u", (unsigned)st->format_version);
	tbl_add(&t, "file bytes");
	tbl_add(&t, "%llu", (unsigned long long)st->file_bytes);
	tbl_add(&t, "capacity per ring");
	tbl_add(&t, "%llu bytes", (unsigned long long)st->capacity_bytes);
	tbl_add(&t, "max producers");
	tbl_add(&t, "%u", st->max_producers);
	tbl_add(&t, "max consumers");
	tbl_add(&t, "%u", st->max_consumers);
	tbl_add(&t, "depth");
	tbl_add(&t, "%llu bytes (largest consumer lag)",
		(unsigned long long)st->depth_bytes);
	if (st->tier == NVMSG_TIER_MSYNC) {
		tbl_add(&t, "group commit");
		tbl_add(&t, "%llu commits in %llu msyncs",
			(unsigned long long)st->group_commits,
			(unsigned long long)st->group_syncs);
	}
	tbl_print(&t, stdout, "");
	tbl_free(&t);

	printf("\nproducers: %u\n", st->nproducers);
	if (st->nproducers) {
		tbl_init(&t, 6, 0x1b); /* numbers right-aligned */
		tbl_add(&t, "ID");
		tbl_add(&t, "PID");
		tbl_add(&t, "ALIVE");
		tbl_add(&t, "TAIL");
		tbl_add(&t, "NEXT_SEQ");
		tbl_add(&t, "ORIGIN");
		for (unsigned i = 0; i < st->nproducers; i++) {
			const struct nvmsg_producer_stat *p = &st->producers[i];
			tbl_add(&t, "%u", p->id);
			tbl_add(&t, "%d", (int)p->pid);
			tbl_add(&t, "%s", p->alive ? "yes" : "no");
			tbl_add(&t, "%llu", (unsigned long long)p->tail);
			tbl_add(&t, "%llu", (unsigned long long)p->next_seq);
			tbl_add(&t, "%s",
				origin_str(&org[p->id], ob, sizeof(ob)));
		}
		tbl_print(&t, stdout, "  ");
		tbl_free(&t);
	}

	printf("\nconsumers: %u\n", st->nconsumers);
	if (st->nconsumers) {
		tbl_init(&t, 4, 0x6);
		tbl_add(&t, "NAME");
		tbl_add(&t, "LAG_BYTES");
		tbl_add(&t, "LAG_MESSAGES");
		tbl_add(&t, "WAITING");
		for (unsigned i = 0; i < st->nconsumers; i++) {
			const struct nvmsg_consumer_stat *c = &st->consumers[i];
			tbl_add(&t, "%s", c->name);
			tbl_add(&t, "%llu", (unsigned long long)c->lag_bytes);
			tbl_add(&t, "%llu",
				(unsigned long long)c->lag_messages);
			tbl_add(&t, "%s", c->waiting ? "yes" : "no");
		}
		tbl_print(&t, stdout, "  ");
		tbl_free(&t);
	}
	printf("\nlinks (nvmsgd):\n");
	if (!links(dir, name, link_human, NULL))
		printf("  none\n");
}

static int
run(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	struct nvmsg_stat *st;
	const char *name, *dir;
	int json, rc;

	rc = cli_name_json(g, cmd, argc, argv, &name, &dir, &json);
	if (rc != CLI_GO)
		return rc;
	st = malloc(sizeof(*st));
	if (!st) {
		cli_err("out of memory");
		return CLI_ERROR;
	}
	static struct nvmsg_origin org[NVMSG_MAX_PRODUCERS];
	rc = nvmsg_channel_stat(dir, name, st);
	if (rc == 0 && (rc = nvmsg_channel_origins(dir, name, org)) > 0)
		rc = 0;
	if (rc < 0)
		rc = cli_lib_err(rc);
	else if (json)
		print_json(dir, name, st, org);
	else
		print_human(dir, name, st, org);
	free(st);
	return rc;
}

const struct cli_cmd cli_cmd_stat = {
	.name = "stat",
	.summary = "show a channel's tier, geometry, producers and consumers",
	.synopsis = "NAME [--json]",
	.help = "Print what the channel is and how far behind its consumers "
		"are: path, tier,\nbacking, persistence domain, store "
		"granularity, format version, file size,\ncapacity per "
		"producer ring, slots, depth (the largest consumer lag), "
		"each\nclaimed producer slot (id, pid, alive, published "
		"tail, next sequence number)\nand each consumer (name, lag "
		"in bytes and messages, waiting).\nNeeds only read "
		"permission.\n"
		"\nOptions:\n"
		"  --json            one JSON object instead of tables\n"
		"\nExample:\n"
		"  nvmsg stat orders --json | python3 -m json.tool\n",
	.run = run,
};
