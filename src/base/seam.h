/* SPDX-License-Identifier: MIT */
/*
 * seam.h -- the one place where test builds change the library.
 *
 * nv_mutant(n) is true only in the crash test's mutant build n
 * (-DNV_MUTANT=n, tests/crash/CMakeLists.txt), each of which breaks one
 * durability rule on purpose so that the test proves it can see the
 * break; nv_seam_pub_lag() only in the power-cut rig's lag build
 * (-DNV_SEAM_PUB_LAG=1, tests/powercut).  In the library proper both are
 * constant 0 and the compiler removes every branch on them.
 */
#ifndef NV_SEAM_H
#define NV_SEAM_H

static inline int
nv_mutant(int n)
{
#if defined(NV_MUTANT)
	return NV_MUTANT == n;
#else
	(void)n;
	return 0;
#endif
}

static inline int
nv_seam_pub_lag(void)
{
#if defined(NV_SEAM_PUB_LAG)
	return NV_SEAM_PUB_LAG;
#else
	return 0;
#endif
}

#endif
