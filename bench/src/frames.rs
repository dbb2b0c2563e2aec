//! Hand-built Ethernet/IPv4/TCP frames for the benchmarks, and the few
//! accessors needed to turn a forwarded frame into the real server's reply.
use std::net::Ipv4Addr;

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const SYN_ACK: u8 = SYN | ACK;

/// Minimum Ethernet frame without FCS (64 bytes on the wire).
pub const MIN_FRAME: usize = 60;

/// One's-complement checksum of `data` starting from `initial`.
pub fn csum(data: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u32::from(*b) << 8;
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

/// An Ethernet + IPv4 + TCP frame (no options on ACKs, MSS on SYNs), padded
/// to `MIN_FRAME` bytes.
pub fn tcp_frame(dst_mac: [u8; 6], src_mac: [u8; 6], f: Flow, flags: u8, seq: u32) -> Vec<u8> {
    let opts: &[u8] = if flags & SYN != 0 {
        &[2, 4, 0x05, 0xb4]
    } else {
        &[]
    };
    let tcp_len = 20 + opts.len();
    let total = 20 + tcp_len;
    let mut v = Vec::with_capacity(MIN_FRAME.max(14 + total));
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
    v.extend_from_slice(&seq.to_be_bytes());
    let ack = if flags & ACK != 0 { 1u32 } else { 0 };
    v.extend_from_slice(&ack.to_be_bytes());
    v.extend_from_slice(&[((tcp_len / 4) as u8) << 4, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    v.extend_from_slice(opts);
    let c = csum(&v[tcp_at..], pseudo(f.src, f.dst, 6, tcp_len));
    v[tcp_at + 16..tcp_at + 18].copy_from_slice(&c.to_be_bytes());
    if v.len() < MIN_FRAME {
        v.resize(MIN_FRAME, 0);
    }
    v
}

/// The TCP flow of an Ethernet/IPv4/TCP frame, looking through one IPIP
/// header; `None` for anything else.
pub fn tcp_flow(frame: &[u8]) -> Option<Flow> {
    if frame.len() < 14 + 20 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let mut ip = &frame[14..];
    if ip[9] == 4 {
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        ip = ip.get(ihl..)?;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ip.len() < ihl + 20 || ip[9] != 6 {
        return None;
    }
    let t = &ip[ihl..];
    Some(Flow {
        src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
        sport: u16::from_be_bytes([t[0], t[1]]),
        dport: u16::from_be_bytes([t[2], t[3]]),
    })
}

/// TCP flags of an Ethernet/IPv4/TCP frame (looking through IPIP).
pub fn tcp_flags(frame: &[u8]) -> Option<u8> {
    tcp_flow(frame)?;
    let mut ip = &frame[14..];
    if ip[9] == 4 {
        ip = &ip[usize::from(ip[0] & 0x0f) * 4..];
    }
    ip.get(usize::from(ip[0] & 0x0f) * 4 + 13).copied()
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
    }
}
