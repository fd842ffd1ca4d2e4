#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/fuzz/seeds.py [CORPUS_DIR]: writes the hand-made seeds of the fuzz corpus.

Each seed is a small program in the target's input language (the readers in
tests/fuzz/fuzz_*.c: every read past the end is 0), named after what it
exercises, written to CORPUS_DIR/<target>/seed-<name> (default
tests/fuzz/corpus/). The encoders below mirror those readers byte for byte;
change both together. Inputs that once crashed a target (libFuzzer's
crash-<sha1>, timeout-<sha1>) are kept in the corpus under their own names
and are not written here.
"""
import os
import struct
import sys

U64 = (1 << 64) - 1


def u8(v):
    return bytes([v & 0xFF])


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & U64)


# ---------------------------------------------------------------- fuzz_addr

def addr_seeds():
    good = ["1.2.3.4:80", "0.0.0.0:0", "255.255.255.255:65535", "127.0.0.1:00080",
            "[::1]:8080", "[::]:0", "[fe80::1%1]:80", "[fe80::1%lo]:80",
            "[::ffff:1.2.3.4]:443", "[2001:db8::1]:65535", "[1:2:3:4:5:6:7:8]:1",
            "[fe80::1%4294967295]:1", "[fe80::1%00000000001]:1"]
    bad = ["", "abc", "localhost:80", "1.2.3.4", "1.2.3.4:", "0.0.0.0:99999",
           "1.2.3.4:65536", "256.1.1.1:80", " 1.2.3.4:80", "1.2.3.4:80 ", "1.2.3.4:+80",
           "1.2.3.4:000080", "1.2.3:80", "1.2.3.4.5:80", "01.2.3.4:80", "1.2.3.04:80",
           "[::1]", "[::1]:", "::1:80", "[::1:80", "[fe80::1%]:80",
           "[fe80::1%4294967296]:80", "[fe80::1%nosuchif]:80", "[1.2.3.4]:80",
           "[fe80::1%000000000001]:80", "[::1]]:80", "[::1%lo: ]:80", "[::1%lo:x]:80"]
    seeds = {}
    for i, s in enumerate(good):
        seeds["good-%02d" % i] = b"P" + s.encode()
    for i, s in enumerate(bad):
        seeds["bad-%02d" % i] = b"P" + s.encode()
    # format: 'F', buffer size, family (0 v4, 1 v6, 2 unix, 3 unknown), then the bytes of
    # struct volt_addr: the 128-byte sockaddr_storage, then len (set by the target for IP)
    def sa(body, length=0):
        return body.ljust(128, b"\0")[:128] + u32(length)

    v4 = sa(struct.pack("<H", 2) + struct.pack(">H", 8080) + bytes([10, 0, 0, 1]))
    v6 = sa(struct.pack("<H", 10) + struct.pack(">H", 443) + u32(0) + bytes(15) + b"\x01" + u32(7))
    seeds["format-v4"] = b"F" + u8(112) + u8(0) + v4
    seeds["format-v4-short"] = b"F" + u8(8) + u8(0) + v4
    seeds["format-v6-scope"] = b"F" + u8(112) + u8(1) + v6
    seeds["format-unix"] = b"F" + u8(112) + u8(2) + sa(u16(1) + b"/tmp/sock", 2 + 10)
    seeds["format-unix-abstract"] = b"F" + u8(112) + u8(2) + sa(u16(1) + b"\0name\0x", 2 + 7)
    seeds["format-unix-len-huge"] = b"F" + u8(112) + u8(2) + sa(u16(1) + b"p" * 108, 0xFFFFFFFF)
    seeds["format-unix-len-short"] = b"F" + u8(112) + u8(2) + sa(u16(1) + b"/tmp/sock", 1)
    seeds["format-unknown"] = b"F" + u8(112) + u8(3) + sa(b"")
    seeds["unix-path"] = b"U/tmp/volt.sock"
    seeds["unix-empty"] = b"U"
    seeds["unix-107"] = b"U" + b"a" * 107
    seeds["unix-108"] = b"U" + b"a" * 108
    return seeds


# ---------------------------------------------------------------- fuzz_config

def config_seeds():
    lines = {
        "workers": "VOLT_WORKERS=4", "workers-max": "VOLT_WORKERS=64",
        "workers-over": "VOLT_WORKERS=65", "workers-sign": "VOLT_WORKERS=-1",
        "workers-space": "VOLT_WORKERS= 4", "workers-plus": "VOLT_WORKERS=+4",
        "workers-empty": "VOLT_WORKERS=",
        "seed-max": "VOLT_SEED=18446744073709551615", "seed-over": "VOLT_SEED=18446744073709551616",
        "budget-zero": "VOLT_BUDGET=0", "budget-max": "VOLT_BUDGET=65535",
        "keepalive-max": "VOLT_BLOCKING_KEEPALIVE_MS=18446744073709",
        "keepalive-over": "VOLT_BLOCKING_KEEPALIVE_MS=18446744073710",
        "lifo-two": "VOLT_LIFO=2", "lifo-zero": "VOLT_LIFO=00",
        "trace-events-min": "VOLT_TRACE_EVENTS=16", "trace-events-under": "VOLT_TRACE_EVENTS=15",
        "trace-events-over": "VOLT_TRACE_EVENTS=16777217",
        "park-spin-max": "VOLT_PARK_SPIN_NS=1000000", "steal-over": "VOLT_STEAL_BATCH=129",
        "sched-ring": "VOLT_SCHED=ring", "sched-sim": "VOLT_SCHED=sim", "sched-bad": "VOLT_SCHED=Ring",
        "driver-auto": "VOLT_DRIVER=auto", "driver-epoll": "VOLT_DRIVER=epoll",
        "driver-bad": "VOLT_DRIVER=kqueue",
        "idle-yield": "VOLT_IDLE=yield", "pin-numa": "VOLT_PIN=numa", "clock-real": "VOLT_CLOCK=real",
        "topology": "VOLT_TOPOLOGY=pack:2 core:2 pu:1", "topology-empty": "VOLT_TOPOLOGY=",
        "trace-off": "VOLT_TRACE=", "trace-file": "VOLT_TRACE=/tmp/trace.json",
        "chan-locked": "VOLT_CHAN_BUFFER=locked", "chan-bad": "VOLT_CHAN_BUFFER=ring",
        "chan-empty": "VOLT_CHAN_BUFFER=",
        "virtual-spin": "VOLT_CLOCK=virtual\nVOLT_IDLE=spin",
        "virtual-park": "VOLT_CLOCK=virtual\nVOLT_IDLE=park",
        "last-wins": "VOLT_BUDGET=0\nVOLT_BUDGET=7",
        "bad-then-good": "VOLT_SEARCH_ROUNDS=65\nVOLT_LIFO_MAX=255\nVOLT_GLOBAL_INTERVAL=0",
        "unknown-name": "VOLT_NOPE=1\nVOLT_EVENT_INTERVAL=1\nPATH=/x",
        "everything": "\n".join([
            "VOLT_SCHED=chaselev", "VOLT_DRIVER=uring", "VOLT_WORKERS=2", "VOLT_SEED=42",
            "VOLT_BUDGET=64", "VOLT_MAX_BLOCKING=65536", "VOLT_SEARCH_ROUNDS=64",
            "VOLT_BLOCKING_KEEPALIVE_MS=1", "VOLT_LIFO=0", "VOLT_LIFO_MAX=1",
            "VOLT_GLOBAL_INTERVAL=255", "VOLT_EVENT_INTERVAL=65535", "VOLT_MAX_SEARCHING=64",
            "VOLT_STEAL_BATCH=128", "VOLT_PARK_SPIN_NS=0", "VOLT_TRACE_EVENTS=16777216",
            "VOLT_IDLE=park", "VOLT_PIN=compact", "VOLT_CLOCK=auto"]),
    }
    return {k: v.encode() for k, v in lines.items()}


# ---------------------------------------------------------------- fuzz_timer

class Timer:
    """A program for fuzz_timer: the start, then operations."""

    def __init__(self, start):
        self.b = (u8(1) + u64(start)) if start > 0xFFFF else (u8(0) + u16(start))

    def insert_at(self, i, deadline):  # kind 7: an absolute deadline
        self.b += u8(0) + u8(i) + u8(7) + u8(0) + u8(0) + u64(deadline)
        return self

    def insert_ahead(self, i, ticks):  # kind 5: now + u32
        self.b += u8(0) + u8(i) + u8(5) + u8(0) + u8(0) + u32(ticks)
        return self

    def insert_level(self, i, k, d=0):  # kind 2: now + 64^k + d, k 1..7, d -2..2
        self.b += u8(0) + u8(i) + u8(2) + u8(k - 1) + u8(d + 2)
        return self

    def insert_block(self, i, k, m=0, d=0):  # kind 3: start of the (m+1)-th next level-k block + d
        self.b += u8(0) + u8(i) + u8(3) + u8(k - 1) + u8(d + 2) + u8(m)
        return self

    def cancel(self, i):
        self.b += u8(3) + u8(i)
        return self

    def advance_by(self, ticks, limit=None):  # kind 4: now + u32
        op = 6 if limit else 4
        i = (limit - 1) if limit else 0
        self.b += u8(op) + u8(i) + u8(4) + u8(0) + u32(ticks)
        return self

    def advance_to(self, t, limit=None):  # kind 5: absolute (clamped to now + 2^44)
        op = 6 if limit else 4
        i = (limit - 1) if limit else 0
        self.b += u8(op) + u8(i) + u8(5) + u8(0) + u64(t)
        return self

    def advance_boundary(self, k, d=0):  # kind 2: the next level-k boundary + d (-1..1)
        self.b += u8(4) + u8(0) + u8(2) + u8(k - 1) + u8(d + 1)
        return self

    def advance_next(self, d=0, limit=None):  # kind 3: the model's next firing + d
        op = 6 if limit else 4
        i = (limit - 1) if limit else 0
        self.b += u8(op) + u8(i) + u8(3) + u8(0) + u8(d + 1)
        return self

    def bulk(self, n4, deadline, spread):  # n4 * 4 timers at an absolute deadline (kind 7)
        self.b += u8(7) + u8(1) + u8(n4) + u8(7) + u8(0) + u8(0) + u64(deadline) + u8(spread - 1)
        return self

    def bulk_cancel(self, odd=False):
        self.b += u8(7) + u8(2 if odd else 0)
        return self


def timer_seeds():
    s = {}
    t = Timer(0)
    for k in range(1, 8):
        for d in (-1, 0, 1):
            t.insert_level(3 * k + d + 1, k, d)
    for _ in range(24):
        t.advance_next()
    s["levels-each-boundary"] = t.b
    t = Timer(1000)
    for k in range(1, 8):
        t.insert_block(k, k, 0, 0).insert_block(k + 8, k, 1, -1).insert_block(k + 16, k, 2, 2)
    for k in range(1, 8):
        t.advance_boundary(k, -1).advance_boundary(k, 0).advance_boundary(k, 1)
    s["block-starts"] = t.b
    s["past-and-now"] = (Timer(5000).insert_at(1, 10).insert_at(2, 5000).insert_at(3, 4999)
                         .insert_ahead(4, 1).advance_by(0).advance_by(1).b)
    s["far-beyond"] = (Timer(7).insert_at(1, 1 << 43).insert_at(2, (1 << 44) + 3).insert_at(3, U64)
                       .insert_at(4, 1 << 63).advance_to(1 << 42).advance_to((1 << 43) - 1)
                       .advance_to(1 << 43).advance_to(1 << 44).advance_next().b)
    s["cancel-everywhere"] = (Timer(0).insert_level(1, 1).insert_level(2, 3).insert_at(3, U64)
                              .insert_at(4, 0).cancel(1).cancel(2).cancel(3).cancel(4).cancel(5)
                              .advance_to(1 << 44).b)
    s["rearm"] = (Timer(100).insert_ahead(1, 500).insert_ahead(1, 70).insert_ahead(1, 5000)
                  .advance_by(600).advance_next().b)
    s["limit-one"] = (Timer(64).insert_ahead(1, 3).insert_ahead(2, 3).insert_ahead(3, 3)
                      .insert_at(4, 1).advance_by(10, 1).advance_by(10, 1).advance_by(10, 2)
                      .advance_by(0, 1).b)
    # 1,020 timers in level-1 slot 2 (ticks 128..191), drained ahead from tick 64 on
    s["crowded-slot"] = (Timer(0).bulk(255, 150, 8).advance_by(64).advance_by(1).advance_by(1)
                         .advance_next().advance_next(limit=3).b)
    # the same in level-2 slot 2 (ticks 8192..12287), drained ahead from tick 4096 on
    s["crowded-level-2"] = (Timer(0).bulk(255, 8197, 3).advance_to(4096).advance_by(1)
                            .advance_next().b)
    s["crowded-cancel"] = (Timer(0).bulk(80, 5000, 3).bulk_cancel().advance_by(4096)
                           .bulk_cancel(True).advance_next().b)
    s["top-of-range"] = Timer(U64 - 100).insert_at(1, U64).insert_at(2, U64 - 1).insert_ahead(3, 50).b
    s["top-empty"] = Timer(U64 - 5).advance_to(U64).b
    s["wrap-deadline"] = Timer(U64 - 10).insert_ahead(1, 1000).advance_by(5).b
    return s


# ---------------------------------------------------------------- fuzz_chan

class Chan:
    """A program for fuzz_chan's MPMC mode: buffer (0 vyukov, 1 locked), size, capacity."""

    def __init__(self, buffer, esz, cap):
        self.b = u8(0) + u8(buffer) + u8(esz - 1) + u8(cap - 1)

    def op(self, code, arg=0):
        self.b += u8(code) + u8(arg)
        return self

    def send(self, n=1):
        for _ in range(n):
            self.op(0)
        return self

    def recv(self, n=1):
        for _ in range(n):
            self.op(3)
        return self

    def close(self):
        return self.op(5)

    def poll_send(self, f):
        return self.op(10, f)

    def poll_recv(self, f):
        return self.op(12, f)

    def drop_send(self, f):
        return self.op(13, 0x80 | f)

    def drop_recv(self, f):
        return self.op(13, f)


