#!/usr/bin/env python3
"""check_bench.py OUT.JSON CASES.TXT -- every case of the plan produced
numbers in `nvmsg bench --json` output (values are not judged).

Exit 0 when every case id listed in CASES.TXT is in the JSON with a
result: latency cases a positive p50 and sample count, throughput cases
a positive msgs/s; and every target has a verdict other than "not
measured".  Prints each failure."""
import json
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    with open(sys.argv[2]) as f:
        want = [line.strip() for line in f if line.strip()]
    cases = {c["id"]: c for c in doc["cases"]}
    bad = []
    for cid in want:
        c = cases.get(cid)
        if c is None:
            bad.append(f"{cid}: missing from the JSON")
            continue
        r = c.get("result")
        if not c.get("have") or r is None:
            bad.append(f"{cid}: no result ({c.get('error') or 'no reason given'})")
            continue
        if c["measure"] in ("pp", "rate", "barrier", "fwd-rate", "fwd-ref"):
            if not (r.get("p50_ns") or 0) > 0 or not r.get("samples"):
                bad.append(f"{cid}: no latency samples")
        elif not (r.get("msgs_per_s") or 0) > 0:
            bad.append(f"{cid}: no throughput")
    for t in doc.get("targets", []):
        if t["verdict"] not in ("met", "missed"):
            bad.append(f"target {t['id']}: {t['verdict']}")
    for line in bad:
        print("bench_smoke:", line, file=sys.stderr)
    print(f"bench_smoke: {len(want) - len(bad)} of {len(want)} cases have "
          f"numbers; machine busy: {doc['run']['busy']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
