//! Zero-copy packet views in the style of smoltcp's `wire` module.
//!
//! Each view wraps any `T: AsRef<[u8]>` (an mbuf's data slice, a `Vec`,
//! a test array). `new_checked` validates lengths once, after which no
//! accessor can panic; setters exist when `T: AsMut<[u8]>`. Nothing here
//! allocates: these run once or more per packet.

pub mod arp;
pub mod checksum;
mod error;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod tcp;
pub mod udp;

#[cfg(test)]
mod testutil;

pub use arp::{ArpOp, ArpPacket};
pub use error::WireError;
pub use ethernet::{EtherType, EthernetFrame, MacAddr, ParseMacError, ETH_LEN};
pub use icmp::{IcmpQuote, IcmpType, Icmpv4Packet};
pub use ipv4::{IpProtocol, Ipv4Packet};
pub use tcp::{TcpFlags, TcpOptionKind, TcpOptions, TcpPacket};
pub use udp::UdpPacket;
