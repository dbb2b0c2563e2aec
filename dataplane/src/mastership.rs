//! Which VRRP instances this director is MASTER of, shared between the VRRP
//! runtime (the only writer) and the workers (readers, once per housekeeping
//! tick, never per packet). An address an instance owns is served only while
//! its bit is set; the gratuitous-ARP rounds the runtime asks for are sent by
//! worker 0 on the instance's port.
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// One bit per instance in one word: the workers read every instance's
/// state with a single load.
pub const MAX_INSTANCES: usize = 64;

/// What the dataplane needs of one VRRP instance (from the snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpSpec {
    /// Port the instance runs on.
    pub port: usize,
    /// The addresses it owns, gratuitously announced when it becomes MASTER.
    pub addresses: Vec<Ipv4Addr>,
    /// Gratuitous ARPs per address and round (keepalived's garp_master_repeat).
    pub garp_repeat: u32,
}

pub struct Mastership {
    /// Bit i: instance i is MASTER.
    master: AtomicU64,
    /// Gratuitous-ARP rounds asked for, per instance.
    garp_rounds: Box<[AtomicU32]>,
    /// Bumped on every request, so worker 0 loads one word to see there is none.
    garp_seq: AtomicU64,
}

impl Mastership {
    /// `instances` instances, none of them MASTER yet.
    pub fn new(instances: usize) -> Mastership {
        Mastership {
            master: AtomicU64::new(0),
            garp_rounds: (0..instances.min(MAX_INSTANCES))
                .map(|_| AtomicU32::new(0))
                .collect(),
            garp_seq: AtomicU64::new(0),
        }
    }

    pub fn instances(&self) -> usize {
        self.garp_rounds.len()
    }

    /// Runtime side: instance `i` became MASTER (true) or gave its addresses up.
    pub fn set_master(&self, i: usize, master: bool) {
        if i >= MAX_INSTANCES {
            return;
        }
        let bit = 1u64 << i;
        if master {
            self.master.fetch_or(bit, Ordering::Release);
        } else {
            self.master.fetch_and(!bit, Ordering::Release);
        }
    }

    /// Runtime side: one round of gratuitous ARPs for instance `i`'s addresses.
    pub fn request_garp(&self, i: usize) {
        if let Some(r) = self.garp_rounds.get(i) {
            r.fetch_add(1, Ordering::Relaxed);
            self.garp_seq.fetch_add(1, Ordering::Release);
        }
    }

    /// Worker side: the MASTER bits.
    #[inline]
    pub fn master_bits(&self) -> u64 {
        self.master.load(Ordering::Acquire)
    }

    /// Worker side: the request sequence (changes when a round is asked for).
    #[inline]
    pub fn garp_seq(&self) -> u64 {
        self.garp_seq.load(Ordering::Acquire)
    }

    /// Worker side: rounds asked for instance `i` so far.
    pub fn garp_rounds(&self, i: usize) -> u32 {
        self.garp_rounds
            .get(i)
            .map_or(0, |r| r.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_runtime() {
        let m = Mastership::new(3);
        assert_eq!(m.master_bits(), 0);
        m.set_master(2, true);
        m.set_master(0, true);
        assert_eq!(m.master_bits(), 0b101);
        m.set_master(2, false);
        assert_eq!(m.master_bits(), 0b001);
        // Out of range is ignored, not a panic.
        m.set_master(MAX_INSTANCES, true);
        assert_eq!(m.master_bits(), 0b001);
    }

    #[test]
    fn garp_requests_are_counted_per_instance() {
        let m = Mastership::new(2);
        let s0 = m.garp_seq();
        m.request_garp(1);
        m.request_garp(1);
        m.request_garp(5);
        assert_ne!(m.garp_seq(), s0);
        assert_eq!((m.garp_rounds(0), m.garp_rounds(1)), (0, 2));
    }
}
