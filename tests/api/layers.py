#!/usr/bin/env python3
"""layers.py -- each src/ layer includes only layers below it (STYLE.md),
and cli/ uses only the public header."""
import os
import re
import sys

root = sys.argv[1]
order = ["base", "tier", "region", "log", "recover", "chan"]
rank = {name: i for i, name in enumerate(order)}
inc = re.compile(r'#include\s+"([^"]+)"')
bad = []
for layer in order:
    d = os.path.join(root, "src", layer)
    for f in sorted(os.listdir(d)):
        if not f.endswith((".c", ".h")):
            continue
        for line in open(os.path.join(d, f)):
            m = inc.search(line)
            if not m:
                continue
            target = os.path.normpath(os.path.join(layer, m.group(1)))
            top = target.split(os.sep)[0]
            if top in rank and rank[top] > rank[layer]:
                bad.append(f"src/{layer}/{f} includes {m.group(1)} (layer {top} is above {layer})")
for f in sorted(os.listdir(os.path.join(root, "cli"))):
    if f.endswith((".c", ".h")):
        for line in open(os.path.join(root, "cli", f)):
            m = inc.search(line)
            if m and ("src/" in m.group(1) or m.group(1).startswith("..")):
                bad.append(f"cli/{f} includes internal header {m.group(1)}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("layering holds: base -> tier -> region -> log -> recover -> chan; cli uses nvmsg.h only")
