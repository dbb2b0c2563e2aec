//! One checker's rules on a virtual clock. Times are relative to T0, the
//! due time of the probe after a first passing run.

mod common;

use common::*;
use health::CheckState::{Down, Up};
use health::*;

#[test]
fn tcp_retry_then_down_then_up() {
    // retry 1, delay_before_retry 1 s, delay_loop 6 s: fail at 0 -> retry at
    // 1000 -> fail -> down at 1000; success at 7000 -> up (tcp_epilog()).
    let (mut s, t0) = Sim::settled(rules(CheckKind::TcpCheck));
    assert_eq!(s.fail(), (t0, None));
    assert_eq!(s.fail(), (t0 + 1_000, Some(Down)));
    assert_eq!(s.pass(), (t0 + 7_000, Some(Up)));
    assert_eq!(s.c.next_due(), t0 + 13_000);
}

#[test]
fn http_needs_a_clean_round_before_up() {
    // Same timeline; HTTP_GET's epilog() only clears failed_url at 7000 and
    // brings the check up at the next clean round, 13000.
    let (mut s, t0) = Sim::settled(rules(CheckKind::HttpGet));
    assert_eq!(s.fail(), (t0, None));
    assert_eq!(s.fail(), (t0 + 1_000, Some(Down)));
    assert!(s.c.status().awaiting_clean_round);
    // down with a failed round: max(delay_before_retry, delay_loop) apart
    assert_eq!(s.pass(), (t0 + 7_000, None));
    assert!(!s.c.status().awaiting_clean_round);
    assert_eq!(s.pass(), (t0 + 13_000, Some(Up)));
    assert_eq!(s.c.next_due(), t0 + 19_000);
}

#[test]
fn ssl_get_has_the_same_rule() {
    let (mut s, t0) = Sim::settled(rules(CheckKind::SslGet));
    s.fail();
    assert_eq!(s.fail(), (t0 + 1_000, Some(Down)));
    assert_eq!(s.pass(), (t0 + 7_000, None));
    assert_eq!(s.pass(), (t0 + 13_000, Some(Up)));
}

#[test]
fn http_fast_recovery_runs_the_clean_round_at_once() {
    // epilog(): with fast_recovery, a checker that is down with no failed URL
    // is re-run by thread_add_event, i.e. immediately. Two passes still needed.
    let mut r = rules(CheckKind::HttpGet);
    r.fast_recovery = true;
    let (mut s, t0) = Sim::settled(r);
    s.fail();
    assert_eq!(s.fail(), (t0 + 1_000, Some(Down)));
    assert_eq!(s.pass(), (t0 + 7_000, None));
    assert_eq!(s.c.next_due(), t0 + 7_000);
    assert_eq!(s.pass(), (t0 + 7_000, Some(Up)));
    assert_eq!(s.c.next_due(), t0 + 13_000);
}

#[test]
fn http_fail_during_the_clean_round_marks_the_round_failed_again() {
    // Our deviation from keepalived's REGISTER_CHECKER_FAILED path: the failed
    // round is re-marked, so the pass after it does not bring the check up.
    let (mut s, t0) = Sim::settled(rules(CheckKind::HttpGet));
    s.fail();
    s.fail();
    assert_eq!(s.pass(), (t0 + 7_000, None));
    assert_eq!(s.fail(), (t0 + 13_000, None));
    assert!(s.c.status().awaiting_clean_round);
    assert_eq!(s.pass(), (t0 + 19_000, None));
    assert_eq!(s.pass(), (t0 + 25_000, Some(Up)));
}

#[test]
fn http_down_pacing_uses_the_longer_delay() {
    let mut r = rules(CheckKind::HttpGet);
    r.delay_before_retry_ms = Some(10_000);
    let (mut s, t0) = Sim::settled(r);
    s.fail();
    assert_eq!(s.fail(), (t0 + 10_000, Some(Down)));
    assert_eq!(s.fail(), (t0 + 20_000, None));
    assert_eq!(s.c.next_due(), t0 + 30_000);
}

#[test]
fn a_pass_between_retries_resets_the_count() {
    let mut r = rules(CheckKind::TcpCheck);
    r.retry = 2;
    let (mut s, t0) = Sim::settled(r);
    assert_eq!(s.fail(), (t0, None));
    assert_eq!(s.fail(), (t0 + 1_000, None));
    assert_eq!(s.pass(), (t0 + 2_000, None));
    assert_eq!(s.c.status().consecutive_failures, 0);
    // a fresh run of three failures is needed
    assert_eq!(s.fail(), (t0 + 8_000, None));
    assert_eq!(s.fail(), (t0 + 9_000, None));
    assert_eq!(s.fail(), (t0 + 10_000, Some(Down)));
    assert_eq!(s.c.next_due(), t0 + 16_000);
}

#[test]
fn retry_zero_goes_down_on_the_first_failure() {
    let mut r = rules(CheckKind::TcpCheck);
    r.retry = 0;
    let (mut s, t0) = Sim::settled(r);
    assert_eq!(s.fail(), (t0, Some(Down)));
    assert_eq!(s.c.next_due(), t0 + DL);
}

