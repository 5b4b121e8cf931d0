#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""t_link_torture.py -- the kill torture of nvmsgd's links (issue 13, I4).

A sender daemon forwards channel `orders` (volatile, on /dev/shm) through a
fault-injecting TCP proxy (faultproxy.py: resets, stalls, half-closes) to a
receiver daemon whose channel (msync tier) had a consumer `verify`
registered before anything was sent.  Several `nvmsg send` producers send
numbered messages "p<K> <i>" on slot K (the line i becomes sequence i of
slot K).  Meanwhile the test SIGKILLs either daemon at random and restarts
it.  When the kills are done and every producer has exited 0, everything
must arrive: `verify` reads the receiving channel and the test checks that
each (K, i) is there exactly once, that each origin slot's sequence numbers
increase, that the sequence is the line number, and that every slot's
origin is the sender channel's producer K.

Last line:
  daemon kills: N, link cuts: M, forwarded: F, lost: L, duplicated: D,
  reordered: R
Exit 0 when L, D and R are 0 and the kill and cut counts reached their
minimums; 1 otherwise.  With --expect lost|duplicated (the mutant daemons
of daemon/CMakeLists.txt) it exits 0 only when that count is not 0: the
control that shows the checker sees what it claims to.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


def log(*a):
    print("t_link_torture:", *a, flush=True)


