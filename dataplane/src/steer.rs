//! Which NIC flow rules would deliver FullNAT replies straight to the queue of
//! the worker that owns their connection, so they skip the redirect rings.
//!
//! Pure: this decides the rules, the binary installs them (src/dpdk/flow.rs).
//! The rules follow the pipeline's ownership rule exactly: a packet to one of
//! the services' local addresses belongs to core `dport & core_mask(cores)`,
//! because each core's SNAT pool only hands out ports with that property, and
//! worker k polls queue k of every port. NAT/DR/TUN ownership hashes the
//! client address, which a flow rule cannot express, so it stays with the rings.
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use conntrack::Proto;

use crate::snapshot::ServiceSpec;

/// `port & core_mask(cores)` is the core owning a FullNAT local port (shared
/// by the pipeline, the SNAT pools and the steering rules).
pub fn core_mask(cores: usize) -> u16 {
    (cores.max(1).next_power_of_two() - 1) as u16
}

/// One ingress rule: IPv4 destination `dst` (exact), protocol `proto`,
/// destination port with `dport & port_mask == port_value`, to rx `queue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SteerRule {
    pub dst: Ipv4Addr,
    pub proto: Proto,
    pub port_value: u16,
    pub port_mask: u16,
    pub queue: u16,
}

impl SteerRule {
    /// Whether a packet to `dst:dport` over `proto` matches the rule.
    pub fn matches(&self, dst: Ipv4Addr, proto: Proto, dport: u16) -> bool {
        self.dst == dst && self.proto == proto && dport & self.port_mask == self.port_value
    }
}

/// The rules that send every FullNAT reply of `services` to the queue of its
/// owner among `workers` cores: one per (local address, protocol, core).
/// None with a single worker, which owns everything anyway. Local addresses
/// shared by several services give one set of rules.
pub fn reply_rules(services: &[ServiceSpec], workers: usize) -> BTreeSet<SteerRule> {
    if workers <= 1 {
        return BTreeSet::new();
    }
    let mask = core_mask(workers);
    let targets: BTreeSet<(Ipv4Addr, Proto)> = services
        .iter()
        .flat_map(|s| s.local_addresses.iter().map(move |&a| (a, s.proto)))
        .collect();
    // Cores are queue indices; a u16 holds every queue DPDK can configure.
    let queues = u16::try_from(workers).unwrap_or(u16::MAX);
    targets
        .into_iter()
        .flat_map(|(dst, proto)| {
            (0..queues).map(move |queue| SteerRule {
                dst,
                proto,
                port_value: queue,
                port_mask: mask,
                queue,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "steer_tests.rs"]
mod tests;
