//! Per real: several checks, inhibit vs remove, dynamic weights, notify
//! scripts and the order of effects.

mod common;

use common::*;
use health::*;

const VS: ServiceId = ServiceId(1);
const R1: RealId = RealId(1);
const R2: RealId = RealId(2);

fn world(inhibit: bool, checks: &[(&str, CheckKind)]) -> (World, Vec<Effect>) {
    let mut h = Health::new();
    h.add_service(
        VS,
        ServiceConfig {
            quorum: 1,
            ..Default::default()
        },
    )
    .unwrap();
    h.add_real(
        VS,
        R1,
        RealConfig {
            weight: 5,
            inhibit_on_failure: inhibit,
        },
    )
    .unwrap();
    for (k, kind) in checks {
        h.add_check(VS, R1, key(k), rules(*kind)).unwrap();
    }
    World::start(h)
}

fn is_alive(w: &World) -> bool {
    w.h.real(VS, R1).unwrap().alive
}

#[test]
fn a_real_is_up_only_while_every_check_passes() {
    let (mut w, fx) = world(
        false,
        &[("tcp", CheckKind::TcpCheck), ("http", CheckKind::HttpGet)],
    );
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(5))]
    );
    let (tcp, http) = (key("tcp"), key("http"));

    // tcp fails first: real down
    let fx = w.probe(&tcp, fail("refused"));
    assert_eq!(real_events(&fx), vec![(VS, R1, false)]);
    assert!(!is_alive(&w));
    // http fails too: the check goes down, the real does not change again
    let fx = w.probe(&http, fail("status 500"));
    assert!(matches!(fx.as_slice(), [Effect::Check { .. }]), "{fx:?}");
    // tcp recovers: still down because http is down
    let fx = w.probe(&tcp, Outcome::Pass);
    assert!(real_events(&fx).is_empty());
    assert!(applies(&fx).is_empty());
    assert!(!is_alive(&w));
    // http: clearing round, then clean round -> real up
    let fx = w.probe(&http, Outcome::Pass);
    assert!(fx.is_empty());
    let fx = w.probe(&http, Outcome::Pass);
    assert_eq!(real_events(&fx), vec![(VS, R1, true)]);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(5))]
    );
    let Some(Effect::RealUp { reason, weight, .. }) =
        fx.iter().find(|e| matches!(e, Effect::RealUp { .. }))
    else {
        panic!("{fx:?}")
    };
    assert_eq!(*weight, 5);
    assert_eq!(reason, "http: passed a clean round; all 2 checks up");
}

#[test]
fn down_removes_the_real_and_runs_notify_down_in_order() {
    let (mut w, _) = world(false, &[("tcp", CheckKind::TcpCheck)]);
    let fx = w.probe(&key("tcp"), fail("refused"));
    let expect = vec![
        Effect::Check {
            key: key("tcp"),
            transition: Transition {
                to: CheckState::Down,
                at: 1_000,
                reason: "refused (after 1 consecutive failure)".into(),
            },
        },
        Effect::RealDown {
            service: VS,
            real: R1,
            reason: "tcp: refused (after 1 consecutive failure)".into(),
        },
        Effect::Apply {
            service: VS,
            target: Target::Real(R1),
            action: Action::Remove,
        },
        Effect::RunScript {
            service: VS,
            real: Some(R1),
            script: Script::NotifyDown,
            shutdown: false,
        },
        Effect::QuorumLost {
            service: VS,
            weight_sum: 0,
            threshold: 1,
        },
        Effect::RunScript {
            service: VS,
            real: None,
            script: Script::QuorumDown,
            shutdown: false,
        },
    ];
    assert_eq!(fx, expect);
    let fx = w.probe(&key("tcp"), Outcome::Pass);
    assert_eq!(
        &fx[1..],
        &[
            Effect::RealUp {
                service: VS,
                real: R1,
                weight: 5,
                reason: "tcp: passed; all 1 checks up".into()
            },
            Effect::Apply {
                service: VS,
                target: Target::Real(R1),
                action: Action::Weight(5)
            },
            Effect::RunScript {
                service: VS,
                real: Some(R1),
                script: Script::NotifyUp,
                shutdown: false
            },
            Effect::QuorumRegained {
                service: VS,
                weight_sum: 5,
                threshold: 1
            },
            Effect::RunScript {
                service: VS,
                real: None,
                script: Script::QuorumUp,
                shutdown: false
            },
        ]
    );
}

#[test]
fn inhibit_on_failure_keeps_the_real_at_weight_zero() {
    let (mut w, fx) = world(true, &[("tcp", CheckKind::TcpCheck)]);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(5))]
    );
    let fx = w.probe(&key("tcp"), fail("refused"));
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(0))]
    );
    let fx = w.probe(&key("tcp"), Outcome::Pass);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(5))]
    );
}

#[test]
fn alpha_with_inhibit_starts_at_weight_zero() {
    // init_service_rs(): in alpha mode a real only goes in at start when
    // inhibit_on_failure is set, and then at weight 0 (ipvs_cmd()).
    let mut h = Health::new();
    h.add_service(VS, ServiceConfig::default()).unwrap();
    h.add_real(
        VS,
        R1,
        RealConfig {
            weight: 5,
            inhibit_on_failure: true,
        },
    )
    .unwrap();
    h.add_real(
        VS,
        R2,
        RealConfig {
            weight: 5,
            inhibit_on_failure: false,
        },
    )
    .unwrap();
    let mut r = rules(CheckKind::TcpCheck);
    r.alpha = true;
    h.add_check(VS, R1, key("a"), r.clone()).unwrap();
    h.add_check(VS, R2, key("b"), r).unwrap();
    let (mut w, fx) = World::start(h);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(0))]
    );
    assert!(!w.h.service(VS).unwrap().quorum_up);
    let fx = w.probe(&key("b"), Outcome::Pass);
    assert_eq!(real_events(&fx), vec![(VS, R2, true)]);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R2), Action::Weight(5))]
    );
}

