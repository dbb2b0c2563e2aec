//! Per-core connection tracking for ferrovs, with Linux IPVS semantics.
//!
//! One `ConnTable` per worker core: no locks, no allocation after construction,
//! no clock reads (every call that needs time takes `now: Millis`). The TCP state
//! machine and timeouts follow net/netfilter/ipvs/ip_vs_proto_tcp.c and
//! ip_vs_proto_udp.c; persistence templates and expiry follow ip_vs_conn.c.
//!
//! Modules: `tuple` (flow keys, hash), `state` (TCP state tables), `timeouts`,
//! `conn` (records), `index` (tuple hash index), `wheel` (timer wheel), `table`
//! (the connection table), `template` (persistence), `portpool` (FullNAT ports).

mod conn;
mod error;
mod index;
pub mod mem;
mod portpool;
mod sizing;
mod state;
mod table;
mod template;
mod timeouts;
mod tuple;
mod wheel;

/// Milliseconds on the caller's clock (monotonic; pcap time in replay).
pub type Millis = u64;

pub use conn::{Conn, ConnId, ConnMut, NewConn, Transition};
pub use error::{InsertError, PortPoolError};
pub use mem::Backing;
pub use portpool::{port_owner, LocalPortPool, DEFAULT_PORT_RANGE};
pub use sizing::worker_memory_bytes_for;
pub use state::{next_tcp_state, FlagClass, StateTable, TcpFlags, TcpState};
pub use table::{ConnTable, BURST, MAX_CAPACITY, NEW_CONN_TIMEOUT_MS};
pub use template::{
    Template, TemplateDest, TemplateId, TemplateKey, TemplateTable, DEFAULT_PERSISTENCE_TIMEOUT,
    TEMPLATE_REARM_SECS,
};
pub use timeouts::Timeouts;
pub use tuple::{Dir, Proto, Tuple};
