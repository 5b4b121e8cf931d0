#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""t_link.py -- nvmsgd end to end on 127.0.0.1: real daemons, real sockets,
real TLS (certificates made by mkcerts.sh at test time).

Each scenario starts its own daemons in their own directories, stops them
by pid, and asserts what it names:
  forward     a sender dials a receiver: every message exactly once, the
              receiving slot shows its origin in `nvmsg stat`, both status
              files say running; SIGTERM exits 0
  pull        a receiver dials a sender that offers the channel
  fanin       two senders into one channel: each origin in its own slot,
              each in order
  tls         the same over TLS 1.3 with mutual certificates
  refusals    no client certificate, a certificate of another CA, an
              expired certificate, a name that does not match: refused,
              nothing forwarded, the reason logged
  garbled     garbage, a header announcing 1 GiB, MSG before ORIGIN, a
              wrong version: each connection closed with a logged reason;
              the daemon lives on and serves a real sender afterwards
  full        a receiving channel kept full for seconds by a consumer that
              does not read: no loss, and both daemons' memory bounded
              (measured and printed)
  durable     a volatile receiving channel is refused unless
              --allow-volatile, and then the status says durable=NO
  ops         SIGHUP adds a link from the config file; exit codes 2
              (bad option) and 3 (cannot listen)
Usage: t_link.py --nvmsgd B --nvmsg C --mkcerts S [scenario...]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

A = None
WORK = None
FAILS = []


def log(*a):
    print("t_link:", *a, flush=True)


def check(cond, what):
    if cond:
        log("ok:", what)
    else:
        log("FAIL:", what)
        FAILS.append(what)
    return cond


def mkdir(name):
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    return d


