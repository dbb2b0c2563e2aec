//! The address rewrite of the per-packet path in one pass: NAT changes one
//! side (address and port), FullNAT both; the TTL drops by one and each
//! checksum is patched once (RFC 1624, eqn. 3) from fixed offsets. The
//! header lengths were validated when the packet was parsed, so this neither
//! parses again nor checks more than one length per header.
use std::net::Ipv4Addr;

use conntrack::Proto;

use crate::wire::ETH_LEN;

/// A new address and port for one side of the packet; `None` keeps that side.
pub(super) type Endpoint = Option<(Ipv4Addr, u16)>;

/// A one's-complement checksum adjustment (RFC 1624, eqn. 3) gathered word
/// by word and applied once: only changed words are added, and the sum is
/// folded a single time.
struct Delta(u32);

impl Delta {
    #[inline(always)]
    fn new(csum: u16) -> Delta {
        Delta(u32::from(!csum))
    }
    #[inline(always)]
    fn change(&mut self, old: u16, new: u16) {
        self.0 += u32::from(!old) + u32::from(new);
    }
    #[inline(always)]
    fn checksum(self) -> u16 {
        let s = (self.0 & 0xffff) + (self.0 >> 16);
        !(((s & 0xffff) + (s >> 16)) as u16)
    }
}

#[inline(always)]
fn word<const N: usize>(b: &[u8; N], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline(always)]
fn words(a: Ipv4Addr) -> [u16; 2] {
    let o = a.octets();
    [
        u16::from_be_bytes([o[0], o[1]]),
        u16::from_be_bytes([o[2], o[3]]),
    ]
}

/// Rewrites the source and/or destination (address and port) of the IPv4
/// packet in `frame` (header length `hl`, total length `tl`, TCP or UDP).
/// Always inlined: each call site passes a literal `None` for the side it
/// keeps, and the compiler folds that side's work away.
#[inline(always)]
pub(super) fn rewrite(
    frame: &mut [u8],
    hl: usize,
    tl: usize,
    proto: Proto,
    src: Endpoint,
    dst: Endpoint,
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
    // IP header: each changed address, then the TTL word (TTL, protocol).
    // A `None` side adds nothing (and, inlined with a literal, costs nothing).
    let mut ip_c = Delta::new(word(hdr, 10));
    let mut old_s = None;
    let mut old_d = None;
    for (at, new, old) in [(12, src, &mut old_s), (16, dst, &mut old_d)] {
        if let Some((a, _)) = new {
            let (o, n) = ([word(hdr, at), word(hdr, at + 2)], words(a));
            ip_c.change(o[0], n[0]);
            ip_c.change(o[1], n[1]);
            hdr[at..at + 4].copy_from_slice(&a.octets());
            *old = Some(o);
        }
    }
    let ttl_word = word(hdr, 8);
    let ttl = hdr[8].saturating_sub(1);
    hdr[8] = ttl;
    ip_c.change(ttl_word, u16::from_be_bytes([ttl, hdr[9]]));
    hdr[10..12].copy_from_slice(&ip_c.checksum().to_be_bytes());
    // L4: the pseudo header's changed addresses and their ports. UDP checksum 0 = none.
    let (csum_at, l4) = match proto {
        Proto::Tcp => (16, l4.get_mut(..20)),
        Proto::Udp => (6, l4.get_mut(..8)),
    };
    let Some(l4) = l4 else {
        return;
    };
    let old_c = u16::from_be_bytes([l4[csum_at], l4[csum_at + 1]]);
    let mut c = Delta::new(old_c);
    for (port_at, old, new) in [(0, old_s, src), (2, old_d, dst)] {
        if let (Some(o), Some((a, p))) = (old, new) {
            let n = words(a);
            c.change(o[0], n[0]);
            c.change(o[1], n[1]);
            c.change(u16::from_be_bytes([l4[port_at], l4[port_at + 1]]), p);
            l4[port_at..port_at + 2].copy_from_slice(&p.to_be_bytes());
        }
    }
    if !(proto == Proto::Udp && old_c == 0) {
        let c = match c.checksum() {
            0 if proto == Proto::Udp => 0xffff,
            c => c,
        };
        l4[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
    }
}

/// Sums a one's-complement adjustment over whole 32-bit words: a word's
/// value is congruent to the sum of its two halves modulo 0xffff, so folding
/// gives the very checksum the word-by-word form gives (any positive sum
/// folds to the one value in 1..=0xffff of its class).
#[inline(always)]
fn fold64(s: u64) -> u16 {
    // Callers add at most a few dozen 32-bit words, so s < 2^40: the first
    // fold leaves < 2^32 + 2^8, the next < 2^17, the last a 16-bit value.
    let s = (s & 0xffff_ffff) + (s >> 32);
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    (s as u16).wrapping_add((s >> 16) as u16)
}

#[inline(always)]
fn be32(h: &[u8; PREFIX], at: usize) -> u32 {
    u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]])
}

/// Bytes `rewrite_plain` works in: Ethernet, IPv4 without options, and the
/// TCP header (the UDP header and checksum lie within it).
pub(super) const PREFIX: usize = 54;

