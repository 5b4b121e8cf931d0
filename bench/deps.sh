#!/usr/bin/env bash
# deps.sh -- install the Debian 12 packages the benchmark's peers need:
# ZeroMQ and hiredis (client libraries, through pkg-config), the Redis and
# NATS servers the harness starts on 127.0.0.1, the NATS C client, gnuplot
# for --plot and strace to count the fsyncs of nats-server.
# Idempotent: runs apt-get only for what is missing.  Needs root (or sudo).
# The benchmark starts its own servers; a packaged service that starts at
# install is left alone (it listens on the default ports, we do not).
set -euo pipefail

pkgs=(libzmq3-dev libhiredis-dev redis-server nats-server libnats-dev
      gnuplot-nox strace pkg-config python3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "bench deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
