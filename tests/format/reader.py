#!/usr/bin/env python3
"""reader.py -- an independent reader of nvmsg channels, from docs/FORMAT.md.

Written from docs/FORMAT.md alone: it never imports or runs nvmsg code.
Its only dependency besides the standard library is Debian's libxxhash
(XXH3_64bits_withSeed, through ctypes), the checksum the format names.
tests/format/agree.sh runs it on channels the nvmsg CLI made and fails
when it disagrees with `nvmsg recv` and `nvmsg stat`: if the two ever
differ, either the library or FORMAT.md is wrong.

    reader.py DIR NAME [--oldest]

Prints one JSON object: the header, each producer slot (owner word and its
liveness, batch descriptors, published tail, the readers' bound, what
recovery would find: committed, next_seq), and each consumer (its acks and,
per ring, the messages it reads next from its ack up to the bound, and its
lag).  --oldest also looks for the oldest intact record of each ring below
pub_tail (the search FORMAT.md describes for a channel without consumers).

The reader acts on nothing it reads (it never acks, never publishes), so it
skips the persist step FORMAT.md asks of a reader that reads past pub_tail.

Exit status: 0 decoded; 2 a file was refused (bad magic, version, checksum,
geometry, size; cursor of another channel), with the reason on stderr;
3 the rings hold what the format forbids (a record that fails below a
durable tail, an ack out of range).
"""
import ctypes
import json
import mmap
import os
import struct
import sys

PAGE = 4096
REC_HDR = 32
REC_MSG = 1
REC_PAD = 2
TIERS = {1: "volatile", 2: "pmem", 3: "msync", 4: "emulated"}
BOOT_SEED = 0x6E766D7367  # "nvmsg"

_xxh = ctypes.CDLL("libxxhash.so.0")
_xxh.XXH3_64bits_withSeed.restype = ctypes.c_uint64
_xxh.XXH3_64bits_withSeed.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                      ctypes.c_uint64]


class Refused(Exception):
    """a file the format says not to trust (exit 2)"""


class Broken(Exception):
    """a channel whose rings break a rule of the format (exit 3)"""


def xxh3(data, seed):
    data = bytes(data)
    return _xxh.XXH3_64bits_withSeed(data, len(data), seed & (2**64 - 1))


def u64(b, off):
    return struct.unpack_from("<Q", b, off)[0]


def u32(b, off):
    return struct.unpack_from("<I", b, off)[0]


def u16(b, off):
    return struct.unpack_from("<H", b, off)[0]


def align_up(x, a):
    return (x + a - 1) // a * a


def text(payload):
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


# ------------------------------------------------------------ header


def geometry(ring_bytes, max_producers, max_consumers):
    """the offsets and file size FORMAT.md computes from the geometry"""
    cons = PAGE
    prod = cons + align_up(64 * max_consumers, PAGE)
    ring = prod + align_up(256 * max_producers, PAGE)
    return cons, prod, ring, ring + max_producers * ring_bytes


def read_header(path, size, h):
    if size < 128:
        raise Refused("%s: truncated (%d bytes)" % (path, size))
    if h[0:8] != b"NVMSGCH\0":
        raise Refused("%s: bad magic" % path)
    version = u32(h, 8)
    good = xxh3(h[0:120], 0) == u64(h, 120)
    if version != 3:
        raise Refused("%s: %s" % (path, "format version %d" % version
                                  if good else "header checksum mismatch"))
    if not good:
        raise Refused("%s: header checksum mismatch" % path)
    g = {
        "header_bytes": u32(h, 12), "file_bytes": u64(h, 16),
        "ring_bytes": u64(h, 24), "max_producers": u32(h, 32),
        "max_consumers": u32(h, 36), "tier": u32(h, 40),
        "flags": u32(h, 44), "uuid": bytes(h[48:64]),
        "cons_table_off": u64(h, 72), "prod_table_off": u64(h, 80),
        "ring_off": u64(h, 88),
    }
    rb = g["ring_bytes"]
    if (g["header_bytes"] != PAGE or g["tier"] not in TIERS or
            rb < 4096 or rb > 1 << 34 or rb & (rb - 1) or
            not 1 <= g["max_producers"] <= 64 or
            not 1 <= g["max_consumers"] <= 64):
        raise Refused("%s: header geometry out of range" % path)
    want = geometry(rb, g["max_producers"], g["max_consumers"])
    have = (g["cons_table_off"], g["prod_table_off"], g["ring_off"],
            g["file_bytes"])
    if want != have:
        raise Refused("%s: layout signature %s, the geometry computes %s"
                      % (path, have, want))
    if size < g["file_bytes"]:
        raise Refused("%s: geometry needs %d bytes, file has %d"
                      % (path, g["file_bytes"], size))
    return g


