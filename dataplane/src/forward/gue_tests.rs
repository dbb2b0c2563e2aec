//! GUE and GRE encapsulation, field by field, checked with etherparse and
//! an independent checksum.
use super::*;
use crate::forward::gre::IPPROTO_GRE;
use crate::forward::ipip::{encapsulate, EncapError};
use crate::forward::testutil::{check_ipv4, naive_csum, tcp_frame, udp_frame, SYN_OPTS};
use crate::frame::{Frame, VecFrame};
use crate::snapshot::Encap;
use etherparse::{Ipv4Header, UdpHeader};
use proptest::prelude::*;

const DIP: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 1);
const RIP: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 2);

fn encap(orig: &[u8], e: Encap) -> Vec<u8> {
    let mut f = VecFrame::from_bytes(orig);
    encapsulate(&mut f, DIP, RIP, 1500, e).unwrap();
    f.data().to_vec()
}

/// The outer IPv4 header (checksum verified) and what follows it.
fn outer(out: &[u8]) -> (Ipv4Header, &[u8]) {
    let (ip, l4) = check_ipv4(&out[14..]);
    (ip, l4)
}

#[test]
fn gue_fields_without_checksum() {
    let orig = tcp_frame(true, false, &SYN_OPTS, b"hello");
    let out = encap(
        &orig,
        Encap::Gue {
            port: 6080,
            csum: false,
        },
    );
    assert_eq!(out.len(), orig.len() + 20 + 8 + 4);
    assert_eq!(&out[..14], &orig[..14]);
    let (ip, seg) = outer(&out);
    assert_eq!(ip.protocol.0, 17);
    assert_eq!(usize::from(ip.total_len), orig.len() - 14 + 32);
    assert_eq!((ip.source, ip.destination), (DIP.octets(), RIP.octets()));
    assert!(ip.dont_fragment, "DF copied from the inner header");
    assert_eq!(ip.dscp.value(), 10, "TOS copied");
    let (udp, rest) = UdpHeader::from_slice(seg).unwrap();
    assert!((32768..=60999).contains(&udp.source_port));
    assert_eq!(udp.source_port, flow_src_port(&orig[14..]));
    assert_eq!(udp.destination_port, 6080);
    assert_eq!(usize::from(udp.length), seg.len());
    assert_eq!(udp.checksum, 0, "nocsum: no UDP checksum");
    assert_eq!(
        &rest[..4],
        &[0, IPPROTO_IPIP, 0, 0],
        "GUE v0, hlen 0, proto 4"
    );
    assert_eq!(&rest[4..], &orig[14..], "inner packet untouched");
    check_ipv4(&rest[4..]);
}

#[test]
fn gue_udp_checksum_covers_pseudo_header() {
    let orig = udp_frame(b"some payload");
    let out = encap(
        &orig,
        Encap::Gue {
            port: 5555,
            csum: true,
        },
    );
    let (ip, seg) = outer(&out);
    let (udp, payload) = UdpHeader::from_slice(seg).unwrap();
    assert_ne!(udp.checksum, 0);
    assert_eq!(
        udp.calc_checksum_ipv4(&ip, payload).unwrap(),
        udp.checksum,
        "etherparse agrees"
    );
    // Independently: pseudo header + segment sums to 0xffff.
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&DIP.octets());
    pseudo.extend_from_slice(&RIP.octets());
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(seg);
    assert_eq!(naive_csum(&pseudo), 0);
}

#[test]
fn gue_checksum_zero_is_sent_as_ffff() {
    let mut seg = vec![0u8; LEN + 2];
    let ends = (DIP, RIP);
    write(&mut seg, ends, (40000, 6080), true);
    let c = [seg[6], seg[7]];
    // A payload word equal to that checksum makes the sum 0xffff.
    seg[LEN..].copy_from_slice(&c);
    write(&mut seg, ends, (40000, 6080), true);
    assert_eq!(&seg[6..8], &[0xff, 0xff]);
}

