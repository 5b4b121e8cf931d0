/* SPDX-License-Identifier: MIT */
/*
 * dirs.c -- which directory a channel lives in.
 *
 * Order of precedence: --dir, then $NVMSG_DIR, then a default.  A new
 * channel goes to its tier's default (DRAM tiers to /dev/shm/nvmsg, msync
 * to /var/tmp/nvmsg, pmem to /mnt/pmem/nvmsg); an existing one is looked
 * up in those three, in that order.  /mnt/pmem itself is never made: it is
 * where a DAX filesystem is mounted, and making it would hide the mistake
 * of a missing mount until the library refuses the mapping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvmsg.h>

#include "cli.h"
#include "output.h"

const char *const cli_default_dirs[CLI_NDEFAULT_DIRS] = {
	CLI_DIR_SHM,
	CLI_DIR_VARTMP,
	CLI_DIR_PMEM,
};

const char *
cli_dir_explicit(const struct cli *g)
{
	const char *env = getenv("NVMSG_DIR");

	if (g->dir)
		return g->dir;
	if (env && env[0])
		return env;
	return NULL;
}

/* make_dirs -- mkdir -p PATH: each missing component with mode 0755 */
static int
make_dirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	struct stat st;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) == 0) {
			/* 0755 whatever the umask: others may consume */
			if (chmod(buf, 0755) != 0)
				cli_err("%s: chmod 0755: %s", buf,
					strerror(errno));
		} else if (errno != EEXIST || stat(buf, &st) != 0 ||
			   !S_ISDIR(st.st_mode)) {
			cli_err("cannot create directory %s: %s", buf,
				errno == EEXIST ? "a file is in the way"
						: strerror(errno));
			return -1;
		}
		buf[i] = path[i];
	}
	return 0;
}

const char *
cli_dir_for_create(const struct cli *g, int tier)
{
	const char *dir = cli_dir_explicit(g);
	struct stat st;

	if (dir)
		return dir;
	switch (tier) {
	case NVMSG_TIER_MSYNC:
		dir = CLI_DIR_VARTMP;
		break;
	case NVMSG_TIER_PMEM:
		if (stat("/mnt/pmem", &st) != 0 || !S_ISDIR(st.st_mode)) {
			cli_err("/mnt/pmem does not exist: mount a DAX "
				"filesystem there (mount -o dax), give --dir "
				"on one, or use --tier msync");
			return NULL;
		}
		dir = CLI_DIR_PMEM;
		break;
	default:
		dir = CLI_DIR_SHM;
		break;
	}
	return make_dirs(dir) == 0 ? dir : NULL;
}

const char *
cli_dir_find(const struct cli *g, const char *name)
{
	const char *dir = cli_dir_explicit(g);
	struct nvmsg_stat *st;
	int rc;

	if (dir)
		return dir;
	for (int i = 0; i < CLI_NDEFAULT_DIRS; i++) {
		char path[4096];
		size_t n = (size_t)snprintf(path, sizeof(path), "%s/%s.nvmsg",
					    cli_default_dirs[i], name);
		if (n < sizeof(path) && !strchr(name, '/') &&
		    access(path, F_OK) == 0)
			return cli_default_dirs[i];
	}
	/* not found: let the library judge the name first, so that a bad
	 * name is reported as such rather than as a missing channel */
	st = malloc(sizeof(*st));
	rc = st ? nvmsg_channel_stat(cli_default_dirs[0], name, st) : -ENOMEM;
	free(st);
	if (rc == NVMSG_E_BAD_NAME) {
		cli_lib_err(rc);
		return NULL;
	}
	cli_err("channel '%s' not found in %s, %s or %s (give --dir or set "
		"NVMSG_DIR)",
		name, CLI_DIR_SHM, CLI_DIR_VARTMP, CLI_DIR_PMEM);
	return NULL;
}
