//! Skew and Master_Down_Interval arithmetic, and the instance's deadlines.
//!
//! Durations are computed in microseconds, as keepalived does (its TIMER_HZ
//! is 1 000 000), and the whole sum is floored to milliseconds once, so that
//! e.g. a v2 priority-100 Master_Down_Interval is 3 609.375 ms -> 3 609 ms
//! instead of accumulating a rounding per term.

use crate::{Millis, Version};

const US_PER_S: u64 = 1_000_000;
const US_PER_CS: u64 = 10_000;
/// Adverts a backup may miss before it takes over (RFC: 3).
const DOWN_ADVERTS: u64 = 3;

/// Skew_Time in microseconds.
///
/// v2: `(256 - priority) / 256` seconds, independent of the interval: that is
/// RFC 3768's formula and what keepalived computes for v2.
/// v3: `(256 - priority) * Master_Adver_Interval / 256` (RFC 9568 6.1).
pub(crate) fn skew_us(version: Version, priority: u8, master_adver_int_cs: u16) -> u64 {
    let weight = 256 - u64::from(priority);
    match version {
        Version::V2 => weight * US_PER_S / 256,
        Version::V3 => weight * u64::from(master_adver_int_cs) * US_PER_CS / 256,
    }
}

/// Master_Down_Interval in microseconds: `3 * Master_Adver_Interval + Skew_Time`.
pub(crate) fn master_down_us(version: Version, priority: u8, master_adver_int_cs: u16) -> u64 {
    DOWN_ADVERTS * u64::from(master_adver_int_cs) * US_PER_CS
        + skew_us(version, priority, master_adver_int_cs)
}

/// `now` plus a microsecond duration, floored to milliseconds.
pub(crate) fn after_us(now: Millis, us: u64) -> Millis {
    now.saturating_add(us / 1000)
}

/// `now` plus centiseconds.
pub(crate) fn after_cs(now: Millis, cs: u16) -> Millis {
    now.saturating_add(u64::from(cs) * 10)
}

/// The deadlines an instance can have. Only one of `adver` (MASTER) and
/// `master_down` (BACKUP) is set at a time; FAULT and INIT have none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    pub(crate) adver: Option<Millis>,
    pub(crate) master_down: Option<Millis>,
    /// The second gratuitous-ARP round after becoming master.
    pub(crate) garp: Option<Millis>,
}

impl Timers {
    pub(crate) fn next(&self) -> Option<Millis> {
        [self.adver, self.master_down, self.garp]
            .into_iter()
            .flatten()
            .min()
    }

    pub(crate) fn clear(&mut self) {
        *self = Timers::default();
    }
}

/// Clears `slot` and reports true if it was due at `now`.
pub(crate) fn take_due(slot: &mut Option<Millis>, now: Millis) -> bool {
    match *slot {
        Some(t) if t <= now => {
            *slot = None;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "timers_tests.rs"]
mod tests;
