/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cli.c -- the nvmsg command's argument parsing, in process: the
 * cli/ sources are compiled into this target with -Dmain=nvmsg_cli_main
 * (cli/ is not a library, and exec per input would be far too slow).
 *
 * INPUT: the arguments after "nvmsg", separated by NUL bytes (at most 32,
 * each cut at 256 bytes).
 *
 * The command runs with NVMSG_DIR set to an empty scratch directory that
 * is also the working directory while the command runs (so a relative
 * --dir stays inside it), cleared after every input; stdin and stdout are /dev/null, stderr goes
 * to /dev/null through the stdio stream only (sanitizer reports still
 * reach file descriptor 2).  RLIMIT_FSIZE keeps a "create --capacity 16G"
 * from filling memory: the library gets EFBIG instead.
 *
 * Skipped inputs: any argument "demo" (it forks and runs for seconds)
 * or "bench" (it execs the benchmark harness in place of this process),
 * and any argument holding '/' or "..": a path could leave the scratch
 * directory (--dir /, and getopt_long accepts abbreviations such as
 * --di, so the option cannot be filtered by name).
 *
 * Oracles: the exit code is one of the documented ones (0..5); no file
 * descriptor leaks; ASan/UBSan/LSan as always.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fuzz_common.h"

int nvmsg_cli_main(int argc, char **argv);

#define MAX_ARGS 32
#define MAX_ARG 256

static FILE *devnull;
static int home; /* the working directory outside a command */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rlimit fs = { 1u << 20, 1u << 20 };
	const char *dir = fz_tmpdir();
	int fd;

	(void)argc;
	(void)argv;
	setenv("NVMSG_DIR", dir, 1);
	home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (home < 0)
		abort();
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &fs);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		abort();
	dup2(fd, 0);
	dup2(fd, 1);
	close(fd);
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	char *argv[MAX_ARGS + 2];
	char buf[MAX_ARGS][MAX_ARG + 1];
	int argc = 0;
	size_t i = 0;

	argv[argc++] = (char *)"nvmsg";
	while (i < n && argc <= MAX_ARGS) {
		size_t len = 0;
		char *a = buf[argc - 1];
		while (i < n && in[i] != '\0') {
			if (len < MAX_ARG)
				a[len++] = (char)in[i];
			i++;
		}
		i++; /* the NUL */
		a[len] = '\0';
		if (strcmp(a, "demo") == 0 || strcmp(a, "bench") == 0 ||
		    strchr(a, '/') || strstr(a, ".."))
			return 0;
		argv[argc++] = a;
	}
	argv[argc] = NULL;

	const char *dir = fz_tmpdir();
	int fd0 = fz_lowest_fd();
	/* again for every input: libFuzzer installs its own SIGXFSZ handler
	 * (-handle_xfsz) after LLVMFuzzerInitialize, and it exits */
	signal(SIGXFSZ, SIG_IGN);
	FILE *err = stderr;
	if (chdir(dir) != 0)
		abort();
	stderr = devnull;
	int rc = nvmsg_cli_main(argc, argv);
	fflush(stdout);
	clearerr(stdout);
	stderr = err;
	if (fchdir(home) != 0)
		abort();
	FZ_CHECK(rc >= 0 && rc <= 5, "nvmsg exited %d", rc);
	FZ_CHECK(fz_lowest_fd() == fd0,
		 "file descriptor leak: lowest free fd "
		 "%d, was %d",
		 fz_lowest_fd(), fd0);
	fz_clear_dir(dir);
	return 0;
}
