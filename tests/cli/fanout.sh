#!/bin/bash
# fanout.sh -- every registered consumer receives every message (fan-out,
# not load sharing), and each producer's messages arrive in send order
# even when two producers write to the channel.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

run 0 "$NVMSG" create fan --dir "$T" --tier volatile --capacity 64K
run 0 "$NVMSG" recv fan --dir "$T" --consumer left --timeout-ms 0
run 0 "$NVMSG" recv fan --dir "$T" --consumer right --timeout-ms 0

seq -f 'a%g' 1 300 | "$NVMSG" send fan --dir "$T" --producer 0 &
seq -f 'b%g' 1 300 | "$NVMSG" send fan --dir "$T" --producer 1 &
wait %1 || fail "producer 0"
wait %2 || fail "producer 1"

for c in left right; do
	run 0 "$NVMSG" recv fan --dir "$T" --consumer "$c" --count 600 \
		--timeout-ms 5000
	expect_eq "$(printf '%s\n' "$OUT" | grep '^a' | tr -d a)" \
		"$(seq 1 300)" "$c: producer 0 in order"
	expect_eq "$(printf '%s\n' "$OUT" | grep '^b' | tr -d b)" \
		"$(seq 1 300)" "$c: producer 1 in order"
done
echo PASS
