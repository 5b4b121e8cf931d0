#!/usr/bin/env python3
"""check_fwd.py OUT.MD OUT.JSON CASES.TXT -- the forwarding part of an
`nvmsg bench` report has its rows (values are not judged).

Checks that the Markdown has the forwarding latency, throughput,
reference and target tables, a row for every forwarding system of each
case run (with numbers, not "no result"), and every target F1..F6-msync
with a verdict; and that each fwd-rate case of the JSON has both
latencies (durable and release).  Prints each failure."""
import json
import re
import sys

HEADINGS = [
    "### Forwarding (nvmsgd) over loopback",
    "#### Forwarding latency at",
    "#### Forwarding throughput",
    "#### Forwarding references",
    "#### Forwarding targets",
]
TARGETS = ["F1", "F1-tls", "F2", "F2-tls", "F3", "F3-tls", "F4", "F4-tls",
           "F5", "F5-tls", "F6", "F6-msync"]
REFS = ["TCP loopback (the floor of the path)", "NATS JetStream R1",
        "NATS JetStream R3 (3 nats-servers)",
        "Redis XADD, appendfsync always", "persist barrier"]


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        md = f.read()
    with open(sys.argv[2]) as f:
        doc = json.load(f)
    with open(sys.argv[3]) as f:
        want = [line.strip() for line in f if line.strip()]
    bad = []
    for h in HEADINGS:
        if h not in md:
            bad.append(f"report: no heading '{h}'")
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    cases = {c["id"]: c for c in doc["cases"]}
    for cid in want:
        c = cases.get(cid)
        if c is None:
            bad.append(f"{cid}: missing from the JSON")
            continue
        measure = c["measure"]
        label = c["label"]
        if measure == "fwd-rate":
            rel = (c.get("result") or {}).get("release") or {}
            if not rel.get("samples") or not (rel.get("p50_ns") or 0) > 0:
                bad.append(f"{cid}: no release latency in the JSON")
        if measure in ("fwd-rate", "fwd-tput"):
            hits = [r for r in rows if r.startswith(f"| {label} |")]
        else:
            hits = [r for r in rows
                    if any(r.startswith(f"| {ref} |") for ref in REFS)]
        if not hits:
            bad.append(f"{cid}: no row '{label}' in the report")
        elif all("no result" in r for r in hits):
            bad.append(f"{cid}: its row says no result")
    for t in TARGETS:
        m = re.search(r"^\| " + re.escape(t) + r" \|.*\| (met|\*\*missed\*\*) \|$",
                      md, re.M)
        if not m:
            bad.append(f"target {t}: no row with a verdict")
    for line in bad:
        print("bench_fwd_smoke:", line, file=sys.stderr)
    print(f"bench_fwd_smoke: report checked, {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
