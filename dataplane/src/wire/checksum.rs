//! Internet checksum (RFC 1071) and incremental updates (RFC 1624).
//!
//! Sums are carried as `u32` "partial sums": values that may still hold
//! carries above bit 15. Partial sums of different pieces (pseudo header,
//! L4 segment) can be added together as long as only a handful are added
//! before `fold`, which is how the callers use them.

use std::net::Ipv4Addr;

/// One's-complement sum of `data`, as a partial sum (not yet folded to
/// 16 bits, not complemented). An odd trailing byte is padded with zero,
/// as RFC 1071 specifies.
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    // Accumulate big-endian 32-bit halves of 8-byte chunks into a u64:
    // each add is < 2^33, so a u64 cannot overflow for any slice that
    // fits in memory, and the carries are folded once at the end.
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc += (w >> 32) + (w & 0xffff_ffff);
    }
    let mut rest = chunks.remainder();
    if rest.len() >= 4 {
        acc += u64::from(u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]));
        rest = &rest[4..];
    }
    if rest.len() >= 2 {
        acc += u64::from(u16::from_be_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
    }
    if let Some(&b) = rest.first() {
        acc += u64::from(b) << 8;
    }
    // Fold 64 -> 32 bits with end-around carry; the result still obeys
    // the one's-complement congruence modulo 0xffff.
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc as u32
}

/// Folds a partial sum to 16 bits (end-around carry). Not complemented.
#[inline]
pub fn fold(mut sum: u32) -> u16 {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum as u16
}

/// Adds two partial sums without losing carries (one's complement).
#[inline]
pub fn combine(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    s + u32::from(carry)
}

/// The Internet checksum of `data`: complement of the folded sum.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data))
}

/// Partial sum of the IPv4 pseudo header used by TCP and UDP.
#[inline]
pub fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> u32 {
    let s = u32::from(src);
    let d = u32::from(dst);
    (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + u32::from(protocol) + u32::from(len)
}

/// RFC 1624 eqn. 3: new checksum after a 16-bit word changed from `old`
/// to `new`. `HC' = ~(~HC + ~m + m')`, which, unlike eqn. 2, never yields
/// 0xffff for a non-zero sum, so it agrees bit-for-bit with a full
/// recompute.
#[inline]
pub fn update_u16(old_csum: u16, old: u16, new: u16) -> u16 {
    !fold(u32::from(!old_csum) + u32::from(!old) + u32::from(new))
}

/// Incremental update for a 32-bit field aligned on a 16-bit boundary.
#[inline]
pub fn update_u32(old_csum: u16, old: u32, new: u32) -> u16 {
    let sum = u32::from(!old_csum)
        + u32::from(!(old >> 16) as u16)
        + u32::from(!(old as u16))
        + (new >> 16)
        + (new & 0xffff);
    !fold(sum)
}

/// Incremental update after an IPv4 address changed (IP header checksum,
/// or a TCP/UDP checksum through the pseudo header).
#[inline]
pub fn update_addr(old_csum: u16, old: Ipv4Addr, new: Ipv4Addr) -> u16 {
    update_u32(old_csum, u32::from(old), u32::from(new))
}

/// Incremental update for a 16-bit value stored at byte `offset` of the
/// checksummed region. At an odd offset the value straddles two words;
/// since the one's-complement sum commutes with byte swapping, updating
/// with the swapped values is exact.
#[inline]
pub fn update_u16_at(old_csum: u16, offset: usize, old: u16, new: u16) -> u16 {
    if offset & 1 == 0 {
        update_u16(old_csum, old, new)
    } else {
        update_u16(old_csum, old.swap_bytes(), new.swap_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Obviously-correct reference: 16 bits at a time.
    fn naive(data: &[u8]) -> u16 {
        let mut acc: u64 = 0;
        for c in data.chunks(2) {
            let hi = u64::from(c[0]) << 8;
            let lo = c.get(1).copied().map_or(0, u64::from);
            acc += hi | lo;
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        !(acc as u16)
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example: sum of these words is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn empty_and_odd() {
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0xab]), !0xab00);
        assert_eq!(checksum(&[0xff; 9]), naive(&[0xff; 9]));
    }

    #[test]
    fn known_ipv4_header() {
        // Classic example header with checksum 0xb861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
        h[10] = 0xb8;
        h[11] = 0x61;
        assert_eq!(checksum(&h), 0);
    }

    #[test]
    fn combine_carries() {
        assert_eq!(combine(u32::MAX, 2), 2);
        assert_eq!(
            fold(combine(0xffff_0000, 0x0001_0000)),
            fold(0xffff_0000 + 1)
        );
    }

    proptest! {
        #[test]
        fn fast_sum_matches_naive(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(checksum(&data), naive(&data));
        }

        #[test]
        fn incremental_matches_recompute(
            mut data in proptest::collection::vec(any::<u8>(), 8..200),
            pos in any::<prop::sample::Index>(),
            new16 in any::<u16>(),
            new32 in any::<u32>(),
        ) {
            // Ensure a non-zero sum so the checksum is never the
            // ambiguous all-zero case (real headers always are non-zero).
            data[0] |= 1;
            let csum = checksum(&data);
            // 16-bit field at any offset (even or odd).
            let off = pos.index(data.len() - 1).max(2);
            let off = off.min(data.len() - 2);
            let old = u16::from_be_bytes([data[off], data[off + 1]]);
            data[off..off + 2].copy_from_slice(&new16.to_be_bytes());
            let c2 = update_u16_at(csum, off, old, new16);
            prop_assert_eq!(c2, checksum(&data));
            // 32-bit field at an even offset (skip byte 0 we forced).
            let off = (pos.index(data.len() - 5) & !1).max(2);
            if off + 4 <= data.len() {
                let old = u32::from_be_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]]);
                data[off..off + 4].copy_from_slice(&new32.to_be_bytes());
                prop_assert_eq!(update_u32(c2, old, new32), checksum(&data));
            }
        }

        #[test]
        fn pseudo_header_matches_bytes(s in any::<u32>(), d in any::<u32>(), p in any::<u8>(), l in any::<u16>()) {
            let (s, d) = (Ipv4Addr::from(s), Ipv4Addr::from(d));
            let mut bytes = Vec::new();
            bytes.extend_from_slice(&s.octets());
            bytes.extend_from_slice(&d.octets());
            bytes.extend_from_slice(&[0, p]);
            bytes.extend_from_slice(&l.to_be_bytes());
            prop_assert_eq!(fold(pseudo_header_sum(s, d, p, l)), fold(sum(&bytes)));
        }
    }
}
