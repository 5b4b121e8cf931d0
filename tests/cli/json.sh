#!/bin/bash
# json.sh -- every --json output parses as JSON and carries the right
# values: stat (tier, geometry, producers, consumers), ls (including a
# broken file, listed with its error while the listing goes on, exit 1),
# and recv payloads with quotes, backslashes, control characters and bytes
# that are not UTF-8.
set -eu
NVMSG=$1
T=$(mktemp -d /dev/shm/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
need_python
D=$T/ch
mkdir "$D"

run 0 "$NVMSG" create js --dir "$D" --tier volatile --capacity 8K \
	--producers 3 --consumers 5 --mode 640
[ "$(stat -c %a "$D/js.nvmsg")" = 640 ] || fail "mode not applied"
run 0 "$NVMSG" recv js --dir "$D" --consumer c1 --timeout-ms 0
run 0 "$NVMSG" send js --dir "$D" --producer 1 \
	'q"uote' 'back\slash' $'tab\tnew\nline' $'bytes \xff\xfe \xc3\xa9'

run 0 "$NVMSG" stat js --dir "$D" --json
printf '%s\n' "$OUT" | json '
d["name"] == "js" and d["path"].endswith("/js.nvmsg") and
d["tier"] == "volatile" and "lost at power failure" in d["backing"] and
d["capacity_bytes"] == 8192 and d["max_producers"] == 3 and
d["max_consumers"] == 5 and d["format_version"] >= 1 and
d["file_bytes"] > 3 * 8192 and d["depth_bytes"] > 0 and
[p["id"] for p in d["producers"]] == [1] and
d["producers"][0]["next_seq"] == 5 and d["producers"][0]["alive"] is False and
d["consumers"][0]["name"] == "c1" and d["consumers"][0]["lag_messages"] == 4 and
isinstance(d["consumers"][0]["waiting"], bool)'

run 0 "$NVMSG" stat js --dir "$D"
case $OUT in *"persistence domain"*"capacity per ring"*c1*) ;;
*) fail "human stat: $OUT" ;; esac
case $OUT in *"group commit"*) fail "group commit shown for volatile" ;; esac

# msync tier: the group-commit counts (one producer: one msync per commit)
M=$(mktemp -d /var/tmp/nvmsg-cli-XXXXXX)
trap 'rm -rf "$T" "$M"' EXIT
run 0 "$NVMSG" create gc --dir "$M" --tier msync --capacity 8K
for m in one two three; do
	run 0 "$NVMSG" send gc --dir "$M" "$m"
done
run 0 "$NVMSG" stat gc --dir "$M" --json
printf '%s\n' "$OUT" | json '
d["tier"] == "msync" and d["group_commits"] == 3 and d["group_syncs"] == 3'
run 0 "$NVMSG" stat gc --dir "$M"
case $OUT in *"group commit"*"3 commits in 3 msyncs"*) ;;
*) fail "human stat of msync: $OUT" ;; esac

run 0 "$NVMSG" recv js --dir "$D" --consumer c1 --count 4 --json
printf '%s\n' "$OUT" | python3 -c '
import json, sys
got = [json.loads(l) for l in sys.stdin]
want = ["q\"uote", "back\\slash", "tab\tnew\nline", "bytes \u00ff\u00fe \u00e9"]
assert [m["data"] for m in got] == want, got
assert [m["seq"] for m in got] == [1, 2, 3, 4], got
assert all(m["producer"] == 1 for m in got), got
' || fail "recv --json payloads"

run 0 "$NVMSG" ls --dir "$D" --json
printf '%s\n' "$OUT" | json '
[(c["name"], c["tier"], c["depth_bytes"]) for c in d["channels"]] == [("js", "volatile", 0)]'

# a file that is not a channel: listed with the reason, exit status 1
echo garbage >"$D/broken.nvmsg"
run 1 "$NVMSG" ls --dir "$D" --json
printf '%s\n' "$OUT" | json '
[c["name"] for c in d["channels"]] == ["broken", "js"] and
"error" in d["channels"][0] and d["channels"][1]["tier"] == "volatile"'
run 1 "$NVMSG" ls --dir "$D"
case $OUT in *broken*error*js*volatile*) ;; *) fail "human ls: $OUT" ;; esac

# an empty directory is an empty list
mkdir "$T/empty"
run 0 "$NVMSG" ls --dir "$T/empty" --json
printf '%s\n' "$OUT" | json 'd == {"channels": []}'
echo PASS