def wait_file(path, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        time.sleep(0.01)
    raise SystemExit("t_link_torture: FAIL: %s never appeared" % path)


class Daemon:
    def __init__(self, name, argv, logpath):
        self.name, self.argv, self.logpath = name, argv, logpath
        self.p = None
        self.kills = 0

    def start(self):
        self.p = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                  stderr=open(self.logpath, "a"))

    def kill(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self.kills += 1

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                rc = self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                raise SystemExit("t_link_torture: FAIL: %s did not stop "
                                 "on SIGTERM" % self.name)
            if rc != 0:
                raise SystemExit("t_link_torture: FAIL: %s exited %d on "
                                 "SIGTERM (log %s)" % (self.name, rc,
                                                       self.logpath))


def run(a):
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="nvmsg-net-", dir="/dev/shm")
    sdir, rdir = os.path.join(work, "s"), os.path.join(work, "r")
    os.mkdir(sdir)
    os.mkdir(rdir)
    nv = a.nvmsg

    def cli(*args, **kw):
        return subprocess.run([nv] + list(args), check=True,
                              stdout=subprocess.PIPE, **kw)

    # the channels: the sender's small, so that it fills while the link
    # is down and the producers block (back-pressure, never loss)
    cli("create", "orders", "--dir", sdir, "--tier", "volatile",
        "--capacity", str(a.capacity), "--producers", str(a.producers))
    cli("create", "orders", "--dir", rdir, "--tier", "msync",
        "--producers", "64")
    # verify is registered before anything is sent (it sees everything)
    cli("recv", "orders", "--dir", rdir, "--consumer", "verify",
        "--timeout-ms", "0")
    common = ["--plaintext", "--backoff-max", "200ms", "--dead-after", "3s",
              "--heartbeat", "300ms", "--spin", "0", "--poll", "200us"]
    rport_file = os.path.join(work, "rport")
    recv = Daemon("receiver", [a.nvmsgd, "--dir", rdir, "--listen",
                               "127.0.0.1:0", "--port-file", rport_file] +
                  common, os.path.join(work, "receiver.log"))
    recv.start()
    wait_file(rport_file)
    rport = open(rport_file).read().strip()
    recv.argv[recv.argv.index("127.0.0.1:0")] = "127.0.0.1:" + rport
    pport_file = os.path.join(work, "pport")
    stats = os.path.join(work, "proxy.json")
    proxy = subprocess.Popen(
        [sys.executable, a.proxy, "--listen", "127.0.0.1:0", "--target",
         "127.0.0.1:" + rport, "--seed", str(a.seed), "--fault-every-ms",
         a.fault_every, "--faults", "reset,stall,halfclose", "--stall-ms",
         "20:400", "--stats", stats, "--port-file", pport_file],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work,
                                                            "proxy.log"),
                                               "w"))
    wait_file(pport_file)
    pport = open(pport_file).read().strip()
    send = Daemon("sender", [a.nvmsgd, "--dir", sdir, "--forward",
                             "orders=127.0.0.1:" + pport] + common,
                  os.path.join(work, "sender.log"))
    send.start()
    # the link consumer must exist before the producers send
    end = time.time() + 10
    while time.time() < end:
        st = json.loads(cli("stat", "orders", "--dir", sdir,
                            "--json").stdout)
        if any(c["name"].startswith("link-") for c in st["consumers"]):
            break
        time.sleep(0.02)
    else:
        raise SystemExit("t_link_torture: FAIL: the sender never "
                         "registered its link consumer")

    # verify reads while the torture runs (a full receiving channel would
    # stop the whole pipeline: back-pressure, as designed)
    got = []
    stop_reading = threading.Event()

    def reader():
        while True:
            out = subprocess.run([nv, "recv", "orders", "--dir", rdir,
                                  "--consumer", "verify", "--json",
                                  "--timeout-ms", "300"],
                                 stdout=subprocess.PIPE, check=False)
            if out.returncode not in (0, 3):
                log("FAIL: recv exited %d" % out.returncode)
                got.append(None)
                return
            lines = out.stdout.decode().splitlines()
            got.extend(json.loads(x) for x in lines)
            if stop_reading.is_set() and not lines:
                return
    rt = threading.Thread(target=reader, daemon=True)
    rt.start()

    per = a.messages // a.producers
    prods = []
    for k in range(a.producers):
        p = subprocess.Popen([nv, "send", "orders", "--dir", sdir,
                              "--producer", str(k)],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        prods.append(p)
    # feed the producers from a thread-free loop: write in chunks
    feeds = [iter(range(1, per + 1)) for _ in range(a.producers)]
    t0 = time.time()
    next_kill = time.time() + rng.uniform(*a.kill_every)
    open_feeds = set(range(a.producers))
    os_set = {}
    for k, p in enumerate(prods):
        os.set_blocking(p.stdin.fileno(), False)
        os_set[k] = b""
    def cuts_so_far():
        try:
            return json.load(open(stats)).get("cuts", 0)
        except (OSError, ValueError):
            return 0
    # go on until every line is fed and both fault counts are reached
    while (open_feeds or recv.kills + send.kills < a.kills or
           cuts_so_far() < a.min_cuts):
        for k in list(open_feeds):
            if not os_set[k]:
                chunk = []
                for i in feeds[k]:
                    chunk.append("p%d %d\n" % (k, i))
                    if len(chunk) >= 256:
                        break
                if not chunk:
                    prods[k].stdin.close()
                    open_feeds.discard(k)
                    continue
                os_set[k] = "".join(chunk).encode()
            try:
                n = os.write(prods[k].stdin.fileno(), os_set[k])
                os_set[k] = os_set[k][n:]
            except BlockingIOError:
                pass
        if time.time() >= next_kill and recv.kills + send.kills < a.kills:
            d = rng.choice([recv, send])
            d.kill()
            time.sleep(rng.uniform(0, 0.05))
            d.start()
            next_kill = time.time() + rng.uniform(*a.kill_every)
        time.sleep(0.002)
        if time.time() - t0 > a.timeout:
            raise SystemExit("t_link_torture: FAIL: timed out feeding "
                             "the producers")
    for k, p in enumerate(prods):
        rc = p.wait(timeout=max(1, a.timeout - (time.time() - t0)))
        if rc != 0:
            raise SystemExit("t_link_torture: FAIL: producer %d exited %d"
                             % (k, rc))
    log("producers done: %d messages in %.1f s, %d daemon kills"
        % (per * a.producers, time.time() - t0, recv.kills + send.kills))
    # faults stop; let the link drain
    proxy.send_signal(signal.SIGTERM)
    proxy.wait(timeout=20)
    cuts = json.load(open(stats)).get("cuts", 0)
    proxy = subprocess.Popen(
        [sys.executable, a.proxy, "--listen", "127.0.0.1:" + pport,
         "--target", "127.0.0.1:" + rport], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    want = per * a.producers
    end = time.time() + a.drain
    while time.time() < end and len(got) < want:
        time.sleep(0.2)
    # a little longer: duplicates would arrive after the last message
    time.sleep(1.0)
    stop_reading.set()
    rt.join(timeout=30)
    if None in got:
        raise SystemExit("t_link_torture: FAIL: the verify reader failed")
    seen = {}
    order_bad = dup = 0
    last = {}
    forwarded = 0
    slots = {}
    for m in got:
        k, i = (int(x) for x in m["data"][1:].split())
        slot, seq = m["producer"], m["seq"]
        slots.setdefault(slot, set()).add(k)
        if seq != i:
            log("slot %d: sequence %d carries line %d of p%d"
                % (slot, seq, i, k))
            order_bad += 1
        if (k, i) in seen:
            dup += 1
        else:
            seen[(k, i)] = 1
            forwarded += 1
        if last.get(slot, 0) >= seq:
            order_bad += 1
        last[slot] = seq
    lost = want - forwarded
    for slot, ks in slots.items():
        if len(ks) != 1:
            log("slot %d holds several producers: %s" % (slot, sorted(ks)))
            order_bad += 1
    recv.stop()
    send.stop()
    proxy.send_signal(signal.SIGTERM)
    proxy.wait(timeout=20)
    kills = recv.kills + send.kills
    print("daemon kills: %d, link cuts: %d, forwarded: %d, lost: %d, "
          "duplicated: %d, reordered: %d"
          % (kills, cuts, forwarded, lost, dup, order_bad), flush=True)
    keep = False
    if a.expect == "pass":
        ok = (lost == 0 and dup == 0 and order_bad == 0 and
              kills >= a.kills and cuts >= a.min_cuts)
        if kills < a.kills or cuts < a.min_cuts:
            log("FAIL: too few faults (kills %d < %d or cuts %d < %d)"
                % (kills, a.kills, cuts, a.min_cuts))
    elif a.expect == "lost":
        ok = lost > 0
    else:
        ok = dup > 0
    if not ok:
        keep = True
        log("FAIL (expect %s); logs kept in %s" % (a.expect, work))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nvmsgd", required=True)
    ap.add_argument("--nvmsg", required=True)
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--producers", type=int, default=4)
    ap.add_argument("--capacity", type=int, default=262144)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--min-cuts", type=int, default=100)
    ap.add_argument("--kill-every", type=float, nargs=2,
                    default=[0.05, 0.25], metavar=("MIN", "MAX"))
    ap.add_argument("--fault-every", default="50:250")
    ap.add_argument("--seed", type=int,
                    default=int(os.environ.get("NVMSG_SEED",
                                               time.time() % 100000)))
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--drain", type=float, default=120)
    ap.add_argument("--expect", choices=["pass", "lost", "duplicated"],
                    default="pass")
    a = ap.parse_args()
    log("seed %d (rerun with --seed %d)" % (a.seed, a.seed))
    sys.exit(run(a))


if __name__ == "__main__":
    main()
