//! One checker: keepalived's per-checker up/down rules and schedule.
//!
//! The rules, as keepalived 2.2.8 applies them after every probe
//! (`tcp_epilog()` in check_tcp.c, `epilog()`/`timeout_epilog()` in
//! check_http.c, `misc_check_child_thread()` in check_misc.c, `dns_final()`
//! in check_dns.c; they agree except where noted):
//!
//! - A pass while down (or on the first run) brings the check up at once;
//!   there is no "rise" count. HTTP_GET/SSL_GET: see the clean round below.
//!   Any pass resets the retry counter, and the next check is `delay_loop`
//!   later.
//! - A fail while up: if fewer than `retry` re-checks have been made, re-check
//!   `delay_before_retry` later; otherwise the check goes down (so down after
//!   `retry + 1` consecutive failures) and the next check is `delay_loop`
//!   later.
//! - At start `validate_check_config()` sets the retry counter to `retry`, so
//!   the very first failure takes the check down at once, with or without
//!   `alpha`. Without `alpha` a check starts up; with it, down.
//! - A fail while down: no retries, next check `delay_loop` later. (DNS and
//!   MISC always did this; TCP_CHECK in 2.2.x still ran its retry cycle while
//!   down, which keepalived fixed in "ipvs: fix delay_loop for TCP_CHECK",
//!   v2.3.3. We follow the fix: the difference is only the pacing of checks
//!   against a dead server.)
//! - HTTP_GET/SSL_GET clean round: when the check goes down, the failed round
//!   is remembered (`failed_url`). The next passing round only clears it; the
//!   check comes up at the pass after, `delay_loop` later, or at once with
//!   `fast_recovery`. While a failed round is remembered, checks are
//!   `max(delay_before_retry, delay_loop)` apart.
//!   Deviation: in keepalived a fail while down takes the
//!   `REGISTER_CHECKER_FAILED` path, which does not re-mark `failed_url`; so
//!   after the clearing pass, a fail and then a pass bring the check up with
//!   no clean round, and with `fast_recovery` the fails re-probe at once in a
//!   loop. We re-mark the failed round on every fail while down, which keeps
//!   the rule as documented and paces the checks at `delay_loop`.
//! - HTTP_GET/SSL_GET with several URLs: keepalived checks one URL per
//!   `delay_loop`. Here one probe is one round over all the URLs (the live
//!   side stops at the first failing URL and reports it), so a round takes
//!   one probe.
//! - MISC_CHECK measures its delays from when the script started
//!   (`last_ran`), not from when it ended, and runs at once if that time has
//!   passed; other kinds measure from the result.
//! - MISC_CHECK `misc_dynamic`: a pass may carry a weight; going down drops
//!   it (`cur_weight = 0`), so the real comes back at the weight of its next
//!   pass.

use crate::outcome::{Outcome, ProbeResult};
use crate::rules::{CheckKind, Rules};

/// Whether a check currently passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckState {
    Up,
    Down,
}

/// A change of a check's state, returned by [`Checker::on_result`] only when
/// the state really changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub to: CheckState,
    /// When (the `now` of the result that caused it).
    pub at: u64,
    /// The caller's failure text plus the machine's count, e.g.
    /// `"connect refused (after 2 consecutive failures)"`; for a rise,
    /// `"passed"` or `"passed a clean round"`.
    pub reason: String,
}

/// The last probe result, for the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastResult {
    /// When the result came in.
    pub at: u64,
    pub passed: bool,
    /// The caller's failure text, or a short note for a pass.
    pub reason: String,
}

