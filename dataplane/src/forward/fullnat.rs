//! FullNAT address and port rewrite.
//!
//! Inbound (client -> RS): `client:cport -> VIP:vport` becomes
//! `laddr:lport -> RS:rport`; outbound (RS -> client) the reverse:
//! `RS:rport -> laddr:lport` becomes `VIP:vport -> client:cport`. Both
//! directions change all four fields, which is why one rewrite serves
//! both; the two entry points exist so call sites say which direction
//! they handle (TOA, SYN-ACK MSS and sequence adjustment hang off them).
//!
//! Checksums are patched incrementally (RFC 1624 eqn. 3, through the wire
//! views' `rewrite_*` helpers), so the result is bit-identical to a full
//! recompute and a corrupted segment stays detectably corrupted. Sequence
//! numbers are not touched here.

use std::net::Ipv4Addr;

use crate::wire::{IpProtocol, Ipv4Packet, TcpPacket, UdpPacket, WireError};

/// The addresses and ports a packet carries after the rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NatTuple {
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dst: Ipv4Addr,
    pub dport: u16,
}

/// Why a packet was not rewritten. The buffer is unchanged in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FullNatError {
    #[error("malformed packet: {0}")]
    Malformed(#[from] WireError),
    /// Only TCP and UDP have ports to translate.
    #[error("protocol {0} not supported by FullNAT")]
    Unsupported(u8),
}

