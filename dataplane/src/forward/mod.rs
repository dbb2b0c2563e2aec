//! Forwarding-mode building blocks that change a frame's shape: TOA,
//! IPIP encapsulation and generated ICMP errors. (The address and port
//! rewrites of NAT and FullNAT are `pipeline::nat_rewrite`.)
//!
//! Every function here is pure and allocation-free: it works on a frame
//! (Ethernet header at offset 0, then a validated IPv4 header) or on an
//! IPv4 buffer, checks every bound before touching a byte, and reports
//! problems as typed errors so the caller can count a drop reason. A
//! function that returns an error leaves its frame unchanged.
//!
//! - [`toa`]: TCP Option Address (kind 254) carrying the client address
//!   to the RS in FullNAT mode, as DPVS and the TOA kernel module do.
//! - [`ipip`]: TUN mode, the outer IPv4 header (IPIP, RFC 2003) and the
//!   choice of tunnel; [`gue`] and [`gre`] write the UDP + GUE and GRE
//!   headers that go between it and the client's packet.
//! - [`icmp_gen`]: ICMP "fragmentation needed" (RFC 1191) for packets
//!   that no longer fit once TOA or the tunnel header is added.

pub mod gre;
pub mod gue;
pub mod icmp_gen;
pub mod ipip;
pub mod toa;

#[cfg(test)]
mod testutil;

pub use icmp_gen::{build_frag_needed, IcmpGenError};
pub use ipip::{clamp_syn_mss_for_tunnel, encapsulate, overhead, EncapError};
pub use toa::{adjust_synack_mss_for_toa, insert_toa, ToaError, TOA_KIND, TOA_LEN};

pub(crate) use crate::wire::ETH_LEN;
