#!/usr/bin/env python3
"""Userspace IPIP, GUE and GRE decapsulator for the TUN-mode lab.

The lab kernel has no `ipip` (nor `fou`, `ip_gre`) module, so a real server
(RS) cannot terminate the director's tunnel itself. Run this inside the RS's
network namespace:

    ip netns exec fvs-rs1 python3 tests/lab/ipip_decap.py --tun tun0 \
        --gue-port 6080 --lifetime 600 --count-file /tmp/ferrovs-lab/rs1.decap

It reads every tunnelled packet addressed to this host and writes the inner
IPv4 packet into a TUN device it creates (IFF_TUN | IFF_NO_PI) and brings up:
  * IPIP (protocol 4) from a raw socket, outer IPv4 header stripped;
  * GRE (protocol 47) from a raw socket: version 0, protocol type 0x0800,
    optional checksum (verified; a bad one is dropped), key and sequence
    number skipped;
  * GUE from a UDP socket on each --gue-port: version 0 data message with
    proto/ctype 4 (IPIP), its hlen words of options skipped. The kernel has
    already verified a non-zero UDP checksum (a bad one never arrives). The kernel then receives the inner packet as if it had
arrived on that device, so a service bound to the VIP answers it directly
(TUN mode's direct return).

What the harness must configure in the RS namespace (not done here):
  * the VIP on `lo` (ip addr add VIP/32 dev lo), and ARP for it suppressed
    if the VIP is also on a shared segment (arp_ignore=1, arp_announce=2);
  * reverse-path filtering off, or the kernel drops the inner packets,
    whose client source is not routed via the tun device:
        sysctl -w net.ipv4.conf.all.rp_filter=0
        sysctl -w net.ipv4.conf.default.rp_filter=0   (before tun0 exists)
        sysctl -w net.ipv4.conf.tun0.rp_filter=0       (after it exists)
    (the effective value is the max of `all` and the device's).

Bounded: exits after --lifetime seconds, on SIGTERM/SIGINT, and never
blocks for more than 0.5 s at a time. Packets are only ever written to the
TUN device it created; nothing is sent on the network.
"""

import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IPPROTO_IPIP = 4
IPPROTO_GRE = 47
GRE_CSUM = 0x8000
GRE_KEY = 0x2000
GRE_SEQ = 0x1000
ETH_P_IP = 0x0800
POLL_SECONDS = 0.5
COUNT_EVERY_SECONDS = 0.5


