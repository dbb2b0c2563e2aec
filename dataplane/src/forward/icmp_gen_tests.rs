use super::*;
use crate::forward::testutil::{
    check_ipv4, icmp_echo_frame, naive_csum, tcp_frame, udp_frame, CLIENT, DST_MAC, SRC_MAC,
    SYN_OPTS,
};
use crate::frame::VecFrame;
use etherparse::icmpv4::DestUnreachableHeader;
use etherparse::{Icmpv4Header, Icmpv4Type, IpNumber, Ipv4Header};
use proptest::prelude::*;

const OUR_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);

/// Builds the message and checks everything that does not depend on the
/// original; returns the ICMP message bytes (header + quote).
fn build_ok(orig: &[u8], mtu: u16) -> Vec<u8> {
    let mut out = VecFrame::from_bytes(&[0xffu8; 300]); // stale content
    build_frag_needed(&mut out, orig, OUR_IP, mtu).unwrap();
    let f = out.data();
    assert_eq!(&f[0..6], &orig[6..12], "dst MAC = original src MAC");
    assert_eq!(&f[6..12], &orig[0..6], "src MAC = original dst MAC");
    assert_eq!(&f[12..14], &[0x08, 0x00]);
    let (ip, icmp) = check_ipv4(&f[14..]);
    assert_eq!(f.len(), 14 + usize::from(ip.total_len));
    assert_eq!(ip.protocol, IpNumber::ICMP);
    assert_eq!(ip.source, OUR_IP.octets());
    assert_eq!(ip.destination, CLIENT.octets());
    assert_eq!(ip.time_to_live, 64);
    assert_eq!(naive_csum(icmp), 0, "ICMP checksum");
    let (h, quote) = Icmpv4Header::from_slice(icmp).unwrap();
    assert_eq!(
        h.icmp_type,
        Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::FragmentationNeeded {
            next_hop_mtu: mtu
        })
    );
    assert_eq!(h.icmp_type.calc_checksum(quote), h.checksum);
    icmp.to_vec()
}

#[test]
fn quotes_header_and_eight_bytes() {
    let orig = tcp_frame(false, true, &SYN_OPTS, &[9; 1400]);
    let icmp = build_ok(&orig, 1480);
    assert_eq!(icmp.len(), 8 + 20 + 8);
    assert_eq!(&icmp[8..], &orig[14..14 + 28]);
    // Our own view of the message finds the connection in the quote.
    let m = Icmpv4Packet::new_checked(&icmp[..]).unwrap();
    assert_eq!(m.next_hop_mtu(), 1480);
    let q = m.quote().unwrap();
    assert_eq!(
        (q.src_addr(), q.src_port(), q.dst_port()),
        (CLIENT, 40000, 80)
    );
}

#[test]
fn quotes_ip_options_and_short_payloads() {
    let mut ip = Ipv4Header::new(3, 64, IpNumber(253), CLIENT.octets(), [10, 0, 0, 1]).unwrap();
    ip.options = [0x94, 0x04, 0, 0][..].try_into().unwrap();
    ip.set_payload_len(3).unwrap();
    ip.header_checksum = ip.calc_header_checksum();
    let mut orig = Vec::new();
    orig.extend_from_slice(&SRC_MAC);
    orig.extend_from_slice(&DST_MAC);
    orig.extend_from_slice(&[0x08, 0x00]);
    ip.write(&mut orig).unwrap();
    orig.extend_from_slice(b"abc");
    orig.extend_from_slice(&[0; 20]); // Ethernet padding is not quoted
    let icmp = build_ok(&orig, 1400);
    assert_eq!(icmp.len(), 8 + 24 + 3);
    assert_eq!(&icmp[8..], &orig[14..14 + 27]);
    // UDP: header only, no payload.
    let orig = udp_frame(b"");
    assert_eq!(&build_ok(&orig, 1400)[8..], &orig[14..42]);
    // An ICMP query (echo) may get an error.
    let orig = icmp_echo_frame(b"ping");
    assert_eq!(&build_ok(&orig, 576)[8..], &orig[14..42]);
}

