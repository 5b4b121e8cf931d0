#!/bin/sh
# guest-init.sh -- /init of the power-cut guest (busybox sh).
#
# Everything comes from the kernel command line (names with a dot would not
# reach us, hence pc_*):
#   pc_mode=run|verify|probe|shell   (shell: prepare the store, then a
#                                     shell on the serial console)
#   pc_store=fsdax|devdax|tmpfs|disk   where the channel lives:
#       fsdax   ext4 -o dax on /dev/pmem0 (label-less NVDIMM), tier pmem
#       devdax  two device dax namespaces of a labelled NVDIMM, reached
#               through symlinks on a tmpfs, tier pmem
#       tmpfs   a tmpfs, tier volatile (lost at the cut: a control)
#       disk    ext4 on a virtio disk, no DAX, tier msync (a control)
#   pc_setup=1          first boot: make namespaces and filesystems, create
#                       the channel and register the consumer
#   pc_first=A,B        run: first message number of producers 0 and 1
#   pc_count=N          run: messages per producer
#   pc_seed=S           run: seeds of the producers and the consumer
#   pc_pause=MS         run: the consumer sleeps MS after each ack
#   pc_bin=lag          run: the workload is pc_guest_lag, built with the
#                       library's NV_SEAM_PUB_LAG seam (pub_tail on the
#                       media stays one batch behind, as a cache that had
#                       not written its line back would leave it)
# The link test (powercut_link.py; pc_mode=link, store fsdax or tmpfs):
#   pc_role=recv|send|dump  recv: nvmsgd receives into channel orders;
#                       send: producers send on orders and nvmsgd offers
#                       it; dump: only the dump below, then halt.  recv
#                       and dump first dump what consumer verify of orders
#                       holds (pc_link dump), before any nvmsgd runs
#   pc_port=P           nvmsgd listens on 0.0.0.0:P (eth0 is 10.0.2.15,
#                       QEMU user networking; the host dials in through
#                       a hostfwd port)
#   pc_daemon=NAME      recv: the daemon binary (nvmsgd-mutant-ackearly
#                       for the control)
#   pc_dopts=A,B        more nvmsgd options, commas for spaces
#   pc_count=N pc_rate=R pc_producers=K pc_batch=PCT
#                       send: K producers (slots 0..K-1), each up to seq
#                       N, R messages a second, PCT% batches
# Lines for the host start with "PC " (ours) or are pc_guest's protocol
# lines (SENT, GOT, ...; see pc_guest.c) or pc_link's (pc_link.c).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "PC $*"; }
param() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n1; }
halt() {
	sync
	say "HALT"
	poweroff -f
	sleep 30
}
# quiet CMD... -- run CMD, show its output only if it fails
quiet() {
	"$@" >/tmp/quiet.log 2>&1 && return 0
	sed 's/^/PC LOG /' /tmp/quiet.log
	die "$*"
}
die() {
	say "FAIL $*"
	dmesg | tail -n 25 | sed 's/^/PC DMESG /'
	halt
}

MODE=$(param pc_mode)
STORE=$(param pc_store)
SETUP=$(param pc_setup)
FIRST=$(param pc_first)
COUNT=$(param pc_count)
SEED=$(param pc_seed)
PAUSE=$(param pc_pause)
PCG=pc_guest
[ "$(param pc_bin)" != lag ] || PCG=pc_guest_lag
# the verify boot's second reader: a user that owns nothing but the
# consumer's cursor (as nvmsg_consumer_open documents for another user)
READER_UID=1000
DIR=/mnt/pc
NAME=ch
CONSUMER=c0
say "BOOTED mode=$MODE store=$STORE setup=${SETUP:-0} uptime=$(cut -d' ' -f1 /proc/uptime)"

if [ "$MODE" = probe ]; then
	say "PROBE OK"
	halt
fi

# busybox modprobe ignores softdeps: crc32c before ext4
case "$STORE" in
fsdax) mods="crc32c_intel crc32c_generic nfit nd_pmem ext4" ;;
devdax) mods="nfit nd_pmem dax_pmem device_dax" ;;
disk) mods="crc32c_intel crc32c_generic virtio_pci virtio_blk ext4" ;;
*) mods= ;;
esac
for m in $mods; do
	modprobe "$m" 2>/dev/null || [ "$m" = crc32c_intel ] ||
		die "modprobe $m"
