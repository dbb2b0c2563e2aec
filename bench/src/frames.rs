//! Hand-built Ethernet/IPv4/TCP frames for the benchmarks, and the few
//! accessors needed to turn a forwarded frame into the real server's reply.
use std::net::Ipv4Addr;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const SYN_ACK: u8 = SYN | ACK;

/// Minimum Ethernet frame without FCS (64 bytes on the wire).
pub const MIN_FRAME: usize = 60;

/// One's-complement checksum of `data` starting from `initial` (32-bit words
/// summed into 64 bits, then folded: the same sum, a quarter of the steps).
pub fn csum(data: &[u8], initial: u32) -> u16 {
    let mut sum = u64::from(initial);
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        sum += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let mut rest = words.remainder();
    if let [a, b, tail @ ..] = rest {
        sum += u64::from(u16::from_be_bytes([*a, *b]));
        rest = tail;
    }
    if let [b] = rest {
        sum += u64::from(*b) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let (s, d) = (src.octets(), dst.octets());
    u32::from(u16::from_be_bytes([s[0], s[1]]))
        + u32::from(u16::from_be_bytes([s[2], s[3]]))
        + u32::from(u16::from_be_bytes([d[0], d[1]]))
        + u32::from(u16::from_be_bytes([d[2], d[3]]))
        + u32::from(proto)
        + len as u32
}

/// The four addresses and ports of a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dst: Ipv4Addr,
    pub dport: u16,
}

impl Flow {
    pub fn reversed(self) -> Flow {
        Flow {
            src: self.dst,
            sport: self.dport,
            dst: self.src,
            dport: self.sport,
        }
    }
}

/// One TCP segment as the harnesses describe it: addresses, flags, sequence
/// and acknowledgment numbers, and how many payload bytes follow the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub flow: Flow,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub payload: usize,
}

impl Segment {
    /// Sequence space the segment takes: its payload, plus one for SYN and for FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload as u32 + u32::from(self.flags & SYN != 0) + u32::from(self.flags & FIN != 0)
    }
}

/// Payload bytes of the segments `tcp_segment_into` builds.
const PAYLOAD_BYTE: u8 = b'a';

/// An Ethernet + IPv4 + TCP frame (no options on ACKs, MSS on SYNs), padded
/// to `MIN_FRAME` bytes; the acknowledgment number is 1 when ACK is set.
pub fn tcp_frame(dst_mac: [u8; 6], src_mac: [u8; 6], f: Flow, flags: u8, seq: u32) -> Vec<u8> {
    let ack = u32::from(flags & ACK != 0);
    let s = Segment {
        flow: f,
        flags,
        seq,
        ack,
        payload: 0,
    };
    let mut v = Vec::with_capacity(MIN_FRAME);
    tcp_segment_into(&mut v, dst_mac, src_mac, &s);
    v
}

