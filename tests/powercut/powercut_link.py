#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""powercut_link.py -- power cuts at either end of an nvmsgd link.

Issue 13, proof 2 ("Power cut at either end"): a link forwards channel
`orders` between the host and a QEMU guest whose channel lives on an
emulated NVDIMM (fsdax, ext4 -o dax, tier pmem), as in powercut.py, whose
machinery this script imports (Boot, Rig: packages, kernel, initramfs,
QEMU's command line).  The guest reaches the host only through a hostfwd
port of QEMU's user networking (-netdev user,restrict=on: the host dials
in, the guest never dials out).  Every message is pc_link's (pc_link.c):
message <seq> of origin producer <p> is a payload derived from (p, seq),
checked byte for byte wherever it is read.

A. The receiver in the guest.  The guest's nvmsgd listens and receives
   into `orders` (pmem); at its first boot the guest creates that channel
   and registers consumer `verify`, which never acks, so it holds every
   message the channel ever got.  On the host, a sender nvmsgd forwards a
   host channel (volatile, on /dev/shm) that a host producer (pc_link
   produce) feeds at a steady rate.  While messages flow, QEMU gets
   SIGKILL (the power cut); the host sender keeps running and reconnects
   by itself.  Once the link is down, `pc_link released` reads how far
   the sender's link consumer's durable ack reaches: the messages the
   sender RELEASED, which it will never send again.  The guest boots on
   the same NVDIMM and, before nvmsgd starts, dumps what `verify` holds:
   each released message must be there exactly once, in order, and no
   message may be missing below the highest one held.  After the last
   cut the producer stops, the link drains, every message sent must be
   released and, after one more boot, in the guest exactly once.
B. The sender in the guest.  Guest producers (slots 0 and 1 of a pmem
   channel) send at a steady rate; they record nothing: at each boot
   nvmsg_producer_committed() of their slot says which sends succeeded
   (OPEN lines), and they go on from there.  The guest's nvmsgd offers
   the channel; the host's receiver (msync, in the build tree) dials it
   through the forwarded port (--pull).  After each cut the host dumps
   its channel (consumer `verify`, registered before the first message):
   nothing twice, in order, and nothing past what the guest's slots say
   committed after the reboot.  At the end every message up to each
   producer's committed number is at the host exactly once.
