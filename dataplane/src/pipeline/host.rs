//! What goes to a port's kernel twin: the decision helpers the other stages
//! call on their slow paths, and the hand-over (rate gate, ring, counters).
use std::net::Ipv4Addr;
use std::sync::Arc;

use conntrack::Millis;

use super::{Output, Pipeline, Verdict};
use crate::frame::Frame;
use crate::host::{HostCounters, HostDrop, RateGate};
use crate::snapshot::Snapshot;
use crate::stats::DropReason;

impl<F: Frame> Pipeline<F> {
    /// Whether `port` has a kernel twin.
    #[inline]
    pub(super) fn has_host(&self, port: usize) -> bool {
        self.host_gates.get(port).is_some_and(Option::is_some)
    }

    /// To the twin when `port` has one, else dropped for `reason`.
    #[inline]
    pub(super) fn host_or(&self, port: usize, reason: DropReason) -> Verdict {
        if self.has_host(port) {
            Verdict::ToHost
        } else {
            Verdict::Drop(reason)
        }
    }

    /// An address of `port` that belongs to the kernel twin: the port has
    /// one, and the address is neither a VIP, a FullNAT local address nor
    /// a VRRP instance's (those stay in the dataplane, whatever the
    /// configuration overlaps).
    pub(super) fn kernel_address(&self, port: usize, ip: Ipv4Addr) -> bool {
        self.has_host(port)
            && self.snap.is_own_address(port, ip)
            && !self.snap.is_vip(ip)
            && !self.local_addrs.contains(&ip)
            && self.snap.owner_of(ip).is_none()
    }

    /// Hands `frame` to the twin of `port`, within this core's share of its rate.
    pub(super) fn hand_to_host(
        &mut self,
        port: usize,
        frame: F,
        now: Millis,
        out: &mut impl Output<F>,
    ) {
        let (Some(Some(gate)), Some(c)) =
            (self.host_gates.get_mut(port), self.host_counters.get(port))
        else {
            self.stats.count_drop(DropReason::LocalUnsupported);
            return;
        };
        if !gate.admit(now) {
            c.drop(HostDrop::RateLimited);
            return;
        }
        let len = frame.len();
        match out.to_host(port, frame) {
            Ok(()) => c.to_kernel(len),
            Err(_frame) => c.drop(HostDrop::RingFull),
        }
    }

    /// This core's host-path counters, by port.
    pub fn host_counters(&self) -> &[HostCounters] {
        &self.host_counters
    }

    /// Counts this core's host-path frames in `counters` (one per port), so
    /// that another thread (the metrics) can read them. Refused, keeping the
    /// current ones, when the port count differs.
    pub fn use_host_counters(&mut self, counters: Arc<[HostCounters]>) -> bool {
        let fits = counters.len() == self.host_counters.len();
        if fits {
            self.host_counters = counters;
        }
        fits
    }

    /// One gate per port with a twin, each with this core's share of the
    /// rate; a gate whose rate did not change keeps its tokens.
    pub(super) fn set_host_gates(&mut self, snap: &Snapshot) {
        let cores = self.cores as u64;
        let gates = snap
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let rate = p.host.as_ref()?.rate_pps;
                let share = (u64::from(rate) / cores).max(1);
                let same = self
                    .snap
                    .ports
                    .get(i)
                    .and_then(|old| old.host.as_ref())
                    .is_some_and(|h| h.rate_pps == rate);
                match self.host_gates.get(i).cloned().flatten() {
                    Some(g) if same => Some(g),
                    _ => Some(RateGate::new(share)),
                }
            })
            .collect();
        self.host_gates = gates;
    }
}