#[test]
fn alpha_first_failure_runs_notify_down_without_a_transition() {
    // update_svr_checker_state(): is_up == alive and !has_run with alpha.
    let mut h = Health::new();
    h.add_service(VS, ServiceConfig::default()).unwrap();
    h.add_real(VS, R1, RealConfig::default()).unwrap();
    h.add_real(VS, R2, RealConfig::default()).unwrap();
    let mut tcp = rules(CheckKind::TcpCheck);
    tcp.alpha = true;
    let mut http = rules(CheckKind::HttpGet);
    http.alpha = true;
    h.add_check(VS, R1, key("tcp"), tcp).unwrap();
    h.add_check(VS, R2, key("http"), http).unwrap();
    let (mut w, _) = World::start(h);
    let fx = w.probe(&key("tcp"), fail("refused"));
    assert_eq!(
        fx,
        vec![Effect::RunScript {
            service: VS,
            real: Some(R1),
            script: Script::NotifyDown,
            shutdown: false
        }]
    );
    // only on the first run
    assert!(w.probe(&key("tcp"), fail("refused")).is_empty());
    // HTTP_GET's timeout_epilog() sets has_run first, so it skips the notify
    assert!(w.probe(&key("http"), fail("status 500")).is_empty());
}

#[test]
fn misc_dynamic_weight_changes_the_real_weight() {
    let mut h = Health::new();
    h.add_service(VS, ServiceConfig::default()).unwrap();
    h.add_real(
        VS,
        R1,
        RealConfig {
            weight: 5,
            inhibit_on_failure: false,
        },
    )
    .unwrap();
    let mut r = rules(CheckKind::MiscCheck);
    r.retry = 0;
    h.add_check(VS, R1, key("misc"), r).unwrap();
    let (mut w, _) = World::start(h);
    let misc = key("misc");

    // exit 12 -> weight 10
    let fx = w.probe(&misc, Outcome::misc_exit(12, true));
    assert_eq!(
        fx,
        vec![
            Effect::WeightChanged {
                service: VS,
                real: R1,
                from: 5,
                to: 10
            },
            Effect::Apply {
                service: VS,
                target: Target::Real(R1),
                action: Action::Weight(10)
            },
        ]
    );
    // same exit again: nothing
    assert!(w.probe(&misc, Outcome::misc_exit(12, true)).is_empty());
    // exit 2 -> weight 0, still live (and quorum lost: live weight 0)
    let fx = w.probe(&misc, Outcome::misc_exit(2, true));
    assert_eq!(
        fx[0],
        Effect::WeightChanged {
            service: VS,
            real: R1,
            from: 10,
            to: 0
        }
    );
    assert!(fx.contains(&Effect::QuorumLost {
        service: VS,
        weight_sum: 0,
        threshold: 1
    }));
    assert!(w.h.real(VS, R1).unwrap().alive);
    // exit 0 -> configured weight again
    let fx = w.probe(&misc, Outcome::misc_exit(0, true));
    assert_eq!(
        fx[0],
        Effect::WeightChanged {
            service: VS,
            real: R1,
            from: 0,
            to: 5
        }
    );
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::QuorumRegained { .. })));
    // weight 10, then the check fails: the dynamic weight goes silently
    w.probe(&misc, Outcome::misc_exit(12, true));
    let fx = w.probe(&misc, Outcome::misc_exit(1, true));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::WeightChanged { .. })),
        "{fx:?}"
    );
    assert_eq!(real_events(&fx), vec![(VS, R1, false)]);
    assert_eq!(w.h.real(VS, R1).unwrap().weight, 5);
    // back up with exit 9: weight change reported, then up at weight 7
    let fx = w.probe(&misc, Outcome::misc_exit(9, true));
    assert_eq!(
        fx[1],
        Effect::WeightChanged {
            service: VS,
            real: R1,
            from: 5,
            to: 7
        }
    );
    assert!(fx.contains(&Effect::RealUp {
        service: VS,
        real: R1,
        weight: 7,
        reason: "misc: passed with weight 7; all 1 checks up".into()
    }));
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(7))]
    );
}

#[test]
fn weight_change_of_a_down_real_waits_for_it_to_come_up() {
    let mut h = Health::new();
    h.add_service(VS, ServiceConfig::default()).unwrap();
    h.add_real(
        VS,
        R1,
        RealConfig {
            weight: 5,
            inhibit_on_failure: false,
        },
    )
    .unwrap();
    h.add_check(VS, R1, key("misc"), rules(CheckKind::MiscCheck))
        .unwrap();
    h.add_check(VS, R1, key("tcp"), rules(CheckKind::TcpCheck))
        .unwrap();
    let (mut w, _) = World::start(h);
    w.probe(&key("tcp"), fail("refused"));
    let fx = w.probe(&key("misc"), Outcome::PassWeight(9));
    assert_eq!(
        fx,
        vec![Effect::WeightChanged {
            service: VS,
            real: R1,
            from: 5,
            to: 9
        }]
    );
    let fx = w.probe(&key("tcp"), Outcome::Pass);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(9))]
    );
}

#[test]
fn a_real_without_checks_is_always_live() {
    let mut h = Health::new();
    h.add_service(VS, ServiceConfig::default()).unwrap();
    h.add_real(VS, R1, RealConfig::default()).unwrap();
    let (w, fx) = World::start(h);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::Real(R1), Action::Weight(1))]
    );
    assert!(w.h.real(VS, R1).unwrap().alive);
    assert_eq!(w.h.next_wakeup(), None);
}
