//! The checker thread: one tokio runtime that runs every due probe
//! concurrently, feeds the verdicts to keepalived's rules, and turns what
//! changes into one health overlay per batch (one snapshot), scripts run in
//! the background with a timeout, a log line per transition, and the state
//! the listing and the metrics show. It never touches a worker.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use control::config::Script;
use control::metrics::{CheckMetrics, HealthMetrics, RealUpMetric};
use control::proto::HealthEntry;
use control::server::Backend;
use health::{Action, Effect, Outcome, ProbeKey, ProbeResult, Target};
use tokio::sync::mpsc;

use super::overlay::{Down, Overlay, Sorry};
use super::plan::{self, Plan};
use crate::daemon::Daemon;

/// Longest a notify or quorum script may run before it is killed.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the thread looks at the stop flag and for a changed configuration.
const TICK: Duration = Duration::from_millis(100);
/// Buckets of the probe duration histogram, in seconds.
pub const DURATION_BUCKETS: [f64; 9] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0];

pub struct Checker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checker {
    /// Starts the checker thread (it idles while nothing is configured to
    /// be checked, and picks up checks a reload adds).
    pub fn start(daemon: Arc<Daemon>) -> Result<Checker> {
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fvs-health".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!(error = %e, "health checker: no runtime; nothing is checked");
                        return;
                    }
                };
                rt.block_on(run(daemon, st));
            })
            .context("spawning the health checker")?;
        Ok(Checker {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the checker (runs the `omega` scripts) and waits for it; before
    /// the workers stop, so no verdict waits on a worker that is gone.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one finished probe sends back.
struct Finished {
    key: ProbeKey,
    started: u64,
    report: health_probe::Report,
}

/// Per-check counters kept for the metrics.
#[derive(Default, Clone)]
struct Counts {
    ok: u64,
    failed: u64,
    buckets: [u64; DURATION_BUCKETS.len()],
    sum_seconds: f64,
}

async fn run(daemon: Arc<Daemon>, stop: Arc<AtomicBool>) {
    let clock = Instant::now();
    let now = move || clock.elapsed().as_millis() as u64;
    let (tx, mut rx) = mpsc::channel::<Finished>(4096);
    let mut plan: Option<Plan> = None;
    let mut counts: HashMap<ProbeKey, Counts> = HashMap::new();
    let mut last_look = None::<Instant>;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // A changed configuration (reload, fvsadm) that changes what is
        // checked, or a weight, gets a new plan; unchanged probes keep their
        // states.
        if last_look.is_none_or(|t: Instant| t.elapsed() >= Duration::from_secs(1)) {
            last_look = Some(Instant::now());
            let cfg = daemon.config();
            match plan::build(&cfg) {
                Ok(mut fresh) => {
                    if plan.as_ref().is_none_or(|p| p.layout != fresh.layout) {
                        tracing::info!(probes = fresh.jobs.len(), "health checks (re)planned");
                        let seed = now() ^ 0x9e37_79b9_7f4a_7c15;
                        // Unchanged probes keep their state (keepalived's
                        // migrate_checkers): a reload does not bring a failed
                        // real back or restart what it did not touch.
                        let effects = match &plan {
                            Some(old) => fresh.health.start_from(&old.health, now(), seed),
                            None => fresh.health.start(now(), seed),
                        }
                        .unwrap_or_default();
                        counts.retain(|k, _| fresh.jobs.contains_key(k));
                        plan = Some(fresh);
                        if let Some(p) = &plan {
                            settle(&daemon, p, &effects);
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "health checks not planned"),
            }
        }
        let Some(p) = plan.as_mut() else {
            tokio::time::sleep(TICK).await;
            continue;
        };
        let t = now();
        for key in p.health.take_due(t) {
            if suspended(&daemon, p, &key) {
                p.health.skip(&key, t);
                continue;
            }
            let Some(job) = p.jobs.get(&key).cloned() else {
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let report = health_probe::run(&job.target, &job.probe).await;
                let _ = tx
                    .send(Finished {
                        key,
                        started: t,
                        report,
                    })
                    .await;
            });
        }
        let wait = p
            .health
            .next_wakeup()
            .map_or(TICK, |w| Duration::from_millis(w.saturating_sub(now())))
            .min(TICK);
        let first = tokio::select! {
            f = rx.recv() => f,
            _ = tokio::time::sleep(wait) => None,
        };
        let mut effects = Vec::new();
        let mut next = first;
        while let Some(f) = next {
            let c = counts.entry(f.key.clone()).or_default();
            let secs = f.report.latency.as_secs_f64();
            c.sum_seconds += secs;
            for (b, le) in c.buckets.iter_mut().zip(DURATION_BUCKETS) {
                if secs <= le {
                    *b += 1;
                }
            }
            let outcome = match f.report.outcome {
                health_probe::Outcome::Up { weight: None } => {
                    c.ok += 1;
                    Outcome::Pass
                }
                health_probe::Outcome::Up { weight: Some(w) } => {
                    c.ok += 1;
                    Outcome::PassWeight(w)
                }
                // A probe that could not even be attempted from here (no
                // socket, a bind address the director lacks) counts as a
                // failure, so the operator sees why in the listing.
                health_probe::Outcome::Down { reason }
                | health_probe::Outcome::NotRun { reason } => {
                    c.failed += 1;
                    Outcome::Fail(reason)
                }
            };
            let latency_us = f.report.latency.as_micros() as u64;
            if let Ok(mut e) = p.health.on_result(
                &f.key,
                now(),
                ProbeResult::new(f.started, latency_us, outcome),
            ) {
                effects.append(&mut e);
            }
            next = rx.try_recv().ok();
        }
        if !effects.is_empty() {
            settle(&daemon, p, &effects);
        }
        // How late the latest probe of any check started: the checker's lag now.
        let lag_ms = p
            .health
            .probes()
            .map(|(_, c, _)| c.status().last_lag_ms)
            .max()
            .unwrap_or(0);
        publish_view(&daemon, p, &counts, now(), lag_ms);
    }
    if let Some(p) = plan.as_mut() {
        let effects = p.health.shutdown();
        let scripts: Vec<_> = effects
            .iter()
            .filter_map(|e| script_of(p, e))
            .map(|(s, what)| tokio::spawn(run_script(s, what, Duration::from_secs(1))))
            .collect();
        for s in scripts {
            let _ = s.await;
        }
    }
}

/// Logs `effects`, starts their scripts, and publishes the overlay the
/// machine now wants (one snapshot when it changed).
fn settle(daemon: &Daemon, p: &Plan, effects: &[Effect]) {
    for e in effects {
        log(p, e);
        if let Some((script, what)) = script_of(p, e) {
            tokio::spawn(run_script(script, what, SCRIPT_TIMEOUT));
        }
    }
    let wanted = overlay(p);
    if let Err(e) = daemon.change_health(|o| *o = wanted) {
        tracing::error!(error = %e, "health verdicts not applied; the services run as before");
    }
}

/// The overlay the machine's state gives: failed reals removed or at 0,
/// dynamic weights, sorry servers.
fn overlay(p: &Plan) -> Overlay {
    let mut o = Overlay::default();
    for (sid, s) in &p.services {
        for (rid, r) in &s.reals {
            let Some(v) = p.health.real(*sid, *rid) else {
                continue;
            };
            if !v.alive {
                let how = if r.inhibit {
                    Down::Inhibit
                } else {
                    Down::Remove
                };
                o.down.insert(r.key.clone(), how);
            } else if v.weight != r.weight {
                o.weights.insert(r.key.clone(), v.weight);
            }
        }
        if let (Some((real, inhibit)), Some(v)) = (&s.sorry, p.health.service(*sid)) {
            o.sorry.insert(
                s.key,
                Sorry {
                    real: real.clone(),
                    active: v.sorry_active,
                    inhibit: *inhibit,
                },
            );
        }
    }
    o
}

fn real_name(p: &Plan, sid: health::ServiceId, rid: health::RealId) -> String {
    p.services
        .get(&sid)
        .and_then(|s| s.reals.get(&rid))
        .map(|r| format!("{}:{}", r.key.address, r.port))
        .unwrap_or_default()
}

/// keepalived's `ha_suspend`: a probe whose every service waits for its
/// VIP's VRRP instance to be MASTER is not run (its verdicts stay).
fn suspended(daemon: &Daemon, p: &Plan, key: &ProbeKey) -> bool {
    let subs = p.health.subscribers(key);
    !subs.is_empty()
        && subs.iter().all(|(sid, _)| {
            p.services
                .get(sid)
                .and_then(|s| s.suspend_with)
                .is_some_and(|i| !daemon.vrrp_is_master(i))
        })
}

fn service_name(p: &Plan, sid: health::ServiceId) -> String {
    p.services
        .get(&sid)
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

fn log(p: &Plan, e: &Effect) {
    match e {
        Effect::Check { key, transition } => tracing::info!(
            check = key.as_str(),
            to = ?transition.to,
            reason = %transition.reason,
            "health check changed state"
        ),
        Effect::RealUp {
            service,
            real,
            weight,
            reason,
        } => tracing::info!(
            service = %service_name(p, *service),
            real = %real_name(p, *service, *real),
            weight,
            %reason,
            "real server up"
        ),
        Effect::RealDown {
            service,
            real,
            reason,
        } => tracing::warn!(
            service = %service_name(p, *service),
            real = %real_name(p, *service, *real),
            %reason,
            "real server down"
        ),
        Effect::WeightChanged {
            service,
            real,
            from,
            to,
        } => tracing::info!(
            service = %service_name(p, *service),
            real = %real_name(p, *service, *real),
            from,
            to,
            "real server weight changed by its check"
        ),
        Effect::QuorumLost {
            service,
            weight_sum,
            threshold,
        } => tracing::warn!(
            service = %service_name(p, *service),
            weight_sum,
            threshold,
            "quorum lost"
        ),
        Effect::QuorumRegained {
            service,
            weight_sum,
            threshold,
        } => tracing::info!(
            service = %service_name(p, *service),
            weight_sum,
            threshold,
            "quorum regained"
        ),
        Effect::Apply {
            service,
            target,
            action,
        } => {
            let what = match target {
                Target::Real(r) => real_name(p, *service, *r),
                Target::SorryServer => "sorry server".to_owned(),
            };
            let action = match action {
                Action::Remove => "removed".to_owned(),
                Action::Weight(w) => format!("weight {w}"),
            };
            tracing::debug!(service = %service_name(p, *service), %what, %action, "pool change");
        }
        Effect::RunScript { .. } => {}
    }
}

/// The script an effect asks for, with a label for the log.
fn script_of(p: &Plan, e: &Effect) -> Option<(Script, String)> {
    let Effect::RunScript {
        service,
        real,
        script,
        ..
    } = e
    else {
        return None;
    };
    let s = p.services.get(service)?;
    let r = real.and_then(|r| s.reals.get(&r));
    let chosen = match script {
        health::Script::NotifyUp => r?.notify_up.clone(),
        health::Script::NotifyDown => r?.notify_down.clone(),
        health::Script::QuorumUp => s.quorum_up.clone(),
        health::Script::QuorumDown => s.quorum_down.clone(),
    }?;
    Some((chosen, format!("{script:?} of {}", s.name)))
}

/// Runs a notify or quorum script without a shell, killed after `timeout`;
/// its failure is logged, never waited on by the checks.
async fn run_script(script: Script, what: String, timeout: Duration) {
    let argv = match script.argv() {
        Ok(a) if !a.is_empty() => a,
        _ => {
            tracing::error!(script = %script.0, %what, "script not runnable");
            return;
        }
    };
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..]).kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(script = %script.0, %what, error = %e, "script did not start");
            return;
        }
    };
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) if out.status.success() => {
            tracing::info!(script = %script.0, %what, "script ran")
        }
        Ok(Ok(out)) => {
            tracing::warn!(script = %script.0, %what, status = %out.status, "script failed")
        }
        Ok(Err(e)) => tracing::error!(script = %script.0, %what, error = %e, "script failed"),
        Err(_) => {
            tracing::error!(script = %script.0, %what, ?timeout, "script timed out and was killed")
        }
    }
}

