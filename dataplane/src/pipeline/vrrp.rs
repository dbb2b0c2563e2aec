//! VRRP in the packet path: addresses of an instance that is not MASTER are
//! neither answered nor served, and worker 0 sends the gratuitous ARPs the
//! runtime asks for when an instance becomes MASTER. The instance states are
//! read once per housekeeping tick, never per packet.
use std::sync::Arc;

use super::{Output, Pipeline};
use crate::frame::Frame;
use crate::mastership::{Mastership, MAX_INSTANCES};

/// Per-pipeline view of the shared mastership.
#[derive(Default)]
pub(super) struct VrrpView {
    shared: Option<Arc<Mastership>>,
    /// Bit i: instance i is configured and not MASTER (its addresses are off).
    pub(super) standby: u64,
    /// The request sequence last handled (worker 0).
    garp_seq: u64,
    /// Per instance: gratuitous-ARP rounds already sent (worker 0).
    garp_done: Vec<u32>,
}

/// Bits of the first `n` instances.
fn configured(n: usize) -> u64 {
    if n >= MAX_INSTANCES {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

impl<F: Frame> Pipeline<F> {
    /// Serves owned addresses only as `m` says (live). Without it (replay)
    /// every instance counts as MASTER.
    pub fn use_mastership(&mut self, m: Arc<Mastership>) {
        let n = m.instances();
        self.vrrp.garp_done = (0..n).map(|i| m.garp_rounds(i)).collect();
        self.vrrp.garp_seq = m.garp_seq();
        self.vrrp.shared = Some(m);
        self.refresh_standby();
    }

    pub(super) fn refresh_standby(&mut self) {
        if let Some(m) = &self.vrrp.shared {
            self.vrrp.standby = configured(self.snap.vrrp.len()) & !m.master_bits();
        }
    }

    /// Whether `ip` belongs to an instance that is not MASTER here.
    #[inline]
    pub(super) fn standby_owns(&self, ip: std::net::Ipv4Addr) -> bool {
        self.vrrp.standby != 0
            && self
                .snap
                .owner_of(ip)
                .is_some_and(|i| i < MAX_INSTANCES && self.vrrp.standby >> i & 1 == 1)
    }

    /// Once per housekeeping tick: picks up state changes and, on worker 0,
    /// sends the gratuitous-ARP rounds asked for since the last tick.
    pub fn vrrp_tick(&mut self, out: &mut impl Output<F>) {
        self.refresh_standby();
        if self.core != 0 {
            return;
        }
        let Some(m) = self.vrrp.shared.clone() else {
            return;
        };
        let seq = m.garp_seq();
        if seq == self.vrrp.garp_seq {
            return;
        }
        self.vrrp.garp_seq = seq;
        for i in 0..self.vrrp.garp_done.len() {
            let asked = m.garp_rounds(i);
            let Some(done) = self.vrrp.garp_done.get_mut(i) else {
                continue;
            };
            if *done == asked {
                continue;
            }
            *done = asked;
            // A round is announced only for a MASTER: a request that raced
            // with losing mastership must not advertise addresses we left.
            if self.vrrp.standby >> i & 1 == 1 {
                continue;
            }
            self.garp_round(i, out);
        }
    }

    fn garp_round(&mut self, instance: usize, out: &mut impl Output<F>) {
        let snap = self.snap.clone();
        let Some(spec) = snap.vrrp.get(instance) else {
            return;
        };
        for _ in 0..spec.garp_repeat {
            for &a in &spec.addresses {
                if self.broadcast_arp(spec.port, a, a, out) {
                    self.stats.garps_sent.add(1);
                }
            }
        }
    }
}
