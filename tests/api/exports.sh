#!/usr/bin/env bash
# exports.sh -- the shared library exports nvmsg_* and nothing else, and
# every function the header declares is exported.
set -euo pipefail
lib=$1
hdr=$2
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
bad=$(echo "$syms" | grep -v '^nvmsg_' | grep -v '^NVMSG_' || true)
if [ -n "$bad" ]; then
	echo "exported symbols outside nvmsg_*:"; echo "$bad"; exit 1
fi
declared=$(grep -v '#define' "$hdr" | grep -o 'NVMSG_API [^(]*(' | sed 's/($//; s/.*[ *]//' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$syms"))
if [ -n "$missing" ]; then
	echo "declared in nvmsg.h but not exported:"; echo "$missing"; exit 1
fi
echo "$(echo "$syms" | wc -l) symbols exported, all nvmsg_*, all declared ones present"
