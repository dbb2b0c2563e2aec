//! DPDK-free packet path: wire views, pipeline, forwarding, ARP, routes,
//! the generic worker loop and offline replay.
pub mod egress;
pub mod fabric;
pub mod forward;
pub mod frame;
pub mod host;
pub mod host_rings;
pub mod mastership;
pub mod neighbor;
pub mod pcap;
pub mod pipeline;
pub mod replay;
pub mod route;
pub mod service;
pub mod shared;
pub mod snapshot;
pub mod stats;
pub mod steer;
pub mod sync_rings;
pub mod wire;
pub mod worker;

pub use frame::{Frame, VecFrame};
pub use pipeline::{Output, Pipeline};
pub use snapshot::{Snapshot, SnapshotCell};
pub use stats::{CoreStats, DropReason};
pub use worker::{PortIo, Worker};

/// The crates the snapshot types come from, for the binary's conversion code.
pub use conntrack;
pub use sched;
