#!/usr/bin/env bash
# deps.sh -- install the Debian 12 packages nvmsg builds and tests with.
# Idempotent; runs apt-get only for what is missing.  Needs root (or sudo).
set -euo pipefail

pkgs=(build-essential cmake pkg-config libpmem2-dev libpmem-dev libxxhash-dev
      python3 clang clang-format libssl-dev openssl)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# the benchmark's peers (nvmsg bench); the power-cut test installs QEMU
# and the guest kernel itself (tests/powercut/deps.sh)
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/bench/deps.sh"
