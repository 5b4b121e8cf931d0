/* SPDX-License-Identifier: MIT */
/*
 * stopper.c -- LD_PRELOAD shim for agree.sh: stops `nvmsg send` at an
 * exact point of its stream, so that the test can then SIGKILL it there.
 *
 * With NVMSG_TEST_STOP_AT=N in the environment, the process's Nth call of
 * nvmsg_commit raises SIGSTOP before committing: the claim's payload is
 * written, its header not sealed, and the N - 1 messages before it are
 * whole records, those of the open batch (send flushes every 64 lines)
 * past the ring's published tail.  Nothing else changes.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <nvmsg.h>

typedef int (*commit_fn)(struct nvmsg_producer *, struct nvmsg_claim *, int);

int
nvmsg_commit(struct nvmsg_producer *p, struct nvmsg_claim *claim, int flags)
{
	static unsigned long calls;
	static commit_fn real;
	const char *at = getenv("NVMSG_TEST_STOP_AT");

	if (!real) {
		void *sym = dlsym(RTLD_NEXT, "nvmsg_commit");
		if (!sym)
			abort();
		memcpy(&real, &sym, sizeof(real)); /* object to function */
	}
	if (at && ++calls == strtoul(at, NULL, 10))
		raise(SIGSTOP);
	return real(p, claim, flags);
}
