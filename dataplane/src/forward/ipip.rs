//! TUN mode: the client's packet travels unchanged inside an outer IPv4
//! header from the director to the RS, which decapsulates it and answers
//! the client directly, as IPVS's `ip_vs_tunnel_xmit` does it. Between
//! the two headers goes nothing (IPIP, RFC 2003, protocol 4), UDP + GUE
//! (protocol 17, see [`super::gue`]) or GRE (protocol 47, see
//! [`super::gre`]), per the real's [`Encap`].
//!
//! Outer header choices: TOS/DSCP+ECN copied from the inner header, DF
//! copied from the inner header (so path MTU discovery still reaches the
//! client), TTL 64, and an identification derived from the inner header
//! (see `outer_ident`).

use std::net::Ipv4Addr;

use super::{gre, gue, ETH_LEN};
use crate::frame::Frame;
use crate::snapshot::Encap;
use crate::wire::{IpProtocol, Ipv4Packet, TcpPacket, WireError};

/// IP protocol number of IPv4-in-IPv4.
pub const IPPROTO_IPIP: u8 = 4;
/// Size of the outer IPv4 header (no options).
pub const OUTER_LEN: usize = 20;
/// TTL of the outer header (Linux's default `ip_default_ttl`).
pub const OUTER_TTL: u8 = 64;

/// Why a packet was not encapsulated. The frame is unchanged in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncapError {
    #[error("malformed packet: {0}")]
    Malformed(#[from] WireError),
    /// Inner packet + [`overhead`] exceeds the MTU. `mtu` is the largest
    /// inner packet that fits (MTU - overhead). With `df: true` the caller answers
    /// with ICMP "fragmentation needed" carrying `mtu` (see
    /// [`super::icmp_gen::build_frag_needed`]). With `df: false` IPVS
    /// would fragment the inner packet before encapsulating; this data
    /// plane does not fragment, so the caller drops it (or fragments
    /// itself) and counts a drop reason.
    #[error("packet too big for the tunnel (inner MTU {mtu}, DF {df})")]
    TooBig { mtu: u16, df: bool },
    /// No headroom in the buffer for the outer header.
    #[error("no headroom for the outer header")]
    NoHeadroom,
}

/// Ident of the outer header, derived from the inner packet. Every outer
/// packet goes director -> RS, so if a router downstream fragments a
/// DF=0 packet, reassembly keys on (director, RS, 4, ident) alone: mixing
/// the inner source into the inner ident keeps different clients' packets
/// apart where copying the ident verbatim would collide whenever two
/// clients happen to use the same one. No per-core counter is needed.
fn outer_ident(inner_ident: u16, inner_src: Ipv4Addr) -> u16 {
    let s = u32::from(inner_src);
    inner_ident ^ (s >> 16) as u16 ^ s as u16
}

/// Bytes the tunnel adds in front of the inner packet: the outer IPv4
/// header and the UDP + GUE or GRE header (what IPVS subtracts from the
/// route's MTU in `__ip_vs_get_out_rt`).
pub fn overhead(encap: Encap) -> usize {
    OUTER_LEN
        + match encap {
            Encap::Ipip => 0,
            Encap::Gue { .. } => gue::LEN,
            Encap::Gre { csum } => gre::len(csum),
        }
}

fn outer_protocol(encap: Encap) -> u8 {
    match encap {
        Encap::Ipip => IPPROTO_IPIP,
        Encap::Gue { .. } => 17,
        Encap::Gre { .. } => gre::IPPROTO_GRE,
    }
}

/// Encapsulates the IPv4 packet of `frame` (Ethernet + IPv4) in an outer
/// IPv4 header from `outer_src` to `outer_dst` (plus the UDP + GUE or GRE
/// header of `encap`), inserted between the Ethernet header and the inner
/// packet. `mtu` is the IP MTU of the link toward the RS. The Ethernet
/// addresses are left for the caller (neighbour lookup of the RS);
/// Ethernet padding is dropped.
pub fn encapsulate<F: Frame>(
    frame: &mut F,
    outer_src: Ipv4Addr,
    outer_dst: Ipv4Addr,
    mtu: u16,
    encap: Encap,
) -> Result<(), EncapError> {
    let ipbuf = frame.data().get(ETH_LEN..).ok_or(WireError::Truncated)?;
    // Fragments are fine here: TUN does not look at L4.
    let inner = Ipv4Packet::new_checked(ipbuf)?;
    let tl = usize::from(inner.total_len());
    let df = inner.dont_frag();
    let extra = overhead(encap);
    if tl + extra > usize::from(mtu) {
        return Err(EncapError::TooBig {
            mtu: mtu.saturating_sub(extra as u16),
            df,
        });
    }
    // Read everything the outer headers copy before the buffer moves.
    let tos = ipbuf[1];
    let ident = outer_ident(inner.ident(), inner.src_addr());
    let sport = match encap {
        Encap::Gue { .. } => gue::flow_src_port(&ipbuf[..tl]),
        _ => 0,
    };

    if !frame.prepend(extra) {
        return Err(EncapError::NoHeadroom);
    }
    // Drop Ethernet padding so the frame ends where the packet ends.
    // Shrinking cannot fail; the length was checked above.
    let _ = frame.set_len(extra + ETH_LEN + tl);
    let buf = frame.data_mut();
    // The Ethernet header moves to the new front; the outer headers go
    // into the bytes it leaves behind.
    buf.copy_within(extra..extra + ETH_LEN, 0);
    let (outer, seg) = buf[ETH_LEN..].split_at_mut(OUTER_LEN);
    let Some(outer) = outer.first_chunk_mut::<OUTER_LEN>() else {
        return Err(EncapError::Malformed(WireError::Truncated));
    };
    // tl + extra <= mtu <= u16::MAX, so this cannot truncate.
    let outer_hdr = Outer {
        tos,
        total: (tl + extra) as u16,
        ident,
        df,
        protocol: outer_protocol(encap),
        src: outer_src,
        dst: outer_dst,
    };
    outer_hdr.write(outer);
    match encap {
        Encap::Ipip => {}
        Encap::Gue { port, csum } => gue::write(seg, (outer_src, outer_dst), (sport, port), csum),
        Encap::Gre { csum } => gre::write(seg, csum),
    }
    Ok(())
}

