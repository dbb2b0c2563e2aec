//! The aggregate: every probe, real and service of a configuration.

use std::collections::BTreeMap;

use crate::check::{CheckState, Checker, Transition};
use crate::effect::{Effect, Script};
use crate::error::HealthError;
use crate::ids::{ProbeKey, RealId, ServiceId};
use crate::jitter;
use crate::outcome::ProbeResult;
use crate::real::{effective_weight, Real, RealConfig};
use crate::rules::{CheckKind, Rules};
use crate::service::{Service, ServiceConfig};
use crate::view::{RealView, ServiceView};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Configuring,
    Running,
    Stopped,
}

#[derive(Debug, Clone)]
struct Probe {
    checker: Checker,
    /// Every (service, real) whose check this probe answers, in the order
    /// they subscribed.
    subscribers: Vec<(ServiceId, RealId)>,
}

/// keepalived's checker rules for a whole configuration, sans-IO.
///
/// # Lifecycle
/// 1. Describe the configuration: [`Health::add_service`],
///    [`Health::add_real`], [`Health::add_check`].
/// 2. [`Health::start`] schedules every probe and returns the initial
///    dataplane state (which reals are in, at what weight) and quorum events.
/// 3. Loop: sleep until [`Health::next_wakeup`], take the due probes with
///    [`Health::take_due`], run them, and feed each result to
///    [`Health::on_result`]; apply the returned [`Effect`]s in order.
/// 4. [`Health::shutdown`] returns what keepalived does at exit (`omega`).
///
/// # Shared probes
/// A check is identified by a [`ProbeKey`] that the caller derives from what
/// the probe sends and how often (address, port, check definition, rules).
/// Every check with the same key, on any real of any service, subscribes to
/// one probe with one state machine: the probe runs once per period, however
/// many services list the real, and its result fans out to every subscriber.
/// keepalived instead runs one checker per (service, real, check), so a
/// backend behind many services is probed many times per `delay_loop`. Since
/// the subscribers share the state machine they must share the rules; adding
/// a check whose key exists with other rules is refused
/// ([`HealthError::RulesMismatch`]) - put what differs into the key.
///
/// # Not modelled
/// `rs_init_notifies`, `lvs_flush_on_stop`,
/// SMTP alerts, a sorry server that is also one of the reals.
#[derive(Debug, Clone)]
pub struct Health {
    phase: Phase,
    services: BTreeMap<ServiceId, Service>,
    probes: BTreeMap<ProbeKey, Probe>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    pub fn new() -> Health {
        Health {
            phase: Phase::Configuring,
            services: BTreeMap::new(),
            probes: BTreeMap::new(),
        }
    }

    pub fn add_service(&mut self, id: ServiceId, cfg: ServiceConfig) -> Result<(), HealthError> {
        self.configuring()?;
        if self.services.contains_key(&id) {
            return Err(HealthError::DuplicateService(id));
        }
        self.services.insert(id, Service::new(cfg));
        Ok(())
    }

    pub fn add_real(
        &mut self,
        service: ServiceId,
        real: RealId,
        cfg: RealConfig,
    ) -> Result<(), HealthError> {
        self.configuring()?;
        let svc = self
            .services
            .get_mut(&service)
            .ok_or(HealthError::UnknownService(service))?;
        if svc.reals.contains_key(&real) {
            return Err(HealthError::DuplicateReal { service, real });
        }
        svc.reals.insert(real, Real::new(cfg));
        Ok(())
    }

