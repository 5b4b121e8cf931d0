# lib.sh -- helpers sourced by the CLI test scripts (bash).
#
# Each script sets NVMSG (the binary) and T (its own temporary directory,
# removed by its trap) before sourcing this file.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run WANT CMD... -- run CMD; stdout lands in $OUT, stderr in $ERR; fail
# unless its exit status is WANT
run() {
	local want=$1 rc=0
	shift
	"$@" >"$T/.out" 2>"$T/.err" || rc=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	if [ "$rc" != "$want" ]; then
		fail "exit $rc, want $want: $* (stdout: $OUT) (stderr: $ERR)"
	fi
}

# expect_eq GOT WANT WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# json EXPR -- evaluate the Python expression EXPR with d = the JSON
# document on stdin; fail when it is false
json() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
if not ('"$1"'):
    sys.exit("JSON check failed: " + sys.argv[1] + " in " + json.dumps(d))' "$1" ||
		fail "json check: $1"
}

need_python() {
	command -v python3 >/dev/null || { echo "skip: no python3"; [ -n "${NVMSG_CI:-}" ] && exit 1; exit 77; }
}
