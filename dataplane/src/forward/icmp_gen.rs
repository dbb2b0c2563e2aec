//! ICMP "destination unreachable, fragmentation needed" (type 3 code 4,
//! RFC 792 with the RFC 1191 next-hop MTU), sent to a client whose DF
//! packet no longer fits once the tunnel header or TOA is added. Without
//! it, path MTU discovery toward the VIP would black-hole.
//!
//! The message quotes the original IP header plus the first 8 bytes of
//! its payload (RFC 792), enough for the client's stack to find the
//! socket (ports) and lower its path MTU. RFC 1122 3.2.2 lists packets
//! that must never trigger an ICMP error; they are refused with
//! [`IcmpGenError::Suppressed`] so no error storms or loops can start.

use std::net::Ipv4Addr;

use super::ETH_LEN;
use crate::frame::Frame;
use crate::wire::checksum;
use crate::wire::icmp::code;
use crate::wire::{
    EtherType, EthernetFrame, IcmpType, Icmpv4Packet, IpProtocol, Ipv4Packet, WireError,
};

/// Bytes of the original payload quoted after its IP header.
const QUOTED_PAYLOAD: usize = 8;
const IP_LEN: usize = 20;
const ICMP_HEADER: usize = 8;
/// TOS of locally generated ICMP errors: precedence "internetwork
/// control", as Linux's `icmp_send` uses.
const TOS_INTERNETCONTROL: u8 = 0xc0;
const TTL: u8 = 64;

/// Why RFC 1122 forbids an ICMP error about this packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Suppress {
    #[error("the packet is itself an ICMP error")]
    IcmpError,
    #[error("non-initial fragment")]
    NonInitialFragment,
    #[error("source is not a unicast host")]
    SourceNotUnicast,
    #[error("sent to a broadcast or multicast address")]
    NotUnicastDestination,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IcmpGenError {
    #[error("malformed original packet: {0}")]
    Malformed(#[from] WireError),
    #[error("ICMP error suppressed: {0}")]
    Suppressed(#[from] Suppress),
    /// `out` cannot hold the message.
    #[error("no room in the output frame")]
    NoRoom,
}

/// ICMP error types (RFC 792): destination unreachable, source quench,
/// redirect, time exceeded, parameter problem. Wider than
/// `IcmpType::is_error`, which lists only the ones that get NATed.
fn is_icmp_error(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// A source that "defines a single host" (RFC 1122 3.2.2 (e)).
fn is_unicast_host(a: Ipv4Addr) -> bool {
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_broadcast()
        || a.is_multicast()
        || a.octets()[0] >= 240)
}

/// Writes into `out` (resized with `set_len`) a complete frame, Ethernet,
/// IPv4 and ICMP "fragmentation needed", about `original_frame` (Ethernet
/// and IPv4), from `our_ip` to the original source, with the MAC
/// addresses of the original frame swapped and all checksums computed.
/// On error `out` is unchanged.
pub fn build_frag_needed<F: Frame>(
    out: &mut F,
    original_frame: &[u8],
    our_ip: Ipv4Addr,
    next_hop_mtu: u16,
) -> Result<(), IcmpGenError> {
    let eth = EthernetFrame::new_checked(original_frame)?;
    if eth.ethertype() != EtherType::IPV4 {
        return Err(WireError::Unsupported.into());
    }
    if eth.dst_addr().is_multicast() {
        return Err(Suppress::NotUnicastDestination.into());
    }
    let ip = Ipv4Packet::new_checked(eth.payload())?;
    if ip.frag_offset() != 0 {
        return Err(Suppress::NonInitialFragment.into());
    }
    let dst = ip.dst_addr();
    if dst.is_broadcast() || dst.is_multicast() {
        return Err(Suppress::NotUnicastDestination.into());
    }
    let client = ip.src_addr();
    if !is_unicast_host(client) {
        return Err(Suppress::SourceNotUnicast.into());
    }
    // Errors about ICMP errors are forbidden; ICMP queries may get one.
    if ip.protocol() == IpProtocol::ICMP {
        match ip.payload().first() {
            Some(&t) if !is_icmp_error(t) => {}
            _ => return Err(Suppress::IcmpError.into()),
        }
    }
    let hl = ip.header_len();
    let quote_len = hl + ip.payload().len().min(QUOTED_PAYLOAD);
    let icmp_len = ICMP_HEADER + quote_len;
    let total = IP_LEN + icmp_len;
    let (src_mac, dst_mac) = (eth.src_addr(), eth.dst_addr());
    let quote = &eth.payload()[..quote_len];

    if !out.set_len(ETH_LEN + total) {
        return Err(IcmpGenError::NoRoom);
    }
    let buf = out.data_mut();
    let (eth_buf, rest) = buf.split_at_mut(ETH_LEN);
    let (ip_buf, icmp_buf) = rest.split_at_mut(IP_LEN);

    let mut e = EthernetFrame::new_unchecked(eth_buf);
    e.set_dst_addr(src_mac);
    e.set_src_addr(dst_mac);
    e.set_ethertype(EtherType::IPV4);

    ip_buf.fill(0);
    ip_buf[0] = 0x45;
    ip_buf[1] = TOS_INTERNETCONTROL;
    let mut o = Ipv4Packet::new_unchecked(ip_buf);
    // At most 20 + 8 + 60 + 8 bytes: always fits a u16.
    o.set_total_len(total as u16);
    o.set_ttl(TTL);
    o.set_protocol(IpProtocol::ICMP);
    o.set_src_addr(our_ip);
    o.set_dst_addr(client);
    o.fill_checksum();

    icmp_buf[..ICMP_HEADER].fill(0);
    icmp_buf[ICMP_HEADER..].copy_from_slice(quote);
    let mut m = Icmpv4Packet::new_unchecked(icmp_buf);
    m.set_msg_type(IcmpType::DEST_UNREACHABLE);
    m.set_code(code::FRAG_NEEDED);
    m.set_next_hop_mtu(next_hop_mtu);
    m.fill_checksum();
    debug_assert_eq!(checksum::checksum(m.into_inner()), 0);
    Ok(())
}

#[cfg(test)]
#[path = "icmp_gen_tests.rs"]
mod tests;
