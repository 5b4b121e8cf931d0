#!/usr/bin/env bash
# powercut.sh -- pull the plug on a QEMU guest whose nvmsg channel lives on
# an emulated NVDIMM (DAX, MAP_SYNC), boot it again, and show what
# survived: every message whose send returned, each delivered once, in
# order, after the consumer's last durable ack.
#
#   scripts/powercut.sh [fsdax|devdax|tmpfs|disk] [--lag] [--seed N] [--verbose]
#
# fsdax (default): ext4 -o dax on the NVDIMM, pmem tier.  devdax: a device
# dax.  tmpfs: the volatile tier, which a power cut erases (it cannot do
# otherwise: a demonstration, not a check).  disk: the msync tier on a
# virtio disk, where pub_tail lags the last durable batch by itself.
# --lag (fsdax, devdax): the guest's producers run the library built with
# NV_SEAM_PUB_LAG, so pub_tail lags there too, and the consumer must find
# the last batch before anything repairs.  Builds pc_guest (and
# pc_guest_lag) in build/release; guest, disks and console logs go to
# build/release/powercut/.  The full test (4 DAX cuts and the controls)
# is `ctest -L powercut` in a build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

store=fsdax
lag=0
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	fsdax|devdax|tmpfs|disk) store=$1 ;;
	--lag) lag=1 ;;
	--seed) args+=(--seed "$2"); shift ;;
	--verbose) args+=(--verbose) ;;
	*) echo "usage: $0 [fsdax|devdax|tmpfs|disk] [--lag] [--seed N]" \
		"[--verbose]" >&2
	   exit 2 ;;
	esac
	shift
done

if ! tests/powercut/deps.sh --check 2>/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		tests/powercut/deps.sh
	else
		tests/powercut/deps.sh --check || true
		cat >&2 <<'MSG'

powercut.sh needs QEMU and a few tools to build the guest.  Either run
    sudo tests/powercut/deps.sh
or install them yourself (Debian 12):
    sudo apt-get install --no-install-recommends qemu-system-x86 qemu-utils \
        busybox-static ndctl daxctl e2fsprogs cpio kmod python3
The guest kernel is Debian's linux-image-amd64, downloaded and extracted
into the build tree (not installed) on the first run.
MSG
		exit 1
	fi
fi

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target pc_guest pc_guest_lag \
	>/dev/null

n() { [ "$store" = "$1" ] && echo 1 || echo 0; }
work=build/release/powercut
bin=build/release/tests/powercut
[ $lag -eq 0 ] || args+=(--lag-guest "$bin/pc_guest_lag" --lag-cuts dax)
exec python3 tests/powercut/powercut.py \
	--guest "$bin/pc_guest" --work "$work/one" \
	--kernel-dir "$work/kernel" --fsdax "$(n fsdax)" --devdax "$(n devdax)" \
	--volatile "$(n tmpfs)" --msync "$(n disk)" --explain "${args[@]}"
