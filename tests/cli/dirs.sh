#!/bin/bash
# dirs.sh -- where channels are looked for: --dir before or after the
# verb, else $NVMSG_DIR; --dir wins over $NVMSG_DIR.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
mkdir "$T/a" "$T/b"

run 0 "$NVMSG" --dir "$T/a" create one --tier volatile
run 0 "$NVMSG" create two --tier volatile --dir "$T/b"
NVMSG_DIR=$T/a run 0 "$NVMSG" create three --tier emulated
[ -f "$T/a/one.nvmsg" ] && [ -f "$T/b/two.nvmsg" ] &&
	[ -f "$T/a/three.nvmsg" ] || fail "files: $(ls -R "$T")"

NVMSG_DIR=$T/a run 0 "$NVMSG" ls
case $OUT in *one*three*) ;; *) fail "ls \$NVMSG_DIR: $OUT" ;; esac
case $OUT in *two*) fail "ls \$NVMSG_DIR lists b: $OUT" ;; esac
NVMSG_DIR=$T/a run 0 "$NVMSG" ls --dir "$T/b"
case $OUT in *two*) ;; *) fail "--dir over \$NVMSG_DIR: $OUT" ;; esac
NVMSG_DIR=$T/a run 0 "$NVMSG" --dir="$T/b" stat two
NVMSG_DIR=$T/a run 1 "$NVMSG" stat two
echo PASS
