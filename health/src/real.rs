//! One real server of one service: its checks, liveness, weight and what the
//! dataplane should hold for it.

use crate::ids::ProbeKey;

/// What a real server is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealConfig {
    /// `weight` (keepalived's default 1, inherited from the virtual server).
    pub weight: u32,
    /// `inhibit_on_failure`: keep a failed real in the service at weight 0
    /// (existing connections go on, no new ones) instead of removing it.
    pub inhibit_on_failure: bool,
}

impl Default for RealConfig {
    fn default() -> Self {
        RealConfig {
            weight: 1,
            inhibit_on_failure: false,
        }
    }
}

/// What the dataplane must do with one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Take it out of the service (IPVS `DEL_DEST`).
    Remove,
    /// Have it in the service with this weight, adding it if absent (IPVS
    /// `ADD_DEST` or `EDIT_DEST`). `Weight(0)` is the inhibited state.
    Weight(u32),
}

/// IPVS's weight limit (`IPVS_WEIGHT_MAX`, `INT32_MAX`).
pub const MAX_WEIGHT: u32 = i32::MAX as u32;

/// A real's effective weight from its configured weight and the dynamic
/// weights its checks carry (`None` = that check does not set one).
///
/// keepalived keeps, per MISC checker, `cur_weight = (exit - 2) - weight` and
/// the real's weight is `weight + sum(cur_weight)`, clamped by
/// `real_weight()` to 0..=`INT32_MAX` (`misc_check_child_thread()`,
/// check_data.h). With one dynamic check that is simply its weight; with two
/// the offsets add up, as in keepalived.
pub fn effective_weight(configured: u32, dynamic: impl IntoIterator<Item = Option<u32>>) -> u32 {
    let base = i64::from(configured);
    let sum = dynamic
        .into_iter()
        .flatten()
        .fold(base, |acc, w| acc.saturating_add(i64::from(w) - base));
    u32::try_from(sum.clamp(0, i64::from(MAX_WEIGHT))).unwrap_or(0)
}

/// The live state of one real.
#[derive(Debug, Clone)]
pub(crate) struct Real {
    pub cfg: RealConfig,
    /// The probes this real's checks subscribe to, in subscription order.
    pub checks: Vec<ProbeKey>,
    /// Up iff every check is up (keepalived's `num_failed_checkers == 0`).
    pub alive: bool,
    /// The effective weight, already clamped.
    pub weight: u32,
    /// What the dataplane was last told: `None` = not in the service.
    pub applied: Option<u32>,
}

impl Real {
    pub fn new(cfg: RealConfig) -> Real {
        let weight = effective_weight(cfg.weight, []);
        Real {
            cfg,
            checks: Vec::new(),
            alive: true,
            weight,
            applied: None,
        }
    }

    /// What the dataplane should hold for this real: live reals at their
    /// weight unless the sorry server holds the service; otherwise inhibited
    /// reals at weight 0 (keepalived turns `DEL_DEST` into a weight-0 edit for
    /// them, `ipvs_cmd()`), others absent.
    pub fn desired(&self, sorry_active: bool) -> Option<u32> {
        if self.alive && !sorry_active {
            Some(self.weight)
        } else if self.cfg.inhibit_on_failure {
            Some(0)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_combine_like_keepalived() {
        assert_eq!(effective_weight(5, []), 5);
        assert_eq!(effective_weight(5, [None, None]), 5);
        assert_eq!(effective_weight(5, [Some(10)]), 10);
        assert_eq!(effective_weight(5, [Some(0)]), 0);
        // offsets add: 5 + (10-5) + (7-5)
        assert_eq!(effective_weight(5, [Some(10), None, Some(7)]), 12);
        // clamped at 0 like real_weight()
        assert_eq!(effective_weight(5, [Some(0), Some(0)]), 0);
        assert_eq!(effective_weight(u32::MAX, []), MAX_WEIGHT);
    }

    #[test]
    fn desired_state() {
        let mut r = Real::new(RealConfig {
            weight: 3,
            inhibit_on_failure: false,
        });
        assert_eq!(r.desired(false), Some(3));
        assert_eq!(r.desired(true), None);
        r.alive = false;
        assert_eq!(r.desired(false), None);
        r.cfg.inhibit_on_failure = true;
        assert_eq!(r.desired(false), Some(0));
        r.alive = true;
        assert_eq!(r.desired(true), Some(0));
    }
}
