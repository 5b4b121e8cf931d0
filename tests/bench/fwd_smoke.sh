#!/bin/sh
# fwd_smoke.sh NVMSG CHECKER FWDCHECKER -- run the forwarding cases of
# `nvmsg bench` very briefly (--quick --cases 'fwd-*': two nvmsgd per
# case, started and stopped by the harness) and check that every case
# produced numbers and that the report has the forwarding rows and
# targets.  Proves: the forwarding cases run end to end (daemons up,
# TLS certificates made, latency to durable and to release, throughput,
# references) and leave nothing behind; not how fast.
set -u
nvmsg=$1
checker=$2
fwdcheck=$3
rm -f fwd.json fwd.md fwd-cases.txt

"$nvmsg" bench --list --cases 'fwd-*' > fwd-cases.txt ||
	{ echo "bench_fwd_smoke: nvmsg bench --list failed" >&2; exit 1; }
"$nvmsg" bench --quick --cases 'fwd-*' --json fwd.json > fwd.md
rc=$?
if [ ! -s fwd.json ]; then
	echo "bench_fwd_smoke: nvmsg bench exited $rc without fwd.json" \
		"(nvmsgd, openssl or a peer missing? see above)" >&2
	exit 1
fi
python3 "$checker" fwd.json fwd-cases.txt || exit 1
python3 "$fwdcheck" fwd.md fwd.json fwd-cases.txt || exit 1
if [ "$rc" -ne 0 ]; then
	echo "bench_fwd_smoke: nvmsg bench exited $rc" >&2
	exit 1
fi
# the daemons were stopped by pid
left=$(pgrep -f "nvmsgd --dir [^ ]*/nvmsg-bench\.[^/ ]*/[0-9]+/(tx|rx)" 2>/dev/null)
if [ -n "$left" ]; then
	echo "bench_fwd_smoke: daemons of the run still running: $left" >&2
	exit 1
fi
echo "bench_fwd_smoke: $(wc -l < fwd-cases.txt) forwarding cases measured"
exit 0