#[test]
fn down_after_retry_plus_one_failures() {
    for retry in 0..5u32 {
        let mut r = rules(CheckKind::TcpCheck);
        r.retry = retry;
        let (mut s, _) = Sim::settled(r);
        for _ in 0..retry {
            assert_eq!(s.fail().1, None);
        }
        assert_eq!(s.fail().1, Some(Down), "retry {retry}");
        assert_eq!(s.c.status().consecutive_failures, retry + 1);
    }
}

#[test]
fn down_reason_counts_the_failures() {
    let (mut s, _) = Sim::settled(rules(CheckKind::TcpCheck));
    s.run(fail("connect refused"));
    let t = s.c.next_due();
    let tr =
        s.c.on_result(t, ProbeResult::new(t, 0, fail("connect timeout")))
            .unwrap();
    assert_eq!(tr.reason, "connect timeout (after 2 consecutive failures)");
    assert_eq!(tr.at, t);
    assert_eq!(s.c.status().since, t);
}

#[test]
fn first_failure_takes_a_fresh_checker_down_at_once() {
    // validate_check_config() primes retry_it = retry: no retries on the
    // first run, even with retry 3.
    let mut r = rules(CheckKind::TcpCheck);
    r.retry = 3;
    let mut s = Sim::new(r);
    assert!(s.c.is_up());
    let t = s.c.next_due();
    let tr =
        s.c.on_result(t, ProbeResult::new(t, 0, fail("refused")))
            .unwrap();
    assert_eq!(tr.to, Down);
    assert_eq!(tr.reason, "refused (after 1 consecutive failure)");
    assert_eq!(s.c.next_due(), 1_000 + DL);
}

#[test]
fn first_pass_keeps_a_fresh_checker_up_without_transition() {
    let mut s = Sim::new(rules(CheckKind::TcpCheck));
    assert_eq!(s.pass(), (1_000, None));
    assert!(s.c.has_run());
}

#[test]
fn alpha_starts_down_and_comes_up_on_one_pass() {
    let mut r = rules(CheckKind::TcpCheck);
    r.alpha = true;
    let mut s = Sim::new(r);
    assert_eq!(s.c.state(), Down);
    assert_eq!(s.fail(), (1_000, None));
    // still down: no retry, next after delay_loop
    assert_eq!(s.fail(), (7_000, None));
    assert_eq!(s.pass(), (13_000, Some(Up)));
}

#[test]
fn alpha_http_needs_a_clean_round_after_a_failed_first_run() {
    // timeout_epilog() -> epilog(RETRY) sets failed_url on the first failure.
    let mut r = rules(CheckKind::HttpGet);
    r.alpha = true;
    let mut s = Sim::new(r.clone());
    assert_eq!(s.fail(), (1_000, None));
    assert_eq!(s.pass(), (7_000, None));
    assert_eq!(s.pass(), (13_000, Some(Up)));
    // but a first pass brings it straight up
    let mut s = Sim::new(r);
    assert_eq!(s.pass(), (1_000, Some(Up)));
}

#[test]
fn failing_while_down_does_not_retry() {
    // dns_final(), misc_check_child_thread(), and tcp_epilog() since v2.3.3:
    // only a checker that is up (or has not run) retries.
    for kind in [
        CheckKind::TcpCheck,
        CheckKind::DnsCheck,
        CheckKind::MiscCheck,
    ] {
        let mut r = rules(kind);
        r.retry = 2;
        let (mut s, t0) = Sim::settled(r);
        s.fail();
        s.fail();
        assert_eq!(s.fail(), (t0 + 2_000, Some(Down)), "{kind:?}");
        assert_eq!(s.fail(), (t0 + 8_000, None), "{kind:?}");
        assert_eq!(s.fail(), (t0 + 14_000, None), "{kind:?}");
        assert_eq!(s.pass(), (t0 + 20_000, Some(Up)), "{kind:?}");
    }
}

#[test]
fn dns_defaults_retry_three_times_a_delay_loop_apart() {
    let mut r = CheckKind::DnsCheck.defaults();
    r.delay_loop_ms = DL;
    r.warmup_ms = Some(0);
    let (mut s, t0) = Sim::settled(r);
    assert_eq!(s.fail(), (t0, None));
    assert_eq!(s.fail(), (t0 + DL, None));
    assert_eq!(s.fail(), (t0 + 2 * DL, None));
    assert_eq!(s.fail(), (t0 + 3 * DL, Some(Down)));
}

#[test]
fn misc_defaults_have_no_retry() {
    let mut r = CheckKind::MiscCheck.defaults();
    r.warmup_ms = Some(0);
    let (mut s, t0) = Sim::settled(r);
    assert_eq!(s.fail(), (t0, Some(Down)));
}