/// Rewrites a FullNAT packet, either direction (client -> RS or RS ->
/// client), so that it reads `to`. `ipbuf` starts at the IPv4 header; `hl`
/// and `tl` are its header and total lengths as the caller already parsed
/// them (checked again here, never trusted for indexing), and `proto` its
/// protocol.
pub fn rewrite_fullnat(
    ipbuf: &mut [u8],
    hl: usize,
    tl: usize,
    proto: IpProtocol,
    to: NatTuple,
) -> Result<(), FullNatError> {
    if hl < Ipv4Packet::<&[u8]>::MIN_HEADER_LEN {
        return Err(WireError::BadIhl.into());
    }
    if tl < hl || tl > ipbuf.len() {
        return Err(WireError::BadTotalLength.into());
    }
    let (hdr, l4) = ipbuf[..tl].split_at_mut(hl);
    let mut ip = Ipv4Packet::new_unchecked(hdr);
    // Only the first fragment has ports, and its L4 checksum covers the
    // whole datagram; like the pipeline, FullNAT does not handle them.
    if ip.is_fragment() {
        return Err(WireError::Fragment.into());
    }
    // A protocol that disagrees with the header would patch the wrong
    // checksum field: refuse rather than corrupt.
    if ip.protocol() != proto {
        return Err(WireError::Unsupported.into());
    }
    let (old_src, old_dst) = (ip.src_addr(), ip.dst_addr());
    // L4 is validated before anything is written, so errors change nothing.
    match proto {
        IpProtocol::TCP => {
            let mut t = TcpPacket::new_checked(l4)?;
            t.update_checksum_addr(old_src, to.src);
            t.update_checksum_addr(old_dst, to.dst);
            t.rewrite_src_port(to.sport);
            t.rewrite_dst_port(to.dport);
        }
        IpProtocol::UDP => {
            // Keeps an absent (0) checksum absent.
            let mut u = UdpPacket::new_checked(l4)?;
            u.update_checksum_addr(old_src, to.src);
            u.update_checksum_addr(old_dst, to.dst);
            u.rewrite_src_port(to.sport);
            u.rewrite_dst_port(to.dport);
        }
        IpProtocol(p) => return Err(FullNatError::Unsupported(p)),
    }
    ip.rewrite_src_addr(to.src);
    ip.rewrite_dst_addr(to.dst);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::testutil::{check_ipv4, icmp_echo_frame, tcp_frame, udp_frame};
    use proptest::prelude::*;

    fn lens(ip: &[u8]) -> (usize, usize) {
        let p = Ipv4Packet::new_checked(ip).unwrap();
        (p.header_len(), usize::from(p.total_len()))
    }

    fn tuple(a: [u32; 2], p: [u16; 2]) -> NatTuple {
        NatTuple {
            src: Ipv4Addr::from(a[0]),
            sport: p[0],
            dst: Ipv4Addr::from(a[1]),
            dport: p[1],
        }
    }

    #[test]
    fn errors_leave_buffer_unchanged() {
        let t = tuple([1, 2], [3, 4]);
        let orig = tcp_frame(false, true, &[], b"x")[14..].to_vec();
        let (hl, tl) = lens(&orig);
        let cases: [(usize, usize, IpProtocol, FullNatError); 5] = [
            (19, tl, IpProtocol::TCP, WireError::BadIhl.into()),
            (
                hl,
                hl - 1,
                IpProtocol::TCP,
                WireError::BadTotalLength.into(),
            ),
            (
                hl,
                tl + 1,
                IpProtocol::TCP,
                WireError::BadTotalLength.into(),
            ),
            (hl, hl + 10, IpProtocol::TCP, WireError::Truncated.into()),
            (hl, tl, IpProtocol::UDP, WireError::Unsupported.into()),
        ];
        for (h, l, p, e) in cases {
            let mut b = orig.clone();
            assert_eq!(rewrite_fullnat(&mut b, h, l, p, t), Err(e));
            assert_eq!(b, orig);
        }
        let mut icmp = icmp_echo_frame(b"ping")[14..].to_vec();
        let (hl, tl) = lens(&icmp);
        let before = icmp.clone();
        let r = rewrite_fullnat(&mut icmp, hl, tl, IpProtocol::ICMP, t);
        assert_eq!(r, Err(FullNatError::Unsupported(1)));
        assert_eq!(icmp, before);
        let mut frag = orig.clone();
        frag[6] |= 0x20;
        assert_eq!(
            rewrite_fullnat(&mut frag, 20, tl, IpProtocol::TCP, t),
            Err(WireError::Fragment.into())
        );
    }

    #[test]
    fn udp_without_checksum_stays_without() {
        let mut b = udp_frame(b"dns")[14..].to_vec();
        b[26..28].fill(0);
        let (hl, tl) = lens(&b);
        let t = tuple([0x0a00_0001, 0x0a00_0002], [1024, 53]);
        rewrite_fullnat(&mut b, hl, tl, IpProtocol::UDP, t).unwrap();
        assert_eq!(&b[26..28], &[0, 0]);
        let (ip, l4) = check_ipv4(&b);
        assert_eq!(ip.source, [10, 0, 0, 1]);
        assert_eq!(&l4[..4], &[4, 0, 0, 53]);
    }

    proptest! {
        #[test]
        fn tcp_matches_full_recompute(
            addrs in any::<[u32; 2]>(),
            ports in any::<[u16; 2]>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            syn in any::<bool>(),
        ) {
            let orig = tcp_frame(syn, true, &[2, 4, 5, 0xb4], &payload)[14..].to_vec();
            let (hl, tl) = lens(&orig);
            let mut b = orig.clone();
            let t = tuple(addrs, ports);
            rewrite_fullnat(&mut b, hl, tl, IpProtocol::TCP, t).unwrap();
            // check_ipv4 recomputes both checksums with etherparse.
            let (ip, l4) = check_ipv4(&b);
            prop_assert_eq!(ip.source, addrs[0].to_be_bytes());
            prop_assert_eq!(ip.destination, addrs[1].to_be_bytes());
            let tcp = TcpPacket::new_checked(l4).unwrap();
            prop_assert_eq!((tcp.src_port(), tcp.dst_port()), (ports[0], ports[1]));
            // Sequence numbers, options and payload untouched.
            prop_assert_eq!(&l4[4..16], &orig[hl + 4..hl + 16]);
            prop_assert_eq!(&l4[18..], &orig[hl + 18..]);
            // Translating back restores the original bytes exactly.
            let back = NatTuple {
                src: Ipv4Addr::from(orig[12..16].try_into().map(u32::from_be_bytes).unwrap()),
                sport: 40000,
                dst: Ipv4Addr::from(orig[16..20].try_into().map(u32::from_be_bytes).unwrap()),
                dport: 80,
            };
            rewrite_fullnat(&mut b, hl, tl, IpProtocol::TCP, back).unwrap();
            prop_assert_eq!(b, orig);
        }

        #[test]
        fn udp_matches_full_recompute(
            addrs in any::<[u32; 2]>(),
            ports in any::<[u16; 2]>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let orig = udp_frame(&payload)[14..].to_vec();
            let (hl, tl) = lens(&orig);
            let mut b = orig.clone();
            rewrite_fullnat(&mut b, hl, tl, IpProtocol::UDP, tuple(addrs, ports)).unwrap();
            let (_, l4) = check_ipv4(&b);
            prop_assert_eq!(&l4[..4], &[ports[0].to_be_bytes(), ports[1].to_be_bytes()].concat()[..]);
            prop_assert_eq!(&l4[8..], &payload[..]);
        }

        #[test]
        fn random_bytes_never_panic(
            mut b in proptest::collection::vec(any::<u8>(), 0..80),
            hl in 0usize..90,
            tl in 0usize..90,
            p in prop::sample::select(vec![1u8, 6, 17]),
        ) {
            if b.len() > 10 {
                b[9] = p;
            }
            let _ = rewrite_fullnat(&mut b, hl, tl, IpProtocol(p), tuple([1, 2], [3, 4]));
        }
    }
}
