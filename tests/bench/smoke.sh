#!/bin/sh
# smoke.sh NVMSG CHECKER -- run `nvmsg bench --quick --json out.json` and
# check that every case of the plan produced numbers.
# Proves: the harness, every peer and every nvmsg row run end to end
# (servers started and stopped, directories removed); not how fast.
# Directories: the harness's base directories that exist after the run
# and did not before it fail the test, unless a harness still running
# (another run, by its harness.pid) owns them; what a previous run left
# is reported, never failed on (this run's harness reaps it anyway).
set -u
nvmsg=$1
checker=$2
rm -f out.json cases.txt dirs.before dirs.after

# bench_dirs -- the harness's base directories, one per line, sorted
bench_dirs() {
	for d in /var/tmp/nvmsg-bench.* /dev/shm/nvmsg-bench.* \
		 /tmp/nvmsg-bench.*; do
		[ -d "$d" ] && echo "$d"
	done | LC_ALL=C sort
}

# leftovers BEFORE AFTER -- directories in AFTER but not in BEFORE whose
# harness is not running (a live one's are another run's, in use)
leftovers() {
	LC_ALL=C comm -13 "$1" "$2" | while read -r d; do
		pid=$(cat "$d/harness.pid" 2>/dev/null) || pid=
		case $pid in
		'' | *[!0-9]*) echo "$d" ;;
		*) if kill -0 "$pid" 2>/dev/null; then
			echo "bench_smoke: $d: in use by harness $pid" >&2
		else
			echo "$d"
		fi ;;
		esac
	done
}

bench_dirs > dirs.before
"$nvmsg" bench --list > cases.txt || { echo "bench_smoke: nvmsg bench --list failed" >&2; exit 1; }
"$nvmsg" bench --quick --json out.json > out.md
rc=$?
if [ ! -s out.json ]; then
	echo "bench_smoke: nvmsg bench exited $rc without out.json (a peer missing? see above; bench/deps.sh installs them)" >&2
	exit 1
fi
python3 "$checker" out.json cases.txt || exit 1
if [ "$rc" -ne 0 ]; then
	echo "bench_smoke: nvmsg bench exited $rc" >&2
	exit 1
fi
# nothing left behind: servers stopped, directories removed
bench_dirs > dirs.after
before=$(wc -l < dirs.before)
if [ "$before" -gt 0 ]; then
	echo "bench_smoke: directories from before the run (not counted):" \
		"$before" >&2
	sed 's/^/  /' dirs.before >&2
fi
left=$(leftovers dirs.before dirs.after)
nleft=$(printf '%s' "$left" | grep -c .)
echo "bench_smoke: $(wc -l < cases.txt) cases measured;" \
	"leftover directories: $nleft"
if [ -n "$left" ]; then
	echo "bench_smoke: the run left these directories behind:" >&2
	printf '%s\n' "$left" | sed 's/^/  /' >&2
	exit 1
fi
exit 0
