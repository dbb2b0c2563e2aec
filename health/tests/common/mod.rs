//! Shared helpers: a virtual clock that runs probes exactly when they are due.
#![allow(dead_code)]

use health::*;

pub const DL: u64 = 6_000;

/// Rules with the brief's timeline values: delay_loop 6 s, retry 1,
/// delay_before_retry 1 s, no warmup jitter.
pub fn rules(kind: CheckKind) -> Rules {
    let mut r = kind.defaults();
    r.delay_loop_ms = DL;
    r.retry = 1;
    r.delay_before_retry_ms = Some(1_000);
    r.warmup_ms = Some(0);
    r
}

pub fn fail(why: &str) -> Outcome {
    Outcome::Fail(why.to_string())
}

/// One checker on a virtual clock: each probe runs at its due time and
/// finishes instantly.
pub struct Sim {
    pub c: Checker,
}

impl Sim {
    pub fn new(rules: Rules) -> Sim {
        Sim {
            c: Checker::new(rules, 0, 0),
        }
    }

    /// A checker that has had one passing run; returns it and T0, the time
    /// its next probe is due.
    pub fn settled(rules: Rules) -> (Sim, u64) {
        let mut s = Sim::new(rules);
        assert_eq!(s.run(Outcome::Pass), (1_000, None));
        let t0 = s.c.next_due();
        (s, t0)
    }

    /// Run the due probe with `outcome`: (when it ran, the new state if it
    /// changed).
    pub fn run(&mut self, outcome: Outcome) -> (u64, Option<CheckState>) {
        let t = self.c.next_due();
        let tr = self.c.on_result(t, ProbeResult::new(t, 0, outcome));
        (t, tr.map(|t| t.to))
    }

    pub fn pass(&mut self) -> (u64, Option<CheckState>) {
        self.run(Outcome::Pass)
    }

    pub fn fail(&mut self) -> (u64, Option<CheckState>) {
        self.run(fail("connect refused"))
    }
}

/// A Health on a virtual clock.
pub struct World {
    pub h: Health,
    pub now: u64,
}

impl World {
    pub fn start(mut h: Health) -> (World, Vec<Effect>) {
        let fx = h.start(0, 7).expect("start");
        (World { h, now: 0 }, fx)
    }

    /// Advance to the next wakeup and take the due probes.
    pub fn due(&mut self) -> Vec<ProbeKey> {
        let t = self.h.next_wakeup().expect("something is scheduled");
        assert!(t >= self.now, "time goes forward");
        self.now = t;
        self.h.take_due(t)
    }

    /// Advance to when `key` is due (running nothing else) and report `outcome` for it.
    pub fn probe(&mut self, key: &ProbeKey, outcome: Outcome) -> Vec<Effect> {
        let t = self.h.checker(key).expect("probe").next_due().max(self.now);
        self.now = t;
        self.h
            .on_result(key, t, ProbeResult::new(t, 100, outcome))
            .expect("on_result")
    }
}

pub fn key(s: &str) -> ProbeKey {
    ProbeKey::new(s)
}

pub fn applies(fx: &[Effect]) -> Vec<(ServiceId, Target, Action)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Apply {
                service,
                target,
                action,
            } => Some((*service, *target, *action)),
            _ => None,
        })
        .collect()
}

pub fn real_events(fx: &[Effect]) -> Vec<(ServiceId, RealId, bool)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::RealUp { service, real, .. } => Some((*service, *real, true)),
            Effect::RealDown { service, real, .. } => Some((*service, *real, false)),
            _ => None,
        })
        .collect()
}

pub fn scripts(fx: &[Effect]) -> Vec<(ServiceId, Option<RealId>, Script)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::RunScript {
                service,
                real,
                script,
                ..
            } => Some((*service, *real, *script)),
            _ => None,
        })
        .collect()
}
