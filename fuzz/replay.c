/* SPDX-License-Identifier: MIT */
/*
 * replay.c -- a plain main() for a fuzz target: feeds every file of each
 * directory (or each file) named on the command line, in name order, to
 * LLVMFuzzerTestOneInput.  Built with the normal compiler in every
 * preset, so CTest replays the corpora without libFuzzer; under the
 * asan-ubsan preset the replay is checked by the sanitizers.
 *
 *   fuzz_region_replay fuzz/corpus/region [more dirs or files...]
 *
 * Exit 0 when every input returned (a finding aborts the program with
 * the oracle's or sanitizer's report), 1 when nothing could be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static unsigned long inputs;

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: cannot size\n", path);
		fclose(f);
		return -1;
	}
	/* an exact-size buffer: ASan sees a read past the input */
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: %s: read failed\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	/* named first: a finding aborts, and its input is the last line */
	fprintf(stderr, "replay: %s (%ld bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	inputs++;
	return 0;
}

static int
regular(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int
replay_path(const char *path)
{
	struct dirent **names;
	struct stat st;
	char p[4096];
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	n = scandir(path, &names, regular, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(p) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i]) != 0)
			rc = 1;
	fprintf(stderr, "replay: %lu inputs from %d path(s), all returned\n",
		inputs, argc - 1);
	return rc || inputs == 0 ? 1 : 0;
}
