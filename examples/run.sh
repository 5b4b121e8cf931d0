#!/usr/bin/env bash
# run.sh -- run one example the way a user would, and check it.
#
#   run.sh PROGRAM LINE_REGEX...
#
# Runs PROGRAM with a fresh directory under /dev/shm as its one argument.
# Passes (0) when it exits 0, its standard output is exactly one line per
# LINE_REGEX (extended regular expressions, in order) and the directory
# is empty afterwards (the example removed its channel); fails (1) saying
# which, with what the program printed.
set -u
prog=$1
shift
dir=$(mktemp -d /dev/shm/nvmsg-example-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT

out=$("$prog" "$dir") # its stderr goes to the test's log
rc=$?
echo "$out"

fail() {
	echo "FAIL: $(basename "$prog"): $*" >&2
	exit 1
}
[ "$rc" -eq 0 ] || fail "exit status $rc, want 0"
mapfile -t lines <<<"$out"
[ "${#lines[@]}" -eq $# ] || fail "${#lines[@]} lines of output, want $#"
i=0
for re in "$@"; do
	[[ ${lines[$i]} =~ $re ]] || fail "line $((i + 1)) \"${lines[$i]}\" does not match $re"
	i=$((i + 1))
done
left=$(ls -A "$dir")
[ -z "$left" ] || fail "left in its directory: $left"
echo "PASS: $(basename "$prog")"
