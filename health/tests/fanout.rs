//! One probe per distinct check, fanned out to every real and service that
//! uses it.

mod common;

use common::*;
use health::*;

const A: ServiceId = ServiceId(1);
const B: ServiceId = ServiceId(2);
const C: ServiceId = ServiceId(3);
const R: RealId = RealId(1);

/// The same backend behind three services (e.g. ports of one VIP, or VIPs of
/// several tenants), all checked by one TCP probe.
fn shared() -> (World, Vec<Effect>) {
    let mut h = Health::new();
    for s in [A, B, C] {
        h.add_service(s, ServiceConfig::default()).unwrap();
        h.add_real(s, R, RealConfig::default()).unwrap();
        h.add_check(s, R, key("tcp 10.0.0.2:80"), rules(CheckKind::TcpCheck))
            .unwrap();
    }
    World::start(h)
}

#[test]
fn one_probe_serves_every_subscriber() {
    let (mut w, _) = shared();
    let k = key("tcp 10.0.0.2:80");
    assert_eq!(w.h.probes().count(), 1);
    let (_, _, subs) = w.h.probes().next().unwrap();
    assert_eq!(subs, &[(A, R), (B, R), (C, R)]);
    // one probe due per period, however many services use the backend
    assert_eq!(w.due(), vec![k.clone()]);
    assert_eq!(w.h.next_wakeup(), None, "the only probe is in flight");
    let fx =
        w.h.on_result(&k, 1_000, ProbeResult::new(1_000, 10, fail("refused")))
            .unwrap();
    // one check transition, then the per-real effects for each service
    assert!(matches!(fx[0], Effect::Check { .. }));
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(e, Effect::Check { .. }))
            .count(),
        1
    );
    assert_eq!(
        real_events(&fx),
        vec![(A, R, false), (B, R, false), (C, R, false)]
    );
    assert_eq!(
        applies(&fx),
        vec![
            (A, Target::Real(R), Action::Remove),
            (B, Target::Real(R), Action::Remove),
            (C, Target::Real(R), Action::Remove),
        ]
    );
    assert_eq!(w.h.next_wakeup(), Some(7_000));
}

#[test]
fn subscribers_keep_their_own_other_checks() {
    // Service B's real also has an HTTP check: the shared TCP probe brings A
    // up on its own, B only once its HTTP check passes too.
    let mut h = Health::new();
    for s in [A, B] {
        h.add_service(s, ServiceConfig::default()).unwrap();
        h.add_real(s, R, RealConfig::default()).unwrap();
        h.add_check(s, R, key("tcp"), rules(CheckKind::TcpCheck))
            .unwrap();
    }
    h.add_check(B, R, key("http"), rules(CheckKind::HttpGet))
        .unwrap();
    let (mut w, _) = World::start(h);
    w.probe(&key("http"), fail("status 500"));
    let fx = w.probe(&key("tcp"), fail("refused"));
    assert_eq!(real_events(&fx), vec![(A, R, false)]);
    let fx = w.probe(&key("tcp"), Outcome::Pass);
    assert_eq!(real_events(&fx), vec![(A, R, true)]);
    assert!(!w.h.real(B, R).unwrap().alive);
}

#[test]
fn shared_probes_need_equal_rules() {
    let mut h = Health::new();
    h.add_service(A, ServiceConfig::default()).unwrap();
    h.add_service(B, ServiceConfig::default()).unwrap();
    h.add_real(A, R, RealConfig::default()).unwrap();
    h.add_real(B, R, RealConfig::default()).unwrap();
    h.add_check(A, R, key("tcp"), rules(CheckKind::TcpCheck))
        .unwrap();
    let mut other = rules(CheckKind::TcpCheck);
    other.retry = 3;
    assert_eq!(
        h.add_check(B, R, key("tcp"), other),
        Err(HealthError::RulesMismatch { key: key("tcp") })
    );
    assert_eq!(
        h.add_check(A, R, key("tcp"), rules(CheckKind::TcpCheck)),
        Err(HealthError::DuplicateCheck {
            service: A,
            real: R,
            key: key("tcp")
        })
    );
}

#[test]
fn every_subscriber_sees_the_same_lag_and_status() {
    let (mut w, _) = shared();
    let k = key("tcp 10.0.0.2:80");
    w.due();
    // the live side got to it 40 ms late
    w.h.on_result(&k, 1_050, ProbeResult::new(1_040, 9_000, Outcome::Pass))
        .unwrap();
    let st = w.h.checker(&k).unwrap().status();
    assert_eq!(
        (st.last_lag_ms, st.last_latency_us, st.probes),
        (40, Some(9_000), 1)
    );
    for s in [A, B, C] {
        assert_eq!(w.h.real(s, R).unwrap().checks, vec![k.clone()]);
    }
}