    /// Give `real` of `service` a check answered by the probe `key` with
    /// `rules`. The first subscriber creates the probe; later ones must bring
    /// equal rules.
    pub fn add_check(
        &mut self,
        service: ServiceId,
        real: RealId,
        key: ProbeKey,
        rules: Rules,
    ) -> Result<(), HealthError> {
        self.configuring()?;
        rules.validate()?;
        let svc = self
            .services
            .get_mut(&service)
            .ok_or(HealthError::UnknownService(service))?;
        let rs = svc
            .reals
            .get_mut(&real)
            .ok_or(HealthError::UnknownReal { service, real })?;
        if rs.checks.contains(&key) {
            return Err(HealthError::DuplicateCheck { service, real, key });
        }
        if let Some(probe) = self.probes.get(&key) {
            if *probe.checker.rules() != rules {
                return Err(HealthError::RulesMismatch { key });
            }
        }
        let probe = self.probes.entry(key.clone()).or_insert_with(|| Probe {
            checker: Checker::new(rules, 0, 0),
            subscribers: Vec::new(),
        });
        probe.subscribers.push((service, real));
        rs.checks.push(key);
        Ok(())
    }

    /// Start at `now`: schedule every probe's first run after its warmup
    /// jitter, derived from `seed` and the probe key (deterministic for a
    /// given seed; pass a random seed in production), and return the initial
    /// effects: the reals that go in (live ones at their weight, inhibited
    /// failed ones at 0; with `alpha` a check starts failed, so its real only
    /// goes in after a pass), sorry servers, and the start-up quorum events
    /// (`init_services()`).
    pub fn start(&mut self, now: u64, seed: u64) -> Result<Vec<Effect>, HealthError> {
        self.configuring()?;
        self.phase = Phase::Running;
        for (key, probe) in self.probes.iter_mut() {
            let jitter = jitter::for_key(seed, key.as_str());
            probe.checker = Checker::new(probe.checker.rules().clone(), now, jitter);
        }
        let mut out = Vec::new();
        for (id, svc) in self.services.iter_mut() {
            for real in svc.reals.values_mut() {
                real.alive = real_alive(&self.probes, real);
            }
            svc.start(*id, &mut out);
        }
        Ok(out)
    }

    /// Start as [`Health::start`], carrying over what `old` (the machine of the
    /// previous configuration) knows, as keepalived's `migrate_checkers` does
    /// on a reload: a probe whose key and rules are unchanged keeps its state,
    /// schedule and counts (a failed real stays failed, a probe in flight
    /// reports to this machine), so only what the new configuration changed
    /// starts afresh. The effects build the pool from empty, as `start`'s do
    /// (a failed real is simply not added); start-up scripts are left out for
    /// services `old` already had, since nothing happened to them.
    pub fn start_from(
        &mut self,
        old: &Health,
        now: u64,
        seed: u64,
    ) -> Result<Vec<Effect>, HealthError> {
        self.configuring()?;
        self.phase = Phase::Running;
        for (key, probe) in self.probes.iter_mut() {
            probe.checker = match old.probes.get(key) {
                Some(o) if o.checker.rules() == probe.checker.rules() => o.checker.clone(),
                _ => {
                    let jitter = jitter::for_key(seed, key.as_str());
                    Checker::new(probe.checker.rules().clone(), now, jitter)
                }
            };
        }
        let mut out = Vec::new();
        for (id, svc) in self.services.iter_mut() {
            for real in svc.reals.values_mut() {
                real.alive = real_alive(&self.probes, real);
            }
            svc.start(*id, &mut out);
        }
        out.retain(|e| match e {
            Effect::RunScript { service, .. } => !old.services.contains_key(service),
            _ => true,
        });
        Ok(out)
    }

    /// When the earliest probe that is not in flight is due, or `None` if
    /// there is none (not started, stopped, or every probe in flight).
    /// O(probes).
    pub fn next_wakeup(&self) -> Option<u64> {
        if self.phase != Phase::Running {
            return None;
        }
        self.probes
            .values()
            .filter(|p| p.checker.status().in_flight_since.is_none())
            .map(|p| p.checker.next_due())
            .min()
    }

    /// The probes due at `now`, marked in flight so they are not handed out
    /// again before their result comes in. Run each once and report it with
    /// [`Health::on_result`].
    pub fn take_due(&mut self, now: u64) -> Vec<ProbeKey> {
        if self.phase != Phase::Running {
            return Vec::new();
        }
        let mut due = Vec::new();
        for (key, probe) in self.probes.iter_mut() {
            let c = &mut probe.checker;
            if c.status().in_flight_since.is_none() && c.next_due() <= now {
                c.mark_started(now);
                due.push(key.clone());
            }
        }
        due
    }

