#!/usr/bin/env python3
"""Captures the first TCP SYN to a port on an interface (AF_PACKET) and prints
its addresses and TCP options as JSON; used to check the FullNAT TOA option on
the real server's side. Bounded by --timeout; exits 1 if nothing was seen."""
import argparse
import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def options(raw):
    out, i = [], 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2:
            break
        ln = raw[i + 1]
        out.append({"kind": kind, "data": raw[i + 2:i + ln].hex()})
        i += ln
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--ready-file", help="touched once the socket is listening")
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    if a.ready_file:
        open(a.ready_file, "w").close()
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        f = s.recv(65535)
        if len(f) < 54 or f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        ihl = (ip[0] & 0xF) * 4
        if ip[9] != 6:
            continue
        tcp = ip[ihl:]
        sport, dport = struct.unpack("!HH", tcp[0:4])
        flags = tcp[13]
        if dport != a.port or not (flags & 0x02) or (flags & 0x10):
            continue
        doff = (tcp[12] >> 4) * 4
        print(json.dumps({
            "src": socket.inet_ntoa(ip[12:16]), "dst": socket.inet_ntoa(ip[16:20]),
            "sport": sport, "dport": dport, "options": options(tcp[20:doff]),
        }))
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
