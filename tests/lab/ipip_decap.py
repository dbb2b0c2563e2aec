#!/usr/bin/env python3
"""Userspace IPIP (IPv4-in-IPv4, protocol 4) decapsulator for the TUN-mode lab.

The lab kernel has no `ipip` module, so a real server (RS) cannot terminate
the director's tunnel itself. Run this inside the RS's network namespace:

    ip netns exec fvs-rs1 python3 tests/lab/ipip_decap.py --tun tun0 \
        --lifetime 600 --count-file /tmp/ferrovs-lab/rs1.decap

It reads every IPIP packet addressed to this host from a raw socket
(socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)), strips the outer IPv4 header and
writes the inner packet into a TUN device it creates (IFF_TUN | IFF_NO_PI)
and brings up. The kernel then receives the inner packet as if it had
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


def inner_packet(datagram):
    """Returns the inner IPv4 packet of a raw-socket IPIP datagram, or None.

    A raw IPv4 socket delivers the whole datagram, outer header included.
    """
    if len(datagram) < 20 or datagram[0] >> 4 != 4:
        return None
    ihl = (datagram[0] & 0x0F) * 4
    outer_len = struct.unpack("!H", datagram[2:4])[0]
    if ihl < 20 or datagram[9] != IPPROTO_IPIP or outer_len > len(datagram):
        return None
    inner = datagram[ihl:outer_len]
    if len(inner) < 20 or inner[0] >> 4 != 4:
        return None
    inner_len = struct.unpack("!H", inner[2:4])[0]
    if inner_len < 20 or inner_len > len(inner):
        return None
    return inner[:inner_len]


def write_count(path, n):
    # Written to a temporary name and renamed, so readers never see a
    # half-written number.
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{n}\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tun", default="tun0", help="TUN device to create (default tun0)")
    ap.add_argument("--lifetime", type=float, default=3600.0,
                    help="exit after this many seconds (default 3600)")
    ap.add_argument("--count-file", help="periodically write the number of packets decapsulated")
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

    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
    raw.setblocking(False)
    count = 0
    written = -1
    deadline = time.monotonic() + args.lifetime
    next_count = 0.0
    if args.count_file:
        write_count(args.count_file, 0)
        written = 0
    print(f"ipip_decap: {args.tun} up, pid {os.getpid()}, lifetime {args.lifetime}s",
          file=sys.stderr, flush=True)

    try:
        while not stop:
            now = time.monotonic()
            if now >= deadline:
                break
            timeout = min(POLL_SECONDS, deadline - now)
            try:
                readable, _, _ = select.select([raw, tun], [], [], timeout)
            except InterruptedError:
                continue
            if tun in readable:
                # Bounded drain of whatever the kernel routed to the TUN.
                for _ in range(64):
                    try:
                        os.read(tun, 65535)
                    except BlockingIOError:
                        break
            if raw in readable:
                # Bounded burst so signals and the deadline stay responsive.
                for _ in range(256):
                    try:
                        datagram = raw.recv(65535)
                    except BlockingIOError:
                        break
                    inner = inner_packet(datagram)
                    if inner is None:
                        continue
                    try:
                        os.write(tun, inner)
                        count += 1
                    except OSError as e:
                        print(f"ipip_decap: write to {args.tun}: {e}", file=sys.stderr)
            if args.count_file and count != written and time.monotonic() >= next_count:
                write_count(args.count_file, count)
                written = count
                next_count = time.monotonic() + COUNT_EVERY_SECONDS
    finally:
        if args.count_file:
            write_count(args.count_file, count)
        raw.close()
        os.close(tun)
    print(f"ipip_decap: exiting, {count} packets decapsulated", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
