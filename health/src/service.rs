//! One virtual service: its reals, quorum, sorry server, and keeping the
//! dataplane in step with them.

use std::collections::BTreeMap;

use crate::effect::{Effect, Script, Target};
use crate::ids::{RealId, ServiceId};
use crate::quorum::{Quorum, QuorumChange};
use crate::real::{Action, Real};

/// A service's `sorry_server`: installed while the quorum does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SorryServer {
    /// `sorry_server_inhibit`: keep it in the service at weight 0 while the
    /// quorum holds instead of removing it.
    pub inhibit: bool,
}

/// What a virtual service is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `hysteresis` (default 0).
    pub hysteresis: u32,
    pub sorry_server: Option<SorryServer>,
    /// `omega`: at shutdown, run `notify_down` for every live real and
    /// `quorum_down` for the service (see [`crate::Health::shutdown`]).
    pub omega: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            quorum: 1,
            hysteresis: 0,
            sorry_server: None,
            omega: false,
        }
    }
}

/// The sorry server's weight while in use (`alloc_ssvr()`).
const SORRY_WEIGHT: u32 = 1;

#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub cfg: ServiceConfig,
    pub reals: BTreeMap<RealId, Real>,
    /// Built at start, when the reals' total weight is known.
    pub quorum: Quorum,
    pub sorry_applied: Option<u32>,
}

impl Service {
    pub fn new(cfg: ServiceConfig) -> Service {
        let quorum = Quorum::new(cfg.quorum, cfg.hysteresis, u64::MAX);
        Service {
            cfg,
            reals: BTreeMap::new(),
            quorum,
            sorry_applied: None,
        }
    }

    /// The sum of the live reals' weights (`weigh_live_realservers()`).
    pub fn live_weight(&self) -> u64 {
        self.reals
            .values()
            .filter(|r| r.alive)
            .map(|r| u64::from(r.weight))
            .fold(0u64, u64::saturating_add)
    }

    fn sorry_active(&self) -> bool {
        self.cfg.sorry_server.is_some() && !self.quorum.is_up()
    }

    fn sorry_desired(&self) -> Option<u32> {
        match self.cfg.sorry_server {
            Some(_) if !self.quorum.is_up() => Some(SORRY_WEIGHT),
            Some(s) if s.inhibit => Some(0),
            _ => None,
        }
    }

    /// Bring the dataplane to the desired state, emitting only differences.
    /// The sorry server goes in before the reals leave and the reals come back
    /// before it leaves, so the service is never empty during a swap
    /// (keepalived does the reverse order; the end state is the same).
    pub fn sync(&mut self, id: ServiceId, out: &mut Vec<Effect>) {
        let sorry_first = self.sorry_active();
        if sorry_first {
            self.sync_sorry(id, out);
        }
        let sorry_active = self.sorry_active();
        for (rid, real) in self.reals.iter_mut() {
            let want = real.desired(sorry_active);
            if want != real.applied {
                out.push(Effect::Apply {
                    service: id,
                    target: Target::Real(*rid),
                    action: want.map_or(Action::Remove, Action::Weight),
                });
                real.applied = want;
            }
        }
        if !sorry_first {
            self.sync_sorry(id, out);
        }
    }

    fn sync_sorry(&mut self, id: ServiceId, out: &mut Vec<Effect>) {
        let want = self.sorry_desired();
        if want != self.sorry_applied {
            out.push(Effect::Apply {
                service: id,
                target: Target::SorryServer,
                action: want.map_or(Action::Remove, Action::Weight),
            });
            self.sorry_applied = want;
        }
    }

    /// Start: build the quorum from the configured weights, install the reals
    /// and evaluate the quorum (`init_service_vs()`).
    pub fn start(&mut self, id: ServiceId, out: &mut Vec<Effect>) {
        let total = self
            .reals
            .values()
            .map(|r| u64::from(r.cfg.weight))
            .fold(0u64, u64::saturating_add);
        self.quorum = Quorum::new(self.cfg.quorum, self.cfg.hysteresis, total);
        let change = self
            .quorum
            .start(self.live_weight(), self.cfg.sorry_server.is_some());
        self.sync(id, out);
        if let Some(change) = change {
            push_quorum_events(id, change, out);
        }
    }

    /// Re-evaluate the quorum after a real changed state or weight, and swap
    /// the sorry server if it changed (`update_quorum_state()`).
    pub fn update_quorum(&mut self, id: ServiceId, out: &mut Vec<Effect>) {
        if let Some(change) = self.quorum.update(self.live_weight()) {
            let mut events = Vec::new();
            push_quorum_events(id, change, &mut events);
            // The event, the swap, then the script.
            let script = events.pop();
            out.extend(events);
            self.sync(id, out);
            out.extend(script);
        }
    }

    /// Stop: keepalived's `clear_service_vs(vs, stopping)` with the default
    /// `lvs_flush_on_stop` off. Every destination is removed (inhibited ones
    /// too: `clear_service_rs()` forces removal); with `omega`, each real that
    /// was live gets `notify_down` and the service gets `quorum_down` whatever
    /// its quorum state was (`update_vs_notifies(vs, true)`). Without `omega`
    /// no script runs.
    pub fn shutdown(&mut self, id: ServiceId, out: &mut Vec<Effect>) {
        if self.sorry_applied.take().is_some() {
            out.push(Effect::Apply {
                service: id,
                target: Target::SorryServer,
                action: Action::Remove,
            });
        }
        let omega = self.cfg.omega;
        for (rid, real) in self.reals.iter_mut() {
            if real.applied.take().is_some() {
                out.push(Effect::Apply {
                    service: id,
                    target: Target::Real(*rid),
                    action: Action::Remove,
                });
                if real.alive && omega {
                    out.push(Effect::RunScript {
                        service: id,
                        real: Some(*rid),
                        script: Script::NotifyDown,
                        shutdown: true,
                    });
                }
            }
            real.alive = false;
        }
        if omega {
            out.push(Effect::RunScript {
                service: id,
                real: None,
                script: Script::QuorumDown,
                shutdown: true,
            });
        }
    }
}

fn push_quorum_events(id: ServiceId, change: QuorumChange, out: &mut Vec<Effect>) {
    match change {
        QuorumChange::Lost {
            weight_sum,
            threshold,
        } => {
            out.push(Effect::QuorumLost {
                service: id,
                weight_sum,
                threshold,
            });
            out.push(Effect::RunScript {
                service: id,
                real: None,
                script: Script::QuorumDown,
                shutdown: false,
            });
        }
        QuorumChange::Regained {
            weight_sum,
            threshold,
        } => {
            out.push(Effect::QuorumRegained {
                service: id,
                weight_sum,
                threshold,
            });
            out.push(Effect::RunScript {
                service: id,
                real: None,
                script: Script::QuorumUp,
                shutdown: false,
            });
        }
    }
}
