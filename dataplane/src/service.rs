//! One service as one core sees it: the real servers in IPVS list order with
//! this core's connection counts, the scheduler state, the FullNAT local
//! ports and the traffic counters. A new configuration is reconciled into it
//! the way `ipvsadm -a/-e/-d/-E` would change the kernel's service, so the
//! scheduler keeps its state and connections keep their counts.
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use conntrack::{Dir, LocalPortPool};
use sched::{Dest, DestChange, PacketKey, Scheduler};

use crate::snapshot::{Encap, RealSpec, ServiceSpec};
use crate::stats::TrafficStats;

/// Counts of one real on one core, readable by the control side.
#[derive(Debug, Default)]
pub struct RealCounters {
    pub traffic: TrafficStats,
    pub active: AtomicU64,
    pub inactive: AtomicU64,
    pub persistent: AtomicU64,
}

/// Counters of one service on one core, shared read-only with the control side.
#[derive(Debug, Default)]
pub struct ServiceCounters {
    pub service: TrafficStats,
    /// Indexed by real id.
    pub reals: Vec<RealCounters>,
}

impl ServiceCounters {
    /// One packet of `len` bytes of a connection to real `dest`, travelling
    /// `dir`: counted for the service and for the real.
    #[inline(always)]
    pub fn count(&self, dest: u32, dir: Dir, len: usize) {
        let real = self.reals.get(dest as usize).map(|r| &r.traffic);
        match dir {
            Dir::In => {
                self.service.count_in(len);
                real.inspect(|r| r.count_in(len));
            }
            Dir::Out => {
                self.service.count_out(len);
                real.inspect(|r| r.count_out(len));
            }
        }
    }
}

pub struct ServiceState {
    pub spec: ServiceSpec,
    /// IPVS list order: newest first.
    pub dests: Vec<Dest>,
    /// Real spec by real id (None once removed).
    reals: Vec<Option<RealSpec>>,
    /// The last tunnel of each real id, kept after the real is removed:
    /// its connections keep their encapsulation, as IPVS's keep their dest.
    encaps: Vec<Encap>,
    /// Position in `dests` of each real id (`usize::MAX` when absent).
    pos_of_id: Vec<usize>,
    sched: Box<dyn Scheduler>,
    seed: u64,
    pub counters: Arc<ServiceCounters>,
    /// FullNAT: the local ports this core owns on every local address.
    pub local_ports: Option<LocalPortPool>,
    core: u16,
    core_mask: u16,
}

#[derive(Debug, thiserror::Error)]
#[error("service {service}: {source}")]
pub struct ServiceBuildError {
    pub service: String,
    #[source]
    pub source: sched::SchedError,
}

const ABSENT: usize = usize::MAX;

/// A change to a service that passed every check (`ServiceState::prepare`):
/// applying it (`commit`) cannot fail.
pub struct Prepared {
    spec: ServiceSpec,
    /// The new scheduler, when its name or flags change.
    sched: Option<Box<dyn Scheduler>>,
}

/// Every limit a worker enforces on a service, checked before anything changes.
pub fn check(spec: &ServiceSpec) -> Result<(), ServiceBuildError> {
    sched::check(&spec.scheduler, spec.reals.len()).map_err(|source| build_error(spec, source))
}