def read_cursor(path, g, index, name):
    with open(path, "rb") as f:
        c = f.read()
    nprod = g["max_producers"]
    if len(c) < 128 or c[0:8] != b"NVMSGCU\0":
        raise Refused("%s: bad magic" % path)
    if u32(c, 8) != 3:
        raise Refused("%s: cursor format version %d" % (path, u32(c, 8)))
    if xxh3(c[0:120], 0) != u64(c, 120):
        raise Refused("%s: cursor header checksum mismatch" % path)
    if c[16:32] != g["uuid"]:
        raise Refused("%s: cursor of another channel (uuid)" % path)
    cname = c[32:80].split(b"\0", 1)[0].decode("ascii", "replace")
    if u32(c, 12) != index or cname != name or u32(c, 80) != nprod:
        raise Refused("%s: cursor for '%s' slot %d, expected '%s' slot %d"
                      % (path, cname, u32(c, 12), name, index))
    if len(c) < align_up(256 + 64 * nprod, PAGE):
        raise Refused("%s: cursor truncated (%d bytes)" % (path, len(c)))
    return [u64(c, 256 + 64 * i) for i in range(nprod)]


# ------------------------------------------------------------ owners


def boot16():
    with open("/proc/sys/kernel/random/boot_id", "rb") as f:
        boot_id = f.read()  # 36 characters and a newline: all hashed
    return xxh3(boot_id, BOOT_SEED) & 0xFFFF


def start_ticks(pid):
    """state and field 22 of /proc/PID/stat, or None"""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(b")") + 2:].split()  # fields 3, 4, ...
    return rest[0].decode(), int(rest[22 - 3])


def owner_alive(w):
    """FORMAT.md, "Owner word": 0 free; else the triple names a live
    process of this boot"""
    if w == 0 or w >> 48 != boot16():
        return False
    pid = w & 0x3FFFFF
    st = start_ticks(pid)
    if st is None:
        # no /proc entry to read: live if a process has that pid
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state, start = st
    if state in ("Z", "X"):
        return False
    return start & 0x3FFFFFF == (w >> 22) & 0x3FFFFFF


# ------------------------------------------------------------ records


class Ring:
    def __init__(self, buf, off, ring_bytes, rid):
        self.b = buf
        self.off = off
        self.size = ring_bytes
        self.id = rid
        self.seen = {}  # pos -> record(pos): the bytes do not change

    def commit_word(self, pos):
        return u64(self.b, self.off + pos % self.size)

    def record(self, pos):
        """the record at POS if it verifies at its own position, as
        (type, seq, size, payload); else (None, reason)"""
        if pos not in self.seen:
            self.seen[pos] = self.decode(pos)
        return self.seen[pos]

    def decode(self, pos):
        o = pos % self.size
        if pos % 32 or o + REC_HDR > self.size:
            return None, "misaligned"
        a = self.off + o
        check, seq = u64(self.b, a + 8), u64(self.b, a + 16)
        ln, typ, prod = u32(self.b, a + 24), u16(self.b, a + 28), \
            u16(self.b, a + 30)
        if typ not in (REC_MSG, REC_PAD):
            return None, "bad type %d" % typ
        if typ == REC_MSG and (ln == 0 or seq == 0):
            return None, "empty message or seq 0"
        if ln > self.size - o - REC_HDR:
            return None, "length past ring end"
        if typ == REC_PAD and o + REC_HDR + ln != self.size:
            return None, "pad does not end at ring end"
        covered = 16 + (ln if typ == REC_MSG else 0)
        if xxh3(self.b[a + 16:a + 16 + covered], pos) != check:
            return None, "checksum mismatch"
        if prod != self.id:
            return None, "producer id %d" % prod
        size = REC_HDR + ln if typ == REC_PAD else align_up(REC_HDR + ln, 32)
        payload = bytes(self.b[a + 32:a + 32 + ln]) if typ == REC_MSG else b""
        return (typ, seq, size, payload), None

    def walk(self, start, limit, last_seq=0):
        """whole records from START: each verifies at its position, has
        increasing sequence numbers, ends at or below LIMIT.  Returns
        (end, [(pos, seq, payload)], why it stopped)"""
        pos, out = start, []
        while pos < limit:
            r, why = self.record(pos)
            if r is None:
                return pos, out, why
            typ, seq, size, payload = r
            if pos + size > limit:
                return pos, out, "crosses the limit"
            if typ == REC_MSG:
                if seq <= last_seq:
                    return pos, out, "sequence not increasing"
                last_seq = seq
                out.append((pos, seq, payload))
            pos += size
        return pos, out, "limit"


