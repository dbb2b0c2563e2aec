//! Tests for `tcp.rs` (kept apart so that each file stays short).

use super::*;
use crate::wire::testutil::{l4, tcp_frame, DST_IP, SRC_IP};
use proptest::prelude::*;

fn addrs() -> (Ipv4Addr, Ipv4Addr) {
    (Ipv4Addr::from(SRC_IP), Ipv4Addr::from(DST_IP))
}

// Linux SYN layout: MSS 1460, SACK permitted, timestamps, NOP, wscale 7.
const OPTS: [u8; 20] = [
    2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
];

fn segment(opts: &[u8], payload: &[u8]) -> Vec<u8> {
    l4(&tcp_frame(&[], opts, payload)).to_vec()
}

#[test]
fn parse_cross_checked() {
    let seg = segment(&OPTS, b"GET /");
    let (h, _) = etherparse::TcpHeader::from_slice(&seg).unwrap();
    let p = TcpPacket::new_checked(&seg[..]).unwrap();
    assert_eq!(p.src_port(), h.source_port);
    assert_eq!(p.dst_port(), h.destination_port);
    assert_eq!(p.seq_number(), 0x0102_0304);
    assert_eq!(p.ack_number(), h.acknowledgment_number);
    assert_eq!(p.data_offset(), h.data_offset());
    assert_eq!(p.header_len(), 40);
    assert_eq!(p.flags(), TcpFlags::SYN | TcpFlags::ACK);
    assert!(p.syn() && p.ack() && !p.fin() && !p.rst() && !p.psh() && !p.urg());
    assert_eq!(p.window(), h.window_size);
    assert_eq!(p.checksum(), h.checksum);
    assert_eq!(p.urgent_ptr(), 0);
    assert_eq!(p.options(), &OPTS);
    assert_eq!(p.payload(), b"GET /");
    let (s, d) = addrs();
    assert!(p.verify_checksum(s, d));
    assert!(!p.verify_checksum(d, Ipv4Addr::new(1, 1, 1, 1)));
    let opts: Vec<_> = p.options_iter().collect();
    assert_eq!(
        opts,
        vec![
            (TcpOptionKind::MSS, &[0x05, 0xb4][..]),
            (TcpOptionKind::SACK_PERMITTED, &[][..]),
            (TcpOptionKind::TIMESTAMP, &[0, 0, 0, 1, 0, 0, 0, 0][..]),
            (TcpOptionKind::NOP, &[][..]),
            (TcpOptionKind::WINDOW_SCALE, &[7][..]),
        ]
    );
    assert_eq!(p.mss(), Some(1460));
}

#[test]
fn errors() {
    let seg = segment(&[], b"");
    assert_eq!(
        TcpPacket::new_checked(&[][..]).unwrap_err(),
        WireError::Truncated
    );
    for n in 0..20 {
        assert_eq!(
            TcpPacket::new_checked(&seg[..n]).unwrap_err(),
            WireError::Truncated
        );
    }
    let mut b = seg.clone();
    for doff in 0..5 {
        b[12] = doff << 4;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            WireError::BadDataOffset
        );
    }
    b[12] = 6 << 4; // 24-byte header in a 20-byte segment
    assert_eq!(
        TcpPacket::new_checked(&b[..]).unwrap_err(),
        WireError::BadDataOffset
    );
    let seg = segment(&OPTS, b"");
    assert_eq!(
        TcpPacket::new_checked(&seg[..39]).unwrap_err(),
        WireError::BadDataOffset
    );
}

#[test]
fn setters_round_trip() {
    let (s, d) = addrs();
    let mut seg = segment(&[], b"abc");
    let mut p = TcpPacket::new_checked(&mut seg[..]).unwrap();
    p.set_src_port(1);
    p.set_dst_port(2);
    p.set_seq_number(3);
    p.set_ack_number(4);
    p.set_flags(TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG | TcpFlags::RST);
    p.set_window(5);
    p.set_urgent_ptr(6);
    p.payload_mut()[0] = b'x';
    p.fill_checksum(s, d);
    assert_eq!(
        (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number()),
        (1, 2, 3, 4)
    );
    assert!(p.fin() && p.psh() && p.urg() && p.rst() && !p.syn() && !p.ack());
    assert_eq!((p.window(), p.urgent_ptr()), (5, 6));
    assert_eq!(p.payload(), b"xbc");
    assert!(p.verify_checksum(s, d));
    let seg = p.into_inner();
    let (h, _) = etherparse::TcpHeader::from_slice(seg).unwrap();
    assert_eq!(
        h.calc_checksum_ipv4_raw(SRC_IP, DST_IP, &seg[20..])
            .unwrap(),
        h.checksum
    );
}

