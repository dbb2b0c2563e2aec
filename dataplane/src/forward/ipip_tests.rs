use super::*;
use crate::forward::testutil::{check_ipv4, tcp_frame, udp_frame, CLIENT, SYN_OPTS};
use crate::frame::{VecFrame, HEADROOM};
use crate::snapshot::Encap;
use proptest::prelude::*;

const DIP: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 1);
const RIP: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 2);
const ENCAPS: [Encap; 5] = [
    Encap::Ipip,
    Encap::Gue {
        port: 6080,
        csum: false,
    },
    Encap::Gue {
        port: 6080,
        csum: true,
    },
    Encap::Gre { csum: false },
    Encap::Gre { csum: true },
];

fn encap_ok(orig: &[u8], mtu: u16) -> Vec<u8> {
    let mut f = VecFrame::from_bytes(orig);
    encapsulate(&mut f, DIP, RIP, mtu, Encap::Ipip).unwrap();
    f.data().to_vec()
}

/// Clears DF on the frame's IPv4 header and refreshes the checksum.
fn without_df(mut frame: Vec<u8>) -> Vec<u8> {
    let mut ip = Ipv4Packet::new_checked(&mut frame[14..]).unwrap();
    ip.set_dont_frag(false);
    ip.fill_checksum();
    frame
}

#[test]
fn outer_header_fields() {
    let orig = tcp_frame(true, false, &SYN_OPTS, b"hello");
    let out = encap_ok(&orig, 1500);
    assert_eq!(out.len(), orig.len() + 20);
    assert_eq!(
        &out[..14],
        &orig[..14],
        "Ethernet header moved to the front"
    );
    let (outer, inner) = check_ipv4(&out[14..]);
    assert_eq!(outer.protocol.0, IPPROTO_IPIP);
    assert_eq!(outer.time_to_live, 64);
    assert!(outer.dont_fragment && !outer.more_fragments);
    assert_eq!(outer.fragment_offset.value(), 0);
    assert_eq!(outer.dscp.value(), 10, "TOS copied from the inner header");
    assert_eq!(usize::from(outer.total_len), orig.len() - 14 + 20);
    assert_eq!(outer.source, DIP.octets());
    assert_eq!(outer.destination, RIP.octets());
    assert_eq!(outer.options.len(), 0);
    assert_eq!(inner, &orig[14..], "inner packet untouched");
    // The inner packet still verifies on its own.
    check_ipv4(inner);
    assert_eq!(outer.identification, outer_ident(0x1234, CLIENT));
}

#[test]
fn df_is_copied_and_too_big_reports_it() {
    let orig = tcp_frame(false, true, &[], &[3; 1000]);
    let tl = (orig.len() - 14) as u16;
    let mut f = VecFrame::from_bytes(&orig);
    let e = encapsulate(&mut f, DIP, RIP, tl + 19, Encap::Ipip);
    assert_eq!(
        e,
        Err(EncapError::TooBig {
            mtu: tl - 1,
            df: true
        })
    );
    assert_eq!(f.data(), &orig[..]);
    encap_ok(&orig, tl + 20);

    let orig = without_df(orig);
    let (outer, _) = check_ipv4(&encap_ok(&orig, 1500)[14..]);
    assert!(!outer.dont_fragment);
    let mut f = VecFrame::from_bytes(&orig);
    let e = encapsulate(&mut f, DIP, RIP, tl + 19, Encap::Ipip);
    assert_eq!(
        e,
        Err(EncapError::TooBig {
            mtu: tl - 1,
            df: false
        })
    );
    assert_eq!(f.data(), &orig[..]);
    // A tiny MTU saturates instead of wrapping.
    let e = encapsulate(&mut f, DIP, RIP, 10, Encap::Ipip);
    assert_eq!(e, Err(EncapError::TooBig { mtu: 0, df: false }));
}

#[test]
fn no_headroom() {
    let orig = udp_frame(b"q");
    // An empty frame whose start sits 19 bytes into the buffer.
    let mut g = VecFrame::empty();
    assert!(g.prepend(HEADROOM - 19) && g.trim(HEADROOM - 19));
    assert!(g.append(orig.len()));
    g.data_mut().copy_from_slice(&orig);
    let mut probe = g.clone();
    assert!(probe.prepend(19) && !probe.prepend(1));
    assert_eq!(
        encapsulate(&mut g, DIP, RIP, 1500, Encap::Ipip),
        Err(EncapError::NoHeadroom)
    );
    assert_eq!(g.data(), &orig[..]);
}

