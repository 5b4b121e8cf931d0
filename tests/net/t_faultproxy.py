#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""t_faultproxy.py -- faultproxy.py alone, in front of an echo server (a
thread of this test) on 127.0.0.1.

  pass       1 MiB of random bytes each way on 3 connections at once:
             echoed unchanged, and the client's EOF comes back as EOF
  reset      --faults reset every 50..100 ms for ~3 s, the client
             reconnecting in a loop: it sees resets (never an EOF), and
             the stats' cuts cover the resets it saw
  stall      --faults stall: 1 MiB paced through, delayed (a gap of more
             than 80 ms) but byte for byte the same (SHA-256)
  halfclose  --faults halfclose: the client reads EOF, then the
             connection is reset (nothing stays half-open)
  usr1       SIGUSR1 resets every live connection (counted as resets)
  bounded    a target that does not read: the proxy stops reading too
             (its memory stays bounded); once the target reads, every
             byte arrives in order
  term       SIGTERM with a connection open: exit 0, final stats written
Exit 0 on pass, 1 on failure (the message says which check and why).
Usage: t_faultproxy.py [--proxy faultproxy.py] [check...]
"""
import argparse
import errno
import hashlib
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESETS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class Fail(Exception):
    pass


def log(*a):
    print("t_faultproxy:", *a, flush=True)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# --- servers (threads of this test) ----------------------------------------
class Server:
    """Listens on 127.0.0.1:0; handle(conn) runs in a thread per conn."""

    def __init__(self, handle):
        self.handle = handle
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.conns = []
        self.stopping = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stopping:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.run1, args=(c,), daemon=True).start()

    def run1(self, c):
        try:
            self.handle(c)
        except OSError:
            pass

    def stop(self):
        self.stopping = True
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def echo(c):
    """Echo until EOF, then pass the EOF back."""
    while True:
        data = c.recv(65536)
        if not data:
            c.shutdown(socket.SHUT_WR)
            return
        c.sendall(data)


# --- the proxy ---------------------------------------------------------------
class Proxy:
    def __init__(self, t, name, target, *extra):
        self.stats = os.path.join(t.work, name + ".json")
        pfile = os.path.join(t.work, name + ".port")
        self.logpath = os.path.join(t.work, name + ".log")
        self.p = subprocess.Popen(
            [sys.executable, t.proxy, "--listen", "127.0.0.1:0", "--target",
             "127.0.0.1:%d" % target, "--seed", str(t.seed), "--stats",
             self.stats, "--port-file", pfile] + list(extra),
            stdout=subprocess.DEVNULL, stderr=open(self.logpath, "w"))
        t.procs.append(self.p)
        end = time.time() + 10
        while not os.path.exists(pfile):
            check(self.p.poll() is None, "%s: the proxy exited %s at start "
                  "(log %s)" % (name, self.p.returncode, self.logpath))
            check(time.time() < end, "%s: no port file after 10 s" % name)
            time.sleep(0.01)
        txt = open(pfile).read()
        check(txt.endswith("\n") and txt.strip().isdigit(),
              "%s: port file holds %r" % (name, txt))
        self.port = int(txt)
        check(0 < self.port < 65536, "%s: port %d" % (name, self.port))
        check(os.path.exists(self.stats), "%s: no stats file at start" % name)

    def read_stats(self):
        with open(self.stats) as f:
            line = f.read()
        check(line.count("\n") == 1, "stats file is not one line: %r" % line)
        s = json.loads(line)
        for k in ("accepted", "reset", "stall", "halfclose", "cuts"):
            check(isinstance(s.get(k), int), "stats lack %r: %r" % (k, s))
        check(s["cuts"] == s["reset"] + s["halfclose"],
              "stats: cuts != reset + halfclose: %r" % s)
        return s

    def term(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise Fail("the proxy did not exit within 10 s of SIGTERM")
        check(rc == 0, "the proxy exited %d on SIGTERM (log %s)"
              % (rc, self.logpath))
        return self.read_stats()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def roundtrip(port, data, pace=None, gaps=None):
    """Send data through an echo and read it back; returns what came back.
    pace (chunk, seconds) paces the sender; gaps gets the longest pause
    between two receipts."""
    s = connect(port)
    err = []

    def sender():
        try:
            if pace:
                n, dt = pace
                for i in range(0, len(data), n):
                    s.sendall(data[i:i + n])
                    time.sleep(dt)
            else:
                s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    got = bytearray()
    last = None
    longest = 0.0
    s.settimeout(10)
    while True:
        chunk = s.recv(65536)
        now = time.monotonic()
        if not chunk:
            break
        if last is not None:
            longest = max(longest, now - last)
        last = now
        got += chunk
    th.join(10)
    s.close()
    if err:
        raise Fail("sender: %s" % err[0])
    if gaps is not None:
        gaps.append(longest)
    return bytes(got)


# --- the checks ----------------------------------------------------------------
def t_pass(t):
    px = Proxy(t, "pass", t.echo.port)
    datas = [random.Random(t.seed + i).randbytes(1 << 20) for i in range(3)]
    out = [None] * 3

    def one(i):
        try:
            out[i] = roundtrip(px.port, datas[i])
        except Exception as e:          # reported below
            out[i] = e
    ths = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(30)
    for i in range(3):
        check(not isinstance(out[i], Exception),
              "connection %d: %r" % (i, out[i]))
        check(out[i] == datas[i], "connection %d: %d bytes back of %d, "
              "first difference at %s" % (i, len(out[i]), len(datas[i]),
                                         next((k for k, (x, y) in enumerate(
                                             zip(out[i], datas[i]))
                                             if x != y), "the end")))
    s = px.term()
    check(s["accepted"] == 3 and s["cuts"] == 0 and s["stall"] == 0,
          "stats after 3 clean connections: %r" % s)
    return "3 x 1 MiB echoed unchanged, EOF passed on"


def t_reset(t):
    px = Proxy(t, "reset", t.echo.port, "--fault-every-ms", "50:100",
               "--faults", "reset")
    seen = connects = rounds = 0
    payload = b"x" * 4096
    end = time.monotonic() + 3.0
    s = None
    while time.monotonic() < end:
        if s is None:
            s = connect(px.port)
            connects += 1
        try:
            s.sendall(payload)
            got = 0
            while got < len(payload):
                chunk = s.recv(65536)
                check(chunk, "reset: the client read EOF; a reset must be "
                      "an RST (after %d resets)" % seen)
                got += len(chunk)
            rounds += 1
            time.sleep(0.005)
        except RESETS:
            seen += 1
            s.close()
            s = None
    if s is not None:
        s.close()
    st = px.term()
    check(seen > 0, "reset: the client saw no reset in 3 s (%d round "
          "trips)" % rounds)
    check(st["reset"] > 0 and st["cuts"] >= seen,
          "reset: the client saw %d resets, the stats say %r" % (seen, st))
    check(st["cuts"] <= seen + 2, "reset: the stats count %d cuts, the "
          "client saw only %d" % (st["cuts"], seen))
    check(st["halfclose"] == 0 and st["stall"] == 0,
          "reset: faults not asked for: %r" % st)
    check(seen <= st["accepted"] <= connects, "reset: %d accepted, %d "
          "connects, %d resets" % (st["accepted"], connects, seen))
    return "%d resets seen, stats %r, %d round trips" % (seen, st, rounds)


def t_stall(t):
    px = Proxy(t, "stall", t.echo.port, "--fault-every-ms", "100:200",
               "--faults", "stall", "--stall-ms", "100:200")
    data = random.Random(t.seed + 7).randbytes(1 << 20)
    gaps = []
    t0 = time.monotonic()
    got = roundtrip(px.port, data, pace=(32768, 0.03), gaps=gaps)
    took = time.monotonic() - t0
    st = px.term()
    check(len(got) == len(data) and hashlib.sha256(got).digest() ==
          hashlib.sha256(data).digest(), "stall: %d bytes back of %d, "
          "checksum %s" % (len(got), len(data),
                          "differs" if len(got) == len(data) else "-"))
    check(st["stall"] > 0 and st["cuts"] == 0, "stall: stats %r" % st)
    check(gaps[0] >= 0.08, "stall: %d stalls but no pause of 80 ms in the "
          "echo (longest %.0f ms)" % (st["stall"], gaps[0] * 1e3))
    return "1 MiB in %.2f s, %d stalls, longest pause %.0f ms, SHA-256 " \
        "equal" % (took, st["stall"], gaps[0] * 1e3)


def t_halfclose(t):
    px = Proxy(t, "halfclose", t.echo.port, "--fault-every-ms", "50:100",
               "--faults", "halfclose")
    n = 4
    after = []
    for k in range(n):
        s = connect(px.port)
        s.settimeout(0.02)
        eof = None
        end = time.monotonic() + 3
        while time.monotonic() < end:
            try:
                s.sendall(b"ping")
            except RESETS as e:
                raise Fail("halfclose: connection %d: %r before any EOF"
                           % (k, e))
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            except RESETS as e:
                raise Fail("halfclose: connection %d: %r before any EOF"
                           % (k, e))
            if not chunk:
                eof = time.monotonic()
                break
        check(eof is not None, "halfclose: connection %d: no EOF in 3 s"
              % k)
        # then the reset: the connection must not stay half-open
        reset = None
        while time.monotonic() < eof + 2:
            try:
                s.sendall(b"more")
                s.recv(4096)
            except socket.timeout:
                pass
            except RESETS:
                reset = time.monotonic()
                break
            time.sleep(0.01)
        s.close()
        check(reset is not None, "halfclose: connection %d stayed "
              "half-open for 2 s after its EOF" % k)
        after.append(reset - eof)
    st = px.term()
    check(st["halfclose"] >= n and st["reset"] == 0,
          "halfclose: %d EOFs seen, stats %r" % (n, st))
    return "%d connections read EOF, then were reset after %.0f..%.0f " \
        "ms; stats %r" % (n, min(after) * 1e3, max(after) * 1e3, st)


def t_usr1(t):
    px = Proxy(t, "usr1", t.echo.port)
    socks = [connect(px.port) for _ in range(3)]
    for s in socks:
        s.sendall(b"hello")
        check(s.recv(16) == b"hello", "usr1: no echo before the signal")
    px.p.send_signal(signal.SIGUSR1)
    for i, s in enumerate(socks):
        s.settimeout(5)
        try:
            r = s.recv(16)
            raise Fail("usr1: connection %d read %r, not a reset" % (i, r))
        except RESETS:
            pass
        except socket.timeout:
            raise Fail("usr1: connection %d not reset within 5 s" % i)
        s.close()
    # it still serves
    check(roundtrip(px.port, b"after") == b"after",
          "usr1: no echo after the signal")
    st = px.term()
    check(st["reset"] == 3 and st["accepted"] == 4, "usr1: stats %r" % st)
    return "3 connections reset at once; stats %r" % st


def t_bounded(t):
    reading = threading.Event()
    sink = {"n": 0, "h": hashlib.sha256(), "done": threading.Event()}

    def slow(c):
        reading.wait(30)
        while True:
            data = c.recv(1 << 20)
            if not data:
                break
            sink["n"] += len(data)
            sink["h"].update(data)
        sink["done"].set()
    srv = Server(slow)
    t.servers.append(srv)
    px = Proxy(t, "bounded", srv.port)
    time.sleep(0.2)
    rss0 = rss_kib(px.p.pid)
    s = connect(px.port)
    s.setblocking(False)
    block = random.Random(t.seed + 9).randbytes(1 << 16)
    h = hashlib.sha256()
    sent = 0
    cap = 96 << 20
    pend = b""
    while sent < cap:
        if not pend:
            pend = block[sent % 7:] + block[:sent % 7]
        try:
            n = s.send(pend)
            h.update(pend[:n])
            pend = pend[n:]
            sent += n
        except BlockingIOError:
            _, w, _ = select.select([], [s], [], 0.5)
            if not w:
                break
    rss1 = rss_kib(px.p.pid)
    check(sent < cap, "bounded: the proxy took %d MiB from the client while "
          "the target read nothing" % (sent >> 20))
    grow = (rss1 - rss0) / 1024.0
    check(grow < 16, "bounded: the proxy's memory grew by %.1f MiB" % grow)
    # now the target reads: everything arrives, in order
    reading.set()
    s.setblocking(True)
    if pend:
        s.sendall(pend)
        h.update(pend)
        sent += len(pend)
    s.shutdown(socket.SHUT_WR)
    check(sink["done"].wait(20), "bounded: the target got %d of %d bytes "
          "after 20 s" % (sink["n"], sent))
    s.close()
    check(sink["n"] == sent and sink["h"].digest() == h.digest(),
          "bounded: the target got %d bytes of %d%s" % (
              sink["n"], sent, ", checksum differs" if sink["n"] == sent
              else ""))
    px.term()
    return "client blocked after %.1f MiB, proxy memory +%.1f MiB, all " \
        "delivered after" % (sent / 1048576.0, grow)


def t_term(t):
    px = Proxy(t, "term", t.echo.port)
    s = connect(px.port)
    s.sendall(b"x")
    check(s.recv(4) == b"x", "term: no echo")
    t0 = time.monotonic()
    st = px.term()
    took = time.monotonic() - t0
    check(st["accepted"] == 1 and st["cuts"] == 0,
          "term: final stats %r" % st)
    s.settimeout(5)
    try:
        r = s.recv(4)
        check(r == b"", "term: the client read %r" % r)
    except RESETS:
        pass
    s.close()
    left = [f for f in os.listdir(t.work) if ".tmp" in f]
    check(not left, "term: temporary files left: %r" % left)
    try:
        socket.create_connection(("127.0.0.1", px.port), timeout=2).close()
        raise Fail("term: the port still accepts after exit")
    except ConnectionRefusedError:
        pass
    return "exit 0 in %.0f ms, final stats %r" % (took * 1e3, st)


CHECKS = [("pass", t_pass), ("reset", t_reset), ("stall", t_stall),
          ("halfclose", t_halfclose), ("usr1", t_usr1),
          ("bounded", t_bounded), ("term", t_term)]


class T:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--proxy", default=os.path.join(HERE, "faultproxy.py"))
    ap.add_argument("--seed", type=int,
                    default=int(os.environ.get("NVMSG_SEED",
                                               time.time() % 100000)))
    ap.add_argument("checks", nargs="*", choices=[n for n, _ in CHECKS] +
                    [[]], default=[])
    a = ap.parse_args()
    t = T()
    t.proxy, t.seed = a.proxy, a.seed
    t.work = tempfile.mkdtemp(prefix="nvmsg-faultproxy-")
    t.procs, t.servers = [], []
    t.echo = Server(echo)
    t.servers.append(t.echo)
    log("seed %d (rerun with --seed %d)" % (a.seed, a.seed))
    t_all = time.monotonic()
    ok = True
    try:
        for name, fn in CHECKS:
            if a.checks and name not in a.checks:
                continue
            t0 = time.monotonic()
            try:
                msg = fn(t)
                log("%-9s ok (%.1f s): %s" % (name, time.monotonic() - t0,
                                              msg))
            except Fail as e:
                ok = False
                log("%-9s FAIL: %s" % (name, e))
            except Exception as e:    # an unexpected error fails the check
                ok = False
                log("%-9s FAIL: %s: %s" % (name, type(e).__name__, e))
    finally:
        for p in t.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for s in t.servers:
            s.stop()
    if ok:
        shutil.rmtree(t.work, ignore_errors=True)
        log("PASS in %.1f s" % (time.monotonic() - t_all))
        return 0
    log("FAIL; proxy logs kept in %s" % t.work)
    return 1


if __name__ == "__main__":
    sys.exit(main())