#[test]
fn source_port_follows_the_flow() {
    let a = tcp_frame(true, false, &[], b"");
    let b = tcp_frame(false, true, &[], b"more bytes");
    assert_eq!(
        flow_src_port(&a[14..]),
        flow_src_port(&b[14..]),
        "one connection, one port"
    );
    // The reverse direction hashes the same (the kernel's hash is symmetric).
    let mut rev = a[14..].to_vec();
    let (s, d) = (rev[12..16].to_vec(), rev[16..20].to_vec());
    rev[12..16].copy_from_slice(&d);
    rev[16..20].copy_from_slice(&s);
    let (sp, dp) = (rev[20..22].to_vec(), rev[22..24].to_vec());
    rev[20..22].copy_from_slice(&dp);
    rev[22..24].copy_from_slice(&sp);
    assert_eq!(flow_src_port(&a[14..]), flow_src_port(&rev));
    // Another client port, another source port (for these two).
    let mut other = a[14..].to_vec();
    other[20..22].copy_from_slice(&40001u16.to_be_bytes());
    assert_ne!(flow_src_port(&a[14..]), flow_src_port(&other));
}

#[test]
fn gre_fields_with_and_without_checksum() {
    let orig = tcp_frame(false, true, &[], b"payload!");
    let out = encap(&orig, Encap::Gre { csum: false });
    assert_eq!(out.len(), orig.len() + 24);
    let (ip, seg) = outer(&out);
    assert_eq!(ip.protocol.0, IPPROTO_GRE);
    assert_eq!(usize::from(ip.total_len), orig.len() - 14 + 24);
    assert_eq!(&seg[..4], &[0, 0, 0x08, 0x00], "no flags, version 0, IPv4");
    assert_eq!(&seg[4..], &orig[14..]);

    let out = encap(&orig, Encap::Gre { csum: true });
    assert_eq!(out.len(), orig.len() + 28);
    let (ip, seg) = outer(&out);
    assert_eq!(usize::from(ip.total_len), orig.len() - 14 + 28);
    assert_eq!(&seg[..4], &[0x80, 0, 0x08, 0x00], "C bit, version 0, IPv4");
    assert_ne!(&seg[4..6], &[0, 0]);
    assert_eq!(&seg[6..8], &[0, 0], "reserved1");
    assert_eq!(naive_csum(seg), 0, "GRE checksum over header and payload");
    assert_eq!(&seg[8..], &orig[14..]);
    check_ipv4(&seg[8..]);
}

#[test]
fn too_big_counts_the_whole_tunnel_header() {
    let orig = tcp_frame(false, true, &[], &[7; 1000]);
    let tl = (orig.len() - 14) as u16;
    for (e, extra) in [
        (
            Encap::Gue {
                port: 1,
                csum: false,
            },
            32,
        ),
        (Encap::Gre { csum: false }, 24),
        (Encap::Gre { csum: true }, 28),
    ] {
        let mut f = VecFrame::from_bytes(&orig);
        assert_eq!(
            encapsulate(&mut f, DIP, RIP, tl + extra - 1, e),
            Err(EncapError::TooBig {
                mtu: tl - 1,
                df: true
            })
        );
        assert_eq!(f.data(), &orig[..], "unchanged on error");
        let mut f = VecFrame::from_bytes(&orig);
        assert_eq!(encapsulate(&mut f, DIP, RIP, tl + extra, e), Ok(()));
    }
}

proptest! {
    #[test]
    fn checksums_always_verify(
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        csum in any::<bool>(),
        port in 1u16..,
    ) {
        let orig = udp_frame(&payload);
        let out = encap(&orig, Encap::Gue { port, csum });
        let (ip, seg) = outer(&out);
        let (udp, rest) = UdpHeader::from_slice(seg).unwrap();
        if csum {
            prop_assert_eq!(udp.calc_checksum_ipv4(&ip, rest).unwrap(), udp.checksum);
        } else {
            prop_assert_eq!(udp.checksum, 0);
        }
        prop_assert_eq!(&rest[4..], &orig[14..]);
        let out = encap(&orig, Encap::Gre { csum });
        let (_, seg) = outer(&out);
        if csum {
            prop_assert_eq!(naive_csum(seg), 0);
        }
    }
}