    /// Probe `key`, taken from [`Health::take_due`], was not run because
    /// every check it answers is suspended (keepalived's `ha_suspend` while
    /// the VRRP instance is not MASTER): its state stays as it was.
    pub fn skip(&mut self, key: &ProbeKey, now: u64) {
        if let Some(p) = self.probes.get_mut(key) {
            p.checker.skip(now);
        }
    }

    /// Every (service, real) whose check probe `key` answers.
    pub fn subscribers(&self, key: &ProbeKey) -> &[(ServiceId, RealId)] {
        self.probes
            .get(key)
            .map_or(&[], |p| p.subscribers.as_slice())
    }

    /// Feed the result of probe `key`, finished at `now`, to its state machine
    /// and fan the consequences out to every subscribing real.
    pub fn on_result(
        &mut self,
        key: &ProbeKey,
        now: u64,
        result: ProbeResult,
    ) -> Result<Vec<Effect>, HealthError> {
        if self.phase != Phase::Running {
            return Err(HealthError::NotRunning);
        }
        let probe = self
            .probes
            .get_mut(key)
            .ok_or_else(|| HealthError::UnknownProbe(key.clone()))?;
        let rules = probe.checker.rules();
        let first_alpha_fail = !probe.checker.has_run()
            && rules.alpha
            && !result.outcome.is_pass()
            && notifies_first_alpha_failure(rules.kind);
        let transition = probe.checker.on_result(now, result);
        let subscribers = probe.subscribers.clone();

        let mut out = Vec::new();
        if let Some(t) = &transition {
            out.push(Effect::Check {
                key: key.clone(),
                transition: t.clone(),
            });
        }
        for (sid, rid) in subscribers {
            self.fan_out(
                sid,
                rid,
                key,
                transition.as_ref(),
                first_alpha_fail,
                &mut out,
            );
        }
        Ok(out)
    }

    /// One subscriber's share of a result: keepalived's
    /// `update_svr_checker_state()` and `update_svr_wgt()` for one real.
    fn fan_out(
        &mut self,
        sid: ServiceId,
        rid: RealId,
        key: &ProbeKey,
        transition: Option<&Transition>,
        first_alpha_fail: bool,
        out: &mut Vec<Effect>,
    ) {
        let Some(svc) = self.services.get_mut(&sid) else {
            return;
        };
        let Some(real) = svc.reals.get(&rid) else {
            return;
        };
        let alive = real_alive(&self.probes, real);
        let weight = effective_weight(
            real.cfg.weight,
            real.checks
                .iter()
                .map(|k| self.probes.get(k).and_then(|p| p.checker.dynamic_weight())),
        );
        let old_weight = real.weight;
        let was_alive = real.alive;
        let checks = real.checks.len();

        if first_alpha_fail {
            // update_svr_checker_state(): a first result that leaves an alpha
            // checker down still runs the real's notify (which is notify_down,
            // the real not being alive).
            out.push(Effect::RunScript {
                service: sid,
                real: Some(rid),
                script: Script::NotifyDown,
                shutdown: false,
            });
        }

        let going_down = transition.is_some_and(|t| t.to == CheckState::Down);
        if weight != old_weight {
            if let Some(r) = svc.reals.get_mut(&rid) {
                r.weight = weight;
            }
            // A checker's final failure drops its dynamic weight silently
            // (misc_check_child_thread() adjusts effective_weight without
            // update_svr_wgt()); any other change is update_svr_wgt().
            if !going_down {
                out.push(Effect::WeightChanged {
                    service: sid,
                    real: rid,
                    from: old_weight,
                    to: weight,
                });
                svc.sync(sid, out);
                svc.update_quorum(sid, out);
            }
        }

        if alive != was_alive {
            if let Some(r) = svc.reals.get_mut(&rid) {
                r.alive = alive;
            }
            let why = transition.map_or("", |t| t.reason.as_str());
            if alive {
                let reason = format!("{key}: {why}; all {checks} checks up");
                out.push(Effect::RealUp {
                    service: sid,
                    real: rid,
                    weight,
                    reason,
                });
            } else {
                out.push(Effect::RealDown {
                    service: sid,
                    real: rid,
                    reason: format!("{key}: {why}"),
                });
            }
            svc.sync(sid, out);
            let script = if alive {
                Script::NotifyUp
            } else {
                Script::NotifyDown
            };
            out.push(Effect::RunScript {
                service: sid,
                real: Some(rid),
                script,
                shutdown: false,
            });
            svc.update_quorum(sid, out);
        }
    }