/// Everything the live side lists and exports about one check
/// (`fvsadm -L --health`, metrics). Read it with [`Checker::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckStatus {
    pub state: CheckState,
    /// When the state last changed (the creation time before any change).
    pub since: u64,
    /// Whether any result has come in (keepalived's `has_run`).
    pub has_run: bool,
    /// HTTP_GET/SSL_GET: a failed round must be followed by a clean one
    /// before the check can come up.
    pub awaiting_clean_round: bool,
    /// Failures since the last pass.
    pub consecutive_failures: u32,
    /// When the next probe is due.
    pub next_due: u64,
    /// Set by [`Checker::mark_started`] and cleared by the result: a probe in
    /// flight for much longer than its timeout means a stuck live side.
    pub in_flight_since: Option<u64>,
    pub last_result: Option<LastResult>,
    /// The caller-measured duration of the last probe (µs).
    pub last_latency_us: Option<u64>,
    /// How late the last probe started compared with when it was due (ms).
    pub last_lag_ms: u64,
    /// The worst such lag seen.
    pub max_lag_ms: u64,
    /// The weight carried by the last pass (MISC_CHECK `misc_dynamic`);
    /// `None` = the real's configured weight.
    pub dynamic_weight: Option<u32>,
    pub probes: u64,
    pub failures: u64,
    pub transitions: u64,
}

/// One checker's state machine. Sans-IO: it never reads a clock; every call
/// takes the caller's `now` in milliseconds.
///
/// Drive it by probing when [`Checker::next_due`] has come and feeding the
/// result to [`Checker::on_result`]. [`crate::Health`] does that for a whole
/// configuration; a `Checker` alone is useful for tests and tools.
#[derive(Debug, Clone)]
pub struct Checker {
    rules: Rules,
    status: CheckStatus,
    /// keepalived's `retry_it`: re-checks made in the current failure run.
    retry_it: u32,
}

