#!/bin/bash
# check.sh -- nvmsg check and nvmsg repair end to end.  check changes
# nothing and its exit status is the verdict: 0 clean (a fresh channel, a
# live producer), 5 repair needed (a producer killed with SIGKILL while it
# held its slot; records it left unpublished; a torn record at its tail),
# 1 corrupt or unopenable (a header byte flipped: "checksum"; a record
# flipped below the durable tail; a truncated file; a directory; a missing
# channel), each message naming the file.  repair takes the dead slots
# over (exit 0, what it did in its report; a live producer's slot is left
# alone), after which check is clean again and no message was lost.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
SENDER=
# the background sender, if one is running, then the directory
trap '[ -z "$SENDER" ] || kill -9 "$SENDER" 2>/dev/null || true
rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
D=$T/ch
mkdir "$D"

# u64 FILE OFFSET -- the little-endian 64-bit word at OFFSET
u64() {
	od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '
}

# put_u64 FILE OFFSET VALUE -- overwrite the word at OFFSET in place
put_u64() {
	local v=$3 bytes= i
	for i in 0 1 2 3 4 5 6 7; do
		bytes+=$(printf '\\x%02x' $((v >> (8 * i) & 255)))
	done
	printf "$bytes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# flip FILE OFFSET -- invert one byte in place
flip() {
	local b
	b=$(od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "\\x$(printf %02x $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# has PATTERN -- fail unless $OUT matches the glob *PATTERN*
has() {
	case $OUT in *$1*) ;; *) fail "no '$1' in: $OUT" ;; esac
}

# err_has PATTERN -- fail unless $ERR matches the glob *PATTERN*
err_has() {
	case $ERR in *$1*) ;; *) fail "no '$1' in stderr: $ERR" ;; esac
}

# start_producer NAME -- "nvmsg send NAME" in the background ($SENDER),
# reading the lines written to fd 3 through a fifo
start_producer() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	"$NVMSG" send "$1" --dir "$D" <"$T/fifo" &
	SENDER=$!
	exec 3>"$T/fifo"
}

# wait_tail NAME TAIL -- until a live producer of NAME published TAIL bytes
wait_tail() {
	for _ in $(seq 100); do
		"$NVMSG" stat "$1" --dir "$D" --json >"$T/.stat"
		grep -q "\"alive\":true,\"tail\":$2," "$T/.stat" && return 0
		sleep 0.05
	done
	fail "no live producer with tail $2: $(cat "$T/.stat")"
}

# kill_producer -- SIGKILL the background sender while it holds its slot
kill_producer() {
	kill -9 "$SENDER"
	wait "$SENDER" 2>/dev/null || true
	SENDER=
	exec 3>&-
}

# Geometry of channel "ch", read from its header (docs/FORMAT.md).
run 0 "$NVMSG" create ch --dir "$D" --tier volatile --capacity 64K \
	--producers 2 --consumers 2
F=$D/ch.nvmsg
PROD_OFF=$(u64 "$F" 80) # producer slot 0; pub_tail is its first word
RING_OFF=$(u64 "$F" 88) # ring 0

# a fresh channel is clean
run 0 "$NVMSG" check ch --dir "$D"
has "verdict"
has "clean"
run 0 "$NVMSG" check ch --dir "$D" --json
has '"producers":0,'
has '"errors":0,'
has '"first_error":"",'
has '"verdict":"clean"}'
run 0 "$NVMSG" recv ch --dir "$D" --consumer a --timeout-ms 0

# a producer that exited cleanly released its slot: clean
run 0 "$NVMSG" send ch --dir "$D" one
run 0 "$NVMSG" check ch --dir "$D" --json
has '"producers":1,"producers_dead":0,"consumers":1,"records_scanned":1,'
has '"verdict":"clean"}'

# a live producer holding its slot is not a repair: clean
start_producer ch
echo two >&3
wait_tail ch 128
run 0 "$NVMSG" check ch --dir "$D" --json
has '"producers":1,"producers_dead":0,'
has '"repairs_needed":0,'
has '"verdict":"clean"}'
run 0 "$NVMSG" repair ch --dir "$D" --json # leaves the live slot alone
has '"slots_recovered":0,'
wait_tail ch 128

# killed with SIGKILL while it holds the slot: a dead producer, exit 5
kill_producer
run 5 "$NVMSG" check ch --dir "$D"
has "1 used, 1 dead"
has "repair needed"
run 5 "$NVMSG" check ch --dir "$D" --json
has '"producers":1,"producers_dead":1,'
has '"repairs_needed":1,"errors":0,'
has '"verdict":"repair-needed"}'
[ -z "$ERR" ] || fail "check wrote to stderr for a repair: $ERR"
run 5 "$NVMSG" check ch --dir "$D" # check changed nothing

