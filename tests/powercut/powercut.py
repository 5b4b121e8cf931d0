#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""powercut.py -- real power cuts of a QEMU guest with an emulated NVDIMM.

Proves I1 (no loss), I2 (no phantom), I3 (per-producer order), exactly-once
delivery after the consumer's last durable ack, and detectability
(nvmsg_producer_committed) across a real power failure of a whole machine:
a Linux guest whose channel lives on an emulated NVDIMM, mapped with DAX and
MAP_SYNC (ext4 -o dax on an fsdax namespace, or a device dax), is killed
with SIGKILL (all guest DRAM, page cache and CPU state are gone; the NVDIMM
is QEMU's MAP_SHARED mapping of a host file, so every store that reached it
survives), booted again on the same NVDIMM, and checked.

One cut:
  1. run boot: the guest's /init (guest-init.sh) starts pc_guest: one
     consumer and two producers on the channel; every line they print
     reaches us through a serial port of its own (protocol: pc_guest.c);
  2. after a random number of SENT lines (a few hundred), and a random
     delay, SIGKILL to QEMU: the power cut;
  3. verify boot on the same backing files: first the consumer reads
     everything it has not acked (data mapped read-only), as root and
     again as another uid, before anything opens a producer slot or
     repairs: the checks below judge that first read, since a consumer
     must see every durable message without a writer recovering the slot;
     then check, repair, check, read again (and ack), which must agree
     with the first read; then each producer slot's committed number.
Then the checks below (evaluate()).  The channel carries on from cut to
cut: producers resume on their recovered slots, rings wrap.

