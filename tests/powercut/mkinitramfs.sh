#!/usr/bin/env bash
# mkinitramfs.sh -- the power-cut guest's kernel and initramfs.
#
#   tests/powercut/mkinitramfs.sh [--bin FILE[=NAME]]... [--net] \
#       KERNEL_DIR PC_GUEST OUT_DIR [PC_GUEST_LAG]
#
# KERNEL_DIR holds Debian's kernel package extracted by deps.sh --kernel.
# Writes OUT_DIR/vmlinux (the uncompressed ELF kernel: QEMU starts it at its
# PVH entry, which under TCG saves the seconds that real-mode setup and
# decompression of the bzImage cost; cached beside the extracted package)
# and OUT_DIR/initramfs.cpio (uncompressed, for the same reason): busybox,
# ndctl, mkfs.ext4, PC_GUEST with the shared libraries ldd names for it,
# the kernel modules the NVDIMM, DAX, ext4 and virtio-blk need (with their
# dependencies, so that busybox modprobe works), and guest-init.sh as /init.
# PC_GUEST_LAG (pc_guest built on the NV_SEAM_PUB_LAG library) goes in as
# /bin/pc_guest_lag, for the run boots that ask for it (pc_bin=lag).
# Options (the link test, powercut_link.py): --bin FILE[=NAME] puts FILE
# into /bin (as NAME) with its ldd closure, as PC_GUEST (nvmsgd, nvmsg,
# pc_link); --net adds the virtio-net modules (QEMU user networking).
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
usage="usage: $0 [--bin FILE[=NAME]]... [--net] KERNEL_DIR PC_GUEST OUT_DIR [PC_GUEST_LAG]"
bins=()
net=0
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; bins+=("$2"); shift 2 ;;
	--net) net=1; shift ;;
	--) shift; break ;;
	-*) echo "$usage" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "$usage" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
kdir=$(cd "$1" && pwd)
guest=$2
out=$3
lag=${4:-}
kv=$(cat "$kdir/kernel-version")
kroot=$kdir/root
mkdir -p "$out"

if [ ! -s "$kdir/vmlinux" ]; then
	# vmlinuz is a bzImage whose payload is xz: find the stream, unpack
	python3 - "$kroot/boot/vmlinuz-$kv" "$kdir/vmlinux.tmp" <<'PY'
import lzma, sys
data = open(sys.argv[1], "rb").read()
at = data.find(b"\xfd7zXZ\x00")
if at < 0:
    sys.exit("no xz stream in " + sys.argv[1])
elf = lzma.LZMADecompressor().decompress(data[at:])
if elf[:4] != b"\x7fELF":
    sys.exit("the xz stream is not an ELF kernel")
open(sys.argv[2], "wb").write(elf)
PY
	mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
fi
ln -sf "$kdir/vmlinux" "$out/vmlinux"

root=$out/rootfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,mnt,tmp,run,lib64} \
	"$root"/lib/x86_64-linux-gnu
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# the kernel's request_module() runs /sbin/modprobe
ln -s ../bin/busybox "$root/sbin/modprobe"

# copy_elf FILE [NAME] -- FILE into /bin (as NAME) with every library ldd
# names
copy_elf() {
	local name
	name=${2:-$(basename "$1")}
	rm -f "$root/bin/$name" # replaces a busybox applet of that name
	cp -L "$1" "$root/bin/$name"
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
		while read -r lib; do
			cp -nL "$lib" "$root/lib/x86_64-linux-gnu/"
		done
}
for tool in ndctl daxctl mkfs.ext4; do
	copy_elf "$(PATH=$PATH:/sbin:/usr/sbin command -v "$tool")"
done
copy_elf "$guest" pc_guest # also when it is a mutant build
[ -z "$lag" ] || copy_elf "$lag" pc_guest_lag
for b in ${bins[@]+"${bins[@]}"}; do
	case "$b" in
	*=*) copy_elf "${b%%=*}" "${b#*=}" ;;
	*) copy_elf "$b" ;;
	esac
done
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
# glibc loads libgcc_s for thread cancellation and unwinding
cp -nL /lib/x86_64-linux-gnu/libgcc_s.so.1 "$root/lib/x86_64-linux-gnu/"
cp /etc/mke2fs.conf "$root/etc/" 2>/dev/null || true
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"

# modules: each wanted one and what it depends on, resolved by the host's
# modprobe against the extracted tree; -C an empty directory so that the
# host's modprobe.d (ndctl ships an "install libnvdimm" rule) plays no part
want="nfit nd_pmem nd_btt dax_pmem device_dax ext4 crc32c_generic
      crc32c-intel virtio_pci virtio_blk"
[ $net -eq 0 ] || want="$want virtio_net"
empty=$out/modprobe.d.empty
mkdir -p "$empty"
mods=$root/lib/modules/$kv
for m in $want; do
	modprobe -C "$empty" -d "$kroot" -S "$kv" --show-depends "$m" |
		awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	rel=${ko#"$kroot/lib/modules/$kv/"}
	mkdir -p "$mods/$(dirname "$rel")"
	cp "$ko" "$mods/$rel"
done
cp "$kroot/lib/modules/$kv"/modules.{order,builtin,builtin.modinfo} "$mods/"
depmod -b "$root" "$kv"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) \
	>"$out/initramfs.cpio.tmp"
mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
echo "mkinitramfs: kernel $kv, initramfs $(du -h "$out/initramfs.cpio" |
	cut -f1), $(find "$mods" -name '*.ko' | wc -l) modules"
