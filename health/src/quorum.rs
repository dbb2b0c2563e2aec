//! A virtual service's quorum with hysteresis, computed as keepalived does.
//!
//! keepalived 2.2.8, ipwrapper.c `update_quorum_state()`: with `sum` the
//! weights of the live reals (`weigh_live_realservers()`, each clamped by
//! `real_weight()`),
//! - threshold = `quorum - hysteresis` while the quorum holds and
//!   `quorum + hysteresis` while it does not;
//! - regained when it does not hold and `sum >= quorum + hysteresis`;
//! - lost when it holds and `sum == 0 || sum < quorum - hysteresis`.
//!
//! So both boundaries are inclusive on the "holds" side: with quorum 4 and
//! hysteresis 1 the quorum is regained at 5 and lost at 2 (held at 3).
//!
//! `validate_check_config()` first lowers `quorum` to the total configured
//! weight of the reals and `hysteresis` to `quorum - 1`. With a total weight
//! of 0 that is `0 - 1` in C's unsigned arithmetic; the thresholds are
//! computed in the same wrapping `u32` arithmetic here, which gives
//! keepalived's result: such a service never gains quorum.

/// A quorum state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumChange {
    /// `threshold` is the one that was crossed (`quorum - hysteresis`).
    Lost { weight_sum: u64, threshold: i64 },
    /// `threshold` is the one that was reached (`quorum + hysteresis`).
    Regained { weight_sum: u64, threshold: i64 },
}

/// The quorum state of one virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    quorum: u32,
    hysteresis: u32,
    up: bool,
}

impl Quorum {
    /// The quorum of a service whose reals' configured weights add up to
    /// `total_weight`, with keepalived's clamping (`validate_check_config()`)
    /// and initial state (`set_quorum_states()`, which on a fresh start runs
    /// before any real is marked alive, so it compares 0 with
    /// `quorum + hysteresis`).
    /// A configured quorum of 0 counts as 1: keepalived's `quorum_handler()`
    /// accepts 1..=UINT_MAX and falls back to 1.
    pub fn new(quorum: u32, hysteresis: u32, total_weight: u64) -> Quorum {
        let quorum = quorum.max(1);
        let quorum = u32::try_from(total_weight).map_or(quorum, |t| quorum.min(t));
        let hysteresis = if hysteresis >= quorum {
            quorum.wrapping_sub(1)
        } else {
            hysteresis
        };
        let up = 0 >= i64::from(quorum.wrapping_add(hysteresis));
        Quorum {
            quorum,
            hysteresis,
            up,
        }
    }

    /// The effective `quorum` after clamping.
    pub fn quorum(&self) -> u32 {
        self.quorum
    }

    /// The effective `hysteresis` after clamping.
    pub fn hysteresis(&self) -> u32 {
        self.hysteresis
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The threshold in force: `quorum - hysteresis` while the quorum holds,
    /// `quorum + hysteresis` while it does not (C's unsigned arithmetic).
    pub fn threshold(&self) -> i64 {
        let factor = if self.up { u32::MAX } else { 1 };
        i64::from(
            self.quorum
                .wrapping_add(factor.wrapping_mul(self.hysteresis)),
        )
    }

    /// Re-evaluate after a real changed state or weight
    /// (`update_quorum_state(vs, false)`).
    pub fn update(&mut self, weight_sum: u64) -> Option<QuorumChange> {
        self.evaluate(weight_sum, false)
    }

    /// The evaluation at start (`update_quorum_state(vs, true)` from
    /// `init_service_vs()`): as [`Quorum::update`], and in addition a service
    /// that starts without quorum reports `Lost` when it has a sorry server,
    /// because that is when keepalived installs it and runs `quorum_down`.
    pub fn start(&mut self, weight_sum: u64, has_sorry_server: bool) -> Option<QuorumChange> {
        self.evaluate(weight_sum, has_sorry_server)
    }

    fn evaluate(&mut self, weight_sum: u64, starting_with_sorry: bool) -> Option<QuorumChange> {
        let threshold = self.threshold();
        let sum = i64::try_from(weight_sum).unwrap_or(i64::MAX);
        if !self.up && sum >= threshold {
            self.up = true;
            return Some(QuorumChange::Regained {
                weight_sum,
                threshold,
            });
        }
        if (self.up && (sum == 0 || sum < threshold)) || (!self.up && starting_with_sorry) {
            self.up = false;
            return Some(QuorumChange::Lost {
                weight_sum,
                threshold,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_like_validate_check_config() {
        let q = Quorum::new(10, 3, 4);
        assert_eq!((q.quorum(), q.hysteresis()), (4, 3));
        let q = Quorum::new(3, 5, 100);
        assert_eq!((q.quorum(), q.hysteresis()), (3, 2));
        assert!(!q.is_up());
    }

    #[test]
    fn zero_total_weight_never_gains() {
        let mut q = Quorum::new(1, 0, 0);
        assert_eq!((q.quorum(), q.hysteresis()), (0, u32::MAX));
        assert!(!q.is_up());
        assert_eq!(q.update(0), None);
        assert_eq!(q.update(1_000), None);
        assert!(!q.is_up());
    }
}
