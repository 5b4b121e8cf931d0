/* SPDX-License-Identifier: MIT */
/*
 * err.h -- error codes and the thread-local error sentence.
 *
 * nv_err() sets the sentence and returns the code, so a failure reads
 * `return nv_err(-ENOENT, "%s: no such channel", path);`.  nv_err_append()
 * adds context on the way up.  The library never prints.
 */
#ifndef NV_ERR_H
#define NV_ERR_H

#include "../../include/nvmsg.h"

int nv_err(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int nv_err_append(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void nv_err_clear(void);

#endif