fn build_error(spec: &ServiceSpec, source: sched::SchedError) -> ServiceBuildError {
    ServiceBuildError {
        service: spec.name.clone(),
        source,
    }
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
        check(spec)?;
        let sched = sched::new_scheduler(&spec.scheduler, spec.flags, &[], seed)
            .map_err(|source| build_error(spec, source))?;
        let mut s = ServiceState {
            spec: spec.clone(),
            dests: Vec::with_capacity(spec.reals.len()),
            reals: Vec::new(),
            encaps: Vec::new(),
            pos_of_id: Vec::new(),
            sched,
            seed,
            counters: Arc::new(ServiceCounters::default()),
            local_ports: None,
            core,
            core_mask,
        };
        s.spec.reals.clear();
        // Its scheduler is already made for it: it only takes its reals.
        s.commit(Prepared {
            spec: spec.clone(),
            sched: None,
        });
        Ok(s)
    }

    /// Moves to `new` (same service id): reals added, removed and edited as
    /// IPVS would, the scheduler rebuilt only if its name or flags changed.
    /// On error nothing has changed.
    pub fn reconcile(&mut self, new: &ServiceSpec) -> Result<(), ServiceBuildError> {
        let prepared = self.prepare(new)?;
        self.commit(prepared);
        Ok(())
    }

    /// The fallible half of `reconcile`, touching nothing: checks `new`
    /// against every limit and builds the scheduler it needs.
    pub fn prepare(&self, new: &ServiceSpec) -> Result<Prepared, ServiceBuildError> {
        check(new)?;
        let sched = if new.scheduler != self.spec.scheduler || new.flags != self.spec.flags {
            Some(
                sched::new_scheduler(&new.scheduler, new.flags, &self.dests, self.seed)
                    .map_err(|source| build_error(new, source))?,
            )
        } else {
            None
        };
        Ok(Prepared {
            spec: new.clone(),
            sched,
        })
    }

    /// The infallible half of `reconcile`.
    pub fn commit(&mut self, prepared: Prepared) {
        let Prepared { spec: new, sched } = prepared;
        let new = &new;
        if let Some(s) = sched {
            self.sched = s;
        }
        // Removed reals leave the list (and the scheduler's tables and caches).
        let keep = |id: u32| new.reals.iter().any(|r| r.id == id);
        while let Some(pos) = self.dests.iter().position(|d| !keep(d.id)) {
            let d = self.dests.remove(pos);
            self.reals[d.id as usize] = None;
            self.reindex();
            self.sched.dests_changed(
                &self.dests,
                DestChange::Removed {
                    index: pos,
                    id: d.id,
                },
            );
        }
        // Added reals go to the front, in file order; edited ones stay put.
        for r in &new.reals {
            let id = r.id as usize;
            if id >= self.reals.len() {
                self.reals.resize(id + 1, None);
                self.encaps.resize(id + 1, Encap::Ipip);
                self.pos_of_id.resize(id + 1, ABSENT);
            }
            self.encaps[id] = r.encap;
            match self.pos_of_id[id] {
                ABSENT => {
                    let mut d = Dest::new(r.id, r.addr, r.port, r.weight);
                    d.upper_threshold = r.upper_threshold;
                    d.lower_threshold = r.lower_threshold;
                    self.dests.insert(0, d);
                    self.reals[id] = Some(r.clone());
                    self.reindex();
                    self.sched.dests_changed(&self.dests, DestChange::Added(0));
                }
                pos => {
                    let old = self.reals[id].replace(r.clone());
                    let changed = old.is_none_or(|o| {
                        o.weight != r.weight
                            || o.upper_threshold != r.upper_threshold
                            || o.lower_threshold != r.lower_threshold
                    });
                    if changed {
                        let d = &mut self.dests[pos];
                        d.weight = r.weight;
                        d.set_thresholds(r.upper_threshold, r.lower_threshold);
                        self.sched
                            .dests_changed(&self.dests, DestChange::Edited(pos));
                    }
                }
            }
        }
        if new.local_addresses != self.spec.local_addresses || self.local_ports.is_none() {
            self.local_ports = (!new.local_addresses.is_empty())
                .then(|| LocalPortPool::new(&new.local_addresses, self.core, self.core_mask));
        }
        if self.counters.reals.len() < self.reals.len() {
            self.counters = Arc::new(grow(&self.counters, self.reals.len()));
        }
        self.spec = new.clone();
    }

    fn reindex(&mut self) {
        self.pos_of_id.iter_mut().for_each(|p| *p = ABSENT);
        for (pos, d) in self.dests.iter().enumerate() {
            if let Some(p) = self.pos_of_id.get_mut(d.id as usize) {
                *p = pos;
            }
        }
    }

    /// The real with this id, if it is still part of the service.
    #[inline]
    pub fn real(&self, id: u32) -> Option<&RealSpec> {
        self.reals.get(id as usize)?.as_ref()
    }

    /// The tunnel towards real `id` (also after its removal; IPIP for an
    /// id this service never had).
    #[inline]
    pub fn encap_of(&self, id: u32) -> Encap {
        self.encaps.get(id as usize).copied().unwrap_or_default()
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
        self.publish(id);
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
        self.publish(id);
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
        self.publish(id);
    }

    /// Persistence templates pointing at real `id`: +1 or -1.
    pub fn template_changed(&mut self, id: u32, added: bool) {
        if let Some(d) = self.dest_by_id(id) {
            d.persistent = if added {
                d.persistent + 1
            } else {
                d.persistent.saturating_sub(1)
            };
        }
        self.publish(id);
    }

    /// Mirrors a real's counts where the control side can read them.
    #[inline]
    fn publish(&mut self, id: u32) {
        let Some(pos) = self
            .pos_of_id
            .get(id as usize)
            .copied()
            .filter(|p| *p != ABSENT)
        else {
            return;
        };
        let (Some(d), Some(c)) = (self.dests.get(pos), self.counters.reals.get(id as usize)) else {
            return;
        };
        c.active.store(u64::from(d.active), Relaxed);
        c.inactive.store(u64::from(d.inactive), Relaxed);
        c.persistent.store(u64::from(d.persistent), Relaxed);
    }
}

/// A copy of `old` with room for `n` reals (readers of the old one keep valid figures).
fn grow(old: &ServiceCounters, n: usize) -> ServiceCounters {
    let copy_traffic = |t: &TrafficStats| {
        let n = TrafficStats::default();
        n.conns.add(t.conns.get());
        n.in_packets.add(t.in_packets.get());
        n.in_bytes.add(t.in_bytes.get());
        n.out_packets.add(t.out_packets.get());
        n.out_bytes.add(t.out_bytes.get());
        n
    };
    let reals = (0..n)
        .map(|i| match old.reals.get(i) {
            Some(r) => RealCounters {
                traffic: copy_traffic(&r.traffic),
                active: AtomicU64::new(r.active.load(Relaxed)),
                inactive: AtomicU64::new(r.inactive.load(Relaxed)),
                persistent: AtomicU64::new(r.persistent.load(Relaxed)),
            },
            None => RealCounters::default(),
        })
        .collect();
    ServiceCounters {
        service: copy_traffic(&old.service),
        reals,
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
