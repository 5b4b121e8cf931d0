#!/bin/bash
# resume.sh -- a consumer resumes after its last ack across recv
# invocations: nothing acknowledged is received again, nothing is skipped;
# stat shows the lag of what is left; --count not reached in time is
# exit status 3.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
need_python

run 0 "$NVMSG" create res --dir "$T" --tier emulated
run 0 "$NVMSG" recv res --dir "$T" --consumer r --timeout-ms 0
seq 1 10 | "$NVMSG" send res --dir "$T" || fail "send"

run 0 "$NVMSG" recv res --dir "$T" --consumer r --count 3
expect_eq "$OUT" "$(seq 1 3)" "first recv"
run 0 "$NVMSG" stat res --dir "$T" --json
printf '%s\n' "$OUT" |
	json 'd["consumers"][0]["name"] == "r" and d["consumers"][0]["lag_messages"] == 7'

run 0 "$NVMSG" recv res --dir "$T" --consumer r --count 3
expect_eq "$OUT" "$(seq 4 6)" "second recv"
run 0 "$NVMSG" recv res --dir "$T" --consumer r --timeout-ms 100
expect_eq "$OUT" "$(seq 7 10)" "third recv"

run 3 "$NVMSG" recv res --dir "$T" --consumer r --count 1 --timeout-ms 50
expect_eq "$OUT" "" "recv after the end"
case $ERR in *timeout*) ;; *) fail "no timeout message: $ERR" ;; esac

# messages sent later are picked up where the consumer stopped
"$NVMSG" send res --dir "$T" 11 12 13 || fail "send"
run 0 "$NVMSG" recv res --dir "$T" --consumer r --count 1
expect_eq "$OUT" 11 "fourth recv"
run 0 "$NVMSG" recv res --dir "$T" --consumer r --count 2
expect_eq "$OUT" "$(seq 12 13)" "fifth recv"
echo PASS
