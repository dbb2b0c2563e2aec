//! TUN reals behind GUE and GRE (IPVS --tun-type gue|gre, Linux 5.3+):
//! every field of the outer IPv4, UDP, GUE and GRE headers, every checksum
//! (outer IP, UDP with its pseudo header, GRE, and the inner packet's), the
//! SYN MSS clamp and the fragmentation-needed MTU for each tunnel type and
//! checksum flag, through `ferrovs replay`.
mod common;
use std::net::Ipv4Addr;

use common::*;

const SEC: u64 = 1_000_000_000;
const RS1: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 11);
const RS1_MAC: [u8; 6] = [2, 0, 0, 0, 1, 0x11];
/// Our address on the real's subnet: the outer source.
const OUTER_SRC: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);

fn cfg() -> std::path::PathBuf {
    repo().join("configs/replay-tunnels.yaml")
}

fn vip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tunnel {
    /// Destination port, UDP checksum filled.
    Gue(u16, bool),
    /// GRE checksum present.
    Gre(bool),
}

impl Tunnel {
    fn header_len(self) -> usize {
        match self {
            Tunnel::Gue(..) => 12,
            Tunnel::Gre(false) => 4,
            Tunnel::Gre(true) => 8,
        }
    }
}

/// The services of replay-tunnels.yaml (TCP), by VIP.
const TCP_TUNNELS: [(u8, Tunnel); 5] = [
    (111, Tunnel::Gue(6080, false)),
    (112, Tunnel::Gue(6081, true)),
    // remcsum: a forwarded packet's checksum is complete, so IPVS sends
    // the plain GUE header with a filled UDP checksum, as for csum.
    (113, Tunnel::Gue(6082, true)),
    (114, Tunnel::Gre(false)),
    (115, Tunnel::Gre(true)),
];

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let (s, d) = (src.octets(), dst.octets());
    [s[0], s[2], d[0], d[2]]
        .iter()
        .zip([s[1], s[3], d[1], d[3]])
        .map(|(&hi, lo)| u32::from(u16::from_be_bytes([hi, lo])))
        .sum::<u32>()
        + u32::from(proto)
        + len as u32
}

/// Sets the TOS byte of a frame's IPv4 header and refreshes its checksum.
fn with_tos(mut f: Vec<u8>, tos: u8) -> Vec<u8> {
    f[15] = tos;
    f[24..26].fill(0);
    let c = csum(&f[14..34], 0);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f
}

/// Checks every outer field of `out` (the frame the director sent for the
/// client frame `orig`) and returns the inner frame (Ethernet + inner IP)
/// and the outer UDP source port (GUE).
fn unwrap(out: &[u8], orig: &[u8], t: Tunnel) -> (Vec<u8>, Option<u16>) {
    let inner_len = usize::from(u16::from_be_bytes([orig[16], orig[17]]));
    assert_eq!(&out[0..6], &RS1_MAC, "to the real's MAC");
    assert_eq!(&out[6..12], &DIRECTOR_MAC, "from our MAC");
    assert_eq!(&out[12..14], &[8, 0]);
    let ip = &out[14..34];
    assert_eq!(ip[0], 0x45, "IPv4, no options");
    assert_eq!(ip[1], orig[15], "TOS copied from the inner header");
    let total = 20 + t.header_len() + inner_len;
    assert_eq!(usize::from(u16::from_be_bytes([ip[2], ip[3]])), total);
    assert_eq!(out.len(), 14 + total, "no padding");
    let inner_ident = u16::from_be_bytes([orig[18], orig[19]]);
    let c = CLIENT.octets();
    let ident = inner_ident ^ u16::from_be_bytes([c[0], c[1]]) ^ u16::from_be_bytes([c[2], c[3]]);
    assert_eq!(u16::from_be_bytes([ip[4], ip[5]]), ident, "outer ident");
    assert_eq!(ip[6] & 0x40, orig[20] & 0x40, "DF copied");
    assert_eq!(
        u16::from_be_bytes([ip[6], ip[7]]) & 0xbfff,
        0,
        "no MF, offset 0"
    );
    assert_eq!(ip[8], 64, "outer TTL");
    assert_eq!(csum(ip, 0), 0, "outer IP checksum");
    assert_eq!(&ip[12..16], &OUTER_SRC.octets());
    assert_eq!(&ip[16..20], &RS1.octets());
    let seg = &out[34..];
    let sport = match t {
        Tunnel::Gue(port, check) => {
            assert_eq!(ip[9], 17, "UDP");
            let sport = u16::from_be_bytes([seg[0], seg[1]]);
            assert!(
                (32768..=60999).contains(&sport),
                "source port {sport} in the local port range"
            );
            assert_eq!(u16::from_be_bytes([seg[2], seg[3]]), port, "tun_port");
            assert_eq!(usize::from(u16::from_be_bytes([seg[4], seg[5]])), seg.len());
            let udp_csum = u16::from_be_bytes([seg[6], seg[7]]);
            if check {
                assert_ne!(udp_csum, 0, "UDP checksum filled");
                let ps = pseudo_sum(OUTER_SRC, RS1, 17, seg.len());
                assert_eq!(csum(seg, ps), 0, "UDP checksum with pseudo header");
            } else {
                assert_eq!(udp_csum, 0, "no UDP checksum");
            }
            assert_eq!(&seg[8..12], &[0, 4, 0, 0], "GUE v0 hlen 0, IPIP, no flags");
            Some(sport)
        }
        Tunnel::Gre(check) => {
            assert_eq!(ip[9], 47, "GRE");
            assert_eq!(&seg[2..4], &[0x08, 0x00], "protocol type IPv4");
            if check {
                assert_eq!(&seg[0..2], &[0x80, 0], "C bit, version 0");
                assert_eq!(&seg[6..8], &[0, 0], "reserved1");
                assert_eq!(csum(seg, 0), 0, "GRE checksum");
            } else {
                assert_eq!(&seg[0..2], &[0, 0], "no flags, version 0");
            }
            None
        }
    };
    let inner: Vec<u8> = [&out[..14], &seg[t.header_len()..]].concat();
    (inner, sport)
}

