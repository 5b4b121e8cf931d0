#!/bin/bash
# agree.sh -- docs/FORMAT.md says exactly what the bytes do: an independent
# reader written from it alone (reader.py) decodes channels the nvmsg CLI
# made and must agree with `nvmsg stat` (tails, liveness, next_seq, lags)
# and with what `nvmsg recv` then delivers, message by message:
#   - wrapped rings with pads, three producers, consumers acking at
#     different paces;
#   - a producer SIGKILLed mid-stream with whole records past its
#     published tail (the dead-producer bound), a consumer registered
#     after the kill (it starts at that bound);
#   - `nvmsg repair` publishes exactly what the reader bounded, and the
#     producer's next message takes the reader's next_seq;
#   - a ring without consumers: the oldest intact records, found as the
#     document says;
#   - the reader refuses (exit 2) a bad magic and a bad header checksum.
# On the volatile and the emulated tier.  Any disagreement fails, with
# both sides printed.
set -eu
NVMSG=$1
STOPPER=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /dev/shm/nvmsg-fmt-XXXXXX)
BG=""
cleanup() {
	for p in $BG; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
. "$HERE/../cli/lib.sh"
need_python
# Debian's interpreter when there is one: a version manager's shim in PATH
# can cost a second per start, and the test starts a few hundred
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
$PY -c 'import ctypes; ctypes.CDLL("libxxhash.so.0")' 2>/dev/null ||
	{ echo "skip: no libxxhash.so.0"; [ -n "${NVMSG_CI:-}" ] && exit 1; exit 77; }

READER="$PY $HERE/reader.py"
# FORMAT_KEEP_GOING=1: report every disagreement, fail at the end
BAD=0
disagree() {
	[ -n "${FORMAT_KEEP_GOING:-}" ] || fail "$@"
	echo "FAIL (going on): $*" >&2
	BAD=$((BAD + 1))
}
CMP="$PY $HERE/compare.py"

# snap CH FILE -- the reader's view of channel CH into FILE
snap() {
	$READER "$D" "$1" >"$2" || fail "reader.py exit $? on $1"
}

# agree CH -- the reader and nvmsg stat say the same
agree() {
	snap "$1" "$T/r.json"
	run 0 "$NVMSG" stat "$1" --dir "$D" --json
	printf '%s\n' "$OUT" >"$T/s.json"
	$CMP stat "$T/r.json" "$T/s.json" || disagree "stat ($STAGE)"
}

# drain CH C [COUNT] -- recv as consumer C agrees with the reader's list
drain() {
	snap "$1" "$T/r.json"
	if [ $# -gt 2 ]; then
		run 0 "$NVMSG" recv "$1" --dir "$D" --consumer "$2" --json \
			--timeout-ms 0 --count "$3"
	else
		run 0 "$NVMSG" recv "$1" --dir "$D" --consumer "$2" --json \
			--timeout-ms 0
	fi
	printf '%s\n' "$OUT" >"$T/recv.jsonl"
	$CMP recv "$T/r.json" "$T/recv.jsonl" "$2" ${3:-} ||
		disagree "recv $2 ($STAGE)"
}

# lines P R N -- N lines of varied length for producer P, round R
lines() {
	$PY -c 'import sys
p, r, n = (int(x) for x in sys.argv[1:])
for k in range(n):
    print("p%d r%d k%d %s" % (p, r, k, "x" * ((k * 7 + r) % 61)))' "$@"
}

for tier in volatile emulated; do
	D=$T/$tier
	mkdir -p "$D"
	echo "== $tier"

	# wrapped rings, three producers, two consumers at different paces
	STAGE="$tier wrap"
	run 0 "$NVMSG" create c --dir "$D" --tier "$tier" --capacity 16K \
		--producers 3 --consumers 4
	run 0 "$NVMSG" recv c --dir "$D" --consumer a --timeout-ms 0
	run 0 "$NVMSG" recv c --dir "$D" --consumer b --timeout-ms 0
	agree c
	for r in 1 2 3 4 5 6 7 8; do
		lines 0 $r 50 | "$NVMSG" send c --dir "$D" --producer 0 \
			--timeout-ms 5000 || fail "send p0 round $r"
		lines 1 $r 17 | "$NVMSG" send c --dir "$D" --producer 1 \
			--timeout-ms 5000 || fail "send p1 round $r"
		agree c
		drain c a
		if [ $((r % 2)) = 1 ]; then drain c b 40; else drain c b; fi
		agree c
	done

	# a producer SIGKILLed mid-stream on a wrapped ring: the shim stops
	# send at its commit 103 (64 published, 38 whole records past
	# pub_tail, the 103rd written but not sealed); while it is stopped
	# (alive) the bound is pub_tail; then kill -9
	STAGE="$tier stopped"
	K=c
	lines 2 0 5 | "$NVMSG" send $K --dir "$D" --producer 2 ||
		fail "send p2"
	# from a file: one read, so batches of exactly 64 lines
	lines 0 9 200 >"$T/stream"
	LD_PRELOAD=$STOPPER NVMSG_TEST_STOP_AT=103 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		"$NVMSG" send $K --dir "$D" --producer 0 --timeout-ms 20000 \
		<"$T/stream" &
	SEND=$!
	BG=$SEND
	for _ in $(seq 1 200); do
		state=$(sed 's/.*) //' "/proc/$SEND/stat" 2>/dev/null | cut -c1)
		[ "$state" = T ] && break
		sleep 0.05
	done
	[ "$state" = T ] || fail "send did not stop at its commit 103"
	agree $K
	snap $K "$T/r.json"
	$PY -c 'import json, sys
p = json.load(open(sys.argv[1]))["producers"][0]
if not (p["alive"] and p["bound"] == p["pub_tail"] and
        p["unpublished"] == 38):
    sys.exit("producer 0: %s" % json.dumps(p))' "$T/r.json" ||
		fail "stopped producer: want alive, bound = pub_tail, 38 past it"
	STAGE="$tier killed"
	kill -9 $SEND
	wait $SEND 2>/dev/null || true
	BG=""
	echo "killed producer 0 of $K at its commit 103"

	# before repair: the bound of the dead producer's ring covers its
	# whole records; stat, recv and registration agree with it
	agree $K
	run 0 "$NVMSG" recv $K --dir "$D" --consumer late --timeout-ms 0
	expect_eq "$OUT" "" "a consumer registered after the kill"
	snap $K "$T/r.json"
	$CMP fresh "$T/r.json" late || disagree "registration ($STAGE)"
	drain $K a
	agree $K
	snap $K "$T/pre.json"

	# repair publishes exactly that; the producer goes on at next_seq
	STAGE="$tier repair"
	run 0 "$NVMSG" repair $K --dir "$D" --json
	snap $K "$T/post.json"
	$CMP repaired "$T/pre.json" "$T/post.json" 0 || disagree "$STAGE"
	agree $K
	drain $K b
	agree $K
	run 0 "$NVMSG" send $K --dir "$D" --producer 0 --verbose m1 m2 m3
	next=$($PY -c 'import json, sys
print(json.load(open(sys.argv[1]))["producers"][0]["next_seq"])' \
		"$T/pre.json")
	case $OUT in
	"sent producer=0 seq=$next"*) ;;
	*) disagree "after repair send says '$OUT', reader said next_seq $next" ;;
	esac
	agree $K
	for c in a b late; do drain $K $c; done
	agree $K

	# no consumer: the oldest intact records of a wrapped ring
	STAGE="$tier oldest"
	run 0 "$NVMSG" create solo --dir "$D" --tier "$tier" --capacity 4K \
		--producers 1 --consumers 1
	$PY -c 'for k in range(1, 201): print("0 %d" % k)' |
		"$NVMSG" send solo --dir "$D" || fail "send solo"
	agree solo
	$READER "$D" solo --oldest >"$T/o.json" || fail "reader --oldest"
	$CMP oldest "$T/o.json" 0 200 || disagree "$STAGE"

	# refused: bad magic, bad header checksum
	STAGE="$tier refuse"
	mkdir -p "$D/bad"
	for what in magic:0:X checksum:64:Z; do
		IFS=: read -r name off byte <<<"$what"
		cp "$D/solo.nvmsg" "$D/bad/x.nvmsg"
		printf '%s' "$byte" |
			dd of="$D/bad/x.nvmsg" bs=1 seek="$off" conv=notrunc \
				status=none
		run 2 $READER "$D/bad" x
		case $ERR in
		*refused*"$name"*) ;;
		*) fail "bad $name: stderr '$ERR'" ;;
		esac
	done
done
[ "$BAD" = 0 ] || fail "$BAD disagreements"
echo PASS