done

# wait_for TEST PATH -- the NFIT and virtio probe asynchronously
wait_for() {
	i=0
	while ! [ "$1" "$2" ]; do
		i=$((i + 1))
		[ $i -lt 400 ] || die "no $2 after 20 s"
		sleep 0.05
	done
}

# dax_dev NAME -- the device dax (e.g. dax0.1) of the namespace labelled NAME
dax_dev() {
	for nd in /sys/bus/nd/devices/dax*; do
		ns=$(cat "$nd/namespace" 2>/dev/null)
		[ -n "$ns" ] || continue
		[ "$(cat /sys/bus/nd/devices/"$ns"/alt_name)" = "$1" ] || continue
		for c in "$nd"/dax*.*; do
			[ -d "$c" ] && basename "$c"
		done
	done | head -n1
}

# ports N -- the PCI serial ports ttyS1..ttyS(N+1) are registered (their
# driver is built in, but probes them while /init already runs)
ports() {
	for t in $(seq 1 $(($1 + 1))); do
		wait_for -e /sys/class/tty/ttyS$t/type
		i=0
		until [ "$(cat /sys/class/tty/ttyS$t/type)" != 0 ]; do
			i=$((i + 1))
			[ $i -lt 400 ] || die "no serial port ttyS$t after 20 s"
			sleep 0.05
		done
	done
}

mkdir -p $DIR
case "$STORE" in
fsdax)
	wait_for -b /dev/pmem0
	if [ "$SETUP" = 1 ]; then
		quiet ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev
		wait_for -b /dev/pmem0
		# 4 KiB blocks: mkfs picks 1 KiB on a small device, and DAX
		# needs the block size to be the page size
		quiet mkfs.ext4 -F -q -b 4096 /dev/pmem0
	fi
	mount -t ext4 -o dax /dev/pmem0 $DIR || die "mount -o dax"
	grep -q " $DIR ext4 .*dax" /proc/mounts || die "$DIR is not mounted dax"
	;;
devdax)
	wait_for -d /sys/bus/nd/devices/region0
	if [ "$SETUP" = 1 ]; then
		# a fresh label area: write empty labels, then two named
		# namespaces of the region's granularity (16 MiB), 4 KiB
		# aligned (so that a mapping of the channel's size is valid)
		quiet ndctl disable-region all
		quiet ndctl init-labels -f all
		quiet ndctl enable-region all
		for n in pcdata pccur; do
			quiet ndctl create-namespace -r region0 -m devdax -a 4K \
				-s 16M -n $n
		done
	fi
	# the channel's two regions are the two devices, reached through
	# symlinks (made anew at every boot: the tmpfs dies with the power)
	mount -t tmpfs tmpfs $DIR
	for n in pcdata:$NAME.nvmsg pccur:$NAME.$CONSUMER.nvcur; do
		dev=$(dax_dev "${n%%:*}")
		[ -n "$dev" ] || die "no device dax for namespace ${n%%:*}"
		wait_for -c /dev/$dev
		ln -s /dev/$dev $DIR/${n#*:}
		say "LINK $DIR/${n#*:} -> /dev/$dev"
	done
	;;
tmpfs)
	mount -t tmpfs tmpfs $DIR
	;;
disk)
	wait_for -b /dev/vda
	if [ "$SETUP" = 1 ]; then
		quiet mkfs.ext4 -F -q /dev/vda
	fi
	mount -t ext4 /dev/vda $DIR || die "mount vda"
	;;
"") ;; # pc_mode=shell without a store
*) die "unknown pc_store=$STORE" ;;
esac

case "$STORE" in
tmpfs) TIER=volatile ;;
disk) TIER=msync ;;
*) TIER=pmem ;;
esac

case "$MODE" in
shell)
	say "READY"
	exec setsid cttyhack sh
	;;
