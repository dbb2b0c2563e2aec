//! Linux IPVS connection schedulers, re-implemented for the ferrovs dataplane.
//!
//! Every scheduler works on the service's destination list in IPVS order
//! (index 0 = most recently added) and returns an index into it. Schedulers
//! keep only what depends on the list (cursors, hash tables, caches); the
//! per-server counters live in [`Dest`] and are read at pick time. Rebuilds
//! happen in [`Scheduler::dests_changed`]; [`Scheduler::schedule`] does not
//! allocate, except that lblc/lblcr may grow their caches beyond any size
//! they reached before.

mod common;
mod dest;
mod hash;
mod lcache;

pub mod dh;
pub mod fo;
pub mod lblc;
pub mod lblcr;
pub mod lc;
pub mod mh;
pub mod nq;
pub mod ovf;
pub mod rr;
pub mod sed;
pub mod sh;
pub mod twos;
pub mod wlc;
pub mod wrr;

pub use dest::{Dest, DestChange, Millis, PacketKey, SchedFlags};

/// A connection scheduler for one service on one core.
pub trait Scheduler: Send {
    /// The IPVS name (`"rr"`, `"wlc"`, ...).
    fn name(&self) -> &'static str;

    /// Called after the service's destination list changed; the list is
    /// already updated (for `Removed`, the server is gone from `dests`).
    /// May allocate: this is the control path.
    fn dests_changed(&mut self, dests: &[Dest], change: DestChange);

    /// Pick an index into `dests` for a new connection, or `None` when no
    /// server is available.
    fn schedule(&mut self, dests: &[Dest], pkt: &PacketKey, now: Millis) -> Option<usize>;

    /// For tests: the server id held by each slot of a hash scheduler's
    /// lookup table (sh, dh, mh), `None` for other schedulers.
    #[doc(hidden)]
    fn table_snapshot(&self) -> Option<Vec<Option<u32>>> {
        None
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchedError {
    #[error("unknown scheduler {0:?} (expected one of rr wrr lc wlc sed nq lblc lblcr sh dh mh fo ovf twos)")]
    Unknown(String),
    /// IPVS refuses an mh service with more servers than lookup slots.
    #[error("mh: {dests} real servers exceed the {slots}-slot lookup table")]
    TooManyDests { dests: usize, slots: usize },
}

/// Every scheduler name [`new_scheduler`] accepts.
pub const SCHEDULER_NAMES: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "sed", "nq", "lblc", "lblcr", "sh", "dh", "mh", "fo", "ovf", "twos",
];

/// Most real servers a service with scheduler `name` can hold (the kernel's
/// limit: an mh service refuses more servers than its lookup table has slots).
pub fn max_dests(name: &str) -> Option<usize> {
    (name == "mh").then_some(mh::TAB_SIZE)
}

/// Whether a service with scheduler `name` and `dests` real servers can be
/// built: the one place the limits live, checked by the control layer before
/// a change is accepted and by every worker before it touches its state.
pub fn check(name: &str, dests: usize) -> Result<(), SchedError> {
    if !SCHEDULER_NAMES.contains(&name) {
        return Err(SchedError::Unknown(name.to_string()));
    }
    match max_dests(name) {
        Some(slots) if dests > slots => Err(SchedError::TooManyDests { dests, slots }),
        _ => Ok(()),
    }
}

/// Build a scheduler by IPVS name, initialised for `dests` as if the service
/// had been created with these servers already present (IPVS `init_service`).
/// `seed` feeds the pseudo-random generator of schedulers that need one
/// (twos), so runs are reproducible.
pub fn new_scheduler(
    name: &str,
    flags: SchedFlags,
    dests: &[Dest],
    seed: u64,
) -> Result<Box<dyn Scheduler>, SchedError> {
    check(name, dests.len())?;
    Ok(match name {
        "rr" => Box::new(rr::Rr::new(dests)),
        "wrr" => Box::new(wrr::Wrr::new(dests)),
        "lc" => Box::new(lc::Lc),
        "wlc" => Box::new(wlc::Wlc),
        "sed" => Box::new(sed::Sed),
        "nq" => Box::new(nq::Nq),
        "lblc" => Box::new(lblc::Lblc::new(dests)),
        "lblcr" => Box::new(lblcr::Lblcr::new(dests)),
        "sh" => Box::new(sh::Sh::new(dests, flags)),
        "dh" => Box::new(dh::Dh::new(dests)),
        "mh" => Box::new(mh::Mh::new(dests, flags)?),
        "fo" => Box::new(fo::Fo),
        "ovf" => Box::new(ovf::Ovf),
        "twos" => Box::new(twos::Twos::new(seed)),
        other => return Err(SchedError::Unknown(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_builds_and_reports_itself() {
        for name in SCHEDULER_NAMES {
            let s = new_scheduler(name, SchedFlags::default(), &[], 1).unwrap();
            assert_eq!(s.name(), name);
        }
    }

    #[test]
    fn unknown_name_is_an_error() {
        let e = new_scheduler("foo", SchedFlags::default(), &[], 1)
            .err()
            .unwrap();
        assert_eq!(e, SchedError::Unknown("foo".into()));
        assert!(e.to_string().contains("expected one of rr wrr"));
    }

    #[test]
    fn empty_service_schedules_nothing() {
        let pkt = PacketKey {
            src: [1, 2, 3, 4].into(),
            sport: 1000,
            dst: [5, 6, 7, 8].into(),
            dport: 80,
            proto: 6,
        };
        for name in SCHEDULER_NAMES {
            let mut s = new_scheduler(name, SchedFlags::default(), &[], 1).unwrap();
            assert_eq!(s.schedule(&[], &pkt, 0), None, "{name}");
        }
    }
}