#[test]
fn inconsistent_data_offset_does_not_panic() {
    let mut seg = segment(&[], b"abc");
    let mut p = TcpPacket::new_checked(&mut seg[..]).unwrap();
    for doff in [0, 4, 15] {
        p.set_data_offset(doff);
        let _ = (p.options().len(), p.payload().len(), p.mss(), p.set_mss(1));
        let _ = (p.options_mut().len(), p.payload_mut().len());
    }
}

#[test]
fn mss_rewrite_even_and_odd_offsets() {
    let (s, d) = addrs();
    // Even offset (first option) and odd offset (after a single NOP).
    for opts in [&OPTS[..], &[1, 2, 4, 0x23, 0x28, 1, 1, 1][..]] {
        let mut seg = segment(opts, b"data");
        let mut p = TcpPacket::new_checked(&mut seg[..]).unwrap();
        assert!(p.verify_checksum(s, d));
        assert!(!p.clamp_mss(9000));
        assert!(p.clamp_mss(1400));
        assert_eq!(p.mss(), Some(1400));
        assert!(p.verify_checksum(s, d), "{opts:?}");
        assert!(p.set_mss(0xffff));
        assert!(p.verify_checksum(s, d));
    }
    let mut seg = segment(&[1, 1, 1, 1], b"");
    let mut p = TcpPacket::new_checked(&mut seg[..]).unwrap();
    assert_eq!(p.mss(), None);
    assert!(!p.set_mss(1200) && !p.clamp_mss(1200));
}

#[test]
fn malformed_options_stop() {
    let cases: [&[u8]; 6] = [
        &[2],             // kind without length
        &[2, 0, 5, 0xb4], // length 0 would loop forever
        &[2, 1, 5, 0xb4], // length 1 is below the 2-byte minimum
        &[2, 9, 5, 0xb4], // runs past the end
        &[0, 2, 4, 5],    // EOL ends the list
        &[2, 3, 5, 0xb4], // MSS with the wrong length is not an MSS
    ];
    for c in cases {
        let items: Vec<_> = TcpOptions::new(c).collect();
        assert!(items.len() <= 1, "{c:?}");
        assert_eq!(
            TcpPacket::new_checked(segment(&pad(c), b"")).unwrap().mss(),
            None
        );
    }
}

/// Pads options to a multiple of 4 with EOL, as etherparse requires.
fn pad(o: &[u8]) -> Vec<u8> {
    let mut v = o.to_vec();
    v.resize(o.len().div_ceil(4) * 4, 0);
    v
}

proptest! {
    #[test]
    fn random_options_never_panic(opts in proptest::collection::vec(any::<u8>(), 0..=40)) {
        let (s, d) = addrs();
        let mut seg = segment(&pad(&opts), b"xyz");
        let mut p = TcpPacket::new_checked(&mut seg[..]).unwrap();
        let n = p.options_iter().count();
        prop_assert!(n <= 40);
        for (_, data) in p.options_iter() {
            prop_assert!(data.len() <= 38);
        }
        if p.mss().is_some() {
            prop_assert!(p.set_mss(536));
            prop_assert_eq!(p.mss(), Some(536));
            prop_assert!(p.verify_checksum(s, d));
        }
    }

    #[test]
    fn random_segments_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(p) = TcpPacket::new_checked(&buf[..]) {
            prop_assert_eq!(p.header_len() + p.payload().len(), buf.len());
            let _ = (p.mss(), p.options_iter().count(), p.flags());
        }
    }

    #[test]
    fn incremental_rewrites_match_recompute(
        body in proptest::collection::vec(any::<u8>(), 20..120),
        addrs in any::<[u32; 4]>(),
        ports in any::<[u16; 2]>(),
        seqs in any::<[u32; 2]>(),
    ) {
        let mut buf = body;
        buf[12] = 5 << 4;
        let [s, d, ns, nd] = addrs.map(Ipv4Addr::from);
        let mut p = TcpPacket::new_checked(&mut buf[..]).unwrap();
        p.fill_checksum(s, d);
        p.rewrite_src_port(ports[0]);
        p.rewrite_dst_port(ports[1]);
        p.rewrite_seq_number(seqs[0]);
        p.rewrite_ack_number(seqs[1]);
        p.update_checksum_addr(s, ns);
        p.update_checksum_addr(d, nd);
        let inc = p.checksum();
        prop_assert!(p.verify_checksum(ns, nd));
        p.fill_checksum(ns, nd);
        prop_assert_eq!(inc, p.checksum());
    }
}