/// Writes segment `s` into `v` (replacing what it held) as an Ethernet, IPv4
/// and TCP frame with correct checksums: MSS 1460 on SYNs, `s.payload` bytes
/// of payload, padded to `MIN_FRAME` bytes. Allocates only when `v` is too small.
pub fn tcp_segment_into(v: &mut Vec<u8>, dst_mac: [u8; 6], src_mac: [u8; 6], s: &Segment) {
    let f = s.flow;
    let opts: &[u8] = if s.flags & SYN != 0 {
        &[2, 4, 0x05, 0xb4]
    } else {
        &[]
    };
    let tcp_len = 20 + opts.len() + s.payload;
    let total = 20 + tcp_len;
    v.clear();
    v.extend_from_slice(&dst_mac);
    v.extend_from_slice(&src_mac);
    v.extend_from_slice(&0x0800u16.to_be_bytes());
    let ip_at = v.len();
    v.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0x12,
        0x34,
        0x40,
        0,
    ]);
    v.extend_from_slice(&[64, 6, 0, 0]);
    v.extend_from_slice(&f.src.octets());
    v.extend_from_slice(&f.dst.octets());
    let c = csum(&v[ip_at..ip_at + 20], 0);
    v[ip_at + 10..ip_at + 12].copy_from_slice(&c.to_be_bytes());
    let tcp_at = v.len();
    v.extend_from_slice(&f.sport.to_be_bytes());
    v.extend_from_slice(&f.dport.to_be_bytes());
    v.extend_from_slice(&s.seq.to_be_bytes());
    v.extend_from_slice(&s.ack.to_be_bytes());
    let doff = ((20 + opts.len()) / 4) as u8;
    v.extend_from_slice(&[doff << 4, s.flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    v.extend_from_slice(opts);
    v.resize(v.len() + s.payload, PAYLOAD_BYTE);
    let c = csum(&v[tcp_at..], pseudo(f.src, f.dst, 6, tcp_len));
    v[tcp_at + 16..tcp_at + 18].copy_from_slice(&c.to_be_bytes());
    if v.len() < MIN_FRAME {
        v.resize(MIN_FRAME, 0);
    }
}

/// The IPv4 header of an Ethernet/IPv4 frame, and the one inside it when it
/// is IPIP; `None` for anything else or a truncated header.
fn ipv4_headers(frame: &[u8]) -> Option<(&[u8], &[u8])> {
    if frame.len() < 14 + 20 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let outer = &frame[14..];
    if outer[9] != 4 {
        return Some((outer, outer));
    }
    let inner = outer.get(usize::from(outer[0] & 0x0f) * 4..)?;
    (inner.len() >= 20).then_some((outer, inner))
}

/// The TCP segment of an Ethernet/IPv4/TCP frame, looking through one IPIP
/// header; `None` for anything else.
pub fn tcp_segment(frame: &[u8]) -> Option<Segment> {
    let (_, ip) = ipv4_headers(frame)?;
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ip.len() < ihl + 20 || ip[9] != 6 {
        return None;
    }
    let t = &ip[ihl..];
    let word = |at: usize| u32::from_be_bytes([t[at], t[at + 1], t[at + 2], t[at + 3]]);
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let header = ihl + usize::from(t[12] >> 4) * 4;
    Some(Segment {
        flow: Flow {
            src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
            dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
            sport: u16::from_be_bytes([t[0], t[1]]),
            dport: u16::from_be_bytes([t[2], t[3]]),
        },
        flags: t[13],
        seq: word(4),
        ack: word(8),
        payload: total.checked_sub(header)?,
    })
}

/// The TCP flow of an Ethernet/IPv4/TCP frame, looking through one IPIP
/// header; `None` for anything else.
pub fn tcp_flow(frame: &[u8]) -> Option<Flow> {
    tcp_segment(frame).map(|s| s.flow)
}

/// TCP flags of an Ethernet/IPv4/TCP frame (looking through IPIP).
pub fn tcp_flags(frame: &[u8]) -> Option<u8> {
    tcp_segment(frame).map(|s| s.flags)
}

/// The outer IPv4 destination of a frame (the tunnel end of an IPIP frame).
pub fn ipv4_dst(frame: &[u8]) -> Option<Ipv4Addr> {
    let (outer, _) = ipv4_headers(frame)?;
    Some(Ipv4Addr::new(outer[16], outer[17], outer[18], outer[19]))
}

/// Whether every IPv4 header checksum (outer and, for IPIP, inner) and the
/// TCP checksum of a frame verify.
pub fn checksums_ok(frame: &[u8]) -> bool {
    let Some((outer, ip)) = ipv4_headers(frame) else {
        return false;
    };
    let header_ok = |h: &[u8]| {
        let ihl = usize::from(h[0] & 0x0f) * 4;
        h.len() >= ihl && csum(&h[..ihl], 0) == 0
    };
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let Some(tcp) = ip.get(ihl..total) else {
        return false;
    };
    let (src, dst) = (
        Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
    );
    header_ok(outer) && header_ok(ip) && csum(tcp, pseudo(src, dst, 6, tcp.len())) == 0
}

pub fn mac_dst(frame: &[u8]) -> [u8; 6] {
    let mut m = [0; 6];
    m.copy_from_slice(&frame[..6]);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_checksums_verify() {
        let f = Flow {
            src: Ipv4Addr::new(10, 0, 0, 2),
            sport: 40000,
            dst: Ipv4Addr::new(10, 0, 0, 100),
            dport: 80,
        };
        let v = tcp_frame([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], f, ACK, 7);
        assert_eq!(v.len(), MIN_FRAME);
        assert_eq!(csum(&v[14..34], 0), 0);
        let tcp = &v[34..54];
        assert_eq!(csum(tcp, pseudo(f.src, f.dst, 6, 20)), 0);
        assert_eq!(tcp_flow(&v), Some(f));
        assert_eq!(tcp_flags(&v), Some(ACK));
        assert!(checksums_ok(&v));
    }

    #[test]
    fn csum_matches_the_16_bit_definition() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        for len in [0, 1, 2, 3, 4, 5, 20, 999, 1000, 1001] {
            let d = &data[..len];
            let mut sum = 0x1_2345u32;
            for c in d.chunks(2) {
                sum += (u32::from(c[0]) << 8) | u32::from(*c.get(1).unwrap_or(&0));
            }
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            assert_eq!(csum(d, 0x1_2345), !(sum as u16), "{len} bytes");
        }
    }

    #[test]
    fn segments_with_payload_round_trip() {
        let s = Segment {
            flow: Flow {
                src: Ipv4Addr::new(10, 1, 0, 11),
                sport: 8080,
                dst: Ipv4Addr::new(10, 0, 0, 2),
                dport: 40000,
            },
            flags: PSH | ACK,
            seq: 0xfffffff0,
            ack: 77,
            payload: 501,
        };
        let mut v = Vec::new();
        tcp_segment_into(&mut v, [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], &s);
        assert_eq!(v.len(), 14 + 20 + 20 + 501);
        assert_eq!(tcp_segment(&v), Some(s));
        assert!(checksums_ok(&v));
        assert_eq!(s.seq_len(), 501);
        v[60] ^= 1;
        assert!(
            !checksums_ok(&v),
            "a flipped payload bit must fail the TCP checksum"
        );
        let syn = Segment {
            flags: SYN | ACK,
            payload: 0,
            ..s
        };
        tcp_segment_into(&mut v, [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], &syn);
        assert_eq!(
            v.len(),
            MIN_FRAME,
            "SYN with MSS padded to the minimum frame"
        );
        assert_eq!(tcp_segment(&v), Some(syn));
        assert!(checksums_ok(&v));
        assert_eq!(syn.seq_len(), 1);
    }
}
