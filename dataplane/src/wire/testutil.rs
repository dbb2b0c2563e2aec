//! Frame builders for the wire tests. They use etherparse so that our
//! views are checked against an independent implementation.

use etherparse::{IpHeaders, IpNumber, Ipv4Header, PacketBuilder};

pub const SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const SRC_IP: [u8; 4] = [10, 0, 0, 1];
pub const DST_IP: [u8; 4] = [192, 168, 1, 80];

/// Ethernet + IPv4 (with raw `ip_opts`) + TCP SYN/ACK with raw options.
pub fn tcp_frame(ip_opts: &[u8], tcp_opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut ip = Ipv4Header::new(0, 64, IpNumber::TCP, SRC_IP, DST_IP).unwrap();
    ip.options = ip_opts.try_into().unwrap();
    ip.identification = 0x1234;
    ip.dont_fragment = true;
    let b = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ip(IpHeaders::Ipv4(ip, Default::default()))
        .tcp(40000, 80, 0x0102_0304, 29200)
        .syn()
        .ack(0x0a0b_0c0d)
        .options_raw(tcp_opts)
        .unwrap();
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).unwrap();
    v
}

pub fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(SRC_IP, DST_IP, 64)
        .udp(5353, 53);
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).unwrap();
    v
}

pub fn icmp_echo_frame(id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(SRC_MAC, DST_MAC)
        .ipv4(SRC_IP, DST_IP, 64)
        .icmpv4_echo_request(id, seq);
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).unwrap();
    v
}

/// Strips the 14-byte Ethernet header.
pub fn l3(frame: &[u8]) -> &[u8] {
    &frame[14..]
}

/// Strips Ethernet and a 20-byte IPv4 header.
pub fn l4(frame: &[u8]) -> &[u8] {
    &frame[34..]
}
