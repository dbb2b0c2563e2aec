//! Errors from building and driving a [`crate::Health`].

use crate::ids::{ProbeKey, RealId, ServiceId};

/// What [`crate::Health`] refuses. Nothing in this crate panics on input;
/// every refusal is one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthError {
    #[error("service {0} is already defined")]
    DuplicateService(ServiceId),
    #[error("no service {0}")]
    UnknownService(ServiceId),
    #[error("service {service} already has real {real}")]
    DuplicateReal { service: ServiceId, real: RealId },
    #[error("service {service} has no real {real}")]
    UnknownReal { service: ServiceId, real: RealId },
    #[error("real {real} of service {service} already subscribes to probe {key}")]
    DuplicateCheck {
        service: ServiceId,
        real: RealId,
        key: ProbeKey,
    },
    /// A shared probe has one state machine, so every subscriber must agree
    /// on its rules; give probes with different rules different keys.
    #[error("probe {key} already exists with different rules")]
    RulesMismatch { key: ProbeKey },
    #[error("no probe {0}")]
    UnknownProbe(ProbeKey),
    #[error("invalid rules: {0}")]
    InvalidRules(String),
    #[error("the configuration cannot change after start")]
    AlreadyStarted,
    #[error("results are only taken between start and shutdown")]
    NotRunning,
}