#[test]
fn every_field_of_each_tunnel_and_checksum_choice() {
    for (n, t) in TCP_TUNNELS {
        let syn = with_tos(tcp_frame(CLIENT_MAC, CLIENT, 41000, vip(n), 80, SYN), 0xb9);
        let ack = tcp_frame(CLIENT_MAC, CLIENT, 41000, vip(n), 80, ACK);
        let r = replay(&cfg(), &[(SEC, syn.clone()), (SEC + 1, ack.clone())]);
        assert_eq!(r.out.len(), 2, "{t:?}: {}", r.report);
        let (inner, sport) = unwrap(&r.out[0].1, &syn, t);
        let s = parse_tcp(&inner);
        assert_eq!(
            (s.src, s.sport, s.dst, s.dport),
            (CLIENT, 41000, vip(n), 80)
        );
        assert!(s.ip_csum_ok && s.l4_csum_ok, "{t:?}: inner checksums");
        // The SYN's MSS leaves room for the tunnel: 1500 - 20 - tunnel - 40.
        let mss = 1500 - 20 - t.header_len() as u16 - 40;
        assert_eq!(
            &inner[54..58],
            &[2, 4, (mss >> 8) as u8, mss as u8],
            "{t:?}: MSS"
        );
        // The ACK travels unchanged inside, on the same UDP source port.
        let (inner, sport2) = unwrap(&r.out[1].1, &ack, t);
        assert_eq!(&inner[14..], &ack[14..], "{t:?}: inner untouched");
        assert_eq!(sport, sport2, "{t:?}: one flow, one source port");
    }
}

#[test]
fn gue_source_port_spreads_flows() {
    let frames: Vec<(u64, Vec<u8>)> = (0..16u16)
        .map(|i| {
            let f = tcp_frame(CLIENT_MAC, CLIENT, 42000 + i, vip(111), 80, SYN);
            (SEC + u64::from(i), f)
        })
        .collect();
    let r = replay(&cfg(), &frames);
    assert_eq!(r.out.len(), 16, "{}", r.report);
    let mut ports: Vec<u16> = r
        .out
        .iter()
        .zip(&frames)
        .map(|((_, out), (_, orig))| unwrap(out, orig, TCP_TUNNELS[0].1).1.unwrap())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    assert!(
        ports.len() >= 12,
        "16 flows over {} source ports",
        ports.len()
    );
}

#[test]
fn gue_carries_udp_with_both_checksums_valid() {
    let dgram = |payload: &[u8]| {
        let mut u = Vec::new();
        u.extend_from_slice(&5353u16.to_be_bytes());
        u.extend_from_slice(&53u16.to_be_bytes());
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let c = csum(&u, pseudo_sum(CLIENT, vip(116), 17, u.len()));
        u[6..8].copy_from_slice(&c.to_be_bytes());
        eth(
            DIRECTOR_MAC,
            CLIENT_MAC,
            0x0800,
            &ipv4(CLIENT, vip(116), 17, &u),
        )
    };
    let q = dgram(b"a query of odd length");
    let r = replay(&cfg(), &[(SEC, q.clone())]);
    assert_eq!(r.out.len(), 1, "{}", r.report);
    let (inner, _) = unwrap(&r.out[0].1, &q, Tunnel::Gue(6080, true));
    assert_eq!(&inner[14..], &q[14..], "inner datagram untouched");
}

#[test]
fn too_big_inside_each_tunnel_answers_with_its_mtu() {
    for (n, t) in TCP_TUNNELS {
        let syn = tcp_frame(CLIENT_MAC, CLIENT, 41001, vip(n), 80, SYN);
        // 1500 bytes of IP with DF: too big once wrapped.
        let big = tcp_data_frame(vip(n), 41001, 1456);
        let r = replay(&cfg(), &[(SEC, syn), (SEC + 1, big.clone())]);
        assert_eq!(r.out.len(), 2, "{t:?}: {}", r.report);
        let icmp_frame = &r.out[1].1;
        assert_eq!(&icmp_frame[0..6], &CLIENT_MAC);
        let icmp = &icmp_frame[34..];
        assert_eq!((icmp[0], icmp[1]), (3, 4), "{t:?}: fragmentation needed");
        let mtu = 1500 - 20 - t.header_len() as u16;
        assert_eq!(u16::from_be_bytes([icmp[6], icmp[7]]), mtu, "{t:?}");
        assert_eq!(csum(icmp, 0), 0, "ICMP checksum");
        // One byte less fits: it goes out wrapped.
        let fits = tcp_data_frame(vip(n), 41001, usize::from(mtu) - 44);
        let syn = tcp_frame(CLIENT_MAC, CLIENT, 41001, vip(n), 80, SYN);
        let r = replay(&cfg(), &[(SEC, syn), (SEC + 1, fits.clone())]);
        assert_eq!(r.out.len(), 2, "{t:?}: {}", r.report);
        assert_eq!(r.out[1].1.len(), 14 + 1500, "{t:?}: exactly the MTU");
        unwrap(&r.out[1].1, &fits, t);
    }
}