#[test]
fn misc_schedules_from_when_the_script_started() {
    // misc_check_child_thread(): next = last_ran + delay, at once if past.
    let mut r = rules(CheckKind::MiscCheck);
    r.retry = 1;
    let mut c = Checker::new(r, 0, 0);
    assert_eq!(c.next_due(), 1_000);
    c.on_result(1_500, ProbeResult::new(1_000, 500_000, Outcome::Pass));
    assert_eq!(c.next_due(), 7_000);
    c.on_result(7_400, ProbeResult::new(7_000, 400_000, fail("exit 1")));
    assert_eq!(c.next_due(), 8_000); // retry from the start, not the end
                                     // a script that ran past its next slot is re-run at once
    c.on_result(20_000, ProbeResult::new(8_000, 12_000_000, Outcome::Pass));
    assert_eq!(c.next_due(), 20_000);
}

#[test]
fn tcp_schedules_from_the_result() {
    let mut c = Checker::new(rules(CheckKind::TcpCheck), 0, 0);
    c.on_result(1_800, ProbeResult::new(1_000, 800_000, Outcome::Pass));
    assert_eq!(c.next_due(), 7_800);
}

#[test]
fn misc_dynamic_weight_survives_retries_and_drops_when_down() {
    let mut r = rules(CheckKind::MiscCheck);
    r.retry = 1;
    let (mut s, _) = Sim::settled(r);
    s.run(Outcome::misc_exit(12, true));
    assert_eq!(s.c.dynamic_weight(), Some(10));
    assert_eq!(s.fail().1, None);
    assert_eq!(s.c.dynamic_weight(), Some(10));
    assert_eq!(s.fail().1, Some(Down));
    assert_eq!(s.c.dynamic_weight(), None);
    assert_eq!(s.run(Outcome::misc_exit(5, true)).1, Some(Up));
    assert_eq!(s.c.dynamic_weight(), Some(3));
    s.run(Outcome::misc_exit(0, true));
    assert_eq!(s.c.dynamic_weight(), None);
}

#[test]
fn warmup_jitter_bounds() {
    let mut r = CheckKind::TcpCheck.defaults();
    r.delay_loop_ms = 6_000; // warmup defaults to delay_loop
    for (jitter, due) in [(0, 101_000), (u64::MAX, 107_000), (u64::MAX / 3, 103_000)] {
        assert_eq!(Checker::new(r.clone(), 100_000, jitter).next_due(), due);
    }
    for j in [1u64, 17, 1 << 20, 1 << 40, u64::MAX - 1] {
        let d = Checker::new(r.clone(), 100_000, j).next_due();
        assert!((101_000..=107_000).contains(&d), "{d}");
    }
    r.warmup_ms = Some(0);
    assert_eq!(
        Checker::new(r.clone(), 100_000, u64::MAX).next_due(),
        101_000
    );
    r.warmup_ms = Some(30_000);
    assert_eq!(Checker::new(r, 100_000, u64::MAX).next_due(), 131_000);
}

#[test]
fn status_records_latency_lag_and_last_result() {
    let mut c = Checker::new(rules(CheckKind::TcpCheck), 0, 0);
    c.mark_started(1_000);
    assert_eq!(c.status().in_flight_since, Some(1_000));
    // started 250 ms late
    c.on_result(1_300, ProbeResult::new(1_250, 50_000, Outcome::Pass));
    let st = c.status();
    assert_eq!(st.in_flight_since, None);
    assert_eq!((st.last_lag_ms, st.max_lag_ms), (250, 250));
    assert_eq!(st.last_latency_us, Some(50_000));
    assert_eq!(st.probes, 1);
    assert!(st.last_result.as_ref().unwrap().passed);
    // on time (even early) next
    c.on_result(7_400, ProbeResult::new(7_200, 10, fail("refused")));
    let st = c.status();
    assert_eq!((st.last_lag_ms, st.max_lag_ms), (0, 250));
    let last = st.last_result.as_ref().unwrap();
    assert_eq!(
        (last.at, last.passed, last.reason.as_str()),
        (7_400, false, "refused")
    );
    assert_eq!((st.failures, st.consecutive_failures), (1, 1));
    assert_eq!(st.since, 0);
}

#[test]
fn no_transition_without_a_change() {
    let (mut s, _) = Sim::settled(rules(CheckKind::TcpCheck));
    for _ in 0..5 {
        assert_eq!(s.pass().1, None);
    }
    s.fail();
    assert_eq!(s.fail().1, Some(Down));
    for _ in 0..5 {
        assert_eq!(s.fail().1, None);
    }
    assert_eq!(s.c.status().transitions, 1);
}

#[test]
fn extreme_times_do_not_overflow() {
    let mut r = rules(CheckKind::MiscCheck);
    r.delay_loop_ms = u64::MAX;
    r.warmup_ms = Some(u64::MAX);
    let mut c = Checker::new(r, u64::MAX - 5, u64::MAX);
    assert_eq!(c.next_due(), u64::MAX);
    c.on_result(
        u64::MAX,
        ProbeResult::new(u64::MAX, u64::MAX, Outcome::Pass),
    );
    assert_eq!(c.next_due(), u64::MAX);
    // a result from a clock that went backwards is still taken
    assert_eq!(
        c.on_result(0, ProbeResult::new(u64::MAX, 0, fail("x"))),
        None
    );
    assert_eq!(
        c.on_result(0, ProbeResult::new(0, 0, fail("x")))
            .map(|t| t.to),
        Some(Down)
    );
}
