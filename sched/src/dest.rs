//! The data a scheduler sees: real servers, packet keys, list changes, flags.

use std::net::Ipv4Addr;

/// Time in milliseconds. Schedulers never read a clock: the caller passes
/// the time in, so tests can drive a virtual clock.
pub type Millis = u64;

/// One real server as the scheduler sees it, on one core.
///
/// The service keeps a `Vec<Dest>` in IPVS list order: index 0 is the newest,
/// because IPVS links an added real server at the head of its list.
#[derive(Clone, Debug)]
pub struct Dest {
    /// Stable identity within the service (never reused while it lives).
    pub id: u32,
    pub addr: Ipv4Addr,
    pub port: u16,
    /// 0..=65535; 0 means quiescent (keeps its connections, gets no new ones).
    pub weight: u32,
    /// Upper connection threshold; 0 = none.
    pub upper_threshold: u32,
    /// Lower connection threshold; 0 = none.
    pub lower_threshold: u32,
    /// Active connections on this core.
    pub active: u32,
    /// Inactive connections on this core.
    pub inactive: u32,
    /// Persistence templates pointing at this server (not part of overload).
    pub persistent: u32,
    /// IPVS "OVERLOAD" flag, maintained by [`Dest::refresh_overload`].
    pub overloaded: bool,
}

impl Dest {
    pub fn new(id: u32, addr: Ipv4Addr, port: u16, weight: u32) -> Self {
        Dest {
            id,
            addr,
            port,
            weight,
            upper_threshold: 0,
            lower_threshold: 0,
            active: 0,
            inactive: 0,
            persistent: 0,
            overloaded: false,
        }
    }

    /// IPVS connection overhead: an active connection costs 256 inactive
    /// ones. Widened to 64 bits so no counter value can overflow.
    pub fn overhead(&self) -> u64 {
        ((self.active as u64) << 8) + self.inactive as u64
    }

    /// Connections that count against the thresholds (templates excluded).
    fn total_conns(&self) -> u64 {
        self.active as u64 + self.inactive as u64
    }

    /// Re-evaluate the OVERLOAD flag after the counters changed.
    ///
    /// IPVS sets the flag when binding a connection makes the total reach
    /// the upper threshold, and clears it on unbind when the total falls
    /// below the lower threshold, or (no lower threshold) below 3/4 of the
    /// upper one, or unconditionally when there is no threshold at all.
    /// Between the two bounds the flag keeps its previous value
    /// (hysteresis), so this must be called after every counter change.
    pub fn refresh_overload(&mut self) {
        let total = self.total_conns();
        let upper = self.upper_threshold as u64;
        let lower = self.lower_threshold as u64;
        if upper != 0 && total >= upper {
            self.overloaded = true;
        } else if self.overloaded {
            let clear = if lower != 0 {
                total < lower
            } else if upper != 0 {
                total * 4 < upper * 3
            } else {
                true
            };
            if clear {
                self.overloaded = false;
            }
        }
    }

    /// Apply an edit of the thresholds the way `ipvsadm -e` does: the flag
    /// is dropped when the new upper threshold is 0 or larger than before,
    /// otherwise it is left for the next counter change to re-evaluate.
    pub fn set_thresholds(&mut self, upper: u32, lower: u32) {
        if upper == 0 || upper > self.upper_threshold {
            self.overloaded = false;
        }
        self.upper_threshold = upper;
        self.lower_threshold = lower;
    }

    /// Usable for new connections: weight > 0 and not overloaded.
    pub fn available(&self) -> bool {
        self.weight > 0 && !self.overloaded
    }
}

/// What a scheduler may hash on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketKey {
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dst: Ipv4Addr,
    pub dport: u16,
    pub proto: u8,
}

/// How the service's destination list changed (the list is already updated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestChange {
    /// A server was inserted at this index (IPVS always inserts at 0).
    Added(usize),
    /// The server `id` that was at `index` is gone from the list.
    Removed { index: usize, id: u32 },
    /// The server at this index was edited in place (weight, thresholds).
    Edited(usize),
}

/// Scheduler flags (`ipvsadm -b`).
///
/// In IPVS these are generic bits: `sh-fallback` and `mh-fallback` are both
/// `IP_VS_SVC_F_SCHED1`, `sh-port` and `mh-port` both `IP_VS_SVC_F_SCHED2`.
/// The sh and mh schedulers therefore honour either spelling of a bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedFlags {
    pub sh_fallback: bool,
    pub sh_port: bool,
    pub mh_fallback: bool,
    pub mh_port: bool,
}

impl SchedFlags {
    /// The SCHED1 bit (fallback), whichever name set it.
    pub fn fallback(&self) -> bool {
        self.sh_fallback || self.mh_fallback
    }

    /// The SCHED2 bit (hash the source port too), whichever name set it.
    pub fn port(&self) -> bool {
        self.sh_port || self.mh_port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Dest {
        Dest::new(1, Ipv4Addr::new(10, 0, 0, 1), 80, 1)
    }

    #[test]
    fn overhead_weights_active_conns() {
        let mut x = d();
        x.active = 2;
        x.inactive = 3;
        assert_eq!(x.overhead(), 515);
        x.active = u32::MAX;
        x.inactive = u32::MAX;
        assert_eq!(x.overhead(), ((u32::MAX as u64) << 8) + u32::MAX as u64);
    }

    #[test]
    fn overload_upper_then_three_quarters() {
        let mut x = d();
        x.upper_threshold = 8;
        x.active = 7;
        x.refresh_overload();
        assert!(!x.overloaded);
        x.inactive = 1; // total 8 reaches the threshold
        x.refresh_overload();
        assert!(x.overloaded && !x.available());
        x.active = 6; // total 7: 28 < 24 is false, stays overloaded
        x.refresh_overload();
        assert!(x.overloaded);
        x.active = 5; // total 6: 24 < 24 false
        x.refresh_overload();
        assert!(x.overloaded);
        x.active = 4; // total 5: 20 < 24
        x.refresh_overload();
        assert!(!x.overloaded);
    }

    #[test]
    fn overload_lower_threshold_and_templates_ignored() {
        let mut x = d();
        x.upper_threshold = 4;
        x.lower_threshold = 2;
        x.persistent = 100;
        x.active = 3;
        x.refresh_overload();
        assert!(!x.overloaded);
        x.active = 4;
        x.refresh_overload();
        assert!(x.overloaded);
        x.active = 2;
        x.refresh_overload();
        assert!(x.overloaded);
        x.active = 1;
        x.refresh_overload();
        assert!(!x.overloaded);
    }

    #[test]
    fn overload_cleared_without_thresholds() {
        let mut x = d();
        x.overloaded = true;
        x.refresh_overload();
        assert!(!x.overloaded);
    }

    #[test]
    fn threshold_edit_rule() {
        let mut x = d();
        x.upper_threshold = 4;
        x.overloaded = true;
        x.set_thresholds(3, 0); // lowered: flag kept
        assert!(x.overloaded);
        x.set_thresholds(10, 0); // raised: flag dropped
        assert!(!x.overloaded);
        x.overloaded = true;
        x.set_thresholds(0, 0);
        assert!(!x.overloaded);
    }

    #[test]
    fn flags_share_bits() {
        let f = SchedFlags {
            mh_fallback: true,
            ..Default::default()
        };
        assert!(f.fallback() && !f.port());
    }
}