#[test]
fn padding_dropped_and_malformed_rejected() {
    let mut orig = udp_frame(b"");
    orig.extend_from_slice(&[0xee; 8]);
    let out = encap_ok(&orig, 1500);
    assert_eq!(out.len(), orig.len() - 8 + 20);
    check_ipv4(&out[14..]);
    for n in [0, 13, 14, 33] {
        let mut f = VecFrame::from_bytes(&orig[..n]);
        assert_eq!(
            encapsulate(&mut f, DIP, RIP, 1500, Encap::Ipip),
            Err(EncapError::Malformed(WireError::Truncated))
        );
    }
}

#[test]
fn ident_separates_clients() {
    let a = outer_ident(7, Ipv4Addr::new(192, 0, 2, 1));
    let b = outer_ident(7, Ipv4Addr::new(192, 0, 2, 2));
    assert_ne!(a, b);
    assert_eq!(a, outer_ident(7, Ipv4Addr::new(192, 0, 2, 1)));
}

#[test]
fn syn_mss_clamped_for_tunnel() {
    assert_eq!(tunnel_mss(1500, Encap::Ipip), 1440);
    assert_eq!(tunnel_mss(50, Encap::Ipip), 0);
    // The headers IPVS subtracts from the MTU: UDP 8 + GUE 4, GRE 4 (+ 4 with checksum).
    let gue = Encap::Gue {
        port: 1,
        csum: true,
    };
    assert_eq!(tunnel_mss(1500, gue), 1428);
    assert_eq!(tunnel_mss(1500, Encap::Gre { csum: false }), 1436);
    assert_eq!(tunnel_mss(1500, Encap::Gre { csum: true }), 1432);
    let mut f = VecFrame::from_bytes(&tcp_frame(true, false, &SYN_OPTS, b""));
    assert_eq!(clamp_syn_mss_for_tunnel(&mut f, 1500, gue), Ok(true));
    let (_, l4) = check_ipv4(&f.data()[14..]);
    assert_eq!(TcpPacket::new_checked(l4).unwrap().mss(), Some(1428));
    let mut f = VecFrame::from_bytes(&tcp_frame(true, false, &SYN_OPTS, b""));
    assert_eq!(
        clamp_syn_mss_for_tunnel(&mut f, 1500, Encap::Ipip),
        Ok(true)
    );
    let (_, l4) = check_ipv4(&f.data()[14..]);
    assert_eq!(TcpPacket::new_checked(l4).unwrap().mss(), Some(1440));
    // Already small enough, no SYN, no MSS, not TCP: unchanged.
    for (frame, mtu) in [
        (tcp_frame(true, false, &SYN_OPTS, b""), 9000),
        (tcp_frame(false, true, &SYN_OPTS, b""), 1500),
        (tcp_frame(true, false, &[1; 4], b""), 1500),
        (udp_frame(b"x"), 1500),
    ] {
        let mut f = VecFrame::from_bytes(&frame);
        assert_eq!(
            clamp_syn_mss_for_tunnel(&mut f, mtu, Encap::Ipip),
            Ok(false)
        );
        assert_eq!(f.data(), &frame[..]);
    }
    let mut f = VecFrame::from_bytes(&[0u8; 20]);
    assert!(clamp_syn_mss_for_tunnel(&mut f, 1500, Encap::Ipip).is_err());
}

proptest! {
    #[test]
    fn inner_preserved_outer_valid(
        payload in proptest::collection::vec(any::<u8>(), 0..400),
        src in any::<u32>(),
        dst in any::<u32>(),
        df in any::<bool>(),
    ) {
        let mut orig = udp_frame(&payload);
        if !df {
            orig = without_df(orig);
        }
        let mut f = VecFrame::from_bytes(&orig);
        encapsulate(&mut f, Ipv4Addr::from(src), Ipv4Addr::from(dst), 1500, Encap::Ipip).unwrap();
        let (outer, inner) = check_ipv4(&f.data()[14..]);
        prop_assert_eq!(inner, &orig[14..]);
        prop_assert_eq!(outer.dont_fragment, df);
        prop_assert_eq!(outer.source, src.to_be_bytes());
    }

    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..100),
        mtu in any::<u16>(),
    ) {
        for encap in ENCAPS {
            let mut f = VecFrame::from_bytes(&bytes);
            let _ = clamp_syn_mss_for_tunnel(&mut f, mtu, encap);
            let _ = encapsulate(&mut f, DIP, RIP, mtu, encap);
        }
    }
}
