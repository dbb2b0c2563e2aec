//! TUN mode with `--tun-type gue`: the outer UDP header and the GUE header
//! (draft-ietf-intarea-gue, version 0) that IPVS's `ipvs_gue_encap` puts
//! between the outer IPv4 header and the client's packet (Linux 5.2+).
//!
//! - UDP source port: a hash of the inner flow spread over Linux's default
//!   local port range, as `udp_flow_src_port` does, so that every packet of
//!   a connection takes the same ECMP/RSS path and different connections
//!   spread out. The hash (see `flow_hash`) is symmetric in the two
//!   endpoints and reads the ports only of an unfragmented TCP or UDP
//!   packet, as the kernel's flow dissector does; its key is fixed rather
//!   than random per boot, so replays are deterministic.
//! - UDP destination port: the real's `tun_port`.
//! - UDP checksum: zero unless the real asked for one (`--tun-csum`, and
//!   `--tun-remcsum` too, as `udp_set_csum(!check, ..)` fills it for both);
//!   a computed 0 is sent as 0xffff (RFC 768).
//! - GUE: version 0, C 0, hlen 0, proto/ctype 4 (IPIP), flags 0. IPVS adds
//!   the private-flags word and the remote-checksum option only for a
//!   packet whose checksum is still to be completed (CHECKSUM_PARTIAL, a
//!   locally generated packet); a forwarded packet always arrives with its
//!   checksum complete, so with `--tun-remcsum` IPVS sends, and this data
//!   plane sends, the plain 4-byte header with a filled UDP checksum.

use std::net::Ipv4Addr;

use super::ipip::IPPROTO_IPIP;
use crate::wire::checksum::{combine, fold, pseudo_header_sum, sum};

/// Length of the outer UDP header.
pub const UDP_LEN: usize = 8;
/// Length of the GUE header without options.
pub const GUE_LEN: usize = 4;
/// Everything GUE adds after the outer IPv4 header.
pub const LEN: usize = UDP_LEN + GUE_LEN;

const IPPROTO_UDP: u8 = 17;
/// Linux's default `net.ipv4.ip_local_port_range`.
const PORT_MIN: u32 = 32768;
const PORT_MAX: u32 = 60999;

/// Writes the UDP and GUE headers at the front of `seg`, which holds
/// `LEN` bytes for them followed by the inner IPv4 packet, and fills the
/// UDP checksum when `csum`. `seg.len()` must fit in 16 bits (the caller
/// checked it against the MTU).
pub(super) fn write(
    seg: &mut [u8],
    (src, dst): (Ipv4Addr, Ipv4Addr),
    (sport, dport): (u16, u16),
    csum: bool,
) {
    let len = seg.len() as u16;
    let Some(h) = seg.get_mut(..LEN) else {
        return;
    };
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&len.to_be_bytes());
    // Version 0, C 0, hlen 0; proto/ctype IPIP; no flags; checksum 0.
    h[6..12].copy_from_slice(&[0, 0, 0, IPPROTO_IPIP, 0, 0]);
    if csum {
        let s = combine(pseudo_header_sum(src, dst, IPPROTO_UDP, len), sum(seg));
        let c = match !fold(s) {
            0 => 0xffff,
            c => c,
        };
        seg[6..8].copy_from_slice(&c.to_be_bytes());
    }
}

/// The outer UDP source port for the inner IPv4 packet `inner`, as
/// `udp_flow_src_port(net, skb, 0, 0, false)`: the flow hash, its low half
/// folded into the high half, scaled into the local port range.
pub fn flow_src_port(inner: &[u8]) -> u16 {
    let h = flow_hash(inner);
    let h = h ^ (h << 16);
    let port = ((u64::from(h) * u64::from(PORT_MAX - PORT_MIN)) >> 32) as u32 + PORT_MIN;
    port as u16
}

/// A 32-bit hash of the inner flow: addresses, protocol, and the ports of
/// an unfragmented TCP/UDP packet; the same for both directions; never 0.
fn flow_hash(inner: &[u8]) -> u32 {
    let word = |at: usize| -> u32 {
        inner
            .get(at..at + 4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (src, dst) = (word(12), word(16));
    let proto = inner.get(9).copied().unwrap_or(0);
    let frag = inner
        .get(6..8)
        .is_some_and(|b| u16::from_be_bytes([b[0], b[1]]) & 0x3fff != 0);
    let hl = usize::from(inner.first().copied().unwrap_or(0) & 0x0f) * 4;
    let ports = if matches!(proto, 6 | 17) && !frag {
        word(hl)
    } else {
        0
    };
    let (sport, dport) = (ports >> 16, ports & 0xffff);
    // Order the endpoints as the kernel's __flow_hash_consistentify does.
    let (a, b, pa, pb) = if dst < src || (dst == src && dport < sport) {
        (dst, src, dport, sport)
    } else {
        (src, dst, sport, dport)
    };
    let x = fmix64((u64::from(a) << 32 | u64::from(b)) ^ 0x5851_f42d_4c95_7f2d);
    let y = fmix64(x ^ (u64::from(pa) << 40 | u64::from(pb) << 16 | u64::from(proto)));
    match (y ^ (y >> 32)) as u32 {
        0 => 1,
        h => h,
    }
}

/// MurmurHash3's 64-bit finaliser.
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
#[path = "gue_tests.rs"]
mod tests;
