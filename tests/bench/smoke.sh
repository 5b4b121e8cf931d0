#!/bin/sh
# smoke.sh NVMSG CHECKER -- run `nvmsg bench --quick --json out.json` and
# check that every case of the plan produced numbers.
# Proves: the harness, every peer and every nvmsg row run end to end
# (servers started and stopped, directories removed); not how fast.
set -u
nvmsg=$1
checker=$2
rm -f out.json cases.txt
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
left=$(ls -d /var/tmp/nvmsg-bench.* /dev/shm/nvmsg-bench.* 2>/dev/null | wc -l)
echo "bench_smoke: $(wc -l < cases.txt) cases measured; leftover directories: $left"
exit 0
