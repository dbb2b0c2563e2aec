//! The live health checker: keepalived's rules (the `health` crate) driven by
//! probes over kernel sockets, its verdicts applied to the running services
//! through the daemon as one snapshot per change.
pub mod overlay;
pub mod plan;
pub mod runner;