def chan_seeds():
    s = {}
    for buf, name in ((0, "vyukov"), (1, "locked")):
        s[name + "-fill-drain"] = Chan(buf, 8, 4).send(5).recv(5).b
        s[name + "-cap1"] = Chan(buf, 1, 1).send(2).recv(1).send(1).recv(2).b
        s[name + "-odd-size"] = Chan(buf, 13, 7).send(9).recv(3).send(3).recv(8).b
        s[name + "-close-drain"] = Chan(buf, 40, 3).send(2).close().send(1).recv(3).b
        s[name + "-recv-wait"] = (Chan(buf, 8, 2).poll_recv(0).poll_recv(1).send(1)
                                  .poll_recv(0).send(1).poll_recv(1).b)
        s[name + "-send-wait"] = (Chan(buf, 8, 1).send(1).poll_send(0).poll_send(1).recv(1)
                                  .poll_send(0).recv(1).poll_send(1).recv(1).b)
        s[name + "-cancel-pass-on"] = (Chan(buf, 8, 2).poll_recv(0).poll_recv(1).send(1)
                                       .drop_recv(0).poll_recv(1).b)
        s[name + "-close-wakes"] = (Chan(buf, 8, 1).poll_recv(0).send(1).poll_send(1)
                                    .poll_send(2).close().poll_send(1).poll_recv(0).b)
        s[name + "-handles"] = (Chan(buf, 8, 3).op(6).op(6).op(7).op(7).send(1).op(7).recv(2).b)
        s[name + "-last-receiver"] = (Chan(buf, 8, 3).op(8).op(9).send(1).poll_send(0).op(9)
                                      .send(1).recv(2).b)
    # oneshot: mode 5, then one byte per operation (0 send, 1 sender drop, 2 close,
    # 3 try_recv, 4 poll the future, 5 drop it)
    s["oneshot-send-recv"] = bytes([5, 4, 0, 4, 3, 0])
    s["oneshot-sender-drop"] = bytes([5, 4, 1, 4, 0])
    s["oneshot-close-first"] = bytes([5, 4, 2, 0, 4, 1, 3])
    s["oneshot-sent-then-closed"] = bytes([5, 0, 2, 3, 3])
    s["oneshot-cancel"] = bytes([5, 4, 5, 4, 0, 5, 3])
    # broadcast: mode 6, capacity, then (op, receiver): 0 send, 2 close, 3 subscribe,
    # 4 unsubscribe, 5 try_recv, 6 poll a future, 7 drop it
    s["broadcast-lag"] = bytes([6, 1, 3, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 5, 0, 5, 0, 5, 1,
                                6, 1, 6, 1])
    s["broadcast-wait"] = bytes([6, 3, 3, 0, 3, 1, 6, 0, 6, 1, 0, 0, 6, 0, 7, 1, 2, 0, 6, 0, 6, 1])
    s["broadcast-no-receiver"] = bytes([6, 2, 0, 0, 3, 2, 0, 0, 4, 2, 0, 0, 3, 0, 5, 0])
    # creation parameters: mode 7, then (buffer bit, size, size) with pick_size's encoding:
    # (0, sh, v) small v; (1, sh, d) 2^sh + d - 1; (2, sh) UINT64_MAX >> sh; (3, sh, u64)
    p = bytes([7])
    for vy in (1, 0):
        p += u8(vy) + bytes([1, 0, 1]) + bytes([1, 60, 1])    # 1 x 2^60: vyukov overflows
        p += u8(vy) + bytes([0, 0, 0]) + bytes([0, 0, 5])     # size 0
        p += u8(vy) + bytes([1, 30, 2]) + bytes([0, 0, 1])    # elem 2^30 + 1
        p += u8(vy) + bytes([0, 0, 8]) + bytes([2, 3])        # capacity SIZE_MAX >> 3
        p += u8(vy) + bytes([0, 0, 8]) + bytes([2, 4])        # capacity SIZE_MAX >> 4
        p += u8(vy) + bytes([1, 20, 1]) + bytes([1, 44, 1])   # 2^20 x 2^44: overflow
        p += u8(vy) + bytes([0, 0, 40]) + bytes([0, 0, 200])  # small
    p += u8(1) + bytes([2, 0]) + bytes([0, 0, 1])             # elem UINT64_MAX
    p += u8(0) + bytes([3, 0]) + u64(12345) + bytes([0, 0, 3])  # any size, 16 calls in all
    p += bytes([0, 0, 0]) + bytes([2, 3]) + bytes([2, 2]) + bytes([0, 0, 9])  # broadcast sizes
    s["params"] = p
    return s


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for target, seeds in (("fuzz_addr", addr_seeds()), ("fuzz_config", config_seeds()),
                          ("fuzz_timer", timer_seeds()), ("fuzz_chan", chan_seeds())):
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()
