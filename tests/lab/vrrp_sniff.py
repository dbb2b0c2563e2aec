#!/usr/bin/env python3
"""VRRP lab sniffer, python3 stdlib only. Bounded in time and count.

Capture mode (run inside a namespace):
    vrrp_sniff.py --iface br0 --out FILE --lifetime 60 [--promisc]
  AF_PACKET capture on IFACE; one JSON line per frame of interest, flushed per
  line. The first line is {"kind": "ready", ...} once the socket is bound.
  Every line carries t (time.monotonic(): CLOCK_MONOTONIC, the clock of Rust's
  Instant) and wall (time.time()).
    VRRP (IP protocol 112): kind "vrrp", src_mac, src, dst, ttl, version, type,
      vrid, priority, count, addrs, interval (seconds for v2, centiseconds for
      v3), auth_type, auth_data (hex), checksum, checksum_plain_ok (over the
      VRRP message alone: v2, RFC 9568 v3), checksum_pseudo_ok (with the IPv4
      pseudo-header: keepalived's v3), length, pkttype.
    ARP: kind "arp", op, src_mac, sender_ip, sender_mac, target_ip, target_mac,
      pkttype.
  pkttype is the kernel's: 0 to us, 1 broadcast, 2 multicast, 3 another host,
  4 outgoing (sent from this namespace).

ARP probe mode:
    vrrp_sniff.py --arp-probe IP --iface I --count N [--interval 0.1] [--wait 1]
  Sends N ARP who-has IP from the interface's own address and MAC, then
  prints {"ip", "src", "src_mac", "sent", "replies": [{"mac", "t"}...]}: every
  ARP reply for IP addressed to us, including duplicates (who answers).

Advert mode (a scripted VRRP peer, to check what a real speaker accepts):
    vrrp_sniff.py --send-advert --iface I [--version 3] [--vrid 51]
        [--priority 200] [--advert-int 100] [--addrs 10.99.0.100]
        [--checksum pseudo|plain] [--auth-pass P] [--count 10] [--every 0.5]
  Sends COUNT adverts (TTL 255, to 224.0.0.18) from the interface's address;
  --advert-int is seconds for v2, centiseconds for v3; --checksum plain is
  RFC 9568's (VRRP message only), pseudo keepalived's (with the IPv4
  pseudo-header); v2 always uses plain.
"""
import argparse
import fcntl
import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
SIOCGIFADDR = 0x8915
SIOCGIFHWADDR = 0x8927
MAX_FRAMES = 1_000_000


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def inet_sum(data):
    """Internet checksum of `data` (ones' complement of the ones' complement sum)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def parse_vrrp(ip, src_mac):
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    ttl = ip[8]
    src, dst = ip[12:16], ip[16:20]
    msg = ip[ihl:total] if ihl <= total <= len(ip) else ip[ihl:]
    out = {
        "kind": "vrrp",
        "src_mac": src_mac,
        "src": socket.inet_ntoa(src),
        "dst": socket.inet_ntoa(dst),
        "ttl": ttl,
        "length": len(msg),
    }
    if len(msg) < 8:
        out["malformed"] = True
        return out
    version, vtype = msg[0] >> 4, msg[0] & 0x0F
    count = msg[3]
    addrs = [socket.inet_ntoa(msg[8 + 4 * i:12 + 4 * i]) for i in range(count) if 12 + 4 * i <= len(msg)]
    out.update(version=version, type=vtype, vrid=msg[1], priority=msg[2], count=count, addrs=addrs)
    if version == 3:
        out["interval"] = ((msg[4] & 0x0F) << 8) | msg[5]
        out["auth_type"] = None
        out["auth_data"] = ""
    else:
        out["auth_type"] = msg[4]
        out["interval"] = msg[5]
        a = 8 + 4 * count
        out["auth_data"] = msg[a:a + 8].hex()
    out["checksum"] = struct.unpack("!H", msg[6:8])[0]
    out["checksum_plain_ok"] = inet_sum(msg) == 0
    pseudo = src + dst + struct.pack("!BBH", 0, 112, len(msg))
    out["checksum_pseudo_ok"] = inet_sum(pseudo + msg) == 0
    return out


def parse_arp(frame, src_mac):
    a = frame[14:42]
    if len(a) < 28:
        return None
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", a[:8])
    if htype != 1 or ptype != ETH_P_IP or hlen != 6 or plen != 4:
        return None
    return {
        "kind": "arp",
        "op": op,
        "src_mac": src_mac,
        "sender_mac": mac_str(a[8:14]),
        "sender_ip": socket.inet_ntoa(a[14:18]),
        "target_mac": mac_str(a[18:24]),
        "target_ip": socket.inet_ntoa(a[24:28]),
    }


def parse(frame):
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    src_mac = mac_str(frame[6:12])
    if ethertype == ETH_P_ARP:
        return parse_arp(frame, src_mac)
    if ethertype == ETH_P_IP and len(frame) >= 34 and frame[14] >> 4 == 4 and frame[23] == 112:
        return parse_vrrp(frame[14:], src_mac)
    return None


def capture(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.iface, ETH_P_ALL))
    if a.promisc:
        ifindex = socket.if_nametoindex(a.iface)
        mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
        s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
    out = open(a.out, "w", buffering=1)
    start = time.monotonic()
    deadline = start + a.lifetime
    out.write(json.dumps({"kind": "ready", "t": start, "wall": time.time(), "iface": a.iface}) + "\n")
    frames = 0
    while frames < MAX_FRAMES:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], min(left, 0.5))
        if not r:
            continue
        frame, addr = s.recvfrom(65535)
        t, wall = time.monotonic(), time.time()
        frames += 1
        try:
            rec = parse(frame)
        except (struct.error, IndexError, OSError):
            rec = None
        if rec is None:
            continue
        rec["t"] = t
        rec["wall"] = wall
        rec["pkttype"] = addr[2]
        out.write(json.dumps(rec) + "\n")
    out.close()


def iface_addr(s, iface):
    req = struct.pack("256s", iface.encode()[:15])
    ip = fcntl.ioctl(s.fileno(), SIOCGIFADDR, req)[20:24]
    mac = fcntl.ioctl(s.fileno(), SIOCGIFHWADDR, req)[18:24]
    return ip, mac


def arp_probe(a):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    my_ip, my_mac = iface_addr(udp, a.iface)
    udp.close()
    target = socket.inet_aton(a.arp_probe)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((a.iface, ETH_P_ARP))
    req = (b"\xff" * 6 + my_mac + struct.pack("!H", ETH_P_ARP)
           + struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 1)
           + my_mac + my_ip + b"\0" * 6 + target)
    req += b"\0" * (60 - len(req))
    replies = []
    start = time.monotonic()
    count = max(0, min(a.count, 1000))
    next_send, sent = start, 0
    deadline = start + count * a.interval + a.wait
    while True:
        now = time.monotonic()
        if sent < count and now >= next_send:
            s.send(req)
            sent += 1
            next_send += a.interval
            continue
        if now >= deadline or len(replies) >= 10_000:
            break
        wake = min(deadline, next_send) if sent < count else deadline
        r, _, _ = select.select([s], [], [], max(0.0, wake - now))
        if not r:
            continue
        frame = s.recv(65535)
        rec = parse(frame)
        if (rec and rec["kind"] == "arp" and rec["op"] == 2 and rec["sender_ip"] == a.arp_probe
                and rec["target_ip"] == socket.inet_ntoa(my_ip) and rec["target_mac"] == mac_str(my_mac)):
            replies.append({"mac": rec["sender_mac"], "src_mac": rec["src_mac"], "t": time.monotonic()})
    print(json.dumps({
        "ip": a.arp_probe,
        "src": socket.inet_ntoa(my_ip),
        "src_mac": mac_str(my_mac),
        "sent": sent,
        "replies": replies,
    }))


def send_advert(a):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    my_ip, _ = iface_addr(udp, a.iface)
    udp.close()
    addrs = [socket.inet_aton(x) for x in a.addrs.split(",") if x]
    if a.version == 3:
        head = struct.pack("!BBBBHH", 0x31, a.vrid, a.priority, len(addrs), a.advert_int & 0x0FFF, 0)
        msg = bytearray(head + b"".join(addrs))
    else:
        auth_type = 1 if a.auth_pass else 0
        head = struct.pack("!BBBBBBH", 0x21, a.vrid, a.priority, len(addrs), auth_type, a.advert_int & 0xFF, 0)
        auth = (a.auth_pass or "").encode()[:8].ljust(8, b"\0")
        msg = bytearray(head + b"".join(addrs) + auth)
    dst = socket.inet_aton("224.0.0.18")
    if a.version == 3 and a.checksum == "pseudo":
        c = inet_sum(my_ip + dst + struct.pack("!BBH", 0, 112, len(msg)) + bytes(msg))
    else:
        c = inet_sum(bytes(msg))
    msg[6:8] = struct.pack("!H", c)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, my_ip)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    count = max(0, min(a.count, 10_000))
    for i in range(count):
        s.sendto(bytes(msg), ("224.0.0.18", 0))
        if i + 1 < count:
            time.sleep(max(0.0, min(a.every, 10.0)))
    print(json.dumps({"sent": count, "src": socket.inet_ntoa(my_ip), "checksum": f"{c:#06x}"}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--out", help="capture: JSON lines file")
    ap.add_argument("--lifetime", type=float, default=60.0, help="capture: seconds at most")
    ap.add_argument("--promisc", action="store_true", help="capture: promiscuous (unicast between others on a bridge)")
    ap.add_argument("--arp-probe", metavar="IP", help="send ARP who-has IP and list who answers")
    ap.add_argument("--count", type=int, default=3, help="ARP probe: requests; adverts: adverts")
    ap.add_argument("--interval", type=float, default=0.1, help="ARP probe: seconds between requests")
    ap.add_argument("--wait", type=float, default=1.0, help="ARP probe: seconds to wait after the last one")
    ap.add_argument("--send-advert", action="store_true", help="send VRRP adverts (see the module doc)")
    ap.add_argument("--version", type=int, default=3, choices=[2, 3])
    ap.add_argument("--vrid", type=int, default=51)
    ap.add_argument("--priority", type=int, default=200)
    ap.add_argument("--advert-int", type=int, default=100, help="v2 seconds, v3 centiseconds")
    ap.add_argument("--addrs", default="10.99.0.100", help="comma-separated")
    ap.add_argument("--checksum", choices=["pseudo", "plain"], default="pseudo")
    ap.add_argument("--auth-pass", default="")
    ap.add_argument("--every", type=float, default=0.5, help="seconds between adverts")
    a = ap.parse_args()
    if a.send_advert:
        send_advert(a)
    elif a.arp_probe:
        arp_probe(a)
    elif a.out:
        capture(a)
    else:
        ap.error("--out (capture) or --arp-probe")
    return 0


if __name__ == "__main__":
    sys.exit(main())
