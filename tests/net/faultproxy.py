#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""faultproxy.py -- a fault-injecting TCP proxy for the net tests.

Usage:
  faultproxy.py --listen HOST:PORT --target HOST:PORT [--seed N]
                [--fault-every-ms A:B] [--faults reset,stall,halfclose]
                [--stall-ms A:B] [--stats FILE] [--port-file FILE]

Accepts any number of connections on --listen; for each it dials --target
(without blocking) and forwards bytes both ways: an EOF is passed on as
shutdown(SHUT_WR), a reset as a reset.  A target that refuses (or does not
answer within 5 s) gets the accepted client closed; that counts as nothing
(a connection counts as accepted once its target has answered).  --listen
with port 0 picks a free port and writes it to --port-file.

With --fault-every-ms A:B, every A..B ms (uniform, seeded RNG) one live
connection pair is picked and one fault from --faults is injected:
  reset      both sides closed with SO_LINGER {1,0} (RST)
  stall      nothing read or written either way for A..B ms of --stall-ms
             (bytes wait in the kernel's buffers), then forwarding resumes
  halfclose  shutdown(SHUT_WR) towards one side (picked at random: it
             reads EOF); 200 ms later the pair is reset
A fault that finds no live pair is skipped and not counted; a pair already
half-closed is not picked again.

Memory is bounded: at most 1 MiB is buffered per direction; a side whose
peer's buffer is full is not read.

--stats FILE is rewritten (temporary file + rename) as one line of JSON
on every change (and once at start), e.g.
  {"accepted": 12, "reset": 5, "stall": 3, "halfclose": 2, "cuts": 7}
where cuts = reset + halfclose.  --port-file likewise (temp + rename),
written after the first stats file.

Signals: SIGUSR1 resets every live pair (each counts as a reset);
SIGTERM or SIGINT closes everything, writes the final stats, exits 0.
Exit 2: bad arguments; 3: cannot listen.
"""
import argparse
import collections
import errno
import heapq
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

LIMIT = 1 << 20          # bytes buffered per direction, at most
CHUNK = 65536            # one recv
CONNECT_TIMEOUT = 5.0    # s, dialling the target
HALFCLOSE_RESET = 0.2    # s from the half-close to the reset
FAULTS = ("reset", "stall", "halfclose")

R, W = selectors.EVENT_READ, selectors.EVENT_WRITE
GONE = (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ETIMEDOUT,
        errno.ENOTCONN, errno.EHOSTUNREACH, errno.ENETUNREACH)


def log(msg):
    try:
        sys.stderr.write("faultproxy[%d]: %s\n" % (os.getpid(), msg))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def write_atomic(path, text):
    """Write text to path through a temporary name and a rename."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_addr(s):
    host, sep, port = s.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError("want HOST:PORT, got %r" % s)
    host = host.strip("[]")
    try:
        port = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError("bad port in %r" % s)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("bad port in %r" % s)
    return host, port


def parse_range(s):
    a, sep, b = s.partition(":")
    try:
        lo = float(a)
        hi = float(b) if sep else lo
    except ValueError:
        raise argparse.ArgumentTypeError("want A:B (ms), got %r" % s)
    if lo < 0 or hi < lo:
        raise argparse.ArgumentTypeError("want 0 <= A <= B, got %r" % s)
    return lo / 1000.0, hi / 1000.0


def parse_faults(s):
    kinds = [k.strip() for k in s.split(",") if k.strip()]
    bad = [k for k in kinds if k not in FAULTS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(
            "faults are %s, got %r" % (",".join(FAULTS), s))
    return kinds


class Dir:
    """One direction of a pair: bytes read from src, waiting for dst."""
    __slots__ = ("src", "dst", "buf", "off", "size", "eof", "done")

    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.buf = collections.deque()   # bytes chunks; head sent from off
        self.off = 0
        self.size = 0
        self.eof = False     # src sent EOF
        self.done = False    # dst shut down for writing (EOF passed on, or
        #                      the half-close fault)


class Side:
    __slots__ = ("pair", "sock", "name", "mask", "out", "inn")

    def __init__(self, pair, sock, name):
        self.pair, self.sock, self.name = pair, sock, name
        self.mask = 0        # events registered with the selector
        self.out = None      # Dir towards this side
        self.inn = None      # Dir from this side


class Pair:
    __slots__ = ("id", "a", "b", "ab", "ba", "state", "stalled_until",
                 "doomed")

    def __init__(self, pid, csock, tsock):
        self.id = pid
        self.a = Side(self, csock, "client")
        self.b = Side(self, tsock, "target")
        self.ab = Dir(self.a, self.b)
        self.ba = Dir(self.b, self.a)
        self.a.inn = self.b.out = self.ab
        self.b.inn = self.a.out = self.ba
        self.state = "connecting"    # then "open", then "closed"
        self.stalled_until = 0.0
        self.doomed = False          # half-closed; reset at its deadline


class Proxy:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.sel = selectors.DefaultSelector()
        self.pairs = {}              # id -> Pair, every pair not closed
        self.next_id = 1
        self.timers = []             # heap of (when, seq, fn, args)
        self.seq = 0
        self.stats = {"accepted": 0, "reset": 0, "stall": 0,
                      "halfclose": 0, "cuts": 0}
        self.dirty = True
        self.term = False
        self.usr1 = 0
        self.accept_paused = False

    # --- timers -----------------------------------------------------------
    def at(self, when, fn, *args):
        self.seq += 1
        heapq.heappush(self.timers, (when, self.seq, fn, args))

    def run_timers(self, now):
        while self.timers and self.timers[0][0] <= now:
            _, _, fn, args = heapq.heappop(self.timers)
            fn(*args)

    # --- stats ------------------------------------------------------------
    def count(self, key):
        self.stats[key] += 1
        self.stats["cuts"] = self.stats["reset"] + self.stats["halfclose"]
        self.dirty = True

    def flush_stats(self):
        if not self.dirty:
            return
        self.dirty = False
        if self.a.stats:
            try:
                write_atomic(self.a.stats, json.dumps(self.stats) + "\n")
            except OSError as e:
                log("cannot write %s: %s" % (self.a.stats, e))

    # --- selector bookkeeping ---------------------------------------------
    def want(self, side):
        p = side.pair
        if p.state == "connecting":
            return W if side is p.b else 0
        if p.state != "open" or p.stalled_until:
            return 0
        m = 0
        d = side.inn
        if not d.eof and not d.done and d.size < LIMIT:
            m |= R
        if side.out.size and not side.out.done:
            m |= W
        return m

    def set_mask(self, side, m):
        if m == side.mask:
            return
        if side.mask == 0:
            self.sel.register(side.sock, m, side)
        elif m == 0:
            self.sel.unregister(side.sock)
        else:
            self.sel.modify(side.sock, m, side)
        side.mask = m

    def update(self, p):
        if p.state == "closed":
            return
        self.set_mask(p.a, self.want(p.a))
        self.set_mask(p.b, self.want(p.b))

    # --- closing ----------------------------------------------------------
    def close(self, p, rst):
        if p.state == "closed":
            return
        p.state = "closed"
        self.pairs.pop(p.id, None)
        for s in (p.a, p.b):
            self.set_mask(s, 0)
            if rst:
                try:
                    s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      struct.pack("ii", 1, 0))
                except OSError:
                    pass
            try:
                s.sock.close()
            except OSError:
                pass
        p.ab.buf.clear()
        p.ba.buf.clear()

    # --- accepting and dialling -------------------------------------------
    def on_accept(self):
        for _ in range(64):
            try:
                csock, _ = self.lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                # out of descriptors or memory: stop accepting a moment
                log("accept: %s; pausing accepts for 100 ms" % e)
                self.sel.unregister(self.lsock)
                self.accept_paused = True
                self.at(time.monotonic() + 0.1, self.resume_accept)
                return
            self.dial(csock)

    def resume_accept(self):
        if self.accept_paused and not self.term:
            self.accept_paused = False
            self.sel.register(self.lsock, R, "listen")

    def dial(self, csock):
        csock.setblocking(False)
        try:
            csock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            tsock = socket.socket(self.tfamily, socket.SOCK_STREAM)
        except OSError as e:
            log("socket: %s" % e)
            csock.close()
            return
        tsock.setblocking(False)
        try:
            tsock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        p = Pair(self.next_id, csock, tsock)
        self.next_id += 1
        self.pairs[p.id] = p
        rc = tsock.connect_ex(self.taddr)
        if rc == 0:
            p.state = "open"
            self.count("accepted")
        elif rc in (errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
            self.at(time.monotonic() + CONNECT_TIMEOUT,
                    self.connect_timeout, p)
        else:
            self.close(p, False)
            return
        self.update(p)

    def connect_timeout(self, p):
        if p.state == "connecting":
            log("pair %d: target did not answer in %.0f s" %
                (p.id, CONNECT_TIMEOUT))
            self.close(p, False)

    def on_connected(self, p):
        err = p.b.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            # refused: the accepted client is closed, nothing counted
            self.close(p, False)
            return
        p.state = "open"
        self.count("accepted")
        self.update(p)

    # --- forwarding -------------------------------------------------------
    def on_event(self, side, ev):
        p = side.pair
        if p.state == "closed":
            return
        if p.state == "connecting":
            self.on_connected(p)
            return
        if ev & W and not p.stalled_until:
            if not self.send(side.out):
                return
        if ev & R and p.state == "open" and not p.stalled_until:
            if not self.recv(side):
                return
        self.update(p)

    def recv(self, side):
        d = side.inn
        if d.eof or d.done or d.size >= LIMIT:
            return True
        try:
            data = side.sock.recv(min(CHUNK, LIMIT - d.size))
        except (BlockingIOError, InterruptedError):
            return True
        except OSError as e:
            if e.errno not in GONE:
                log("pair %d: recv from %s: %s" % (side.pair.id, side.name,
                                                   e))
            # a reset from one side is passed on as a reset
            self.close(side.pair, True)
            return False
        if not data:
            d.eof = True
        else:
            d.buf.append(data)
            d.size += len(data)
        return self.send(d)

    def send(self, d):
        """Write what d holds to d.dst; pass an EOF on once it is empty."""
        p = d.src.pair
        if d.done:
            return True
        sock = d.dst.sock
        while d.buf:
            head = d.buf[0]
            try:
                n = sock.send(memoryview(head)[d.off:])
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                if e.errno not in GONE:
                    log("pair %d: send to %s: %s" % (p.id, d.dst.name, e))
                self.close(p, True)
                return False
            d.off += n
            d.size -= n
            if d.off == len(head):
                d.buf.popleft()
                d.off = 0
            else:
                break
        if d.eof and not d.size:
            d.done = True
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if p.ab.done and p.ba.done and not p.doomed:
                self.close(p, False)
                return False
        return True

    # --- faults -----------------------------------------------------------
    def schedule_fault(self):
        lo, hi = self.a.fault_every_ms
        self.at(time.monotonic() + self.rng.uniform(lo, hi), self.fault)

    def fault(self):
        if self.term:
            return
        self.schedule_fault()
        live = [p for p in self.pairs.values()
                if p.state == "open" and not p.doomed]
        if not live:
            return
        p = self.rng.choice(live)
        kind = self.rng.choice(self.a.faults)
        if kind == "reset":
            self.count("reset")
            log("pair %d: reset" % p.id)
            self.close(p, True)
        elif kind == "stall":
            lo, hi = self.a.stall_ms
            ms = self.rng.uniform(lo, hi)
            until = time.monotonic() + ms
            self.count("stall")
            log("pair %d: stall %.0f ms" % (p.id, ms * 1e3))
            if until > p.stalled_until:
                p.stalled_until = until
                self.at(until, self.unstall, p, until)
            self.update(p)
        else:
            side = self.rng.choice((p.a, p.b))
            self.count("halfclose")
            log("pair %d: halfclose towards %s" % (p.id, side.name))
            p.doomed = True
            d = side.out
            d.done = True
            d.buf.clear()
            d.size = d.off = 0
            try:
                side.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.at(time.monotonic() + HALFCLOSE_RESET, self.close, p, True)
            self.update(p)

    def unstall(self, p, until):
        if p.state != "open" or p.stalled_until != until:
            return
        p.stalled_until = 0.0
        # what was read before the stall goes out first
        for d in (p.ab, p.ba):
            if d.size or d.eof:
                if not self.send(d):
                    return
        self.update(p)

    def reset_all(self):
        n = 0
        for p in list(self.pairs.values()):
            if not p.doomed:
                self.count("reset")
                n += 1
            self.close(p, True)
        log("SIGUSR1: reset %d pairs" % n)

    # --- main loop --------------------------------------------------------
    def on_signal(self, signum, frame):
        if signum == signal.SIGUSR1:
            self.usr1 += 1
        else:
            self.term = True

    def setup(self):
        a = self.a
        try:
            infos = socket.getaddrinfo(a.target[0], a.target[1], 0,
                                       socket.SOCK_STREAM)
            self.tfamily, _, _, _, self.taddr = infos[0]
            infos = socket.getaddrinfo(a.listen[0], a.listen[1], 0,
                                       socket.SOCK_STREAM, 0,
                                       socket.AI_PASSIVE)
            lfamily, _, _, _, laddr = infos[0]
        except OSError as e:
            log("cannot resolve: %s" % e)
            return 2
        try:
            ls = socket.socket(lfamily, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(laddr)
            ls.listen(128)
            ls.setblocking(False)
        except OSError as e:
            log("cannot listen on %s:%d: %s" % (a.listen[0], a.listen[1], e))
            return 3
        self.lsock = ls
        self.port = ls.getsockname()[1]
        self.sel.register(ls, R, "listen")
        # signals wake the selector through this socket pair
        self.wr, self.ww = socket.socketpair()
        self.wr.setblocking(False)
        self.ww.setblocking(False)
        self.sel.register(self.wr, R, "wake")
        signal.set_wakeup_fd(self.ww.fileno(), warn_on_full_buffer=False)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(s, self.on_signal)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self.flush_stats()
        if a.port_file:
            try:
                write_atomic(a.port_file, "%d\n" % self.port)
            except OSError as e:
                log("cannot write %s: %s" % (a.port_file, e))
                return 2
        log("listening on %s:%d, target %s:%d, seed %d%s" % (
            a.listen[0], self.port, a.target[0], a.target[1], a.seed,
            (", faults %s every %g:%g ms" % (
                ",".join(a.faults), a.fault_every_ms[0] * 1e3,
                a.fault_every_ms[1] * 1e3)) if a.fault_every_ms else ""))
        if a.fault_every_ms:
            self.schedule_fault()
        return 0

    def loop(self):
        while True:
            if self.usr1:
                self.usr1 = 0
                self.reset_all()
            if self.term:
                break
            self.flush_stats()
            now = time.monotonic()
            timeout = 1.0
            if self.timers:
                timeout = min(timeout, max(0.0, self.timers[0][0] - now))
            for key, ev in self.sel.select(timeout):
                what = key.data
                if what == "listen":
                    if not self.term:
                        self.on_accept()
                elif what == "wake":
                    try:
                        while self.wr.recv(256):
                            pass
                    except OSError:
                        pass
                else:
                    self.on_event(what, ev)
            self.run_timers(time.monotonic())
        for p in list(self.pairs.values()):
            self.close(p, False)
        try:
            self.lsock.close()
        except OSError:
            pass
        self.dirty = True
        self.flush_stats()
        log("stopped: %s" % json.dumps(self.stats))
        return 0


def main():
    ap = argparse.ArgumentParser(
        description="a fault-injecting TCP proxy for the net tests")
    ap.add_argument("--listen", type=parse_addr, required=True,
                    metavar="HOST:PORT")
    ap.add_argument("--target", type=parse_addr, required=True,
                    metavar="HOST:PORT")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--fault-every-ms", type=parse_range, default=None,
                    metavar="A:B")
    ap.add_argument("--faults", type=parse_faults, default=list(FAULTS),
                    metavar="K[,K...]")
    ap.add_argument("--stall-ms", type=parse_range, default=(0.05, 0.5),
                    metavar="A:B")
    ap.add_argument("--stats", default=None, metavar="FILE")
    ap.add_argument("--port-file", default=None, metavar="FILE")
    a = ap.parse_args()
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(4), "little") % 1000000
    px = Proxy(a)
    rc = px.setup()
    if rc:
        sys.exit(rc)
    sys.exit(px.loop())


if __name__ == "__main__":
    main()
