#!/usr/bin/env python3
"""Kernel-side traffic for the host-path benchmark (bench/scripts/hostpath.sh).

  hostpath.py sink --port P [--lifetime S]
      TCP sink: per connection, reads until EOF, answers the byte count, closes.
  hostpath.py send --host H --port P --bytes N [--timeout S]
      Sends N bytes to a sink and waits for its count; prints one JSON line
      (bytes, seconds from connect to the sink's answer, Mbit/s).
  hostpath.py udp --dst A --port P [--size 1000] [--seconds S]
      Sends `size`-byte UDP datagrams to A:P as fast as it can until S
      seconds pass or SIGTERM; prints one JSON line (sent, refused, seconds).

Every mode is bounded in time, so a forgotten process never lingers.
"""
import argparse
import json
import signal
import socket
import sys
import time

CHUNK = 1 << 20


def sink(a):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", a.port))
    srv.listen(4)
    deadline = time.monotonic() + a.lifetime
    buf = bytearray(CHUNK)
    while time.monotonic() < deadline:
        srv.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            break
        conn.settimeout(60)
        n = 0
        try:
            while True:
                k = conn.recv_into(buf)
                if k == 0:
                    break
                n += k
            conn.sendall(b"%d\n" % n)
        except OSError:
            pass
        conn.close()


def send(a):
    data = memoryview(bytes(CHUNK))
    t0 = time.monotonic()
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    left = a.bytes
    while left > 0:
        k = min(left, CHUNK)
        s.sendall(data[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while not reply.endswith(b"\n"):
        k = s.recv(64)
        if not k:
            break
        reply += k
    secs = time.monotonic() - t0
    s.close()
    got = int(reply.strip() or b"0")
    print(json.dumps({"bytes": a.bytes, "received": got, "seconds": secs,
                      "mbit_per_s": got * 8 / secs / 1e6}))
    return 0 if got == a.bytes else 1


def udp(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = bytes(a.size)
    dst = (a.dst, a.port)
    sent = refused = 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    while not stop:
        for _ in range(256):
            try:
                s.sendto(payload, dst)
                sent += 1
            except OSError:
                refused += 1
        if time.monotonic() >= end:
            break
    secs = time.monotonic() - t0
    print(json.dumps({"sent": sent, "refused": refused, "seconds": secs,
                      "datagrams_per_s": sent / secs}), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sink")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--lifetime", type=float, default=300.0)
    p = sub.add_parser("send")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60.0)
    p = sub.add_parser("udp")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=9)
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=60.0)
    a = ap.parse_args()
    return {"sink": sink, "send": send, "udp": udp}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
