#!/usr/bin/env python3
"""compare.py -- agree.sh's checks: reader.py's view of a channel against
what `nvmsg stat --json` and `nvmsg recv --json` said.  Exit 1 on any
disagreement, printing both sides.

    compare.py stat READER.json STAT.json
    compare.py recv READER.json RECV.jsonl CONSUMER [COUNT]
        RECV.jsonl is what `nvmsg recv --json` printed; without COUNT it
        must be, per producer, exactly the reader's list for CONSUMER;
        with COUNT it holds COUNT messages, per producer a prefix of it
    compare.py fresh READER.json CONSUMER
        a consumer registered just now starts at every ring's bound
    compare.py repaired PRE.json POST.json ID
        after `nvmsg repair`: ring ID published exactly what the reader
        bounded before it; every consumer's list and next_seq unchanged
    compare.py oldest READER.json ID LAST
        the oldest intact records of ring ID run, contiguous, to LAST,
        each payload "ID LINE" naming its own sequence number
    compare.py count READER.json ID MIN
        ring ID has at least MIN whole records past pub_tail
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


BAD = []


def fail(what, mine, theirs):
    """report one disagreement; main() exits 1 after the whole check"""
    print("DISAGREE: %s" % what)
    print("  reader (from docs/FORMAT.md): %s" % json.dumps(mine))
    print("  nvmsg:                        %s" % json.dumps(theirs))
    BAD.append(what)


def check_stat(r, s):
    for key, rkey in (("file_bytes", "file_bytes"),
                      ("capacity_bytes", "ring_bytes"),
                      ("max_producers", "max_producers"),
                      ("max_consumers", "max_consumers"),
                      ("tier", "tier")):
        if s[key] != r[rkey]:
            fail("channel " + key, r[rkey], s[key])
    if s["format_version"] != r["version"]:
        fail("format version", r["version"], s["format_version"])
    mine = {p["id"]: p for p in r["producers"] if p["listed"]}
    theirs = {p["id"]: p for p in s["producers"]}
    if sorted(mine) != sorted(theirs):
        fail("producer slots listed", sorted(mine), sorted(theirs))
        return
    for i, sp in theirs.items():
        rp = mine[i]
        # stat's tail is what a reader may read: the bound
        got = {"pid": rp["pid"], "alive": rp["alive"],
               "tail": rp["bound"], "next_seq": rp["next_seq"]}
        want = {k: sp[k] for k in got}
        if got != want:
            fail("producer %d (bound %d, %d whole records past pub_tail)"
                 % (i, rp["bound"], rp["unpublished"]), got, want)
    mine = {c["name"]: c for c in r["consumers"]}
    theirs = {c["name"]: c for c in s["consumers"]}
    if sorted(mine) != sorted(theirs):
        fail("consumers", sorted(mine), sorted(theirs))
        return
    for n, sc in theirs.items():
        got = {k: mine[n][k] for k in ("lag_messages", "lag_bytes")}
        want = {k: sc[k] for k in got}
        if got != want:
            fail("consumer %s lag (acks %s, bounds %s)"
                 % (n, mine[n]["acks"],
                    [p["bound"] for p in r["producers"]]), got, want)
    depth = max([c["lag_bytes"] for c in r["consumers"]] + [0])
    if depth != s["depth_bytes"]:
        fail("depth_bytes", depth, s["depth_bytes"])
    n = sum(c["lag_messages"] for c in r["consumers"])
    if not BAD:
        print("stat agrees: %d producers, %d consumers, %d messages "
              "pending" % (len(theirs), len(mine), n))


def consumer(r, name):
    for c in r["consumers"]:
        if c["name"] == name:
            return c
    fail("consumer %s exists" % name, None, name)
    sys.exit(1)


def check_recv(r, path, name, count):
    got = {}
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    for m in lines:
        got.setdefault(m["producer"], []).append([m["seq"], m["data"]])
    c = consumer(r, name)
    for ring in c["rings"]:
        mine = ring["messages"]
        theirs = got.pop(ring["producer"], [])
        if count is None and theirs != mine:
            fail("consumer %s, ring %d from ack %d: messages"
                 % (name, ring["producer"], ring["ack"]), mine, theirs)
        if count is not None and theirs != mine[:len(theirs)]:
            fail("consumer %s, ring %d from ack %d: recv --count %d is "
                 "not a prefix" % (name, ring["producer"], ring["ack"],
                                   count), mine, theirs)
    if got:
        fail("consumer %s: messages from rings the reader does not know"
             % name, [], got)
    if count is not None and len(lines) != count:
        fail("consumer %s: recv --count" % name, count, len(lines))
    print("recv agrees: consumer %s, %d messages" % (name, len(lines)))


def check_fresh(r, name):
    c = consumer(r, name)
    bounds = [p["bound"] for p in r["producers"]]
    if c["acks"] != bounds:
        fail("consumer %s registered now starts at the bounds" % name,
             bounds, c["acks"])
    print("registration agrees: %s starts at %s" % (name, bounds))


def check_repaired(pre, post, i):
    a, b = pre["producers"][i], post["producers"][i]
    if b["pub_tail"] != a["bound"] or b["bound"] != a["bound"]:
        fail("ring %d: repair published up to the reader's bound" % i,
             a["bound"], b["pub_tail"])
    if b["next_seq"] != a["next_seq"] or b["alive"]:
        fail("ring %d: next_seq after repair" % i, a["next_seq"],
             b["next_seq"])
    for c in pre["consumers"]:
        d = consumer(post, c["name"])
        if c["rings"][i]["messages"] != d["rings"][i]["messages"]:
            fail("consumer %s ring %d: messages before and after repair"
                 % (c["name"], i), c["rings"][i]["messages"],
                 d["rings"][i]["messages"])
    print("repair agrees: ring %d published to %d, next_seq %d"
          % (i, b["pub_tail"], b["next_seq"]))


def check_oldest(r, i, last):
    o = r["producers"][i]["oldest"]["messages"]
    seqs = [s for s, _ in o]
    want = list(range(last - len(o) + 1, last + 1))
    if not o or seqs != want or seqs[0] == 1:
        fail("ring %d: oldest intact records (wrapped)" % i, seqs, want)
        return
    for s, d in o:
        if d != "%d %d" % (i, s):
            fail("ring %d: payload of seq %d" % (i, s), d, "%d %d" % (i, s))
    print("oldest agrees: ring %d holds seq %d..%d" % (i, seqs[0], last))


def main(a):
    if a[1] == "stat":
        check_stat(load(a[2]), load(a[3]))
    elif a[1] == "recv":
        check_recv(load(a[2]), a[3], a[4], int(a[5]) if len(a) > 5 else None)
    elif a[1] == "fresh":
        check_fresh(load(a[2]), a[3])
    elif a[1] == "repaired":
        check_repaired(load(a[2]), load(a[3]), int(a[4]))
    elif a[1] == "oldest":
        check_oldest(load(a[2]), int(a[3]), int(a[4]))
    elif a[1] == "count":
        n = load(a[2])["producers"][int(a[3])]["unpublished"]
        sys.exit(0 if n >= int(a[4]) else 1)
    else:
        sys.exit("compare.py: unknown check " + a[1])
    sys.exit(1 if BAD else 0)


if __name__ == "__main__":
    main(sys.argv)