def cli(*args, check_rc=True, inp=None):
    r = subprocess.run([A.nvmsg] + list(args), input=inp,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check_rc and r.returncode != 0:
        raise SystemExit("t_link: FAIL: nvmsg %s: exit %d: %s"
                         % (" ".join(args), r.returncode,
                            r.stderr.decode()))
    return r


class D:
    """one nvmsgd process"""

    def __init__(self, name, *args, port_file=False):
        self.log = os.path.join(WORK, name + ".log")
        self.pf = os.path.join(WORK, name + ".port") if port_file else None
        argv = [A.nvmsgd] + list(args)
        if self.pf:
            argv += ["--port-file", self.pf]
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                  stderr=open(self.log, "w"))
        self.port = None
        if self.pf:
            end = time.time() + 10
            while time.time() < end and not os.path.exists(self.pf):
                if self.p.poll() is not None:
                    raise SystemExit("t_link: FAIL: %s exited %d: %s"
                                     % (name, self.p.returncode,
                                        self.text()))
                time.sleep(0.01)
            self.port = int(open(self.pf).read())

    def text(self):
        return open(self.log).read()

    def rss_kib(self):
        for line in open("/proc/%d/status" % self.p.pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                return self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                return -1
        return self.p.returncode


def wait_for(fn, timeout=15.0, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def status(d):
    try:
        return open(os.path.join(d, "nvmsgd.status")).read()
    except OSError:
        return ""


def wait_link(d, consumer_dir=None):
    """the sender registered its link consumer (it sees what follows)"""
    def ok():
        st = json.loads(cli("stat", "orders", "--dir", consumer_dir,
                            "--json").stdout)
        return any(c["name"].startswith("link-") for c in st["consumers"])
    return wait_for(ok)


def send(d, lines, producer=None, chan="orders"):
    args = ["send", chan, "--dir", d]
    if producer is not None:
        args += ["--producer", str(producer)]
    cli(*args, inp=("".join(l + "\n" for l in lines)).encode())


def received(d, chan="orders", consumer="verify", want=None, timeout=15.0):
    """everything `consumer` reads until WANT messages or a quiet second"""
    out = []
    end = time.time() + timeout
    while time.time() < end:
        r = cli("recv", chan, "--dir", d, "--consumer", consumer, "--json",
                "--timeout-ms", "700", check_rc=False)
        got = [json.loads(x) for x in r.stdout.decode().splitlines()]
        out += got
        if want is not None and len(out) >= want:
            break
        if want is None and not got:
            break
    return out


def exactly_once(msgs, expect):
    """EXPECT: list of payloads; each once, and each slot in seq order"""
    data = [m["data"] for m in msgs]
    last = {}
    ordered = True
    for m in msgs:
        if last.get(m["producer"], 0) >= m["seq"]:
            ordered = False
        last[m["producer"]] = m["seq"]
    return sorted(data) == sorted(expect) and ordered


def receiver_channel(d, tier="msync", capacity=None):
    args = ["create", "orders", "--dir", d, "--tier", tier, "--producers",
            "16"]
    if capacity:
        args += ["--capacity", str(capacity)]
    cli(*args)
    cli("recv", "orders", "--dir", d, "--consumer", "verify",
        "--timeout-ms", "0", check_rc=False)


def sender_channel(d, capacity=None):
    args = ["create", "orders", "--dir", d, "--tier", "volatile"]
    if capacity:
        args += ["--capacity", str(capacity)]
    cli(*args)


PLAIN = ["--plaintext", "--spin", "0", "--poll", "500us"]


# ----------------------------------------------------------- scenarios

def s_forward():
    sd, rd = mkdir("fw-s"), mkdir("fw-r")
    sender_channel(sd)
    receiver_channel(rd)
    r = D("fw-recv", "--dir", rd, "--listen", "127.0.0.1:0", *PLAIN,
          port_file=True)
    s = D("fw-send", "--dir", sd, "--forward",
          "orders=127.0.0.1:%d" % r.port, *PLAIN)
    check(wait_link(sd, sd), "forward: link consumer registered")
    msgs = ["m%d" % i for i in range(1, 2001)]
    send(sd, msgs[:1000], producer=0)
    send(sd, msgs[1000:], producer=1)
    got = received(rd, want=2000)
    check(exactly_once(got, msgs),
          "forward: 2000 messages exactly once, in order per slot "
          "(got %d)" % len(got))
    def st():
        return cli("stat", "orders", "--dir", rd).stdout.decode()
    check("fwd " in st(), "forward: stat shows forwarded slots with origin")
    check(wait_for(lambda: "kind=accepted role=receiver" in st() and
                   "state=running" in st()),
          "forward: stat shows the receiving link running")
    check(wait_for(lambda: "role=sender" in status(sd) and
                   "state=running" in status(sd)),
          "forward: sender status running")
    check(s.stop() == 0 and r.stop() == 0, "forward: SIGTERM exits 0")


def s_pull():
    sd, rd = mkdir("pl-s"), mkdir("pl-r")
    sender_channel(sd)
    receiver_channel(rd)
    s = D("pl-send", "--dir", sd, "--listen", "127.0.0.1:0", "--offer",
          "orders", *PLAIN, port_file=True)
    r = D("pl-recv", "--dir", rd, "--pull", "orders=127.0.0.1:%d" % s.port,
          *PLAIN)
    check(wait_link(sd, sd), "pull: link consumer registered")
    msgs = ["q%d" % i for i in range(1, 1001)]
    send(sd, msgs)
    got = received(rd, want=1000)
    check(exactly_once(got, msgs), "pull: a receiver that dials gets "
          "every message exactly once (got %d)" % len(got))
    check(s.stop() == 0 and r.stop() == 0, "pull: SIGTERM exits 0")


def s_fanin():
    s1, s2, rd = mkdir("fi-s1"), mkdir("fi-s2"), mkdir("fi-r")
    sender_channel(s1)
    sender_channel(s2)
    receiver_channel(rd)
    r = D("fi-recv", "--dir", rd, "--listen", "127.0.0.1:0", *PLAIN,
          port_file=True)
    a = D("fi-a", "--dir", s1, "--forward", "orders=127.0.0.1:%d" % r.port,
          *PLAIN)
    b = D("fi-b", "--dir", s2, "--forward", "orders=127.0.0.1:%d" % r.port,
          *PLAIN)
    wait_link(s1, s1)
    wait_link(s2, s2)
    ma = ["a%d" % i for i in range(1, 501)]
    mb = ["b%d" % i for i in range(1, 501)]
    send(s1, ma)
    send(s2, mb)
    got = received(rd, want=1000)
    slots = {}
    for m in got:
        slots.setdefault(m["data"][0], set()).add(m["producer"])
    check(exactly_once(got, ma + mb) and len(slots) == 2 and
          slots["a"].isdisjoint(slots["b"]),
          "fanin: two origins, each in its own slot, exactly once")
    for d in (a, b, r):
        d.stop()


def tls_args(name):
    c = os.path.join(WORK, "certs")
    return ["--tls-cert", os.path.join(c, name + ".pem"), "--tls-key",
            os.path.join(c, name + ".key"), "--tls-ca",
            os.path.join(c, "ca.pem")]


def s_tls():
    sd, rd = mkdir("tl-s"), mkdir("tl-r")
    sender_channel(sd)
    receiver_channel(rd)
    r = D("tl-recv", "--dir", rd, "--listen", "127.0.0.1:0", "--spin", "0",
          *tls_args("server"), port_file=True)
    s = D("tl-send", "--dir", sd, "--forward",
          "orders=127.0.0.1:%d" % r.port, "--peer-name", "localhost",
          "--spin", "0", *tls_args("client"))
    wait_link(sd, sd)
    msgs = ["t%d" % i for i in range(1, 1001)]
    send(sd, msgs)
    got = received(rd, want=1000)
    check(exactly_once(got, msgs), "tls: 1000 messages over TLS 1.3")
    check("security=tls" in status(sd) and "TLS 1.3 up" in s.text(),
          "tls: status and log say TLS")
    s.stop()
    r.stop()


def refused(tag, recv_cert, send_cert, peer_name, expect_in, who):
    sd, rd = mkdir("rf-%s-s" % tag), mkdir("rf-%s-r" % tag)
    sender_channel(sd)
    receiver_channel(rd)
    r = D("rf-%s-recv" % tag, "--dir", rd, "--listen", "127.0.0.1:0",
          *tls_args(recv_cert), port_file=True)
    s = D("rf-%s-send" % tag, "--dir", sd, "--forward",
          "orders=127.0.0.1:%d" % r.port, "--peer-name", peer_name,
          *tls_args(send_cert))
    wait_link(sd, sd)
    send(sd, ["x1", "x2"])
    logd = r if who == "receiver" else s
    seen = wait_for(lambda: expect_in in logd.text(), timeout=10)
    got = received(rd, timeout=2)
    check(seen and not got, "refusals: %s: refused, '%s' logged by the %s, "
          "nothing forwarded" % (tag, expect_in, who))
    s.stop()
    r.stop()


def s_refusals():
    refused("wrong-ca", "server", "wrongca", "localhost",
            "not signed by the configured CA", "receiver")
    refused("expired", "expired", "client", "localhost",
            "certificate has expired", "sender")
    refused("wrong-name", "wrongname", "client", "localhost",
            "hostname mismatch", "sender")
    # no certificate: a TLS client that presents none (openssl s_client)
    rd = mkdir("rf-none-r")
    receiver_channel(rd)
    r = D("rf-none-recv", "--dir", rd, "--listen", "127.0.0.1:0",
          *tls_args("server"), port_file=True)
    c = os.path.join(WORK, "certs")
    subprocess.run(["openssl", "s_client", "-connect",
                    "127.0.0.1:%d" % r.port, "-tls1_3", "-CAfile",
                    os.path.join(c, "ca.pem"), "-quiet"],
                   input=b"NVMSGLNK", stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=20)
    check(wait_for(lambda: "peer did not return a certificate" in r.text(),
                   timeout=10),
          "refusals: no client certificate: refused and logged")
    check(r.p.poll() is None, "refusals: the receiver lives on")
    r.stop()
    # a daemon without certificates does not start (exit 2, says why)
    p = subprocess.run([A.nvmsgd, "--dir", rd, "--listen", "127.0.0.1:0"],
                       stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    check(p.returncode == 2 and b"--tls-cert" in p.stderr,
          "refusals: no certificate configured: exit 2 with the reason")


def hello(role, channel, version=1, max_msg=4096):
    body = (b"NVMSGLNK" + struct.pack("<HHII", version, role, 0, max_msg) +
            bytes([len(channel)]) + channel.encode())
    return struct.pack("<IHH", len(body), 1, 0) + body


def s_garbled():
    sd, rd = mkdir("gb-s"), mkdir("gb-r")
    sender_channel(sd)
    receiver_channel(rd)
    r = D("gb-recv", "--dir", rd, "--listen", "127.0.0.1:0", *PLAIN,
          port_file=True)
    cases = [
        ("garbage", os.urandom(4096), "garbled frame"),
        ("1 GiB header", struct.pack("<IHH", 1 << 30, 4, 0),
         "garbled frame"),
        ("MSG before ORIGIN", hello(1, "orders") +
         struct.pack("<IHH", 13, 4, 0) + struct.pack("<IQ", 5, 1) + b"x",
         "never declared"),
        ("version 9", hello(1, "orders", version=9), "garbled frame"),
        ("frame before HELLO", struct.pack("<IHHQ", 8, 6, 0, 1),
         "before HELLO"),
    ]
    for name, data, why in cases:
        before = r.text().count(why)
        s = socket.create_connection(("127.0.0.1", r.port), timeout=10)
        s.sendall(data)
        closed = False
        try:
            while s.recv(65536):
                pass
            closed = True
        except (ConnectionResetError, socket.timeout):
            closed = True
        s.close()
        check(closed and wait_for(lambda: r.text().count(why) > before,
                                  timeout=5),
              "garbled: %s: connection closed, '%s' logged" % (name, why))
    check(r.p.poll() is None, "garbled: the receiver lives on")
    s = D("gb-send", "--dir", sd, "--forward",
          "orders=127.0.0.1:%d" % r.port, *PLAIN)
    wait_link(sd, sd)
    send(sd, ["ok1", "ok2"])
    check(exactly_once(received(rd, want=2), ["ok1", "ok2"]),
          "garbled: then a real sender still gets through")
    s.stop()
    r.stop()


def s_full():
    sd, rd = mkdir("fl-s"), mkdir("fl-r")
    sender_channel(sd, capacity=1 << 20)
    receiver_channel(rd, capacity=65536)
    r = D("fl-recv", "--dir", rd, "--listen", "127.0.0.1:0", *PLAIN,
          port_file=True)
    # the receiving rings take 32 KiB messages at most: say so
    s = D("fl-send", "--dir", sd, "--forward",
          "orders=127.0.0.1:%d" % r.port, "--max-msg", "16K", *PLAIN)
    wait_link(sd, sd)
    pad = "z" * 1000
    msgs = ["f%d %s" % (i, pad) for i in range(1, 3001)]
    feeder = subprocess.Popen([A.nvmsg, "send", "orders", "--dir", sd],
                              stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    blob = "".join(m + "\n" for m in msgs).encode()

    def feed():
        feeder.stdin.write(blob)
        feeder.stdin.close()
    # the pipe fills while the channel is full: feed from a thread
    threading.Thread(target=feed, daemon=True).start()
    rss_r = rss_s = 0
    t0 = time.time()
    while time.time() - t0 < 4.0:
        rss_r, rss_s = max(rss_r, r.rss_kib()), max(rss_s, s.rss_kib())
        time.sleep(0.1)
    lag = json.loads(cli("stat", "orders", "--dir", rd, "--json").stdout)
    full = any(c["name"] == "verify" and c["lag_bytes"] > 60000
               for c in lag["consumers"])
    check(full and feeder.poll() is None,
          "full: the receiving channel stayed full for 4 s and the "
          "producer at the origin waits (back-pressure)")
    got = received(rd, want=3000, timeout=60)
    feeder.wait(timeout=30)
    check(exactly_once(got, msgs), "full: then all 3000 arrive, once each")
    log("full receiver: held 4.0 s, receiver RSS max %d KiB, sender RSS "
        "max %d KiB" % (rss_r, rss_s))
    check(rss_r < 65536 and rss_s < 65536,
          "full: both daemons stayed under 64 MiB resident")
    s.stop()
    r.stop()


def s_durable():
    sd, rd = mkdir("du-s"), mkdir("du-r")
    sender_channel(sd)
    cli("create", "orders", "--dir", rd, "--tier", "volatile")
    r = D("du-recv", "--dir", rd, "--listen", "127.0.0.1:0", *PLAIN,
          port_file=True)
    s = D("du-send", "--dir", sd, "--forward",
          "orders=127.0.0.1:%d" % r.port, *PLAIN)
    check(wait_for(lambda: "NOT durable" in r.text() and
                   "NOT durable" in s.text(), timeout=10),
          "durable: a volatile receiving channel is refused, both logs "
          "say why")
    s.stop()
    r.stop()
    r = D("du-recv2", "--dir", rd, "--listen", "127.0.0.1:0", *PLAIN,
          "--allow-volatile", port_file=True)
    s = D("du-send2", "--dir", sd, "--forward",
          "orders=127.0.0.1:%d" % r.port, *PLAIN, "--allow-volatile")
    check(wait_for(lambda: "durable=NO" in status(sd) and
                   "durable=NO" in status(rd), timeout=10),
          "durable: with --allow-volatile both status files say durable=NO")
    s.stop()
    r.stop()


def s_ops():
    sd, rd = mkdir("op-s"), mkdir("op-r")
    sender_channel(sd)
    cli("create", "other", "--dir", sd, "--tier", "volatile")
    receiver_channel(rd)
    r = D("op-recv", "--dir", rd, "--listen", "127.0.0.1:0", *PLAIN,
          port_file=True)
    conf = os.path.join(WORK, "op.conf")
    with open(conf, "w") as f:
        f.write("# test config\ndir = %s\nplaintext\nspin = 0\n"
                "forward = orders=127.0.0.1:%d\n" % (sd, r.port))
    s = D("op-send", "--config", conf)
    wait_link(sd, sd)
    with open(conf, "a") as f:
        f.write("forward = other=127.0.0.1:%d\n" % r.port)
    s.p.send_signal(signal.SIGHUP)
    check(wait_for(lambda: "1 added" in s.text(), timeout=10),
          "ops: SIGHUP reloads the links (one added)")

    def other_linked():
        st = json.loads(cli("stat", "other", "--dir", sd, "--json").stdout)
        return any(c["name"].startswith("link-") for c in st["consumers"])
    wait_for(other_linked)
    send(sd, ["o1"], chan="other")
    check(wait_for(lambda: os.path.exists(os.path.join(rd, "other.nvmsg")),
                   timeout=10),
          "ops: the added link created its receiving channel")
    check(s.stop() == 0, "ops: SIGTERM exits 0")
    r.stop()
    p = subprocess.run([A.nvmsgd, "--dir", sd, "--bogus"],
                       stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    check(p.returncode == 2, "ops: an unknown option exits 2")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    p = subprocess.run([A.nvmsgd, "--dir", sd, "--plaintext", "--listen",
                        "127.0.0.1:%d" % busy.getsockname()[1]],
                       stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                       timeout=20)
    busy.close()
    check(p.returncode == 3 and b"Address already in use" in p.stderr,
          "ops: a port in use exits 3 with the reason")


SCENARIOS = {"forward": s_forward, "pull": s_pull, "fanin": s_fanin,
             "tls": s_tls, "refusals": s_refusals, "garbled": s_garbled,
             "full": s_full, "durable": s_durable, "ops": s_ops}


def main():
    global A, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--nvmsgd", required=True)
    ap.add_argument("--nvmsg", required=True)
    ap.add_argument("--mkcerts", required=True)
    ap.add_argument("scenario", nargs="*")
    A = ap.parse_args()
    if shutil.which("openssl") is None:
        if os.environ.get("NVMSG_CI"):
            raise SystemExit("t_link: FAIL: openssl missing under CI")
        log("skip: openssl missing")
        sys.exit(77)
    WORK = tempfile.mkdtemp(prefix="nvmsg-link-", dir="/dev/shm")
    subprocess.run(["sh", A.mkcerts, os.path.join(WORK, "certs")],
                   check=True, stdout=subprocess.DEVNULL)
    for name in A.scenario or list(SCENARIOS):
        log("== %s" % name)
        SCENARIOS[name]()
    if FAILS:
        log("%d check(s) failed; logs kept in %s" % (len(FAILS), WORK))
        sys.exit(1)
    shutil.rmtree(WORK, ignore_errors=True)
    log("all scenarios passed")


if __name__ == "__main__":
    main()