/// The fast path's form of `rewrite`, for a packet whose IPv4 header has no
/// options and whose fixed prefix the caller checked: the same bytes out,
/// from fixed offsets, with each checksum moved once by 32-bit words.
#[inline(always)]
pub(super) fn rewrite_plain(h: &mut [u8; PREFIX], proto: Proto, src: Endpoint, dst: Endpoint) {
    // The address part (IPv4 header and TCP/UDP pseudo header alike).
    let mut addrs = 0u64;
    for (at, new) in [(26, src), (30, dst)] {
        if let Some((a, _)) = new {
            addrs += u64::from(!be32(h, at)) + u64::from(u32::from(a));
            h[at..at + 4].copy_from_slice(&a.octets());
        }
    }
    let ttl_word = u16::from_be_bytes([h[22], h[23]]);
    h[22] = h[22].saturating_sub(1);
    let ip_sum = u64::from(!u16::from_be_bytes([h[24], h[25]]))
        + addrs
        + u64::from(!ttl_word)
        + u64::from(u16::from_be_bytes([h[22], h[23]]));
    h[24..26].copy_from_slice(&(!fold64(ip_sum)).to_be_bytes());
    let csum_at = match proto {
        Proto::Tcp => 50,
        Proto::Udp => 40,
    };
    let old_c = u16::from_be_bytes([h[csum_at], h[csum_at + 1]]);
    let mut ports = 0u64;
    for (at, new) in [(34, src), (36, dst)] {
        if let Some((_, p)) = new {
            ports += u64::from(!u16::from_be_bytes([h[at], h[at + 1]])) + u64::from(p);
            h[at..at + 2].copy_from_slice(&p.to_be_bytes());
        }
    }
    if proto == Proto::Udp && old_c == 0 {
        return;
    }
    let c = match !fold64(u64::from(!old_c) + addrs + ports) {
        0 if proto == Proto::Udp => 0xffff,
        c => c,
    };
    h[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
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
            for dst_side in [false, true] {
                for (addr, port) in [
                    (Ipv4Addr::new(10, 1, 0, 11), 8080),
                    (Ipv4Addr::new(255, 0, 1, 254), 1),
                ] {
                    let mut f = frame(proto);
                    let p = if proto == 6 { Proto::Tcp } else { Proto::Udp };
                    let one = Some((addr, port));
                    let (src, dst) = if dst_side { (None, one) } else { (one, None) };
                    rewrite(&mut f, 20, 48, p, src, dst);
                    verify(&f, proto);
                    let (a, po) = if dst_side { (30, 36) } else { (26, 34) };
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
            None,
            Some((Ipv4Addr::new(1, 2, 3, 4), 53)),
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
                    Some((Ipv4Addr::LOCALHOST, 1)),
                    None,
                );
            }
        }
        rewrite(
            &mut f[..20],
            20,
            48,
            Proto::Tcp,
            Some((Ipv4Addr::LOCALHOST, 1)),
            None,
        );
    }

    proptest::proptest! {
        /// The fast path's form writes exactly what `rewrite` writes.
        #[test]
        fn the_plain_form_writes_the_same_bytes(
            tcp: bool, s: [u8; 4], d: [u8; 4], sp: u16, dp: u16, sides in 1u8..4,
            udp_no_csum: bool, ttl in 2u8..=255, body: [u8; 8],
        ) {
            let proto = if tcp { 6 } else { 17 };
            let mut f = frame(proto);
            f[46..54].copy_from_slice(&body);
            if tcp {
                f[46] = (f[46] & 0x0f) | 0x50;
            }
            f[22] = ttl;
            let p = if tcp { Proto::Tcp } else { Proto::Udp };
            {
                let (s_, d_) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 100));
                let mut ip = Ipv4Packet::new_unchecked(&mut f[14..]);
                ip.fill_checksum();
                if tcp {
                    TcpPacket::new_unchecked(&mut f[34..]).fill_checksum(s_, d_);
                } else {
                    UdpPacket::new_unchecked(&mut f[34..]).fill_checksum(s_, d_);
                }
            }
            if !tcp && udp_no_csum {
                f[40..42].copy_from_slice(&[0, 0]);
            }
            let src = (sides & 1 != 0).then_some((Ipv4Addr::from(s), sp));
            let dst = (sides & 2 != 0).then_some((Ipv4Addr::from(d), dp));
            let mut a = f.clone();
            rewrite(&mut a, 20, 48, p, src, dst);
            let mut b = f.clone();
            rewrite_plain(b.first_chunk_mut().unwrap(), p, src, dst);
            proptest::prop_assert_eq!(a, b);
        }

        /// Both sides at once (FullNAT), any addresses and ports: the patched
        /// checksums equal a full recompute; sequence numbers and payload stay.
        #[test]
        fn both_sides_match_a_full_recompute(
            tcp: bool, s: [u8; 4], d: [u8; 4], sp: u16, dp: u16, udp_no_csum: bool,
        ) {
            let proto = if tcp { 6 } else { 17 };
            let mut f = frame(proto);
            if !tcp && udp_no_csum {
                f[40..42].copy_from_slice(&[0, 0]);
            }
            let before = f.clone();
            let p = if tcp { Proto::Tcp } else { Proto::Udp };
            let (src, dst) = (Ipv4Addr::from(s), Ipv4Addr::from(d));
            rewrite(&mut f, 20, 48, p, Some((src, sp)), Some((dst, dp)));
            proptest::prop_assert_eq!(&f[26..30], &s);
            proptest::prop_assert_eq!(&f[30..34], &d);
            proptest::prop_assert_eq!(&f[34..36], &sp.to_be_bytes());
            proptest::prop_assert_eq!(&f[36..38], &dp.to_be_bytes());
            proptest::prop_assert_eq!(&f[54..], &before[54..]);
            if tcp {
                proptest::prop_assert_eq!(&f[38..46], &before[38..46]);
            }
            if !tcp && udp_no_csum {
                proptest::prop_assert_eq!(&f[40..42], &[0u8, 0]);
            } else {
                verify(&f, proto);
            }
        }
    }
}
