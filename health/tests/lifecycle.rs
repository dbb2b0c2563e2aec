//! Start, scheduling, shutdown (omega) and refusals.

mod common;

use common::*;
use health::*;

const VS: ServiceId = ServiceId(1);

fn two_reals(omega: bool) -> Health {
    let mut h = Health::new();
    h.add_service(
        VS,
        ServiceConfig {
            omega,
            ..Default::default()
        },
    )
    .unwrap();
    for i in 1..=2 {
        h.add_real(
            VS,
            RealId(i),
            RealConfig {
                weight: 1,
                inhibit_on_failure: i == 2,
            },
        )
        .unwrap();
        h.add_check(
            VS,
            RealId(i),
            key(&format!("r{i}")),
            rules(CheckKind::TcpCheck),
        )
        .unwrap();
    }
    h
}

#[test]
fn omega_runs_the_down_scripts_at_shutdown() {
    let (mut w, _) = World::start(two_reals(true));
    w.probe(&key("r2"), fail("x")); // r2 down, inhibited at weight 0
    let fx = w.h.shutdown();
    assert_eq!(
        fx,
        vec![
            Effect::Apply {
                service: VS,
                target: Target::Real(RealId(1)),
                action: Action::Remove
            },
            Effect::RunScript {
                service: VS,
                real: Some(RealId(1)),
                script: Script::NotifyDown,
                shutdown: true
            },
            // clear_service_rs() forces removal of inhibited reals; no notify: not live
            Effect::Apply {
                service: VS,
                target: Target::Real(RealId(2)),
                action: Action::Remove
            },
            Effect::RunScript {
                service: VS,
                real: None,
                script: Script::QuorumDown,
                shutdown: true
            },
        ]
    );
    assert!(w.h.shutdown().is_empty());
    assert_eq!(w.h.next_wakeup(), None);
    assert!(w.h.take_due(u64::MAX).is_empty());
    assert_eq!(
        w.h.on_result(&key("r1"), 9_000, ProbeResult::new(9_000, 0, Outcome::Pass)),
        Err(HealthError::NotRunning)
    );
}

#[test]
fn without_omega_shutdown_only_removes() {
    let (mut w, _) = World::start(two_reals(false));
    let fx = w.h.shutdown();
    assert_eq!(
        applies(&fx),
        vec![
            (VS, Target::Real(RealId(1)), Action::Remove),
            (VS, Target::Real(RealId(2)), Action::Remove),
        ]
    );
    assert!(scripts(&fx).is_empty());
}

#[test]
fn omega_runs_quorum_down_even_without_quorum() {
    // update_vs_notifies(vs, stopping) runs do_vs_notifies() whatever the state.
    let mut h = Health::new();
    h.add_service(
        VS,
        ServiceConfig {
            omega: true,
            ..Default::default()
        },
    )
    .unwrap();
    h.add_real(VS, RealId(1), RealConfig::default()).unwrap();
    let mut r = rules(CheckKind::TcpCheck);
    r.alpha = true;
    h.add_check(VS, RealId(1), key("a"), r).unwrap();
    let (mut w, fx) = World::start(h);
    assert!(fx.is_empty());
    assert_eq!(
        w.h.shutdown(),
        vec![Effect::RunScript {
            service: VS,
            real: None,
            script: Script::QuorumDown,
            shutdown: true
        }]
    );
}

#[test]
fn take_due_hands_each_probe_out_once() {
    let (mut w, _) = World::start(two_reals(false));
    assert_eq!(w.h.next_wakeup(), Some(1_000));
    assert!(w.h.take_due(999).is_empty());
    assert_eq!(w.h.take_due(1_000), vec![key("r1"), key("r2")]);
    assert!(w.h.take_due(5_000).is_empty(), "in flight");
    assert_eq!(w.h.next_wakeup(), None);
    assert_eq!(
        w.h.checker(&key("r1")).unwrap().status().in_flight_since,
        Some(1_000)
    );
    w.h.on_result(
        &key("r1"),
        1_010,
        ProbeResult::new(1_000, 10_000, Outcome::Pass),
    )
    .unwrap();
    assert_eq!(w.h.next_wakeup(), Some(7_010));
}

#[test]
fn warmup_spreads_first_probes_deterministically() {
    let build = || {
        let mut h = Health::new();
        h.add_service(VS, ServiceConfig::default()).unwrap();
        for i in 0..50 {
            h.add_real(VS, RealId(i), RealConfig::default()).unwrap();
            let mut r = rules(CheckKind::TcpCheck);
            r.warmup_ms = Some(10_000);
            h.add_check(VS, RealId(i), key(&format!("p{i}")), r)
                .unwrap();
        }
        h
    };
    let dues = |seed: u64| {
        let mut h = build();
        h.start(500, seed).unwrap();
        h.probes().map(|(_, c, _)| c.next_due()).collect::<Vec<_>>()
    };
    let a = dues(1);
    assert_eq!(a, dues(1), "same seed, same schedule");
    assert_ne!(a, dues(2));
    assert!(a.iter().all(|d| (1_500..=11_500).contains(d)), "{a:?}");
    let distinct: std::collections::BTreeSet<_> = a.iter().collect();
    assert!(distinct.len() > 40, "spread out: {distinct:?}");
}

