//! Read-only views of reals and services for the listing and metrics.

use crate::ids::ProbeKey;
use crate::real::RealConfig;

/// A real as the listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealView {
    pub alive: bool,
    /// The effective weight (configured, or set by `misc_dynamic`).
    pub weight: u32,
    pub config: RealConfig,
    /// The probes its checks subscribe to; look them up with
    /// [`crate::Health::checker`].
    pub checks: Vec<ProbeKey>,
}

/// A service as the listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    pub quorum_up: bool,
    /// The effective quorum and hysteresis after keepalived's clamping.
    pub quorum: u32,
    pub hysteresis: u32,
    /// The sum of the live reals' weights.
    pub live_weight: u64,
    /// The threshold in force (`quorum ∓ hysteresis`).
    pub threshold: i64,
    /// Whether the sorry server currently holds the service.
    pub sorry_active: bool,
}
