#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen_wire_corpus.py -- the seed corpus of fuzz_wire (fuzz/fuzz_wire.c):
link frames of every type, streams and handshakes, and a few bad ones.

The frames are laid out here from docs/WIRE.md, independently of
daemon/wire.c, so that the replay also checks the encoders against the
document (fuzz_wire re-encodes every accepted frame and compares bytes).

    python3 fuzz/gen_wire_corpus.py [OUTDIR]   (default fuzz/corpus/wire)

Byte 0 of a seed picks fuzz_wire's mode: 0x00 a stream of frames; an odd
byte a handshake, read in chunks of (byte >> 1) + 1 bytes.
"""
import os
import struct
import sys

HELLO, RESUME, ORIGIN, MSG, ACK, PING, PONG, ERROR = range(1, 9)
UUID = bytes(range(0x10, 0x20))


def frame(type_, body, flags=0, body_len=None):
    n = len(body) if body_len is None else body_len
    return struct.pack("<IHH", n, type_, flags) + body


def hello(role, channel, flags=1, max_msg=1 << 20, version=1,
          magic=b"NVMSGLNK"):
    ch = channel.encode()
    return frame(HELLO, magic + struct.pack("<HHIIB", version, role, flags,
                                            max_msg, len(ch)) + ch)


def resume(tier, flags, ents):
    body = struct.pack("<III", tier, flags, len(ents))
    for uuid, producer, seq in ents:
        body += uuid + struct.pack("<IQ", producer, seq)
    return frame(RESUME, body)


def origin(index, producer, uuid=UUID):
    return frame(ORIGIN, struct.pack("<I", index) + uuid +
                 struct.pack("<I", producer))


def msg(index, seq, payload):
    return frame(MSG, struct.pack("<IQ", index, seq) + payload)


def u64(type_, v):
    return frame(type_, struct.pack("<Q", v))


def error(code, text):
    return frame(ERROR, struct.pack("<I", code) + text.encode())


STREAM = b"\x00"


def handshake(chunk):
    return bytes([((chunk - 1) << 1) | 1])


SEEDS = {
    # one frame of each type (stream mode)
    "hello-sender": STREAM + hello(1, "orders.eu-1"),
    "hello-receiver-any": STREAM + hello(2, "", flags=0, max_msg=1 << 30),
    "resume": STREAM + resume(3, 1, [(UUID, 0, 41), (UUID[::-1], 63, 7)]),
    "resume-empty": STREAM + resume(1, 0, []),
    "origin": STREAM + origin(1023, 5),
    "msg": STREAM + msg(0, 1, b"hello, world"),
    "ack-ping-pong": STREAM + u64(ACK, 3) + u64(PING, 0xdeadbeef) +
    u64(PONG, 0xdeadbeef),
    "error": STREAM + error(2, "HELLO version 2: this end speaks version 1"),
    # a sender's stream
    "stream-sender": STREAM + hello(1, "q") + origin(0, 1) +
    msg(0, 1, b"a") + msg(0, 2, b"bb" * 40) + origin(1, 2) +
    msg(1, 9, b"c") + u64(PING, 1),
    # handshakes: a sender peer in 7-byte chunks, a receiver peer byte
    # by byte, a sender that sends a MSG before its ORIGIN
    "handshake-sender": handshake(7) + hello(1, "orders") + origin(3, 0) +
    msg(3, 1, b"x" * 100) + msg(3, 2, b"y") + u64(PING, 5) +
    error(8, "shutdown"),
    "handshake-receiver": handshake(1) + hello(2, "orders", flags=0) +
    resume(2, 1, [(UUID, 0, 2)]) + u64(ACK, 1) + u64(ACK, 2) +
    u64(PONG, 5),
    "handshake-undeclared": handshake(128) + hello(1, "q") +
    msg(4, 1, b"z"),
    # refused
    "bad-version": handshake(16) + hello(1, "q", version=2),
    "bad-magic": STREAM + hello(1, "q", magic=b"NVMSGLNX"),
    "bad-name": STREAM + hello(1, ".hidden"),
    "bad-huge-msg": STREAM + struct.pack("<IHH", 0xffffffff, MSG, 0),
    "bad-error-text": STREAM + error(1, "line\nbreak"),
    "truncated-msg": STREAM + msg(0, 1, b"cut short")[:-3],
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus",
                                                             "wire")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"gen_wire_corpus: {len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
