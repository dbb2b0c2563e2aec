//! The ferrovs appliance: the DPDK layer (the only FFI), conversion of the
//! YAML model into dataplane snapshots, and the live runner. The `ferrovs`
//! binary is a thin CLI over this; bench tools reuse the DPDK layer.
pub mod checker;
pub mod convert;
pub mod daemon;
pub mod dpdk;
pub mod host;
pub mod instance_lock;
pub mod live;
pub mod readable;
pub mod steering;
pub mod sync;
pub mod vrrp;
