//! The Linux IPVS connection-synchronisation protocol
//! (net/netfilter/ipvs/ip_vs_sync.c), sans-IO.
//!
//! A master director multicasts the connections it forwards (UDP to
//! 224.0.0.81:8848 by default) so a backup that takes over keeps them. This
//! crate owns no socket and reads no clock: the caller feeds [`v1::Builder`]
//! connections and the time in milliseconds and sends the datagrams it
//! returns, hands received payloads to [`decode`], and asks [`SyncPolicy`]
//! when a connection is due. It speaks to Linux backups and masters as they
//! are: version 1 out, versions 0 and 1 in, with the kernel's checks; each
//! rule names the kernel function it follows.
//!
//! ferrovs adds one thing Linux lacks, FullNAT's local address and port, in
//! an option Linux skips ([`OPT_FULLNAT`]).

mod conn;
mod decode;
mod policy;
mod states;
pub mod v1;
mod wire;

pub use conn::*;
pub use decode::{decode, Decoded, EntrySkip, Refused};
pub use policy::SyncPolicy;
pub use states::{
    num_states, sctp_state, tcp_state, tpl_state, udp_state, PROTO_AH, PROTO_ESP, PROTO_IP,
    PROTO_SCTP, PROTO_TCP, PROTO_UDP,
};
pub use wire::{
    DEFAULT_MAXLEN, FLUSH_AGE_MS, FULLNAT_LEN, MAX_MAXLEN, OPT_FULLNAT, OPT_F_PARAM, OPT_PE_DATA,
    OPT_PE_NAME, OPT_SEQ_DATA,
};

/// Default multicast group, 224.0.0.81 (`IP_VS_SYNC_GROUP`).
pub const SYNC_GROUP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(224, 0, 0, 81);
/// Default UDP port (`IP_VS_SYNC_PORT`); sync thread `id` uses port + id.
pub const SYNC_PORT: u16 = 8848;
