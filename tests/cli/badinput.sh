#!/bin/bash
# badinput.sh -- bad command lines never crash nvmsg: unknown verbs and
# options, missing operands and option values, malformed, negative,
# overflowing or out-of-range numbers all end with a usage message and
# exit status 2; errors the library finds end with exit status 1 and
# "nvmsg: " + its sentence; help is on every verb and exits 0.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
D=$T/ch
mkdir "$D"
"$NVMSG" create ok --dir "$D" --tier volatile >/dev/null || fail "create"

usage() {
	run 2 "$NVMSG" "$@"
	case $ERR in *usage:*) ;; *) fail "no usage line for: $* ($ERR)" ;; esac
}

usage
usage bogus
usage --bogus
usage --dir
usage --dir ""
usage help bogus
usage help create extra
usage create
usage create x --dir "$D"
usage create x --dir "$D" --tier
usage create x --dir "$D" --tier bogus
usage create x y --dir "$D" --tier volatile
for cap in abc 12X 16GG -1 ' 4096' 4096x 0 0K 99999999999999999999999 \
	17179869184G ''; do
	usage create x --dir "$D" --tier volatile --capacity "$cap"
done
for n in 0 65 -1 +3 5x '' 4294967297; do
	usage create x --dir "$D" --tier volatile --producers "$n"
	usage create x --dir "$D" --tier volatile --consumers "$n"
done
for m in 0 8 999 10000 -644 abc ''; do
	usage create x --dir "$D" --tier volatile --mode "$m"
done
usage create x --dir "$D" --tier volatile -z
usage create x --dir "$D" --tier volatile --capacity=
usage send
usage send --dir "$D"
usage send ok --dir "$D" --producer -1
usage send ok --dir "$D" --producer 64
usage send ok --dir "$D" --timeout-ms soon
usage send ok --dir "$D" --timeout-ms 9223372036855
usage recv ok --dir "$D"
usage recv --dir "$D" --consumer a
usage recv ok --dir "$D" --consumer
usage recv ok --dir "$D" --consumer a --count 0
usage recv ok --dir "$D" --consumer a --count -5
usage recv ok --dir "$D" --consumer a --count 18446744073709551616
usage recv ok --dir "$D" --consumer a --timeout-ms 1.5
usage stat --dir "$D"
usage stat ok ok --dir "$D"
usage stat ok --dir "$D" --verbose
usage ls extra
usage rm
usage rm ok extra --dir "$D"
usage check --dir "$D"
usage check ok ok --dir "$D"
usage check ok --dir "$D" --verbose
usage repair --dir "$D"
usage repair ok extra --dir "$D"
usage repair ok --dir "$D" -x
usage demo extra
usage demo --messages 0
usage demo --messages 1000001
usage demo --producers 65
usage demo --consumers 0
usage demo --tier bogus
[ -f "$D/ok.nvmsg" ] && [ ! -e "$D/x.nvmsg" ] || fail "usage errors changed files"

# errors found by the library: exit 1, "nvmsg: " and its sentence
run 1 "$NVMSG" create x --dir "$D" --tier volatile --capacity 5000
case $ERR in "nvmsg: "*"power of two"*) ;; *) fail "capacity: $ERR" ;; esac
run 1 "$NVMSG" create ok --dir "$D" --tier volatile
case $ERR in "nvmsg: "*exists*) ;; *) fail "exists: $ERR" ;; esac
run 1 "$NVMSG" create 'bad/name' --dir "$D" --tier volatile
run 1 "$NVMSG" create .hidden --dir "$D" --tier volatile
run 1 "$NVMSG" create x --dir "$T/missing" --tier volatile
case $ERR in *"does not exist"*) ;; *) fail "missing dir: $ERR" ;; esac
run 1 "$NVMSG" recv ok --dir "$D" --consumer 'no.dots'
run 1 "$NVMSG" recv missing --dir "$D" --consumer a
run 1 "$NVMSG" send ok --dir "$D" ''
run 1 "$NVMSG" ls --dir "$T/missing"

# full channel: send waits --timeout-ms, then exit status 3
"$NVMSG" create tiny --dir "$D" --tier volatile --capacity 4K >/dev/null
big=$(head -c 3000 /dev/zero | tr '\0' x)
run 1 "$NVMSG" send tiny --dir "$D" "$big"
case $ERR in "nvmsg: "*bytes*) ;; *) fail "too big: $ERR" ;; esac
printf 'fits\n%s\n' "$big" | { "$NVMSG" send tiny --dir "$D" 2>"$T/big.err" && fail "big stdin line sent"; true; }
grep -q "line 2" "$T/big.err" || fail "no line number: $(cat "$T/big.err")"
# the line before the one that failed was sent
run 0 "$NVMSG" stat tiny --dir "$D" --json
case $OUT in *'"next_seq":2'*) ;; *) fail "line 1 not sent: $OUT" ;; esac
run 0 "$NVMSG" recv tiny --dir "$D" --consumer slow --timeout-ms 0
set +e
seq 1 2000 | "$NVMSG" send tiny --dir "$D" --timeout-ms 10 2>"$T/send.err"
rc=$?
set -e
expect_eq "$rc" 3 "send to a full channel"
grep -q "full" "$T/send.err" || fail "no 'full' in: $(cat "$T/send.err")"

# help: everywhere, on stdout, exit status 0
for h in --help -h help; do
	run 0 "$NVMSG" $h
	case $OUT in *Commands:*"Exit status:"*) ;; *) fail "$h: $OUT" ;; esac
done
run 0 "$NVMSG" --version
case $OUT in "nvmsg "*libnvmsg*) ;; *) fail "--version: $OUT" ;; esac
for verb in create send recv stat ls rm check repair demo; do
	for h in "help $verb" "$verb --help" "$verb -h" "--dir $D $verb --help"; do
		run 0 "$NVMSG" $h
		case $OUT in
		"usage: nvmsg $verb"*Example:*"Exit status:"*) ;;
		*) fail "$h: $OUT" ;;
		esac
	done
done
echo PASS
