//! The Internet checksum (RFC 1071), and the IPv4 pseudo-header keepalived
//! puts in front of a v3 message.

use std::net::Ipv4Addr;

use crate::codec::IPPROTO_VRRP;

/// Adds `bytes` as big-endian 16-bit words to a running sum; an odd last
/// byte counts as its word's high half (zero padded), as RFC 1071 says.
/// u64 so that no real packet length can overflow before folding.
pub(crate) fn add(mut acc: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        if let [hi, lo] = w {
            acc += u64::from(u16::from_be_bytes([*hi, *lo]));
        }
    }
    if let [last] = words.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

/// Folds the carries back in and complements: the value to put in a checksum
/// field (and 0 when a sum that already includes its checksum field verifies).
pub(crate) fn finish(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // acc <= 0xffff here, so the conversion cannot fail.
    !u16::try_from(acc).unwrap_or(0xffff)
}

/// Sum of the IPv4 pseudo-header {src, dst, 0, 112, length}.
pub(crate) fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, vrrp_len: u16) -> u64 {
    let mut acc = add(0, &src.octets());
    acc = add(acc, &dst.octets());
    acc = add(acc, &[0, IPPROTO_VRRP]);
    add(acc, &vrrp_len.to_be_bytes())
}

#[cfg(test)]
#[path = "checksum_tests.rs"]
mod tests;
