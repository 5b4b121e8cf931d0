#!/usr/bin/env bash
# demo.sh -- README command 1: install what is needed, build a release
# tree, run `nvmsg demo` (volatile and emulated tiers, a consumer killed
# and restarted, a verdict table).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
exec build/release/cli/nvmsg demo "$@"
