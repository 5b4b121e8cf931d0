#!/bin/bash
# rm.sh -- nvmsg rm removes the channel and its consumers' cursor files,
# and then the channel is gone for every command (exit status 1).
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
D=$T/ch
mkdir "$D"

run 0 "$NVMSG" create gone --dir "$D" --tier volatile
run 0 "$NVMSG" create kept --dir "$D" --tier volatile
run 0 "$NVMSG" recv gone --dir "$D" --consumer a --timeout-ms 0
run 0 "$NVMSG" recv gone --dir "$D" --consumer b --timeout-ms 0
[ -f "$D/gone.a.nvcur" ] && [ -f "$D/gone.b.nvcur" ] || fail "no cursors"

run 0 "$NVMSG" rm gone --dir "$D"
expect_eq "$(ls "$D")" kept.nvmsg "files after rm"
run 1 "$NVMSG" rm gone --dir "$D"
run 1 "$NVMSG" stat gone --dir "$D"
run 1 "$NVMSG" send gone --dir "$D" x
run 1 "$NVMSG" recv gone --dir "$D" --consumer a --timeout-ms 0
run 0 "$NVMSG" stat kept --dir "$D"
echo PASS
