/* SPDX-License-Identifier: MIT */
/*
 * atomic.h -- typed C11 atomic helpers for words in shared mappings.
 *
 * Every shared word is _Atomic and every access names its order.  Words in
 * a shared mapping are used by several processes, so they must be
 * lock-free (address-free); this file asserts that at compile time.
 */
#ifndef NV_ATOMIC_H
#define NV_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

typedef _Atomic uint64_t nv_a64;
typedef _Atomic uint32_t nv_a32;

#define nv_load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define nv_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define nv_load_seq(p) atomic_load_explicit((p), memory_order_seq_cst)
#define nv_store_relaxed(p, v)                                                 \
	atomic_store_explicit((p), (v), memory_order_relaxed)
#define nv_store_release(p, v)                                                 \
	atomic_store_explicit((p), (v), memory_order_release)
#define nv_store_seq(p, v) atomic_store_explicit((p), (v), memory_order_seq_cst)
#define nv_fence_seq() atomic_thread_fence(memory_order_seq_cst)

#endif