def open_tun(name):
    """Creates (or attaches to) TUN device `name`; returns its fd."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    # Reading from the TUN is never needed (replies use the normal route),
    # but the kernel queues what it routes there: keep the fd non-blocking
    # and drain it so that queue cannot fill.
    os.set_blocking(fd, False)
    return fd


def checksum(data):
    """Internet checksum (RFC 1071) of `data`: 0 when it verifies."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(packet):
    """The IPv4 packet at the front of `packet`, cut to its total length."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    total = struct.unpack("!H", packet[2:4])[0]
    if total < 20 or total > len(packet):
        return None
    return packet[:total]


def outer_payload(datagram, proto):
    """What follows the outer IPv4 header of a raw-socket datagram of
    protocol `proto` (a raw IPv4 socket delivers the outer header too)."""
    outer = ipv4(datagram)
    if outer is None or outer[9] != proto:
        return None
    ihl = (outer[0] & 0x0F) * 4
    return outer[ihl:] if ihl >= 20 else None


def ipip_inner(datagram):
    """The inner IPv4 packet of a raw-socket IPIP datagram, or None."""
    payload = outer_payload(datagram, IPPROTO_IPIP)
    return None if payload is None else ipv4(payload)


def gre_inner(datagram):
    """The inner IPv4 packet of a raw-socket GRE datagram, or None."""
    gre = outer_payload(datagram, IPPROTO_GRE)
    if gre is None or len(gre) < 4:
        return None
    flags, ptype = struct.unpack("!HH", gre[:4])
    if flags & 0x0007 or flags & ~(GRE_CSUM | GRE_KEY | GRE_SEQ | 0x0007) or ptype != ETH_P_IP:
        return None
    if flags & GRE_CSUM and checksum(gre) != 0:
        return None
    hlen = 4 + sum(4 for f in (GRE_CSUM, GRE_KEY, GRE_SEQ) if flags & f)
    return ipv4(gre[hlen:])


def gue_inner(payload):
    """The inner IPv4 packet of a GUE message (UDP payload), or None."""
    if len(payload) < 4:
        return None
    version, control, hlen = payload[0] >> 6, (payload[0] >> 5) & 1, payload[0] & 0x1F
    if version != 0 or control or payload[1] != IPPROTO_IPIP:
        return None
    return ipv4(payload[4 + hlen * 4:])


def write_count(path, counts):
    """`total ipip=N gue=N gre=N`, written to a temporary name and renamed,
    so readers never see a half-written line."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        by_type = " ".join(f"{k}={v}" for k, v in counts.items())
        f.write(f"{sum(counts.values())} {by_type}\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tun", default="tun0", help="TUN device to create (default tun0)")
    ap.add_argument("--lifetime", type=float, default=3600.0,
                    help="exit after this many seconds (default 3600)")
    ap.add_argument("--gue-port", type=int, action="append", default=[],
                    help="UDP port to accept GUE on (repeatable)")
    ap.add_argument("--count-file",
                    help="periodically write the numbers of packets decapsulated")
    args = ap.parse_args()
    if len(args.tun.encode()) > 15:
        ap.error("--tun: interface names are at most 15 bytes")

    stop = False

    def on_signal(_signo, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    tun = open_tun(args.tun)
    subprocess.run(["ip", "link", "set", args.tun, "up"], check=True)
    # Best effort: the harness sets rp_filter too, but the per-device knob
    # only exists now that the device does.
    try:
        with open(f"/proc/sys/net/ipv4/conf/{args.tun}/rp_filter", "w") as f:
            f.write("0\n")
    except OSError:
        pass

    # Each socket with the function that finds the inner packet in what it reads.
    sockets = {}
    for proto, name, inner_of in ((IPPROTO_IPIP, "ipip", ipip_inner),
                                  (IPPROTO_GRE, "gre", gre_inner)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
        sockets[sock] = (name, inner_of)
    for port in args.gue_port:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", port))
        sockets[sock] = ("gue", gue_inner)
    for sock in sockets:
        sock.setblocking(False)
    counts = {"ipip": 0, "gue": 0, "gre": 0}
    written = None
    deadline = time.monotonic() + args.lifetime
    next_count = 0.0
    if args.count_file:
        write_count(args.count_file, counts)
        written = dict(counts)
    print(f"ipip_decap: {args.tun} up, pid {os.getpid()}, GUE ports {args.gue_port}, "
          f"lifetime {args.lifetime}s", file=sys.stderr, flush=True)

    try:
        while not stop:
            now = time.monotonic()
            if now >= deadline:
                break
            timeout = min(POLL_SECONDS, deadline - now)
            try:
                readable, _, _ = select.select(list(sockets) + [tun], [], [], timeout)
            except InterruptedError:
                continue
            if tun in readable:
                # Bounded drain of whatever the kernel routed to the TUN.
                for _ in range(64):
                    try:
                        os.read(tun, 65535)
                    except BlockingIOError:
                        break
            for sock in readable:
                if sock is tun:
                    continue
                name, inner_of = sockets[sock]
                # Bounded burst so signals and the deadline stay responsive.
                for _ in range(256):
                    try:
                        datagram = sock.recv(65535)
                    except BlockingIOError:
                        break
                    inner = inner_of(datagram)
                    if inner is None:
                        continue
                    try:
                        os.write(tun, inner)
                        counts[name] += 1
                    except OSError as e:
                        print(f"ipip_decap: write to {args.tun}: {e}", file=sys.stderr)
            if args.count_file and counts != written and time.monotonic() >= next_count:
                write_count(args.count_file, counts)
                written = dict(counts)
                next_count = time.monotonic() + COUNT_EVERY_SECONDS
    finally:
        if args.count_file:
            write_count(args.count_file, counts)
        for sock in sockets:
            sock.close()
        os.close(tun)
    print(f"ipip_decap: exiting, decapsulated {counts}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