impl Checker {
    /// A checker created at `now`. Without `alpha` it starts up, with it
    /// down. Its first probe is due at `now + BOOTSTRAP_DELAY +
    /// warmup * jitter / u64::MAX` (see [`Rules::first_delay`]); pass a random
    /// `jitter` per checker in production and a fixed one in tests.
    pub fn new(rules: Rules, now: u64, jitter: u64) -> Checker {
        let state = if rules.alpha {
            CheckState::Down
        } else {
            CheckState::Up
        };
        let next_due = now.saturating_add(rules.first_delay(jitter));
        let retry_it = rules.retry;
        Checker {
            rules,
            status: CheckStatus {
                state,
                since: now,
                has_run: false,
                awaiting_clean_round: false,
                consecutive_failures: 0,
                next_due,
                in_flight_since: None,
                last_result: None,
                last_latency_us: None,
                last_lag_ms: 0,
                max_lag_ms: 0,
                dynamic_weight: None,
                probes: 0,
                failures: 0,
                transitions: 0,
            },
            retry_it,
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn status(&self) -> &CheckStatus {
        &self.status
    }

    pub fn state(&self) -> CheckState {
        self.status.state
    }

    pub fn is_up(&self) -> bool {
        self.status.state == CheckState::Up
    }

    pub fn has_run(&self) -> bool {
        self.status.has_run
    }

    /// When the next probe is due (ms). Still answers while a probe is in
    /// flight; [`crate::Health::next_wakeup`] skips those.
    pub fn next_due(&self) -> u64 {
        self.status.next_due
    }

    /// The weight the last pass carried, `None` for the configured weight.
    pub fn dynamic_weight(&self) -> Option<u32> {
        self.status.dynamic_weight
    }

    /// Record that a probe was handed to the live side at `now`.
    pub fn mark_started(&mut self, now: u64) {
        self.status.in_flight_since = Some(now);
    }

    /// The probe handed out at `now` was not run (its checks are suspended,
    /// keepalived's `ha_suspend`): no verdict, the state stays, and the next
    /// one is due a `delay_loop` later.
    pub fn skip(&mut self, now: u64) {
        self.status.in_flight_since = None;
        self.status.next_due = now.saturating_add(self.rules.delay_loop());
    }

    /// Apply one probe result that came in at `now`. Returns the transition
    /// if, and only if, the check's state changed.
    pub fn on_result(&mut self, now: u64, result: ProbeResult) -> Option<Transition> {
        let ProbeResult {
            started_at,
            latency_us,
            outcome,
        } = result;
        let lag = started_at.saturating_sub(self.status.next_due);
        let st = &mut self.status;
        st.last_lag_ms = lag;
        st.max_lag_ms = st.max_lag_ms.max(lag);
        st.last_latency_us = Some(latency_us);
        st.in_flight_since = None;
        st.probes = st.probes.saturating_add(1);

        let (delay, transition) = match outcome {
            Outcome::Pass => self.on_pass(now, None),
            Outcome::PassWeight(w) => self.on_pass(now, Some(w)),
            Outcome::Fail(reason) => self.on_fail(now, reason),
        };

        // misc_check_child_thread() schedules from last_ran (the start) and
        // runs at once when that time has already passed.
        let base = if self.rules.kind == CheckKind::MiscCheck {
            started_at
        } else {
            now
        };
        self.status.next_due = base.saturating_add(delay).max(now);
        self.status.has_run = true;
        if let Some(t) = &transition {
            self.status.state = t.to;
            self.status.since = now;
            self.status.transitions = self.status.transitions.saturating_add(1);
        }
        transition
    }

    fn on_pass(&mut self, now: u64, weight: Option<u32>) -> (u64, Option<Transition>) {
        let st = &mut self.status;
        st.consecutive_failures = 0;
        st.dynamic_weight = weight;
        self.retry_it = 0;
        let note = match weight {
            Some(w) => format!("passed with weight {w}"),
            None => "passed".to_string(),
        };

        if self.rules.needs_clean_round && st.awaiting_clean_round {
            // epilog(), REGISTER_CHECKER_NEW with failed_url set: clear it,
            // stay down, check all again. fast_recovery makes that next check
            // immediate (thread_add_event) instead of delay_loop later.
            st.awaiting_clean_round = false;
            st.last_result = Some(LastResult {
                at: now,
                passed: true,
                reason: format!("{note}; a clean round must pass before up"),
            });
            let delay = if self.rules.fast_recovery {
                0
            } else {
                self.rules.delay_loop()
            };
            return (delay, None);
        }

        let clean = self.rules.needs_clean_round && st.has_run;
        let transition = (st.state == CheckState::Down).then(|| Transition {
            to: CheckState::Up,
            at: now,
            reason: match (clean, weight) {
                (true, Some(w)) => format!("passed a clean round with weight {w}"),
                (true, None) => "passed a clean round".to_string(),
                (false, _) => note.clone(),
            },
        });
        st.last_result = Some(LastResult {
            at: now,
            passed: true,
            reason: note,
        });
        (self.rules.delay_loop(), transition)
    }

    fn on_fail(&mut self, now: u64, reason: String) -> (u64, Option<Transition>) {
        let rules = &self.rules;
        let st = &mut self.status;
        st.consecutive_failures = st.consecutive_failures.saturating_add(1);
        st.failures = st.failures.saturating_add(1);
        let failures = st.consecutive_failures;
        let dead_delay = if rules.needs_clean_round {
            rules.delay_before_retry().max(rules.delay_loop())
        } else {
            rules.delay_loop()
        };

        let up_or_first = st.state == CheckState::Up || !st.has_run;
        let (delay, transition) = if up_or_first && self.retry_it < rules.retry {
            self.retry_it += 1;
            (rules.delay_before_retry(), None)
        } else {
            if up_or_first {
                self.retry_it = 0;
            }
            // Going down (or staying down) drops a dynamic weight: keepalived
            // zeroes the MISC checker's cur_weight on its final failure.
            st.dynamic_weight = None;
            if rules.needs_clean_round {
                st.awaiting_clean_round = true;
            }
            let transition = (st.state == CheckState::Up).then(|| Transition {
                to: CheckState::Down,
                at: now,
                reason: format!(
                    "{reason} (after {failures} consecutive {})",
                    if failures == 1 { "failure" } else { "failures" }
                ),
            });
            (dead_delay, transition)
        };
        st.last_result = Some(LastResult {
            at: now,
            passed: false,
            reason,
        });
        (delay, transition)
    }
}