# repair takes the slot over and releases it; then check is clean
run 0 "$NVMSG" repair ch --dir "$D"
has "slots recovered"
has "1 (producer slots"
run 0 "$NVMSG" check ch --dir "$D" --json
has '"producers_dead":0,'
has '"verdict":"clean"}'
run 0 "$NVMSG" repair ch --dir "$D" --json
has '"slots_recovered":0,'
run 0 "$NVMSG" recv ch --dir "$D" --consumer a --count 2 --timeout-ms 5000
expect_eq "$OUT" "one
two" "messages after repair"

# a producer killed after writing a record and before publishing it: the
# record is whole past pub_tail (made so by moving pub_tail back over it)
start_producer ch
echo three >&3
wait_tail ch 192
kill_producer
expect_eq "$(u64 "$F" "$PROD_OFF")" 192 "pub_tail of slot 0"
put_u64 "$F" "$PROD_OFF" 128
run 5 "$NVMSG" check ch --dir "$D" --json
has '"records_unpublished":1,"torn_tails":0,"repairs_needed":1,'
run 0 "$NVMSG" repair ch --dir "$D" --json
has '"slots_recovered":1,'
has '"records_published":1,'
run 0 "$NVMSG" check ch --dir "$D"
has clean
run 0 "$NVMSG" recv ch --dir "$D" --consumer a --count 1 --timeout-ms 5000
expect_eq "$OUT" three "the unpublished record, published by repair"

# a producer killed in the middle of a record: a torn tail, cut by repair
start_producer ch
echo four >&3
wait_tail ch 256
kill_producer
# the torn record: its seq and length written, never whole nor committed
put_u64 "$F" $((RING_OFF + 256 + 16)) 5
put_u64 "$F" $((RING_OFF + 256 + 24)) 5
run 5 "$NVMSG" check ch --dir "$D" --json
has '"records_unpublished":0,"torn_tails":1,"repairs_needed":1,'
has '"verdict":"repair-needed"}'
run 0 "$NVMSG" repair ch --dir "$D" --json
has '"slots_recovered":1,'
has '"records_published":0,'
case $OUT in *'"bytes_cut":0,'*) fail "nothing cut: $OUT" ;; esac
run 0 "$NVMSG" check ch --dir "$D" --json
has '"torn_tails":0,'
has '"verdict":"clean"}'
run 0 "$NVMSG" recv ch --dir "$D" --consumer a --count 1 --timeout-ms 5000
expect_eq "$OUT" four "the record before the torn one"

# a record flipped below the durable tail: corrupt, exit 1, the first
# error names the file; repair has no dead slot to touch and cannot fix it
run 0 "$NVMSG" send ch --dir "$D" five
flip "$F" $((RING_OFF + 256 + 32))
run 1 "$NVMSG" check ch --dir "$D"
has "corrupt"
err_has "nvmsg: $F: ring 0"
err_has checksum
run 1 "$NVMSG" check ch --dir "$D" --json
has '"errors":1,'
has "\"first_error\":\"$F: ring 0"
has '"verdict":"corrupt"}'
run 0 "$NVMSG" repair ch --dir "$D"
run 1 "$NVMSG" check ch --dir "$D"

# a byte of the header flipped (created_ns, covered only by the header
# checksum): the channel cannot be opened, exit 1, nothing on stdout
run 0 "$NVMSG" create hd --dir "$D" --tier volatile
flip "$D/hd.nvmsg" 64
run 1 "$NVMSG" check hd --dir "$D"
expect_eq "$OUT" "" "check output for a bad header"
err_has "nvmsg: $D/hd.nvmsg"
err_has checksum
run 1 "$NVMSG" check hd --dir "$D" --json
expect_eq "$OUT" "" "check --json output for a bad header"
err_has checksum
run 1 "$NVMSG" repair hd --dir "$D"
err_has "nvmsg: $D/hd.nvmsg"

# a truncated file
run 0 "$NVMSG" create tr --dir "$D" --tier volatile
truncate -s 100 "$D/tr.nvmsg"
run 1 "$NVMSG" check tr --dir "$D"
err_has "nvmsg: $D/tr.nvmsg"
err_has truncated
run 1 "$NVMSG" repair tr --dir "$D"
err_has "nvmsg: $D/tr.nvmsg"

# a directory in the channel's place
mkdir "$D/dir.nvmsg"
run 1 "$NVMSG" check dir --dir "$D"
err_has "nvmsg: $D/dir.nvmsg"
run 1 "$NVMSG" repair dir --dir "$D"
err_has "nvmsg: $D/dir.nvmsg"

# a missing channel, with and without --dir
run 1 "$NVMSG" check missing --dir "$D"
err_has "nvmsg: $D/missing.nvmsg"
run 1 "$NVMSG" repair missing --dir "$D"
err_has "nvmsg: $D/missing.nvmsg"
NVMSG_DIR= run 1 "$NVMSG" check nvmsg-cli-test-missing
err_has "not found"

echo PASS
