//! Quorum with hysteresis (update_quorum_state()) and the sorry server.

mod common;

use common::*;
use health::*;

#[test]
fn hysteresis_boundaries_exactly() {
    // quorum 4, hysteresis 1: regained at sum >= 5, lost at sum < 3.
    let mut q = Quorum::new(4, 1, 100);
    assert!(!q.is_up());
    assert_eq!(q.threshold(), 5);
    assert_eq!(q.update(4), None);
    assert_eq!(
        q.update(5),
        Some(QuorumChange::Regained {
            weight_sum: 5,
            threshold: 5
        })
    );
    assert_eq!(q.threshold(), 3);
    assert_eq!(q.update(4), None);
    assert_eq!(q.update(3), None); // equal to quorum - hysteresis: still held
    assert_eq!(
        q.update(2),
        Some(QuorumChange::Lost {
            weight_sum: 2,
            threshold: 3
        })
    );
    assert_eq!(q.update(4), None); // below quorum + hysteresis
    assert_eq!(
        q.update(6),
        Some(QuorumChange::Regained {
            weight_sum: 6,
            threshold: 5
        })
    );
}

#[test]
fn without_hysteresis_the_quorum_itself_is_the_boundary() {
    let mut q = Quorum::new(3, 0, 10);
    assert_eq!(q.update(2), None);
    assert_eq!(
        q.update(3),
        Some(QuorumChange::Regained {
            weight_sum: 3,
            threshold: 3
        })
    );
    assert_eq!(q.update(3), None);
    assert_eq!(
        q.update(2),
        Some(QuorumChange::Lost {
            weight_sum: 2,
            threshold: 3
        })
    );
}

#[test]
fn start_reports_lost_only_with_a_sorry_server() {
    let mut q = Quorum::new(2, 0, 10);
    assert_eq!(q.start(1, false), None);
    let mut q = Quorum::new(2, 0, 10);
    assert_eq!(
        q.start(1, true),
        Some(QuorumChange::Lost {
            weight_sum: 1,
            threshold: 2
        })
    );
    let mut q = Quorum::new(2, 0, 10);
    assert_eq!(
        q.start(2, true),
        Some(QuorumChange::Regained {
            weight_sum: 2,
            threshold: 2
        })
    );
}

const VS: ServiceId = ServiceId(7);

/// Four reals of weight 1 with one TCP check each; quorum 3, hysteresis 1.
fn four_reals(sorry: Option<SorryServer>, inhibit: bool) -> (World, Vec<Effect>) {
    let mut h = Health::new();
    h.add_service(
        VS,
        ServiceConfig {
            quorum: 3,
            hysteresis: 1,
            sorry_server: sorry,
            omega: false,
        },
    )
    .unwrap();
    for i in 1..=4 {
        h.add_real(
            VS,
            RealId(i),
            RealConfig {
                weight: 1,
                inhibit_on_failure: inhibit,
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
    World::start(h)
}

fn quorum_events(fx: &[Effect]) -> Vec<(bool, u64, i64)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::QuorumLost {
                weight_sum,
                threshold,
                ..
            } => Some((false, *weight_sum, *threshold)),
            Effect::QuorumRegained {
                weight_sum,
                threshold,
                ..
            } => Some((true, *weight_sum, *threshold)),
            _ => None,
        })
        .collect()
}

#[test]
fn service_quorum_transitions_with_hysteresis() {
    let (mut w, fx) = four_reals(None, false);
    // starts with 4 >= 3 + 1: quorum_up runs at start
    assert_eq!(quorum_events(&fx), vec![(true, 4, 4)]);
    assert!(scripts(&fx).contains(&(VS, None, Script::QuorumUp)));
    // 3 live: still >= 3 - 1
    assert!(quorum_events(&w.probe(&key("r1"), fail("x"))).is_empty());
    // 2 live: equal to quorum - hysteresis, still held
    assert!(quorum_events(&w.probe(&key("r2"), fail("x"))).is_empty());
    // 1 live: lost
    let fx = w.probe(&key("r3"), fail("x"));
    assert_eq!(quorum_events(&fx), vec![(false, 1, 2)]);
    assert_eq!(scripts(&fx).last(), Some(&(VS, None, Script::QuorumDown)));
    // back to 3 live: below quorum + hysteresis, still lost
    assert!(quorum_events(&w.probe(&key("r1"), Outcome::Pass)).is_empty());
    assert!(quorum_events(&w.probe(&key("r2"), Outcome::Pass)).is_empty());
    let v = w.h.service(VS).unwrap();
    assert_eq!((v.quorum_up, v.live_weight, v.threshold), (false, 3, 4));
    // 4 live: regained
    let fx = w.probe(&key("r3"), Outcome::Pass);
    assert_eq!(quorum_events(&fx), vec![(true, 4, 4)]);
}

