//! VRRP v2 (RFC 3768) and v3 (RFC 5798 / RFC 9568) for IPv4, sans-IO.
//!
//! The crate owns no socket, clock or thread: the runtime hands it whole
//! received IPv4 packets and the current monotonic time in milliseconds, and
//! carries out the [`Action`]s it returns (send an advertisement, announce a
//! state change, send gratuitous ARPs). That keeps every rule testable on a
//! virtual clock and lets the same machine run beside a DPDK dataplane or a
//! raw socket.
//!
//! Behaviour follows the RFCs where keepalived 2.2.7 does, and keepalived where
//! it differs and peers depend on it (v2 interval mismatch dropped, address
//! list mismatch dropped, a master answering a lower advert, v3 checksum with
//! the IPv4 pseudo-header by default).

mod checksum;
pub mod codec;
mod election;
mod instance;
mod params;
mod rx_drop;
mod timers;
mod types;
mod validate;

pub use instance::Instance;
pub use params::{Params, ParamsError};
pub use rx_drop::{RxDrop, Stats};
pub use types::{Action, ChecksumForm, InitialState, Millis, State, Version};
