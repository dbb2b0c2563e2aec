//! Typed errors of this crate.

use std::net::Ipv4Addr;

/// Why a connection or template could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// The table is at capacity; existing entries are unaffected.
    #[error("table full")]
    Full,
    /// One of the keys is already present.
    #[error("entry already exists")]
    Exists,
}

/// Errors of the FullNAT local port pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortPoolError {
    /// The address/port is not one this core's pool hands out.
    #[error("{0}:{1} is not owned by this pool")]
    NotOwned(Ipv4Addr, u16),
    /// The port was given back twice.
    #[error("{0}:{1} is already free")]
    AlreadyFree(Ipv4Addr, u16),
    /// The configured port range is empty (low > high).
    #[error("empty port range {0}..={1}")]
    EmptyRange(u16, u16),
    /// More local addresses than the pool can index.
    #[error("too many local addresses ({0}, at most 65536)")]
    TooManyAddresses(usize),
}