#[test]
fn sorry_server_replaces_the_reals_while_the_quorum_is_lost() {
    let (mut w, fx) = four_reals(Some(SorryServer { inhibit: false }), false);
    assert_eq!(applies(&fx).len(), 4);
    w.probe(&key("r1"), fail("x"));
    w.probe(&key("r2"), fail("x"));
    let fx = w.probe(&key("r3"), fail("x"));
    // r3 leaves, quorum lost: sorry in first, then the last live real out
    assert_eq!(
        applies(&fx),
        vec![
            (VS, Target::Real(RealId(3)), Action::Remove),
            (VS, Target::SorryServer, Action::Weight(1)),
            (VS, Target::Real(RealId(4)), Action::Remove),
        ]
    );
    assert!(w.h.service(VS).unwrap().sorry_active);
    // reals coming up while the sorry server holds the service stay out
    let fx = w.probe(&key("r1"), Outcome::Pass);
    assert_eq!(real_events(&fx), vec![(VS, RealId(1), true)]);
    assert!(applies(&fx).is_empty());
    w.probe(&key("r2"), Outcome::Pass);
    // regained: live reals back first, then the sorry server out
    let fx = w.probe(&key("r3"), Outcome::Pass);
    assert_eq!(
        applies(&fx),
        vec![
            (VS, Target::Real(RealId(1)), Action::Weight(1)),
            (VS, Target::Real(RealId(2)), Action::Weight(1)),
            (VS, Target::Real(RealId(3)), Action::Weight(1)),
            (VS, Target::Real(RealId(4)), Action::Weight(1)),
            (VS, Target::SorryServer, Action::Remove),
        ]
    );
}

#[test]
fn sorry_server_inhibit_and_inhibited_reals() {
    let (mut w, fx) = four_reals(Some(SorryServer { inhibit: true }), true);
    // sorry_server_inhibit: in at weight 0 from the start
    assert!(applies(&fx).contains(&(VS, Target::SorryServer, Action::Weight(0))));
    w.probe(&key("r1"), fail("x"));
    w.probe(&key("r2"), fail("x"));
    let fx = w.probe(&key("r3"), fail("x"));
    assert_eq!(
        applies(&fx),
        vec![
            (VS, Target::Real(RealId(3)), Action::Weight(0)),
            (VS, Target::SorryServer, Action::Weight(1)),
            (VS, Target::Real(RealId(4)), Action::Weight(0)),
        ]
    );
    w.probe(&key("r1"), Outcome::Pass);
    w.probe(&key("r2"), Outcome::Pass);
    let fx = w.probe(&key("r3"), Outcome::Pass);
    assert_eq!(
        applies(&fx).last(),
        Some(&(VS, Target::SorryServer, Action::Weight(0)))
    );
}

#[test]
fn starting_without_quorum_installs_the_sorry_server() {
    let mut h = Health::new();
    h.add_service(
        VS,
        ServiceConfig {
            quorum: 1,
            hysteresis: 0,
            sorry_server: Some(SorryServer::default()),
            omega: false,
        },
    )
    .unwrap();
    h.add_real(VS, RealId(1), RealConfig::default()).unwrap();
    let mut r = rules(CheckKind::TcpCheck);
    r.alpha = true;
    h.add_check(VS, RealId(1), key("a"), r).unwrap();
    let (mut w, fx) = World::start(h);
    assert_eq!(
        applies(&fx),
        vec![(VS, Target::SorryServer, Action::Weight(1))]
    );
    assert_eq!(quorum_events(&fx), vec![(false, 0, 1)]);
    assert_eq!(scripts(&fx), vec![(VS, None, Script::QuorumDown)]);
    let fx = w.probe(&key("a"), Outcome::Pass);
    assert_eq!(
        applies(&fx),
        vec![
            (VS, Target::Real(RealId(1)), Action::Weight(1)),
            (VS, Target::SorryServer, Action::Remove)
        ]
    );
}

#[test]
fn quorum_is_clamped_to_the_total_weight() {
    // validate_check_config(): quorum 10 over weight 4 becomes 4, and
    // hysteresis 6 becomes quorum - 1 = 3.
    let mut h = Health::new();
    h.add_service(
        VS,
        ServiceConfig {
            quorum: 10,
            hysteresis: 6,
            ..Default::default()
        },
    )
    .unwrap();
    for i in 1..=2 {
        h.add_real(
            VS,
            RealId(i),
            RealConfig {
                weight: 2,
                inhibit_on_failure: false,
            },
        )
        .unwrap();
    }
    let (w, fx) = World::start(h);
    let v = w.h.service(VS).unwrap();
    assert_eq!((v.quorum, v.hysteresis), (4, 3));
    // 4 >= 4 + 3 fails: starts without quorum
    assert!(!v.quorum_up);
    assert!(quorum_events(&fx).is_empty());
}
