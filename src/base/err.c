/* SPDX-License-Identifier: MIT */
/*
 * err.c -- nvmsg_strerror, nvmsg_errmsg and the thread-local sentence.
 */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errbuf[1024];

int
nv_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return code;
}

int
nv_err_append(int code, const char *fmt, ...)
{
	size_t used = strlen(errbuf);
	va_list ap;

	if (used + 3 >= sizeof(errbuf))
		return code;
	memcpy(errbuf + used, ": ", 2);
	used += 2;
	va_start(ap, fmt);
	vsnprintf(errbuf + used, sizeof(errbuf) - used, fmt, ap);
	va_end(ap);
	return code;
}

void
nv_err_clear(void)
{
	errbuf[0] = '\0';
}

const char *
nvmsg_errmsg(void)
{
	return errbuf;
}

const char *
nvmsg_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case NVMSG_E_CORRUPT:
		return "NVMSG_E_CORRUPT: region bytes fail a check";
	case NVMSG_E_VERSION:
		return "NVMSG_E_VERSION: format version not supported";
	case NVMSG_E_NOT_PMEM:
		return "NVMSG_E_NOT_PMEM: kernel cannot map DAX with MAP_SYNC";
	case NVMSG_E_TOO_BIG:
		return "NVMSG_E_TOO_BIG: message larger than the channel allows";
	case NVMSG_E_EMPTY_MSG:
		return "NVMSG_E_EMPTY_MSG: zero-length message";
	case NVMSG_E_WRONG_MODE:
		return "NVMSG_E_WRONG_MODE: handle opened for the other role";
	case NVMSG_E_NO_CONSUMER:
		return "NVMSG_E_NO_CONSUMER: consumer not registered";
	case NVMSG_E_FULL_TABLE:
		return "NVMSG_E_FULL_TABLE: no free producer or consumer slot";
	case NVMSG_E_BAD_NAME:
		return "NVMSG_E_BAD_NAME: invalid channel or consumer name";
	case NVMSG_E_MISMATCH:
		return "NVMSG_E_MISMATCH: cursor region belongs to another channel";
	case NVMSG_E_TIER:
		return "NVMSG_E_TIER: tier unknown or unusable";
	case NVMSG_E_FORKED:
		return "NVMSG_E_FORKED: handle inherited through fork(); open "
		       "a new one in this process";
	case NVMSG_E_DUPLICATE:
		return "NVMSG_E_DUPLICATE: sequence number already held (a "
		       "resent message, dropped)";
	default:
		break;
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown nvmsg error code";
}
