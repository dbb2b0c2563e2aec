#!/usr/bin/env python3
"""Captures IPVS sync messages (UDP to --port) on one interface for at most
--lifetime seconds: one line of hex per UDP payload in --out, flushed."""
import argparse
import select
import socket
import struct
import time

ETH_P_ALL = 0x0003


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--port", type=int, default=8848)
    ap.add_argument("--lifetime", type=float, default=120.0)
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    end = time.monotonic() + a.lifetime
    with open(a.out, "w") as out:
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], 0.2)
            if not r:
                continue
            f = s.recv(65535)
            if len(f) < 42 or f[12:14] != b"\x08\x00" or f[23] != 17:
                continue
            ihl = (f[14] & 0x0F) * 4
            udp = 14 + ihl
            if struct.unpack("!H", f[udp + 2:udp + 4])[0] != a.port:
                continue
            length = struct.unpack("!H", f[udp + 4:udp + 6])[0]
            out.write(f[udp + 8:udp + length].hex() + "\n")
            out.flush()


if __name__ == "__main__":
    main()
