#!/bin/bash
# demo.sh -- nvmsg demo, the README's first command, passes: on the
# volatile and the emulated tier, with a consumer SIGKILLed and restarted
# mid-stream, no message is lost, duplicated or reordered; --json is one
# object with per-tier results that sum to the totals; nothing is left in
# the directory it worked in.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
need_python
W=$T/work
mkdir "$W"

run 0 "$NVMSG" demo --json --dir "$W"
printf '%s\n' "$OUT" | json '
d["ok"] is True and d["sent"] > 0 and d["lost"] == 0 and
d["duplicated"] == 0 and d["reordered"] == 0 and d["kills"] >= 1 and
[t["tier"] for t in d["tiers"]] == ["volatile", "emulated"] and
all(t["received"] == {"c0": t["sent"], "c1": t["sent"], "c2": t["sent"]}
    for t in d["tiers"]) and
sum(t["sent"] for t in d["tiers"]) == d["sent"] and
sum(t["redelivered"] for t in d["tiers"]) == d["redelivered"] and
all("NOT durable" in t["backing"] for t in d["tiers"] if t["tier"] == "emulated")'
expect_eq "$(ls -A "$W")" "" "left behind by demo"

# human output, other shapes: one consumer (it is the one killed)
run 0 "$NVMSG" demo --tier volatile --messages 3000 --producers 2 \
	--consumers 1 --dir "$W"
case $OUT in *volatile*"received by c0"*PASS*) ;; *) fail "demo: $OUT" ;; esac
expect_eq "$(ls -A "$W")" "" "left behind by demo"
echo PASS
