//! The only place that touches DPDK FFI: EAL, mempool, mbuf, ethdev, rte_flow.
//! Everything above this module sees safe types with explicit ownership.
pub mod eal;
pub mod error;
pub mod ethdev;
mod ffi;
pub mod flow;
pub mod mbuf;
pub mod mempool;
pub mod vdev;

pub use eal::Eal;

pub use ethdev::EthPort;
pub use mbuf::Mbuf;
pub use mempool::Mempool;
pub use vdev::Vdev;
