/* SPDX-License-Identifier: MIT */
/*
 * compiler.h -- branch hints, alignment and static-assert helpers.
 */
#ifndef NV_COMPILER_H
#define NV_COMPILER_H

#include <stddef.h>

#define nv_unlikely(x) __builtin_expect(!!(x), 0)
#define NV_OFFSET_IS(type, field, off)                                         \
	_Static_assert(offsetof(type, field) == (off), #type "." #field)
#define NV_SIZE_IS(type, size)                                                 \
	_Static_assert(sizeof(type) == (size), "sizeof " #type)

/* round x up to a multiple of a (a power of two) */
#define NV_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))

#endif