C. Controls, which must show LOSS (the test fails if they do not): the
   receiver of A with its channel on a tmpfs (tier volatile, allowed
   with --allow-volatile at both ends: the channel is gone after the cut),
   and the receiver nvmsgd-mutant-ackearly on pmem, which acknowledges a
   message when it arrives and appends it up to 200 ms later: cut after
   1.5 s of steady flow, at once when the sender's ack was seen to move.
   A cut can still fall just after the mutant's append, when everything
   released is held (a few percent: the window is the ACK's way back);
   so the mutant gets up to 3 cuts, and must lose messages in one.

Last line:
  power cuts: N, released: R, lost: 0, duplicated: 0
N: the cuts of A and B made while messages flowed; R: the messages
released over the link at the end of A and B (all of them checked in the
receiving channel); lost and duplicated: summed over every check of A and
B.  Exit 0 when all passed, 1 if not, 77 (skip) only when not root,
something is missing and NVMSG_CI is unset (powercut.py's rule).
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from powercut import Boot, Rig, cannot_run, log  # noqa: E402

CH = "orders"
CAPACITY = 4 << 20  # per slot: a consumer that never acks keeps all
GUEST_PORT = 7450


class Fail(RuntimeError):
    """The rig failed (a boot, a daemon, a timeout): no data verdict."""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_dump(lines):
    """pc_link dump's lines -> dict, or None when no DUMPEND/NOCHANNEL."""
    d = {"nochannel": False, "slots": {}, "runs": [], "count": None,
         "bad": []}
    for line in lines:
        w = line.split()
        if not w:
            continue
        if w[0] == "NOCHANNEL":
            d["nochannel"] = True
        elif w[0] == "SLOT" and len(w) == 5:
            d["slots"][int(w[1])] = (w[2], int(w[3]), int(w[4]))
        elif w[0] == "RUN" and len(w) == 5:
            d["runs"].append(tuple(int(x) for x in w[1:]))
        elif w[0] == "DUMPEND":
            d["count"] = int(w[1].split("=")[1])
        elif w[0] in ("DAMAGED", "BAD"):
            d["bad"].append(line)
    if d["bad"]:
        return d
    return d if d["nochannel"] or d["count"] is not None else None


def held(dump):
    """Seqs per origin producer, in the order viewed."""
    out = {}
    for _, oprod, a, b in dump["runs"]:
        out.setdefault(oprod, []).extend(range(a, b + 1))
    return out


def judge(dump, released=None, committed=None, total=None):
    """Check a dump.  RELEASED {oprod: upto}: seqs 1..upto must be held;
    COMMITTED {oprod: c}: nothing above c may be held; TOTAL {oprod: n}:
    exactly 1..n held.  Returns (lost, dup, problems)."""
    lost = dup = 0
    problems = []
    if dump["bad"]:
        return 0, 0, ["the dump found bad bytes: " + dump["bad"][0]]
    if dump["nochannel"]:
        n = sum((released or {}).values()) + sum((total or {}).values())
        return n, 0, ["the receiving channel is gone (%d released "
                      "messages with it)" % n] if n else []
    h = held(dump)
    # every slot holds forwarded messages of one origin channel
    uuids = {u for u, _, _ in dump["slots"].values()}
    if len(uuids) > 1:
        problems.append("slots of %d origin channels" % len(uuids))
    local = [s for s, (_, _, f) in dump["slots"].items() if not f]
    if local:
        problems.append("slot %d holds messages but is not a forwarded "
                        "slot" % local[0])
    want = {}
    for src in (released or {}), (total or {}):
        for p, n in src.items():
            want[p] = max(want.get(p, 0), n)
    for p in sorted(set(h) | set(want)):
        seqs = h.get(p, [])
        s = set(seqs)
        d = len(seqs) - len(s)
        if d:
            dup += d
            problems.append("origin producer %d: %d messages held twice"
                            % (p, d))
        back = sum(1 for i in range(1, len(seqs)) if seqs[i] < seqs[i - 1])
        if back:
            problems.append("origin producer %d: %d messages out of order"
                            % (p, back))
        top = max([want.get(p, 0)] + seqs)
        miss = sorted(set(range(1, top + 1)) - s)
        if miss:
            lost += len(miss)
            problems.append("origin producer %d: %d messages missing, the "
                            "first %d (%s)" % (
                                p, len(miss), miss[0],
                                "released" if miss[0] <= want.get(p, 0)
                                else "below one held"))
        if committed is not None and seqs and max(seqs) > committed.get(p, 0):
            problems.append("origin producer %d: seq %d held, but the slot "
                            "says %d committed (a phantom)" %
                            (p, max(seqs), committed.get(p, 0)))
        if total is not None and p in total and max(seqs + [0]) > total[p]:
            problems.append("origin producer %d: seq %d held, only %d sent"
                            % (p, max(seqs), total[p]))
    return lost, dup, problems


class GuestObs:
    """What a link boot's guest printed on its console."""

    def __init__(self):
        self.dump_lines = []
        self.dump = None
        self.opened = {}
        self.done = {}
        self.ready = False
        self.halted = False
        self.bad = []
        self.daemon = []

    def feed(self, line):
        w = line.split()
        if not w:
            return
        tag = w[0]
        if tag in ("SLOT", "RUN", "DUMPEND", "NOCHANNEL") or (
                tag in ("DAMAGED", "BAD") and self.dump is None):
            self.dump_lines.append(line)
            if tag in ("DUMPEND", "NOCHANNEL", "DAMAGED", "BAD"):
                self.dump = parse_dump(self.dump_lines)
            if tag in ("DAMAGED", "BAD"):
                self.bad.append(line)
        elif tag == "OPEN" and len(w) == 3:
            self.opened[int(w[1])] = int(w[2])
        elif tag in ("DONE", "STOPPED") and len(w) == 3:
            self.done[int(w[1])] = int(w[2])
        elif tag in ("DAMAGED", "BAD"):
            self.bad.append(line)
        elif tag == "PC" and len(w) > 1:
            if w[1] == "READY":
                self.ready = True
            elif w[1] == "HALT":
                self.halted = True
            elif w[1] == "FAIL":
                self.bad.append(line)
        elif tag.startswith("nvmsgd["):
            self.daemon.append(line)


T0 = time.monotonic()  # the host clock of every log line: seconds since


def stamp():
    return "%9.3f" % (time.monotonic() - T0)


class HostProc:
    """A host process whose stderr (and stdout, unless STDOUT) goes to
    LOGPATH, each line stamped with the host clock (stamp())."""

    def __init__(self, name, argv, logpath, stdout=None):
        self.name, self.argv, self.logpath = name, argv, logpath
        self.log = open(logpath, "a")
        self.log.write("# " + " ".join(argv) + "\n")
        self.log.flush()
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=stdout or subprocess.PIPE,
                                  stderr=subprocess.STDOUT if not stdout
                                  else subprocess.PIPE)
        self.stopping = False
        self.t = threading.Thread(target=self._copy, daemon=True)
        self.t.start()

    def _copy(self):
        src = self.p.stderr or self.p.stdout
        for raw in iter(src.readline, b""):
            self.log.write("%s %s\n" % (stamp(), raw.decode(
                errors="replace").rstrip()))
            self.log.flush()

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.stopping = True
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise Fail("%s did not stop on %s" % (self.name, sig))
        self.t.join(5)
        self.log.close()
        return self.p.returncode

    def tail(self, n=8):
        try:
            with open(self.logpath) as f:
                return [x.rstrip() for x in f.readlines()[-n:]]
        except OSError:
            return []


class LinkRig:
    def __init__(self, a, rig):
        self.a = a
        self.rig = rig
        self.rng = rig.rng
        self.work = rig.work
        self.logs = rig.logs
        self.procs = []

    # ------------------------------------------------------------ host

    def run(self, argv, what):
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           timeout=60)
        if r.returncode != 0:
            raise Fail("%s failed (exit %d): %s" % (
                what, r.returncode, r.stdout.strip()[-400:]))
        return r.stdout

    def create(self, d, tier, producers, consumers=()):
        out = self.run([self.a.pc_link, "create", d, CH, tier,
                        str(CAPACITY), str(producers), *consumers],
                       "pc_link create %s" % d)
        if not out.startswith("CREATED"):
            raise Fail("pc_link create: " + out)

    def stat(self, d):
        return json.loads(self.run([self.a.cli, "--dir", d, "stat", CH,
                                    "--json"], "nvmsg stat"))

    def released(self, d, consumer):
        out = self.run([self.a.pc_link, "released", d, CH, consumer],
                       "pc_link released")
        rel, exact = {}, True
        for line in out.splitlines():
            w = line.split()
            if w and w[0] == "RELEASED":
                rel[int(w[1])] = int(w[2])
                exact = exact and w[3] == "1"
        return rel, exact

    def host_dump(self, d, consumer="verify"):
        out = self.run([self.a.pc_link, "dump", d, CH, consumer],
                       "pc_link dump")
        dump = parse_dump(out.splitlines())
        if dump is None:
            raise Fail("pc_link dump: no DUMPEND: " + out[-300:])
        return dump

    @staticmethod
    def status(d):
        """The link lines of DIR/nvmsgd.status, as dicts."""
        links = []
        try:
            with open(os.path.join(d, "nvmsgd.status")) as f:
                for line in f:
                    if line.startswith("link "):
                        links.append(dict(kv.split("=", 1) for kv in
                                          line.split()[1:] if "=" in kv))
        except OSError:
            pass
        return links

    def running(self, d):
        return any(x.get("state") == "running" for x in self.status(d))

    def daemon(self, name, d, *opts):
        p = HostProc(name, [self.a.nvmsgd, "--dir", d, "--plaintext",
                            "--backoff-max", "200ms",
                            # a connection that slirp accepted while the
                            # guest boots hangs until dead-after
                            "--heartbeat", "500ms", "--dead-after", "3s",
                            *opts],
                     os.path.join(self.logs, name + ".log"))
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            try:
                p.stop()
            except Fail:
                pass
        self.procs = []

    # ------------------------------------------------------------ guest

    def images(self, tag, nvdimm=True):
        d = os.path.join(self.work, tag)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        files = {}
        if nvdimm:
            files["nvdimm"] = os.path.join(d, "nvdimm.img")
            subprocess.check_call(["truncate", "-s", self.a.nvdimm_size,
                                   files["nvdimm"]])
        return d, files

    def boot(self, tag, store, files, hostport, **params):
        extra = " ".join("pc_%s=%s" % kv for kv in params.items())
        argv = self.rig.qemu(self.rig.accel, "link", store, extra, files)
        # user networking, isolated (restrict=on): only the host's
        # connections to the forwarded port reach the guest
        argv += ["-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:"
                 "%d-:%d" % (hostport, GUEST_PORT),
                 "-device", "virtio-net-pci,netdev=n0"]
        b = Boot(argv, os.path.join(self.logs, tag + ".log"), (),
                 self.a.verbose)
        # the lines below count from here; the host logs from T0
        b.log.write("# host clock at the start: %s\n" % stamp())
        return b, GuestObs()

    def pump(self, b, o, secs):
        """Read the guest's console for SECS (or until it ends); check
        that the host's processes still run."""
        for line in b.lines(time.monotonic() + secs):
            o.feed(line)
        if o.bad:
            raise Fail("guest: " + "; ".join(o.bad[:3]))
        for p in self.procs:
            if not p.stopping and not p.alive():
                raise Fail("the host's %s exited (status %d) while it "
                           "should run; its log ends: %s" % (
                               p.name, p.p.returncode,
                               " | ".join(p.tail(4))))

    def wait_guest(self, b, o, cond, what, timeout=None):
        end = time.monotonic() + (timeout or self.a.boot_timeout)
        while not cond():
            if b.eof:
                raise Fail("the guest ended before %s (see %s)" %
                           (what, b.log.name))
            if time.monotonic() > end:
                raise Fail("no %s in %d s (see %s)" % (
                    what, timeout or self.a.boot_timeout, b.log.name))
            self.pump(b, o, 0.05)

    def cut(self, b, o):
        """SIGKILL (unless done), read what QEMU left, reap it; once."""
        if getattr(b, "reaped", False):
            return
        if b.killed_at is None and not b.eof:
            b.cut()
        for line in b.lines(time.monotonic() + 5):
            o.feed(line)
        b.finish()
        b.reaped = True

    def halt_boot(self, b, o):
        """A boot that ends by itself (pc_role=dump)."""
        self.wait_guest(b, o, lambda: b.eof, "the end of the dump boot")
        self.cut(b, o)
        if not o.halted:
            raise Fail("dump boot ended without PC HALT (%s)" % b.log.name)

    def link_down(self, d, what, timeout=15):
        end = time.monotonic() + timeout
        while self.running(d):
            if time.monotonic() > end:
                raise Fail("%s: the link still runs %d s after the cut" %
                           (what, timeout))
            time.sleep(0.05)
        time.sleep(0.1)

    # ------------------------------------------------------------ A, C

    def recv_in_guest(self, tag, cuts, store="fsdax", daemon="nvmsgd",
                      control=None):
        """The receiver in the guest, the sender on the host.  CONTROL:
        None (A: CUTS cuts, then the link completes), "tmpfs" or
        "mutant" (one cut, must show loss).  Returns a result dict."""
        res = {"tag": tag, "cuts": 0, "released": 0, "lost": 0, "dup": 0,
               "problems": [], "lines": [], "control": control}
        _, files = self.images(tag, nvdimm=store == "fsdax")
        hdir = tempfile.mkdtemp(prefix="pclink-%s-" % tag, dir="/dev/shm")
        hp = free_port()
        volatile = store == "tmpfs"
        try:
            self.create(hdir, "volatile", 2)
            sender = self.daemon("%s-sender" % tag, hdir, "--forward",
                                 "%s=127.0.0.1:%d" % (CH, hp),
                                 *(["--allow-volatile"] if volatile else []))
            # its link consumer is registered before the producer starts
            cons, end = None, time.monotonic() + 20
            while not cons:
                if time.monotonic() > end or not sender.alive():
                    raise Fail("the sender registered no link consumer: " +
                               " | ".join(sender.tail()))
                names = [c["name"] for c in self.stat(hdir)["consumers"]]
                cons = [n for n in names if n.startswith("link-")]
                time.sleep(0.05)
            if len(cons) != 1:
                raise Fail("link consumers: %s" % cons)
            cons = cons[0]
            prod = self.host_producer(tag, hdir)
            prev = None  # released {slot: upto} at the last cut
            for k in range(1, cuts + 2):
                final = k == cuts + 1
                if control and final:
                    break  # the dump boot below judges the last cut
                b, o = self.boot("%s-%d" % (tag, k), store, files, hp,
                                 role="recv", setup=int(k == 1),
                                 port=GUEST_PORT, daemon=daemon,
                                 dopts="--allow-volatile" if volatile
                                 else "")
                try:
                    if k > 1:
                        # before nvmsgd starts: what survived cut k-1
                        self.wait_guest(b, o, lambda: o.dump is not None,
                                        "the dump")
                        self.check_cut(res, prev, o.dump, k - 1)
                        if control and res["lost"]:
                            break  # the control lost messages: done
                    self.wait_guest(b, o, lambda: o.ready, "READY")
                    if final:
                        self.complete_a(res, b, o, hdir, cons, prod, tag)
                        break
                    flow = self.flow_then_cut(b, o, hdir, cons, tag,
                                              control == "mutant")
                    res["cuts"] += 1
                finally:
                    self.cut(b, o)
                # the link is down: no ACK can arrive any more, so the
                # link consumer's durable ack is final for this cut
                self.link_down(hdir, tag)
                prev, exact = self.released(hdir, cons)
                if not exact:
                    res["problems"].append("cut %d: the producer's "
                                           "messages were all released: "
                                           "not a cut while they flowed" % k)
                log("  %s cut %d: %.1f s into the boot, %s; the sender "
                    "had released %s" % (
                        tag, k, b.killed_at or 0, flow,
                        ", ".join("slot %d: 1..%d" % kv
                                  for kv in sorted(prev.items()))))
            if control and res["lost"]:
                return res
            # a boot that only dumps: after the control's last cut, or
            # after the last boot of A, which the link completed
            b, o = self.boot("%s-%s" % (tag, "final" if not control else
                                        "verify"), store, files, hp,
                             role="dump", setup=0)
            self.halt_boot(b, o)
            if control:
                self.check_cut(res, prev, o.dump, cuts)
                return res
            lost, dup, probs = judge(o.dump, total=res["total"])
            res["lost"] += lost
            res["dup"] += dup
            res["problems"] += ["end: " + p for p in probs]
            res["lines"].append(
                "end: the host producer sent %d, the sender released them "
                "all; after one more cut and boot the guest holds %d "
                "(%d lost, %d duplicated)" % (
                    sum(res["total"].values()), o.dump["count"] or 0,
                    lost, dup))
            log("    " + res["lines"][-1])
            return res
        finally:
            self.stop_all()
            shutil.rmtree(hdir, ignore_errors=True)

    def host_producer(self, tag, hdir):
        out = open(os.path.join(self.logs, "%s-producer.out" % tag), "w")
        p = HostProc("%s-producer" % tag,
                     [self.a.pc_link, "produce", hdir, CH, "0", "100000000",
                      str(self.a.rate), str(self.a.batch_pct)],
                     os.path.join(self.logs, "%s-producer.log" % tag), out)
        p.out = out.name
        self.procs.append(p)
        return p

    def est_released(self, hdir, cons):
        st = self.stat(hdir)
        pub = sum(p["next_seq"] - 1 for p in st["producers"])
        lag = [c["lag_messages"] for c in st["consumers"]
               if c["name"] == cons]
        return pub - (lag[0] if lag else 0)

    def flow_then_cut(self, b, o, hdir, cons, tag, mutant):
        """Wait until the link released TARGET messages in this boot, and
        was releasing at the last look, then cut (after a random delay,
        except for the mutant: at once, its acks are early, after 1.5 s of
        running, when the backlog of the boot has gone through).  Returns
        what was released in the boot."""
        target = self.rng.randint(self.a.min_flow, self.a.max_flow)
        delay = 0 if mutant else self.rng.uniform(0, self.a.max_delay)
        settle = 1.5 if mutant else 0
        end = time.monotonic() + self.a.boot_timeout
        base = last = since = None
        while True:
            self.pump(b, o, 0.03)
            if b.eof:
                raise Fail("the guest ended (see %s)" % b.log.name)
            if time.monotonic() > end:
                raise Fail("%s: the link released %s messages in %d s, "
                           "not %d; guest daemon: %s" % (
                               tag, (last or 0) - (base or 0),
                               self.a.boot_timeout, target,
                               " | ".join(o.daemon[-4:])))
            if not self.running(hdir):
                continue
            r = self.est_released(hdir, cons)
            if base is None:
                base = last = r
                since = time.monotonic()
                continue
            moving = r > last
            last = r
            if moving and r - base >= target and \
                    time.monotonic() - since >= settle:
                break
        if delay:
            self.pump(b, o, delay)
        self.cut(b, o)
        return "%d released in this boot when it was cut" % (last - base)

    def check_cut(self, res, released, dump, k):
        lost, dup, probs = judge(dump, released=released)
        res["released"] = sum(released.values())
        if res["control"]:
            res["lost"] = lost
            res["dup"] = dup
        else:
            res["lost"] += lost
            res["dup"] += dup
            res["problems"] += ["cut %d: %s" % (k, p) for p in probs]
        h = held(dump) if not dump["nochannel"] else {}
        res["lines"].append(
            "cut %d: released %s; after the reboot the guest holds %s: "
            "%d lost, %d duplicated" % (
                k, ", ".join("1..%d" % v for _, v in sorted(
                    released.items())) or "none",
                "no channel" if dump["nochannel"] else
                ", ".join("1..%d (%d messages)" % (max(v), len(v))
                          for _, v in sorted(h.items())) or "nothing",
                lost, dup))
        log("    " + res["lines"][-1])
        for p in probs:
            log("    %s: %s" % ("loss (as the control must)" if
                                res["control"] else "problem", p))

    def complete_a(self, res, b, o, hdir, cons, prod, tag):
        """A's last boot: stop the producer, let the link drain, check
        that the sender released everything it was given."""
        self.pump(b, o, 1.0)
        prod.stop()
        with open(prod.out) as f:
            words = f.read().split()
        if len(words) < 3 or words[-3] not in ("STOPPED", "DONE"):
            raise Fail("the host producer did not report its end: %s" %
                       " ".join(words[-6:]))
        total = int(words[-1])
        res["total"] = {0: total}
        # while the link runs, only read-only looks (nvmsg stat): the
        # link consumer's lag reaches 0
        end = time.monotonic() + self.a.boot_timeout
        while self.est_released(hdir, cons) < total:
            self.pump(b, o, 0.2)
            if time.monotonic() > end:
                raise Fail("%s: the link released %d of %d messages in %d "
                           "s" % (tag, self.est_released(hdir, cons), total,
                                  self.a.boot_timeout))
        # the last boot ends by a cut too, with nothing in flight; then
        # the exact reading
        self.cut(b, o)
        self.link_down(hdir, tag)
        rel, _ = self.released(hdir, cons)
        if rel != {0: total}:
            raise Fail("%s: released %s after the end, %d sent" %
                       (tag, rel, total))
        res["released"] = total
        log("  %s: the host producer sent %d; the link released them all"
            % (tag, total))

    # ------------------------------------------------------------ B

    def send_in_guest(self, tag, cuts):
        res = {"tag": tag, "cuts": 0, "released": 0, "lost": 0, "dup": 0,
               "problems": [], "lines": [], "control": None}
        wdir, files = self.images(tag)
        hdir = os.path.join(wdir, "host")
        os.makedirs(hdir)
        hp = free_port()
        K, N = self.a.guest_producers, self.a.guest_count
        try:
            self.create(hdir, "msync", 4, ["verify"])
            self.daemon("%s-receiver" % tag, hdir, "--pull",
                        "%s=127.0.0.1:%d" % (CH, hp))
            prev = None
            for k in range(1, cuts + 2):
                final = k == cuts + 1
                b, o = self.boot("%s-%d" % (tag, k), "fsdax", files, hp,
                                 role="send", setup=int(k == 1),
                                 port=GUEST_PORT, count=N,
                                 rate=self.a.final_rate if final else
                                 self.a.guest_rate, producers=K,
                                 batch=self.a.batch_pct)
                try:
                    self.wait_guest(b, o, lambda: len(o.opened) == K,
                                    "OPEN of %d producers" % K)
                    if prev is not None:
                        lost, dup, probs = judge(prev, committed=o.opened)
                        res["lost"] += lost
                        res["dup"] += dup
                        res["problems"] += ["cut %d: %s" % (k - 1, p)
                                            for p in probs]
                        h = held(prev)
                        line = ("cut %d: the host held %s; after the "
                                "reboot the slots say committed %s: %d "
                                "lost, %d duplicated%s" % (
                                    k - 1, ", ".join(
                                        "p%d 1..%d" % (p, max(v))
                                        for p, v in sorted(h.items())),
                                    ", ".join("p%d %d" % kv for kv in
                                              sorted(o.opened.items())),
                                    lost, dup,
                                    "" if not probs else ": " + probs[0]))
                        res["lines"].append(line)
                        log("    " + line)
                    self.wait_guest(b, o, lambda: o.ready, "READY")
                    if final:
                        self.complete_b(res, b, o, hdir, tag)
                        break
                    self.flow_then_cut_b(b, o, hdir, tag)
                    res["cuts"] += 1
                finally:
                    self.cut(b, o)
                self.link_down(hdir, tag)
                prev = self.host_dump(hdir)
                log("  %s cut %d: %.1f s into the boot, the host holds %s"
                    % (tag, k, b.killed_at or 0, ", ".join(
                        "p%d: %d" % (p, len(v))
                        for p, v in sorted(held(prev).items()))))
            return res
        finally:
            self.stop_all()

    def host_held(self, hdir):
        st = self.stat(hdir)
        return sum(p["next_seq"] - 1 for p in st["producers"])

    def flow_then_cut_b(self, b, o, hdir, tag):
        target = self.rng.randint(self.a.min_flow, self.a.max_flow)
        delay = self.rng.uniform(0, self.a.max_delay)
        end = time.monotonic() + self.a.boot_timeout
        base = last = None
        while True:
            self.pump(b, o, 0.03)
            if b.eof:
                raise Fail("the guest ended (see %s)" % b.log.name)
            if time.monotonic() > end:
                raise Fail("%s: the host received %s messages in %d s, "
                           "not %d; guest daemon: %s" % (
                               tag, (last or 0) - (base or 0),
                               self.a.boot_timeout, target,
                               " | ".join(o.daemon[-4:])))
            if len(o.done) == self.a.guest_producers:
                raise Fail("%s: the guest producers finished before the "
                           "cut: raise --guest-count" % tag)
            if not self.running(hdir):
                continue
            r = self.host_held(hdir)
            if base is None:
                base = last = r
                continue
            moving = r > last
            last = r
            if moving and r - base >= target:
                break
        if delay:
            self.pump(b, o, delay)
        self.cut(b, o)

    def complete_b(self, res, b, o, hdir, tag):
        K, N = self.a.guest_producers, self.a.guest_count
        self.wait_guest(b, o, lambda: len(o.done) == K,
                        "DONE of %d producers" % K)
        total = dict(o.done)
        if set(total.values()) != {N}:
            raise Fail("%s: the guest producers ended at %s, not %d" %
                       (tag, total, N))
        end = time.monotonic() + self.a.boot_timeout
        while self.host_held(hdir) < sum(total.values()):
            self.pump(b, o, 0.2)
            if time.monotonic() > end:
                raise Fail("%s: the host holds %d of %d messages after %d s"
                           % (tag, self.host_held(hdir), sum(total.values()),
                              self.a.boot_timeout))
        dump = self.host_dump(hdir)
        lost, dup, probs = judge(dump, total=total)
        res["lost"] += lost
        res["dup"] += dup
        res["problems"] += ["end: " + p for p in probs]
        res["released"] = sum(total.values())
        res["total"] = total
        line = ("end: the guest producers sent %s (their last send "
                "returned 0); the host holds %d (%d lost, %d duplicated)" %
                (", ".join("p%d 1..%d" % kv for kv in sorted(total.items())),
                 dump["count"], lost, dup))
        res["lines"].append(line)
        log("    " + line)
        self.cut(b, o)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--guest", required=True,
                    help="pc_guest (mkinitramfs.sh wants it)")
    ap.add_argument("--pc-link", required=True, help="the pc_link binary")
    ap.add_argument("--nvmsgd", required=True)
    ap.add_argument("--mutant", required=True,
                    help="nvmsgd-mutant-ackearly")
    ap.add_argument("--cli", required=True, help="the nvmsg command")
    ap.add_argument("--work", required=True)
    ap.add_argument("--kernel-dir")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--cuts-a", type=int, default=3,
                    help="cuts with the receiver in the guest")
    ap.add_argument("--cuts-b", type=int, default=3,
                    help="cuts with the sender in the guest")
    ap.add_argument("--controls", default="tmpfs,mutant",
                    help="comma list of controls (tmpfs, mutant) or none")
    ap.add_argument("--rate", type=int, default=150,
                    help="host producer: messages a second")
    ap.add_argument("--guest-rate", type=int, default=100,
                    help="each guest producer: messages a second")
    ap.add_argument("--guest-count", type=int, default=2500,
                    help="messages of each guest producer")
    ap.add_argument("--final-rate", type=int, default=1000,
                    help="each guest producer in B's last boot, after the "
                    "cuts")
    ap.add_argument("--guest-producers", type=int, default=2)
    ap.add_argument("--batch-pct", type=int, default=20,
                    help="sends that start an NVMSG_MORE batch, percent")
    ap.add_argument("--min-flow", type=int, default=150,
                    help="messages across the link in a boot before a cut")
    ap.add_argument("--max-flow", type=int, default=500)
    ap.add_argument("--max-delay", type=float, default=0.3)
    ap.add_argument("--accel", choices=["auto", "tcg", "kvm"],
                    default="auto")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--nvdimm-size", default="256M")
    ap.add_argument("--boot-timeout", type=int, default=120)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    a.lag_guest = None
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(4), "little")
    start = time.monotonic()
    log("powercut_link: seed %d (--seed %d replays the choices)" %
        (a.seed, a.seed))
    for path in (a.pc_link, a.nvmsgd, a.mutant, a.cli, a.guest):
        if not os.access(path, os.X_OK):
            return cannot_run("%s is not built" % path, 1)
    if not os.path.isdir("/dev/shm"):
        return cannot_run("no /dev/shm for the host channel", 77)
    rig = Rig(a)
    rig.initramfs_opts = ["--net", "--bin", a.pc_link + "=pc_link",
                          "--bin", a.nvmsgd + "=nvmsgd",
                          "--bin", a.mutant + "=nvmsgd-mutant-ackearly",
                          "--bin", a.cli + "=nvmsg"]
    rc = rig.prepare()
    if rc:
        return rc
    rig.choose_accel()
    lr = LinkRig(a, rig)
    results = []
    plan = [("A", "receiver in the guest (pmem), sender on the host",
             lambda: lr.recv_in_guest("A", a.cuts_a))] if a.cuts_a else []
    if a.cuts_b:
        plan.append(("B", "sender in the guest (pmem), receiver on the "
                     "host dials it", lambda: lr.send_in_guest("B",
                                                               a.cuts_b)))
    ctl = [c for c in a.controls.split(",") if c and c != "none"]
    if "tmpfs" in ctl:
        plan.append(("C1", "control: the guest's receiving channel on a "
                     "tmpfs (volatile)", lambda: lr.recv_in_guest(
                         "C1", 1, store="tmpfs", control="tmpfs")))
    if "mutant" in ctl:
        plan.append(("C2", "control: nvmsgd-mutant-ackearly receives in "
                     "the guest (pmem)", lambda: lr.recv_in_guest(
                         "C2", 3, daemon="nvmsgd-mutant-ackearly",
                         control="mutant")))
    ok = True
    for tag, what, fn in plan:
        log("%s: %s" % (tag, what))
        t = time.monotonic()
        try:
            res = fn()
        except (Fail, subprocess.TimeoutExpired, OSError) as e:
            log("  %s: FAIL (the rig, no data verdict): %s" % (tag, e))
            res = {"tag": tag, "fail": str(e), "cuts": 0, "released": 0,
                   "lost": 0, "dup": 0, "problems": [], "lines": [],
                   "control": None}
            ok = False
        res["secs"] = time.monotonic() - t
        results.append(res)
        if res.get("fail"):
            continue
        if res["control"]:
            res["verdict"] = ("LOSS (as it must)" if res["lost"] > 0 else
                              "FAIL: no loss, the test has no teeth here")
            ok = ok and res["lost"] > 0
        else:
            bad = res["lost"] or res["dup"] or res["problems"]
            res["verdict"] = "FAIL" if bad else "PASS"
            ok = ok and not bad
            for p in res["problems"]:
                log("  problem: " + p)
        log("  %s -> %s [%.0f s]" % (tag, res["verdict"], res["secs"]))
    log("")
    for r in results:
        if r["control"]:
            log("control %s: released %d before the cut, %d lost: %s" % (
                r["tag"], r["released"], r["lost"],
                r.get("verdict", "FAIL (the rig)")))
    main_runs = [r for r in results if not r["control"]]
    want = (1 if a.cuts_a else 0) + (1 if a.cuts_b else 0)
    if len([r for r in main_runs if not r.get("fail")]) != want:
        ok = False
    log("powercut_link: %s in %.0f s (%s)" % (
        "PASS" if ok else "FAIL", time.monotonic() - start, rig.accel))
    log("power cuts: %d, released: %d, lost: %d, duplicated: %d" % (
        sum(r["cuts"] for r in main_runs),
        sum(r["released"] for r in main_runs),
        sum(r["lost"] for r in main_runs),
        sum(r["dup"] for r in main_runs)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