The lag: after a cut pub_tail may lag the last durable batch.  The reader
says how many messages it found past pub_tail (lag records).  On the
msync tier the lag comes by itself; on DAX the cuts named by --lag-cuts
run --lag-guest (pc_guest on the library's NV_SEAM_PUB_LAG seam), and one
of them must leave lag records, or the run fails: the rig did not
exercise the lag.

Controls: the same workload on the volatile tier (a tmpfs in the guest)
loses the channel; a tmpfs is new at every boot, so this control cannot
fail and says nothing about the checker (the mutant, --expect-fail, is
what shows that the checker sees loss).  On the msync tier (ext4 on a
virtio disk, no DAX) every acknowledged message must survive.

Each durable cut ends with a data verdict: "data verdict: INTACT", LOSS
(messages missing, or a durable ack undone) or DAMAGED (the library or
the payload check found bad bytes: a DAMAGED line from the guest; or
messages duplicated, reordered, phantom, or reads that disagree).  A cut
that failed on the rig (boot, QEMU, a call that should not fail) has
none; --expect-fail passes only on LOSS or DAMAGED in every cut.

The last line is
  cuts: N, acked-sent: S, lost: 0, duplicated: 0, reordered: 0
summed over the DAX cuts (S: sends whose success the host saw).  Exit 0
when every cut and control passed, 1 if not, 77 (skip) only when not root,
something needed is missing (root installs it: tests/powercut/deps.sh)
and NVMSG_CI is unset: under CI (.ci/run sets NVMSG_CI=1) a test that
cannot run is a failure.

What it cannot see: the guest's CPU caches are host memory under
emulation, so a missing cache flush goes unnoticed here (tests/crash
catches those); see docs/TESTING.md.
"""
import argparse
import fcntl
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PRODUCERS = 2
BATCH_MAX = 4  # the largest NVMSG_MORE batch pc_guest sends

LINE = re.compile(
    r"^(SENT|GOT|ACK|OPEN|DONE|COMMITTED|END|CHECK|REPAIR|NOCHANNEL|BAD"
    r"|DAMAGED|READEND|READ|CREATED|PC)( .*)?$")
# the verify boot's reads, in order: before repair as root (judged), before
# repair as READER_UID (guest-init.sh), after repair (acks)
READS = ("pre", "pre-uid", "post")


def log(msg=""):
    print(msg, flush=True)


class Boot:
    """One QEMU process and what its guest printed: the serial console
    (QEMU's stdout, a pipe) and one serial port per workload process,
    which QEMU writes into files (STREAMS).  Lines are timestamped into
    one log file."""

    def __init__(self, argv, logpath, streams=(), echo=False):
        self.t0 = time.monotonic()
        self.log = open(logpath, "w")
        self.log.write("# " + " ".join(argv) + "\n")
        self.echo = echo
        self.files = [[path, None, b""] for path in streams]
        self.pending = []  # whole lines read from the files, not yet given
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.eof = False
        self.killed_at = None

    def elapsed(self):
        return time.monotonic() - self.t0

    def _emit(self, src, raw):
        line = raw.decode(errors="replace").replace("\r", "")
        self.log.write("%8.3f %-7s %s\n" % (self.elapsed(), src, line))
        if self.echo:
            log("    %s| %s" % (src, line))
        return line

    def _files(self, final=False):
        """Queue the complete lines that QEMU appended to the stream
        files (queued, so that a caller that stops iterating between two
        of them loses none)."""
        for f in self.files:
            if f[1] is None:
                try:
                    f[1] = open(f[0], "rb")
                except FileNotFoundError:
                    continue
            f[2] += f[1].read()
            *whole, f[2] = f[2].split(b"\n")
            name = os.path.basename(f[0]).rsplit(".", 1)[0]
            self.pending += [self._emit(name, raw) for raw in whole]
            if final and f[2]:
                # a line the power cut tore: its end never left the guest
                self.log.write("%8.3f %-7s (torn, ignored) %r\n" %
                               (self.elapsed(), name, f[2]))
                f[2] = b""

    def lines(self, until):
        """Yield lines until QEMU's stdout ends (then the files are read
        to their end) or the monotonic time UNTIL."""
        fd = self.p.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                raw, self.buf = self.buf.split(b"\n", 1)
                yield self._emit("console", raw)
            self._files()
            while self.pending:
                yield self.pending.pop(0)
            if self.eof:
                if self.buf:
                    self.log.write("%8.3f console (torn, ignored) %r\n" %
                                   (self.elapsed(), self.buf))
                    self.buf = b""
                self._files(final=True)
                while self.pending:
                    yield self.pending.pop(0)
                return
            left = until - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([fd], [], [], min(left, 0.02))
            if r:
                chunk = os.read(fd, 65536)
                if chunk:
                    self.buf += chunk
                else:
                    self.eof = True

    def cut(self):
        """The power cut: SIGKILL, as pulling the plug."""
        self.p.send_signal(signal.SIGKILL)
        self.killed_at = self.elapsed()
        self.log.write("%8.3f <<< SIGKILL: power cut >>>\n" % self.killed_at)

    def finish(self, timeout=30):
        """After EOF (or a kill): reap QEMU, close the log."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        for f in self.files:
            if f[1]:
                f[1].close()
        self.log.close()
        return self.elapsed()


class Obs:
    """What the host saw of one boot, parsed from the console."""

    def __init__(self):
        self.sent = {p: [] for p in range(PRODUCERS)}   # [(num, seq)]
        self.got = {p: [] for p in range(PRODUCERS)}    # [(num, seq)]
        self.phase = None      # the verify boot's read under way
        self.reads = {}        # phase -> {p: [(num, seq)]}
        self.readend = {}      # phase -> READEND's {field: value}
        self.damaged = []      # DAMAGED lines: a verdict on the data
        self.acks = {p: [] for p in range(PRODUCERS)}   # [num]
        self.opened = {}       # producer -> (committed, first)
        self.committed = {}    # producer -> committed (verify)
        self.done = set()
        self.bad = []          # BAD and PC FAIL lines
        self.checks = {}       # "before"/"after" -> {field: value}
        self.repair = None
        self.end = None
        self.nochannel = False
        self.created = None
        self.halted = False
        self.ready = False

    def feed(self, line):
        m = LINE.match(line)
        if not m:
            return None
        tag, rest = m.group(1), (m.group(2) or "").split()
        try:
            if tag == "SENT":
                p, n, s = map(int, rest)
                self.sent[p].append((n, s))
            elif tag == "GOT":
                p, n, s, _ = map(int, rest)
                got = self.got if self.phase is None else \
                    self.reads[self.phase]
                got[p].append((n, s))
            elif tag == "READ":
                self.phase = rest[0]
                self.reads[self.phase] = {p: [] for p in range(PRODUCERS)}
            elif tag == "READEND":
                self.readend[rest[0]] = dict(
                    kv.split("=", 1) for kv in rest[1:] if "=" in kv)
                self.phase = None
            elif tag == "DAMAGED":
                self.damaged.append(line)
            elif tag == "ACK":
                p, n = map(int, rest)
                self.acks[p].append(n)
            elif tag == "OPEN":
                p, c, f = map(int, rest)
                self.opened[p] = (c, f)
            elif tag == "COMMITTED":
                p, c = map(int, rest)
                self.committed[p] = c
            elif tag == "DONE":
                self.done.add(int(rest[0]))
            elif tag == "END":
                self.end = True
            elif tag == "CHECK":
                self.checks[rest[0]] = dict(
                    kv.split("=", 1) for kv in rest[1:] if "=" in kv)
            elif tag == "REPAIR":
                self.repair = dict(kv.split("=", 1) for kv in rest)
            elif tag == "NOCHANNEL":
                self.nochannel = True
            elif tag == "BAD":
                self.bad.append(line)
            elif tag == "CREATED":
                self.created = " ".join(rest)
            elif tag == "PC":
                if rest[:1] == ["FAIL"]:
                    self.bad.append(line)
                elif rest[:1] == ["HALT"]:
                    self.halted = True
                elif rest[:1] == ["READY"]:
                    self.ready = True
        except (ValueError, KeyError, IndexError):
            return None  # a line that a kernel message broke into
        return tag

    def nsent(self):
        return sum(len(v) for v in self.sent.values())


class GuestFailure(RuntimeError):
    """The verify boot ran, and the library (or pc_guest's payload check)
    found the channel's bytes bad there (DAMAGED lines): a verdict on the
    data, not on the rig."""
    data = "DAMAGED"


def cannot_run(why, rc):
    """The test cannot run here.  A developer's machine skips (RC, 77 when
    it may be installed later); under CI (NVMSG_CI set) that is a failure,
    said loudly: a CI that skips the power cut proves nothing."""
    if not os.environ.get("NVMSG_CI"):
        log("%s: %s" % ("SKIP" if rc == 77 else "FAIL", why))
        return rc
    bar = "!" * 72
    log(bar)
    log("FAIL: the real power-cut test CANNOT RUN, and NVMSG_CI is set:")
    log("  " + why)
    log("  CI must run it (as root, which installs QEMU and the rest with")
    log("  tests/powercut/deps.sh); it is never skipped under CI.")
    log(bar)
    return 1


class Rig:
    def __init__(self, a):
        self.a = a
        self.work = os.path.abspath(a.work)
        self.kdir = os.path.abspath(a.kernel_dir or
                                    os.path.join(self.work, "..", "kernel"))
        self.gdir = os.path.join(self.work, "guest")
        self.logs = os.path.join(self.work, "logs")
        self.rng = random.Random(a.seed)
        self.accel = None
        # more mkinitramfs.sh options (powercut_link.py: --bin, --net)
        self.initramfs_opts = []

    # ------------------------------------------------------------ setup

    def prepare(self):
        """Packages, guest kernel, initramfs; 77 when not root and
        something is missing (1 under CI: cannot_run), 1 when it cannot
        be had."""
        os.makedirs(self.work, exist_ok=True)
        os.makedirs(os.path.dirname(self.kdir) or ".", exist_ok=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        os.makedirs(self.logs)
        deps = os.path.join(HERE, "deps.sh")
        root = os.geteuid() == 0
        lock = open(self.kdir + ".lock", "w")
        fcntl.flock(lock, fcntl.LOCK_EX)  # one extraction at a time
        t = time.monotonic()
        if root:
            rc = subprocess.call(["bash", deps, "--kernel", self.kdir])
            if rc != 0:
                return cannot_run("tests/powercut/deps.sh could not "
                                  "install what the power-cut test needs, "
                                  "or the guest kernel (exit %d)" % rc, 1)
        else:
            rc = subprocess.call(["bash", deps, "--check"])
            if rc == 0:
                rc = subprocess.call(["bash", deps, "--kernel", self.kdir])
            if rc != 0:
                return cannot_run("not root, and the packages (QEMU, ...) "
                                  "or the guest kernel are missing: run "
                                  "tests/powercut/deps.sh as root", 77)
        fcntl.flock(lock, fcntl.LOCK_UN)
        rc = subprocess.call(["bash", os.path.join(HERE, "mkinitramfs.sh"),
                              *self.initramfs_opts, self.kdir,
                              self.a.guest, self.gdir] +
                             ([self.a.lag_guest] if self.a.lag_guest
                              else []))
        if rc != 0:
            log("FAIL: building the guest (mkinitramfs.sh) failed")
            return 1
        log("prepared in %.1f s" % (time.monotonic() - t))
        return 0

    def choose_accel(self):
        """KVM where it boots Debian's kernel, else TCG.  Here /dev/kvm
        may be PVM, which only runs PVM-aware guest kernels: not tried."""
        want = self.a.accel
        if want != "auto":
            self.accel = want
            return
        self.accel = "tcg"
        if os.path.exists("/sys/module/kvm_pvm"):
            log("accel: tcg (/dev/kvm is PVM, which cannot boot Debian's "
                "kernel)")
            return
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            log("accel: tcg (no usable /dev/kvm)")
            return
        b = Boot(self.qemu("kvm", "probe", "tmpfs"),
                 os.path.join(self.logs, "probe-kvm.log"))
        ok = False
        for line in b.lines(time.monotonic() + 30):
            if "PC PROBE OK" in line:
                ok = True
        if not b.eof:
            b.cut()
        b.finish()
        self.accel = "kvm" if ok else "tcg"
        log("accel: %s (KVM probe boot %s)" %
            (self.accel, "passed" if ok else "failed"))

    def qemu(self, accel, mode, store, extra="", files=None, streams=()):
        files = files or {}
        cpu = ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else \
            ["-accel", "tcg", "-cpu", "max"]  # max: clwb, clflushopt
        dev = []
        if "nvdimm" in files:
            label = ",label-size=128K" if store == "devdax" else ""
            dev += ["-object", "memory-backend-file,id=nv0,share=on,"
                    "mem-path=%s,size=%s,pmem=off" %
                    (files["nvdimm"], self.a.nvdimm_size),
                    "-device", "nvdimm,id=nvdimm0,memdev=nv0" + label]
        if "disk" in files:
            dev += ["-drive", "file=%s,if=virtio,format=raw" % files["disk"]]
        for i, path in enumerate(streams):
            # one serial port (a PCI 16550: ttyS1.. in the guest) per
            # workload process: each drains its own (tcdrain), so none
            # waits for the others' output.  QEMU's UART hands each byte
            # to the chardev, a file here, before the guest sees the
            # transmitter empty.  (virtio consoles were tried: a port
            # opened early in the guest silently drops what is written.)
            dev += ["-chardev", "file,id=s%d,path=%s" % (i, path),
                    "-device", "pci-serial,chardev=s%d" % i]
        append = "console=ttyS0 panic=-1 quiet pc_mode=%s pc_store=%s %s" % (
            mode, store, extra)
        return ["qemu-system-x86_64", *cpu,
                # mem-ctrl: ADR, the guest must flush its caches itself
                "-machine", "pc,nvdimm=on,nvdimm-persistence=mem-ctrl",
                "-smp", str(self.a.smp), "-m", "512M,slots=2,maxmem=2G",
                *dev,
                "-kernel", os.path.join(self.gdir, "vmlinux"),
                "-initrd", os.path.join(self.gdir, "initramfs.cpio"),
                "-append", append.strip(),
                "-display", "none", "-serial", "stdio", "-monitor", "none",
                "-nodefaults", "-no-reboot"]

    # ------------------------------------------------------------ a cut

    def run_boot(self, tag, store, files, setup, firsts, seed, lag):
        """Boot, start the workload (pc_guest_lag when LAG), cut at a
        random moment.  Returns (Obs, info) or raises RuntimeError."""
        target = self.rng.randint(self.a.min_sends, self.a.max_sends)
        delay = self.rng.uniform(0, self.a.max_delay)
        extra = "pc_setup=%d pc_first=%s pc_count=%d pc_seed=%d pc_pause=%d" \
            % (setup, ",".join(map(str, firsts)), self.a.count, seed,
               self.a.consumer_pause_ms)
        if lag:
            extra += " pc_bin=lag"
        streams = [os.path.join(self.logs, "%s-%s.out" % (tag, who))
                   for who in ["consumer"] + ["producer%d" % p
                                              for p in range(PRODUCERS)]]
        b = Boot(self.qemu(self.accel, "run", store, extra, files, streams),
                 os.path.join(self.logs, tag + "-run.log"), streams,
                 self.a.verbose)
        o = Obs()
        deadline = time.monotonic() + self.a.boot_timeout
        cut_at = None
        for line in b.lines(deadline):
            o.feed(line)
            if o.bad:
                break
            unacked = o.nsent() - sum(map(len, o.acks.values()))
            if cut_at is None and ((o.nsent() >= target and
                                    min(map(len, o.sent.values())) >=
                                    self.a.min_each and
                                    unacked >= self.a.min_unacked) or
                                   len(o.done) == PRODUCERS):
                cut_at = time.monotonic() + delay
                deadline = cut_at
            if cut_at is not None and time.monotonic() >= cut_at:
                break
        exited = b.eof
        if not exited:
            b.cut()
            # what QEMU wrote before it died is still in the pipe: read it
            for line in b.lines(time.monotonic() + 10):
                o.feed(line)
        t = b.finish()
        info = {"target": target, "boot_s": t, "cut_s": b.killed_at}
        if o.bad:
            raise RuntimeError("guest failed: " + "; ".join(o.bad[:3]))
        if exited:
            raise RuntimeError("QEMU exited before the cut (see %s)" %
                               b.log.name)
        if cut_at is None:
            raise RuntimeError("only %d sends seen in %d s (see %s)" %
                               (o.nsent(), self.a.boot_timeout, b.log.name))
        return o, info

    def verify_boot(self, tag, store, files):
        streams = [os.path.join(self.logs, tag + "-verify.out")]
        b = Boot(self.qemu(self.accel, "verify", store, "", files, streams),
                 os.path.join(self.logs, tag + "-verify.log"), streams,
                 self.a.verbose)
        o = Obs()
        for line in b.lines(time.monotonic() + self.a.boot_timeout):
            o.feed(line)
        if not b.eof:
            b.cut()
            b.finish()
            raise RuntimeError("verify boot did not end in %d s" %
                               self.a.boot_timeout)
        b.finish()
        if o.damaged:
            # the library or the payload check found bad bytes: a data
            # verdict, whatever else failed after it
            raise GuestFailure("the channel is damaged: " +
                               "; ".join(o.damaged[:3]))
        if o.bad:
            # a call that should not fail, or the guest's setup: the rig
            raise RuntimeError("verify failed: " + "; ".join(o.bad[:3]))
        if not o.halted:
            raise RuntimeError("verify boot ended without PC HALT")
        if not o.nochannel:
            missing = [ph for ph in READS if ph not in o.readend]
            if missing or not o.end:
                raise RuntimeError("verify boot: no %s (see %s)" % (
                    "READEND " + ",".join(missing) if missing else "END",
                    b.log.name))
        return o

    # ------------------------------------------------------------ checks

    def evaluate(self, state, run, ver, firsts):
        """Judge one cut of a durable tier.  STATE[p] = (num, seq) of the
        last message of producer p known durable before this cut (all of
        them acked by the previous verify).  What was delivered after the
        cut is the first read, before repair (ver.reads["pre"]).  Returns
        counts, problems and the data verdict; updates STATE."""
        v = {"lost": 0, "duplicated": 0, "reordered": 0, "phantom": 0,
             "damaged": 0, "problems": [], "recovered": 0, "resume": {},
             "kinds": set()}

        def problem(kind, n, what):
            if kind:
                v[kind] += n
                v["kinds"].add(kind)
            v["problems"].append(what)

        def verdict():
            k = v["kinds"]
            v["data"] = "LOSS" if "lost" in k else "DAMAGED" if k else \
                "INTACT"
            return v

        if ver.nochannel:
            problem("lost", run.nsent(), "the channel is gone after the cut")
            return verdict()
        for when in ("before", "after"):
            c = ver.checks.get(when)
            if c is None:
                problem(None, 0, "no CHECK %s repair" % when)
            elif c.get("errors") != "0":
                problem("damaged", 1, "check %s repair: %s errors, first: "
                        "%s" % (when, c.get("errors"), c.get("first_error")))
        if ver.checks.get("after", {}).get("repairs", "0") != "0":
            problem(None, 0, "repair left slots to repair")
        total = 0
        for p in range(PRODUCERS):
            prev_num, prev_seq = state[p]
            first = firsts[p]
            # detectability at the run boot's open
            if p in run.opened and run.opened[p][0] != prev_seq:
                problem(None, 0, "producer %d opened with committed %d, "
                        "the last durable message has seq %d" %
                        (p, run.opened[p][0], prev_seq))
            sent = [n for n, _ in run.sent[p]]
            if sent != list(range(first, first + len(sent))):
                problem(None, 0, "producer %d: SENT lines out of order" % p)
            s = sent[-1] if sent else first - 1
            # the consumer during the run: each message once, in order
            seq_of = {prev_num: prev_seq}
            exp, last_seq = prev_num + 1, prev_seq
            for n, sq in run.got[p]:
                if n == exp:
                    exp += 1
                elif n < exp:
                    problem("duplicated", 1, "run: producer %d message %d "
                            "delivered again" % (p, n))
                else:
                    problem("lost", n - exp, "run: producer %d messages "
                            "%d..%d skipped" % (p, exp, n - 1))
                    exp = n + 1
                if sq <= last_seq:
                    problem("reordered", 1, "run: producer %d seq %d after "
                            "%d" % (p, sq, last_seq))
                last_seq = sq
                seq_of[n] = sq
            g = max([prev_num] + [n for n, _ in run.got[p]])
            a = max([prev_num] + run.acks[p])
            # after the cut: what the consumer read before repair
            got = ver.reads["pre"][p]
            nums = [n for n, _ in got]
            total += len(nums)
            dup = len(nums) - len(set(nums))
            dup += len([n for n in set(nums) if n <= a])
            if dup:
                problem("duplicated", dup, "producer %d: %d messages "
                        "delivered twice or after their ack was seen" %
                        (p, dup))
            bad_order = sum(1 for i in range(1, len(got))
                            if got[i][0] <= got[i - 1][0] or
                            got[i][1] <= got[i - 1][1])
            if bad_order:
                problem("reordered", bad_order, "producer %d: %d messages "
                        "out of order after the cut" % (p, bad_order))
            for n, sq in got:
                seq_of[n] = sq
            if nums:
                r = nums[0] - 1
                d = max(nums)
                holes = len(set(range(nums[0], d + 1)) - set(nums))
                if holes:
                    problem("lost", holes, "producer %d: %d messages "
                            "missing between %d and %d" %
                            (p, holes, nums[0], d))
            else:
                # everything durable had been acked: the producer's
                # committed seq names the last durable message, one the
                # consumer viewed (its GOT drained before the ack)
                c = ver.committed.get(p)
                byseq = {sq: n for n, sq in seq_of.items()}
                if c not in byseq:
                    problem("lost", 0, "producer %d: committed seq %s after "
                            "the cut names no message the consumer viewed"
                            % (p, c))
                    d = r = a
                else:
                    d = r = byseq[c]
            if r > g:
                problem("lost", r - g, "producer %d resumes after %d, past "
                        "the last message the consumer viewed (%d)" %
                        (p, r, g))
            if r < a:
                if nums:
                    pass  # counted above as delivered after their ack
                else:
                    problem("lost", a - r, "producer %d: acked messages "
                            "%d..%d are gone" % (p, r + 1, a))
            lost_sent = [n for n in sent if n > r and n not in set(nums)]
            if lost_sent:
                problem("lost", len(lost_sent), "producer %d: %d sent "
                        "messages not delivered, the first %d" %
                        (p, len(lost_sent), lost_sent[0]))
            if d > s + BATCH_MAX or d >= first + self.a.count:
                problem("phantom", d - s, "producer %d: message %d "
                        "delivered, but the last send seen was %d" %
                        (p, d, s))
            # detectability after the cut
            c = ver.committed.get(p)
            if c != seq_of.get(d):
                problem(None, 0, "producer %d: committed %s after the cut, "
                        "the last durable message %d has seq %s" %
                        (p, c, d, seq_of.get(d)))
            v["resume"][p] = (r, a, g, s, d)
            state[p] = (d, seq_of.get(d, prev_seq))
        v["recovered"] = total
        for ph in READS:
            n = sum(len(x) for x in ver.reads[ph].values())
            if str(n) != ver.readend[ph].get("count"):
                problem(None, 0, "read %s: READEND says %s messages, %d GOT "
                        "lines seen" % (ph, ver.readend[ph].get("count"), n))
        # the other reads: as another uid before repair, and after repair
        for ph, who in (("pre-uid", "as uid %s before repair" %
                         ver.readend["pre-uid"].get("uid")),
                        ("post", "after repair")):
            for p in range(PRODUCERS):
                a, b = ver.reads["pre"][p], ver.reads[ph][p]
                if a != b:
                    problem("damaged", 1, "producer %d: the read %s has %d "
                            "messages (%s..%s), the first read %d (%s..%s)"
                            % (p, who, len(b), b[0][0] if b else "-",
                               b[-1][0] if b else "-", len(a),
                               a[0][0] if a else "-",
                               a[-1][0] if a else "-"))
        return verdict()

    # ------------------------------------------------------------ scenarios

    def images(self, store):
        d = os.path.join(self.work, store)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        files = {}
        if store in ("fsdax", "devdax"):
            files["nvdimm"] = os.path.join(d, "nvdimm.img")
            subprocess.check_call(["truncate", "-s", self.a.nvdimm_size,
                                   files["nvdimm"]])
        if store == "disk":
            files["disk"] = os.path.join(d, "disk.img")
            subprocess.check_call(["truncate", "-s", "64M", files["disk"]])
        return files

    def scenario(self, store, cuts, results):
        """CUTS cuts in a row on one channel of STORE."""
        files = self.images(store)
        state = {p: (0, 0) for p in range(PRODUCERS)}
        durable = store != "tmpfs"
        tier = {"fsdax": "pmem", "devdax": "pmem", "tmpfs": "volatile",
                "disk": "msync"}[store]
        for k in range(1, cuts + 1):
            tag = "%s-%d" % (store, k)
            firsts = [state[p][0] + 1 for p in range(PRODUCERS)]
            seed = self.rng.randrange(1, 1 << 30)
            res = {"store": store, "tier": tier, "cut": k, "sent": 0,
                   "recovered": 0, "lost": 0, "duplicated": 0,
                   "reordered": 0, "phantom": 0, "control": not durable or
                   store == "disk", "why": [], "lag": None, "data": None,
                   "lag_guest": self.lag_cut(store, k)}
            results.append(res)
            t = time.monotonic()
            try:
                run, info = self.run_boot(tag, store, files, k == 1,
                                          firsts, seed, res["lag_guest"])
                res["sent"] = run.nsent()
                res["acked"] = sum(len(x) for x in run.acks.values())
                ver = self.verify_boot(tag, store, files)
            except RuntimeError as e:
                # a data verdict only when the guest found bad bytes;
                # anything else is the rig's failure
                res["verdict"] = "FAIL"
                res["data"] = getattr(e, "data", None)
                res["why"].append(str(e))
                log("  %s: FAIL: %s" % (tag, e))
                log("    data verdict: %s" % (
                    res["data"] or "none (the rig failed, not the data)"))
                return
            res["secs"] = time.monotonic() - t
            if not durable:
                # a tmpfs is new at every boot: this cannot fail (short of
                # the rig); it shows what a power cut does to RAM
                if ver.nochannel:
                    res["verdict"] = "LOST (as it must)"
                else:
                    res["verdict"] = "FAIL"
                    res["why"].append("a volatile channel survived the "
                                      "power cut: the rig cannot tell")
            else:
                v = self.evaluate(state, run, ver, firsts)
                for key in ("lost", "duplicated", "reordered", "phantom",
                            "recovered", "data"):
                    res[key] = v[key]
                if not ver.nochannel:
                    res["lag"] = int(ver.readend["pre"].get("lag", 0))
                    res["past_pub"] = int((ver.repair or {}).get(
                        "published", 0))
                res["why"] = v["problems"]
                res["resume"] = v["resume"]
                res["verdict"] = "FAIL" if v["problems"] else "PASS"
            self.report(res, info, run, ver)
            if res["verdict"] == "FAIL" or not durable:
                return

    def report(self, res, info, run, ver):
        line = ("  %s-%d %s: cut after %d sends seen (target %d, %.1f s "
                "into the boot), %d acks seen; " %
                (res["store"], res["cut"], res["tier"], res["sent"],
                 info["target"], info["cut_s"] or 0, res.get("acked", 0)))
        if ver.nochannel:
            line += "after reboot: no channel"
        else:
            rep = ver.repair or {}
            line += ("after reboot: %d read before repair, lag records %s "
                     "(past pub_tail%s), repair published %s, " %
                     (res["recovered"], res["lag"],
                      ", lag seam" if res["lag_guest"] else "",
                      rep.get("published", "?")))
            line += ", ".join(
                "p%d resumes after %d (acked %d, viewed %d, sent %d, "
                "durable to %d)" % ((p,) + res["resume"][p])
                for p in sorted(res.get("resume", {})))
        log(line + " [%.1f s]" % res.get("secs", 0))
        if self.a.explain:
            self.explain(res, run, ver)
        for w in res["why"]:
            log("    problem: " + w)
        if res["data"]:
            log("    data verdict: %s" % res["data"])
        log("    -> %s" % res["verdict"])

    def lag_cut(self, store, k):
        """Does cut K of STORE run the lag guest?"""
        if not self.a.lag_guest or store not in ("fsdax", "devdax"):
            return False
        spec = self.a.lag_cuts.split(",")
        return "dax" in spec or "%s-%d" % (store, k) in spec

    def explain(self, res, run, ver):
        """What survived, in words, for scripts/powercut.sh."""
        if ver.nochannel:
            log("    The %s channel lived in guest RAM: after the power cut "
                "it does not exist." % res["tier"])
            return
        if res["lag"]:
            log("    %d of the messages read before repair lay past pub_tail"
                "%s: the consumer found them without a writer recovering "
                "the slot" % (res["lag"], " (the lag seam's producers "
                              "left it a batch behind)"
                              if res["lag_guest"] else ""))
        for p in sorted(res.get("resume", {})):
            r, a, g, s, d = res["resume"][p]
            first = run.opened.get(p, (0, r + 1))[1]
            got = ver.reads["pre"][p]
            log("    producer %d: nvmsg_send returned 0 for messages %d..%d "
                "(the host saw each SENT line)" % (p, first, s))
            log("      the consumer had viewed up to %d and acked up to %d "
                "(the last ACK line the host saw)" % (g, a))
            if r > a:
                log("      its ack up to %d was durable, though the host "
                    "never saw those ACK lines before the cut" % r)
            if got:
                log("      after the power cut, before any repair, it "
                    "resumed after %d and received %d..%d: %d messages, "
                    "each once, in order (so did another uid, and the "
                    "read after repair)"
                    % (r, got[0][0], got[-1][0], len(got)))
            else:
                log("      after the power cut it had nothing left to "
                    "receive: its durable ack covered all up to %d" % r)
            log("      nvmsg_producer_committed() says seq %s: message %d "
                "is the last one that committed" %
                (ver.committed.get(p), d))
            if d > s:
                log("      (%s committed too: its send was under way when "
                    "the power went, or its SENT line died with the guest)"
                    % ("message %d" % d if d == s + 1 else
                       "messages %d..%d" % (s + 1, d)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--guest", required=True, help="the pc_guest binary")
    ap.add_argument("--lag-guest", help="pc_guest_lag: pc_guest on the "
                    "library built with NV_SEAM_PUB_LAG (pub_tail stored "
                    "one batch late), run by the cuts --lag-cuts names")
    ap.add_argument("--lag-cuts", default="dax",
                    help="comma list of DAX cuts (fsdax-2,devdax-1) that "
                    "run --lag-guest, or dax for all (the default); one of "
                    "them must leave lag records")
    ap.add_argument("--work", required=True,
                    help="scratch directory (in the build tree)")
    ap.add_argument("--kernel-dir", help="where the extracted guest kernel "
                    "is cached (default: WORK/../kernel)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--fsdax", type=int, default=3, help="cuts on fsdax")
    ap.add_argument("--devdax", type=int, default=1, help="cuts on devdax")
    ap.add_argument("--volatile", type=int, default=1,
                    help="control cuts on the volatile tier (a tmpfs)")
    ap.add_argument("--msync", type=int, default=1,
                    help="control cuts on the msync tier (a virtio disk)")
    ap.add_argument("--accel", choices=["auto", "tcg", "kvm"],
                    default="auto")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--min-sends", type=int, default=300)
    ap.add_argument("--max-sends", type=int, default=900)
    ap.add_argument("--min-each", type=int, default=50,
                    help="sends seen of every producer before a cut")
    ap.add_argument("--min-unacked", type=int, default=0,
                    help="sends seen but not acked before a cut")
    ap.add_argument("--consumer-pause-ms", type=int, default=0,
                    help="the consumer sleeps this long after each ack")
    ap.add_argument("--max-delay", type=float, default=0.25,
                    help="seconds of random delay after the target")
    ap.add_argument("--count", type=int, default=1000000,
                    help="messages per producer per boot (an upper bound)")
    ap.add_argument("--nvdimm-size", default="256M")
    ap.add_argument("--boot-timeout", type=int, default=240)
    ap.add_argument("--verbose", action="store_true",
                    help="echo the guest's console")
    ap.add_argument("--expect-fail", action="store_true",
                    help="the guest runs a mutant library: pass only if "
                    "every cut's verify boot gives the data verdict LOSS "
                    "or DAMAGED (a failure of the rig does not count)")
    ap.add_argument("--explain", action="store_true",
                    help="say in words what survived each cut")
    a = ap.parse_args()
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(4), "little")
    start = time.monotonic()
    log("powercut: seed %d (--seed %d replays the choices)" %
        (a.seed, a.seed))
    rig = Rig(a)
    rc = rig.prepare()
    if rc:
        return rc
    rig.choose_accel()
    results = []
    plan = [("fsdax", a.fsdax), ("devdax", a.devdax), ("tmpfs", a.volatile),
            ("disk", a.msync)]
    for store, n in plan:
        if n > 0:
            log("%s: %d cut%s" % (store, n, "s" if n > 1 else ""))
            rig.scenario(store, n, results)
    log("")
    log("cut                   tier      sends-seen  recovered  lag  verdict")
    for r in results:
        log("%-21s %-9s %10d %10d %4s  %s%s" %
            ("%s-%d%s" % (r["store"], r["cut"],
                          " (cannot fail)" if r["tier"] == "volatile" else
                          " (control)" if r["control"] else
                          " (lag seam)" if r["lag_guest"] else ""),
             r["tier"], r["sent"], r["recovered"],
             "-" if r["lag"] is None else r["lag"],
             r.get("verdict", "FAIL"),
             "" if not r["why"] else ": " + r["why"][0]))
    # the summary counts the DAX cuts; a run without any, the msync ones
    dax = [r for r in results if r["store"] in ("fsdax", "devdax")] or \
        [r for r in results if r["tier"] == "msync"]
    ok = all(r.get("verdict") in ("PASS", "LOST (as it must)")
             for r in results)
    want = sum(n for _, n in plan)
    if a.expect_fail:
        # a mutant: each cut's verify boot must find the data lost or
        # damaged; a boot or rig failure says nothing about the checker
        caught = [r for r in results if r["data"] in ("LOSS", "DAMAGED")]
        ok = len(results) == want and len(caught) == want
        log("mutant caught in %d of %d cuts (data verdicts: %s)%s" % (
            len(caught), want,
            ", ".join(r["data"] or "none" for r in results) or "none",
            "" if ok else ": the test has no teeth here"))
    elif len(results) != want:
        ok = False
        log("only %d of %d cuts ran" % (len(results), want))
    log("lag records (read before repair, past pub_tail): %s" % (
        ", ".join("%s-%d%s: %s" % (r["store"], r["cut"],
                                   " (seam)" if r["lag_guest"] else "",
                                   "-" if r["lag"] is None else r["lag"])
                  for r in results if r["tier"] != "volatile") or "none"))
    if any(r["lag_guest"] for r in results) and not a.expect_fail:
        # the lag seam must have left records past pub_tail in a DAX cut
        # that ran to its verdict, or the reader was not put to the test
        dx = [r for r in results if r["store"] in ("fsdax", "devdax")]
        if max([r["lag"] or 0 for r in dx] + [0]) == 0:
            ok = False
            missed = sum(r.get("past_pub", 0) for r in dx)
            log("FAIL: no DAX cut's read before repair found records past "
                "pub_tail: %s" % (
                    "repair published %d, which the reader missed" % missed
                    if missed else "the rig did not exercise the lag"))
    log("powercut: %s in %.0f s (%s), phantom: %d" % (
        "PASS" if ok else "FAIL", time.monotonic() - start, rig.accel,
        sum(r["phantom"] for r in dax)))
    log("cuts: %d, acked-sent: %d, lost: %d, duplicated: %d, reordered: %d"
        % (len(dax), sum(r["sent"] for r in dax),
           sum(r["lost"] for r in dax),
           sum(r["duplicated"] for r in dax),
           sum(r["reordered"] for r in dax)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