run)
	command -v $PCG >/dev/null || die "no $PCG in the initramfs"
	if [ "$SETUP" = 1 ]; then
		$PCG create $DIR $NAME $TIER $CONSUMER || die "create"
	fi
	# each process writes to its own serial port (ttyS1: the consumer,
	# ttyS2+P: producer P), so that its tcdrain waits for its own lines
	ports $(echo "$FIRST" | tr ',' '\n' | wc -l)
	say "READY uptime=$(cut -d' ' -f1 /proc/uptime)"
	$PCG consume $DIR $NAME $CONSUMER "$SEED" ${PAUSE:-0} \
		>/dev/ttyS1 2>&1 &
	p=0
	for first in $(echo "$FIRST" | tr ',' ' '); do
		$PCG produce $DIR $NAME $p "$first" "$COUNT" \
			$((SEED + p + 1)) >/dev/ttyS$((p + 2)) 2>&1 &
		p=$((p + 1))
	done
	# the host pulls the plug long before this returns
	wait
	die "the workload ended"
	;;
verify)
	ports 0
	# the second reader may read the data (devdax: device nodes are
	# root's 0600 at every boot) and owns the consumer's cursor
	if [ -e $DIR/$NAME.nvmsg ]; then
		chmod o+r $DIR/$NAME.nvmsg &&
			chown $READER_UID:$READER_UID $DIR/$NAME.$CONSUMER.nvcur ||
			die "chown the cursor to uid $READER_UID"
	fi
	say "READY uptime=$(cut -d' ' -f1 /proc/uptime)"
	# first read as the consumer (data mapped read-only), as root and as
	# the other uid, before anything opens a producer slot or repairs:
	# the host judges I1 from the first read; then check, repair, check,
	# read again (and ack).  All run even if one fails, to show which.
	ok=1
	pc_guest read $DIR $NAME $CONSUMER pre >/dev/ttyS1 2>&1 || ok=0
	pc_guest read $DIR $NAME $CONSUMER pre-uid $READER_UID \
		>/dev/ttyS1 2>&1 || ok=0
	pc_guest verify $DIR $NAME $CONSUMER >/dev/ttyS1 2>&1 || ok=0
	[ $ok = 1 ] || die "verify"
	halt
	;;
link)
	ROLE=$(param pc_role)
	PORT=$(param pc_port)
	CH=orders
	# pmem: 4 slots of 4 MiB; a consumer that never acks keeps all
	if [ "$ROLE" != send ] && [ "$SETUP" != 1 ]; then
		pc_link dump $DIR $CH verify || die "dump"
	fi
	[ "$ROLE" != dump ] || halt
	for m in virtio_pci virtio_net; do modprobe $m || die "modprobe $m"; done
	wait_for -e /sys/class/net/eth0
	ip link set lo up && ip link set eth0 up &&
		ip addr add 10.0.2.15/24 dev eth0 || die "network"
	DAEMON=$(param pc_daemon)
	DOPTS=$(param pc_dopts | tr ',' ' ')
	command -v "${DAEMON:-nvmsgd}" >/dev/null || die "no ${DAEMON:-nvmsgd}"
	case "$ROLE" in
	recv)
		if [ ! -e $DIR/$CH.nvmsg ]; then
			pc_link create $DIR $CH $TIER 4194304 4 verify ||
				die "create"
		fi
		# shellcheck disable=SC2086
		"${DAEMON:-nvmsgd}" --dir $DIR --listen 0.0.0.0:$PORT \
			--plaintext --status /tmp/nvmsgd.status $DOPTS 2>&1 &
		;;
	send)
		if [ "$SETUP" = 1 ]; then
			pc_link create $DIR $CH $TIER 4194304 4 \
				link-offer-$CH || die "create"
		fi
		# shellcheck disable=SC2086
		"${DAEMON:-nvmsgd}" --dir $DIR --listen 0.0.0.0:$PORT \
			--offer $CH --plaintext --status /tmp/nvmsgd.status \
			$DOPTS 2>&1 &
		# its link consumer is registered (ours, made at setup)
		# before any producer sends
		wait_for -e /tmp/nvmsgd.status
		n=$(ls $DIR/$CH.*.nvcur | wc -l)
		[ "$n" = 1 ] || die "$n cursors: $(ls $DIR)"
		p=0
		while [ $p -lt "$(param pc_producers)" ]; do
			pc_link produce $DIR $CH $p "$COUNT" "$(param pc_rate)" \
				"$(param pc_batch)" &
			p=$((p + 1))
		done
		;;
	*) die "unknown pc_role=$ROLE" ;;
	esac
	say "READY uptime=$(cut -d' ' -f1 /proc/uptime)"
	# the host pulls the plug long before this returns
	sleep 100000
	;;
*)
	die "unknown pc_mode=$MODE"
	;;
esac