/// What `fvsadm -L --health` and `/metrics` show, rebuilt after every pass.
fn publish_view(
    daemon: &Daemon,
    p: &Plan,
    counts: &HashMap<ProbeKey, Counts>,
    now: u64,
    max_lag_ms: u64,
) {
    let mut entries = Vec::new();
    for (key, checker, subscribers) in p.health.probes() {
        let st = checker.status();
        for (sid, rid) in subscribers {
            let (Some(s), Some(r)) = (
                p.services.get(sid),
                p.services.get(sid).and_then(|s| s.reals.get(rid)),
            ) else {
                continue;
            };
            entries.push(HealthEntry {
                service: s.key,
                real: r.key.address,
                real_port: r.port,
                check: key.as_str().to_owned(),
                up: checker.is_up(),
                since_ms: now.saturating_sub(st.since),
                last: st
                    .last_result
                    .as_ref()
                    .map(|l| {
                        if l.passed {
                            "ok".to_owned()
                        } else {
                            l.reason.clone()
                        }
                    })
                    .unwrap_or_default(),
                latency_us: st.last_latency_us.unwrap_or(0),
                lag_ms: st.last_lag_ms,
            });
        }
    }
    entries.sort_by(|a, b| {
        (
            a.service.vip,
            a.service.port,
            a.service.fwmark,
            a.real,
            a.real_port,
            &a.check,
        )
            .cmp(&(
                b.service.vip,
                b.service.port,
                b.service.fwmark,
                b.real,
                b.real_port,
                &b.check,
            ))
    });
    let mut reals = Vec::new();
    let mut quorum = Vec::new();
    for (sid, s) in &p.services {
        for (rid, r) in &s.reals {
            if let Some(v) = p.health.real(*sid, *rid) {
                reals.push(RealUpMetric {
                    service: s.name.clone(),
                    real: format!("{}:{}", r.key.address, r.port),
                    up: v.alive,
                });
            }
        }
        if let Some(v) = p.health.service(*sid) {
            quorum.push((s.name.clone(), v.quorum_up));
        }
    }
    let checks = counts
        .iter()
        .map(|(k, c)| CheckMetrics {
            check: k.as_str().to_owned(),
            ok: c.ok,
            failed: c.failed,
            buckets: DURATION_BUCKETS.iter().copied().zip(c.buckets).collect(),
            sum_seconds: c.sum_seconds,
        })
        .collect();
    daemon.set_health_view(
        entries,
        HealthMetrics {
            reals,
            checks,
            quorum,
            lag_seconds: max_lag_ms as f64 / 1000.0,
            pass_age_seconds: 0.0,
        },
    );
}
