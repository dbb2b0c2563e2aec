//! keepalived's real-server health-check rules as a sans-IO state machine.
//!
//! No sockets, clock, threads or async here: time comes in as `now`
//! (milliseconds on the caller's monotonic clock), probe verdicts come in as
//! [`ProbeResult`]s, and the machine answers with when to probe next and
//! which [`Effect`]s follow (reals up/down, weights, dataplane changes,
//! quorum, scripts). The live side (probes over sockets, applying effects to
//! the dataplane, running scripts) drives it; tests drive it with a virtual
//! clock.
//!
//! The semantics are keepalived 2.2.x's, checked against its sources
//! (keepalived/check/check_api.c, check_data.c, check_tcp.c, check_http.c,
//! check_misc.c, check_dns.c, ipwrapper.c, ipvswrapper.c); each module names
//! the functions it follows and where it deliberately differs.
//!
//! - [`rules`]: [`CheckKind`], [`Rules`] and keepalived's defaults.
//! - [`check`]: [`Checker`], one checker's retry/alpha/clean-round machine.
//! - [`real`]: liveness and weight of a real from its checks.
//! - [`quorum`]: [`Quorum`] with hysteresis.
//! - [`Health`]: the aggregate, with probes shared between reals and
//!   services, start-up, fan-out and shutdown (`omega`).
//!
//! # Where this differs from keepalived, on purpose
//! - One probe per distinct check, shared by every real and service that
//!   uses it ([`Health`]), instead of one checker per (service, real, check).
//! - HTTP_GET/SSL_GET: one probe is one round over all URLs (keepalived
//!   checks one URL per `delay_loop`), and a failure while down re-marks the
//!   failed round (keepalived's `REGISTER_CHECKER_FAILED` path does not, which
//!   lets a fail-then-pass skip the clean round and makes `fast_recovery`
//!   re-probe a dead server in a loop). See [`check`].
//! - TCP_CHECK does not run its retry cycle while already down: keepalived
//!   2.2.x did, v2.3.3 fixed it ("ipvs: fix delay_loop for TCP_CHECK").
//! - A sorry-server swap adds before it removes (keepalived removes the reals
//!   first); the end state is the same.
//!
//! Not modelled: configuration reload, `ha_suspend`, `rs_init_notifies`,
//! `lvs_flush_on_stop`, SMTP alerts, a sorry server that is also a real.
//!
//! ```
//! use health::*;
//!
//! let mut h = Health::new();
//! let (vs, rs) = (ServiceId(1), RealId(1));
//! h.add_service(vs, ServiceConfig::default()).unwrap();
//! h.add_real(vs, rs, RealConfig::default()).unwrap();
//! let mut rules = CheckKind::TcpCheck.defaults();
//! rules.delay_loop_ms = 6_000;
//! rules.warmup_ms = Some(0);
//! let key = ProbeKey::new("TCP_CHECK 10.0.0.2:80");
//! h.add_check(vs, rs, key.clone(), rules).unwrap();
//! let initial = h.start(0, 42).unwrap(); // the real goes in, quorum holds
//! assert!(initial.contains(&Effect::Apply { service: vs, target: Target::Real(rs), action: Action::Weight(1) }));
//!
//! let t = h.next_wakeup().unwrap(); // 1000: BOOTSTRAP_DELAY, no warmup
//! assert_eq!(h.take_due(t), vec![key.clone()]);
//! let effects = h
//!     .on_result(&key, t, ProbeResult::new(t, 250, Outcome::Fail("connect refused".into())))
//!     .unwrap(); // the first failure takes it down at once
//! assert!(effects.iter().any(|e| matches!(e, Effect::RealDown { .. })));
//! assert!(effects.contains(&Effect::Apply { service: vs, target: Target::Real(rs), action: Action::Remove }));
//! ```

pub mod check;
mod command;
mod effect;
mod error;
mod health;
mod ids;
mod jitter;
mod outcome;
pub mod quorum;
pub mod real;
pub mod rules;
mod service;
mod view;

pub use check::{CheckState, CheckStatus, Checker, LastResult, Transition};
pub use command::{split_command, SplitError};
pub use effect::{Effect, Script, Target};
pub use error::HealthError;
pub use health::Health;
pub use ids::{ProbeKey, RealId, ServiceId};
pub use outcome::{Outcome, ProbeResult};
pub use quorum::{Quorum, QuorumChange};
pub use real::{effective_weight, Action, RealConfig, MAX_WEIGHT};
pub use rules::{
    CheckKind, Rules, BOOTSTRAP_DELAY_MS, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_DELAY_LOOP_MS,
};
pub use service::{ServiceConfig, SorryServer};
pub use view::{RealView, ServiceView};
