#!/bin/bash
# roundtrip.sh -- messages sent with nvmsg send (as arguments and as stdin
# lines) come back from nvmsg recv byte for byte and in order; empty stdin
# lines are skipped, a last line without a newline is sent, batches larger
# than one flush (64 lines) arrive whole, --verbose names producer and seq,
# and $NVMSG_DIR works like --dir before or after the verb.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
need_python
D=$T/ch
mkdir "$D"

run 0 "$NVMSG" --dir "$D" create rt --tier volatile --capacity 64K
case $OUT in
*"$D/rt.nvmsg"*volatile*) ;;
*) fail "create line: $OUT" ;;
esac
[ -f "$D/rt.nvmsg" ] || fail "no channel file"

# a consumer receives what is sent after it registered: register first
run 0 "$NVMSG" recv rt --dir "$D" --consumer a --timeout-ms 0
expect_eq "$OUT" "" "recv on an empty channel"

run 0 "$NVMSG" send rt --dir "$D" "first message" second
printf 'line one\n\nline two\nlast without newline' |
	"$NVMSG" send rt --dir "$D" || fail "send from stdin"
run 0 "$NVMSG" recv rt --dir "$D" --consumer a --count 5 --timeout-ms 5000
expect_eq "$OUT" "$(printf 'first message\nsecond\nline one\nline two\nlast without newline')" \
	"received"

# nothing left: without --count a timeout ends recv with status 0
run 0 "$NVMSG" recv rt --dir "$D" --consumer a --timeout-ms 50
expect_eq "$OUT" "" "recv after the last message"

run 0 "$NVMSG" --dir "$D" send rt --producer 2 --verbose x y
expect_eq "$OUT" "$(printf 'sent producer=2 seq=1\nsent producer=2 seq=2')" \
	"--verbose"

# NVMSG_DIR instead of --dir; --json carries producer and seq
NVMSG_DIR=$D run 0 "$NVMSG" recv rt --consumer a --count 2 --json
printf '%s\n' "$OUT" | head -1 |
	json 'd == {"producer": 2, "seq": 1, "data": "x"}'

# more lines than one batch, through a pipe
seq 1 1000 | "$NVMSG" send rt --dir "$D" || fail "send 1000 lines"
run 0 "$NVMSG" recv rt --dir "$D" --consumer a --count 1000 --timeout-ms 5000
expect_eq "$OUT" "$(seq 1 1000)" "1000 lines"
echo PASS
