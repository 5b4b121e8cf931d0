#!/usr/bin/env bash
# deps.sh -- what the real power-cut test needs from Debian 12, installed
# only where missing, and the guest kernel, extracted (never installed).
#
#   tests/powercut/deps.sh [--check] [--kernel DIR]
#
# Packages: QEMU (x86 system emulator), busybox for the guest userland,
# ndctl/daxctl to make NVDIMM namespaces in the guest, e2fsprogs for
# mkfs.ext4, cpio and kmod to pack the initramfs and resolve modules.
# Installing needs root (or sudo); --check only says what is missing
# (exit 1 then).  --kernel DIR downloads the package linux-image-amd64
# depends on into DIR and extracts it there with `dpkg -x` (nothing is
# installed on the host); DIR/kernel-version then names it.  A DIR that
# already holds an extracted kernel is kept as it is.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

pkgs=(qemu-system-x86 qemu-utils busybox-static ndctl daxctl e2fsprogs cpio
      kmod python3)
check=0
kdir=
while [ $# -gt 0 ]; do
	case "$1" in
	--check) check=1 ;;
	--kernel) kdir=$2; shift ;;
	*) echo "usage: $0 [--check] [--kernel DIR]" >&2; exit 2 ;;
	esac
	shift
done

sudo_=
[ "$(id -u)" -eq 0 ] || sudo_=sudo
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ $check -eq 1 ]; then
		echo "powercut deps: missing ${missing[*]}" >&2
		echo "  install: apt-get install --no-install-recommends" \
		     "${missing[*]}  (or run $0 as root)" >&2
		exit 1
	fi
	echo "powercut deps: installing ${missing[*]}" >&2
	$sudo_ apt-get update -qq
	$sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null
fi

[ -n "$kdir" ] || exit 0
mkdir -p "$kdir"
if [ -s "$kdir/kernel-version" ] &&
   [ -d "$kdir/root/lib/modules/$(cat "$kdir/kernel-version")" ]; then
	exit 0
fi
[ $check -eq 0 ] || { echo "powercut deps: no guest kernel in $kdir" >&2; exit 1; }

# linux-image-amd64 is a metapackage; its one Depends is the versioned image
kpkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1
}
pkg=$(kpkg)
if [ -z "$pkg" ]; then
	echo "powercut deps: apt knows no linux-image-amd64: updating lists" >&2
	$sudo_ apt-get update -qq
	pkg=$(kpkg)
fi
[ -n "$pkg" ] || { echo "powercut deps: cannot find linux-image-amd64" >&2; exit 1; }
tmp=$kdir/tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
echo "powercut deps: downloading $pkg (extracted, not installed)" >&2
# as root, apt hands the download to its sandbox user, who cannot write
# here: download as root itself
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
if ! (cd "$tmp" && apt-get download -qq "${sandbox[@]}" "$pkg"); then
	# lists older than the mirror name a package it no longer has
	echo "powercut deps: download failed: updating lists, once" >&2
	$sudo_ apt-get update -qq
	pkg=$(kpkg)
	(cd "$tmp" && apt-get download -qq "${sandbox[@]}" "$pkg")
fi
dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/root"
kv=$(ls "$tmp/root/lib/modules" | head -n1)
# the package ships no modules.dep: busybox modprobe and our module
# closure need one
depmod -b "$tmp/root" "$kv"
rm -rf "$kdir/root"
mv "$tmp/root" "$kdir/root"
rm -rf "$tmp"
echo "$kv" >"$kdir/kernel-version"
echo "powercut deps: guest kernel $kv in $kdir" >&2
