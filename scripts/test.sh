#!/usr/bin/env bash
# test.sh -- README command 2: install what is needed, then build and run
# the whole test suite under ASan+UBSan (every label), then the in-process
# multi-threaded tests under TSan.  Exit status is the suite's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)
start=$(date +%s)

cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan -j"$jobs"
ctest --preset asan-ubsan -j"$jobs" --timeout 900

cmake --preset tsan >/dev/null
cmake --build --preset tsan -j"$jobs"
ctest --preset tsan -L tsan -j"$jobs"

echo "test.sh: all suites passed in $(( $(date +%s) - start )) s"
