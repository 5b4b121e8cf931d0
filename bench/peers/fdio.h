/* SPDX-License-Identifier: MIT */
/*
 * fdio.h -- whole-message reads and writes on file descriptors, shared by
 * the kernel peers (pipe, Unix socket, fdatasync).
 */
#ifndef NVB_FDIO_H
#define NVB_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

/* write_all -- LEN bytes or -errno */
static inline int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read_all -- LEN bytes, or -errno (-EPIPE at end of file) */
static inline int
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif /* NVB_FDIO_H */
