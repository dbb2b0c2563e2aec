//! One service as one core sees it: the real servers in IPVS list order with
//! this core's connection counts, the scheduler state, and traffic counters.
use std::net::Ipv4Addr;
use std::sync::Arc;

use conntrack::LocalPortPool;
use sched::{Dest, PacketKey, Scheduler};

use crate::snapshot::ServiceSpec;
use crate::stats::TrafficStats;

/// Counters of one service on one core, shared read-only with the control side.
#[derive(Debug, Default)]
pub struct ServiceCounters {
    pub service: TrafficStats,
    /// Indexed by real id (position in the service's `reals`, i.e. file order).
    pub reals: Vec<TrafficStats>,
}

pub struct ServiceState {
    /// IPVS list order: newest first, so the reverse of `spec.reals`.
    pub dests: Vec<Dest>,
    /// Position in `dests` of each real id.
    pos_of_id: Vec<usize>,
    sched: Box<dyn Scheduler>,
    pub counters: Arc<ServiceCounters>,
    /// FullNAT: the local ports this core owns on every local address.
    pub local_ports: Option<LocalPortPool>,
}

#[derive(Debug, thiserror::Error)]
#[error("service {service}: {source}")]
pub struct ServiceBuildError {
    pub service: String,
    #[source]
    pub source: sched::SchedError,
}

impl ServiceState {
    /// Builds the state as `ipvsadm -A` followed by `-a` for each real in file
    /// order would: each added real goes to the front of the list.
    pub fn new(
        spec: &ServiceSpec,
        seed: u64,
        core: u16,
        core_mask: u16,
    ) -> Result<Self, ServiceBuildError> {
        let dests: Vec<Dest> = spec
            .reals
            .iter()
            .enumerate()
            .rev()
            .map(|(id, r)| {
                let mut d = Dest::new(id as u32, r.addr, r.port, r.weight);
                d.upper_threshold = r.upper_threshold;
                d.lower_threshold = r.lower_threshold;
                d
            })
            .collect();
        let mut sched =
            sched::new_scheduler(&spec.scheduler, spec.flags, &[], seed).map_err(|source| {
                ServiceBuildError {
                    service: spec.name.clone(),
                    source,
                }
            })?;
        // Replay the additions so stateful schedulers (wrr) start where IPVS would.
        let mut list: Vec<Dest> = Vec::with_capacity(dests.len());
        for d in dests.iter().rev() {
            list.insert(0, d.clone());
            sched.dests_changed(&list, sched::DestChange::Added(0));
        }
        let n = spec.reals.len();
        let pos_of_id = (0..n).map(|id| n - 1 - id).collect();
        let counters = Arc::new(ServiceCounters {
            service: TrafficStats::default(),
            reals: (0..n).map(|_| TrafficStats::default()).collect(),
        });
        let local_ports = (!spec.local_addresses.is_empty())
            .then(|| LocalPortPool::new(&spec.local_addresses, core, core_mask));
        Ok(ServiceState {
            dests,
            pos_of_id,
            sched,
            counters,
            local_ports,
        })
    }

    /// Returns a FullNAT local port when its connection ends.
    pub fn release_local_port(&mut self, addr: Ipv4Addr, port: u16) {
        if let Some(p) = self.local_ports.as_mut() {
            let _ = p.give_back(addr, port);
        }
    }

    /// Picks a position in `dests` for a new connection.
    #[inline]
    pub fn schedule(&mut self, key: &PacketKey, now: u64) -> Option<usize> {
        self.sched.schedule(&self.dests, key, now)
    }

    #[inline]
    pub fn dest_by_id(&mut self, id: u32) -> Option<&mut Dest> {
        let pos = *self.pos_of_id.get(id as usize)?;
        self.dests.get_mut(pos)
    }

    /// A new connection starts inactive (as in IPVS).
    #[inline]
    pub fn conn_added(&mut self, id: u32) {
        if let Some(d) = self.dest_by_id(id) {
            d.inactive += 1;
            d.refresh_overload();
        }
    }

    /// Moves a connection between the active and inactive counts.
    #[inline]
    pub fn conn_changed(&mut self, id: u32, was_active: bool, is_active: bool) {
        if was_active == is_active {
            return;
        }
        if let Some(d) = self.dest_by_id(id) {
            if is_active {
                d.inactive = d.inactive.saturating_sub(1);
                d.active += 1;
            } else {
                d.active = d.active.saturating_sub(1);
                d.inactive += 1;
            }
            d.refresh_overload();
        }
    }

    #[inline]
    pub fn conn_removed(&mut self, id: u32, was_active: bool) {
        if let Some(d) = self.dest_by_id(id) {
            if was_active {
                d.active = d.active.saturating_sub(1);
            } else {
                d.inactive = d.inactive.saturating_sub(1);
            }
            d.refresh_overload();
        }
    }
}
