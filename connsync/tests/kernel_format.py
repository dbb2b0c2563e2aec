#!/usr/bin/env python3
"""Decode one IPVS sync datagram (hex on stdin) to JSON on stdout.

Written from the kernel's struct layouts alone (net/netfilter/ipvs/ip_vs_sync.c,
include/uapi/linux/ip_vs.h), independently of the Rust crate, so the Rust tests
check the crate's output against a second reading of the format. Stricter than
the kernel: any malformation is an error (exit 1, reason on stderr), because a
datagram ferrovs builds must be well formed, padding included.

struct ip_vs_sync_mesg (v1 header):  u8 reserved(0), u8 syncid, be16 size,
                                     u8 nr_conns, s8 version(1), u16 spare(0)
struct ip_vs_sync_mesg_v0:           u8 nr_conns, u8 syncid, be16 size
struct ip_vs_sync_v4 (v1 entry):     u8 type, u8 protocol, be16 ver_size,
                                     be32 flags, be16 state, be16 cport,
                                     be16 vport, be16 dport, be32 fwmark,
                                     be32 timeout, be32 caddr, vaddr, daddr
  then options: u8 type, u8 len, data; entries padded to 4 bytes before the
  next one (ip_vs_sync_conn: pad = (4 - head) & 3), the last one not padded.
struct ip_vs_sync_conn_v0:           u8 reserved, u8 protocol, be16 cport,
                                     vport, dport, be32 caddr, vaddr, daddr,
                                     be16 flags, be16 state
  then, when flags & IP_VS_CONN_F_SEQ_MASK (0x0600), struct
  ip_vs_sync_conn_options copied with memcpy: host order (little-endian).
struct ip_vs_seq:                    u32 init_seq, delta, previous_delta
"""

import json
import socket
import struct
import sys

V1_HDR = struct.Struct("!BBHBbH")
V0_HDR = struct.Struct("!BBH")
V1_V4 = struct.Struct("!BBHIHHHHII4s4s4s")
V0_CONN = struct.Struct("!BBHHH4s4s4sHH")
SEQ_BE = struct.Struct("!III")
SEQ_LE = struct.Struct("<III")
SEQ_MASK = 0x0600
OPT_SEQ_DATA = 1
OPT_FULLNAT = 0x70  # ferrovs: optional bit 0x40 | 0x30


class Bad(Exception):
    pass


def ip(b):
    return socket.inet_ntoa(b)


def seq(fmt, data, off):
    a = fmt.unpack_from(data, off)
    return {"init_seq": a[0], "delta": a[1], "previous_delta": a[2]}


def v1_options(data):
    opts, seqd, fullnat, p = [], None, None, 0
    while p < len(data):
        if p + 2 > len(data):
            raise Bad("option header truncated")
        ptype, plen = data[p], data[p + 1]
        body = data[p + 2:p + 2 + plen]
        if plen == 0 or len(body) != plen:
            raise Bad("option length")
        opts.append({"type": ptype, "len": plen, "data": body.hex()})
        if ptype & ~0x40 == OPT_SEQ_DATA:
            if plen != 24 or seqd is not None:
                raise Bad("sequence option")
            seqd = {"in": seq(SEQ_BE, body, 0), "out": seq(SEQ_BE, body, 12)}
        elif ptype == OPT_FULLNAT:
            if plen != 6 or fullnat is not None:
                raise Bad("fullnat option")
            fullnat = {"laddr": ip(body[0:4]), "lport": struct.unpack("!H", body[4:6])[0]}
        p += 2 + plen
    return opts, seqd, fullnat


def v1(buf):
    reserved, syncid, size, nr, version, spare = V1_HDR.unpack_from(buf, 0)
    out = {"version": 1, "syncid": syncid, "size": size, "nr_conns": nr, "entries": []}
    p = V1_HDR.size
    for i in range(nr):
        pad = (4 - p) & 3
        if i > 0:
            if buf[p:p + pad] != bytes(pad):
                raise Bad("non-zero padding")
            p += pad
        if p + V1_V4.size > len(buf):
            raise Bad("entry %d truncated" % i)
        (typ, proto, ver_size, flags, state, cport, vport, dport, fwmark, timeout,
         caddr, vaddr, daddr) = V1_V4.unpack_from(buf, p)
        esize = ver_size & 0x0FFF
        if typ != 0:
            raise Bad("not an IPv4 entry")
        if ver_size >> 12:
            raise Bad("entry version")
        if esize < V1_V4.size or p + esize > len(buf):
            raise Bad("entry size")
        opts, seqd, fullnat = v1_options(buf[p + V1_V4.size:p + esize])
        out["entries"].append({
            "offset": p, "pad_before": pad if i > 0 else 0, "type": typ,
            "protocol": proto, "ver": ver_size >> 12, "size": esize, "flags": flags,
            "state": state, "cport": cport, "vport": vport, "dport": dport,
            "fwmark": fwmark, "timeout": timeout, "caddr": ip(caddr),
            "vaddr": ip(vaddr), "daddr": ip(daddr), "options": opts, "seq": seqd,
            "fullnat": fullnat,
        })
        p += esize
    if p != len(buf):
        raise Bad("%d bytes after the last entry" % (len(buf) - p))
    return out


def v0(buf):
    nr, syncid, size = V0_HDR.unpack_from(buf, 0)
    out = {"version": 0, "syncid": syncid, "size": size, "nr_conns": nr, "entries": []}
    p = V0_HDR.size
    for i in range(nr):
        if p + V0_CONN.size > len(buf):
            raise Bad("entry %d truncated" % i)
        (reserved, proto, cport, vport, dport, caddr, vaddr, daddr, flags,
         state) = V0_CONN.unpack_from(buf, p)
        e = {"offset": p, "reserved": reserved, "protocol": proto, "cport": cport,
             "vport": vport, "dport": dport, "caddr": ip(caddr), "vaddr": ip(vaddr),
             "daddr": ip(daddr), "flags": flags, "state": state, "seq": None}
        p += V0_CONN.size
        if flags & SEQ_MASK:
            if p + 24 > len(buf):
                raise Bad("entry %d options truncated" % i)
            e["seq"] = {"in": seq(SEQ_LE, buf, p), "out": seq(SEQ_LE, buf, p + 12)}
            p += 24
        out["entries"].append(e)
    if p != len(buf):
        raise Bad("%d bytes after the last entry" % (len(buf) - p))
    return out


def decode(buf):
    if len(buf) < V0_HDR.size:
        raise Bad("shorter than a header")
    size = struct.unpack_from("!H", buf, 2)[0]
    if size != len(buf):
        raise Bad("size field %d, datagram %d" % (size, len(buf)))
    # ip_vs_process_message: v1 when reserved 0, version 1 and spare 0.
    if len(buf) >= V1_HDR.size:
        reserved, _, _, _, version, spare = V1_HDR.unpack_from(buf, 0)
        if reserved == 0 and version == 1 and spare == 0:
            return v1(buf)
    return v0(buf)


def main():
    try:
        buf = bytes.fromhex(sys.stdin.read().strip())
        json.dump(decode(buf), sys.stdout, sort_keys=True)
    except (Bad, ValueError, struct.error) as e:
        print(str(e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
