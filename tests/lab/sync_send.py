#!/usr/bin/env python3
"""Sends IPVS sync messages built byte by byte from the kernel's layout
(net/netfilter/ipvs/ip_vs_sync.c: struct ip_vs_sync_mesg, ip_vs_sync_v4,
ip_vs_sync_conn_v0), independent of ferrovs's codec, to the sync group.

Cases (each one datagram, one connection client:CPORT -> VIP:80 bound to
REAL:8080, ESTABLISHED, NAT):
  v1        version 1 entry
  v1seq     version 1 entry with the sequence option (type 1, 24 bytes)
  v0        version 0 entry (no timeout: the receiver's own)
  template  version 1 persistence template (flags TEMPLATE, cport 0)
  badopt    version 1 entry with an unknown mandatory option (type 9)
  badsize   version 1 message whose size field is one too large
"""
import argparse
import socket
import struct

TCP = 6
ESTABLISHED = 1
F_TEMPLATE = 0x1000
F_INACTIVE = 0x100


def ip(a):
    return socket.inet_aton(a)


def v1_entry(a, flags, state, cport, timeout, options=b""):
    body = struct.pack(
        "!BBHIHHHHII4s4s4s",
        0,                      # type: IPv4
        TCP,                    # protocol
        0,                      # ver_size, filled below
        flags,
        state,
        cport, 80, 8080,        # cport, vport, dport
        0,                      # fwmark
        timeout,
        ip(a.client), ip(a.vip), ip(a.real),
    )
    size = len(body) + len(options)
    body = body[:2] + struct.pack("!H", size & 0x0FFF) + body[4:]
    return body + options


def v1_message(syncid, entries, size_delta=0):
    payload = b""
    for i, e in enumerate(entries):
        if i and len(payload) % 4:
            payload += b"\0" * (4 - len(payload) % 4)   # padding before the next entry
        payload += e
    size = 8 + len(payload) + size_delta
    head = struct.pack("!BBHBBH", 0, syncid, size, len(entries), 1, 0)
    return head + payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--syncid", type=int, default=0)
    ap.add_argument("--cport", type=int, required=True)
    ap.add_argument("--client", default="10.99.0.2")
    ap.add_argument("--vip", default="10.99.0.100")
    ap.add_argument("--real", default="10.99.1.11")
    ap.add_argument("--group", default="224.0.0.81")
    ap.add_argument("--port", type=int, default=8848)
    a = ap.parse_args()
    c = a.case
    if c == "v1":
        msg = v1_message(a.syncid, [v1_entry(a, 0, ESTABLISHED, a.cport, 900)])
    elif c == "v1seq":
        seq = struct.pack("!IIIIII", 1000, 0, 0, 2000, 0, 0)   # in: init, delta, prev; out: ...
        opt = struct.pack("!BB", 1, len(seq)) + seq
        msg = v1_message(a.syncid, [v1_entry(a, 0x600, ESTABLISHED, a.cport, 900, opt)])
    elif c == "v0":
        entry = struct.pack("!BBHHH4s4s4sHH", 0, TCP, a.cport, 80, 8080,
                            ip(a.client), ip(a.vip), ip(a.real), 0, ESTABLISHED)
        msg = struct.pack("!BBH", 1, a.syncid, 4 + len(entry)) + entry
    elif c == "template":
        msg = v1_message(a.syncid, [v1_entry(a, F_TEMPLATE | F_INACTIVE, 0, 0, 300)])
    elif c == "badopt":
        opt = struct.pack("!BB", 9, 4) + b"\0\0\0\0"
        msg = v1_message(a.syncid, [v1_entry(a, 0, ESTABLISHED, a.cport, 900, opt)])
    elif c == "badsize":
        msg = v1_message(a.syncid, [v1_entry(a, 0, ESTABLISHED, a.cport, 900)], size_delta=1)
    else:
        raise SystemExit(f"unknown case {c}")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, ip(a.client))
    s.sendto(msg, (a.group, a.port))


if __name__ == "__main__":
    main()
