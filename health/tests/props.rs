//! Invariants over random configurations and probe histories.

use std::collections::BTreeMap;

use health::*;
use proptest::prelude::*;

const KEYS: usize = 4;

#[derive(Debug, Clone)]
struct Cfg {
    kinds: Vec<(CheckKind, u32, bool, bool)>, // per key: kind, retry, alpha, fast_recovery
    services: Vec<(u32, u32, Option<bool>, bool)>, // quorum, hysteresis, sorry(inhibit), omega
    reals: Vec<(usize, u32, bool, Vec<usize>)>, // service index, weight, inhibit, keys
}

fn kind() -> impl Strategy<Value = CheckKind> {
    prop_oneof![
        Just(CheckKind::TcpCheck),
        Just(CheckKind::HttpGet),
        Just(CheckKind::SslGet),
        Just(CheckKind::MiscCheck),
        Just(CheckKind::DnsCheck),
    ]
}

fn cfg() -> impl Strategy<Value = Cfg> {
    (
        proptest::collection::vec((kind(), 0u32..3, any::<bool>(), any::<bool>()), KEYS),
        proptest::collection::vec(
            (
                0u32..6,
                0u32..3,
                proptest::option::of(any::<bool>()),
                any::<bool>(),
            ),
            1..3,
        ),
        proptest::collection::vec(
            (
                0usize..2,
                0u32..4,
                any::<bool>(),
                proptest::collection::btree_set(0..KEYS, 0..3),
            ),
            1..6,
        ),
    )
        .prop_map(|(kinds, services, reals)| Cfg {
            reals: reals
                .into_iter()
                .map(|(s, w, i, k)| (s % services.len(), w, i, k.into_iter().collect()))
                .collect(),
            kinds,
            services,
        })
}

#[derive(Debug, Clone)]
enum Step {
    /// Run probe `key` (if it exists) with this outcome, `late` ms after due.
    Probe { key: usize, outcome: u8, late: u64 },
    /// Run whatever is due at the next wakeup, all passing or all failing.
    Tick { pass: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..KEYS, 0u8..4, 0u64..3_000).prop_map(|(key, outcome, late)| Step::Probe {
            key,
            outcome,
            late
        }),
        any::<bool>().prop_map(|pass| Step::Tick { pass }),
    ]
}

fn outcome(code: u8) -> Outcome {
    match code {
        0 => Outcome::Pass,
        1 => Outcome::PassWeight(3),
        _ => Outcome::Fail("boom".into()),
    }
}

fn build(c: &Cfg) -> (Health, Vec<ProbeKey>) {
    let mut h = Health::new();
    let keys: Vec<ProbeKey> = (0..KEYS).map(|i| ProbeKey::new(format!("k{i}"))).collect();
    for (i, (q, hy, sorry, omega)) in c.services.iter().enumerate() {
        let cfg = ServiceConfig {
            quorum: *q,
            hysteresis: *hy,
            sorry_server: sorry.map(|inhibit| SorryServer { inhibit }),
            omega: *omega,
        };
        h.add_service(ServiceId(i as u32), cfg).unwrap();
    }
    for (i, (s, w, inhibit, ks)) in c.reals.iter().enumerate() {
        let (sid, rid) = (ServiceId(*s as u32), RealId(i as u32));
        h.add_real(
            sid,
            rid,
            RealConfig {
                weight: *w,
                inhibit_on_failure: *inhibit,
            },
        )
        .unwrap();
        for k in ks {
            let (kind, retry, alpha, fast) = c.kinds[*k];
            let mut r = kind.defaults();
            r.delay_loop_ms = 5_000;
            r.retry = retry;
            r.alpha = alpha;
            r.fast_recovery = fast;
            h.add_check(sid, rid, keys[*k].clone(), r).unwrap();
        }
    }
    (h, keys)
}

/// The dataplane as the effects leave it.
type Plane = BTreeMap<(ServiceId, Target), u32>;

fn replay(plane: &mut Plane, fx: &[Effect]) {
    for e in fx {
        if let Effect::Apply {
            service,
            target,
            action,
        } = e
        {
            match action {
                Action::Remove => {
                    plane.remove(&(*service, *target));
                }
                Action::Weight(w) => {
                    plane.insert((*service, *target), *w);
                }
            }
        }
    }
}

/// Everything the invariants track between steps.
#[derive(Default)]
struct Seen {
    check_up: BTreeMap<ProbeKey, bool>,
    real_up: BTreeMap<(ServiceId, RealId), bool>,
    quorum_up: BTreeMap<ServiceId, bool>,
}

