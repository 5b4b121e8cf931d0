#!/bin/bash
# pmem.sh -- the pmem tier is never faked: creating a pmem channel on
# tmpfs (no DAX) fails with exit status 1, a message that says what is
# missing (DAX) and what to use instead (msync), and leaves no file.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
D=$T/ch
mkdir "$D"

run 1 "$NVMSG" create pm --dir "$D" --tier pmem
printf '%s\n' "$ERR" | grep -qi dax || fail "no mention of DAX: $ERR"
printf '%s\n' "$ERR" | grep -qi msync || fail "no mention of msync: $ERR"
case $ERR in "nvmsg: "*) ;; *) fail "not prefixed 'nvmsg: ': $ERR" ;; esac
[ -z "$(ls -A "$D")" ] || fail "left behind: $(ls -A "$D")"

# the fallback it points to works in the same place
run 0 "$NVMSG" create pm --dir "$D" --tier msync
run 0 "$NVMSG" stat pm --dir "$D" --json
case $OUT in *'"tier":"msync"'*) ;; *) fail "stat: $OUT" ;; esac
echo PASS
