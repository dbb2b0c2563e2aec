//! What the live side reports about one probe.

/// The verdict of one probe round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The check passed; the real keeps (or gets back) its configured weight.
    Pass,
    /// The check passed and sets the real's weight: MISC_CHECK with
    /// `misc_dynamic` exiting 2..=255 means "up with weight exit - 2".
    /// Other kinds may use it too; see [`crate::effective_weight`] for how
    /// several dynamic checks on one real combine.
    PassWeight(u32),
    /// The check failed; the text says what failed, for the transition reason
    /// and the listing (e.g. `"HTTP_GET http://10.0.0.2:8080/ status 500 not
    /// in [200]"`).
    Fail(String),
}

impl Outcome {
    /// A MISC_CHECK script's exit status as keepalived reads it
    /// (`misc_check_child_thread()`): 0 passes at the configured weight; with
    /// `misc_dynamic`, 2..=255 passes with weight `status - 2` (0..=253);
    /// anything else (1, or 2..=255 without `misc_dynamic`) fails. A script
    /// killed by a signal or by `misc_timeout` is a failure the caller
    /// reports with [`Outcome::Fail`].
    pub fn misc_exit(status: u8, misc_dynamic: bool) -> Outcome {
        match status {
            0 => Outcome::Pass,
            2..=255 if misc_dynamic => Outcome::PassWeight(u32::from(status) - 2),
            _ => Outcome::Fail(format!("MISC_CHECK exited with status {status}")),
        }
    }

    pub fn is_pass(&self) -> bool {
        !matches!(self, Outcome::Fail(_))
    }
}

/// One finished probe, as the live side reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// When the probe actually started (ms, the caller's clock). Compared with
    /// when it was due to give the lag; MISC_CHECK also schedules from it.
    pub started_at: u64,
    /// How long the probe took, measured by the caller (µs); kept for the
    /// listing and metrics only.
    pub latency_us: u64,
    pub outcome: Outcome,
}

impl ProbeResult {
    pub fn new(started_at: u64, latency_us: u64, outcome: Outcome) -> Self {
        ProbeResult {
            started_at,
            latency_us,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misc_exit_codes() {
        assert_eq!(Outcome::misc_exit(0, false), Outcome::Pass);
        assert_eq!(Outcome::misc_exit(0, true), Outcome::Pass);
        assert!(!Outcome::misc_exit(1, true).is_pass());
        assert!(!Outcome::misc_exit(2, false).is_pass());
        assert_eq!(Outcome::misc_exit(2, true), Outcome::PassWeight(0));
        assert_eq!(Outcome::misc_exit(12, true), Outcome::PassWeight(10));
        assert_eq!(Outcome::misc_exit(255, true), Outcome::PassWeight(253));
    }
}