fn check_invariants(
    h: &Health,
    plane: &Plane,
    fx: &[Effect],
    seen: &mut Seen,
) -> Result<(), TestCaseError> {
    // Events only with a state change, and they agree with the views.
    for e in fx {
        match e {
            Effect::Check { key, transition } => {
                let now_up = transition.to == CheckState::Up;
                prop_assert_ne!(
                    seen.check_up.insert(key.clone(), now_up),
                    Some(now_up),
                    "check event without change"
                );
            }
            Effect::RealUp { service, real, .. } | Effect::RealDown { service, real, .. } => {
                let up = matches!(e, Effect::RealUp { .. });
                prop_assert_ne!(
                    seen.real_up.insert((*service, *real), up),
                    Some(up),
                    "real event without change"
                );
            }
            Effect::QuorumLost { service, .. } | Effect::QuorumRegained { service, .. } => {
                let up = matches!(e, Effect::QuorumRegained { .. });
                let before = seen.quorum_up.insert(*service, up);
                prop_assert_ne!(before, Some(up), "quorum event without change");
            }
            _ => {}
        }
    }
    for (key, c, _) in h.probes() {
        prop_assert_eq!(
            seen.check_up.get(key).copied().unwrap_or(!c.rules().alpha),
            c.is_up()
        );
    }
    for (sid, reals) in h.layout() {
        let s = h.service(sid).unwrap();
        prop_assert_eq!(
            seen.quorum_up.get(&sid).copied().unwrap_or(s.quorum_up),
            s.quorum_up
        );
        let mut live = 0u64;
        for rid in reals {
            let r = h.real(sid, rid).unwrap();
            // a real is up iff every check is up
            let all_up = r.checks.iter().all(|k| h.checker(k).unwrap().is_up());
            prop_assert_eq!(r.alive, all_up);
            if let Some(up) = seen.real_up.get(&(sid, rid)) {
                prop_assert_eq!(*up, r.alive);
            }
            if r.alive {
                live += u64::from(r.weight);
            }
            // the dataplane holds exactly what the rules want
            let want = if r.alive && !s.sorry_active {
                Some(r.weight)
            } else if r.config.inhibit_on_failure {
                Some(0)
            } else {
                None
            };
            prop_assert_eq!(
                plane.get(&(sid, Target::Real(rid))).copied(),
                want,
                "{:?} {:?}",
                sid,
                rid
            );
        }
        prop_assert_eq!(live, s.live_weight);
        let sorry = plane.get(&(sid, Target::SorryServer)).copied();
        if s.sorry_active {
            prop_assert_eq!(sorry, Some(1));
        } else {
            prop_assert!(sorry.is_none() || sorry == Some(0));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn health_invariants(c in cfg(), steps in proptest::collection::vec(step(), 0..60)) {
        let (mut h, keys) = build(&c);
        let mut plane = Plane::new();
        let mut seen = Seen::default();
        let fx = h.start(0, 99).unwrap();
        replay(&mut plane, &fx);
        // start events state the initial state; record it from the views
        for (sid, reals) in h.layout() {
            seen.quorum_up.insert(sid, h.service(sid).unwrap().quorum_up);
            for rid in reals {
                seen.real_up.insert((sid, rid), h.real(sid, rid).unwrap().alive);
            }
        }
        check_invariants(&h, &plane, &[], &mut seen)?;

        let mut now = 0u64;
        for s in steps {
            match s {
                Step::Probe { key, outcome: code, late } => {
                    let k = &keys[key];
                    let Some(c) = h.checker(k) else { continue };
                    now = now.max(c.next_due()).saturating_add(late);
                    let fx = h.on_result(k, now, ProbeResult::new(now, 5, outcome(code))).unwrap();
                    prop_assert!(h.checker(k).unwrap().next_due() >= now);
                    replay(&mut plane, &fx);
                    check_invariants(&h, &plane, &fx, &mut seen)?;
                }
                Step::Tick { pass } => {
                    let Some(t) = h.next_wakeup() else { continue };
                    now = now.max(t);
                    for k in h.take_due(now) {
                        let o = if pass { Outcome::Pass } else { Outcome::Fail("down".into()) };
                        let fx = h.on_result(&k, now, ProbeResult::new(now, 5, o)).unwrap();
                        replay(&mut plane, &fx);
                        check_invariants(&h, &plane, &fx, &mut seen)?;
                    }
                }
            }
        }

        // shutdown empties the dataplane
        let fx = h.shutdown();
        replay(&mut plane, &fx);
        prop_assert!(plane.is_empty(), "{:?}", plane);
    }

    #[test]
    fn checker_alone(
        k in kind(),
        retry in 0u32..4,
        alpha in any::<bool>(),
        fast in any::<bool>(),
        dl in 0u64..10_000,
        dbr in proptest::option::of(0u64..10_000),
        results in proptest::collection::vec((0u8..4, 0u64..20_000, 0u64..5_000), 0..40),
    ) {
        let mut r = k.defaults();
        r.retry = retry;
        r.alpha = alpha;
        r.fast_recovery = fast;
        r.delay_loop_ms = dl;
        r.delay_before_retry_ms = dbr;
        let mut c = Checker::new(r.clone(), 0, 12345);
        let mut now = 0u64;
        let mut prev_pass: Option<bool> = None;
        for (code, gap, dur) in results {
            let start = now.saturating_add(gap);
            now = start.saturating_add(dur);
            let before = c.state();
            let first = !c.has_run();
            let o = outcome(code);
            let passed = o.is_pass();
            let t = c.on_result(now, ProbeResult::new(start, dur * 1_000, o));
            // a transition iff the state changed, and toward the verdict
            prop_assert_eq!(t.is_some(), before != c.state());
            if let Some(t) = &t {
                prop_assert_eq!(t.to == CheckState::Up, passed);
                if t.to == CheckState::Down {
                    let n = c.status().consecutive_failures;
                    prop_assert!(n == retry + 1 || (first && n == 1), "down after {} failures, retry {}", n, retry);
                } else if r.needs_clean_round && !first {
                    // up only on the second pass in a row after a failed round
                    prop_assert_eq!(prev_pass, Some(true));
                }
            }
            prop_assert!(c.next_due() >= now);
            if t.is_some() && k != CheckKind::MiscCheck {
                // a transition is followed by delay_loop (>= 1 ms) at least
                prop_assert!(c.next_due() > now);
            }
            prev_pass = Some(passed);
        }
    }
}