def descriptor(slot, i, k):
    """batch descriptor K of slot I if its check verifies"""
    d = slot[64 + 32 * k:96 + 32 * k]
    end_pos, end_seq, first_seq, check = struct.unpack("<4Q", d)
    ok = (xxh3(d[0:24], 2 * i + k + 1) == check and end_pos % 32 == 0 and
          first_seq <= end_seq)
    return {"end_pos": end_pos, "end_seq": end_seq, "first_seq": first_seq,
            "ok": ok}


def origin_line(slot, i):
    """the origin line at slot +192: None (all zero: a local slot), or
    {"channel": hex uuid, "producer": n, "ok": check verifies}"""
    o = slot[192:256]
    if o == bytes(64):
        return None
    flags, check = u32(o, 20), u64(o, 56)
    ok = flags == 1 and xxh3(o[0:56], 0x6f726967 + i) == check
    return {"channel": o[0:16].hex(), "producer": u32(o, 16), "ok": ok}


def newest(descs):
    """of the descriptors that verify, the one with the larger end_pos
    (ties: either, they carry the same end_seq)"""
    good = [d for d in descs if d["ok"]]
    return max(good, key=lambda d: d["end_pos"]) if good else None


# ------------------------------------------------------------ channel


def decode(dirname, name, oldest=False):
    path = os.path.join(dirname, name + ".nvmsg")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        raise Refused("%s: %s" % (path, e.strerror))
    try:
        size = os.fstat(fd).st_size
        if size < PAGE:
            raise Refused("%s: truncated (%d bytes)" % (path, size))
        h = os.pread(fd, 128, 0)
        g = read_header(path, size, h)
        buf = mmap.mmap(fd, g["file_bytes"], prot=mmap.PROT_READ)
    finally:
        os.close(fd)
    if bytes(buf[0:128]) != h:
        raise Refused("%s: header changed under the reader" % path)
    rb, nprod = g["ring_bytes"], g["max_producers"]

    # consumer table and cursor regions
    consumers = []
    for c in range(g["max_consumers"]):
        e = g["cons_table_off"] + 64 * c
        state = u64(buf, e)
        if state == 0:
            continue
        if state != 1:
            raise Broken("%s: consumer entry %d has state %d"
                         % (path, c, state))
        cname = bytes(buf[e + 8:e + 56]).split(b"\0", 1)[0].decode("ascii")
        cpath = os.path.join(dirname, "%s.%s.nvcur" % (name, cname))
        consumers.append({"name": cname, "index": c,
                          "acks": read_cursor(cpath, g, c, cname)})

    me = boot16()
    producers = []
    for i in range(nprod):
        so = g["prod_table_off"] + 256 * i
        slot = bytes(buf[so:so + 256])
        pub = u64(slot, 0)
        w = u64(slot, 128)
        ring = Ring(buf, g["ring_off"] + rb * i, rb, i)
        descs = [descriptor(slot, i, k) for k in (0, 1)]
        nd = newest(descs)
        if pub % 32:
            raise Broken("%s: ring %d: pub_tail %d not aligned"
                         % (path, i, pub))
        acks = [c["acks"][i] for c in consumers]
        for a in acks:
            if a % 32 or a > pub + rb:
                raise Broken("%s: ring %d: ack %d out of range (pub_tail "
                             "%d)" % (path, i, a, pub))
        lo = min(acks) if acks else pub
        floor = max(acks + [pub])
        if floor - lo > rb:
            raise Broken("%s: ring %d: acks more than a ring apart"
                         % (path, i))
        # recovery's whole-record scan: from the lowest ack (or pub_tail),
        # at most one ring
        end, recs, why = ring.walk(lo, lo + rb)
        if end < floor:
            raise Broken("%s: ring %d: record at %d fails (%s) below the "
                         "durable tail %d" % (path, i, end, why, floor))
        last = recs[-1][1] if recs else 0
        committed = last
        if nd is not None:
            c = nd["end_seq"] if nd["end_pos"] <= end else nd["first_seq"]
            if c > 0 and c - 1 > committed:
                committed = c - 1
        alive = owner_alive(w)
        bound = pub if alive else end
        unpublished = [r for r in recs if r[0] >= pub]
        p = {
            "id": i, "owner": w, "pid": w & 0x3FFFFF,
            "start_ticks": (w >> 22) & 0x3FFFFFF, "boot16": w >> 48,
            "this_boot16": me, "alive": alive, "pub_tail": pub,
            "bound": bound, "scan_from": lo, "scan_end": end,
            "scan_stop": why, "unpublished": len(unpublished),
            "descriptors": descs,
            "origin": origin_line(slot, i),
            "newest": None if nd is None else descs.index(nd),
            # live: the newest descriptor's end_seq (the batch after the
            # last published one); else what recovery would continue at
            "committed": committed,
            "next_seq": (nd["end_seq"] if nd else 0) if alive
            else committed + 1,
            "listed": bool(w or pub),
        }
        if oldest:
            p["oldest"] = find_oldest(ring, pub)
        producers.append((p, ring))

    # what each consumer reads next, up to the bound; lag as stat counts
    out_cons = []
    for c in consumers:
        rings, lag_m, lag_b = [], 0, 0
        for p, ring in producers:
            a = c["acks"][p["id"]]
            # a consumer resumes at its ack: from there each record must
            # verify up to the bound (an ack may point at a pad)
            end, recs, why = ring.walk(a, max(a, p["bound"]))
            if end < p["bound"]:
                raise Broken("%s: ring %d: consumer %s: record at %d fails "
                             "(%s) below the bound %d"
                             % (path, p["id"], c["name"], end, why,
                                p["bound"]))
            if a < p["bound"]:
                lag_b += p["bound"] - a
                lag_m += len(recs)
            rings.append({"producer": p["id"], "ack": a,
                          "messages": [[s, text(d)] for _, s, d in recs]})
        out_cons.append({"name": c["name"], "index": c["index"],
                         "acks": c["acks"], "rings": rings,
                         "lag_messages": lag_m, "lag_bytes": lag_b})
    return {
        "path": path, "version": 3, "tier": TIERS[g["tier"]],
        "file_bytes": g["file_bytes"], "ring_bytes": rb,
        "max_producers": nprod, "max_consumers": g["max_consumers"],
        "max_message": rb // 2 - REC_HDR,
        "producers": [p for p, _ in producers],
        "consumers": out_cons,
    }


def find_oldest(ring, pub):
    """FORMAT.md, "The oldest intact record": the lowest 32-byte-aligned
    position q in [pub - ring_bytes, pub) where a record verifies and the
    walk over whole records from q ends exactly at pub_tail"""
    q = max(0, pub - ring.size)
    q = align_up(q, 32)
    while q < pub:
        r, _ = ring.record(q)
        if r is not None:
            end, recs, _ = ring.walk(q, pub)
            if end == pub:
                return {"pos": q, "messages": [[s, text(d)]
                                               for _, s, d in recs]}
        q += 32
    return {"pos": pub, "messages": []}


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.stderr.write("usage: reader.py DIR NAME [--oldest]\n")
        return 2
    try:
        d = decode(args[0], args[1], oldest="--oldest" in argv)
    except Refused as e:
        sys.stderr.write("reader: refused: %s\n" % e)
        return 2
    except Broken as e:
        sys.stderr.write("reader: broken channel: %s\n" % e)
        return 3
    sys.stdout.write(json.dumps(d, separators=(",", ":")))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