fn expect_err(orig: &[u8], e: IcmpGenError) {
    let mut out = VecFrame::from_bytes(b"keep");
    assert_eq!(build_frag_needed(&mut out, orig, OUR_IP, 1400), Err(e));
    assert_eq!(out.data(), b"keep");
}

fn with_ip(mut frame: Vec<u8>, f: impl FnOnce(&mut Ipv4Packet<&mut [u8]>)) -> Vec<u8> {
    let mut ip = Ipv4Packet::new_checked(&mut frame[14..]).unwrap();
    f(&mut ip);
    ip.fill_checksum();
    frame
}

#[test]
fn rfc1122_suppressions() {
    let base = tcp_frame(false, true, &[], b"data");
    let s = |r| IcmpGenError::Suppressed(r);
    for src in [
        "0.0.0.0",
        "127.0.0.1",
        "224.0.0.5",
        "255.255.255.255",
        "240.0.0.1",
    ] {
        let a: Ipv4Addr = src.parse().unwrap();
        expect_err(
            &with_ip(base.clone(), |ip| ip.set_src_addr(a)),
            s(Suppress::SourceNotUnicast),
        );
    }
    for dst in ["224.0.0.1", "255.255.255.255"] {
        let a: Ipv4Addr = dst.parse().unwrap();
        let f = with_ip(base.clone(), |ip| ip.set_dst_addr(a));
        expect_err(&f, s(Suppress::NotUnicastDestination));
    }
    let mut bcast = base.clone();
    bcast[..6].fill(0xff);
    expect_err(&bcast, s(Suppress::NotUnicastDestination));
    let frag = with_ip(base.clone(), |ip| ip.set_frag_offset(1480));
    expect_err(&frag, s(Suppress::NonInitialFragment));
    // A first fragment is fine.
    build_ok(&with_ip(base.clone(), |ip| ip.set_more_frags(true)), 1400);
    // ICMP errors (type 3, 4, 5, 11, 12) never get an error back.
    for t in [3u8, 4, 5, 11, 12] {
        let mut f = icmp_echo_frame(b"xxxx");
        f[34] = t;
        expect_err(&f, s(Suppress::IcmpError));
    }
    let mut f = icmp_echo_frame(b"");
    let tl = 20u16;
    f[16..18].copy_from_slice(&tl.to_be_bytes()); // no ICMP byte at all
    let f = with_ip(f, |_| {});
    expect_err(&f, s(Suppress::IcmpError));
}

#[test]
fn malformed_and_no_room() {
    let base = udp_frame(b"q");
    expect_err(&base[..10], WireError::Truncated.into());
    expect_err(&base[..30], WireError::Truncated.into());
    let mut arp = base.clone();
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    expect_err(&arp, WireError::Unsupported.into());
    // A frame with 10 bytes of data and no tailroom.
    let mut out = VecFrame::empty();
    assert!(out.append(crate::frame::BUF_SIZE - crate::frame::HEADROOM));
    assert!(out.adj(out.len() - 10));
    let before = out.data().to_vec();
    assert_eq!(
        build_frag_needed(&mut out, &base, OUR_IP, 1400),
        Err(IcmpGenError::NoRoom)
    );
    assert_eq!(out.data(), &before[..]);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..100),
        mtu in any::<u16>(),
    ) {
        if bytes.len() > 34 {
            bytes[12] = 0x08;
            bytes[13] = 0;
            bytes[14] = 0x45 + (bytes[14] & 3);
            let tl = (bytes.len() - 14) as u16;
            bytes[16..18].copy_from_slice(&tl.to_be_bytes());
        }
        let mut out = VecFrame::empty();
        if build_frag_needed(&mut out, &bytes, OUR_IP, mtu).is_ok() {
            let (_, icmp) = check_ipv4(&out.data()[14..]);
            prop_assert_eq!(naive_csum(icmp), 0);
        }
    }
}
