//! What [`crate::Health`] asks the live side to do, in order.

use crate::check::Transition;
use crate::ids::{ProbeKey, RealId, ServiceId};
use crate::real::Action;

/// The destination an [`Effect::Apply`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Real(RealId),
    /// The service's `sorry_server` (weight 1 when in use, as keepalived's
    /// `alloc_ssvr()` gives it).
    SorryServer,
}

/// The scripts keepalived runs (and the notify FIFO lines it writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    /// A real's `notify_up`.
    NotifyUp,
    /// A real's `notify_down`.
    NotifyDown,
    /// A service's `quorum_up`.
    QuorumUp,
    /// A service's `quorum_down`.
    QuorumDown,
}

/// One thing for the live side to do or report. A call returns them in the
/// order keepalived does the same things (`perform_svr_state()`: pool change,
/// notify, then `update_quorum_state()`: sorry-server swap, notify).
///
/// Dataplane changes are only ever [`Effect::Apply`]; the other variants are
/// events for logs, metrics and scripts. Replaying every `Apply` in order
/// leaves the dataplane exactly as the machine wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A shared probe's check changed state. Emitted once per probe, before
    /// the per-real effects it causes (there may be none: another check of
    /// the real may still be down).
    Check {
        key: ProbeKey,
        transition: Transition,
    },
    /// A real became live: every one of its checks passes.
    RealUp {
        service: ServiceId,
        real: RealId,
        weight: u32,
        reason: String,
    },
    /// A real stopped being live: one of its checks failed.
    RealDown {
        service: ServiceId,
        real: RealId,
        reason: String,
    },
    /// A real's effective weight changed (MISC_CHECK `misc_dynamic`). Emitted
    /// whether or not the real is live (keepalived's `update_svr_wgt()` logs
    /// "inactive service" then); the weight reaches the dataplane with the
    /// `Apply` that follows, or when the real comes up.
    WeightChanged {
        service: ServiceId,
        real: RealId,
        from: u32,
        to: u32,
    },
    /// Change the dataplane: put the destination in the service at a weight,
    /// or take it out.
    Apply {
        service: ServiceId,
        target: Target,
        action: Action,
    },
    /// The live weight fell below the threshold. If the service has a sorry
    /// server, `Apply` effects follow that install it and take the reals out.
    QuorumLost {
        service: ServiceId,
        weight_sum: u64,
        threshold: i64,
    },
    /// The live weight reached the threshold (also emitted by
    /// [`crate::Health::start`] for a service that starts with its quorum).
    QuorumRegained {
        service: ServiceId,
        weight_sum: u64,
        threshold: i64,
    },
    /// Run a notify script if one is configured, and write the notify FIFO
    /// line. `real` is set for `NotifyUp`/`NotifyDown`. `shutdown` marks the
    /// `omega` scripts run while stopping, which keepalived runs with a 1 s
    /// timeout (`system_call_script(.., TIMER_HZ, ..)`) rather than detached.
    RunScript {
        service: ServiceId,
        real: Option<RealId>,
        script: Script,
        shutdown: bool,
    },
}