    /// Stop: what keepalived does at exit (`clear_services()`), per service
    /// in id order. Every destination and sorry server in the dataplane is
    /// removed, inhibited ones included; with `omega` the live reals run
    /// `notify_down` and the service runs `quorum_down` (see
    /// [`ServiceConfig::omega`]). Afterwards no probe is due and results are
    /// refused. Calling it twice returns nothing the second time.
    pub fn shutdown(&mut self) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.phase != Phase::Running {
            self.phase = Phase::Stopped;
            return out;
        }
        self.phase = Phase::Stopped;
        for (id, svc) in self.services.iter_mut() {
            svc.shutdown(*id, &mut out);
        }
        out
    }

    /// The state machine behind probe `key`, for the listing.
    pub fn checker(&self, key: &ProbeKey) -> Option<&Checker> {
        self.probes.get(key).map(|p| &p.checker)
    }

    /// Every probe with its state machine and subscribers, in key order.
    pub fn probes(&self) -> impl Iterator<Item = (&ProbeKey, &Checker, &[(ServiceId, RealId)])> {
        self.probes
            .iter()
            .map(|(k, p)| (k, &p.checker, p.subscribers.as_slice()))
    }

    pub fn real(&self, service: ServiceId, real: RealId) -> Option<RealView> {
        let r = self.services.get(&service)?.reals.get(&real)?;
        Some(RealView {
            alive: r.alive,
            weight: r.weight,
            config: r.cfg.clone(),
            checks: r.checks.clone(),
        })
    }

    pub fn service(&self, service: ServiceId) -> Option<ServiceView> {
        let s = self.services.get(&service)?;
        Some(ServiceView {
            quorum_up: s.quorum.is_up(),
            quorum: s.quorum.quorum(),
            hysteresis: s.quorum.hysteresis(),
            live_weight: s.live_weight(),
            threshold: s.quorum.threshold(),
            sorry_active: s.cfg.sorry_server.is_some() && !s.quorum.is_up(),
        })
    }

    /// The service ids and, for each, its real ids, in order.
    pub fn layout(&self) -> Vec<(ServiceId, Vec<RealId>)> {
        self.services
            .iter()
            .map(|(s, svc)| (*s, svc.reals.keys().copied().collect()))
            .collect()
    }

    fn configuring(&self) -> Result<(), HealthError> {
        match self.phase {
            Phase::Configuring => Ok(()),
            _ => Err(HealthError::AlreadyStarted),
        }
    }
}

/// Whether a first failed result of an `alpha` checker (which leaves it down,
/// so no transition) still runs the real's notify script. keepalived's
/// `update_svr_checker_state()` does so when called with the state the
/// checker already has and `has_run` unset; TCP, MISC and DNS call it on
/// their first failure, but HTTP_GET/SSL_GET's `timeout_epilog()` sets
/// `has_run` before `epilog()`, which then skips the call for a checker that
/// is not up.
fn notifies_first_alpha_failure(kind: CheckKind) -> bool {
    !matches!(kind, CheckKind::HttpGet | CheckKind::SslGet)
}

/// A real is live iff every check it subscribes to is up (keepalived:
/// `num_failed_checkers == 0`); a real without checks is always live.
fn real_alive(probes: &BTreeMap<ProbeKey, Probe>, real: &Real) -> bool {
    real.checks
        .iter()
        .all(|k| probes.get(k).is_some_and(|p| p.checker.is_up()))
}