/// The outer IPv4 header's variable fields (version 4, no options, TTL
/// `OUTER_TTL`, fragment offset 0).
struct Outer {
    tos: u8,
    total: u16,
    ident: u16,
    df: bool,
    protocol: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
}

impl Outer {
    /// Writes the whole header, checksum included.
    #[inline]
    fn write(&self, h: &mut [u8; OUTER_LEN]) {
        let (s, d) = (self.src.octets(), self.dst.octets());
        let flags = if self.df { 0x40 } else { 0 };
        let t = self.total.to_be_bytes();
        let id = self.ident.to_be_bytes();
        *h = [
            0x45,
            self.tos,
            t[0],
            t[1],
            id[0],
            id[1],
            flags,
            0,
            OUTER_TTL,
            self.protocol,
            0,
            0,
            s[0],
            s[1],
            s[2],
            s[3],
            d[0],
            d[1],
            d[2],
            d[3],
        ];
        let sum: u32 = h
            .chunks_exact(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let sum = (sum & 0xffff) + (sum >> 16);
        let sum = (sum & 0xffff) + (sum >> 16);
        h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    }
}

/// IPIP around a packet the caller already validated: an unfragmented IPv4
/// packet without options, `tl` bytes long, that fits the link with the outer
/// header (the established fast path checked all of it). The same frame
/// `encapsulate` would build for `Encap::Ipip`; false (frame unchanged) when
/// the buffer has no headroom.
#[inline]
pub fn encapsulate_ipip_known<F: Frame>(
    frame: &mut F,
    tl: usize,
    outer_src: Ipv4Addr,
    outer_dst: Ipv4Addr,
) -> bool {
    let Some(inner) = frame.data().get(ETH_LEN..ETH_LEN + 20) else {
        return false;
    };
    let hdr = Outer {
        tos: inner[1],
        total: (tl + OUTER_LEN) as u16,
        ident: outer_ident(
            u16::from_be_bytes([inner[4], inner[5]]),
            Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15]),
        ),
        df: inner[6] & 0x40 != 0,
        protocol: IPPROTO_IPIP,
        src: outer_src,
        dst: outer_dst,
    };
    if !frame.prepend(OUTER_LEN) {
        return false;
    }
    let _ = frame.set_len(OUTER_LEN + ETH_LEN + tl);
    let buf = frame.data_mut();
    buf.copy_within(OUTER_LEN..OUTER_LEN + ETH_LEN, 0);
    if let Some(outer) = buf
        .get_mut(ETH_LEN..ETH_LEN + OUTER_LEN)
        .and_then(|b| b.first_chunk_mut::<OUTER_LEN>())
    {
        hdr.write(outer);
    }
    true
}

/// Largest MSS a SYN may announce so that a full segment (inner IPv4 20 +
/// TCP 20 + data) still fits the MTU inside the tunnel's headers.
pub fn tunnel_mss(mtu: u16, encap: Encap) -> u16 {
    mtu.saturating_sub(overhead(encap) as u16 + 20 + 20)
}

/// Lowers the MSS option of a TCP SYN (or SYN-ACK) in `frame` (Ethernet +
/// IPv4, not yet encapsulated) to [`tunnel_mss`]`(mtu, encap)` when it is
/// larger; the checksum is patched incrementally. Returns true when the
/// segment changed; non-TCP packets, fragments and segments without SYN
/// or MSS are left alone.
///
/// Scope: the MSS in the client's SYN bounds what the RS sends to the
/// client. In TUN mode that direction bypasses the director, and what
/// the client sends (the tunnelled direction) is bounded by the RS's
/// SYN-ACK, which the director never sees. Clamping the SYN therefore
/// only helps when the return path is tunnelled as well; in the usual
/// setup the RS must advertise the smaller MSS itself (e.g. `ip route
/// ... advmss`), and oversized DF packets are answered with ICMP
/// "fragmentation needed" (`EncapError::TooBig`).
pub fn clamp_syn_mss_for_tunnel<F: Frame>(
    frame: &mut F,
    mtu: u16,
    encap: Encap,
) -> Result<bool, EncapError> {
    let ipbuf = frame
        .data_mut()
        .get_mut(ETH_LEN..)
        .ok_or(WireError::Truncated)?;
    let ip = Ipv4Packet::new_checked(&*ipbuf)?;
    if ip.protocol() != IpProtocol::TCP || ip.is_fragment() {
        return Ok(false);
    }
    let (hl, tl) = (ip.header_len(), usize::from(ip.total_len()));
    let mut tcp = TcpPacket::new_checked(&mut ipbuf[hl..tl])?;
    if !tcp.syn() {
        return Ok(false);
    }
    Ok(tcp.clamp_mss(tunnel_mss(mtu, encap)))
}

#[cfg(test)]
#[path = "ipip_tests.rs"]
mod tests;
