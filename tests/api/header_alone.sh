#!/usr/bin/env bash
# header_alone.sh -- include/nvmsg.h compiles alone in C11 (with every
# warning the project uses) and in C++ (extern "C" block).
set -euo pipefail
inc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <nvmsg.h>\nint main(void) { return nvmsg_tier_parse("pmem") == NVMSG_TIER_PMEM ? 0 : 1; }\n' >"$tmp/a.c"
cc -std=c11 -Wall -Wextra -Werror -Wpedantic -Wstrict-prototypes -I"$inc" -fsyntax-only "$tmp/a.c"
cp "$tmp/a.c" "$tmp/a.cc"
if command -v c++ >/dev/null; then
	c++ -std=c++11 -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/a.cc"
fi
echo "header compiles alone in C11 and C++"