#[test]
fn refusals() {
    let mut h = Health::new();
    let r = RealId(1);
    assert_eq!(
        h.add_real(VS, r, RealConfig::default()),
        Err(HealthError::UnknownService(VS))
    );
    h.add_service(VS, ServiceConfig::default()).unwrap();
    assert_eq!(
        h.add_service(VS, ServiceConfig::default()),
        Err(HealthError::DuplicateService(VS))
    );
    assert_eq!(
        h.add_check(VS, r, key("k"), rules(CheckKind::TcpCheck)),
        Err(HealthError::UnknownReal {
            service: VS,
            real: r
        })
    );
    h.add_real(VS, r, RealConfig::default()).unwrap();
    assert_eq!(
        h.add_real(VS, r, RealConfig::default()),
        Err(HealthError::DuplicateReal {
            service: VS,
            real: r
        })
    );
    let mut bad = rules(CheckKind::TcpCheck);
    bad.delay_loop_ms = 0;
    assert!(matches!(
        h.add_check(VS, r, key("k"), bad),
        Err(HealthError::InvalidRules(_))
    ));
    assert_eq!(
        h.on_result(&key("k"), 0, ProbeResult::new(0, 0, Outcome::Pass)),
        Err(HealthError::NotRunning)
    );
    h.add_check(VS, r, key("k"), rules(CheckKind::TcpCheck))
        .unwrap();
    h.start(0, 0).unwrap();
    assert_eq!(h.start(0, 0), Err(HealthError::AlreadyStarted));
    assert_eq!(
        h.add_service(ServiceId(2), ServiceConfig::default()),
        Err(HealthError::AlreadyStarted)
    );
    assert_eq!(
        h.on_result(&key("nope"), 0, ProbeResult::new(0, 0, Outcome::Pass)),
        Err(HealthError::UnknownProbe(key("nope")))
    );
    // errors have readable messages
    assert_eq!(
        HealthError::UnknownReal {
            service: VS,
            real: r
        }
        .to_string(),
        "service vs#1 has no real rs#1"
    );
}

#[test]
fn listing_views() {
    let (mut w, _) = World::start(two_reals(false));
    w.probe(&key("r1"), fail("refused"));
    let v = w.h.real(VS, RealId(1)).unwrap();
    assert!(!v.alive);
    assert_eq!(v.checks, vec![key("r1")]);
    let c = w.h.checker(&key("r1")).unwrap();
    assert_eq!(c.state(), CheckState::Down);
    assert_eq!(c.status().since, 1_000);
    assert_eq!(c.status().last_result.as_ref().unwrap().reason, "refused");
    assert_eq!(c.rules().kind.keyword(), "TCP_CHECK");
    let s = w.h.service(VS).unwrap();
    assert_eq!((s.quorum_up, s.live_weight, s.threshold), (true, 1, 1));
    assert_eq!(w.h.layout(), vec![(VS, vec![RealId(1), RealId(2)])]);
    assert!(w.h.real(VS, RealId(9)).is_none());
}

/// A reload: the unchanged probe keeps its failed state, the new real's
/// probe starts as a new one does, and nothing re-runs start-up scripts.
#[test]
fn start_from_carries_unchanged_probes_over() {
    let (mut w, _) = World::start(two_reals(false));
    // r1 fails its check and goes down (first failure, retry preset).
    let k1 = key("r1");
    let _ = w.due();
    let fx = w.probe(&k1, fail("refused"));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::RealDown {
            real: RealId(1),
            ..
        }
    )));
    // The new configuration adds a third real with its own check.
    let mut next = two_reals(false);
    next.add_real(VS, RealId(3), RealConfig::default()).unwrap();
    next.add_check(VS, RealId(3), key("r3"), rules(CheckKind::TcpCheck))
        .unwrap();
    let fx = next.start_from(&w.h, w.now, 7).unwrap();
    let a = applies(&fx);
    assert!(
        !a.iter()
            .any(|(_, t, act)| *t == Target::Real(RealId(1)) && *act != Action::Remove),
        "r1 stays out of the pool: {a:?}"
    );
    assert!(a.contains(&(VS, Target::Real(RealId(3)), Action::Weight(1))));
    assert!(!next.real(VS, RealId(1)).unwrap().alive);
    assert!(next.real(VS, RealId(3)).unwrap().alive);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::RunScript { .. })),
        "no start-up scripts for a service that existed: {fx:?}"
    );
    // Changed rules start afresh.
    let mut changed = Health::new();
    changed.add_service(VS, ServiceConfig::default()).unwrap();
    changed
        .add_real(VS, RealId(1), RealConfig::default())
        .unwrap();
    let mut r = rules(CheckKind::TcpCheck);
    r.retry = 3;
    changed.add_check(VS, RealId(1), key("r1"), r).unwrap();
    changed.start_from(&w.h, w.now, 7).unwrap();
    assert!(changed.real(VS, RealId(1)).unwrap().alive);
}

#[test]
fn a_skipped_probe_keeps_its_verdict_and_comes_back_a_delay_loop_later() {
    // keepalived's ha_suspend: while suspended nothing is probed and a real
    // that was down stays down.
    let (mut w, _) = World::start(two_reals(false));
    w.probe(&key("r1"), fail("x"));
    assert!(!w.h.checker(&key("r1")).unwrap().is_up());
    let due = w.due();
    assert!(!due.is_empty());
    let t = w.now;
    for k in &due {
        w.h.skip(k, t);
    }
    let c = w.h.checker(&key("r1")).unwrap();
    assert!(!c.is_up(), "no verdict while suspended");
    assert!(c.status().in_flight_since.is_none());
    assert_eq!(c.next_due(), t + c.rules().delay_loop());
    assert_eq!(
        w.h.subscribers(&key("r1")),
        &[(VS, RealId(1))],
        "the services a probe answers"
    );
}
