//! The NAT rewrite of the per-packet path in one pass: one address and one
//! port change, the TTL drops by one, and each checksum is patched once
//! (RFC 1624, eqn. 3) from fixed offsets. The header lengths were validated
//! when the packet was parsed, so a single bounds check covers everything.
use std::net::Ipv4Addr;

use conntrack::Proto;

const ETH_LEN: usize = 14;

#[derive(Clone, Copy)]
pub(super) enum Side {
    Src,
    Dst,
}

/// One's-complement adjustment of `csum` for 16-bit words going from `old` to `new`.
#[inline(always)]
fn adjust(csum: u16, old: [u16; 3], new: [u16; 3]) -> u16 {
    let mut s = u32::from(!csum);
    for (o, n) in old.into_iter().zip(new) {
        s += u32::from(!o) + u32::from(n);
    }
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

#[inline(always)]
fn word<const N: usize>(b: &[u8; N], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Rewrites `side`'s address to `addr` and its port to `port` in the IPv4
/// packet of `frame` (header length `hl`, total length `tl`, TCP or UDP).
#[inline]
pub(super) fn rewrite(
    frame: &mut [u8],
    hl: usize,
    tl: usize,
    proto: Proto,
    side: Side,
    addr: Ipv4Addr,
    port: u16,
) {
    match side {
        Side::Src => rewrite_at::<12, 0>(frame, hl, tl, proto, addr, port),
        Side::Dst => rewrite_at::<16, 2>(frame, hl, tl, proto, addr, port),
    }
}

/// `A`: the address's offset in the IP header; `P`: the port's in the L4 header.
/// Fixed-size views with constant offsets leave one length check per header.
#[inline(always)]
fn rewrite_at<const A: usize, const P: usize>(
    frame: &mut [u8],
    hl: usize,
    tl: usize,
    proto: Proto,
    addr: Ipv4Addr,
    port: u16,
) {
    let Some(ip) = frame.get_mut(ETH_LEN..ETH_LEN + tl) else {
        return;
    };
    if hl < 20 || tl < hl + 8 {
        return;
    }
    let (hdr, l4) = ip.split_at_mut(hl);
    let Ok(hdr) = <&mut [u8; 20]>::try_from(&mut hdr[..20]) else {
        return;
    };
    let new = addr.octets();
    let (old_hi, old_lo) = (word(hdr, A), word(hdr, A + 2));
    let (new_hi, new_lo) = (
        u16::from_be_bytes([new[0], new[1]]),
        u16::from_be_bytes([new[2], new[3]]),
    );
    // IP header: the address and the TTL word (TTL, protocol).
    let ttl_word = word(hdr, 8);
    let ttl = hdr[8].saturating_sub(1);
    let new_ttl_word = u16::from_be_bytes([ttl, hdr[9]]);
    let c = adjust(
        word(hdr, 10),
        [old_hi, old_lo, ttl_word],
        [new_hi, new_lo, new_ttl_word],
    );
    hdr[A..A + 4].copy_from_slice(&new);
    hdr[8] = ttl;
    hdr[10..12].copy_from_slice(&c.to_be_bytes());
    // L4: the pseudo header's address and the port. UDP checksum 0 = none.
    match proto {
        Proto::Tcp => {
            let Ok(t) = <&mut [u8; 20]>::try_from(l4.get_mut(..20).unwrap_or_default()) else {
                return;
            };
            let c = adjust(
                word(t, 16),
                [old_hi, old_lo, word(t, P)],
                [new_hi, new_lo, port],
            );
            t[16..18].copy_from_slice(&c.to_be_bytes());
            t[P..P + 2].copy_from_slice(&port.to_be_bytes());
        }
        Proto::Udp => {
            let Ok(u) = <&mut [u8; 8]>::try_from(&mut l4[..8]) else {
                return;
            };
            let old = word(u, 6);
            if old != 0 {
                let c = adjust(old, [old_hi, old_lo, word(u, P)], [new_hi, new_lo, port]);
                u[6..8].copy_from_slice(&if c == 0 { 0xffff } else { c }.to_be_bytes());
            }
            u[P..P + 2].copy_from_slice(&port.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Ipv4Packet, TcpPacket, UdpPacket};

    fn frame(proto: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 28];
        f[12..14].copy_from_slice(&[8, 0]);
        let ip = &mut f[14..];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&48u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&[10, 0, 0, 2]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 100]);
        ip[20..22].copy_from_slice(&40000u16.to_be_bytes());
        ip[22..24].copy_from_slice(&80u16.to_be_bytes());
        if proto == 6 {
            ip[32] = 0x50;
        } else {
            ip[24..26].copy_from_slice(&28u16.to_be_bytes());
        }
        for (i, b) in ip[40..48].iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37);
        }
        let mut p = Ipv4Packet::new_unchecked(&mut f[14..]);
        p.fill_checksum();
        let (s, d) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 100));
        if proto == 6 {
            TcpPacket::new_unchecked(&mut f[34..]).fill_checksum(s, d);
        } else {
            UdpPacket::new_unchecked(&mut f[34..]).fill_checksum(s, d);
        }
        f
    }

    fn verify(f: &[u8], proto: u8) {
        let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
        assert!(ip.verify_checksum());
        let (s, d) = (ip.src_addr(), ip.dst_addr());
        if proto == 6 {
            assert!(TcpPacket::new_checked(&f[34..])
                .unwrap()
                .verify_checksum(s, d));
        } else {
            assert!(UdpPacket::new_checked(&f[34..])
                .unwrap()
                .verify_checksum(s, d));
        }
    }

    #[test]
    fn both_sides_both_protocols_keep_valid_checksums() {
        for proto in [6u8, 17] {
            for side in [Side::Src, Side::Dst] {
                for (addr, port) in [
                    (Ipv4Addr::new(10, 1, 0, 11), 8080),
                    (Ipv4Addr::new(255, 0, 1, 254), 1),
                ] {
                    let mut f = frame(proto);
                    let p = if proto == 6 { Proto::Tcp } else { Proto::Udp };
                    rewrite(&mut f, 20, 48, p, side, addr, port);
                    verify(&f, proto);
                    let (a, po) = match side {
                        Side::Src => (26, 34),
                        Side::Dst => (30, 36),
                    };
                    assert_eq!(&f[a..a + 4], &addr.octets());
                    assert_eq!(u16::from_be_bytes([f[po], f[po + 1]]), port);
                    assert_eq!(f[22], 63, "TTL decremented");
                }
            }
        }
    }

    #[test]
    fn udp_without_checksum_stays_without() {
        let mut f = frame(17);
        f[40..42].copy_from_slice(&[0, 0]);
        rewrite(
            &mut f,
            20,
            48,
            Proto::Udp,
            Side::Dst,
            Ipv4Addr::new(1, 2, 3, 4),
            53,
        );
        assert_eq!(&f[40..42], &[0, 0]);
    }

    #[test]
    fn short_or_odd_lengths_never_panic() {
        let mut f = frame(6);
        for tl in 0..60 {
            for hl in 0..60 {
                rewrite(
                    &mut f.clone(),
                    hl,
                    tl,
                    Proto::Tcp,
                    Side::Src,
                    Ipv4Addr::LOCALHOST,
                    1,
                );
            }
        }
        rewrite(
            &mut f[..20],
            20,
            48,
            Proto::Tcp,
            Side::Src,
            Ipv4Addr::LOCALHOST,
            1,
        );
    }
}
