//! Frame builders and independent checkers for the forwarding tests.
//! Frames are built and re-parsed with etherparse, so the code under test
//! is checked against a second implementation rather than against itself.

use std::net::Ipv4Addr;

use etherparse::{IpHeaders, IpNumber, Ipv4Header, PacketBuilder, TcpHeader, UdpHeader};

pub const SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0c];
pub const DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
pub const VIP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);

/// Ethernet + IPv4 (DF, ident 0x1234, TOS 0x28) + TCP with raw options.
pub fn tcp_frame(syn: bool, ack: bool, tcp_opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut ip = Ipv4Header::new(0, 64, IpNumber::TCP, CLIENT.octets(), VIP.octets()).unwrap();
    ip.identification = 0x1234;
    ip.dont_fragment = true;
    ip.dscp = etherparse::Ipv4Dscp::try_new(10).unwrap();
    let mut b = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ip(IpHeaders::Ipv4(ip, Default::default()))
        .tcp(40000, 80, 0x0102_0304, 29200);
    if syn {
        b = b.syn();
    }
    if ack {
        b = b.ack(0x0a0b_0c0d);
    }
    let b = b.options_raw(tcp_opts).unwrap();
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).unwrap();
    v
}

pub fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(CLIENT.octets(), VIP.octets(), 64)
        .udp(5353, 53);
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).unwrap();
    v
}

pub fn icmp_echo_frame(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(CLIENT.octets(), VIP.octets(), 64)
        .icmpv4_echo_request(7, 1);
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).unwrap();
    v
}

/// SYN-style options: MSS 1460, SACK permitted, timestamps, NOP, WS 7.
pub const SYN_OPTS: [u8; 20] = [
    2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
];

/// Parses an IPv4 packet (no Ethernet) and checks the IP header checksum
/// and the TCP/UDP checksum with etherparse. Returns the IP header and
/// the L4 bytes.
pub fn check_ipv4(pkt: &[u8]) -> (Ipv4Header, &[u8]) {
    let (ip, rest) = Ipv4Header::from_slice(pkt).unwrap();
    assert_eq!(ip.calc_header_checksum(), ip.header_checksum, "IP checksum");
    let l4 = &rest[..usize::from(ip.payload_len().unwrap())];
    match ip.protocol {
        IpNumber::TCP => {
            let (tcp, payload) = TcpHeader::from_slice(l4).unwrap();
            assert_eq!(
                tcp.calc_checksum_ipv4(&ip, payload).unwrap(),
                tcp.checksum,
                "TCP checksum"
            );
        }
        IpNumber::UDP => {
            let (udp, payload) = UdpHeader::from_slice(l4).unwrap();
            if udp.checksum != 0 {
                assert_eq!(
                    udp.calc_checksum_ipv4(&ip, payload).unwrap(),
                    udp.checksum,
                    "UDP checksum"
                );
            }
        }
        _ => {}
    }
    (ip, l4)
}

/// Naive RFC 1071 checksum, 16 bits at a time (independent of wire::checksum).
pub fn naive_csum(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    for c in data.chunks(2) {
        acc += u64::from(c[0]) << 8 | c.get(1).copied().map_or(0, u64::from);
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}
